"""The answer stage: choose verbatim quotes from the retrieved sentences, or abstain.

Nothing here generates text. A quote is always `document.text[start:end]` of a sentence (or of
adjacent sentences merged) that retrieval returned; the answer a person sees is those quotes
with [n] citation markers, or a plain statement that the article does not cover the question.

Relevance (higher = more relevant, in [0, 1]) is a logistic model over two signals from
retrieval, fitted on evals/dev.jsonl (see docs/abstention.md):
- dense standout: how far the best sentence's cosine stands above the corpus (z-score); raw
  cosines of the bundled model are compressed (0.75-0.95 for everything) and useless alone;
- lexical coverage: the share of the question's content bigrams found in the best passage
  (Chinese questions only; an English question cannot match Chinese text lexically).
The product answers when relevance >= strictness.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field

from .corpus import Document
from .lexical import has_cjk
from .retrieval import Hit, Retrieval, ScoredSentence

NOT_FOUND = {
    "zh": "文章中没有找到这个问题的答案。",
    "en": "The article does not answer this question.",
}

# Logistic weights over (dense standout, top-gap, lexical coverage), per question language.
# Fitted on evals/dev.jsonl by benchmarks/fit_abstention.py; see docs/abstention.md.
RELEVANCE_MODEL = {
    "zh": {"bias": -9.0, "standout": 2.0, "gap": 40.0, "coverage": 4.0},
    "en": {"bias": -9.0, "standout": 3.0, "gap": 60.0, "coverage": 0.0},
}

# A second or third sentence is quoted only when it scores almost as well as the best one.
_EXTRA_QUOTE_MARGIN = 0.015
_LEXICAL_WEIGHT = 0.004
_FUNCTION_CHARS = frozenset("的了是吗呢什么哪些谁怎样为何几多少请问这那个一有在和与及其它们该说被把对从到")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


class QuestionError(ValueError):
    """The question cannot be asked (empty, too long); the message says why."""


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
        raise QuestionError("The question is empty: please type a question.")
    if len(question) > max_chars:
        raise QuestionError(f"The question is {len(question)} characters long; the limit is {max_chars}.")
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


def relevance_signals(retrieval: Retrieval) -> dict:
    """The inputs of the relevance model, by name."""
    bigrams = content_bigrams(retrieval.question)
    best = retrieval.hits[0].chunk.text if retrieval.hits else ""
    coverage = sum(b in best for b in bigrams) / len(bigrams) if bigrams else 0.0
    return {"standout": retrieval.dense_standout, "gap": retrieval.dense_gap, "coverage": coverage}


def relevance(retrieval: Retrieval, lang: str) -> float:
    """Probability-like relevance in [0, 1]; higher means the corpus more likely answers."""
    weights = RELEVANCE_MODEL[lang]
    signals = relevance_signals(retrieval)
    logit = weights["bias"] + sum(weights[name] * value for name, value in signals.items())
    return 1.0 / (1.0 + math.exp(-logit))


def sentence_score(scored: ScoredSentence) -> float:
    """How well one sentence answers: cosine, nudged by BM25 so exact terms break near-ties."""
    return scored.dense + _LEXICAL_WEIGHT * scored.lexical


def select_quotes(retrieval: Retrieval, max_quotes: int) -> list[Quote]:
    """The best sentences (1 to `max_quotes`), adjacent ones merged, in reading order of rank."""
    ranked = sorted(retrieval.sentences, key=lambda s: (-sentence_score(s), s.sentence.id))
    if not ranked:
        return []
    best = sentence_score(ranked[0])
    chosen = [s for s in ranked[:max_quotes] if sentence_score(s) >= best - _EXTRA_QUOTE_MARGIN]
    chosen.sort(key=lambda s: (s.sentence.doc, s.sentence.start))
    merged: list[list[ScoredSentence]] = []
    for s in chosen:
        last = merged[-1][-1] if merged else None
        if last and last.sentence.doc == s.sentence.doc and last.sentence.section == s.sentence.section \
                and last.sentence.id + 1 == s.sentence.id:
            merged[-1].append(s)
        else:
            merged.append([s])
    merged.sort(key=lambda group: -max(sentence_score(s) for s in group))
    quotes = []
    for n, group in enumerate(merged, start=1):
        first, last = group[0].sentence, group[-1].sentence
        # Merged sentences are adjacent, so the span between them is the gap's white space only.
        # Text and title are filled in by `answer`, which holds the documents.
        quotes.append(Quote(n, "", first.doc, "", first.section,
                            first.start, last.end, max(sentence_score(s) for s in group)))
    return quotes


def _passage(hit: Hit) -> Passage:
    c = hit.chunk
    return Passage(c.doc, c.title, c.section, c.start, c.end, c.text, hit.score)


def format_answer(quotes: list[Quote]) -> str:
    """The text a person is shown: each quote followed by its [n] marker."""
    return "\n".join(f"{q.text} [{q.n}]" for q in quotes)


def answer(retrieval: Retrieval, documents: dict[str, Document], max_quotes: int = 3,
           strictness: float = 0.5) -> Answer:
    """Quote the answer to `retrieval.question` verbatim from `documents` (by path), or abstain."""
    started = time.perf_counter()
    lang = question_language(retrieval.question)
    score = relevance(retrieval, lang) if retrieval.hits else 0.0
    passages = [_passage(h) for h in retrieval.hits]
    quotes = []
    if score >= strictness:
        quotes = [Quote(q.n, documents[q.doc].text[q.start:q.end], q.doc, documents[q.doc].title, q.section, q.start, q.end,
                        round(q.score, 4))
                  for q in select_quotes(retrieval, max_quotes)]
    abstained = not quotes
    text = NOT_FOUND[lang] if abstained else format_answer(quotes)
    timings = dict(retrieval.timings_ms, answer=(time.perf_counter() - started) * 1000)
    return Answer(retrieval.question, abstained, text, quotes, passages, score, lang, timings)
