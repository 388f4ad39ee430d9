"""Chunk stores: where retrieval gets its two rankings of chunks (dense top-n, lexical top-n).

A store answers only "which chunks, with what score"; everything else (documents, sentences,
spans and their vectors) stays in the local index. Two stores give the same rankings:

- `LocalStore`: the index folder's FAISS index and bm25s statistics (the default);
- `MilvusStore`: a Milvus collection (Milvus Lite file or server), filled from the local index
  when it does not yet hold that index's build (`milvus:URI`).

Chunk ids are positions in `Index.chunks`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..config import StoreSettings
from ..index import Index


class StoreError(Exception):
    """A store that cannot be opened or reached; the message is meant for a person."""


@dataclass(frozen=True)
class Ranking:
    """The best chunks of one ranking, best first (ties by id); only chunks with evidence."""

    ids: np.ndarray     # int64 chunk positions
    scores: np.ndarray  # float32, same order

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def of(ids, scores) -> Ranking:
        """A ranking from unsorted (ids, scores): sorted by descending score, then id."""
        ids = np.asarray(ids, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float32)
        order = np.lexsort((ids, -scores))
        return Ranking(ids[order], scores[order])


class ChunkStore(Protocol):
    """What retrieval asks of a store."""

    #: "local" or "milvus", for timings and messages.
    name: str

    def dense(self, query: np.ndarray, n: int) -> Ranking:
        """The `n` chunks whose vectors have the highest cosine with `query`."""

    def dense_scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The cosine of `query` with the vectors of chunks `ids` (for chunks only BM25 found)."""

    def lexical(self, tokens: list[str], n: int) -> Ranking:
        """The `n` chunks with the highest BM25 score for `tokens` (query words, repeats count);
        chunks scoring 0 are left out."""


def check_store(spec: str) -> str:
    """`spec` if it names a store ("local" or "milvus:URI"), else a `StoreError` (before any work)."""
    spec = (spec or "local").strip()
    if spec == "local" or (spec.startswith("milvus:") and spec.removeprefix("milvus:")):
        return spec
    raise StoreError(f"unknown store {spec!r}: use 'local' or 'milvus:URI' "
                     "(URI a Milvus Lite file PATH.db or http://host:19530)")


def open_store(settings: StoreSettings, index: Index, log=None) -> ChunkStore:
    """The store named by `settings.store`: "local" or "milvus:URI" (filled from `index` when it
    does not hold this build yet, saying so through `log`)."""
    spec = check_store(settings.store)
    if spec == "local":
        from .local import LocalStore

        return LocalStore(index, settings)
    from .milvus import MilvusStore

    return MilvusStore(spec.removeprefix("milvus:"), index, log)
