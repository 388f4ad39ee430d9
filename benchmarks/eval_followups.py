"""Follow-up questions with and without the conversation: evals/suite/followups.jsonl.

    python benchmarks/eval_followups.py [--corpus DIR] [--index DIR] [--json FILE]

Every row is asked twice through `Pipeline.ask`: alone (history=()) and with the history its
`follows` chain gives (the earlier rows' questions, oldest first, as `rag eval` builds it). For
each `form` of turn it prints answer recall (answerable rows), how many questions were rewritten
(`understood_as` set), how many were refused as unresolvable, and abstentions on unanswerable
rows. The corpus is the whole suite in one index by default (the same as CI's second gate).
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
from rag.evaluation import answer_recalled  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402


def history_of(row: dict, by_id: dict[str, dict]) -> list[str]:
    """The questions of the rows `row` follows, oldest first."""
    chain, seen = [], set()
    current = row.get("follows")
    while current and current not in seen:
        seen.add(current)
        chain.append(by_id[current]["question"])
        current = by_id[current].get("follows")
    return chain[::-1]


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
    for row in rows:
        outcome = {"id": row["id"], "form": row["form"], "lang": row["lang"], "kind": row["kind"]}
        for mode, history in (("alone", []), ("conversation", history_of(row, by_id))):
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

    def share(items: list[dict], mode: str, key: str) -> str:
        values = [bool(r[mode][key]) for r in items]
        return f"{sum(values)}/{len(values)}" if values else "-"

    print("| form | rows | recall alone | recall in conversation | rewritten | refused (in conversation) "
          "| abstained (unanswerable) |")
    print("|---|---|---|---|---|---|---|")
    forms = ["first", "pronoun", "ellipsis", "no_topic", "new_topic", "unresolved"]
    groups = [(f, [r for r in results if r["form"] == f]) for f in forms]
    follow = [r for r in results if r["form"] not in ("first", "unresolved")]
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
