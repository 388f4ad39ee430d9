"""From start/end logits to answer spans with character offsets (SQuAD 2.0 style decoding).

A window's no-answer score is start[0] + end[0] (the `<s>` token); a span (s, e) scores
start[s] + end[e] over passage tokens with s <= e < s + max_answer_tokens. A span's `margin` is
its score minus its window's no-answer score: above 0 the window prefers the span to abstaining.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .model import Logits
from .windows import Window

# Characters a span should not start or end with: an answer is the words, not their punctuation.
_EDGE = set(" \t\r\n\u3000，,。.、；;：:！!？?「」『』“”‘’\"'（）()《》【】[]*_#>|-—·")
#: What an answer never runs across: a paragraph break, a new list item or a table cell boundary
#: (the words that answer sit in one paragraph, item or cell; a span across them is two half-answers).
_STRUCTURE_BREAK = re.compile(r"\n\s*\n|\n\s*(?:[-*+•]|\d{1,3}[.)、])\s|\|")


@dataclass(frozen=True)
class SpanCandidate:
    """A span of one passage's text: `[start, end)` are offsets into that text."""

    start: int
    end: int
    score: float    # start + end logit
    margin: float   # score minus the window's no-answer score


def decode(window: Window, logits: Logits, text: str, max_answer_tokens: int, top_n: int = 3) -> list[SpanCandidate]:
    """The window's `top_n` best spans, best first: trimmed of edge punctuation, numbers whole
    (`whole_numbers`), none across a paragraph, list item or table cell."""
    n = len(window.starts)
    if n == 0:
        return []
    s_log = logits.start[window.offset:window.offset + n]
    e_log = logits.end[window.offset:window.offset + n]
    null = float(logits.start[0] + logits.end[0])
    # Only the band of allowed spans: band[s, d] scores start s, end s + d (d < max_answer_tokens),
    # a few thousand numbers where the full start x end matrix has tens of thousands.
    width = min(max_answer_tokens, n)
    padded = np.concatenate([e_log, np.full(width - 1, -np.inf, dtype=e_log.dtype)])
    band = s_log[:, None] + np.lib.stride_tricks.sliding_window_view(padded, width)
    flat_band = band.ravel()
    k = min(top_n * 4, flat_band.size)
    best = np.argpartition(flat_band, flat_band.size - k)[flat_band.size - k:]
    best = best[np.argsort(-flat_band[best], kind="stable")]
    out: list[SpanCandidate] = []
    for index in best:
        s, d = divmod(int(index), width)
        e = s + d
        score = float(flat_band[index])
        if not np.isfinite(score):
            break
        a, b = int(window.starts[s]), int(window.ends[e])
        while a < b and text[a] in _EDGE:
            a += 1
        while b > a and text[b - 1] in _EDGE:
            b -= 1
        a, b = whole_numbers(text, a, b)
        if b <= a or _STRUCTURE_BREAK.search(text, a, b) or any(c.start == a and c.end == b for c in out):
            continue
        out.append(SpanCandidate(a, b, score, score - null))
        if len(out) == top_n:
            break
    return out


def whole_numbers(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` widened so that a number at either edge is whole: its digits, decimals and
    thousands separators, and a percent sign right after it ("72%", not "72"; "12.5", not "12")."""
    def digit(i: int) -> bool:
        return 0 <= i < len(text) and text[i].isdigit()

    if digit(start):
        while digit(start - 1) or (text[start - 1:start] in (".", ",") and digit(start - 2)):
            start -= 1
    if digit(end - 1):
        while digit(end) or (text[end:end + 1] in (".", ",") and digit(end + 1)):
            end += 1
        if text[end:end + 1] in ("%", "％", "‰"):
            end += 1
    return start, end
