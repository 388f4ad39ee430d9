"""rag.eval.runner with fake pipelines: follow-up history, one failing row, incremental results,
Ctrl-C, the time limit and a failing output step (issue #12), and the CLI's exit codes for them."""
from __future__ import annotations

import json

import pytest

from rag.cli import main
from rag.eval import ask_rows, load_rows, run
from rag.eval import runner as run_module
from rag.eval.runner import INTERRUPTED, TIME_LIMIT

from eval_cases import DOCS, TEXT, ChatPipeline, OldPipeline, write_jsonl

QUESTIONS = [{"id": f"q{i}", "question": f"甲{i}?", "answer": "乙丙"} for i in range(1, 6)]
FOLLOW = [{"id": "a", "question": "甲是什么?", "answer": "乙丙"},
          {"id": "b", "question": "那它呢?", "answer": "乙丙", "follows": "a"},
          {"id": "c", "question": "还有呢?", "answer": "乙丙", "follows": "b"},
          {"id": "d", "question": "另一个问题?", "answer": None}]


@pytest.fixture
def settings(make_corpus):
    return make_corpus({"doc.txt": TEXT})


def read_results(out) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def run_with(settings, path, qa, **options):
    options = {"show": lambda text: None, **options}
    return run(settings, path, log=lambda message: None, open_pipeline=lambda s, log: qa,
               progress=lambda rows: rows, **options)


def test_follow_ups_are_asked_with_their_history_and_grouped(tmp_path, settings):
    qa = ChatPipeline()
    rows, _ = load_rows(write_jsonl(tmp_path / "f.jsonl", FOLLOW))
    results = list(ask_rows(qa, rows, DOCS, 5, 0.5))
    # history= only for follow-ups; each earlier question as the pipeline understood it, oldest first.
    assert [(q, kwargs.get("history")) for q, kwargs in qa.calls] == [
        ("甲是什么?", None), ("那它呢?", ("甲是什么?",)), ("还有呢?", ("甲是什么?", "那它呢? (甲是什么?)")),
        ("另一个问题?", None)]
    assert [r.history for r in results] == [(), ("甲是什么?",), ("甲是什么?", "那它呢? (甲是什么?)"), ()]

    shown = []
    outcome = run_with(settings, tmp_path / "f.jsonl", ChatPipeline(), out=tmp_path / "out", show=shown.append)
    assert outcome.summary["groups"]["follow-up"]["counts"]["rows"] == 2
    assert "The group 'follow-up' holds the follow-up rows" in shown[0]
    assert [r["history"] for r in read_results(tmp_path / "out")][:2] == [[], ["甲是什么?"]]


def test_a_pipeline_without_history_still_runs_plain_rows(tmp_path, settings):
    qa = OldPipeline()
    outcome = run_with(settings, write_jsonl(tmp_path / "q.jsonl", QUESTIONS), qa)
    assert outcome.summary["counts"]["rows"] == 5 and outcome.summary["bad_rows"]["count"] == 0
    assert all("history" not in kwargs for _, kwargs in qa.calls)
    # Follow-ups need the history parameter: they become bad rows, the others are scored.
    outcome = run_with(settings, write_jsonl(tmp_path / "f.jsonl", FOLLOW), OldPipeline())
    assert outcome.summary["counts"]["rows"] == 2
    assert [b["line"] for b in outcome.summary["bad_rows"]["rows"]] == [2, 3]
    assert "TypeError" in outcome.summary["bad_rows"]["rows"][0]["reason"]
    assert "not asked" in outcome.summary["bad_rows"]["rows"][1]["reason"]  # its chain was broken


def test_a_row_the_pipeline_fails_on_is_a_bad_row(tmp_path, settings):
    outcome = run_with(settings, write_jsonl(tmp_path / "q.jsonl", QUESTIONS), OldPipeline(fail_on="甲2?"),
                       out=tmp_path / "out")
    assert [r["line"] for r in read_results(tmp_path / "out")] == [1, 3, 4, 5]
    assert outcome.summary["bad_rows"]["rows"] == [{"line": 2, "reason": "the pipeline failed on this question "
                                                                        "(RuntimeError: boom)"}]


def test_ctrl_c_keeps_what_was_scored(tmp_path, settings):
    out = tmp_path / "out"
    outcome = run_with(settings, write_jsonl(tmp_path / "q.jsonl", QUESTIONS), OldPipeline(stop_at=3), out=out)
    assert outcome.stopped == INTERRUPTED
    assert [r["line"] for r in read_results(out)] == [1, 2]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"] == {"complete": False, "stopped": "interrupted", "rows_in_file": 5, "rows_scored": 2}
    assert summary["counts"]["rows"] == 2 and any("stopped early" in n for n in summary["notes"])
    assert "Partial run" in (out / "report.html").read_text(encoding="utf-8")


