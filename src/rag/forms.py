"""Questions about the documents themselves, recognised by their form rather than by similarity.

- *Nth section*: "第五个发展方向是什么？", "趋势二讲了什么？", "What is the fifth section about?"
  is answered with that section's heading, for any numbering word and style the documents use
  (`structure.heading_form`).
- *Stands for*: "What does GaaS stand for?", "DRG的英文全称是什么？" is answered with the term's
  inline definition "GaaS(Generative AI as a Service)" (Schwartz & Hearst's abbreviation pattern).
- *Source*: "这篇文章的来源是哪里？" is answered with the line of the document naming the source
  its metadata gives; *author*: "这篇文章是谁写的？" with its byline (作者：…) near the top.
- *Outline*: "文章提到了哪些趋势？", "报告包括哪几个方向？" is answered with the headings of the
  numbered sections whose numbering word is what is asked for (趋势一…趋势十), one quote each.
- *Listed under a heading*: "社区老年食堂存在哪些问题？" is answered with the list under the one
  heading that names what is asked for (三、存在的问题), when the rest of the question's words
  are the document's title and that heading: the report's own list is the answer, though its
  items rarely repeat the question's words.

Each picks its document from the question's evidence (a heading word the question repeats, a
term the document defines, a document title it names) before retrieval's ranking, and the
citation names that document. The answer's offsets point into that document's text. A
question that only says "the article" ("文章第二部分讲的是什么？") in a corpus of several
documents, with no conversation saying which, is answered (section, source, byline) from each
document that has that part, not from whichever one retrieval happened to rank first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .corpus import Document, Located
from .lexical import cjk_bigrams, english_stems
from .structure import Section, numeral, outline


@dataclass(frozen=True)
class FormAnswer(Located):
    """The span a question about the documents themselves is answered with."""

    section: str
    form: str  # "section", "gloss", "source", "byline", "list" or "outline"
    #: For an outline answer: every heading quoted, as (start, end, section title), in order.
    parts: tuple[tuple[int, int, str], ...] = ()
    #: The same part of other documents, when the question does not say which document
    #: (`form_answer`'s `every_document`), and how many documents have one in all.
    others: tuple[FormAnswer, ...] = ()
    documents_found: int = 1


_CN_NUM = "一二三四五六七八九十百两"
_EN_ORDINALS = {w: i for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split(), start=1)}
_ASKS_ABOUT = (r"(?:是什么|是啥|叫什么|讲了?什么|讲的是|讲述|说了?什么|说的是|主要|关于|介绍|的?标题|的?题目|"
               r"的?名称|的?名字|的?主题|的?话题|是哪|内容|谈)")
_NTH_ZH = re.compile(rf"第\s*(?P<n>[{_CN_NUM}]+|\d+)\s*(?:个|条|项|大|点)?\s*(?P<noun>[\u4e00-\u9fff]{{0,6}}?)\s*{_ASKS_ABOUT}")
_WORD_NUMERAL_ZH = re.compile(rf"(?P<noun>[\u4e00-\u9fff]{{1,4}}?)\s*(?P<n>[{_CN_NUM}]+|\d+)\s*(?:[:：])?\s*{_ASKS_ABOUT}")
#: A section inside a numbered section: "第二章第一节", "第三部分的第二节".
_NESTED_ZH = re.compile(rf"第\s*(?P<n>[{_CN_NUM}]+|\d+)\s*(?P<noun>章|部分|篇|节)\s*(?:的|中的|里的)?\s*"
                        rf"第\s*(?P<m>[{_CN_NUM}]+|\d+)\s*(?:节|小节|部分|点)?\s*{_ASKS_ABOUT}")
_LAST_ZH = re.compile(rf"(?:最后|末尾)\s*一?\s*(?:个|条|项|大)?\s*(?P<noun>[\u4e00-\u9fff]{{0,6}}?)\s*{_ASKS_ABOUT}")
_LAST_EN = re.compile(r"\b(?:last|final)\s+(?P<noun>[a-z]+)\b", re.IGNORECASE)
_NTH_EN = re.compile(r"\b(?P<n>" + "|".join(_EN_ORDINALS) + r"|\d+(?:st|nd|rd|th))\s+(?P<noun>[a-z]+)\b", re.IGNORECASE)
_NOUN_NUMBER_EN = re.compile(r"\b(?P<noun>section|part|chapter|trend|direction|point)\s+(?P<n>\d+)\b", re.IGNORECASE)
_ASKS_ABOUT_EN = re.compile(r"\b(?:what|which|name|title|called|about|heading)\b", re.IGNORECASE)
#: Words that say "a part of the document" without naming its kind.
_GENERIC_ZH = ("部分", "章", "节", "篇", "段", "")
#: What may stand around an Nth-section question besides the form itself.
_FILLER_ZH = re.compile(r"是什么|叫什么|是啥|是哪个|是哪些|有哪些|哪(?:个|一个|些)?方面|什么|内容|主要|讲|说|"
                        r"文章|本文|这篇|该文|全文|原文|文中|报告|资料|的|中|里|了|请问|呢|吗|[？?。！!，,\s]")
#: English words for "a part of the document" that name no kind of heading (a "chapter" is 章).
_GENERIC_EN = frozenset({"section", "part", "paragraph", "point"})
_FILLER_EN = frozenset("article document text report section part chapter heading title name call about topic "
                       "the of in is what which".split())


def _docs_by_hits(documents: dict[str, Document], hit_docs: list[str]) -> list[Document]:
    """The documents, those retrieval ranked first (in its order), then the rest by path."""
    order = list(dict.fromkeys(hit_docs)) + sorted(d for d in documents if d not in hit_docs)
    return [documents[d] for d in order if d in documents]


def _nth_request(question: str) -> tuple[int, str, str] | None:
    """(n, noun, language) when the question asks what its Nth section is, else None; n is -1
    for the last one ("最后一部分", "the last section")."""
    for pattern in (_NTH_ZH, _WORD_NUMERAL_ZH, _LAST_ZH):
        match = pattern.search(question)
        if match:
            n = -1 if pattern is _LAST_ZH else numeral(match.group("n"))
            rest = _FILLER_ZH.sub("", question[:match.start()] + question[match.end():])
            if n and len(rest) <= 2:
                return n, match.group("noun"), "zh"
    if _ASKS_ABOUT_EN.search(question):
        for pattern in (_NTH_EN, _NOUN_NUMBER_EN, _LAST_EN):
            match = pattern.search(question)
            if match:
                token = match.group("n").lower() if pattern is not _LAST_EN else match.group().split()[0].lower()
                n = -1 if pattern is _LAST_EN else _EN_ORDINALS.get(token) or int(re.match(r"\d+", token).group())
                words = set(re.findall(r"[a-z]+", question.lower())) - {token, match.group("noun").lower()}
                if not [w for w in english_stems(" ".join(words)) if w not in _FILLER_EN]:
                    return n, match.group("noun").lower(), "en"
    return None


def _heading_word(section: Section) -> str:
    """The word that names a numbered heading's kind: 方向 in "方向五：…", 章 in "第五章 …",
    部分 in "第二部分 …", chapter in "Chapter 5 …"; "" for "五、…" or "5. …"."""
    for pattern in (_WORD_HEADING, _CHAPTER_HEADING, _ENGLISH_HEADING):
        match = pattern.match(section.title)
        if match:
            return match.group(1).lower()
    return ""


_WORD_HEADING = re.compile(rf"([\u4e00-\u9fff]{{1,4}}?)\s*(?:[{_CN_NUM}]+|\d+)\s*[:：]")
_CHAPTER_HEADING = re.compile(rf"第\s*(?:[{_CN_NUM}]+|\d+)\s*(部分|[章节篇编卷讲])")
_ENGLISH_HEADING = re.compile(r"(part|chapter|section)\s", re.IGNORECASE)


def _names_kind(noun: str, word: str) -> bool:
    """Whether the question's noun names the heading word: 发展方向 ~ 方向, 章 ~ 章."""
    return bool(noun and word) and (word in noun or noun in word or (len(noun) >= 2 and noun[-2:] in word))


