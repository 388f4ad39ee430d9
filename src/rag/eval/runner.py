"""Running an evaluation: ask every row through the pipeline, score it, and write each result as
soon as it is scored, so a crash, Ctrl-C or the time limit leaves readable partial results.

    outcome = run(settings, Path("evals/suite/questions"), by="doc", out=Path("eval-out"))
    outcome.summary["metrics"]["answer_recall"], outcome.stopped, outcome.errors

One bad row never stops the run: a row the pipeline refuses or fails on becomes a bad row. Each
output (results.jsonl, summary.json, report.html, the terminal table) is written on its own, so
one failing step does not lose the others.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..conversation import context_entry
from ..terminal import shown
from .metrics import RowResult, score_row
from .rows import BadRow, EvalRow, EvalUsageError, load_rows
from .summary import summarize
from .text import format_summary

INTERRUPTED, TIME_LIMIT = "interrupted", "time limit"
#: The clock --time-limit is measured with (a module attribute, so tests can replace it).
_clock = time.monotonic


@dataclass
class RunOutcome:
    """What a run produced: the summary (of what was scored), how it ended, what failed to write."""

    summary: dict
    results: list[RowResult]
    #: None when every row was asked; else INTERRUPTED or TIME_LIMIT.
    stopped: str | None = None
    #: One message per output that could not be written.
    errors: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def json_line(obj) -> str:
    """`obj` as one line of JSON, UTF-8 text where possible; escapes whatever cannot be encoded."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate slipped through: keep the line valid JSON and UTF-8
        text = json.dumps(obj, ensure_ascii=True)
    return text


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", errors="backslashreplace")
    os.replace(tmp, path)


