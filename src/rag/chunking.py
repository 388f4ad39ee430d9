"""Split documents into sections, passages (chunks) and sentences, all with exact offsets.

Invariant, for every unit this module makes: `document.text[unit.start:unit.end] == unit.text`.

- A *section* starts at a heading line (a Markdown `#` line, or a short line without sentence-final
  punctuation, such as `趋势二:生物识别技术在支付领域的创新应用` or `文章来源:数字金融网`) and runs to
  the next heading. Text before the first heading is the section `引言` (introduction).
- *Chunks* are what retrieval ranks: langchain's recursive splitter, run inside one section, so a
  chunk never spans two sections.
- *Sentences* are what the answer stage may quote: split at 。！？；, at line ends, and at `. ! ?`
  followed by a space; the heading line is a sentence of its own.
- *Clauses* (`split_clauses`) split a sentence further at ，,：:;； outside brackets and quotes.
  *Spans* are runs of 1 to `SPAN_MAX_CLAUSES` consecutive clauses of one sentence longer than
  `SPAN_MIN_SENTENCE_CHARS` (never the whole sentence): they are embedded too, so the answer
  stage can quote just the part of a long sentence that answers. Shorter sentences are always
  quoted whole.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .corpus import Document

INTRO_SECTION = "引言"
#: Paragraph, line, sentence ends, then clause marks (Chinese and the ASCII ones the article uses).
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "; ", ". ", "! ", "? ", "，", ",", "、", " ", ""]
_SENTENCE_END = re.compile(r"[。！？；]+[”’」』）)]*|[.!?;]+(?=\s)|\n+")
_CLAUSE_END = frozenset("，,：:;；")
_OPENERS, _CLOSERS = "(（《“‘「『[【", ")）》”’」』]】"
#: The longest run of clauses embedded as a span (4 covers every dev-set answer but one list).
SPAN_MAX_CLAUSES = 4
#: Sentences up to this long are quoted whole, so they get no spans (tuned on the dev set with
#: benchmarks/tune_answer.py; 50 cut more and lost recall, 100 left most answers whole).
SPAN_MIN_SENTENCE_CHARS = 80
_HEADING_MAX_CHARS = 40
_NOT_HEADING_END = tuple("。！？；.!?;，,、：:")


@dataclass(frozen=True)
class Section:
    """A heading and the text it governs: `text[start:end]` includes the heading line."""

    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A passage retrieval can return. `text == document.text[start:end]`."""

    id: int
    doc: str
    title: str
    section: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    """The smallest span the answer stage quotes. `text == document.text[start:end]`."""

    id: int
    doc: str
    section: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Span:
    """A run of consecutive clauses inside sentence `sentence` (an id). `text == document.text[start:end]`."""

    sentence: int
    start: int
    end: int
    text: str


def _is_heading(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if stripped.startswith("#"):
        return True
    return len(stripped) <= _HEADING_MAX_CHARS and not stripped.endswith(_NOT_HEADING_END)


def split_sections(text: str) -> list[Section]:
    """Sections of `text` in order; together they cover every non-blank character exactly once."""
    sections: list[Section] = []
    title, start, pos = INTRO_SECTION, 0, 0
    for line in text.splitlines(keepends=True):
        if _is_heading(line) and text[start:pos].strip():
            sections.append(Section(title, start, pos))
        if _is_heading(line):
            title, start = line.strip().lstrip("#").strip(), pos
        pos += len(line)
    if text[start:pos].strip():
        sections.append(Section(title, start, pos))
    return sections


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so that it neither starts nor ends with white space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text[start:end]`, white space trimmed."""
    end = len(text) if end is None else end
    spans, cursor = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append(_trim(text, cursor, match.end()))
        cursor = match.end()
    spans.append(_trim(text, cursor, end))
    return [(s, e) for s, e in spans if e > s]


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) offsets of the clauses of the sentence `text[start:end]`.

    A clause ends after ，,：:;； at bracket depth 0, so `(dynamic risk governance,DRG)` stays whole.
    """
    spans, cursor, depth = [], start, 0
    for i in range(start, end):
        ch = text[i]
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(0, depth - 1)
        elif ch in _CLAUSE_END and depth == 0:
            spans.append(_trim(text, cursor, i + 1))
            cursor = i + 1
    spans.append(_trim(text, cursor, end))
    return [(s, e) for s, e in spans if e > s]


def spans_of(sentence: Sentence, text: str, max_clauses: int = SPAN_MAX_CLAUSES,
             min_sentence_chars: int = SPAN_MIN_SENTENCE_CHARS) -> list[Span]:
    """Every run of 1 to `max_clauses` consecutive clauses of `sentence` (in document `text`),
    leaving out the whole sentence itself; none for a one-clause sentence or one of at most
    `min_sentence_chars` characters."""
    if len(sentence.text) <= min_sentence_chars:
        return []
    clauses = split_clauses(text, sentence.start, sentence.end)
    return [Span(sentence.id, clauses[i][0], clauses[j][1], text[clauses[i][0]:clauses[j][1]])
            for i in range(len(clauses)) for j in range(i, min(len(clauses), i + max_clauses))
            if (i, j) != (0, len(clauses) - 1)]


def make_splitter(chunk_size: int, chunk_overlap: int):
    """langchain's recursive splitter with separators for Chinese.

    `keep_separator="end"` keeps 。 at the end of its sentence (langchain #18770 moves it to the
    start of the next chunk otherwise).
    """
    # Imported here: answering a question never needs the splitter, only building an index does.
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=min(chunk_overlap, chunk_size // 2),
        strip_whitespace=True,
    )


def chunk_document(document: Document, splitter, first_id: int = 0) -> list[Chunk]:
    """Chunks of one document, section by section, with exact offsets."""
    text, chunks = document.text, []
    for section in split_sections(text):
        body = text[section.start:section.end]
        cursor = 0
        for piece in splitter.split_text(body):
            # The splitter returns substrings; locate each one after the previous chunk's start
            # (overlap means it may begin before the previous chunk's end).
            found = body.find(piece, cursor)
            if found < 0:
                raise AssertionError(f"splitter returned text not found in {document.path}: {piece!r}")
            start = section.start + found
            chunks.append(Chunk(first_id + len(chunks), document.path, document.title,
                                section.title, start, start + len(piece), piece))
            cursor = found + 1
    return chunks


def sentences_of(document: Document, first_id: int = 0) -> list[Sentence]:
    """Every sentence of one document, tagged with its section."""
    out = []
    for section in split_sections(document.text):
        for start, end in split_sentences(document.text, section.start, section.end):
            out.append(Sentence(first_id + len(out), document.path, section.title, start, end,
                                document.text[start:end]))
    return out


def chunk_corpus(documents: list[Document], chunk_size: int,
                 chunk_overlap: int) -> tuple[list[Chunk], list[Sentence], list[Span]]:
    """Chunks, sentences and clause spans of every document, with ids unique across the corpus."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    spans: list[Span] = []
    for document in documents:
        chunks += chunk_document(document, splitter, first_id=len(chunks))
        new = sentences_of(document, first_id=len(sentences))
        spans += [span for sentence in new for span in spans_of(sentence, document.text)]
        sentences += new
    return chunks, sentences, spans
