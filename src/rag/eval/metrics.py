"""The metrics of `rag eval`, exactly as docs/evaluation.md defines them: per-row functions on
`rag ask --json` objects (quotes and passages as dicts, so every number can be recomputed from
results.jsonl alone), `score_row` for one row, `aggregate` for a set of rows.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .rows import EvalRow

#: Markup that must never reach a displayed quote (structure.display takes it out).
_MARKUP = re.compile(r"\*\*|__|`|\|.*\||^\s*(?:>|#{1,6}\s|[-*+]\s)", re.MULTILINE)
#: The hit@k values the summary reports (when k <= top_k); the full curve is in `hit_at_k`.
SUMMARY_HITS = (1, 3, 5)

# The punctuation list of the official CMRC 2018 evaluation script: ymcui/cmrc2018,
# squad-style-data/cmrc2018_evaluate.py, `remove_punctuation` and
# `mixed_segmentation(rm_punc=True)` (the `sp_char` list), copied as is. ASCII , . ( ) ; ! ? " '
# are not in it, and its "……" entry is two characters long, so it never matches the single
# characters the script compares it with: a "…" is kept there, and here.
CMRC_PUNCTUATION = frozenset([
    "-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=",
    "，", "。", "：", "？", "！", "“", "”", "；", "’", "《", "》", "……", "·", "、",
    "「", "」", "（", "）", "－", "～", "『", "』",
])

#: One line per metric, shown next to it in the report and the text summary's legend.
DEFINITIONS = {
    "rows": "rows scored (bad rows are listed apart)",
    "answerable": "rows with an expected answer",
    "unanswerable": "rows the corpus should not answer (answer null or empty)",
    "hit@1": "share of answerable rows whose expected span is inside the 1st retrieved passage",
    "hit@3": "share of answerable rows whose expected span is inside one of the top 3 passages",
    "hit@5": "share of answerable rows whose expected span is inside one of the top 5 passages",
    "mrr": "mean of 1/rank of the first passage holding the expected span (0 when none does)",
    "answer_recall": "share of answerable rows whose expected span lies inside the quoted text",
    "char_f1": "CMRC 2018 character F1 of the quotes against the expected span, mean over answerable rows",
    "span_f1": "CMRC 2018 character F1 of the answer span (the reader's words; the quotes when there is none), "
               "mean over answerable rows (0 when abstaining)",
    "span_em": "share of answerable rows whose answer span equals the expected span (CMRC normalisation)",
    "span_verbatim_rate": "share of answer spans that equal their document's text at their offsets and lie inside "
                          "their quote",
    "false_abstain_rate": "share of answerable rows that abstained (lower is better)",
    "abstain_rate": "share of unanswerable rows that abstained (correctly)",
    "verbatim_rate": "share of quotes equal to their document's text at their offsets",
    "wrong_doc_rate": "share of answered rows with a doc column that cite another document (lower is better)",
    "markup_quotes": "quotes still showing Markdown or table markup as displayed (a count)",
    "latency_p50_ms": "median time inside qa.ask per row, milliseconds",
    "latency_p95_ms": "95th percentile of that time, milliseconds",
}


def first_hit_rank(gold: str, passages: list[dict]) -> int | None:
    """1-based rank of the first passage whose text contains `gold`, or None if none does."""
    for rank, passage in enumerate(passages, start=1):
        if gold in passage["text"]:
            return rank
    return None


def reciprocal_rank(rank: int | None) -> float:
    """1 / rank, or 0 when the expected span is in no retrieved passage."""
    return 1.0 / rank if rank else 0.0


def quoted_spans(quotes: list[dict], documents: Mapping[str, str]) -> list[str]:
    """The document text covered by the quotes, one string per run of touching quotes.

    Quotes of the same document are merged when they overlap, touch, or are separated only by
    white space in the document; each merged run is `document[first start:last end]`.
    Quotes of documents not in `documents` are left out.
    """
    spans = []
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for q in quotes:
        if q["doc"] in documents:
            by_doc.setdefault(q["doc"], []).append((q["start"], q["end"]))
    for doc, ranges in by_doc.items():
        text = documents[doc]
        ranges.sort()
        run_start, run_end = ranges[0]
        for start, end in ranges[1:]:
            if start <= run_end or not text[run_end:start].strip():
                run_end = max(run_end, end)
            else:
                spans.append(text[run_start:run_end])
                run_start, run_end = start, end
        spans.append(text[run_start:run_end])
    return spans


def answer_recalled(gold: str, quotes: list[dict], documents: Mapping[str, str]) -> bool:
    """Whether `gold` lies inside the quoted text: in one quote's text, or in a run of quotes
    that touch in the document (see `quoted_spans`). False when there are no quotes."""
    if not gold or not quotes:
        return False
    return any(gold in q["text"] for q in quotes) or any(gold in span for span in quoted_spans(quotes, documents))


def cmrc_normalize(text: str) -> str:
    """Lower-cased `text` without white space and without CMRC 2018's punctuation characters."""
    return "".join(ch for ch in text.lower() if not ch.isspace() and ch not in CMRC_PUNCTUATION)


