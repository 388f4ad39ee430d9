"""The chat page's HTML and text, built from answers: pure functions, no Gradio.

Escaping (the one rule of the web package): every piece of HTML shown is built here (or in
`notices`, the index's state and uploads, by the same rule), and every
piece of text that did not come from this package -- questions, quotes, passages, titles,
section headings, file names -- goes through `html.escape` first (attributes too).

Ids tie the page together: answer `t` is `rag-turn-t`, its sources group `rag-srcs-t`, and its
citation [n] the card `rag-src-t-n`; every [n] in an answer is a link to that card.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import quote as url_quote

from ..answer import NOT_FOUND, Answer, Passage, Quote
from ..corpus import Document
from ..i18n import DEFAULT_LANGUAGE, language_of, t
from ..structure import INTRO_SECTION, display, outline

#: Relevance is the relevance model's probability that the documents answer (a logistic model,
#: config.Settings.strictness is its cut). Words for people: these bands split [0, 1] in thirds;
#: they only label the bar, they decide nothing.
RELEVANCE_BANDS = ((2 / 3, "relevance_high"), (1 / 3, "relevance_medium"), (0.0, "relevance_low"))
#: Suggested topics shown with a refusal.
MAX_SUGGESTIONS = 4
_NUMBERING = re.compile(r"^\s*(?:第\s*[一二三四五六七八九十百\d]+\s*[章节部分篇]|[（(]?[一二三四五六七八九十百\d.]+[)）、.．]|"
                        r"[\u4e00-\u9fff]{1,4}[一二三四五六七八九十\d]+\s*[:：])\s*")


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and its answer, numbered from 1: kept per session so that
    every earlier answer keeps its own citations."""

    n: int
    answer: Answer
    strictness: float


def turn_language(turn: Turn, forced: str | None) -> str:
    """The language an answer is shown in: the page switch's, else its question's."""
    return forced or turn.answer.lang


def text_html(text: str) -> str:
    """Plain text as HTML: escaped, line breaks kept."""
    return "<br>".join(escape(line) for line in text.split("\n"))


def lang_attr(text: str) -> str:
    """A `lang` attribute for a piece of text from outside (question, quote, title)."""
    return f' lang="{language_of(text)}"'


def topic(heading: str) -> str:
    """A section heading without its numbering ("趋势二:生物识别…" -> "生物识别…"): a topic to ask about."""
    return _NUMBERING.sub("", heading).strip() or heading


def topic_question(heading: str, title: str) -> str:
    """A question about a section, never its bare heading: a heading such as "定义" or
    "发行情况" says nothing alone (asked, it is refused, and the refusal would suggest it again),
    so it is asked about the document it belongs to ("数字人民币的定义是什么？")."""
    words = topic(heading)
    if language_of(words) == "zh":
        return f"{title}的{words}是什么？" if len(words) <= 8 and title and title not in words else f"{words}是什么？"
    return f"What does {title} say about {words}?" if title and title not in words else f"What is {words}?"


# --- Numbers people understand -------------------------------------------------------------

def relevance_words(relevance: float, lang: str) -> str:
    """高/中/低 or high/medium/low for a relevance in [0, 1]."""
    return t(lang, next(key for floor, key in RELEVANCE_BANDS if relevance >= floor))


def percent_pair(relevance: float, strictness: float) -> tuple[str, str]:
    """Both numbers as percentages, with just enough decimals that they differ when they do:
    0.9996 against 1.0 reads "99.96%" and "100%", never "1.00" below "1.00"."""
    for decimals in range(0, 4):
        a, b = f"{relevance * 100:.{decimals}f}%", f"{strictness * 100:.{decimals}f}%"
        if (a != b) == (relevance != strictness):
            return a, b
    return f"{relevance * 100:.3f}%", f"{strictness * 100:.3f}%"


