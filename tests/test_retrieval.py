import pytest

from rag.retrieval import Retriever, fuse, glossed_terms
from rag.stores import Ranking


@pytest.fixture(scope="module", params=["local", "milvus"])
def retriever(request, article_qa, tmp_path_factory):
    """The article's retriever over each store: the same tests must pass through both."""
    if request.param == "local":
        return article_qa.retriever
    from rag.stores.milvus import MilvusStore

    store = MilvusStore(str(tmp_path_factory.mktemp("milvus") / "chunks.db"), article_qa.index)
    base = article_qa.retriever
    return Retriever(base.index, base.embedder, base.rrf_k, base.english_embedder, store, base.candidate_factor,
                     base.english_lexical_glosses)


def test_chunks_without_the_words_are_ranked_by_meaning_not_by_position(article_qa):
    """A chunk with none of the question's words gets nothing from the BM25 list; ranking such
    chunks by id (as a full sort's tie-break did) put the first documents ahead of better ones."""
    base = article_qa.retriever
    last = len(base.index.chunks) - 1

    class OneMatch:
        name = "one-match"

        def dense(self, query, n):
            return base.store.dense(query, n)

        def dense_scores(self, query, ids):
            return base.store.dense_scores(query, ids)

        def lexical(self, tokens, n):
            return Ranking.of([last], [1.0])

    question = "隐私计算有哪些流派"
    hits = Retriever(base.index, base.embedder, base.rrf_k, None, OneMatch()).search(question, 5).hits
    query = base.embedder.embed_queries([question])[0]
    by_meaning = [i for i in base.store.dense(query, 200).ids.tolist() if i != last]
    others = [h.chunk.id for h in hits if h.chunk.id != last]
    assert others == by_meaning[:len(others)]
    assert by_meaning[:len(others)] != sorted(by_meaning[:len(others)])  # not id order by chance


def test_hybrid_ranking_is_deterministic_and_finds_the_trend(retriever):
    first = retriever.search("刷掌支付用到了哪些生物特征？", 5)
    second = retriever.search("刷掌支付用到了哪些生物特征？", 5)
    assert [h.chunk.id for h in first.hits] == [h.chunk.id for h in second.hits]
    assert first.hits[0].chunk.section.startswith("趋势二")
    assert [h.rank for h in first.hits] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(first.hits, first.hits[1:]))
    assert first.hits[0].lexical > 0 and "支付" in first.query_tokens


def test_sentences_lie_inside_the_returned_passages(retriever):
    result = retriever.search("隐私计算有哪些流派", 2)
    ranges = {(h.chunk.doc, h.chunk.start, h.chunk.end) for h in result.hits}
    assert result.sentences
    for scored in result.sentences:
        s = scored.sentence
        assert any(doc == s.doc and start <= s.start and s.end <= end for doc, start, end in ranges)


def test_english_question_reaches_the_chinese_passage(retriever):
    result = retriever.search("What are the common schools of privacy computing?", 3)
    assert any(h.chunk.section.startswith("趋势七") for h in result.hits)
    assert not result.question_has_cjk


def test_relevance_signals_separate_on_and_off_topic(retriever):
    from rag.relevance import relevance, signals

    on = retriever.search("隐私计算常见的流派有哪些？", 5)
    off = retriever.search("红烧肉怎么做才好吃？", 5)
    assert signals(on)["best_cos"] > signals(off)["best_cos"]
    assert signals(on)["coverage"] > signals(off)["coverage"]
    assert relevance(on) > 0.5 > relevance(off)


def test_only_the_sentences_of_the_hits_are_scored(retriever, article_qa):
    result = retriever.search("刷掌支付用到了哪些生物特征？", 1)
    inside = [s for s in article_qa.index.sentences if result.hits[0].chunk.contains(s)]
    assert sorted(s.sentence.id for s in result.sentences) == sorted(s.id for s in inside)
    assert result.word_weights and all(w > 0 for w in result.word_weights.values())


def test_rrf_sums_the_reciprocal_ranks_of_both_lists():
    dense = Ranking.of([3, 1, 2], [0.9, 0.8, 0.7])
    lexical = Ranking.of([2, 5], [4.0, 1.0])
    fused = fuse(dense, lexical, rrf_k=60)
    assert fused[3] == pytest.approx(1 / 61)
    assert fused[2] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[5] == pytest.approx(1 / 62)
    assert set(fused) == {1, 2, 3, 5}


