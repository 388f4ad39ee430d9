"""The page with accounts, in a real headless browser (Debian's chromium driven by playwright):
only the login form before a login; readers ask, editors also see the upload and remove controls;
each browser session keeps its own conversation. (HTTP: tests/test_access_server.py.)"""
from __future__ import annotations

import dataclasses

import pytest
from playwright.sync_api import Page, expect
from servers import copy_index
from test_browser import ANSWER_TIMEOUT_MS, ASKED, ENGLISH, ask, screenshot, start_chat

from rag import auth, changes, web
from rag.auth import UsersFile

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword is deprecated)")]

QUOKKA = "Quokka field notes\n\nThe quokka is a small marsupial that lives on Rottnest Island.\n"


@pytest.fixture(scope="module")
def accounts_site(article_qa, article_settings, tmp_path_factory):
    """A chat with accounts over a private copy of the article and one more document: (url, settings)."""
    folder = tmp_path_factory.mktemp("browser-accounts")
    corpus, index = copy_index(article_settings, folder)
    (corpus / "quokka.txt").write_text(QUOKKA, encoding="utf-8")
    users = UsersFile.load(folder / "users.json")
    users.add("ed", "editor", "editor password")
    users.add("rd", "reader", "reader password")
    users.save()
    server = dataclasses.replace(article_settings.server, users_file=folder / "users.json")
    settings = dataclasses.replace(article_settings, corpus_dir=corpus, index_dir=index, server=server, english_model=None)
    live = web.LivePipeline.open(settings, log=lambda message: None)
    assert live.wait(timeout=300) and live.current is not None and len(live.current.index.documents) == 2
    demo, url = start_chat(live, settings)
    yield url, settings
    demo.close()


def new_page(browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.on("dialog", lambda dialog: (_ for _ in ()).throw(AssertionError(f"a dialog opened: {dialog.message}")))
    page.goto(url)
    return page


def log_in(page: Page, name: str, password: str) -> None:
    page.locator("input[type=password]").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.locator("input:not([type=password])").first.fill(name)
    page.locator("input[type=password]").fill(password)
    page.locator("button", has_text="Login").or_(page.locator("button", has_text="登录")).first.click()


def test_without_a_login_the_page_is_only_the_login_form(browser, accounts_site):
    url, _ = accounts_site
    page = new_page(browser, url)
    expect(page.locator("input[type=password]")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#rag-question")).to_have_count(0)
    expect(page.locator("#rag-chat")).to_have_count(0)
    screenshot(page, "access-login.png")
    log_in(page, "rd", "wrong password")
    expect(page.locator("#rag-question")).to_have_count(0)
    page.context.close()


def test_a_reader_asks_and_sees_no_controls_for_changes(browser, accounts_site):
    url, _ = accounts_site
    page = new_page(browser, url)
    log_in(page, "rd", "reader password")
    expect(page.locator("#rag-question textarea")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#rag-signed-in")).to_contain_text("rd")
    ask(page, ASKED)
    expect(page.locator("#rag-turn-1 .rag-bot")).to_contain_text("[1]")
    expect(page.locator("#rag-upload")).to_be_hidden()
    expect(page.locator("#rag-remove-button")).to_be_hidden()
    page.context.close()


def test_an_editor_removes_a_document_from_the_page(browser, accounts_site):
    url, settings = accounts_site
    page = new_page(browser, url)
    log_in(page, "ed", "editor password")
    expect(page.locator("#rag-remove-button")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#rag-upload")).to_be_visible()
    page.locator("#rag-remove-choice input").click()
    page.get_by_role("option", name="quokka.txt").click()
    page.locator("#rag-remove-button").click()
    expect(page.locator("#rag-remove-result")).to_contain_text("quokka.txt", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#rag-index-status")).to_contain_text("1 篇资料", timeout=ANSWER_TIMEOUT_MS * 4)
    screenshot(page, "access-editor.png")
    assert not (settings.corpus_dir / "quokka.txt").exists()
    last = changes.read_audit(settings)[0][-1]
    assert (last["user"], last["action"], last["document"]) == ("ed", "remove", "quokka.txt")
    page.context.close()


def test_two_browser_sessions_never_see_each_others_conversation(browser, accounts_site):
    url, _ = accounts_site
    first, second = new_page(browser, url), new_page(browser, url)
    log_in(first, "rd", "reader password")
    log_in(second, "rd", "reader password")   # even the same account: a conversation is the session's
    ask(first, ASKED)
    ask(second, ENGLISH)
    ask(first, "刷掌支付用到了哪些生物特征？", turn=2)
    expect(first.locator(".rag-q")).to_have_count(2)
    expect(second.locator(".rag-q")).to_have_count(1)
    assert ENGLISH not in first.locator("#rag-chat").inner_text()
    assert ASKED not in second.locator("#rag-chat").inner_text()
    second.reload()   # a new session of the same browser starts empty
    log_in(second, "rd", "reader password") if second.locator("input[type=password]").count() else None
    expect(second.locator("#rag-chat")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(second.locator(".rag-q")).to_have_count(0)
    first.context.close()
    second.context.close()


def test_a_reader_calling_the_remove_event_by_hand_is_refused(accounts_site, article_qa):
    _, settings = accounts_site
    demo = web.build_app(web.LivePipeline.ready(article_qa), settings)
    remove = next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "remove")
    message = remove("fintech-ten-trends.txt", "en", "en", None)[0]   # no login: no account
    assert "Only editors" in message
    assert (settings.corpus_dir / "fintech-ten-trends.txt").exists()
    assert auth.READER == "reader"
