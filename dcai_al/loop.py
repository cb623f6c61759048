"""The pool-based active learning loop, and a runner over seeds and strategies.

One round, as in the lecture: train a model on the labelled set, score every
unlabelled example, label the top batch, repeat until the budget is spent.
All indices are positions in the original pool.

Lecture: "Growing or Compressing Datasets", section *Active learning*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from tqdm.auto import tqdm

from .acquisition import random_scores, select_top
from .validation import (
    check_budget,
    check_features,
    check_indices,
    check_labels,
    check_positive_int,
    check_random_state,
)

__all__ = ["History", "class_probabilities", "initial_labels", "labels_to_accuracy", "run_loop", "run_strategies"]


@dataclass
class History:
    """What one run of the loop did, round by round (round 0 = the seed set).

    Attributes
    ----------
    n_labelled : numpy.ndarray of shape (n_rounds + 1,)
    accuracy : numpy.ndarray of shape (n_rounds + 1,)
        Test accuracy of the model trained after each round.
    chosen : list of numpy.ndarray
        Pool indices labelled in each round (round 0: the seed set).
    """

    n_labelled: np.ndarray
    accuracy: np.ndarray
    chosen: list = field(default_factory=list)

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


def class_probabilities(model, X, n_classes: int) -> np.ndarray:
    """``model.predict_proba(X)`` with a column for every class 0..n_classes-1.

    Early in active learning the labelled set may miss classes, and a fitted
    model then only knows some; the missing columns are zero.
    """
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
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


def initial_labels(y, size: int, seed=None, *, min_classes: int = 2) -> np.ndarray:
    """A random seed set of ``size`` pool indices holding at least ``min_classes`` classes.

    Examples
    --------
    >>> initial_labels(np.array([0, 0, 0, 1]), 2, seed=0).size
    2
    """
    y = check_labels(y)
    size = check_budget(size, y.size, "size")
    if np.unique(y).size < min_classes:
        raise ValueError(f"the pool holds fewer than min_classes={min_classes} classes.")
    rng = check_random_state(seed)
    for _ in range(1000):
        idx = np.sort(rng.choice(y.size, size=size, replace=False))
        if np.unique(y[idx]).size >= min_classes:
            return idx.astype(np.int64)
    raise ValueError(f"could not draw {size} examples holding {min_classes} classes; use a larger seed set.")


def run_loop(
    estimator,
    X_pool,
    y_pool,
    X_test,
    y_test,
    *,
    score,
    initial,
    batch_size: int,
    n_rounds: int,
    n_classes: int | None = None,
    seed=None,
    progress: bool = False,
) -> History:
    """Pool-based active learning: train, score the unlabelled pool, label the top batch.

    Parameters
    ----------
    estimator : scikit-learn-style classifier
        Anything with ``fit`` and ``predict_proba`` (cloned fresh each round),
        for example ``LogisticRegression`` or :class:`dcai_al.models.TorchClassifier`.
    X_pool, y_pool : arrays
        The pool and its oracle labels (revealed only when chosen).
    X_test, y_test : arrays
        Held-out data for accuracy.
    score : callable, "random", or a selector
        ``score(probs) -> scores`` (larger = label first, the top batch is
        labelled); ``"random"`` for passive learning; or an object with
        ``select(model, X_pool, labelled, unlabelled, batch_size, rng)``
        returning pool indices, for batch strategies such as k-centers
        (:mod:`dcai_al.diversity`).
    initial : array-like of int
        The seed set's pool indices.
    batch_size, n_rounds : int
        Labels per round and number of rounds.
    n_classes : int, optional
        Number of classes; inferred from ``y_pool`` when None.
    seed : None, int or numpy.random.Generator
        Used by the random strategy.
    progress : bool
        Show a tqdm bar over rounds.

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
    ...              score=entropy, initial=np.arange(20), batch_size=10, n_rounds=2)
    >>> h.n_labelled.tolist()
    [20, 30, 40]
    """
    X_pool = check_features(X_pool, "X_pool", allow_tensor=False) if np.ndim(X_pool) == 2 else np.asarray(X_pool)
    y_pool = check_labels(y_pool, n=len(X_pool), name="y_pool")
    y_test = check_labels(y_test, n=len(X_test), name="y_test")
    n = len(X_pool)
    labelled = check_indices(initial, n, "initial", allow_empty=False)
    batch_size = check_positive_int(batch_size, "batch_size")
    n_rounds = check_positive_int(n_rounds, "n_rounds", minimum=0)
    check_budget(batch_size * max(n_rounds, 1), n - labelled.size, "batch_size * n_rounds")
    is_selector = hasattr(score, "select")
    if not (is_selector or callable(score) or (isinstance(score, str) and score == "random")):
        raise TypeError(f"score must be a function probs -> scores, 'random' or a selector, got {score!r}.")
    n_classes = int(np.max(y_pool)) + 1 if n_classes is None else n_classes
    rng = check_random_state(seed)

    is_labelled = np.zeros(n, dtype=bool)
    is_labelled[labelled] = True
    chosen = [labelled]
    counts, accuracy = [], []
    for r in tqdm(range(n_rounds + 1), desc="rounds", disable=not progress, leave=False):
        model = clone(estimator).fit(X_pool[is_labelled], y_pool[is_labelled])
        counts.append(int(is_labelled.sum()))
        accuracy.append(float(np.mean(model.predict(X_test) == y_test)))
        if r == n_rounds:
            break
        unlabelled = np.flatnonzero(~is_labelled)
        if is_selector:
            picked = check_indices(
                score.select(model, X_pool, np.flatnonzero(is_labelled), unlabelled, batch_size, rng), n, "selection"
            )
            if picked.size != batch_size or is_labelled[picked].any():
                raise ValueError(f"the selector must return {batch_size} unlabelled pool indices, got {picked}.")
        else:
            if isinstance(score, str):
                scores = random_scores(unlabelled.size, rng)
            else:
                scores = score(class_probabilities(model, X_pool[unlabelled], n_classes))
            picked = unlabelled[select_top(np.asarray(scores), batch_size)]  # positions -> pool indices
        is_labelled[picked] = True
        chosen.append(picked)
    return History(np.array(counts), np.array(accuracy), chosen)


def run_strategies(
    estimator,
    split,
    strategies: dict,
    *,
    seeds,
    initial_size: int,
    batch_size: int,
    n_rounds: int,
    progress: bool = False,
    desc: str = "strategies x seeds",
):
    """Run the loop for every strategy and seed on a :class:`~dcai_al.data.PoolSplit`.

    Each seed draws one seed set, shared by every strategy, so strategies
    differ only in what they choose.

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
        initial = initial_labels(split.y_pool, initial_size, seed)
        for name, score in strategies.items():
            histories[name].append(
                run_loop(
                    estimator,
                    split.X_pool,
                    split.y_pool,
                    split.X_test,
                    split.y_test,
                    score=score,
                    initial=initial,
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
