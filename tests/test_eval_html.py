"""report.html (rag.eval.html, charts and the template): escaping, charts, marks, filters' data."""
from __future__ import annotations

import re

from markupsafe import escape

from rag.eval import BadRow, EvalRow, score_row, summarize
from rag.eval.charts import count_ticks, nice_ticks
from rag.eval.html import marked, render_html
from rag.eval.metrics import DEFINITIONS
from rag.eval.text import TABLE_ROWS, shown_name

from eval_cases import DOC, DOCS, answer_json, quote, row


def test_report_is_self_contained_and_escaped():
    nasty = EvalRow(1, "<b>id</b>", "<script>alert(1)</script>?", "乙丙", {"question": "x", "answer": "乙丙"})
    results = [score_row(nasty, answer_json([quote(0, 4, text="<img src=x onerror=alert(2)>")], ["甲乙丙。"]), DOCS)]
    page = render_html(results, summarize(results, [BadRow(3, "not valid JSON <here>")], top_k=1))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;b&gt;id&lt;/b&gt;" in page
    assert "not valid JSON &lt;here&gt;" in page
    assert not re.search(r"<(link|img)\b|<script[^>]*\bsrc=|https?://(?!www\.w3\.org/2000/svg)", page)
    assert page.count("<svg") == 2  # relevance and latency; no groups, so no per-group chart


def test_nice_ticks():
    assert count_ticks(1) == [0, 1] and count_ticks(3) == [0, 1, 2, 3] and count_ticks(19) == [0, 5, 10, 15, 20]
    assert nice_ticks(19.7) == [0, 5, 10, 15, 20]
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]


def page_of(results, by=None, bad=()):
    summary = summarize(results, list(bad), top_k=1, by=by)
    summary["settings"] = {"top_k": 1, "strictness": 0.5}
    return render_html(results, summary)


def test_every_metric_shown_is_defined_where_it_is_shown():
    results = [score_row(row("乙丙"), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS)]
    page = page_of(results)
    summary_table = page.split('<table class="summary">')[1].split("</table>")[0]
    for name, _ in TABLE_ROWS:
        assert DEFINITIONS[name]
        assert f"<dfn>{escape(shown_name(name))}</dfn><small>{escape(DEFINITIONS[name])}</small>" in summary_table
    # issue 20: the unanswerable rows' metric is named for what it is, not "abstain_rate" beside false_abstain_rate
    assert "<dfn>unanswerable_refused</dfn>" in summary_table and "<dfn>abstain_rate</dfn>" not in summary_table


def test_the_expected_span_is_marked_inside_the_quote_and_escaped():
    nasty = EvalRow(1, "r1", "问?", "<b>乙</b>", {"question": "问?", "answer": "<b>乙</b>"})
    text = "甲<b>乙</b>丙<b>乙</b>"
    results = [score_row(nasty, answer_json([quote(0, 4, text=text)], [text]), {DOC: text})]
    page = page_of(results)
    assert page.count("<mark>&lt;b&gt;乙&lt;/b&gt;</mark>") == 2 and "<b>乙</b>" not in page
    assert marked("甲乙丙乙", "乙") == [("甲", False), ("乙", True), ("丙", False), ("乙", True)]
    assert marked("甲乙丙", "丁") == [("甲乙丙", False)] and marked("甲", None) == [("甲", False)]


def test_unanswerable_rows_have_no_char_f1_to_sort_on():
    results = [score_row(row("乙丙", 1), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS),
               score_row(row(None, 2), answer_json([], ["甲乙丙。"], relevance=0.1), DOCS)]
    page = page_of(results)
    cells = re.findall(r'data-label="char F1" data-v="([^"]*)"', page)
    assert cells == ["0.8", ""]  # the blank sorts last in both directions (the page's script)


def test_rows_carry_their_group_and_status_for_the_filters():
    results = [score_row(row("乙丙", 1, lang="zh"), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS),
               score_row(row(None, 2, lang="en"), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS),
               score_row(row("乙丙", 3, lang="en"), answer_json([], ["甲乙丙。"], relevance=0.1), DOCS)]
    page = page_of(results, by="lang")
    assert re.findall(r'<tr class="(\w+)" data-group="(\w+)" data-followup="0" data-status="([\w ]+)"', page) == [
        ("fail", "en", "answered"), ("fail", "en", "abstained"), ("ok", "zh", "ok")]  # failures first
    options = re.search(r'<select id="f-group">(.*?)</select>', page).group(1)
    assert re.findall(r'<option value="([^"]*)">', options) == ["", "en", "zh"]
    status = re.search(r'<select id="f-status">(.*?)</select>', page).group(1)
    assert re.findall(r'<option value="([^"]*)">', status) == ["", "fail", "abstained", "answered", "ok"]


def test_charts_carry_information():
    results = [score_row(row("乙丙", 1, lang="zh"), answer_json([quote(0, 4)], ["甲乙丙。"], total_ms=12.0), DOCS),
               score_row(row(None, 2, lang="en"), answer_json([], ["甲乙丙。"], relevance=0.2, total_ms=30.0), DOCS)]
    page = page_of(results, by="lang")
    assert page.count("<svg") == 3
    assert "strictness 0.5: abstain below" in page                      # the threshold on the relevance histogram
    assert "Per group (lang)" in page and "en · abstain_rate: 1.000" in page and "zh · answer_recall: 1.000" in page
    assert ">p50 21.0 ms<" in page and ">p95 29.1 ms<" in page          # latency markers at the percentiles
    assert group_chart_and_histogram_ticks(page) == ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"]
    first = page.split("<svg")[1]
    assert re.findall(r'<text x="44" y="[\d.]+" text-anchor="end">([^<]+)</text>', first) == ["0", "1"]  # whole rows


def group_chart_and_histogram_ticks(page: str) -> list[str]:
    """The x-axis tick labels of the first chart (relevance): texts on the axis line's baseline."""
    first = page.split("<svg")[1].split("</svg>")[0]
    axis_y = re.search(r'<line x1="48" y1="([\d.]+)" x2="540" y2="\1" stroke="#444">', first).group(1)
    label_y = int(float(axis_y)) + 14
    return re.findall(rf'<text x="[\d.]+" y="{label_y}" text-anchor="middle">([^<]+)</text>', first)
