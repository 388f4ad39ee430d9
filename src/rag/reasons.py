"""Reason questions: "为什么冷板式液冷是现在部署得最多的方案？", "Why is … appealing?". Their answer
is the reason a causal cue marks in the sentence that answers (主要原因是**X**; 因为**X**; **X**，
因此…), the classic cause pattern of QA over expository text.

The reader, trained on questions that ask for a name or a number, finds the sentence but marks a
word of it ("落地" in "它对现有服务器架构改动较小，…，因此是当前落地最多的方案"); the words the
cue marks as the reason are taken instead. Plain functions over strings.
"""
from __future__ import annotations

import re

#: Asked why (为什么, 为何, 何以, 原因是什么, 原因有哪些, why, how come, what makes). Not 命名为什么
#: (named what), 因为什么问题 (what problem) nor 呈现为什么样 (what shape): those ask for a thing.
_ASKS_WHY = re.compile(r"(?<![名称成作改列选定视译化变分认因])为什么(?!样)|为何|何以|什么原因|原因是什么|原因有哪些|原因何在"
                       r"|\bwhy\b|\bhow come\b|\bwhat makes\b", re.I)
#: A cue after which the reason follows ("主要原因是X", "因为X", "目的是X").
_CAUSE_AFTER = re.compile(r"(?:(?:主要|根本|直接|重要)?原因(?:之一)?(?:是|在于)|是因为|因为|由于|得益于|目的是|为的是)\s*")
#: A cue before which the reason stands ("X，因此是…").
_CAUSE_BEFORE = re.compile(r"[，,]\s*(?:因此|所以|因而|故而|从而|这使得|使得)")
_CLAUSE = re.compile(r"[，,；;。！？!?\n]")
_SENTENCE_END = re.compile(r"[；;。！？!?\n]")
#: A reason shorter than this is no reason ("此", "这样").
MIN_REASON = 4


def asks_reason(question: str) -> bool:
    """Whether the question asks why."""
    return _ASKS_WHY.search(question) is not None


def reasons_in(text: str) -> list[tuple[int, int]]:
    """The reasons causal cues mark in `text` (a sentence, or the sentences of a quote), as
    offsets into it: after 原因是/因为/由于/目的是, to the end of its clause ("由于X，Y", "Y，因为
    X。"); the clauses before "，因此/所以", from the sentence's start. Empty when no cue marks one."""
    found = []
    for match in _CAUSE_AFTER.finditer(text):
        stop = _CLAUSE.search(text, match.end())
        end = stop.start() if stop else len(text)
        if end - match.end() >= MIN_REASON:
            found.append((match.end(), end))
    for before in _CAUSE_BEFORE.finditer(text):
        starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, before.start())]
        start = starts[-1] if starts else 0
        while start < before.start() and text[start].isspace():
            start += 1
        if before.start() - start >= MIN_REASON:
            found.append((start, before.start()))
    return found


def nearest(reasons: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """Of `reasons`, the one that overlaps `[start, end)` (the reader's span) most, relative to
    both their lengths (intersection over union), else the nearest to it; None when there are
    none."""
    def key(r: tuple[int, int]) -> tuple[int, float]:
        overlap = min(r[1], end) - max(r[0], start)
        if overlap > 0:
            return 0, -overlap / (max(r[1], end) - min(r[0], start))
        return 1, max(r[0] - end, start - r[1])

    return min(reasons, key=key) if reasons else None
