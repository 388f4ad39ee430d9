"""Documents of every format, made at test time: PDFs with fpdf2 (running headers, page numbers,
a two-column page, a sentence across a page break, a Kangxi-radical text layer, an outline), a
scanned (image-only), a truncated and a password-protected PDF, Word files with python-docx, web
pages, and text in GB18030 and UTF-16. Nothing here is tuned to the extractor: the layouts are
what word processors and LaTeX produce."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def cjk_font() -> str:
    """A CJK font file (Debian's fonts-wqy-zenhei, which .ci/run installs), or skip the test."""
    for path in CJK_FONTS:
        if Path(path).is_file():
            return path
    import subprocess

    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    for line in listed.splitlines():
        path = line.split(":")[0].strip()
        if path.endswith((".ttf", ".ttc", ".otf")) and Path(path).is_file():
            return path
    if os.environ.get("CI"):   # .ci/run installs the font: on CI a missing font is a failure, never a skip
        pytest.fail("no CJK font installed, though .ci/run installs fonts-wqy-zenhei")
    pytest.skip("no CJK font installed (apt-get install fonts-wqy-zenhei)")


#: The Chinese report: its body, page by page. Page 2's last sentence continues on page 3.
ZH_TITLE = "个人知识库助手调研报告"
ZH_PAGES = [
    ("一、背景", ["随着大模型的普及，越来越多的团队希望把内部文档变成可以提问的知识库。这种迫切的需求推动了检索增强生成技术的发展。",
                 "个⼈知识库助⼿能够帮助员工快速找到制度文件中的条款，减少重复咨询。"]),
    ("二、方法", ["我们调研了十二家企业的实践，记录了它们使用的文档格式、切分方式和评测方法。调研发现，大多数企业的文档以PDF和Word为主，网页和纯文本较少。",
                 "在切分方式上，按章节切分的效果最好，因为章节标题为段落提供了上下文，检索时能够区分相似的段落。" * 8
                 + "这一结论与公开评测的结果一致，也符合我们在内部测试中的观察，尤其是在文档篇幅较长、章节结构清晰的情况下更为明显。"
                 + "评测时我们为每份文档编写了问题和标准答案，并记录了回答是否逐字引用原文以及引用的页码是否正确。" * 3]),
    ("三、结论", ["知识库助手的回答应当逐字引用原文并标明页码，这样读者可以核对每一句话的出处。",
                 "扫描件需要光学字符识别，本报告不讨论这一问题。"]),
]
ZH_HEADER = "个人知识库助手调研报告 · 2024年3月"


def _zh_pdf(pages=ZH_PAGES, header=ZH_HEADER, outline=True, kangxi=True, two_column_page: int | None = None,
            section_header: bool = False) -> bytes:
    from fpdf import FPDF

    font = cjk_font()

    class Report(FPDF):
        section = ""

        def header(self):
            self.set_font("zh", size=9)
            # A book's running head: the current section and the page number, as LaTeX sets it.
            self.cell(0, 8, f"{self.section}    {self.page_no()}" if section_header else header,
                      align="R" if section_header else "C")
            self.ln(14)

        def footer(self):
            self.set_y(-15)
            self.set_font("zh", size=9)
            self.cell(0, 8, f"{self.page_no()} / {{nb}}", align="C")

    pdf = Report(format=(105, 148))  # A6
    pdf.alias_nb_pages()
    pdf.add_font("zh", fname=font)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(ZH_TITLE)
    for n, (heading, paragraphs) in enumerate(pages, start=1):
        pdf.section = heading
        pdf.add_page()
        if n == 1:
            pdf.set_font("zh", size=18)
            pdf.multi_cell(0, 10, ZH_TITLE, align="C")
            pdf.ln(4)
        if outline:
            pdf.start_section(heading, level=0)
        pdf.set_font("zh", size=14)
        pdf.multi_cell(0, 9, heading)
        pdf.ln(2)
        pdf.set_font("zh", size=10.5)
        for paragraph in paragraphs:
            if not kangxi:
                paragraph = paragraph.replace("⼈", "人").replace("⼿", "手")
            if two_column_page == n:
                half = len(paragraph) // 2
                y = pdf.get_y()
                pdf.multi_cell(40, 6, paragraph[:half])
                pdf.set_xy(55, y)
                pdf.multi_cell(40, 6, paragraph[half:])
            else:
                pdf.multi_cell(0, 6, paragraph)
            pdf.ln(3)
    return bytes(pdf.output())


def zh_report_pdf(**options) -> bytes:
    """A Chinese report in A6: running header (title · date, or with `section_header` the section
    and the page number), footer `n / N`, an outline, a Kangxi-radical line, and a sentence that
    runs from page 2 onto page 3."""
    return _zh_pdf(**options)


EN_TITLE = "Retrieval for Extractive Question Answering"
EN_PARAGRAPHS = [
    "Extractive question answering selects a span of a document that answers a question. Unlike generation, every "
    "answer can be checked against its source, because the words are the document's own. Retrieval narrows a large "
    "collection to a few passages; a reader then scores sentences and clauses inside them.",
    "Documents arrive in many formats. Portable documents keep the layout of a printed page, with running heads, "
    "page numbers and hyphenated words at line ends; converting them to clean paragraphs is the first step of any "
    "pipeline that quotes them faithfully and cites the page a quote comes from.",
    "We evaluate on questions written by people who read the documents. A question is answered when the quoted "
    "text contains the expected answer, and refused when the collection does not contain one; both are measured.",
    "Two-column layouts are common in conference proceedings. Each column is read top to bottom before the next, "
    "and a sentence may continue from the foot of the first column to the head of the second.",
]


def en_paper_pdf() -> bytes:
    """An English paper in two columns with a running head and page numbers, words hyphenated at
    line ends by the layout (a literal hyphen, as TeX leaves it)."""
    from fpdf import FPDF

    class Paper(FPDF):
        def header(self):
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, "Proceedings of the Workshop on Document Understanding 2024", align="C")
            self.ln(10)

        def footer(self):
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, str(self.page_no()), align="C")

    pdf = Paper(format="A4")
    pdf.set_auto_page_break(False)
    for page in range(2):
        pdf.add_page()
        if page == 0:
            pdf.set_font("Helvetica", style="B", size=16)
            pdf.multi_cell(0, 9, EN_TITLE, align="C")
            pdf.ln(4)
        pdf.set_font("Helvetica", size=10)
        top = pdf.get_y()
        for column, paragraph in enumerate(EN_PARAGRAPHS[page * 2:page * 2 + 2]):
            pdf.set_xy(15 + column * 95, top)
            words, lines, line = paragraph.split(), [], ""
            for word in words:   # fill lines to 80 mm, hyphenating a long word that does not fit
                trial = f"{line} {word}".strip()
                if pdf.get_string_width(trial) <= 80:
                    line = trial
                elif len(word) >= 9 and pdf.get_string_width(f"{line} {word[:5]}-") <= 80:
                    lines.append(f"{line} {word[:5]}-")
                    line = word[5:]
                else:
                    lines.append(line)
                    line = word
            lines.append(line)
            for text in lines:
                pdf.set_x(15 + column * 95)
                pdf.cell(85, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """Two pages holding only an image of text, as a scanner makes them."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(image).text((20, 80), "scanned page, no text layer", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(io.BytesIO(buffer.getvalue()), x=10, y=10, w=180)
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    """A PDF that needs a password to open."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "Confidential text.")
    return bytes(pdf.output())


def word_file(path: Path | None = None) -> bytes:
    """A Word file with a title, headings, a bulleted list and a table with a header row."""
    from docx import Document

    document = Document()
    document.core_properties.title = "食堂调查"
    document.add_heading("食堂调查", level=0)
    document.add_heading("一、概况", level=1)
    document.add_paragraph("本次调查覆盖了三个区的大学食堂，记录了食堂数量和每餐平均价格。")
    document.add_heading("调查方法", level=2)
    for item in ("实地走访每一家食堂", "记录午餐的价格", "访谈学生的意见"):
        document.add_paragraph(item, style="List Bullet")
    document.add_heading("二、结果", level=1)
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(table.rows, [("区", "食堂数量", "每餐平均价格"), ("南湖区", "27", "10元"), ("北山区", "12", "14元")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    for cell in table.rows[0].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True
    document.add_paragraph("北山区的食堂较少，价格也更高。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


WEB_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="gb2312"><title>液冷技术 - 某某科技网</title>
<style>body { font: 14px sans-serif }</style><script>var tracking = "不应出现";</script></head>
<body>
<header class="site-header"><a href="/">某某科技网</a><nav><a href="/news">新闻</a><a href="/about">关于我们</a></nav></header>
<div class="breadcrumb"><a href="/">首页</a> &gt; 技术</div>
<main>
<article>
<h1>液冷技术</h1>
<p>液冷技术把数据中心的能耗
降低了三成。</p>
<h2>两种方式</h2>
<ul><li>冷板式液冷</li><li>浸没式液冷</li></ul>
<table><thead><tr><th>方式</th><th>PUE</th></tr></thead>
<tbody><tr><td>冷板式</td><td>1.2</td></tr><tr><td>浸没式</td><td>1.1</td></tr></tbody></table>
<p>Liquid cooling lowers the
energy a data centre uses.</p>
</article>
</main>
<aside class="sidebar"><h3>热门文章</h3><p>侧栏推荐的内容</p></aside>
<footer><p>版权所有 2024 某某科技网</p></footer>
</body></html>
"""


def web_page() -> bytes:
    """A saved web page in GB2312 (as declared; the bytes are GBK) with navigation, a breadcrumb, a sidebar, a footer and a script."""
    return WEB_PAGE.encode("gbk")


GB_TEXT = "提示工程指南\n\n一、什么是提示工程\n提示工程是设计和优化提示词的方法，使大模型给出更好的回答。\n"


def gb18030_text() -> bytes:
    """A Chinese text saved by a Windows editor (GB18030, no byte-order mark)."""
    return GB_TEXT.encode("gb18030")


def utf16_text() -> bytes:
    """The same text in UTF-16 with a byte-order mark (Windows Notepad's "Unicode")."""
    return GB_TEXT.encode("utf-16")
