"""Web pages (.html, .htm): the main content's headings, paragraphs, lists and tables, parsed with
lxml (BSD; already required by python-docx), by rules rather than a learned model.

1. Decoding: a byte-order mark, else the `<meta charset>` the page declares, else UTF-8, else
   detection (`text.decode`).
2. Boilerplate out: scripts, styles, forms and embedded objects; `<nav>`, `<aside>`,
   `<footer>`, a `<header>` without a heading; elements whose ARIA role is navigation, banner,
   contentinfo, complementary, search or menu; hidden elements; elements whose class or id
   names navigation (`nav`, `menu`, `sidebar`, `breadcrumb`, `toc`, `footer`, `cookie`,
   `share`, `related`, `comments`, `pagination`, `ads` …).
3. The main content: the one `<main>` (or `role=main`) when there is one, else the one
   `<article>`, else the body.
4. Blocks: `h1`–`h6` are headings of that level; `li` list items (numbered in an `<ol>`); each
   `tr` a table row (cells between ` | `; a row of `th` cells, or in `<thead>`, the header);
   `pre` code with its line breaks; `blockquote` quotes; any other block element a paragraph.
   White space collapses as a browser collapses it (no space where a line break separated two
   CJK characters).

Why not trafilatura (GPL-3.0 before 1.8, Apache-2.0 since, but with lxml, justext, htmldate,
courlan and more) or readability-lxml (Apache-2.0, scores by text density): measured in
docs/documents.md; these rules keep headings, lists and tables, which the main-content
extractors flatten or drop, and cost no dependency beyond lxml.
"""
from __future__ import annotations

import re

from ..config import CorpusSettings
from . import Extracted, ExtractError, TextBuilder, clean_inline
from .text import decode

_DROP_TAGS = {"script", "style", "noscript", "template", "nav", "aside", "footer", "form", "button", "iframe",
              "svg", "canvas", "select", "input", "textarea", "object", "embed", "head", "title", "meta", "link",
              "menu", "dialog", "label", "video", "audio", "map"}
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "toolbar",
               "dialog", "alert"}
_DROP_NAMES = {"nav", "navbar", "navigation", "menu", "menubar", "sidebar", "sidenav", "breadcrumb", "breadcrumbs",
               "toc", "footer", "cookie", "cookies", "share", "sharing", "social", "related", "comments", "comment",
               "pagination", "pager", "ad", "ads", "advert", "advertisement", "banner", "skip", "skiplink", "topbar",
               "toolbar", "subscribe", "newsletter", "popup", "modal"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {"p", "div", "section", "article", "main", "body", "ul", "ol", "dl", "dt", "dd", "table", "figure",
           "figcaption", "address", "hr", "header", "center", "caption", "details", "summary", "blockquote", "li",
           "pre", "tr", "html", "fieldset", "legend", "hgroup"} | set(_HEADINGS)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _decode(data: bytes) -> tuple[str, str]:
    match = _META_CHARSET.search(data[:4096])
    if match and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        name = match.group(1).decode("ascii").lower()
        name = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}.get(name, name)
        try:
            return data.decode(name), name
        except (LookupError, UnicodeDecodeError):
            pass   # the page's declaration is wrong: find out
    return decode(data)


def _tokens(value: str | None) -> set[str]:
    return {t for t in re.split(r"[\s_\-]+", (value or "").lower()) if t}


def _boilerplate(element) -> bool:
    tag = element.tag
    if tag in _DROP_TAGS:
        return True
    if tag == "header" and not any(h.tag in _HEADINGS for h in element.iter()):
        return True
    if tag in ("html", "body", "main", "article"):
        return False   # the page itself or its content, whatever its classes say
    attrs = element.attrib
    if attrs.get("role", "").lower() in _DROP_ROLES or "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    if re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", attrs.get("style", ""), re.IGNORECASE):
        return True
    return bool((_tokens(attrs.get("class")) | _tokens(attrs.get("id"))) & _DROP_NAMES)


_CONTAINERS = {"p", "div", "table", "ul", "ol", "section", "article", "blockquote", "pre"} | set(_HEADINGS)


def _layout_table(table) -> bool:
    """A table used for page layout (its cells hold paragraphs, lists or tables): read as blocks."""
    return any(isinstance(e.tag, str) and e.tag in _CONTAINERS for cell in table.iter("td", "th") for e in cell.iter()
               if e is not cell)


