"""rag.eval.rows: reading .jsonl and .csv files, each row checked on its own."""
from __future__ import annotations

import json

import pytest

from rag.cli import main
from rag.config import EvalSettings
from rag.eval import EvalUsageError, load_rows
from rag.eval.rows import json_depth_exceeds, read_csv, read_jsonl

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


# ---------------------------------------------------------------------------- one bad row, one bad row only (issue #12)

GOOD = '{"question": "隐私计算有哪些流派?", "answer": "联邦学习"}'


def load_lines(tmp_path, *lines: str | bytes, name: str = "q.jsonl", **limits):
    path = tmp_path / name
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n")
    return load_rows(path, EvalSettings(**limits)) if limits else load_rows(path)


@pytest.mark.parametrize("bad", [
    '{"question": "\\ud800 隐私", "answer": null}',          # the row: a lone surrogate in the question
    '{"id": "\\udfff", "question": "q?", "answer": null}',    # ... in the id
    '{"question": "q?", "answer": "a\\ud800"}',               # ... in the answer
    '{"question": "q?", "answer": null, "\\ud800": 1}',       # ... in a field name
    '{"question": "q?", "answer": null, "tags": ["x", {"y": "\\udc80"}]}',  # ... deep inside a field
])
def test_a_lone_surrogate_is_a_bad_row(tmp_path, bad):
    rows, bad_rows = load_lines(tmp_path, GOOD, bad, GOOD)
    assert [r.line for r in rows] == [1, 3]
    assert [b.line for b in bad_rows] == [2] and "lone surrogate" in bad_rows[0].reason


def test_a_surrogate_pair_is_one_good_character(tmp_path):
    rows, bad = load_lines(tmp_path, '{"question": "表情 \\ud83d\\ude00?", "answer": null}')
    assert bad == [] and rows[0].question == "表情 😀?"


def test_deep_nesting_is_refused_before_parsing(tmp_path):
    deep = '{"question": "q?", "answer": null, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    bare = "[" * 100_000  # not even closed: still refused by depth, never a RecursionError
    nested_ok = '{"question": "q?", "answer": null, "x": ' + "[" * 19 + "]" * 19 + "}"
    in_a_string = json.dumps({"question": "[" * 1000 + "?", "answer": None})  # brackets inside text do not count
    rows, bad = load_lines(tmp_path, deep, bare, nested_ok, in_a_string)
    assert [b.line for b in bad] == [1, 2] and all("deeper than 20" in b.reason for b in bad)
    assert [r.line for r in rows] == [3, 4]


def test_numbers_too_long_or_not_finite_are_bad_rows(tmp_path):
    rows, bad = load_lines(tmp_path,
                           '{"question": "q?", "answer": ' + "9" * 5000 + "}",  # the 5,000-digit number
                           '{"question": "q?", "answer": null, "n": 1e400}',
                           '{"question": "q?", "answer": null, "n": NaN}',
                           '{"question": 12345, "answer": 3.5, "id": 7}')
    assert [b.line for b in bad] == [1, 2, 3]
    assert "5000 characters" in bad[0].reason and "out of range" in bad[1].reason and "NaN" in bad[2].reason
    assert [(r.question, r.expected, r.id) for r in rows] == [("12345", "3.5", "7")]  # numbers read as their text


def test_an_oversized_line_is_not_parsed(tmp_path):
    big = json.dumps({"question": "q?", "answer": "长" * 500})
    rows, bad = load_lines(tmp_path, big, GOOD, max_row_bytes=1000)
    assert [b.line for b in bad] == [1] and "bytes long" in bad[0].reason and [r.line for r in rows] == [2]