def relevance_html(answer: Answer, strictness: float, lang: str) -> str:
    """A labelled bar: relevance as a word and a bar, the strictness marked on it, and a tooltip
    (also readable by screen readers) saying what the number means."""
    rel, strict = percent_pair(answer.relevance, strictness)
    words = relevance_words(answer.relevance, lang)
    help_text = t(lang, "relevance_help", strictness=strict, relevance=f"{words} ({rel})")
    width = max(0.0, min(1.0, answer.relevance)) * 100
    mark = max(0.0, min(1.0, strictness)) * 100
    why = ""
    if answer.abstained and answer.quotes == [] and answer.relevance < strictness:
        close = rel.rstrip("%").split(".")[0] == strict.rstrip("%").split(".")[0]
        key = "abstained_why_close" if close else "abstained_why"
        why = f'<p class="rag-why">{escape(t(lang, key, relevance=rel, strictness=strict))}</p>'
    return (f'<div class="rag-rel" title="{escape(help_text)}">'
            f'<span class="rag-rel-label">{escape(t(lang, "relevance"))}: <strong>{escape(words)}</strong></span>'
            f'<span class="rag-bar" role="img" aria-label="{escape(t(lang, "relevance"))} {escape(words)} {escape(rel)}">'
            f'<span class="rag-bar-fill" style="width:{width:.1f}%"></span>'
            f'<span class="rag-bar-cut" style="left:{mark:.1f}%"></span></span>'
            f'<span class="rag-sr">{escape(help_text)}</span></div>{why}')


# --- Sources -------------------------------------------------------------------------------

def highlight(passage: Passage, quotes: list[Quote]) -> str:
    """The passage as escaped HTML with each quote inside it wrapped in <mark>, followed by [n].

    Spans come from character offsets (`quote.start - passage.start`), never from searching the
    text: a phrase that occurs twice in a passage is marked only where it was quoted from.
    """
    # Shown in display form (no Markdown or table markup), cut at the same offsets.
    shown = Document(passage.doc, passage.title, None, passage.text)
    text, out, pos = passage.text, [], 0
    for quote in sorted(quotes, key=lambda q: q.start):
        start = max(quote.start - passage.start, pos)   # never mark a character twice
        end = min(quote.end - passage.start, len(text))
        if end <= start:
            continue
        out.append(escape(display(shown, pos, start)))
        out.append(f'<mark data-n="{quote.n}">{escape(display(shown, start, end))}</mark>'
                   f'<span class="rag-cite">[{quote.n}]</span>')
        pos = end
    out.append(escape(display(shown, pos, len(text))))
    return "".join(out)


def cited_passages(answer: Answer) -> list[tuple[Passage, list[Quote]]]:
    """Each passage that holds a quote, with its quotes, in order of the first citation number.

    A quote that no retrieved passage contains (a question about the documents themselves) is
    shown as a passage of its own, so every [n] still has something to check against.
    """
    groups: list[tuple[Passage, list[Quote]]] = []
    for quote in sorted(answer.quotes, key=lambda q: q.n):
        passage = next((p for p in answer.passages if p.doc == quote.doc
                        and p.start <= quote.start and quote.end <= p.end), None)
        if passage is None:
            passage = Passage(doc=quote.doc, start=quote.start, end=quote.end, title=quote.title,
                              section=quote.section, text=quote.text, score=quote.score, display=quote.display,
                              page=getattr(quote, "page", None))
        for held, quotes in groups:
            if held == passage:
                quotes.append(quote)
                break
        else:
            groups.append((passage, [quote]))
    return groups


def section_name(section: str, lang: str) -> str:
    """A section heading as shown: the text before the first heading is called "introduction"."""
    return t(lang, "intro_section") if section == INTRO_SECTION else section


