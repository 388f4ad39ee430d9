"""rag.validation: what every door accepts, and Pipeline.ask refusing the same way."""
import math
import os

import pytest

from rag import answer
from rag.validation import (
    STRICTNESS_RANGE,
    TOP_K_RANGE,
    JSONProblem,
    QuestionError,
    SettingError,
    check_question,
    check_strictness,
    check_top_k,
    parse_json,
)


def refused(question, max_chars=20) -> QuestionError:
    with pytest.raises(QuestionError) as caught:
        check_question(question, max_chars)
    return caught.value


def test_a_question_is_stripped_and_loses_its_control_characters():
    assert check_question("  刷掌支付？ ", 20) == "刷掌支付？"
    assert check_question("刷\x00掌\x1b[31m支\x7f付\x85？", 20) == "刷掌支付？"   # the escape sequence whole
    assert check_question("第一行\n\t第二行", 20) == "第一行\n\t第二行"   # tabs and line breaks stay
    assert check_question("问题".encode(), 20) == "问题"


@pytest.mark.parametrize("question", [None, "", "   ", "\x00\x01\x1f", " \x00 \n"])
def test_nothing_left_is_empty(question):
    error = refused(question)
    assert error.reason == "empty" and "empty" in str(error)


def test_length_is_counted_after_control_characters_are_removed():
    assert check_question("问" * 20 + "\x00" * 50, 20) == "问" * 20
    error = refused("问" * 21)
    assert (error.reason, error.length, error.limit) == ("too_long", 21, 20)
    assert "limit is 20" in str(error)
    assert refused("问" * 1_000_000).length == 1_000_000   # a huge question is refused, not processed


@pytest.mark.parametrize("question,shown", [
    ("\ud800问题", "U+D800 at character 1"),
    ("问题\udfff", "U+DFFF at character 3"),
    (os.fsdecode(b"\xff\xfe\xe5\x88\xb7"), "U+DCFF at character 1"),   # undecodable argv bytes
])
def test_lone_surrogates_and_undecodable_bytes_are_refused_by_position(question, shown):
    error = refused(question)
    assert error.reason == "encoding"
    assert "not valid text" in str(error) and shown in str(error)


def test_bytes_must_be_utf8():
    error = refused(b"\xff\xfe\xe5\x88\xb7")
    assert error.reason == "encoding" and "not valid UTF-8" in str(error) and "byte 1" in str(error)


@pytest.mark.parametrize("question", [5, 3.5, True, ["问题"], {"q": "问题"}, object()])
def test_a_question_must_be_text(question):
    error = refused(question)
    assert error.reason == "type" and "must be text" in str(error)
    assert type(question).__name__ in str(error)


def test_question_error_names_its_field():
    assert refused("").field == "question"


@pytest.mark.parametrize("value,expected", [(1, 1), (5, 5), (20, 20), (3.0, 3)])
def test_top_k_in_range(value, expected):
    assert check_top_k(value) == expected and isinstance(check_top_k(value), int)


@pytest.mark.parametrize("value", [0, -1, 21, 10_000, 10**6, 3.5, math.nan, math.inf, True, "3", None, [5]])
def test_top_k_out_of_range_or_wrong_type(value):
    with pytest.raises(SettingError) as caught:
        check_top_k(value)
    assert caught.value.field == "top_k"
    assert str(caught.value).startswith("top_k: must be a whole number from 1 to 20")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0])
def test_strictness_in_range(value):
    assert check_strictness(value) == float(value)


@pytest.mark.parametrize("value", [-1, -5, -0.01, 1.01, 2, math.nan, math.inf, -math.inf, "0.5", False, None])
def test_strictness_out_of_range_or_wrong_type(value):
    with pytest.raises(SettingError) as caught:
        check_strictness(value)
    assert caught.value.field == "strictness"
    assert str(caught.value).startswith("strictness: must be a number from 0 to 1")


def test_a_long_refused_value_is_shown_cut_short():
    with pytest.raises(SettingError) as caught:
        check_top_k("x" * 10_000)
    assert len(str(caught.value)) < 120