def test_one_csv_record_in_another_encoding_is_one_bad_row(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes("question,answer\n好问题?,答案\n".encode() + "坏问题?,答案\n".encode("gbk") + "又一个?,\n".encode())
    rows, bad = load_rows(path)
    assert [r.line for r in rows] == [2, 4] and [(b.line, b.reason) for b in bad] == [(3, "not valid UTF-8")]


# ---------------------------------------------------------------------------- follow-up rows (`follows`)


def test_follows_builds_the_chain_of_earlier_rows(tmp_path):
    lines = [{"id": "a", "question": "甲?", "answer": None},
             {"id": "b", "question": "那乙呢?", "answer": None, "follows": "a"},
             {"id": "c", "question": "还有呢?", "answer": None, "follows": "b"},
             {"id": "d", "question": "前面呢?", "answer": None, "follows": "z"},        # no such id
             {"id": "e", "question": "然后?", "answer": None, "follows": "f"},          # a later row
             {"id": "f", "question": "f?", "answer": None},
             {"id": "bad", "question": "", "answer": None},
             {"id": "g", "question": "g?", "answer": None, "follows": "bad"}]          # follows a bad row
    rows, bad = load_rows(write_jsonl(tmp_path / "f.jsonl", lines))
    assert [(r.id, r.follows) for r in rows] == [("a", ()), ("b", (1,)), ("c", (1, 2)), ("f", ())]
    assert [b.line for b in bad] == [4, 5, 7, 8]
    assert all("earlier good row" in b.reason for b in bad if b.line != 7)


def test_the_depth_check_reads_strings_and_escapes():
    assert json_depth_exceeds("[" * 3, 2) and not json_depth_exceeds("[[]]", 2)
    assert not json_depth_exceeds('["[[[[", "\\\\", "\\"[[["]', 2)   # brackets in strings, escaped quotes
    assert json_depth_exceeds('["\\\\"' + ", [[[]]]]", 2)              # an escaped backslash ends before the quote
    # An unterminated string of escaped quotes: one linear pass (a regex over strings would take quadratic time).
    assert not json_depth_exceeds('{"q": "' + '\\"' * 200_000, 20)


# --- issue 20: ids, other encodings, byte positions ---------------------------------------------

def test_a_repeated_id_is_a_bad_row_naming_the_first_line():
    data = "\n".join(json.dumps(r) for r in [{"id": "a", "question": "q1", "answer": "x"},
                                             {"id": "a", "question": "q2", "answer": "y"},
                                             {"id": 7, "question": "q3", "answer": "z"},
                                             {"id": "7", "question": "q4", "answer": "z"}]).encode()
    rows, bad = read_jsonl(data)
    assert [r.question for r in rows] == ["q1", "q3"]
    assert [(b.line, b.reason) for b in bad] == [(2, "the id 'a' is already used by line 1"),
                                                 (4, "the id '7' is already used by line 3")]


@pytest.mark.parametrize("value,kind", [({"x": 1}, "dict"), ([1], "list")])
def test_an_object_or_list_as_id_is_a_bad_row(value, kind):
    rows, bad = read_jsonl(json.dumps({"id": value, "question": "q", "answer": "a"}).encode())
    assert not rows and bad[0].reason == f"the id must be text or a number, not a JSON {kind}"


@pytest.mark.parametrize("encoding,name", [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"),
                                           ("utf-32", "UTF-32")])
def test_a_utf16_or_utf32_file_is_named_as_such(encoding, name):
    jsonl = '{"question": "刷掌支付是什么？", "answer": "a"}\n'.encode(encoding)
    csv_data = 'question,answer\n刷掌支付是什么？,a\n'.encode(encoding)
    with pytest.raises(EvalUsageError, match=f"a {name} file, not UTF-8"):
        read_jsonl(jsonl, source="q.jsonl")
    with pytest.raises(EvalUsageError, match=f"a {name} file, not UTF-8"):
        read_csv(csv_data, "q.csv")


def test_byte_positions_count_from_one_everywhere(tmp_path):
    from rag.validation import QuestionError, check_question

    bad = b"ab\xffcd"   # the third byte is the bad one
    _, problems = read_jsonl(b'{"question": "' + bad + b'", "answer": "a"}')
    assert "(byte 17 of the line)" in problems[0].reason   # 14 bytes of '{"question": "' + 3
    # A corpus text file that is not UTF-8 is read in the encoding that fits it (tests/test_documents.py);
    # when none fits, the first bad byte is named the same way (extract.text.decode).
    with pytest.raises(QuestionError, match="byte 3 is"):
        check_question(bad, 500)
