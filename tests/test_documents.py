"""PDF, Word, web pages and text in other encodings: what goes in, what comes out, what is refused.

Every fixture is made here, at test time (docfixtures): the layouts are what word processors
and LaTeX produce, not what the extractor expects."""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import replace

import pytest

from rag.chunking import chunk_corpus
from rag.config import ChunkingSettings, CorpusSettings
from rag.corpus import Document, load_corpus, page_of, read_document
from rag.extract import ExtractCache, ExtractError, extract
from rag.extract.clean import glue, ideographs, is_page_number, line_key, running_lines, strip_marks
from rag.extract.text import decode
from rag.structure import display, outline

from docfixtures import (
    EN_PARAGRAPHS,
    GB_TEXT,
    ZH_HEADER,
    ZH_TITLE,
    en_paper_pdf,
    encrypted_pdf,
    gb18030_text,
    scanned_pdf,
    utf16_text,
    web_page,
    word_file,
    zh_report_pdf,
)

LIMITS = CorpusSettings()


@pytest.fixture(scope="module")
def zh_pdf() -> bytes:
    return zh_report_pdf()


def _load(tmp_path, name: str, data: bytes, limits: CorpusSettings = LIMITS) -> tuple[Document, list[str]]:
    (tmp_path / name).write_bytes(data)
    return read_document(tmp_path / name, tmp_path, limits)


# --- Cleaning rules ---------------------------------------------------------------------------

def test_kangxi_radicals_and_compatibility_ideographs_become_ordinary_ideographs_and_nothing_else():
    assert ideographs("个⼈知识库助⼿") == "个人知识库助手"            # U+2F08, U+2F3F
    assert ideographs("\uf900\u2e9f") == "豈母"                      # compatibility ideograph, radical supplement
    kept = "全角标点，（括号）：“引号”！ＡＢＣ１２３ ﬁ ①"                # full-width forms, ligature, circled digit
    assert ideographs(kept) == kept


def test_pdf_control_marks_are_removed_and_soft_hyphens_rejoin_words():
    assert strip_marks("inter\x02\nnational\ufffe\u00ad\ufeff\x00") == "inter\nnational"
    assert glue("inter\x02", "national") == ("inter", "")
    assert glue("infor\ufffe", "mation") == ("infor", "")
    assert glue("hyphen-", "ated words") == ("hyphen", "")
    assert glue("state-of-the-", "Art") == ("state-of-the-", " ")      # not a word broken in two
    assert glue("迫切的需", "求") == ("迫切的需", "")                  # no space inside Chinese
    assert glue("使用", "Python") == ("使用", "") and glue("Python", "语言") == ("Python", "")
    assert glue("the words", "are") == ("the words", " ")


def test_page_numbers_in_common_forms_are_recognised_and_sentences_are_not():
    for line in ("12", "- 12 -", "— iv —", "[3]", "3 / 18", "第 3 页", "第三页", "Page 3", "Page 3 of 18", "p. 7"):
        assert is_page_number(line), line
    for line in ("12 monkeys", "2024年3月", "第三章", "Figure 3", "1.5", ""):
        assert not is_page_number(line), line


def test_running_lines_are_lines_repeated_at_page_edges_with_numbers_allowed_to_vary():
    pages = [[line_key(f"报告 · 第{n}页 · 2024"), line_key("正文第一行不同" + str(n)), line_key(f"{n} / 9")]
             for n in range(1, 6)]
    running = running_lines(pages)
    assert line_key("报告 · 第1页 · 2024") in running and line_key("1 / 9") in running
    assert not any("正文" in key for key in running) or line_key("正文第一行不同1") in running  # digits vary too
    assert running_lines([[line_key("只出现一次")], [line_key("另一页")]]) == set()


# --- PDF --------------------------------------------------------------------------------------

def test_a_chinese_pdf_loses_its_running_header_page_numbers_and_kangxi_radicals(tmp_path, zh_pdf):
    document, notes = _load(tmp_path, "report.pdf", zh_pdf)
    text = document.text
    assert document.format == "pdf" and notes == []
    assert ZH_HEADER not in text and "2024年3月" not in text          # the running header
    assert not re.search(r"\d+ / \d+", text)                          # the footer's page numbers
    assert "⼈" not in text and "⼿" not in text and "个人知识库助手能够帮助员工" in text
    assert not re.search("[\x00-\x08\ufffe\u00ad]", text)
    # No line break inside a sentence: every paragraph is one line of text.
    for _, start, end, _ in document.blocks:
        assert "\n" not in text[start:end]
    assert document.title == ZH_TITLE


