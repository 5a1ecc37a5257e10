"""Reconstruction stitching: the encoder of one autoencoder, the decoder of another.

The paper's autoencoder experiment (Moschella et al., 2023): autoencoders trained with
different seeds are cut between encoder and decoder and re-joined across seeds, with no
training. An absolute autoencoder's decoder cannot read another seed's latent space,
and the stitched reconstructions are garbage; a relative autoencoder's decoder reads
only cosines to the same anchor images, so a stitched pair still reconstructs. The
measure is the test mean squared error, against the error of predicting the mean
training image (the "chance" of reconstruction).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..utils._progress import progress
from ._claims import at_most, exceeds, falls_to_chance, far_above_chance
from ._spec import ExperimentSpec

__all__ = [
    "SPEC",
    "ReconstructionSettings",
    "mean_image_mse",
    "reconstruction_findings",
    "score_autoencoders",
    "summarize_reconstruction",
    "train_autoencoders",
]

#: Width of the latent code and of the one hidden layer of encoder and decoder.
N_COMPONENTS = 16
HIDDEN_UNITS = (128,)
BATCH_SIZE = 128

#: The rules of the claims, on the share of the mean-image error a model removes
#: (``explained = 1 - MSE / mean-image MSE``: 0 is the mean image, 1 is perfect).
RELATIVE_FLOOR = 0.5  # every relative stitched pair removes at least half of it
ABSOLUTE_MARGIN = 0.1  # absolute stitched: on average at most 0.1 above the mean image
ADVANTAGE = 0.5  # relative beats absolute stitched by 0.5 on average, on every pair
LOST_LIMIT = 0.25  # relative stitching loses at most 25% of the decoder's own gain

#: How many test images the figure shows per data set.
N_EXAMPLES = 8


def mean_image_mse(X_train, X_test):
    """Test MSE of predicting the mean training image for every test image.

    The reconstruction analogue of chance: what a model that ignores its input
    achieves at best (on average over the training images).

    Parameters
    ----------
    X_train : array-like of shape (n_train, n_features)
    X_test : array-like of shape (n_test, n_features)

    Returns
    -------
    mse : float
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    return float(np.mean((X_test - X_train.mean(axis=0)) ** 2))


def _autoencoders(*, n_anchors, anchor_indices, max_epochs, seed):
    """An absolute and a relative autoencoder of the same architecture and budget."""
    import torch

    from ..neural import AutoEncoder, RelativeAutoEncoder

    common = dict(
        module__n_components=N_COMPONENTS,
        module__hidden_units=HIDDEN_UNITS,
        decoder__hidden_units=HIDDEN_UNITS,
        decoder__output_activation=torch.nn.Sigmoid,  # inputs are in [0, 1]
        max_epochs=max_epochs,
        batch_size=BATCH_SIZE,
        random_state=seed,
    )
    # The anchors are given as row indices, so that every seed's relative net uses
    # the same training images as anchors (parallel anchors); the seed then changes
    # only the weights and the batches.
    relative = RelativeAutoEncoder(
        n_anchors=n_anchors, anchor_selection=anchor_indices, **common
    )
    return {"absolute": AutoEncoder(**common), "relative": relative}


def _reconstruct(net, X):
    return net.inverse_transform(net.transform(X)).reshape(len(X), -1)


def train_autoencoders(
    X_train,
    *,
    dataset,
    seeds,
    n_anchors,
    max_epochs,
    random_state=0,
    show_progress=None,
):
    """Train an absolute and a relative autoencoder per seed.

    For each seed, an :class:`~skrelrep.neural.AutoEncoder` and a
    :class:`~skrelrep.neural.RelativeAutoEncoder` with the same encoder and decoder
    widths and the same training budget. The relative nets share ``n_anchors``
    training images, drawn once with ``random_state``. :func:`score_autoencoders`
    then scores every pair.

    Parameters
    ----------
    X_train : ndarray of shape (n, n_features)
        Flat images with values in ``[0, 1]``.
    dataset : str
        Named in the progress bar.
    seeds : sequence of int
        One absolute and one relative net per seed.
    n_anchors : int
        Number of shared anchor images.
    max_epochs : int
        Training epochs of every net.
    random_state : int, default=0
        Seeds the anchor draw (the nets are seeded by ``seeds``).
    show_progress : bool or None, default=None
        Progress bar over the seeds.

    Returns
    -------
    nets : dict
        ``{"absolute": {seed: net}, "relative": {seed: net}}``.
    """
    X_train = np.asarray(X_train, dtype=np.float32)
    rng = np.random.RandomState(random_state)
    anchors = rng.choice(len(X_train), size=min(n_anchors, len(X_train)), replace=False)
    nets = {"absolute": {}, "relative": {}}
    for seed in progress(
        list(seeds), description=f"autoencoders ({dataset})", enabled=show_progress
    ):
        pair = _autoencoders(
            n_anchors=len(anchors),
            anchor_indices=anchors,
            max_epochs=max_epochs,
            seed=seed,
        )
        for space, net in pair.items():
            nets[space][seed] = net.fit(X_train)
    return nets


