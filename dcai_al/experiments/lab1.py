"""Lab 1 experiment: passive vs active learning, then uncertainty sampling on digits.

The pieces are plain functions that take the score or query function as an
argument, so the lab notebook runs them with the student's own functions and
``dcai-al run`` runs them with the kit's.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .. import plotting
from ..acquisition import SCORES, entropy, select_top
from ..data import load_digits_pool, make_gaussian_line, make_threshold_pool
from ..loop import labels_to_accuracy, run_strategies
from ..threshold import labels_to_reach, run_threshold_learner
from . import Report, RunConfig, Table

TOLERANCES = (0.01, 0.005, 0.002)


def sizes(quick: bool) -> dict:
    """Experiment sizes; ``quick`` shrinks them for CI."""
    if quick:
        return dict(n_pool=300, threshold_seeds=10, n_labels=60, digit_seeds=2, n_rounds=6, gauss_rounds=6)
    return dict(n_pool=1000, threshold_seeds=50, n_labels=200, digit_seeds=5, n_rounds=20, gauss_rounds=10)


def threshold_errors(n_pool: int, n_seeds: int, n_labels: int, *, query=None, seed: int = 0, progress=False):
    """Error of the threshold estimate after each label, for both learners.

    Returns
    -------
    dict with keys "passive" and "active", each of shape (n_seeds, n_labels).
    """
    errors = {"passive": [], "active": []}
    for s in tqdm(range(seed, seed + n_seeds), desc="1-D threshold", disable=not progress, leave=False):
        x, y, threshold = make_threshold_pool(n_pool, seed=s)
        errors["passive"].append(run_threshold_learner(x, y, threshold, n_labels, active=False, seed=s)[0])
        errors["active"].append(run_threshold_learner(x, y, threshold, n_labels, active=True, query=query)[0])
    return {name: np.stack(runs) for name, runs in errors.items()}


def threshold_figure(errors: dict, n_pool: int):
    """The lecture's figure: error vs labels on a log scale, with 2^-n and 1/n guides."""
    n_labels = next(iter(errors.values())).shape[1]
    n = np.arange(1, n_labels + 1)
    floor = 0.1 / n_pool  # below this the pool itself limits the estimate; hide the guide there
    curves = dict(errors)
    curves["guide: 2^-n / 4"] = np.where(0.25 * 2.0**-n >= floor, 0.25 * 2.0**-n, np.nan)
    curves["guide: 1 / (4n)"] = 1 / (4 * n)
    return plotting.plot_curves(
        curves,
        n,
        title=f"1-D threshold, pool of {n_pool} points: estimate error",
        xlabel="number of labels",
        ylabel="|estimated - true threshold|",
        log_y=True,
        runs_label="pools",
    )


def gaussian_line_rounds(score, n_rounds: int, *, seed: int = 0):
    """The original course lab's toy: two Gaussians, two seed labels, one label per round.

    Returns the pool, its labels, and for "random" and "max entropy" the
    labelled indices after each round.
    """
    x, y = make_gaussian_line(100, seed=seed)
    rng = np.random.default_rng(seed)
    seeds = np.array([rng.choice(np.flatnonzero(y == 0)), rng.choice(np.flatnonzero(y == 1))])
    rounds = {}
    for name in ("random", "max entropy"):
        labelled = list(seeds)
        history = [np.array(labelled)]
        order = rng.permutation(len(x))
        for _ in range(n_rounds):
            unlabelled = np.setdiff1d(np.arange(len(x)), labelled)
            if name == "random":
                pick = next(i for i in order if i not in labelled)
            else:
                model = _logistic().fit(x[labelled], y[labelled])
                pick = unlabelled[select_top(np.asarray(score(model.predict_proba(x[unlabelled]))), 1)[0]]
            labelled.append(int(pick))
            history.append(np.array(labelled))
        rounds[name] = history
    return x.ravel(), y, rounds


