"""The web chat in a real headless browser (Debian's chromium driven by playwright).

Screenshots are saved under artifacts/ (gitignored) for a person to look at. Every page fails its
test if any dialog (alert, confirm, prompt) opens: markup in a question or in the corpus must show
as text and never run.
"""
from __future__ import annotations

import json
import socket
from html import escape

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from rag import web
from rag.answer import NOT_FOUND
from rag.config import PROJECT_ROOT
from rag.pipeline import Pipeline

ARTIFACTS = PROJECT_ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# Headless, and nothing that reaches beyond loopback (updates, sync, QUIC probes).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ANSWER_TIMEOUT_MS = 30_000   # first answer includes page start-up; normally well under a second

ASKED = "用手掌付款有什么优势？"
MARKUP_QUESTION = "<img src=x onerror=alert(1)>"

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword is deprecated)")]


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_chat(qa: Pipeline, settings):
    """A live chat over `qa` on a free loopback port: (demo, url)."""
    settings = settings.replace(port=free_port())
    demo = web.build_app(qa, settings)
    _, url, _ = web.launch(demo, settings, prevent_thread_lock=True)
    return demo, url


@pytest.fixture(scope="module")
def chat_url(article_qa, article_settings):
    demo, url = start_chat(article_qa, article_settings)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """open_page(url, viewport) -> a page that records every dialog; asserts none opened."""
    pages, dialogs = [], []

    def open_(url: str, viewport: dict = DESKTOP) -> Page:
        page = browser.new_page(viewport=viewport)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        pages.append(page)
        return page

    yield open_
    for page in pages:
        page.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"


def ask(page: Page, question: str) -> None:
    """Type a question and send it with Enter; wait until the panel shows its answer."""
    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    # The panel names the question it answers, so this waits for this answer, not a previous one.
    expect(page.locator("#rag-sources .rag-summary")).to_contain_text(question, timeout=ANSWER_TIMEOUT_MS)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_question_shows_quote_citation_and_highlighted_source(open_page, chat_url, article_qa):
    """The issue's "done when": ask about paying by palm, see trend two quoted, cited, highlighted."""
    expected = article_qa.ask(ASKED)
    assert not expected.abstained and expected.quotes[0].section.startswith("趋势二")
    page = open_page(chat_url)
    ask(page, ASKED)

    chat = page.locator("#rag-chat")
    expect(chat.locator('[data-testid="user"]')).to_have_text(ASKED)
    reply = chat.locator('[data-testid="bot"]').first
    for quote in expected.quotes:
        expect(reply).to_contain_text(f"{quote.text} [{quote.n}]")

    panel = page.locator("#rag-sources")
    expect(panel.locator("h3")).to_have_text("来源")
    first = expected.quotes[0]
    expect(panel.locator('mark[data-n="1"]')).to_have_text(first.text)
    expect(panel.locator(".rag-where").first).to_contain_text(f"[1] 金融科技十大趋势 › {first.section}")
    expect(panel.locator(".rag-meta").first).to_contain_text("字符")
    expect(panel.locator(".rag-meta").first).to_contain_text("检索得分")
    screenshot(page, "web-desktop.png")

    # The citations are also kept with the answer in the chat, folded until opened.
    sources = chat.locator(".thought").first
    expect(sources).to_contain_text("来源")
    sources.locator(".title").click()
    expect(sources.locator("mark").first).to_have_text(first.text)


def test_markup_question_shows_as_text(open_page, chat_url):
    page = open_page(chat_url)
    ask(page, MARKUP_QUESTION)
    expect(page.locator('#rag-chat [data-testid="user"]')).to_have_text(MARKUP_QUESTION)
    expect(page.locator("#rag-sources .rag-summary")).to_contain_text(MARKUP_QUESTION)
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
        expect(page.locator('#rag-chat [data-testid="bot"]').first).to_contain_text(expected.quotes[0].text)
        panel = page.locator("#rag-sources")
        expect(panel.locator('mark[data-n="1"]')).to_have_text(expected.quotes[0].text)
        for text in ("<img src=x onerror=alert(2)>", f"{title} › 趋势一:测试<b>标题</b>"):
            expect(panel).to_contain_text(text)
        # Nothing became an element: no script, no image, no <b>/<i> from the corpus.
        for selector in ("script", "img", "b", "i"):
            expect(panel.locator(selector)).to_have_count(0)
        expect(page.locator('img[src="x"]')).to_have_count(0)
        assert escape("<script>") in panel.inner_html()
        screenshot(page, "web-markup-corpus.png")
    finally:
        demo.close()


def test_off_topic_question_lists_nearest_passages_as_not_an_answer(open_page, chat_url):
    page = open_page(chat_url)
    ask(page, "今天天气怎么样？")
    expect(page.locator('#rag-chat [data-testid="bot"]')).to_have_text(NOT_FOUND["zh"])
    panel = page.locator("#rag-sources")
    expect(panel.locator("h3")).to_have_text("最接近的段落（不是答案）")
    expect(panel.locator(".rag-card").first).to_be_visible()
    expect(panel.locator("mark")).to_have_count(0)


def test_phone_width_stacks_the_sources_below_the_chat(open_page, chat_url):
    page = open_page(chat_url, PHONE)
    ask(page, ASKED)
    expect(page.locator('#rag-sources mark[data-n="1"]')).to_be_visible()
    chat_box = page.locator("#rag-chat").bounding_box()
    panel_box = page.locator("#rag-sources").bounding_box()
    assert panel_box["y"] >= chat_box["y"] + chat_box["height"]
    assert panel_box["x"] + panel_box["width"] <= PHONE["width"]
    # Nothing forces sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "web-phone.png")


def test_example_is_asked_on_click(open_page, chat_url):
    page = open_page(chat_url)
    page.get_by_text("隐私计算的核心是什么？", exact=True).click()
    expect(page.locator("#rag-sources .rag-summary")).to_contain_text("隐私计算的核心是什么？",
                                                                       timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator('#rag-sources mark[data-n="1"]')).to_contain_text("隐私计算")


def test_start_over_and_settings(open_page, chat_url):
    page = open_page(chat_url)
    ask(page, "什么是全域营销？")
    page.locator("#rag-restart").click()
    expect(page.locator('#rag-chat [data-testid="user"]')).to_have_count(0)
    expect(page.locator("#rag-sources .rag-empty")).to_be_visible()

    page.locator("#rag-settings").get_by_text("设置").click()
    settings = page.locator("#rag-settings")
    expect(settings).to_contain_text("检索段落数")
    expect(settings).to_contain_text(web.STRICTNESS_HELP)
    screenshot(page, "web-settings.png")
    # With strictness at its maximum the same question is declined, and the panel says why.
    settings.locator('input[type="number"]').nth(1).fill("1")
    settings.locator('input[type="number"]').nth(1).press("Enter")
    ask(page, "什么是全域营销？")
    expect(page.locator("#rag-sources h3")).to_have_text("最接近的段落（不是答案）")


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
    expect(page.locator('#rag-chat [data-testid="user"]')).to_have_count(0)
