"""FAISS indexes over L2-normalised vectors (inner product = cosine): which kind, how to build
one and how to search it with a bounded k.

Flat is exact and needs no training; it scans every vector, which stays fast up to ~10^5 vectors
of 384 dimensions. HNSW (a graph) answers in near-constant time at ~1.2x Flat's memory. For
corpora that no longer fit in memory as float32, two trained kinds with coarse lists (IVF):
IVF-SQ8 (one byte per dimension, 4x smaller than Flat, recall@10 ~0.98 in bench_ann) and IVF-PQ
(product-quantised codes, pq_m bytes per vector, 32x smaller, but recall@10 0.29-0.42 on
bench_ann's vectors). Auto takes IVF-SQ8. Figures: benchmarks/bench_ann.py, docs/scale.md.
"""
from __future__ import annotations

import math

import numpy as np

from .config import StoreSettings

KINDS = ("auto", "flat", "hnsw", "ivfsq8", "ivfpq")
#: Below this many queries in one call, search runs on the calling thread alone.
_PARALLEL_QUERIES = 16


class VectorIndexError(ValueError):
    """An unknown index kind, or vectors it cannot be built from."""


def choose_kind(n_vectors: int, settings: StoreSettings) -> str:
    """The index kind for `n_vectors` under `settings` ("auto" picks by size)."""
    kind = settings.index_kind.lower()
    if kind not in KINDS:
        raise VectorIndexError(f"unknown vector index kind {settings.index_kind!r} (one of {', '.join(KINDS)})")
    if kind != "auto":
        return kind
    if n_vectors < settings.flat_below:
        return "flat"
    return "hnsw" if n_vectors < settings.hnsw_below else "ivfsq8"


def factory_string(kind: str, n_vectors: int, dim: int, settings: StoreSettings) -> str:
    """The `faiss.index_factory` description of `kind` for `n_vectors` vectors of `dim`."""
    if kind == "flat":
        return "Flat"
    if kind == "hnsw":
        return f"HNSW{settings.hnsw_m}"
    if kind in ("ivfsq8", "ivfpq"):
        # ~4 sqrt(n) lists is the usual rule; faiss wants >= 39 training points per list.
        lists = max(1, min(int(4 * math.sqrt(n_vectors)), n_vectors // 39, 65536))
        if kind == "ivfsq8":
            return f"IVF{lists},SQ8"
        m = settings.pq_m if dim % settings.pq_m == 0 else math.gcd(dim, settings.pq_m)
        return f"IVF{lists},PQ{m}"
    raise VectorIndexError(f"unknown vector index kind {kind!r}")


def make_index(vectors: np.ndarray, settings: StoreSettings | None = None, kind: str | None = None):
    """A FAISS inner-product index holding `vectors` (rows in order: id = row).

    `kind` overrides `settings.index_kind`. Flat is `IndexFlatIP`, exactly what the index
    always held, so a small corpus ranks as before.
    """
    import faiss

    settings = settings or StoreSettings()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    kind = choose_kind(n, settings if kind is None else StoreSettings(index_kind=kind))
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        if kind in ("ivfsq8", "ivfpq") and n < 39:
            raise VectorIndexError(f"{kind} needs at least 39 vectors to train, got {n}")
        index = faiss.index_factory(dim, factory_string(kind, n, dim, settings), faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            # k-means and the SQ ranges or PQ codebooks learn from a sample: ~100 points per list is plenty
            # (faiss itself subsamples beyond 256 per list) and keeps a 10^6 build in minutes.
            lists = faiss.extract_index_ivf(index).nlist
            sample = np.random.default_rng(0).choice(n, size=min(n, 100 * lists), replace=False)
            index.train(vectors[np.sort(sample)])
    if n:
        index.add(vectors)
    return index


def kind_of(index) -> str:
    """"flat", "hnsw", "ivfsq8" or "ivfpq" for an index `make_index` built (or read back from disk)."""
    import faiss

    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return "ivfsq8" if isinstance(faiss.downcast_index(ivf), faiss.IndexIVFScalarQuantizer) else "ivfpq"
    return "flat"


def search(index, queries: np.ndarray, k: int, settings: StoreSettings | None = None) -> tuple[np.ndarray, np.ndarray]:
    """FAISS's top-`k` (scores, ids) per query row (id -1 pads missing slots). Search breadth is
    passed per call, not set on the index, so threads can search one index at once."""
    import faiss

    settings = settings or StoreSettings()
    queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(0, min(int(k), index.ntotal))
    if k == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    kind = kind_of(index)
    params = None
    if kind == "hnsw":
        params = faiss.SearchParametersHNSW(efSearch=max(settings.hnsw_ef_search, k))
    elif kind in ("ivfsq8", "ivfpq"):
        params = faiss.SearchParametersIVF(nprobe=settings.ivf_nprobe)
    # One question is far too little work to share: OpenMP's thread team then only adds waiting,
    # ~75 ms per search on a busy 2-core machine instead of 0.3 (docs/scale.md). The setting is
    # the calling thread's own (an OpenMP ICV), restored afterwards.
    threads = faiss.omp_get_max_threads()
    if len(queries) < _PARALLEL_QUERIES:
        faiss.omp_set_num_threads(1)
    try:
        return index.search(queries, k, params=params) if params is not None else index.search(queries, k)
    finally:
        faiss.omp_set_num_threads(threads)


def top(index, query: np.ndarray, k: int, settings: StoreSettings | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-`k` (ids, scores) for one query vector, best first with ties broken by id."""
    scores, ids = search(index, query[None, :], k, settings)
    keep = ids[0] >= 0
    ids, scores = ids[0][keep].astype(np.int64), scores[0][keep]
    order = np.lexsort((ids, -scores))
    return ids[order], scores[order]


def reconstruct(index, ids) -> np.ndarray:
    """The stored vectors of `ids` (exact for Flat and HNSW; PQ codes decode approximately)."""
    import faiss

    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) == 0:
        return np.zeros((0, index.d), np.float32)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None and ivf.direct_map.type == faiss.DirectMap.NoMap:
        ivf.make_direct_map()
    return index.reconstruct_batch(ids)


def top_of_matrix(matrix: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-`k` (ids, scores) of `matrix @ query` without sorting every row (argpartition)."""
    scores = matrix @ query
    k = min(int(k), len(scores))
    if k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = np.lexsort((part, -scores[part]))
    return part[order].astype(np.int64), scores[part][order]


#: How sentence and span vectors may be stored (`StoreSettings.vector_dtype`).
STORED_DTYPES = ("float16", "float32")


def vector_dtype(settings: StoreSettings) -> np.dtype:
    """The dtype sentence and span vectors are stored in, checked."""
    if settings.vector_dtype not in STORED_DTYPES:
        raise VectorIndexError(f"unknown vector dtype {settings.vector_dtype!r} (one of {', '.join(STORED_DTYPES)})")
    return np.dtype(settings.vector_dtype)


def cosines(matrix: np.ndarray, ids, query: np.ndarray) -> np.ndarray:
    """`matrix[ids] @ query` in float32, whatever `matrix` is stored in (float16 rows are
    converted first: numpy's float16 arithmetic is ~20x slower)."""
    return np.asarray(matrix[ids], dtype=np.float32) @ query
