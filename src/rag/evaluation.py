"""Batch evaluation: `rag eval FILE` runs every question of a file through the very pipeline
behind `rag ask` and measures retrieval, answers and abstention (docs/evaluation.md).

    rows, bad_rows = load_rows(Path("evals/suite/questions/fintech-ten-trends.jsonl"))
    results, more_bad = evaluate(qa, rows, documents, top_k=5, strictness=0.5)
    summary = summarize(results, bad_rows + more_bad, top_k=5, by="lang")

The metric functions take the `rag ask --json` objects (quotes and passages as dicts), so the
numbers can be recomputed from results.jsonl alone. Every metric is defined in
docs/evaluation.md exactly as computed here.
"""
from __future__ import annotations

import codecs
import csv
import html
import io
import json
import math
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .config import Settings

EXIT_OK, EXIT_THRESHOLD, EXIT_USAGE = 0, 1, 2

#: Metrics --fail-under accepts (higher is better), besides hit@k for any k up to top_k.
FLOOR_METRICS = ("hit@1", "hit@3", "hit@5", "mrr", "answer_recall", "char_f1", "abstain_rate", "verbatim_rate")
#: Metrics where lower is better: a floor makes no sense for them.
LOWER_IS_BETTER = ("false_abstain_rate", "wrong_doc_rate", "latency_p50_ms", "latency_p95_ms")
#: Markup that must never reach a displayed quote (structure.display takes it out).
_MARKUP = re.compile(r"\*\*|__|`|\|.*\||^\s*(?:>|#{1,6}\s|[-*+]\s)", re.MULTILINE)
#: The hit@k values the summary reports (when k <= top_k); the full curve is in `hit_at_k`.
SUMMARY_HITS = (1, 3, 5)
#: Group label for rows whose --by column is missing, null or empty.
NO_GROUP = "(none)"

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


class EvalUsageError(Exception):
    """The evaluation cannot start (unreadable file, unknown metric or column); exit code 2."""


# --------------------------------------------------------------------------- input rows


@dataclass(frozen=True)
class EvalRow:
    """One question of the file. `expected` is None when the corpus should not answer it."""

    line: int
    id: str
    question: str
    expected: str | None
    #: Every column of the row as read (including id, question and answer).
    fields: dict = field(default_factory=dict)

    @property
    def answerable(self) -> bool:
        return self.expected is not None


@dataclass(frozen=True)
class BadRow:
    """A row that was skipped, with its 1-based physical line number and the reason."""

    line: int
    reason: str


def _scalar_text(value) -> str | None:
    """A JSON scalar as text (None for null); raises ValueError for lists and objects."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError(type(value).__name__)


def make_row(fields: dict, line: int) -> EvalRow | BadRow:
    """Validate one row's columns: a non-empty `question` and an `answer` column are required."""
    try:
        question = (_scalar_text(fields.get("question")) or "").strip()
    except ValueError as exc:
        return BadRow(line, f"the question must be text, not a JSON {exc}")
    if not question:
        return BadRow(line, "no question" if "question" not in fields else "empty question")
    if "answer" not in fields:
        return BadRow(line, "no 'answer' field (use null or an empty string when the corpus does not answer it)")
    try:
        expected = (_scalar_text(fields["answer"]) or "").strip() or None
    except ValueError as exc:
        return BadRow(line, f"the answer must be text or null, not a JSON {exc}")
    try:
        row_id = (_scalar_text(fields.get("id")) or "").strip()
    except ValueError:
        row_id = ""
    return EvalRow(line, row_id or f"line-{line}", question, expected, dict(fields))


