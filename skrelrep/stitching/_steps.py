"""The three steps of a StitchedPipeline: fitted in order, their columns named.

``fit_steps`` fits them as ``Pipeline.fit`` does: the fit parameters are handed out
per step (by name, or by metadata routing), the encoder is fitted through the cache
of :mod:`._cache`, and with ``verbose`` each step's time is printed in Pipeline's
format. ``anchor_feature_names`` names each relative column by its anchor.
"""

import time
from contextlib import contextmanager

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import process_routing

from ..utils._compat import _routing_enabled
from ._cache import EncoderCache
from ._checks import is_passthrough

__all__ = ["STEPS", "anchor_feature_names", "fit_steps"]

STEPS = ("encoder", "relative", "decoder")


def fit_steps(owner, pipeline, X, y, params):
    """A Pipeline of the fitted steps of ``pipeline`` (of unfitted clones).

    ``owner`` is the StitchedPipeline, whose ``memory`` and ``verbose`` apply.
    """
    routed = _route_fit_params(owner, pipeline, params)
    cache = EncoderCache(owner.memory)
    fitted, Xt = [], X
    for index, (name, step) in enumerate(pipeline.steps):
        with _log_step(owner.verbose, index):
            step_params = routed.get(name, {})
            if is_passthrough(step):
                pass
            elif index < len(STEPS) - 1:
                # Only the encoder is cached: a grid search changes what follows.
                runner = cache if index == 0 else EncoderCache(None)
                Xt, step = runner.fit_transform(step, Xt, y, step_params)
            else:
                step.fit(Xt, y, **step_params.get("fit", {}))
        fitted.append((name, step))
    return Pipeline(fitted)


def _route_fit_params(owner, pipeline, params):
    """Fit parameters per step, as ``Pipeline.fit`` would hand them out."""
    if _routing_enabled():
        # owner routes everything to its pipeline, which routes to the steps.
        routed = process_routing(owner, "fit", **params)
        return process_routing(pipeline, "fit", **routed.pipeline.fit)
    per_step = {name: {"fit": {}, "fit_transform": {}} for name in STEPS}
    for key, value in params.items():
        name, _, param = key.partition("__")
        if name not in per_step or not param:
            raise ValueError(
                f"StitchedPipeline.fit does not accept the {key} parameter. Pass "
                "parameters to a step as <step>__<parameter>, with step one of "
                f"{', '.join(STEPS)} (e.g. decoder__sample_weight=...)."
            )
        per_step[name]["fit"][param] = per_step[name]["fit_transform"][param] = value
    return per_step


@contextmanager
def _log_step(verbose, index):
    """Time step ``index`` and print it like ``Pipeline(verbose=True)``."""
    start = time.perf_counter()
    yield
    if verbose:
        elapsed = time.perf_counter() - start
        head = "[StitchedPipeline] "
        tail = (
            f" (step {index + 1} of {len(STEPS)}) Processing {STEPS[index]}, "
            f"total={elapsed:6.1f}s"
        )
        print(head + "." * max(0, 70 - len(head) - len(tail)) + tail)


def anchor_feature_names(names, anchor_indices):
    """Name each column by its anchor's row; ``names`` where that is ambiguous."""
    indices = np.asarray(anchor_indices).ravel()
    n_anchors = len(indices)
    if not n_anchors or len(names) % n_anchors or len(set(indices)) != n_anchors:
        return names
    blocks = len(names) // n_anchors
    parts = [""] if blocks == 1 else [f"_similarity{b}" for b in range(blocks)]
    return np.asarray(
        [f"relative{part}_anchor{i}" for part in parts for i in indices], dtype=object
    )