def passage_card(passage: Passage, quotes: list[Quote], lang: str, turn: int) -> str:
    """One passage: where it comes from, its text with the quotes highlighted, a link into the
    document view and, folded, the character ranges and scores."""
    ids = [q.n for q in quotes]
    card_id = f' id="rag-src-{turn}-{ids[0]}"' if ids else ""
    anchors = "".join(f'<span id="rag-src-{turn}-{n}" class="rag-anchor"></span>' for n in ids[1:])
    cites = "".join(f'<span class="rag-cite">[{n}]</span> ' for n in ids)
    first = quotes[0] if quotes else None
    facts = [t(lang, "where", doc=passage.doc, start=passage.start, end=passage.end),
             t(lang, "retrieval_score", score=f"{passage.score:.4f}")]
    for q in quotes:
        facts += [t(lang, "quote_where", n=q.n, start=q.start, end=q.end), t(lang, "quote_score", score=f"{q.score:.4f}")]
    details = "".join(f"<li>{escape(fact)}</li>" for fact in facts)
    target = first or passage
    open_button = (f'<button type="button" class="rag-open rag-linkish" data-doc="{escape(passage.doc)}" data-sec="-1" '
                   f'data-start="{target.start}" data-end="{target.end}" data-n="{first.n if first else 0}" '
                   f'data-lang="{lang}">{escape(t(lang, "open_in_document"))}</button>')
    back = (f'<a class="rag-back" href="#rag-turn-{turn}">{escape(t(lang, "back_to_answer"))}</a>' if quotes else "")
    page = getattr(target, "page", None)
    where_page = f' · <span class="rag-page">{escape(t(lang, "page", page=page))}</span>' if page else ""
    return (
        f'<div class="rag-card"{card_id} tabindex="-1">{anchors}'
        f'<div class="rag-where">{cites}<span{lang_attr(passage.title)}>{escape(passage.title)}</span> › '
        f'<span{lang_attr(passage.section)}>{escape(section_name(passage.section, lang))}</span>{where_page}</div>'
        f'<p class="rag-passage"{lang_attr(passage.text)}>{highlight(passage, quotes)}</p>'
        f'<div class="rag-card-tools">{open_button} {original_link(passage.doc, page, lang)} {back}</div>'
        f'<details class="rag-more"><summary>{escape(t(lang, "details"))}</summary><ul>{details}</ul></details>'
        f'</div>'
    )


def original_link(doc: str, page: int | None, lang: str) -> str:
    """A link that opens the document's original file (served by `api.original_file`), at the
    page for a PDF (`#page=N`, which browsers' PDF viewers follow). Only a PDF, Word file or web
    page gets one: a text file's original is what the card already shows."""
    if not doc.lower().endswith((".pdf", ".docx", ".html", ".htm")):
        return ""
    href = f"api/file/{url_quote(doc)}" + (f"#page={page}" if page else "")
    label = t(lang, "open_original", page=page) if page else t(lang, "open_original_file")
    return f'<a class="rag-original" href="{escape(href)}" target="_blank" rel="noopener">{escape(label)}</a>'


def sources_group(turn: Turn, lang: str, latest: bool) -> str:
    """The sources of one answer: its cited passages (or, for a refusal, the nearest ones), in a
    fold that is open for the latest answer."""
    answer = turn.answer
    question = escape(answer.question)
    if answer.abstained:
        head = t(lang, "nearest_for", question="\x00")
        cards = "".join(passage_card(p, [], lang, turn.n) for p in answer.passages)
    else:
        head = t(lang, "sources_for", question="\x00")
        cards = "".join(passage_card(p, qs, lang, turn.n) for p, qs in cited_passages(answer))
    label, rest = head.split("\x00")
    nearest = f'<h3 class="rag-nearest">{escape(t(lang, "nearest"))}</h3>' if answer.abstained else ""
    summary = f'{escape(label)}<span{lang_attr(answer.question)}>{question}</span>{escape(rest)}'
    return (f'<details class="rag-group{" rag-abstained" if answer.abstained else ""}" id="rag-srcs-{turn.n}" '
            f'lang="{lang}"{" open" if latest else ""}>'
            f'<summary class="rag-summary"><span class="rag-turn-no">{escape(t(lang, "turn", n=turn.n))}</span> '
            f'{summary}</summary>'
            f'{nearest}{relevance_html(answer, turn.strictness, lang)}{cards}</details>')


