"""The web chat in a real headless browser (Debian's chromium driven by playwright).

Screenshots are saved under artifacts/screens/ (gitignored) for a person to look at. Every page
fails its test if any dialog (alert, confirm, prompt) opens: markup in a question or in the
corpus must show as text and never run. Accessibility is checked with axe-core (bundled by
axe-playwright-python): no serious or critical violation.
"""
from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
from html import escape

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from rag import web
from rag.answer import NOT_FOUND
from rag.config import PROJECT_ROOT
from rag.pipeline import Pipeline
from rag.structure import outline
from rag.web import render

SCREENS = PROJECT_ROOT / "artifacts" / "screens"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ANSWER_TIMEOUT_MS = 30_000   # first answer includes page start-up; normally well under a second

ASKED = "用手掌付款有什么优势？"
ENGLISH = "What does generative AI produce?"
OFF_TOPIC = "今天天气怎么样？"
MARKUP_QUESTION = "<img src=x onerror=alert(1)>"

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword is deprecated)")]


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_chat(qa: Pipeline | web.LivePipeline, settings):
    """A live chat over `qa` (a fixed pipeline, or a live one) on a free loopback port: (demo, url)."""
    settings = settings.replace(port=free_port())
    demo = web.build_app(qa if isinstance(qa, web.LivePipeline) else web.LivePipeline.ready(qa), settings)
    _, url, _ = web.launch(demo, settings, prevent_thread_lock=True)
    return demo, url


@pytest.fixture(scope="module")
def chat_url(article_qa, article_settings):
    demo, url = start_chat(article_qa, article_settings)
    yield url
    demo.close()


@pytest.fixture
def open_page(browser):
    """open_page(url, viewport, locale) -> a page that records every dialog; asserts none opened."""
    contexts, dialogs = [], []

    def open_(url: str, viewport: dict = DESKTOP, locale: str = "zh-CN") -> Page:
        context = browser.new_context(viewport=viewport, locale=locale, accept_downloads=True)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        contexts.append(context)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"


def ask(page: Page, question: str, turn: int = 1) -> None:
    """Type a question and send it with Enter; wait until answer number `turn` is shown."""
    if turn == 1:
        # The page's first paint (on load) renders the conversation in the browser's language; an
        # answer that lands before it, on a loaded machine, is painted over by the empty one.
        expect(page.locator('#rag-chat section.rag-chat:not([data-lang=""])')).to_be_attached(timeout=ANSWER_TIMEOUT_MS)
    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator(f"#rag-turn-{turn} .rag-q")).to_have_text(question, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator(f"#rag-srcs-{turn}")).to_be_attached()
    # Gradio dims an output while its event is still pending (opacity 0.2): wait until the answer
    # is shown as a person sees it, or a colour-contrast check would judge the dimmed page.
    page.wait_for_function(
        """(selector) => { for (let e = document.querySelector(selector); e; e = e.parentElement) {
               if (parseFloat(getComputedStyle(e).opacity) < 1) return false; } return true; }""",
        arg=f"#rag-turn-{turn}", timeout=ANSWER_TIMEOUT_MS)


