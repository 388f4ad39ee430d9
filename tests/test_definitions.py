"""Definition questions: which term is asked about, and the defining words of a sentence."""
from types import SimpleNamespace

import pytest

from rag.definitions import defined_term, find_definition


@pytest.mark.parametrize("question, term", [
    ("什么叫数字孪生？", "数字孪生"),
    ("什么是全真互联?", "全真互联"),
    ("隐私计算是一种怎样的技术?", "隐私计算"),
    ("跨境电商这个概念具体指的是什么？", "跨境电商"),
    ("所谓“解耦式”交付指的是什么？", "解耦式交付"),
    ("How does the article define a digital twin?", "digital twin"),
    ("What is a heat pump?", "heat pump"),
    ("刷掌支付用到了哪些生物特征？", None),
    ("What does generative AI produce?", None),
])
def test_the_term_a_definition_question_asks_about(question, term):
    assert defined_term(question) == term


def _sentences(text, doc="d"):
    """The text's sentences, as the index cuts them (to 。 or a line end)."""
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch in "。\n":
            out.append(SimpleNamespace(doc=doc, start=start, end=i + 1))
            start = i + 1
    return out


def _defined(term, text):
    found = find_definition(term, _sentences(text), lambda doc: text)
    return text[found[1]:found[2]] if found else None


def test_the_defining_words_follow_the_term_and_its_cue():
    text = ("数字孪生技术也开始用于古城管理。所谓数字孪生，是指在虚拟空间中构建一个与实体对象实时同步的数字模型。"
            "长期护理保险（Long-term Care Insurance，LTCI）是以社会互助共济方式筹集资金的社会保险制度，因此常被称为“第六险”。")
    assert _defined("数字孪生", text) == "在虚拟空间中构建一个与实体对象实时同步的数字模型"
    # The bracketed gloss is skipped, and the clause that goes on about the term is left out.
    assert _defined("长期护理保险", text) == "以社会互助共济方式筹集资金的社会保险制度"
    # An English term is found through the gloss the text gives it.
    assert _defined("long-term care insurance", text) == "以社会互助共济方式筹集资金的社会保险制度"


def test_a_sentence_that_only_mentions_the_term_defines_nothing():
    text = "数字孪生技术也开始用于古城管理。盾构法仍是主要工法，应用比例达到83%。"
    assert _defined("数字孪生", text) is None
    assert _defined("盾构法", text) is None        # 仍是 is no cue: the term is not followed by it
    assert _defined("digital twin", text) is None  # no gloss in the text
