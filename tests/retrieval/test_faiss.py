"""Serving a bridge from FAISS ranks as the bridge's own brute-force search."""

import numpy as np
import pytest

faiss = pytest.importorskip("faiss")

from skrelrep.retrieval import QueryBridge, faiss_index, search_faiss  # noqa: E402


@pytest.fixture
def bridge(rotated):
    pair, a, u, t = rotated
    fitted = QueryBridge(hubness="csls", max_epochs=0, random_state=0).fit(
        pair["new"][a],
        pair["old"][a],
        index=pair["old"],
        unpaired_queries=pair["queries"][u],
    )
    return fitted, pair["queries"][t]


def _brute_scores(bridge, queries):
    mapped = bridge.transform(queries)
    return mapped @ bridge.index_.T - bridge.penalty_


def test_flat_index_is_the_corrected_brute_force_search(bridge):
    fitted, queries = bridge
    assert fitted.hubness_ == "csls" and np.ptp(fitted.penalty_) > 0
    k = 10
    distances, ids = search_faiss(fitted, faiss_index(fitted), queries, n_neighbors=k)
    brute = _brute_scores(fitted, queries)
    expected = -np.sort(-brute, axis=1)[:, :k]
    # The scores at each rank are the brute-force ones, and each returned row has
    # the score it was returned with (ties within float32 may swap rows).
    np.testing.assert_allclose(1 - distances, expected, atol=1e-5)
    np.testing.assert_allclose(
        np.take_along_axis(brute, ids, axis=1), 1 - distances, atol=1e-5
    )
    _, bridge_ids = fitted.kneighbors(queries, n_neighbors=k)
    assert (ids == bridge_ids).mean() > 0.99


def test_the_correction_changes_the_ranking(bridge):
    # Without the extra coordinate (plain cosine), FAISS would rank otherwise: the
    # test above can fail.
    fitted, queries = bridge
    _, ids = search_faiss(fitted, faiss_index(fitted), queries, n_neighbors=10)
    plain = np.argsort(-(fitted.transform(queries) @ fitted.index_.T), axis=1)[:, :10]
    assert (ids != plain).any()


def test_an_approximate_index_finds_the_corrected_neighbours(bridge):
    fitted, queries = bridge
    _, ids = search_faiss(fitted, faiss_index(fitted, "HNSW32"), queries, 10)
    _, exact = fitted.kneighbors(queries, n_neighbors=10)
    found = np.mean(
        [len(set(a) & set(b)) / 10 for a, b in zip(ids, exact, strict=True)]
    )
    assert found > 0.9


def test_an_index_of_another_width_is_refused(bridge):
    fitted, queries = bridge
    other = faiss.IndexFlatIP(fitted.n_features_out_)
    other.add(fitted.index_.astype(np.float32))
    with pytest.raises(ValueError, match=r"faiss_index\(bridge\)"):
        search_faiss(fitted, other, queries)
    with pytest.raises(ValueError, match="n_neighbors"):
        search_faiss(fitted, faiss_index(fitted), queries, n_neighbors=10_000)