def screenshot(page: Page, name: str, full_page: bool = True) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / name), full_page=full_page)


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page once its example buttons are drawn
    (every answer re-renders them; one caught mid-render has no text yet)."""
    page.wait_for_function("() => [...document.querySelectorAll('.gallery-item')].every(b => b.textContent.trim())",
                           timeout=ANSWER_TIMEOUT_MS)
    result = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})"
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


def test_citation_link_brings_its_source_into_view_and_flashes_the_quote(open_page, chat_url, article_qa):
    """Desktop: every [n] is a link; following it shows the card with the quoted words marked."""
    expected = article_qa.ask(ASKED)
    assert not expected.abstained and expected.quotes[0].section.startswith("趋势二")
    page = open_page(chat_url)
    ask(page, ASKED)
    reply = page.locator("#rag-turn-1 .rag-bot")
    for quote in expected.quotes:
        expect(reply).to_contain_text(f"{quote.display} [{quote.n}]")
    links = reply.locator("a.rag-cite-link")
    expect(links).to_have_count(len(expected.quotes))
    card = page.locator("#rag-src-1-1")
    expect(card.locator('mark[data-n="1"]')).to_have_text(expected.quotes[0].display)
    expect(card).to_contain_text(f"[1] 金融科技十大趋势 › {expected.quotes[0].section}")
    page.evaluate("window.scrollTo(0, 0)")
    links.first.click()
    expect(card).to_be_in_viewport()
    expect(card).to_be_focused()
    expect(card.locator('mark[data-n="1"]')).to_have_class("rag-flash")
    screenshot(page, "web-desktop-citation.png", full_page=False)
    # Keyboard: the card's "back" link returns to the answer; Enter on [1] goes to the card again.
    card.locator("a.rag-back").click()
    expect(page.locator("#rag-turn-1")).to_be_focused()
    links.first.focus()
    page.keyboard.press("Enter")
    expect(card).to_be_focused()
    screenshot(page, "web-desktop.png")


def test_phone_citation_is_one_tap_from_its_source(open_page, chat_url):
    page = open_page(chat_url, PHONE)
    ask(page, ASKED)
    card = page.locator("#rag-src-1-1")
    page.evaluate("window.scrollTo(0, 0)")
    expect(card).not_to_be_in_viewport()   # the panel sits below the chat on a phone
    page.locator("#rag-turn-1 a.rag-cite-link").first.click()
    expect(card).to_be_in_viewport()
    screenshot(page, "web-phone-citation.png", full_page=False)
    # The answer's "sources" link also goes there.
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#rag-turn-1 a.rag-jump").click()
    expect(page.locator("#rag-srcs-1")).to_be_in_viewport()
    # Nothing forces sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "web-phone.png")


def test_earlier_answers_keep_their_own_sources(open_page, chat_url, article_qa):
    page = open_page(chat_url)
    ask(page, ASKED, 1)
    ask(page, "隐私计算的核心是什么？", 2)
    first = page.locator("#rag-srcs-1")
    expect(first).not_to_have_attribute("open", "")   # folded under the newer answer
    page.locator("#rag-turn-1 a.rag-cite-link").first.click()
    expect(page.locator("#rag-src-1-1")).to_be_in_viewport()
    expect(page.locator('#rag-src-1-1 mark[data-n="1"]')).to_have_text(article_qa.ask(ASKED).quotes[0].display)
    expect(page.locator("#rag-srcs-2")).to_have_attribute("open", "")


def test_follow_up_is_answered_from_the_previous_topic_and_says_how(open_page, chat_url, article_qa):
    """The chat keeps the conversation: 它 in the second question means the first one's topic."""
    first = article_qa.ask("刷掌支付用到了哪些生物特征？")
    expected = article_qa.ask("它有什么优势？", history=[first.understood_as or first.question])
    assert expected.understood_as and not expected.abstained
    page = open_page(chat_url)
    ask(page, "刷掌支付用到了哪些生物特征？", 1)
    ask(page, "它有什么优势？", 2)
    second = page.locator("#rag-turn-2")
    expect(second.locator(".rag-understood")).to_have_text(f"按上文理解为：{expected.understood_as}")
    expect(second.locator(".rag-bot")).to_contain_text(expected.quotes[0].display)
    expect(page.locator('#rag-src-2-1 mark[data-n="1"]')).to_have_text(expected.quotes[0].display)
    screenshot(page, "web-follow-up.png")


def test_pronoun_only_first_question_is_refused_with_a_hint(open_page, chat_url, article_qa):
    expected = article_qa.ask("它有什么优势？")
    assert not expected.quotes and not expected.passages
    page = open_page(chat_url)
    ask(page, "它有什么优势？")
    reply = page.locator("#rag-turn-1 .rag-bot")
    expect(reply).to_contain_text("指代不明")
    expect(reply.locator("a.rag-cite-link")).to_have_count(0)
    screenshot(page, "web-unresolved.png")


def test_copy_puts_plain_text_on_the_clipboard_and_download_is_markdown(open_page, chat_url, article_qa):
    expected = article_qa.ask(ASKED)
    page = open_page(chat_url)
    ask(page, ASKED)
    page.locator("#rag-turn-1 button.rag-copy").click()
    expect(page.locator("#rag-turn-1 button.rag-copy")).to_have_text("已复制")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == render.plain_text(expected)
    assert "<" not in copied and f"[1] 金融科技十大趋势 · {expected.quotes[0].section}" in copied
    with page.expect_download() as caught:
        page.locator("button.rag-download").click()
    markdown = open(caught.value.path(), encoding="utf-8").read()
    assert markdown.startswith("# 对话记录 · 金融科技十大趋势 · 问答")
    assert f"## 第 1 问： {ASKED}" in markdown
    assert f"> {expected.quotes[0].display} [1]" in markdown and "<mark" not in markdown