def _numbered_groups(document: Document) -> dict[tuple[str, str], list[Section]]:
    """The numbered sections of `document` by (numbering style, heading word), each in order."""
    groups: dict[tuple, list[Section]] = {}
    for section in outline(document).sections:
        if section.number is not None:
            groups.setdefault((section.style, _heading_word(section)), []).append(section)
    return groups


def _named_sections(document: Document, nouns: tuple[str, ...]) -> list[Section]:
    """The numbered sections whose heading word one of `nouns` names (第五个**方向** -> 方向一…
    方向六; 第四**章** -> 第一章…第四章), else []."""
    groups = _numbered_groups(document)
    for noun in nouns:
        named = [g for (_, word), g in groups.items() if _names_kind(noun, word)]
        if named:
            return named[0]
    return []


def _numbered_sections(document: Document, noun: str, explicit_word: bool) -> list[Section]:
    """The sections an Nth-section question about `noun` counts, in order, or [] when `noun`
    names a kind of section this document does not have."""
    named = _named_sections(document, (noun,))
    if named or (noun and noun not in _GENERIC_ZH and not noun.isascii()) or explicit_word:
        # "趋势二" with no heading starting 趋势: not a question about this document's layout
        return named
    groups = _numbered_groups(document)
    if not groups:
        return []
    depth = {key: min(len(s.path) for s in g) for key, g in groups.items()}
    return max(groups.values(), key=lambda g: (-depth[(g[0].style, _heading_word(g[0]))], len(g)))


