"""The stitching matrix: every encoder against every decoder, as a tidy table."""

import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import check_scoring

from ..stitching import stitch as stitch_pipelines
from ..utils._warnings import warn

__all__ = ["pivot_stitching_matrix", "stitching_matrix"]


def _as_named(models, argument):
    """``{name: model}`` from a mapping, or ``{position: model}`` from a sequence."""
    if isinstance(models, Mapping):
        named = dict(models)
    elif isinstance(models, (str, bytes)) or not hasattr(models, "__iter__"):
        raise TypeError(
            f"{argument} must be a mapping of names to models or a sequence; got "
            f"{type(models).__name__}."
        )
    else:
        named = dict(enumerate(models))
    if not named:
        raise ValueError(f"{argument} is empty.")
    return named


def _for_pair(value, encoder, decoder):
    """The anchor inputs for one pair, from a callable, a mapping or a shared value."""
    if callable(value):
        return value(encoder, decoder)
    if isinstance(value, Mapping):
        if (encoder, decoder) in value:
            return value[(encoder, decoder)]
        return value.get(encoder)
    return value


def _looks_like_data(models):
    """Whether ``models`` is test data rather than models: an array or rows of values."""
    if isinstance(models, Mapping):
        return False
    if hasattr(models, "shape") and (
        hasattr(models, "dtype") or hasattr(models, "dtypes")
    ):
        return True  # an array, a sparse matrix, a tensor, a DataFrame or a Series
    if isinstance(models, (str, bytes)) or not hasattr(models, "__iter__"):
        return False
    values = (str, bytes, int, float, complex, np.generic, np.ndarray)
    return any(isinstance(model, values) for model in models)


def _data_error(argument, models):
    shape = getattr(models, "shape", None)
    what = (
        f"{type(models).__name__} of shape {tuple(shape)}"
        if shape is not None
        else f"{type(models).__name__} of values"
    )
    return TypeError(
        f"{argument} looks like data (a {what}), not fitted models. The test data go "
        "by keyword: stitching_matrix(models, X=X_test, y=y_test), or "
        "stitching_matrix(encoders, decoders, X=X_test, y=y_test)."
    )


def _keyword_data(function):
    """Accept the test data given positionally after ``decoders``, with a warning.

    ``stitching_matrix(models, X_test, y_test)`` would bind ``X_test`` to
    ``decoders``: that form is refused with an error naming the fix, and the older
    ``stitching_matrix(encoders, decoders, X, y)`` is deprecated.
    """

    @functools.wraps(function)
    def wrapper(encoders, decoders=None, *args, **kwargs):
        if args:
            if _looks_like_data(decoders):
                raise _data_error("decoders", decoders)
            if len(args) > 2:
                raise TypeError(
                    "stitching_matrix takes encoders and decoders by position (and, "
                    "deprecated, X and y); pass everything else by keyword."
                )
            names = ("X", "y")[: len(args)]
            for name in names:
                if name in kwargs:
                    raise TypeError(f"stitching_matrix got two values for {name}.")
            warn(
                f"Passing {' and '.join(names)} by position to stitching_matrix is "
                "deprecated and will raise an error in a future version: pass "
                f"{', '.join(f'{name}={name}' for name in names)} by keyword.",
                FutureWarning,
            )
            kwargs.update(zip(names, args, strict=True))
        return function(encoders, decoders, **kwargs)

    return wrapper


