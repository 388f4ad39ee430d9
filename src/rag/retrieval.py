"""Hybrid retrieval: dense (FAISS, cosine) and lexical (BM25 over jieba words), fused by rank.

Passages are ranked by reciprocal rank fusion (RRF): score = sum over the two rankings of
1 / (rrf_k + rank). RRF needs no score calibration between a cosine and a BM25 score, and it
is what most hybrid systems ship. Ties break on chunk id, so ranking is deterministic.

Every sentence inside the returned passages also gets its own cosine, and so does every clause
span of those sentences; the answer stage picks its quotes from those. Nothing here is a statistic
over the whole corpus: what the relevance model sees means the same for one document or a hundred.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .chunking import Chunk, Sentence, Span
from .embedding import Embedder
from .index import Index
from .lexical import has_cjk, translate
from .stores import ChunkStore, Ranking
from .stores.local import LocalStore
from .vectors import cosines, top_of_matrix


@dataclass(frozen=True)
class Hit:
    """A retrieved passage. `score` is the fused RRF score (higher is better); `rank` starts at 1."""

    chunk: Chunk
    rank: int
    score: float
    dense: float
    lexical: float
    names: tuple[str, ...] = ()  # proper names in the passage


@dataclass(frozen=True)
class ScoredSpan:
    """A clause span of a sentence, with its own similarity to the question."""

    span: Span
    dense: float  # cosine similarity, in [-1, 1]


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence inside a retrieved passage, with its own similarity to the question."""

    sentence: Sentence
    dense: float  # cosine similarity, in [-1, 1]
    spans: tuple[ScoredSpan, ...] = ()  # its clause spans, in document order


@dataclass(frozen=True)
class Retrieval:
    """What retrieval hands to the answer stage."""

    question: str
    hits: list[Hit]
    sentences: list[ScoredSentence]
    query_tokens: list[str]
    question_has_cjk: bool
    #: For a question without Chinese: per English content word, {corpus word: IDF} (empty: none).
    translations: list[dict[str, float]] = field(default_factory=list)
    #: Best raw cosine of the English helper model over the retrieved sentences (None when unused).
    #: Unlike e5's, its cosines are not compressed: near 0 for unrelated text.
    helper_best: float | None = None
    #: The question's content words with their background IDF (`lexical.Background`), in order.
    word_weights: dict[str, float] = field(default_factory=dict)
    #: Those of its words that name a place, organisation or person.
    named: tuple[str, ...] = ()
    #: For a Chinese question: its words -> other corpus words of the same English gloss
    #: (`lexical.GlossStems.synonyms`; 提升 -> 提高), for the relevance checks.
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    timings_ms: dict = field(default_factory=dict)


def fuse(dense: Ranking, lexical: Ranking, rrf_k: int) -> dict[int, float]:
    """Reciprocal rank fusion of two top-n lists: chunk id -> sum of 1 / (rrf_k + rank) over the
    lists it is in. With no lexical evidence, the dense list decides alone (counted twice)."""
    fused: dict[int, float] = {}
    weight = 1.0 if len(lexical) else 2.0
    for ranking in (dense, lexical):
        for rank, i in enumerate(ranking.ids.tolist(), start=1):
            fused[i] = fused.get(i, 0.0) + weight / (rrf_k + rank)
    return fused


def glossed_terms(translations: list[dict[str, float]], glosses: int) -> list[str]:
    """The best `glosses` corpus words (by IDF) of each English word's `translations`: what an
    English question is also queried with in BM25, whose Chinese words it otherwise lacks."""
    return [t for group in translations for t, _ in sorted(group.items(), key=lambda item: -item[1])[:glosses]]


