"""Fabricated pairs of spaces for the bridge's tests."""

import numpy as np
import pytest


def make_pair(
    *,
    n_docs=400,
    n_features=16,
    n_new=None,
    noise=0.05,
    query_noise=0.3,
    related=True,
    dtype=np.float64,
    seed=0,
):
    """An old space of clustered documents and a new one seeing the same items.

    The new space is a random rotation of the old one (into ``n_new`` features),
    plus ``noise``; or, with ``related=False``, an independent space. Each item's
    query is its new-space row plus ``query_noise``. Returns a dict: ``old`` and
    ``new`` documents, ``queries``.
    """
    rng = np.random.RandomState(seed)
    n_new = n_features if n_new is None else n_new
    centres = rng.normal(size=(20, n_features))
    old = centres[rng.randint(20, size=n_docs)] + 0.7 * rng.normal(
        size=(n_docs, n_features)
    )
    if related:
        rotation = np.linalg.qr(rng.normal(size=(n_new, n_new)))[0][:n_features]
        new = old @ rotation + noise * rng.normal(size=(n_docs, n_new))
    else:
        new = rng.normal(size=(n_docs, n_new)) + rng.normal(size=n_new)
    scale = np.linalg.norm(new, axis=1).mean() / np.sqrt(n_new)
    queries = new + query_noise * scale * rng.normal(size=new.shape)
    return {
        "old": old.astype(dtype),
        "new": new.astype(dtype),
        "queries": queries.astype(dtype),
    }


def split(n_docs, n_anchors, n_unpaired, n_test, seed=0):
    """Disjoint item sets: anchors, unpaired queries, test queries (index positions)."""
    order = np.random.RandomState(seed + 100).permutation(n_docs)
    a = order[:n_anchors]
    u = order[n_anchors : n_anchors + n_unpaired]
    t = order[n_anchors + n_unpaired : n_anchors + n_unpaired + n_test]
    return a, u, t


def recall_at_10(ids, targets):
    return float(np.mean((ids == np.asarray(targets)[:, None]).any(axis=1)))


@pytest.fixture
def rotated():
    """A rotated, noisy copy: anchors, index, unpaired and test queries."""
    pair = make_pair()
    a, u, t = split(400, 40, 150, 150)
    return pair, a, u, t


@pytest.fixture
def spaces():
    """The helpers above, for tests that build their own pairs."""
    return make_pair, split, recall_at_10
