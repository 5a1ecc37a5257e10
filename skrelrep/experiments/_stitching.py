"""Stitching matrices across independently trained encoders, absolute vs relative."""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from .._mlp_encoder import MLPEncoder
from .._progress import progress
from .._stitching import StitchedPipeline, stitch
from ..metrics import stitching_matrix

__all__ = [
    "chance_level",
    "default_decoder",
    "stitching_experiment",
    "summarize_stitching",
    "train_encoder",
]


def default_decoder():
    """The decoder of every stitching experiment: a logistic regression."""
    return LogisticRegression(max_iter=2000)


def train_encoder(X, y, seed):
    """The encoder of the seed experiments: a one-hidden-layer tanh MLP, 100 epochs.

    A fixed budget of epochs (not convergence) keeps runs short and comparable; the
    convergence warning this triggers is expected and silenced.
    """
    encoder = MLPEncoder(
        hidden_layer_sizes=(64,), activation="tanh", max_iter=100, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return encoder.fit(X, y)


def stitching_experiment(
    encoders,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    relative,
    decoder=None,
    scoring=None,
    show_progress=True,
):
    """Fit one pipeline per encoder and score every encoder × decoder pair.

    Parameters
    ----------
    encoders : dict of str to fitted transformer, or None
        Trained (or pretrained) encoders by name; they are frozen, not refitted.
        ``None`` means the inputs are already embedded: ``X_train`` and ``X_test``
        are then dicts of each encoder's codes of the same items (row ``i`` is the
        same item in every dict entry), and stitching uses parallel anchors: encoder
        ``e``'s codes of the decoder's anchor items. Embedding once is how slow
        pretrained encoders and encoders of different domains (languages) are run.
    X_train, y_train : training data for the decoders.
    X_test, y_test : test data.
    relative : RelativeTransformer
        The relative projection of the relative pipelines.
    decoder : estimator, default=None
        By default :func:`default_decoder`.
    scoring : str, default=None
        Scorer name; by default accuracy (the decoder's ``score``).
    show_progress : bool, default=True

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``space`` ("absolute" or "relative"), ``encoder``, ``decoder``,
        ``score``, ``stitched``.
    """
    decoder = default_decoder() if decoder is None else decoder
    embedded = encoders is None
    names = list(X_train) if embedded else list(encoders)
    frames = []
    for space, projection in [("absolute", "passthrough"), ("relative", relative)]:
        pipelines = {}
        for name in progress(
            names, description=f"decoders ({space})", enabled=show_progress
        ):
            encoder = (
                FunctionTransformer() if embedded else FrozenEstimator(encoders[name])
            )
            pipelines[name] = StitchedPipeline(
                encoder,
                projection if isinstance(projection, str) else clone(projection),
                clone(decoder),
            ).fit(X_train[name] if embedded else X_train, y_train)

        def parallel_anchors(encoder_name, decoder_name, pipelines=pipelines):
            indices = pipelines[decoder_name].anchor_indices_
            return X_train[encoder_name][np.asarray(indices)]

        frame = stitching_matrix(
            pipelines,
            X=X_test,
            y=y_test,
            anchor_inputs=parallel_anchors
            if embedded and space == "relative"
            else None,
            stitch=stitch,
            scoring=scoring,
        )
        frames.append(frame.assign(space=space))
    frame = pd.concat(frames, ignore_index=True)
    return frame[["space", "encoder", "decoder", "score", "stitched"]]


def summarize_stitching(frame, by=()):
    """Mean same-model and stitched scores per space (and per ``by`` columns).

    Returns
    -------
    summary : pandas.DataFrame
        Columns ``*by, space, same model, stitched, retained`` where ``retained`` is
        stitched / same model.
    """
    keys = [*by, "space"]
    summary = (
        frame.groupby([*keys, "stitched"])["score"]
        .mean()
        .unstack("stitched")
        .reset_index()
    )
    summary = summary.rename(columns={False: "same model", True: "stitched"})
    summary.columns.name = None
    summary["retained"] = summary["stitched"] / summary["same model"]
    return summary


def chance_level(y):
    """Accuracy of always predicting the most frequent class."""
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return counts.max() / counts.sum()
