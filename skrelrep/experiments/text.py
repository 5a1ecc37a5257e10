"""Text stitching across encoders (MiniLM-L6, L3, e5), parallel anchors.

The paper's text experiments (Moschella et al., 2023, Section 5.2) stitch a classifier
trained on one pretrained language model's relative codes onto another model's, with
no training: across architectures, and across languages when the anchors are
parallel (the same sentences, translated; :mod:`.crosslingual`). Absolute codes of
separately trained models are unrelated, so absolute stitching falls towards chance
even when the widths match.

Every sentence is embedded once per encoder; stitching then runs on the codes, each
encoder using its own codes of the decoder's anchor items (parallel anchors). Two
controls test the explanation of the results: a random rotation of one encoder's codes
(absolute stitching must then fail, relative stitching cannot change), and anchors
drawn from topics held out of the task (out-of-domain parallel anchors).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._claims import close_to, falls_to_chance, far_above_chance
from ._embedded import (
    embedded_stitching,
    matrix_of,
    pair_table,
    pair_values,
    parallel_stitching,
    random_rotation,
)
from ._spec import ExperimentSpec
from ._stitching import default_decoder, describe_decoder
from ._text_shared import (
    ABOVE_CHANCE,
    CHANCE_MARGIN,
    E5,
    IN_DOMAIN,
    L3,
    L3_ROTATED,
    L6,
    MEASURED_NOTE,
    OUT_OF_DOMAIN,
    alignment_finding,
    matrix_figure,
    measured_finding,
    pair_findings,
    score,
    similarity_table,
    stitching_tables,
    translation_note,
)

__all__ = ["SPEC", "TextSettings", "text_findings"]

TOPICS = (
    "computers",
    "education",
    "food",
    "law",
    "love",
    "politics",
    "science",
    "sports",
)
# Topics of the out-of-domain anchors: fortunes that the task never classifies.
HELD_OUT = ("art", "humorists", "kids", "literature", "people", "work")

#: Rotating one encoder's codes leaves relative stitching within this (an invariance).
ROTATION_TOLERANCE = 0.01
#: Out-of-domain anchors stitch within this of in-domain ones.
OOD_TOLERANCE = 0.05

# Measured when the data notes (shared/data.md) were written: logistic regression on
# relative codes (300 anchors) of 1,009 English fortunes in 8 topics.
MEASURED_TEXT = pd.DataFrame(
    [
        ("relative", L6, L6, 0.82),
        ("relative", L3, L6, 0.72),
        ("relative", L3, L3, 0.75),
        ("relative", L6, L3, 0.81),
    ],
    columns=["space", "encoder", "decoder", "score"],
)

#: The text pairs whose claims are checked, with their labels.
TEXT_PAIRS = {
    (L6, L3): "MiniLM-L6 ↔ L3 (cut from one parent model)",
    (L6, E5): "MiniLM-L6 ↔ e5 (different model families)",
}


def text_findings(frame, rotated, out_of_domain, chance):
    """The text claims, checked on tidy results paired by split.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`embedded_stitching` of MiniLM-L6, L3 and e5 (in-domain anchors).
    rotated : pandas.DataFrame
        :func:`parallel_stitching` of MiniLM-L6 and L3's codes rotated at random.
    out_of_domain : pandas.DataFrame
        :func:`parallel_stitching` (relative only) on anchors from held-out topics.
    chance : float
        Majority-class accuracy of the test labels.

    Returns
    -------
    findings : list of Finding
        Per pair of :data:`TEXT_PAIRS`: absolute stitching at chance (mean ≤ chance +
        :data:`CHANCE_MARGIN`), relative far above chance (every split ≥ chance +
        :data:`ABOVE_CHANCE`) and within :data:`KEPT_TOLERANCE` of the same-model
        accuracy. The rotation control: absolute stitching to the rotated codes at
        chance, relative within :data:`ROTATION_TOLERANCE` of the unrotated score.
        Out-of-domain anchors, per pair: far above chance, and within
        :data:`OOD_TOLERANCE` of in-domain anchors.
    """
    findings = []
    for (a, b), label in TEXT_PAIRS.items():
        findings += pair_findings(frame, a, b, chance, label)
    _, rotated_absolute = pair_values(rotated, L6, L3_ROTATED, "absolute")
    _, rotated_relative = pair_values(rotated, L6, L3_ROTATED, "relative")
    _, unrotated = pair_values(frame, L6, L3, "relative")
    label = "control, MiniLM-L6 ↔ L3 with L3's codes rotated at random"
    findings += [
        falls_to_chance(
            f"{label}: absolute stitching falls to chance",
            rotated_absolute,
            chance,
            margin=CHANCE_MARGIN,
        ),
        close_to(
            f"{label}: relative stitching keeps its unrotated score",
            rotated_relative,
            unrotated,
            tolerance=ROTATION_TOLERANCE,
            names=("rotated", "unrotated"),
        ),
    ]
    for (a, b), label in TEXT_PAIRS.items():
        _, held_out = pair_values(out_of_domain, a, b, "relative")
        _, in_domain = pair_values(frame, a, b, "relative")
        findings += [
            far_above_chance(
                f"{label}, anchors from topics held out of the task: relative "
                "stitching stays far above chance",
                held_out,
                chance,
                margin=ABOVE_CHANCE,
            ),
            close_to(
                f"{label}: out-of-domain anchors stitch as well as in-domain ones",
                held_out,
                in_domain,
                tolerance=OOD_TOLERANCE,
                names=("out-of-domain", "in-domain"),
            ),
        ]
    return findings


# -- the spec: settings, steps and report text ------------------------------------------


@dataclass(frozen=True)
class TextSettings:
    """Settings of the text experiment: at most ``n_per_topic`` quotes per topic,
    ``n_anchors`` anchors (and as many out-of-domain anchor quotes), ``repeats``
    train/test splits."""

    n_per_topic: int
    n_anchors: int
    repeats: int


@dataclass
class TextMeasurements:
    """The stitching results, the two controls and the latent similarity."""

    frame: pd.DataFrame
    rotated: pd.DataFrame
    out_of_domain: pd.DataFrame
    similarity: pd.DataFrame
    n_texts: int
    n_held_out: int
    width: int


TITLE = "Text stitching: MiniLM-L6 ↔ MiniLM-L3 ↔ e5 (fortunes)"

DESCRIPTION = """\
{n_texts:,} English fortunes (Debian `fortunes`, at most {n_per_topic} per topic, at \
most 500 characters) in {n_topics} topics ({topics}), embedded once by the pretrained \
all-MiniLM-L6-v2, paraphrase-MiniLM-L3-v2 (both fine-tuned apart from layers of the \
same pretrained MiniLM-L12-H384, according to their model cards) and \
multilingual-e5-small (another family); all 384-d, so absolute codes can be stitched \
too. Decoders: {decoder} (the same budget for absolute and relative codes). Relative \
codes: {n_anchors} random anchors among the training quotes, centred, the same quotes \
for every encoder (parallel anchors). Every encoder × decoder pair scored (accuracy) \
on a stratified 30% test split, {repeats} split(s) with their own anchors; chance \
(majority class) {chance:.3f}. In the matrix, `encoder` gives the codes and `decoder` \
the model whose decoder reads them.