def read_jsonl(data: bytes) -> tuple[list[EvalRow], list[BadRow]]:
    """Rows of a JSONL file, decoded line by line so one bad line is reported and skipped."""
    rows, bad = [], []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append(BadRow(number, f"not valid UTF-8 (byte {exc.start + 1} of the line)"))
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            bad.append(BadRow(number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            bad.append(BadRow(number, f"not a JSON object (a JSON {type(obj).__name__})"))
            continue
        item = make_row(obj, number)
        (rows if isinstance(item, EvalRow) else bad).append(item)
    return rows, bad


def read_csv(data: bytes, name: str = "file") -> tuple[list[EvalRow], list[BadRow]]:
    """Rows of a CSV file with a header line. The file must be UTF-8 (a BOM is allowed).

    Raises `EvalUsageError` when the file is not UTF-8 or its header lacks `question` or `answer`.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise EvalUsageError(f"{name}: not a UTF-8 file (first bad byte on line {line}); "
                             "save it as UTF-8 (\"CSV UTF-8\" in spreadsheet programs) and try again") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows, bad = [], []
    while True:
        start = reader.line_num + 1  # the physical line where the next record begins
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad.append(BadRow(start, f"unreadable CSV record ({exc})"))
            if reader.line_num < start:  # nothing consumed: stop rather than loop forever
                break
            continue
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip() for cell in record]
            missing = [c for c in ("question", "answer") if c not in header]
            if missing:
                raise EvalUsageError(f"{name}: the header line has no {' or '.join(repr(m) for m in missing)} "
                                     f"column (columns: {', '.join(header)})")
            continue
        if len(record) != len(header):
            bad.append(BadRow(start, f"{len(record)} fields where the header has {len(header)} "
                                     "(a comma inside an unquoted value?)"))
            continue
        item = make_row(dict(zip(header, record)), start)
        (rows if isinstance(item, EvalRow) else bad).append(item)
    if header is None:
        raise EvalUsageError(f"{name}: empty file, no header line")
    return rows, bad


def load_rows(path: Path) -> tuple[list[EvalRow], list[BadRow]]:
    """Read a .jsonl or .csv file (chosen by extension), or every such file of a folder (an
    evaluation suite organised by document): the good rows and the skipped ones.

    Raises `EvalUsageError` for a missing file, an unknown extension, or a CSV file that is
    unusable as a whole.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".jsonl", ".csv"))
        if not files:
            raise EvalUsageError(f"{path}: no .jsonl or .csv files in this folder")
        rows, bad = [], []
        for file in files:
            more, more_bad = load_rows(file)
            rows += more
            bad += [BadRow(b.line, f"{file.name}: {b.reason}") for b in more_bad]
        return rows, bad
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise EvalUsageError(f"{path}: unknown file type {suffix or '(none)'}; use .jsonl or .csv")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvalUsageError(f"{path}: cannot be read ({exc.strerror})") from None
    return read_jsonl(data) if suffix == ".jsonl" else read_csv(data, str(path))


# --------------------------------------------------------------------------- metric functions


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


# --------------------------------------------------------------------------- per-row results


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
            "answer": self.answer,
            "metrics": self.metrics(),
        }


def score_row(row: EvalRow, answer: dict, documents: Mapping[str, str]) -> RowResult:
    """Measure one answer (a `rag ask --json` object) against the row's expected answer."""
    quotes = answer["quotes"]
    verbatim = sum(is_verbatim(q, documents) for q in quotes)
    markup = sum(shows_markup(q) for q in quotes)
    if not row.answerable:
        return RowResult(row, answer, None, None, None, None, len(quotes), verbatim, markup_quotes=markup)
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
    )


def warm_up(qa, rows: list[EvalRow]) -> None:
    """Ask the first question of each question language once, untimed, so one-time loading
    (jieba's dictionary, a model loaded on the first question of its language) does not land
    in one row's latency."""
    from .answer import QuestionError
    from .relevance import question_language

    seen = set()
    for row in rows:
        lang = question_language(row.question)
        if lang in seen:
            continue
        try:
            qa.ask(row.question)
            seen.add(lang)
        except QuestionError:
            continue


