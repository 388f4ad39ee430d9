"""`rag eval`: metric functions on hand-made cases, file loading, thresholds, and the dev set."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from rag.cli import main
from rag.evaluation import (
    BadRow,
    EvalRow,
    EvalUsageError,
    aggregate,
    answer_recalled,
    char_f1,
    cmrc_normalize,
    first_hit_rank,
    load_rows,
    longest_common_substring,
    nice_ticks,
    parse_thresholds,
    percentile,
    prediction_text,
    quoted_spans,
    reciprocal_rank,
    render_html,
    score_row,
    summarize,
)

from conftest import ARTICLE, DEV_SET

DOC = "doc.txt"
#: A tiny document: offsets are easy to count (every character is one position).
TEXT = "甲乙丙。丁戊己。\n庚辛壬。癸子丑。"
DOCS = {DOC: TEXT}


def quote(start: int, end: int, n: int = 1, text: str | None = None, doc: str = DOC) -> dict:
    """A quote dict as in `rag ask --json`, verbatim from TEXT unless `text` is given."""
    return {"n": n, "text": TEXT[start:end] if text is None else text, "doc": doc, "title": "t",
            "section": "s", "start": start, "end": end, "score": 0.9}


def answer_json(quotes: list[dict], passages: list[str], relevance: float = 0.9, total_ms: float = 10.0) -> dict:
    """A `rag ask --json` object; it abstained when it has no quotes."""
    return {"question": "q", "abstained": not quotes, "answer": "…", "quotes": quotes,
            "passages": [{"doc": DOC, "title": "t", "section": "s", "start": 0, "end": len(p), "text": p, "score": 0.1}
                         for p in passages],
            "relevance": relevance, "lang": "zh", "timings_ms": {"total": total_ms}}


def row(expected: str | None, line: int = 1, **fields) -> EvalRow:
    return EvalRow(line, f"r{line}", "问题?", expected, {"question": "问题?", "answer": expected, **fields})


# ---------------------------------------------------------------------------- retrieval metrics


def test_rank_is_the_first_passage_containing_the_whole_span():
    passages = [{"text": "甲乙丙。"}, {"text": "丁戊己。"}, {"text": "乙丙。丁戊"}]
    assert first_hit_rank("丁戊", passages) == 2
    assert first_hit_rank("甲乙丙", passages) == 1
    # "丙。丁" crosses the boundary between passages 1 and 2: neither contains it; passage 3 does.
    assert first_hit_rank("丙。丁", passages) == 3
    assert first_hit_rank("丙。丁", passages[:2]) is None
    assert reciprocal_rank(None) == 0.0
    assert reciprocal_rank(1) == 1.0 and reciprocal_rank(4) == 0.25


def test_hit_at_k_and_mrr_on_hand_made_rows():
    results = [
        score_row(row("甲乙", 1), answer_json([quote(0, 4)], ["甲乙丙。", "丁戊己。"]), DOCS),    # rank 1
        score_row(row("丁戊", 2), answer_json([quote(4, 8)], ["甲乙丙。", "丁戊己。"]), DOCS),    # rank 2
        score_row(row("丙。丁", 3), answer_json([quote(0, 8)], ["甲乙丙。", "丁戊己。"]), DOCS),  # spans both: no hit
        score_row(row(None, 4), answer_json([], ["甲乙丙。"], relevance=0.1), DOCS),             # unanswerable
    ]
    assert [r.rank for r in results] == [1, 2, None, None]
    summary = aggregate(results, top_k=2)
    assert summary["hit_at_k"] == {"1": pytest.approx(1 / 3), "2": pytest.approx(2 / 3)}
    assert summary["metrics"]["hit@1"] == pytest.approx(1 / 3)
    assert "hit@3" not in summary["metrics"]  # top_k 2: not computed
    assert summary["metrics"]["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert summary["counts"] == {"rows": 4, "answerable": 3, "unanswerable": 1, "failures": 0,
                                 "quotes": 3, "verbatim_quotes": 3}


# ---------------------------------------------------------------------------- answer metrics


def test_answer_recall_single_quote_merged_quotes_and_gaps():
    assert answer_recalled("乙丙", [quote(0, 4)], DOCS)
    assert not answer_recalled("乙丙", [], DOCS)                       # abstained: no quotes
    # Two quotes that touch in the document ([0,4) and [4,8)) are one run: the span crosses them.
    assert answer_recalled("丙。丁戊", [quote(4, 8, 1), quote(0, 4, 2)], DOCS)
    assert quoted_spans([quote(4, 8, 1), quote(0, 4, 2)], DOCS) == ["甲乙丙。丁戊己。"]
    # Separated by white space only (the line break at 8): still one run.
    assert answer_recalled("己。\n庚", [quote(4, 8), quote(9, 13, 2)], DOCS)
    # Separated by text that was not quoted: the span is not inside the quoted text.
    assert not answer_recalled("丙。丁戊", [quote(0, 2), quote(4, 8, 2)], DOCS)
    # Joining quote texts with a space is not how recall works: 乙 + 丁 are not adjacent.
    assert not answer_recalled("乙丁", [quote(1, 2), quote(4, 5, 2)], DOCS)
    # A quote whose document is unknown still counts through its own text.
    assert answer_recalled("乙丙", [quote(0, 4, doc="other.txt")], DOCS)


def test_cmrc_normalisation_uses_the_official_punctuation_list():
    # Removed: “ ” + 、 《 》 ，。 and white space; lower-cased. Kept: ASCII ( ) , . (not in CMRC's list).
    assert cmrc_normalize("“掌纹+掌静脉”、 ESG (x)") == "掌纹掌静脉esg(x)"
    assert cmrc_normalize("《规划》，提出。\n") == "规划提出"
    assert cmrc_normalize("a,b.") == "a,b."


def test_longest_common_substring_is_contiguous():
    assert longest_common_substring("abcde", "xbcdy") == 3
    assert longest_common_substring("abxcd", "abcd") == 2   # a subsequence would give 4
    assert longest_common_substring("", "abc") == 0


def test_char_f1_known_values():
    # LCS 4, precision 4/6, recall 4/4: F1 = 2 * (2/3) * 1 / (2/3 + 1) = 0.8
    assert char_f1("数字中国建设", "数字中国") == pytest.approx(0.8)
    # Punctuation and white space do not count: the same as above.
    assert char_f1("《数字 中国》，建设。", "数字中国") == pytest.approx(0.8)
    assert char_f1("数字中国", "数字中国") == 1.0
    assert char_f1("Web3", "web3") == 1.0
    assert char_f1("", "数字中国") == 0.0                    # nothing quoted
    assert char_f1("甲乙丙", "丁戊己") == 0.0                # nothing in common
    # LCS 2 ("中国"), precision 2/4, recall 2/3: F1 = 2 * (1/2) * (2/3) / (7/6) = 4/7
    assert char_f1("中国银行", "数字中国") == pytest.approx(0.5)
    assert char_f1("中国银行", "字中国") == pytest.approx(4 / 7)


def test_prediction_is_the_quotes_in_citation_order():
    assert prediction_text([quote(4, 8, n=2), quote(0, 4, n=1)]) == "甲乙丙。丁戊己。"
    assert prediction_text([]) == ""


def test_abstained_and_wrongly_answered_rows():
    abstained = score_row(row("乙丙"), answer_json([], ["甲乙丙。"], relevance=0.2), DOCS)
    assert (abstained.rank, abstained.answer_recall, abstained.char_f1) == (1, False, 0.0)
    assert abstained.failure == "abstained"
    recalled = score_row(row("乙丙"), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS)
    # "甲乙丙。" normalises to 甲乙丙: LCS 2, precision 2/3, recall 1, F1 = (4/3) / (5/3) = 0.8
    assert recalled.failure is None and recalled.char_f1 == pytest.approx(0.8)
    answered = score_row(row(None), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS)
    assert answered.failure == "answered" and answered.char_f1 is None and answered.answer_recall is None
    correct = score_row(row(None), answer_json([], ["甲乙丙。"]), DOCS)
    summary = aggregate([abstained, recalled, answered, correct], top_k=1)["metrics"]
    assert summary["answer_recall"] == 0.5
    assert summary["false_abstain_rate"] == 0.5
    assert summary["char_f1"] == pytest.approx((0 + 0.8) / 2)  # unanswerable rows are not averaged
    assert summary["abstain_rate"] == 0.5


def test_verbatim_rate_and_the_no_quotes_case():
    good, bad = quote(0, 4), quote(0, 4, n=2, text="甲乙丙!")
    r = score_row(row("乙丙"), answer_json([good, bad], ["甲乙丙。"]), DOCS)
    assert (r.quotes, r.verbatim_quotes) == (2, 1)
    assert aggregate([r], 1)["metrics"]["verbatim_rate"] == 0.5
    silent = [score_row(row(None), answer_json([], ["甲乙丙。"]), DOCS)]
    summary = summarize(silent, [], top_k=1)
    assert summary["metrics"]["verbatim_rate"] == 1.0
    assert any("no row quoted anything" in note for note in summary["notes"])


def test_expected_answer_not_in_corpus_is_flagged_and_still_answerable():
    r = score_row(row("不在文中"), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS)
    assert r.gold_in_corpus is False and r.row.answerable and r.answer_recall is False
    summary = summarize([r], [], top_k=1)
    assert summary["gold_not_in_corpus"]["count"] == 1
    assert summary["counts"]["answerable"] == 1


def test_percentiles_interpolate_linearly():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


def test_groups_report_every_metric():
    results = [score_row(row("乙丙", 1, lang="zh"), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS),
               score_row(row(None, 2, lang="en"), answer_json([quote(0, 4)], ["甲乙丙。"]), DOCS),
               score_row(row(None, 3), answer_json([], ["甲乙丙。"]), DOCS)]
    summary = summarize(results, [], top_k=1, by="lang")
    assert list(summary["groups"]) == ["(none)", "en", "zh"]
    assert summary["groups"]["zh"]["metrics"]["answer_recall"] == 1.0
    assert summary["groups"]["en"]["metrics"]["abstain_rate"] == 0.0
    assert summary["groups"]["(none)"]["metrics"]["abstain_rate"] == 1.0
    assert set(summary["groups"]["zh"]["metrics"]) == set(summary["metrics"])


def test_report_is_self_contained_and_escaped():
    nasty = EvalRow(1, "<b>id</b>", "<script>alert(1)</script>?", "乙丙", {"question": "x", "answer": "乙丙"})
    results = [score_row(nasty, answer_json([quote(0, 4, text="<img src=x onerror=alert(2)>")], ["甲乙丙。"]), DOCS)]
    page = render_html(results, summarize(results, [BadRow(3, "not valid JSON <here>")], top_k=1))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;b&gt;id&lt;/b&gt;" in page
    assert "not valid JSON &lt;here&gt;" in page
    assert not re.search(r"<(link|img)\b|<script[^>]*\bsrc=|https?://(?!www\.w3\.org/2000/svg)", page)
    assert page.count("<svg") == 3


def test_nice_ticks():
    assert nice_ticks(19.7) == [0, 5, 10, 15, 20]
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]


# ---------------------------------------------------------------------------- input files

ROWS = [
    {"id": "a", "question": "刷掌支付给支付带来了哪些方面的改进?", "answer": "提升了支付的准确度、安全性和隐私性", "lang": "zh"},
    {"id": "b", "question": "隐私计算主要有哪几种常见流派?", "answer": "隐私计算常见的流派包括可信计算、联邦学习、多方安全计算", "lang": "zh"},
    {"id": "c", "question": "What does DRG stand for?", "answer": "动态风险治理(dynamic risk governance,DRG)", "lang": "en"},
    {"id": "d", "question": "红烧肉应该怎么做才好吃?", "answer": None, "lang": "zh"},
    {"id": "e", "question": "Who is the CEO of Ant Group?", "answer": "", "lang": "en"},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:  # with a BOM, as spreadsheets write it
        writer = csv.DictWriter(f, fieldnames=["id", "question", "answer", "lang"])
        writer.writeheader()
        writer.writerows({**r, "answer": r["answer"] or ""} for r in rows)
    return path


def test_jsonl_and_csv_load_the_same_rows(tmp_path):
    from_jsonl, bad_jsonl = load_rows(write_jsonl(tmp_path / "q.jsonl", ROWS))
    from_csv, bad_csv = load_rows(write_csv(tmp_path / "q.csv", ROWS))
    assert bad_jsonl == bad_csv == []
    key = lambda r: (r.id, r.question, r.expected, r.fields["lang"])  # noqa: E731
    assert [key(r) for r in from_jsonl] == [key(r) for r in from_csv]
    assert [r.line for r in from_jsonl] == [1, 2, 3, 4, 5]
    assert [r.line for r in from_csv] == [2, 3, 4, 5, 6]  # physical lines: the header is line 1
    assert [r.answerable for r in from_jsonl] == [True, True, True, False, False]


def eval_args(settings, *more) -> list[str]:
    return [*more, "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]


def comparable(summary: dict) -> dict:
    """A summary without what legitimately differs between two runs: time, file name, latency."""
    def strip(part: dict) -> dict:
        metrics = {k: v for k, v in part["metrics"].items() if not k.startswith("latency")}
        return {"counts": part["counts"], "metrics": metrics, "hit_at_k": part["hit_at_k"]}

    return {"all": strip(summary), "groups": {g: strip(p) for g, p in summary["groups"].items()},
            "bad_rows": summary["bad_rows"], "gold_not_in_corpus": summary["gold_not_in_corpus"]}


def test_csv_and_jsonl_give_the_same_summary(tmp_path, article_settings, article_qa, capsys):
    summaries = []
    for path in (write_jsonl(tmp_path / "q.jsonl", ROWS), write_csv(tmp_path / "q.csv", ROWS)):
        out = tmp_path / f"out-{path.suffix[1:]}"
        assert main(["eval", str(path), "--by", "lang", "--out", str(out), *eval_args(article_settings)]) == 0
        summaries.append(json.loads((out / "summary.json").read_text(encoding="utf-8")))
    jsonl, csv_ = (comparable(s) for s in summaries)
    assert jsonl == csv_
    assert summaries[0]["counts"]["rows"] == 5 and set(summaries[0]["groups"]) == {"en", "zh"}
    assert "answer_recall" in capsys.readouterr().out  # the terminal table


def test_bad_jsonl_rows_are_reported_with_line_numbers_and_skipped(tmp_path, article_settings, article_qa, capsys):
    good = [json.dumps(r, ensure_ascii=False).encode() for r in ROWS[:2]]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join([
        good[0],                                              # 1 ok
        b'{"question": "broken", "answer": ',                 # 2 not JSON
        b'["a list"]',                                        # 3 not an object
        "{\"question\": \"编码\", \"answer\": null}".encode("gbk"),  # 4 not UTF-8
        b"",                                                  # 5 blank: ignored
        b'{"answer": "x"}',                                   # 6 no question
        b'{"question": "  ", "answer": "x"}',                 # 7 empty question
        b'{"question": "no answer column"}',                  # 8 no answer field
        json.dumps({"question": "问" * 600, "answer": None}).encode(),  # 9 too long for the pipeline
        good[1],                                              # 10 ok
    ]) + b"\n")
    rows, bad = load_rows(path)
    assert [r.line for r in rows] == [1, 9, 10]
    assert [b.line for b in bad] == [2, 3, 4, 6, 7, 8]
    assert "JSON" in bad[0].reason and "object" in bad[1].reason and "UTF-8" in bad[2].reason
    assert bad[3].reason == "no question" and bad[4].reason == "empty question" and "answer" in bad[5].reason

    out = tmp_path / "out"
    assert main(["eval", str(path), "--out", str(out), *eval_args(article_settings)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["bad_rows"]["count"] == 7
    assert [b["line"] for b in summary["bad_rows"]["rows"]] == [2, 3, 4, 6, 7, 8, 9]
    assert "500" in summary["bad_rows"]["rows"][-1]["reason"]
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in results] == [1, 10]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Bad rows, skipped (7)" in report
    captured = capsys.readouterr()
    assert "line 2:" in captured.out and "line 9:" in captured.out  # listed under the terminal table
    assert "line 4" in captured.err                                # and logged while loading


def test_bad_csv_rows_and_multiline_records(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('id,question,answer,lang\n'
                    'a,"多行\n的问题?",答案,zh\n'                # lines 2-3: one record
                    'b,刷掌支付,带来了什么,改进?,x,zh\n'         # line 4: unquoted commas
                    'c,,答案,zh\n'                               # line 5: empty question
                    '\n'                                         # line 6: blank
                    'd,问题?,,en\n', encoding="utf-8")           # line 7: ok, unanswerable
    rows, bad = load_rows(path)
    assert [(r.line, r.id, r.question) for r in rows] == [(2, "a", "多行\n的问题?"), (7, "d", "问题?")]
    assert rows[1].expected is None
    assert [b.line for b in bad] == [4, 5]
    assert "fields" in bad[0].reason


def test_csv_not_utf8_or_without_columns_is_an_error(tmp_path, capsys):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("question,answer\n问题?,答案\n".encode("gbk"))
    with pytest.raises(EvalUsageError, match="not a UTF-8 file"):
        load_rows(gbk)
    assert main(["eval", str(gbk)]) == 2
    assert "UTF-8" in capsys.readouterr().err
    headless = tmp_path / "cols.csv"
    headless.write_text("q,a\nx,y\n", encoding="utf-8")
    with pytest.raises(EvalUsageError, match="'question' or 'answer'"):
        load_rows(headless)
    with pytest.raises(EvalUsageError, match="unknown file type"):
        load_rows(tmp_path / "rows.txt")
    assert main(["eval", str(tmp_path / "missing.jsonl")]) == 2


# ---------------------------------------------------------------------------- thresholds


def test_parse_thresholds():
    assert parse_thresholds(["hit@3=0.9", "abstain_rate=0.8", "hit@2=0.5"], top_k=5) == \
        {"hit@3": 0.9, "abstain_rate": 0.8, "hit@2": 0.5}
    for spec, message in [("accuracy=0.5", "unknown metric"), ("false_abstain_rate=0.1", "lower is better"),
                          ("hit@3", "METRIC=VALUE"), ("hit@3=high", "not a number"), ("hit@9=0.5", "top_k"),
                          ("answer_recall=90", r"\[0, 1\]")]:
        with pytest.raises(EvalUsageError, match=message):
            parse_thresholds([spec], top_k=5)


@pytest.fixture
def gate_file(tmp_path) -> Path:
    """Three answerable rows, one of whose expected answer is not in the article (never recalled)."""
    rows = ROWS[:2] + [{"id": "x", "question": "刷掌支付给支付带来了哪些方面的改进?", "answer": "这句话不在文章里"}]
    return write_jsonl(tmp_path / "gate.jsonl", rows)


def test_fail_under_exit_codes(gate_file, article_settings, article_qa, capsys):
    args = lambda *t: ["eval", str(gate_file), *eval_args(article_settings), *t]  # noqa: E731
    assert main(args("--fail-under", "hit@5=0", "--fail-under", "verbatim_rate=1")) == 0
    assert "all thresholds met" in capsys.readouterr().err
    assert main(args("--fail-under", "hit@1=0", "--fail-under", "answer_recall=0.9")) == 1
    err = capsys.readouterr().err
    assert "FAIL answer_recall" in err and "FAIL hit@1" not in err
    assert "does not occur verbatim in the corpus" in err
    # No unanswerable row: abstain_rate cannot be computed, which fails a gate on it.
    assert main(args("--fail-under", "abstain_rate=0.5")) == 1
    assert "abstain_rate could not be computed" in capsys.readouterr().err
    assert main(args("--fail-under", "accuracy=0.5")) == 2
    assert "unknown metric 'accuracy'" in capsys.readouterr().err
    assert main(args("--by", "nosuchcolumn")) == 2
    assert "no such column" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the shipped dev set


def independent_recall(gold: str, quotes: list[dict], text: str) -> bool:
    """Recall recomputed another way: some occurrence of gold whose every character is quoted
    (or is white space, which separates quotes that touch)."""
    if any(gold in q["text"] for q in quotes):
        return True
    covered = set()
    for q in quotes:
        covered.update(range(q["start"], q["end"]))
    starts = [m.start() for m in re.finditer(f"(?={re.escape(gold)})", text)]
    return any(all(i in covered or text[i].isspace() for i in range(s, s + len(gold))) for s in starts)


def independent_f1(prediction: str, gold: str) -> float:
    """CMRC 2018 F1 recomputed by brute force over substrings."""
    punctuation = set("-:_*^/\\~`+=，。：？！“”；’《》·、「」（）－～『』")
    norm = lambda s: "".join(c for c in s.lower() if not c.isspace() and c not in punctuation)  # noqa: E731
    pred, ref = norm(prediction), norm(gold)
    common = next((n for n in range(min(len(pred), len(ref)), 0, -1)
                   if any(pred[i:i + n] in ref for i in range(len(pred) - n + 1))), 0)
    if not common:
        return 0.0
    p, r = common / len(pred), common / len(ref)
    return 2 * p * r / (p + r)


def test_dev_set_run_from_outside_the_project(tmp_path, monkeypatch, article_settings, article_qa, article_text, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["eval", str(DEV_SET), "--by", "lang", "--out", "dev-out", *eval_args(article_settings)])
    assert code == 0
    out = tmp_path / "dev-out"
    for name in ("results.jsonl", "summary.json", "report.html"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    dev_lines = [line for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(results) == summary["counts"]["rows"] == len(dev_lines)
    assert summary["bad_rows"]["count"] == 0 and set(summary["groups"]) == {"en", "zh"}
    assert all(r["answer"]["question"] == r["question"] for r in results)

    answerable = [r for r in results if r["expected"]]
    unanswerable = [r for r in results if not r["expected"]]
    assert all(q["doc"] == ARTICLE.name for r in results for q in r["answer"]["quotes"])
    recall = sum(independent_recall(r["expected"], r["answer"]["quotes"], article_text) for r in answerable) / len(answerable)
    f1 = sum(0.0 if r["answer"]["abstained"] else
             independent_f1("".join(q["text"] for q in sorted(r["answer"]["quotes"], key=lambda q: q["n"])), r["expected"])
             for r in answerable) / len(answerable)
    abstain = sum(r["answer"]["abstained"] for r in unanswerable) / len(unanswerable)
    assert summary["metrics"]["answer_recall"] == pytest.approx(recall, abs=1e-12)
    assert summary["metrics"]["char_f1"] == pytest.approx(f1, abs=1e-12)
    assert summary["metrics"]["abstain_rate"] == pytest.approx(abstain, abs=1e-12)
    for lang in ("en", "zh"):
        rows = [r for r in unanswerable if r["fields"]["lang"] == lang]
        assert summary["groups"][lang]["metrics"]["abstain_rate"] == pytest.approx(
            sum(r["answer"]["abstained"] for r in rows) / len(rows))
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<svg") == 3 and "strictness 0.5" in report
    first_row = re.search(r'<tbody><tr class="(\w+)"', report.split("Rows (failures first")[1]).group(1)
    assert first_row == ("fail" if summary["counts"]["failures"] else "ok")
    assert "hit@3" in capsys.readouterr().out
