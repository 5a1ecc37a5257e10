"""Stitching of pre-embedded encoders over repeated splits, and its tidy summaries.

The text and cross-lingual experiments embed every text once per encoder; these
functions then stitch on the codes, each encoder projecting onto its own codes of the
same anchor items (parallel anchors).
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .. import RelativeTransformer
from ._stitching import (
    beyond_the_paper,
    chance_level,
    default_decoder,
    stitching_experiment,
)

__all__ = [
    "embedded_stitching",
    "matrix_of",
    "pair_table",
    "pair_values",
    "parallel_stitching",
    "random_rotation",
]


def embedded_stitching(
    codes,
    y,
    *,
    n_anchors,
    repeats=1,
    test_size=0.3,
    random_state=0,
    show_progress=None,
    methods=False,
):
    """Stitching matrices of pre-embedded encoders over repeated splits.

    With ``methods=True`` the follow-up methods of
    :func:`~skrelrep.experiments._stitching.beyond_the_paper` are extra rows.

    Parameters
    ----------
    codes : dict of str to ndarray of shape (n_items, d)
        Each encoder's codes of the same items (row ``i`` is item ``i``).
    y : ndarray of shape (n_items,)
        Labels.
    n_anchors : int
        Anchors of the relative projection (chosen at random among the training
        items, centred, the same items for every encoder).
    repeats : int, default=1
        Stratified splits and anchor draws, seeded ``random_state + repeat``.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``repeat, space, encoder, decoder, score, stitched``; ``attrs``
        holds ``chance`` (majority-class accuracy of the test sets, their mean) and
        ``chances`` (one per split).
    """
    y = np.asarray(y)
    frames, chance = [], []
    for repeat, seed, train, test in _splits(y, repeats, test_size, random_state):
        frame = stitching_experiment(
            None,
            {name: X[train] for name, X in codes.items()},
            y[train],
            {name: X[test] for name, X in codes.items()},
            y[test],
            relative=RelativeTransformer(n_anchors, center=True, random_state=seed),
            extra_spaces=(
                beyond_the_paper(
                    n_anchors, seed, width=min(X.shape[1] for X in codes.values())
                )
                if methods
                else None
            ),
            decoder=default_decoder(),
            show_progress=show_progress,
        )
        frames.append(frame.assign(repeat=repeat))
        chance.append(chance_level(y[test]))
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[["repeat", "space", "encoder", "decoder", "score", "stitched"]]
    frame.attrs["chance"] = float(np.mean(chance))
    frame.attrs["chances"] = [float(value) for value in chance]
    return frame


def _splits(y, repeats, test_size, random_state):
    """Stratified splits, seeded ``random_state + repeat``: ``(repeat, seed, train, test)``."""
    for repeat in range(repeats):
        seed = random_state + repeat
        train, test = train_test_split(
            np.arange(len(y)), test_size=test_size, stratify=y, random_state=seed
        )
        yield repeat, seed, train, test


def parallel_stitching(
    codes,
    y,
    *,
    n_anchors=None,
    anchor_codes=None,
    absolute=True,
    repeats=1,
    test_size=0.3,
    random_state=0,
):
    """Same-model and stitched accuracy of pre-embedded encoders, absolute and relative.

    The splits are those of :func:`embedded_stitching` with the same seeds. Each
    encoder projects onto its own codes of the same anchor items: ``n_anchors``
    random training items per split (the items :func:`embedded_stitching` draws), or
    the items of ``anchor_codes`` (the same in every split: texts outside the task).
    Decoders are :func:`~skrelrep.experiments._stitching.default_decoder`.

    Parameters
    ----------
    codes : dict of str to ndarray of shape (n_items, d)
        Each encoder's codes of the same items.
    y : ndarray of shape (n_items,)
    n_anchors : int, default=None
        Random anchors among the training items; or give ``anchor_codes``.
    anchor_codes : dict of str to ndarray of shape (n_anchor_items, d), default=None
        Each encoder's codes of the same anchor items, in the same order.
    absolute : bool, default=True
        Also decode the absolute codes.
    repeats, test_size, random_state
        As for :func:`embedded_stitching`.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``repeat, space, encoder, decoder, score, stitched``; ``attrs``
        holds ``chance``.
    """
    if (n_anchors is None) == (anchor_codes is None):
        raise ValueError("Give exactly one of n_anchors and anchor_codes.")
    y = np.asarray(y)
    names = list(codes)
    rows, chance = [], []
    for repeat, seed, train, test in _splits(y, repeats, test_size, random_state):
        if anchor_codes is None:
            first = RelativeTransformer(n_anchors, center=True, random_state=seed)
            first.fit(codes[names[0]][train])
            indices = np.asarray(first.anchor_indices_)
            anchors = {name: codes[name][train][indices] for name in names}
        else:
            anchors = {name: np.asarray(anchor_codes[name]) for name in names}
        spaces = {"relative": {}}
        if absolute:
            spaces = {"absolute": {name: None for name in names}, **spaces}
        for name in names:
            spaces["relative"][name] = RelativeTransformer(
                None, anchor_selection=np.arange(len(anchors[name])), center=True
            ).fit(anchors[name])
        for space, projections in spaces.items():

            def project(name, rows, projections=projections):
                X = codes[name][rows]
                projection = projections[name]
                return X if projection is None else projection.transform(X)

            decoders = {
                name: default_decoder().fit(project(name, train), y[train])
                for name in names
            }
            for encoder in names:
                inputs = project(encoder, test)
                for decoder in names:
                    score = decoders[decoder].score(inputs, y[test])
                    rows.append(
                        (repeat, space, encoder, decoder, score, encoder != decoder)
                    )
        chance.append(chance_level(y[test]))
    frame = pd.DataFrame(
        rows, columns=["repeat", "space", "encoder", "decoder", "score", "stitched"]
    )
    frame.attrs["chance"] = float(np.mean(chance))
    return frame


def random_rotation(d, random_state=0):
    """A random orthogonal ``d × d`` matrix (Haar-distributed: QR of a Gaussian)."""
    gaussian = np.random.RandomState(random_state).normal(size=(d, d))
    Q, R = np.linalg.qr(gaussian)
    return Q * np.sign(np.diag(R))


def matrix_of(frame):
    """Mean and std over repeats of every space × encoder × decoder score."""
    return (
        frame.groupby(["space", "encoder", "decoder"], sort=False)["score"]
        .agg(["mean", "std"])
        .reset_index()
        .rename(columns={"mean": "score"})
    )


def pair_values(frame, a, b, space):
    """Per repeat, the same-model and the stitched accuracy of ``a`` ↔ ``b``.

    Each is the mean of the two directions (``a`` and ``b`` decoding their own codes;
    ``a``'s codes read by ``b``'s decoder and the reverse), one value per repeat.
    """
    rows = frame[
        (frame["space"] == space)
        & frame["encoder"].isin([a, b])
        & frame["decoder"].isin([a, b])
    ]
    table = rows.pivot_table(
        index="repeat", columns=["encoder", "decoder"], values="score"
    )
    same = (table[(a, a)] + table[(b, b)]) / 2
    stitched = (table[(a, b)] + table[(b, a)]) / 2
    return same.to_numpy(), stitched.to_numpy()


def pair_table(frames, pairs):
    """Mean and std over splits of each pair's same-model and stitched accuracy.

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame
        Tidy results by the anchors they used (``"in-domain"``, ...).
    pairs : list of (str, str)
        Encoder pairs; a pair absent from a frame is skipped.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``pair, anchors, space, same model, same model std, stitched,
        stitched std, splits``.
    """
    rows = []
    for anchors, frame in frames.items():
        present = set(frame["encoder"])
        for a, b in pairs:
            if not {a, b} <= present:
                continue
            for space in frame["space"].unique():
                same, stitched = pair_values(frame, a, b, space)
                row = (f"{a} ↔ {b}", anchors, space, same.mean(), _std(same))
                rows.append((*row, stitched.mean(), _std(stitched), len(same)))
    columns = ["pair", "anchors", "space", "same model", "same model std"]
    return pd.DataFrame(rows, columns=[*columns, "stitched", "stitched std", "splits"])


def _std(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