def test_a_running_head_that_names_the_section_and_the_page_is_dropped_too(tmp_path):
    document, _ = _load(tmp_path, "book.pdf", zh_report_pdf(section_header=True))
    assert not re.search(r"(背景|方法|结论)\s+\d", document.text)        # "二、方法    3": words change, the number runs
    assert [s.title for s in outline(document).sections][-3:] == ["一、背景", "二、方法", "三、结论"]


def test_a_sentence_across_a_page_break_reads_as_one_and_is_cited_on_the_page_where_it_starts(tmp_path, zh_pdf):
    document, _ = _load(tmp_path, "report.pdf", zh_pdf)
    pages = document.pages
    assert [p for p, _, _ in pages] == list(range(1, len(pages) + 1)) and len(pages) >= 3
    assert pages[0][1] == 0 and pages[-1][2] == len(document.text)
    assert all(a[2] == b[1] for a, b in zip(pages, pages[1:]))       # contiguous ranges
    # The page boundary falls inside a paragraph: the sentence continues without a break.
    inside = [start for _, start, _ in pages[1:] if document.text[start - 1] not in "\n"]
    assert inside, "some page starts in the middle of a paragraph"
    at = inside[0]
    sentence_start = max(document.text.rfind("。", 0, at), document.text.rfind("\n", 0, at)) + 1
    assert "\n" not in document.text[sentence_start:at + 5]
    assert page_of(document, sentence_start) == page_of(document, at) - 1
    assert page_of(document, at) == next(p for p, s, _ in pages if s == at)
    conclusion = document.text.index("扫描件需要光学字符识别")
    assert page_of(document, conclusion) == pages[-1][0]


def test_pdf_headings_come_from_the_outline_else_from_font_size(tmp_path, zh_pdf):
    for data in (zh_pdf, zh_report_pdf(outline=False)):
        document, _ = _load(tmp_path, "report.pdf", data)
        sections = [s.title for s in outline(document).sections]
        assert sections[-3:] == ["一、背景", "二、方法", "三、结论"], sections
        assert outline(document).title is not None   # the big title line above the first heading


def test_a_two_column_page_is_read_column_by_column(tmp_path):
    document, _ = _load(tmp_path, "report.pdf", zh_report_pdf(two_column_page=1))
    from docfixtures import ZH_PAGES

    for paragraph in ZH_PAGES[0][1]:
        assert ideographs(paragraph) in document.text


def test_an_english_two_column_paper_joins_lines_with_spaces_and_rejoins_hyphenated_words(tmp_path):
    document, _ = _load(tmp_path, "paper.pdf", en_paper_pdf())
    text = document.text
    assert "Proceedings of the Workshop" not in text                 # running head
    assert not re.search(r"^\d+$", text, re.MULTILINE)               # page numbers
    for paragraph in EN_PARAGRAPHS:
        assert paragraph in text, paragraph[:40]                      # hyphenation undone, one space between words
    assert [p for p, _, _ in document.pages] == [1, 2]
    assert page_of(document, text.index("We evaluate")) == 2


@pytest.mark.parametrize("make, reason", [
    (scanned_pdf, "no text layer; scanned PDFs need OCR, which is not supported"),
    (encrypted_pdf, "password-protected PDF"),
    (lambda: zh_report_pdf()[:3000], "truncated PDF"),
    (lambda: b"%PDF-1.7\n" + b"garbage " * 200 + b"\n%%EOF\n", "corrupt PDF"),
    (lambda: b"<html>not a pdf</html>\n%%EOF", "not a PDF file"),
])
def test_bad_pdfs_are_refused_with_their_reason(tmp_path, make, reason):
    with pytest.raises(ValueError, match=re.escape(f"bad.pdf: {reason}")):
        _load(tmp_path, "bad.pdf", make())


def test_pdf_limits_on_bytes_and_pages(tmp_path, zh_pdf):
    with pytest.raises(ValueError, match=r"over the limit of 1,000 \(Settings.corpus.max_file_bytes\)"):
        _load(tmp_path, "big.pdf", zh_pdf, replace(LIMITS, max_file_bytes=1000))
    with pytest.raises(ValueError, match=r"pages, over the limit of 2 \(Settings.corpus.max_pages\)"):
        _load(tmp_path, "long.pdf", zh_pdf, replace(LIMITS, max_pages=2))


