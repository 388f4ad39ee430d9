"""Documents that are not plain text: PDF, Word and web pages, read into clean text with its layout.

`extract(format, data, limits)` returns an `Extracted`: the cleaned text (what quotes are cut
from and `rag show` prints), its blocks (headings, paragraphs, list items, table rows, with
offsets into that text) and, for a PDF, where each page starts. Each format has its module
(`pdf`, `docx`, `html`); `text` decodes `.txt`/`.md` bytes in any common encoding; `clean` holds
the rules every format shares. A file that cannot be read raises `ExtractError` with the reason
in words a person can act on ("no text layer; scanned PDFs need OCR, which is not supported").

Extraction costs far more than reading a text file, so `ExtractCache` keeps each result by the
file's sha256 under the index folder (never in the corpus): an unchanged file is not read again,
a changed one is (docs/documents.md).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import CorpusSettings
from .clean import glue, ideographs, strip_marks

#: Bump when any extractor's output changes: cached extractions of older versions are redone.
EXTRACT_VERSION = 1

#: File suffix -> format. `text` and `markdown` are read as they are (decoded, never cleaned).
FORMATS = {".txt": "text", ".md": "markdown", ".pdf": "pdf", ".docx": "docx", ".html": "html", ".htm": "html"}
#: Formats whose text is extracted (and cleaned) rather than the file's own.
EXTRACTED = ("pdf", "docx", "html")


class ExtractError(ValueError):
    """The file cannot be read as a document; the message says why (without the file name)."""


@dataclass(frozen=True)
class Extracted:
    """A document's text as extracted: `blocks` are (kind, start, end, level) with kind heading,
    paragraph, item, row, header or code; `pages` (page, start, end), 1-based, for paged formats;
    `notes` say what was lost on the way (e.g. pages without a text layer)."""

    text: str
    format: str
    encoding: str | None = None
    pages: tuple[tuple[int, int, int], ...] = ()
    blocks: tuple[tuple[str, int, int, int], ...] = ()
    title: str | None = None
    notes: tuple[str, ...] = ()


def format_of(name: str) -> str | None:
    """The format of a file by its suffix, or None when it is not a document."""
    return FORMATS.get(Path(name).suffix.lower())


def clean_inline(text: str) -> str:
    """One block's text: control marks out, compatibility ideographs normalised, white space
    (line breaks included) collapsed the way a paragraph is rejoined (`clean.glue`)."""
    text = ideographs(text)
    out = ""
    for line in text.replace("\r", "\n").split("\n"):
        line = " ".join(line.split())
        if not line:
            continue
        if out:
            out, sep = glue(out, line)
            out += sep
        out += line
    return strip_marks(out)


class TextBuilder:
    """Assembles a document's text block by block, recording each block's offsets and where
    each page starts. Blocks are separated by a blank line, consecutive items or rows by a line end."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.blocks: list[tuple[str, int, int, int]] = []
        self.page_starts: list[tuple[int, int]] = []

    def page(self, number: int) -> None:
        """Page `number` (1-based) starts with whatever is written next."""
        self.page_starts.append((number, self.length))

    def _separator(self, kind: str) -> str:
        if not self.blocks:
            return ""
        last = self.blocks[-1][0]
        return "\n" if kind == last and kind in ("item", "row") or (kind == "row" and last == "header") else "\n\n"

    def _write(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += len(piece)

    def block(self, kind: str, text: str, level: int = 0, pages: list[tuple[int, int]] | None = None) -> None:
        """Add a block of `kind` with `text` (already clean). `pages` lists (page, offset in
        `text`) for a block that continues onto later pages."""
        if not text.strip():
            return
        separator = self._separator(kind)
        # A page that starts exactly here starts at the block, not at the separator before it.
        moved = [i for i, (_, at) in enumerate(self.page_starts) if at == self.length]
        self._write(separator)
        for i in moved:
            self.page_starts[i] = (self.page_starts[i][0], self.length)
        start = self.length
        self._write(text)
        for number, offset in pages or []:
            self.page_starts.append((number, start + offset))
        end = self.length
        if kind in ("row", "header") and text.startswith("| ") and text.endswith(" |") and len(text) > 4:
            start, end = start + 2, end - 2   # the cells, as a Markdown table row's block
        self.blocks.append((kind, start, end, level))

    def result(self, format: str, title: str | None = None, encoding: str | None = None,
               notes: tuple[str, ...] = ()) -> Extracted:
        """The text, blocks and page ranges written so far."""
        text = "".join(self.parts)
        pages = []
        starts = sorted(self.page_starts)
        for i, (number, start) in enumerate(starts):
            end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
            start = min(start, len(text))
            pages.append((number, start, max(start, end)))
        return Extracted(text, format, encoding, tuple(pages), tuple(self.blocks), title, notes)


def extract(format: str, data: bytes, limits: CorpusSettings | None = None) -> Extracted:
    """The text and layout of a file's `data` in `format` (pdf, docx, html). Raises `ExtractError`."""
    limits = limits or CorpusSettings()
    if format == "pdf":
        from .pdf import extract_pdf

        return extract_pdf(data, limits)
    if format == "docx":
        from .docx import extract_docx

        return extract_docx(data, limits)
    if format == "html":
        from .html import extract_html

        return extract_html(data, limits)
    raise ExtractError(f"no extractor for {format}")


class ExtractCache:
    """Extractions kept by the file's sha256 in `folder` (normally `<index>/extracted`), or
    nowhere when `folder` is None. An unreadable entry is extracted again."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None
        self.used: set[str] = set()
        #: Files extracted (not found in the cache) and the seconds that took, for the build's log.
        self.extracted = 0
        self.seconds = 0.0

    def key(self, format: str, data: bytes) -> str:
        return hashlib.sha256(f"{EXTRACT_VERSION}:{format}:".encode() + data).hexdigest()

    def get(self, format: str, data: bytes, limits: CorpusSettings) -> Extracted:
        """The extraction of `data`, from the cache when it is there, else made and saved. A file
        that cannot be extracted is remembered too: its `ExtractError` is raised again, unread."""
        key = self.key(format, data)
        self.used.add(key)
        path = self.folder / f"{key}.json" if self.folder is not None else None
        if path is not None:
            try:
                raw = json.loads(path.read_text("utf-8"))
                if "error" in raw:
                    error = ExtractError(str(raw["error"]))
                else:
                    return Extracted(raw["text"], raw["format"], raw["encoding"], tuple(map(tuple, raw["pages"])),
                                     tuple(map(tuple, raw["blocks"])), raw["title"], tuple(raw["notes"]))
            except Exception:  # absent or damaged: extract again
                error = None
            if error is not None:
                raise error
        started = time.perf_counter()
        try:
            extracted = extract(format, data, limits)
        except ExtractError as exc:
            self._save(path, {"error": str(exc)})
            raise
        finally:
            self.extracted += 1
            self.seconds += time.perf_counter() - started
        self._save(path, asdict(extracted))
        return extracted

    def _save(self, path: Path | None, value: dict) -> None:
        if path is None:
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(value, ensure_ascii=False), "utf-8")
            os.replace(tmp, path)
        except (OSError, ValueError):  # a read-only index folder: extract again next time
            tmp.unlink(missing_ok=True)

    def keep_only_used(self) -> None:
        """Delete cached extractions not used since this cache was opened (files changed or removed)."""
        if self.folder is None or not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.suffix == ".json" and path.stem not in self.used or path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)