def _main(root):
    mains = [e for e in root.iter() if isinstance(e.tag, str) and (e.tag == "main" or e.get("role") == "main")]
    if len(mains) == 1:
        return mains[0]
    articles = [e for e in root.iter("article")]
    if len(articles) == 1:
        return articles[0]
    body = root.find("body")
    return body if body is not None else root


class _Walker:
    """Walks the main content in document order, writing blocks: inline text gathers in a buffer
    that each block-level element flushes as a paragraph (or item, or quote)."""

    def __init__(self, builder: TextBuilder):
        self.builder = builder
        self.buffer: list[str] = []
        self.kind = "paragraph"
        self.first_h1: str | None = None

    def flush(self) -> None:
        text = clean_inline("".join(self.buffer))
        self.buffer.clear()
        if text:
            self.builder.block(self.kind, text)

    def inline(self, text: str | None) -> None:
        if text:
            self.buffer.append(text)

    def text_of(self, element) -> str:
        """The text inside `element`, boilerplate left out; block children on lines of their own."""
        parts: list[str] = []

        def visit(node) -> None:
            if node.text:
                parts.append(node.text)
            for child in node:
                if isinstance(child.tag, str) and not _boilerplate(child):
                    block = child.tag in _BLOCKS or child.tag == "br"
                    parts.append("\n" if block else "")
                    visit(child)
                    parts.append("\n" if block else "")
                if child.tail:
                    parts.append(child.tail)
        visit(element)
        return clean_inline("".join(parts))

    def table(self, table) -> None:
        for row in table.iter("tr"):
            if next(row.iterancestors("table"), None) is not table:
                continue   # a nested table's rows belong to its cell
            cells = [c for c in row if isinstance(c.tag, str) and c.tag in ("td", "th")]
            texts = [self.text_of(c).replace("|", "/") for c in cells]
            if not any(texts):
                continue
            header = all(c.tag == "th" for c in cells) or row.getparent().tag == "thead"
            self.builder.block("header" if header else "row", "| " + " | ".join(texts) + " |")

    def walk(self, element, number: int | None = None) -> None:
        tag = element.tag
        if not isinstance(tag, str):   # a comment or processing instruction
            self.inline(element.tail)
            return
        if _boilerplate(element):
            self.inline(element.tail)
            return
        if tag in _HEADINGS:
            self.flush()
            text = self.text_of(element)
            if text:
                self.builder.block("heading", text, _HEADINGS[tag])
                if tag == "h1" and self.first_h1 is None:
                    self.first_h1 = text
        elif tag == "pre":
            self.flush()
            code = "\n".join(line.rstrip() for line in "".join(element.itertext()).strip("\n").split("\n"))
            if code.strip():
                self.builder.block("code", code.replace("\r", ""))
        elif tag == "table" and not _layout_table(element):
            self.flush()
            self.table(element)
        elif tag == "br":
            self.buffer.append("\n")
        elif tag == "li" or tag in _BLOCKS or tag in ("table", "tbody", "thead", "tfoot", "td", "th"):
            self.flush()
            outer = self.kind
            if tag == "li":
                self.kind = "item"
                if number is not None:
                    self.buffer.append(f"{number}. ")
            elif tag == "blockquote":
                self.kind = "quote"
            elif tag in ("ul", "ol"):
                self.kind = "paragraph"
            self.inline(element.text)
            count = 0
            for child in element:
                if tag == "ol" and child.tag == "li":
                    count += 1
                    self.walk(child, count)
                else:
                    self.walk(child)
            self.flush()
            self.kind = outer
        else:
            self.inline(element.text)
            for child in element:
                self.walk(child)
        self.inline(element.tail)


def extract_html(data: bytes, limits: CorpusSettings) -> Extracted:
    """The main content of a web page as blocks (see the module docstring)."""
    from lxml import etree
    from lxml import html as lxml_html

    text, encoding = _decode(data)
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        raise ExtractError("empty file")
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(f"not a readable web page ({exc})") from None
    page_title = root.findtext(".//title")
    builder = TextBuilder()
    walker = _Walker(builder)
    main = _main(root)
    walker.walk(main)
    walker.flush()
    if not builder.blocks:
        raise ExtractError("no text in the page's main content")
    if builder.length > limits.max_document_bytes:
        raise ExtractError(f"over {limits.max_document_bytes:,} characters of text (Settings.corpus.max_document_bytes)")
    title = walker.first_h1 or clean_inline(page_title or "") or None
    return builder.result("html", title=title, encoding=encoding)