def evaluate(qa, rows: list[EvalRow], documents: Mapping[str, str], top_k: int, strictness: float,
             progress: Callable[[Iterable], Iterable] | None = None) -> tuple[list[RowResult], list[BadRow]]:
    """Ask every row's question with `qa.ask(question, top_k, strictness)` and score the answers.

    A question the pipeline refuses (QuestionError, e.g. too long) becomes a bad row.
    """
    from .answer import QuestionError

    results, bad = [], []
    for row in (progress(rows) if progress else rows):
        try:
            answer = qa.ask(row.question, top_k=top_k, strictness=strictness)
        except QuestionError as exc:
            bad.append(BadRow(row.line, str(exc)))
            continue
        results.append(score_row(row, answer.to_json(), documents))
    return results, bad


# --------------------------------------------------------------------------- aggregation


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


def group_value(row: EvalRow, column: str) -> str:
    """The row's value of `column` as a group label (NO_GROUP when missing, null or empty)."""
    try:
        value = _scalar_text(row.fields.get(column))
    except ValueError:
        value = json.dumps(row.fields.get(column), ensure_ascii=False)
    return value.strip() if value and value.strip() else NO_GROUP


def summarize(results: list[RowResult], bad_rows: list[BadRow], top_k: int, by: str | None = None,
              settings: Settings | None = None, source: str | None = None) -> dict:
    """summary.json: metrics overall and per group, bad rows, and expected answers not in the corpus."""
    summary = {"file": source, "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if settings is not None:
        summary["settings"] = {
            "top_k": top_k, "strictness": settings.strictness, "model": settings.model,
            "max_quotes": settings.answer.max_quotes,
            "corpus_dir": str(settings.corpus_dir), "index_dir": str(settings.index_dir),
        }
    summary.update(aggregate(results, top_k))
    summary["by"] = by
    groups: dict[str, list[RowResult]] = {}
    if by:
        for r in results:
            groups.setdefault(group_value(r.row, by), []).append(r)
    summary["groups"] = {name: aggregate(groups[name], top_k) for name in sorted(groups)}
    bad = sorted(bad_rows, key=lambda b: b.line)
    summary["bad_rows"] = {"count": len(bad), "rows": [{"line": b.line, "reason": b.reason} for b in bad]}
    missing = [r.row for r in results if r.gold_in_corpus is False]
    summary["gold_not_in_corpus"] = {
        "count": len(missing),
        "rows": [{"line": row.line, "id": row.id, "expected": row.expected} for row in missing],
    }
    notes = []
    if results and summary["counts"]["quotes"] == 0:
        notes.append("verbatim_rate is 1.0 because no row quoted anything.")
    summary["notes"] = notes
    return summary


# --------------------------------------------------------------------------- thresholds


def metric_value(summary: dict, name: str) -> float | None:
    """A metric of the summary by name; hit@k reads the full hit@k curve."""
    match = re.fullmatch(r"hit@(\d+)", name)
    if match:
        return summary["hit_at_k"].get(match.group(1))
    return summary["metrics"].get(name)


def parse_thresholds(specs: list[str], top_k: int) -> dict[str, float]:
    """--fail-under METRIC=VALUE specs as {metric: floor}. Raises `EvalUsageError` when one is wrong."""
    thresholds = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise EvalUsageError(f"--fail-under {spec!r}: expected METRIC=VALUE, e.g. hit@3=0.9")
        if name in LOWER_IS_BETTER:
            raise EvalUsageError(f"--fail-under {name}: lower is better for {name}, so a floor does not apply; "
                                 "gate on answer_recall (answerable rows) or abstain_rate (unanswerable rows)")
        hit = re.fullmatch(r"hit@(\d+)", name)
        if hit and not 1 <= int(hit.group(1)) <= top_k:
            raise EvalUsageError(f"--fail-under {name}: hit@k needs 1 <= k <= top_k ({top_k})")
        if not hit and name not in FLOOR_METRICS:
            raise EvalUsageError(f"--fail-under: unknown metric {name!r}; choose from "
                                 f"{', '.join(FLOOR_METRICS)} or hit@k (k <= {top_k})")
        floor = _spec_number("--fail-under", spec, value)
        if not 0.0 <= floor <= 1.0:
            raise EvalUsageError(f"--fail-under {spec!r}: thresholds are fractions in [0, 1], e.g. {name}=0.9")
        thresholds[name] = floor
    return thresholds


def _spec_number(flag: str, spec: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise EvalUsageError(f"{flag} {spec!r}: {value!r} is not a number") from None


#: Metrics --fail-over accepts (lower is better).
CEILING_METRICS = ("false_abstain_rate", "wrong_doc_rate", "markup_quotes")


def parse_ceilings(specs: list[str]) -> dict[str, float]:
    """--fail-over METRIC=VALUE specs as {metric: ceiling}. Raises `EvalUsageError` when one is wrong."""
    ceilings = {}
    for spec in specs:
        name, sep, value = (part.strip() for part in spec.partition("="))
        if not sep or name not in CEILING_METRICS:
            raise EvalUsageError(f"--fail-over {spec!r}: expected METRIC=VALUE with METRIC one of "
                                 f"{', '.join(CEILING_METRICS)}")
        ceiling = _spec_number("--fail-over", spec, value)
        if not ceiling >= 0:
            raise EvalUsageError(f"--fail-over {spec!r}: the ceiling must be a number >= 0")
        ceilings[name] = ceiling
    return ceilings


def check_ceilings(summary: dict, ceilings: dict[str, float]) -> list[str]:
    """One message per metric above its ceiling (a metric that does not apply passes: no rows)."""
    return [f"{name} = {summary['metrics'][name]:.3f} is above {ceiling:g}"
            for name, ceiling in ceilings.items()
            if summary["metrics"].get(name) is not None and summary["metrics"][name] > ceiling]


def check_thresholds(summary: dict, thresholds: dict[str, float]) -> list[str]:
    """One message per metric below its floor; a metric that could not be computed fails too."""
    failures = []
    for name, floor in thresholds.items():
        value = metric_value(summary, name)
        if value is None:
            failures.append(f"{name} could not be computed (no rows it applies to); required >= {floor:g}")
        elif value < floor:
            failures.append(f"{name} = {value:.3f} is below {floor:g}")
    return failures


# --------------------------------------------------------------------------- terminal summary

_TABLE_ROWS = [("rows", "counts"), ("answerable", "counts"), ("unanswerable", "counts")] + \
    [(f"hit@{k}", "metrics") for k in SUMMARY_HITS] + \
    [(name, "metrics") for name in ("mrr", "answer_recall", "char_f1", "false_abstain_rate",
                                    "abstain_rate", "verbatim_rate", "wrong_doc_rate", "markup_quotes",
                                    "latency_p50_ms", "latency_p95_ms")]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = True) -> str:
    space = " " * max(0, width - _display_width(text))
    return space + text if right else text + space


def _format_value(name: str, value) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.1f}" if name.endswith("_ms") else f"{value:.3f}"


