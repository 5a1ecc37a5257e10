"""Relative projections beyond the plain cosine: other similarities, their product, ASIF.

The plain cosine projection (:func:`skrelrep._similarity.cosine_projection`) is the fast
path. Everything else goes through :func:`relative_projection`, which works on one chunk
of rows at a time, so the working set stays one chunk whatever is asked for:

- pre-projection scaling of each feature by its spread over the anchors (invariance to
  non-isotropic rescaling, Garcia-Castellanos et al., 2024);
- several similarities (cosine, Euclidean, L1, L-infinity), each normalised per row and
  then aggregated: a product of invariances (Cannistraci et al., ICLR 2024);
- an exponent on the similarities and a top-k sparsification (ASIF, Norelli et al., 2023).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.metrics.pairwise import pairwise_distances
from sklearn.utils import gen_batches

from ._compat import is_numpy_namespace
from ._similarity import chunk_n_rows, cosine_projection, inverse_norms, normalize_rows

__all__ = ["SIMILARITIES", "project", "relative_projection"]

SIMILARITIES = ("cosine", "euclidean", "l1", "linf")


def project(
    X, anchors, xp, *, mean=None, scale=None, options=None, batch_size=None, device=None
):
    """The relative representation of ``X``: the one entry point of every code path.

    ``options`` holds the keyword arguments of :func:`relative_projection` that differ
    from the plain cosine (``similarities``, ``output_normalization``, ``aggregation``,
    ``exponent``, ``top_k``); with none of them and no ``scale``, the plain cosine
    kernel runs, which is the fast path.
    """
    options = options or {}
    plain = scale is None and all(
        options.get(name, default) == default
        for name, default in [
            ("similarities", ("cosine",)),
            ("output_normalization", None),
            ("aggregation", "concatenate"),
            ("exponent", 1),
            ("top_k", None),
        ]
    )
    if plain:
        return cosine_projection(
            X, anchors, xp, mean=mean, batch_size=batch_size, device=device
        )
    return relative_projection(
        X,
        anchors,
        xp,
        mean=mean,
        scale=scale,
        batch_size=batch_size,
        device=device,
        **options,
    )


def _distances(block, anchors, metric, xp):
    """Pairwise distances of a chunk of rows to the anchors, in the chunk's dtype."""
    if is_numpy_namespace(xp):
        name = {"euclidean": "euclidean", "l1": "manhattan", "linf": "chebyshev"}[
            metric
        ]
        return pairwise_distances(block, anchors, metric=name).astype(
            block.dtype, copy=False
        )
    if metric == "euclidean":
        squared = (
            xp.sum(block * block, axis=1)[:, None]
            - 2 * (block @ anchors.T)
            + xp.sum(anchors * anchors, axis=1)[None, :]
        )
        return xp.sqrt(xp.clip(squared, 0, None))
    difference = xp.abs(block[:, None, :] - anchors[None, :, :])
    return xp.sum(difference, axis=2) if metric == "l1" else xp.max(difference, axis=2)


def _dense(block):
    return block.toarray() if sp.issparse(block) else block


def _normalize(similarities, how, xp):
    """Per-row normalisation of one relative space, so that spaces can be aggregated."""
    if how is None:
        return similarities
    if how == "l2":
        return normalize_rows(similarities, xp)
    # "standard": zero mean and unit spread across the anchors of each row.
    centred = similarities - xp.mean(similarities, axis=1)[:, None]
    spread = xp.sqrt(xp.mean(centred * centred, axis=1))
    return centred * inverse_norms(spread, xp)[:, None]


def _signed_power(values, exponent, xp):
    if exponent == 1:
        return values
    return xp.sign(values) * xp.abs(values) ** exponent


def _top_k_rows(block, k):
    """Keep the k largest entries of each row of a dense NumPy block, as CSR."""
    n_rows, n_columns = block.shape
    k = min(k, n_columns)
    columns = np.argpartition(-block, k - 1, axis=1)[:, :k]
    columns.sort(axis=1)
    values = np.take_along_axis(block, columns, axis=1)
    indptr = np.arange(0, n_rows * k + 1, k)
    return sp.csr_matrix((values.ravel(), columns.ravel(), indptr), shape=block.shape)