def test_ranges_match_the_contract():
    assert TOP_K_RANGE == (1, 20) and STRICTNESS_RANGE == (0.0, 1.0)


def test_answer_module_re_exports_the_old_names():
    assert answer.QuestionError is QuestionError and answer.check_question is check_question


# --- Pipeline.ask refuses the same way (the door every front end goes through) -----------------

@pytest.mark.parametrize("changes,field", [
    ({"top_k": 0}, "top_k"), ({"top_k": 10**6}, "top_k"), ({"top_k": "3"}, "top_k"),
    ({"strictness": -5}, "strictness"), ({"strictness": math.nan}, "strictness"), ({"strictness": 2}, "strictness"),
])
def test_pipeline_ask_refuses_settings_out_of_range(article_qa, changes, field):
    with pytest.raises(SettingError) as caught:
        article_qa.ask("刷掌支付有什么优势？", **changes)
    assert caught.value.field == field


@pytest.mark.parametrize("question,reason", [("\ud800刷掌支付", "encoding"), (5, "type"), ("\x00 \x00", "empty")])
def test_pipeline_ask_refuses_bad_questions(article_qa, question, reason):
    with pytest.raises(QuestionError) as caught:
        article_qa.ask(question)
    assert caught.value.reason == reason


def test_pipeline_ask_answers_the_cleaned_question(article_qa):
    result = article_qa.ask("刷掌\x00支付有什么\x1b优势？", top_k=3.0, strictness=0)
    assert result.question == "刷掌支付有什么优势？"
    assert len(result.passages) == 3


# --- issue 20: escape sequences, huge numbers, hostile JSON ------------------------------------

@pytest.mark.parametrize("typed,asked", [
    ("\x1b[31m刷掌支付用到了哪些生物特征？", "刷掌支付用到了哪些生物特征？"),
    ("刷掌支付\x1b[0m用到了哪些生物特征？\x1b[2J", "刷掌支付用到了哪些生物特征？"),
    ("\x1b]0;PWNED\x07What is DRG?", "What is DRG?"),
    ("\x1b]8;;http://x\x1b\\DRG\x1b]8;;\x1b\\是什么？", "DRG是什么？"),
    ("\x9b31mWhat is DRG?", "What is DRG?"),
    ("\x1b(BWhat\x1b7 is DRG?", "What is DRG?"),
    ("\x1b[?25l问\x00题", "问题"),
])
def test_escape_sequences_are_removed_whole(typed, asked):
    assert check_question(typed, 500) == asked


def test_a_question_of_only_escape_sequences_is_empty():
    with pytest.raises(QuestionError) as caught:
        check_question("\x1b[31m\x1b[0m", 500)
    assert caught.value.reason == "empty"


@pytest.mark.parametrize("value", [10**400, -10**400, 10**5000], ids=["1e400", "-1e400", "1e5000"])
def test_numbers_beyond_a_float_are_out_of_range_not_an_overflow(value):
    for check, field in ((check_top_k, "top_k"), (check_strictness, "strictness")):
        with pytest.raises(SettingError) as caught:
            check(value)
        assert caught.value.field == field and len(str(caught.value)) < 200


@pytest.mark.parametrize("body,says", [
    (b"[" * 30000 + b"]" * 30000, "nests deeper"),
    (b'{"a": ' + b"7" * 5000 + b"}", "number 5,000 characters"),
    (b'{"a": 1e999}', "out of range"),
    (b'{"a": NaN}', "NaN"),
    (b"\xff{}", "not valid UTF-8 (byte 1)"),
    (b"{a", "not valid JSON"),
])
def test_parse_json_refuses_in_one_line(body, says):
    with pytest.raises(JSONProblem) as caught:
        parse_json(body)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_parse_json_ignores_brackets_inside_strings():
    text = '{"q": "' + "[" * 100 + '\\"]"}'
    assert parse_json(text) == {"q": "[" * 100 + '"]'}