def format_summary(summary: dict) -> str:
    """The summary as a plain-text table (metrics by row; `all`, then one column per group)."""
    columns = [("all", summary)] + list(summary["groups"].items())
    header = ["metric"] + [name for name, _ in columns]
    lines = [[name] + [_format_value(name, part[kind].get(name)) for _, part in columns]
             for name, kind in _TABLE_ROWS]
    widths = [max(_display_width(line[i]) for line in [header] + lines) for i in range(len(header))]
    out = []
    settings = summary.get("settings", {})
    counts = summary["counts"]
    out.append(f"Evaluated {counts['rows']} rows of {summary.get('file')} ({counts['answerable']} answerable, "
               f"{counts['unanswerable']} unanswerable; {counts['failures']} failures)"
               + (f" · top_k {settings['top_k']} · strictness {settings['strictness']}" if settings else ""))
    if summary["by"]:
        out.append(f"Groups by column '{summary['by']}'.")
    out.append("")
    for line in [header] + lines:
        out.append("  ".join(_pad(cell, widths[i], right=i > 0) for i, cell in enumerate(line)).rstrip())
    bad = summary["bad_rows"]
    if bad["count"]:
        out.append("")
        out.append(f"Bad rows, skipped ({bad['count']}):")
        out.extend(f"  line {b['line']}: {b['reason']}" for b in bad["rows"])
    missing = summary["gold_not_in_corpus"]
    if missing["count"]:
        out.append("")
        out.append(f"Expected answers not found verbatim in the corpus ({missing['count']}, still scored as answerable):")
        out.extend(f"  line {m['line']} ({m['id']}): {m['expected']}" for m in missing["rows"])
    for note in summary.get("notes", []):
        out.append(f"Note: {note}")
    return "\n".join(out)