# --- Word -------------------------------------------------------------------------------------

def test_a_word_file_keeps_headings_lists_and_tables(tmp_path):
    document, _ = _load(tmp_path, "survey.docx", word_file())
    kinds = [(kind, document.text[start:end], level) for kind, start, end, level in document.blocks]
    assert ("heading", "一、概况", 1) in kinds and ("heading", "调查方法", 2) in kinds
    assert [t for k, t, _ in kinds if k == "item"] == ["实地走访每一家食堂", "记录午餐的价格", "访谈学生的意见"]
    assert [t for k, t, _ in kinds if k == "header"] == ["区 | 食堂数量 | 每餐平均价格"]
    rows = [start for kind, start, end, _ in document.blocks if kind == "row"]
    assert display(document, rows[0], rows[0] + len("南湖区 | 27 | 10元")) == "南湖区 · 27 · 10元"
    assert document.title == "食堂调查" and document.pages == ()
    sections = outline(document).sections
    assert [s.title for s in sections] == ["一、概况", "调查方法", "二、结果"]
    assert sections[1].path == ("一、概况", "调查方法")


def test_bad_word_files_are_refused_with_their_reason(tmp_path):
    cases = {
        "renamed.docx": (b"not a zip at all", "not a valid Word file (not a zip archive)"),
        "old.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "password-protected or old binary (.doc)"),
        "cut.docx": (word_file()[:2000], "truncated or corrupt Word file"),
    }
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    cases["other.docx"] = (other.getvalue(), "not a valid Word file (no word/document.xml in the archive)")
    for name, (data, reason) in cases.items():
        with pytest.raises(ValueError, match=re.escape(f"{name}: {reason}")):
            _load(tmp_path, name, data)


def test_a_decompression_bomb_is_refused_before_it_is_unpacked(tmp_path):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" + b"a" * 2_000_000)
    assert len(bomb.getvalue()) < 10_000
    with pytest.raises(ValueError, match=r"unpacks to 2,000,001 bytes, over the limit of 1,000,000"):
        _load(tmp_path, "bomb.docx", bomb.getvalue(), replace(LIMITS, max_unpacked_bytes=1_000_000))


# --- Web pages --------------------------------------------------------------------------------

def test_a_web_page_keeps_its_main_content_without_navigation_sidebar_footer_or_scripts(tmp_path):
    document, _ = _load(tmp_path, "page.html", web_page())
    text = document.text
    for boilerplate in ("新闻", "关于我们", "首页", "热门文章", "侧栏推荐", "版权所有", "tracking", "font:"):
        assert boilerplate not in text, boilerplate
    assert document.encoding == "gb18030" and document.title == "液冷技术"
    assert "液冷技术把数据中心的能耗降低了三成。" in text                 # a line break between CJK: no space
    assert "Liquid cooling lowers the energy a data centre uses." in text
    kinds = [(kind, text[start:end], level) for kind, start, end, level in document.blocks]
    assert ("heading", "两种方式", 2) in kinds
    assert [t for k, t, _ in kinds if k == "item"] == ["冷板式液冷", "浸没式液冷"]
    assert [t for k, t, _ in kinds if k in ("header", "row")] == ["方式 | PUE", "冷板式 | 1.2", "浸没式 | 1.1"]


def test_a_web_page_without_main_element_uses_its_body_and_ordered_lists_keep_their_numbers():
    page = b"<html><body><nav>menu</nav><div id='sidebar'>side</div><p>Intro.</p><ol><li>one</li><li>two</li></ol></body></html>"
    result = extract("html", page, LIMITS)
    assert result.text == "Intro.\n\n1. one\n2. two"


# --- Text in other encodings ------------------------------------------------------------------

