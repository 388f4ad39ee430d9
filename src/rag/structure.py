"""The layout of a document: its title line, headings, sections and blocks, with exact offsets.

Markdown (`.md`) is parsed with markdown-it-py (CommonMark plus tables): ATX and setext
headings, paragraphs, list items, table rows, blockquotes and code each become blocks. Plain
text is read line by line; a line is a heading only when it is short, has no sentence-final
punctuation and starts with a numbering form (`一、` `（一）` `1.` `1、` `(1)` `第X章/节/部分`,
`趋势X:`-style `WORD + numeral + colon`, or Markdown `#`); a table row (`|` or tab), a byline
(`作者：…`, `来源：…`) or an unnumbered short line never is.

A PDF, Word file or web page brings its own blocks (`Document.blocks`, recorded by `extract`:
headings from the outline, styles, font sizes or `h1`-`h6`; list items; table rows); when the
extractor found no heading, numbered one-line paragraphs are headings as in plain text.

Every offset points into `document.text`, so the chunks, sentences and quotes cut from these
blocks keep the promise `text == document.text[start:end]`. What a person is *shown* is the
display form (`display`), with the markup taken out.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

from .corpus import NUMBERING, Document, title_line

#: The section of the text before the first heading.
INTRO_SECTION = "引言"
#: A heading line of plain text is at most this long (characters, stripped).
HEADING_MAX_CHARS = 50
_SENTENCE_PUNCT = re.compile(r"[。！？；!?;]")
_END_PUNCT = tuple("。！？；.!?;，,、：:")
_BYLINE = re.compile(r"^[（(]?\s*(?:作者|来源|文章来源|本文来源|原文|出处|记者|编辑|责任编辑|责编|发布|日期|时间|"
                     r"摘要|关键词|by|source|author)\s*[:：]", re.IGNORECASE)
# Markup of the display form.
_LINE_PREFIX = re.compile(r"^[ \t]*(?:>[ \t]?)*[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+)?", re.MULTILINE)
#: An ordered-list marker: skipped where a block starts, kept in the display form (it counts).
_ORDERED_MARKER = re.compile(r"\d{1,9}[.)][ \t]+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_UNDERLINE = re.compile(r"^\s*(?:={3,}|-{3,})\s*$")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_STRONG = re.compile(r"\*\*|__")
_EMPHASIS_STAR = re.compile(r"\*(?=\S)([^*\n]+?)(?<=\S)\*")
# CJK-friendly: `_强调_` between Chinese characters is emphasis too (not in snake_case words).
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9_\\])_(?=\S)([^_\n]+?)(?<=\S)_(?![A-Za-z0-9_])")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_CELL_SEPARATOR = re.compile(r"\s*(?<!\\)\|\s*")
#: Between a table row's cells as shown (a header row shown so is `Sentence.header`).
HEADER_JOIN = " · "


@dataclass(frozen=True)
class Block:
    """A leaf of the layout: `kind` is heading, paragraph, item, row, header (a table's header
    row), quote or code."""

    kind: str
    start: int
    end: int
    level: int = 0


@dataclass(frozen=True)
class Section:
    """A heading and the blocks it governs.

    `title` is the heading's display text (INTRO_SECTION before the first heading); `path` the
    titles from the outermost heading down to this one; `heading` the (start, end) of the
    heading text in the document, None for the intro; `number` its parsed numbering, if any, and
    `style` which numbering form it uses; `start`/`end` span the heading and the blocks.
    """

    title: str
    path: tuple[str, ...]
    heading: tuple[int, int] | None
    number: int | None
    style: str | None
    start: int
    end: int
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Outline:
    """A document's layout: its title line (if the text has one) and its sections in order."""

    title: tuple[int, int] | None
    sections: tuple[Section, ...]


def is_markdown(document: Document) -> bool:
    """Markdown is parsed as such; everything else is plain text."""
    return document.path.lower().endswith(".md")


def numeral(token: str) -> int | None:
    """The value of an Arabic, Roman (i-x) or Chinese numeral up to 999 ("12", "iv", "十二",
    "二十一", "两"), else None."""
    token = token.strip()
    roman = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
    if token.lower() in roman:
        return roman[token.lower()]
    if token.isdigit():
        return int(token)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    if not token or any(c not in digits and c not in "十百" for c in token):
        return None
    total, current = 0, 0
    for ch in token:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = digits[ch]
    return total + current


def heading_form(line: str) -> tuple[str, int | None] | None:
    """(style, number) when a plain-text `line` is a heading, else None (see the module docstring)."""
    text = line.strip()
    if not text or len(text) > HEADING_MAX_CHARS or "|" in text or "\t" in text:
        return None
    if text.endswith(_END_PUNCT) or _SENTENCE_PUNCT.search(text) or _BYLINE.match(text):
        return None
    for style, pattern in NUMBERING:
        match = pattern.match(text)
        if match:
            if style == "markdown":
                return style, None
            return style, numeral(match.group("n"))
    return None


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so that it neither starts nor ends with white space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@lru_cache(maxsize=16)
def _line_starts(text: str) -> tuple[int, ...]:
    # Cached: `display` is called once per chunk, sentence and span of the same document text
    # (a str caches its hash, and the cache hit compares the same object first).
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    starts.append(len(text))
    return tuple(starts)


