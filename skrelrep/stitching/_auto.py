"""Choose the bridge of a stitch by cross-validation on the parallel anchors.

``stitch(..., via="auto")`` compares relative stitching with latent translations
(each :class:`LatentTranslator` method and scaling) on the only paired data it has,
the anchors: a candidate scores the fraction of anchor items on which the stitched
pipeline, reading the new encoder's view, predicts what ``decoder_from`` predicts
from its own view. Translations are scored out of fold (fitted on the other folds);
the relative projection fits nothing on the anchors, so it is scored on all of them.
"""

import numpy as np
from sklearn.model_selection import KFold

from ..utils._compat import _safe_indexing
from ._checks import check_decoder_from, is_passthrough, n_rows

__all__ = ["TRANSLATIONS", "stitch_auto"]

# (method, scaling) pairs tried by via="auto", after the relative projection.
TRANSLATIONS = (
    ("orthogonal", "isotropic"),
    ("orthogonal", "per_feature"),
    ("linear", "isotropic"),
    ("linear", "per_feature"),
)


def _agreement(predicted, reference):
    return float(np.mean(np.asarray(predicted) == np.asarray(reference)))


def stitch_auto(stitch, stitch_by_translation, encoder_from, decoder_from, anchors):
    """Stitch by the bridge that best agrees with ``decoder_from`` on its anchors.

    Returns the stitched pipeline with ``stitch_choice_`` (``"relative"`` or
    ``"translation:<method>:<scaling>"``) and ``stitch_cv_scores_`` (candidate to
    agreement) set. Ties go to the relative projection, then to the simpler map.
    """
    check_decoder_from(decoder_from)
    if is_passthrough(decoder_from.pipeline_.named_steps["relative"]):
        raise ValueError(
            'via="auto" compares bridges on the anchors of a relative decoder_from; '
            'this one is passthrough (absolute): use via="translation" with '
            "parallel anchor_inputs."
        )
    target = decoder_from.anchor_inputs_
    if target is None:
        raise ValueError(
            'via="auto" needs decoder_from\'s anchor items in its own domain '
            "(anchor_inputs_), to score the bridges against its predictions; this "
            'one was stitched by translation: pick via="relative" or "translation".'
        )
    source = target if anchors is None else anchors
    n_anchors = n_rows(target)
    if n_rows(source) != n_anchors:
        raise ValueError(
            f"anchor_inputs must hold the decoder's {n_anchors} anchor items, row by "
            f"row; got {n_rows(source)} rows."
        )
    reference = decoder_from.predict(target)

    relative = stitch(encoder_from, decoder_from, anchors, via="relative")
    scores = {"relative": _agreement(relative.predict(source), reference)}
    n_splits = min(5, n_anchors)
    folds = list(
        KFold(n_splits, shuffle=True, random_state=0).split(np.arange(n_anchors))
    )
    for method, scaling in TRANSLATIONS:
        predicted = np.empty(n_anchors, dtype=np.asarray(reference).dtype)
        try:
            for train, test in folds:
                fold = stitch_by_translation(
                    encoder_from,
                    decoder_from,
                    _safe_indexing(source, train),
                    target_anchor_inputs=_safe_indexing(target, train),
                    method=method,
                    scaling=scaling,
                )
                predicted[test] = fold.predict(_safe_indexing(source, test))
        except ValueError:
            # A map the folds cannot fit (too few anchors for it), or codes the
            # decoder's input-space check refuses: not a candidate.
            continue
        scores[f"translation:{method}:{scaling}"] = _agreement(predicted, reference)

    choice = max(scores, key=lambda name: scores[name])  # first maximum wins
    if choice == "relative":
        stitched = relative
    else:
        _, method, scaling = choice.split(":")
        stitched = stitch_by_translation(
            encoder_from,
            decoder_from,
            source,
            target_anchor_inputs=target,
            method=method,
            scaling=scaling,
        )
    stitched.stitch_choice_ = choice
    stitched.stitch_cv_scores_ = scores
    return stitched
