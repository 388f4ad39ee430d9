"""The index on disk: atomic saves, a validated manifest, checksummed loads.

Every way a folder can be damaged ends in `CorruptIndex` with a short one-line message (which
`open_index` turns into a rebuild), never in a traceback: `CURRENT` must be a small regular file
naming a build folder beside it; the manifest must match `validate_manifest`'s schema, and its
`files` must list exactly the files of the build folder, each with its sha256.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..corpus import Document, file_sha256
from ..lexical import Background, GlossStems, QueryTokenizer, write_vocabulary
from .model import CURRENT, FORMAT_VERSION, MANIFEST, CorruptIndex, Index, MissingIndex, one_line
from .units import STRINGS_FILE, UNITS_FILE, load_units, save_units

#: What `CURRENT` may hold: the name of a build folder (`save_index` makes them).
_BUILD_NAME = re.compile(r"build-[0-9A-Za-z-]{1,100}")
_POINTER_MAX_BYTES = 256
#: A manifest is a few KB plus ~100 bytes per corpus file; beyond this it is not one.
_MANIFEST_MAX_BYTES = 64 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: The files `load_index` opens (bm25-chunks/ is a folder of bm25s files, checked as a prefix).
REQUIRED_FILES = ("background.marshal", "chunks.faiss", "documents.json", "gloss-stems.marshal", "lexicon.json",
                  "names.json",
                  "sentences.npy", "spans.npy", STRINGS_FILE, UNITS_FILE, "vocab.txt")
ENGLISH_FILES = ("chunks.en.npy", "sentences.en.npy", "spans.en.npy")
BM25_FOLDER = "bm25-chunks/"
COUNTS = ("documents", "chunks", "sentences", "spans")


def _write_files(index: Index, folder: Path) -> None:
    import faiss

    def dump(name: str, value) -> None:
        (folder / name).write_text(json.dumps(value, ensure_ascii=False), "utf-8")

    save_units(folder, index.chunks, index.sentences, index.spans, list(index.documents))
    dump("names.json", index.chunk_names)
    dump("lexicon.json", index.lexicon)
    dump("documents.json", [asdict(d) for d in index.documents.values()])
    faiss.write_index(index.chunk_vectors, str(folder / "chunks.faiss"))
    np.save(folder / "sentences.npy", index.sentence_vectors)
    np.save(folder / "spans.npy", index.span_vectors)
    if index.english_chunk_vectors is not None:
        np.save(folder / "chunks.en.npy", index.english_chunk_vectors)
        np.save(folder / "sentences.en.npy", index.english_sentence_vectors)
        np.save(folder / "spans.en.npy", index.english_span_vectors)
    if index.vocabulary is not None:
        write_vocabulary(index.vocabulary, folder / "vocab.txt")
    else:  # a loaded index keeps its vocabulary on disk only
        shutil.copyfile(index.path / "vocab.txt", folder / "vocab.txt")
    index.background.save(folder / "background.marshal")
    index.gloss_stems.save(folder / "gloss-stems.marshal")
    index.chunk_bm25.save(str(folder / "bm25-chunks"), show_progress=False)


def _data_files(folder: Path) -> dict[str, Path]:
    """Every entry below `folder` but the manifest and the verification record, by relative
    name. A link or special file is not something `save_index` writes: it makes the folder corrupt."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise ValueError(f"unexpected entry {one_line(path.relative_to(folder).as_posix(), 80)!r}")
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel != MANIFEST and not rel.startswith(VERIFIED):
            out[rel] = path
    return out


# Verified once: after a file's sha256 matched, its (inode, size, mtime, ctime) are recorded in
# VERIFIED; a later open re-hashes only files whose signature differs. Any write to a file changes
# its ctime, which no ordinary program can set back, so an edited or replaced file is always
# re-hashed; a lost or garbled record only means hashing everything again.
VERIFIED = ".verified"


