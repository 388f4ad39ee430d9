import json

import pytest

from conftest import DEV_SET
from rag.answer import (NOT_FOUND, QuestionError, answer_type_mismatch, check_question, content_bigrams,
                        term_coverage)


def test_acceptance_palm_payment(article_qa, article_text):
    result = article_qa.ask("刷掌支付用到了哪些生物特征？")
    assert not result.abstained
    quote = result.quotes[0]
    assert "掌纹+掌静脉" in quote.text
    assert quote.section.startswith("趋势二") and quote.title == "金融科技十大趋势"
    assert article_text[quote.start:quote.end] == quote.text
    assert f"{quote.text} [1]" in result.answer


def _questions():
    rows = [json.loads(line) for line in DEV_SET.read_text("utf-8").splitlines() if line.strip()]
    extra = ["", "的", "?", "Web3", "趋势二", "<b>掌纹</b>", "掌纹 掌静脉 区块链 隐私 计算 ESG GaaS", "What?" * 30]
    return [r["question"] for r in rows] + [q for q in extra if q.strip()]


def test_every_quote_and_passage_is_verbatim_within_one_section(article_qa):
    documents = article_qa.index.documents
    sections = {(c.doc, c.section) for c in article_qa.index.chunks}
    checked = 0
    for question in _questions():
        for strictness in (0.0, None):
            result = article_qa.ask(question, strictness=strictness)
            for item in result.quotes + result.passages:
                assert documents[item.doc].text[item.start:item.end] == item.text
                assert (item.doc, item.section) in sections
                checked += 1
            for q in result.quotes:
                # a quote never crosses a section: it lies inside one chunk-free section span
                assert "\n" not in q.text.strip() or q.text.splitlines()[0] == q.section
    assert checked > 500


def test_off_topic_questions_abstain_in_their_language(article_qa):
    zh = article_qa.ask("明天北京天气怎么样？")
    assert zh.abstained and zh.quotes == [] and zh.answer == NOT_FOUND["zh"]
    assert zh.passages, "nearest passages are still listed, marked as not an answer by the interfaces"
    en = article_qa.ask("How do I bake sourdough bread at home?")
    assert en.abstained and en.answer == NOT_FOUND["en"]


def test_strictness_direction(article_qa):
    question = "全域营销是什么？"
    assert not article_qa.ask(question, strictness=0.0).abstained
    assert article_qa.ask(question, strictness=1.0).abstained
    relevance = article_qa.ask(question).relevance
    assert 0.0 <= relevance <= 1.0


def test_english_question_gets_chinese_quotes(article_qa):
    result = article_qa.ask("What are the common schools of privacy computing?")
    assert not result.abstained and result.lang == "en"
    assert any("联邦学习" in q.text for q in result.quotes)


def test_english_question_is_matched_to_the_sentence_holding_its_translated_words(article_qa):
    # e5 and USE alone both prefer DRG's definition; "implementation" (实施), "organization"
    # (组织) and "consider" (考虑) point at the sentence that answers.
    result = article_qa.ask("What does DRG implementation require organizations to consider?")
    assert not result.abstained
    assert "DRG 的实施需要考虑风险管理数字化" in result.quotes[0].text


def test_term_coverage_weighs_groups_by_their_best_alternative():
    terms = [{"互联网": 2.0, "网络": 3.0}, {"web3": 1.0}]
    # The first group weighs 3 (its best alternative); finding 互联网 earns 2 of it.
    assert term_coverage(terms, "Web3是新一代互联网") == (2.0 + 1.0) / 4.0
    assert term_coverage(terms, "网络安全与web3") == 1.0
    assert term_coverage(terms, "互联网") == 2.0 / 4.0
    assert term_coverage([], "anything") == 0.0


def test_quotes_are_numbered_and_at_most_max(article_qa):
    for question in ("What does DRG stand for?", "生成式AI与金融业的结合有哪些形式？"):
        result = article_qa.ask(question, strictness=0.0)
        assert 1 <= len(result.quotes) <= article_qa.settings.max_quotes
        assert [q.n for q in result.quotes] == list(range(1, len(result.quotes) + 1))


def test_check_question():
    assert check_question("  问题？ ", 10) == "问题？"
    with pytest.raises(QuestionError, match="empty"):
        check_question(" \n ", 10)
    with pytest.raises(QuestionError, match="limit is 10"):
        check_question("长" * 11, 10)


def test_helpers():
    assert content_bigrams("刷掌支付是什么？") == {"刷掌", "掌支", "支付"}
    assert answer_type_mismatch("比特币值多少钱？", ["可持续金融是一切金融活动。"])
    assert not answer_type_mismatch("哪一年提出的？", ["由腾讯在2022 年给出了明确定义"])
    assert not answer_type_mismatch("它是什么？", ["没有数字。"])
    assert answer_type_mismatch("What is the price of Ethereum?", ["Web3是指新一代互联网"])