def test_english_question_gets_english_strings_and_lang(open_page, chat_url):
    page = open_page(chat_url, locale="zh-CN")
    ask(page, ENGLISH, 1)
    panel = page.locator("#rag-sources")
    expect(panel.locator("h2")).to_have_text("Sources")
    expect(panel.locator("#rag-srcs-1")).to_contain_text("Relevance")
    labels = " ".join(panel.locator("h2, .rag-status, .rag-rel-label, .rag-turn-no, .rag-card-tools, .rag-more").all_inner_texts())
    assert "Relevance" in labels and "Open in the document" in labels
    for chinese in ("来源", "问题", "相关度", "字符", "得分"):
        assert chinese not in labels
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.locator("#rag-send")).to_have_text("Send")
    expect(page.get_by_role("textbox", name="Question")).to_be_visible()
    screenshot(page, "web-english.png")
    # A Chinese question next: its answer and the page switch back.
    ask(page, ASKED, 2)
    expect(panel.locator("h2")).to_have_text("来源")
    assert page.evaluate("document.documentElement.lang") == "zh"
    expect(page.get_by_role("textbox", name="问题")).to_be_visible()
    # The switch: everything in English, the earlier English answer too.
    page.locator("#rag-language input").click()
    page.get_by_role("option", name="English").click()
    expect(panel.locator("h2")).to_have_text("Sources")
    expect(page.locator("#rag-turn-2 .rag-who").first).to_have_text("You")
    # Starting over keeps the page's language: the empty conversation says so in English.
    page.locator("#rag-restart").click()
    expect(page.locator("#rag-chat .rag-empty")).to_have_text("No questions yet. Try an example below, or type your own.")


def test_outline_opens_a_section_and_a_citation_opens_its_place(open_page, chat_url, article_qa):
    document = next(iter(article_qa.index.documents.values()))
    section = outline(document).sections[3]
    page = open_page(chat_url)
    docs = page.locator("#rag-docs")
    docs.locator('button.rag-open[data-sec="3"]').click()
    view = docs.locator(".rag-view")
    expect(view).to_be_visible()
    expect(view.locator(".rag-view-title")).to_contain_text(section.title)
    expect(view.locator(".rag-section-text")).to_contain_text(document.text[section.blocks[0].start:section.blocks[0].end][:20])
    expect(view.locator(".rag-view-title")).to_be_in_viewport()
    screenshot(page, "web-outline-section.png", full_page=False)
    # From a citation card: the quote's own section, the quote highlighted.
    expected = article_qa.ask(ASKED)
    ask(page, ASKED)
    page.locator("#rag-src-1-1 button.rag-open").click()
    expect(view.locator('mark[data-n="1"]')).to_have_text(expected.quotes[0].display)
    expect(view.locator(".rag-view-title")).to_contain_text(expected.quotes[0].section)
    expect(view.locator("mark")).to_be_in_viewport()


def test_refusal_offers_nearest_topics_that_ask_on_click(open_page, chat_url):
    page = open_page(chat_url)
    ask(page, OFF_TOPIC)
    reply = page.locator("#rag-turn-1 .rag-bot")
    expect(reply.locator(".rag-notfound")).to_have_text(NOT_FOUND["zh"])
    suggestion = reply.locator("button.rag-suggest").first
    expect(suggestion).to_be_visible()
    topic = suggestion.inner_text()
    asked = suggestion.get_attribute("data-ask")   # a question about the document, not the bare heading
    assert asked != topic and topic in asked
    expect(reply.locator('a[href="#rag-docs-top"]')).to_be_visible()
    panel = page.locator("#rag-srcs-1")
    expect(panel.locator(".rag-nearest")).to_have_text("最接近的段落（不是答案）")
    expect(panel.locator("mark")).to_have_count(0)
    screenshot(page, "web-refusal.png")
    suggestion.click()
    expect(page.locator("#rag-turn-2 .rag-q")).to_have_text(asked, timeout=ANSWER_TIMEOUT_MS)


def test_markup_question_shows_as_text(open_page, chat_url):
    page = open_page(chat_url)
    ask(page, MARKUP_QUESTION)
    expect(page.locator("#rag-turn-1 .rag-q")).to_have_text(MARKUP_QUESTION)
    expect(page.locator("#rag-srcs-1 .rag-summary")).to_contain_text(MARKUP_QUESTION)
    expect(page.locator('img[src="x"]')).to_have_count(0)
    screenshot(page, "web-markup-question.png")


