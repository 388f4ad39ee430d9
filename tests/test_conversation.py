"""Follow-up questions resolved against the conversation (conversation.py, Pipeline.ask history)."""
import pytest

from rag.conversation import (
    Segmenter,
    context_entry,
    find_reference,
    names_no_document,
    resolve,
    topic_of,
    unresolved_message,
)
from rag.lexical import Background


@pytest.fixture(scope="module")
def segmenter():
    # jieba's general dictionary only: no corpus vocabulary, so nothing here is tuned to a document.
    return Segmenter(Background.from_jieba())


@pytest.mark.parametrize("history,question,understood", [
    # pronouns and demonstratives: the reference becomes the previous topic
    (["刷掌支付用到了哪些生物特征？"], "它有什么优势？", "刷掌支付有什么优势？"),
    (["量子雷达的探测距离有多远？"], "它的缺点是什么？", "量子雷达的缺点是什么？"),
    (["什么是隐私计算？"], "其常见流派包括哪些？", "隐私计算的常见流派包括哪些？"),
    (["刷掌支付用到了哪些生物特征？"], "这项技术解决了哪些难题？", "刷掌支付解决了哪些难题？"),
    (["社区嵌入式养老在上海是怎么做的？"], "这种模式有什么好处？", "社区嵌入式养老有什么好处？"),
    (["智慧农业的技术体系被概括为哪四个层次？"], "其中负责数据分析的是哪一层？", "智慧农业中负责数据分析的是哪一层？"),
    # ellipsis: the previous question about a new element
    (["H100的热设计功耗是多少？"], "那B200呢？", "B200的热设计功耗是多少？"),
    (["单相浸没通常使用什么冷却液？"], "那两相浸没呢？", "两相浸没通常使用什么冷却液？"),
    # no topic of its own: the previous topic goes in front
    (["全域经营是由哪家公司给出明确定义的？"], "是在哪一年？", "全域经营是在哪一年？"),
    (["刷掌支付用到了哪些生物特征？"], "优势是什么？", "刷掌支付的优势是什么？"),
    # English
    (["What is privacy computing?"], "What are its common schools?", "What are privacy computing's common schools?"),
    (["What does DRG stand for?"], "How does this approach help organizations?", "How does DRG help organizations?"),
    (["What is the TDP of the H100?"], "What about the B200?", "What is the TDP of the B200?"),
    (["What biometric features does palm payment use?"], "What are the advantages?",
     "What are the advantages of palm payment?"),
    (["How large was China's smart elderly care industry in 2023?"], "How fast has it grown?",
     "How fast has China's smart elderly care industry grown?"),
])
def test_follow_ups_are_understood_against_the_previous_question(segmenter, history, question, understood):
    resolution = resolve(question, history, segmenter)
    assert resolution.understood_as == understood
    assert resolution.question == understood and resolution.unresolved is None