def score_autoencoders(nets, X_train, X_test, *, dataset):
    """The test MSE of every encoder seed × decoder seed pair of
    :func:`train_autoencoders`' nets: the decoder's net with the encoder of the
    other seed swapped in (``with_encoder``), nothing retrained.

    Parameters
    ----------
    nets : dict
        What :func:`train_autoencoders` returns.
    X_train, X_test : ndarray of shape (n, n_features)
        The training images (for the mean-image baseline) and the test images.
    dataset : str
        Name in the ``dataset`` column.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``dataset, space, encoder, decoder, stitched, mse, baseline,
        explained``: ``baseline`` is :func:`mean_image_mse` and ``explained`` is
        ``1 - mse / baseline``.
    examples : dict of str to ndarray
        Reconstructions of the first :data:`N_EXAMPLES` test images: ``original``,
        ``same absolute`` and ``same relative`` (the first seed's nets),
        ``stitched absolute`` and ``stitched relative`` (the second seed's encoder
        with the first seed's decoder).
    """
    X_train = np.asarray(X_train, dtype=np.float32)
    X_test = np.asarray(X_test, dtype=np.float32)
    seeds = list(nets["absolute"])
    baseline = mean_image_mse(X_train, X_test)
    rows = []
    shown = X_test[:N_EXAMPLES]
    reconstructions = {}
    for space, by_seed in nets.items():
        for decoder_seed in seeds:
            decoder = by_seed[decoder_seed]
            for encoder_seed in seeds:
                stitched = encoder_seed != decoder_seed
                net = (
                    decoder.with_encoder(by_seed[encoder_seed]) if stitched else decoder
                )
                mse = float(np.mean((_reconstruct(net, X_test) - X_test) ** 2))
                rows.append(
                    {
                        "dataset": dataset,
                        "space": space,
                        "encoder": f"seed {encoder_seed}",
                        "decoder": f"seed {decoder_seed}",
                        "stitched": stitched,
                        "mse": mse,
                    }
                )
        first = by_seed[seeds[0]]
        reconstructions[f"same {space}"] = _reconstruct(first, shown)
        if len(seeds) > 1:
            swapped = first.with_encoder(by_seed[seeds[1]])
            reconstructions[f"stitched {space}"] = _reconstruct(swapped, shown)
    order = ["same absolute", "same relative", "stitched absolute", "stitched relative"]
    examples = {"original": shown}
    examples.update({k: reconstructions[k] for k in order if k in reconstructions})
    frame = pd.DataFrame(rows)
    frame["baseline"] = baseline
    frame["explained"] = 1.0 - frame["mse"] / baseline
    return frame, examples


def summarize_reconstruction(results):
    """Mean and std (over pairs) per data set × space × same model / stitched.

    MSE is shown ×100 (the images are in ``[0, 1]``, so raw errors are small).
    """
    frame = results.assign(
        pair=np.where(results["stitched"], "stitched", "same model"),
        mse100=100 * results["mse"],
    )
    grouped = frame.groupby(["dataset", "space", "pair"], sort=False)
    summary = grouped.agg(
        **{
            "MSE ×100 mean": ("mse100", "mean"),
            "MSE ×100 std": ("mse100", "std"),
            "explained mean": ("explained", "mean"),
            "explained std": ("explained", "std"),
            "n": ("mse", "size"),
        }
    ).reset_index()
    baselines = results.groupby("dataset", sort=False)["baseline"].first()
    summary.insert(3, "mean image MSE ×100", 100 * summary["dataset"].map(baselines))
    return summary


