"""The default store: the index folder's FAISS index and bm25s statistics."""
from __future__ import annotations

import numpy as np

from .. import vectors
from ..config import StoreSettings
from ..index import Index
from . import Ranking


class LocalStore:
    """Dense top-n from FAISS with a bounded k; BM25 top-n from bm25s `retrieve` (no sort of
    every chunk's score). Safe to call from several threads (both only read)."""

    name = "local"

    def __init__(self, index: Index, settings: StoreSettings | None = None):
        self.index = index
        self.settings = settings or StoreSettings()

    def dense(self, query: np.ndarray, n: int) -> Ranking:
        ids, scores = vectors.top(self.index.chunk_vectors, query, n, self.settings)
        return Ranking(ids, scores)

    def dense_scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return vectors.reconstruct(self.index.chunk_vectors, ids) @ query

    def lexical(self, tokens: list[str], n: int) -> Ranking:
        bm25 = self.index.chunk_bm25
        known = [t for t in tokens if t in bm25.vocab_dict]
        n = min(int(n), int(bm25.scores["num_docs"]))
        if not known or n <= 0:
            return Ranking.of([], [])
        ids, scores = bm25.retrieve([known], k=n, sorted=True, return_as="tuple", show_progress=False,
                                    n_threads=0)
        ids, scores = ids[0], scores[0]
        keep = scores > 0
        return Ranking.of(ids[keep], scores[keep])
