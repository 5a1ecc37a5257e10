"""Fitted estimators saved with skops load back, trusting only our own types.

skops (``pip install "skrelrep[persist]"``) writes an estimator as data and, when
loading, builds only the types the user has trusted. Every public estimator, fitted,
goes through ``skops.io.dump`` and ``skops.io.load`` here: the types that
``skops.io.get_untrusted_types`` lists are asserted exactly, loading with nothing
trusted is refused, and the loaded estimator holds the same fitted state (dtypes
included) and gives the same outputs as the original.

``test_every_public_estimator_has_a_case`` walks ``__all__`` of skrelrep and of its
subpackages, so a new public estimator fails it until a case covers it below.
"""

import importlib
import importlib.util
import inspect
import io
import os
import warnings
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

from skrelrep import (
    GreedyAnchorSelector,
    LatentTranslator,
    MLPEncoder,
    RelativeTransformer,
    StitchedPipeline,
    stitch,
    stitch_by_translation,
)
from skrelrep.anchors._reservoir import RowReservoir, StreamSample
from skrelrep.encoders import (
    E5SmallEncoder,
    EfficientNetLiteEncoder,
    FastTextEncoder,
    MiniLML3Encoder,
    MiniLML6Encoder,
    Word2VecEncoder,
)
from skrelrep.relative._input_space import InputSpace
from skrelrep.similarity import (
    ChebyshevSimilarity,
    CombinedSimilarity,
    CosineSimilarity,
    EuclideanSimilarity,
    ManhattanSimilarity,
    Similarity,
)

skops_io = pytest.importorskip("skops.io")

# Where public estimators live; a subpackage whose optional packages are missing is
# skipped (its cases skip too).
PUBLIC_MODULES = [
    "skrelrep",
    "skrelrep.anchors",
    "skrelrep.relative",
    "skrelrep.similarity",
    "skrelrep.stitching",
    "skrelrep.metrics",
    "skrelrep.retrieval",
    "skrelrep.encoders",
    "skrelrep.neural",
    "skrelrep.datasets",
]
# Not fitted and saved by users as such: the base class of users' own similarities
# (a user's subclass is the user's type, which skops lists for them to trust).
NOT_SAVED = {Similarity.__name__}


def _name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _rng():
    return np.random.RandomState(0)


def _blobs(n_samples=120, n_features=8, dtype=np.float64):
    """Three labelled clusters: ``(X, y)``."""
    rng = _rng()
    y = np.arange(n_samples) % 3
    X = rng.normal(size=(3, n_features))[y] * 3 + rng.normal(
        size=(n_samples, n_features)
    )
    return X.astype(dtype), y


