import numpy as np

from rag.retrieval import _ranks


def test_ranks_break_ties_by_position():
    assert _ranks(np.array([0.5, 0.9, 0.5, 0.1])).tolist() == [2, 1, 3, 4]


def test_hybrid_ranking_is_deterministic_and_finds_the_trend(article_qa):
    first = article_qa.retriever.search("刷掌支付用到了哪些生物特征？", 5)
    second = article_qa.retriever.search("刷掌支付用到了哪些生物特征？", 5)
    assert [h.chunk.id for h in first.hits] == [h.chunk.id for h in second.hits]
    assert first.hits[0].chunk.section.startswith("趋势二")
    assert [h.rank for h in first.hits] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(first.hits, first.hits[1:]))
    assert first.hits[0].lexical > 0 and "支付" in first.query_tokens


def test_sentences_lie_inside_the_returned_passages(article_qa):
    result = article_qa.retriever.search("隐私计算有哪些流派", 2)
    ranges = {(h.chunk.doc, h.chunk.start, h.chunk.end) for h in result.hits}
    assert result.sentences
    for scored in result.sentences:
        s = scored.sentence
        assert any(doc == s.doc and start <= s.start and s.end <= end for doc, start, end in ranges)


def test_english_question_reaches_the_chinese_passage(article_qa):
    result = article_qa.retriever.search("What are the common schools of privacy computing?", 3)
    assert any(h.chunk.section.startswith("趋势七") for h in result.hits)
    assert not result.question_has_cjk


def test_relevance_signals_separate_on_and_off_topic(article_qa):
    from rag.relevance import relevance, signals

    on = article_qa.retriever.search("隐私计算常见的流派有哪些？", 5)
    off = article_qa.retriever.search("红烧肉怎么做才好吃？", 5)
    assert signals(on)["best_cos"] > signals(off)["best_cos"]
    assert signals(on)["coverage"] > signals(off)["coverage"]
    assert relevance(on) > 0.5 > relevance(off)


def test_only_the_sentences_of_the_hits_are_scored(article_qa):
    result = article_qa.retriever.search("刷掌支付用到了哪些生物特征？", 1)
    inside = [s for s in article_qa.index.sentences if result.hits[0].chunk.contains(s)]
    assert sorted(s.sentence.id for s in result.sentences) == sorted(s.id for s in inside)
    assert result.word_weights and all(w > 0 for w in result.word_weights.values())