def test_text_files_in_gb18030_and_utf16_are_read_and_say_which_encoding(tmp_path):
    for name, data, encoding in (("gb.txt", gb18030_text(), "gb18030"), ("u16.txt", utf16_text(), "utf-16")):
        document, notes = _load(tmp_path, name, data)
        assert document.text == GB_TEXT and document.encoding == encoding
        assert notes == [f"{name}: not UTF-8; read as {encoding}"]
    german = "Grüße aus München. Die Straße ist schön, und der Käse schmeckt sehr gut. Übermorgen fahren wir nach Zürich."
    assert decode(german.encode("cp1252"))[0] == german
    assert decode("今天天氣很好，我們去公園散步。".encode("big5")) == ("今天天氣很好，我們去公園散步。", "big5hkscs")
    assert decode(GB_TEXT.encode("utf-8")) == (GB_TEXT, "utf-8")
    assert decode(b"\xef\xbb\xbf" + GB_TEXT.encode()) == (GB_TEXT, "utf-8")   # the BOM is not text
    with pytest.raises(ExtractError, match="utf-16 byte-order mark but is not valid utf-16"):
        decode(b"\xff\xfe\x00binary")


# --- A corpus of every kind -------------------------------------------------------------------

def _mixed_corpus(make_corpus, zh_pdf):
    return make_corpus({
        "report.pdf": zh_pdf, "paper.pdf": en_paper_pdf(), "survey.docx": word_file(), "page.html": web_page(),
        "guide.txt": gb18030_text(), "notes.md": "# 笔记\n普通的 Markdown 文件。",
        "scan.pdf": scanned_pdf(), "cut.pdf": zh_pdf[:4000], "old.doc": b"\xd0\xcf\x11\xe0", "logo.png": b"\x89PNG",
    })


def test_a_mixed_corpus_names_each_bad_file_once_and_loads_the_rest(make_corpus, zh_pdf):
    settings = _mixed_corpus(make_corpus, zh_pdf)
    documents, problems = load_corpus(settings.corpus_dir)
    assert sorted(d.path for d in documents) == ["guide.txt", "notes.md", "page.html", "paper.pdf", "report.pdf",
                                                 "survey.docx"]
    messages = [p.message for p in problems]
    assert "scan.pdf: no text layer; scanned PDFs need OCR, which is not supported; skipped" in messages
    assert any(m.startswith("cut.pdf: truncated PDF") for m in messages)
    assert [m for m in messages if "not a supported type" in m] == [
        "not indexed, not a supported type (.txt .md .pdf .docx .html .htm): logo.png, old.doc"]
    assert "guide.txt: not UTF-8; read as gb18030" in messages
    # The invariant every quote relies on, for every unit of every format.
    chunks, sentences, spans = chunk_corpus(documents, ChunkingSettings())
    by_path = {d.path: d for d in documents}
    for unit in [*chunks, *sentences, *spans]:
        assert unit.text == by_path[unit.doc].text[unit.start:unit.end]
    assert any(s.doc == "survey.docx" and s.header == "区 · 食堂数量 · 每餐平均价格" for s in sentences)


def test_extractions_are_cached_by_content_and_redone_when_the_file_changes(tmp_path, zh_pdf, monkeypatch):
    cache, word = ExtractCache(tmp_path / "extracted"), word_file()
    first = cache.get("docx", word, LIMITS)
    calls = []
    monkeypatch.setattr("rag.extract.extract", lambda *a: calls.append(a) or first)
    again = ExtractCache(tmp_path / "extracted")
    assert again.get("docx", word, LIMITS) == first and calls == []               # read back, not extracted
    again.get("pdf", zh_pdf, LIMITS)
    assert len(calls) == 1 and len(list((tmp_path / "extracted").glob("*.json"))) == 2
    later = ExtractCache(tmp_path / "extracted")   # the Word file is gone from the corpus
    later.get("pdf", zh_pdf, LIMITS)
    later.keep_only_used()
    assert len(calls) == 1 and len(list((tmp_path / "extracted").glob("*.json"))) == 1
    # A file that cannot be read is remembered with its reason: not read again at every build.
    monkeypatch.undo()
    scan = scanned_pdf()
    for _ in range(2):
        with pytest.raises(ExtractError, match="no text layer"):
            later.get("pdf", scan, LIMITS)
    assert later.extracted == 1


