import pytest

from rag.corpus import Document
from rag.forms import form_answer, gloss_span

FINTECH_LIKE = Document("fin.txt", "金融科技", "数字金融网",
                        "引言一句。\n趋势一:自主创新\n正文一。\n趋势二:生物识别\n正文二。\n文章来源:数字金融网")
HERITAGE_LIKE = Document("heritage.txt", "文化遗产数字化", None,
                         "文化遗产数字化\n\n引言。\n\n方向一：三维采集\n\n正文。\n\n方向二：石窟保护\n\n正文。\n\n"
                         "方向三：虚拟展览\n\n正文。\n\n方向四：数字藏品\n\n正文。\n\n方向五：AIGC辅助修复\n\n正文。\n")
MARKDOWN = Document("rail.md", "轨道交通", None,
                    "# 轨道交通\n\n## 一、线网\n\n正文。\n\n## 二、信号\n\n采用基于通信的列车控制(Communication Based Train Control,CBTC)。\n\n"
                    "## 三、票务\n\n正文。\n")
DOCS = {d.path: d for d in (FINTECH_LIKE, HERITAGE_LIKE, MARKDOWN)}


def quoted(question, hit_docs):
    answer = form_answer(question, DOCS, hit_docs)
    return None if answer is None else (answer.doc, DOCS[answer.doc].text[answer.start:answer.end], answer.form)


def test_nth_section_picks_the_document_whose_headings_the_question_names():
    # 方向 names the heritage document's headings, whatever retrieval ranked first.
    assert quoted("第五个发展方向是什么？", ["fin.txt", "rail.md"]) == ("heritage.txt", "方向五：AIGC辅助修复", "section")
    assert quoted("趋势二讲了什么？", ["heritage.txt", "fin.txt"]) == ("fin.txt", "趋势二:生物识别", "section")


def test_nth_section_with_a_generic_word_follows_retrieval():
    assert quoted("文章第三部分讲的是什么？", ["rail.md"]) == ("rail.md", "三、票务", "section")
    assert quoted("What is the second section about?", ["heritage.txt"]) == ("heritage.txt", "方向二：石窟保护", "section")


REPORT = Document("report.txt", "年度报告", None,
                  "引言。\n第一章 线网建设\n（一）线网规模\n正文。\n（二）建设投资\n正文。\n"
                  "第二章 信号系统\n（一）从固定闭塞到CBTC\n正文。\n（二）全自动运行\n正文。\n")


@pytest.mark.parametrize("question, heading", [
    ("第二章第一节的标题是什么？", "（一）从固定闭塞到CBTC"), ("第一章的第二节讲了什么？", "（二）建设投资"),
    ("第二章主要讲了哪方面的内容？", "第二章 信号系统"),
])
def test_a_section_inside_a_chapter_and_a_paraphrased_nth_question(question, heading):
    answer = form_answer(question, {"report.txt": REPORT}, ["report.txt"])
    assert answer is not None and REPORT.text[answer.start:answer.end] == heading


def test_a_section_inside_a_chapter_that_does_not_exist_is_no_form_answer():
    assert form_answer("第三章第一节的标题是什么？", {"report.txt": REPORT}, ["report.txt"]) is None
    assert form_answer("第一章第五节讲了什么？", {"report.txt": REPORT}, ["report.txt"]) is None


@pytest.mark.parametrize("question", ["第一步应该做什么？数字人民币怎么开通", "趋势七讲了什么？", "第十个方向是什么？",
                                      "隐私计算的数据来源是什么？", "方向盘怎么调？"])
def test_not_a_question_about_the_layout(question):
    assert form_answer(question, DOCS, ["fin.txt", "heritage.txt", "rail.md"]) is None


def test_stands_for_picks_the_document_that_defines_the_term():
    assert quoted("What does CBTC stand for?", ["fin.txt", "heritage.txt"]) == (
        "rail.md", "采用基于通信的列车控制(Communication Based Train Control,CBTC)", "gloss")


def test_source_line_of_the_document():
    assert quoted("这篇文章的来源是哪里？", ["fin.txt"]) == ("fin.txt", "文章来源:数字金融网", "source")
    assert quoted("这篇文章的来源是哪里？", ["rail.md"])[0] == "fin.txt", "only documents naming a source answer"


def test_gloss_span_needs_the_question_form_and_a_defined_term():
    document = Document("d.txt", "t", None, "第一种是GaaS(Generative AI as a Service),以服务形式提供。"
                                            "区块链(blockchain)技术。采用联邦学习(Federated Learning,FL)。"
                                            "物联网（Internet of Things，IoT）。")
    assert document.text[slice(*gloss_span("What does GaaS stand for?", document))] == "GaaS(Generative AI as a Service)"
    assert document.text[slice(*gloss_span("区块链的英文是什么", document))] == "区块链(blockchain)"
    assert document.text[slice(*gloss_span("联邦学习的英文全称", document))] == "联邦学习(Federated Learning,FL)"
    assert document.text[slice(*gloss_span("What does FL stand for?", document))] == "采用联邦学习(Federated Learning,FL)"
    assert document.text[slice(*gloss_span("文中IoT对应的中文术语是什么？", document))] == "物联网（Internet of Things，IoT）"
    assert gloss_span("How is GaaS delivered?", document) is None  # not asking for a definition
    assert gloss_span("What does a stand-in as big as this stand for?", document) is None  # "aS" is no name
    assert gloss_span("What do cash flows stand for?", document) is None  # "FL" only as a word
    assert gloss_span("What does ESG stand for?", document) is None  # no definition in the text