def _content(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) trimmed of white space and of the markup prefix of its first line."""
    start, end = trim(text, start, end)
    prefix = _LINE_PREFIX.match(text, start, end)
    if prefix and prefix.end() < end:
        start = prefix.end()
    return trim(text, start, end)


def _item_content(text: str, start: int, end: int) -> tuple[int, int]:
    """A list item's paragraph without its ordered-list marker ("1. "), if it has one."""
    start, end = _content(text, start, end)
    marker = _ORDERED_MARKER.match(text, start, end)
    return (marker.end(), end) if marker and marker.end() < end else (start, end)


def table_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The cells of the table row `text[start:end]` ("a | b | c", outer pipes optional, a pipe
    escaped with a backslash kept in its cell) as offsets, spaces trimmed; the empty edge cells
    of outer pipes left out."""
    bounds = [(start, start), *((m.start(), m.end()) for m in _CELL_SEPARATOR.finditer(text, start, end)), (end, end)]
    cells = [(a, b) for (_, a), (b, _) in zip(bounds, bounds[1:])]
    if cells and cells[0][0] >= cells[0][1]:
        cells.pop(0)
    if cells and cells[-1][0] >= cells[-1][1]:
        cells.pop()
    return [trim(text, a, b) for a, b in cells]


def _row(text: str, start: int, end: int) -> tuple[int, int]:
    """A table row without its outer pipes."""
    start, end = _strip_closing(text, *_content(text, start, end))
    while start < end and text[start] == "|":
        start += 1
    return trim(text, start, end)


def _strip_closing(text: str, start: int, end: int) -> tuple[int, int]:
    """Without closing ATX hashes or a table's last pipe."""
    while end > start and text[end - 1] in "#|" and text[end - 2:end] != "\\" + text[end - 1]:
        end -= 1  # closing ATX hashes, a table's last pipe
    return trim(text, start, end)


@lru_cache(maxsize=1)
def _markdown_parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _markdown_blocks(text: str) -> list[Block]:
    """Leaf blocks of a Markdown text by markdown-it's line maps."""
    lines = _line_starts(text)

    def span(line_range) -> tuple[int, int]:
        return lines[line_range[0]], lines[min(line_range[1], len(lines) - 1)]

    blocks: list[Block] = []
    context: list[str] = []  # enclosing containers: blockquote, list_item, thead
    for token in _markdown_parser().parse(text):
        if token.type in ("blockquote_open", "list_item_open", "thead_open"):
            context.append(token.type)
        elif token.type in ("blockquote_close", "list_item_close", "thead_close"):
            context.pop()
        elif token.type == "heading_open":
            start, end = _strip_closing(text, *_content(text, *span(token.map)))
            if token.markup in ("=", "-"):  # setext: the text is the line(s) above the underline
                end = trim(text, start, lines[token.map[1] - 1])[1]
            blocks.append(Block("heading", start, end, int(token.tag[1])))
        elif token.type == "paragraph_open":
            kind = "item" if "list_item_open" in context else "quote" if context else "paragraph"
            content = _item_content if kind == "item" else _content
            blocks.append(Block(kind, *content(text, *span(token.map))))
        elif token.type == "tr_open":
            row = _row(text, *span(token.map))
            if not _TABLE_RULE.match(text[row[0]:row[1]]):
                blocks.append(Block("header" if "thead_open" in context else "row", *row))
        elif token.type in ("fence", "code_block"):
            blocks.append(Block("code", *trim(text, *span(token.map))))
        elif token.type == "hr" and blocks and token.markup[:1] in "-=" and token.map:
            # "1. 背景" underlined by "-----": CommonMark reads a one-line list item and a rule,
            # but the writer meant a setext heading; read it as one.
            last = blocks[-1]
            line = next(i for i in range(len(lines) - 1) if lines[i + 1] > last.start) if lines else 0
            if last.kind == "item" and token.map[0] == line + 1 and "\n" not in text[last.start:last.end]:
                start = trim(text, lines[line], last.end)[0]
                blocks[-1] = Block("heading", start, last.end, 1 if token.markup[0] == "=" else 2)
    return [b for b in blocks if b.end > b.start]


def _text_blocks(text: str) -> list[Block]:
    """Plain text: every non-blank line is a block; numbered short lines are headings."""
    blocks = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = trim(text, pos, pos + len(line))
        pos += len(line)
        if end <= start:
            continue
        form = heading_form(text[start:end])
        if form:
            blocks.append(Block("heading", *_strip_closing(text, *_content(text, start, end)), level=0))
        elif "|" in text[start:end] and text[start:end].count("|") >= 2:
            if not _TABLE_RULE.match(text[start:end]):
                blocks.append(Block("row", *_row(text, start, end)))
            elif blocks and blocks[-1].kind == "row" and "-" in text[start:end]:
                # A row right above a |---| rule is the table's header, as in Markdown.
                blocks[-1] = Block("header", blocks[-1].start, blocks[-1].end)
        else:
            blocks.append(Block("paragraph", start, end))
    return blocks


