"""Hand-made cases shared by the tests of `rag.eval` (tests/test_eval_*.py)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from rag.eval import EvalRow

DOC = "doc.txt"
#: A tiny document: offsets are easy to count (every character is one position).
TEXT = "甲乙丙。丁戊己。\n庚辛壬。癸子丑。"
DOCS = {DOC: TEXT}


def quote(start: int, end: int, n: int = 1, text: str | None = None, doc: str = DOC) -> dict:
    """A quote dict as in `rag ask --json`, verbatim from TEXT unless `text` is given."""
    return {"n": n, "text": TEXT[start:end] if text is None else text, "doc": doc, "title": "t",
            "section": "s", "start": start, "end": end, "score": 0.9}


def answer_json(quotes: list[dict], passages: list[str], relevance: float = 0.9, total_ms: float = 10.0) -> dict:
    """A `rag ask --json` object; it abstained when it has no quotes."""
    return {"question": "q", "abstained": not quotes, "answer": "…", "quotes": quotes,
            "passages": [{"doc": DOC, "title": "t", "section": "s", "start": 0, "end": len(p), "text": p, "score": 0.1}
                         for p in passages],
            "relevance": relevance, "lang": "zh", "timings_ms": {"total": total_ms}}


def row(expected: str | None, line: int = 1, **fields) -> EvalRow:
    return EvalRow(line, f"r{line}", "问题?", expected, {"question": "问题?", "answer": expected, **fields})


ROWS = [
    {"id": "a", "question": "刷掌支付给支付带来了哪些方面的改进?", "answer": "提升了支付的准确度、安全性和隐私性", "lang": "zh"},
    {"id": "b", "question": "隐私计算主要有哪几种常见流派?", "answer": "隐私计算常见的流派包括可信计算、联邦学习、多方安全计算", "lang": "zh"},
    {"id": "c", "question": "What does DRG stand for?", "answer": "动态风险治理(dynamic risk governance,DRG)", "lang": "en"},
    {"id": "d", "question": "红烧肉应该怎么做才好吃?", "answer": None, "lang": "zh"},
    {"id": "e", "question": "Who is the CEO of Ant Group?", "answer": "", "lang": "en"},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:  # with a BOM, as spreadsheets write it
        writer = csv.DictWriter(f, fieldnames=["id", "question", "answer", "lang"])
        writer.writeheader()
        writer.writerows({**r, "answer": r["answer"] or ""} for r in rows)
    return path


def eval_args(settings, *more) -> list[str]:
    return [*more, "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]


class FakeAnswer:
    """What `Pipeline.ask` returns, as far as eval uses it: `to_json()`."""

    def __init__(self, data: dict):
        self.data = data

    def to_json(self) -> dict:
        return self.data


class OldPipeline:
    """A pipeline whose `ask` has no `history` parameter (as in this branch). It quotes TEXT[0:4]
    for every question, except that a question containing 不 abstains. `stop_at` raises
    KeyboardInterrupt on that (1-based, timed) call; `fail_on` raises RuntimeError for that question."""

    def __init__(self, stop_at: int | None = None, fail_on: str | None = None):
        self.calls: list[tuple[str, dict]] = []
        self.stop_at, self.fail_on = stop_at, fail_on

    def answer(self, question: str) -> FakeAnswer:
        quotes = [] if "不" in question else [quote(0, 4)]
        data = answer_json(quotes, ["甲乙丙。", "丁戊己。"], relevance=0.2 if not quotes else 0.9)
        return FakeAnswer({**data, "question": question})

    def record(self, question: str, **kwargs) -> None:
        if kwargs:  # the warm-up asks with no keyword: not a timed call
            self.calls.append((question, kwargs))
            if self.stop_at is not None and len(self.calls) == self.stop_at:
                raise KeyboardInterrupt
        if self.fail_on is not None and self.fail_on == question:
            raise RuntimeError("boom")

    def ask(self, question, top_k=None, strictness=None):
        self.record(question, **({"top_k": top_k, "strictness": strictness} if top_k is not None else {}))
        return self.answer(question)


class ChatPipeline(OldPipeline):
    """A pipeline with the agreed `history` parameter; a follow-up is understood as
    "<question> (<last history item>)", reported in `understood_as`."""

    def ask(self, question, top_k=None, strictness=None, **kwargs):
        self.record(question, **({"top_k": top_k, "strictness": strictness, **kwargs} if top_k is not None else {}))
        result = self.answer(question)
        if kwargs.get("history"):
            result.data["understood_as"] = f"{question} ({kwargs['history'][-1]})"
        return result
