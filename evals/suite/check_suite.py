"""Check the evaluation suite's files: every answerable row's answer occurs verbatim in its document.

    python evals/suite/check_suite.py [NAME ...]      # questions/NAME.jsonl, and followups.jsonl

`followups.jsonl` holds conversations: a row's `follows` names an earlier row of the same file
and document (the previous turn); its `form` says what kind of turn it is (first, pronoun,
ellipsis, no_topic, new_topic, self_contained: a complete question after an unrelated turn,
small_talk and refused_turn: turns the documents do not answer, never context for the next one,
unresolved).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKUP = ("**", "__", "`", "|", "\n")


FOLLOWUPS = HERE / "followups.jsonl"
FORMS = ("first", "pronoun", "ellipsis", "no_topic", "new_topic", "self_contained", "small_talk", "refused_turn",
         "unresolved")


def check(name: str) -> list[str]:
    problems = []
    qfile = HERE / "questions" / f"{name}.jsonl"
    rows = [json.loads(line) for line in qfile.read_text("utf-8").splitlines() if line.strip()]
    return check_rows(name, rows, problems)


def check_rows(name: str, rows: list[dict], problems: list[str]) -> list[str]:
    """The checks every question file gets: fields, kinds, verbatim answers, unique ids."""
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


def check_followups(path: Path = FOLLOWUPS) -> list[str]:
    """followups.jsonl: the common checks, plus every `follows` names an earlier row of the same
    document, every row has a known `form`, and only first and unresolved turns follow nothing."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    problems = check_rows(path.stem, rows, [])
    seen: dict[str, dict] = {}
    for row in rows:
        form, follows = row.get("form"), row.get("follows")
        if form not in FORMS:
            problems.append(f"{row.get('id')}: form must be one of {', '.join(FORMS)}")
        if follows is not None:
            earlier = seen.get(follows)
            if earlier is None:
                problems.append(f"{row.get('id')}: follows {follows!r}, not an earlier row of this file")
            elif earlier.get("doc") != row.get("doc"):
                problems.append(f"{row.get('id')}: follows a row about another document")
        if (follows is None) != (form in ("first", "unresolved")):
            problems.append(f"{row.get('id')}: a {form} turn must {'not ' if form in ('first', 'unresolved') else ''}"
                            "follow an earlier row")
        if form == "unresolved" and row.get("answer") is not None:
            problems.append(f"{row.get('id')}: an unresolved question must have answer null")
        seen[row.get("id")] = row
    pairs = sum(r.get("follows") is not None for r in rows)
    docs = len({r.get("doc") for r in rows if r.get("follows") is not None})
    forms = {f: sum(r.get("form") == f for r in rows) for f in FORMS}
    print(f"{path.name}: {pairs} follow-up turns over {docs} documents; " + ", ".join(f"{k} {v}" for k, v in forms.items()))
    return problems


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.stem for p in (HERE / "questions").glob("*.jsonl"))
    bad = [p for name in names for p in check(name)]
    if not sys.argv[1:] or "followups" in sys.argv[1:]:
        bad += check_followups()
    print("\n".join(bad) if bad else "ok")
    sys.exit(1 if bad else 0)
