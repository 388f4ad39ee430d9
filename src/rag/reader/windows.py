"""Reader inputs: a question and a passage as one or more token windows that overlap.

A window is `<s> question </s></s> passage-slice </s>` (XLM-RoBERTa's pair layout), at most
`max_tokens` long. A passage too long for one window is read as several slices that overlap by
`overlap` tokens, so an answer near a slice's edge is whole in at least one window; nothing is
cut off in silence. Training builds its inputs with the same function.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tokenizer import Tokens


@dataclass(frozen=True)
class Window:
    """One model input. Passage token i of the slice sits at sequence index `offset + i`; its
    characters are `[starts[i], ends[i])` of the passage text."""

    ids: np.ndarray      # int64 [T]
    offset: int
    starts: np.ndarray   # int32 [n passage tokens]
    ends: np.ndarray
    first_token: int     # index of the slice's first token within the whole passage


def windows(question_ids: list[int], passage: Tokens, bos: int, eos: int, max_tokens: int,
            max_question_tokens: int, overlap: int) -> list[Window]:
    """The windows that read `passage` for the question (at least one, even for an empty passage)."""
    q = question_ids[:max_question_tokens]
    offset = len(q) + 3
    room = max(8, max_tokens - offset - 1)
    step = max(1, room - overlap)
    n = len(passage.ids)
    out, first = [], 0
    while True:
        last = min(n, first + room)
        ids = np.array([bos, *q, eos, eos, *passage.ids[first:last], eos], dtype=np.int64)
        out.append(Window(ids, offset, np.array(passage.starts[first:last], np.int32),
                          np.array(passage.ends[first:last], np.int32), first))
        if last >= n:
            return out
        first += step