def _nested_request(question: str) -> tuple[int, str, int] | None:
    """(n, noun, m) when the question asks what the Mth section inside its Nth section is
    ("第二章第一节的标题是什么？" -> (2, "章", 1)), else None."""
    match = _NESTED_ZH.search(question)
    if not match:
        return None
    n, m = numeral(match.group("n")), numeral(match.group("m"))
    rest = _FILLER_ZH.sub("", question[:match.start()] + question[match.end():])
    return (n, match.group("noun"), m) if n and m and len(rest) <= 2 else None


def _nth(sections: list[Section], n: int) -> Section | None:
    """The section numbered `n` (-1: the last), else the `n`th in order."""
    if n == -1:
        return sections[-1] if sections else None
    chosen = next((s for s in sections if s.number == n), None)
    if chosen is None and len(sections) >= n > 0:
        chosen = sections[n - 1]
    return chosen


def _nested_section_answer(request: tuple[int, str, int], documents: dict[str, Document],
                           hit_docs: list[str]) -> list[FormAnswer]:
    """The heading of the Mth section inside the Nth one (`_nested_request`: "第二章第一节") in
    each document that has both, those retrieval found first."""
    n, noun, m = request
    found = []
    for document in _docs_by_hits(documents, hit_docs):
        outer = _nth(_numbered_sections(document, noun, False), n)
        if outer is None:
            continue
        depth = len(outer.path)
        inner = _nth([s for s in outline(document).sections if s.number is not None and len(s.path) == depth + 1
                      and s.path[:depth] == outer.path], m)
        if inner is not None and inner.heading:
            found.append(FormAnswer(doc=document.path, start=inner.heading[0], end=inner.heading[1],
                                    section=inner.title, form="section"))
    return found


def section_answers(question: str, documents: dict[str, Document], hit_docs: list[str],
                    glosses: dict[str, tuple[str, ...]] | None = None) -> list[FormAnswer]:
    """The heading of the Nth section the question asks about, in each document that has one,
    those retrieval found (`hit_docs`) first. When the question's noun names a kind of heading
    some documents have (第四**章**, the fifth **direction**: 方向 among an English word's
    `glosses`, its Chinese translations in the corpus), only theirs."""
    nested = _nested_request(question)
    if nested:
        return _nested_section_answer(nested, documents, hit_docs)
    request = _nth_request(question)
    if request is None:
        return []
    n, noun, lang = request
    explicit = bool(_WORD_NUMERAL_ZH.search(question)) and not _NTH_ZH.search(question)
    kinds = (noun,) if lang == "zh" or noun in _GENERIC_EN else \
        (noun, *(glosses or {}).get(next(iter(english_stems(noun)), ""), ()))
    ordered = _docs_by_hits(documents, hit_docs)
    named = [(d, _nth(_named_sections(d, kinds), n)) for d in ordered]
    found = [(d, section) for d, section in named if section is not None]
    if not found:
        found = [(d, _nth(_numbered_sections(d, noun if lang == "zh" else "", explicit), n)) for d in ordered]
    return [FormAnswer(doc=d.path, start=s.heading[0], end=s.heading[1], section=s.title, form="section")
            for d, s in found if s is not None and s.heading]


