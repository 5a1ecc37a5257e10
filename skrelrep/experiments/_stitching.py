"""Stitching matrices across independently trained encoders, absolute vs relative."""

import functools
import inspect
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from .. import (
    LatentTranslator,
    MLPEncoder,
    RelativeTransformer,
    StitchedPipeline,
    stitch,
    stitch_by_translation,
)
from ..metrics import stitching_matrix
from ..similarity import (
    CombinedSimilarity,
    CosineSimilarity,
    EuclideanSimilarity,
    ManhattanSimilarity,
)
from ..utils._progress import progress

__all__ = [
    "SeedEncoders",
    "beyond_the_paper",
    "chance_level",
    "default_decoder",
    "describe_decoder",
    "product_of_invariances",
    "stitching_experiment",
    "summarize_stitching",
    "train_encoder",
    "train_seed_encoders",
]


#: The regularisation strengths the decoders choose from, by inner cross-validation:
#: 1e-4 to 1e2. Standardised 384-d text codes often pick 1e-3, so the grid reaches a
#: decade below it; smaller values scored no better on the fortunes' codes.
DECODER_CS = np.logspace(-4, 2, 7)


def default_decoder():
    """The decoder of every stitching experiment: a tuned logistic regression.

    Features are standardised on the training rows, and the inverse regularisation
    ``C`` is chosen among :data:`DECODER_CS` (seven values, 1e-4 to 1e2, a factor of
    10 apart) by 3-fold stratified cross-validation on the training rows only.
    Absolute and relative codes get the same budget, so a gap between them does not
    measure regularisation (a fixed ``C`` can suit one scale of codes and starve the
    other).
    """
    return make_pipeline(
        # Top-k relative codes are sparse; the standardisation must centre them.
        FunctionTransformer(_dense, accept_sparse=True),
        StandardScaler(),
        LogisticRegressionCV(
            Cs=DECODER_CS,
            cv=3,
            scoring="accuracy",
            max_iter=1000,
            tol=1e-3,
            **_logistic_cv_options(),
        ),
    )


def describe_decoder(decoder, *, rows="training rows"):
    """A decoder in words, read from its parameters (for the reports).

    Parameters
    ----------
    decoder : estimator or Pipeline
        A logistic regression (tuned or not), alone or after a ``StandardScaler``.
    rows : str, default="training rows"
        What the inner cross-validation splits.

    Returns
    -------
    text : str

    Examples
    --------
    >>> from skrelrep.experiments._stitching import default_decoder, describe_decoder
    >>> print(describe_decoder(default_decoder(), rows="training quotes"))
    logistic regression on standardised codes, C chosen among 7 values from 0.0001
    to 100 by 3-fold cross-validation on the training quotes
    """
    steps = [step for _, step in getattr(decoder, "steps", [(None, decoder)])]
    final = steps[-1]
    if isinstance(final, (LogisticRegression, LogisticRegressionCV)):
        text = "logistic regression"
    else:
        text = type(final).__name__
    if any(isinstance(step, StandardScaler) for step in steps[:-1]):
        text += " on standardised codes"
    if isinstance(final, LogisticRegressionCV):
        if isinstance(final.Cs, numbers.Integral):  # scikit-learn's own grid
            grid = f"among {final.Cs} values on a log scale from 0.0001 to 10000"
        else:
            Cs = np.asarray(final.Cs, dtype=float)
            grid = f"among {len(Cs)} values from {Cs.min():g} to {Cs.max():g}"
        cv = 5 if final.cv is None else final.cv
        folds = f"{cv}-fold" if isinstance(cv, int) else type(cv).__name__
        text += f", C chosen {grid} by {folds} cross-validation on the {rows}"
    elif isinstance(final, LogisticRegression):
        text += f", C = {final.C:g}"
    return text


def _dense(X):
    return X.toarray() if sp.issparse(X) else X


def _logistic_cv_options():
    """Options that silence scikit-learn 1.8+'s deprecation warnings, where known."""
    parameters = inspect.signature(LogisticRegressionCV).parameters
    options = {}
    if "use_legacy_attributes" in parameters:
        options["use_legacy_attributes"] = False
    if "l1_ratios" in parameters and "use_legacy_attributes" in parameters:
        options["l1_ratios"] = (0.0,)
    return options


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


