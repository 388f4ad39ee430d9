import json

import pytest

from rag.answer import NOT_FOUND, QuestionError, check_question
from rag.config import AnswerSettings

from conftest import DEV_SET


def test_acceptance_palm_payment(article_qa, article_text):
    result = article_qa.ask("刷掌支付用到了哪些生物特征？")
    assert not result.abstained
    quote = result.quotes[0]
    assert "掌纹+掌静脉" in quote.text
    assert quote.section.startswith("趋势二") and quote.title == "金融科技十大趋势"
    assert article_text[quote.start:quote.end] == quote.text
    assert f"{quote.display} [1]" in result.answer


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
                assert q.display and q.display.replace("\n", "") in q.text.replace("\n", "")
            assert len({q.doc for q in result.quotes}) <= 1, "an answer quotes one document"
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


def test_quotes_are_numbered_and_at_most_max(article_qa):
    for question in ("What does DRG stand for?", "生成式AI与金融业的结合有哪些形式？"):
        result = article_qa.ask(question, strictness=0.0)
        assert 1 <= len(result.quotes) <= article_qa.settings.answer.max_quotes
        assert [q.n for q in result.quotes] == list(range(1, len(result.quotes) + 1))


def test_check_question():
    assert check_question("  问题？ ", 10) == "问题？"
    with pytest.raises(QuestionError, match="empty"):
        check_question(" \n ", 10)
    with pytest.raises(QuestionError, match="limit is 10"):
        check_question("长" * 11, 10)


