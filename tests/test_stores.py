import dataclasses
import json

import numpy as np
import pytest

from rag.config import Settings, StoreSettings
from rag.stores import Ranking, StoreError, open_store
from rag.stores.local import LocalStore


def test_ranking_sorts_by_score_then_id():
    r = Ranking.of([5, 2, 9, 1], [0.5, 0.9, 0.5, 0.1])
    assert r.ids.tolist() == [2, 5, 9, 1] and len(r) == 4


def test_unknown_store_is_a_clear_error(article_qa):
    with pytest.raises(StoreError, match="unknown store 'redis:x'"):
        open_store(StoreSettings(store="redis:x"), article_qa.index)


def test_the_store_option_reaches_the_settings():
    from rag.cli import build_parser, settings_from

    args = build_parser().parse_args(["ask", "--store", "milvus:/tmp/x.db", "问题"])
    assert settings_from(args).stores.store == "milvus:/tmp/x.db"
    assert Settings().stores.store == "local"


def test_local_lexical_leaves_out_chunks_without_the_words(article_qa):
    store = LocalStore(article_qa.index)
    found = store.lexical(["支付"], 50)
    chunks = article_qa.index.chunks
    assert 0 < len(found) < len(chunks)
    assert all("支付" in chunks[i].context + chunks[i].text for i in found.ids)
    assert len(store.lexical(["不存在的词语"], 50)) == 0 and len(store.lexical([], 50)) == 0



@pytest.fixture
def milvus_store(article_qa, tmp_path):
    from rag.stores.milvus import MilvusStore

    messages = []
    store = MilvusStore(str(tmp_path / "chunks.db"), article_qa.index, log=messages.append)
    return store, messages, tmp_path / "chunks.db"


def test_milvus_ranks_like_the_local_store(article_qa, milvus_store):
    store, _, _ = milvus_store
    local = LocalStore(article_qa.index)
    index = article_qa.index
    for question in ("刷掌支付用到了哪些生物特征？", "隐私计算有哪些流派", "web3.0 出海", "红烧肉怎么做"):
        query = article_qa.embedder.embed_queries([question])[0]
        tokens = index.tokenizer.tokens(question)
        a, b = local.dense(query, 8), store.dense(query, 8)
        assert a.ids.tolist() == b.ids.tolist() and np.allclose(a.scores, b.scores, atol=1e-5)
        c, d = local.lexical(tokens, 8), store.lexical(tokens, 8)
        assert c.ids.tolist() == d.ids.tolist() and np.allclose(c.scores, d.scores, rtol=1e-4)
        ids = np.array([0, 3])
        assert np.allclose(store.dense_scores(query, ids), local.dense_scores(query, ids), atol=1e-5)


def test_milvus_collection_is_filled_once_per_build(article_qa, milvus_store):
    from rag.stores.milvus import MilvusStore

    store, messages, path = milvus_store
    assert len(messages) == 1 and store.collection in messages[0]
    again = MilvusStore(str(path), article_qa.index, log=messages.append)
    assert len(messages) == 1 and again.collection == store.collection  # reused, not refilled
    # Another build of the index (here: another manifest) gets its own collection; the old one goes.
    index = article_qa.index
    other = dataclasses.replace(index, manifest=dict(index.manifest, built_at="another build"))
    newer = MilvusStore(str(path), other, log=messages.append)
    assert len(messages) == 2 and newer.collection != store.collection
    assert newer.client.list_collections() == [newer.collection]


def test_milvus_spelling_keeps_tokens_apart():
    from rag.stores.milvus import spell

    tokens = ["web3.0", "web3+0", "web3-0", "web30", "c++", "数字"]
    spelled = [spell(t) for t in tokens]
    assert len(set(spelled)) == len(tokens)
    assert all(s.replace("_", "a").isalnum() for s in spelled)


def test_a_bad_milvus_uri_is_a_clear_error(article_qa, tmp_path):
    with pytest.raises(StoreError, match="Milvus"):
        open_store(StoreSettings(store="milvus:"), article_qa.index)


@pytest.mark.slow
def test_the_dev_set_gets_the_same_answers_through_milvus(article_settings, article_qa, tmp_path):
    """Every fintech dev-set question answered through Milvus Lite exactly as through FAISS."""
    from rag.config import PROJECT_ROOT
    from rag.pipeline import Pipeline

    settings = article_settings.replace(store=f"milvus:{tmp_path / 'dev.db'}")
    through_milvus = Pipeline(settings, article_qa.index, article_qa.embedder, article_qa.retriever.english_embedder)
    assert through_milvus.retriever.store.name == "milvus"
    for line in (PROJECT_ROOT / "evals/suite/questions/fintech-ten-trends.jsonl").read_text(encoding="utf-8").splitlines():
        question = json.loads(line)["question"]
        a, b = article_qa.ask(question).to_json(), through_milvus.ask(question).to_json()
        a.pop("timings_ms"), b.pop("timings_ms")
        assert a == b, question


def test_cli_reports_a_bad_store_without_a_traceback(article_settings, capsys):
    from rag.cli import EXIT_ERROR, main

    code = main(["ask", "--corpus", str(article_settings.corpus_dir), "--index", str(article_settings.index_dir),
                 "--store", "nosuch:x", "刷掌支付用到了哪些生物特征？"])
    assert code == EXIT_ERROR
    assert "unknown store 'nosuch:x'" in capsys.readouterr().err
