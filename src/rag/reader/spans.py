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
#: Where a clause ends (a list of items separated by 、 never runs past one) and where a sentence ends.
_CLAUSE_MARK = re.compile(r"[，,。；;：:！!？?\n|（）()]")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
#: A list longer than this is a paragraph, not an answer: the reader's own span stays.
_MAX_LIST_CHARS = 80
_MAX_SERIES_CHARS = 240
#: An enumeration's first item and the markers of its later items (第一种是… 第二种是…, 一是… 二是…).
_ORDINALS = (
    (re.compile(r"第一(?=[种个类项点条是层步])"), re.compile(r"第[二三四五六七八九十](?=[种个类项点条是层步])")),
    (re.compile(r"(?<![\w])一是"), re.compile(r"(?<![\w])[二三四五六七八九十]是")),
    (re.compile(r"首先"), re.compile(r"其次|再次|最后")),
    (re.compile(r"其一"), re.compile(r"其[二三四五六]")),
)


@dataclass(frozen=True)
class SpanCandidate:
    """A span of one passage's text: `[start, end)` are offsets into that text."""

    start: int
    end: int
    score: float    # start + end logit
    margin: float   # score minus the window's no-answer score


def decode(window: Window, logits: Logits, text: str, max_answer_tokens: int, top_n: int = 3,
           lists: bool = False) -> list[SpanCandidate]:
    """The window's `top_n` best spans, best first: trimmed of edge punctuation, numbers whole
    (`whole_numbers`), none across a paragraph, list item or table cell. With `lists` (the
    question asks for several things: `asked.asks_for_list`), a span on one item of a list
    is widened to the whole list (`whole_list`, `ordinal_series`)."""
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
        a, b = whole_numbers(text, *_trim(text, int(window.starts[s]), int(window.ends[e])))
        if lists and b > a:
            a, b = whole_list(text, a, b, window, s_log, e_log)
            b = ordinal_series(text, a, b, window, e_log)
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


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` less edge punctuation and spaces, and less a trailing 的 that ties it to
    the noun after it ("400元的" -> "400元", "1989年的" -> "1989年"; a two-character word ending
    in 的 stays: 目的). Of the held-out DRCD spans that ended in 的, every reference left it out."""
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    if end - start > 2 and text[end - 1] == "的":
        end -= 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1
    return start, end


def _clause_start(text: str, at: int) -> int:
    """Where the clause holding `text[at]` begins."""
    marks = [m.end() for m in _CLAUSE_MARK.finditer(text, 0, at)]
    return marks[-1] if marks else 0


def _best_token(logits: np.ndarray, allowed: np.ndarray) -> int | None:
    """The index of the highest logit among the allowed tokens, None when none is allowed."""
    if not allowed.any():
        return None
    return int(np.argmax(np.where(allowed, logits[:len(allowed)], -np.inf)))


def whole_list(text: str, start: int, end: int, window: Window, s_log: np.ndarray,
               e_log: np.ndarray) -> tuple[int, int]:
    """`[start, end)` widened to the whole list when it touches one (items separated by 、 within
    one clause): "可信计算、联邦学习、多方安全计算", not "可信计算". Where the list begins in its
    first segment and ends in its last (the words before the first 、 and after the last, up to
    a closing 等) is the reader's own call: its best start and end logits there. The span stays
    as it is when it does not touch a 、, crosses a clause, or the list would pass
    `_MAX_LIST_CHARS`."""
    touches = "、" in text[start:end] or text[end:end + 1] == "、" or (start > 0 and text[start - 1] == "、")
    if not touches or _CLAUSE_MARK.search(text, start, end):
        return start, end
    clause_start = _clause_start(text, start)
    after = _CLAUSE_MARK.search(text, end)
    clause_end = after.start() if after else len(text)
    separators = [i for i in range(clause_start, clause_end) if text[i] == "、"]
    if not separators:
        return start, end
    first_sep, last_sep = separators[0], separators[-1]
    closing = text.find("等", last_sep, clause_end)
    list_end = closing if closing != -1 else clause_end
    new_start, new_end = start, end
    if start > first_sep:
        i = _best_token(s_log, (window.starts >= clause_start) & (window.ends <= first_sep))
        new_start = int(window.starts[i]) if i is not None else start
    if end <= last_sep:
        i = _best_token(e_log, (window.starts > last_sep) & (window.ends <= list_end))
        new_end = int(window.ends[i]) if i is not None else end
    new_start, new_end = _trim(text, new_start, new_end)
    if new_end - new_start > _MAX_LIST_CHARS or not (new_start <= start and end <= new_end):
        return start, end
    return new_start, new_end


def ordinal_series(text: str, start: int, end: int, window: Window, e_log: np.ndarray) -> int:
    """The end of `[start, end)` moved to the end of the last item of an enumeration that the
    span begins (第一种是GaaS…；第二种是GaaC… is one answer to "哪两种形式"): the span's clause
    holds the first marker (第一/一是/首先/其一), a later marker of the same kind follows in the
    same sentence, and the new end is the reader's best end logit after that last marker. The
    end unchanged otherwise, or past `_MAX_SERIES_CHARS`."""
    clause_start = _clause_start(text, start)
    sentence_end_match = _SENTENCE_END.search(text, end)
    sentence_end = sentence_end_match.start() if sentence_end_match else len(text)
    for first, later in _ORDINALS:
        if not first.search(text, clause_start, end):
            continue
        markers = list(later.finditer(text, end, sentence_end))
        if not markers:
            continue
        last = markers[-1]
        i = _best_token(e_log, (window.starts >= last.end()) & (window.ends <= sentence_end))
        if i is None:
            continue
        _, new_end = _trim(text, start, int(window.ends[i]))
        if end < new_end and new_end - start <= _MAX_SERIES_CHARS:
            return new_end
    return end
