"""Whether the documents answer a question: every abstention signal, and the model over them.

`relevance` is a number in [0, 1]; higher means the documents more likely answer the question;
the product answers when `relevance >= strictness`. It is a logistic model per question language
over the signals below. Every signal is computed from the question and the retrieved passages
only, never from a statistic over the whole corpus, so it means the same for one document or a
hundred. The weights live in a data file (`data/relevance.json`) written by
`benchmarks/fit_relevance.py`, which fits them with leave-one-document-out cross-validation.

Signals (`signals()`):
- best_cos: the best sentence's cosine to the question (both models' mean for English);
- spread: best_cos minus the mean cosine of the retrieved sentences (a clear winner or a flat field);
- coverage: the share of the question's terms found in the evidence: content bigrams for a
  Chinese question; for an English one, its words that the lexicon translates, by IDF;
- missing: the share of the question's content words, weighed by their *background* IDF
  (`lexical.Background`: general Chinese, not this corpus), that the evidence lacks;
- missing_max: the background IDF of the most specific missing word, / 12 (a very specific word
  the evidence lacks is a topic it does not cover);
- focus_missing: the question's *focus*, the content word before its question word (门票 in
  "门票多少钱"), missing from the best sentences: its background IDF / 12 (the classic
  question-focus check of factoid QA);
- constraint: the question names a place, organisation or person, a year or a number that the
  evidence lacks (a near-domain question asks about *that* one);
- type_mismatch: the question asks for a price, a share, a date, a count or a name and the
  best sentences hold none (a number is not a price, a head count not a date);
- helper_best (English): the English helper model's best raw cosine, near 0 for unrelated text.

The *evidence* is the passage the best sentence comes from and the best passage, with their
document title and section headings; the *best sentences* are the three retrieved sentences
most similar to the question (what a quote would be cut from), with their section headings.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .asked import asks_for, holds_type
from .lexical import cjk_bigrams, english_stems, has_cjk
from .retrieval import Hit, Retrieval

BUNDLED_MODEL = Path(__file__).with_name("data") / "relevance.json"
#: The same kind of model over the reader's features (and any signals that still earn their place),
#: deciding whether the reader's answer is shown: written by benchmarks/fit_reader.py.
READER_ABSTENTION = Path(__file__).with_name("data") / "reader_abstention.json"
#: Weight of an English question word without any translation in the corpus (translated words
#: weigh their IDF, 0.5 to ~3.5): it counts against coverage.
UNTRANSLATED_WEIGHT = 1.0
_FUNCTION_CHARS = frozenset("的了是吗呢什么哪些谁怎样为何几多少请问这那个一有在和与及其它们该说被把对从到")
_YEAR_OR_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_LATIN_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][A-Za-z0-9]+(?:\s+[A-Z][A-Za-z0-9]+)*")
_QUESTION_WORD = re.compile(r"多少|几|哪|什么|谁|何时|何处|怎么|怎样|如何|是否")
#: A question word with its measure word (哪一个, 哪条, 什么): the noun after it is the answer's kind.
_ASKED_KIND = re.compile(r"(?:哪|什么|何|多少|几)(?:一)?[个条座家位种所部类间]?")
_CLAUSE_BREAK = re.compile(r"[，,。；;：:？?！!]")
_BEST_SENTENCES = 3
#: What a Chinese text calls the country it is written in: a question's 中国 is its 我国.
_OWN_COUNTRY = {"中国": ("我国", "全国", "国内")}
#: An English question's name of that country, which a Chinese text seldom writes out (国家图书馆 is
#: the National Library of China): not a name the evidence must repeat.
_OWN_COUNTRY_EN = frozenset({"china", "chinese"})


class ModelError(Exception):
    """The relevance model file is missing or unusable; the message names it."""


@dataclass(frozen=True)
class RelevanceModel:
    """Logistic weights per question language ("zh", "en"): bias and {signal: weight}."""

    weights: dict[str, dict[str, float]]
    bias: dict[str, float]
    meta: dict

    @classmethod
    def load(cls, path: Path | None = None) -> RelevanceModel:
        """Read a model file written by `save` (the bundled one by default). Raises ModelError."""
        path = Path(path or BUNDLED_MODEL)
        try:
            data = json.loads(path.read_text("utf-8"))
            models = data["models"]
            weights = {lang: {k: float(v) for k, v in models[lang]["weights"].items()} for lang in ("zh", "en")}
            bias = {lang: float(models[lang]["bias"]) for lang in ("zh", "en")}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"relevance model {path} is unusable ({exc.__class__.__name__}: {exc})") from None
        unknown = {k for w in weights.values() for k in w} - set(SIGNALS)
        if unknown:
            raise ModelError(f"relevance model {path} names unknown signals: {sorted(unknown)}")
        return cls(weights, bias, {k: v for k, v in data.items() if k != "models"})

    def save(self, path: Path) -> None:
        """Write the model as JSON (what `load` reads)."""
        models = {lang: {"bias": round(self.bias[lang], 4),
                         "weights": {k: round(v, 4) for k, v in self.weights[lang].items()}}
                  for lang in ("zh", "en")}
        Path(path).write_text(json.dumps(self.meta | {"models": models}, ensure_ascii=False, indent=1) + "\n", "utf-8")

    def score(self, signals: dict[str, float], lang: str) -> float:
        """Relevance in [0, 1] for these signal values."""
        logit = self.bias[lang] + sum(w * signals.get(name, 0.0) for name, w in self.weights[lang].items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> RelevanceModel:
    """The relevance model at `path` (the bundled one for None), read once per process."""
    return RelevanceModel.load(Path(path) if path else None)


def question_language(question: str) -> str:
    """"zh" when the question contains Chinese characters, else "en"."""
    return "zh" if has_cjk(question) else "en"


def content_bigrams(question: str) -> set[str]:
    """Chinese character bigrams of the question, leaving out function and question words."""
    return cjk_bigrams(question, _FUNCTION_CHARS)


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


def matches(word: str, evidence: str) -> bool:
    """`word` occurs in `evidence`, or nearly: a Chinese word of 2 to 4 characters as the
    abbreviation of a longer name (国办 ~ 国务院办公厅); every character bigram of a Chinese word
    of 3 to 5 characters (跨境电商综合 ~ 跨境电商的综合), all but one of a longer word's;
    数字人民币 does not match 数字货币与人民币 (字人 is missing)."""
    if word in evidence or any(other in evidence for other in _OWN_COUNTRY.get(word, ())):
        return True
    if not has_cjk(word):
        return False
    if len(word) <= 4 and _abbreviation(word).search(evidence):
        return True
    if len(word) < 3:
        return False
    pairs = [word[i:i + 2] for i in range(len(word) - 1)]
    missing = sum(p not in evidence for p in pairs)
    return missing == 0 or (len(word) > 5 and missing == 1)


@lru_cache(maxsize=4096)
def _abbreviation(word: str) -> re.Pattern:
    """`word` as a Chinese abbreviation of a longer name: its characters in order, at most two
    others between each (国办 ~ 国务院办公厅, 长护险 ~ 长期护理保险)."""
    return re.compile(r"[^\W\d_]{0,2}".join(map(re.escape, word)))


def evidence_text(retrieval: Retrieval, best_chunk: Hit | None) -> str:
    """The text a quote would come from: the best sentence's passage and the best passage, with
    their context (document title, section headings), lower-cased."""
    hits = [h for h in (best_chunk, retrieval.hits[0] if retrieval.hits else None) if h is not None]
    return "\n".join(dict.fromkeys(f"{h.chunk.context}\n{h.chunk.text}" for h in hits)).lower()



def unsupported(retrieval: Retrieval, ranked: list, focus: list[str]) -> bool:
    """True when the question asks for a price, share, date or count and none of the best
    sentences holds, *together*, a value of that type, every place or organisation the question
    names and its focus word: the number it would quote is about something else. (Checking the
    whole passage instead of the sentence was tried: it let through more near-domain questions
    than answerable ones it saved; left-out balanced accuracy 0.739 against 0.758.) The focus
    word may be there as a synonym (`Retrieval.synonyms`): asked 提升了多少, 提高了5个百分点 answers.
    The names may also stand earlier in the sentence's paragraph: a Chinese sentence often leaves
    out the subject its paragraph introduced ("敦煌…。1986年被国务院列为…"). (The focus there too
    was tried: on the suite it let six near-topic questions through for two answerable ones.)"""
    kind = asks_for(retrieval.question)
    if kind in (None, "name"):
        return False
    names = constraint_names(retrieval)
    for scored in ranked:
        text = f"{scored.sentence.context}\n{scored.sentence.header}\n{scored.sentence.text}".lower()
        paragraph = f"{paragraph_before(retrieval, scored.sentence)}{text}".lower() if names else text
        if holds_type(retrieval.question, kind, scored.sentence.text) \
                and all(matches(n, paragraph) for n in names) \
                and all(matches(w, text) or any(s in text for s in retrieval.synonyms.get(w, ())) for w in focus):
            return False
    return True


def paragraph_before(retrieval: Retrieval, sentence) -> str:
    """The text of `sentence`'s paragraph (its line) before it, as far as a retrieved passage
    holding the sentence reaches back."""
    hit = next((h for h in retrieval.hits if h.chunk.contains(sentence)), None)
    if hit is None:
        return ""
    head = hit.chunk.text[:sentence.start - hit.chunk.start]
    return head[head.rfind("\n") + 1:]


def answer_type_mismatch(question: str, evidence: str, names: list[str] = ()) -> bool:
    """True when the question asks for a price, share, date or count and `evidence` holds none
    (a count asked with a measure word, 多少座, needs that measure word after a number), or asks
    who and `names` (proper names in the evidence) holds nobody the question does not name."""
    kind = asks_for(question)
    if kind is None:
        return False
    if kind == "name":
        return not any(name not in question for name in names)
    return not holds_type(question, kind, evidence)


#: Adverbs of time and aspect, which say when or how long of whatever the question asks
#: ("印第安纳溜马**至今**赢过多少次", "**一直**到何时", "**直到**什么时候"): never its focus. A short
#: closed class, listed because jieba's dictionary here keeps no part-of-speech tags.
_NOT_A_FOCUS = frozenset("至今 迄今 一直 直到 仍然 依然 已经 曾经 始终 终于 究竟 到底 通常 往往 总是 最终".split())
#: A word of numeral characters only (零零 of 零点零零多少): a value, not what it is of.
_NUMERAL_WORD = re.compile(r"[零〇一二三四五六七八九十百千万亿两点]+")


def focus_words(question: str, words: list[str]) -> list[str]:
    """The question's focus: its last content word before the question word, in the same clause
    ("门票多少钱" -> 门票; "总产值是多少" -> 总产值), not an adverb of time (`_NOT_A_FOCUS`) nor a
    numeral. The word right after it names the kind of answer (哪家**公司**, 哪位**画家**), which
    the answer itself rarely repeats: not a focus."""
    asked = _QUESTION_WORD.search(question)
    if not asked:
        return []
    positions, cursor = [], 0
    for word in words:
        at = question.lower().find(word, cursor)
        if at >= 0:
            positions.append((at, word))
            cursor = at + len(word)
    clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(question, 0, asked.start())), default=0)
    before = [w for at, w in positions if clause_start <= at and at + len(w) <= asked.start()
              and w not in _NOT_A_FOCUS and not _NUMERAL_WORD.fullmatch(w)]
    return before[-1:]


def constraint_names(retrieval: Retrieval) -> list[str]:
    """The places, organisations and people the question names, less a word right after its
    question word: that names the kind of answer (哪一个**城市**, 什么**东西**), which the
    answer itself need not repeat (jieba's dictionary tags such common nouns as places)."""
    asked = [m.end() for m in _ASKED_KIND.finditer(retrieval.question)]
    return [n for n in retrieval.named if not any(retrieval.question.startswith(n, at) for at in asked)]


def missing_constraint(retrieval: Retrieval, evidence: str) -> bool:
    """True when the question names a place, organisation or person, a year or a number, or (in
    English) a capitalised name, and the evidence lacks it."""
    if names_missing(retrieval, evidence):
        return True
    return any(number not in evidence for number in _YEAR_OR_NUMBER.findall(retrieval.question))


def names_missing(retrieval: Retrieval, evidence: str) -> list[str]:
    """The places, organisations and people the question names (`constraint_names`; in English,
    the words of its capitalised names) that `evidence` lacks."""
    question = retrieval.question
    missing = [name for name in constraint_names(retrieval) if not matches(name, evidence)]
    if not retrieval.question_has_cjk:
        # A capitalised English name counts when it, or one of its translations, is in the evidence.
        # (Skipping names the lexicon cannot translate, pinyin such as Zhongwei, was tried: left-out
        # balanced accuracy fell.)
        translated = dict(zip(english_stems(question), retrieval.translations))
        for word in (w for name in _LATIN_NAME.findall(question) for w in name.split()):
            if word.lower() in evidence or word.lower() in _OWN_COUNTRY_EN:
                continue
            stems = english_stems(word)
            group = translated.get(stems[0], {}) if stems else {}
            if not any(t in evidence for t in group):
                missing.append(word)
    return missing


def signals(retrieval: Retrieval) -> dict[str, float]:
    """The inputs of the relevance model, by name (see the module docstring)."""
    if not retrieval.sentences:
        return dict.fromkeys(SIGNALS, 0.0) | {"type_mismatch": 1.0}
    ranked = sorted(retrieval.sentences, key=lambda s: -s.dense)
    best = ranked[0]
    cosines = [s.dense for s in retrieval.sentences]
    sentences = "\n".join(f"{s.sentence.section}\n{s.sentence.header}\n{s.sentence.text}"
                          for s in ranked[:_BEST_SENTENCES]).lower()
    # (Leaving out common focus words, background IDF < 5 such as 一般, was tried: left-out
    # balanced accuracy fell from 0.758 to 0.751.)
    focus_all = focus_words(retrieval.question, list(retrieval.word_weights))
    # (Synonyms counting for the focus here as in `unsupported` was tried: left-out balanced
    # accuracy 0.778 -> 0.773.)
    focus = [w for w in focus_all if not matches(w, sentences)]
    best_hit = next((h for h in retrieval.hits if h.chunk.contains(best.sentence)), None)
    evidence = evidence_text(retrieval, best_hit)
    weights = retrieval.word_weights
    total = sum(weights.values())
    missing = {w: v for w, v in weights.items() if not matches(w, evidence)}
    names = [n for h in retrieval.hits[:1] for n in h.names]
    if best_hit is not None and best_hit is not retrieval.hits[0]:
        names += list(best_hit.names)
    return {
        "best_cos": best.dense,
        "spread": best.dense - sum(cosines) / len(cosines),
        "coverage": term_coverage(question_terms(retrieval), evidence),
        "missing": sum(missing.values()) / total if total else 0.0,
        "missing_max": max(missing.values(), default=0.0) / 12.0,
        "focus_missing": max((retrieval.word_weights[w] for w in focus), default=0.0) / 12.0,
        "unsupported": float(unsupported(retrieval, ranked[:_BEST_SENTENCES], focus_all)),
        "constraint": float(missing_constraint(retrieval, evidence)),
        "type_mismatch": float(answer_type_mismatch(retrieval.question, sentences, names)),
        "helper_best": retrieval.helper_best or 0.0,
    }


SIGNALS = ("best_cos", "spread", "coverage", "missing", "missing_max", "focus_missing", "unsupported", "constraint",
           "type_mismatch", "helper_best",
           # From the reader (answer.read_answer): its best span's margin over "no answer", and
           # that span's passage rank - 1.
           "reader_margin", "reader_rank")


def relevance(retrieval: Retrieval, model: RelevanceModel | None = None) -> float:
    """Relevance in [0, 1] of the documents to `retrieval.question`; higher = more likely answered."""
    if not retrieval.hits:
        return 0.0
    model = model or load_model()
    return model.score(signals(retrieval), question_language(retrieval.question))
