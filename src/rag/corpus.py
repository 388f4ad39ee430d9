"""Load the documents of a corpus folder.

Every `.txt`, `.md`, `.pdf`, `.docx`, `.html` or `.htm` file below the folder is a document
(any other file is listed once, as not indexed). Text files are read in their encoding (UTF-8,
else detected: `extract.text`); the other formats are extracted and cleaned (`extract`), and
that text, kept with the index, is what quotes are cut from and `rag show` prints. A sidecar
`NAME.meta.json` (e.g. `fintech-ten-trends.txt.meta.json`) may give its display `title` and
`source`. A file that cannot be read is reported by name with the reason and skipped; the other
documents still load.

Limits (`config.CorpusSettings`): a file over `max_document_bytes`, or one that is mostly control
or binary characters, is skipped with a reason; a corpus over `max_corpus_bytes` is refused. A
symbolic link whose target lies outside the corpus folder is not followed (reported and skipped),
so a link cannot make a system file quotable.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .config import CorpusSettings
from .extract import EXTRACTED, FORMATS, ExtractCache, ExtractError, format_of

DOCUMENT_SUFFIXES = tuple(FORMATS)
META_SUFFIX = ".meta.json"


class CorpusError(Exception):
    """The corpus as a whole is unusable (missing folder, no readable document)."""


@dataclass(frozen=True)
class Document:
    """One text of the corpus. `path` is relative to the corpus folder, with `/` separators;
    `examples` are questions it answers, from its sidecar (shown as examples in the web chat).

    `format` is text, markdown, pdf, docx or html ("" counts by the file's suffix); `encoding`
    the text file's encoding (or the web page's). For an extracted format, `text` is the cleaned
    extraction, `blocks` its layout as (kind, start, end, level) and, for a PDF, `pages` the
    (page, start, end) ranges of `text` (1-based pages). The layout fields are derived from the
    file as `text` is, so they take no part in comparing or hashing documents.
    """

    path: str
    title: str
    source: str | None
    text: str
    examples: tuple[str, ...] = ()
    format: str = ""
    encoding: str | None = None
    pages: tuple[tuple[int, int, int], ...] = field(default=(), compare=False)
    blocks: tuple[tuple[str, int, int, int], ...] = field(default=(), compare=False)


def page_of(document: Document, offset: int) -> int | None:
    """The 1-based page holding character `offset` of `document.text`, or None for a document
    without pages (text, Markdown, Word, web pages)."""
    pages = document.pages
    if not pages:
        return None
    at = bisect.bisect_right([start for _, start, _ in pages], offset) - 1
    return pages[max(at, 0)][0]


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


def _is_document(name: str) -> bool:
    return not name.startswith(".") and Path(name).suffix.lower() in DOCUMENT_SUFFIXES


def scan_corpus(folder: Path) -> tuple[list[Path], list[Problem]]:
    """The document files below `folder` (sorted, for a stable order) and the links skipped.

    Symbolic links are followed only when their target lies inside the folder (a directory is
    walked once, so a link loop ends); a link leading outside, or a broken one, is a `Problem`.
    """
    folder = Path(folder)
    root = folder.resolve()
    found: list[Path] = []
    problems: list[Problem] = []
    unsupported: list[str] = []
    walked = {root}

    def walk(directory: Path) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            rel = directory.relative_to(folder).as_posix()
            problems.append(Problem(rel, f"{rel}: folder cannot be read ({exc.strerror}); skipped"))
            return
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(folder).as_posix()
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    if _is_document(entry.name):
                        problems.append(Problem(rel, f"{rel}: broken symbolic link; skipped"))
                    continue
                if not target.is_relative_to(root):
                    if target.is_dir() or _is_document(entry.name):
                        problems.append(Problem(rel, f"{rel}: symbolic link to a place outside the corpus "
                                                     "folder; not followed"))
                    continue
            try:
                if entry.is_dir():
                    real = path.resolve()
                    if real not in walked:
                        walked.add(real)
                        walk(path)
                elif entry.is_file() and _is_document(entry.name):
                    found.append(path)
                elif entry.is_file() and not entry.name.startswith(".") and not entry.name.endswith(META_SUFFIX):
                    unsupported.append(rel)
            except OSError:
                continue
    walk(folder)
    if unsupported:
        problems.append(Problem("", unsupported_message(unsupported)))
    return sorted(found), problems


def unsupported_message(paths: list[str], limit: int = 8) -> str:
    """One line naming the files of a type that is not read (the first `limit` of them)."""
    names = ", ".join(paths[:limit]) + (f" and {len(paths) - limit} more" if len(paths) > limit else "")
    return (f"not indexed, not a supported type ({' '.join(DOCUMENT_SUFFIXES)}): {names}")


def document_files(folder: Path) -> list[Path]:
    """The candidate document files below `folder`, sorted for a stable order (see `scan_corpus`)."""
    return scan_corpus(folder)[0]


def _sidecar(path: Path, folder: Path) -> Path | None:
    """The metadata file of document `path`, if it exists and does not lead outside the corpus."""
    meta = path.with_name(path.name + META_SUFFIX)
    if not meta.is_file():
        return None
    if meta.is_symlink() and not meta.resolve().is_relative_to(Path(folder).resolve()):
        return None
    return meta


#: A file modified this recently may change again within the file system's mtime resolution
#: without its size or mtime changing: its stat is not trusted ("racy" in git's terms).
_RACY_SECONDS = 2.0


def corpus_state(folder: Path, known: dict[str, list] | None = None) -> dict[str, tuple[int, int, str]]:
    """(size, mtime_ns, sha256) of every document file and its sidecar, keyed by relative path.

    `known` maps paths to the [size, mtime_ns] recorded when their sha256 was `hashes[path]`
    (as `{path: [size, mtime_ns, sha256]}`): a file whose size and mtime still match is not
    read again, so opening an index over an unchanged corpus costs one `stat` per file.
    """
    folder = Path(folder)
    known = known or {}
    state = {}
    for path in document_files(folder):
        for file in (path, _sidecar(path, folder)):
            if file is None:
                continue
            rel = file.relative_to(folder).as_posix()
            info = file.stat()
            hint = known.get(rel)
            if hint and hint[0] == info.st_size and hint[1] == info.st_mtime_ns:
                state[rel] = (info.st_size, info.st_mtime_ns, hint[2])
            else:
                state[rel] = (info.st_size, info.st_mtime_ns, file_sha256(file))
    return state


def trusted_stats(state: dict[str, tuple[int, int, str]]) -> dict[str, list[int]]:
    """The [size, mtime_ns] of the files in `state` not modified in the last moments (see
    `_RACY_SECONDS`), for an index manifest to hand back to `corpus_state` as hints."""
    import time

    recent = time.time_ns() - int(_RACY_SECONDS * 1e9)
    return {rel: [size, mtime] for rel, (size, mtime, _) in state.items() if mtime < recent}


def fingerprint(folder: Path, known: dict[str, list] | None = None) -> dict[str, str]:
    """sha256 of every document file and its sidecar, keyed by relative path (see `corpus_state`).

    Reads bytes only, so checking whether an index is stale costs no decoding or chunking.
    """
    return {rel: sha for rel, (_, _, sha) in corpus_state(folder, known).items()}


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_metadata(path: Path, folder: Path | None = None) -> tuple[dict, str | None]:
    meta_path = path.with_name(path.name + META_SUFFIX)
    if not meta_path.is_file():
        return {}, None
    if folder is not None and _sidecar(path, folder) is None:
        return {}, f"{meta_path.name}: symbolic link to a place outside the corpus folder; metadata ignored"
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


#: Characters no text document is made of: C0/C1 controls (tab and line ends aside), private use,
#: noncharacters and U+FFFD (what a decoder leaves of binary data).
_GARBAGE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd\ufffe\uffff"
                      "\U000f0000-\U0010ffff]")


def garbage_share(text: str) -> float:
    """The share of `text` made of control, private-use or replacement characters (0 for "")."""
    return len(_GARBAGE.findall(text)) / len(text) if text else 0.0


def file_limit(name: str, limits: CorpusSettings) -> tuple[int, str]:
    """The largest file (bytes) of this name's format, and the setting that says so."""
    if format_of(name) in EXTRACTED:
        return limits.max_file_bytes, "max_file_bytes"
    return limits.max_document_bytes, "max_document_bytes"


