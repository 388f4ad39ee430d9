"""report.html: one self-contained page (inline CSS, SVG and a little JavaScript; nothing loaded
from elsewhere) rendered from the Jinja2 template templates/report.html.j2 with autoescaping on,
so every value from the file, the corpus or the pipeline shows as text, never as markup.
"""
from __future__ import annotations

from functools import lru_cache

from .charts import group_chart, latency_chart, relevance_chart
from .metrics import DEFINITIONS, RowResult
from .rows import FOLLOW_UP_GROUP, group_value
from .text import TABLE_ROWS, format_value, shown_name

#: Why a row failed, as the report's filter offers them (None: the row passed).
FAILURE_KINDS = ("abstained", "not recalled", "answered")


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("rag.eval", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2")


def marked(text: str, span: str | None) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is_expected_span) pieces: every occurrence of `span` marked."""
    if not span or span not in text:
        return [(text, False)]
    pieces: list[tuple[str, bool]] = []
    rest = text
    while span in rest:
        before, _, rest = rest.partition(span)
        if before:
            pieces.append((before, False))
        pieces.append((span, True))
    if rest:
        pieces.append((rest, False))
    return pieces


def row_view(r: RowResult, by: str | None) -> dict:
    """What the rows table shows of one result (plain values; the template escapes them)."""
    m = r.metrics()
    return {
        "line": r.row.line, "id": r.row.id, "file": r.row.source,
        "group": group_value(r.row, by) if by else "",
        "follow_up": bool(r.row.follows), "history": list(r.history),
        "question": r.row.question, "expected": r.row.expected, "gold_in_corpus": r.gold_in_corpus,
        "abstained": r.abstained, "answer": r.answer["answer"],
        "quotes": [{"n": q["n"], "doc": q["doc"], "pieces": marked(q["text"], r.row.expected)}
                   for q in sorted(r.answer["quotes"], key=lambda q: q["n"])],
        "rank": m["rank"], "recall": m["answer_recall"], "char_f1": m["char_f1"],
        "relevance": m["relevance"], "quotes_count": r.quotes, "verbatim": r.verbatim_quotes,
        "latency_ms": r.latency_ms, "failure": r.failure,
    }


def render_html(results: list[RowResult], summary: dict) -> str:
    """The report page for `results` and their `summary` (as written to summary.json)."""
    settings = summary.get("settings", {})
    metrics = summary["metrics"]
    columns = [("all", summary)] + list(summary["groups"].items())
    table = [{"name": shown_name(name), "definition": DEFINITIONS.get(name, ""),
              "values": [format_value(name, part[kind].get(name)) for _, part in columns]}
             for name, kind in TABLE_ROWS]
    charts = [relevance_chart(results, settings.get("strictness"))]
    if summary["groups"]:
        charts.append(group_chart(summary["groups"], summary["by"]))
    charts.append(latency_chart(results, metrics.get("latency_p50_ms"), metrics.get("latency_p95_ms")))
    ordered = sorted(results, key=lambda r: (r.failure is None, r.row.source, r.row.line))
    by = summary["by"]
    groups = sorted({group_value(r.row, by) for r in results}) if by else []
    if any(r.row.follows for r in results):
        groups.append(FOLLOW_UP_GROUP)
    kinds = [k for k in FAILURE_KINDS if any(r.failure == k for r in results)]
    return _template().render(
        summary=summary, settings=settings, columns=[name for name, _ in columns], table=table, charts=charts,
        rows=[row_view(r, by) for r in ordered], by=by, groups=groups, failure_kinds=kinds,
        folder=len({r.row.source for r in results}) > 1,
    )