@pytest.mark.parametrize("question,expected", [
    ("文章提到的第一个趋势叫什么？", "趋势一:自主创新成为金融数字化转型关键任务"),
    ("What is the third trend?", "趋势三:生成式AI为金融科技注入新生产力"),
    ("What is trend 10 called?", "趋势十:Web3 助力打造出海金融科技基础设施"),
    ("第五个趋势是什么？", "趋势五:金融营销全域化破局获客活客难题"),
    ("趋势二讲了什么？", "趋势二:生物识别技术在支付领域的创新应用"),
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


def _scored(text: str, sentence_dense: float, span_dense: dict[str, float]):
    """A ScoredSentence over all of `text`, its spans scored by `span_dense` (others 0)."""
    from rag.chunking import Sentence, spans_of
    from rag.retrieval import ScoredSentence, ScoredSpan

    sentence = Sentence(doc="d", start=0, end=len(text), id=0, section="s", text=text)
    spans = tuple(ScoredSpan(s, span_dense.get(s.text, 0.0)) for s in spans_of(sentence, text))
    return ScoredSentence(sentence, sentence_dense, spans)


def test_quote_span_cuts_a_long_sentence_to_its_best_span_plus_the_next_clause():
    from rag import answer as stage

    text = ("刷掌支付是对多元生物识别技术的更深层次应用,通过持续创新攻克了多项技术难题,"
            "在场景应用创新上不断取得突破,成为了现行支付方式的有益补充,提升了支付的准确度、安全性和隐私性。")
    best = "通过持续创新攻克了多项技术难题,在场景应用创新上不断取得突破,"
    settings = AnswerSettings()
    start, end = stage.quote_span(_scored(text, 0.80, {best: 0.85}), text, settings)
    assert text[start:end] == best + "成为了现行支付方式的有益补充,"
    # A span that does not beat the whole sentence by span_margin leaves the sentence whole.
    assert stage.quote_span(_scored(text, 0.85, {best: 0.85}), text, settings) == (0, len(text))
    # A span too short to be quoted alone is no candidate.
    short = "在场景应用创新上不断取得突破,"
    assert len(short) < settings.span_min_chars
    assert stage.quote_span(_scored(text, 0.80, {short: 0.95}), text, settings) == (0, len(text))


def test_quote_span_keeps_short_sentences_whole_and_follows_a_colon():
    from rag import answer as stage

    short = "全域营销以消费者为中心,整合线上线下场景。"
    assert _scored(short, 0.5, {}).spans == (), "a short sentence has no spans"
    assert stage.quote_span(_scored(short, 0.5, {}), short, AnswerSettings()) == (0, len(short))
    text = ("生成式AI与金融行业的结合可能会沿着两种形式发展,这是文章在第三个趋势里给出的一个判断,"
            "第一种是服务形式提供生成式AI技术的GaaS模式:以开箱即用的服务形式提供,第二种是组件形式。")
    best = "这是文章在第三个趋势里给出的一个判断,第一种是服务形式提供生成式AI技术的GaaS模式:"
    start, end = stage.quote_span(_scored(text, 0.5, {best: 0.9}), text, AnswerSettings())
    # best + the next clause (which ends in a colon) + the clause that colon introduces
    assert text[start:end] == best + "以开箱即用的服务形式提供,"


PAYMENTS = ("# 支付创新\n\n## 一、刷掌支付\n\n刷掌支付通过“掌纹+掌静脉”融合识别，提升了支付的安全性。刷掌支付已在地铁闸机试点。\n\n"
            "## 二、数字人民币\n\n数字人民币钱包支持离线支付，适合网络不佳的场景。\n")
HYDROGEN = ("氢能产业观察\n\n一、加氢站建设\n\n截至2024年底，全国已建成加氢站约400座，主要分布在长三角和珠三角。\n\n"
            "二、燃料电池汽车\n\n燃料电池汽车的保有量超过2万辆，以物流车和公交车为主。\n")


def test_every_citation_names_the_document_its_quote_comes_from(make_corpus):
    from rag.pipeline import Pipeline

    settings = make_corpus({"payments.md": PAYMENTS, "hydrogen.txt": HYDROGEN})
    qa = Pipeline.open(settings, log=lambda m: None)
    for question, doc in [("全国已经建成了多少座加氢站？", "hydrogen.txt"), ("刷掌支付在哪里试点？", "payments.md"),
                          ("What is the second section of the hydrogen report about?", None)]:
        result = qa.ask(question, strictness=0.0)
        assert result.quotes and len({q.doc for q in result.quotes}) == 1, "one answer quotes one document"
        for quote in result.quotes:
            document = qa.index.documents[quote.doc]
            assert document.text[quote.start:quote.end] == quote.text and quote.title == document.title
            assert doc is None or quote.doc == doc
    # The heading word names the document, whichever passage retrieval ranked first.
    result = qa.ask("第二个部分讲的是什么？数字人民币")
    assert result.quotes == [] or result.quotes[0].doc == "payments.md"


def test_markdown_answers_are_shown_without_markup(make_corpus):
    from rag.pipeline import Pipeline

    settings = make_corpus({"payments.md": PAYMENTS.replace("融合识别", "**融合识别**")})
    qa = Pipeline.open(settings, log=lambda m: None)
    result = qa.ask("刷掌支付用到了什么识别方式？", strictness=0.0)
    assert result.quotes
    quote = result.quotes[0]
    assert "**" in quote.text and "**" not in quote.display and "**" not in result.answer
    assert quote.display.replace("融合识别", "**融合识别**") in quote.text


def test_not_found_message_does_not_assume_one_article():
    assert NOT_FOUND == {"zh": "资料中没有找到这个问题的答案。", "en": "The documents do not answer this question."}


def test_a_quote_ending_in_a_colon_takes_the_list_it_introduces(make_corpus):
    from rag.pipeline import Pipeline

    text = ("# 光伏进村\n\n## 一、三种模式\n\n目前农户安装光伏主要有三种模式：\n\n"
            "- **全款自建**：农户自己出钱购买设备。\n- **租赁屋顶**：企业租用农户屋顶。\n- **合作共建**：企业与农户分享收益。\n\n"
            "## 二、隐忧\n\n部分地区电网承载能力不足。\n")
    qa = Pipeline.open(make_corpus({"solar.md": text}), log=lambda m: None)
    result = qa.ask("农户装光伏有哪几种模式？", strictness=0.0)
    quote = result.quotes[0]
    assert quote.text.startswith("目前农户安装光伏主要有三种模式：") and quote.text.endswith("企业与农户分享收益。")
    assert quote.display.splitlines() == ["目前农户安装光伏主要有三种模式：", "全款自建：农户自己出钱购买设备。",
                                          "租赁屋顶：企业租用农户屋顶。", "合作共建：企业与农户分享收益。"]
    assert "隐忧" not in quote.text and "电网" not in quote.text, "the list ends with its section"


CANTEENS = """# 社区老年食堂运营情况

## 一、基本情况

全市已建成社区老年食堂186家，食堂主要采取政府补贴和企业运营的模式。

## 二、各区运营数据

| 区 | 食堂数量 | 日均就餐人次 | 每餐平均价格 |
| --- | --- | --- | --- |
| 东城区 | 42 | 3100 | 12元 |
| 西城区 | 38 | 2800 | 13元 |
| 南湖区 | 27 | 1500 | 10元 |
"""


def test_a_table_row_answers_with_its_header_and_the_header_is_never_quoted_alone(make_corpus):
    from rag.pipeline import Pipeline

    qa = Pipeline.open(make_corpus({"canteens.md": CANTEENS}), log=lambda m: None)
    price = qa.ask("南湖区每餐平均多少钱？")
    assert not price.abstained and price.quotes[0].text == "南湖区 | 27 | 1500 | 10元"
    for question in ("各区的运营数据有哪些？", "食堂数量是多少？", "每餐平均价格是多少？"):
        assert all("食堂数量 |" not in q.text for q in qa.ask(question).quotes), question


def test_a_question_about_the_article_means_the_one_the_conversation_is_about(make_corpus):
    """"文章第二部分讲的是什么？" names no document: with two loaded, it is about the one the
    previous question was answered from, whichever that is; the question's own words still win."""
    from rag.pipeline import Pipeline

    qa = Pipeline.open(make_corpus({"payments.md": PAYMENTS, "hydrogen.txt": HYDROGEN}), log=lambda m: None)
    for previous, doc in [("全国已经建成了多少座加氢站？", "hydrogen.txt"), ("刷掌支付在哪里试点？", "payments.md")]:
        for question in ("文章第二部分讲的是什么？", "What is the second section of the article about?"):
            result = qa.ask(question, history=[previous])
            assert not result.abstained and {q.doc for q in result.quotes} == {doc}, (previous, question)
    named = qa.ask("氢能报告第二部分讲的是什么？", history=["刷掌支付在哪里试点？"])
    assert {q.doc for q in named.quotes} == {"hydrogen.txt"}


def test_a_question_about_the_article_with_nothing_saying_which_quotes_each_document(make_corpus, tmp_path):
    """Without a conversation, "文章第二部分讲的是什么？" over two documents is answered with the
    second part of each, titled, after a note saying the question named no document, not with
    whichever document retrieval happened to rank first."""
    from rag.config import Settings
    from rag.pipeline import Pipeline

    qa = Pipeline.open(make_corpus({"payments.md": PAYMENTS, "hydrogen.txt": HYDROGEN}), log=lambda m: None)
    for question in ("文章第二部分讲的是什么？", "What is the second section of the article about?"):
        result = qa.ask(question)
        assert not result.abstained and result.note and result.to_json()["note"] == result.note
        assert sorted(q.text for q in result.quotes) == ["二、数字人民币", "二、燃料电池汽车"], question
        lines = result.answer.splitlines()
        assert lines[0] == result.note and "2" in result.note
        assert {line.split("》")[0] for line in lines[1:]} == {"《支付创新", "《氢能产业观察"}
    # The document named, or one document only: no note.
    assert qa.ask("氢能报告第二部分讲的是什么？").note is None
    (tmp_path / "solo").mkdir()
    (tmp_path / "solo" / "hydrogen.txt").write_text(HYDROGEN, encoding="utf-8")
    solo = Pipeline.open(Settings(corpus_dir=tmp_path / "solo", index_dir=tmp_path / "solo-index"), log=lambda m: None)
    alone = solo.ask("文章第二部分讲的是什么？")
    assert alone.note is None and [q.text for q in alone.quotes] == ["二、燃料电池汽车"]


def test_an_english_question_is_read_with_its_chinese_translations():
    from types import SimpleNamespace

    from rag.answer import reader_question

    english = SimpleNamespace(question="What does generative AI produce?", question_has_cjk=False,
                              translations=[{"generative": 3.0, "一代": 3.0}, {"ai": 2.5},
                                            {"生出": 3.0, "生成": 2.5, "结": 2.4}])
    assert reader_question(english, 2) == "What does generative AI produce? (一代 生出 生成)"
    assert reader_question(english, 0) == english.question
    chinese = SimpleNamespace(question="生成式AI能生成什么？", question_has_cjk=True, translations=[])
    assert reader_question(chinese, 2) == chinese.question


def test_a_table_look_up_prefers_the_cell_under_the_asked_column():
    """Asked a price, the number in the price column wins over a price elsewhere in the text."""
    from types import SimpleNamespace

    from rag.answer import column_of, prefer_asked_value
    from rag.chunking import Sentence
    from rag.corpus import Document

    text = "保底价为每公斤30元。\n| 荆条蜜 | 58 | 38 |"
    row_start = text.index("|")
    row = Sentence(doc="d", start=row_start, end=len(text), id=1, section="s", text=text[row_start:],
                   header="产品 · 年产量（吨） · 收购价（元/公斤）")
    documents = {"d": Document(path="d", title="t", source=None, text=text)}

    def span(piece):
        at = text.index(piece, row_start) if piece != "30元" else text.index(piece)
        return SimpleNamespace(doc="d", start=at, end=at + len(piece))

    price, amount, elsewhere = span("38"), span("58"), span("30元")
    assert column_of(price, [row], documents) == "收购价（元/公斤）"
    assert column_of(elsewhere, [row], documents) == ""
    kept = prefer_asked_value("荆条蜜的收购价是每公斤多少元？", [amount, price, elsewhere], documents, [row])
    assert kept == [price, elsewhere]


def test_no_span_of_the_asked_kind_leaves_nothing_to_answer_with():
    """Asked which month, spans holding only a year are dropped; when every span is such, none is
    left and the answer stage refuses."""
    from types import SimpleNamespace

    from rag.answer import of_asked_kind
    from rag.corpus import Document

    text = "白皮书于2023年发布，三年景愿：2023年完成试点。另一份报告于2022年6月发布。"
    documents = {"d": Document(path="d", title="t", source=None, text=text)}

    def span(piece, nth=0):
        at = text.index(piece)
        for _ in range(nth):
            at = text.index(piece, at + 1)
        return SimpleNamespace(doc="d", start=at, end=at + len(piece))

    years = [span("2023年"), span("2023年", 1)]
    assert of_asked_kind("白皮书是在2023年几月发布的？", years, documents) == []
    month = span("2022年6月")
    assert of_asked_kind("白皮书是在2023年几月发布的？", [*years, month], documents) == [month]
    assert of_asked_kind("白皮书是哪一年发布的？", years, documents) == years   # a year answers that


def _one_document(text: str):
    """A corpus of one document "d" holding `text`, and a function giving the span of a piece of it."""
    from types import SimpleNamespace

    from rag.corpus import Document

    def span(piece):
        at = text.index(piece)
        return SimpleNamespace(doc="d", start=at, end=at + len(piece))

    return {"d": Document(path="d", title="t", source=None, text=text)}, span


def test_asked_one_thing_the_spans_within_one_clause_are_preferred():
    """Asked who, a span across a clause break is dropped (none may be left); asked how many or
    which one, such spans give way when a span within one clause is left."""
    from rag.answer import within_a_clause

    documents, span = _one_document("东湖区完成率最高，已覆盖辖区内96%的老旧小区；全市已在412个老旧小区建成充电棚1,060处，新增端口3.2万个。")
    long, district = span("东湖区完成率最高，已覆盖辖区内96%"), span("东湖区")
    count_long, count = span("412个老旧小区建成充电棚1,060处，新增端口3.2万个"), span("1,060处")
    assert within_a_clause("哪个区的完成率最高？", [long, district], documents) == [district]
    assert within_a_clause("哪个区的完成率最高？", [long], documents) == [long]          # nothing shorter
    assert within_a_clause("全市建成了多少处充电棚？", [count_long, count], documents) == [count]
    assert within_a_clause("充电棚由谁建设？", [long], documents) == []                # a statement names nobody
    assert within_a_clause("充电棚有什么作用？", [long, district], documents) == [long, district]


def test_a_span_that_repeats_the_question_gives_way_to_one_that_says_more():
    """Asked what a term means, the term itself ("数字孪生", or the Chinese term of an English
    question, glossed in brackets in the text) is dropped when another span is left; asked who,
    the echo stays for `names_nothing` to refuse on."""
    from rag.answer import beyond_the_question

    documents, span = _one_document("所谓数字孪生（Digital Twin），是指在虚拟空间中构建一个与实体对象实时同步的数字模型。")
    term, meaning = span("数字孪生"), span("在虚拟空间中构建一个与实体对象实时同步的数字模型")
    assert beyond_the_question("什么叫数字孪生？", [term, meaning], documents) == [meaning]
    assert beyond_the_question("What is a digital twin?", [term, meaning], documents) == [meaning]
    assert beyond_the_question("什么叫数字孪生？", [term], documents) == [term]      # nothing else to say
    assert beyond_the_question("数字孪生是谁提出的？", [term, meaning], documents) == [term, meaning]


def test_a_figure_of_the_whole_country_is_not_the_named_citys():
    """Asked about 广州市, the nationwide figure in the sentence before the one naming 广州市 is
    another subject's; a sentence naming the city, or a question about China, keeps it."""
    from types import SimpleNamespace

    from rag.answer import of_the_whole_elsewhere
    from rag.chunking import Sentence

    text = "2019年以来，全国老旧小区累计加装电梯约7.2万部。广州市对加装电梯给予补贴。"
    documents, span = _one_document(text)
    cut = text.index("广州")
    sentences = [Sentence(doc="d", start=0, end=cut, id=0, section="", text=text[:cut]),
                 Sentence(doc="d", start=cut, end=len(text), id=1, section="", text=text[cut:])]

    def asked(question, named=(), cjk=True):
        return SimpleNamespace(question=question, named=named, question_has_cjk=cjk, translations=[])

    figure = span("7.2万部")
    assert of_the_whole_elsewhere(asked("广州市累计加装了多少部电梯？", ("广州市",)), figure, sentences, documents)
    assert not of_the_whole_elsewhere(asked("中国累计加装了多少部电梯？", ("中国",)), figure, sentences, documents)
    assert not of_the_whole_elsewhere(asked("老旧小区累计加装了多少部电梯？"), figure, sentences, documents)
    # English: China/Chinese is the text's own country, not a name it must write out.
    assert not of_the_whole_elsewhere(asked("How many lifts did Chinese compounds add?", cjk=False), figure,
                                      sentences, documents)
    assert of_the_whole_elsewhere(asked("How many lifts did Guangzhou add?", cjk=False), figure, sentences, documents)
