"""Batch evaluation: `rag eval FILE` runs every question of a file through the very pipeline
behind `rag ask` and measures retrieval, answers and abstention (docs/evaluation.md).

    rows, bad_rows = load_rows(Path("evals/suite/questions/fintech-ten-trends.jsonl"))
    results, more_bad = evaluate(qa, rows, documents, top_k=5, strictness=0.5)
    summary = summarize(results, bad_rows + more_bad, top_k=5, by="lang")

Modules: `rows` (reading and checking each row on its own), `metrics` (per-row metrics and their
aggregation), `summary` (summary.json and the quality gates), `runner` (asking, scoring and writing
as it goes), `text` (the terminal table), `charts` and `html` (report.html, from a Jinja2
template). The command line (arguments, exit codes) is `rag.cli`.
"""
from __future__ import annotations

from .metrics import (
    CMRC_PUNCTUATION,
    DEFINITIONS,
    SUMMARY_HITS,
    RowResult,
    aggregate,
    answer_recalled,
    char_f1,
    cmrc_normalize,
    first_hit_rank,
    is_verbatim,
    longest_common_substring,
    percentile,
    prediction_text,
    quoted_spans,
    reciprocal_rank,
    score_row,
    shows_markup,
)
from .rows import FOLLOW_UP_GROUP, NO_GROUP, BadRow, EvalRow, EvalUsageError, group_value, load_rows, read_csv, read_jsonl
from .runner import RunOutcome, ask_rows, evaluate, run, warm_up
from .summary import (
    CEILING_METRICS,
    FLOOR_METRICS,
    LOWER_IS_BETTER,
    check_ceilings,
    check_thresholds,
    metric_value,
    parse_ceilings,
    parse_thresholds,
    summarize,
)

__all__ = [
    "CEILING_METRICS", "CMRC_PUNCTUATION", "DEFINITIONS", "FLOOR_METRICS", "FOLLOW_UP_GROUP", "LOWER_IS_BETTER",
    "NO_GROUP", "SUMMARY_HITS", "BadRow", "EvalRow", "EvalUsageError", "RowResult", "RunOutcome", "aggregate",
    "answer_recalled", "ask_rows", "char_f1", "check_ceilings", "check_thresholds", "cmrc_normalize", "evaluate",
    "first_hit_rank", "group_value", "is_verbatim", "load_rows", "longest_common_substring", "metric_value",
    "parse_ceilings", "parse_thresholds", "percentile", "prediction_text", "quoted_spans", "read_csv", "read_jsonl",
    "reciprocal_rank", "run", "score_row", "shows_markup", "summarize", "warm_up",
]
