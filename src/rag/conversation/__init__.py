"""Follow-up questions: resolve a question that leans on the previous turn before retrieval.

A question *leans on the previous turn* when (checked in this order):

1. it is an ellipsis that names a new element for the previous question ("那B200呢？", "B200呢？",
   "What about the B200?", "And B200?"): the previous question is asked again about it;
2. it refers back with a pronoun or a demonstrative (它, 它们, 其, 这个, 这项技术, 该, 此, this,
   it, its, they, these …): the reference is replaced by the previous topic;
3. it has no topic of its own: every content word is an *aspect* word (优势, 原理, 作用, advantages,
   purpose …) or there is none ("有什么优势？", "为什么？", "What are the advantages?"): the
   previous topic is put in front (or after "of").

Anything else is a new topic and starts fresh: the question is answered as typed. Questions about
the document itself ("这篇文章的来源", "this report"), questions that address the assistant ("你是谁？",
"What can you do?"), thanks and greetings ("谢谢", "好的") never lean on the previous turn; a word
with a numeral names a part of its own ("趋势五讲了什么？", "What does trend 5 say?").

Only answered turns are context (`context_entry`): a refused turn (not found, small talk, a
question that could not be understood) adds nothing to the history, so "谢谢" is never a topic.

The *topic* of a question is its first noun phrase, the subject in Chinese topic-comment order
("刷掌支付" in "刷掌支付用到了哪些生物特征？"), the possessor in "X的Y" / "the Y of X"; a phrase
right after a question word is what is asked for (哪些生物特征), not the topic. Chinese is
segmented with the background dictionary (`lexical.Background`, jieba's word frequencies) and
the corpus vocabulary, so the rules hold for any document.

Without a previous turn, a question whose only subject is a pronoun ("它有什么优势？") cannot be
understood: `Resolution.unresolved` is set and the answer stage refuses it with a hint.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..lexical import FUNCTION_CHARS, STOPWORDS, english_stems, has_cjk
from .words import (
    ADDRESSEE_EN,
    ADDRESSEE_ZH,
    ARTICLES,
    ASPECT_STEMS_EN,
    ASPECT_WORDS_ZH,
    BOUNDARY_ZH,
    COURTESY_EN,
    COURTESY_ZH,
    DOCUMENT_DEMONSTRATIVE,
    DOCUMENT_WORDS,
    DUMMY_IT,
    ELLIPSIS_EN,
    ELLIPSIS_ZH,
    EN_AUX,
    EN_AUX_QUESTION,
    EN_BE_QUESTION,
    EN_BREAK,
    EN_WORD,
    END,
    GENERIC_NOUNS_ZH,
    LEAD_EN,
    LEAD_WORDS_ZH,
    LEAD_ZH,
    NUMBERED_EN,
    NUMERAL_ZH,
    PART_WORDS,
    QUESTION_WORD_ZH,
    REFERENCE_EN,
    REFERENCE_ZH,
    SOURCE_VERBS,
    Segmenter,
)


@dataclass(frozen=True)
class Resolution:
    """A question resolved against the conversation.

    `question` is what retrieval and the answer stage use; `understood_as` is set only when it
    differs from what was typed. `kind` is "standalone", "ellipsis", "reference" or "no_topic";
    `unresolved` holds the reference word when the question leans on a previous turn that does
    not exist (the caller refuses it with a hint).
    """

    question: str
    understood_as: str | None = None
    kind: str = "standalone"
    topic: str | None = None
    unresolved: str | None = None


def _strip_end(text: str) -> str:
    return text.strip().rstrip(END)


def _is_aspect_zh(word: str) -> bool:
    return word in ASPECT_WORDS_ZH or word in STOPWORDS or bool(QUESTION_WORD_ZH.search(word))


def own_terms(question: str, segmenter: Segmenter) -> list[str]:
    """The question's own topic words: content words that are neither function words, question
    words, aspect words (优势, advantages) nor references (它, this)."""
    if has_cjk(question):
        text = REFERENCE_ZH.sub(" ", question)
        words = [w for w, _ in segmenter.words(text) if re.match(r"[\u3400-\u9fffA-Za-z0-9]", w)]
        # A word directly followed by a numeral names one part of a document ("趋势五", "第三章").
        numbered = [word + after for word, after in zip(words, words[1:] + [""])
                    if NUMERAL_ZH.match(after) and (word not in BOUNDARY_ZH or word == "第")
                    and f"{word}{after}" in text]
        return numbered + [w for w in words if not _is_aspect_zh(w) and w not in BOUNDARY_ZH
                           and (len(w) > 1 or not has_cjk(w))]
    text = REFERENCE_EN.sub(" ", question)
    numbered = [m.group() for m in NUMBERED_EN.finditer(text) if english_stems(m.group())]
    return numbered + [s for s in english_stems(text) if s not in ASPECT_STEMS_EN and s not in english_stems(EN_AUX)]


def about_document(question: str) -> bool:
    """Whether `question` is about a document itself (文章, 本文, 这份报告, the article...)."""
    return bool(DOCUMENT_WORDS.search(question))


def names_no_document(question: str, segmenter: Segmenter) -> bool:
    """Whether a question about a document leaves open which one: its own words only say
    "the article" and count its parts ("文章第二部分讲的是什么？", "What is the fourth chapter of
    the report about?"), or ask where it comes from ("这篇文章是从哪里转载的？"), where
    "氢能报告第二部分…" names the hydrogen report."""
    return all(DOCUMENT_WORDS.search(term) or PART_WORDS.fullmatch(term) or SOURCE_VERBS.fullmatch(term)
               or set(term) <= FUNCTION_CHARS   # "是从": glue, not a topic
               for term in own_terms(question, segmenter))


def _not_about_a_topic(question: str) -> bool:
    """Thanks, greetings, or a question to the assistant itself: no topic to complete it with."""
    text = _strip_end(question)
    if has_cjk(question):
        return bool(COURTESY_ZH.match(text) or ADDRESSEE_ZH.search(text))
    return bool(COURTESY_EN.match(text) or ADDRESSEE_EN.search(text))


def context_entry(question: str, understood_as: str | None, abstained: bool) -> str | None:
    """What one finished turn adds to the conversation's history: its question as understood,
    or None when it was refused (not found in the documents, small talk, a reference nobody
    named). A refused turn is not context: after "谢谢" (refused), "你是谁？" must not become
    "谢谢你是谁？", and a topic the documents do not cover is not carried into the next question.
    The web chat, `rag chat` and `rag eval` all build their history with this function."""
    return None if abstained else (understood_as or question)


def topic_of(question: str, segmenter: Segmenter) -> str | None:
    """The topic of a (resolved) question: its first noun phrase that is not what is asked for,
    or None when it has none."""
    question = _strip_end(question)
    if not question:
        return None
    if has_cjk(question):
        return _topic_zh(question, segmenter)
    return _topic_en(question)


def _topic_zh(question: str, segmenter: Segmenter) -> str | None:
    question = LEAD_ZH.sub("", question)
    words = segmenter.words(question)
    # Runs of non-boundary words (a word after a question word starts the "focus": skipped).
    runs: list[tuple[int, int, bool]] = []  # (start, end, right after a question word)
    start = end = None
    after_question = False
    previous_boundary = ""
    for word, offset in words:
        boundary = (word in BOUNDARY_ZH or word in LEAD_WORDS_ZH or bool(QUESTION_WORD_ZH.search(word))
                    or not re.match(r"[\u3400-\u9fffA-Za-z0-9]", word))
        if boundary:
            if start is not None:
                runs.append((start, end, after_question))
                start = None
            after_question = bool(QUESTION_WORD_ZH.search(word)) or (after_question and word in "个种类项家位条款")
            previous_boundary = word
            continue
        if start is None:
            start = offset
            after_question = after_question and previous_boundary != "是"
        end = offset + len(word)
    if start is not None:
        runs.append((start, end, after_question))
    for begin, stop, is_focus in runs:
        phrase = question[begin:stop]
        if is_focus or not own_terms(phrase, segmenter):
            continue
        return phrase
    return None


def _topic_en(question: str) -> str | None:
    question = LEAD_EN.sub("", question)
    be = EN_BE_QUESTION.match(question)
    if be:
        phrase = be.group("np")
        phrase = re.split(r"\b(?:that|which|who|used|mentioned|described|about|in the (?:article|document|text))\b",
                          phrase, maxsplit=1, flags=re.I)[0]
        if re.search(r"\bof\b", phrase):
            phrase = re.split(r"\bof\b", phrase, flags=re.I)[-1]
        phrase = ARTICLES.sub("", phrase.strip()).strip()
        return phrase if english_stems(phrase) else None
    aux = EN_AUX_QUESTION.match(question)
    if aux:
        rest = aux.group("rest")
        words = list(EN_WORD.finditer(rest))
        run = []
        for word in words:
            if word.group().lower() in EN_BREAK:
                break
            run.append(word)
        reached_end = len(run) == len(words)
        if run and run[0].group().lower() in ("the", "a", "an"):
            run = run[1:]
        # Do-support puts the verb after the subject ("does palm payment use"), with its object
        # when the run goes on ("does DRG implementation require organizations to ...").
        drop = 1 if reached_end and len(run) <= 3 else 2 if len(run) >= 3 else 1
        if aux.group("aux").lower() in ("is", "are", "was", "were"):
            # A copula has no verb after its subject, or a participle ("How is DRG implemented").
            drop = 1 if run and re.search(r"(?:ed|en)$", run[-1].group()) else 0
        run = run[:max(1, len(run) - drop)] if len(run) > 1 else run
        phrase = rest[run[0].start():run[-1].end()] if run else ""
        if phrase and english_stems(phrase):
            return phrase
    # No subject found ("How many drones were there"): the longest run of content words after
    # the question word.
    best: list[re.Match] = []
    current: list[re.Match] = []
    for word in list(EN_WORD.finditer(question))[1:] + [None]:  # the first word is the question word
        if word is None or word.group().lower() in STOPWORDS or word.group().lower() in EN_BREAK:
            if len(current) > len(best):
                best = current
            current = []
        else:
            current.append(word)
    return question[best[0].start():best[-1].end()] if best else None


def previous_topic(history: Sequence[str], segmenter: Segmenter) -> tuple[str | None, str | None]:
    """The most recent (question, topic) of the history that has a topic, else (None, None)."""
    for question in reversed(history):
        if not question or not question.strip():
            continue
        topic = topic_of(question, segmenter)
        if topic:
            return question, topic
    return None, None


def find_reference(question: str, segmenter: Segmenter | None = None) -> re.Match | None:
    """The first pronoun or demonstrative of `question` that points back to an earlier turn, or
    None. One with an antecedent earlier in the question itself ("生成式AI…，它能做什么",
    "abolish its exemption" after "the United States") does not, nor does a demonstrative whose
    noun phrase names its referent ("那座1:1打印的洞窟复制品"), nor a dummy "it" ("does it take")."""
    segmenter = segmenter or Segmenter()
    zh = has_cjk(question)
    for match in (REFERENCE_ZH if zh else REFERENCE_EN).finditer(question):
        if _antecedent_before(question, match, segmenter):
            continue
        if not zh and match.group("pro") and DUMMY_IT.search(question[max(0, match.start() - 8):match.end() + 20]):
            continue
        if zh and match.group()[0] in "这那该此" and _noun_after(question[match.end():], segmenter) is None:
            continue
        return match
    return None


def _antecedent_before(question: str, match: re.Match, segmenter: Segmenter) -> bool:
    """Whether the reference at `match` has an antecedent earlier in the question: a previous
    clause with topic words of its own ("生成式AI属于什么类型的技术，它能做什么"), a noun right
    before a demonstrative or a relative clause ending in 的 ("跨境电商这个概念", "牵头的那个平台"),
    or, in English, a name before it ("did the United States abolish its exemption")."""
    before = question[:match.start()]
    clauses = re.split(r"[，,；;。:：]", before)
    if len(clauses) > 1 and own_terms("".join(clauses[:-1]), segmenter):
        return True
    if has_cjk(question):
        return bool(match.group()[0] in "这那" and before and re.search(r"[\u3400-\u9fffA-Za-z0-9]$", before)
                    and own_terms(before, segmenter))
    return bool(re.search(r"(?<!^)\b(?:[A-Z][a-z]+|[A-Z0-9]{2,}[a-z]?)\b", before.strip()))


def _noun_after(text: str, segmenter: Segmenter) -> list[str] | None:
    """What a Chinese demonstrative at the start of `text` modifies: [] when nothing (它/这 used
    alone: "这是什么"), [word] for a generic class noun ("这项技术"), None when the words after it
    name the referent themselves ("那座1:1打印的洞窟复制品")."""
    words = segmenter.words(text)
    if not words:
        return []
    first = words[0][0]
    if first in GENERIC_NOUNS_ZH:
        return [first]
    if (first in BOUNDARY_ZH or QUESTION_WORD_ZH.search(first) or first in ASPECT_WORDS_ZH
            or not re.match(r"[\u3400-\u9fffA-Za-z0-9]", first)):
        return []
    return None


def _replace_zh(question: str, match: re.Match, topic: str, segmenter: Segmenter) -> str:
    word, head, tail = match.group(), question[:match.start()], question[match.end():]
    if word == "其中":
        return head + topic + "中" + tail
    if word.endswith("的") or word == "其":
        return head + topic + "的" + tail.removeprefix("的")
    if word[0] in "这那该此":
        # The noun the demonstrative modifies goes with it ("这项技术" -> the topic).
        tail = tail[sum(len(w) for w in _noun_after(tail, segmenter) or []):]
    return head + topic + tail


def _replace_en(question: str, match: re.Match, topic: str) -> str:
    head, tail = question[:match.start()], question[match.end():]
    if match.group("poss"):
        return f"{head}{topic}'{'' if topic.endswith('s') else 's'}{tail}"
    noun = match.group("dem") and match.group("noun")
    if noun and noun.lower() in EN_BREAK | set(EN_AUX.split("|")):
        return f"{head}{topic} {noun}{tail}"
    return f"{head}{topic}{tail}"


def _prepend_zh(question: str, topic: str) -> str:
    body = LEAD_ZH.sub("", question.strip())
    if re.match("|".join(sorted(ASPECT_WORDS_ZH - {"是", "有", "能", "会", "哪", "哪里", "呢", "吗"}, key=len, reverse=True)),
                body):
        return f"{topic}的{body}"
    return f"{topic}{body}"


def _prepend_en(question: str, topic: str) -> str:
    body = LEAD_EN.sub("", question.strip())
    body = body[:1].upper() + body[1:]
    aspect = re.search(r"\b(?:the|its|main|key)\s+(?:\w+\s+)?(?P<w>\w+)\b", body, re.I)
    if aspect and english_stems(aspect.group("w")) and english_stems(aspect.group("w"))[0] in ASPECT_STEMS_EN:
        return body[:aspect.end()] + f" of {topic}" + body[aspect.end():]
    return f"Regarding {topic}: {body}"


def resolve(question: str, history: Sequence[str] = (), segmenter: Segmenter | None = None) -> Resolution:
    """Resolve `question` against `history` (the previous questions as understood, oldest first).

    See the module docstring for what counts as leaning on the previous turn.
    """
    segmenter = segmenter or Segmenter()
    question = question.strip()
    zh = has_cjk(question)
    previous, topic = previous_topic(history, segmenter)
    # "这篇文章" / "this report" point at the document, not at the previous topic.
    masked = DOCUMENT_DEMONSTRATIVE.sub(lambda m: "文" * len(m.group()) if zh else "document".ljust(len(m.group())),
                                         question)
    match = find_reference(masked, segmenter)
    reference = match.group().strip() if match else None
    on_document = about_document(question)

    ellipsis = (ELLIPSIS_ZH if zh else ELLIPSIS_EN).match(question)
    if ellipsis and previous:
        element = _strip_end(ellipsis.group("x") or (ellipsis.groupdict().get("y") or ""))
        element = ARTICLES.sub("", element) if not zh else element
        if element and not QUESTION_WORD_ZH.search(element) and not find_reference(element, segmenter):
            if not own_terms(element, segmenter):  # "那优势呢？": an aspect of the same topic
                resolved = f"{topic}的{element}是什么？" if zh else f"What about the {element} of {topic}?"
            else:
                resolved = previous.replace(topic, element, 1)
            return _done(question, resolved, "ellipsis", element)

    if reference:
        if topic:
            resolved = _replace_zh(question, match, topic, segmenter) if zh else _replace_en(question, match, topic)
            resolved = LEAD_ZH.sub("", resolved) if zh else LEAD_EN.sub("", resolved)
            if not zh:
                resolved = resolved[:1].upper() + resolved[1:]
            return _done(question, resolved, "reference", topic)
        if not own_terms(question, segmenter) and not on_document:
            return Resolution(question, kind="reference", unresolved=reference)
        return Resolution(question)

    if topic and not own_terms(question, segmenter) and not on_document and not _not_about_a_topic(question):
        resolved = _prepend_zh(question, topic) if zh else _prepend_en(question, topic)
        return _done(question, resolved, "no_topic", topic)
    return Resolution(question)


def _done(typed: str, resolved: str, kind: str, topic: str) -> Resolution:
    resolved = resolved.strip()
    if resolved == typed:
        return Resolution(typed, kind=kind, topic=topic)
    return Resolution(resolved, resolved, kind, topic)


def understood_label(typed: str) -> str:
    """How interfaces introduce `Answer.understood_as`, in the language of the typed question."""
    return "按上文理解为：" if has_cjk(typed) else "Understood as: "


def unresolved_message(question: str, reference: str) -> str:
    """The refusal of a question whose only subject is a pronoun, with a hint."""
    if has_cjk(question):
        example = REFERENCE_ZH.sub("（名称）", question, count=1)
        return f"这个问题指代不明：请说出“{reference}”所指的对象，例如：{example}"
    example = REFERENCE_EN.sub("(name)", question, count=1)
    return f"This question does not say what “{reference}” refers to: please name it, e.g. {example}"