def sources_html(turns: list[Turn], forced: str | None = None) -> str:
    """The sources panel: every answer's sources, latest first and open, earlier ones folded; a
    polite live status line announces each new answer's sources."""
    if not turns:
        return empty_sources(forced or DEFAULT_LANGUAGE)
    latest = turns[-1]
    lang = turn_language(latest, forced)
    status = (t(lang, "status_abstained") if latest.answer.abstained
              else t(lang, "status_answered", count=len(latest.answer.quotes)))
    groups = "".join(sources_group(turn, turn_language(turn, forced), turn is latest) for turn in reversed(turns))
    return (f'<section class="rag-sources" aria-label="{escape(t(lang, "sources"))}" lang="{lang}">'
            f'<h2 class="rag-h">{escape(t(lang, "sources"))}</h2>'
            f'<p class="rag-status" role="status" aria-live="polite">{escape(status)}</p>{groups}</section>')


def empty_sources(lang: str) -> str:
    """The sources panel before any question."""
    return (f'<section class="rag-sources" aria-label="{escape(t(lang, "sources"))}" lang="{lang}">'
            f'<h2 class="rag-h">{escape(t(lang, "sources"))}</h2>'
            f'<p class="rag-status rag-empty" role="status" aria-live="polite">{escape(t(lang, "sources_empty"))}</p></section>')


# --- Answers -------------------------------------------------------------------------------

def citation_line(quote: Quote) -> str:
    """A citation as one line of text (the CLI's form)."""
    return f"[{quote.n}] {quote.title} · {quote.section} · {quote.doc} [{quote.start}:{quote.end}]"


def answer_words(answer: Answer, lang: str) -> str:
    """The answer's text as the page shows it: the not-found message in the page's language
    (it follows the language switch like the rest of the page); quotes as they are."""
    if answer.abstained and answer.answer in NOT_FOUND.values():
        return NOT_FOUND.get(lang, answer.answer)
    return answer.answer


def plain_text(answer: Answer, lang: str | None = None) -> str:
    """What Copy puts on the clipboard: the quotes with their [n], then the citations as lines."""
    if answer.abstained:
        return answer_words(answer, lang or answer.lang)
    return answer.answer + "\n\n" + "\n".join(citation_line(q) for q in answer.quotes)


def turn_markdown(turn: Turn, lang: str) -> str:
    """One question and its answer as Markdown: quotes as a block quote, citations as a list."""
    answer = turn.answer
    lines = [f"## {t(lang, 'turn', n=turn.n)} {answer.question}", ""]
    understood = getattr(answer, "understood_as", None)
    if understood:
        lines += [f"*{t(lang, 'understood_as', text=understood)}*", ""]
    lines += [f"> {line}" for line in answer_words(answer, lang).split("\n")]
    if answer.quotes:
        lines += ["", f"{t(lang, 'export_sources')}:", ""] + [f"- {citation_line(q)}" for q in answer.quotes]
    return "\n".join(lines) + "\n\n"


def suggestions(answer: Answer, documents: dict[str, Document]) -> list[tuple[str, int, str]]:
    """The sections nearest to a refused question, best first: (doc, section index, heading)."""
    out: list[tuple[str, int, str]] = []
    for passage in sorted(answer.passages, key=lambda p: -p.score):
        document = documents.get(passage.doc)
        if document is None:
            continue
        sections = outline(document).sections
        index = next((i for i, s in enumerate(sections) if s.start <= passage.start < s.end), None)
        # The text before the first heading (introduction, byline) is no topic to suggest.
        if index is None or sections[index].heading is None or any(d == passage.doc and i == index for d, i, _ in out):
            continue
        out.append((passage.doc, index, sections[index].title))
        if len(out) == MAX_SUGGESTIONS:
            break
    return out


def span_in_quote_html(quote: Quote, span) -> str:
    """The quote's words (display form) with the answer span inside it marked, by offsets."""
    shown = Document(quote.doc, quote.title, None, quote.text)
    a, b = span.start - quote.start, span.end - quote.start
    return (f'{text_html(display(shown, 0, a))}<mark class="rag-answer">{text_html(display(shown, a, b))}</mark>'
            f'{text_html(display(shown, b, len(quote.text)))}')