# --------------------------------------------------------------------------- outputs


def write_outputs(out_dir: Path, results: list[RowResult], summary: dict) -> list[Path]:
    """Write results.jsonl, summary.json and report.html into `out_dir` (created if needed)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "results.jsonl", out_dir / "summary.json", out_dir / "report.html"]
    with paths[0].open("w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
    paths[1].write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths[2].write_text(render_html(results, summary), encoding="utf-8")
    return paths


# --------------------------------------------------------------------------- report.html

_E = html.escape
_BLUE, _ORANGE, _RED, _GREY = "#3569b8", "#e08a1e", "#c0392b", "#888"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em;margin:.4em 0}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.3em .5em;vertical-align:top}
th{background:#f4f4f4;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:after{content:" \\2195";color:#aaa}
tr.fail td:first-child{color:#c0392b;font-weight:bold}tr.ok td:first-child{color:#2e7d32}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}.chart{border:1px solid #eee;padding:.5em}
.muted{color:#777}.warn{color:#b9770e}.quote{white-space:pre-wrap}
"""

_SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.dataset.dir !== "asc";
      table.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
      th.dataset.dir = asc ? "asc" : "desc";
      var body = table.tBodies[0];
      var key = function (row) { var c = row.cells[col]; return c.dataset.v !== undefined ? c.dataset.v : c.textContent; };
      Array.from(body.rows).sort(function (a, b) {
        var x = key(a), y = key(b), nx = Number(x), ny = Number(y);
        var c = (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _svg_frame(width: int, height: int, body: list[str], legend: list[tuple[str, str]] = ()) -> str:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="11" font-family="sans-serif">']
    parts += body
    for i, (label, color) in enumerate(legend):  # one line across the top
        x = 40 + 110 * i
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="13">{_E(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def nice_ticks(high: float) -> list[float]:
    """Round tick values 0, step, 2*step, ... covering [0, high], step 1, 2 or 5 times a power of ten."""
    if high <= 0:
        return [0.0, 1.0]
    power = 10 ** math.floor(math.log10(high / 5))
    step = next(m * power for m in (1, 2, 5, 10) if high / (m * power) <= 5)
    return [i * step for i in range(math.ceil(high / step - 1e-9) + 1)]


def svg_histogram(series: list[tuple[str, str, list[float]]], lo: float, hi: float, bins: int,
                  markers: list[tuple[float, str, str]] = (), x_label: str = "",
                  ticks: list[float] | None = None) -> str:
    """A histogram of one or more series (label, colour, values) side by side in each bin over
    [lo, hi] (values outside are counted in the first or last bin), with vertical markers
    (x, label, colour), as an inline SVG."""
    width, height, left, right, top, bottom = 560, 230, 40, 25, 50, 40
    pw, ph = width - left - right, height - top - bottom
    hi = hi if hi > lo else lo + 1.0
    counts = [[0] * bins for _ in series]
    for s, (_, _, values) in enumerate(series):
        for v in values:
            b = min(bins - 1, max(0, int((v - lo) / (hi - lo) * bins)))
            counts[s][b] += 1
    peak = max([max(c) for c in counts if c] + [1])
    x_of = lambda v: left + (min(max(v, lo), hi) - lo) / (hi - lo) * pw  # noqa: E731
    body = [f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#444"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#444"/>',
            f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>',
            f'<text x="{left - 4}" y="{top + ph}" text-anchor="end">0</text>',
            f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">{_E(x_label)}</text>']
    bin_w = pw / bins
    bar_w = bin_w / max(1, len(series))
    for s, (label, color, _) in enumerate(series):
        for b, n in enumerate(counts[s]):
            if n:
                h = n / peak * ph
                x = left + b * bin_w + s * bar_w
                b_lo = lo + b * (hi - lo) / bins
                body.append(f'<rect x="{x + 0.5:.1f}" y="{top + ph - h:.1f}" width="{max(1.0, bar_w - 1):.1f}" '
                            f'height="{h:.1f}" fill="{color}"><title>{_E(label)}: {n} in '
                            f'[{b_lo:.3g}, {b_lo + (hi - lo) / bins:.3g})</title></rect>')
    for t in ticks if ticks is not None else [lo + (hi - lo) * i / 4 for i in range(5)]:
        label = str(int(t)) if float(t).is_integer() else f"{t:.3g}"
        body.append(f'<text x="{x_of(t):.1f}" y="{top + ph + 14}" text-anchor="middle">{label}</text>')
    for i, (v, label, color) in enumerate(markers):
        x = x_of(v)
        label_y = top - 6 - 13 * i
        body.append(f'<line x1="{x:.1f}" y1="{label_y - 4}" x2="{x:.1f}" y2="{top + ph}" stroke="{color}" '
                    f'stroke-width="2" stroke-dasharray="5,3"/>'
                    f'<text x="{x + 3:.1f}" y="{label_y}" fill="{color}">{_E(label)}</text>')
    return _svg_frame(width, height, body, [(label, color) for label, color, _ in series] if len(series) > 1 else [])


def svg_bars(labels: list[str], values: list[float | None], x_label: str = "") -> str:
    """Bars for values in [0, 1], one per label, each with its value written above, as an inline SVG."""
    width, height, left, right, top, bottom = 400, 230, 40, 15, 20, 40
    pw, ph = width - left - right, height - top - bottom
    body = [f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#444"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#444"/>',
            f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">1</text>',
            f'<text x="{left - 4}" y="{top + ph}" text-anchor="end">0</text>',
            f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">{_E(x_label)}</text>']
    slot = pw / max(1, len(labels))
    for i, (label, value) in enumerate(zip(labels, values)):
        x = left + i * slot + slot * 0.15
        if value is not None:
            h = value * ph
            body.append(f'<rect x="{x:.1f}" y="{top + ph - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                        f'fill="{_BLUE}"><title>{_E(label)}: {value:.3f}</title></rect>'
                        f'<text x="{x + slot * 0.35:.1f}" y="{top + ph - h - 3:.1f}" text-anchor="middle">{value:.2f}</text>')
        body.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + ph + 14}" text-anchor="middle">{_E(label)}</text>')
    return _svg_frame(width, height, body)


def _summary_table(summary: dict) -> str:
    columns = [("all", summary)] + list(summary["groups"].items())
    head = "".join(f"<th>{_E(name)}</th>" for name, _ in columns)
    body = "".join(
        f"<tr><th>{_E(name)}</th>" + "".join(
            f'<td class="num">{_E(_format_value(name, part[kind].get(name)))}</td>' for _, part in columns) + "</tr>"
        for name, kind in _TABLE_ROWS)
    return f"<table><thead><tr><th>metric</th>{head}</tr></thead><tbody>{body}</tbody></table>"


def _answer_cell(answer: dict) -> str:
    if answer["abstained"]:
        return f'<span class="muted">(abstained) {_E(answer["answer"])}</span>'
    return "<br>".join(f'<span class="quote">{_E(q["text"])}</span> [{q["n"]}]' for q in answer["quotes"])


def _rows_table(results: list[RowResult], by: str | None) -> str:
    columns = ["status", "line", "id"] + ([by] if by else []) + \
        ["question", "expected", "answer", "rank", "recall", "char F1", "relevance", "quotes verbatim", "ms"]
    head = "".join(f"<th>{_E(c)}</th>" for c in columns)
    ordered = sorted(results, key=lambda r: (r.failure is None, r.row.line))
    rows = []
    for r in ordered:
        m = r.metrics()
        status = f"FAIL: {r.failure}" if r.failure else "ok"
        expected = _E(r.row.expected) if r.row.answerable else '<span class="muted">(unanswerable)</span>'
        if r.gold_in_corpus is False:
            expected += ' <span class="warn" title="not found verbatim in the corpus">⚠ not in corpus</span>'
        recall = "" if m["answer_recall"] is None else ("yes" if m["answer_recall"] else "no")
        cells = [f'<td data-v="{0 if r.failure else 1}">{_E(status)}</td>',
                 f'<td class="num">{r.row.line}</td>', f"<td>{_E(r.row.id)}</td>"]
        if by:
            cells.append(f"<td>{_E(group_value(r.row, by))}</td>")
        cells += [f"<td>{_E(r.row.question)}</td>", f"<td>{expected}</td>", f"<td>{_answer_cell(r.answer)}</td>",
                  f'<td class="num" data-v="{m["rank"] or 999999}">{m["rank"] or ""}</td>',
                  f"<td>{recall}</td>",
                  f'<td class="num" data-v="{-1 if m["char_f1"] is None else m["char_f1"]}">'
                  f'{"" if m["char_f1"] is None else format(m["char_f1"], ".3f")}</td>',
                  f'<td class="num">{m["relevance"]:.3f}</td>',
                  f'<td class="num">{r.verbatim_quotes}/{r.quotes}</td>',
                  f'<td class="num">{r.latency_ms:.1f}</td>']
        rows.append(f'<tr class="{"fail" if r.failure else "ok"}">{"".join(cells)}</tr>')
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render_html(results: list[RowResult], summary: dict) -> str:
    """report.html: one self-contained page (inline CSS, SVG and a little sorting JS)."""
    settings = summary.get("settings", {})
    strictness = settings.get("strictness")
    counts = summary["counts"]
    ks = list(summary["hit_at_k"])
    charts = [
        ("hit@k by k (answerable rows)",
         svg_bars([f"@{k}" for k in ks], [summary["hit_at_k"][k] for k in ks], "k (passages retrieved)")),
        ("Relevance (the abstention signal): answerable vs unanswerable rows",
         svg_histogram([("answerable", _BLUE, [r.answer["relevance"] for r in results if r.row.answerable]),
                        ("unanswerable", _ORANGE, [r.answer["relevance"] for r in results if not r.row.answerable])],
                       0.0, 1.0, 20,
                       [(strictness, f"strictness {strictness:g}: abstain below", _RED)] if strictness is not None else [],
                       "relevance", [i / 10 for i in range(11)])),
    ]
    latencies = [r.latency_ms for r in results]
    p50, p95 = summary["metrics"]["latency_p50_ms"], summary["metrics"]["latency_p95_ms"]
    ticks = nice_ticks(max(latencies, default=1.0))
    charts.append(("Latency per question (ms)",
                   svg_histogram([("questions", _GREY, latencies)], 0.0, ticks[-1], 20,
                                 [(p50, f"p50 {p50:.1f}", _BLUE), (p95, f"p95 {p95:.1f}", _RED)] if latencies else [],
                                 "milliseconds (total, per question)", ticks)))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>rag eval: {_E(str(summary.get('file')))}</title><style>{_CSS}</style></head><body>",
        f"<h1>rag eval: {_E(str(summary.get('file')))}</h1>",
        f"<p>{counts['rows']} rows ({counts['answerable']} answerable, {counts['unanswerable']} unanswerable), "
        f"{counts['failures']} failures; {summary['bad_rows']['count']} bad rows skipped. "
        + _E(" · ".join(f"{k} {v}" for k, v in settings.items())) + f" · {_E(summary['created'])}</p>",
        "<h2>Summary</h2>",
        (f"<p>Groups by column <b>{_E(summary['by'])}</b>.</p>" if summary["by"] else ""),
        _summary_table(summary),
        "".join(f'<p class="muted">Note: {_E(n)}</p>' for n in summary.get("notes", [])),
    ]
    bad = summary["bad_rows"]
    if bad["count"]:
        parts.append(f"<h2>Bad rows, skipped ({bad['count']})</h2><table><tr><th>line</th><th>reason</th></tr>"
                     + "".join(f'<tr><td class="num">{b["line"]}</td><td>{_E(b["reason"])}</td></tr>' for b in bad["rows"])
                     + "</table>")
    missing = summary["gold_not_in_corpus"]
    if missing["count"]:
        parts.append(f"<h2>Expected answers not found verbatim in the corpus ({missing['count']})</h2>"
                     "<p>Still scored as answerable.</p><table><tr><th>line</th><th>id</th><th>expected</th></tr>"
                     + "".join(f'<tr><td class="num">{m["line"]}</td><td>{_E(m["id"])}</td><td>{_E(m["expected"])}</td></tr>'
                               for m in missing["rows"]) + "</table>")
    parts.append('<h2>Charts</h2><div class="charts">'
                 + "".join(f'<div class="chart"><h3>{_E(title)}</h3>{svg}</div>' for title, svg in charts) + "</div>")
    parts.append("<h2>Rows (failures first; click a column to sort)</h2>")
    parts.append(_rows_table(results, summary["by"]))
    parts.append(f"<script>{_SORT_JS}</script></body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- command line


def _tqdm(desc: str, unit: str):
    def progress(items):
        from tqdm import tqdm

        return tqdm(items, desc=desc, unit=unit, file=sys.stderr, leave=False)

    return progress


def run_cli(args, settings: Settings, log: Callable[[str], None] = print) -> int:
    """`rag eval`: load the file, ask every question, print the summary, write outputs, gate.

    Returns the exit code: 0 ok, 1 a --fail-under threshold not met, 2 bad usage (unreadable
    file, unknown metric or column, no usable row).
    """
    from .corpus import load_corpus
    from .pipeline import Pipeline

    try:
        thresholds = parse_thresholds(args.fail_under or [], settings.top_k)
        ceilings = parse_ceilings(getattr(args, "fail_over", None) or [])
        rows, bad_rows = load_rows(Path(args.file))
        for b in bad_rows:
            log(f"rag eval: {args.file} line {b.line}: {b.reason}; skipped")
        if not rows:
            raise EvalUsageError(f"{args.file}: no usable rows")
        if args.by and not any(args.by in row.fields for row in rows):
            columns = sorted({name for row in rows for name in row.fields})
            raise EvalUsageError(f"--by {args.by}: no such column in {args.file} (columns: {', '.join(columns)})")
    except EvalUsageError as exc:
        log(f"rag eval: {exc}")
        return EXIT_USAGE

    qa = Pipeline.open(settings, log=log, progress=_tqdm("embedding", "batch"))
    warm_up(qa, rows)
    documents = {doc.path: doc.text for doc in load_corpus(settings.corpus_dir)[0]}
    results, refused = evaluate(qa, rows, documents, settings.top_k, settings.strictness, _tqdm("eval", "question"))
    for b in refused:
        log(f"rag eval: {args.file} line {b.line}: {b.reason}; skipped")
    for r in results:
        if r.gold_in_corpus is False:
            log(f"rag eval: warning: {args.file} line {r.row.line} ({r.row.id}): "
                "the expected answer does not occur verbatim in the corpus")

    summary = summarize(results, bad_rows + refused, settings.top_k, args.by, settings, str(args.file))
    print(format_summary(summary))
    if args.out:
        paths = write_outputs(Path(args.out), results, summary)
        log("rag eval: wrote " + ", ".join(str(p) for p in paths))
    failures = check_thresholds(summary, thresholds) + check_ceilings(summary, ceilings)
    for message in failures:
        log(f"rag eval: FAIL {message}")
    if (thresholds or ceilings) and not failures:
        log("rag eval: all thresholds met (" + ", ".join([f"{k} >= {v:g}" for k, v in thresholds.items()]
                                                          + [f"{k} <= {v:g}" for k, v in ceilings.items()]) + ")")
    return EXIT_THRESHOLD if failures else EXIT_OK
