"""The bridge's forecast: high for a rotated copy, at chance for unrelated spaces,
and an interval that holds the measured fraction of re-embedding's Recall@10."""

import numpy as np
import pytest

from skrelrep.retrieval import QueryBridge
from skrelrep.retrieval._forecast import preserved


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _measured(pair, a, u, t, recall_at_10):
    """The bridge's forecast and the measured fraction of re-embedding's recall."""
    bridge = QueryBridge(random_state=0).fit(
        pair["new"][a],
        pair["old"][a],
        index=pair["old"],
        unpaired_queries=None if u is None else pair["queries"][u],
    )
    ids = bridge.kneighbors(pair["queries"][t], return_distance=False)
    reembedded = np.argsort(-(pair["queries"][t] @ _unit(pair["new"]).T), axis=1)
    fraction = recall_at_10(ids, t) / recall_at_10(reembedded[:, :10], t)
    return bridge.forecast_, fraction


def test_preserved_matches_a_brute_force_count():
    rng = np.random.RandomState(0)
    docs = _unit(rng.normal(size=(60, 5)))
    targets = np.array([3, 17, 42])
    mapped = _unit(docs[targets] + 0.3 * rng.normal(size=(3, 5)))
    found = np.argsort(-(mapped @ docs.T), axis=1)[:, :11]
    expected = []
    for i, target in enumerate(targets):
        order = np.argsort(-(docs[target] @ docs.T))
        reference = [j for j in order if j != target][:10]
        got = [j for j in found[i] if j != target][:10]
        expected.append(len(set(got) & set(reference)) / 10)
    np.testing.assert_allclose(preserved(found, targets, docs), expected)
    # Finding exactly the old neighbourhood keeps all of it.
    own = np.argsort(-(docs[targets] @ docs.T), axis=1)[:, :11]
    np.testing.assert_allclose(preserved(own, targets, docs), 1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_queries", [False, True])
def test_a_rotated_copy_is_forecast_high_and_within_its_interval(
    spaces, seed, with_queries
):
    make_pair, split, recall_at_10 = spaces
    pair = make_pair(seed=seed)
    a, u, t = split(400, 40, 150, 150, seed=seed)
    forecast, fraction = _measured(
        pair, a, u if with_queries else None, t, recall_at_10
    )
    assert forecast["recall@10"] >= 0.8
    low, high = forecast["interval"]
    assert low <= fraction <= high


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unrelated_spaces_are_forecast_near_chance(spaces, seed):
    make_pair, split, recall_at_10 = spaces
    pair = make_pair(related=False, seed=seed)
    a, _, t = split(400, 60, 150, 150, seed=seed)
    forecast, fraction = _measured(pair, a, None, t, recall_at_10)
    # Chance keeps 10 of 400 documents: a fraction of 0.025 over the re-embedded
    # recall (near 1 here); the forecast must not promise much more.
    assert forecast["recall@10"] <= 0.2
    low, high = forecast["interval"]
    assert low <= fraction <= high


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_noisy_pair_is_measured_within_the_interval(spaces, seed):
    make_pair, split, recall_at_10 = spaces
    pair = make_pair(noise=2.0, seed=seed)
    a, _, t = split(400, 40, 150, 150, seed=seed)
    forecast, fraction = _measured(pair, a, None, t, recall_at_10)
    low, high = forecast["interval"]
    assert fraction < 0.95  # a pair the bridge does not copy perfectly
    assert low <= fraction <= high < 1
