import numpy as np
import pytest

from rag.config import StoreSettings
from rag.vectors import VectorIndexError, choose_kind, kind_of, make_index, reconstruct, search, top, top_of_matrix


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_auto_picks_by_size():
    settings = StoreSettings(flat_below=100, hnsw_below=1000)
    assert [choose_kind(n, settings) for n in (0, 99, 100, 999, 1000)] == ["flat", "flat", "hnsw", "hnsw", "ivfpq"]
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


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_approximate_kinds_find_the_nearest_vectors(kind):
    x = unit_vectors(2000, dim=48)
    index = make_index(x, StoreSettings(pq_m=16, ivf_nprobe=64), kind=kind)
    assert kind_of(index) == kind
    _, truth = search(make_index(x), x[:20], 5)
    _, found = search(index, x[:20], 5, StoreSettings(pq_m=16, ivf_nprobe=64))
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(found, truth)])
    assert recall >= 0.6
    assert reconstruct(index, [0, 5]).shape == (2, 48)


def test_ivfpq_refuses_too_few_vectors():
    with pytest.raises(VectorIndexError, match="at least 39"):
        make_index(unit_vectors(10), kind="ivfpq")


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