def reconstruction_findings(results):
    """The paper's claims about reconstruction stitching, checked per data set.

    A pure function of the tidy table (columns as returned by
    :func:`score_autoencoders`), so that a fabricated table can test it.
    Scores are ``explained = 1 - MSE / mean-image MSE``: 0 is as good as predicting
    the mean training image, negative is worse.

    Returns
    -------
    findings : list of Finding
        Four per data set.
    """
    findings = []
    for dataset, frame in results.groupby("dataset", sort=False):
        findings += _dataset_findings(dataset, frame)
    return findings


def _dataset_findings(dataset, frame):
    explained = 1.0 - frame["mse"] / frame["baseline"]
    frame = frame.assign(explained=explained)
    stitched = frame[frame["stitched"]]
    pairs = ["encoder", "decoder"]
    relative = stitched[stitched["space"] == "relative"].set_index(pairs)
    absolute = stitched[stitched["space"] == "absolute"].set_index(pairs)
    absolute = absolute.reindex(relative.index)  # pair i with pair i
    same = frame[~frame["stitched"] & (frame["space"] == "relative")].set_index(
        "decoder"
    )
    own = same["explained"].reindex(relative.index.get_level_values("decoder"))
    own_mse = same["mse"].reindex(relative.index.get_level_values("decoder"))
    gain = own.to_numpy()
    # The share of the decoder's own gain over the mean image that stitching loses;
    # a decoder with no gain has nothing to keep, which counts as losing it all.
    lost = np.where(
        gain > 0,
        1.0 - relative["explained"].to_numpy() / np.where(gain > 0, gain, 1),
        1,
    )
    label = f"{dataset}:"
    share = "share of the mean-image error removed, 1 − MSE / mean-image MSE"
    findings = [
        far_above_chance(
            f"{label} relative stitching reconstructs far better than the mean "
            f"training image ({share}; the mean image is 0)",
            relative["explained"],
            0.0,
            margin=RELATIVE_FLOOR,
        ),
        falls_to_chance(
            f"{label} absolute stitching reconstructs no better than the mean "
            f"training image ({share}; the mean image is 0)",
            absolute["explained"],
            0.0,
            margin=ABSOLUTE_MARGIN,
        ),
        exceeds(
            f"{label} relative stitching beats absolute stitching on every "
            f"encoder × decoder pair ({share})",
            relative["explained"],
            absolute["explained"],
            margin=ADVANTAGE,
            names=("relative", "absolute"),
        ),
        at_most(
            f"{label} relative stitching keeps most of the same-model quality: it "
            "loses little of what the decoder's own model gains over the mean image",
            lost,
            LOST_LIMIT,
            what="share of the gain lost",
        ),
    ]
    ratio = relative["mse"].to_numpy() / own_mse.to_numpy()
    findings[-1].evidence += (
        f"; stitched / same-model MSE {ratio.mean():.2f} "
        f"(range {ratio.min():.2f}–{ratio.max():.2f})"
    )
    return findings


def _digits(random_state):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X = load_digits().data.astype(np.float32) / 16.0
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=random_state)
    return X_train, X_test, (8, 8)


def _fashion(n_train, n_test, random_state):
    from ..datasets import load_fashion_mnist

    # The data set's own test split; pixels already scaled to [0, 1].
    X_train, _ = load_fashion_mnist(
        n_samples=n_train, random_state=random_state, return_X_y=True
    )
    X_test, _ = load_fashion_mnist(
        "test", n_samples=n_test, random_state=random_state, return_X_y=True
    )
    return X_train, X_test, (28, 28)


# -- the spec: settings, steps and report text ------------------------------------------


@dataclass(frozen=True)
class Budget:
    """The nets of one data set: ``n_seeds`` seeds (offsets to the run's
    ``random_state``), ``n_anchors`` shared anchor images, ``max_epochs`` epochs."""

    n_seeds: int
    n_anchors: int
    max_epochs: int


@dataclass(frozen=True)
class ReconstructionSettings:
    """Settings of the reconstruction experiment: a :class:`Budget` per data set,
    and the Fashion-MNIST training and test images."""

    digits: Budget
    fashion: Budget
    fashion_train: int
    fashion_test: int


@dataclass
class ReconstructionMeasurements:
    """The MSE table, and per data set its reconstructions, image shape and sizes."""

    results: pd.DataFrame
    examples: dict
    shapes: dict
    lines: list


