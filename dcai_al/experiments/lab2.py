"""Lab 2 experiment: batch selection, top-J vs greedy k-centers, and the near-duplicate trap.

As in Lab 1, the selection functions are parameters, so the notebook runs the
same code with the student's own ``top_j`` and ``k_center_greedy``.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from tqdm.auto import tqdm

from .. import plotting
from ..acquisition import entropy, select_top
from ..data import PoolSplit, load_digits_pool
from ..deprecation import renamed_parameters
from ..diversity import HybridSelector, KCenterSelector, k_center_greedy, uncertain_then_diverse
from ..loop import class_probabilities, initial_labels, labels_to_accuracy, run_strategies
from ..validation import as_generator
from . import Report, RunConfig, Table

INITIAL = 20


def sizes(quick: bool) -> dict:
    """Experiment sizes; ``quick`` shrinks them for CI."""
    if quick:
        return dict(seeds=2, rounds={10: 4, 50: 2}, groups=10, copies=10)
    return dict(seeds=5, rounds={10: 15, 50: 6}, groups=20, copies=30)


def batch_curves(batch_size: int, n_rounds: int, n_seeds: int, *, seed: int = 0, k_centers=None, progress=False):
    """Learning curves on digits with batches of ``batch_size``: random, top-J, k-centers, hybrid.

    k-centers works on the raw pixels (64 features scaled to [0, 1]);
    ``k_centers(features, batch_size, labelled)`` replaces the kit's if given.
    """
    split = load_digits_pool(seed=seed)
    strategies = {
        "random": "random",
        "top-J entropy": entropy,
        "k-centers": KCenterSelector(split.X_pool, k_centers=k_centers),
        "entropy then k-centers": HybridSelector(split.X_pool, entropy, n_classes=split.n_classes),
    }
    return run_strategies(
        LogisticRegression(max_iter=500),
        split,
        strategies,
        seeds=range(seed, seed + n_seeds),
        n_initial=INITIAL,
        batch_size=batch_size,
        n_rounds=n_rounds,
        progress=progress,
        desc=f"digits, batches of {batch_size}",
    )


def duplicate_pool(n_groups: int, copies: int, *, noise: float = 0.01, seed: int = 0):
    """The digits pool with near-copies of its most uncertain images added.

    A model trained on a random seed set picks the ``n_groups`` pool images it
    is least sure about; each gets ``copies`` near-identical twins (pixel
    noise of ``noise``). Top-J by uncertainty then sees the same image many
    times over at the top of its ranking.

    Returns
    -------
    split : PoolSplit
        The enlarged pool (originals first, copies appended) and the test set.
    group : numpy.ndarray of shape (n_pool,)
        For each pool image, the duplicate group it belongs to (the original
        and its copies share one), or -1.
    initial : numpy.ndarray
        The seed set's pool indices.
    """
    base = load_digits_pool(seed=seed)
    rng = np.random.default_rng(seed)
    initial = initial_labels(base.y_pool, INITIAL, seed)
    model = LogisticRegression(max_iter=500).fit(base.X_pool[initial], base.y_pool[initial])
    scores = entropy(class_probabilities(model, base.X_pool, base.n_classes))
    originals = select_top(scores, n_groups, labelled=initial)
    twins = np.repeat(originals, copies)
    X_copies = base.X_pool[twins] + noise * rng.standard_normal((twins.size, base.X_pool.shape[1]))
    X = np.concatenate([base.X_pool, np.clip(X_copies, 0, 1).astype(np.float32)])
    y = np.concatenate([base.y_pool, base.y_pool[twins]])
    group = np.full(len(X), -1)
    group[originals] = np.arange(n_groups)
    group[len(base.X_pool) :] = np.repeat(np.arange(n_groups), copies)
    return PoolSplit(X, y, base.X_test, base.y_test, base.n_classes), group, initial


@renamed_parameters(initial="labelled")
def one_batch(split: PoolSplit, labelled, batch_size: int, *, top_j=None, k_centers=None, seed=0) -> dict:
    """One batch of ``batch_size`` from each strategy on the same trained model; pool indices per strategy.

    ``labelled`` is the seed set's pool indices (was ``initial``, deprecated).
    ``top_j(scores, batch_size, labelled)`` and ``k_centers(features, batch_size, labelled)``
    default to the kit's; the notebook passes the student's. ``seed`` draws the random batch.
    """
    top_j = top_j or (lambda scores, b, known: select_top(scores, b, labelled=known))
    k_centers = k_centers or (lambda X, b, known: k_center_greedy(X, b, labelled=known))
    model = LogisticRegression(max_iter=500).fit(split.X_pool[labelled], split.y_pool[labelled])
    scores = entropy(class_probabilities(model, split.X_pool, split.n_classes))
    unlabelled = np.setdiff1d(np.arange(len(split.X_pool)), labelled)
    rng = as_generator(seed)
    return {
        "random": rng.choice(unlabelled, batch_size, replace=False),
        "top-J entropy": np.asarray(top_j(scores, batch_size, labelled)),
        "k-centers": np.asarray(k_centers(split.X_pool, batch_size, labelled)),
        "entropy then k-centers": uncertain_then_diverse(scores, split.X_pool, batch_size, labelled),
    }


def redundancy(batch, group) -> tuple[float, float, int]:
    """(share of the batch that are injected near-copies or their originals,
    share of the batch wasted on a group already in the batch, distinct groups hit)."""
    g = group[np.asarray(batch)]
    in_group = g[g >= 0]
    distinct = np.unique(in_group).size
    return in_group.size / len(batch), (in_group.size - distinct) / len(batch), distinct


@renamed_parameters(initial="labelled")
def accuracy_after(split: PoolSplit, labelled, batch) -> float:
    """Test accuracy of a model trained on ``labelled`` (pool indices) plus ``batch``."""
    known = np.concatenate([labelled, batch])
    model = LogisticRegression(max_iter=500).fit(split.X_pool[known], split.y_pool[known])
    return float(model.score(split.X_test, split.y_test))


def duplicate_table(split: PoolSplit, labelled, group, batches: dict) -> Table:
    """One row per strategy: how much of its batch went to the near-copies, and the test accuracy after it."""
    rows = []
    for strategy, batch in batches.items():
        share, wasted, distinct = redundancy(batch, group)
        rows.append(
            [strategy, f"{share:.0%}", f"{wasted:.0%}", distinct, f"{accuracy_after(split, labelled, batch):.3f}"]
        )
    n_groups = int(group.max()) + 1
    copies = int((group >= 0).sum()) // n_groups - 1
    batch_size = len(next(iter(batches.values())))
    return Table(
        f"Near-duplicate trap: {n_groups} uncertain images x {copies} near-copies added to the pool; "
        f"one batch of {batch_size}",
        ["strategy", "batch in duplicate groups", "batch wasted on repeats", "distinct groups", "accuracy after"],
        rows,
    )


def efficiency_table(n_labelled, accuracy: dict, batch_size: int) -> Table:
    """Each strategy's final accuracy, and the labels it needs to reach random sampling's final mean accuracy."""
    target = accuracy["random"].mean(0)[-1]
    rows = []
    for strategy, runs in accuracy.items():
        needs = labels_to_accuracy(n_labelled, runs, target)
        final = f"{runs.mean(0)[-1]:.3f} ± {runs.std(0)[-1]:.3f}"
        rows.append([batch_size, strategy, final, needs or f"> {n_labelled[-1]}"])
    n_seeds = len(next(iter(accuracy.values())))
    return Table(
        f"Digits, batches of {batch_size} ({n_seeds} seeds): labels to reach random sampling's final accuracy "
        f"({target:.3f})",
        ["batch size", "strategy", "final accuracy (mean ± sd)", "labels to reach random's final accuracy"],
        rows,
    )


def redundancy_figure(split: PoolSplit, group, batches: dict):
    """Each strategy's batch on a PCA of the pool, one marker per image, sized by the picks it got."""
    points = PCA(n_components=2, random_state=0).fit_transform(split.X_pool)
    # An original and its near-copies are one image; every other row is an image of its own.
    image_of = np.where(group >= 0, group, len(split.X_pool) + np.arange(len(split.X_pool)))
    return plotting.plot_picks_per_image(
        points, batches, image_of, title="Near-duplicates: picks per image, each strategy (PCA of pixels)"
    )


