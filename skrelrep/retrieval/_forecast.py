"""Forecast: the fraction of re-embedding's Recall@10 a bridge will keep."""

import numpy as np

from ._search import sweep

__all__ = ["forecast", "preserved"]

# The neighbourhood compared: the old model's 10 nearest other documents.
N_NEIGHBOURS = 10


def preserved(found, targets, docs, *, max_bytes=None):
    """The share of each held-out anchor's old-model neighbourhood the bridge finds.

    Parameters
    ----------
    found : ndarray of shape (n, >= N_NEIGHBOURS + 1)
        The documents the bridged new vectors of the held-out anchors retrieve, best
        first (in the bridge's own scores, CSLS included when used).
    targets : ndarray of shape (n,)
        Each anchor's own row in ``docs``.
    docs : ndarray of shape (n_docs, n_features)
        The searched documents (unit rows of the old model).

    Returns
    -------
    ndarray of shape (n,)
        The fraction of the anchor's old vector's 10 nearest other documents (cosine,
        the re-embedding reference) among the first 10 other documents retrieved.
    """
    k = min(N_NEIGHBOURS, docs.shape[0] - 1)
    if k < 1:
        return np.ones(targets.shape[0])
    (_, reference), _ = sweep(docs[targets], docs, row_k=k + 1, max_bytes=max_bytes)
    out = np.empty(targets.shape[0])
    for i, target in enumerate(targets):
        ref = reference[i][reference[i] != target][:k]
        got = found[i][found[i] != target][:k]
        out[i] = np.isin(got, ref).sum() / k
    return out


def forecast(plan, *, n_index, has_queries):
    """The predicted fraction of re-embedding's Recall@10 kept, and an interval.

    Parameters
    ----------
    plan : Plan
        The cross-validated choices; its ``margins`` hold, per held-out anchor, the
        margin of its own document (column 0) and the share of its old-model
        neighbourhood kept (column 2, see :func:`preserved`).
    n_index : int
        The number of documents searched.
    has_queries : bool
        Whether unpaired queries were given (the calibration covers both cases).

    Returns
    -------
    dict
        ``"recall@10"``: the forecast fraction; ``"interval"``: ``(low, high)``.

    Notes
    -----
    A query is near its answer, not identical to it, so a held-out anchor finding
    its own document overstates how often a query finds its answer. What carries
    over is whether the bridge keeps neighbourhoods: for each held-out anchor of the
    cross-validation, the old model's 10 nearest other documents to the anchor's old
    vector stand for the documents a re-embedded query near it would retrieve, and
    the share of them among the 10 other documents its bridged new vector retrieves
    says how much of that neighbourhood the bridge keeps. The share alone ranks
    bridges but its scale differs between pairs of models; with the held-out
    self-retrieval rate it is calibrated as
    ``logit(kept) = a + b logit(share) + c logit(self-retrieval)``, both read above
    chance (10 documents of the index), on pairs of text encoders (MiniLM-L3,
    MiniLM-L6, e5, mean word vectors; 50 to 2,000 anchors, with and without
    unpaired queries). The interval is the forecast at the mean share and
    self-retrieval rate moved by two standard errors over the held-out anchors,
    widened by the largest error of the calibration when one pair of models is
    left out of it.

    Assumptions: the user's queries resemble the index's documents as the anchors
    do (the anchors are drawn like the index, not chosen), and the old model's
    neighbourhoods of documents are the ones its queries land in. Pairs far from
    those calibrated (other modalities, very small indexes) may fall outside the
    interval.
    """
    margins = np.asarray(plan.margins)
    # Chance: a random top 10 keeps 10 of the index's documents, of the old
    # neighbourhood as of the queries' answers; the calibration reads the excess.
    chance = min(N_NEIGHBOURS / max(n_index, 1), 1.0)
    shares = (margins[:, 2] - chance) / max(1 - chance, 1e-12)
    found = (margins[:, 0] >= 0).astype(float)
    n = max(shares.size - 1, 1)
    share, found_rate = shares.mean(), found.mean()
    share_se, found_se = 2 * shares.std() / np.sqrt(n), 2 * found.std() / np.sqrt(n)

    def kept(share, found_rate):
        return chance + (1 - chance) * _calibrated(share, found_rate)

    value = kept(share, found_rate)
    low = kept(share - share_se, found_rate - found_se) - CALIBRATION_ERROR
    high = kept(share + share_se, found_rate + found_se) + CALIBRATION_ERROR
    return {
        "recall@10": value,
        "interval": (max(low, 0.0), min(high, 1.0)),
    }


def _logit(p, eps):
    p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p))


def _calibrated(share, found_rate):
    """The fraction kept above chance, linear in logits (see forecast's Notes)."""
    a, b, c = CALIBRATION
    logit = a + b * _logit(share, 1e-4) + c * _logit(found_rate, 1e-3)
    return float(1 / (1 + np.exp(-logit)))


# (a, b, c) of forecast's Notes, and the largest error of the calibration when
# the pair of models forecast is left out of it (in fractions).
CALIBRATION = (0.548, 0.387, 0.385)
CALIBRATION_ERROR = 0.18
