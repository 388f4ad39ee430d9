"""The answer stage: the words that answer inside a verbatim quote, or abstain.

With the reader on (the default, `reader_answer`): the trained extractive reader (`rag.reader`)
reads the best retrieved passages and its best span is the answer, quoted inside the sentence(s)
that hold it; whether to show it is the abstention model's call (`relevance.READER_ABSTENTION`,
fitted by benchmarks/fit_reader.py). With it off (`answer`, kept for one release so both can be
compared in one `rag eval` run): whole sentences chosen by similarity and lexical signals, as below.

Nothing here generates text. A quote is always `document.text[start:end]` of a sentence (or of
adjacent sentences merged, or a clause span) that retrieval returned; what a person sees is each
quote's display form (markup removed, `structure.display`) with [n] citation markers, or a plain
statement that the documents do not answer the question.

Whether to answer is `relevance.relevance(...) >= strictness` (relevance.py owns every signal);
questions about the documents themselves (their Nth section, what a term stands for, their
source) are answered by `forms.form_answer`.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from .asked import (
    KIND_TAIL,
    asked_value,
    asks_for,
    asks_for_list,
    asks_kind,
    asks_measure,
    asks_name,
    asks_which,
    echoes,
    holds_type,
    is_clause,
    lacks_asked_value,
    misses_asked_kind,
    names_nothing,
    says_opposite,
    speaks_of_the_whole,
)
from .chunking import Sentence, split_clauses
from .config import AnswerSettings
from .conversation import unresolved_message
from .corpus import Document, Located, page_of
from .definitions import defined_term, find_definition
from .forms import form_answer
from .lexical import english_stems, has_cjk
from .reader import ReadingText
from .reader.tables import table_readings
from .reasons import asks_reason, nearest, reasons_in
from .relevance import (
    RelevanceModel,
    names_missing,
    question_language,
    question_terms,
    relevance,
    signals,
    term_coverage,
)
from .retrieval import Hit, Retrieval, ScoredSentence, glossed_terms
from .structure import HEADER_JOIN, display, table_cells
from .validation import QuestionError, check_question  # noqa: F401  (re-exported: their old home)

NOT_FOUND = {
    "zh": "资料中没有找到这个问题的答案。",
    "en": "The documents do not answer this question.",
}
#: Said before the answer to "文章第二部分讲的是什么？" in a corpus of several documents when no
#: conversation says which one: the same part of each document (`forms.form_answer`).
EVERY_DOCUMENT = {
    "zh": "问题没有指明是哪一篇文档；以下是{found}篇文档各自的回答：",
    "en": "The question does not say which document; here is the answer from each of the {found} documents that have one:",
}
#: The same when only the first `AnswerSettings.max_documents_listed` of them are quoted.
EVERY_DOCUMENT_FIRST = {
    "zh": "问题没有指明是哪一篇文档；{found}篇文档都有回答，以下是其中{shown}篇的：",
    "en": "The question does not say which document; {found} documents have an answer, here are {shown} of them:",
}


@dataclass(frozen=True)
class Quote(Located):
    """A verbatim span of a document, cited as [n]: `text == document.text[start:end]`, and
    `display` is what a person is shown (the same words without markup)."""

    n: int
    text: str
    title: str
    section: str
    score: float
    display: str = ""
    #: The 1-based page where the quote starts (`corpus.page_of`), None for a format without pages.
    page: int | None = None
    #: For a quote of table rows: their table's header row as shown ("街道 · 换电站（座）"), what
    #: each cell is; "" otherwise (`with_columns`).
    columns: str = ""


@dataclass(frozen=True)
class Passage(Located):
    """A retrieved passage as shown to people (`text == document.text[start:end]`)."""

    title: str
    section: str
    text: str
    score: float
    display: str = ""
    #: The 1-based page where the passage starts, None for a format without pages.
    page: int | None = None


@dataclass(frozen=True)
class AnswerSpan(Located):
    """The words that answer: `text == document.text[start:end]`, inside quote [`quote`]."""

    text: str
    quote: int = 1
    display: str = ""
    #: The 1-based page where the span starts, None for a format without pages.
    page: int | None = None


@dataclass(frozen=True)
class Answer:
    """What every interface shows. `to_json()` is the `rag ask --json` schema."""

    question: str
    abstained: bool
    answer: str
    quotes: list[Quote]
    passages: list[Passage]
    relevance: float
    lang: str
    timings_ms: dict = field(default_factory=dict)
    #: The question as resolved against the conversation, when it differs from `question`
    #: (what was typed): "它有什么优势？" -> "刷掌支付有什么优势？" (`conversation.resolve`).
    understood_as: str | None = None
    #: The reader's answer span (None: abstained, the reader is off, or a document-form answer).
    span: AnswerSpan | None = None
    #: A remark about the answer as a whole, shown before it (`EVERY_DOCUMENT`), else None.
    note: str | None = None

    def to_json(self) -> dict:
        """The public JSON object; later versions add fields, never rename these."""
        return {
            "question": self.question,
            "abstained": self.abstained,
            "answer": self.answer,
            "quotes": [asdict(q) for q in self.quotes],
            "passages": [asdict(p) for p in self.passages],
            "relevance": round(self.relevance, 4),
            "lang": self.lang,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "understood_as": self.understood_as,
            "span": asdict(self.span) if self.span else None,
            "note": self.note,
        }


def sentence_score(scored: ScoredSentence, terms: list[dict[str, float]], lexical_weight: float) -> float:
    """How well one sentence answers: cosine, plus lexical evidence (the question's terms)."""
    return scored.dense + lexical_weight * term_coverage(terms, scored.sentence.text)


def quote_span(scored: ScoredSentence, text: str, settings: AnswerSettings) -> tuple[int, int]:
    """Offsets to quote from `scored.sentence` (of document `text`): its clause span most similar
    to the question plus `span_extend` clauses after it (a sentence tends to echo the question
    first and answer right after). The whole sentence when no span of at least `span_min_chars`
    beats it by `span_margin`, or it has no spans (short sentences have none: `chunking.spans_of`).
    """
    sentence = scored.sentence
    candidates = [s for s in scored.spans if len(s.span.text) >= settings.span_min_chars]
    if not candidates:
        return sentence.start, sentence.end
    best = max(candidates, key=lambda s: (s.dense, -s.span.start))
    if best.dense < scored.dense + settings.span_margin:
        return sentence.start, sentence.end
    clauses = split_clauses(text, sentence.start, sentence.end)
    last = next(i for i, (_, end) in enumerate(clauses) if end >= best.span.end)
    last = min(len(clauses) - 1, last + settings.span_extend)
    while last + 1 < len(clauses) and text[clauses[last][1] - 1] in ":：":
        last += 1  # a clause ending in a colon introduces the next one
    return best.span.start, clauses[last][1]


def typed_clause(question: str, text: str, start: int, end: int, terms: list[dict[str, float]]) -> tuple[int, int]:
    """For a Chinese question asking for a price, share, date or a count with its measure word
    (多少座): the clause of `text[start:end]` holding a value of that type (the one with most of
    the question's terms when several do), with the clause before it when that one holds the
    question's terms and this one does not (the answer-type extraction of factoid QA).
    [start, end) itself otherwise: a bare number says too little about which clause answers."""
    kind = asks_for(question)
    if kind in (None, "name") or not has_cjk(question) or (kind == "count" and not asks_measure(question)):
        return start, end
    clauses = split_clauses(text, start, end)
    typed = [i for i, (a, b) in enumerate(clauses) if holds_type(question, kind, text[a:b])]
    if not typed or len(clauses) < 2:
        return start, end
    coverage = [term_coverage(terms, text[a:b]) for a, b in clauses]
    best = max(typed, key=lambda i: (coverage[i], -i))
    first = best - 1 if best > 0 and coverage[best] == 0 and coverage[best - 1] > 0 else best
    return clauses[first][0], clauses[best][1]


def list_after_colon(sentence: Sentence, end: int, text: str, sentences: dict[int, Sentence], limit: int) -> int:
    """Where a quote ending in a colon should end: "有三种模式：" introduces the lines that follow
    (list items, table rows), so they are quoted with it, up to `limit` lines of the same section
    and passage. `end` itself when the quote does not end in a colon."""
    if text[end - 1] not in ":：":
        return end
    following = sentence.id + 1
    for _ in range(limit):
        nxt = sentences.get(following)
        if nxt is None or nxt.doc != sentence.doc or nxt.section != sentence.section or "\n" not in text[end:nxt.start]:
            break
        end, following = nxt.end, following + 1
    return end


def select_quotes(retrieval: Retrieval, documents: dict[str, Document], settings: AnswerSettings,
                  whole_sentences: bool = False) -> list[Quote]:
    """The spans to quote: the best sentence (trimmed to its answering clauses unless
    `whole_sentences`), plus up to `max_quotes - 1` more sentences of the same document scoring
    within the language's extra-quote margin of it."""
    terms = question_terms(retrieval)
    scores = {s.sentence.id: sentence_score(s, terms, settings.lexical_weight) for s in retrieval.sentences}
    ranked = sorted(retrieval.sentences, key=lambda s: (-scores[s.sentence.id], s.sentence.id))
    if not ranked:
        return []
    best = scores[ranked[0].sentence.id]
    margin = settings.extra_quote_margin_zh if retrieval.question_has_cjk else settings.extra_quote_margin_en
    # One answer quotes one document: the best sentence's. A runner-up from another document
    # would cite a text the question may not be about.
    ranked = [s for s in ranked if s.sentence.doc == ranked[0].sentence.doc]
    chosen = [s for s in ranked[:settings.max_quotes] if scores[s.sentence.id] >= best - margin]
    quotes = []
    by_id = {s.sentence.id: s.sentence for s in retrieval.sentences}
    for n, scored in enumerate(chosen, start=1):
        text = documents[scored.sentence.doc].text
        if whole_sentences:
            start, end = scored.sentence.start, scored.sentence.end
        else:
            start, end = typed_clause(retrieval.question, text, *quote_span(scored, text, settings), terms)
        end = list_after_colon(scored.sentence, end, text, by_id, settings.max_list_lines)
        # Text and title are filled in by `answer`, which holds the documents.
        quotes.append(Quote(doc=scored.sentence.doc, start=start, end=end, n=n, text="", title="",
                            section=scored.sentence.section, score=scores[scored.sentence.id]))
    return merge_adjacent(quotes)


def merge_adjacent(quotes: list[Quote]) -> list[Quote]:
    """Merge quotes of one section that touch or overlap; keep rank order; renumber [n]."""
    merged: list[Quote] = []
    for q in sorted(quotes, key=lambda q: (q.doc, q.start)):
        last = merged[-1] if merged else None
        if last and last.doc == q.doc and last.section == q.section and q.start <= last.end + 1:
            merged[-1] = replace(last, end=max(last.end, q.end), score=max(last.score, q.score))
        else:
            merged.append(q)
    merged.sort(key=lambda q: -q.score)
    return [replace(q, n=n) for n, q in enumerate(merged, 1)]


_TRAILING_CLAUSE_MARKS = "，,：:;；、"


def _cut(quote: Quote, document: Document) -> Quote:
    """The quote with its text cut from the document, minus a dangling clause mark at its end."""
    end = quote.end
    while end > quote.start + 1 and document.text[end - 1] in _TRAILING_CLAUSE_MARKS:
        end -= 1
    return replace(quote, end=end, text=document.text[quote.start:end], title=document.title,
                   score=round(quote.score, 4), display=display(document, quote.start, end),
                   page=page_of(document, quote.start))


def form_quotes(form, documents: dict[str, Document]) -> list[Quote]:
    """The quotes of a document-form answer (`forms.form_answer`): its span, or each of its parts;
    then the same part of each other document it names (`others`)."""
    parts = [(found.doc, start, end, section) for found in (form, *form.others)
             for start, end, section in (found.parts or ((found.start, found.end, found.section),))]
    return [_cut(Quote(doc=doc, start=start, end=end, n=n, text="", title="", section=section, score=1.0),
                 documents[doc]) for n, (doc, start, end, section) in enumerate(parts, start=1)]


def form_result(retrieval: Retrieval, form, documents: dict[str, Document], timings: dict) -> Answer:
    """The answer to a question about the documents themselves: `form_quotes`, each quote's
    document title before it when they come from several documents, which the note says."""
    lang = question_language(retrieval.question)
    quotes = form_quotes(form, documents)
    note = None
    if form.others:
        shown = len(form.others) + 1
        notes = EVERY_DOCUMENT if shown == form.documents_found else EVERY_DOCUMENT_FIRST
        note = notes[lang].format(shown=shown, found=form.documents_found)
    text = format_answer(quotes, titled=len({q.doc for q in quotes}) > 1)
    return Answer(retrieval.question, False, text if note is None else f"{note}\n{text}", quotes,
                  [_passage(h, documents) for h in retrieval.hits], 1.0, lang, timings, note=note)


def english_glosses(retrieval: Retrieval) -> dict[str, tuple[str, ...]]:
    """An English question's words (stems) -> their Chinese translations in the corpus."""
    if retrieval.question_has_cjk:
        return {}
    return {stem: tuple(group) for stem, group in zip(english_stems(retrieval.question), retrieval.translations)}


def _passage(hit: Hit, documents: dict[str, Document]) -> Passage:
    c = hit.chunk
    return Passage(doc=c.doc, start=c.start, end=c.end, title=c.title, section=c.section, text=c.text,
                   score=hit.score, display=display(documents[c.doc], c.start, c.end),
                   page=page_of(documents[c.doc], c.start))


def format_answer(quotes: list[Quote], titled: bool = False) -> str:
    """The text a person is shown: each quote's display form followed by its [n] marker (a
    quote of table rows after its columns' names, in parentheses; with `titled`, after its
    document's title in 《》: quotes of several documents)."""
    return "\n".join((f"({q.columns})\n" if q.columns else "") + (f"《{q.title}》" if titled else "")
                     + f"{q.display} [{q.n}]" for q in quotes)


def sentences_within(doc: str, start: int, end: int, sentences: list[Sentence]) -> list[Sentence]:
    """Those of `sentences` that lie wholly inside `[start, end)` of document `doc`."""
    return [s for s in sentences if s.doc == doc and start <= s.start and s.end <= end]


def with_columns(quote: Quote, sentences: list[Sentence]) -> Quote:
    """`quote` with `columns` set when the sentences it holds are rows of one table: a cell
    alone ("6") does not say what it counts."""
    headers = {s.header for s in sentences_within(quote.doc, quote.start, quote.end, sentences)}
    return replace(quote, columns=headers.pop()) if len(headers) == 1 and "" not in headers else quote


def answer(retrieval: Retrieval, documents: dict[str, Document], settings: AnswerSettings | None = None,
           strictness: float = 0.5, model: RelevanceModel | None = None, conversation_docs: Sequence[str] = (),
           every_document: bool = False) -> Answer:
    """Quote the answer to `retrieval.question` verbatim from `documents` (by path), or abstain.

    A question about the documents themselves (`forms.form_answer`) is answered from the
    document its words single out, with relevance 1: the document states it; when they single
    out none, from the conversation's document (`conversation_docs`), then retrieval's; with
    `every_document` (no conversation says which), from each document (`forms.form_answer`).
    """
    started = time.perf_counter()
    settings = settings or AnswerSettings()
    lang = question_language(retrieval.question)
    form = form_answer(retrieval.question, documents, _form_docs(retrieval, conversation_docs), settings.max_list_lines,
                       every_document, english_glosses(retrieval), settings.max_documents_listed)
    if form:
        return form_result(retrieval, form, documents,
                           dict(retrieval.timings_ms, answer=(time.perf_counter() - started) * 1000))
    score = relevance(retrieval, model)
    passages = [_passage(h, documents) for h in retrieval.hits]
    quotes = []
    if score >= strictness:
        quotes = [_cut(q, documents[q.doc]) for q in select_quotes(retrieval, documents, settings)]
    abstained = not quotes
    text = NOT_FOUND[lang] if abstained else format_answer(quotes)
    timings = dict(retrieval.timings_ms, answer=(time.perf_counter() - started) * 1000)
    return Answer(retrieval.question, abstained, text, quotes, passages, score, lang, timings)


def refuse_unresolved(question: str, reference: str) -> Answer:
    """The answer to a question whose subject is only a pronoun ("它有什么优势？") when there is
    no previous turn to resolve it against: a refusal with a hint, never a quote from whatever
    passage happens to be nearest."""
    return Answer(question, True, unresolved_message(question, reference), [], [], 0.0, question_language(question))


# --- The reader's answer: the words that answer, inside the sentence(s) that hold them ---------

def prefer_asked_value(question: str, spans: list, documents: dict[str, Document],
                       sentences: list[Sentence] = ()) -> list:
    """Asked how many, what share or when, a span without such a value answers something else:
    only the spans holding one, when any does (a number in a table row of `sentences` is read
    with its column's header: `column_of`). When none does, all of them: the reader's own
    choice stays (its quote often holds the value all the same; refusing there was measured
    worse, docs/answers.md)."""
    if asked_value(question) is None:   # most questions: nothing to check
        return spans
    valued = [s for s in spans if not lacks_asked_value(question, documents[s.doc].text[s.start:s.end],
                                                        column_of(s, sentences, documents))]
    return valued or spans


def of_asked_kind(question: str, spans: list, documents: dict[str, Document], sentences: list[Sentence] = ()) -> list:
    """The spans that can be the kind of thing the question asks for (`misses_asked_kind`: an
    ordinal for 第几, a month for 几月, a number with the unit of 多少L/kWh, read with its
    column's header in a table row of `sentences`; a person's name for 理事长叫什么名字). None
    may be left: the documents then do not say it (docs/answers.md)."""
    if not asks_kind(question):   # most questions: nothing to check
        return spans
    return [s for s in spans
            if not misses_asked_kind(question, documents[s.doc].text[s.start:s.end],
                                     documents[s.doc].text[s.end:s.end + KIND_TAIL], column_of(s, sentences, documents))]


def column_of(span, sentences: list[Sentence], documents: dict[str, Document]) -> str:
    """The column header of the table cell `span` lies in, when it lies in one cell of a table
    row among `sentences`; "" otherwise."""
    for s in sentences:
        if s.header and s.doc == span.doc and s.start <= span.start and span.end <= s.end:
            cells = table_cells(documents[s.doc].text, s.start, s.end)
            return next((name for (a, b), name in zip(cells, s.header.split(HEADER_JOIN))
                         if a <= span.start and span.end <= b), "")
    return ""


def within_a_clause(question: str, spans: list, documents: dict[str, Document]) -> list:
    """Asked who or which organisation, the spans that do not run across a clause break (such a
    span is a statement, not a name; none may be left). Asked one value (how many, when, what
    share), those when any is left: "412个" over "412个老旧小区建成…，新增充电端口3.2万个" (of the
    public data's 1,423 such questions, 44 reference answers hold a clause break, nearly all whole
    sentences), or which one (哪个区, which district: `asked.asks_which`), those when any is left;
    all of them otherwise."""
    def short(span) -> bool:
        return not is_clause(documents[span.doc].text[span.start:span.end])

    if asks_name(question):
        return [s for s in spans if short(s)]
    if (asked_value(question) and not asks_for_list(question)) or asks_which(question):
        return [s for s in spans if short(s)] or spans
    return spans


def beyond_the_question(question: str, spans: list, documents: dict[str, Document]) -> list:
    """The spans that say more than the question (`asked.echoes`: "数字孪生" for "什么叫数字孪生？"
    is its subject, not its answer), when any does; all of them otherwise. `question` is the one
    the reader read (an English one with its Chinese glosses). Asked who or which organisation,
    an echo is left for `names_nothing` to refuse on."""
    if asks_name(question):
        return spans
    def echo(span) -> bool:
        text = documents[span.doc].text
        return echoes(question, text[span.start:span.end], text[max(0, span.start - 20):span.start],
                      text[span.end:span.end + 80])

    return [s for s in spans if not echo(s)] or spans


def sentence_bounds(span, sentences: list[Sentence]) -> tuple[int, int]:
    """Offsets of the retrieved sentence(s) holding `span` (the span's own when none does)."""
    holding = [s for s in sentences if s.doc == span.doc and s.start < span.end and span.start < s.end]
    return (holding[0].start, holding[-1].end) if holding else (span.start, span.end)


def clause_of(span, sentences: list[Sentence], documents: dict[str, Document]) -> str:
    """The clause(s) holding `span` (`chunking.split_clauses` over the retrieved sentence(s) that
    hold it): where a superlative that qualifies the span stands."""
    text = documents[span.doc].text
    start, end = sentence_bounds(span, sentences)
    clauses = [(a, b) for a, b in split_clauses(text, start, end) if a < span.end and span.start < b]
    return text[clauses[0][0]:clauses[-1][1]] if clauses else text[span.start:span.end]


def of_the_whole_elsewhere(retrieval: Retrieval, span, sentences: list[Sentence],
                           documents: dict[str, Document]) -> bool:
    """Whether `span` is a figure of the whole country or world (`asked.speaks_of_the_whole`)
    in a sentence that does not name what the question names: asked about 广州市, "全国老旧小区
    累计加装电梯约7.2万部" is not its figure, though the next sentence names 广州市."""
    if not speaks_of_the_whole(retrieval.question, clause_of(span, sentences, documents)):
        return False
    start, end = sentence_bounds(span, sentences)
    return bool(names_missing(retrieval, documents[span.doc].text[start:end].lower()))


def reader_features(span) -> dict[str, float]:
    """The reader's features of one span, as the abstention model reads them."""
    return {"reader_margin": span.margin, "reader_rank": float(span.rank - 1)}


def choose_span(spans: list, model: RelevanceModel | None, lang: str):
    """The span the abstention model rates best: its margin less its rank, by the model's own
    weights (other signals are the same for every span of a question)."""
    weights = model.weights[lang] if model else {}
    w_margin, w_rank = weights.get("reader_margin", 1.0), weights.get("reader_rank", -1.0)
    return max(spans, key=lambda s: (w_margin * s.margin + w_rank * (s.rank - 1), -s.rank))


def defining_words(retrieval: Retrieval, best, documents: dict[str, Document]):
    """Asked what a term is (`definitions.defined_term`), the defining words of a retrieved
    sentence that defines it (`definitions.find_definition`; those of the best span's document
    first), in place of the reader's span; the reader's span otherwise. Whether to answer at all
    stays the reader's and the abstention model's call."""
    term = defined_term(retrieval.question)
    if term is None:
        return best
    ranked = sorted(retrieval.sentences, key=lambda s: (s.sentence.doc != best.doc, -s.dense))
    found = find_definition(term, [s.sentence for s in ranked], lambda doc: documents[doc].text)
    if found is None:
        return best
    doc, start, end = found
    return replace(best, doc=doc, start=start, end=end, text=documents[doc].text[start:end])


def reason_words(question: str, best, documents: dict[str, Document], sentences: list[Sentence]):
    """Asked why (`reasons.asks_reason`), the reason a causal cue marks in the sentence(s) that
    hold the reader's span (`reasons.reasons_in`: 主要原因是X, 因为X, X，因此…; the one nearest
    the span), in place of the span; the reader's span otherwise."""
    if not asks_reason(question):
        return best
    q_start, q_end, section = quote_around(best.doc, best.start, best.end, sentences)
    text = documents[best.doc].text
    found = None
    if section is not None:
        found = nearest(reasons_in(text[q_start:q_end]), best.start - q_start, best.end - q_start)
    if found is None:
        return best
    start, end = q_start + found[0], q_start + found[1]
    return replace(best, start=start, end=end, text=text[start:end])


def quote_around(doc: str, start: int, end: int, sentences: list[Sentence]) -> tuple[int, int, str | None]:
    """The sentence or sentences (of those retrieval returned) that hold `[start, end)`, as
    (start, end, section): the quote a span is shown in. Section None when the span begins or
    ends outside every sentence (a heading, a table's header row: no answer is taken from
    there, `candidate_spans`)."""
    holding = sorted((s for s in sentences if s.doc == doc and s.start < end and start < s.end), key=lambda s: s.start)
    if not holding or not (holding[0].start <= start and end <= holding[-1].end):
        return start, end, None
    return holding[0].start, holding[-1].end, holding[0].section


def reader_question(retrieval: Retrieval, glosses: int) -> str:
    """The question as the reader reads it: a Chinese one as asked; an English one followed by the
    best `glosses` Chinese translations of each of its words ("What does generative AI produce?
    (生出 生成)"), so that a reader trained on Chinese questions can match it to Chinese text."""
    if retrieval.question_has_cjk or glosses <= 0:
        return retrieval.question
    return glossed_question(retrieval.question, retrieval.translations, glosses)


def glossed_question(question: str, translations: list[dict[str, float]], glosses: int) -> str:
    """An English `question` followed by the best `glosses` Chinese words of each of its words'
    `translations` (`lexical.translate`); the reader's training makes its English questions so."""
    terms = [t for t in glossed_terms(translations, glosses) if has_cjk(t)]
    return f"{question} ({' '.join(dict.fromkeys(terms))})" if terms else question


def candidate_spans(retrieval: Retrieval, documents: dict[str, Document], reader, passages: int,
                    settings: AnswerSettings, glosses: int = 0) -> tuple[list, list[Quote]]:
    """The reader's spans the answer is chosen among, and the sentence scorer's quotes (whole
    sentences).

    The reader reads the top `passages` passages. The document is the one whose sentences the
    lexical scorer (`select_quotes`) rates best: it picks the right paragraph more often than the
    reader's margin does (docs/answers.md), so the spans are those the reader found in it. When
    it found none there (the document was ranked below the passages read, or nothing in them
    answered), it reads the scorer's sentences of that document, ranked where retrieval ranked
    the document. Without a lexical choice, all spans. `glosses`: see `reader_question`."""
    hits = retrieval.hits[:passages]
    lists = asks_for_list(retrieval.question)
    # Asked for a value, the answer may be a passage's second or third best span (the best one
    # holding a value is preferred: `prefer_asked_value`), so each passage offers more. (So too
    # for who or which one was tried: more spans let more wrong ones past the checks, docs/answers.md.)
    depth = settings.value_spans_per_passage if asked_value(retrieval.question) else settings.spans_per_passage
    question = reader_question(retrieval, glosses)
    sentences = [s.sentence for s in retrieval.sentences]
    read = [p for rank, h in enumerate(hits, start=1)
            for p in reading_passages(h.chunk.doc, h.chunk.start, h.chunk.text, rank, sentences, documents)]
    spans = reader.read(question, read, per_passage=depth, lists=lists) if read else []
    spans = [s for s in spans if quote_around(s.doc, s.start, s.end, sentences)[2] is not None]
    lexical = select_quotes(retrieval, documents, settings, whole_sentences=True)
    if not lexical:
        return spans, lexical
    doc = lexical[0].doc   # select_quotes quotes one document
    chosen = [s for s in spans if s.doc == doc]
    if not chosen:
        rank = next((i for i, h in enumerate(retrieval.hits, start=1) if h.chunk.doc == doc), len(retrieval.hits) + 1)
        text = documents[doc].text
        read = [p for q in lexical
                for p in reading_passages(doc, q.start, text[q.start:q.end], rank, sentences, documents)]
        chosen = reader.read(question, read, per_passage=depth, lists=lists)
    return chosen or spans, lexical


def reading_passages(doc: str, start: int, text: str, rank: int, sentences: list[Sentence],
                     documents: dict[str, Document]) -> list[ReadingText]:
    """What the reader reads of a passage of retrieval rank `rank`: the passage; or, when table
    rows among `sentences` lie in it, the passage without them and each row alone with its
    cells named (`reader.tables.table_readings`)."""
    document_text = documents[doc].text
    rows = [(table_cells(document_text, s.start, s.end), s.header.split(HEADER_JOIN))
            for s in sentences_within(doc, start, start + len(text), sentences) if s.header]
    readings = table_readings(text, start, rows) if rows else []
    if not readings:
        return [ReadingText(doc, start, text, rank=rank)]
    return [ReadingText(doc, start, reading, origin, rank) for reading, origin in readings]


def read_answer(retrieval: Retrieval, documents: dict[str, Document], reader, passages: int, strictness: float,
                model: RelevanceModel | None, settings: AnswerSettings | None = None, glosses: int = 0) -> Answer:
    """Answer with the reader, or abstain when the abstention model's probability that the
    documents answer is below `strictness` (without a fitted model, `model` None: when the best
    span's margin over "no answer" is not positive).

    The answer is the best of `candidate_spans` (`choose_span`: its margin less its retrieval
    rank), quoted [1] inside the whole sentence(s) that hold it. The sentences `select_quotes`
    rates best in the same document follow as further quotes: the context a reader of the answer
    needs when the span is a single name or number (docs/answers.md has the figures)."""
    started = time.perf_counter()
    settings = settings or AnswerSettings()
    lang = question_language(retrieval.question)
    shown = [_passage(h, documents) for h in retrieval.hits]
    spans, lexical = candidate_spans(retrieval, documents, reader, passages, settings, glosses)
    sentences = [s.sentence for s in retrieval.sentences]
    spans = prefer_asked_value(retrieval.question, spans, documents, sentences)
    spans = of_asked_kind(retrieval.question, spans, documents, sentences)
    spans = within_a_clause(retrieval.question, spans, documents)
    spans = [s for s in spans if not says_opposite(retrieval.question, clause_of(s, sentences, documents))]
    read_as = reader_question(retrieval, glosses)   # as the reader read it: an English one with its glosses
    spans = beyond_the_question(read_as, spans, documents)
    best = choose_span(spans, model, lang) if spans else None
    if best is not None and names_nothing(read_as, documents[best.doc].text[best.start:best.end],
                                          documents[best.doc].text[max(0, best.start - 4):best.start]):
        # Asked who or which company, the reader's best reading only counts or echoes ("三家行业
        # 协会", "不同厂商"): the documents name nobody (docs/answers.md).
        best = None
    if best is not None and of_the_whole_elsewhere(retrieval, best, sentences, documents):
        # The best reading is a figure of the whole country or world, not of what the question
        # names: the documents do not give that one's (a lesser span was tried: it answers with
        # whatever figure stands near the name, docs/answers.md).
        best = None
    if best is None:
        score = 0.0
    elif model is None:
        score = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, best.margin))))
    else:
        features = reader_features(best)
        if any(name not in features for name in model.weights[lang]):
            features |= signals(retrieval)
        score = model.score(features, lang)
    timings = dict(retrieval.timings_ms)
    if best is None or score < strictness:
        timings["read"] = timings["answer"] = (time.perf_counter() - started) * 1000
        return Answer(retrieval.question, True, NOT_FOUND[lang], [], shown, score, lang, timings)
    best = reason_words(retrieval.question, defining_words(retrieval, best, documents), documents, sentences)
    document = documents[best.doc]
    q_start, q_end, section = quote_around(best.doc, best.start, best.end, sentences)
    holder = Quote(doc=best.doc, start=q_start, end=q_end, n=1, text="", title="",
                   section=section or next((h.chunk.section for h in retrieval.hits if h.chunk.doc == best.doc), ""),
                   score=score)
    # Whole sentences: the span gives the precision, the quote the context it is read in.
    supporting = [q for q in lexical if q.doc == best.doc]
    merged = merge_adjacent([holder, *supporting[:settings.max_quotes - 1]])
    first = next(q for q in merged if q.start <= best.start and best.end <= q.end)
    ordered = [first, *(q for q in merged if q is not first)]
    quotes = [with_columns(_cut(replace(q, n=n, score=score if q is first else q.score), documents[q.doc]), sentences)
              for n, q in enumerate(ordered, start=1)]
    span = AnswerSpan(doc=best.doc, start=best.start, end=best.end, text=document.text[best.start:best.end], quote=1,
                      display=display(document, best.start, best.end), page=page_of(document, best.start))
    timings["read"] = timings["answer"] = (time.perf_counter() - started) * 1000
    text = f"{span.display}\n" + format_answer(quotes)
    return Answer(retrieval.question, False, text, quotes, shown, score, lang, timings, span=span)


def _form_docs(retrieval: Retrieval, conversation_docs: Sequence[str]) -> list[str]:
    """The documents a document-form question may be about when its words single out none, most
    likely first: the conversation's, then those retrieval found."""
    return [*conversation_docs, *(h.chunk.doc for h in retrieval.hits)]


def reader_answer(retrieval: Retrieval, documents: dict[str, Document], reader, passages: int, strictness: float,
                  model: RelevanceModel | None, settings: AnswerSettings | None = None,
                  conversation_docs: Sequence[str] = (), glosses: int = 0, every_document: bool = False) -> Answer:
    """The answer stage with the reader on: a question about the documents themselves
    (`forms.form_answer`) is answered from them (from the conversation's document,
    `conversation_docs`, when its words single out none; with `every_document`, from each);
    any other by `read_answer`."""
    settings = settings or AnswerSettings()
    form = form_answer(retrieval.question, documents, _form_docs(retrieval, conversation_docs), settings.max_list_lines,
                       every_document, english_glosses(retrieval), settings.max_documents_listed)
    if form:
        return form_result(retrieval, form, documents, dict(retrieval.timings_ms))
    return read_answer(retrieval, documents, reader, passages, strictness, model, settings, glosses)