class _Bounded:
    """An embedder whose questions are encoded at most one per core at once when the engine says
    it is `reentrant` (calls share nothing they write), else one at a time: an engine that is not
    known to be thread-safe is not trusted to be. Everything after encoding runs in parallel
    anyway (benchmarks/bench_concurrency.py)."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self.slots = (os.cpu_count() or 1) if getattr(embedder, "reentrant", False) else 1
        self._slots = threading.BoundedSemaphore(self.slots)

    def embed_queries(self, texts):
        with self._slots:
            return self.embedder.embed_queries(texts)


class Retriever:
    """Ranks passages and scores their sentences for a question.

    With an `english_embedder` (and its vectors in the index), a question without Chinese
    characters is scored by the mean of both models' cosines.
    """

    def __init__(self, index: Index, embedder: Embedder, rrf_k: int = 60, english_embedder: Embedder | None = None,
                 store: ChunkStore | None = None, candidate_factor: int = 40, english_lexical_glosses: int = 0):
        self.index = index
        self.embedder = embedder
        self.english_embedder = english_embedder
        self.rrf_k = rrf_k
        self._query_embedder = _Bounded(embedder)
        self._helper_embedder = _Bounded(english_embedder) if english_embedder is not None else None
        self.store = store if store is not None else LocalStore(index)
        self.candidate_factor = candidate_factor
        self.english_lexical_glosses = english_lexical_glosses

    def _with_helper(self, dense: Ranking, query: np.ndarray, helper: np.ndarray, pool: int) -> Ranking:
        """The dense ranking by the mean of both models' cosines, over the union of each model's
        top `pool` chunks (the English vectors live in the local index whatever the store)."""
        english = self.index.english_chunk_vectors
        helper_ids, _ = top_of_matrix(english, helper, pool)
        ids = np.union1d(dense.ids, helper_ids)
        main = dict(zip(dense.ids.tolist(), dense.scores.tolist()))
        others = np.array([i for i in ids.tolist() if i not in main], dtype=np.int64)
        if len(others):
            main.update(zip(others.tolist(), self.store.dense_scores(query, others).tolist()))
        mean = (np.array([main[i] for i in ids.tolist()], dtype=np.float32) + english[ids] @ helper) / 2
        return Ranking.of(ids, mean)

    def search(self, question: str, top_k: int) -> Retrieval:
        """The `top_k` best passages for `question`, and the scored sentences inside them."""
        started = time.perf_counter()
        index = self.index
        query = self._query_embedder.embed_queries([question])[0]
        tokens = index.tokenizer.tokens(question)
        is_cjk = has_cjk(question)

        # Each ranking hands fusion a bounded pool: the cost does not grow with the corpus.
        pool = max(top_k, self.candidate_factor * top_k)
        dense = self.store.dense(query, pool)
        helper = None
        if self.english_embedder is not None and index.english_chunk_vectors is not None and not is_cjk:
            helper = self._helper_embedder.embed_queries([question])[0]
            dense = self._with_helper(dense, query, helper, pool)
        embedded = time.perf_counter()
        # Chunks without any of the question's words are not in the BM25 list and get nothing from
        # it: ranking them by id (as a full sort's tie-break did) favoured the first documents.
        translations = [] if is_cjk else translate(question, index.lexicon)
        glossed = glossed_terms(translations, self.english_lexical_glosses)
        lexical = self.store.lexical([*tokens, *(t for t in dict.fromkeys(glossed) if t not in tokens)], pool)
        fused = fuse(dense, lexical, self.rrf_k)
        order = sorted(fused, key=lambda i: (-fused[i], i))[:top_k]
        dense_of = dict(zip(dense.ids.tolist(), dense.scores.tolist()))
        missing = np.array([i for i in order if i not in dense_of], dtype=np.int64)
        if len(missing):  # found by BM25 only: their cosine is still shown and used
            scores = self.store.dense_scores(query, missing)
            if helper is not None:
                scores = (scores + index.english_chunk_vectors[missing] @ helper) / 2
            dense_of.update(zip(missing.tolist(), scores.tolist()))
        lexical_of = dict(zip(lexical.ids.tolist(), lexical.scores.tolist()))
        names = index.chunk_names or [[] for _ in index.chunks]
        hits = [Hit(index.chunks[i], rank + 1, float(fused[i]), float(dense_of[i]), float(lexical_of.get(i, 0.0)),
                    tuple(names[i])) for rank, i in enumerate(order)]

        # Only the sentences (and their spans) inside the hits are scored: cost bounded by top_k.
        layout = index.layout
        ids = sorted({s for i in order for s in layout.sentences_in(i)})
        sentence_dense = cosines(index.sentence_vectors, ids, query) if ids else np.zeros(0, np.float32)
        span_ids = [p for s in ids for p in layout.spans_of(s)]
        span_dense = dict(zip(span_ids, cosines(index.span_vectors, span_ids, query))) if span_ids else {}
        helper_best = None
        if helper is not None and ids:
            helper_sentences = cosines(index.english_sentence_vectors, ids, helper)
            helper_best = float(helper_sentences.max())
            sentence_dense = (sentence_dense + helper_sentences) / 2
            if span_ids:
                helper_spans = cosines(index.english_span_vectors, span_ids, helper)
                span_dense = {p: (d + h) / 2 for (p, d), h in zip(span_dense.items(), helper_spans)}
        scored = [ScoredSentence(index.sentences[s], float(dense),
                                 tuple(ScoredSpan(index.spans[p], float(span_dense[p]))
                                       for p in layout.spans_of(s)))
                  for s, dense in zip(ids, sentence_dense)]
        words = index.background.words(question, index.tokenizer.vocabulary) if index.background else []
        weights = {w: index.background.idf(w) for w in words} if index.background else {}
        named = tuple(w for w in weights if index.background.is_name(w))
        synonyms = {}
        if is_cjk and index.gloss_stems:
            synonyms = {w: found for w in weights if (found := index.gloss_stems.synonyms(w, index.lexicon))}
        done = time.perf_counter()
        return Retrieval(question, hits, scored, tokens, is_cjk, translations, helper_best, weights, named, synonyms,
                         timings_ms={"embed": (embedded - started) * 1000, "retrieve": (done - started) * 1000})
