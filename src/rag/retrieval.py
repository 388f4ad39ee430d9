"""Hybrid retrieval: dense (FAISS, cosine) and lexical (BM25 over jieba words), fused by rank.

Passages are ranked by reciprocal rank fusion (RRF): score = sum over the two rankings of
1 / (rrf_k + rank). RRF needs no score calibration between a cosine and a BM25 score, and it
is what most hybrid systems ship. Ties break on chunk id, so ranking is deterministic.

Every sentence inside the returned passages also gets its own dense and BM25 score; the answer
stage picks its quotes from those. Two corpus-wide signals for abstention are computed here:
how far the best sentence's cosine stands out from the corpus (a z-score), and how much of
the question's content the corpus covers lexically.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .chunking import Chunk, Sentence
from .embedding import Embedder
from .index import Index
from .lexical import has_cjk


@dataclass(frozen=True)
class Hit:
    """A retrieved passage. `score` is the fused RRF score (higher is better); `rank` starts at 1."""

    chunk: Chunk
    rank: int
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence inside a retrieved passage, with its own similarity to the question."""

    sentence: Sentence
    passage_rank: int  # rank of the best passage that contains it
    dense: float       # cosine similarity, in [-1, 1]
    lexical: float     # BM25 over sentences, >= 0


@dataclass(frozen=True)
class Retrieval:
    """What retrieval hands to the answer stage."""

    question: str
    hits: list[Hit]
    sentences: list[ScoredSentence]
    query_tokens: list[str]
    #: (best sentence cosine - mean cosine of all sentences) / their standard deviation.
    dense_standout: float
    #: Best sentence cosine minus the sixth best: a clear winner, or a flat field of near-misses.
    dense_gap: float
    #: Share of the question's content tokens that occur in the corpus vocabulary (0 for none).
    lexical_coverage: float
    question_has_cjk: bool
    timings_ms: dict = field(default_factory=dict)


def _bm25_scores(bm25, tokens: list[str], n: int) -> np.ndarray:
    known = [t for t in tokens if t in bm25.vocab_dict]
    if not known:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(bm25.get_scores(known), dtype=np.float32)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each item by descending score, ties broken by position (id)."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


class Retriever:
    """Ranks passages and scores their sentences for a question."""

    def __init__(self, index: Index, embedder: Embedder, rrf_k: int = 60):
        self.index = index
        self.embedder = embedder
        self.rrf_k = rrf_k

    def search(self, question: str, top_k: int) -> Retrieval:
        """The `top_k` best passages for `question`, and the scored sentences inside them."""
        started = time.perf_counter()
        index = self.index
        query = self.embedder.embed_queries([question])[0]
        embedded = time.perf_counter()
        tokens = index.tokenizer.tokens(question)

        n_chunks = len(index.chunks)
        # The corpora this product serves are small: score every chunk exactly.
        dense_scores, dense_ids = index.chunk_vectors.search(query[None, :], n_chunks)
        chunk_dense = np.empty(n_chunks, dtype=np.float32)
        chunk_dense[dense_ids[0]] = dense_scores[0]
        chunk_lexical = _bm25_scores(index.chunk_bm25, tokens, n_chunks)
        fused = 1.0 / (self.rrf_k + _ranks(chunk_dense)) + 1.0 / (self.rrf_k + _ranks(chunk_lexical))
        if not tokens or not chunk_lexical.any():
            fused = 2.0 / (self.rrf_k + _ranks(chunk_dense))  # no lexical evidence: dense decides
        order = np.lexsort((np.arange(n_chunks), -fused))[:top_k]
        hits = [Hit(index.chunks[i], rank + 1, float(fused[i]), float(chunk_dense[i]), float(chunk_lexical[i]))
                for rank, i in enumerate(order)]

        sentence_dense = index.sentence_vectors @ query
        sentence_lexical = _bm25_scores(index.sentence_bm25, tokens, len(index.sentences))
        scored = []
        for sentence, dense, lexical in zip(index.sentences, sentence_dense, sentence_lexical):
            rank = next((h.rank for h in hits if h.chunk.doc == sentence.doc
                         and h.chunk.start <= sentence.start and sentence.end <= h.chunk.end), None)
            if rank is not None:
                scored.append(ScoredSentence(sentence, rank, float(dense), float(lexical)))

        spread = float(sentence_dense.std()) or 1.0
        standout = float((sentence_dense.max() - sentence_dense.mean()) / spread) if len(sentence_dense) else 0.0
        top = np.sort(sentence_dense)[::-1]
        gap = float(top[0] - top[min(5, len(top) - 1)]) if len(top) else 0.0
        vocab = index.chunk_bm25.vocab_dict
        coverage = (sum(len(t) for t in tokens if t in vocab) / sum(len(t) for t in tokens)) if tokens else 0.0
        done = time.perf_counter()
        return Retrieval(question, hits, scored, tokens, standout, gap, coverage, has_cjk(question),
                         timings_ms={"embed": (embedded - started) * 1000, "retrieve": (done - started) * 1000})
