"""Per-document parts: everything a build derives from one document alone, kept by content.

A build makes one `Part` per document (its chunks, sentences and clause spans with ids counted
from 0, their vectors, the chunks' BM25 tokens and proper names, and its share of the bilingual
lexicon), then merges the parts into the corpus-wide index (`build.merge`). Parts are saved under
`<index>/parts/<key>/`, where the key hashes the document (path, title, text), the chunking
settings, the embedders and the package versions involved. So a document that has not changed is
never chunked or embedded again: adding one document to a hundred embeds one document, and the
corpus-wide structures (FAISS, BM25, vocabulary, lexicon IDF) are re-derived from the parts in
seconds. They are re-derived rather than patched in place because BM25's and the lexicon's IDF
depend on every document: patched, they would not equal a full build; re-derived, they do by
construction (tests/test_parts.py checks file for file).

A part is written to a temporary folder and renamed into place, with the sha256 of its vector
files in its `part.json`, checked as the index's own files are (`store.verify_files`: hashed
again only when a file changed): a part that is missing, partly written or altered is made again.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..chunking import Chunk, Sentence, Span
from ..corpus import Document, file_sha256
from .store import verify_files

PARTS = "parts"
#: Bump when what a part holds, or how it is computed, changes.
PART_FORMAT = 3


@dataclass
class Part:
    """What one document contributes to an index. Ids count from 0 within the document; a span's
    `sentence` is such a local id."""

    key: str
    chunks: list[Chunk]
    sentences: list[Sentence]
    spans: list[Span]
    #: Rows: chunks, then sentences, then spans (the main embedder; L2-normalised float32).
    vectors: np.ndarray
    #: The same rows from the English helper model, or None without one.
    english: np.ndarray | None
    chunk_tokens: list[list[str]]
    chunk_names: list[list[str]]
    #: `lexical.lexicon_part` of the document's sentences.
    lexicon: dict


def part_key(document: Document, recipe: dict) -> str:
    """The cache key of `document`'s part under `recipe` (chunking, embedders, versions)."""
    payload = json.dumps([PART_FORMAT, __version__, asdict(document), recipe], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _atomic_folder(final: Path, write) -> None:
    """Run `write(folder)` on a temporary folder, then rename it to `final` (which must not exist)."""
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}-{os.urandom(3).hex()}")
    tmp.mkdir(parents=True)
    try:
        write(tmp)
        os.replace(tmp, final)
    except OSError:
        if final.is_dir():  # another process saved the same part first: theirs is as good
            return
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class PartStore:
    """Parts on disk under `root` (normally `<index>/parts`), or nowhere when `root` is None
    (every part is then computed)."""

    def __init__(self, root: Path | None):
        self.root = Path(root) if root is not None else None

    def load(self, key: str) -> Part | None:
        """The saved part `key`, or None when it is absent or damaged in any way."""
        if self.root is None:
            return None
        folder = self.root / key
        try:
            meta = json.loads((folder / "part.json").read_text("utf-8"))
            verify_files(folder, meta["files"])  # hashes a file again only when it changed since
            vectors = np.load(folder / "vectors.npy", allow_pickle=False)
            english = np.load(folder / "english.npy", allow_pickle=False) if "english.npy" in meta["files"] else None
            part = Part(key, [Chunk(**c) for c in meta["chunks"]], [Sentence(**s) for s in meta["sentences"]],
                        [Span(**s) for s in meta["spans"]], vectors, english, meta["chunk_tokens"],
                        meta["chunk_names"], meta["lexicon"])
        except Exception:  # unreadable, partial or foreign: make it again
            return None
        rows = len(part.chunks) + len(part.sentences) + len(part.spans)
        if meta.get("key") != key or len(vectors) != rows or (english is not None and len(english) != rows) \
                or len(part.chunk_tokens) != len(part.chunks) or len(part.chunk_names) != len(part.chunks):
            return None
        return part

    def save(self, part: Part) -> None:
        """Write `part` (atomically; an existing part of the same key is left as it is)."""
        if self.root is None:
            return
        final = self.root / part.key
        if final.is_dir():
            return

        def write(folder: Path) -> None:
            np.save(folder / "vectors.npy", part.vectors)
            files = {"vectors.npy": file_sha256(folder / "vectors.npy")}
            if part.english is not None:
                np.save(folder / "english.npy", part.english)
                files["english.npy"] = file_sha256(folder / "english.npy")
            meta = {"key": part.key, "files": files, "chunks": [asdict(c) for c in part.chunks],
                    "sentences": [asdict(s) for s in part.sentences], "spans": [asdict(s) for s in part.spans],
                    "chunk_tokens": part.chunk_tokens, "chunk_names": part.chunk_names, "lexicon": part.lexicon}
            (folder / "part.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")

        _atomic_folder(final, write)

    def table(self, kind, version: str | None, make):
        """A word table that depends on a package's files only (`lexical.Background`: jieba's,
        ~2 s to read; `lexical.Glossary`: CC-CEDICT, ~1.5 s to parse): saved once per `version`
        as `kind.save` writes it; `make()` builds it when absent or unreadable."""
        name = f"{kind.__name__.lower()}-{hashlib.sha256(str(version).encode()).hexdigest()[:16]}.marshal"
        if self.root is not None:
            try:
                return kind.load(self.root / name)
            except Exception:  # absent or damaged
                pass
        table = make()
        if self.root is not None:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.root / f".{name}.{os.getpid()}.tmp"
            try:
                table.save(tmp)
                os.replace(tmp, self.root / name)
            except OSError:
                tmp.unlink(missing_ok=True)
        return table

    def keep_only(self, keys: set[str]) -> None:
        """Delete saved parts other than `keys` (and leftovers of interrupted writes): called after
        a build is committed, so parts of removed or changed documents do not pile up."""
        if self.root is None or not self.root.is_dir():
            return
        import time

        for path in self.root.iterdir():
            if path.name.startswith(".tmp-") and time.time() - path.stat().st_mtime < 3600:
                continue  # maybe another process's part being written right now
            if path.is_dir() and not path.is_symlink() and path.name not in keys:
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)