def longest_common_substring(a: str, b: str) -> int:
    """Length of the longest common contiguous substring of `a` and `b` (DP, O(len(a)*len(b)))."""
    best = 0
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if ch == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def char_f1(prediction: str, gold: str) -> float:
    """CMRC 2018 F1: with both texts normalised (`cmrc_normalize`) and L their longest common
    substring, precision = L/len(prediction), recall = L/len(gold), F1 = 2PR/(P+R); 0 when L = 0."""
    pred, ref = cmrc_normalize(prediction), cmrc_normalize(gold)
    common = longest_common_substring(pred, ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def prediction_text(quotes: list[dict]) -> str:
    """What char_f1 scores: what a person is shown of each quote (its display form, else its
    text), concatenated in [n] order ("" when abstaining)."""
    return "".join(q.get("display") or q["text"] for q in sorted(quotes, key=lambda q: q["n"]))


def span_text(answer: dict) -> str:
    """What span_f1 scores: the answer span as shown, else the quotes (`prediction_text`)."""
    span = answer.get("span")
    if span:
        return span.get("display") or span["text"]
    return prediction_text(answer["quotes"])


def span_is_verbatim(answer: dict, documents: Mapping[str, str]) -> bool:
    """Whether the answer's span equals its document's text at its offsets and lies inside its quote."""
    span = answer["span"]
    quote = next((q for q in answer["quotes"] if q["n"] == span.get("quote", 1)), None)
    return is_verbatim(span, documents) and quote is not None and quote["doc"] == span["doc"] \
        and quote["start"] <= span["start"] <= span["end"] <= quote["end"]


def shows_markup(quote: dict) -> bool:
    """Whether the quote as displayed still holds Markdown or table markup."""
    return bool(_MARKUP.search(quote.get("display") or quote["text"]))


def is_verbatim(quote: dict, documents: Mapping[str, str]) -> bool:
    """Whether the quote's text equals its document's text at its offsets."""
    text = documents.get(quote["doc"])
    return text is not None and 0 <= quote["start"] <= quote["end"] <= len(text) \
        and text[quote["start"]:quote["end"]] == quote["text"]


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile with linear interpolation between closest ranks (numpy's default)."""
    xs = sorted(values)
    if not xs:
        return None
    position = (len(xs) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(xs) - 1)
    return xs[low] + (xs[high] - xs[low]) * (position - low)


def _mean(values: list) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class RowResult:
    """One evaluated row: its answer (the `rag ask --json` object) and its metrics."""

    row: EvalRow
    answer: dict
    #: Whether the expected answer occurs verbatim in some corpus document (None: unanswerable).
    gold_in_corpus: bool | None
    #: Rank of the first passage containing the expected answer (None: in none, or unanswerable).
    rank: int | None
    answer_recall: bool | None
    char_f1: float | None
    quotes: int
    verbatim_quotes: int
    #: Whether an answered row cites a document other than its `doc` column (None: not applicable).
    wrong_doc: bool | None = None
    markup_quotes: int = 0
    #: The conversation a follow-up row was asked in (earlier questions as understood, oldest first).
    history: tuple[str, ...] = ()
    span_f1: float | None = None
    span_em: float | None = None
    #: Whether the answer's span is verbatim and inside its quote (None: no span).
    span_verbatim: bool | None = None

    @property
    def abstained(self) -> bool:
        return bool(self.answer["abstained"])

    @property
    def latency_ms(self) -> float:
        return float(self.answer["timings_ms"].get("total", 0.0))

    @property
    def failure(self) -> str | None:
        """Why the row failed, or None: answerable and not recalled, or unanswerable and answered."""
        if self.row.answerable:
            if self.abstained:
                return "abstained"
            return None if self.answer_recall else "not recalled"
        return None if self.abstained else "answered"

    def metrics(self) -> dict:
        """The row's metrics, as written to results.jsonl (None where a metric does not apply)."""
        answerable = self.row.answerable
        return {
            "rank": self.rank,
            "reciprocal_rank": reciprocal_rank(self.rank) if answerable else None,
            "answer_recall": self.answer_recall,
            "char_f1": self.char_f1,
            "span_f1": self.span_f1,
            "span_em": self.span_em,
            "span_verbatim": self.span_verbatim,
            "false_abstain": self.abstained if answerable else None,
            "correct_abstain": self.abstained if not answerable else None,
            "quotes": self.quotes,
            "verbatim_quotes": self.verbatim_quotes,
            "wrong_doc": self.wrong_doc,
            "markup_quotes": self.markup_quotes,
            "relevance": self.answer["relevance"],
            "latency_ms": self.latency_ms,
            "failure": self.failure,
        }

    def to_json(self) -> dict:
        """One line of results.jsonl."""
        return {
            "id": self.row.id,
            "line": self.row.line,
            "question": self.row.question,
            "expected": self.row.expected,
            "answerable": self.row.answerable,
            "gold_in_corpus": self.gold_in_corpus,
            "fields": self.row.fields,
            "file": self.row.source,
            "history": list(self.history),
            "answer": self.answer,
            "metrics": self.metrics(),
        }


def score_row(row: EvalRow, answer: dict, documents: Mapping[str, str]) -> RowResult:
    """Measure one answer (a `rag ask --json` object) against the row's expected answer."""
    quotes = answer["quotes"]
    verbatim = sum(is_verbatim(q, documents) for q in quotes)
    markup = sum(shows_markup(q) for q in quotes)
    span_ok = span_is_verbatim(answer, documents) if answer.get("span") else None
    if not row.answerable:
        return RowResult(row, answer, None, None, None, None, len(quotes), verbatim, markup_quotes=markup,
                         span_verbatim=span_ok)
    gold = row.expected
    expected_doc = row.fields.get("doc")
    wrong_doc = any(q["doc"] != expected_doc for q in quotes) if quotes and isinstance(expected_doc, str) else None
    return RowResult(
        row, answer,
        gold_in_corpus=any(gold in text for text in documents.values()),
        rank=first_hit_rank(gold, answer["passages"]),
        answer_recall=answer_recalled(gold, quotes, documents),
        char_f1=0.0 if answer["abstained"] else char_f1(prediction_text(quotes), gold),
        quotes=len(quotes), verbatim_quotes=verbatim, wrong_doc=wrong_doc, markup_quotes=markup,
        span_f1=0.0 if answer["abstained"] else char_f1(span_text(answer), gold),
        span_em=0.0 if answer["abstained"] else float(cmrc_normalize(span_text(answer)) == cmrc_normalize(gold)),
        span_verbatim=span_ok,
    )


def aggregate(results: list[RowResult], top_k: int) -> dict:
    """Counts, metrics and the hit@k curve (k = 1..top_k) of a set of rows."""
    answerable = [r for r in results if r.row.answerable]
    unanswerable = [r for r in results if not r.row.answerable]
    hit_at_k = {str(k): _mean([r.rank is not None and r.rank <= k for r in answerable])
                for k in range(1, top_k + 1)}
    quotes = sum(r.quotes for r in results)
    verbatim = sum(r.verbatim_quotes for r in results)
    latencies = [r.latency_ms for r in results]
    metrics = {f"hit@{k}": hit_at_k[str(k)] for k in SUMMARY_HITS if k <= top_k}
    metrics.update({
        "mrr": _mean([reciprocal_rank(r.rank) for r in answerable]),
        "answer_recall": _mean([bool(r.answer_recall) for r in answerable]),
        "char_f1": _mean([r.char_f1 for r in answerable]),
        "span_f1": _mean([r.span_f1 for r in answerable]),
        "span_em": _mean([r.span_em for r in answerable]),
        "span_verbatim_rate": _mean([r.span_verbatim for r in results if r.span_verbatim is not None]),
        "false_abstain_rate": _mean([r.abstained for r in answerable]),
        "abstain_rate": _mean([r.abstained for r in unanswerable]),
        "verbatim_rate": verbatim / quotes if quotes else 1.0,
        "wrong_doc_rate": _mean([r.wrong_doc for r in answerable if r.wrong_doc is not None]),
        "markup_quotes": sum(r.markup_quotes for r in results),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    })
    counts = {
        "rows": len(results), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "failures": sum(r.failure is not None for r in results),
        "quotes": quotes, "verbatim_quotes": verbatim,
    }
    return {"counts": counts, "metrics": metrics, "hit_at_k": hit_at_k}