def read_document(path: Path, folder: Path, limits: CorpusSettings | None = None,
                  cache: ExtractCache | None = None) -> tuple[Document, list[str]]:
    """Read one document, and notes on how it was read (an encoding that had to be detected,
    PDF pages without text). Raises `ValueError` with a message naming the file when it is
    unusable (too large, no readable text, a damaged or password-protected file, empty, or
    mostly control/binary characters). Extractions go through `cache` when given."""
    from .extract.text import decode

    limits = limits or CorpusSettings()
    rel = path.relative_to(folder).as_posix()
    fmt = format_of(path.name) or "text"
    size = path.stat().st_size
    cap, setting = file_limit(path.name, limits)
    if size > cap:
        raise ValueError(f"{rel}: {size:,} bytes, over the limit of {cap:,} (Settings.corpus.{setting}); skipped")
    data = path.read_bytes()[:cap + 1]
    notes: list[str] = []
    extracted = None
    try:
        if fmt in EXTRACTED:
            extracted = (cache or ExtractCache(None)).get(fmt, data, limits)
            text, encoding = extracted.text, extracted.encoding
            notes += [f"{rel}: {note}" for note in extracted.notes]
        else:
            text, encoding = decode(data)
    except ExtractError as exc:
        raise ValueError(f"{rel}: {exc}; skipped") from None
    if fmt not in EXTRACTED and encoding != "utf-8":
        notes.append(f"{rel}: not UTF-8; read as {encoding}")
    if not text.strip():
        raise ValueError(f"{rel}: empty file; skipped")
    if extracted is not None and len(text.encode("utf-8")) > limits.max_document_bytes:
        raise ValueError(f"{rel}: its text takes {len(text.encode('utf-8')):,} bytes, over the limit of "
                         f"{limits.max_document_bytes:,} (Settings.corpus.max_document_bytes); skipped")
    share = garbage_share(text)
    if share > limits.max_control_share:
        raise ValueError(f"{rel}: {share:.0%} control or binary characters, not text "
                         f"(Settings.corpus.max_control_share is {limits.max_control_share:.0%}); skipped")
    meta, _ = _read_metadata(path, folder)
    title = str(meta.get("title") or (extracted.title if extracted else None) or _default_title(path, text))
    source = meta.get("source")
    examples = meta.get("examples") if isinstance(meta.get("examples"), list) else []
    document = Document(path=rel, title=title, source=str(source) if source else None, text=text,
                        examples=tuple(str(q) for q in examples if isinstance(q, str) and q.strip()),
                        format=fmt, encoding=encoding, pages=extracted.pages if extracted else (),
                        blocks=extracted.blocks if extracted else ())
    return document, notes