def test_the_time_limit_stops_between_rows(tmp_path, settings):
    ticks = iter(range(1000))  # one second per reading of the clock
    out = tmp_path / "out"
    outcome = run_with(settings, write_jsonl(tmp_path / "q.jsonl", QUESTIONS), OldPipeline(), out=out,
                       time_limit=4, clock=lambda: next(ticks))
    assert outcome.stopped == TIME_LIMIT
    scored = outcome.summary["run"]["rows_scored"]
    assert 0 < scored < 5 and len(read_results(out)) == scored == outcome.summary["counts"]["rows"]


def test_results_are_on_disk_before_the_run_ends(tmp_path, settings):
    """Each row is in results.jsonl once scored: a crash later still leaves the earlier rows."""
    out = tmp_path / "out"
    seen = []

    class Watching(OldPipeline):
        def ask(self, question, top_k=None, strictness=None):
            if top_k is not None and (out / "results.jsonl").exists():
                seen.append(len((out / "results.jsonl").read_text(encoding="utf-8").splitlines()))
            return super().ask(question, top_k, strictness)

    run_with(settings, write_jsonl(tmp_path / "q.jsonl", QUESTIONS), Watching(), out=out)
    assert seen == [0, 1, 2, 3, 4]


def fake_cli(monkeypatch, qa):
    monkeypatch.setattr(run_module, "_open_pipeline", lambda settings, log: qa)


def cli_args(path, settings, *more):
    return ["eval", str(path), "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), *more]


def test_the_issues_rows_are_bad_rows_and_the_run_goes_on(tmp_path, settings, monkeypatch, capsys):
    """Issue #12: each of these killed `rag eval` (traceback, rc 1, no outputs)."""
    fake_cli(monkeypatch, OldPipeline())
    path = tmp_path / "issue.jsonl"
    path.write_text("\n".join([
        json.dumps(QUESTIONS[0]),
        '{"question":"\\ud800 隐私","answer":null}',
        '{"question": "q?", "answer": null, "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"question": "q?", "answer": ' + "1" * 5000 + "}",
        '{"id": "\\ud800", "question": "甲?", "answer": null}',
        '{"id": "x", "question": "甲?", "answer": "\\udfff"}',
        json.dumps(QUESTIONS[1]),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(cli_args(path, settings, "--out", str(out))) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [b["line"] for b in summary["bad_rows"]["rows"]] == [2, 3, 4, 5, 6]
    assert [r["line"] for r in read_results(out)] == [1, 7]
    assert "Bad rows, skipped (5)" in (out / "report.html").read_text(encoding="utf-8")
    captured = capsys.readouterr()
    assert "line 3: JSON nested deeper" in captured.out and "Traceback" not in captured.err


def test_cli_exit_codes_for_interrupts_limits_and_failed_outputs(tmp_path, settings, monkeypatch, capsys):
    path = write_jsonl(tmp_path / "q.jsonl", QUESTIONS)
    out = tmp_path / "out"
    fake_cli(monkeypatch, OldPipeline(stop_at=2))
    assert main(cli_args(path, settings, "--out", str(out))) == 130
    assert len(read_results(out)) == 1 and (out / "summary.json").exists()

    ticks = iter(range(1000))
    monkeypatch.setattr(run_module, "_clock", lambda: next(ticks))
    fake_cli(monkeypatch, OldPipeline())
    assert main(cli_args(path, settings, "--time-limit", "3")) == 0             # a cap, no gate: fine
    assert main(cli_args(path, settings, "--time-limit", "3", "--fail-under", "answer_recall=0")) == 1
    assert "a gate needs every row" in capsys.readouterr().err
    assert main(cli_args(path, settings, "--time-limit", "0")) == 2

    monkeypatch.setattr(run_module, "_clock", lambda: 0.0)

    def broken(results, summary):
        raise RuntimeError("template broke")

    monkeypatch.setattr("rag.eval.html.render_html", broken)
    (out / "report.html").unlink()
    assert main(cli_args(path, settings, "--out", str(out))) == 1
    assert len(read_results(out)) == 5 and not (out / "report.html").exists()
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["counts"]["rows"] == 5
    captured = capsys.readouterr()
    assert "could not write report.html (RuntimeError: template broke)" in captured.err
    assert "answer_recall" in captured.out  # the terminal table is still printed


def test_a_results_file_that_cannot_be_written_does_not_stop_the_run(tmp_path, settings, monkeypatch):
    written = []

    def write(self, result):
        if written:
            raise OSError(28, "No space left on device")
        written.append(result)

    monkeypatch.setattr(run_module.ResultsWriter, "write", write)
    out = tmp_path / "out"
    outcome = run_with(settings, write_jsonl(tmp_path / "q.jsonl", QUESTIONS), OldPipeline(), out=out)
    assert len(written) == 1 and outcome.summary["counts"]["rows"] == 5
    assert outcome.errors == ["results.jsonl: [Errno 28] No space left on device"]
    assert out / "results.jsonl" not in outcome.written and (out / "summary.json").exists()
