"""Check the evaluation suite's files: every answerable row's answer occurs verbatim in its document.

    python evals/suite/check_suite.py [NAME ...]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKUP = ("**", "__", "`", "|", "\n")


def check(name: str) -> list[str]:
    problems = []
    qfile = HERE / "questions" / f"{name}.jsonl"
    rows = [json.loads(line) for line in qfile.read_text("utf-8").splitlines() if line.strip()]
    docs = {}
    for row in rows:
        doc = row.get("doc")
        path = HERE / "corpus" / doc
        if doc not in docs:
            if not path.is_file():
                problems.append(f"{row.get('id')}: document {doc} not found in evals/suite/corpus/")
                docs[doc] = ""
                continue
            docs[doc] = path.read_text("utf-8")
        for key in ("id", "question", "answer", "lang", "doc", "kind"):
            if key not in row:
                problems.append(f"{row.get('id')}: missing field {key}")
        answer = row.get("answer")
        kind = row.get("kind")
        if kind == "answerable":
            if not answer:
                problems.append(f"{row['id']}: answerable row without an answer")
            elif answer not in docs[doc]:
                problems.append(f"{row['id']}: answer not verbatim in {doc}: {answer!r}")
            elif any(m in answer for m in MARKUP):
                problems.append(f"{row['id']}: answer contains markup or a line break: {answer!r}")
        elif kind in ("near", "off"):
            if answer is not None:
                problems.append(f"{row['id']}: unanswerable row must have answer null")
        else:
            problems.append(f"{row.get('id')}: kind must be answerable, near or off")
    n = len(rows)
    ans = sum(r.get("kind") == "answerable" for r in rows)
    en = sum(r.get("lang") == "en" for r in rows)
    en_ans = sum(r.get("lang") == "en" and r.get("kind") == "answerable" for r in rows)
    near = sum(r.get("kind") == "near" for r in rows)
    off = sum(r.get("kind") == "off" for r in rows)
    ids = [r.get("id") for r in rows]
    if len(set(ids)) != len(ids):
        problems.append("duplicate ids")
    print(f"{name}: {n} rows, {ans} answerable ({en_ans} English), {en} English in all, "
          f"{near} near-domain, {off} off-topic unanswerable")
    return problems


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.stem for p in (HERE / "questions").glob("*.jsonl"))
    bad = [p for name in names for p in check(name)]
    print("\n".join(bad) if bad else "ok")
    sys.exit(1 if bad else 0)