class ResultsWriter:
    """results.jsonl, one line per scored row, flushed as each row is scored."""

    def __init__(self, path: Path):
        self.path = path
        self._file = path.open("w", encoding="utf-8")

    def write(self, result: RowResult) -> None:
        self._file.write(json_line(result.to_json()) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def load_file(file: Path, by: str | None, settings: Settings) -> tuple[list[EvalRow], list[BadRow]]:
    """The rows of `file` (a file or a folder), checked before anything is loaded.

    Raises `EvalUsageError` when no row is usable or no row has the --by column.
    """
    rows, bad_rows = load_rows(Path(file), settings.evaluation)
    if not rows:
        raise EvalUsageError(f"{file}: no usable rows")
    if by and not any(by in row.fields for row in rows):
        columns = sorted({name for row in rows for name in row.fields})
        raise EvalUsageError(f"--by {by}: no such column in {file} (columns: {', '.join(columns)})")
    return rows, bad_rows


def _ask(qa, row: EvalRow, top_k: int | None, strictness: float | None, history: tuple[str, ...]):
    # Older pipelines have no `history` parameter: pass it only to follow-up rows.
    if history:
        return qa.ask(row.question, top_k=top_k, strictness=strictness, history=history)
    return qa.ask(row.question, top_k=top_k, strictness=strictness)


def ask_rows(qa, rows: Iterable[EvalRow], documents: Mapping[str, str], top_k: int | None, strictness: float | None,
             stop: Callable[[], bool] = lambda: False) -> Iterator[RowResult | BadRow]:
    """Ask each row's question (`qa.ask`, with the conversation's `history` for a follow-up row)
    and score the answer, yielding each RowResult, or a BadRow for a question the pipeline refuses
    or fails on. Stops before the next row once `stop()` is true."""
    from ..answer import QuestionError

    understood: dict[tuple[str, int], str] = {}  # each asked row's question as the pipeline understood it
    for row in rows:
        if stop():
            return
        history = tuple(understood.get((row.source, line)) for line in row.follows)
        if None in history:
            missing = row.follows[history.index(None)]
            yield BadRow(row.line, f"follows line {missing}, which was not asked")
            continue
        history = tuple(entry for entry in history if entry)   # "" : a refused turn, not context
        try:
            answer = _ask(qa, row, top_k, strictness, history).to_json()
            result = dataclasses.replace(score_row(row, answer, documents), history=history)
        except QuestionError as exc:
            yield BadRow(row.line, str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - one failing row must not stop the run
            yield BadRow(row.line, f"the pipeline failed on this question ({type(exc).__name__}: {exc})")
            continue
        understood[row.key] = context_entry(row.question, answer.get("understood_as"), answer["abstained"]) or ""
        yield result


def evaluate(qa, rows: list[EvalRow], documents: Mapping[str, str], top_k: int | None, strictness: float | None,
             progress: Callable[[Iterable], Iterable] | None = None) -> tuple[list[RowResult], list[BadRow]]:
    """Ask and score every row: (results, rows refused or failed). See `ask_rows`."""
    results, bad = [], []
    for item in ask_rows(qa, progress(rows) if progress else rows, documents, top_k, strictness):
        (results if isinstance(item, RowResult) else bad).append(item)
    return results, bad


def warm_up(qa, rows: list[EvalRow]) -> None:
    """Ask the first question of each question language once, untimed, so one-time loading
    (jieba's dictionary, a model loaded on the first question of its language) does not land
    in one row's latency."""
    from ..answer import QuestionError
    from ..relevance import question_language

    seen = set()
    for row in rows:
        lang = question_language(row.question)
        if lang in seen or row.follows:
            continue
        try:
            qa.ask(row.question)
            seen.add(lang)
        except QuestionError:
            continue


def _tqdm(desc: str, unit: str):
    def progress(items):
        from tqdm import tqdm

        return tqdm(items, desc=desc, unit=unit, file=sys.stderr, leave=False)

    return progress


def _open_pipeline(settings: Settings, log: Callable[[str], None]):
    from ..pipeline import Pipeline

    return Pipeline.open(settings, log=log, progress=_tqdm("embedding", "batch"))


def _print(text: str) -> None:
    stream = sys.stdout
    if hasattr(stream, "reconfigure"):  # a terminal that cannot show a character gets an escape, not a crash
        stream.reconfigure(errors="backslashreplace")
    print(shown(text, lines=True), file=stream)   # group labels come from the file: nothing runs


def run(settings: Settings, file: Path, by: str | None = None, out: Path | None = None,
        time_limit: float | None = None, log: Callable[[str], None] = print,
        rows: tuple[list[EvalRow], list[BadRow]] | None = None,
        open_pipeline: Callable | None = None, clock: Callable[[], float] | None = None,
        show: Callable[[str], None] | None = None, progress: Callable | None = None) -> RunOutcome:
    """`rag eval` without its arguments and exit codes: load, ask, score, write, summarise.

    `time_limit` (seconds, from the start of the call) is checked between rows: the row in flight
    finishes, the rest are not asked. Ctrl-C stops the same way. Either way the summary covers the
    rows scored so far and every output is written. Raises `EvalUsageError` (before loading the
    pipeline) when the file cannot be used. `open_pipeline(settings, log)`, `clock` and `show` (the
    terminal table's printer) default to the real ones; tests pass their own.
    """
    from ..corpus import load_corpus
    from ..extract import ExtractCache
    from ..index import EXTRACTED_DIR

    open_pipeline = open_pipeline or _open_pipeline
    clock = clock or _clock
    started = clock()
    rows, bad_rows = rows if rows is not None else load_file(file, by, settings)
    for b in bad_rows:
        log(f"rag eval: {file} line {b.line}: {b.reason}; skipped")
    out_dir = Path(out) if out else None
    outcome = RunOutcome({}, [])
    writer = None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        writer = ResultsWriter(out_dir / "results.jsonl")
        outcome.written.append(writer.path)

    def past_deadline() -> bool:
        return time_limit is not None and clock() - started >= time_limit

    refused: list[BadRow] = []
    try:
        qa = open_pipeline(settings, log)
        # Through the index's extraction cache: the build just made every PDF's, Word file's and web page's text.
        cache = ExtractCache(settings.index_dir / EXTRACTED_DIR)
        documents = {doc.path: doc.text for doc in load_corpus(settings.corpus_dir, settings.corpus, cache)[0]}
        if not past_deadline():
            warm_up(qa, rows)
        steps = (progress or _tqdm("eval", "question"))(rows)
        for item in ask_rows(qa, steps, documents, settings.top_k, settings.strictness, past_deadline):
            if isinstance(item, BadRow):
                refused.append(item)
                log(f"rag eval: {file} line {item.line}: {item.reason}; skipped")
                continue
            outcome.results.append(item)
            if writer:
                try:
                    writer.write(item)
                except (OSError, ValueError) as exc:  # e.g. a full disk: keep scoring, report it at the end
                    outcome.errors.append(f"results.jsonl: {exc}")
                    log(f"rag eval: could not write results.jsonl ({exc}); the run goes on")
                    outcome.written.remove(writer.path)
                    writer, failed = None, writer
                    with contextlib.suppress(OSError, ValueError):
                        failed.close()
        asked = len(outcome.results) + len(refused)
        if asked < len(rows):
            outcome.stopped = TIME_LIMIT
    except KeyboardInterrupt:
        outcome.stopped = INTERRUPTED
    finally:
        if writer:
            writer.close()
    if outcome.stopped:
        log(f"rag eval: stopped ({outcome.stopped}) after {len(outcome.results)} of {len(rows)} rows; "
            "the outputs cover the rows scored so far")
    for r in outcome.results:
        if r.gold_in_corpus is False:
            log(f"rag eval: warning: {file} line {r.row.line} ({r.row.id}): "
                "the expected answer does not occur verbatim in the corpus")
    run_info = {"complete": outcome.stopped is None, "stopped": outcome.stopped,
                "rows_in_file": len(rows) + len(bad_rows), "rows_scored": len(outcome.results)}
    outcome.summary = summarize(outcome.results, bad_rows + refused, settings.top_k, by, settings, str(file), run_info)
    _write_outputs(outcome, out_dir, log, show or _print)
    return outcome


def _write_outputs(outcome: RunOutcome, out_dir: Path | None, log: Callable[[str], None],
                   show: Callable[[str], None]) -> None:
    """summary.json, report.html and the terminal table, each step on its own."""
    from .html import render_html

    steps: list[tuple[str, Callable[[], None]]] = []
    if out_dir:
        steps.append(("summary.json", lambda: write_atomic(
            out_dir / "summary.json", json.dumps(outcome.summary, ensure_ascii=False, indent=2) + "\n")))
        steps.append(("report.html", lambda: write_atomic(
            out_dir / "report.html", render_html(outcome.results, outcome.summary))))
    steps.append(("the summary table", lambda: show(format_summary(outcome.summary))))
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - the other outputs must still be written
            outcome.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            log(f"rag eval: could not write {name} ({type(exc).__name__}: {exc})")
            continue
        if out_dir and name.endswith((".json", ".html")):
            outcome.written.append(out_dir / name)
    if outcome.written:
        log("rag eval: wrote " + ", ".join(str(p) for p in outcome.written))
