"""Load the documents of a corpus folder.

Every UTF-8 `.txt` or `.md` file below the folder is a document. A sidecar `NAME.meta.json`
(e.g. `fintech-ten-trends.txt.meta.json`) may give its display `title` and `source`. A file
that cannot be read as text is reported by name and skipped; the other documents still load.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

DOCUMENT_SUFFIXES = (".txt", ".md")
META_SUFFIX = ".meta.json"


class CorpusError(Exception):
    """The corpus as a whole is unusable (missing folder, no readable document)."""


@dataclass(frozen=True)
class Document:
    """One text of the corpus. `path` is relative to the corpus folder, with `/` separators."""

    path: str
    title: str
    source: str | None
    text: str


@dataclass(frozen=True)
class Problem:
    """A file that was skipped, and why, in words a person can act on."""

    path: str
    message: str


def document_files(folder: Path) -> list[Path]:
    """The candidate document files below `folder`, sorted for a stable order."""
    return sorted(
        p for p in Path(folder).rglob("*")
        if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith(".")
    )


def fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of every document file and its sidecar, keyed by relative path.

    Reads bytes only, so checking whether an index is stale costs no decoding or chunking.
    """
    folder = Path(folder)
    hashes = {}
    for path in document_files(folder):
        for file in (path, path.with_name(path.name + META_SUFFIX)):
            if file.is_file():
                hashes[file.relative_to(folder).as_posix()] = hashlib.sha256(file.read_bytes()).hexdigest()
    return hashes


def _read_metadata(path: Path) -> tuple[dict, str | None]:
    meta_path = path.with_name(path.name + META_SUFFIX)
    if not meta_path.is_file():
        return {}, None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("expected a JSON object")
        return meta, None
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, f"{meta_path.name}: metadata ignored, not a valid JSON object ({exc})"


def _default_title(path: Path, text: str) -> str:
    if path.suffix.lower() == ".md":
        for line in text.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip() or path.stem
    return path.stem


def load_document(path: Path, folder: Path) -> Document:
    """Read one document. Raises `ValueError` with a message naming the file when it is unusable."""
    rel = path.relative_to(folder).as_posix()
    data = path.read_bytes()
    try:
        # utf-8-sig drops a leading BOM, so offsets count characters of the visible text.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{rel}: not valid UTF-8 (byte {exc.start}); skipped") from None
    if not text.strip():
        raise ValueError(f"{rel}: empty file; skipped")
    meta, _ = _read_metadata(path)
    title = str(meta.get("title") or _default_title(path, text))
    source = meta.get("source")
    return Document(path=rel, title=title, source=str(source) if source else None, text=text)


def load_corpus(folder: Path) -> tuple[list[Document], list[Problem]]:
    """Load every document below `folder`.

    Returns the documents and the problems met (skipped files, ignored metadata).
    Raises `CorpusError` when the folder is missing or holds no usable document.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    documents, problems = [], []
    for path in document_files(folder):
        rel = path.relative_to(folder).as_posix()
        try:
            documents.append(load_document(path, folder))
        except ValueError as exc:
            problems.append(Problem(rel, str(exc)))
            continue
        except OSError as exc:
            problems.append(Problem(rel, f"{rel}: cannot be read ({exc.strerror}); skipped"))
            continue
        _, meta_problem = _read_metadata(path)
        if meta_problem:
            problems.append(Problem(rel, meta_problem))
    if not documents:
        detail = "; ".join(p.message for p in problems) or "no .txt or .md files"
        raise CorpusError(f"no usable document in {folder}: {detail}")
    return documents, problems
