"""Reading benchmark: the reader on public Chinese span-extraction data it was not trained on.

    python benchmarks/bench_reading.py --gold                 # gold paragraph given (reader alone)
    python benchmarks/bench_reading.py --open --limit 400     # all paragraphs in one index, via Pipeline

Sets: the held-out DRCD articles (`dev`, split by article with the training seed) and the CMRC 2018
trial set (`test`, never trained on). Figures: CMRC character F1 and EM of the shown span (max
over references), and, for abstention, the AUC of the answerability score between a question on
its own paragraph and the same question on a paragraph that does not answer it (another paragraph
of the same article where there is one, else of another article). Writes docs/reading.json and
prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

import data as reading  # noqa: E402

from rag.eval.metrics import char_f1, cmrc_normalize  # noqa: E402
from rag.reader import Reader  # noqa: E402


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not pos or not neg:
        return float("nan")
    ranked = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2
        rank_sum += mean_rank * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def em(pred: str, gold: str) -> float:
    return float(cmrc_normalize(pred) == cmrc_normalize(gold))


def gold_setting(reader: Reader, paragraphs, limit: int, seed: int) -> dict:
    rng = random.Random(seed)
    by_article: dict[str, list] = {}
    for p in paragraphs:
        by_article.setdefault(p.article, []).append(p)
    items = [(p, q) for p in paragraphs for q in p.questions]
    rng.shuffle(items)
    items = items[:limit] if limit else items
    f1s, ems, pos, neg, ms = [], [], [], [], []
    for p, q in items:
        started = time.perf_counter()
        spans = reader.read(q.question, [("gold", 0, p.context)])
        ms.append((time.perf_counter() - started) * 1000)
        best = spans[0] if spans else None
        text = best.text if best else ""
        f1s.append(max(char_f1(text, a) for _, a in q.answers))
        ems.append(max(em(text, a) for _, a in q.answers))
        pos.append(best.margin if best else -99.0)
        siblings = [o for o in by_article[p.article] if o is not p]
        other = rng.choice(siblings) if siblings else rng.choice(paragraphs)
        if any(a in other.context for _, a in q.answers):
            continue
        spans = reader.read(q.question, [("other", 0, other.context)])
        neg.append(spans[0].margin if spans else -99.0)
    return {"questions": len(items), "f1": round(100 * statistics.mean(f1s), 1), "em": round(100 * statistics.mean(ems), 1),
            "auc_margin": round(auc(pos, neg), 3), "answered_at_0": round(sum(m > 0 for m in pos) / len(pos), 3),
            "wrongly_answered_at_0": round(sum(m > 0 for m in neg) / max(1, len(neg)), 3),
            "read_ms_p50": round(statistics.median(ms), 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--gold", action="store_true")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=13, help="the training seed (its DRCD article split)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "reading.json")
    args = ap.parse_args(argv)
    reader = Reader(args.weights) if args.weights else Reader()
    _, dev, test = reading.splits(args.seed)
    results = {}
    if args.gold:
        for name, paragraphs in (("drcd-heldout", dev), ("cmrc2018-trial", test)):
            results[f"gold/{name}"] = gold_setting(reader, paragraphs, args.limit, args.seed)
            print(name, results[f"gold/{name}"], flush=True)
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    previous.update(results)
    with tempfile.NamedTemporaryFile("w", dir=args.out.parent, delete=False, suffix=".tmp") as f:
        json.dump(previous, f, indent=2, ensure_ascii=False)
    Path(f.name).replace(args.out)


if __name__ == "__main__":
    main()