def test_markup_in_the_corpus_shows_as_text(open_page, make_corpus):
    """A document whose text, section heading and title hold markup: all shown literally."""
    title = "<i>标题</i><img src=x onerror=alert(3)>"
    settings = make_corpus({
        "xss.txt": "趋势一:测试<b>标题</b>\n<script>alert(1)</script>刷掌支付使用掌纹识别。"
                   "<img src=x onerror=alert(2)>掌静脉识别更加安全。\n",
        "xss.txt.meta.json": json.dumps({"title": title}, ensure_ascii=False),
    }, strictness=0.0)   # answer whatever the relevance: the point is to quote the markup line
    qa = Pipeline.open(settings, log=lambda message: None)
    expected = qa.ask("刷掌支付使用什么识别？")
    assert "<script>alert(1)</script>" in expected.quotes[0].text
    demo, url = start_chat(qa, settings)
    try:
        page = open_page(url)
        ask(page, expected.question)
        expect(page.locator("#rag-turn-1 .rag-bot")).to_contain_text(expected.quotes[0].display)
        panel = page.locator("#rag-sources")
        expect(panel.locator('mark[data-n="1"]')).to_have_text(expected.quotes[0].display)
        for text in ("<img src=x onerror=alert(2)>", f"{title} › 趋势一:测试<b>标题</b>"):
            expect(panel).to_contain_text(text)
        page.locator("#rag-src-1-1 button.rag-open").click()
        expect(page.locator("#rag-docs .rag-view")).to_contain_text("<script>alert(1)</script>")
        # Nothing became an element: no script, no image, no <b>/<i> from the corpus.
        for where in ("#rag-sources", "#rag-docs", "#rag-chat", "#rag-title"):
            for selector in ("script", "img", "b", "i"):
                expect(page.locator(where).locator(selector)).to_have_count(0)
        expect(page.locator('img[src="x"]')).to_have_count(0)
        assert escape("<script>") in panel.inner_html()
        screenshot(page, "web-markup-corpus.png")
    finally:
        demo.close()


def test_example_is_asked_on_click(open_page, chat_url):
    page = open_page(chat_url)
    page.get_by_text("隐私计算的核心是什么？", exact=True).click()
    expect(page.locator("#rag-turn-1 .rag-q")).to_have_text("隐私计算的核心是什么？", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator('#rag-src-1-1 mark[data-n="1"]')).to_contain_text("隐私计算")


def test_start_over_and_strictness_refusal_reads_right(open_page, chat_url):
    page = open_page(chat_url)
    ask(page, "什么是全域营销？")
    page.locator("#rag-restart").click()
    expect(page.locator("#rag-chat article")).to_have_count(0)
    expect(page.locator("#rag-sources .rag-empty")).to_be_visible()

    page.locator("#rag-settings").get_by_text("设置").click()
    settings = page.locator("#rag-settings")
    expect(settings).to_contain_text("检索段落数")
    expect(settings).to_contain_text(web.STRICTNESS_HELP)
    screenshot(page, "web-settings.png")
    # With strictness at its maximum the same question is declined, and the panel says why
    # without a comparison that contradicts itself after rounding.
    settings.locator('input[type="number"]').nth(1).fill("1")
    settings.locator('input[type="number"]').nth(1).press("Enter")
    ask(page, "什么是全域营销？", 1)
    why = page.locator("#rag-srcs-1 .rag-why")
    expect(why).to_contain_text("低于严格程度 100%")
    shown = why.inner_text().split("相关度 ")[1].split(" ")[0]
    assert shown != "100%", why.inner_text()


