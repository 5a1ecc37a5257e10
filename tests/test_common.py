"""scikit-learn's common estimator checks over every public estimator of skrelrep.

Every public estimator is listed here, in its main configurations, with the checks
known to fail and why. Estimators that read numeric arrays get every check that
scikit-learn generates for them; the encoders that read strings (texts, words) or
images get the checks that need no data, since scikit-learn's generator feeds numeric
arrays (it skips such estimators altogether). ``test_every_public_estimator_is_checked``
keeps the list complete.
"""

import functools
import importlib
import importlib.util
import inspect
from unittest import mock

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import estimator_checks_generator

import skrelrep
from skrelrep import (
    LatentTranslator,
    MLPEncoder,
    RelativeTransformer,
    StitchedPipeline,
)
from skrelrep.encoders import (
    E5SmallEncoder,
    EfficientNetLiteEncoder,
    FastTextEncoder,
    MiniLML3Encoder,
    MiniLML6Encoder,
    Word2VecEncoder,
)
from skrelrep.retrieval import QueryBridge
from skrelrep.similarity import (
    ChebyshevSimilarity,
    CombinedSimilarity,
    CosineSimilarity,
    EuclideanSimilarity,
    ManhattanSimilarity,
    Similarity,
)


def _has(*modules):
    return all(importlib.util.find_spec(module) is not None for module in modules)


# Common checks fit on as few as 1-20 samples; small anchor counts keep them
# meaningful, and the clipping warning for tinier data is expected behaviour.
NUMERIC = [
    RelativeTransformer(n_anchors=5, random_state=0),
    RelativeTransformer(
        n_anchors=5, anchor_selection="fps", center=True, random_state=0
    ),
    RelativeTransformer(n_anchors=0.5, anchor_selection="kmeans", random_state=0),
    RelativeTransformer(
        n_anchors=5, center=True, standardize=True, exponent=2.0, random_state=0
    ),
    RelativeTransformer(
        n_anchors=5,
        similarity=CombinedSimilarity(
            ["cosine", EuclideanSimilarity(normalization="l2")]
        ),
        random_state=0,
    ),
    LatentTranslator(),
    LatentTranslator("linear"),
    LatentTranslator("affine", scaling=None),
    LatentTranslator(scaling="per_feature"),
    MLPEncoder(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
    StitchedPipeline(
        PCA(), RelativeTransformer(n_anchors=5, random_state=0), LogisticRegression()
    ),
    # Cosines drop the norm: 10 anchors are needed for the regression checks'
    # R² > 0.5 (5 anchors give 0.15).
    StitchedPipeline(
        PCA(),
        RelativeTransformer(n_anchors=10, center=True, random_state=0),
        Ridge(),
    ),
    StitchedPipeline(PCA(), "passthrough", LogisticRegression()),
    QueryBridge(random_state=0),
]

SKORCH_DESIGN = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and "
        "virtual_params_, and stores prefixed parameters (module__*) as "
        "attributes; skorch's design, which clone and set_params handle."
    ),
    "check_set_params": (
        "skorch's set_params(callbacks=...) initialises the callbacks at once, "
        "so a nonsense value fails there instead of in fit (with a UserWarning "
        "from the check, an error under this test suite's settings)."
    ),
}

if _has("torch", "skorch"):
    from skrelrep.neural import (
        AutoEncoder,
        NeuralEncoder,
        RelativeAutoEncoder,
        RelativeClassifier,
    )

    # Tiny nets; enough epochs (and a high learning rate) to pass
    # check_classifiers_train, whose blobs need accuracy above 0.83.
    TINY = dict(module__n_components=3, module__hidden_units=(4,), random_state=0)
    NUMERIC += [
        NeuralEncoder(**TINY, max_epochs=5, lr=0.05),
        AutoEncoder(**TINY, max_epochs=2),
        RelativeClassifier(**TINY, n_anchors=5, max_epochs=10, lr=0.02),
        RelativeAutoEncoder(**TINY, n_anchors=5, max_epochs=2),
    ]

# scikit-learn's transformer checks fit on make_blobs' 1-D class labels whatever the
# target tags say (only its cross-decomposition estimators, picked by name, get a
# 2-D y). LatentTranslator's y is a target latent space, 2-D as its tags declare, and
# a class vector is refused on purpose (tests/translation/test_hostile_translation.py):
# these checks run unchanged on the same data with y as two target features.
_TRANSFORMER_CHECKS = {
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
}
# QueryBridge's y is the old model's embeddings of the anchors: 2-D as well.
TWO_D_TARGET_CHECKS = {
    "LatentTranslator": _TRANSFORMER_CHECKS,
    "QueryBridge": _TRANSFORMER_CHECKS,
}


