"""Split documents into passages (chunks), sentences and clause spans, all with exact offsets.

Invariant, for every unit this module makes: `document.text[unit.start:unit.end] == unit.text`.

- *Sections* come from `structure.outline` (Markdown headings, or numbered plain-text heading
  lines). A heading is never a unit of its own: it is the context every chunk and sentence of its
  section is embedded with (`embedding_text`).
- *Chunks* are what retrieval ranks: langchain's recursive splitter, run over the blocks of one
  section, so a chunk never spans two sections; a long section becomes several chunks that all
  know their section.
- *Sentences* are what the answer stage may quote: split inside each block at 。！？；, at line
  ends, and at `. ! ?` followed by a space; a table row is one sentence. A table's header row
  is not one: each row below it carries it as `header` (what each cell is), so whether "南湖区 |
  27 | 10元" answers 每餐平均多少钱 is judged with "每餐平均价格" beside it.
- *Clauses* (`split_clauses`) split a sentence further at ，,：:;； outside brackets and quotes.
  *Spans* are runs of 1 to `max_clauses` consecutive clauses of a sentence longer than
  `min_sentence_chars` (never the whole sentence): they are embedded too, so the answer stage can
  quote just the part of a long sentence that answers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .config import ChunkingSettings
from .corpus import Document, Located
from .structure import Block, Outline, Section, display, outline, trim

#: Paragraph, line, sentence ends, then clause marks (Chinese and ASCII).
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "; ", ". ", "! ", "? ", "，", ",", "、", " ", ""]
# Closing quotes, brackets and emphasis marks after 。 belong to the sentence they close.
_SENTENCE_END = re.compile(r"[。！？；]+[”’」』）)*_]*|[.!?;]+(?=\s)|\n+")
_CLAUSE_END = frozenset("，,：:;；")
_OPENERS, _CLOSERS = "(（《“‘「『[【", ")）》”’」』]】"


@dataclass(frozen=True)
class Chunk(Located):
    """A passage retrieval can return. `text == document.text[start:end]`; `context` is the
    document title and the section's heading path, embedded with it."""

    id: int
    title: str
    section: str
    text: str
    context: str = ""


@dataclass(frozen=True)
class Sentence(Located):
    """The smallest unit the answer stage quotes whole. `text == document.text[start:end]`."""

    id: int
    section: str
    text: str
    context: str = ""
    #: For a table row: its table's header row as shown ("区 · 食堂数量 · 每餐平均价格"), what
    #: each cell is. Used to judge whether the row answers, not to embed it (a header shared by
    #: every row would make them all alike).
    header: str = ""


@dataclass(frozen=True)
class Span(Located):
    """A run of consecutive clauses inside sentence `sentence` (an id). `text == document.text[start:end]`."""

    sentence: int
    text: str


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text[start:end]`, white space trimmed."""
    end = len(text) if end is None else end
    spans, cursor = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append(trim(text, cursor, match.end()))
        cursor = match.end()
    spans.append(trim(text, cursor, end))
    return [(s, e) for s, e in spans if e > s]


def split_clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) offsets of the clauses of the sentence `text[start:end]`.

    A clause ends after ，,：:;； at bracket depth 0, so `(dynamic risk governance,DRG)` stays whole;
    a comma or colon between two digits is part of a number (2,300; 10:30), not a clause end.
    """
    spans, cursor, depth = [], start, 0
    for i in range(start, end):
        ch = text[i]
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(0, depth - 1)
        elif ch in ",:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            continue
        elif ch in _CLAUSE_END and depth == 0:
            spans.append(trim(text, cursor, i + 1))
            cursor = i + 1
    spans.append(trim(text, cursor, end))
    return [(s, e) for s, e in spans if e > s]


def spans_of(sentence: Sentence, text: str, max_clauses: int = 4, min_sentence_chars: int = 80) -> list[Span]:
    """Every run of 1 to `max_clauses` consecutive clauses of `sentence` (in document `text`),
    leaving out the whole sentence itself; none for a one-clause sentence or one of at most
    `min_sentence_chars` characters."""
    if len(sentence.text) <= min_sentence_chars:
        return []
    clauses = split_clauses(text, sentence.start, sentence.end)
    return [Span(doc=sentence.doc, start=clauses[i][0], end=clauses[j][1], sentence=sentence.id,
                 text=text[clauses[i][0]:clauses[j][1]])
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


def section_context(document: Document, section: Section, with_title: bool = True) -> str:
    """The words a unit of `section` is embedded with: document title (for chunks, which compete
    across documents) and heading path."""
    return " › ".join((document.title, *section.path) if with_title else section.path)


def _body(section: Section) -> tuple[int, int] | None:
    blocks = [b for b in section.blocks if b.kind != "heading"]
    return (blocks[0].start, blocks[-1].end) if blocks else None


def chunk_document(document: Document, splitter, first_id: int = 0, layout: Outline | None = None) -> list[Chunk]:
    """Chunks of one document, section by section (headings left out), with exact offsets."""
    text, chunks = document.text, []
    for section in (layout or outline(document)).sections:
        body = _body(section)
        if body is None:
            continue
        piece_text = text[body[0]:body[1]]
        cursor = 0
        for piece in splitter.split_text(piece_text):
            # The splitter returns substrings; locate each one after the previous chunk's start
            # (overlap means it may begin before the previous chunk's end).
            found = piece_text.find(piece, cursor)
            if found < 0:
                raise AssertionError(f"splitter returned text not found in {document.path}: {piece!r}")
            start = body[0] + found
            chunks.append(Chunk(doc=document.path, start=start, end=start + len(piece), id=first_id + len(chunks),
                                title=document.title, section=section.title, text=piece,
                                context=section_context(document, section)))
            cursor = found + 1
    return chunks


def _block_sentences(text: str, block: Block) -> list[tuple[int, int]]:
    if block.kind == "header":
        return []   # not an answer by itself: the context of the rows below it
    if block.kind in ("row", "code"):
        return [(block.start, block.end)]
    return split_sentences(text, block.start, block.end)


def sentences_of(document: Document, first_id: int = 0, layout: Outline | None = None) -> list[Sentence]:
    """Every sentence of one document's blocks (not its headings), tagged with its section."""
    out = []
    for section in (layout or outline(document)).sections:
        # Sentences compete inside retrieved passages only: the document title would add the same
        # words to all of them and dull the difference between a sentence and its clause spans.
        context = section_context(document, section, with_title=False)
        header = ""   # a table's header row names what each cell of the rows below it is
        for block in section.blocks:
            if block.kind == "header":
                header = display(document, block.start, block.end)
            elif block.kind != "row":
                header = ""   # the table ended
            for start, end in _block_sentences(document.text, block):   # none for a header
                if display(document, start, end):  # a lone markup character is no sentence
                    out.append(Sentence(doc=document.path, start=start, end=end, id=first_id + len(out),
                                        section=section.title, text=document.text[start:end], context=context,
                                        header=header))
    return out


def chunk_corpus(documents: list[Document], settings: ChunkingSettings) -> tuple[list[Chunk], list[Sentence], list[Span]]:
    """Chunks, sentences and clause spans of every document, with ids unique across the corpus."""
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    spans: list[Span] = []
    for document in documents:
        layout = outline(document)
        chunks += chunk_document(document, splitter, first_id=len(chunks), layout=layout)
        new = sentences_of(document, first_id=len(sentences), layout=layout)
        spans += [span for sentence in new
                  for span in spans_of(sentence, document.text, settings.span_max_clauses,
                                       settings.span_min_sentence_chars)]
        sentences += new
    return chunks, sentences, spans
