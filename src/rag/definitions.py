"""Definition questions: "什么叫数字孪生？", "隐私计算是一种怎样的技术？", "How does the article define a
digital twin?". Their answer is the defining words of a sentence that defines the term
("所谓数字孪生，是指**在虚拟空间中构建一个与实体对象实时同步的数字模型**。"), the classic
definition pattern of QA over expository text (T 是指 D, 所谓 T，是指 D, T（gloss）是 D).

The reader, trained on encyclopaedic questions that ask for a name or a number, marks the term
itself or a fragment of the sentence; the defining words are found here instead, in the sentences
retrieval returned. Plain functions over strings and sentences: nothing here reads the index.
"""
from __future__ import annotations

import re

from .chunking import Sentence

#: Asked what a term is, in Chinese: 什么是T / 什么叫T / 何谓T; T是什么 / T指的是什么 / T这个概念具体指什么;
#: T是一种怎样的N.
_ASKS_ZH = (
    re.compile(r"^\s*(?:请问)?(?:什么是|什么叫做?|何谓|啥是)(?P<t>[^？?，,。]{2,20}?)[？?。]?\s*$"),
    re.compile(r"^\s*(?:请问)?(?:所谓)?(?P<t>[^？?，,。]{2,20}?)(?:这个概念|这一概念|这个词|一词|这个说法)?(?:具体)?"
               r"(?:是什么|指的是什么|是指什么|指什么|的定义是什么|的含义是什么|是什么意思)[？?。]?\s*$"),
    re.compile(r"^\s*(?:请问)?(?P<t>[^？?，,。]{2,20}?)是一[种个项类](?:怎样|什么样|什么)的[^？?，,。]{1,8}[？?。]?\s*$"),
)
#: Asked what a term is, in English: what is (a) T, what does T mean, how does the article define T.
_ASKS_EN = (
    re.compile(r"^\s*what\s+(?:is|are)\s+(?:meant\s+by\s+)?(?:an?\s+|the\s+)?(?P<t>[a-z][\w\s-]{1,40}?)\s*\?\s*$", re.I),
    re.compile(r"^\s*what\s+does\s+(?:the\s+term\s+)?(?P<t>[a-z][\w\s-]{1,40}?)\s+mean\s*\?\s*$", re.I),
    re.compile(r"^\s*how\s+(?:does|do)\s+(?:the\s+)?(?:article|text|report|document|it)\s+define\s+"
               r"(?:an?\s+|the\s+)?(?P<t>[a-z][\w\s-]{1,40}?)\s*\?\s*$", re.I),
)
_QUOTES = "“”\"'‘’「」《》"
#: What may stand between the term and its cue: its gloss in brackets, a comma, quotation marks.
_BETWEEN = r"[" + _QUOTES + r"]?(?:\s*\*{0,2}[（(][^（）()\n]{1,60}[）)]\*{0,2})?\s*[，,]?\s*"
#: The cue that the words after it define the term.
_CUE = r"(?:是指|指的是|系指|就是|即|是)"
#: Where the defining words end: the sentence's end.
_END = re.compile(r"[。！？!?；;\n]")
#: A clause that begins so goes on about the term instead of defining it ("，因此常被称为…",
#: "，既包括…", "，对地面交通的影响较小"): the defining words end before it.
_GOES_ON = re.compile(r"[，,]\s*(?:因此|因而|所以|从而|既|其中|核心|对|但|而|这|它|其|故)")
#: Defining words longer than this are cut at the last clause break before it.
MAX_DEFINITION = 120


def defined_term(question: str) -> str | None:
    """The term a definition question asks about ("数字孪生", "digital twin"), else None."""
    for pattern in (*_ASKS_ZH, *_ASKS_EN):
        match = pattern.match(question)
        if match:
            term = re.sub(r"^所谓", "", re.sub("[" + _QUOTES + "]", "", match.group("t")).strip())
            return term or None
    return None


def chinese_terms(term: str, text: str) -> list[str]:
    """The forms `term` may take in `text`: itself; for a Latin term, also the Chinese term the
    text glosses with it in brackets ("数字孪生（Digital Twin）" for "digital twin")."""
    forms = [term]
    if not re.search(r"[\u4e00-\u9fff]", term):
        gloss = re.compile(r"([\u4e00-\u9fff]{2,12})[" + _QUOTES + r"]?\s*\*{0,2}[（(]\s*" + re.escape(term) + r"\b", re.I)
        forms += list(dict.fromkeys(m.group(1) for m in gloss.finditer(text)))
    return forms


def find_definition(term: str, sentences: list[Sentence], text_of) -> tuple[str, int, int] | None:
    """The defining words of the first of `sentences` that defines `term`, as (doc, start, end)
    in its document (`text_of(doc)` gives a document's text): after the cue (是指, 即, 是) that
    follows the term (with its bracketed gloss) up to the sentence's end or a clause that goes on
    about the term (`_GOES_ON`), cut at a clause break when longer than `MAX_DEFINITION`. None when no sentence defines it."""
    forms: dict[str, list[str]] = {}   # per document: a Latin term's glossed forms are looked up once
    for sentence in sentences:
        text = text_of(sentence.doc)
        body = text[sentence.start:sentence.end]
        if sentence.doc not in forms:
            forms[sentence.doc] = chinese_terms(term, text)
        for form in forms[sentence.doc]:
            pattern = re.compile(r"(?:所谓)?[" + _QUOTES + r"]?" + re.escape(form) + _BETWEEN + _CUE + r"\s*", re.I)
            match = pattern.search(body)
            if not match:
                continue
            start = match.end()
            end_match = _END.search(body, start)
            end = end_match.start() if end_match else len(body)
            goes_on = _GOES_ON.search(body, start, end)
            end = goes_on.start() if goes_on else end
            if end - start > MAX_DEFINITION:
                breaks = [m.start() for m in re.finditer(r"[，,]", body[start:start + MAX_DEFINITION])]
                end = start + breaks[-1] if breaks else start + MAX_DEFINITION
            if end - start >= 4:
                return sentence.doc, sentence.start + start, sentence.start + end
    return None