def _logistic(**params):
    """scikit-learn's logistic regression, imported when first used: a graded kernel never needs it."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(**params)


def digits_curves(strategies: dict, n_seeds: int, n_rounds: int, *, seed: int = 0, progress=False):
    """Accuracy vs labels on the digits pool for each strategy (logistic regression)."""
    split = load_digits_pool(seed=seed)
    return run_strategies(
        _logistic(max_iter=500),
        split,
        strategies,
        seeds=range(seed, seed + n_seeds),
        n_initial=20,
        batch_size=10,
        n_rounds=n_rounds,
        progress=progress,
        desc="digits: strategies x seeds",
    )


def efficiency_table(n_labelled, accuracy: dict) -> Table:
    """Labels each strategy needs to reach random sampling's final mean accuracy."""
    target = accuracy["random"].mean(0)[-1]
    random_needs = labels_to_accuracy(n_labelled, accuracy["random"], target)
    rows = []
    for name, runs in accuracy.items():
        needs = labels_to_accuracy(n_labelled, runs, target)
        ratio = f"{random_needs / needs:.2f}x" if needs else f"not reached in {n_labelled[-1]}"
        rows.append([name, f"{runs.mean(0)[-1]:.3f} ± {runs.std(0)[-1]:.3f}", needs or "-", ratio])
    return Table(
        f"Digits: labels needed to reach random sampling's final accuracy ({target:.3f})",
        ["strategy", f"accuracy at {n_labelled[-1]} labels (mean ± sd)", "labels needed", "label efficiency vs random"],
        rows,
    )


def run(config: RunConfig) -> Report:
    size = sizes(config.quick)
    out = config.out_dir
    report = Report(title="Lab 1: passive vs active learning, and uncertainty sampling")
    bar = tqdm(total=3, desc="lab 1", disable=not config.progress)

    errors = threshold_errors(size["n_pool"], size["threshold_seeds"], size["n_labels"], seed=config.seed)
    report.add_figure(
        threshold_figure(errors, size["n_pool"]),
        out,
        "lab1_threshold.png",
        "Estimate error vs labels: median over pools, band 10th to 90th percentile.",
    )
    rows = []
    for tol in TOLERANCES:
        need = {name: labels_to_reach(e, tol) for name, e in errors.items()}
        never = {name: int((v > size["n_labels"]).sum()) for name, v in need.items()}
        rows.append(
            [
                tol,
                float(np.median(need["active"])),
                float(np.median(need["passive"])),
                f"{np.median(need['passive']) / np.median(need['active']):.1f}x",
                never["passive"],
            ]
        )
    report.tables.append(
        Table(
            f"1-D threshold: labels until the estimate is within a tolerance of the truth "
            f"(pool of {size['n_pool']} uniform points, median over {size['threshold_seeds']} seeds)",
            [
                "tolerance",
                "active (binary search)",
                "passive (random)",
                "passive / active",
                f"passive runs not there after {size['n_labels']}",
            ],
            rows,
        )
    )
    bar.update()

    x, y, rounds = gaussian_line_rounds(entropy, size["gauss_rounds"], seed=config.seed)
    fig = plotting.plot_strips(x, y, rounds, boundary=0.0, title="Two Gaussians: which points each learner labels")
    report.add_figure(
        fig, out, "lab1_strips.png", "Points labelled per round, random vs max entropy; dashed: boundary."
    )
    bar.update()

    strategies = {"random": "random", **SCORES}
    n_labelled, accuracy, _ = digits_curves(strategies, size["digit_seeds"], size["n_rounds"], seed=config.seed)
    fig = plotting.plot_curves(
        accuracy,
        n_labelled,
        title="Digits: uncertainty sampling vs random",
        xlabel="labelled examples",
        ylabel="test accuracy",
        runs_label="seeds",
    )
    report.add_figure(fig, out, "lab1_digits.png", "Test accuracy vs labels: median over seeds, band 10th to 90th pct.")
    report.tables.append(efficiency_table(n_labelled, accuracy))
    bar.update()
    bar.close()
    report.summary = (
        "Active learning binary-searches the threshold: its error halves per label, while random labels shrink it "
        "like 1/n. On digits, uncertainty sampling reaches random sampling's final accuracy with fewer labels "
        "(seed set 20, batch 10, logistic regression)."
    )
    return report
