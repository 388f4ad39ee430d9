"""The answer stage: choose verbatim quotes from the retrieved sentences, or abstain.

Nothing here generates text. A quote is always `document.text[start:end]` of a sentence (or of
adjacent sentences merged) that retrieval returned; the answer a person sees is those quotes
with [n] citation markers, or a plain statement that the article does not cover the question.

Relevance (higher = more relevant, in [0, 1]) is a logistic model over signals from retrieval,
fitted per question language on evals/dev.jsonl (see docs/answers.md):
- standout: how far the best sentence's cosine stands above the corpus (z-score); raw cosines
  of the bundled model are compressed (0.75-0.95 for everything) and useless alone;
- gap: best sentence cosine minus the sixth best (one clear winner versus a flat field);
- coverage: the share of the question's terms found in the best passage: its content bigrams
  for a Chinese question; for an English one, its words that the bilingual lexicon translates
  (a word counts when any of its translations occurs), weighted by IDF;
- helper_best (English questions): the English helper model's best raw cosine, near 0 for
  unrelated questions;
- matched_terms (English questions): how many of the question's words occur in the corpus, up to
  2 (acronyms such as GaaS, DRG, Web3 occur in the Chinese text);
- type_mismatch: the question asks for an amount, time or count and the best three passages
  hold none, or asks who and the best passage names nobody new (proper names tagged by jieba at
  index time).
The product answers when relevance >= strictness.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field

from .corpus import Document
from .lexical import has_cjk
from .chunking import split_clauses, split_sections
from .retrieval import Hit, Retrieval, ScoredSentence

NOT_FOUND = {
    "zh": "文章中没有找到这个问题的答案。",
    "en": "The article does not answer this question.",
}

# Logistic weights over the relevance signals, per question language. Fitted on evals/dev.jsonl by
# `python benchmarks/fit_abstention.py` (which prints this table); see docs/answers.md.
RELEVANCE_MODEL = {
    "zh": {"bias": -3.556, "standout": 1.205, "gap": 29.231, "coverage": 3.773, "type_mismatch": -6.0},
    "en": {"bias": -5.5, "standout": 0.728, "gap": 11.097, "helper_best": 5.422, "matched_terms": 0.947,
           "coverage": 3.822, "type_mismatch": -6.0},
}

# Quote selection, tuned on evals/dev.jsonl (benchmarks/tune_answer.py, docs/answers.md).
#: A second or third sentence is quoted only when it scores within this of the best one. English
#: questions rank sentences less surely (cross-lingual, no lexical evidence), so they get more.
EXTRA_QUOTE_MARGIN = {"zh": 0.005, "en": 0.01}
#: Weight of the share of question terms found in a sentence (`term_coverage`), next to its cosine.
LEXICAL_WEIGHT = 0.1
#: Weight in `term_coverage` of an English question word without any translation in the corpus
#: (translated words weigh their IDF, 0.5 to ~3.5): it counts against coverage, as a Chinese
#: bigram absent from the passage does. Chosen on the dev set (1.0: 17/17 off-topic English
#: questions refused; ignoring such words: 16/17).
UNTRANSLATED_WEIGHT = 1.0
#: Subtracted from a heading line's score: a heading names a topic, it rarely answers.
HEADING_PENALTY = 0.02
#: A clause span shorter than this is not quoted alone (too little context to read).
SPAN_MIN_CHARS = 20
#: How many clauses after the chosen span are quoted with it.
SPAN_EXTEND = 1
#: A span is quoted instead of its sentence only when its cosine beats the sentence's by this.
SPAN_MARGIN = 0.01
# Expected answer type (a classic factoid-QA check): a question asking for an amount, a count or
# a time needs one in the passages; if none of the best passages holds one, the article cannot answer.
_ANSWER_TYPES = [
    # (question asks for..., evidence that a passage could answer)
    (re.compile(r"多少钱|价格|利率|汇率|股价|市值|涨幅|增长了?多少|占比|百分之|how much|\bprice|\brate\b|percent", re.I),
     re.compile(r"\d+(?:\.\d+)?\s*(?:[%％元亿万千百]|美元|人民币)|[%％]|百分之")),
    # English "when" only as the question word: "what must they consider when rolling out X" is no time question.
    (re.compile(r"哪一?年|几月|何时|什么时候|哪天|^\W*when\b|(?:what|which|in what) (?:year|date|month)", re.I),
     re.compile(r"\d+\s*年|\d+\s*月|\b\d{4}\b")),
    (re.compile(r"多少|(?<!哪)几[个种类项家位次条]|how many", re.I),
     re.compile(r"(?<![A-Za-z])\d|[一二三四五六七八九十两百千万多][种个项类年月条位家次]")),
]
_TYPE_CHECK_PASSAGES = 3
#: A question asking who (a person or an organisation) needs a proper name it does not itself contain.
_ASKS_NAME = re.compile(r"谁|哪家|哪位|什么人|哪个(?:公司|机构|企业|组织|人|国家)|\bwho\b|\bwhom\b"
                        r"|which (?:company|organi[sz]ation|firm|bank|person|country)", re.IGNORECASE)
_FUNCTION_CHARS = frozenset("的了是吗呢什么哪些谁怎样为何几多少请问这那个一有在和与及其它们该说被把对从到")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


class QuestionError(ValueError):
    """The question cannot be asked; `reason` is "empty" or "too_long" (with `length`, `limit`)."""

    def __init__(self, message: str, reason: str, length: int = 0, limit: int = 0):
        super().__init__(message)
        self.reason, self.length, self.limit = reason, length, limit


@dataclass(frozen=True)
class Quote:
    """A verbatim span of a document, cited as [n]."""

    n: int
    text: str
    doc: str
    title: str
    section: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as shown to people (`text == document.text[start:end]`)."""

    doc: str
    title: str
    section: str
    start: int
    end: int
    text: str
    score: float


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
        }


