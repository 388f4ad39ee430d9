"""Shared fixtures. Each test builds what it needs in its own temporary folder."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Settings

ARTICLE = PROJECT_ROOT / "corpus" / "fintech-ten-trends.txt"
ARTICLE_META = PROJECT_ROOT / "corpus" / "fintech-ten-trends.txt.meta.json"
SUITE = PROJECT_ROOT / "evals" / "suite"
DEV_SET = SUITE / "questions" / "fintech-ten-trends.jsonl"


@pytest.fixture(scope="session")
def article_text() -> str:
    """The bundled article, decoded."""
    return ARTICLE.read_text(encoding="utf-8")


def copy_article(folder: Path) -> Path:
    """A corpus folder holding the bundled article and its metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    shutil.copy(ARTICLE_META, folder / ARTICLE_META.name)
    return folder


@pytest.fixture(scope="session")
def article_settings(tmp_path_factory) -> Settings:
    """Settings over a private copy of the article, with an index folder of their own."""
    root = tmp_path_factory.mktemp("article")
    return Settings(corpus_dir=copy_article(root / "corpus"), index_dir=root / "index")


@pytest.fixture(scope="session")
def article_qa(article_settings):
    """A pipeline over the real article with the bundled model (built once per test session)."""
    from rag.pipeline import Pipeline

    return Pipeline.open(article_settings, log=lambda message: None)


@pytest.fixture
def make_corpus(tmp_path):
    """Write a small corpus: make_corpus({"a.txt": "text" or b"bytes"}) -> Settings over it."""

    def make(files: dict[str, str | bytes], **settings) -> Settings:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for name, content in files.items():
            path = corpus / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", **settings)

    return make


# --- A headless browser for the page tests (Debian's chromium driven by playwright) -------------

CHROMIUM = "/usr/bin/chromium"
# Headless, and nothing that reaches beyond loopback (updates, sync, QUIC probes).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """A chromium browser for one test module (playwright is imported only by browser tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