def _with_two_d_targets(check):
    """Run ``check`` with make_blobs' labels ``y`` given as a 2-D target ``[y, y']``."""
    make_blobs = estimator_checks.make_blobs

    def two_d_blobs(*args, **kwargs):
        X, y = make_blobs(*args, **kwargs)
        Y = np.c_[y, y]
        Y[::2, 1] *= 2  # two target features, not collinear
        return X, Y

    @functools.wraps(check)
    def run(estimator):
        with mock.patch.object(estimator_checks, "make_blobs", two_d_blobs):
            check(estimator)

    return run


# Checks known to fail, with the reason, by estimator class name.
EXPECTED_FAILED_CHECKS = {
    **{
        name: SKORCH_DESIGN
        for name in (
            "NeuralEncoder",
            "AutoEncoder",
            "RelativeClassifier",
            "RelativeAutoEncoder",
        )
    },
}

# Encoders of strings (texts, words) and of images: constructing them loads nothing,
# so the checks that need no data run without the pretrained models. The anchor
# selector and the similarities are strategies, not estimators fitted on data: they
# get the same checks of their parameters.
NON_NUMERIC = [
    MiniLML6Encoder(device="cpu"),
    MiniLML3Encoder(device="cpu"),
    E5SmallEncoder(),
    EfficientNetLiteEncoder("lite0", image_size=64, device="cpu"),
    Word2VecEncoder(),
    FastTextEncoder(),
    skrelrep.GreedyAnchorSelector(),
    CosineSimilarity(),
    EuclideanSimilarity(normalization="l2"),
    ManhattanSimilarity(),
    ChebyshevSimilarity(),
    CombinedSimilarity(["cosine", "l1"], aggregation="sum"),
]
DATA_FREE_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
]


def _device_available(namespace, device):
    """Whether an array API namespace/device pair exists on this machine."""
    if namespace in (None, "numpy", "array_api_strict"):
        return True
    if importlib.util.find_spec(namespace) is None:
        return False
    if namespace != "torch" or device in (None, "cpu"):
        return namespace == "torch"
    import torch

    backend = getattr(torch, device, None) or getattr(torch.backends, device, None)
    return bool(backend is not None and backend.is_available())


def _runnable(check):
    """Drop array API checks for namespaces or devices this machine does not have.

    GPU namespaces are exercised by benchmarks/gpu_check.sh on a GPU machine; listing
    them here would only add skips.
    """
    keywords = check.keywords if isinstance(check, functools.partial) else {}
    if "array_namespace" in keywords:
        return _device_available(
            keywords["array_namespace"], keywords.get("device_name")
        )
    pairs = [keywords.get(k) for k in ("X_ns_and_device", "other_ns_and_device")]
    return all(p is None or _device_available(p.xp, p.device) for p in pairs)


def _check_id(check):
    func = check.func if isinstance(check, functools.partial) else check
    args = [f"{k}={v}" for k, v in getattr(check, "keywords", {}).items()]
    return func.__name__ + (f"({','.join(args)})" if args else "")


def _checks(estimators):
    """pytest parameters ``(estimator, check)``; expected failures marked xfail."""
    for est in estimators:
        for item in estimator_checks_generator(
            est,
            legacy=True,
            expected_failed_checks=EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
            mark="xfail",
        ):
            # Expected failures come as pytest.param(estimator, check, marks=xfail).
            (estimator, check), marks = (
                getattr(item, "values", item),
                getattr(item, "marks", ()),
            )
            if _runnable(check):
                check_id = _check_id(check)
                func = check.func if isinstance(check, functools.partial) else check
                if func.__name__ in TWO_D_TARGET_CHECKS.get(type(est).__name__, ()):
                    check = _with_two_d_targets(check)
                yield pytest.param(
                    estimator, check, marks=marks, id=f"{estimator!r}-{check_id}"
                )


CHECKS = list(_checks(NUMERIC))


@pytest.mark.filterwarnings("ignore:n_anchors=.* is larger than n_samples")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("estimator", "check"), CHECKS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", DATA_FREE_CHECKS)
@pytest.mark.parametrize("estimator", NON_NUMERIC, ids=repr)
def test_sklearn_compatible_without_numeric_data(estimator, name):
    check = getattr(estimator_checks, name)
    check(type(estimator).__name__, estimator)


def _public_estimator_classes():
    """Every estimator class exported by skrelrep and its public subpackages."""
    modules = [
        "skrelrep",
        "skrelrep.encoders",
        "skrelrep.retrieval",
        "skrelrep.similarity",
    ]
    if _has("torch", "skorch"):
        modules.append("skrelrep.neural")
    found = set()
    for name in modules:
        module = importlib.import_module(name)
        for attribute in module.__all__:
            value = getattr(module, attribute)
            if inspect.isclass(value) and issubclass(value, BaseEstimator):
                found.add(value)
    return found


def test_every_public_estimator_is_checked():
    checked = {type(est) for est in NUMERIC + NON_NUMERIC}
    # The base class of the similarities is abstract: its subclasses are checked.
    exempt = {Similarity}
    missing = _public_estimator_classes() - checked - exempt
    assert not missing, sorted(cls.__name__ for cls in missing)
