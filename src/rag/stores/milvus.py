"""A Milvus store: the chunk rankings served by Milvus (Milvus Lite file or a server) via pymilvus.

One collection per index build (`rag_chunks_<build hash>`): the chunk id (its position in the
local index) as primary key, its vector, its document, offsets and section, and its BM25 text.
When the collection for the local index's build is missing it is created and filled from the
local index, so building the index needs no Milvus at all; collections of older builds are dropped.

BM25 text: Milvus computes BM25 itself (a BM25 function over an analysed VARCHAR field, Lucene's
IDF, the same k1/b as bm25s). Its analyzers segment Chinese differently from ours (Milvus Lite's
`jieba` tokenizer uses jieba's full dictionary with no stop words; a server's `chinese` analyzer
differs again), which would rank chunks differently from the local store. So the field holds
*our* jieba tokens separated by spaces, and the analyzer only splits on them: "whitespace" on a
server, "standard" (\\w+) on Milvus Lite, which knows no whitespace tokenizer; for the latter
the few characters \\w does not cover inside our tokens (`.`, `+`, `-`) are spelled out.
Repeated question words count twice on both sides, so the two stores rank alike.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from ..index import Index, embedding_text
from ..lexical import corpus_tokens
from . import Ranking, StoreError

_PREFIX = "rag_chunks_"
_SPELLED = {".": "_d_", "+": "_p_", "-": "_m_"}
_EMPTY = "_"  # stands for a chunk without tokens (bm25s indexes it as one empty token)
_BATCH = 500
_BM25 = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s' defaults (index._bm25)


def spell(token: str) -> str:
    """`token` as one \\w+ word (injective: our tokens never contain "_")."""
    for char, spelled in _SPELLED.items():
        token = token.replace(char, spelled)
    return token


def build_id(index: Index) -> str:
    """A short hash naming the index build a collection was filled from."""
    manifest = json.dumps(index.manifest, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest()[:16]


class MilvusStore:
    """Dense and BM25 top-n from a Milvus collection (see the module docstring)."""

    name = "milvus"

    def __init__(self, uri: str, index: Index, log=None):
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise StoreError("the Milvus store needs pymilvus (and milvus-lite for a .db file): "
                             "pip install -e '.[milvus]'") from None
        if not uri:
            raise StoreError("empty Milvus URI: use milvus:PATH.db or milvus:http://host:19530")
        self.uri = uri
        self.index = index
        try:
            self.client = MilvusClient(uri)
        except Exception as exc:  # pymilvus raises its own exceptions, grpc's, OSError...
            raise StoreError(f"cannot open Milvus at {uri!r}: {exc}") from None
        self.collection = _PREFIX + build_id(index)
        self.lite = not uri.startswith(("http://", "https://", "tcp://", "grpc://"))
        if not self.client.has_collection(self.collection):
            (log or (lambda message: None))(f"Filling Milvus collection {self.collection} at {uri}.")
            self._fill()
        self.client.load_collection(self.collection)

    def _text(self, tokens: list[str]) -> str:
        return " ".join(spell(t) for t in tokens) if self.lite else " ".join(tokens)

    def _create(self, analyzer: dict) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(self.index.chunk_vectors.d))
        schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                         analyzer_params=analyzer)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("doc", DataType.VARCHAR, max_length=4096)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("section", DataType.VARCHAR, max_length=4096)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        params = self.client.prepare_index_params()
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params=dict(_BM25))
        self.client.create_collection(self.collection, schema=schema, index_params=params)

    def _fill(self) -> None:
        from .. import vectors

        for name in self.client.list_collections():
            if name.startswith(_PREFIX):  # an older build's collection
                self.client.drop_collection(name)
        self._create({"tokenizer": "standard"} if self.lite else {"tokenizer": "whitespace"})
        index = self.index
        chunk_vectors = vectors.reconstruct(index.chunk_vectors, np.arange(len(index.chunks)))
        for first in range(0, len(index.chunks), _BATCH):
            rows = []
            for i in range(first, min(first + _BATCH, len(index.chunks))):
                chunk = index.chunks[i]
                tokens = corpus_tokens(embedding_text(chunk, index.documents[chunk.doc]))
                rows.append({"id": i, "vector": chunk_vectors[i].tolist(),
                             "text": self._text(tokens) if tokens else _EMPTY,
                             "doc": chunk.doc, "start": chunk.start, "end": chunk.end,
                             "section": chunk.section[:4000]})
            self.client.insert(self.collection, rows)
        self.client.flush(self.collection)

    def dense(self, query: np.ndarray, n: int) -> Ranking:
        n = min(int(n), len(self.index.chunks))
        if n <= 0:
            return Ranking.of([], [])
        found = self.client.search(self.collection, data=[query.astype(np.float32).tolist()], anns_field="vector",
                                   limit=n, search_params={"metric_type": "IP"}, output_fields=["id"])[0]
        return Ranking.of([h["id"] for h in found], [h["distance"] for h in found])

    def dense_scores(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        ids = [int(i) for i in ids]
        if not ids:
            return np.zeros(0, np.float32)
        rows = {r["id"]: r["vector"] for r in self.client.get(self.collection, ids=ids, output_fields=["vector"])}
        return np.asarray([rows[i] for i in ids], dtype=np.float32) @ query

    def lexical(self, tokens: list[str], n: int) -> Ranking:
        n = min(int(n), len(self.index.chunks))
        if not tokens or n <= 0:
            return Ranking.of([], [])
        found = self.client.search(self.collection, data=[self._text(tokens)], anns_field="sparse", limit=n,
                                   search_params={"metric_type": "BM25"}, output_fields=["id"])[0]
        # BM25 scores are positive; Milvus Lite reports them negated (smaller = closer). Milvus
        # keeps BM25's (k1 + 1) factor, which bm25s (Lucene) drops: divided out, scores match.
        scale = 1.0 + _BM25["bm25_k1"]
        hits = [(h["id"], abs(h["distance"]) / scale) for h in found if h["distance"] != 0]
        return Ranking.of([i for i, _ in hits], [s for _, s in hits])
