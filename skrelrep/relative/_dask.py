"""RelativeTransformer on dask arrays: anchors and projection without computing ``X``.

Random, stratified, explicit and callable selections read only the anchor rows (the
same anchors as for NumPy input); FPS and k-means run on a uniform sample. The
projection is lazy, block by block over row chunks (see :ref:`dask`). These functions
take validated dask arrays and the transformer's parameters, and return values: the
transformer sets its own fitted state.
"""

import numpy as np
from sklearn.utils import check_random_state

from ..anchors._selection import DATA_STRATEGIES, resolve_n_anchors, select_anchors
from ..similarity._projection import Projection

__all__ = ["dask_anchors", "dask_projection"]


def dask_anchors(
    X, y, X_parallel, *, n_anchors, anchor_selection, random_state, estimator
):
    """``(anchors, indices)``: the anchor rows of a dask array ``X``, as NumPy.

    ``X`` has known row chunks (see ``_validation.validate_dask``); ``estimator``
    names the caller in error messages.
    """
    from ..utils import _dask

    n_samples = X.shape[0]
    y = _dask.compute_vector(y, n_samples)
    n_anchors = resolve_n_anchors(n_anchors, anchor_selection, n_samples)
    rng = check_random_state(random_state)
    if isinstance(anchor_selection, str) and anchor_selection in DATA_STRATEGIES:
        sample_size = _dask.fit_sample_size(n_samples, n_anchors)
        if sample_size < n_samples:
            sample = np.sort(rng.choice(n_samples, size=sample_size, replace=False))
        else:  # the whole data set: draw nothing, so the anchors match NumPy's
            sample = np.arange(n_samples)
        X_sample = _dask.compute_rows(X, sample, estimator)
        y_sample = None if y is None else y[sample]
        # X_parallel only to be refused: these strategies do not read it.
        local = select_anchors(
            X_sample,
            y_sample,
            n_anchors,
            anchor_selection,
            rng,
            np,
            X_parallel=X_parallel,
        )
        return X_sample[local], sample[local]
    # Only the row count, y and rng are read: the same indices as NumPy's.
    indices = select_anchors(
        X, y, n_anchors, anchor_selection, rng, np, X_parallel=X_parallel
    )
    return _dask.compute_rows(X, indices, estimator), indices


def dask_projection(X, projection, *, estimator):
    """Lazy relative representation of a validated dask array, blockwise over rows.

    ``projection`` is the transformer's :class:`Projection`; its arrays enter the
    task graph once each.
    """
    from ..utils import _dask

    if projection.top_k is not None:
        raise ValueError(
            "top_k gives sparse output, which RelativeTransformer does not produce "
            "for dask arrays; transform blocks with map_blocks, or leave top_k=None."
        )
    return _dask.map_row_blocks(
        _project_block,
        X,
        {
            "anchors": projection.anchors,
            "mean": projection.mean,
            "scale": projection.scale,
        },
        n_features_out=projection.n_outputs,
        dtype=X.dtype,
        estimator=estimator,
        similarity=projection.similarity,
        exponent=projection.exponent,
        batch_size=projection.batch_size,
    )


def _project_block(block, anchors, mean, scale, *, similarity, exponent, batch_size):
    """The NumPy projection of one block of a dask array (see ``map_row_blocks``)."""
    projection = Projection(
        anchors,
        similarity,
        mean=mean,
        scale=scale,
        exponent=exponent,
        batch_size=batch_size,
    )
    return projection(block, np)
