import numpy as np
import pytest

from rag.config import StoreSettings
from rag.vectors import VectorIndexError, choose_kind, kind_of, make_index, reconstruct, search, top, top_of_matrix


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_auto_picks_by_size():
    settings = StoreSettings(flat_below=100, hnsw_below=1000)
    assert [choose_kind(n, settings) for n in (0, 99, 100, 999, 1000)] == ["flat", "flat", "hnsw", "hnsw", "ivfsq8"]
    assert choose_kind(10, StoreSettings(index_kind="HNSW")) == "hnsw"


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(VectorIndexError, match="unknown vector index kind 'annoy'"):
        make_index(unit_vectors(5), StoreSettings(index_kind="annoy"))


def test_flat_is_exact_and_ties_break_by_id():
    x = unit_vectors(50)
    x[7] = x[3]  # a tie
    index = make_index(x)
    assert kind_of(index) == "flat"
    ids, scores = top(index, x[3], 5)
    assert ids[:2].tolist() == [3, 7]
    exact = x @ x[3]
    assert scores == pytest.approx(np.sort(exact)[::-1][:5], abs=1e-6)
    assert np.allclose(reconstruct(index, [7, 3]), x[[7, 3]])


@pytest.mark.parametrize("kind", ["hnsw", "ivfsq8", "ivfpq"])
def test_approximate_kinds_find_the_nearest_vectors(kind):
    x = unit_vectors(2000, dim=48)
    index = make_index(x, StoreSettings(pq_m=16, ivf_nprobe=64), kind=kind)
    assert kind_of(index) == kind
    _, truth = search(make_index(x), x[:20], 5)
    _, found = search(index, x[:20], 5, StoreSettings(pq_m=16, ivf_nprobe=64))
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(found, truth)])
    assert recall >= 0.6
    assert reconstruct(index, [0, 5]).shape == (2, 48)


@pytest.mark.parametrize("kind", ["ivfsq8", "ivfpq"])
def test_ivf_kinds_refuse_too_few_vectors(kind):
    with pytest.raises(VectorIndexError, match="at least 39"):
        make_index(unit_vectors(10), kind=kind)


def test_ivfsq8_is_a_quarter_of_flat_and_nearly_exact():
    import faiss

    x = unit_vectors(4000, dim=64)
    flat, sq8 = make_index(x), make_index(x, kind="ivfsq8")
    assert len(faiss.serialize_index(sq8)) < 0.35 * len(faiss.serialize_index(flat))
    _, truth = search(flat, x[:50], 10)
    _, found = search(sq8, x[:50], 10, StoreSettings(ivf_nprobe=1000))   # every list: only SQ8's rounding
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]) >= 0.9


def test_search_never_asks_for_more_than_the_index_holds():
    index = make_index(unit_vectors(3))
    ids, scores = top(index, unit_vectors(1, seed=1)[0], 10)
    assert sorted(ids.tolist()) == [0, 1, 2] and list(scores) == sorted(scores, reverse=True)


def test_top_of_matrix_matches_a_full_sort():
    x = unit_vectors(300)
    q = unit_vectors(1, seed=2)[0]
    ids, scores = top_of_matrix(x, q, 10)
    assert ids.tolist() == np.argsort(-(x @ q), kind="stable")[:10].tolist()
    assert scores == pytest.approx((x @ q)[ids])


def test_cosines_of_float16_rows_are_float32_and_close_to_exact():
    from rag.vectors import cosines

    x, q = unit_vectors(40), unit_vectors(1, seed=1)[0]
    exact = cosines(x, [3, 5, 7], q)
    half = cosines(x.astype(np.float16), [3, 5, 7], q)
    assert half.dtype == np.float32 and np.allclose(half, exact, atol=2e-3)
    assert np.array_equal(exact, x[[3, 5, 7]] @ q)


def test_unknown_vector_dtype_is_a_clear_error():
    from rag.vectors import vector_dtype

    assert vector_dtype(StoreSettings()) == np.float16
    with pytest.raises(VectorIndexError, match="unknown vector dtype 'int4'"):
        vector_dtype(StoreSettings(vector_dtype="int4"))
