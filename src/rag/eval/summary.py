"""summary.json (metrics overall and per group, bad rows, flagged expected answers, how the run
ended) and the quality gates on it (`--fail-under`, `--fail-over`).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from ..config import Settings
from .metrics import RowResult, aggregate
from .rows import FOLLOW_UP_GROUP, BadRow, EvalUsageError, group_value

#: Metrics --fail-under accepts (higher is better), besides hit@k for any k up to top_k.
FLOOR_METRICS = ("hit@1", "hit@3", "hit@5", "mrr", "answer_recall", "char_f1", "span_f1", "span_em", "abstain_rate",
                 "verbatim_rate", "span_verbatim_rate")
#: Metrics where lower is better: a floor makes no sense for them.
LOWER_IS_BETTER = ("false_abstain_rate", "wrong_doc_rate", "latency_p50_ms", "latency_p95_ms")


def summarize(results: list[RowResult], bad_rows: list[BadRow], top_k: int, by: str | None = None,
              settings: Settings | None = None, source: str | None = None, run: dict | None = None) -> dict:
    """summary.json: metrics overall and per group, bad rows, and expected answers not in the corpus.

    `run` says how the run ended (`complete`, `stopped`, `rows_in_file`, `rows_scored`); follow-up
    rows (with `follows`) also form the group `follow-up`, next to the --by groups.
    """
    summary = {"file": source, "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    summary["run"] = run or {"complete": True, "stopped": None, "rows_scored": len(results)}
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
    follow_ups = [r for r in results if r.row.follows]
    if follow_ups:
        groups.setdefault(FOLLOW_UP_GROUP, []).extend(follow_ups)
    # The follow-up group overlaps the --by groups, so it comes last.
    summary["groups"] = {name: aggregate(groups[name], top_k)
                         for name in sorted(groups, key=lambda g: (g == FOLLOW_UP_GROUP, g))}
    bad = sorted(bad_rows, key=lambda b: b.line)
    summary["bad_rows"] = {"count": len(bad), "rows": [{"line": b.line, "reason": b.reason} for b in bad]}
    missing = [r.row for r in results if r.gold_in_corpus is False]
    summary["gold_not_in_corpus"] = {
        "count": len(missing),
        "rows": [{"line": row.line, "id": row.id, "expected": row.expected} for row in missing],
    }
    notes = []
    if not summary["run"]["complete"]:
        notes.append(f"the run stopped early ({summary['run']['stopped']}): only {len(results)} rows were scored.")
    if results and summary["counts"]["quotes"] == 0:
        notes.append("verbatim_rate is 1.0 because no row quoted anything.")
    summary["notes"] = notes
    return summary


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
