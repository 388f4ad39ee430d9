"""The summary as a plain-text table for the terminal (metrics by row; `all`, then one column per group)."""
from __future__ import annotations

import unicodedata

from .metrics import SUMMARY_HITS
from .rows import FOLLOW_UP_GROUP

#: The summary table's rows: (metric or count name, the summary part holding it).
TABLE_ROWS = [("rows", "counts"), ("answerable", "counts"), ("unanswerable", "counts")] + \
    [(f"hit@{k}", "metrics") for k in SUMMARY_HITS] + \
    [(name, "metrics") for name in ("mrr", "answer_recall", "char_f1", "span_f1", "span_em", "false_abstain_rate",
                                    "abstain_rate", "verbatim_rate", "span_verbatim_rate", "wrong_doc_rate", "markup_quotes",
                                    "latency_p50_ms", "latency_p95_ms")]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = True) -> str:
    space = " " * max(0, width - _display_width(text))
    return space + text if right else text + space


def format_value(name: str, value) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.1f}" if name.endswith("_ms") else f"{value:.3f}"


def format_summary(summary: dict) -> str:
    """The summary as a plain-text table (metrics by row; `all`, then one column per group)."""
    columns = [("all", summary)] + list(summary["groups"].items())
    header = ["metric"] + [name for name, _ in columns]
    lines = [[name] + [format_value(name, part[kind].get(name)) for _, part in columns]
             for name, kind in TABLE_ROWS]
    widths = [max(_display_width(line[i]) for line in [header] + lines) for i in range(len(header))]
    out = []
    settings = summary.get("settings", {})
    counts = summary["counts"]
    out.append(f"Evaluated {counts['rows']} rows of {summary.get('file')} ({counts['answerable']} answerable, "
               f"{counts['unanswerable']} unanswerable; {counts['failures']} failures)"
               + (f" · top_k {settings['top_k']} · strictness {settings['strictness']}" if settings else ""))
    if summary["by"]:
        out.append(f"Groups by column '{summary['by']}'.")
    if FOLLOW_UP_GROUP in summary["groups"]:
        out.append(f"The group '{FOLLOW_UP_GROUP}' holds the follow-up rows (with 'follows').")
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