def _levels(text: str, blocks: list[Block]) -> list[Block]:
    """Plain-text heading levels: numbering styles nest in the order they first appear."""
    order: list[str] = []
    out = []
    for block in blocks:
        if block.kind == "heading" and block.level == 0:
            style = (heading_form(text[block.start:block.end]) or ("other", None))[0]
            if style not in order:
                order.append(style)
            block = Block("heading", block.start, block.end, order.index(style) + 1)
        out.append(block)
    return out


def _extracted_blocks(document: Document) -> list[Block]:
    """The layout an extractor recorded (PDF, Word, web page). When it found no heading at all,
    short one-line paragraphs with a numbering form are headings, as in plain text."""
    blocks = [Block(kind, start, end, level) for kind, start, end, level in document.blocks]
    if any(b.kind == "heading" for b in blocks):
        return blocks
    text = document.text
    numbered = [Block("heading", b.start, b.end, 0) if b.kind == "paragraph" and "\n" not in text[b.start:b.end]
                and heading_form(text[b.start:b.end]) else b for b in blocks]
    return _levels(text, numbered)


@lru_cache(maxsize=64)
def outline(document: Document) -> Outline:
    """The title line and sections of `document` (see the module docstring). Cached: question
    forms and the web page ask for the same documents' layout again and again."""
    text = document.text
    if document.blocks:
        blocks = _extracted_blocks(document)
    else:
        blocks = _markdown_blocks(text) if is_markdown(document) else _levels(text, _text_blocks(text))
    title = title_line(text, is_markdown(document))  # never a numbered heading
    title_at = None
    if title and blocks and blocks[0].start <= title[0] < blocks[0].end + 1:
        title_at = (blocks[0].start, blocks[0].end)
        blocks = blocks[1:]
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []  # (level, title) of the enclosing headings
    current: dict = {"title": INTRO_SECTION, "path": (), "heading": None, "number": None,
                     "style": None, "start": None, "blocks": []}

    def close(end: int) -> None:
        if current["blocks"] or current["heading"]:
            start = current["start"] if current["start"] is not None else current["blocks"][0].start
            sections.append(Section(current["title"], current["path"] or (current["title"],),
                                    current["heading"], current["number"], current["style"], start, end,
                                    tuple(current["blocks"])))

    for block in blocks:
        if block.kind != "heading":
            current["blocks"].append(block)
            continue
        close(block.start)
        heading = display(document, block.start, block.end)
        form = heading_form(heading) or (None, None)
        while stack and stack[-1][0] >= block.level:
            stack.pop()
        stack.append((block.level, heading))
        current = {"title": heading, "path": tuple(t for _, t in stack), "heading": (block.start, block.end),
                   "number": form[1], "style": form[0], "start": block.start, "blocks": []}
    close(len(text))
    return Outline(title_at, tuple(sections))


def display(document: Document, start: int, end: int) -> str:
    """What a person is shown for `document.text[start:end]`: the same words with the markup
    taken out (line prefixes `>`, `#`, list markers; table pipes and rules; setext underlines;
    and in Markdown `**`, `__`, emphasis, backticks, links and backslash escapes)."""
    text = document.text
    markdown = is_markdown(document)
    lines = _line_starts(text)
    out = []
    first = max(bisect.bisect_right(lines, start) - 1, 0)  # the line holding `start`
    for i in range(first, len(lines) - 1):
        line_start, line_end = lines[i], lines[i + 1]
        if line_start >= end:
            break
        if line_end <= start or line_start >= end:
            continue
        a, b = max(start, line_start), min(end, line_end)
        piece = text[a:b].rstrip("\n")
        whole = text[line_start:line_end].rstrip("\n")
        if _UNDERLINE.match(whole) or _TABLE_RULE.match(whole) and "-" in whole:
            continue
        if a == line_start:
            piece = piece[_LINE_PREFIX.match(piece).end():]
        if "|" in whole and whole.count("|") >= 2:
            piece = HEADER_JOIN.join(cell for cell in _CELL_SEPARATOR.split(piece) if cell)
        if markdown:
            piece = _LINK.sub(r"\1", piece)
            piece = _STRONG.sub("", piece)
            piece = _EMPHASIS_STAR.sub(r"\1", piece)
            piece = _EMPHASIS_UNDERSCORE.sub(r"\1", piece)
            piece = piece.replace("`", "")
            piece = _ESCAPED.sub(r"\1", piece).strip("*")  # a lone "*" of emphasis cut by the span
        piece = piece.rstrip("#").rstrip() if whole.lstrip().startswith("#") else piece
        out.append(piece.strip())
    return "\n".join(p for p in out if p)