def test_rag_index_show_and_ask_over_every_kind_of_file(make_corpus, zh_pdf, capsys):
    from rag.cli import main

    settings = _mixed_corpus(make_corpus, zh_pdf)
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "--english-model", "none"]
    assert main(["index", *where]) == 0
    err = capsys.readouterr().err
    assert "scan.pdf: no text layer" in err and "cut.pdf: truncated PDF" in err and "6 documents" in err
    assert not any(p.name.endswith((".txt", ".json")) and p.name != "guide.txt" for p in settings.corpus_dir.iterdir())

    assert main(["show", "--json", "report.pdf", *where]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["format"] == "pdf" and shown["encoding"] is None and shown["pages"][0] == {
        "page": 1, "start": 0, "end": shown["pages"][1]["start"]}
    assert main(["show", "guide.txt", *where]) == 0
    assert capsys.readouterr().out == GB_TEXT
    assert main(["show", "--json", "guide.txt", *where]) == 0
    assert "pages" not in json.loads(capsys.readouterr().out)
    assert main(["show", "missing.pdf", *where]) == 1

    assert main(["ask", "--json", "扫描件需要什么技术？", *where]) == 0
    answer = json.loads(capsys.readouterr().out)
    quote = answer["quotes"][0]
    assert quote["doc"] == "report.pdf" and "光学字符识别" in quote["text"]
    assert quote["text"] == shown["text"][quote["start"]:quote["end"]]
    assert quote["page"] == shown["pages"][-1]["page"]
    assert all(p["page"] is None for p in answer["passages"] if not p["doc"].endswith(".pdf"))
    assert main(["ask", "扫描件需要什么技术？", *where]) == 0
    assert f"report.pdf p. {quote['page']} [" in capsys.readouterr().out

    # `rag add` extracts a PDF once, to check it; the index update finds its text in the cache.
    new = settings.corpus_dir.parent / "second.pdf"
    new.write_bytes(zh_report_pdf(outline=False, section_header=True))
    assert main(["add", str(new), *where]) == 0
    err = capsys.readouterr().err
    assert "Added to" in err and "Extracted the text" not in err and "7 documents" in err


# --- The web page: the page of a citation, and the original file ---------------------------

def test_the_file_route_serves_only_documents_of_the_index_from_inside_the_corpus(tmp_path, zh_pdf):
    from types import SimpleNamespace

    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from rag.config import ServerSettings
    from rag.web import api

    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "report.pdf").write_bytes(zh_pdf)
    (corpus / "page.html").write_bytes(web_page())
    (corpus / "not-indexed.pdf").write_bytes(zh_pdf)
    (tmp_path / "secret.txt").write_text("secret", "utf-8")
    documents = {"sub/report.pdf": Document("sub/report.pdf", "r", None, "x", format="pdf"),
                 "page.html": Document("page.html", "p", None, "x", format="html", encoding="gb18030"),
                 "../secret.txt": Document("../secret.txt", "s", None, "secret")}
    live = SimpleNamespace(current=SimpleNamespace(index=SimpleNamespace(documents=documents),
                                                   settings=SimpleNamespace(corpus_dir=corpus)))
    with TestClient(Starlette(routes=api.routes(live, ServerSettings()))) as client:
        reply = client.get("/api/file/sub/report.pdf")
        assert reply.status_code == 200 and reply.content == zh_pdf
        assert reply.headers["content-type"] == "application/pdf"
        page = client.get("/api/file/page.html")
        assert page.headers["content-type"] == "text/html; charset=gb18030"
        assert page.headers["content-security-policy"].startswith("sandbox")   # its scripts never run here
        for refused in ("not-indexed.pdf", "../secret.txt", "%2e%2e/secret.txt", "missing.pdf"):
            assert client.get(f"/api/file/{refused}").status_code == 404, refused


def test_a_citation_of_a_pdf_shows_its_page_and_opens_the_file_there():
    from rag.answer import Passage, Quote
    from rag.web.render import passage_card

    quote = Quote(doc="报告 <1>.pdf", start=10, end=20, n=1, text="引文", title="报告", section="一、背景", score=0.9,
                  display="引文", page=4)
    passage = Passage(doc=quote.doc, start=0, end=30, title="报告", section="一、背景", text="x" * 10 + "引文" * 5 + "x" * 10,
                      score=0.5, display="", page=3)
    card = passage_card(passage, [quote], "zh", 1)
    assert "第 4 页" in card and "打开原文件（第 4 页）" in card
    assert 'href="api/file/%E6%8A%A5%E5%91%8A%20%3C1%3E.pdf#page=4"' in card
    english = passage_card(passage, [quote], "en", 1)
    assert "p. 4" in english and "Open the original file at page 4" in english
    text_card = passage_card(replace(passage, doc="a.txt", page=None), [replace(quote, doc="a.txt", page=None)], "zh", 1)
    assert "页" not in text_card.split("rag-passage")[0] and "api/file" not in text_card