def load_document(path: Path, folder: Path, limits: CorpusSettings | None = None,
                  cache: ExtractCache | None = None) -> Document:
    """Read one document (see `read_document`, whose notes this drops)."""
    return read_document(path, folder, limits, cache)[0]


def _safe_name(name: str) -> str | None:
    """`name` as a file name inside the corpus (no folders, no hidden or special names), or None."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base.startswith(".") or len(base.encode("utf-8")) > 200 \
            or any(ch in base for ch in "\x00:*?\"<>|") or _GARBAGE.search(base):
        return None
    return base if _is_document(base) else None


def add_files(files: list[tuple[str, bytes]], folder: Path, limits: CorpusSettings | None = None,
              replace: bool = False, cache: ExtractCache | None = None) -> tuple[list[str], list[Problem]]:
    """Put documents into the corpus folder: each `(name, data)` is written only after it passes
    `read_document`'s checks (a document name, size, readable text rather than binary; a PDF, Word
    file or web page is extracted, through `cache` when given, so the index build finds it done),
    through a temporary file renamed into place, so the corpus never holds half a file or one that
    will not load.

    A name is reduced to its last path component. A file of that name with other content is kept
    (a `Problem`) unless `replace`; one with the same content is reported as added (nothing to do).
    A batch that would take the corpus over `limits.max_corpus_bytes` adds nothing.
    Returns the relative paths added and the problems, one per refused file.
    """
    limits = limits or CorpusSettings()
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    added: list[str] = []
    problems: list[Problem] = []
    staged: list[tuple[str, bytes]] = []
    for name, data in files:
        base = _safe_name(name)
        label = str(name)[-80:] or "(no name)"
        if base is None:
            problems.append(Problem(label, f"{label}: not a document file name ({' '.join(DOCUMENT_SUFFIXES)}); refused"))
            continue
        cap, setting = file_limit(base, limits)
        if len(data) > cap:
            problems.append(Problem(base, f"{base}: {len(data):,} bytes, over the limit of "
                                          f"{cap:,} (Settings.corpus.{setting}); refused"))
            continue
        target = folder / base
        if target.is_symlink() or (target.exists() and not target.is_file()):
            problems.append(Problem(base, f"{base}: the corpus holds something else of that name; refused"))
            continue
        if target.is_file():
            if target.read_bytes() == data:
                added.append(base)
                continue
            if not replace:
                problems.append(Problem(base, f"{base}: a different document of that name is in the corpus; "
                                              "refused (replace it explicitly)"))
                continue
        staged.append((base, data))
    total = sum(path.stat().st_size for path in document_files(folder) if path.is_file())
    if total + sum(len(data) for _, data in staged) > limits.max_corpus_bytes:
        return added, problems + [Problem(base, f"{base}: the corpus would exceed {limits.max_corpus_bytes:,} bytes "
                                                "(Settings.corpus.max_corpus_bytes); refused") for base, _ in staged]
    for base, data in staged:
        # Hidden (never scanned), with the name's suffix last: it decides how the file is read.
        tmp = folder / f".tmp-{os.getpid()}-{os.urandom(3).hex()}-{base}"
        try:
            tmp.write_bytes(data)
            read_document(tmp, folder, limits, cache)  # the same checks as the index will make
            os.replace(tmp, folder / base)
            added.append(base)
        except ValueError as exc:
            problems.append(Problem(base, str(exc).replace(tmp.name, base).replace("skipped", "refused")))
        except OSError as exc:
            problems.append(Problem(base, f"{base}: cannot be written ({exc.strerror}); refused"))
        finally:
            tmp.unlink(missing_ok=True)
    return added, problems


def remove_documents(paths: list[str], folder: Path, trash: Path) -> tuple[list[str], list[Problem]]:
    """Take documents out of the corpus: each relative path (as the index names it, e.g.
    `notes/a.md`) is moved, with its sidecar, to the same relative path under `trash` (a new
    folder per call), so nothing is lost. Returns the paths removed and a problem per path that is
    not a document of the corpus."""
    import time

    folder = Path(folder)
    root = folder.resolve()
    removed: list[str] = []
    problems: list[Problem] = []
    bin_ = Path(trash) / time.strftime("%Y%m%d-%H%M%S")
    for rel in paths:
        rel = str(rel).replace("\\", "/").strip().lstrip("/")
        path = folder / rel
        inside = path.resolve().is_relative_to(root) if rel else False
        if not inside or not path.is_file() or not _is_document(path.name):
            problems.append(Problem(rel, f"{rel or '(empty)'}: no such document in {folder}"))
            continue
        for file in (path, path.with_name(path.name + META_SUFFIX)):
            if file.is_file():
                target = bin_ / file.relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(file, target)
        removed.append(rel)
    return removed, problems


def load_corpus(folder: Path, limits: CorpusSettings | None = None,
                cache: ExtractCache | None = None) -> tuple[list[Document], list[Problem]]:
    """Load every document below `folder` (PDF, Word and web pages extracted through `cache`).

    Returns the documents and the problems met (skipped files and links, files of other types,
    detected encodings, ignored metadata). Raises `CorpusError` when the folder is missing, holds
    no usable document, or its documents together exceed `limits.max_corpus_bytes` (text files
    by their size, checked before anything is read; every document by its text's size).
    """
    limits = limits or CorpusSettings()
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {folder}")
    paths, problems = scan_corpus(folder)
    sizes = {}
    for path in paths:
        try:
            sizes[path] = path.stat().st_size
        except OSError:
            sizes[path] = 0
    total = sum(size for path, size in sizes.items()
                if size <= limits.max_document_bytes and format_of(path.name) not in EXTRACTED)

    def too_much(total: int) -> CorpusError:
        return CorpusError(f"the documents in {folder} hold {total:,} bytes, over the limit of "
                           f"{limits.max_corpus_bytes:,} (Settings.corpus.max_corpus_bytes): "
                           "index fewer documents or raise the limit")
    if total > limits.max_corpus_bytes:
        raise too_much(total)
    documents = []
    for path in paths:
        rel = path.relative_to(folder).as_posix()
        try:
            document, notes = read_document(path, folder, limits, cache)
            documents.append(document)
            problems += [Problem(rel, note) for note in notes]
        except ValueError as exc:
            problems.append(Problem(rel, str(exc)))
            continue
        except OSError as exc:
            problems.append(Problem(rel, f"{rel}: cannot be read ({exc.strerror}); skipped"))
            continue
        _, meta_problem = _read_metadata(path, folder)
        if meta_problem:
            problems.append(Problem(rel, meta_problem))
    total = sum(len(d.text.encode("utf-8")) if d.format in EXTRACTED else sizes.get(folder / d.path, 0)
                for d in documents)
    if total > limits.max_corpus_bytes:
        raise too_much(total)
    if not documents:
        detail = "; ".join(p.message for p in problems) or f"no {', '.join(DOCUMENT_SUFFIXES)} files"
        raise CorpusError(f"no usable document in {folder}: {detail}")
    return documents, problems


def already_in_corpus(name: str, data: bytes, folder: Path) -> bool:
    """Whether the corpus already holds exactly `data` under `name`: adding it again changes
    nothing, so the web page and `rag add` say "unchanged" rather than "added" (and rebuild nothing)."""
    base = _safe_name(name)
    if base is None:
        return False
    target = Path(folder) / base
    try:
        return target.is_file() and not target.is_symlink() and target.stat().st_size == len(data) \
            and target.read_bytes() == data
    except OSError:
        return False