@dataclass
class SeedEncoders:
    """MLP encoders that differ only by their seed, and the split they trained on.

    Attributes
    ----------
    X_train, X_test, y_train, y_test : ndarray
        The stratified split.
    encoders : dict of int to MLPEncoder
        The fitted encoders by seed.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    encoders: dict


def train_seed_encoders(
    X,
    y,
    *,
    seeds,
    test_size=0.3,
    random_state=0,
    show_progress=None,
    description="encoders",
):
    """Split ``(X, y)`` (stratified, seeded ``random_state``) and train one
    :func:`train_encoder` per seed on the training rows.

    Returns
    -------
    trained : SeedEncoders
    """
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=random_state
    )
    encoders = {
        seed: train_encoder(X_train, y_train, seed)
        for seed in progress(seeds, description=description, enabled=show_progress)
    }
    return SeedEncoders(X_train, X_test, y_train, y_test, encoders)


def stitching_experiment(
    encoders,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    relative,
    extra_spaces=None,
    decoder=None,
    scoring=None,
    show_progress=None,
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
        The relative projection of the relative pipelines ("relative" rows).
    extra_spaces : dict of str to RelativeTransformer or LatentTranslator, default=None
        More rows, by name: other relative projections (other similarities, top-k,
        standardisation), or a :class:`LatentTranslator` whose pipelines decode
        absolute codes and are stitched by translation over ``relative.n_anchors``
        random parallel anchors (:func:`skrelrep.stitch_by_translation`).
    decoder : estimator, default=None
        By default :func:`default_decoder`.
    scoring : str, default=None
        Scorer name; by default accuracy (the decoder's ``score``).
    show_progress : bool or None, default=None
        Progress bars: ``None`` shows them where a person is watching (a terminal or
        a notebook, not CI), ``True`` forces them, ``False`` hides them.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``space`` ("absolute", "relative" or an ``extra_spaces`` name),
        ``encoder``, ``decoder``,
        ``score``, ``stitched``.
    """
    decoder = default_decoder() if decoder is None else decoder
    embedded = encoders is None
    names = list(X_train) if embedded else list(encoders)
    spaces = {"absolute": "passthrough", "relative": relative, **(extra_spaces or {})}
    frames = []
    for space, projection in spaces.items():
        translation = isinstance(projection, LatentTranslator)
        pipelines = {}
        for name in progress(
            names, description=f"decoders ({space})", enabled=show_progress
        ):
            encoder = (
                FunctionTransformer() if embedded else FrozenEstimator(encoders[name])
            )
            step = (
                "passthrough"
                if translation or projection == "passthrough"
                else clone(projection)
            )
            pipelines[name] = StitchedPipeline(encoder, step, clone(decoder)).fit(
                X_train[name] if embedded else X_train, y_train
            )
        if translation:
            join = _translation_stitch(
                pipelines,
                projection,
                X_train,
                embedded,
                n_anchors=relative.n_anchors,
                random_state=relative.random_state,
            )
            anchor_inputs = None
        else:
            # The absolute codes are the baseline on purpose: asked for quietly.
            join = (
                functools.partial(stitch, via="absolute")
                if projection == "passthrough"
                else stitch
            )
            anchor_inputs = None
            if embedded and projection != "passthrough":

                def anchor_inputs(encoder_name, decoder_name, pipelines=pipelines):
                    indices = pipelines[decoder_name].anchor_indices_
                    return X_train[encoder_name][np.asarray(indices)]

        frame = stitching_matrix(
            pipelines,
            X=X_test,
            y=y_test,
            anchor_inputs=anchor_inputs,
            stitch=join,
            scoring=scoring,
        )
        frames.append(frame.assign(space=space))
    frame = pd.concat(frames, ignore_index=True)
    return frame[["space", "encoder", "decoder", "score", "stitched"]]


def _translation_stitch(
    pipelines, translator, X_train, embedded, *, n_anchors, random_state
):
    """A ``stitch`` function that joins absolute pipelines through a translation.

    The translation is fitted on the same number of parallel anchors as the relative
    pipelines use, drawn at random from the training items.
    """
    n_items = len(next(iter(X_train.values()))) if embedded else len(X_train)
    rng = np.random.RandomState(random_state)
    indices = np.sort(rng.choice(n_items, size=min(n_anchors, n_items), replace=False))
    name_of = {id(pipeline): name for name, pipeline in pipelines.items()}

    def join(encoder_from, decoder_from, anchor_inputs=None):
        if embedded:
            source = X_train[name_of[id(encoder_from)]][indices]
            target = X_train[name_of[id(decoder_from)]][indices]
        else:
            source = target = _rows(X_train, indices)
        return stitch_by_translation(
            encoder_from,
            decoder_from,
            source,
            target_anchor_inputs=target,
            method=translator.method,
            scaling=translator.scaling,
        )

    return join


def product_of_invariances():
    """Cosine, Euclidean and L1 relative spaces, each standardised per row, side by
    side (Cannistraci et al., 2024)."""
    return CombinedSimilarity(
        [
            CosineSimilarity(normalization="standard"),
            EuclideanSimilarity(normalization="standard"),
            ManhattanSimilarity(normalization="standard"),
        ]
    )


def _rows(X, indices):
    """Rows of an array, DataFrame or list of inputs."""
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if hasattr(X, "shape"):
        return X[indices]
    return [X[i] for i in indices]


def beyond_the_paper(n_anchors, random_state=0, *, width=None):
    """The follow-up methods, as extra rows of a stitching experiment.

    Each is compared with the paper's relative projection (cosine over centred
    anchors) on the same encoders, anchors count and decoders. The affine translation
    needs more anchors than the code has dimensions (``width``); it is left out
    otherwise, the orthogonal one needing no such count.
    """
    common = dict(center=True, random_state=random_state)
    methods = {
        "relative, standardised (batch-norm)": RelativeTransformer(
            n_anchors, standardize=True, **common
        ),
        "relative, cosine+euclidean+l1": RelativeTransformer(
            n_anchors,
            similarity=product_of_invariances(),
            **common,
        ),
        "relative, top-10% sparse (ASIF)": RelativeTransformer(
            n_anchors, top_k=max(1, n_anchors // 10), **common
        ),
        "translation (orthogonal)": LatentTranslator("orthogonal"),
    }
    if width is None or n_anchors > width:
        methods["translation (affine)"] = LatentTranslator("affine")
    return methods


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
