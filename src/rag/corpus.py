"""Load the documents of a corpus folder.

Every UTF-8 `.txt` or `.md` file below the folder is a document. A sidecar `NAME.meta.json`
(e.g. `fintech-ten-trends.txt.meta.json`) may give its display `title` and `source`. A file
that cannot be read as text is reported by name and skipped; the other documents still load.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

DOCUMENT_SUFFIXES = (".txt", ".md")
META_SUFFIX = ".meta.json"


class CorpusError(Exception):
    """The corpus as a whole is unusable (missing folder, no readable document)."""


@dataclass(frozen=True)
class Document:
    """One text of the corpus. `path` is relative to the corpus folder, with `/` separators;
    `examples` are questions it answers, from its sidecar (shown as examples in the web chat)."""

    path: str
    title: str
    source: str | None
    text: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Located:
    """Where a piece of text sits: `document.text[start:end]` of the document at path `doc`.

    Chunks, sentences, clause spans, passages and quotes all extend this one location type.
    """

    doc: str
    start: int
    end: int

    def contains(self, other: Located) -> bool:
        """True when `other` lies inside this span of the same document."""
        return self.doc == other.doc and self.start <= other.start and other.end <= self.end


_CN_DIGITS = "零〇一二三四五六七八九十百两"
#: Numbering forms of headings, each with a style name; the number is group "n" (structure.py
#: reads headings with them; a first line starting with one is a heading, not a title).
NUMBERING = [
    ("markdown", re.compile(r"^(?P<hashes>#{1,6})\s+\S")),
    ("chapter", re.compile(rf"^第\s*(?P<n>[{_CN_DIGITS}\d]+)\s*[章节部分篇编卷讲]")),
    ("cn-comma", re.compile(rf"^(?P<n>[{_CN_DIGITS}]+)\s*[、.．]")),
    ("cn-paren", re.compile(rf"^[（(]\s*(?P<n>[{_CN_DIGITS}]+)\s*[)）]")),
    ("arabic", re.compile(r"^(?P<n>\d{1,2})\s*[、.．](?!\d)\s*\S")),
    ("arabic-sub", re.compile(r"^(?:\d{1,2}\.)+(?P<n>\d{1,2})(?:\s+|\s*[、．.](?!\d)\s*)\S")),
    ("arabic-paren", re.compile(r"^[（(]\s*(?P<n>\d{1,2})\s*[)）]")),
    ("word-numeral", re.compile(rf"^[\u4e00-\u9fffA-Za-z]{{1,8}}\s*(?P<n>[{_CN_DIGITS}]+|\d{{1,2}})\s*[:：]")),
    ("english", re.compile(r"^(?:part|chapter|section)\s+(?P<n>\d{1,2}|[ivx]+)\b", re.IGNORECASE)),
]
_TITLE_MAX_CHARS = 60
_TITLE_NOT = re.compile(r"[。！？；!?;]|^\s*(?:>|[-*+]\s|\d+[.)]\s|\|)")


def title_line(text: str, markdown: bool) -> tuple[int, int] | None:
    """(start, end) of the text's own title: a Markdown H1 that opens it (`# T` or setext) when it
    is the only H1, or in plain text a short first line without sentence punctuation followed by
    more text."""
    lines = text.splitlines(keepends=True)
    i = next((n for n, line in enumerate(lines) if line.strip()), None)
    if i is None:
        return None
    pos = sum(len(line) for line in lines[:i])
    line = lines[i]
    start = pos + len(line) - len(line.lstrip())
    end = pos + len(line.rstrip())
    rest = "".join(lines[i + 1:])
    if markdown:
        if re.search(r"^#\s", rest, re.MULTILINE):
            return None  # several H1s: they are sections, not a title
        if re.match(r"#\s+\S", line.lstrip()):
            return start + len(re.match(r"#\s+", line.lstrip()).group()), end
        if i + 1 < len(lines) and re.fullmatch(r"\s*=+\s*", lines[i + 1]):
            return start, end
        return None
    stripped = line.strip()
    if any(pattern.match(stripped) for _, pattern in NUMBERING):
        return None
    if len(stripped) <= _TITLE_MAX_CHARS and not _TITLE_NOT.search(stripped) \
            and not stripped.endswith(("，", ",", "、", "：", ":")) and rest.strip():
        return start, end
    return None


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
    at = title_line(text, path.suffix.lower() == ".md")
    title = re.sub(r"[*_`]", "", text[at[0]:at[1]]).strip() if at else ""
    return title or path.stem


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
    examples = meta.get("examples") if isinstance(meta.get("examples"), list) else []
    return Document(path=rel, title=title, source=str(source) if source else None, text=text,
                    examples=tuple(str(q) for q in examples if isinstance(q, str) and q.strip()))


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