def _signature(path: Path) -> list[int]:
    info = os.stat(path)
    return [info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _read_verified(folder: Path) -> dict:
    try:
        with open(folder / f"{VERIFIED}.json", "rb") as handle:
            record = json.loads(handle.read(_MANIFEST_MAX_BYTES))
        return record if isinstance(record, dict) else {}
    except Exception:  # absent or garbled: verify everything
        return {}


def _write_verified(folder: Path, record: dict) -> None:
    tmp = folder / f"{VERIFIED}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(record), "utf-8")
        os.replace(tmp, folder / f"{VERIFIED}.json")
    except OSError:  # a read-only index still opens; it is just verified in full each time
        tmp.unlink(missing_ok=True)


def verify_files(folder: Path, files: dict[str, str]) -> None:
    """Check every file of `files` against its sha256 (skipping those verified since their last
    change, see VERIFIED). Raises ValueError naming the first mismatch."""
    record, fresh = _read_verified(folder), {}
    for name, digest in files.items():
        signature = _signature(folder / name)
        if record.get(name) != signature and file_sha256(folder / name) != digest:
            raise ValueError(f"{one_line(name, 80)} does not match its checksum")
        fresh[name] = signature
    if fresh != record:
        _write_verified(folder, fresh)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in list(folder.rglob("*")) + [folder]:
        _fsync(path)


def _clear_pointer_slot(root: Path) -> None:
    """Make room for the new `CURRENT`: a directory (or anything but a file) in its place would
    make the switch fail on every run."""
    pointer = root / CURRENT
    if pointer.is_symlink() or not pointer.exists():
        return
    if pointer.is_dir():
        shutil.rmtree(pointer)
    elif not pointer.is_file():
        pointer.unlink()


def save_index(index: Index, root: Path) -> Path:
    """Persist `index` under `root` atomically and make it the current one. Returns its folder.

    A failure at any step removes what this call made (temporary folder, renamed build, pointer
    file) and leaves the previous index current.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    name = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{os.urandom(3).hex()}"
    tmp, final, pointer = root / f".tmp-{name}", root / name, root / f".{CURRENT}.{name}"
    tmp.mkdir()
    try:
        _write_files(index, tmp)
        files = {rel: file_sha256(path) for rel, path in _data_files(tmp).items()}
        manifest = dict(index.manifest, files=files)
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        _fsync_tree(tmp)
        verify_files(tmp, files)  # records the signatures: the hashes were just computed from these files
        os.replace(tmp, final)
        _clear_pointer_slot(root)
        pointer.write_text(name, "utf-8")
        _fsync(pointer)
        os.replace(pointer, root / CURRENT)  # the commit point
        _fsync(root)
    except BaseException:
        committed = _pointer_names(root) == name
        shutil.rmtree(tmp, ignore_errors=True)
        if not committed:
            shutil.rmtree(final, ignore_errors=True)
        pointer.unlink(missing_ok=True)
        raise
    index.manifest, index.path = manifest, final
    _remove_old_builds(root, keep=name)
    return final


def _pointer_names(root: Path) -> str | None:
    try:
        return _read_pointer(root / CURRENT)
    except (OSError, ValueError):
        return None


def _remove_old_builds(root: Path, keep: str) -> None:
    for path in root.iterdir():
        if path.name == keep:
            continue
        if path.name.startswith(("build-", ".tmp-build-", f".{CURRENT}.build-")):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _read_pointer(pointer: Path) -> str:
    """The build name in `CURRENT`; ValueError when it is no small regular file naming one."""
    info = os.lstat(pointer)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{CURRENT} is not a regular file")
    if info.st_size > _POINTER_MAX_BYTES:
        raise ValueError(f"{CURRENT} holds {info.st_size:,} bytes, not a build name")
    with open(pointer, "rb") as handle:
        raw = handle.read(_POINTER_MAX_BYTES + 1)
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ValueError(f"{CURRENT} is not UTF-8 text") from None
    if not _BUILD_NAME.fullmatch(name):
        raise ValueError(f"{CURRENT} holds {one_line(name, 60)!r}, not a build name")
    return name


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_embedder(manifest: dict, key: str, optional: bool) -> None:
    _need(key in manifest, f"manifest lacks {key!r}")
    value = manifest[key]
    if value is None and optional:
        return
    _need(isinstance(value, dict), f"manifest {key!r} is not an object")
    _need(isinstance(value.get("model"), str) and isinstance(value.get("id"), str), f"manifest {key!r} lacks model/id")
    _need(_is_int(value.get("dim")) and value["dim"] > 0, f"manifest {key!r} has no positive dim")


def validate_manifest(manifest, folder: Path) -> None:
    """Raise ValueError (short message) unless `manifest` has every key with the right type and
    its `files` lists exactly the files of `folder`, including every file `load_index` opens."""
    _need(isinstance(manifest, dict), "manifest is not an object")
    _need(_is_int(manifest.get("format")) and manifest["format"] == FORMAT_VERSION,
          f"format {one_line(repr(manifest.get('format')), 40)}, expected {FORMAT_VERSION}")
    for key in ("package_version", "built_at"):
        _need(isinstance(manifest.get(key), str), f"manifest {key!r} is not a string")
    _check_embedder(manifest, "embedder", optional=False)
    _check_embedder(manifest, "english_embedder", optional=True)
    _need(isinstance(manifest.get("chunking"), dict), "manifest 'chunking' is not an object")
    lexicon = manifest.get("lexicon")
    _need(isinstance(lexicon, dict) and all(k in lexicon and isinstance(lexicon[k], str | None)
                                            for k in ("source", "package", "background")),
          "manifest 'lexicon' is not an object of strings")
    corpus = manifest.get("corpus")
    _need(isinstance(corpus, dict) and all(isinstance(v, str) and _SHA256.fullmatch(v) for v in corpus.values()),
          "manifest 'corpus' is not an object of sha256 digests")
    stats = manifest.get("corpus_stat")
    _need(isinstance(stats, dict) and all(k in corpus and isinstance(v, list) and len(v) == 2
                                          and all(_is_int(x) for x in v) for k, v in stats.items()),
          "manifest 'corpus_stat' is not an object of [size, mtime] pairs of corpus files")
    counts = manifest.get("counts")
    _need(isinstance(counts, dict) and all(_is_int(counts.get(k)) and counts[k] >= 0 for k in COUNTS),
          "manifest 'counts' lacks a count")
    files = manifest.get("files")
    _need(isinstance(files, dict) and all(isinstance(v, str) and _SHA256.fullmatch(v) for v in files.values()),
          "manifest 'files' is not an object of sha256 digests")
    required = set(REQUIRED_FILES) | (set(ENGLISH_FILES) if manifest.get("english_embedder") else set())
    missing = sorted(required - set(files))
    _need(not missing, f"manifest 'files' lacks {one_line(', '.join(missing), 80)}")
    _need(any(name.startswith(BM25_FOLDER) for name in files), f"manifest 'files' lacks {BM25_FOLDER}")
    on_disk = set(_data_files(folder))
    unlisted, absent = sorted(on_disk - set(files)), sorted(set(files) - on_disk)
    _need(not unlisted, f"{one_line(', '.join(unlisted), 80)} not in the manifest")
    _need(not absent, f"{one_line(', '.join(absent), 80)} missing")


def read_manifest(root: Path) -> tuple[Path, dict]:
    """The current build folder and its validated manifest. Raises `MissingIndex` or `CorruptIndex`."""
    root = Path(root)
    pointer = root / CURRENT
    if not os.path.lexists(pointer):
        raise MissingIndex(f"no index in {root}")
    try:
        name = _read_pointer(pointer)
        folder = root / name
        _need(folder.is_dir() and not folder.is_symlink(), f"{CURRENT} names {name}, which is not a build folder")
        with open(folder / MANIFEST, "rb") as handle:
            raw = handle.read(_MANIFEST_MAX_BYTES + 1)
        _need(len(raw) <= _MANIFEST_MAX_BYTES, "manifest is oversized")
        manifest = json.loads(raw.decode("utf-8"))
        validate_manifest(manifest, folder)
    except Exception as exc:  # OSError, ValueError, RecursionError (deep JSON): all mean "rebuild"
        raise CorruptIndex(f"index in {root} is unreadable ({one_line(f'{exc.__class__.__name__}: {exc}')})") from None
    return folder, manifest


def _json(folder: Path, name: str):
    return json.loads((folder / name).read_text("utf-8"))


def document_from_json(d: dict) -> Document:
    """A `Document` as `documents.json` holds it (lists back to tuples: documents are hashed)."""
    return Document(**(d | {"examples": tuple(d.get("examples") or ()),
                            "pages": tuple(tuple(p) for p in d.get("pages") or ()),
                            "blocks": tuple(tuple(b) for b in d.get("blocks") or ())}))


def load_index(root: Path) -> Index:
    """Load the current index under `root`, checking every file against the manifest."""
    import bm25s
    import faiss

    folder, manifest = read_manifest(root)
    try:
        verify_files(folder, manifest["files"])
        documents = {d["path"]: document_from_json(d) for d in _json(folder, "documents.json")}
        chunks, sentences, spans = load_units(folder, documents)
        chunk_vectors = faiss.read_index(str(folder / "chunks.faiss"))
        # Memory-mapped: pages are read when a question touches their rows.
        sentence_vectors = np.load(folder / "sentences.npy", allow_pickle=False, mmap_mode="r")
        span_vectors = np.load(folder / "spans.npy", allow_pickle=False, mmap_mode="r")
        chunk_bm25 = bm25s.BM25.load(str(folder / "bm25-chunks"))
        tokenizer = QueryTokenizer(folder / "vocab.txt")
        chunk_names = _json(folder, "names.json")
        lexicon = _json(folder, "lexicon.json")
        background = Background.load(folder / "background.marshal")
        gloss_stems = GlossStems.load(folder / "gloss-stems.marshal")
        english_chunks = english_sentences = english_spans = None
        if manifest.get("english_embedder"):
            english_chunks = np.load(folder / "chunks.en.npy", allow_pickle=False, mmap_mode="r")
            english_sentences = np.load(folder / "sentences.en.npy", allow_pickle=False, mmap_mode="r")
            english_spans = np.load(folder / "spans.en.npy", allow_pickle=False, mmap_mode="r")
            if len(english_chunks) != len(chunks) or len(english_sentences) != len(sentences) \
                    or len(english_spans) != len(spans):
                raise ValueError("English vector counts do not match the chunks")
        if chunk_vectors.ntotal != len(chunks) or len(sentence_vectors) != len(sentences) \
                or len(chunk_names) != len(chunks) or len(span_vectors) != len(spans):
            raise ValueError("vector counts do not match the chunks")
        counts = manifest["counts"]
        if (counts["documents"], counts["chunks"], counts["sentences"], counts["spans"]) \
                != (len(documents), len(chunks), len(sentences), len(spans)):
            raise ValueError("manifest counts do not match the files")
    except Exception as exc:  # any unreadable piece means the same thing: rebuild
        raise CorruptIndex(f"index in {root} is corrupt ({one_line(f'{exc.__class__.__name__}: {exc}')})") from None
    return Index(manifest, chunks, sentences, chunk_vectors, sentence_vectors, chunk_bm25,
                 tokenizer, documents, path=folder,
                 english_chunk_vectors=english_chunks, english_sentence_vectors=english_sentences,
                 chunk_names=chunk_names, spans=spans, span_vectors=span_vectors,
                 english_span_vectors=english_spans, lexicon=lexicon, background=background,
                 gloss_stems=gloss_stems)