def check_question(question: str, max_chars: int) -> str:
    """The question, stripped; raises `QuestionError` if it is empty or longer than `max_chars`."""
    question = (question or "").strip()
    if not question:
        raise QuestionError("The question is empty: please type a question.", "empty")
    if len(question) > max_chars:
        raise QuestionError(f"The question is {len(question)} characters long; the limit is {max_chars}.",
                            "too_long", len(question), max_chars)
    return question


def question_language(question: str) -> str:
    """"zh" when the question contains Chinese characters, else "en"."""
    return "zh" if has_cjk(question) else "en"


def content_bigrams(question: str) -> set[str]:
    """Chinese character bigrams of the question, leaving out function and question words."""
    out = set()
    for run in _CJK_RUN.findall(question):
        for i in range(len(run) - 1):
            pair = run[i:i + 2]
            if pair[0] not in _FUNCTION_CHARS and pair[1] not in _FUNCTION_CHARS:
                out.add(pair)
    return out


def answer_type_mismatch(question: str, passages: list[str], names: list[str] = ()) -> bool:
    """True when the question asks for an amount, a time or a count and no passage holds one, or
    asks who and the passages name nobody besides those the question names."""
    for asks, evidence in _ANSWER_TYPES:
        if asks.search(question):
            return not any(evidence.search(p) for p in passages)
    if _ASKS_NAME.search(question):
        return not any(name not in question for name in names)
    return False


def relevance_signals(retrieval: Retrieval) -> dict:
    """The inputs of the relevance model, by name (see the module docstring)."""
    terms = question_terms(retrieval)
    best = retrieval.hits[0].chunk.text if retrieval.hits else ""
    passages = [h.chunk.text for h in retrieval.hits[:_TYPE_CHECK_PASSAGES]]
    # A "who" question is checked against the best passage only: the one a quote would come from.
    names = list(retrieval.hits[0].names) if retrieval.hits else []
    return {
        "standout": retrieval.dense_standout,
        "gap": retrieval.dense_gap,
        "coverage": term_coverage(terms, best),
        "helper_best": retrieval.helper_best or 0.0,
        "matched_terms": min(retrieval.matched_terms, 2),
        "type_mismatch": float(answer_type_mismatch(retrieval.question, passages, names)),
    }


