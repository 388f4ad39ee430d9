"""report.html in a real headless browser (Debian's chromium driven by playwright), at a phone's
width (390 px) and a laptop's (1366 px): no horizontal overflow on the phone, the filters and the
sorting work, a question full of markup shows as text and never runs.

Screenshots are saved under artifacts/ (gitignored) for a person to look at.
"""
from __future__ import annotations

import pytest

from rag.config import PROJECT_ROOT
from rag.eval import EvalRow, score_row, summarize
from rag.eval.html import render_html

from eval_cases import DOC, TEXT, answer_json, quote

ARTIFACTS = PROJECT_ROOT / "artifacts"
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 900}
MARKUP_QUESTION = '<img src=x onerror=alert(1)><script>alert(2)</script>"quoted" & more?'

pytestmark = pytest.mark.slow


def make_results():
    """30 rows in two groups (lang), a follow-up, failures of each kind, long unbroken text."""
    docs = {DOC: TEXT}
    results = []
    for i in range(1, 31):
        lang = "en" if i % 3 == 0 else "zh"
        fields = {"question": "q", "answer": None, "lang": lang}
        if i % 5 == 0:    # unanswerable and answered: a failure
            row, answer = EvalRow(i, f"u{i}", f"问题 {i} 不在文中?", None, fields), answer_json([quote(0, 4)], ["甲乙丙。"], 0.7)
        elif i % 4 == 0:  # unanswerable, abstained
            row, answer = EvalRow(i, f"u{i}", f"问题 {i}?", None, fields), answer_json([], ["甲乙丙。"], 0.2)
        elif i % 7 == 0:  # answerable, abstained: a failure
            row, answer = EvalRow(i, f"a{i}", f"问题 {i}?", "乙丙", fields), answer_json([], ["甲乙丙。"], 0.3)
        else:
            row, answer = EvalRow(i, f"a{i}", f"问题 {i}?", "乙丙", fields), answer_json([quote(0, 4)], ["甲乙丙。"], 0.9,
                                                                                  total_ms=5.0 + i)
        results.append(score_row(row, answer, docs))
    markup = EvalRow(31, "markup", MARKUP_QUESTION, "乙丙", {"question": "q", "answer": "乙丙", "lang": "en"})
    long_id = EvalRow(32, "x" * 300, "https://example.org/" + "a" * 300, "丁戊", {"question": "q", "answer": "丁戊", "lang": "zh"},
                      follows=(31,))
    results.append(score_row(markup, answer_json([quote(0, 4)], ["甲乙丙。"]), docs))
    results.append(score_row(long_id, answer_json([quote(4, 8)], ["丁戊己。"]), docs))
    return results


@pytest.fixture(scope="module")
def report_url(tmp_path_factory):
    results = make_results()
    summary = summarize(results, [], top_k=5, by="lang", source="questions.jsonl")
    summary["settings"] = {"top_k": 5, "strictness": 0.5}
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(results, summary), encoding="utf-8")
    return path.as_uri(), results


@pytest.fixture
def open_report(browser, report_url):
    pages, dialogs = [], []

    def open_(viewport):
        page = browser.new_page(viewport=viewport)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(report_url[0])
        pages.append(page)
        return page

    yield open_
    for page in pages:
        page.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"


def visible_rows(page) -> int:
    """Rows a person sees (not merely marked hidden: the phone layout restyles rows)."""
    return page.locator("#rows-table tbody tr:visible").count()


def test_phone_width_has_no_horizontal_overflow_and_filters(open_report, report_url):
    page = open_report(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.select_option("#f-status", "abstained")
    assert visible_rows(page) == sum(r.failure == "abstained" for r in report_url[1]) > 0
    page.select_option("#f-status", "")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "eval-report-390.png"), full_page=False)
    page.locator("#rows").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "eval-report-390-rows.png"), full_page=False)


def test_filters_sorting_and_markup_as_text_at_laptop_width(open_report, report_url):
    results = report_url[1]
    page = open_report(LAPTOP)
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    assert visible_rows(page) == len(results)

    page.select_option("#f-group", "en")
    en = sum(r.row.fields["lang"] == "en" for r in results)
    assert visible_rows(page) == en and page.locator("#f-count").inner_text() == f"{en} of {len(results)} rows"
    page.select_option("#f-status", "answered")
    assert visible_rows(page) == sum(r.row.fields["lang"] == "en" and r.failure == "answered" for r in results) > 0
    page.select_option("#f-group", "follow-up")
    page.select_option("#f-status", "")
    assert visible_rows(page) == 1
    page.select_option("#f-group", "")
    page.select_option("#f-status", "fail")
    assert visible_rows(page) == sum(r.failure is not None for r in results)
    page.select_option("#f-status", "")
    page.fill("#f-text", "onerror")
    assert visible_rows(page) == 1
    # The markup question is text: its characters shown as typed, no element made of it.
    assert page.locator("#rows-table tbody tr:visible .question").inner_text() == MARKUP_QUESTION
    assert page.locator("#rows-table img, #rows-table tbody script").count() == 0
    page.fill("#f-text", "")

    # Sorting by char F1 either way leaves the unanswerable rows (no char F1) at the bottom.
    header = page.locator('#rows-table thead th button', has_text="char F1")
    unanswerable = sum(not r.row.answerable for r in results)
    for _ in range(2):
        header.click()
        values = page.locator('#rows-table tbody td[data-label="char F1"]').evaluate_all("cells => cells.map(c => c.dataset.v)")
        assert values[-unanswerable:] == [""] * unanswerable and "" not in values[:-unanswerable]

    # The header stays in view when the table is scrolled.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert abs(page.locator("#rows-table thead th").first.bounding_box()["y"]) < 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "eval-report-1366-rows.png"), full_page=False)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "eval-report-1366.png"), full_page=True)