_OUTLINE_ZH = re.compile(r"(?:哪些|哪几[个条项大点]?|几[个条项大点]|多少[个条项])\s*(?P<noun>[\u4e00-\u9fff]{1,4}?)\s*[？?。]?$")
_OUTLINE_FILLER_ZH = re.compile(r"文章|本文|这篇|该文|全文|原文|文中|报告|资料|文档|提到|讲到|谈到|说到|列出|列举|介绍|"
                                r"包括|包含|分为|总结|归纳|讨论|共|一共|总共|有|了|的|里|中|请问|呢|吗|[？?。！!，,\s]")


def outline_answer(question: str, documents: dict[str, Document], hit_docs: list[str],
                   max_items: int = 20) -> FormAnswer | None:
    """The headings of the numbered sections a question like "文章提到了哪些趋势？" asks for:
    the numbering word of the headings (趋势一, 趋势二, …) is the noun asked about, and the rest
    of the question is only about the document. At least two such sections, at most `max_items`."""
    match = _OUTLINE_ZH.search(question)
    if not match or _OUTLINE_FILLER_ZH.sub("", question[:match.start()]):
        return None
    for document in _docs_by_hits(documents, hit_docs):
        sections = [s for s in _numbered_sections(document, match.group("noun"), True) if s.heading]
        if 2 <= len(sections) <= max_items:
            parts = tuple((s.heading[0], s.heading[1], s.title) for s in sections)
            return FormAnswer(doc=document.path, start=parts[0][0], end=parts[0][1], section=parts[0][2],
                              form="outline", parts=parts)
    return None


# "What does X stand for", "X的英文全称": the inline definition "term(gloss)".
_ASKS_GLOSS = re.compile(r"stand(?:s)? for|abbreviat|acronym|full (?:name|form|term)|spelled out|in english|"
                         r"english (?:name|term|word)|chinese (?:name|term|word)|全称|缩写|简称|英文|英语|中文",
                         re.IGNORECASE)
#: "What does X mean / refer to", "X指的是什么": the expansion answers only when X is the
#: abbreviation ("NDVI指的是什么"); for a Chinese term ("跨境电商指的是什么") the answer is its
#: definition, which the normal path finds.
_ASKS_MEANING = re.compile(r"refers? to|\bmean\W*$|指的是|指什么|什么意思|代表什么", re.IGNORECASE)
#: Where a term's Chinese run starts when the question names only its acronym: after these.
_TERM_BREAK = re.compile(r".*(?:属于|是|为|即|称为|叫做)")
_GLOSS = re.compile(r"[(（]([^()（）\n]*[A-Za-z][^()（）\n]*)[)）]")
_LATIN_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9]*$")
_CJK_BEFORE = re.compile(r"[\u3400-\u9fff]{2,12}$")
_LATIN_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]+")


def _mentions(question: str, term: str) -> bool:
    """`term` occurs in `question`: as a whole word if it is Latin, anywhere if it is Chinese."""
    if term.isascii():
        return re.search(rf"(?<![A-Za-z0-9]){re.escape(term)}(?![A-Za-z0-9])", question, re.IGNORECASE) is not None
    return term in question


