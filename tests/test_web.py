"""The web chat: HTML building and escaping, launch settings, and end to end through
`gradio_client` against live servers on loopback (in-process, and `python app.py`)."""
from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from html import escape

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from rag import web
from rag.answer import NOT_FOUND, Answer, Passage, QuestionError, Quote
from rag.config import PROJECT_ROOT, Settings

ASKED = "用手掌付款有什么优势？"          # the question of the "done when"
OFF_TOPIC = "今天天气怎么样？"
ENGLISH = "What does generative AI produce?"
ANSWER_KEYS = {"question", "abstained", "answer", "quotes", "passages", "relevance", "lang", "timings_ms",
               "understood_as"}  # Answer.understood_as (CONTRACTS.md point 2)
SERVER_START_SECONDS = 120   # bound for `python app.py` to build its index and listen

# Gradio's queue statistics call pandas APIs that pandas 3 deprecates; nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword is deprecated)")


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chat_url(article_qa, article_settings):
    """A live chat over the article on a free loopback port, closed after the module."""
    settings = article_settings.replace(port=free_port())
    demo = web.build_app(article_qa, settings)
    _, url, _ = web.launch(demo, settings, prevent_thread_lock=True)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def client(chat_url):
    return Client(chat_url, verbose=False)


def check_verbatim(result: dict, article_text: str) -> None:
    """Every quote is the article's text at its offsets, and is cited in the answer."""
    assert result["quotes"], result
    for quote in result["quotes"]:
        assert article_text[quote["start"]:quote["end"]] == quote["text"]
        assert quote["text"] in result["answer"]
        assert f"[{quote['n']}]" in result["answer"]


# --- HTML building --------------------------------------------------------------------------

def make_answer(passage_text="刷掌支付。掌纹识别。刷掌支付。", quote_at=(10, 15), **changes) -> Answer:
    """A hand-made answer: one passage starting at offset 100, one quote inside it."""
    passage = Passage(doc="a.txt", start=100, end=100 + len(passage_text), title="标题", section="趋势二:测试",
                      text=passage_text, score=0.5)
    start, end = 100 + quote_at[0], 100 + quote_at[1]
    quote = Quote(doc="a.txt", start=start, end=end, n=1, text=passage_text[quote_at[0]:quote_at[1]], title="标题",
                  section="趋势二:测试", score=0.9)
    fields = dict(question="问题", abstained=False, answer=f"{quote.text} [1]", quotes=[quote],
                  passages=[passage], relevance=0.9, lang="zh")
    fields.update(changes)
    return Answer(**fields)


def test_highlight_marks_the_quoted_occurrence_by_offsets_not_by_search():
    result = make_answer()            # "刷掌支付" occurs twice; the second one is quoted
    html = web.highlight(result.passages[0], result.quotes)
    assert html.startswith("刷掌支付。掌纹识别。<mark")
    assert html.count("<mark") == 1
    assert '<mark data-n="1">刷掌支付。</mark><span class="rag-cite">[1]</span>' in html


def test_highlight_several_quotes_in_one_passage_keeps_every_character():
    text = "甲乙丙丁戊己庚辛"
    passage = Passage(doc="a.txt", start=10, end=18, title="t", section="s", text=text, score=0.1)
    quotes = [Quote(doc="a.txt", start=15, end=17, n=2, text="己庚", title="t", section="s", score=0.8),
              Quote(doc="a.txt", start=11, end=13, n=1, text="乙丙", title="t", section="s", score=0.9)]
    html = web.highlight(passage, quotes)
    assert html.replace('<span class="rag-cite">[1]</span>', "").replace('<span class="rag-cite">[2]</span>', "") \
        == '甲<mark data-n="1">乙丙</mark>丁戊<mark data-n="2">己庚</mark>辛'


