"""rag.eval.rows: reading .jsonl and .csv files, each row checked on its own."""
from __future__ import annotations

import pytest

from rag.cli import main
from rag.eval import EvalUsageError, load_rows

from eval_cases import ROWS, write_csv, write_jsonl


def test_jsonl_and_csv_load_the_same_rows(tmp_path):
    from_jsonl, bad_jsonl = load_rows(write_jsonl(tmp_path / "q.jsonl", ROWS))
    from_csv, bad_csv = load_rows(write_csv(tmp_path / "q.csv", ROWS))
    assert bad_jsonl == bad_csv == []
    key = lambda r: (r.id, r.question, r.expected, r.fields["lang"])  # noqa: E731
    assert [key(r) for r in from_jsonl] == [key(r) for r in from_csv]
    assert [r.line for r in from_jsonl] == [1, 2, 3, 4, 5]
    assert [r.line for r in from_csv] == [2, 3, 4, 5, 6]  # physical lines: the header is line 1
    assert [r.answerable for r in from_jsonl] == [True, True, True, False, False]


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