def gloss_span(question: str, document: Document) -> tuple[int, int] | None:
    """(start, end) of the inline definition "term(gloss)" in `document` of a term the question
    asks to expand or translate (or, by its abbreviation, what it means); None otherwise."""
    strong = bool(_ASKS_GLOSS.search(question))
    if not strong and not _ASKS_MEANING.search(question):
        return None
    text = document.text
    for match in _GLOSS.finditer(text):
        before = text[max(0, match.start() - 12):match.start()]
        term = _LATIN_BEFORE.search(before) or _CJK_BEFORE.search(before)
        if not term:
            continue
        name = term.group()
        # "…的隐私计算(Privacy Computing)": start at the longest tail of the Chinese run the question names.
        tails = [name] if name.isascii() else [name[i:] for i in range(len(name) - 1)]
        named = [tail for tail in tails if _mentions(question, tail)]
        # The abbreviation closes the gloss: "(dynamic risk governance,DRG)", "(PFAS)"; an upper-case
        # word inside an expansion ("Generative AI as a Service") is not one.
        acronyms = [t for t in _LATIN_TERM.findall(match.group(1))[-1:]
                    if sum(c.isupper() for c in t) >= 2 and _mentions(question, t)]  # DRG, IoT, GaaS
        if not strong:
            named = []  # a meaning question is about the abbreviation
        if named or acronyms:
            if not named and not name.isascii():
                name = _TERM_BREAK.sub("", name).lstrip("的") or name  # "…属于全氟和多氟烷基物质(PFAS)": from 全氟
            return match.start() - len(named[0] if named else name), match.end()
    return None


# Where the document comes from.
_ASKS_SOURCE = re.compile(
    r"(?:文章|本文|这篇|原文|该文|全文|报告|资料)[^，。？?]{0,8}(?:来源|出处|出自|转载|来自|发表|刊登|发布在)|转载自|出自哪|哪个网站|"
    r"哪家媒体|source of (?:this|the) (?:article|text|report|document)|"
    r"where (?:is|was|does|did) (?:this|the) (?:article|text|report|document)|which (?:website|site|outlet)", re.IGNORECASE)


def source_span(document: Document) -> tuple[int, int] | None:
    """(start, end) of the line of `document` that names its source (from its metadata)."""
    if not document.source or document.source not in document.text:
        return None
    at = document.text.rindex(document.source)
    start = document.text.rfind("\n", 0, at) + 1
    end = document.text.find("\n", at)
    end = len(document.text) if end < 0 else end
    line = document.text[start:end]
    return start + len(line) - len(line.lstrip()), start + len(line.rstrip())


# Who wrote the document: its byline line (作者：…, By …).
_ASKS_AUTHOR = re.compile(r"谁写的|作者是谁|作者是哪|是谁撰写|撰稿人|\bwho (?:wrote|is the author)|\bauthor of", re.IGNORECASE)
_BYLINE = re.compile(r"^[> \t*]*(?:作者|撰文|文\s*/|记者|by\b)[ \t]*[:：]?[ \t]*\S", re.IGNORECASE | re.MULTILINE)


def byline_span(document: Document) -> tuple[int, int] | None:
    """(start, end) of the document's byline line, if it has one in its first lines."""
    match = _BYLINE.search(document.text, 0, 400)
    if not match:
        return None
    end = document.text.find("\n", match.start())
    start = next(i for i in range(match.start(), match.end()) if document.text[i] not in "> *\t")
    return start, (len(document.text) if end < 0 else end)


#: "…存在哪些问题？", "下一步有哪些措施？": what is listed (问题, 措施) ends the question after 哪些.
_ASKS_LIST = re.compile(r"^(?P<topic>.*?)哪些(?P<noun>[\u4e00-\u9fff]{2,4})\s*(?:呢|吗)?\s*[？?。]?\s*$")
#: Characters that carry no topic: a bigram holding one does not have to be found.
_LIST_FILLER = frozenset("的了是有和与及其中吗呢请问目前主要还都也又")
#: The share of the topic's bigrams the document title and the heading path must hold.
_LIST_TOPIC_SHARE = 0.6


