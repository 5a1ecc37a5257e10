"""Figures of a comparison of two spaces (:func:`skrelrep.metrics.compare_spaces`).

Each function takes the :class:`~skrelrep.metrics.SpaceComparison` and returns a
matplotlib figure, which ``skrelrep compare`` saves as a PNG file. matplotlib comes
with the ``report`` extra (``pip install 'skrelrep[report]'``) and is imported only
when a figure is drawn.
"""

import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import pdist

from .utils._matplotlib import pyplot as _pyplot

__all__ = [
    "plot_anchor_similarities",
    "plot_neighbour_agreement",
    "plot_permutation_nulls",
]


def plot_permutation_nulls(comparison):
    """Each measure against its permutation null: a histogram and the observed value.

    Parameters
    ----------
    comparison : SpaceComparison
        The result of :func:`~skrelrep.metrics.compare_spaces`, with
        ``n_permutations > 0``.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per measure: the null's histogram (the measure with the rows of
        ``B`` permuted) and a red line at the observed value, with its p-value.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import compare_spaces
    >>> from skrelrep.plotting import plot_permutation_nulls
    >>> rng = np.random.RandomState(0)
    >>> A = rng.normal(size=(100, 8))
    >>> comparison = compare_spaces(A, A + rng.normal(size=A.shape), n_permutations=9)
    >>> figure = plot_permutation_nulls(comparison)
    >>> len(figure.axes)
    6
    """
    if comparison.n_permutations == 0:
        raise ValueError(
            "This comparison has no permutation nulls: run compare_spaces with "
            "n_permutations > 0."
        )
    plt = _pyplot()
    rows = list(comparison.measures.itertuples(index=False))
    columns = 3
    n_rows = -(-len(rows) // columns)
    figure, axes = plt.subplots(
        n_rows, columns, figsize=(11, 3.2 * n_rows), constrained_layout=True
    )
    for ax, row in zip(axes.ravel(), rows, strict=False):
        null = comparison.nulls[row.measure]
        null = null[np.isfinite(null)]
        if null.size:
            ax.hist(
                null,
                bins=_bins(null),
                color="tab:grey",
                alpha=0.8,
                label="permuted rows",
            )
        else:
            ax.text(
                0.5,
                0.5,
                "no finite value in the null",
                ha="center",
                transform=ax.transAxes,
            )
        ax.axvline(row.value, color="tab:red", linewidth=2, label="observed")
        ax.set_title(
            f"{row.measure} ({row.codes})\n{row.value:.3f}, p = {row.pvalue:.3g}",
            fontsize=9,
        )
        ax.set_ylabel("permutations")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(rows) :]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=8)
    figure.suptitle(
        f"Observed measures against {comparison.n_permutations} permutations"
    )
    return figure


def plot_neighbour_agreement(comparison):
    """How many of its neighbours each item keeps across the two spaces.

    Parameters
    ----------
    comparison : SpaceComparison
        The result of :func:`~skrelrep.metrics.compare_spaces`.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Left: the histogram of the per-item share of its ``k`` nearest neighbours
        found in both spaces, with its mean (``mutual_knn@k``) and the chance level
        ``k / (n - 1)``. Right: the same shares sorted, so that the items the spaces
        disagree on stand out.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import compare_spaces
    >>> from skrelrep.plotting import plot_neighbour_agreement
    >>> rng = np.random.RandomState(0)
    >>> A = rng.normal(size=(100, 8))
    >>> comparison = compare_spaces(A, A + rng.normal(size=A.shape), n_permutations=0)
    >>> figure = plot_neighbour_agreement(comparison)
    >>> len(figure.axes)
    2
    """
    plt = _pyplot()
    k = comparison.k
    shares = comparison.neighbour_agreement
    chance = k / (shares.shape[0] - 1)
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(10, 3.8), constrained_layout=True
    )
    # One bin per possible share, 0/k .. k/k.
    left.hist(shares, bins=(np.arange(k + 2) - 0.5) / k, color="tab:blue", alpha=0.8)
    left.axvline(np.mean(shares), color="tab:red", label=f"mean {np.mean(shares):.3f}")
    left.axvline(chance, color="tab:grey", linestyle="--", label=f"chance {chance:.3f}")
    left.set_xlabel(f"share of the {k} nearest neighbours kept")
    left.set_ylabel("items")
    left.legend(fontsize=8)
    right.plot(np.sort(shares)[::-1], color="tab:blue")
    right.axhline(chance, color="tab:grey", linestyle="--")
    right.set_xlabel("items, sorted")
    right.set_ylabel("share kept")
    right.set_ylim(-0.02, 1.02)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    figure.suptitle(f"Neighbourhood agreement per item (mutual k-NN, k={k})")
    return figure


def plot_anchor_similarities(comparison, *, names=("A", "B")):
    """The two spaces' similarity structure over the anchors, side by side.

    Each heatmap holds the cosines between the (centred) anchors in one space, the
    values the relative codes are made of. Both are ordered the same way, by a
    hierarchical clustering of the first space's matrix, so that agreeing spaces show
    the same blocks.

    Parameters
    ----------
    comparison : SpaceComparison
        The result of :func:`~skrelrep.metrics.compare_spaces`.
    names : tuple of two str, default=("A", "B")
        The two spaces' names, for the titles.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import compare_spaces
    >>> from skrelrep.plotting import plot_anchor_similarities
    >>> rng = np.random.RandomState(0)
    >>> A = rng.normal(size=(100, 8))
    >>> comparison = compare_spaces(A, A + rng.normal(size=A.shape), n_permutations=0)
    >>> figure = plot_anchor_similarities(comparison, names=("model 1", "model 2"))
    >>> [ax.get_title() for ax in figure.axes[:2]]
    ['model 1', 'model 2']
    """
    plt = _pyplot()
    first, second = comparison.anchor_similarities_a, comparison.anchor_similarities_b
    order = _order(first)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.6), constrained_layout=True)
    for ax, matrix, name in zip(axes, (first, second), names, strict=True):
        image = ax.imshow(matrix[np.ix_(order, order)], vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_title(name)
        ax.set_xlabel("anchor")
        ax.set_ylabel("anchor")
    figure.colorbar(image, ax=axes, shrink=0.8, label="cosine (centred)")
    figure.suptitle(
        f"Similarities between the {comparison.n_anchors} parallel anchors "
        f"(the same order in both)"
    )
    return figure


def _bins(values, n_bins=20):
    """Histogram bin edges for ``values``, also when they span no range.

    A null that is constant up to rounding (two spaces without variance) spans a
    few ulps, too little for ``n_bins`` finite bins: it gets one bin around its
    value instead.
    """
    low, high = float(values.min()), float(values.max())
    scale = max(abs(low), abs(high), 1.0)
    if high - low > 1e-9 * scale:
        return np.linspace(low, high, n_bins + 1)
    half = 0.01 * scale
    return np.array([low - half, high + half])


def _order(matrix):
    """Rows in the leaf order of an average-linkage clustering (a stable order).

    Euclidean between rows: finite even for a zero row (an anchor at the mean). The
    distances are passed condensed, so that a matrix of zeros (anchors without
    variance) is not mistaken for a distance matrix.
    """
    if matrix.shape[0] < 3:
        return np.arange(matrix.shape[0])
    return leaves_list(linkage(pdist(matrix), method="average"))