def _quiet(fit):
    """Fit briefly: convergence is not under test here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit()


@dataclass
class Case:
    """One fitted estimator to round-trip.

    ``build()`` returns ``(estimator, calls)``, where ``calls`` maps a method name to
    its arguments; each call's output must be the same after loading. ``types`` are
    the types skops asks the user to trust: classes, or dotted names for types outside
    skrelrep and scikit-learn (allowed only with a ``foreign`` reason). ``None`` means
    not yet pinned: the test fails and prints the types to pin.
    """

    id: str
    covers: tuple
    build: object
    types: object
    needs: tuple = ()
    foreign: str = ""
    same_state: bool = True
    marks: tuple = field(default=())


# -- the estimators -------------------------------------------------------------------

RT_TYPES = {RelativeTransformer, InputSpace, CosineSimilarity}


def _relative(**params):
    def build():
        X, y = _blobs()
        relative = RelativeTransformer(10, random_state=0, **params).fit(X, y)
        return relative, {"transform": (X,), "get_feature_names_out": ()}

    return build


def _relative_float32():
    X, _ = _blobs(dtype=np.float32)
    relative = RelativeTransformer(10, center=True, random_state=0).fit(X)
    return relative, {"transform": (X,)}


def _relative_sparse():
    X = sp.random(120, 30, density=0.3, format="csr", random_state=0)
    relative = RelativeTransformer(10, top_k=3, random_state=0).fit(X)
    return relative, {"transform": (X,)}


def _relative_streamed():
    X, y = _blobs()
    relative = RelativeTransformer(9, anchor_selection="stratified", random_state=0)
    relative.partial_fit(X[:60], y[:60]).partial_fit(X[60:], y[60:])
    return relative, {"transform": (X,)}


def _relative_streamed_random():
    X, _ = _blobs()
    relative = RelativeTransformer(9, random_state=0)
    relative.partial_fit(X[:60]).partial_fit(X[60:])
    return relative, {"transform": (X,)}


def _relative_reanchored():
    X, _ = _blobs()
    relative = RelativeTransformer(10, random_state=0).fit(X)
    Z = X @ _rng().normal(size=(8, 5))  # the same items seen by another encoder
    return relative.reanchor(Z[relative.anchor_indices_]), {"transform": (Z,)}


def _relative_pandas():
    X, _ = _blobs()
    relative = RelativeTransformer(10, random_state=0).set_output(transform="pandas")
    return relative.fit(X), {"transform": (X,)}


def _relative_greedy():
    X, _ = _blobs()
    X_parallel = X @ _rng().normal(size=(8, 8)) + 0.1 * _rng().normal(size=X.shape)
    selector = GreedyAnchorSelector(n_candidates=10, n_eval=60)
    relative = RelativeTransformer(8, anchor_selection=selector, random_state=0)
    return relative.fit(X, X_parallel=X_parallel), {"transform": (X,)}


def _relative_torch():
    # Fitted on torch tensors, saved as NumPy arrays: the loaded transformer reads
    # NumPy input (moving it back to a device is the user's choice).
    import sklearn
    import torch

    X, _ = _blobs()
    with sklearn.config_context(array_api_dispatch=True):
        relative = RelativeTransformer(10, center=True, random_state=0)
        relative.fit(torch.as_tensor(X))
        expected = relative.transform(torch.as_tensor(X)).numpy()
    return relative, {"transform": (X,), "_expected": expected}


def _translator(method, **params):
    def build():
        X, _ = _blobs()
        Y = X @ _rng().normal(size=(8, 6)) + 0.01 * _rng().normal(size=(120, 6))
        translator = LatentTranslator(method, **params).fit(X, Y)
        return translator, {"transform": (X,), "inverse_transform": (Y,)}

    return build


def _mlp_encoder():
    X, y = _blobs()
    encoder = _quiet(lambda: MLPEncoder((8,), max_iter=30, random_state=0).fit(X, y))
    return encoder, {"transform": (X,)}


def _pipeline(relative, decoder):
    def build():
        X, y = _blobs()
        pipeline = StitchedPipeline(PCA(4), relative, decoder).fit(X, y)
        calls = {"predict": (X,), "transform": (X,), "score": (X, y)}
        if hasattr(decoder, "predict_proba"):
            calls["predict_proba"] = (X,)
        return pipeline, calls

    return build


def _stitched(via):
    def build():
        X, y = _blobs()
        models = [
            _quiet(
                lambda seed=seed: StitchedPipeline(
                    MLPEncoder((8,), max_iter=30, random_state=seed),
                    RelativeTransformer(12, random_state=0),
                    LogisticRegression(),
                ).fit(X, y)
            )
            for seed in (0, 1)
        ]
        if via == "stitch_by_translation":
            stitched = stitch_by_translation(models[1], models[0])
        else:
            stitched = stitch(models[1], models[0], via=via)
        return stitched, {"predict_proba": (X,), "transform": (X,)}

    return build


def _similarity(similarity):
    def build():
        X, _ = _blobs()
        anchors = similarity.prepare_anchors(X[:7], np)
        return similarity, {"pairwise": (X, anchors, np)}

    return build


def _pretrained(encoder):
    # Frozen and pretrained: the state is the parameters (the weights come from the
    # installed packages, loaded on first use), so equal state is equal output.
    return lambda: (encoder, {})


CORPUS = [
    "the cat sat on the mat while the dog slept".split(),
    "a dog ran in the park and the cat watched".split(),
] * 20


def _words(Encoder, **params):
    def build():
        encoder = Encoder(12, min_count=1, epochs=2, n_jobs=1, random_state=0, **params)
        words = ["cat", "dog", "park"]
        if Encoder is FastTextEncoder:
            words.append("parking")  # unseen: built from the stored n-gram buckets
        return encoder.fit(CORPUS), {"transform": (words,)}

    return build


def _net(name, **params):
    def build():
        from skrelrep import neural

        X, y = _blobs(dtype=np.float32)
        net = getattr(neural, name)(
            module__n_components=3,
            module__hidden_units=(6,),
            max_epochs=2,
            random_state=0,
            **params,
        )
        calls = {"transform": (X,)}
        if name in ("NeuralEncoder", "RelativeClassifier"):
            net.fit(X, y)
            calls["predict_proba"] = (X,)
        else:
            net.fit(X)
        return net, calls

    return build


def _query_bridge():
    from skrelrep.retrieval import QueryBridge

    rng = _rng()
    index_old = rng.normal(size=(300, 12))
    rotation = np.linalg.qr(rng.normal(size=(12, 12)))[0]
    anchors = rng.choice(300, 60, replace=False)
    anchors_new = index_old[anchors] @ rotation + 0.01 * rng.normal(size=(60, 12))
    queries_new = index_old[:20] @ rotation
    bridge = QueryBridge(random_state=0).fit(
        anchors_new, index_old[anchors], index=index_old
    )
    calls = {
        "transform": (queries_new,),
        "kneighbors": (queries_new,),
    }
    return bridge, calls


# The types of a skorch net: its callbacks, history, optimizer, loader and criterion
# are skorch and torch types, and `print` is its log's sink.
SKORCH = (
    "builtins.print",
    "skorch.callbacks.logging.EpochTimer",
    "skorch.callbacks.logging.PrintLog",
    "skorch.callbacks.scoring.PassthroughScoring",
    "skorch.dataset.Dataset",
    "torch.optim.adam.Adam",
    "torch.utils.data.dataloader.DataLoader",
    "skrelrep.neural._modules.MLPDecoderModule",
    "skrelrep.neural._modules.MLPEncoderModule",
)
NET_REASON = (
    "a skorch net is built from torch's and skorch's classes (its module, loss, "
    "optimiser, data loader and default callbacks): loading must trust them"
)
STITCHED_TYPES = {
    StitchedPipeline,
    MLPEncoder,
    AdamOptimizer,
    RelativeTransformer,
    InputSpace,
    CosineSimilarity,
}
PIPELINE_TYPES = {StitchedPipeline, RelativeTransformer, InputSpace, CosineSimilarity}
TORCH = ("torch", "skorch", "skrelrep.neural")

CASES = [
    Case("relative", ("RelativeTransformer",), _relative(), RT_TYPES),
    Case(
        "relative-centred-standardised",
        ("RelativeTransformer",),
        _relative(center=True, standardize=True, exponent=2.0),
        RT_TYPES,
    ),
    Case("relative-float32", ("RelativeTransformer",), _relative_float32, RT_TYPES),
    Case("relative-sparse-top-k", ("RelativeTransformer",), _relative_sparse, RT_TYPES),
    Case(
        "relative-combined-similarity",
        ("RelativeTransformer", "CombinedSimilarity", "EuclideanSimilarity"),
        _relative(
            similarity=CombinedSimilarity(
                ["cosine", EuclideanSimilarity(normalization="l2")]
            )
        ),
        {
            RelativeTransformer,
            InputSpace,
            CombinedSimilarity,
            EuclideanSimilarity,
        },
    ),
    Case(
        "relative-fps",
        ("RelativeTransformer",),
        _relative(anchor_selection="fps"),
        RT_TYPES,
    ),
    Case(
        "relative-stratified-per-class",
        ("RelativeTransformer",),
        _relative(anchor_selection="stratified"),
        RT_TYPES,
    ),
    Case(
        "relative-partial-fit-stratified",
        ("RelativeTransformer",),
        _relative_streamed,
        RT_TYPES | {StreamSample, RowReservoir},
    ),
    Case(
        "relative-partial-fit-random",
        ("RelativeTransformer",),
        _relative_streamed_random,
        RT_TYPES | {StreamSample, RowReservoir},
    ),
    Case(
        "relative-reanchored", ("RelativeTransformer",), _relative_reanchored, RT_TYPES
    ),
    Case(
        "relative-pandas-output", ("RelativeTransformer",), _relative_pandas, RT_TYPES
    ),
    Case(
        "relative-greedy-anchors",
        ("RelativeTransformer", "GreedyAnchorSelector"),
        _relative_greedy,
        RT_TYPES | {GreedyAnchorSelector},
    ),
    Case(
        "relative-fitted-on-torch",
        ("RelativeTransformer",),
        _relative_torch,
        RT_TYPES,
        needs=("torch",),
        same_state=False,
    ),
    *(
        Case(
            f"translator-{method}-{scaling}",
            ("LatentTranslator",),
            _translator(method, scaling=scaling),
            {LatentTranslator, InputSpace},
        )
        for method, scaling in [
            ("orthogonal", "isotropic"),
            ("linear", "isotropic"),
            ("affine", None),
            ("orthogonal", "per_feature"),
        ]
    ),
    Case("mlp-encoder", ("MLPEncoder",), _mlp_encoder, {MLPEncoder, AdamOptimizer}),
    Case(
        "pipeline",
        ("StitchedPipeline",),
        _pipeline(RelativeTransformer(10, random_state=0), LogisticRegression()),
        PIPELINE_TYPES,
    ),
    Case(
        "pipeline-centred-ridge",
        ("StitchedPipeline",),
        _pipeline(RelativeTransformer(10, center=True, random_state=0), Ridge()),
        PIPELINE_TYPES,
    ),
    Case(
        "pipeline-passthrough",
        ("StitchedPipeline",),
        _pipeline("passthrough", LogisticRegression()),
        # The fingerprint of the decoder's training codes (the guard at its input).
        {StitchedPipeline, InputSpace, "skrelrep.stitching._guard.CodeOrigin"},
    ),
    Case("stitched", ("StitchedPipeline",), _stitched("relative"), STITCHED_TYPES),
    Case(
        "stitched-via-translation",
        ("StitchedPipeline", "LatentTranslator"),
        _stitched("translation"),
        STITCHED_TYPES | {LatentTranslator},
    ),
    Case(
        "stitch-by-translation",
        ("StitchedPipeline", "LatentTranslator"),
        _stitched("stitch_by_translation"),
        STITCHED_TYPES | {LatentTranslator},
    ),
    *(
        Case(
            f"similarity-{type(similarity).__name__}",
            (type(similarity).__name__,),
            _similarity(similarity),
            {type(similarity)},
        )
        for similarity in [
            CosineSimilarity(),
            EuclideanSimilarity(normalization="l2"),
            ManhattanSimilarity(),
            ChebyshevSimilarity(),
        ]
    ),
    Case(
        "similarity-CombinedSimilarity",
        ("CombinedSimilarity",),
        _similarity(CombinedSimilarity(["cosine", "l1"], aggregation="sum")),
        {CombinedSimilarity},
    ),
    *(
        Case(
            f"encoder-{type(encoder).__name__}",
            (type(encoder).__name__,),
            _pretrained(encoder),
            {type(encoder)},
        )
        for encoder in [
            MiniLML6Encoder(device="cpu"),
            MiniLML3Encoder(device="cpu"),
            E5SmallEncoder(mode="query"),
            EfficientNetLiteEncoder("lite0", image_size=64, device="cpu"),
        ]
    ),
    Case(
        "encoder-Word2VecEncoder",
        ("Word2VecEncoder",),
        _words(Word2VecEncoder),
        {Word2VecEncoder},
        needs=("gensim",),
    ),
    Case(
        "encoder-FastTextEncoder",
        ("FastTextEncoder",),
        _words(FastTextEncoder, bucket=500),
        {FastTextEncoder},
        needs=("gensim",),
    ),
    Case(
        "neural-NeuralEncoder",
        ("NeuralEncoder",),
        _net("NeuralEncoder"),
        {
            *SKORCH,
            "skrelrep.neural._nets.NeuralEncoder",
            "torch.nn.modules.loss.CrossEntropyLoss",
        },
        needs=TORCH,
        foreign=NET_REASON,
        same_state=False,
    ),
    Case(
        "neural-AutoEncoder",
        ("AutoEncoder",),
        _net("AutoEncoder"),
        {*SKORCH, "skrelrep.neural._nets.AutoEncoder", "torch.nn.modules.loss.MSELoss"},
        needs=TORCH,
        foreign=NET_REASON,
        same_state=False,
    ),
    Case(
        "neural-RelativeClassifier",
        ("RelativeClassifier",),
        _net("RelativeClassifier", n_anchors=5),
        {
            *SKORCH,
            "skrelrep.neural._relative_nets.RelativeClassifier",
            "torch.nn.modules.loss.CrossEntropyLoss",
        },
        needs=TORCH,
        foreign=NET_REASON,
        same_state=False,
    ),
    Case(
        "neural-RelativeAutoEncoder",
        ("RelativeAutoEncoder",),
        _net("RelativeAutoEncoder", n_anchors=5),
        {
            *SKORCH,
            "skrelrep.neural._relative_nets.RelativeAutoEncoder",
            "torch.nn.modules.loss.MSELoss",
        },
        needs=TORCH,
        foreign=NET_REASON,
        same_state=False,
    ),
    Case(
        "retrieval-QueryBridge",
        ("QueryBridge",),
        _query_bridge,
        {
            "skrelrep.relative._input_space.InputSpace",
            "skrelrep.retrieval._bridge.QueryBridge",
            "skrelrep.retrieval._maps.NewSide",
        },
        needs=("skrelrep.retrieval",),
    ),
]


# -- helpers --------------------------------------------------------------------------


def _missing(modules):
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except ImportError:
            return module
    return None


def _type_names(types):
    return {t if isinstance(t, str) else _name(t) for t in types}


def _assert_same(loaded, original, path="estimator"):
    """``loaded`` equals ``original``: same types, same arrays (and dtypes), same
    values, attribute by attribute."""
    assert type(loaded) is type(original), path
    if isinstance(original, np.ndarray):
        assert loaded.dtype == original.dtype, path
        np.testing.assert_array_equal(loaded, original, err_msg=path)
    elif sp.issparse(original):
        assert loaded.format == original.format and loaded.dtype == original.dtype
        assert (loaded != original).nnz == 0, path
    elif isinstance(original, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, original)
    elif isinstance(original, dict):
        assert list(loaded) == list(original), path
        for key in original:
            _assert_same(loaded[key], original[key], f"{path}[{key!r}]")
    elif isinstance(original, (list, tuple)):
        assert len(loaded) == len(original), path
        for i, (a, b) in enumerate(zip(loaded, original, strict=True)):
            _assert_same(a, b, f"{path}[{i}]")
    elif isinstance(original, np.random.RandomState):
        _assert_same(loaded.get_state(), original.get_state(), path)
    elif hasattr(original, "__dict__") and not inspect.isroutine(original):
        _assert_same(vars(loaded), vars(original), path)
    elif isinstance(original, float) and np.isnan(original):
        assert np.isnan(loaded), path
    else:
        assert loaded == original, path


def _outputs(estimator, calls):
    return {
        method: getattr(estimator, method)(*args)
        for method, args in calls.items()
        if not method.startswith("_")
    }


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request):
    case = request.param
    for mark in case.marks:
        request.applymarker(mark)
    missing = _missing(case.needs)
    if missing:
        pytest.skip(f"{missing} is not installed")
    return case


# -- the tests ------------------------------------------------------------------------


def test_round_trip_trusts_only_the_listed_types(case, tmp_path):
    estimator, calls = case.build()
    before = _outputs(estimator, calls)
    path = tmp_path / "estimator.skops"
    skops_io.dump(estimator, path)

    untrusted = set(skops_io.get_untrusted_types(file=path))
    if case.types is None:
        pytest.fail(f"pin the types of {case.id}: {sorted(untrusted)}")
    assert untrusted == _type_names(case.types)
    ours = {t for t in untrusted if t.split(".")[0] in ("skrelrep", "sklearn")}
    assert bool(case.foreign) == (ours != untrusted), sorted(untrusted - ours)

    with pytest.raises(skops_io.exceptions.UntrustedTypesFoundException):
        skops_io.load(path)
    loaded = skops_io.load(path, trusted=sorted(untrusted))

    assert type(loaded) is type(estimator)
    if case.same_state:
        _assert_same(loaded, estimator)
    after = _outputs(loaded, calls)
    for method, output in before.items():
        _assert_same(after[method], output, method)
    if "_expected" in calls:
        np.testing.assert_allclose(
            after["transform"], calls["_expected"], rtol=1e-12, atol=1e-12
        )


def _public_estimator_classes():
    found = {}
    for name in PUBLIC_MODULES:
        if importlib.util.find_spec(name) is None:
            continue  # a subpackage that has not landed
        try:
            module = importlib.import_module(name)
        except ImportError:  # its optional packages are not installed
            continue
        for attribute in module.__all__:
            value = getattr(module, attribute)
            if inspect.isclass(value) and issubclass(value, BaseEstimator):
                found[value.__name__] = value
    return found


def test_every_public_estimator_has_a_case():
    public = _public_estimator_classes()
    # The walk does find them (an empty walk would pass vacuously).
    assert {"RelativeTransformer", "StitchedPipeline", "CosineSimilarity"} <= set(
        public
    )
    covered = {name for case in CASES for name in case.covers}
    missing = set(public) - covered - NOT_SAVED
    assert not missing, f"add a round-trip case for {sorted(missing)}"
    assert NOT_SAVED <= set(public)


def test_a_file_naming_a_foreign_type_is_refused(tmp_path):
    # A file that names a function nobody trusted, as a crafted file would, is
    # refused before anything is built, even when our own types are trusted.
    relative, _ = _relative()()
    path = tmp_path / "estimator.skops"
    skops_io.dump({"relative": relative, "run": os.system}, path)
    system = f"{os.system.__module__}.system"
    assert system in skops_io.get_untrusted_types(file=path)
    with pytest.raises(skops_io.exceptions.UntrustedTypesFoundException, match=system):
        skops_io.load(path, trusted=[_name(t) for t in RT_TYPES])


class _Marker:
    """Unpickling this runs code: it sets a flag in ``sys.modules``."""

    def __reduce__(self):
        return (exec, ("import sys; sys.modules['skrelrep_persistence_marker'] = 1",))


def test_a_nets_file_holds_no_pickle(tmp_path):
    """skorch keeps a net's torch parts as a pickle inside its state, which loading
    would run; skrelrep's nets store them as arrays, so the file holds none."""
    if _missing(TORCH):
        pytest.skip("torch or skorch is not installed")
    net, _ = _net("NeuralEncoder")()
    path = tmp_path / "net.skops"
    skops_io.dump(net, path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert "schema.json" in names
        for name in names:
            if name == "schema.json":
                continue
            assert name.endswith(".npy"), name  # no pickled blob (".bin")
            with archive.open(name) as member:
                np.load(io.BytesIO(member.read()), allow_pickle=False)