def run(config: RunConfig) -> Report:
    size = sizes(config.quick)
    out = config.out_dir
    report = Report(title="Lab 2: batch and diverse selection")
    bar = tqdm(total=3, desc="lab 2", disable=not config.progress)
    rows = []
    for batch_size, n_rounds in size["rounds"].items():
        n_labelled, accuracy, _ = batch_curves(batch_size, n_rounds, size["seeds"], seed=config.seed)
        fig = plotting.plot_curves(
            accuracy,
            n_labelled,
            title=f"Digits, batches of {batch_size}: top-J vs diverse",
            xlabel="labelled examples",
            ylabel="test accuracy",
            runs_label="seeds",
        )
        name = f"lab2_batch{batch_size}.png"
        caption = f"Test accuracy vs labels with batches of {batch_size}: median over seeds, band 10th-90th percentile."
        report.add_figure(fig, out, name, caption)
        rows += efficiency_table(n_labelled, accuracy, batch_size).rows
        bar.update()
    report.tables.append(
        Table(
            f"Digits batch active learning ({size['seeds']} seeds, seed set {INITIAL}, logistic regression, "
            "k-centers on pixels)",
            ["batch size", "strategy", "final accuracy (mean ± sd)", "labels to reach random's final accuracy"],
            rows,
        )
    )

    split, group, initial = duplicate_pool(size["groups"], size["copies"], seed=config.seed)
    batch_size = 50 if not config.quick else 20
    batches = one_batch(split, initial, batch_size, seed=config.seed)
    report.tables.append(duplicate_table(split, initial, group, batches))
    report.add_figure(
        redundancy_figure(split, group, batches),
        out,
        "lab2_duplicates.png",
        "The batch each strategy chose from the pool with near-copies.",
    )
    bar.update()
    bar.close()
    report.summary = (
        "Top-J by uncertainty spends a batch on near-identical images when the pool holds them; greedy "
        "k-centers (Sener & Savarese, 2018) spreads the batch out. The uncertain-then-diverse hybrid reaches more "
        "duplicate groups than top-J, but when its shortlist (10 x batch) holds only copies it still repeats: the "
        "shortlist must be larger than the redundancy."
    )
    return report