def test_empty_and_overlong_questions_get_a_message_not_an_error(open_page, chat_url, article_settings):
    page = open_page(chat_url)
    box = page.locator("#rag-question textarea")
    box.press("Enter")
    expect(page.get_by_test_id("toast-text")).to_have_text("请先输入问题。")
    long_question = "问" * (article_settings.max_question_chars + 1)
    box.fill(long_question)
    box.press("Enter")
    expect(page.get_by_test_id("toast-text").last).to_contain_text("问题太长")
    expect(box).to_have_value(long_question)      # kept, so it can be shortened
    expect(page.locator("#rag-chat article")).to_have_count(0)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations(open_page, chat_url, viewport):
    """axe-core on the empty page, after an answer, and after a refusal with the settings and a
    section open; the question box has a name, not "Textbox"."""
    page = open_page(chat_url, viewport)
    expect(page.locator("#rag-question textarea")).to_be_visible()
    assert serious_violations(page) == []
    expect(page.get_by_role("textbox", name="问题")).to_be_visible()
    ask(page, ASKED, 1)
    assert serious_violations(page) == []
    ask(page, OFF_TOPIC, 2)
    page.locator("#rag-settings").get_by_text("设置").click()
    page.locator('#rag-docs button.rag-open[data-sec="1"]').click()
    expect(page.locator("#rag-docs .rag-view")).to_be_visible()
    assert serious_violations(page) == []
    # The sources announce themselves: a polite live region says what changed.
    expect(page.locator('#rag-sources [role="status"]')).to_have_attribute("aria-live", "polite")


# --- Serving while the index builds; documents added from the page ------------------------------

PALM = ("# 刷掌支付\n\n刷掌支付通过掌纹和掌静脉识别用户身份。用户第一次使用时需要录入手掌信息。"
        "录入只需几秒钟。之后付款时把手掌放在识别设备上方即可。设备同时读取掌纹和掌静脉两种特征。"
        "掌静脉位于皮肤下方，难以复制。因此刷掌支付比单纯的掌纹识别更安全。它不需要携带手机或银行卡。"
        "地铁站和便利店已经开始试点这种支付方式。老人和儿童也能方便地使用。\n\n"
        "## 推广\n\n银行与商户合作推广刷掌支付。商户需要安装新的识别终端。终端的价格正在下降。"
        "部分城市的公交车也接入了刷掌支付。乘客上车时挥手即可完成付款。高峰时段的通行速度因此加快。"
        "监管部门要求生物特征数据加密存储。用户可以随时注销自己的手掌信息。\n")
FARM = "# 量子农场\n\n量子农场在光伏温室里种植蓝莓和草莓。温室顶部的光伏板为灌溉系统供电。\n"


class HeldEmbedder:
    """The real embedder, held before its second batch of passages until `gate` is set, so a
    build is visibly under way (batch 1 of N done) for as long as the test needs. Batches of
    16 in order (not batch-invariant), so even a short document makes several."""

    batch_invariant = False

    def __init__(self, embedder):
        self.embedder, self.id, self.dim = embedder, embedder.id, embedder.dim
        self.gate, self.batches = threading.Event(), 0

    def embed_queries(self, texts):
        return self.embedder.embed_queries(texts)

    def embed_documents(self, texts):
        self.batches += 1
        if self.batches == 2:
            assert self.gate.wait(timeout=120), "the test never let the build go on"
        return self.embedder.embed_documents(texts)


def test_the_page_serves_at_once_shows_the_build_then_answers(open_page, make_corpus, article_qa):
    """No index yet: the page is up, says how far the build is, tells an early question to wait,
    then switches to the new index by itself and answers with quotes."""
    settings = make_corpus({"palm.md": PALM}, english_model=None)
    held = HeldEmbedder(article_qa.embedder)
    live = web.LivePipeline(settings, held, None, None, log=lambda message: None)
    live.update_in_background()
    demo, url = start_chat(live, settings)
    try:
        page = open_page(url)
        status = page.locator("#rag-index-status")
        # in the browser's language only (issue 20: one language per page)
        expect(status).to_contain_text(re.compile(r"正在建立索引：(第 1/\d 遍，)?1/\d+ 批"), timeout=ANSWER_TIMEOUT_MS)
        expect(status).not_to_contain_text("Building the index")
        expect(page.locator("#rag-docs .rag-doc")).to_have_count(0)
        expect(page.locator("#rag-examples")).to_be_hidden()      # no documents, no examples yet
        assert serious_violations(page) == []
        screenshot(page, "web-building.png")
        box = page.locator("#rag-question textarea")
        box.fill("刷掌支付为什么更安全？")
        box.press("Enter")
        expect(page.get_by_test_id("toast-text")).to_have_text("索引仍在建立中，请稍后再问。")
        expect(box).to_have_value("刷掌支付为什么更安全？")   # kept, to ask again
        expect(page.locator("#rag-chat article")).to_have_count(0)

        held.gate.set()   # the build goes on; the page notices by itself, without a reload
        expect(status).to_contain_text("索引已就绪：1 篇资料", timeout=ANSWER_TIMEOUT_MS * 4)
        expect(page.locator("#rag-title h1")).to_have_text("刷掌支付 · 问答")
        expect(page.locator("#rag-docs .rag-doc")).to_contain_text("palm.md")
        expect(page.locator("#rag-examples")).to_contain_text("推广")   # a section heading as a topic
        expected = live.current.ask("刷掌支付为什么更安全？")
        assert expected.quotes and not expected.abstained
        ask(page, "刷掌支付为什么更安全？")
        reply = page.locator("#rag-turn-1 .rag-bot")
        for quote in expected.quotes:
            expect(reply).to_contain_text(f"{quote.display} [{quote.n}]")
        expect(page.locator('#rag-src-1-1 mark[data-n="1"]')).to_have_text(expected.quotes[0].display)
        assert page.evaluate("document.title") == "刷掌支付 · 问答"
        screenshot(page, "web-built.png")
    finally:
        held.gate.set()
        live.wait(timeout=120)
        demo.close()