def quote_html(quote: Quote, turn: int, lang: str, span=None, titled: bool = False) -> str:
    """A quote's words followed by its [n] as a link to its source card; the answer span, when
    it lies in this quote, is marked inside it. `titled`: its document's title first (an answer
    quoting several documents)."""
    label = escape(t(lang, "cite_label", n=quote.n))
    words = quote.display or quote.text
    inside = span is not None and span.quote == quote.n and quote.start <= span.start < span.end <= quote.end
    body = span_in_quote_html(quote, span) if inside else text_html(words)
    columns = (f'<span class="rag-columns"{lang_attr(quote.columns)}>{text_html(quote.columns)}</span> '
               if quote.columns else "")
    if titled:
        columns = f'<span class="rag-doc-title"{lang_attr(quote.title)}>《{text_html(quote.title)}》</span>' + columns
    return (f'<p class="rag-quote">{columns}<span{lang_attr(words)}>{body}</span> '
            f'<a class="rag-cite-link" href="#rag-src-{turn}-{quote.n}" data-n="{quote.n}" '
            f'aria-label="{label}">[{quote.n}]</a></p>')


def answer_html(turn: Turn, lang: str, documents: dict[str, Document]) -> str:
    """One question and its answer. Answered: the quotes with linked [n]. Refused: the message,
    the nearest sections as topics to ask (and to open), and a link to the outline."""
    answer = turn.answer
    parts = []
    understood = getattr(answer, "understood_as", None)
    if understood:
        parts.append(f'<p class="rag-understood">{escape(t(lang, "understood_as", text=understood))}</p>')
    note = getattr(answer, "note", None)
    if note:
        parts.append(f'<p class="rag-note"{lang_attr(note)}>{text_html(note)}</p>')
    if answer.abstained:
        parts.append(f'<p class="rag-notfound">{escape(answer_words(answer, lang))}</p>')
        items = "".join(
            f'<li><button type="button" class="rag-suggest" data-ask="{escape(topic_question(title, documents[doc].title))}"'
            f'{lang_attr(title)}>{escape(topic(title))}</button> <button type="button" class="rag-open rag-linkish" '
            f'data-doc="{escape(doc)}" data-sec="{index}" data-lang="{lang}">{escape(t(lang, "suggest_open"))}</button></li>'
            for doc, index, title in suggestions(answer, documents))
        if items:
            parts.append(f'<p class="rag-suggest-title">{escape(t(lang, "suggest_title"))}</p>'
                         f'<ul class="rag-suggestions">{items}</ul>')
        parts.append(f'<p><a class="rag-jump" href="#rag-docs-top">{escape(t(lang, "see_outline"))}</a></p>')
    else:
        span = getattr(answer, "span", None)
        if span is not None:
            words = span.display or span.text
            parts.append(f'<p class="rag-span"><strong{lang_attr(words)}>{text_html(words)}</strong></p>')
        titled = len({q.doc for q in answer.quotes}) > 1
        parts += [quote_html(q, turn.n, lang, span, titled) for q in sorted(answer.quotes, key=lambda q: q.n)]
    tools = (f'<div class="rag-tools"><button type="button" class="rag-copy" data-copy="{escape(plain_text(answer, lang))}" '
             f'data-copied="{escape(t(lang, "copied"))}">{escape(t(lang, "copy"))}</button>'
             f' <a class="rag-jump" href="#rag-srcs-{turn.n}">{escape(t(lang, "jump_sources"))}</a></div>')
    return (f'<article class="rag-turn" id="rag-turn-{turn.n}" tabindex="-1" lang="{lang}" '
            f'data-md="{escape(turn_markdown(turn, lang))}">'
            f'<div class="rag-msg rag-user"><span class="rag-who">{escape(t(lang, "you"))}</span>'
            f'<p class="rag-q"{lang_attr(answer.question)}>{text_html(answer.question)}</p></div>'
            f'<div class="rag-msg rag-bot"><span class="rag-who">{escape(t(lang, "bot"))}</span>{"".join(parts)}{tools}</div>'
            f'</article>')