def test_without_lexical_evidence_the_dense_list_decides():
    fused = fuse(Ranking.of([4, 7], [0.5, 0.4]), Ranking.of([], []), rrf_k=60)
    assert fused == pytest.approx({4: 2 / 61, 7: 2 / 62})


def test_both_stores_hand_back_the_same_hits(retriever, article_qa):
    for question in ("刷掌支付用到了哪些生物特征？", "What is DRG?", "数字人民币"):
        mine, local = retriever.search(question, 5), article_qa.retriever.search(question, 5)
        assert [h.chunk.id for h in mine.hits] == [h.chunk.id for h in local.hits]
        assert [h.lexical for h in mine.hits] == pytest.approx([h.lexical for h in local.hits], rel=1e-4)
        assert [h.dense for h in mine.hits] == pytest.approx([h.dense for h in local.hits], abs=1e-5)


def test_the_candidate_pool_is_bounded_by_top_k(article_qa):
    """Each store is asked for candidate_factor * top_k chunks, never for the whole corpus."""
    asked = []

    class Counting:
        name = "counting"

        def __init__(self, inner):
            self.inner = inner

        def dense(self, query, n):
            asked.append(n)
            return self.inner.dense(query, n)

        def dense_scores(self, query, ids):
            return self.inner.dense_scores(query, ids)

        def lexical(self, tokens, n):
            asked.append(n)
            return self.inner.lexical(tokens, n)

    base = article_qa.retriever
    small = Retriever(base.index, base.embedder, base.rrf_k, None, Counting(base.store), candidate_factor=2)
    result = small.search("隐私计算有哪些流派", 1)
    assert asked == [2, 2] and len(result.hits) == 1


def test_questions_from_several_threads_get_the_serial_answers(article_qa):
    """Pipeline.ask holds no global lock: four threads at once must answer exactly as one does."""
    from concurrent.futures import ThreadPoolExecutor

    questions = ["刷掌支付用到了哪些生物特征？", "隐私计算有哪些流派", "What is DRG?", "红烧肉怎么做才好吃？"] * 2

    def answer(question):
        result = article_qa.ask(question).to_json()
        result.pop("timings_ms")
        return result

    serial = [answer(q) for q in questions]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(answer, questions)) == serial


def test_a_reentrant_engine_encodes_one_question_per_core_at_once():
    import os
    import threading
    import time

    from rag.retrieval import _Bounded

    class Engine:
        def __init__(self, reentrant: bool):
            self.reentrant, self.now, self.most = reentrant, 0, 0
            self.lock = threading.Lock()

        def embed_queries(self, texts):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            time.sleep(0.05)
            with self.lock:
                self.now -= 1
            return texts

    for reentrant, expected in ((True, min(os.cpu_count() or 1, 4)), (False, 1)):
        engine = Engine(reentrant)
        bounded = _Bounded(engine)
        threads = [threading.Thread(target=bounded.embed_queries, args=(["q"],)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert engine.most == expected and bounded.slots == (os.cpu_count() or 1 if reentrant else 1)


def test_an_english_question_is_also_queried_with_its_chinese_glosses(article_qa):
    """BM25 finds no English words in Chinese text; the question's glosses it does find."""
    base = article_qa.retriever

    def retriever(glosses):
        return Retriever(base.index, base.embedder, base.rrf_k, base.english_embedder, base.store,
                         base.candidate_factor, english_lexical_glosses=glosses)

    question = "Which biometric traits does palm payment use?"
    plain, glossed = retriever(0).search(question, 5), retriever(2).search(question, 5)
    assert max(h.lexical for h in plain.hits) == 0
    assert glossed.hits[0].lexical > 0 and "掌静脉" in glossed.hits[0].chunk.text
    assert glossed.query_tokens == plain.query_tokens   # the relevance checks see the question's own words
    assert retriever(2).search("隐私计算有哪些流派", 5).hits == retriever(0).search("隐私计算有哪些流派", 5).hits


def test_glossed_terms_are_each_words_best_translations_by_idf():
    groups = [{"一代": 5.0, "生成": 4.0, "生出": 4.5}, {}, {"数据": 2.0}]
    assert glossed_terms(groups, 2) == ["一代", "生出", "数据"]
    assert glossed_terms(groups, 0) == []
