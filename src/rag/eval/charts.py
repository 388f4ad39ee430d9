"""The report's charts as plain data (SVG elements with their attributes and text), drawn by the
template, which escapes every text and attribute: nothing here builds markup.

Each chart carries information the tables do not show at a glance: how relevance separates
answerable from unanswerable rows around the strictness, the key metrics per group, and how
latency is spread, each with real axes (ticks on both).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

BLUE, ORANGE, RED, GREEN, GREY = "#3569b8", "#e08a1e", "#c0392b", "#2e7d32", "#777"
#: The series of the per-group chart: (metric, colour).
GROUP_METRICS = (("answer_recall", BLUE), ("char_f1", GREEN), ("abstain_rate", ORANGE))


@dataclass
class Chart:
    """An SVG drawing: width x height user units and a list of elements (tag, attributes, text, title)."""

    title: str
    width: int
    height: int
    caption: str = ""
    elements: list[dict] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)

    def add(self, tag: str, text: str = "", title: str = "", **attrs) -> None:
        self.elements.append({"tag": tag, "text": text, "title": title,
                              "attrs": {k.replace("_", "-"): _fmt(v) for k, v in attrs.items()}})


def _fmt(value) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def nice_ticks(high: float) -> list[float]:
    """Round tick values 0, step, 2*step, ... covering [0, high], step 1, 2 or 5 times a power of ten."""
    if high <= 0:
        return [0.0, 1.0]
    power = 10 ** math.floor(math.log10(high / 5))
    step = next(m * power for m in (1, 2, 5, 10) if high / (m * power) <= 5)
    return [i * step for i in range(math.ceil(high / step - 1e-9) + 1)]


def count_ticks(peak: int) -> list[float]:
    """Whole-number ticks 0..>= peak for a count axis (never 0.2 of a row)."""
    return list(range(max(1, peak) + 1)) if peak < 5 else nice_ticks(peak)


def _tick_label(t: float) -> str:
    return str(int(t)) if float(t).is_integer() else f"{t:.3g}"


def _axes(chart: Chart, left: int, top: int, pw: float, ph: float, y_ticks: list[float], y_of, x_label: str,
          y_label: str) -> None:
    for t in y_ticks:
        y = y_of(t)
        chart.add("line", x1=left, y1=y, x2=left + pw, y2=y, stroke="#e4e4e4")
        chart.add("text", _tick_label(t), x=left - 4, y=y + 4, text_anchor="end")
    chart.add("line", x1=left, y1=top + ph, x2=left + pw, y2=top + ph, stroke="#444")
    chart.add("line", x1=left, y1=top, x2=left, y2=top + ph, stroke="#444")
    chart.add("text", x_label, x=left + pw / 2, y=chart.height - 4, text_anchor="middle")
    chart.add("text", y_label, x=12, y=top + ph / 2, text_anchor="middle", transform=f"rotate(-90 12 {top + ph / 2:.1f})")


def histogram(title: str, series: list[tuple[str, str, list[float]]], lo: float, hi: float, bins: int,
              x_ticks: list[float], x_label: str, markers: list[tuple[float, str, str]] = (),
              caption: str = "") -> Chart:
    """Counts of one or more series (label, colour, values) side by side in each of `bins` bins over
    [lo, hi] (values outside fall in the first or last bin), with vertical markers (x, label, colour)."""
    chart = Chart(title, 560, 250, caption, legend=[(label, color) for label, color, _ in series])
    left, right, top, bottom = 48, 20, 16 + 14 * len(markers), 40
    pw, ph = chart.width - left - right, chart.height - top - bottom
    hi = hi if hi > lo else lo + 1.0
    counts = [[0] * bins for _ in series]
    for s, (_, _, values) in enumerate(series):
        for v in values:
            counts[s][min(bins - 1, max(0, int((v - lo) / (hi - lo) * bins)))] += 1
    y_ticks = count_ticks(max([max(c) for c in counts if c] + [1]))
    y_top = y_ticks[-1]
    y_of = lambda n: top + ph - n / y_top * ph  # noqa: E731
    x_of = lambda v: left + (min(max(v, lo), hi) - lo) / (hi - lo) * pw  # noqa: E731
    _axes(chart, left, top, pw, ph, y_ticks, y_of, x_label, "rows")
    bin_w = pw / bins
    bar_w = bin_w / max(1, len(series))
    for s, (label, color, _) in enumerate(series):
        for b, n in enumerate(counts[s]):
            if n:
                b_lo = lo + b * (hi - lo) / bins
                chart.add("rect", title=f"{label}: {n} in [{b_lo:.3g}, {b_lo + (hi - lo) / bins:.3g})",
                          x=left + b * bin_w + s * bar_w + 0.5, y=y_of(n), width=max(1.0, bar_w - 1),
                          height=top + ph - y_of(n), fill=color)
    for t in x_ticks:
        chart.add("text", _tick_label(t), x=x_of(t), y=top + ph + 14, text_anchor="middle")
    for i, (v, label, color) in enumerate(markers):
        x, label_y = x_of(v), top - 4 - 14 * i
        chart.add("line", x1=x, y1=label_y + 2, x2=x, y2=top + ph, stroke=color, stroke_width=2, stroke_dasharray="5,3")
        chart.add("text", label, x=x + 3 if x < left + pw * 0.7 else x - 3, y=label_y, fill=color,
                  text_anchor="start" if x < left + pw * 0.7 else "end")
    return chart


def relevance_chart(results, strictness: float | None) -> Chart:
    """Relevance of answerable vs unanswerable rows, with the strictness (abstain below) marked."""
    series = [("answerable", BLUE, [r.answer["relevance"] for r in results if r.row.answerable]),
              ("unanswerable", ORANGE, [r.answer["relevance"] for r in results if not r.row.answerable])]
    markers = [(strictness, f"strictness {strictness:g}: abstain below", RED)] if strictness is not None else []
    return histogram("Relevance: answerable vs unanswerable rows", series, 0.0, 1.0, 20, [i / 10 for i in range(11)],
                     "relevance (the abstention signal)", markers,
                     "Blue bars left of the red line are false abstentions; orange bars right of it are answered "
                     "unanswerable rows.")


def latency_chart(results, p50: float | None, p95: float | None) -> Chart:
    """Latency per row (ms), with p50 and p95 marked."""
    latencies = [r.latency_ms for r in results]
    ticks = nice_ticks(max(latencies, default=1.0))
    markers = [(p50, f"p50 {p50:.1f} ms", BLUE), (p95, f"p95 {p95:.1f} ms", RED)] if latencies else []
    return histogram("Latency per row", [("rows", GREY, latencies)], 0.0, ticks[-1], 20, ticks,
                     "milliseconds inside qa.ask", markers, "Time per question after warm-up; p50 and p95 marked.")


def group_chart(groups: dict[str, dict], by: str | None) -> Chart:
    """Horizontal bars per group: answer_recall, char_f1 and abstain_rate (a missing bar: no rows it applies to)."""
    names = list(groups)
    row_h, bar_h, label_w, right, top, bottom = 3 * 11 + 10, 11, 170, 40, 8, 36
    chart = Chart(f"Per group ({by or 'follow-up'})", 560, top + bottom + row_h * len(names),
                  "Each group's key metrics; a missing bar means no row the metric applies to.",
                  legend=[(name, color) for name, color in GROUP_METRICS])
    pw = chart.width - label_w - right
    plot_bottom = top + row_h * len(names)
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + t * pw
        chart.add("line", x1=x, y1=top, x2=x, y2=plot_bottom, stroke="#e4e4e4" if t else "#444")
        chart.add("text", _tick_label(t), x=x, y=plot_bottom + 14, text_anchor="middle")
    chart.add("text", "share of the group's rows (0 to 1)", x=label_w + pw / 2, y=chart.height - 4, text_anchor="middle")
    for i, name in enumerate(names):
        y0 = top + i * row_h + 5
        short = name if len(name) <= 26 else name[:25] + "…"
        chart.add("text", short, title=name, x=label_w - 6, y=y0 + 1.5 * bar_h + 4, text_anchor="end")
        for j, (metric, color) in enumerate(GROUP_METRICS):
            value = groups[name]["metrics"].get(metric)
            y = y0 + j * bar_h
            if value is None:
                chart.add("text", "–", x=label_w + 4, y=y + bar_h - 2, fill=GREY)
                continue
            chart.add("rect", title=f"{name} · {metric}: {value:.3f}", x=label_w, y=y, width=max(0.5, value * pw),
                      height=bar_h - 2, fill=color)
            chart.add("text", f"{value:.2f}", x=label_w + value * pw + 3, y=y + bar_h - 3, font_size=9)
    return chart