def test_every_text_is_escaped_in_the_panel_and_the_chat():
    markup = "<img src=x onerror=alert(1)>"
    text = f"前文{markup}刷掌支付。"
    passage = Passage(doc="<b>doc</b>.txt", start=0, end=len(text), title=f"标题{markup}", section=f"趋势二:{markup}",
                      text=text, score=0.5)
    quote = Quote(doc=passage.doc, start=2, end=len(text), n=1, text=text[2:], title=passage.title,
                  section=passage.section, score=0.9)
    result = Answer(markup, False, f"{quote.text} [1]", [quote], [passage], 0.9, "en")
    outputs = [web.sources_html(result, 0.5), *(m["content"] for m in web.chat_messages(result))]
    for html in outputs:
        assert "<img" not in html and "<b>doc" not in html
        assert escape(markup) in html
    assert web.chat_messages(result)[0]["content"] == escape(markup)


def test_abstained_panel_lists_nearest_passages_without_highlight():
    result = make_answer(abstained=True, answer=NOT_FOUND["zh"], quotes=[], relevance=0.2)
    html = web.sources_html(result, 0.5)
    assert "最接近的段落（不是答案）" in html
    assert "<mark" not in html
    assert "刷掌支付。掌纹识别。刷掌支付。" in html
    assert [m["content"] for m in web.chat_messages(result)] == ["问题", NOT_FOUND["zh"]]


def test_citations_are_stored_with_the_answer_message(article_qa):
    result = article_qa.ask("可持续金融是什么？")
    messages = web.chat_messages(result)
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant"]
    sources = messages[2]
    assert sources["metadata"]["title"].startswith("来源")
    for quote in result.quotes:
        assert f"<b>[{quote.n}]</b>" in sources["content"]
        assert f'<mark data-n="{quote.n}">{escape(quote.text)}</mark>'.replace("\n", "<br>") in sources["content"]


def test_panel_cites_each_quote_with_title_section_range_and_score(article_qa):
    result = article_qa.ask("可持续金融是什么？")
    html = web.sources_html(result, article_qa.settings.strictness)
    for passage, quotes in web.cited_passages(result):
        assert f"{escape(passage.title)} › {escape(passage.section)}" in html
        assert f"字符 {passage.start}–{passage.end}" in html
        assert f"检索得分 {passage.score:.4f}" in html
        for quote in quotes:
            # The highlighted span is the quote itself, found by its offsets.
            assert passage.text[quote.start - passage.start:quote.end - passage.start] == quote.text
            assert f'<mark data-n="{quote.n}">{escape(quote.text)}</mark>' in html
            assert f"[{quote.n}] 引文 字符 {quote.start}–{quote.end} · 得分 {quote.score:.4f}" in html


def test_question_problems_are_explained_in_chinese():
    from rag.answer import check_question

    problems = []
    for question in ("  ", "x" * 11):
        with pytest.raises(QuestionError) as caught:
            check_question(question, 10)
        problems.append(web.question_problem(caught.value))
    assert problems[0] == "请先输入问题。"
    assert "问题太长（11 字），最多 10 字" in problems[1]


# --- Launch settings ------------------------------------------------------------------------

def test_launch_uses_settings_loopback_and_no_share(monkeypatch, article_qa):
    seen = {}
    monkeypatch.setattr(web.gr.Blocks, "launch", lambda self, **kwargs: seen.update(kwargs))
    demo = web.build_app(article_qa, Settings())
    web.launch(demo, Settings())
    defaults = Settings()
    assert (seen["server_name"], seen["server_port"], seen["share"]) == (defaults.host, defaults.port, False)
    assert defaults.host == "127.0.0.1"
    assert demo._queue.default_concurrency_limit == defaults.concurrency_limit