def test_meaning_questions_expand_an_abbreviation_but_not_a_chinese_term():
    document = Document("t.md", "t", None, "跨境电商（Cross-border E-commerce，CBEC）是指分属不同关境的交易主体通过电商平台达成交易。"
                                           "农业部门利用归一化植被指数（Normalized Difference Vegetation Index，NDVI）评估长势。")
    assert document.text[slice(*gloss_span("NDVI在文中指的是什么？", document))].endswith(
        "归一化植被指数（Normalized Difference Vegetation Index，NDVI）")
    assert gloss_span("跨境电商这个概念具体指的是什么？", document) is None  # its definition answers
    assert gloss_span("What does CBEC mean?", document) is not None


CANTEENS = Document("canteens.md", "社区老年食堂运营情况调查", None,
                    "# 社区老年食堂运营情况调查\n\n## 一、基本情况\n\n全市已建成社区老年食堂186家。\n\n"
                    "## 三、存在的问题\n\n1. 部分食堂选址偏远。\n2. 菜品口味单一。\n3. 约三成食堂处于亏损状态。\n\n"
                    "## 四、下一步措施\n\n民政部门计划新增食堂50家。对行动不便的老人提供送餐服务。\n\n"
                    "## 五、其他问题\n\n- 人手不足。\n")


def test_a_list_question_is_answered_with_the_list_under_the_heading_that_names_it():
    docs = {CANTEENS.path: CANTEENS}
    problems = form_answer("社区老年食堂存在哪些问题？", docs, [CANTEENS.path])
    # Two headings hold 问题: only the one whose words the question repeats (存在) is taken.
    assert problems.form == "list" and problems.section == "三、存在的问题"
    assert CANTEENS.text[problems.start:problems.end] == "部分食堂选址偏远。\n2. 菜品口味单一。\n3. 约三成食堂处于亏损状态。"
    two = form_answer("社区老年食堂存在哪些问题？", docs, [CANTEENS.path], max_items=2)
    assert CANTEENS.text[two.start:two.end] == "部分食堂选址偏远。\n2. 菜品口味单一。"
    measures = form_answer("老年食堂下一步有哪些措施？", docs, [CANTEENS.path])
    assert CANTEENS.text[measures.start:measures.end] == "民政部门计划新增食堂50家。对行动不便的老人提供送餐服务。"


@pytest.mark.parametrize("question", [
    "刷掌支付存在哪些问题？",        # the topic is not this document's
    "有哪些问题？",                  # no topic at all
    "社区老年食堂有哪些风险？",      # no heading names 风险
    "老年食堂的问题有哪些？",        # not the "…哪些X" form
])
def test_no_list_answer_without_a_heading_and_topic_that_match(question):
    assert form_answer(question, {CANTEENS.path: CANTEENS}, [CANTEENS.path]) is None


def test_a_list_answer_comes_only_from_documents_retrieval_found():
    assert form_answer("社区老年食堂存在哪些问题？", {CANTEENS.path: CANTEENS}, []) is None


CHAPTERS = Document("chapters.txt", "年报", None, "引言。\n第一章 规模\n正文。\n第二章 投资\n正文。\n第三章 运营\n正文。\n")


def test_a_heading_word_the_question_names_picks_its_document():
    docs = {**DOCS, CHAPTERS.path: CHAPTERS}
    # 章 names the chapters' document's headings, whatever retrieval ranked first; 部分 names none.
    assert quoted_in(docs, "第二章讲了什么？", ["rail.md", "chapters.txt"]) == ("chapters.txt", "第二章 投资")
    assert quoted_in(docs, "文章第二部分讲的是什么？", ["rail.md", "chapters.txt"]) == ("rail.md", "二、信号")
    # An English noun by its Chinese translations in the corpus; "section" names no kind of heading.
    glosses = {"direct": ("方向", "指导"), "chapter": ("章", "章节"), "section": ("章", "部分")}
    assert quoted_in(docs, "What is the fifth direction?", ["fin.txt", "rail.md"], glosses) == (
        "heritage.txt", "方向五：AIGC辅助修复")
    assert quoted_in(docs, "What is the third chapter about?", ["rail.md"], glosses) == ("chapters.txt", "第三章 运营")
    assert quoted_in(docs, "What is the third section about?", ["rail.md", "chapters.txt"], glosses) == (
        "rail.md", "三、票务")
    # A named kind no document has that many of: counted as a generic part instead.
    assert quoted_in(docs, "What is the fifth chapter about?", ["heritage.txt"], glosses) == (
        "heritage.txt", "方向五：AIGC辅助修复")


def quoted_in(docs, question, hit_docs, glosses=None):
    answer = form_answer(question, docs, hit_docs, glosses=glosses)
    return None if answer is None else (answer.doc, docs[answer.doc].text[answer.start:answer.end])


def test_every_document_quotes_the_same_part_of_each_document_that_has_it():
    docs = {**DOCS, CHAPTERS.path: CHAPTERS}
    answer = form_answer("文章第三部分讲的是什么？", docs, ["rail.md"], every_document=True)
    parts = [(found.doc, docs[found.doc].text[found.start:found.end]) for found in (answer, *answer.others)]
    # Retrieval's document first, then the rest; fin.txt has only two parts.
    assert parts == [("rail.md", "三、票务"), ("chapters.txt", "第三章 运营"), ("heritage.txt", "方向三：虚拟展览")]
    assert answer.documents_found == 3
    capped = form_answer("文章第三部分讲的是什么？", docs, ["rail.md"], every_document=True, max_documents=2)
    assert len(capped.others) == 1 and capped.documents_found == 3
    # One document with that part: no list, and no note to make.
    alone = form_answer("第五个方向是什么？", docs, ["rail.md"], every_document=True)
    assert alone.doc == "heritage.txt" and alone.others == ()
    # Without every_document (a conversation or the question says which): one document.
    assert form_answer("文章第三部分讲的是什么？", docs, ["rail.md"]).others == ()
