"""Lab 1 experiment: passive vs active learning, then uncertainty sampling on digits.

The pieces are plain functions that take the score, query or loop function as an
argument, so the lab notebook runs them with the student's own functions and
``dcai-al run`` runs them with the kit's.
"""

from __future__ import annotations

import hashlib

import numpy as np
from tqdm.auto import tqdm

from .. import plotting
from ..acquisition import SCORES, entropy, select_top
from ..data import load_digits_pool, make_gaussian_line, make_threshold_pool
from ..loop import initial_labels, labels_to_accuracy
from ..pool_loop import RandomScore, pool_based_loop
from ..threshold import labels_to_reach, run_threshold_learner
from ..validation import check_positive_int
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


#: The digits loop's settings: the first labelled set, and labels per round.
DIGITS_INITIAL, DIGITS_BATCH = 20, 10


class _RememberedFits:
    """A logistic-regression factory whose models remember their fits by training data.

    The curves refit on each prefix of a loop's order, and the loop itself has
    already fitted those very rows in each round: a refit on the same rows, in
    the same order, reuses that fit instead of training again. Other rows (a
    loop that trains on its labelled set in another order) are simply fitted.
    """

    def __init__(self):
        self.fits: dict = {}

    def __call__(self):
        return _RememberingModel(self.fits)


class _RememberingModel:
    def __init__(self, fits: dict):
        self._fits = fits

    def fit(self, X, y):
        X, y = np.ascontiguousarray(X), np.ascontiguousarray(y)
        key = (X.shape, X.dtype.str, y.dtype.str, hashlib.sha1(X.tobytes() + y.tobytes()).hexdigest())
        if key not in self._fits:
            self._fits[key] = _logistic(max_iter=500).fit(X, y)
        self.model_ = self._fits[key]
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def _loop_order(loop, name: str, order, labelled: np.ndarray, n: int, want: int) -> np.ndarray:
    """The loop's answer as pool indices, or a ValueError that says what was wrong with it."""
    try:
        order = np.asarray(order)
    except ValueError:
        order = np.empty((0, 0))
    who = f"{getattr(loop, '__name__', 'the loop')} (strategy {name!r})"
    if order.ndim != 1 or order.size != want or (order.size and not np.issubdtype(order.dtype, np.integer)):
        raise ValueError(
            f"{who} should return {want} pool indices in one 1-D int array ({labelled.size} labelled, then "
            f"{DIGITS_BATCH} per round); got shape {order.shape}, dtype {order.dtype}."
        )
    if not np.array_equal(order[: labelled.size], labelled):
        raise ValueError(f"{who} should return the labelled indices it was given first, in the same order.")
    if order.min() < 0 or order.max() >= n or np.unique(order).size != order.size:
        raise ValueError(f"{who} returned an index twice or outside the pool of {n} points.")
    return order.astype(np.int64)


def digits_curves(
    strategies: dict, n_seeds: int, n_rounds: int, *, loop=pool_based_loop, seed: int = 0, progress=False
):
    """Accuracy vs labels on the digits pool for each strategy, each run through ``loop``.

    Each seed draws one first labelled set of :data:`DIGITS_INITIAL` pool
    indices, shared by every strategy. ``loop`` labels :data:`DIGITS_BATCH`
    points a round for ``n_rounds`` rounds, training logistic regression;
    the curve is the test accuracy of logistic regression trained on each
    prefix of the order it returns (the labelled set after each round).

    Parameters
    ----------
    strategies : dict of str -> callable or "random"
        ``score(probs) -> scores``; ``"random"`` is passive learning, a
        :class:`~dcai_al.pool_loop.RandomScore` seeded by the run's seed.
    n_seeds, n_rounds : int
    loop : callable
        ``loop(X, y, labelled, make_model, score, batch_size, n_rounds) ->
        order``, as :func:`~dcai_al.pool_loop.pool_based_loop` (the default);
        the lab passes the student's ``active_learning_loop``.
    seed : int
        The first seed (and the split's).
    progress : bool
        A tqdm bar over strategies x seeds.

    Returns
    -------
    n_labelled : numpy.ndarray of shape (n_rounds + 1,)
    accuracy : dict of str -> numpy.ndarray of shape (n_seeds, n_rounds + 1)
    orders : dict of str -> list of numpy.ndarray
        What the loop returned, one array per seed.
    """
    if not strategies:
        raise ValueError("strategies is empty: give at least one name -> score function.")
    if not callable(loop):
        raise TypeError(f"loop must be a function like pool_based_loop, got {loop!r}.")
    from threadpoolctl import threadpool_limits

    n_rounds = check_positive_int(n_rounds, "n_rounds", minimum=0)
    split = load_digits_pool(seed=seed)
    n_labelled = DIGITS_INITIAL + DIGITS_BATCH * np.arange(n_rounds + 1)
    accuracy = {name: [] for name in strategies}
    orders = {name: [] for name in strategies}
    bar = tqdm(total=len(strategies) * n_seeds, desc="digits: strategies x seeds", disable=not progress)
    # One BLAS thread: a fit on 200 rows gains nothing from a second, and stalls when another process holds a core.
    with threadpool_limits(1):
        for s in range(seed, seed + n_seeds):
            labelled = initial_labels(split.y_pool, DIGITS_INITIAL, s)
            for name, score in strategies.items():
                score = RandomScore(s) if isinstance(score, str) and score == "random" else score
                make_model = _RememberedFits()
                order = loop(split.X_pool, split.y_pool, labelled.copy(), make_model, score, DIGITS_BATCH, n_rounds)
                order = _loop_order(loop, name, order, labelled, len(split.y_pool), int(n_labelled[-1]))
                curve = []
                for m in n_labelled:
                    model = make_model().fit(split.X_pool[order[:m]], split.y_pool[order[:m]])
                    curve.append(float(np.mean(model.predict(split.X_test) == split.y_test)))
                accuracy[name].append(curve)
                orders[name].append(order)
                bar.update()
    bar.close()
    return n_labelled, {name: np.array(runs) for name, runs in accuracy.items()}, orders


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