def list_span(question: str, document: Document, max_items: int) -> tuple[Section, int, int] | None:
    """The list under the one heading of `document` that names what `question` asks to list
    (…哪些问题 → a heading with 问题) and whose words, with the title's, hold the question's
    other words (at least `_LIST_TOPIC_SHARE` of their bigrams): (section, start, end) of its
    first `max_items` items (of its first paragraph when it has no list), else None."""
    asked = _ASKS_LIST.match(question.strip())
    if not asked:
        return None
    topic = cjk_bigrams(asked.group("topic"), _LIST_FILLER)
    if not topic:
        return None   # "有哪些问题？" alone: which document's, which section's?
    in_title = topic & cjk_bigrams(document.title, _LIST_FILLER)
    fitting = []   # (how many of the topic's bigrams its own heading path holds, section)
    for section in outline(document).sections:
        if section.heading and asked.group("noun") in section.title:
            own = topic & cjk_bigrams(" ".join(section.path), _LIST_FILLER)
            if len(own | in_title) >= _LIST_TOPIC_SHARE * len(topic):
                fitting.append((len(own), section))
    # Of several (二、存在的问题 and 五、其他问题), the one whose own heading repeats most of the
    # question's words; none when that does not single one out.
    best = max((n for n, _ in fitting), default=0)
    chosen = [section for n, section in fitting if n == best]
    if len(chosen) != 1:
        return None
    section = chosen[0]
    items = [b for b in section.blocks if b.kind == "item"][:max_items]
    if not items:   # a section written as prose: its first paragraph
        items = [b for b in section.blocks if b.kind == "paragraph"][:1]
    if not items:
        return None
    return section, items[0].start, items[-1].end


def _section_of(document: Document, position: int) -> str:
    sections = outline(document).sections
    return next((s.title for s in sections if s.start <= position < s.end), sections[0].title if sections else "")


def form_answer(question: str, documents: dict[str, Document], hit_docs: list[str], max_items: int = 6,
                every_document: bool = False, glosses: dict[str, tuple[str, ...]] | None = None,
                max_documents: int = 10) -> FormAnswer | None:
    """The answer to a question about the documents themselves, or None for other questions.

    `hit_docs` are the documents of the retrieved passages, best first: they break ties when the
    question's own words do not single out a document. A list answer quotes at most `max_items`
    items. `every_document`: the question says only "the article" in a corpus of several and no
    conversation says which; a section, source or byline answer then holds the same part of
    each document that has one (`others`, at most `max_documents` in all), not a guess at one of
    them. `glosses`: an English word's Chinese translations in the corpus (its stem -> words),
    for the noun of "the fifth direction"."""
    found = section_answers(question, documents, hit_docs, glosses)
    if found:
        return _with_others(found, every_document, max_documents)
    answer = outline_answer(question, documents, hit_docs)
    if answer:
        return answer
    for path in dict.fromkeys(hit_docs):   # only documents retrieval found: the question is about them
        found = list_span(question, documents[path], max_items) if path in documents else None
        if found:
            section, start, end = found
            return FormAnswer(doc=path, start=start, end=end, section=section.title, form="list")
    if _ASKS_GLOSS.search(question) or _ASKS_MEANING.search(question):
        for document in _docs_by_hits(documents, hit_docs):
            span = gloss_span(question, document)
            if span:
                return FormAnswer(doc=document.path, start=span[0], end=span[1],
                                  section=_section_of(document, span[0]), form="gloss")
    for asks, span_of, form in ((_ASKS_SOURCE, source_span, "source"), (_ASKS_AUTHOR, byline_span, "byline")):
        if not asks.search(question):
            continue
        found = [FormAnswer(doc=document.path, start=span[0], end=span[1], section=_section_of(document, span[0]),
                            form=form)
                 for document in _docs_by_hits(documents, hit_docs) for span in [span_of(document)] if span]
        if found:
            return _with_others(found, every_document, max_documents)
    return None


def _with_others(found: list[FormAnswer], every_document: bool, max_documents: int) -> FormAnswer:
    """The first answer, with the others (up to `max_documents` in all) when every document's counts."""
    if not every_document or len(found) == 1:
        return found[0]
    return replace(found[0], others=tuple(found[1:max_documents]), documents_found=len(found))