@pytest.mark.parametrize("question,expected", [
    ("文章提到的第一个趋势叫什么？", "趋势一:自主创新成为金融数字化转型关键任务"),
    ("What is the third trend?", "趋势三:生成式AI为金融科技注入新生产力"),
    ("What is trend 10 called?", "趋势十:Web3 助力打造出海金融科技基础设施"),
    ("本文出自哪个网站？", "文章来源:数字金融网"),
    ("Where was this article published?", "文章来源:数字金融网"),
])
def test_questions_about_the_document_itself_quote_its_source_or_heading(article_qa, question, expected):
    result = article_qa.ask(question)
    assert not result.abstained and [q.text for q in result.quotes] == [expected]
    text = article_qa.index.documents[result.quotes[0].doc].text
    assert text[result.quotes[0].start:result.quotes[0].end] == expected


@pytest.mark.parametrize("question,expected", [
    ("What does GaaS stand for?", "GaaS(Generative AI as a Service)"),
    ("What is the full name of DRG?", "动态风险治理(dynamic risk governance,DRG)"),
    ("DRG的英文全称是什么？", "动态风险治理(dynamic risk governance,DRG)"),
    ("隐私计算用英文怎么说？", "隐私计算(Privacy Computing)"),
])
def test_questions_asking_what_a_term_stands_for_quote_its_inline_definition(article_qa, question, expected):
    result = article_qa.ask(question)
    assert not result.abstained and [q.text for q in result.quotes] == [expected]
    assert result.quotes[0].section.startswith("趋势")


def test_gloss_span_needs_the_question_form_and_a_defined_term():
    from rag.answer import gloss_span
    from rag.corpus import Document

    document = Document("d.txt", "t", None, "第一种是GaaS(Generative AI as a Service),以服务形式提供。"
                                            "区块链(blockchain)技术。采用联邦学习(Federated Learning,FL)。")
    assert document.text[slice(*gloss_span("What does GaaS stand for?", document))] == "GaaS(Generative AI as a Service)"
    assert document.text[slice(*gloss_span("区块链的英文是什么", document))] == "区块链(blockchain)"
    assert document.text[slice(*gloss_span("联邦学习的英文全称", document))] == "联邦学习(Federated Learning,FL)"
    assert document.text[slice(*gloss_span("What does FL stand for?", document))] == "采用联邦学习(Federated Learning,FL)"
    assert gloss_span("How is GaaS delivered?", document) is None
    assert gloss_span("What does a stand-in as big as this stand for?", document) is None  # "aS" is no name
    assert gloss_span("What do cash flows stand for?", document) is None  # "FL" only as a word  # not asking for a definition
    assert gloss_span("What does ESG stand for?", document) is None  # no definition in the text


@pytest.mark.parametrize("question", ["趋势三讲了什么？", "隐私计算的数据来源是什么？", "第十一个趋势叫什么？", "第三部分"])
def test_structural_forms_need_the_whole_form(article_qa, question):
    from rag.answer import structural_span

    document = next(iter(article_qa.index.documents.values()))
    assert structural_span(question, document) is None


def _scored(text: str, sentence_dense: float, span_dense: dict[str, float]):
    """A ScoredSentence over all of `text`, its spans scored by `span_dense` (others 0)."""
    from rag.chunking import Sentence, spans_of
    from rag.retrieval import ScoredSentence, ScoredSpan

    sentence = Sentence(0, "d", "s", 0, len(text), text)
    spans = tuple(ScoredSpan(s, span_dense.get(s.text, 0.0)) for s in spans_of(sentence, text))
    return ScoredSentence(sentence, sentence_dense, spans)


def test_quote_span_cuts_a_long_sentence_to_its_best_span_plus_the_next_clause():
    from rag import answer as stage

    text = ("刷掌支付是对多元生物识别技术的更深层次应用,通过持续创新攻克了多项技术难题,"
            "在场景应用创新上不断取得突破,成为了现行支付方式的有益补充,提升了支付的准确度、安全性和隐私性。")
    best = "通过持续创新攻克了多项技术难题,在场景应用创新上不断取得突破,"
    start, end = stage.quote_span(_scored(text, 0.80, {best: 0.85}), text)
    assert text[start:end] == best + "成为了现行支付方式的有益补充,"
    # A span that does not beat the whole sentence by SPAN_MARGIN leaves the sentence whole.
    assert stage.quote_span(_scored(text, 0.85, {best: 0.85}), text) == (0, len(text))
    # A span too short to be quoted alone is no candidate.
    short = "在场景应用创新上不断取得突破,"
    assert len(short) < stage.SPAN_MIN_CHARS
    assert stage.quote_span(_scored(text, 0.80, {short: 0.95}), text) == (0, len(text))


def test_quote_span_keeps_short_sentences_whole_and_follows_a_colon():
    from rag import answer as stage

    short = "全域营销以消费者为中心,整合线上线下场景。"
    assert _scored(short, 0.5, {}).spans == (), "a short sentence has no spans"
    assert stage.quote_span(_scored(short, 0.5, {}), short) == (0, len(short))
    text = ("生成式AI与金融行业的结合可能会沿着两种形式发展,这是文章在第三个趋势里给出的一个判断,"
            "第一种是服务形式提供生成式AI技术的GaaS模式:以开箱即用的服务形式提供,第二种是组件形式。")
    best = "这是文章在第三个趋势里给出的一个判断,第一种是服务形式提供生成式AI技术的GaaS模式:"
    start, end = stage.quote_span(_scored(text, 0.5, {best: 0.9}), text)
    # best + the next clause (which ends in a colon) + the clause that colon introduces
    assert text[start:end] == best + "以开箱即用的服务形式提供,"
