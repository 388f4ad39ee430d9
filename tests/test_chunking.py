import pytest

from rag.chunking import Sentence, chunk_corpus, chunk_document, make_splitter, sentences_of, spans_of, split_clauses
from rag.config import ChunkingSettings
from rag.corpus import Document
from rag.structure import INTRO_SECTION, outline


@pytest.fixture(scope="module")
def article(article_text):
    return Document("fintech-ten-trends.txt", "金融科技十大趋势", "数字金融网", article_text)


@pytest.mark.parametrize("size,overlap", [(40, 0), (80, 20), (150, 30), (300, 50), (1000, 100)])
def test_offsets_invariant_and_no_chunk_spans_two_sections(article, size, overlap):
    sections = outline(article).sections
    chunks = chunk_document(article, make_splitter(size, overlap))
    assert chunks
    headings = {article.text[s.heading[0]:s.heading[1]] for s in sections if s.heading}
    for chunk in chunks:
        assert article.text[chunk.start:chunk.end] == chunk.text
        assert len(chunk.text) <= size
        owner = [s for s in sections if s.start <= chunk.start and chunk.end <= s.end]
        assert len(owner) == 1 and owner[0].title == chunk.section
        assert chunk.text not in headings, "a heading is never a chunk of its own"
        assert chunk.context.startswith("金融科技十大趋势") and chunk.context.endswith(chunk.section)
        assert not chunk.text.startswith(("。", "，", ",")), "separator moved to the next chunk"
    # Every non-blank character outside the headings is in some chunk.
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    heading_chars = {i for s in sections if s.heading for i in range(*s.heading)}
    assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace() and i not in heading_chars)


def test_long_sections_become_several_chunks_that_all_know_their_section():
    body = "".join(f"第{i}句讲的是一件很长很长的事情，需要好几个字才能说完。" for i in range(40))
    document = Document("long.md", "长文", None, f"# 长文\n\n## 一、很长的一节\n\n{body}\n\n## 二、短的一节\n\n一句话。\n")
    chunks = chunk_document(document, make_splitter(300, 50))
    long_chunks = [c for c in chunks if c.section == "一、很长的一节"]
    assert len(long_chunks) >= 4
    assert all(c.context == "长文 › 一、很长的一节" for c in long_chunks)
    assert [c.section for c in chunks if c not in long_chunks] == ["二、短的一节"]


def test_sentences_are_exact_and_end_at_sentence_marks(article):
    sentences = sentences_of(article)
    for s in sentences:
        assert article.text[s.start:s.end] == s.text
        assert s.text == s.text.strip()
        assert s.text != s.section, "headings are context, not sentences"
    ends = ("。", "！", "？", "；", "数字金融网")
    assert all(s.text.endswith(ends) for s in sentences), [s.text for s in sentences if not s.text.endswith(ends)]
    assert any("掌纹+掌静脉" in s.text and s.section.startswith("趋势二") for s in sentences)


def test_clauses_split_at_commas_but_not_inside_brackets():
    text = "动态风险治理(dynamic risk governance,DRG)是体系,组织能够管理风险:降低成本。"
    clauses = [text[s:e] for s, e in split_clauses(text, 0, len(text))]
    assert clauses == ["动态风险治理(dynamic risk governance,DRG)是体系,", "组织能够管理风险:", "降低成本。"]


def _sentence(id_, start, end, text):
    return Sentence(doc="d", start=start, end=end, id=id_, section="s", text=text)


def test_spans_are_runs_of_clauses_but_never_the_whole_sentence():
    text = "前文。甲乙,丙丁,戊己,庚辛,壬癸。后文"
    start = text.index("甲")
    sentence = _sentence(7, start, text.index("后"), text[start:text.index("后")])
    spans = spans_of(sentence, text, max_clauses=2, min_sentence_chars=0)
    assert [s.text for s in spans] == ["甲乙,", "甲乙,丙丁,", "丙丁,", "丙丁,戊己,", "戊己,", "戊己,庚辛,",
                                       "庚辛,", "庚辛,壬癸。", "壬癸。"]
    assert all(s.sentence == 7 and text[s.start:s.end] == s.text for s in spans)
    assert len(spans_of(sentence, text, 5, 0)) == 5 + 4 + 3 + 2 + 1 - 1  # all runs but the whole
    assert spans_of(sentence, text, 5, min_sentence_chars=len(sentence.text)) == []  # short: quoted whole
    assert spans_of(_sentence(0, 0, 3, "前文。"), text, 5, 0) == []


def test_markdown_headings_and_ids_unique_across_documents():
    long = "第一段" + "很长" * 40 + ",第二段。"
    docs = [Document("a.md", "A", None, f"# 标题一\n{long}第二句。\n# 标题二\n第三句。"),
            Document("b.txt", "B", None, "只有一句话。")]
    chunks, sentences, spans = chunk_corpus(docs, ChunkingSettings())
    assert [c.section for c in chunks] == ["标题一", "标题二", INTRO_SECTION]
    assert [c.id for c in chunks] == list(range(len(chunks)))
    assert [s.id for s in sentences] == list(range(len(sentences)))
    for unit in chunks + sentences:
        assert {d.path: d for d in docs}[unit.doc].text[unit.start:unit.end] == unit.text
    assert [(s.sentence, s.text) for s in spans] == [(0, long[:-4]), (0, "第二段。")]


def test_a_comma_or_colon_inside_a_number_does_not_end_a_clause():
    text = "累计骑行 41.3 万次，日均骑行约 2,300 次，10:30 开始：北京,上海"
    clauses = [text[a:b] for a, b in split_clauses(text, 0, len(text))]
    assert clauses == ["累计骑行 41.3 万次，", "日均骑行约 2,300 次，", "10:30 开始：", "北京,", "上海"]


def test_a_table_header_is_the_context_of_its_rows_and_no_sentence_itself():
    text = ("# 报告\n\n## 二、各区数据\n\n| 区 | 食堂数量 | 每餐平均价格 |\n| --- | --- | --- |\n"
            "| 东城区 | 42 | 12元 |\n| 南湖区 | 27 | 10元 |\n\n表后的一句话。\n")
    sentences = sentences_of(Document("r.md", "报告", None, text))
    assert [s.text for s in sentences] == ["东城区 | 42 | 12元", "南湖区 | 27 | 10元", "表后的一句话。"]
    assert [s.header for s in sentences] == ["区 · 食堂数量 · 每餐平均价格"] * 2 + [""]
    assert {s.context for s in sentences} == {"二、各区数据"}
