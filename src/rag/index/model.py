"""The in-memory index, its errors and the names of its files."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..chunking import Chunk, Sentence, Span
from ..corpus import Document
from ..lexical import Background, GlossStems, QueryTokenizer
from .units import Layout

FORMAT_VERSION = 13
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
    chunks: Sequence[Chunk]        # a list while building, `units.Units` once loaded
    sentences: Sequence[Sentence]
    chunk_vectors: object          # faiss.IndexFlatIP over L2-normalised vectors (cosine)
    sentence_vectors: np.ndarray   # (n_sentences, dim) L2-normalised, StoreSettings.vector_dtype
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
    spans: Sequence[Span] = field(default_factory=list)
    span_vectors: np.ndarray | None = None
    english_span_vectors: np.ndarray | None = None
    #: English stem -> {corpus word: IDF} (`lexical.build_lexicon`), for English questions.
    lexicon: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Background IDF and name tags of Chinese words (`lexical.Background`).
    background: Background | None = None
    #: English gloss stems of Chinese words (`lexical.GlossStems`), for a question word's synonyms.
    gloss_stems: GlossStems | None = None

    @property
    def layout(self) -> Layout:
        """Which sentences lie in a chunk and which spans belong to a sentence (`units.Layout`)."""
        if getattr(self, "_layout", None) is None:
            self._layout = Layout(self.chunks, self.sentences, self.spans)
        return self._layout
