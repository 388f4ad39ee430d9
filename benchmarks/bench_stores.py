"""The local store (FAISS + bm25s) against Milvus Lite on one index: fill time, per-call latency
of dense and BM25 top-n, and whether the two rank alike.

    python benchmarks/bench_stores.py [--index DIR] [--corpus DIR] [--db PATH.db] [--n 200]

Prints a Markdown table (docs/scale.md, "Milvus").
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rag.config import Settings  # noqa: E402
from rag.embedding import load_embedder  # noqa: E402
from rag.index import open_index  # noqa: E402
from rag.stores.local import LocalStore  # noqa: E402
from rag.stores.milvus import MilvusStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--index", default=str(ROOT / "index"))
    parser.add_argument("--questions", default=str(ROOT / "evals/suite/questions/fintech-ten-trends.jsonl"))
    parser.add_argument("--db", help="Milvus Lite file (default: a fresh temporary one)")
    parser.add_argument("--n", type=int, default=200, help="top-n asked of each ranking")
    args = parser.parse_args()

    settings = Settings(corpus_dir=Path(args.corpus), index_dir=Path(args.index))
    embedder = load_embedder(settings.model)
    index = open_index(settings, embedder, log=lambda m: None)
    folder = Path(tempfile.mkdtemp())
    db = args.db or str(folder / "chunks.db")
    started = time.perf_counter()
    milvus = MilvusStore(db, index)
    fill = time.perf_counter() - started
    started = time.perf_counter()
    MilvusStore(db, index)
    reopen = time.perf_counter() - started
    local = LocalStore(index)
    rows = [json.loads(line) for line in Path(args.questions).open(encoding="utf-8")]
    queries = embedder.embed_queries([r["question"] for r in rows])
    tokens = [index.tokenizer.tokens(r["question"]) for r in rows]
    times = {(s.name, kind): [] for s in (local, milvus) for kind in ("dense", "lexical")}
    same = {"dense": 0, "lexical": 0}
    for q, t in zip(queries, tokens):
        out = {}
        for store in (local, milvus):
            for kind, call, arg in (("dense", store.dense, q), ("lexical", store.lexical, t)):
                begin = time.perf_counter()
                out[store.name, kind] = call(arg, args.n).ids.tolist()
                times[store.name, kind].append((time.perf_counter() - begin) * 1000)
        for kind in same:
            same[kind] += out["local", kind] == out["milvus", kind]
    print(f"{len(index.chunks)} chunks, {len(rows)} questions, top-{args.n}; Milvus Lite fill {fill:.1f} s "
          f"(first open, includes starting it), reopen {reopen:.1f} s\n")
    print("| store | dense p50 ms | dense p95 ms | BM25 p50 ms | BM25 p95 ms | same ranking as local |")
    print("|---|---|---|---|---|---|")
    for name in ("local", "milvus"):
        d, lx = times[name, "dense"], times[name, "lexical"]
        agree = "-" if name == "local" else f"dense {same['dense']}/{len(rows)}, BM25 {same['lexical']}/{len(rows)}"
        print(f"| {name} | {np.percentile(d, 50):.2f} | {np.percentile(d, 95):.2f} | {np.percentile(lx, 50):.2f} | "
              f"{np.percentile(lx, 95):.2f} | {agree} |")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
