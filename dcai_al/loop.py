"""The pool-based active learning loop, and a runner over seeds and strategies.

One round, as in the lecture: train a model on the labelled set, score every
unlabelled example, label the top batch, repeat for ``n_rounds`` rounds.
All indices are positions in the original pool.

There is one loop, :func:`run_loop`, and one selector interface::

    selector.select(model, X_pool, labelled, unlabelled, batch_size, rng) -> pool indices

A score over class probabilities becomes a selector through
:class:`ScoreSelector`, which also offers
``select_rows(model, rows, ids, batch_size) -> pool indices`` for rows
already gathered, in any order (SEALS keeps its candidates' rows so);
k-centers and the hybrid live in :mod:`dcai_al.diversity`; SEALS
(:class:`dcai_al.seals.Seals`) wraps any selector and narrows
``unlabelled`` to its candidate pool, as small-text wraps a base strategy. Every run returns one :class:`History`.

Lecture: "Growing or Compressing Datasets", section *Active learning*.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .acquisition import select_top, top_by_score
from .deprecation import renamed_parameters
from .validation import (
    as_generator,
    check_batch_size,
    check_features,
    check_indices,
    check_labels,
    check_positive_int,
    check_scores,
)

__all__ = [
    "History",
    "RandomSelector",
    "ScoreSelector",
    "class_probabilities",
    "initial_labels",
    "labels_to_accuracy",
    "run_loop",
    "run_strategies",
]


def _empty() -> np.ndarray:
    return np.empty(0)


@dataclass
class History:
    """What one run of the loop did, round by round (round 0 = the seed set).

    Attributes
    ----------
    n_labelled : numpy.ndarray of shape (n_rounds + 1,)
    accuracy : numpy.ndarray of shape (n_rounds + 1,)
        Test accuracy of the model trained after each round (empty without a test set).
    chosen : list of numpy.ndarray
        Pool indices labelled in each round (round 0: the seed set).
    positives : numpy.ndarray of shape (n_rounds + 1,)
        Labelled examples of class 1 (the concept searched for), for binary labels; empty otherwise.
    candidates : numpy.ndarray of shape (n_rounds + 1,)
        Examples the selector chooses from in each round: the unlabelled pool,
        or the SEALS candidate pool (the last entry: what a further round would get).
    selection_seconds : numpy.ndarray of shape (n_rounds,)
        Wall time of each round's selection (scoring, choosing and, for
        SEALS, the candidate update); training is not included.
    average_precision : numpy.ndarray of shape (n_rounds + 1,)
        Test average precision of class 1, for binary labels with a test set; empty otherwise.
    """

    n_labelled: np.ndarray
    accuracy: np.ndarray
    chosen: list = field(default_factory=list)
    positives: np.ndarray = field(default_factory=_empty)
    candidates: np.ndarray = field(default_factory=_empty)
    selection_seconds: np.ndarray = field(default_factory=_empty)
    average_precision: np.ndarray = field(default_factory=_empty)

    @property
    def labelled(self) -> np.ndarray:
        """Every labelled pool index, in the order labelled."""
        return np.concatenate(self.chosen)

    def as_rows(self) -> list[dict]:
        """One dict per round: round, n_labelled, accuracy, chosen."""
        return [
            {"round": r, "n_labelled": int(n), "accuracy": float(a), "chosen": c}
            for r, (n, a, c) in enumerate(zip(self.n_labelled, self.accuracy, self.chosen, strict=True))
        ]

    def as_arrays(self) -> dict:
        """Every per-round record as an array (``chosen`` left out: its rounds differ in length)."""
        return {k: np.asarray(v) for k, v in self.__dict__.items() if k != "chosen"}


def class_probabilities(model, X, n_classes: int) -> np.ndarray:
    """``model.predict_proba(X)`` with a column for every class 0..n_classes-1.

    Early in active learning the labelled set may miss classes, and a fitted
    model then only knows some; the missing columns are zero.
    """
    proba = _predict_proba(model, X)
    classes = np.asarray(model.classes_)
    if classes.size and (classes.min() < 0 or classes.max() >= n_classes):
        raise ValueError(
            f"n_classes={n_classes}, but the model knows the classes {classes.tolist()}: labels must be 0..n_classes-1."
        )
    if classes.size == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba
    full = np.zeros((proba.shape[0], n_classes))
    full[:, classes.astype(int)] = proba
    return full


def _predict_proba(model, X) -> np.ndarray:
    """Class probabilities, float64; a lean path for a binary logistic regression.

    scikit-learn's ``predict_proba`` re-validates X (a pass over every value)
    and, for float32 rows, multiplies in float64, copying X to float64 first.
    Here the decision values are one float32 mat-vec, then the sigmoid is
    taken in float64 (so confident rows do not all round to 1.0 and tie). The
    full scan and SEALS both score through this, so their costs compare fairly.

    The mat-vec is numpy's einsum, not BLAS: BLAS sums a block's last few
    rows in another order, so a row's score could change in its last bit with
    its place in the array (183 of ~1.8M rows over 200 gathers of a 13k x 64
    array here), and exact duplicates then tied or not by where they sat.
    einsum gives every row the same sum wherever it is, so the batch does not
    depend on the order the rows are held in (SEALS holds its candidates in
    joining order). It cost 0.135 against 0.108 ms for 13k rows and 124
    against 100 ms for 5M rows, on one thread.
    """
    from scipy.special import expit  # here, not at import: a graded kernel that never trains saves 0.8 s
    from sklearn.linear_model import LogisticRegression

    if type(model) is LogisticRegression and getattr(model, "coef_", np.empty((0, 0))).shape[0] == 1:
        X = np.asarray(X)
        coef = model.coef_[0].astype(X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
        z = np.einsum("ij,j->i", X, coef).astype(np.float64) + float(model.intercept_[0])
        p1 = expit(z)
        return np.stack([1.0 - p1, p1], axis=1)
    return np.asarray(model.predict_proba(X), dtype=np.float64)


class ScoreSelector:
    """The top batch by a score over the model's class probabilities: the lecture's strategy.

    Parameters
    ----------
    score : callable
        ``score(probs) -> scores``, probs of shape (m, n_classes), larger = label first.
    n_classes : int, optional
        Columns of probs; the model's classes when None.
    """

    def __init__(self, score, n_classes: int | None = None):
        if not callable(score):
            raise TypeError(f"score must be a function probs -> scores, got {score!r}.")
        self.score = score
        self.n_classes = n_classes

    def select(self, model, X_pool, labelled, unlabelled, batch_size, rng):
        if unlabelled.size > len(X_pool) // 2 and unlabelled.size + len(labelled) == len(X_pool):
            # All the unlabelled and most of the pool: score it in place and pass the labelled to select_top,
            # rather than copy its rows. A restricted choice (SEALS's candidates) always takes the copy.
            scores = np.asarray(self.score(class_probabilities(model, X_pool, self._n_classes(model))))
            return select_top(scores, batch_size, labelled=labelled)
        return self.select_rows(model, X_pool[unlabelled], unlabelled, batch_size)

    def select_rows(self, model, rows, ids, batch_size):
        """The top batch among ``rows`` (the feature rows of pool indices ``ids``, in any order).

        SEALS calls this with its own contiguous copy of the candidates' rows,
        so a round does not gather them from the pool. Ties go to the lower
        pool index, as in :meth:`select`.
        """
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer) or len(ids) != len(rows):
            raise ValueError(f"ids must be one pool index per row of rows ({len(rows)}), got shape {ids.shape}.")
        scores = np.asarray(self.score(class_probabilities(model, rows, self._n_classes(model))))
        if scores.shape != (len(ids),):
            raise ValueError(f"score must return one score per row: got shape {scores.shape} for {len(ids)} rows.")
        return ids[top_by_score(check_scores(scores).astype(np.float64, copy=False), batch_size, ids)]

    def _n_classes(self, model) -> int:
        return self.n_classes if self.n_classes is not None else len(model.classes_)


class RandomSelector:
    """Passive learning: a seeded uniform draw from the unlabelled pool."""

    def select(self, model, X_pool, labelled, unlabelled, batch_size, rng):
        return unlabelled[select_top(rng.random(unlabelled.size), batch_size)]


def _as_selector(score, n_classes):
    if hasattr(score, "select"):
        return score
    if isinstance(score, str) and score == "random":
        return RandomSelector()
    if callable(score):
        return ScoreSelector(score, n_classes)
    raise TypeError(f"score must be a function probs -> scores, 'random' or a selector, got {score!r}.")


@renamed_parameters(size="n_initial")
def initial_labels(y, n_initial: int, seed=0, *, min_classes: int = 2) -> np.ndarray:
    """A random seed set of ``n_initial`` pool indices holding at least ``min_classes`` classes.

    Parameters
    ----------
    y : array-like of shape (n,)
        The pool's labels.
    n_initial : int
        Size of the seed set (was ``size``, deprecated).
    seed : int, numpy.random.Generator or None
        See :func:`dcai_al.validation.as_generator`.
    min_classes : int
        Classes the seed set must hold, so the first model can be trained.

    Returns
    -------
    labelled : numpy.ndarray of int64, shape (n_initial,)
        Sorted pool indices: pass them as ``run_loop(..., labelled=...)``.

    Examples
    --------
    >>> initial_labels(np.array([0, 0, 0, 1]), 2, seed=0).size
    2
    """
    y = check_labels(y)
    n_initial = check_batch_size(n_initial, y.size, "n_initial")
    if np.unique(y).size < min_classes:
        raise ValueError(f"the pool holds fewer than min_classes={min_classes} classes.")
    rng = as_generator(seed)
    for _ in range(1000):
        idx = np.sort(rng.choice(y.size, size=n_initial, replace=False))
        if np.unique(y[idx]).size >= min_classes:
            return idx.astype(np.int64)
    raise ValueError(f"could not draw {n_initial} examples holding {min_classes} classes; use a larger n_initial.")


@renamed_parameters(initial="labelled")
def run_loop(
    estimator,
    X_pool,
    y_pool,
    X_test=None,
    y_test=None,
    *,
    score,
    labelled,
    batch_size: int,
    n_rounds: int,
    n_classes: int | None = None,
    seed=0,
    progress: bool = False,
    desc: str = "rounds",
) -> History:
    """Pool-based active learning: train, score the unlabelled pool, label the top batch.

    Parameters
    ----------
    estimator : scikit-learn-style classifier
        Anything with ``fit`` and ``predict_proba`` (cloned fresh each round),
        for example ``LogisticRegression`` or :class:`dcai_al.models.TorchClassifier`.
    X_pool, y_pool : arrays
        The pool and its oracle labels (revealed only when chosen).
    X_test, y_test : arrays, optional
        Held-out data for accuracy (and, with binary labels, average precision).
    score : callable, "random", or a selector
        ``score(probs) -> scores`` (larger = label first, the top batch is
        labelled); ``"random"`` for passive learning; or an object with
        ``select(model, X_pool, labelled, unlabelled, batch_size, rng)``
        returning pool indices, for batch strategies such as k-centers
        (:mod:`dcai_al.diversity`) or SEALS (:class:`dcai_al.seals.Seals`).
        ``labelled`` and ``unlabelled`` are sorted pool indices; a selector
        whose ``needs_unlabelled`` is False gets ``unlabelled=None`` (SEALS
        keeps its own candidates: listing the unlabelled would cost a pass
        over the pool each round).
    labelled : array-like of int
        The seed set's pool indices (was ``initial``, deprecated).
    batch_size, n_rounds : int
        Labels per round and number of rounds.
    n_classes : int, optional
        Number of classes; inferred from ``y_pool`` when None.
    seed : int, numpy.random.Generator or None
        Used by the random strategy (and passed to selectors as ``rng``);
        see :func:`dcai_al.validation.as_generator`.
    progress : bool
        Show a tqdm bar over rounds, labelled ``desc``.

    Returns
    -------
    History

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from dcai_al.acquisition import entropy
    >>> from dcai_al.data import load_digits_pool
    >>> s = load_digits_pool(seed=0)
    >>> h = run_loop(LogisticRegression(max_iter=200), s.X_pool, s.y_pool, s.X_test, s.y_test,
    ...              score=entropy, labelled=np.arange(20), batch_size=10, n_rounds=2)
    >>> h.n_labelled.tolist()
    [20, 30, 40]
    """
    X_pool = check_features(X_pool, "X_pool", allow_tensor=False) if np.ndim(X_pool) == 2 else np.asarray(X_pool)
    y_pool = check_labels(y_pool, n=len(X_pool), name="y_pool")
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither.")
    if y_test is not None:
        y_test = check_labels(y_test, n=len(X_test), name="y_test")
    n = len(X_pool)
    labelled = check_indices(labelled, n, "labelled", allow_empty=False)
    batch_size = check_positive_int(batch_size, "batch_size")
    n_rounds = check_positive_int(n_rounds, "n_rounds", minimum=0)
    check_batch_size(batch_size * max(n_rounds, 1), n - labelled.size, "batch_size * n_rounds")
    n_classes = int(np.max(y_pool)) + 1 if n_classes is None else n_classes
    selector = _as_selector(score, n_classes)
    return _run(
        estimator, X_pool, y_pool, X_test, y_test, selector, labelled, batch_size, n_rounds,
        as_generator(seed), progress=progress, desc=desc,
    )  # fmt: skip


def _run(estimator, X, y, X_test, y_test, selector, labelled, batch_size, n_rounds, rng, *, progress, desc):
    """The loop itself, on validated arguments. Nothing in a round costs a pass over the pool
    unless the selector asks for the unlabelled list (a full scan does anyway)."""
    from sklearn.base import clone
    from sklearn.metrics import average_precision_score

    n = len(X)
    binary = bool(np.isin(y, (0, 1)).all())
    is_labelled = np.zeros(n, dtype=bool)
    is_labelled[labelled] = True
    chosen = [labelled]  # the seed set in the order given
    labelled = np.sort(labelled)
    needs_unlabelled = getattr(selector, "needs_unlabelled", True)
    if hasattr(selector, "start"):
        selector.start(labelled)
    rec = {"n": [], "acc": [], "ap": [], "pos": [], "cand": [], "sec": []}
    for r in tqdm(range(n_rounds + 1), desc=desc, disable=not progress, leave=False):
        model = clone(estimator).fit(X[labelled], y[labelled])
        rec["n"].append(labelled.size)
        if binary:
            rec["pos"].append(int(y[labelled].sum()))
        if X_test is not None:
            rec["acc"].append(float(np.mean(model.predict(X_test) == y_test)))
            if binary:
                rec["ap"].append(float(average_precision_score(y_test, _predict_proba(model, X_test)[:, 1])))
        n_unlabelled = n - labelled.size
        rec["cand"].append(selector.n_candidates() if hasattr(selector, "n_candidates") else n_unlabelled)
        if r == n_rounds:
            break
        start = time.perf_counter()
        unlabelled = np.flatnonzero(~is_labelled) if needs_unlabelled else None
        picked = np.asarray(selector.select(model, X, labelled, unlabelled, batch_size, rng))
        rec["sec"].append(time.perf_counter() - start)
        # The selector may be anyone's (a student's): check its answer, which costs O(batch) only.
        picked = check_indices(picked, n, "selection")
        if picked.size != batch_size or is_labelled[picked].any():
            raise ValueError(f"the selector must return {batch_size} unlabelled pool indices, got {picked}.")
        is_labelled[picked] = True
        labelled = np.sort(np.concatenate([labelled, picked]))
        chosen.append(picked)
    return History(
        np.array(rec["n"]),
        np.array(rec["acc"]),
        chosen,
        positives=np.array(rec["pos"], dtype=np.int64),
        candidates=np.array(rec["cand"], dtype=np.int64),
        selection_seconds=np.array(rec["sec"]),
        average_precision=np.array(rec["ap"]),
    )


@renamed_parameters(initial_size="n_initial")
def run_strategies(
    estimator,
    split,
    strategies: dict,
    *,
    seeds,
    n_initial: int,
    batch_size: int,
    n_rounds: int,
    progress: bool = False,
    desc: str = "strategies x seeds",
):
    """Run the loop for every strategy and seed on a :class:`~dcai_al.data.PoolSplit`.

    Each seed draws one seed set of ``n_initial`` pool indices (was
    ``initial_size``, deprecated), shared by every strategy, so strategies
    differ only in what they choose; each round labels ``batch_size``.

    Returns
    -------
    n_labelled : numpy.ndarray of shape (n_rounds + 1,)
    accuracy : dict of str -> numpy.ndarray of shape (n_seeds, n_rounds + 1)
    histories : dict of str -> list of History
    """
    if not strategies:
        raise ValueError("strategies is empty: give at least one name -> score function.")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed.")
    histories = {name: [] for name in strategies}
    bar = tqdm(total=len(strategies) * len(seeds), desc=desc, disable=not progress)
    for seed in seeds:
        labelled = initial_labels(split.y_pool, n_initial, seed)
        for name, score in strategies.items():
            histories[name].append(
                run_loop(
                    estimator,
                    split.X_pool,
                    split.y_pool,
                    split.X_test,
                    split.y_test,
                    score=score,
                    labelled=labelled,
                    batch_size=batch_size,
                    n_rounds=n_rounds,
                    n_classes=split.n_classes,
                    seed=seed,
                )
            )
            bar.update()
    bar.close()
    n_labelled = next(iter(histories.values()))[0].n_labelled
    accuracy = {name: np.stack([h.accuracy for h in runs]) for name, runs in histories.items()}
    return n_labelled, accuracy, histories


def labels_to_accuracy(n_labelled, accuracy, target: float):
    """Labels at which a (mean) learning curve first reaches ``target``; None if never.

    Examples
    --------
    >>> labels_to_accuracy([10, 20, 30], [[0.5, 0.8, 0.9]], 0.8)
    20
    """
    curve = np.atleast_2d(np.asarray(accuracy, dtype=float)).mean(0)
    n_labelled = np.asarray(n_labelled)
    hit = np.flatnonzero(curve >= target - 1e-12)
    return int(n_labelled[hit[0]]) if hit.size else None