def relative_projection(
    X,
    anchors,
    xp,
    *,
    mean=None,
    scale=None,
    similarities=("cosine",),
    output_normalization=None,
    aggregation="concatenate",
    exponent=1,
    top_k=None,
    batch_size=None,
    device=None,
):
    """Relative representation of ``X`` for any combination of the options.

    Parameters
    ----------
    X : array of shape (n_samples, n_features) or CSR matrix
    anchors : array of shape (n_anchors, n_features)
        Anchors already centred by ``mean`` and divided by ``scale`` (not normalised).
    xp : namespace of ``X``
    mean, scale : arrays of shape (n_features,) or None
        Applied to each chunk of ``X`` as ``(X - mean) / scale``.
    similarities : tuple of {"cosine", "euclidean", "l1", "linf"}
        Cosine similarity, or a distance turned into a similarity by negation.
    output_normalization : {None, "l2", "standard"}
        Per-row normalisation of each similarity's block before aggregation.
    aggregation : {"concatenate", "sum", "mean"}
    exponent : float
        Sign-preserving power applied to the aggregated similarities.
    top_k : int or None
        Keep the ``top_k`` largest entries per row; the result is then a CSR matrix.
    batch_size : int or None
        Rows per chunk; by default as many as ``working_memory`` allows.
    device : device of ``X``

    Returns
    -------
    out : array of shape (n_samples, n_outputs), or CSR matrix when ``top_k`` is set
    """
    n_samples, n_features = X.shape
    n_anchors = anchors.shape[0]
    n_blocks = len(similarities)
    width = n_anchors * (n_blocks if aggregation == "concatenate" else 1)
    numpy_namespace = is_numpy_namespace(xp)
    itemsize = (
        np.dtype(X.dtype).itemsize if numpy_namespace else xp.finfo(X.dtype).bits // 8
    )
    # L1 and L-infinity outside NumPy broadcast a (rows, anchors, features) difference.
    per_row = n_features + width * 2
    if not numpy_namespace and {"l1", "linf"} & set(similarities):
        per_row += n_anchors * n_features
    chunk = chunk_n_rows(n_samples, itemsize * per_row, batch_size=batch_size)
    unit_anchors = normalize_rows(anchors, xp) if "cosine" in similarities else None
    # Euclidean distances use |x|^2 - 2 x.a + |a|^2 (one GEMM); measuring from the
    # anchors' mean keeps the norms, and so the cancellation error, small.
    origin = xp.mean(anchors, axis=0) if "euclidean" in similarities else None

    pieces = []
    out = None
    if top_k is None:
        out = (
            np.empty((n_samples, width), dtype=X.dtype)
            if numpy_namespace
            else xp.empty((n_samples, width), dtype=X.dtype, device=device)
        )
    for rows in gen_batches(n_samples, chunk):
        block = X[rows, :]
        if mean is not None or scale is not None:
            if sp.issparse(block):
                block = block.toarray()
            if mean is not None:
                block = block - mean
            if scale is not None:
                block = block / scale
        elif sp.issparse(block) and set(similarities) - {"cosine"}:
            block = block.toarray()
        spaces = []
        for name in similarities:
            if name == "cosine":
                values = cosine_projection(
                    block, unit_anchors, xp, batch_size=block.shape[0], device=device
                )
            elif name == "euclidean":
                values = -_distances(_dense(block) - origin, anchors - origin, name, xp)
            else:
                values = -_distances(block, anchors, name, xp)
            spaces.append(_normalize(values, output_normalization, xp))
        if aggregation == "concatenate":
            values = spaces[0] if n_blocks == 1 else xp.concat(spaces, axis=1)
        else:
            values = spaces[0]
            for other in spaces[1:]:
                values = values + other
            if aggregation == "mean":
                values = values / n_blocks
        values = _signed_power(values, exponent, xp)
        if top_k is None:
            out[rows, :] = values
        else:
            pieces.append(_top_k_rows(np.asarray(values), top_k))
    if top_k is not None:
        return sp.vstack(pieces, format="csr") if pieces else sp.csr_matrix((0, width))
    return out
