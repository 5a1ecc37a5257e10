"""RelativeTransformer on dask arrays: fit and transform without computing ``X`` whole.

Random, stratified, explicit and callable selections read only the anchor rows (the
same anchors as for NumPy input); FPS and k-means run on a uniform sample. The
projection is lazy, block by block over row chunks (see :ref:`dask`).
"""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from ..anchors._selection import DATA_STRATEGIES, resolve_n_anchors, select_anchors
from ..similarity._projection import relative_projection
from ._input_space import width_hint
from ._validation import HINT

__all__ = ["fit_dask", "transform_dask"]


def fit_dask(estimator, X, y, X_parallel):
    """Fit ``estimator`` (a RelativeTransformer) on a dask array ``X``."""
    from ..utils import _dask

    X = _dask.check_dask_array(X, estimator)
    # Sets n_features_in_ and drops feature_names_in_, without converting X.
    validate_data(estimator, X, skip_check_array=True, reset=True)
    X = _dask.with_known_rows(X, estimator)
    n_samples = X.shape[0]
    y = _dask.compute_vector(y, n_samples)
    selection = estimator.anchor_selection
    n_anchors = resolve_n_anchors(estimator.n_anchors, selection, n_samples)
    rng = check_random_state(estimator.random_state)
    if isinstance(selection, str) and selection in DATA_STRATEGIES:
        sample_size = _dask.fit_sample_size(n_samples, n_anchors)
        if sample_size < n_samples:
            sample = np.sort(rng.choice(n_samples, size=sample_size, replace=False))
        else:  # the whole data set: draw nothing, so the anchors match NumPy's
            sample = np.arange(n_samples)
        X_sample = _dask.compute_rows(X, sample, estimator)
        y_sample = None if y is None else y[sample]
        # X_parallel only to be refused: these strategies do not read it.
        local = select_anchors(
            X_sample, y_sample, n_anchors, selection, rng, np, X_parallel=X_parallel
        )
        indices, anchors = sample[local], X_sample[local]
    else:
        # Only the row count, y and rng are read: the same indices as NumPy's.
        indices = select_anchors(
            X, y, n_anchors, selection, rng, np, X_parallel=X_parallel
        )
        anchors = _dask.compute_rows(X, indices, estimator)
    estimator._set_anchors(anchors)
    estimator.anchor_indices_ = indices
    estimator.n_samples_seen_ = n_samples
    return estimator


def transform_dask(estimator, X):
    """Lazy relative representation of a dask array, blockwise over row chunks."""
    from ..utils import _dask

    X = _dask.check_dask_array(X, estimator)
    # scikit-learn's feature count and feature name checks, without converting X;
    # the input space is not checked: that would compute X.
    with width_hint(HINT):
        validate_data(estimator, X, skip_check_array=True, reset=False)
    if estimator.top_k is not None:
        raise ValueError(
            "top_k gives sparse output, which RelativeTransformer does not produce "
            "for dask arrays; transform blocks with map_blocks, or leave top_k=None."
        )
    return _dask.map_row_blocks(
        _project_block,
        X,
        {
            name: getattr(estimator, attribute, None)
            for name, attribute in [
                ("anchors", "anchors_"),
                ("mean", "anchor_mean_"),
                ("scale", "anchor_scale_"),
            ]
        },
        n_features_out=estimator._n_features_out,
        dtype=X.dtype,
        estimator=estimator,
        similarity=estimator.similarity_,
        exponent=estimator.exponent,
        batch_size=estimator.batch_size,
    )


def _project_block(block, anchors, mean, scale, *, similarity, exponent, batch_size):
    """The NumPy projection of one block of a dask array (see ``map_row_blocks``)."""
    return relative_projection(
        block,
        anchors,
        similarity,
        np,
        mean=mean,
        scale=scale,
        exponent=exponent,
        batch_size=batch_size,
    )
