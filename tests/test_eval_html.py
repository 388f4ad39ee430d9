"""report.html (rag.eval.html, charts and the template): escaping, charts, marks, filters' data."""
from __future__ import annotations

import re

from rag.eval import BadRow, EvalRow, score_row, summarize
from rag.eval.charts import nice_ticks
from rag.eval.html import render_html

from eval_cases import DOCS, answer_json, quote


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
    assert nice_ticks(19.7) == [0, 5, 10, 15, 20]
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]