@pytest.mark.parametrize("history,question", [
    (["刷掌支付用到了哪些生物特征？"], "隐私计算常见的流派有哪些？"),  # a new topic starts fresh
    (["刷掌支付用到了哪些生物特征？"], "这篇文章的来源是什么？"),  # about the document itself
    (["刷掌支付用到了哪些生物特征？"], "生成式AI属于什么类型的技术,它能做什么?"),  # antecedent in the question
    (["刷掌支付用到了哪些生物特征？"], "跨境电商这个概念具体指的是什么？"),
    (["刷掌支付用到了哪些生物特征？"], "那座1:1打印的洞窟复制品是怎么做到方便运输的？"),  # names its referent
    (["What does DRG stand for?"], "Which company gave a clear definition of omni-domain operation?"),
    (["What does DRG stand for?"], "How has financial IT architecture evolved?"),  # IT is not "it"
    (["What does DRG stand for?"], "How long does it take to ship goods to Europe?"),  # a dummy "it"
    (["What does DRG stand for?"], "In which year did the United States abolish its exemption?"),
    # issue 20: a numbered part is a topic of its own; thanks and questions to the assistant have none
    (["DRG是什么的缩写？"], "趋势五讲了什么？"),
    (["DRG是什么的缩写？"], "第三章的主要内容是什么？"),
    (["DRG是什么的缩写？"], "方向一有哪些挑战？"),
    (["What does DRG stand for?"], "What does trend 5 say?"),
    (["What does DRG stand for?"], "What are the challenges of phase 2?"),
    (["刷掌支付用到了哪些生物特征？"], "你是谁？"),
    (["刷掌支付用到了哪些生物特征？"], "你能做什么？"),
    (["刷掌支付用到了哪些生物特征？"], "好的"),
    (["刷掌支付用到了哪些生物特征？"], "谢谢！"),
    (["What does DRG stand for?"], "What can you do?"),
    (["What does DRG stand for?"], "Thanks!"),
    (["What does DRG stand for?"], "OK"),
])
def test_standalone_questions_are_not_rewritten(segmenter, history, question):
    resolution = resolve(question, history, segmenter)
    assert resolution.understood_as is None and resolution.question == question
    assert resolution.unresolved is None


def test_without_history_nothing_changes_but_a_pronoun_only_question_is_unresolved(segmenter):
    assert resolve("刷掌支付有什么优势？", [], segmenter).understood_as is None
    assert resolve("有什么优势？", [], segmenter).unresolved is None  # no reference word: answered as typed
    assert resolve("它有什么优势？", [], segmenter).unresolved == "它"
    assert resolve("What is it used for?", [], segmenter).unresolved == "it"
    # a pronoun with a topic of its own is answered as typed
    assert resolve("它和量子雷达有什么区别？", [], segmenter).unresolved is None


def test_the_topic_is_found_back_over_a_turn_without_one(segmenter):
    history = ["刷掌支付用到了哪些生物特征？", "它有什么优势？"]  # as typed: the second has no topic
    resolution = resolve("它是对哪种技术的更深层次应用？", history, segmenter)
    assert resolution.understood_as == "刷掌支付是对哪种技术的更深层次应用？"
    # and the newest topic wins
    history = ["刷掌支付用到了哪些生物特征？", "什么是隐私计算？"]
    assert resolve("它有什么优势？", history, segmenter).understood_as == "隐私计算有什么优势？"


@pytest.mark.parametrize("question,topic", [
    ("刷掌支付用到了哪些生物特征？", "刷掌支付"),  # the subject, not what is asked for
    ("什么是隐私计算？", "隐私计算"),
    ("哪家公司给出了全域经营的明确定义？", "全域经营"),  # the phrase after 哪家 is the asked-for focus
    ("Web3的主要创新点包括哪些？", "Web3"),
    ("What are the common schools of privacy computing?", "privacy computing"),
    ("What biometric features does palm payment use?", "palm payment"),
    ("有什么优势？", None),
])
def test_topic_of_a_question(segmenter, question, topic):
    assert topic_of(question, segmenter) == topic


def test_reference_words(segmenter):
    assert find_reference("它有什么优势？", segmenter).group() == "它"
    assert find_reference("其他方面呢？", segmenter) is None  # 其他 is not 其
    assert find_reference("应该如何理解？", segmenter) is None  # 应该 is not 该
    assert find_reference("What are its advantages?", segmenter).group() == "its"


def test_unresolved_message_names_the_reference_and_shows_an_example():
    zh = unresolved_message("它有什么优势？", "它")
    assert zh.startswith("这个问题指代不明") and "“它”" in zh and "（名称）有什么优势？" in zh
    en = unresolved_message("What are its advantages?", "its")
    assert "its" in en and "What are (name) advantages?" in en


# The pipeline, with the real article.

