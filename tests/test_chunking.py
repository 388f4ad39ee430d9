import pytest

from rag.chunking import (INTRO_SECTION, Sentence, chunk_corpus, chunk_document, make_splitter, sentences_of,
                          spans_of, split_clauses, split_sections)
from rag.corpus import Document


@pytest.fixture(scope="module")
def article(article_text):
    return Document("fintech-ten-trends.txt", "金融科技十大趋势", "数字金融网", article_text)


def test_article_sections(article):
    titles = [s.title for s in split_sections(article.text)]
    assert titles[0] == INTRO_SECTION
    assert titles[2] == "趋势二:生物识别技术在支付领域的创新应用"
    assert sum(t.startswith("趋势") for t in titles) == 10
    assert titles[-1] == "文章来源:数字金融网"


@pytest.mark.parametrize("size,overlap", [(40, 0), (80, 20), (150, 30), (300, 50), (1000, 100)])
def test_offsets_invariant_and_no_chunk_spans_two_sections(article, size, overlap):
    sections = split_sections(article.text)
    chunks = chunk_document(article, make_splitter(size, overlap))
    assert chunks
    for chunk in chunks:
        assert article.text[chunk.start:chunk.end] == chunk.text
        assert len(chunk.text) <= size
        owner = [s for s in sections if s.start <= chunk.start and chunk.end <= s.end]
        assert len(owner) == 1 and owner[0].title == chunk.section
        assert not chunk.text.startswith(("。", "，", ",")), "separator moved to the next chunk"
    # Every non-blank character of the article is in some chunk.
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())


def test_sentences_are_exact_and_end_at_sentence_marks(article):
    sentences = sentences_of(article)
    for s in sentences:
        assert article.text[s.start:s.end] == s.text
        assert s.text == s.text.strip()
    body = [s for s in sentences if s.text != s.section]
    assert all(s.text.endswith(("。", "！", "？", "；")) for s in body), [s.text for s in body if not s.text.endswith("。")]
    assert any("掌纹+掌静脉" in s.text and s.section.startswith("趋势二") for s in sentences)


def test_clauses_split_at_commas_but_not_inside_brackets():
    text = "动态风险治理(dynamic risk governance,DRG)是体系,组织能够管理风险:降低成本。"
    clauses = [text[s:e] for s, e in split_clauses(text, 0, len(text))]
    assert clauses == ["动态风险治理(dynamic risk governance,DRG)是体系,", "组织能够管理风险:", "降低成本。"]


def test_spans_are_runs_of_clauses_but_never_the_whole_sentence():
    text = "前文。甲乙,丙丁,戊己,庚辛,壬癸。后文"
    start = text.index("甲")
    sentence = Sentence(7, "d", "s", start, text.index("后"), text[start:text.index("后")])
    spans = spans_of(sentence, text, max_clauses=2, min_sentence_chars=0)
    assert [s.text for s in spans] == ["甲乙,", "甲乙,丙丁,", "丙丁,", "丙丁,戊己,", "戊己,", "戊己,庚辛,",
                                       "庚辛,", "庚辛,壬癸。", "壬癸。"]
    assert all(s.sentence == 7 and text[s.start:s.end] == s.text for s in spans)
    assert len(spans_of(sentence, text, 5, 0)) == 5 + 4 + 3 + 2 + 1 - 1  # all runs but the whole
    assert spans_of(sentence, text, 5, min_sentence_chars=len(sentence.text)) == []  # short: quoted whole
    one_clause = Sentence(0, "d", "s", 0, 3, "前文。")
    assert spans_of(one_clause, text, 5, 0) == []


def test_markdown_headings_and_ids_unique_across_documents():
    long = "第一段" + "很长" * 40 + ",第二段。"
    docs = [Document("a.md", "A", None, f"# 标题一\n{long}第二句。\n# 标题二\n第三句。"),
            Document("b.txt", "B", None, "只有一句话。")]
    chunks, sentences, spans = chunk_corpus(docs, 300, 50)
    assert [c.section for c in chunks] == ["标题一", "标题二", INTRO_SECTION]
    assert [c.id for c in chunks] == list(range(len(chunks)))
    assert [s.id for s in sentences] == list(range(len(sentences)))
    for unit in chunks + sentences:
        assert {d.path: d for d in docs}[unit.doc].text[unit.start:unit.end] == unit.text
    assert [(s.sentence, s.text) for s in spans] == [(1, long[:-4]), (1, "第二段。")]