def test_an_uploaded_document_is_indexed_and_answers(open_page, make_corpus):
    """--allow-upload: a good .md lands and is quoted after the update; a name holding markup and
    a binary file are refused with their reasons shown as text; nothing else is written."""
    settings = make_corpus({"palm.md": PALM}, english_model=None)
    settings = dataclasses.replace(settings, server=dataclasses.replace(settings.server, allow_upload=True),
                                   corpus=dataclasses.replace(settings.corpus, max_document_bytes=4000))
    live = web.LivePipeline.open(settings, log=lambda message: None)
    assert live.wait(timeout=300) and live.current is not None
    demo, url = start_chat(live, settings)
    try:
        page = open_page(url)
        expect(page.locator("#rag-upload-result")).to_contain_text("每次最多 10 个文件")
        picker = page.locator("#rag-upload input[type=file]")
        markup = "<img src=x onerror=alert(1)>.md"
        picker.set_input_files([
            {"name": "量子农场.md", "mimeType": "text/markdown", "buffer": FARM.encode()},
            {"name": "a&lt;b&gt;.md", "mimeType": "text/markdown", "buffer": "# 备注\n\n这是一篇备注。\n".encode()},
            {"name": markup, "mimeType": "text/markdown", "buffer": "# 标题\n\n正文。\n".encode()},
            {"name": "binary.md", "mimeType": "text/markdown", "buffer": bytes(range(256)) * 4},
        ])
        result = page.locator("#rag-upload-result")
        expect(result).to_contain_text("已加入：量子农场.md, a&lt;b&gt;.md。")
        expect(result.locator(".rag-problems li")).to_have_count(2)
        # the reasons in the page's language (issue 20), the names as text
        expect(result).to_contain_text(f"{markup}：不是文档文件名（.txt .md .pdf .docx .html .htm），未加入")
        expect(result).to_contain_text("binary.md：不是有效的 UTF-8 文本")
        expect(page.locator("#rag-index-status")).to_contain_text("索引已就绪：3 篇资料", timeout=ANSWER_TIMEOUT_MS * 4)
        # Names are text: the one with markup did not become an element, the one with entities
        # shows them as typed.
        expect(page.locator('img[src="x"]')).to_have_count(0)
        expect(page.locator("#rag-docs")).to_contain_text("a&lt;b&gt;.md")
        assert sorted(p.name for p in settings.corpus_dir.iterdir()) == ["a&lt;b&gt;.md", "palm.md", "量子农场.md"]
        assert serious_violations(page) == []
        screenshot(page, "web-upload.png")

        # Too large for a text file: Gradio's own size check now admits a PDF's size (a larger
        # limit), so the server refuses it by its format's limit, in the page's language.
        picker.set_input_files([{"name": "big.md", "mimeType": "text/markdown", "buffer": b"a" * 4001}])
        expect(result).to_contain_text("big.md：4,001 字节，超过上限 4,000 字节，未加入", timeout=ANSWER_TIMEOUT_MS)
        assert not (settings.corpus_dir / "big.md").exists()

        expected = live.current.ask("量子农场种植什么？")
        assert expected.quotes and expected.quotes[0].doc == "量子农场.md"
        ask(page, "量子农场种植什么？")
        expect(page.locator("#rag-turn-1 .rag-bot")).to_contain_text(f"{expected.quotes[0].display} [1]")
        expect(page.locator("#rag-src-1-1")).to_contain_text("量子农场")
    finally:
        live.wait(timeout=120)
        demo.close()