@_keyword_data
def stitching_matrix(
    encoders,
    decoders=None,
    *,
    X=None,
    y=None,
    anchor_inputs=None,
    stitch=None,
    via=None,
    scoring=None,
    score=None,
):
    """Score every encoder with every decoder: the stitching matrix, as a tidy table.

    For each pair (encoder model ``e``, decoder model ``d``), the stitched estimator
    ``stitch(e, d, anchor_inputs=...)`` (encode with ``e``'s encoder, decode with
    ``d``'s decoder) is scored on the test data ``(X, y)``. The diagonal pairs are the
    models themselves (stitched onto their own anchors); the off-diagonal pairs measure
    zero-shot stitching. Alternatively, ``score(encoder_name, decoder_name)`` computes
    each entry directly.

    Parameters
    ----------
    encoders : mapping of str to estimator, or sequence
        Fitted models whose encoders are used, by name (a sequence is named by
        position). With ``score``, only the names matter and a sequence of names is
        accepted.
    decoders : mapping of str to estimator, or sequence, default=None
        Fitted models whose decoders are used; by default the ``encoders``.
    X : array-like or mapping of str to array-like, default=None
        Test inputs, by keyword (by position is deprecated). A mapping gives each
        encoder, by name, inputs in its own domain (say, each language's version of
        the same test sentences).
    y : array-like, default=None
        Test targets, shared by all pairs, by keyword (by position is deprecated).
    anchor_inputs : array-like, mapping or callable, default=None
        Passed to ``stitch`` for each pair: the decoder's anchor items as the encoder
        reads them (parallel anchors). An array-like is used for every pair; a mapping
        is looked up by ``(encoder_name, decoder_name)`` and then by
        ``encoder_name``, pairs it does not hold getting ``None``; a callable is called
        as ``anchor_inputs(encoder_name, decoder_name)``. ``None`` (or a missing entry)
        lets ``stitch`` re-embed the decoder's own anchor inputs.
    stitch : callable, default=None
        ``stitch(encoder_from, decoder_from, anchor_inputs=None)`` returning a fitted
        estimator. By default :func:`skrelrep.stitch`.
    via : {"relative", "translation", "absolute"}, default=None
        Passed to the default ``stitch`` (:func:`skrelrep.stitch`), for instance
        ``"absolute"`` for the absolute baseline of passthrough pipelines, without
        its warning. None keeps :func:`skrelrep.stitch`'s default.
    scoring : str or callable, default=None
        How a stitched estimator is scored, as in :func:`sklearn.metrics.check_scoring`
        (e.g. ``"f1_weighted"``); by default its ``score(X, y)`` method.
    score : callable, default=None
        ``score(encoder_name, decoder_name)`` returning a number, used instead of
        stitching; ``X``, ``y``, ``anchor_inputs``, ``stitch``, ``via`` and
        ``scoring`` must then be left unset.

    Returns
    -------
    frame : pandas.DataFrame
        One row per pair, encoders in the outer order and decoders in the inner order,
        with columns ``encoder``, ``decoder``, ``score`` and ``stitched`` (whether the
        encoder and decoder come from different models).

    Raises
    ------
    TypeError
        If ``encoders`` or ``decoders`` hold data rather than models (the test data
        passed by position, ``stitching_matrix(models, X_test, y_test)``).
    ValueError
        If neither the test data nor ``score`` is given, or ``via`` with a custom
        ``stitch``.

    See Also
    --------
    pivot_stitching_matrix : The same table as an encoder x decoder matrix.

    Examples
    --------
    Two models trained on different halves of the digits; here a stitched model is
    simply the scaler of one followed by the classifier of the other:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skrelrep.metrics import pivot_stitching_matrix, stitching_matrix
    >>> X, y = load_digits(return_X_y=True)
    >>> models = {
    ...     name: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
    ...         X[rows], y[rows])
    ...     for name, rows in [("a", slice(0, 600)), ("b", slice(600, 1200))]
    ... }
    >>> def stitch(encoder_from, decoder_from, anchor_inputs=None):
    ...     return make_pipeline(encoder_from[0], decoder_from[-1])
    >>> frame = stitching_matrix(models, X=X[1200:], y=y[1200:], stitch=stitch)
    >>> frame.columns.tolist()
    ['encoder', 'decoder', 'score', 'stitched']
    >>> pivot_stitching_matrix(frame).round(2)
    decoder     a     b
    encoder
    a        0.92  0.89
    b        0.92  0.89

    Any scoring function of the two names gives the same kind of table:

    >>> stitching_matrix(["x", "y"], score=lambda e, d: float(e == d))["score"].tolist()
    [1.0, 0.0, 0.0, 1.0]
    """
    if score is not None:
        unused = {
            "X": X,
            "y": y,
            "anchor_inputs": anchor_inputs,
            "stitch": stitch,
            "via": via,
            "scoring": scoring,
        }
        given = [name for name, value in unused.items() if value is not None]
        if given:
            raise ValueError(
                f"score computes each entry by itself: leave {', '.join(given)} unset."
            )
        # Only names matter here: the keys of a mapping, the items of a sequence.
        names_in = _as_named(encoders, "encoders")
        names_in = list(
            names_in if isinstance(encoders, Mapping) else names_in.values()
        )
        if decoders is None:
            names_out = names_in
        else:
            names_out = _as_named(decoders, "decoders")
            if not isinstance(decoders, Mapping):
                names_out = names_out.values()
            names_out = list(names_out)
        records = [
            (encoder, decoder, score(encoder, decoder))
            for encoder in names_in
            for decoder in names_out
        ]
    else:
        for argument, models in (("encoders", encoders), ("decoders", decoders)):
            if models is not None and _looks_like_data(models):
                raise _data_error(argument, models)
        if X is None or y is None:
            raise ValueError(
                "Pass the test data X and y by keyword, stitching_matrix(models, "
                "X=X_test, y=y_test), or a score callable."
            )
        encoders = _as_named(encoders, "encoders")
        decoders = encoders if decoders is None else _as_named(decoders, "decoders")
        if stitch is None:
            stitch = stitch_pipelines
            if via is not None:
                stitch = functools.partial(stitch_pipelines, via=via)
        elif via is not None:
            raise ValueError(
                "via is passed to the default stitch function; with your own stitch, "
                "set it there (functools.partial(stitch, via=...))."
            )
        records = []
        for encoder, encoder_model in encoders.items():
            if isinstance(X, Mapping):
                if encoder not in X:
                    raise KeyError(f"X holds no inputs for encoder {encoder!r}.")
                X_encoder = X[encoder]
            else:
                X_encoder = X
            for decoder, decoder_model in decoders.items():
                anchors = _for_pair(anchor_inputs, encoder, decoder)
                if anchors is None:
                    stitched = stitch(encoder_model, decoder_model)
                else:
                    stitched = stitch(
                        encoder_model, decoder_model, anchor_inputs=anchors
                    )
                if scoring is None:
                    value = stitched.score(X_encoder, y)
                else:
                    value = check_scoring(stitched, scoring=scoring)(
                        stitched, X_encoder, y
                    )
                records.append((encoder, decoder, value))
    frame = pd.DataFrame.from_records(records, columns=["encoder", "decoder", "score"])
    frame["score"] = frame["score"].astype(float)
    frame["stitched"] = frame["encoder"] != frame["decoder"]
    return frame


def pivot_stitching_matrix(frame, values="score"):
    """Reshape a tidy stitching table into an encoder x decoder matrix.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table with columns ``encoder``, ``decoder`` and ``values``, one row per pair,
        such as :func:`stitching_matrix` returns.
    values : str, default="score"
        The column to spread into the matrix.

    Returns
    -------
    matrix : pandas.DataFrame
        Rows named by encoder and columns by decoder, both in their order of first
        appearance in ``frame`` (not sorted).

    Examples
    --------
    >>> import pandas as pd
    >>> from skrelrep.metrics import pivot_stitching_matrix
    >>> frame = pd.DataFrame({"encoder": ["b", "b", "a", "a"],
    ...                       "decoder": ["b", "a", "b", "a"],
    ...                       "score": [0.9, 0.2, 0.3, 0.8]})
    >>> pivot_stitching_matrix(frame)
    decoder    b    a
    encoder
    b        0.9  0.2
    a        0.3  0.8
    """
    matrix = frame.pivot(index="encoder", columns="decoder", values=values)
    return matrix.reindex(
        index=pd.unique(frame["encoder"]), columns=pd.unique(frame["decoder"])
    )
