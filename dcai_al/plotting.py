"""Figures shared by the notebooks and ``dcai-al run``.

Every helper draws on a given (or new) axis, labels the title, both axes and
the legend, and returns the figure, so the notebook shows it inline and the
runner saves exactly the same picture.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "plot_curves",
    "plot_picks_per_image",
    "plot_scatter_selection",
    "plot_seed_curves",
    "plot_strips",
    "save_figure",
]


def _axis(ax, figsize=(6.4, 4.2)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _check_labels(title, xlabel, ylabel) -> None:
    # Every figure in the kit carries a title and labelled axes.
    for name, text in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{name} must be a non-empty string, got {text!r}.")


def _to_numpy(values) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def plot_curves(
    curves: dict,
    x=None,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    ax=None,
    log_x: bool = False,
    log_y: bool = False,
    band: str = "percentile",
    runs_label: str = "runs",
    per_seed: bool = False,
    styles: dict | None = None,
):
    """Plot one line per named curve, with a shaded spread when given runs.

    Parameters
    ----------
    curves : dict of str -> array-like
        Each value is either one curve of shape (n_points,), or several runs
        of shape (n_runs, n_points), drawn as their median with a band.
    x : array-like of shape (n_points,), or dict of str -> array-like, optional
        Shared x values or one per curve; defaults to 1..n_points.
    title, xlabel, ylabel : str
    ax : matplotlib Axes, optional
    log_x, log_y : bool
    band : {"percentile", "minmax", "std"}
        What the shaded spread shows: the middle 80% of the runs (10th to
        90th percentile, the default), all of them, or the mean +- one
        standard deviation (which can leave the range a metric can take, and
        a log axis). The line is the mean for "std", else the median.
    runs_label : str
        What one run is, for the legend: "seeds" gives "random (5 seeds)".
    per_seed : bool
        Draw every run as a thin line instead of the band.
    styles : dict of str -> dict, optional
        Extra ``Axes.plot`` keywords per curve (for example a dashed line).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_curves({"a": np.ones((3, 4))}, title="t", xlabel="x", ylabel="y", runs_label="seeds")
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'a (3 seeds)'
    """
    if not curves:
        raise ValueError("curves is empty: give at least one named curve to plot.")
    _check_labels(title, xlabel, ylabel)
    if band not in ("percentile", "minmax", "std"):
        raise ValueError(f"band must be 'percentile', 'minmax' or 'std', got {band!r}.")
    if not isinstance(runs_label, str) or not runs_label.strip():
        raise ValueError(f"runs_label must be a non-empty string such as 'seeds', got {runs_label!r}.")
    fig, ax = _axis(ax)
    for name, values in curves.items():
        values = _to_numpy(values)
        xs = x[name] if isinstance(x, dict) else x
        runs = values if values.ndim == 2 else values[None, :]
        xs = np.arange(1, runs.shape[1] + 1) if xs is None else _to_numpy(xs)
        if xs.shape != (runs.shape[1],):
            raise ValueError(f"x has shape {xs.shape} but the curve {name!r} has {runs.shape[1]} points.")
        center = runs.mean(0) if band == "std" else np.median(runs, axis=0)
        label = name if len(runs) == 1 else f"{name} ({len(runs)} {runs_label})"
        (line,) = ax.plot(xs, center, label=label, **(styles or {}).get(name, {}))
        if len(runs) > 1 and per_seed:
            for run in runs:
                ax.plot(xs, run, color=line.get_color(), alpha=0.3, linewidth=0.8, linestyle=line.get_linestyle())
        elif len(runs) > 1:
            if band == "std":
                low, high = center - runs.std(0), center + runs.std(0)
            elif band == "minmax":
                low, high = runs.min(0), runs.max(0)
            else:
                low, high = np.percentile(runs, [10, 90], axis=0)
            if log_y:  # a band reaching 0 or below has no place on a log axis
                low = np.where(low > 0, low, np.nan)
            ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_seed_curves(curves: dict, x=None, *, title: str, xlabel: str, ylabel: str, **kwargs):
    """:func:`plot_curves` over seeds: the median and a min-to-max band (or one thin line per seed)."""
    kwargs.setdefault("band", "minmax")
    return plot_curves(curves, x, title=title, xlabel=xlabel, ylabel=ylabel, runs_label="seeds", **kwargs)


def plot_strips(
    x,
    y,
    rounds: dict,
    *,
    boundary: float | None = None,
    title: str,
    xlabel: str = "x",
    n_show: int = 6,
):
    """One strip per round showing a 1-D pool and the points labelled so far.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        The pool's positions and true classes (0/1).
    rounds : dict of str -> list of index arrays
        For each learner, the indices labelled after each round.
    boundary : float, optional
        The true boundary, drawn dashed.
    n_show : int
        Rounds to draw per learner (evenly spaced).

    Returns
    -------
    matplotlib.figure.Figure
    """
    x, y = _to_numpy(x).ravel(), np.asarray(y).ravel()
    names = list(rounds)
    fig, axes = plt.subplots(
        n_show, len(names), figsize=(4.6 * len(names), 0.75 * n_show + 1.2), sharex=True, squeeze=False
    )
    for col, name in enumerate(names):
        history = rounds[name]
        shown = np.unique(np.linspace(0, len(history) - 1, n_show).round().astype(int))
        for row, r in enumerate(shown):
            ax = axes[row, col]
            ax.scatter(x[y == 0], np.zeros((y == 0).sum()), s=8, c="tab:blue", alpha=0.25, label="pool, class 0")
            ax.scatter(x[y == 1], np.zeros((y == 1).sum()), s=8, c="tab:orange", alpha=0.25, label="pool, class 1")
            chosen = np.asarray(history[r], dtype=int)
            ax.scatter(x[chosen], np.zeros(len(chosen)), s=40, marker="x", c="black", label="labelled")
            if boundary is not None:
                ax.axvline(boundary, color="gray", linestyle="--", label="true boundary")
            ax.set_yticks([])
            ax.set_ylabel(f"{len(chosen)} labels", rotation=0, ha="right", va="center", fontsize=8)
            if row == 0:
                ax.set_title(name)
        axes[-1, col].set_xlabel(xlabel)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_scatter_selection(points, selections: dict, *, title: str, background_label: str = "pool", ax=None):
    """Scatter a 2-D view of a pool and mark each method's chosen points.

    Parameters
    ----------
    points : array-like of shape (n, 2)
        2-D coordinates (for example a PCA projection).
    selections : dict of str -> array-like of int
        Indices each method chose.

    Returns
    -------
    matplotlib.figure.Figure
    """
    points = _to_numpy(points)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}.")
    fig, ax = _axis(ax, figsize=(6.4, 5.2))
    ax.scatter(points[:, 0], points[:, 1], s=4, c="lightgray", label=background_label)
    markers = ["o", "s", "^", "D", "v", "P"]
    for i, (name, idx) in enumerate(selections.items()):
        idx = np.asarray(idx, dtype=int)
        ax.scatter(
            points[idx, 0],
            points[idx, 1],
            s=36,
            marker=markers[i % len(markers)],
            facecolors="none",
            edgecolors=f"C{i}",
            linewidths=1.4,
            label=f"{name} ({len(idx)})",
        )
    ax.set_title(title)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_picks_per_image(points, selections: dict, image_of, *, title: str, ax=None):
    """Scatter a 2-D view of a pool and show, per method, how many picks landed on each image.

    Near-copies of an image sit on the same spot of any projection, so a plain
    scatter hides a batch that spends ten labels on one image. Here the picks
    of a method that fall on the same image (the same ``image_of`` value) are
    drawn as one marker whose area grows with their number, labelled with it.

    Parameters
    ----------
    points : array-like of shape (n, 2)
        2-D coordinates (for example a PCA projection).
    selections : dict of str -> array-like of int
        Indices each method chose.
    image_of : array-like of int, shape (n,)
        Which image each pool row shows: near-copies share a value.
    title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_picks_per_image(np.zeros((3, 2)), {"a": [0, 1]}, [5, 5, 6], title="t")
    >>> fig.axes[0].get_legend().get_texts()[1].get_text()
    'a: 2 picks on 1 image'
    """
    points = _to_numpy(points)
    image_of = np.asarray(image_of)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}.")
    if image_of.shape != (len(points),):
        raise ValueError(f"image_of must have shape ({len(points)},), got {image_of.shape}.")
    _check_labels(title, "component 1", "component 2")
    fig, ax = _axis(ax, figsize=(6.8, 5.4))
    ax.scatter(points[:, 0], points[:, 1], s=4, c="lightgray", label="pool")
    markers = ["o", "s", "^", "D", "v", "P"]
    for i, (name, idx) in enumerate(selections.items()):
        idx = np.asarray(idx, dtype=int)
        images, first, counts = np.unique(image_of[idx], return_index=True, return_counts=True)
        where = points[idx[first]]
        plural = "s" if len(images) != 1 else ""
        ax.scatter(
            where[:, 0],
            where[:, 1],
            s=30 * counts,
            marker=markers[i % len(markers)],
            facecolors="none",
            edgecolors=f"C{i}",
            linewidths=1.4,
            label=f"{name}: {len(idx)} picks on {len(images)} image{plural}",
        )
        for (px, py), count in zip(where, counts, strict=True):
            if count > 1:
                ax.annotate(str(count), (px, py), color=f"C{i}", fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.set_title(title)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    legend = ax.legend(fontsize=8, loc="lower left")
    for handle in legend.legend_handles:  # one marker size in the legend; the plot's sizes are counts
        handle.set_sizes([36])
    fig.tight_layout()
    return fig


def save_figure(fig, path) -> Path:
    """Save ``fig`` as a PNG at ``path`` (parents created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