def relevance(retrieval: Retrieval, lang: str) -> float:
    """Probability-like relevance in [0, 1]; higher means the corpus more likely answers."""
    weights = RELEVANCE_MODEL[lang]
    signals = relevance_signals(retrieval)
    logit = weights["bias"] + sum(weights.get(name, 0.0) * value for name, value in signals.items())
    return 1.0 / (1.0 + math.exp(-logit))


def question_terms(retrieval: Retrieval) -> list[dict[str, float]]:
    """The question's terms as groups of {alternative: weight}: each content bigram of a Chinese
    question (weight 1), or each content word of an English one (its translations in the corpus,
    by IDF; empty when it has none)."""
    if retrieval.question_has_cjk:
        return [{bigram: 1.0} for bigram in sorted(content_bigrams(retrieval.question))]
    return retrieval.translations


def term_coverage(terms: list[dict[str, float]], text: str) -> float:
    """Weighted share of the term groups with an alternative in `text` (0 when there are none);
    a group weighs as much as its best alternative, an empty one (an English word the corpus has
    no translation of) UNTRANSLATED_WEIGHT, and it is never found."""
    if not terms:
        return 0.0
    text = text.lower()
    total = sum(max(group.values(), default=UNTRANSLATED_WEIGHT) for group in terms)
    found = sum(max((w for t, w in group.items() if t in text), default=0.0) for group in terms)
    return found / total


def sentence_score(scored: ScoredSentence, terms: list[dict[str, float]]) -> float:
    """How well one sentence answers: cosine, plus lexical evidence (the question's terms)."""
    score = scored.dense + LEXICAL_WEIGHT * term_coverage(terms, scored.sentence.text)
    if scored.sentence.text == scored.sentence.section:
        score -= HEADING_PENALTY
    return score


def quote_span(scored: ScoredSentence, text: str) -> tuple[int, int]:
    """Offsets to quote from `scored.sentence` (of document `text`): its clause span most similar
    to the question plus SPAN_EXTEND clauses after it (a sentence tends to echo the question first
    and answer right after). The whole sentence when no span of at least SPAN_MIN_CHARS beats it
    by SPAN_MARGIN, or it has no spans (short sentences have none: `chunking.spans_of`).
    """
    sentence = scored.sentence
    candidates = [s for s in scored.spans if len(s.span.text) >= SPAN_MIN_CHARS]
    if not candidates:
        return sentence.start, sentence.end
    best = max(candidates, key=lambda s: (s.dense, -s.span.start))
    if best.dense < scored.dense + SPAN_MARGIN:
        return sentence.start, sentence.end
    clauses = split_clauses(text, sentence.start, sentence.end)
    last = next(i for i, (_, end) in enumerate(clauses) if end >= best.span.end)
    last = min(len(clauses) - 1, last + SPAN_EXTEND)
    while last + 1 < len(clauses) and text[clauses[last][1] - 1] in ":：":
        last += 1  # a clause ending in a colon introduces the next one
    return best.span.start, clauses[last][1]


def select_quotes(retrieval: Retrieval, documents: dict[str, Document], max_quotes: int) -> list[Quote]:
    """The spans to quote: the best sentence (trimmed to its answering clauses), plus up to
    `max_quotes - 1` more sentences scoring within EXTRA_QUOTE_MARGIN of it."""
    terms = question_terms(retrieval)
    ranked = sorted(retrieval.sentences, key=lambda s: (-sentence_score(s, terms), s.sentence.id))
    if not ranked:
        return []
    best = sentence_score(ranked[0], terms)
    margin = EXTRA_QUOTE_MARGIN[question_language(retrieval.question)]
    chosen = [s for s in ranked[:max_quotes] if sentence_score(s, terms) >= best - margin]
    quotes = []
    for n, scored in enumerate(chosen, start=1):
        start, end = quote_span(scored, documents[scored.sentence.doc].text)
        # Text and title are filled in by `answer`, which holds the documents.
        quotes.append(Quote(n, "", scored.sentence.doc, "", scored.sentence.section, start, end,
                            sentence_score(scored, terms)))
    return merge_adjacent(quotes)


