"""The in-memory index, its errors and the names of its files."""
from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..chunking import Chunk, Sentence, Span
from ..corpus import Document
from ..lexical import Background, QueryTokenizer

FORMAT_VERSION = 8
CURRENT = "CURRENT"
MANIFEST = "manifest.json"


class IndexProblem(Exception):
    """Base for index problems; the message is meant for a person."""


class MissingIndex(IndexProblem):
    """No index has been built in this folder yet."""


class CorruptIndex(IndexProblem):
    """The index on disk is unreadable, incomplete or altered."""


def one_line(text: str, limit: int = 200) -> str:
    """`text` on one line, at most `limit` characters: messages about a damaged index quote what
    they found, and what they found may be megabytes of anything."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass
class Index:
    """Everything retrieval needs, in memory."""

    manifest: dict
    chunks: list[Chunk]
    sentences: list[Sentence]
    chunk_vectors: object          # faiss.IndexFlatIP over L2-normalised vectors (cosine)
    sentence_vectors: np.ndarray   # (n_sentences, dim) float32, L2-normalised
    chunk_bm25: object             # bm25s.BM25
    tokenizer: QueryTokenizer
    documents: dict[str, Document]  # by path; quotes are cut from their text
    path: Path | None = None       # the build folder, once saved or loaded
    vocabulary: Counter | None = None  # corpus word counts, only while building (saved as vocab.txt)
    # Vectors of the English helper model (Settings.english_model), when there is one.
    english_chunk_vectors: np.ndarray | None = None
    english_sentence_vectors: np.ndarray | None = None
    #: Proper names (people, organisations) in each chunk, for the answer stage's type check.
    chunk_names: list[list[str]] | None = None
    #: Clause spans of the sentences (see `chunking.spans_of`) and their vectors.
    spans: list[Span] = field(default_factory=list)
    span_vectors: np.ndarray | None = None
    english_span_vectors: np.ndarray | None = None
    #: English stem -> {corpus word: IDF} (`lexical.build_lexicon`), for English questions.
    lexicon: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Background IDF and name tags of Chinese words (`lexical.Background`).
    background: Background | None = None

    @property
    def chunk_sentences(self) -> list[list[int]]:
        """Chunk position -> ids of the sentences that lie inside it."""
        if getattr(self, "_chunk_sentences", None) is None:
            by_doc: dict[str, list[Sentence]] = {}
            for sentence in self.sentences:
                by_doc.setdefault(sentence.doc, []).append(sentence)
            starts = {doc: [s.start for s in group] for doc, group in by_doc.items()}
            out = []
            for chunk in self.chunks:
                group = by_doc.get(chunk.doc, [])
                first = bisect.bisect_left(starts.get(chunk.doc, []), chunk.start)
                ids = []
                for sentence in group[first:]:
                    if sentence.start >= chunk.end:
                        break
                    if sentence.end <= chunk.end:
                        ids.append(sentence.id)
                out.append(ids)
            self._chunk_sentences = out
        return self._chunk_sentences

    @property
    def sentence_spans(self) -> dict[int, list[int]]:
        """Sentence id -> positions of its spans in `spans` (sentences without spans are absent)."""
        if getattr(self, "_sentence_spans", None) is None:
            self._sentence_spans = {}
            for position, span in enumerate(self.spans):
                self._sentence_spans.setdefault(span.sentence, []).append(position)
        return self._sentence_spans
