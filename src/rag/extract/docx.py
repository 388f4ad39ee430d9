"""Word (.docx): paragraphs, headings, lists and tables in document order, with `python-docx` (MIT).

- Headings: paragraphs styled `Heading N` / `标题 N` (Word's built-in styles keep English names
  in the file) or carrying an outline level; the `Title` style is the document's title.
- List items: paragraphs with numbering (`w:numPr`) or a `List …` style.
- Tables: one row per line, cells joined by ` | ` between outer pipes (shown as `a · b`); merged
  cells once; a row marked "repeat as header row", or a first row in bold, is the table's header.
- Page headers and footers, comments and footnotes are not part of the body and are left out.

The file is a zip archive: one that is not (an old binary `.doc` renamed, a password-protected
file, which Word stores as an OLE container) is refused, and so is one whose members would
unpack to more than `CorpusSettings.max_unpacked_bytes` (a decompression bomb), before any XML
is parsed.
"""
from __future__ import annotations

import io
import re
import zipfile

from ..config import CorpusSettings
from . import Extracted, ExtractError, TextBuilder, clean_inline

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_zip(data: bytes, limits: CorpusSettings, what: str = "Word file") -> None:
    """Refuse data that is not a sound zip archive or that unpacks to too much."""
    if data.startswith(_OLE):
        raise ExtractError(f"password-protected or old binary (.doc) {what}, not a .docx zip archive; "
                           "save it as .docx without a password")
    if not data.startswith(b"PK"):
        raise ExtractError(f"not a valid {what} (not a zip archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ExtractError(f"truncated or corrupt {what} ({exc})") from None
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_bytes:
        raise ExtractError(f"unpacks to {total:,} bytes, over the limit of {limits.max_unpacked_bytes:,} "
                           "(Settings.corpus.max_unpacked_bytes; a decompression bomb?)")
    if "word/document.xml" not in {m.filename for m in members}:
        raise ExtractError(f"not a valid {what} (no word/document.xml in the archive)")


def _heading_level(paragraph) -> int:
    style = paragraph.style
    names = []
    while style is not None and len(names) < 5:
        names.append(style.name or "")
        style = style.base_style
    for name in names:
        match = _HEADING_STYLE.match(name.strip())
        if match:
            return max(1, min(int(match.group(1)), 6))
    ppr = paragraph._p.pPr
    level = ppr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl") if ppr is not None else None
    if level is not None:
        value = level.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val")
        if value is not None and value.isdigit() and int(value) < 9:
            return min(int(value) + 1, 6)
    return 0


def _is_item(paragraph) -> bool:
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None:
        return True
    name = (paragraph.style.name or "") if paragraph.style is not None else ""
    return name.lower().startswith("list")


def _cells(row) -> list[str]:
    seen, out = set(), []
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        out.append(clean_inline(cell.text).replace("|", "/"))
    return out


def _is_header(row, first: bool) -> bool:
    trpr = row._tr.trPr
    if trpr is not None and trpr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") \
            is not None:
        return True
    if not first:
        return False
    runs = [run for cell in row.cells for p in cell.paragraphs for run in p.runs if run.text.strip()]
    return bool(runs) and all(run.bold for run in runs)


def extract_docx(data: bytes, limits: CorpusSettings) -> Extracted:
    """The text of a Word file's body with its headings, list items and table rows as blocks."""
    check_zip(data, limits)
    try:
        from docx import Document as open_docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = open_docx(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors for damaged parts
        raise ExtractError(f"not a valid Word file ({exc.__class__.__name__}: {str(exc)[:80]})") from None
    builder = TextBuilder()
    title = (document.core_properties.title or "").strip() or None
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = clean_inline(paragraph.text)
            if not text:
                continue
            style = (paragraph.style.name or "") if paragraph.style is not None else ""
            if style.lower() == "title":
                title = title or text
                builder.block("heading", text, 1)
            elif level := _heading_level(paragraph):
                builder.block("heading", text, level)
            else:
                builder.block("item" if _is_item(paragraph) else "paragraph", text)
        elif tag == "tbl":
            for n, row in enumerate(Table(child, document).rows):
                cells = _cells(row)
                if any(cells):
                    builder.block("header" if _is_header(row, n == 0) else "row", "| " + " | ".join(cells) + " |")
        if builder.length > limits.max_document_bytes:
            raise ExtractError(f"over {limits.max_document_bytes:,} characters of text "
                               "(Settings.corpus.max_document_bytes)")
    if not builder.blocks:
        raise ExtractError("no text in the document body")
    return builder.result("docx", title=title)