def load_app_script():
    spec = importlib.util.spec_from_file_location("app_script", PROJECT_ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_app_script_passes_its_flags_to_serve(monkeypatch, tmp_path):
    served = []
    monkeypatch.setattr(web, "serve", served.append)
    app = load_app_script()
    assert app.main([]) == 0
    assert app.main(["--host", "0.0.0.0", "--port", "8000", "--share", "--index", str(tmp_path)]) == 0
    assert (served[0].host, served[0].port, served[0].share) == (Settings().host, Settings().port, False)
    assert (served[1].host, served[1].port, served[1].share, served[1].index_dir) == ("0.0.0.0", 8000, True, tmp_path)


# --- End to end through gradio_client -------------------------------------------------------

def test_ask_endpoint_is_the_only_public_api(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]
    assert [p["parameter_name"] for p in endpoints["/ask"]["parameters"]] == ["question", "top_k", "strictness"]


def test_answerable_question_quotes_trend_two(client, article_text):
    result = client.predict(ASKED, api_name="/ask")
    assert set(result) == ANSWER_KEYS
    assert result["question"] == ASKED and result["lang"] == "zh"
    assert result["abstained"] is False
    assert result["quotes"][0]["section"].startswith("趋势二")
    assert result["quotes"][0]["title"] == "金融科技十大趋势"
    check_verbatim(result, article_text)


def test_off_topic_question_abstains(client):
    result = client.predict(OFF_TOPIC, api_name="/ask")
    assert result["abstained"] is True
    assert result["answer"] == NOT_FOUND["zh"]
    assert result["quotes"] == [] and result["passages"]


def test_english_question_is_answered_from_the_chinese_article(client, article_text):
    result = client.predict(ENGLISH, api_name="/ask")
    assert result["lang"] == "en" and result["abstained"] is False
    assert result["quotes"][0]["section"].startswith("趋势三")
    check_verbatim(result, article_text)


def test_top_k_and_strictness_are_passed_through(client):
    assert len(client.predict(ASKED, 2, None, api_name="/ask")["passages"]) == 2
    # Strictness 0 answers everything: the off-topic question now gets (poor) quotes.
    assert client.predict(OFF_TOPIC, None, 0.0, api_name="/ask")["abstained"] is False


def test_bad_question_is_an_error_with_a_message(client):
    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(AppError, match="limit"):
        client.predict("问" * (Settings().max_question_chars + 1), api_name="/ask")


def test_ask_endpoint_returns_the_same_json_as_the_cli(client, article_settings):
    cli = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "--json", "--corpus", str(article_settings.corpus_dir),
         "--index", str(article_settings.index_dir), ASKED],
        capture_output=True, text=True, timeout=120, check=True)
    from_cli = json.loads(cli.stdout)
    from_web = client.predict(ASKED, api_name="/ask")
    # Timings differ from run to run; everything else is the same object.
    assert set(from_web["timings_ms"]) == set(from_cli["timings_ms"])
    from_cli.pop("timings_ms"), from_web.pop("timings_ms")
    assert from_web == from_cli


def test_concurrent_clients_get_their_own_answers(chat_url):
    questions = {  # question -> section its first quote must come from
        "刷掌支付有什么优势？": "趋势二", "生成式AI与金融行业的结合有哪两种形式？": "趋势三",
        "隐私计算的核心是什么？": "趋势七", "什么是全域营销？": "趋势五",
        "What is privacy computing?": "趋势七", OFF_TOPIC: None,
    }
    start = threading.Barrier(len(questions))
    results, errors = {}, []

    def user(question: str) -> None:
        try:
            own = Client(chat_url, verbose=False)
            start.wait(timeout=60)
            results[question] = [own.predict(question, api_name="/ask") for _ in range(3)]
        except Exception as exc:  # reported below, with the question that failed
            errors.append((question, exc))

    threads = [threading.Thread(target=user, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    for question, section in questions.items():
        for result in results[question]:
            assert result["question"] == question
            if section is None:
                assert result["abstained"] is True
            else:
                assert result["quotes"][0]["section"].startswith(section), (question, result["answer"])


def test_python_app_py_serves_the_chat(tmp_path, article_settings, article_text):
    """The issue's "done when", minus the browser: start `python app.py`, ask, get trend two."""
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "app.py"), "--port", str(port),
         "--corpus", str(article_settings.corpus_dir), "--index", str(tmp_path / "index")],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        client = wait_for_server(server, f"http://127.0.0.1:{port}/", SERVER_START_SECONDS)
        result = client.predict(ASKED, api_name="/ask")
        assert result["quotes"][0]["section"].startswith("趋势二")
        check_verbatim(result, article_text)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert "Web chat:" in (tmp_path / "server.log").read_text()


def wait_for_server(server: subprocess.Popen, url: str, seconds: float) -> Client:
    """A client for `url` once the server answers; fails if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        assert server.poll() is None, f"server exited with {server.returncode}"
        try:
            return Client(url, verbose=False)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)  # polling a process we do not control; no event to wait on
