"""QueryBridge on fabricated spaces: what it bridges, what it refuses to invent."""

import pickle

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skrelrep import LatentTranslator
from skrelrep.retrieval import QueryBridge


def _fit(pair, a, u, **params):
    bridge = QueryBridge(random_state=0, **params)
    return bridge.fit(
        pair["new"][a],
        pair["old"][a],
        index=pair["old"],
        unpaired_queries=None if u is None else pair["queries"][u],
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_queries", [True, False])
def test_a_rotated_noisy_copy_is_bridged_to_near_perfect_recall(
    spaces, seed, with_queries
):
    make_pair, split, recall_at_10 = spaces
    pair = make_pair(seed=seed)
    a, u, t = split(400, 40, 150, 150, seed=seed)
    bridge = _fit(pair, a, u if with_queries else None)
    ids = bridge.kneighbors(pair["queries"][t], return_distance=False)
    # Re-embedding: the new model's queries among its own documents.
    new = pair["new"] / np.linalg.norm(pair["new"], axis=1, keepdims=True)
    reembedded = np.argsort(-(pair["queries"][t] @ new.T), axis=1)[:, :10]
    assert recall_at_10(ids, t) >= 0.97 * recall_at_10(reembedded, t)
    assert recall_at_10(ids, t) >= 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unrelated_spaces_are_never_bridged_above_chance(spaces, seed):
    make_pair, split, recall_at_10 = spaces
    pair = make_pair(related=False, seed=seed)
    a, u, t = split(400, 60, 150, 150, seed=seed)
    bridge = _fit(pair, a, u)
    ids = bridge.kneighbors(pair["queries"][t], return_distance=False)
    chance = 10 / 400
    # Three standard errors of a chance recall over 150 queries.
    assert recall_at_10(ids, t) <= chance + 3 * np.sqrt(chance * (1 - chance) / 150)
    # ... and the forecast says so.
    low, _ = bridge.forecast_["interval"]
    assert bridge.forecast_["recall@10"] <= 0.2
    assert low <= 0.05


def test_self_training_never_lowers_the_held_out_anchors(spaces):
    make_pair, split, _ = spaces
    for related in (True, False):
        pair = make_pair(related=related, query_noise=0.6, seed=3)
        a, u, _ = split(400, 30, 200, 0, seed=3)
        bridge = _fit(pair, a, u)
        results = bridge.cv_results_
        margins = np.array(results["mean_margin"])
        relative_start = (np.array(results["step"]) == "start") & (
            np.array(results["setting"]) == "relative"
        )
        chosen = margins[np.array(results["chosen"])]
        # The chosen setting's cross-validated margin is the best of every setting
        # tried, self-training rounds included (the relative start, whose margins
        # are in another space, is only ever a start).
        assert chosen.shape == (1,)
        assert chosen[0] >= margins[~relative_start].max()


def test_self_training_helps_held_out_anchors_it_never_saw(spaces):
    make_pair, split, recall_at_10 = spaces
    pair = make_pair(noise=0.4, seed=4)
    a, u, _ = split(400, 20, 300, 0, seed=4)
    # Further pairs, held out from every fit: their new rows must find their old.
    held = np.setdiff1d(np.arange(400), np.concatenate([a]))[:100]
    plain = _fit(pair, a, None, max_epochs=0)
    trained = _fit(pair, a, u, max_epochs=0)
    assert trained.n_rounds_ >= 1
    found_plain = plain.kneighbors(pair["new"][held], return_distance=False)
    found_trained = trained.kneighbors(pair["new"][held], return_distance=False)
    assert recall_at_10(found_trained, held) >= recall_at_10(found_plain, held)


def test_few_anchors_start_from_relative_representations(spaces):
    make_pair, split, recall_at_10 = spaces
    pair = make_pair(n_features=32, noise=0.3, seed=5)
    a, u, t = split(400, 12, 300, 80, seed=5)
    bridge = _fit(pair, a, u)
    # 12 anchors in 32 dimensions: a translation is underdetermined.
    translator = LatentTranslator().fit(pair["new"][a], pair["old"][a])
    mapped = translator.transform(pair["queries"][t])
    old = pair["old"] / np.linalg.norm(pair["old"], axis=1, keepdims=True)
    direct = np.argsort(-(mapped @ old.T), axis=1)[:, :10]
    ids = bridge.kneighbors(pair["queries"][t], return_distance=False)
    assert recall_at_10(ids, t) > recall_at_10(direct, t) + 0.2


def test_kneighbors_is_the_brute_force_search_of_transform(rotated):
    pair, a, u, t = rotated
    bridge = _fit(pair, a, u)
    mapped = bridge.transform(pair["queries"][t])
    scores = mapped @ bridge.index_.T - bridge.penalty_
    order = np.lexsort((np.broadcast_to(np.arange(400), scores.shape), -scores))
    distances, ids = bridge.kneighbors(pair["queries"][t], n_neighbors=7)
    np.testing.assert_array_equal(ids, order[:, :7])
    np.testing.assert_allclose(
        distances, 1 - np.take_along_axis(scores, order[:, :7], 1), atol=1e-12
    )
    # In blocks of a few rows and columns: the same answer.
    with config_context(working_memory=0.001):
        np.testing.assert_array_equal(
            bridge.kneighbors(pair["queries"][t], n_neighbors=7)[1], ids
        )
    assert np.all(np.diff(distances, axis=1) >= 0)


def test_float32_stays_float32(spaces):
    make_pair, split, _ = spaces
    pair = make_pair(dtype=np.float32)
    a, u, t = split(400, 40, 100, 50)
    bridge = _fit(pair, a, u)
    assert bridge.index_.dtype == np.float32
    assert bridge.coef_.dtype == np.float32
    assert bridge.transform(pair["queries"][t]).dtype == np.float32
    distances, _ = bridge.kneighbors(pair["queries"][t])
    assert distances.dtype == np.float32
    assert bridge.transform(pair["queries"][t].astype(np.float64)).dtype == np.float64


def test_pickle_and_clone(rotated):
    pair, a, u, t = rotated
    bridge = _fit(pair, a, u)
    loaded = pickle.loads(pickle.dumps(bridge))
    np.testing.assert_array_equal(
        loaded.kneighbors(pair["queries"][t])[1],
        bridge.kneighbors(pair["queries"][t])[1],
    )
    fresh = clone(bridge)
    assert fresh.get_params() == bridge.get_params()
    with pytest.raises(NotFittedError):
        fresh.transform(pair["queries"][t])


def test_same_seed_same_bridge(rotated):
    pair, a, u, _ = rotated
    first, second = _fit(pair, a, u), _fit(pair, a, u)
    np.testing.assert_array_equal(first.coef_, second.coef_)
    np.testing.assert_array_equal(first.penalty_, second.penalty_)


def test_the_fitted_settings_are_reported(rotated):
    pair, a, u, _ = rotated
    bridge = _fit(pair, a, u)
    assert bridge.start_ in ("translation", "relative")
    assert bridge.method_ in ("orthogonal", "linear", "affine")
    assert bridge.hubness_ in ("csls", None)
    assert bridge.n_pairs_ >= 40
    results = bridge.cv_results_
    assert sum(results["chosen"]) == 1
    assert len({len(column) for column in results.values()}) == 1
    assert 0 <= bridge.cv_score_ <= 1
    forecast = bridge.forecast_
    low, high = forecast["interval"]
    assert 0 <= low <= forecast["recall@10"] <= high


def test_the_index_defaults_to_the_anchors(rotated):
    pair, a, _, _ = rotated
    bridge = QueryBridge(random_state=0).fit(pair["new"][a], pair["old"][a])
    assert bridge.index_.shape == (40, 16)
    ids = bridge.kneighbors(pair["new"][a], n_neighbors=1, return_distance=False)
    assert np.mean(ids[:, 0] == np.arange(40)) >= 0.9


def test_anchors_outside_the_index(rotated):
    pair, a, u, _ = rotated
    # The index lacks the anchors' items: cross-validation adds their old rows.
    rest = np.setdiff1d(np.arange(400), a)
    bridge = QueryBridge(random_state=0).fit(
        pair["new"][a],
        pair["old"][a],
        index=pair["old"][rest],
        unpaired_queries=pair["queries"][u],
    )
    assert bridge.index_.shape[0] == rest.size
    assert bridge.cv_score_ > 0.9
