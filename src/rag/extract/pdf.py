"""PDF: the text layer, read with PDFium (`pypdfium2`, Apache-2.0/BSD), cleaned into paragraphs.

Per page, PDFium gives the characters in content order with line ends, and each character's
font size, weight and box. From them:

1. Lines, each with its font size, boldness and position.
2. Running headers and footers dropped: lines at the top or bottom of a page whose text (digits
   aside) and size recur there on other pages (`clean.running_lines`); then bare page numbers at
   a page's top or bottom edge (`clean.is_page_number`). Table-of-contents entries (a dot leader
   and a page number) are dropped too: they repeat the headings.
3. Headings: from the outline (bookmarks) when it has entries found on their pages; else lines
   clearly larger than the body text (levels by size), or bold short lines at body size.
   Without either, `structure` still finds numbered headings (`一、`, `1.2`, `第X章`).
4. Paragraphs: a line joins the one before unless a heading, a list marker, a larger gap or a
   change of size starts a new block, or the line before ended a sentence well short of the
   column's right edge (the last line of a paragraph). A paragraph whose last line does not end
   a sentence continues on the next page, so a sentence across a page break reads as one.
   Lines are glued by `clean.glue` (no space between CJK characters, hyphenation rejoined).

A file without any text is refused ("no text layer; scanned PDFs need OCR, which is not
supported"), as are password-protected, truncated and corrupt files and ones over
`CorpusSettings.max_pages` pages.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from ..config import CorpusSettings
from . import Extracted, ExtractError, TextBuilder
from .clean import ends_sentence, glue, ideographs, is_page_number, line_key, running_lines, strip_marks

SCANNED = "no text layer; scanned PDFs need OCR, which is not supported"
#: A list item's marker at the start of a line.
_MARKER = re.compile(r"^\s*(?:[•●○◦▪■□◆◇►▶✓✔\-–*·]\s|\(?\d{1,2}[.)、](?!\d)\s*\S|[（(]\s*[一二三四五六七八九十\d]{1,3}\s*[)）]|"
                     r"[一二三四五六七八九十]{1,3}[、.．]|第\s*[一二三四五六七八九十百\d]+\s*[章节部分篇])")
#: A table-of-contents entry: a dot leader and a page number at the end.
_TOC_ENTRY = re.compile(r"(?:\.\s?){4,}|(?:…){2,}|(?:·\s?){4,}|(?:．){4,}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_TOC_END = re.compile(r"\s*(?:\d{1,4}|[ivxlcdm]{1,6})\s*$", re.IGNORECASE)


@dataclass
class Line:
    """One line of a page as PDFium lays it out (PDF coordinates: y grows upwards)."""

    text: str
    size: float
    bold: bool
    left: float
    right: float
    top: float
    bottom: float
    page: int
    half: int = 0          # 0: the line starts in the left part of the page, 1: the right part
    heading: int = 0       # heading level, 0 for body text


def _open(data: bytes, limits: CorpusSettings):
    import pypdfium2 as pdfium

    if b"%PDF-" not in data[:1024]:
        raise ExtractError("not a PDF file (no %PDF header)")
    if b"%%EOF" not in data[-2048:]:
        raise ExtractError("truncated PDF (the end-of-file marker is missing); download it again")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ExtractError("password-protected PDF; remove the password to index it") from None
        raise ExtractError(f"corrupt PDF ({str(exc).rstrip('.')})") from None
    count = len(pdf)
    if count > limits.max_pages:
        pdf.close()
        raise ExtractError(f"{count:,} pages, over the limit of {limits.max_pages:,} (Settings.corpus.max_pages)")
    return pdf


def _bold(textpage, index: int) -> bool:
    """Whether character `index` is set in a bold face (by weight, or by the font's name)."""
    import ctypes

    import pypdfium2.raw as raw

    if raw.FPDFText_GetFontWeight(textpage.raw, index) >= 600:
        return True
    buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int(0)
    n = raw.FPDFText_GetFontInfo(textpage.raw, index, buffer, 128, ctypes.byref(flags))
    name = buffer.raw[:max(0, min(n, 128) - 1)].decode("latin-1", "replace")
    return bool(re.search(r"bold|black|heavy|semibold|demi", name, re.IGNORECASE)) or bool(flags.value & 0x40000)


def _origin_y(textpage, index: int) -> float:
    """The baseline (y of the origin) of character `index`."""
    import ctypes

    import pypdfium2.raw as raw

    x, y = ctypes.c_double(0), ctypes.c_double(0)
    raw.FPDFText_GetCharOrigin(textpage.raw, index, ctypes.byref(x), ctypes.byref(y))
    return y.value


def _line_ranges(textpage, text: str) -> list[tuple[int, int]]:
    """(start, end) character ranges of the page's lines: PDFium's line ends, and wherever the
    baseline moves by more than half the font size (PDFium sometimes runs two lines together)."""
    import pypdfium2.raw as raw

    ranges, start, baseline, size = [], 0, None, 0.0
    for i, ch in enumerate(text):
        if ch in "\r\n":
            if i > start:
                ranges.append((start, i))
            start, baseline = i + 1, None
            continue
        if ch.isspace():
            continue
        y = _origin_y(textpage, i)
        if baseline is not None and abs(y - baseline) > 0.5 * max(size, 1.0):
            ranges.append((start, i))
            start = i
        if baseline is None or i == start:
            baseline, size = y, raw.FPDFText_GetFontSize(textpage.raw, i)
    if start < len(text):
        ranges.append((start, len(text)))
    return ranges


def _page_lines(page, number: int) -> list[Line]:
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range() if count else ""
        if len(text) != count:  # characters outside the BMP: read them one by one
            text = "".join(chr(raw.FPDFText_GetUnicode(textpage.raw, i) or 32) for i in range(count))
        # A private-use character is a glyph without a meaning (a symbol font's bullet): a space.
        text = _PRIVATE_USE.sub(" ", text)
        width = page.get_width()
        lines = []
        for a, b in _line_ranges(textpage, text):
            body = [i for i in range(a, b) if not text[i].isspace()]
            if not body:
                continue
            picks = sorted({body[0], body[len(body) // 2], body[-1]})
            size = statistics.median(raw.FPDFText_GetFontSize(textpage.raw, i) for i in picks)
            bold = all(_bold(textpage, i) for i in picks)
            first, last = textpage.get_charbox(body[0]), textpage.get_charbox(body[-1])
            baseline = _origin_y(textpage, body[0])
            left = min(first[0], last[0])
            piece = text[a:b]
            if _SURROGATE.search(piece):   # a character beyond the BMP comes as two UTF-16 halves
                piece = piece.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
            lines.append(Line(piece, size, bold, left, max(first[2], last[2]), baseline + size, baseline, number,
                              half=1 if left > width * 0.45 else 0))
        return lines
    finally:
        textpage.close()


def _edges(lines: list[Line]) -> list[Line]:
    """The page's lines from top to bottom (by position, not content order)."""
    return sorted(lines, key=lambda line: (-round(line.top), line.left))


def _key(line: Line) -> str:
    return f"{line_key(line.text)}|{round(line.size)}"


_EDGE_NUMBER = re.compile(r"^\s*(\d{1,4})\s+\S|\S\s+(\d{1,4})\s*$")


_ROMAN_EDGE = re.compile(r"^\s*([ivxl]{1,7})\s+\S|\S\s+([ivxl]{1,7})\s*$")
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50}


def _roman(token: str) -> int:
    values = [_ROMAN[c] for c in token]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _edge_number(text: str) -> int | None:
    """The number a header or footer line starts or ends with (`12 Chapter 1`, `1.2 Scope 13`,
    `iv Preface`; a roman number counts front matter as negative, apart from the body's pages)."""
    match = _EDGE_NUMBER.search(text)
    if match:
        return int(match.group(1) or match.group(2))
    match = _ROMAN_EDGE.search(text)
    if match:
        return -1000 + _roman(match.group(1) or match.group(2))
    return None


def _page_counters(pages: list[list[Line]], body: float) -> set[int]:
    """Offsets between a page's index and a number at its top or bottom edge that recur on many
    pages: those numbers count pages (a running head "1.2 Scope 13" changes its words with every
    section, but its number always runs with the page)."""
    offsets: Counter[int] = Counter()
    for index, lines in enumerate(pages):
        by_position = _edges(lines)
        seen = set()
        for line in by_position[:2] + by_position[-2:]:
            number = _edge_number(line.text)
            if number is not None and line.size <= body * 1.05 and len(line.text.strip()) <= 80:
                seen.add(number - index)
        offsets.update(seen)
    need = max(3, len(pages) // 10)
    return {offset for offset, n in offsets.items() if n >= need}


def _is_toc_page(lines: list[Line]) -> bool:
    """A table-of-contents page: most of its lines end in a page number."""
    body = [line for line in lines if len(line.text.strip()) > 2]
    ending = sum(1 for line in body if _TOC_END.search(line.text) and not is_page_number(line.text))
    return len(body) >= 5 and ending >= 0.6 * len(body)


def _furniture(line: Line, at_edge: bool, index: int, running: set[str], counters: set[int], body: float) -> bool:
    """Whether `line` (on page `index`, among the page's top or bottom lines when `at_edge`) is a
    running header or footer, a page counter's line, or a footnote mark."""
    if at_edge and _key(line) in running:
        return True
    number = _edge_number(line.text)
    if at_edge and number is not None and number - index in counters and len(line.text) <= 80:
        return True
    return is_page_number(line.text) and line.size < body * 0.9   # a footnote mark, a small page number


def _drop_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Pages without running headers and footers, page numbers, footnote marks and
    table-of-contents entries."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    running = running_lines([[_key(line) for line in _edges(lines)] for lines in pages])
    counters = _page_counters(pages, body)
    out = []
    for index, lines in enumerate(pages):
        by_position = _edges(lines)
        edge = {id(line) for line in by_position[:3] + by_position[-3:]}

        kept = [line for line in lines if not _furniture(line, id(line) in edge, index, running, counters, body)]
        by_position = _edges(kept)
        numbers = set()
        for side in (by_position[:2], by_position[::-1][:2]):
            for line in side:
                if not is_page_number(line.text):
                    break
                numbers.add(id(line))
        toc = _is_toc_page(kept)
        kept = [line for line in kept if id(line) not in numbers
                and not (_TOC_ENTRY.search(line.text) and _TOC_END.search(line.text))
                and not (toc and _TOC_END.search(line.text) and not line.heading)]
        out.append(kept)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", ideographs(strip_marks(text))).lower()


_NUMBERING = re.compile(r"^(?:第[\d一二三四五六七八九十百零〇]+[章节部分篇编卷讲]|(?:chapter|section|part|appendix)"
                        r"[\divx.]*|附录[a-z\d]*|[\d.]+|[一二三四五六七八九十]+[、.．]|[（(][\d一二三四五六七八九十]+[)）])",
                        re.IGNORECASE)


def _bare(normed: str) -> str:
    """A normalised heading without its numbering ("第一章简介", "1简介" -> "简介")."""
    return _NUMBERING.sub("", normed, count=1)


def _title_lines(lines: list[Line], i: int, title: str) -> int | None:
    """The end of the run of up to 3 lines from `i` that reads as the bookmark `title` (the lines
    may carry numbering the bookmark leaves out: "第一章 简介" for "1 简介"), or None."""
    joined = ""
    for j in range(i, min(i + 3, len(lines))):
        joined += _norm(lines[j].text)
        if joined == title or (len(title) >= 2 and title in joined and len(joined) <= len(title) + 8
                               and (joined.startswith(title) or joined.endswith(title))) \
                or (_bare(joined) and _bare(joined) == _bare(title)):
            return j + 1
        if not (title.startswith(joined) or joined in title or _bare(title).startswith(_bare(joined))):
            return None
    return None


def _outline_headings(pdf, pages: list[list[Line]]) -> bool:
    """Mark the lines the outline (bookmarks) points at as headings; False when none was found."""
    found = False
    try:
        items = list(pdf.get_toc(max_depth=6))
    except Exception:  # a damaged outline is no reason to lose the text
        return False
    for item in items:
        try:
            title, dest = _norm(item.get_title() or ""), item.get_dest()
            index = dest.get_index() if dest is not None else None
        except Exception:
            continue
        if not title or index is None or not 0 <= index < len(pages):
            continue
        lines = pages[index]
        for i in range(len(lines)):
            if lines[i].heading:
                continue   # another bookmark's line
            span = _title_lines(lines, i, title)
            if span:
                for line in lines[i:span]:
                    line.heading = min(item.level + 1, 6)
                found = True
                break
    return found


def _size_headings(pages: list[list[Line]]) -> None:
    """Lines clearly larger than the body text are headings, levels by size; without any, short
    bold lines at body size (when bold is not the body's own style)."""
    all_lines = [line for lines in pages for line in lines]
    weight = Counter()
    for line in all_lines:
        weight[round(line.size * 2) / 2] += len(line.text)
    if not weight:
        return
    body = weight.most_common(1)[0][0]

    def heading_like(line: Line) -> bool:
        text = line.text.strip()
        return len(text) <= 80 and not text.endswith(("，", ",", "、", "；", ";")) and any(c.isalpha() for c in text) \
            and not is_page_number(text)

    big = [line for line in all_lines if line.size >= body * 1.15 and heading_like(line)]
    sizes = sorted({round(line.size) for line in big}, reverse=True)
    for line in big:
        line.heading = min(sizes.index(round(line.size)) + 1, 6)
    bold_share = sum(len(line.text) for line in all_lines if line.bold) / max(1, sum(len(x.text) for x in all_lines))
    if bold_share < 0.3:
        level = min(len(sizes) + 1, 6)
        for line in all_lines:
            if line.bold and not line.heading and abs(line.size - body) < body * 0.15 and heading_like(line) \
                    and len(line.text.strip()) <= 40 and not ends_sentence(line.text):
                line.heading = level


def _column_right(lines: list[Line]) -> dict[tuple[int, int], float]:
    """The right edge of the text of each size in each half of the page (headings, often
    centred, and a title in a larger size are not the body's column)."""
    right: dict[tuple[int, int], float] = {}
    for line in lines:
        if not line.heading:
            key = (line.half, round(line.size))
            right[key] = max(right.get(key, 0.0), line.right)
    return right


def _pitch(lines: list[Line]) -> float:
    """The usual distance between the bottoms of consecutive lines of the page."""
    gaps = [a.bottom - b.bottom for a, b in zip(lines, lines[1:])
            if 0 < a.bottom - b.bottom < 3 * a.size and abs(a.size - b.size) < 0.5]
    return statistics.median(gaps) if gaps else 0.0


def _new_block(before: Line, line: Line, right: dict[tuple[int, int], float], pitch: float) -> bool:
    """Whether `line` starts a new block rather than continuing the paragraph of `before`."""
    if before.heading or line.heading:
        return before.heading != line.heading or before.page != line.page or before.size != line.size
    if _MARKER.match(line.text):
        return True
    if before.page != line.page:
        return ends_sentence(before.text)
    if abs(before.size - line.size) > 0.15 * max(before.size, line.size):
        return True
    step = before.bottom - line.bottom
    if pitch and step > 1.45 * pitch:
        return True   # a gap: a new paragraph
    edge = right.get((before.half, round(before.size)), before.right)
    if before.right < edge - 1.5 * before.size and ends_sentence(before.text):
        return True   # a sentence ended short of the column's edge: the paragraph's last line
    width = edge - min(before.left, line.left)
    return step > 0 and width > 0 and (before.right - before.left) < 0.5 * width


def extract_pdf(data: bytes, limits: CorpusSettings) -> Extracted:
    """The cleaned text of a PDF, its blocks and where each page starts (see the module docstring)."""
    pdf = _open(data, limits)
    try:
        pages, chars = [], 0
        for number in range(len(pdf)):
            page = pdf[number]
            try:
                lines = _page_lines(page, number + 1)
            finally:
                page.close()
            chars += sum(len(line.text) for line in lines)
            if chars > limits.max_document_bytes:
                raise ExtractError(f"over {limits.max_document_bytes:,} characters of text by page {number + 1} "
                                   "(Settings.corpus.max_document_bytes)")
            pages.append(lines)
        empty = [n + 1 for n, lines in enumerate(pages) if not any(line.text.strip() for line in lines)]
        if len(empty) == len(pages):
            raise ExtractError(SCANNED)
        pages = _drop_furniture(pages)
        if not _outline_headings(pdf, pages):
            _size_headings(pages)
        title = _title(pdf)
    finally:
        pdf.close()
    builder = TextBuilder()
    paragraph: list[Line] = []

    def flush() -> None:
        if not paragraph:
            return
        first = paragraph[0]
        kind = "heading" if first.heading else "item" if _MARKER.match(first.text) else "paragraph"
        text, marks = "", []
        for line in paragraph:
            piece = " ".join(ideographs(line.text).split())
            if line.page != first.page and (not marks or marks[-1][0] != line.page):
                text, sep = glue(text, piece)
                text += sep
                marks.append((line.page, len(strip_marks(text))))
            elif text:
                text, sep = glue(text, piece)
                text += sep
            text += piece
        builder.block(kind, strip_marks(text), first.heading, marks)
        paragraph.clear()

    before: Line | None = None
    for lines in pages:
        right, pitch = _column_right(lines), _pitch(lines)
        for i, line in enumerate(lines):
            if before is None or _new_block(before, line, right, pitch):
                flush()
                if i == 0:
                    builder.page(line.page)   # the page starts with a block of its own
            paragraph.append(line)   # (a page whose first line continues a paragraph starts inside it: `flush`)
            before = line
        if not lines:
            flush()
            before = None
    flush()
    # Pages with no text of their own (images, blank, or all furniture) still get an (empty) range.
    starts = {number for number, _ in builder.page_starts}
    for missing in range(1, len(pages) + 1):
        if missing not in starts:
            later = [at for number, at in builder.page_starts if number > missing]
            builder.page_starts.append((missing, min(later) if later else builder.length))
    notes = ()
    if empty:
        shown = ", ".join(map(str, empty[:10])) + (" …" if len(empty) > 10 else "")
        notes = (f"{len(empty)} of {len(pages)} pages have no text layer (page {shown}): their content is "
                 "not indexed (scanned pages need OCR, which is not supported)",)
    return builder.result("pdf", title=title, notes=notes)


def _title(pdf) -> str | None:
    """The document's title from its metadata, unless it is a file name or a placeholder."""
    try:
        title = " ".join(str(pdf.get_metadata_value("Title") or "").split())
    except Exception:
        return None
    if not title or len(title) > 120 or re.search(r"\.(?:docx?|pdf|tex|dvi|pptx?|md|txt)$|^microsoft word|^untitled",
                                                  title, re.IGNORECASE):
        return None
    return ideographs(strip_marks(title)) or None
