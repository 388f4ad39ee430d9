"""FAISS index kinds on synthetic vectors of our dimension: build time, memory, recall@10 against
Flat, and single-query latency (p50/p95).

    python benchmarks/bench_ann.py [--sizes 10000,100000,1000000] [--kinds flat,hnsw,ivfsq8,ivfpq]

Vectors are clustered (Gaussian blobs around sqrt(n) random centres, then L2-normalised), which
is closer to sentence embeddings than uniform noise; queries come from the same blobs. Every
index is built by `rag.vectors.make_index` and searched by `rag.vectors.search`, with the
settings' defaults (config.StoreSettings). Prints a Markdown table (docs/scale.md).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rag.config import StoreSettings  # noqa: E402
from rag.vectors import factory_string, make_index, search  # noqa: E402


def clustered(n: int, dim: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """`n` normalised points around `centres` (noise comparable to the spread between centres)."""
    out = np.empty((n, dim), np.float32)
    for first in range(0, n, 100_000):
        m = min(100_000, n - first)
        picks = centres[rng.integers(0, len(centres), m)]
        block = picks + rng.standard_normal((m, dim), dtype=np.float32) * 0.6
        out[first:first + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,300000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--kinds", default="flat,hnsw,ivfsq8,ivfpq")
    parser.add_argument("--threads", type=int, default=0, help="OpenMP threads for builds (0: faiss default)")
    args = parser.parse_args()
    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)

    settings = StoreSettings()
    rng = np.random.default_rng(0)
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads; dim {args.dim}; "
          f"{args.queries} single-vector queries; HNSW efSearch {settings.hnsw_ef_search}, "
          f"IVF nprobe {settings.ivf_nprobe}\n")
    print("| vectors | kind | factory | build s | memory MB | recall@10 | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        centres = rng.standard_normal((max(1, int(math.sqrt(n))), args.dim), dtype=np.float32)
        data = clustered(n, args.dim, rng, centres)
        queries = clustered(args.queries, args.dim, rng, centres)
        truth = None
        for kind in args.kinds.split(","):
            started = time.perf_counter()
            index = make_index(data, settings, kind=kind)
            build = time.perf_counter() - started
            memory = len(faiss.serialize_index(index)) / 2**20
            found, latencies = [], []
            for q in queries:
                t = time.perf_counter()
                _, ids = search(index, q, 10, settings)
                latencies.append((time.perf_counter() - t) * 1000)
                found.append(ids[0])
            found = np.array(found)
            if truth is None:  # flat comes first: the exact answer
                truth = found if kind == "flat" else search(make_index(data, settings, kind="flat"), queries, 10)[1]
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])
            print(f"| {n:,} | {kind} | {factory_string(kind, n, args.dim, settings)} | {build:.1f} | {memory:.0f} | "
                  f"{recall:.3f} | {np.percentile(latencies, 50):.2f} | {np.percentile(latencies, 95):.2f} |",
                  flush=True)
            del index


if __name__ == "__main__":
    main()