DESCRIPTION = """\
Per data set and seed, an absolute `AutoEncoder` and a `RelativeAutoEncoder` \
(`skrelrep.neural`) with the same MLP encoder (one ReLU hidden layer of {hidden} \
units, a {n_components}-d code), the same MLP decoder widths (sigmoid output) and the \
same budget (Adam, learning rate 1e-3, batches of {batch_size}), trained by mean \
squared error. The relative nets put the cosine to anchor images (then a LayerNorm) \
between encoder and decoder; every seed uses the same random training images as \
anchors (parallel anchors, as in the paper; not centred). Every encoder seed × \
decoder seed pair is scored by the test MSE: the decoder's net with the other seed's \
encoder swapped in (`with_encoder`), nothing retrained. The baseline is the MSE of \
predicting the mean training image; *explained* is 1 − MSE / baseline.

{lines}

Our reference notes hold no published MSE for this experiment: the paper's \
qualitative claim is that absolute stitching fails while relative stitching \
reconstructs."""

LINE = (
    "- {dataset}: {n_train} training and {n_test} test images, {n_seeds} seeds, "
    "{max_epochs} epochs, {n_anchors} anchors"
)


def _load(run):
    settings = run.settings
    data = {"digits": (*_digits(run.random_state), settings.digits)}
    fashion = run.optional(
        "Fashion-MNIST",
        _fashion,
        settings.fashion_train,
        settings.fashion_test,
        run.random_state,
    )
    if fashion is not None:
        data["fashion-mnist"] = (*fashion, settings.fashion)
    return data


def _encode(data, run):
    """The nets of every data set (torch and skorch are needed from here on)."""
    return {
        dataset: (
            train_autoencoders(
                X_train,
                dataset=dataset,
                seeds=[run.random_state + k for k in range(budget.n_seeds)],
                n_anchors=budget.n_anchors,
                max_epochs=budget.max_epochs,
                random_state=run.random_state,
                show_progress=run.show_progress,
            ),
            X_train,
            X_test,
            shape,
            budget,
        )
        for dataset, (X_train, X_test, shape, budget) in data.items()
    }


def _measure(trained, run):
    frames, examples, shapes, lines = [], {}, {}, []
    for dataset, (nets, X_train, X_test, shape, budget) in trained.items():
        frame, examples[dataset] = score_autoencoders(
            nets, X_train, X_test, dataset=dataset
        )
        frames.append(frame)
        shapes[dataset] = shape
        lines.append(
            LINE.format(
                dataset=dataset,
                n_train=len(X_train),
                n_test=len(X_test),
                n_seeds=budget.n_seeds,
                max_epochs=budget.max_epochs,
                n_anchors=budget.n_anchors,
            )
        )
    return ReconstructionMeasurements(
        pd.concat(frames, ignore_index=True), examples, shapes, lines
    )


def _claims(measured):
    return reconstruction_findings(measured.results)


def _tables(measured):
    return {
        "results": measured.results,
        "summary": summarize_reconstruction(measured.results),
    }


def _figures(measured):
    from ._plots import example_grid, mse_bars

    figures = {"mse": mse_bars(measured.results)}
    for dataset, shown in measured.examples.items():
        figures[f"{dataset} examples"] = example_grid(
            shown, measured.shapes[dataset], title=dataset
        )
    return figures


def _describe(measured, run):
    return DESCRIPTION.format(
        hidden=HIDDEN_UNITS[0],
        n_components=N_COMPONENTS,
        batch_size=BATCH_SIZE,
        lines="\n".join(measured.lines),
    )


#: Reconstruction stitching across seeds on digits and Fashion-MNIST.
SPEC = ExperimentSpec(
    name="reconstruction",
    title="Reconstruction stitching (autoencoders across seeds)",
    quick=ReconstructionSettings(
        digits=Budget(n_seeds=2, n_anchors=100, max_epochs=20),
        fashion=Budget(n_seeds=2, n_anchors=100, max_epochs=10),
        fashion_train=1000,
        fashion_test=500,
    ),
    full=ReconstructionSettings(
        digits=Budget(n_seeds=3, n_anchors=300, max_epochs=50),
        fashion=Budget(n_seeds=3, n_anchors=300, max_epochs=15),
        fashion_train=3000,
        fashion_test=1000,
    ),
    load=_load,
    encode=_encode,
    measure=_measure,
    claims=_claims,
    describe=_describe,
    tables=_tables,
    figures=_figures,
)