def conversation_html(turns: list[Turn], documents: dict[str, Document], forced: str | None = None,
                      title: str = "") -> str:
    """The whole conversation; `data-lang` on the root is the language of the page's latest
    answer (the page sets `<html lang>` from it)."""
    lang = turn_language(turns[-1], forced) if turns else (forced or "")
    body = "".join(answer_html(turn, turn_language(turn, forced), documents) for turn in turns)
    ui = lang or DEFAULT_LANGUAGE
    if not turns:
        body = f'<p class="rag-empty">{escape(t(ui, "conversation_empty"))}</p>'
    download = (f'<button type="button" class="rag-download" data-title="{escape(title)}" '
                f'data-heading="{escape(t(ui, "export_title"))}">{escape(t(ui, "download"))}</button>' if turns else "")
    return (f'<section class="rag-chat" aria-label="{escape(t(ui, "conversation"))}" data-lang="{lang}">'
            f'{body}{download}</section>')


# --- Documents -----------------------------------------------------------------------------

def outline_html(documents: list[Document], lang: str) -> str:
    """The outline of every document: its sections, indented by level, each a button that opens
    the section's full text below."""
    blocks = []
    for document in documents:
        sections = outline(document).sections
        items = "".join(
            f'<li style="margin-left:{(len(s.path) - 1) * 1.1:.1f}em"><button type="button" class="rag-open rag-linkish" '
            f'data-doc="{escape(document.path)}" data-sec="{i}" data-lang="{lang}"{lang_attr(s.title)}>'
            f'{escape(section_name(s.title, lang))}</button></li>'
            for i, s in enumerate(sections))
        count = escape(t(lang, "sections_count", count=len(sections)))
        blocks.append(f'<details class="rag-doc"{" open" if len(documents) == 1 else ""}>'
                      f'<summary><span{lang_attr(document.title)}>{escape(document.title)}</span> '
                      f'<span class="rag-muted">· {escape(document.path)} · {count}</span></summary>'
                      f'<ul class="rag-outline">{items}</ul></details>')
    return (f'<section class="rag-docs" aria-label="{escape(t(lang, "documents"))}" lang="{lang}">'
            f'<h2 class="rag-h" id="rag-docs-top" tabindex="-1">{escape(t(lang, "documents"))}</h2>'
            f'<p class="rag-muted">{escape(t(lang, "documents_help"))}</p>{"".join(blocks)}'
            f'<div class="rag-view" hidden></div></section>')


def section_html(document: Document, index: int, quote: tuple[int, int] | None, n: int, lang: str) -> str:
    """The full text of section `index` of `document` (display form), with the quoted range
    [start, end) highlighted when it lies in the section. `index` -1: the section holding the quote."""
    sections = outline(document).sections
    if index < 0 and quote:
        index = next((i for i, s in enumerate(sections) if s.start <= quote[0] < s.end), 0)
    section = sections[max(0, min(index, len(sections) - 1))]
    # The heading is the view's title: the text starts after it, unless the quote is the heading.
    start = section.blocks[0].start if section.blocks and not (quote and quote[0] < section.blocks[0].start) \
        else section.start
    passage = Passage(doc=document.path, start=start, end=section.end, title=document.title,
                      section=section.title, text=document.text[start:section.end], score=0.0)
    # n 0: a refusal's nearest passage, opened where it lies; it is not a quote, so nothing is
    # marked and no "[0]" is shown.
    inside = n > 0 and quote and start <= quote[0] and quote[1] <= section.end and quote[1] > quote[0]
    marked = ([Quote(doc=document.path, start=quote[0], end=quote[1], n=n, text="", title="", section="", score=0.0)]
              if inside else [])
    body = highlight(passage, marked)
    note = f'<p class="rag-muted">{escape(t(lang, "quoted_here", n=n))}</p>' if marked else ""
    path = " › ".join(escape(section_name(p, lang)) for p in section.path)
    return (f'<h3 class="rag-view-title" tabindex="-1"><span{lang_attr(document.title)}>{escape(document.title)}</span> › '
            f'<span{lang_attr(section.title)}>{path}</span></h3>{note}'
            f'<p class="rag-passage rag-section-text"{lang_attr(passage.text)}>{body}</p>'
            f'<button type="button" class="rag-close rag-linkish">{escape(t(lang, "section_close"))}</button>')