def test_second_turn_quotes_the_trend_it_refers_to(article_qa):
    first = article_qa.ask("刷掌支付用到了哪些生物特征？")
    second = article_qa.ask("它有什么优势？", history=[first.understood_as or first.question])
    assert second.question == "它有什么优势？"
    assert second.understood_as == "刷掌支付有什么优势？"
    assert not second.abstained and second.quotes[0].section.startswith("趋势二")
    assert "提升了支付的准确度、安全性和隐私性" in second.answer
    assert second.to_json()["understood_as"] == "刷掌支付有什么优势？"


def test_a_pronoun_only_question_without_context_is_refused_not_quoted(article_qa):
    alone = article_qa.ask("它有什么优势？")
    assert alone.abstained and not alone.quotes and not alone.passages
    assert alone.answer.startswith("这个问题指代不明")
    assert alone.to_json()["understood_as"] is None


def test_standalone_answers_do_not_change_with_history(article_qa):
    question = "隐私计算常见的流派有哪些？"
    alone = article_qa.ask(question)
    with_history = article_qa.ask(question, history=["刷掌支付用到了哪些生物特征？"])
    assert with_history.understood_as is None
    assert with_history.answer == alone.answer and with_history.relevance == alone.relevance


def test_a_history_with_junk_uses_only_its_newest_valid_turns(article_qa):
    # Anything a caller may send as history: wrong types, broken text, a flood of old turns.
    junk = [5, None, "\ud800", "问" * 10_000, *["明天北京天气怎么样？"] * 1000]
    assert article_qa._earlier(junk) == ["明天北京天气怎么样？"] * article_qa.settings.max_history_turns
    assert article_qa._earlier([*junk, "刷掌支付用到了哪些生物特征？", 7])[-1] == "刷掌支付用到了哪些生物特征？"
    assert article_qa._earlier({"not": "a list"}) == []
    second = article_qa.ask("它有什么优势？", history=[*junk, "刷掌支付用到了哪些生物特征？"])
    assert second.understood_as == "刷掌支付有什么优势？"


def test_a_refused_turn_is_not_context():
    assert context_entry("谢谢", None, abstained=True) is None
    assert context_entry("它有什么优势？", "刷掌支付有什么优势？", abstained=False) == "刷掌支付有什么优势？"
    assert context_entry("刷掌支付用到了哪些生物特征？", None, abstained=False) == "刷掌支付用到了哪些生物特征？"


def test_thanks_then_who_are_you_is_not_joined(article_qa):
    thanks = article_qa.ask("谢谢")
    entry = context_entry(thanks.question, thanks.understood_as, thanks.abstained)
    history = [entry] if entry else []
    who = article_qa.ask("你是谁？", history=history)
    assert who.understood_as is None and who.question == "你是谁？"


def test_chat_leaves_out_refused_turns(tmp_path):
    """`rag chat`: after a refused question, a follow-up refers to the last answered turn."""
    import json
    import subprocess
    import sys

    from conftest import copy_article

    folders = ["--corpus", str(copy_article(tmp_path / "corpus")), "--index", str(tmp_path / "index")]
    done = subprocess.run([sys.executable, "-m", "rag", "chat", "--json", *folders],
                          input="刷掌支付用到了哪些生物特征？\n明天北京天气怎么样？\n它有什么优势？\n",
                          capture_output=True, text=True, timeout=300)
    first, weather, third = [json.loads(line) for line in done.stdout.splitlines()]
    assert weather["abstained"] and third["understood_as"] == "刷掌支付有什么优势？"


@pytest.mark.parametrize("question, open_", [
    ("文章第二部分讲的是什么？", True),
    ("这篇文章是从哪里转载的?", True),        # where it comes from: any document's source
    ("这篇文章是谁写的？", True),
    ("Who wrote the article?", True),
    ("氢能报告第二部分讲的是什么？", False),   # names the hydrogen report
    ("文章里的数字人民币是从哪里来的？", False),  # a topic of one document
])
def test_a_question_about_the_article_may_leave_open_which_one(segmenter, question, open_):
    assert names_no_document(question, segmenter) is open_
