"""The chat as a stranger meets it (issue 20), in a real headless browser: the newest answer in
view, no contrast failures in dark mode, typing kept while an answer is pending, the answer
read out by a live region, and no "[0]" on a refusal's passage."""
from __future__ import annotations

import time

import pytest
import test_browser
from playwright.sync_api import Page, expect
from test_browser import ANSWER_TIMEOUT_MS, ASKED, DESKTOP, OFF_TOPIC, PHONE, ask, screenshot, serious_violations, start_chat

from rag import web

# The page and browser fixtures of the main browser tests.
chat_url = test_browser.chat_url
open_page = test_browser.open_page

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword is deprecated)")]

SIX = ["用手掌付款有什么优势？", "什么是隐私计算？", "动态风险治理的英文缩写是什么？", "Web3是指什么？",
       "生成式AI可以产出哪几类数据？", "可持续金融通过什么手段来达成既定目标？"]


def in_view(page: Page, selector: str) -> dict:
    """Where the element's top is: inside its scrolling box's visible part and the window's."""
    return page.evaluate("""(selector) => {
      const el = document.querySelector(selector);
      let box = el.parentElement;
      while (box && box !== document.body) {
        const o = getComputedStyle(box).overflowY;
        if ((o === 'auto' || o === 'scroll') && box.scrollHeight > box.clientHeight + 1) break;
        box = box.parentElement;
      }
      const r = el.getBoundingClientRect();
      const b = box && box !== document.body ? box.getBoundingClientRect() : {top: 0, bottom: window.innerHeight};
      return {top: r.top, boxTop: b.top, boxBottom: b.bottom, height: window.innerHeight,
              inBox: r.top >= b.top - 1 && r.top < b.bottom - 20, inWindow: r.top >= 0 && r.top < window.innerHeight - 20};
    }""", selector)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_newest_answer_is_in_view_after_six_turns(open_page, chat_url, viewport):
    page = open_page(chat_url, viewport)
    for n, question in enumerate(SIX, 1):
        ask(page, question, n)
        # The question of the newest turn and the start of its answer are where a person looks.
        page.wait_for_timeout(400)   # the page's scroll runs on the next animation frame
        for part in (f"#rag-turn-{n} .rag-q", f"#rag-turn-{n} .rag-bot"):
            where = in_view(page, part)
            assert where["inBox"] and where["inWindow"], (n, part, where)
    screenshot(page, f"web-six-turns-{'phone' if viewport is PHONE else 'desktop'}.png", full_page=False)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations_in_light_and_dark(open_page, chat_url, scheme):
    page = open_page(chat_url + f"?__theme={scheme}")
    page.emulate_media(color_scheme=scheme)
    expect(page.locator("#rag-question textarea")).to_be_visible()
    # Judge the page once its on-load updates have landed: the examples are re-rendered by the
    # first status poll, and an example button caught mid-render has no text yet.
    expect(page.locator('#rag-chat section.rag-chat:not([data-lang=""])')).to_be_attached(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_function("() => [...document.querySelectorAll('.gallery-item')].every(b => b.textContent.trim())",
                           timeout=ANSWER_TIMEOUT_MS)
    if scheme == "dark":
        assert page.evaluate("document.body.classList.contains('dark') || !!document.querySelector('.dark')")
    assert serious_violations(page) == []
    ask(page, ASKED, 1)
    assert serious_violations(page) == []
    ask(page, OFF_TOPIC, 2)
    page.locator("#rag-settings").get_by_text("设置").click()
    page.locator('#rag-docs button.rag-open[data-sec="1"]').click()
    expect(page.locator("#rag-docs .rag-view")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, f"web-{scheme}.png")


class SlowPipeline:
    """The article's pipeline, answering after `delay` seconds (an answer visibly pending)."""

    def __init__(self, qa, delay: float):
        self._qa, self._delay = qa, delay

    def __getattr__(self, name):
        return getattr(self._qa, name)

    def ask(self, *args, **kwargs):
        time.sleep(self._delay)
        return self._qa.ask(*args, **kwargs)


@pytest.fixture(scope="module")
def slow_chat_url(article_qa, article_settings):
    demo, url = start_chat(web.LivePipeline.ready(SlowPipeline(article_qa, 2.0)), article_settings)
    yield url
    demo.close()


def test_text_typed_while_an_answer_is_pending_is_kept(open_page, slow_chat_url):
    page = open_page(slow_chat_url)
    box = page.locator("#rag-question textarea")
    box.fill(ASKED)
    box.press("Enter")
    expect(box).to_have_value("")   # emptied when sent
    box.press_sequentially("它有什么")
    expect(page.locator("#rag-turn-1 .rag-q")).to_have_text(ASKED, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#rag-turn-1 .rag-quote").first).to_be_visible()
    expect(box).to_have_value("它有什么")   # the answer came; what was typed meanwhile is still there
    box.press_sequentially("优势？")
    box.press("Enter")
    expect(page.locator("#rag-turn-2 .rag-q")).to_have_text("它有什么优势？", timeout=ANSWER_TIMEOUT_MS)


def test_the_live_region_reads_out_the_answer_and_the_refusal(open_page, chat_url, article_qa):
    page = open_page(chat_url)
    region = page.locator("#rag-announce")
    ask(page, ASKED, 1)
    expected = article_qa.ask(ASKED)
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_contain_text(expected.quotes[0].display)
    ask(page, OFF_TOPIC, 2)
    expect(region).to_contain_text(article_qa.ask(OFF_TOPIC).answer)
    assert expected.quotes[0].display not in region.inner_text()


def test_a_refusals_passage_opens_without_a_quote_marker(open_page, chat_url):
    page = open_page(chat_url)
    ask(page, OFF_TOPIC, 1)
    page.locator("#rag-srcs-1 .rag-card button.rag-open").first.click()
    view = page.locator("#rag-docs .rag-view")
    expect(view).to_be_visible()
    expect(view.locator(".rag-view-title")).to_be_visible()
    assert "[0]" not in view.inner_text()
    expect(view.locator("mark")).to_have_count(0)


# Parts of the page that show the documents' own words (title, examples, outline), not interface strings.
INTERFACE_TEXT_JS = """() => {
  const page = document.querySelector('gradio-app') || document.body;
  const copy = page.cloneNode(true);
  // The switch's choices name each language in its own script ("中文", "English"), as language pickers do.
  copy.querySelectorAll('#rag-title, #rag-examples button, .rag-outline, .rag-doc > summary > span:first-child, '
                        + '#rag-language input, script, style, [hidden]').forEach((node) => node.remove());
  const attributes = Array.from(page.querySelectorAll('[placeholder], [aria-label]'))
    .filter((node) => !node.closest('#rag-title, #rag-examples, .rag-outline'))
    .map((node) => (node.getAttribute('placeholder') || '') + ' ' + (node.getAttribute('aria-label') || ''));
  return copy.innerText + ' ' + attributes.join(' ');
}"""


def test_an_english_browser_meets_no_chinese_interface_string(open_page, chat_url):
    import re

    page = open_page(chat_url, locale="en-US")
    expect(page.locator("#rag-send")).to_have_text("Send")
    expect(page.locator("#rag-sources h2")).to_have_text("Sources")
    text = page.evaluate(INTERFACE_TEXT_JS)
    assert not re.search(r"[\u3400-\u9fff]", text), re.findall(r".{0,20}[\u3400-\u9fff]+.{0,20}", text)[:5]
    assert page.evaluate("document.documentElement.lang") == "en"
    screenshot(page, "web-english-browser.png")


def test_a_chinese_browser_meets_no_english_interface_string(open_page, chat_url):
    from rag.i18n import STRINGS

    page = open_page(chat_url, locale="zh-CN")
    expect(page.locator("#rag-sources h2")).to_have_text("来源")
    text = page.evaluate(INTERFACE_TEXT_JS)
    english = [value for value in STRINGS["en"].values() if "{" not in value and " " in value.strip()]
    assert [value for value in english if value in text] == []


def test_a_refusal_follows_the_language_switch(open_page, chat_url):
    page = open_page(chat_url, locale="zh-CN")
    ask(page, OFF_TOPIC, 1)
    expect(page.locator("#rag-turn-1 .rag-notfound")).to_have_text("资料中没有找到这个问题的答案。")
    page.locator("#rag-language input").click()
    page.get_by_role("option", name="English").click()
    expect(page.locator("#rag-turn-1 .rag-notfound")).to_have_text("The documents do not answer this question.")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_phone_first_screen_reaches_the_chat_and_the_placeholder_fits(open_page, chat_url, locale):
    page = open_page(chat_url, PHONE, locale=locale)
    box = page.locator("#rag-question textarea")
    expect(box).to_be_visible()
    # The status line is in both languages until the page knows its own (then one line shorter):
    # judged once it does, not after a fixed wait a loaded machine may outlast.
    expect(page.locator("#rag-index-status span")).to_have_count(1)
    page.wait_for_timeout(300)
    layout = page.evaluate("""() => {
      const box = document.querySelector('#rag-question textarea');
      const style = getComputedStyle(box);
      const canvas = document.createElement('canvas').getContext('2d');
      canvas.font = style.fontSize + ' ' + style.fontFamily;
      const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      return {chatTop: document.querySelector('#rag-chat').getBoundingClientRect().top,
              placeholder: box.placeholder, needed: canvas.measureText(box.placeholder).width, room: room};
    }""")
    assert layout["needed"] <= layout["room"], layout        # the placeholder is not cut
    assert layout["chatTop"] < 0.3 * PHONE["height"], layout  # title, switch, intro, status: under 30%
    screenshot(page, f"web-phone-first-screen-{locale}.png", full_page=False)