def merge_adjacent(quotes: list[Quote]) -> list[Quote]:
    """Merge quotes of one section that touch or overlap; keep rank order; renumber [n]."""
    merged: list[Quote] = []
    for q in sorted(quotes, key=lambda q: (q.doc, q.start)):
        last = merged[-1] if merged else None
        if last and last.doc == q.doc and last.section == q.section and q.start <= last.end + 1:
            merged[-1] = Quote(0, "", q.doc, "", q.section, last.start, max(last.end, q.end), max(last.score, q.score))
        else:
            merged.append(q)
    merged.sort(key=lambda q: -q.score)
    return [Quote(n, q.text, q.doc, q.title, q.section, q.start, q.end, q.score) for n, q in enumerate(merged, 1)]


_TRAILING_CLAUSE_MARKS = "，,：:;；、"


def _cut(quote: Quote, document: Document) -> Quote:
    """The quote with its text cut from the document, minus a dangling clause mark at its end."""
    end = quote.end
    while end > quote.start + 1 and document.text[end - 1] in _TRAILING_CLAUSE_MARKS:
        end -= 1
    return Quote(quote.n, document.text[quote.start:end], quote.doc, document.title, quote.section,
                 quote.start, end, round(quote.score, 4))


def _passage(hit: Hit) -> Passage:
    c = hit.chunk
    return Passage(c.doc, c.title, c.section, c.start, c.end, c.text, hit.score)


def format_answer(quotes: list[Quote]) -> str:
    """The text a person is shown: each quote followed by its [n] marker."""
    return "\n".join(f"{q.text} [{q.n}]" for q in quotes)


# Questions about the document itself rather than its content: where it comes from, or what its
# Nth numbered section is called. Their answer is a line of the document that no similarity
# search favours (a source line, a heading), so they are recognised by their form.
_ASKS_SOURCE = re.compile(
    r"(?:文章|本文|这篇|原文|该文|全文)[^，。？?]{0,8}(?:来源|出处|出自|转载|来自|发表|刊登|发布在)|转载自|出自哪|哪个网站|"
    r"哪家媒体|source of (?:this|the) (?:article|text)|where (?:is|was|does|did) (?:this|the) (?:article|text)|"
    r"which (?:website|site|outlet)", re.IGNORECASE)
_CN_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_EN_ORDINALS = {w: i for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth".split(), start=1)}
_ASKS_NTH_SECTION = re.compile(
    r"第\s*([一二三四五六七八九十]|\d+)\s*[个条项部章节点]?\s*(?:趋势|部分|章|节|点)|"
    r"(?:趋势|部分)\s*([一二三四五六七八九十]|\d+)|"
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th))\s+(?:trend|section|part)\b|"
    r"\b(?:trend|section|part)\s+(\d+)\b", re.IGNORECASE)
_ASKS_NAME_OF = re.compile(r"叫什么|标题|题目|名称|名字|是什么|是哪个|\btitle|\bname|\bcalled|what is|which is",
                           re.IGNORECASE)
_NUMBERED_HEADING = re.compile(r"^\D{0,4}?(?:第\s*)?(?:[一二三四五六七八九十]+|\d+)\s*[、:：.．)）]")


def _ordinal(match: re.Match) -> int | None:
    token = next(g for g in match.groups() if g).lower()
    digits = re.match(r"\d+", token)
    if digits:
        return int(digits.group())
    return _CN_NUMERALS.get(token) or _EN_ORDINALS.get(token)


