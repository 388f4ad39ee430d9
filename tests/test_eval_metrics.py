"""rag.eval.metrics and the summary's aggregation, on hand-made rows with known values."""
from __future__ import annotations

import pytest

from rag.eval import (
    aggregate,
    answer_recalled,
    char_f1,
    cmrc_normalize,
    first_hit_rank,
    longest_common_substring,
    percentile,
    prediction_text,
    quoted_spans,
    reciprocal_rank,
    score_row,
    summarize,
)

from eval_cases import DOCS, answer_json, quote, row

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


def test_the_unanswerable_metric_has_a_plain_name_and_gates_under_both():
    from rag.eval.summary import parse_thresholds
    from rag.eval.text import shown_name

    assert shown_name("abstain_rate") == "unanswerable_refused"
    assert parse_thresholds(["unanswerable_refused=0.9"], 5) == {"abstain_rate": 0.9}
    assert parse_thresholds(["abstain_rate=0.9"], 5) == {"abstain_rate": 0.9}