Rotation control: L3's codes multiplied by a random orthogonal matrix (seed \
{random_state}), then stitched with MiniLM-L6 on the same splits and anchors; a \
rotation leaves cosines, hence relative codes, unchanged, and destroys any \
coordinates L3 shares with L6. Out-of-domain anchors: {n_held_out} fortunes of topics \
the task does not classify ({held_out}), embedded by every encoder and used as \
parallel anchors in every split (the anchors table `pairs` compares them with the \
in-domain ones, split by split). The latent similarity table compares two models' \
codes of the same quotes (MRR: how well a quote's code in one space retrieves its \
code in the other; about 0.007 for a random ranking of 1,000).

{translation}

{measured}"""


def _held_out_texts(load_fortunes, n_texts, random_state):
    """``n_texts`` fortunes of the :data:`HELD_OUT` topics, never classified."""
    pool = load_fortunes(
        list(HELD_OUT),
        n_per_topic=-(-n_texts // len(HELD_OUT)),
        max_chars=500,
        random_state=random_state,
        return_X_y=True,
    )[0]
    chosen = np.random.RandomState(random_state).choice(
        len(pool), min(n_texts, len(pool)), replace=False
    )
    return [pool[i] for i in np.sort(chosen)]


def _load(run):
    from ..datasets import load_fortunes

    texts, y = load_fortunes(
        list(TOPICS),
        n_per_topic=run.settings.n_per_topic,
        max_chars=500,
        random_state=run.random_state,
        return_X_y=True,
    )
    held_out = _held_out_texts(load_fortunes, run.settings.n_anchors, run.random_state)
    return list(texts), y, held_out


def _encode(data, run):
    """Each encoder's codes of the task's quotes and of the held-out anchor quotes."""
    from ..encoders import E5SmallEncoder, MiniLML3Encoder, MiniLML6Encoder

    texts, y, held_out = data
    encoders = {
        L6: MiniLML6Encoder(device="cpu", verbose=run.show_progress),
        L3: MiniLML3Encoder(device="cpu", verbose=run.show_progress),
        E5: E5SmallEncoder(verbose=run.show_progress),
    }
    codes, anchor_codes = {}, {}
    for name, encoder in encoders.items():
        # One pass per encoder over the task's texts and the anchor texts.
        both = encoder.fit_transform(texts + held_out)
        codes[name], anchor_codes[name] = both[: len(texts)], both[len(texts) :]
    return codes, anchor_codes, y


def _measure(encoded, run):
    codes, anchor_codes, y = encoded
    n_anchors = run.settings.n_anchors
    common = dict(repeats=run.settings.repeats, random_state=run.random_state)
    frame = embedded_stitching(
        codes,
        y,
        n_anchors=n_anchors,
        show_progress=run.show_progress,
        methods=True,
        **common,
    )
    rotated_codes = codes[L3] @ random_rotation(codes[L3].shape[1], run.random_state)
    rotated = parallel_stitching(
        {L6: codes[L6], L3_ROTATED: rotated_codes}, y, n_anchors=n_anchors, **common
    )
    out_of_domain = parallel_stitching(
        codes, y, anchor_codes=anchor_codes, absolute=False, **common
    )
    similarity = similarity_table(
        {**codes, L3_ROTATED: rotated_codes},
        [(L6, L3), (L6, E5), (L6, L3_ROTATED)],
        n_anchors=n_anchors,
        random_state=run.random_state,
    )
    return TextMeasurements(
        frame=frame,
        rotated=rotated,
        out_of_domain=out_of_domain,
        similarity=similarity,
        n_texts=len(y),
        n_held_out=len(next(iter(anchor_codes.values()))),
        width=codes[L6].shape[1],
    )


def _claims(measured):
    frame = measured.frame
    findings = text_findings(
        frame, measured.rotated, measured.out_of_domain, frame.attrs["chance"]
    )
    matrix = matrix_of(frame)
    findings.append(
        measured_finding(
            "MiniLM-L6 ↔ L3: relative scores match the data notes' measurement",
            {
                f"({row.encoder} codes, {row.decoder} decoder)": (
                    score(matrix, "relative", row.encoder, row.decoder),
                    row.score,
                )
                for row in MEASURED_TEXT.itertuples()
            },
        )
    )
    findings.append(
        alignment_finding(measured.similarity, f"{L6} vs {L3}", measured.n_texts)
    )
    return findings


def _tables(measured):
    pairs = pair_table(
        {
            IN_DOMAIN: measured.frame,
            OUT_OF_DOMAIN: measured.out_of_domain,
            "in-domain (control)": measured.rotated,
        },
        [(L6, L3), (L6, E5), (L3, E5), (L6, L3_ROTATED)],
    )
    return stitching_tables(
        measured.frame,
        **{
            "pairs": pairs,
            "rotation control": measured.rotated,
            "out-of-domain anchors": measured.out_of_domain,
            "latent similarity": measured.similarity,
        },
    )


def _figures(measured):
    return {"matrix": matrix_figure(measured.frame, TITLE)}


def _describe(measured, run):
    settings = run.settings
    return DESCRIPTION.format(
        n_texts=measured.n_texts,
        n_per_topic=settings.n_per_topic,
        n_topics=len(TOPICS),
        topics=", ".join(TOPICS),
        decoder=describe_decoder(default_decoder(), rows="training quotes"),
        n_anchors=settings.n_anchors,
        repeats=settings.repeats,
        chance=measured.frame.attrs["chance"],
        random_state=run.random_state,
        n_held_out=measured.n_held_out,
        held_out=", ".join(HELD_OUT),
        translation=translation_note(settings.n_anchors, measured.width),
        measured=MEASURED_NOTE,
    )


#: MiniLM-L6, MiniLM-L3 and e5 stitching on English fortunes in 8 topics, with a
#: rotation control (L3's codes rotated at random) and anchors from held-out topics.
SPEC = ExperimentSpec(
    name="text",
    title=TITLE,
    quick=TextSettings(n_per_topic=30, n_anchors=100, repeats=1),
    full=TextSettings(n_per_topic=125, n_anchors=300, repeats=5),
    load=_load,
    encode=_encode,
    measure=_measure,
    claims=_claims,
    describe=_describe,
    tables=_tables,
    figures=_figures,
    published=MEASURED_TEXT,
)
