"""scikit-learn's common estimator checks over every public estimator."""

import functools
import importlib.util

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from skrelrep import RelativeTransformer

# Common checks fit on as few as 1-20 samples; a small n_anchors keeps them
# meaningful, and the clipping warning for tinier data is expected behaviour.
ESTIMATORS = [
    RelativeTransformer(n_anchors=5, random_state=0),
    RelativeTransformer(
        n_anchors=5, anchor_selection="fps", center=True, random_state=0
    ),
    RelativeTransformer(n_anchors=0.5, anchor_selection="kmeans", random_state=0),
]

# Checks known to fail, with the reason, by estimator class name.
EXPECTED_FAILED_CHECKS = {}


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


CHECKS = [
    pytest.param(estimator, check, id=f"{estimator!r}-{_check_id(check)}")
    for est in ESTIMATORS
    for estimator, check in estimator_checks_generator(
        est,
        legacy=True,
        expected_failed_checks=EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
        mark="xfail",
    )
    if _runnable(check)
]


@pytest.mark.filterwarnings("ignore:n_anchors=.* is larger than n_samples")
@pytest.mark.parametrize(("estimator", "check"), CHECKS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
