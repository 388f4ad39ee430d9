import json

import pytest

from rag.chunking import sentences_of
from rag.corpus import Document, load_corpus
from rag.structure import display, heading_form, numeral, outline

from conftest import SUITE

MARKDOWN = """# 智慧灌溉观察

> 作者：林某 | 来源：某周刊

开篇一段，带 **加粗** 和 *强调* 与 `代码`。

## 一、背景

正文第一句。正文第二句，含 [链接](http://example.com)。

- 列表项一，完整的一句话。
- 列表项二。

1. 有序项一。
2. 有序项二。

| 技术 | 节水比例 |
| --- | --- |
| 滴灌 | 50%～70% |

二、设置为 setext 的标题
---------------------

setext 下的正文。

```
code line
```
"""


@pytest.fixture
def markdown_doc():
    return Document("notes.md", "智慧灌溉观察", None, MARKDOWN)


def test_markdown_outline_title_sections_and_blocks(markdown_doc):
    layout = outline(markdown_doc)
    assert MARKDOWN[slice(*layout.title)] == "智慧灌溉观察"
    titles = [s.title for s in layout.sections]
    assert titles == ["引言", "一、背景", "二、设置为 setext 的标题"]
    kinds = [b.kind for b in layout.sections[1].blocks]
    assert kinds == ["paragraph", "item", "item", "item", "item", "header", "row"]
    assert [b.kind for b in layout.sections[0].blocks] == ["quote", "paragraph"]
    assert [b.kind for b in layout.sections[2].blocks] == ["paragraph", "code"]
    assert layout.sections[1].number == 1 and layout.sections[2].number == 2


def test_block_offsets_skip_markup_prefixes(markdown_doc):
    blocks = outline(markdown_doc).sections[1].blocks
    texts = [MARKDOWN[b.start:b.end] for b in blocks]
    assert texts[1] == "列表项一，完整的一句话。" and texts[3] == "有序项一。"
    assert texts[5] == "技术 | 节水比例" and texts[6] == "滴灌 | 50%～70%"


def test_display_removes_markup_and_keeps_the_words(markdown_doc):
    def shown(fragment):
        start = MARKDOWN.index(fragment)
        return display(markdown_doc, start, start + len(fragment))

    assert shown("开篇一段，带 **加粗** 和 *强调* 与 `代码`。") == "开篇一段，带 加粗 和 强调 与 代码。"
    assert shown("> 作者：林某 | 来源：某周刊") == "作者：林某 | 来源：某周刊"
    assert shown("| 滴灌 | 50%～70% |") == "滴灌 · 50%～70%"
    assert shown("| 技术 | 节水比例 |\n| --- | --- |\n| 滴灌 | 50%～70% |") == "技术 · 节水比例\n滴灌 · 50%～70%"
    assert shown("- 列表项二。") == "列表项二。"
    assert shown("正文第二句，含 [链接](http://example.com)。") == "正文第二句，含 链接。"
    assert shown("二、设置为 setext 的标题\n---------------------") == "二、设置为 setext 的标题"


def test_sentences_never_start_with_markup(markdown_doc):
    for sentence in sentences_of(markdown_doc):
        assert not sentence.text.startswith(("> ", "- ", "* ", "#", "|")), sentence.text
        assert MARKDOWN[sentence.start:sentence.end] == sentence.text


def test_numbered_setext_heading_is_read_as_the_writer_meant():
    text = "标题\n====\n\n1. 背景\n-------\n\n正文。\n\n2. 方案\n-------\n\n更多正文。\n"
    sections = outline(Document("a.md", "标题", None, text)).sections
    assert [(s.title, s.number) for s in sections] == [("1. 背景", 1), ("2. 方案", 2)]


@pytest.mark.parametrize("line,style,number", [
    ("一、总体情况", "cn-comma", 1),
    ("（三）票务体系与支付方式", "cn-paren", 3),
    ("3. 主流技术路线", "arabic", 3),
    ("4、老年旅游推动旅居康养", "arabic", 4),
    ("3.2 浸没式液冷", "arabic-sub", 2),
    ("(2) 第二点", "arabic-paren", 2),
    ("第二章 全自动运行与信号系统", "chapter", 2),
    ("第十二节 小结", "chapter", 12),
    ("第三部分 展望", "chapter", 3),
    ("趋势二:生物识别技术在支付领域的创新应用", "word-numeral", 2),
    ("方向五：AIGC辅助修复与内容创作", "word-numeral", 5),
    ("## 背景", "markdown", None),
    ("Chapter 3 Results", "english", 3),
])
def test_heading_forms(line, style, number):
    assert heading_form(line) == (style, number)


