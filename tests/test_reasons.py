"""Reason questions: whether a question asks why, and the reason a causal cue marks."""
import pytest

from rag.reasons import asks_reason, nearest, reasons_in


@pytest.mark.parametrize("question, why", [
    ("为什么冷板式液冷是现在部署得最多的方案？", True),
    ("养老护理行业留不住人的原因有哪些？", True),
    ("Why is liquid cooling appealing in dry areas?", True),
    ("在泰马派山的防火山道被命名为什么路?", False),     # named what: a name is asked
    ("复合式装甲因为什么问题没有大规模装备?", False),   # what problem
    ("刷掌支付用到了哪些生物特征？", False),
    ("盲点呈现为什么样的形状?", False),             # what shape
])
def test_a_question_that_asks_why(question, why):
    assert asks_reason(question) is why


def _reasons(text):
    return [text[a:b] for a, b in reasons_in(text)]


def test_the_reason_a_cue_marks():
    assert _reasons("近两年，波兰成为新建海外仓最集中的地区，主要原因是当地靠近消费市场且人力成本相对较低。") == [
        "当地靠近消费市场且人力成本相对较低"]
    assert _reasons("欧美市场转化率普遍低于1%，因为当地用户仍习惯先看内容、再去下单。") == ["当地用户仍习惯先看内容、再去下单"]
    assert _reasons("它对现有服务器架构改动较小，机房可以沿用标准机柜，因此是当前落地最多的方案。") == [
        "它对现有服务器架构改动较小，机房可以沿用标准机柜"]
    assert _reasons("标准不统一：不同厂商的接口各异，用户容易被单一供应商锁定。") == []


def test_of_several_reasons_the_one_at_the_readers_span():
    text = "由于销量不佳，公司停产了该型号，因此零件变得稀缺。"
    reasons = reasons_in(text)
    assert [text[a:b] for a, b in reasons] == ["销量不佳", "由于销量不佳，公司停产了该型号"]
    at = text.index("停产")
    assert text[slice(*nearest(reasons, at, at + 2))] == "由于销量不佳，公司停产了该型号"
    assert text[slice(*nearest(reasons, 2, 4))] == "销量不佳"
    assert nearest([], 0, 1) is None


def test_a_reason_inside_a_longer_one_is_preferred_when_the_span_is_on_it():
    text = "但由于纲要文句太含糊，内容乃分阶段，所以各版内容差异大。"
    reasons = reasons_in(text)
    at = text.index("由于")
    assert text[slice(*nearest(reasons, at, at + len("由于纲要文句太含糊")))] == "纲要文句太含糊"
