"""The persisted index: chunks and sentences with their vectors (FAISS) and BM25 statistics.

Folder layout (`index/` by default)::

    CURRENT              name of the active build folder, replaced atomically
    build-<stamp>/       manifest.json, documents.json, chunks.json, sentences.json,
                         spans.json, chunks.faiss, sentences.npy, spans.npy, vocab.txt,
                         bm25-chunks/, names.json, lexicon.json, background.marshal,
                         gloss-stems.marshal, and with an
                         English helper model: chunks.en.npy, sentences.en.npy, spans.en.npy
    parts/<key>/         one document's chunks, vectors, tokens and lexicon share (`parts`):
                         a rebuild embeds only documents that are new or changed
    extracted/<sha>.json the cleaned text of a PDF, Word file or web page (`extract`), by the
                         file's hash: an unchanged file is not extracted again

A build is written to a temporary folder, renamed into place, and only then does `CURRENT`
switch to it (`os.replace`), so a crash at any point leaves the previous index usable.
The manifest records what built the index (embedder, chunking, a hash of every corpus file,
package version) and a hash of every index file; `open_index` rebuilds when any of it differs,
and when anything about the folder is malformed (see `store`), with a one-line message.

Modules: `model` (the `Index` dataclass, errors), `parts` (per-document cache), `build` (parts
in, merged index out, in memory), `store` (on disk).
"""
from __future__ import annotations

import os
from collections.abc import Callable

from .. import __version__
from ..config import Settings
from ..corpus import corpus_state, fingerprint, load_corpus, trusted_stats
from ..embedding import Embedder
from ..extract import ExtractCache
from ..lexical import QueryTokenizer
from .build import build_index, chunking_params, embedding_text, lexicon_versions, vector_index_params
from .lock import update_lock
from .model import CURRENT, FORMAT_VERSION, MANIFEST, CorruptIndex, Index, IndexProblem, MissingIndex, one_line
from .parts import PART_FORMAT, PARTS, PartStore
from .store import load_index, read_manifest, save_index, validate_manifest

#: Where the text extracted from PDF, Word and web pages is kept, by file hash (`extract.ExtractCache`).
EXTRACTED_DIR = "extracted"

__all__ = ["CURRENT", "EXTRACTED_DIR", "FORMAT_VERSION", "MANIFEST", "CorruptIndex", "Index", "IndexProblem", "MissingIndex",
           "build_index", "chunking_params", "current_index", "embedding_text", "load_index", "open_index", "read_manifest",
           "rebuild_index", "save_index", "stale_reason", "validate_manifest"]


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
    if manifest.get("part_format") != PART_FORMAT:
        return f"documents are now cut into units differently (part format {PART_FORMAT})"
    if manifest.get("vector_index") != vector_index_params(settings):
        return "vector index settings changed (Settings.stores)"
    lexicon = lexicon_versions()
    built = {key: (manifest.get("lexicon") or {}).get(key) for key in lexicon}
    if built != lexicon:
        return f"built with the lexicon and word tables of {built}, now {lexicon}"
    if manifest.get("corpus") != corpus_hashes:
        old, new = manifest.get("corpus", {}), corpus_hashes
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        return "corpus changed: " + ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
    return None


def current_index(settings: Settings, embedder: Embedder | None = None) -> tuple[Index | None, str]:
    """The index on disk as it is, never building: `(index, "")` when it fits `settings` and the
    corpus, `(index, why)` when it is usable but stale, `(None, why)` when missing or corrupt.

    A stale index still answers from the documents it was built on (the web chat serves it while
    an update runs); `why` is one line for a person.
    """
    try:
        _, manifest = read_manifest(settings.index_dir)
        # Files whose size and mtime are as recorded keep their recorded hash (no re-reading).
        hints = {rel: [*stat, manifest["corpus"].get(rel)] for rel, stat in manifest["corpus_stat"].items()}
        corpus_hashes = fingerprint(settings.corpus_dir, hints) if settings.corpus_dir.is_dir() else {}
        index = load_index(settings.index_dir)
    except MissingIndex:
        return None, f"no index in {settings.index_dir} yet"
    except CorruptIndex as exc:
        return None, str(exc)
    reason = stale_reason(index.manifest, settings, corpus_hashes, embedder)
    return index, one_line(reason) if reason else ""  # the reason may quote a garbled manifest


def open_index(settings: Settings, embedder: Embedder, log: Callable[[str], None] = print,
               progress: Callable | None = None, english_embedder: Embedder | None = None) -> Index:
    """Load the index if it fits `settings` and the corpus; otherwise (re)build it, saying why in one line.

    A rebuild reuses what it can of the previous one (`rebuild_index`)."""
    index, reason = current_index(settings, embedder)
    if index is not None and not reason:
        return index
    with update_lock(settings.index_dir, log):
        # Looked at again under the lock: another process may have just built what is needed.
        index, reason = current_index(settings, embedder)
        if index is not None and not reason:
            return index
        first_run = index is None and not os.path.lexists(settings.index_dir / CURRENT)
        log(f"Building the index in {settings.index_dir} (first run)." if first_run
            else f"Rebuilding the index: {reason}.")
        return _rebuild(settings, embedder, log, progress, english_embedder)


def rebuild_index(settings: Settings, embedder: Embedder, log: Callable[[str], None] = print,
                  progress: Callable | None = None, english_embedder: Embedder | None = None) -> Index:
    """Build the index from the corpus and save it atomically. Documents unchanged since an
    earlier build are not chunked or embedded again (their parts are kept under `index/parts/`).
    One update of an index folder runs at a time (`lock.update_lock`): a second one waits.

    `english_embedder` is required when `settings.english_model` is set (else it is ignored).
    """
    with update_lock(settings.index_dir, log):
        return _rebuild(settings, embedder, log, progress, english_embedder)


def _rebuild(settings: Settings, embedder: Embedder, log: Callable[[str], None],
             progress: Callable | None, english_embedder: Embedder | None) -> Index:
    if settings.english_model and english_embedder is None:
        from ..embedding import load_embedder

        english_embedder = load_embedder(settings.english_model)
    if not settings.english_model:
        english_embedder = None
    extracted = ExtractCache(settings.index_dir / EXTRACTED_DIR)
    documents, problems = load_corpus(settings.corpus_dir, settings.corpus, extracted)
    for problem in problems:
        log(f"warning: {problem.message}")
    if extracted.extracted:
        log(f"Extracted the text of {extracted.extracted} PDF, Word or web page file{'s' * (extracted.extracted != 1)} "
            f"in {extracted.seconds:.1f} s.")
    # Hash after loading so the manifest describes exactly what was read.
    state = corpus_state(settings.corpus_dir)
    parts = PartStore(settings.index_dir / PARTS)
    index = build_index(documents, embedder, settings, {rel: sha for rel, (_, _, sha) in state.items()},
                        progress, english_embedder, parts, log)
    index.manifest["corpus_stat"] = trusted_stats(state)
    save_index(index, settings.index_dir)
    parts.keep_only(set(index.manifest["parts"]))
    extracted.keep_only_used()
    index.tokenizer = QueryTokenizer(index.path / "vocab.txt")
    return index