def structural_span(question: str, document: Document) -> tuple[int, int, str] | None:
    """(start, end, section) of the line of `document` that a question about the document itself
    asks for: its source line, or the heading of its Nth numbered section. None for other questions."""
    asks_source = bool(_ASKS_SOURCE.search(question)) and bool(document.source)
    match = _ASKS_NTH_SECTION.search(question)
    n = _ordinal(match) if match and _ASKS_NAME_OF.search(question) else None
    if not asks_source and not n:
        return None  # the common case: no need to split the document
    sections = split_sections(document.text)
    if asks_source:
        # The source line is a one-line section (its heading is all of it) naming the source.
        for section in sections:
            if document.source in section.title and document.text[section.start:section.end].strip() == section.title:
                start = document.text.index(section.title, section.start)
                return start, start + len(section.title), section.title
    numbered = [s for s in sections if _NUMBERED_HEADING.match(s.title)]
    if n and 1 <= n <= len(numbered):
        section = numbered[n - 1]
        start = document.text.index(section.title, section.start)
        return start, start + len(section.title), section.title
    return None


# Questions asking what a term stands for or what it is called in the other language. The
# article defines such terms inline, "GaaS(Generative AI as a Service)", "动态风险治理(dynamic
# risk governance,DRG)"; the definition is the answer, and a similarity search over whole
# sentences dilutes it (the classic inline abbreviation-definition pattern of Schwartz & Hearst).
_ASKS_GLOSS = re.compile(r"stand(?:s)? for|abbreviat|acronym|full (?:name|form|term)|spelled out|in english|"
                         r"english (?:name|term|word)|chinese (?:name|term|word)|全称|缩写|简称|英文|英语|中文",
                         re.IGNORECASE)
_GLOSS = re.compile(r"[(（]([^()（）]*[A-Za-z][^()（）]*)[)）]")
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
    asks to expand or translate ("What does GaaS stand for?", "DRG的英文全称是什么?"); None otherwise."""
    if not _ASKS_GLOSS.search(question):
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
        acronyms = [t for t in _LATIN_TERM.findall(match.group(1)) if t.isupper() and _mentions(question, t)]
        if named or acronyms:
            return match.start() - len(named[0] if named else name), match.end()
    return None


def answer(retrieval: Retrieval, documents: dict[str, Document], max_quotes: int = 3,
           strictness: float = 0.5) -> Answer:
    """Quote the answer to `retrieval.question` verbatim from `documents` (by path), or abstain.

    A question about the document itself (its source, its Nth section) is answered from the
    best passage's document by `structural_span`, and a question asking what a term stands for
    by `gloss_span`, with relevance 1: the document states it.
    """
    started = time.perf_counter()
    lang = question_language(retrieval.question)
    score = relevance(retrieval, lang) if retrieval.hits else 0.0
    passages = [_passage(h) for h in retrieval.hits]
    quotes = []
    top_doc = documents[retrieval.hits[0].chunk.doc] if retrieval.hits else None
    span = structural_span(retrieval.question, top_doc) if top_doc else None
    gloss = None if span or not top_doc else gloss_span(retrieval.question, top_doc)
    if gloss:
        section = next(s.title for s in split_sections(top_doc.text) if s.start <= gloss[0] < s.end)
        span = (*gloss, section)
    if span:
        start, end, section = span
        score = 1.0
        quotes = [_cut(Quote(1, "", top_doc.path, "", section, start, end, 1.0), top_doc)]
    elif score >= strictness:
        quotes = [_cut(q, documents[q.doc]) for q in select_quotes(retrieval, documents, max_quotes)]
    abstained = not quotes
    text = NOT_FOUND[lang] if abstained else format_answer(quotes)
    timings = dict(retrieval.timings_ms, answer=(time.perf_counter() - started) * 1000)
    return Answer(retrieval.question, abstained, text, quotes, passages, score, lang, timings)
