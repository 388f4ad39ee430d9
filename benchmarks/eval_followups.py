"""Follow-up questions with and without the conversation: evals/suite/followups.jsonl.

    python benchmarks/eval_followups.py [--corpus DIR] [--index DIR] [--json FILE]

Every row is asked twice through `Pipeline.ask`: alone (history=()) and with the history its
`follows` chain gives (the earlier rows' questions as understood, oldest first, refused turns
left out: `conversation.context_entry`, as `rag eval` and the chat build it). For each `form` of
turn it prints answer recall (answerable rows), how many questions were rewritten
(`understood_as` set), how many were refused as unresolvable, and abstentions on unanswerable
rows. The corpus is the whole suite in one index by default (the same as CI's second gate).

Then the two rates of docs/conversation.md: **follow-ups resolved** (pronoun, ellipsis and
no_topic turns rewritten to a question that names their `topic`) and **self-contained questions
left alone** (new_topic, self_contained and small_talk turns asked as typed), and whether any
refused turn reached a later turn's history.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "evals" / "suite"
sys.path.insert(0, str(ROOT / "src"))

from rag.config import Settings  # noqa: E402
from rag.conversation import context_entry  # noqa: E402
from rag.eval.metrics import answer_recalled  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402


def history_of(row: dict, by_id: dict[str, dict], entries: dict[str, str | None]) -> list[str]:
    """The context of the rows `row` follows, oldest first: each one's question as understood,
    refused turns left out (`entries`: row id -> `context_entry` of its answer in conversation)."""
    chain, seen = [], set()
    current = row.get("follows")
    while current and current not in seen:
        seen.add(current)
        chain.append(current)
        current = by_id[current].get("follows")
    return [entries[i] for i in reversed(chain) if entries.get(i)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(SUITE / "corpus"))
    parser.add_argument("--index", default=str(ROOT / "eval-out" / "suite-index"))
    parser.add_argument("--file", default=str(SUITE / "followups.jsonl"))
    parser.add_argument("--json", help="also write the per-row results here")
    args = parser.parse_args()

    rows = [json.loads(line) for line in Path(args.file).read_text("utf-8").splitlines() if line.strip()]
    by_id = {r["id"]: r for r in rows}
    qa = Pipeline.open(Settings(corpus_dir=Path(args.corpus), index_dir=Path(args.index)),
                       log=lambda m: print(m, file=sys.stderr))
    documents = {path: doc.text for path, doc in qa.index.documents.items()}
    for row in rows[:3]:
        qa.ask(row["question"])  # load what loads lazily (the English helper model)

    results, times = [], {"alone": [], "conversation": []}
    entries: dict[str, str | None] = {}   # row id -> what it adds to a later turn's history
    refused_ids: set[str] = set()
    refused_in_context = 0
    for row in rows:
        outcome = {"id": row["id"], "form": row["form"], "lang": row["lang"], "kind": row["kind"],
                   "topic": row.get("topic")}
        context = history_of(row, by_id, entries)
        refused_in_context += any(by_id[i]["question"] in context for i in refused_ids)
        for mode, history in (("alone", []), ("conversation", context)):
            started = time.perf_counter()
            answer = qa.ask(row["question"], history=history).to_json()
            times[mode].append((time.perf_counter() - started) * 1000)
            outcome[mode] = {
                "recalled": answer_recalled(row["answer"], answer["quotes"], documents) if row["answer"] else None,
                "abstained": answer["abstained"],
                "understood_as": answer["understood_as"],
                "relevance": answer["relevance"],
                "refused": answer["abstained"] and not answer["passages"],
                "answer": answer["answer"][:80],
            }
        results.append(outcome)
        said = outcome["conversation"]
        entries[row["id"]] = context_entry(row["question"], said["understood_as"], said["abstained"])
        if said["abstained"]:
            refused_ids.add(row["id"])

    def share(items: list[dict], mode: str, key: str) -> str:
        values = [bool(r[mode][key]) for r in items]
        return f"{sum(values)}/{len(values)}" if values else "-"

    print("| form | rows | recall alone | recall in conversation | rewritten | refused (in conversation) "
          "| abstained (unanswerable) |")
    print("|---|---|---|---|---|---|---|")
    forms = ["first", "pronoun", "ellipsis", "no_topic", "new_topic", "self_contained", "small_talk", "refused_turn",
             "unresolved"]
    groups = [(f, [r for r in results if r["form"] == f]) for f in forms]
    follow = [r for r in results if r["form"] in ("pronoun", "ellipsis", "no_topic", "new_topic")]
    for name, items in groups + [("**all follow-up turns**", follow)]:
        answerable = [r for r in items if r["kind"] == "answerable"]
        unanswerable = [r for r in items if r["kind"] != "answerable"]
        print(f"| {name} | {len(items)} | {share(answerable, 'alone', 'recalled')} | "
              f"{share(answerable, 'conversation', 'recalled')} | {share(items, 'conversation', 'understood_as')} | "
              f"{share(items, 'conversation', 'refused')} | {share(unanswerable, 'conversation', 'abstained')} |")
    for lang in ("zh", "en"):
        answerable = [r for r in follow if r["kind"] == "answerable" and r["lang"] == lang]
        print(f"| follow-up turns, {lang} | {len(answerable)} | {share(answerable, 'alone', 'recalled')} | "
              f"{share(answerable, 'conversation', 'recalled')} | | | |")
    leaning = [r for r in results if r["form"] in ("pronoun", "ellipsis", "no_topic")]
    resolved = [r for r in leaning if r["conversation"]["understood_as"]
                and (r["topic"] or "").lower() in r["conversation"]["understood_as"].lower()]
    complete = [r for r in results if r["form"] in ("new_topic", "self_contained", "small_talk")]
    alone = [r for r in complete if not r["conversation"]["understood_as"]]
    print(f"\nfollow-ups resolved (rewritten naming their topic): {len(resolved)}/{len(leaning)} = "
          f"{len(resolved) / len(leaning):.2f}")
    print(f"self-contained questions left alone: {len(alone)}/{len(complete)} = {len(alone) / len(complete):.2f}")
    print(f"refused turns used as context: {refused_in_context} (of {len(refused_ids)} refused turns)")
    for r in leaning:
        if r not in resolved:
            print(f"not resolved: {r['id']} understood as {r['conversation']['understood_as']!r} (topic {r['topic']!r})")
    for r in complete:
        if r not in alone:
            print(f"rewritten: {r['id']} as {r['conversation']['understood_as']!r}")
    # Wider: every question of the suite's question files, each after a first turn about another
    # document in the same language (as a person changing the subject): how many are left alone.
    from rag.conversation import resolve

    firsts = [r for r in rows if r["form"] == "first"]
    suite = [json.loads(line) for path in sorted((SUITE / "questions").glob("*.jsonl"))
             for line in path.read_text("utf-8").splitlines() if line.strip()]
    changed = []
    for i, row in enumerate(suite):
        others = [f for f in firsts if f["doc"] != row.get("doc") and f["lang"] == row.get("lang")] or firsts
        before = others[i % len(others)]["question"]
        resolution = resolve(row["question"], [before], qa.segmenter)
        if resolution.understood_as:
            changed.append(f"{row['id']}: {row['question']!r} after {before!r} -> {resolution.understood_as!r}")
    print(f"suite questions left alone after an unrelated turn: {len(suite) - len(changed)}/{len(suite)} = "
          f"{(len(suite) - len(changed)) / len(suite):.3f}")
    for line in changed:
        print(f"  rewritten: {line}")
    print(f"\nask median: alone {statistics.median(times['alone']):.1f} ms, "
          f"in conversation {statistics.median(times['conversation']):.1f} ms ({len(rows)} rows)")
    for r in results:
        if r["kind"] == "answerable" and not r["conversation"]["recalled"] and r["form"] != "first":
            print(f"missed: {r['id']} understood as {r['conversation']['understood_as']!r}: "
                  f"{r['conversation']['answer']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