@pytest.mark.parametrize("line", [
    "| 北美 | 9% | 家居用品 |",          # a table row
    "作者：林思远 2024年5月",            # a byline
    "文章来源:数字金融网",               # a source line
    "（本文来源：江州市轨道交通发展研究中心）",
    "这是一个短句",                       # a short fragment without numbering
    "1.5倍的增长来自新线路",              # a decimal, not a numbering
    "一、这一行很长" + "很长" * 30,      # too long for a heading
    "二、结论是明确的。还有下文。",        # sentence punctuation inside
    "2024年是关键的一年",
])
def test_non_headings(line):
    assert heading_form(line) is None


def test_plain_text_heading_levels_nest_by_first_appearance():
    text = "报告标题\n\n第一章 总论\n\n（一）背景\n\n正文一。\n\n（二）目标\n\n正文二。\n\n第二章 分论\n\n（一）细节\n\n正文三。\n"
    sections = outline(Document("r.txt", "报告标题", None, text)).sections
    assert [s.path for s in sections] == [("第一章 总论",), ("第一章 总论", "（一）背景"), ("第一章 总论", "（二）目标"),
                                          ("第二章 分论",), ("第二章 分论", "（一）细节")]
    assert [len(s.blocks) for s in sections] == [0, 1, 1, 0, 1]


def test_numerals():
    assert [numeral(t) for t in ("1", "十", "十二", "二十一", "两", "一百零五", "iv", "abc")] == [1, 10, 12, 21, 2, 105, 4, None]


def test_display_of_every_sentence_of_every_suite_document_keeps_its_words():
    """The display form of each sentence is its source span minus markup: the same characters in
    the same order, with only markup, white space and table separators taken out or added."""
    documents, problems = load_corpus(SUITE / "corpus")
    assert not problems and len(documents) >= 7
    removable = set("*_`|>#-+ \n\t\\[]()")
    for document in documents:
        for sentence in sentences_of(document):
            shown = display(document, sentence.start, sentence.end)
            assert shown and "**" not in shown and "`" not in shown
            source = iter(sentence.text)
            for ch in shown.replace(" · ", ""):
                for original in source:   # every shown character appears, in order, in the source
                    if original == ch:
                        break
                    assert original in removable, (document.path, sentence.text, shown)
                else:
                    pytest.fail(f"{ch!r} of {shown!r} is not in {sentence.text!r}")


def test_suite_questions_name_their_document():
    for path in (SUITE / "questions").glob("*.jsonl"):
        docs = {json.loads(line)["doc"] for line in path.read_text("utf-8").splitlines() if line.strip()}
        assert docs == {next(iter(docs))} and (SUITE / "corpus" / next(iter(docs))).is_file()


def test_a_plain_text_row_above_a_rule_is_the_tables_header():
    text = "一、数据\n区 | 食堂数量 | 价格\n--- | --- | ---\n东城区 | 42 | 12元\n西城区 | 38 | 13元\n"
    kinds = [b.kind for b in outline(Document("t.txt", "表", None, text)).sections[0].blocks]
    assert kinds == ["header", "row", "row"]
    # Without a rule there is no telling a header from a row.
    plain = "一、数据\n东城区 | 42 | 12元\n西城区 | 38 | 13元\n"
    assert [b.kind for b in outline(Document("t.txt", "表", None, plain)).sections[0].blocks] == ["row", "row"]


def test_table_cells_are_offsets_of_the_rows_own_text():
    from rag.structure import table_cells

    row = "| 西兴街道 | a \\| b | 42% |"
    assert [row[a:b] for a, b in table_cells(row, 0, len(row))] == ["西兴街道", "a \\| b", "42%"]
    plain = "x | y"
    assert [plain[a:b] for a, b in table_cells(plain, 0, len(plain))] == ["x", "y"]
