"""The maps of the bridge: new-model vectors into the old model's space.

Every map acts on *prepared* new-model rows (see :class:`NewSide`) and returns unit
rows of the old space, where the index is searched by cosine:

- :func:`fit_translation` wraps :class:`~skrelrep.LatentTranslator` (orthogonal
  Procrustes, linear or affine least squares, with its scaling choices);
- :class:`RelativeStart` compares both spaces through their cosines to the anchors
  (relative representations), the better start when anchors are few;
- :func:`refine_contrastive` fine-tunes an affine map for retrieval itself: a
  softmax over each pair's hardest index documents, from the translation it starts at.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from .._translation import LatentTranslator
from ..utils._norms import normalize_rows
from ._search import sweep

__all__ = ["AffineMap", "NewSide", "RelativeStart", "fit_translation", "unit"]


def unit(X):
    """Unit rows (zero rows stay zero), in the dtype of ``X``."""
    return normalize_rows(X, np)


@dataclass
class NewSide:
    """How new-model rows are prepared: unit rows, centred, unit rows again.

    Passages (the anchors) and queries are centred apart, each on its own mean: a
    query encoder often puts queries and passages around different centres (e5's
    ``query:`` and ``passage:`` prefixes), an offset that the anchors, which are
    passages, cannot teach a map. Without unpaired queries, queries are centred on
    the anchors' mean.
    """

    anchor_mean: np.ndarray
    query_mean: np.ndarray

    @classmethod
    def fit(cls, anchors, queries=None):
        anchor_mean = unit(anchors).mean(axis=0)
        query_mean = anchor_mean if queries is None else unit(queries).mean(axis=0)
        return cls(anchor_mean, query_mean)

    def anchors(self, X):
        return unit(unit(X) - self.anchor_mean.astype(X.dtype))

    def queries(self, X):
        return unit(unit(X) - self.query_mean.astype(X.dtype))


@dataclass
class AffineMap:
    """``x -> unit(x @ coef + intercept)``: prepared new rows to unit old rows."""

    coef: np.ndarray
    intercept: np.ndarray

    def __call__(self, X):
        return unit(X @ self.coef.astype(X.dtype) + self.intercept.astype(X.dtype))


def fit_translation(X, Y, method="orthogonal", scaling="isotropic"):
    """A :class:`~skrelrep.LatentTranslator` from pairs ``(X[i], Y[i])``, as a map."""
    with warnings.catch_warnings():
        # Underdetermined least squares are never candidates; rounding-level
        # warnings of a fit on a few pairs say nothing the CV scores do not.
        warnings.simplefilter("ignore", UserWarning)
        translator = LatentTranslator(
            method, scaling=scaling, check_input_space=False
        ).fit(X, Y)
    return AffineMap(translator.coef_.T.copy(), translator.intercept_.copy())


class RelativeStart:
    """Both spaces as cosines to the anchors, each centred on its own data.

    A new row ``x`` becomes ``unit(x @ anchors_new.T)`` (prepared rows), an old row
    ``d`` becomes ``unit(centre(d) @ centre(anchors_old).T)``: the relative
    representation of Moschella et al., in which rows of the two spaces compare
    directly. Unlike a translation it needs no more anchors than features.
    """

    def __init__(self, anchors_new, anchors_old, doc_mean):
        self.anchors_new = anchors_new
        self.doc_mean = doc_mean.astype(anchors_old.dtype)
        self.anchors_old = unit(anchors_old - self.doc_mean)

    def new(self, X):
        return unit(X @ self.anchors_new.T)

    def old(self, D):
        return unit(unit(D - self.doc_mean) @ self.anchors_old.T)


def refine_contrastive(
    start,
    X,
    D,
    targets,
    *,
    epochs,
    rng,
    n_negatives=32,
    batch_size=256,
    temperature=0.05,
    learning_rate=3e-4,
    max_bytes=None,
):
    """Fine-tune an affine map for retrieval: softmax over hard negatives.

    Each pair ``(X[i], D[targets[i]])`` is scored against the ``n_negatives`` index
    documents the current map ranks highest for ``X[i]`` (found again each epoch),
    with the cross-entropy of a softmax at ``temperature``, and the map ``(W, b)``
    is updated by Adam on mini-batches, starting from ``start``. Least squares fit
    each pair's point; this fits the ranking the index is searched by.

    Yields the map after each epoch.
    """
    dtype = X.dtype
    weights = np.vstack([start.coef, start.intercept[None]]).astype(dtype)
    design = np.hstack([X, np.ones((X.shape[0], 1), dtype=dtype)])
    first, second = np.zeros_like(weights), np.zeros_like(weights)
    n_pairs, scale, t = X.shape[0], 1.0 / temperature, 0
    n_negatives = min(n_negatives, D.shape[0] - 1)
    if n_negatives < 1:  # a one-document index ranks nothing
        return
    for _ in range(epochs):
        mapped = unit(design @ weights)
        # The best n_negatives + 1 documents, less the target where it is one.
        found = sweep(mapped, D, row_k=n_negatives + 1, max_bytes=max_bytes)[0][1]
        negatives = _drop_targets(found, targets, n_negatives)
        candidates = np.hstack([targets[:, None], negatives])
        order = rng.permutation(n_pairs)
        for start_row in range(0, n_pairs, batch_size):
            rows = order[start_row : start_row + batch_size]
            docs = D[candidates[rows]]
            raw = design[rows] @ weights
            norms = np.linalg.norm(raw, axis=1, keepdims=True)
            norms[norms == 0] = 1
            queries = raw / norms
            logits = scale * np.einsum("nd,nmd->nm", queries, docs)
            logits -= logits.max(axis=1, keepdims=True)
            probabilities = np.exp(logits)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            probabilities[:, 0] -= 1
            grad_unit = scale * np.einsum("nm,nmd->nd", probabilities, docs)
            grad_unit /= probabilities.shape[0]
            grad_raw = (
                grad_unit - (grad_unit * queries).sum(axis=1, keepdims=True) * queries
            ) / norms
            gradient = design[rows].T @ grad_raw
            t += 1
            first = 0.9 * first + 0.1 * gradient
            second = 0.999 * second + 0.001 * gradient * gradient
            step = first / (1 - 0.9**t) / (np.sqrt(second / (1 - 0.999**t)) + 1e-8)
            weights -= (learning_rate * step).astype(dtype)
        yield AffineMap(weights[:-1].copy(), weights[-1].copy())


def _drop_targets(found, targets, n_negatives):
    """Each row's found documents less its target, ``n_negatives`` of them."""
    is_target = found == targets[:, None]
    # Rows without their target among the found lose their last (worst) one.
    is_target[~is_target.any(axis=1), -1] = True
    return found[~is_target].reshape(found.shape[0], n_negatives)
