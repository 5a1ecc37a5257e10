"""The three steps of a StitchedPipeline: fitted in order, their columns named.

``fit_steps`` fits them as ``Pipeline.fit`` does: the fit parameters are handed out
per step (by name, or by metadata routing), the encoder is fitted through the cache
of :mod:`._cache`, and with ``verbose`` each step's time is printed in Pipeline's
format. ``anchor_feature_names`` names each relative column by its anchor, and
``step_tags`` gives the pipeline the tags its steps declare. ``switch_guards`` turns
a fitted step's input-space guard on or off, and ``decoder_has`` tells which of the
decoder's methods the pipeline has.
"""

import time
from contextlib import contextmanager

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import TransformerTags, get_tags
from sklearn.utils.metadata_routing import process_routing

from ..utils._compat import _routing_enabled
from ._cache import EncoderCache
from ._checks import is_passthrough

__all__ = [
    "STEPS",
    "anchor_feature_names",
    "decoder_has",
    "fit_steps",
    "step_tags",
    "switch_guards",
]

STEPS = ("encoder", "relative", "decoder")
# A step's switch of its input-space guard: it changes nothing that was fitted, so
# a fitted step takes it without a refit.
GUARD_SWITCH = "check_input_space"


def fit_steps(owner, pipeline, X, y, params):
    """``(Pipeline of the fitted steps of pipeline, the encoder's codes of X)``.

    ``pipeline`` holds unfitted clones; ``owner`` is the StitchedPipeline, whose
    ``memory`` and ``verbose`` apply.
    """
    routed = _route_fit_params(owner, pipeline, params)
    cache = EncoderCache(owner.memory)
    fitted, Xt, codes = [], X, None
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
        if index == 0:
            codes = Xt
        fitted.append((name, step))
    return Pipeline(fitted), codes


def switch_guards(pipeline, params):
    """``pipeline`` with each ``<step>__check_input_space`` of ``params`` set on its
    fitted step.

    The step is replaced by a shallow copy (its fitted arrays shared) with the
    switch set: fitted steps are shared between a pipeline and those stitched from
    it, which keep their own guard.
    """
    steps = list(pipeline.steps)
    for key, value in params.items():
        name, _, param = key.partition("__")
        if param != GUARD_SWITCH or name not in STEPS:
            continue
        index = STEPS.index(name)
        step = steps[index][1]
        if is_passthrough(step) or GUARD_SWITCH not in step.get_params(deep=False):
            continue
        # A copy of the attributes as they are: copy.copy would go through the
        # step's __getstate__, which may move fitted arrays (torch) to NumPy.
        switched = type(step).__new__(type(step))
        switched.__dict__.update(vars(step))
        step = switched.set_params(**{GUARD_SWITCH: value})
        steps[index] = (name, step)
    return pipeline if steps == pipeline.steps else Pipeline(steps)


def decoder_has(attr):
    """For available_if: the fitted decoder (or, before fit, the given one) has attr."""

    def check(self):
        decoder = self.pipeline_[-1] if hasattr(self, "pipeline_") else self.decoder
        getattr(decoder, attr)
        return True

    return check


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


def step_tags(tags, encoder, relative, decoder):
    """A StitchedPipeline's ``tags``, completed with what its steps declare."""
    # Invalid steps are reported by fit's parameter validation, not here.
    encoder_tags = _tags_or_none(encoder)
    decoder_tags = _tags_or_none(decoder)
    relative_tags = _tags_or_none(relative)
    if encoder_tags is not None:
        # The inputs are what the encoder reads.
        tags.input_tags = encoder_tags.input_tags
        tags.non_deterministic |= encoder_tags.non_deterministic
        # transform returns the relative codes: float dtypes kept by both steps.
        preserved = _preserved_dtypes(encoder_tags)
        if relative_tags is not None:
            kept = _preserved_dtypes(relative_tags)
            preserved = [dtype for dtype in preserved if dtype in kept]
        tags.transformer_tags = TransformerTags(preserves_dtype=preserved)
    if decoder_tags is not None:
        # Targets and estimator type are the decoder's.
        tags.estimator_type = decoder_tags.estimator_type
        tags.target_tags = decoder_tags.target_tags
        tags.classifier_tags = decoder_tags.classifier_tags
        tags.regressor_tags = decoder_tags.regressor_tags
        tags.non_deterministic |= decoder_tags.non_deterministic
    return tags


def _tags_or_none(step):
    """The tags of a step; None for "passthrough" or anything that is no estimator."""
    if is_passthrough(step):
        return None
    try:
        return get_tags(step)
    except (AttributeError, TypeError, ValueError):
        return None


def _preserved_dtypes(tags):
    if tags.transformer_tags is None:
        return []
    return list(tags.transformer_tags.preserves_dtype)
