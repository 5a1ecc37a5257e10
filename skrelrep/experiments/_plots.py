"""Figures of the experiments (matplotlib, imported lazily: the "report" extra)."""

import numpy as np

from ..utils._matplotlib import pyplot as _pyplot

__all__ = [
    "bar_chart",
    "example_grid",
    "line_plot",
    "metric_bars",
    "mse_bars",
    "stitching_heatmaps",
]


def stitching_heatmaps(frame, *, title):
    """Absolute and relative stitching matrices side by side (encoder × decoder)."""
    plt = _pyplot()
    spaces = ["absolute", "relative"]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.3), constrained_layout=True)
    for ax, space in zip(axes, spaces, strict=True):
        matrix = frame[frame["space"] == space].pivot(
            index="encoder", columns="decoder", values="score"
        )
        image = ax.imshow(matrix.to_numpy(), vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=45, ha="right")
        ax.set_yticks(range(matrix.shape[0]), matrix.index)
        ax.set_xlabel("decoder trained on")
        ax.set_ylabel("encoder")
        ax.set_title(f"{space} codes")
        for (i, j), value in np.ndenumerate(matrix.to_numpy()):
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="white" if value < 0.5 else "black",
                fontsize=8,
            )
    figure.colorbar(image, ax=axes, shrink=0.8, label="accuracy")
    figure.suptitle(title)
    return figure


def line_plot(frame, *, x, y, hue, title, xlabel, ylabel, logx=False, errorbars=None):
    """One line per value of ``hue`` (mean over repeated rows, optional std bars)."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    for name, group in frame.groupby(hue, sort=False):
        stats = group.groupby(x)[y].agg(["mean", "std"]).reset_index()
        ax.errorbar(
            stats[x],
            stats["mean"],
            yerr=stats["std"].fillna(0) if errorbars else None,
            marker="o",
            capsize=3,
            label=str(name),
        )
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return figure


def example_grid(examples, shape, *, title):
    """Rows: original, same model and stitched reconstructions of a few images."""
    plt = _pyplot()
    names = list(examples)
    n_images = len(examples["original"])
    figure, axes = plt.subplots(
        len(names),
        n_images,
        figsize=(1.1 * n_images + 1.6, 1.15 * len(names) + 0.5),
        squeeze=False,
        constrained_layout=True,
    )
    for row, name in enumerate(names):
        for column in range(n_images):
            ax = axes[row, column]
            image = np.clip(examples[name][column].reshape(shape), 0, 1)
            ax.imshow(image, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center")
    figure.suptitle(
        f"{title}: test images and reconstructions (same: the first seed's net; "
        "stitched: its decoder with the second seed's encoder)"
    )
    return figure


def mse_bars(results):
    """Mean test MSE (± std over pairs) per data set, space and pair kind."""
    plt = _pyplot()
    datasets = list(dict.fromkeys(results["dataset"]))
    kinds = [
        ("absolute", False),
        ("relative", False),
        ("absolute", True),
        ("relative", True),
    ]
    figure, axes = plt.subplots(
        1, len(datasets), figsize=(5 * len(datasets), 3.8), squeeze=False
    )
    for ax, dataset in zip(axes[0], datasets, strict=True):
        frame = results[results["dataset"] == dataset]
        labels, means, stds = [], [], []
        for space, stitched in kinds:
            values = frame[(frame["space"] == space) & (frame["stitched"] == stitched)]
            labels.append(f"{space}\n{'stitched' if stitched else 'same'}")
            means.append(values["mse"].mean())
            stds.append(values["mse"].std() if len(values) > 1 else 0.0)
        ax.bar(range(len(kinds)), means, yerr=stds, capsize=3, color="C0")
        ax.axhline(
            frame["baseline"].iloc[0], color="C3", linestyle="--", label="mean image"
        )
        ax.set_xticks(range(len(kinds)), labels)
        ax.set_ylabel("test MSE")
        ax.set_title(dataset)
        ax.legend()
    figure.tight_layout()
    return figure


def bar_chart(summary, *, spaces):
    """Same-model and stitched accuracy (mean ± std) per data set and space."""
    plt = _pyplot()
    datasets = list(dict.fromkeys(summary["dataset"]))
    groups = [
        (space, pairs) for space in spaces for pairs in ("same model", "stitched")
    ]
    width = 0.8 / len(groups)
    figure, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    rows = summary.set_index(["dataset", "space", "pairs"])
    for k, (space, pairs) in enumerate(groups):
        keys = [(dataset, space, pairs) for dataset in datasets]
        stats = rows.reindex(keys)
        ax.bar(
            np.arange(len(datasets)) + (k - (len(groups) - 1) / 2) * width,
            stats["mean"].to_numpy(),
            width,
            yerr=stats["std"].fillna(0).to_numpy(),
            capsize=3,
            label=f"{space}, {pairs}",
        )
    for i, dataset in enumerate(datasets):
        chance = rows.loc[dataset, "chance"].iloc[0]
        ax.hlines(chance, i - 0.45, i + 0.45, colors="black", linestyles="dashed")
    ax.set_xticks(range(len(datasets)), datasets)
    ax.set_ylim(0, 1)
    ax.set_ylabel("test accuracy (dashed: chance)")
    ax.set_title("Trained end to end: same model vs stitched across seeds")
    ax.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return figure


def metric_bars(summary, spread, published, metrics):
    """Bars of our metrics with seed std (words: relative blue, absolute grey), and
    the published values."""
    plt = _pyplot()
    labels = [
        f"{row.anchors}\n{row.direction}"
        if row.space == "relative"
        else f"absolute\n{row.direction}"
        for row in summary.itertuples()
    ]
    published = summary[["anchors", "direction", "space"]].merge(
        published, how="left", on=["anchors", "direction", "space"]
    )
    colours = np.where(summary["space"] == "relative", "tab:blue", "tab:grey")
    x = np.arange(len(summary))
    figure, axes = plt.subplots(
        1, len(metrics), figsize=(14, 4.2), constrained_layout=True
    )
    for ax, metric in zip(axes, metrics, strict=True):
        ax.bar(
            x,
            summary[metric],
            yerr=spread[metric].fillna(0),
            color=colours,
            capsize=3,
            label="ours (mean ± std over seeds)",
        )
        ax.scatter(
            x,
            published[metric],
            marker="_",
            s=400,
            color="black",
            linewidths=2,
            zorder=3,
            label="published",
        )
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_ylim(0, 1.05)
        ax.set_title(metric)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8)
    figure.suptitle(
        "FastText vs Word2Vec on the same words: relative (blue) vs absolute (grey)"
    )
    return figure
