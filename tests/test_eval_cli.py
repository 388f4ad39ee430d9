"""`rag eval` end to end over the real article: formats, bad rows, gates, the shipped dev set."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.cli import main
from rag.eval import EvalUsageError, load_rows, parse_thresholds

from conftest import ARTICLE, DEV_SET
from eval_cases import ROWS, eval_args, write_csv, write_jsonl


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
    first_row = re.search(r'<tbody>\s*<tr class="(\w+)"', report.split("Rows (failures first")[1]).group(1)
    assert first_row == ("fail" if summary["counts"]["failures"] else "ok")
    assert "hit@3" in capsys.readouterr().out
