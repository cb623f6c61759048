"""The pool-based loop in its plainest form: Lab 1's exercise, and the reference its check compares with.

The lecture's four steps, repeated for ``n_rounds`` rounds:

1. train a fresh model on the labelled set;
2. score every unlabelled pool point from the model's class probabilities;
3. pick the ``batch_size`` highest scores (ties: the lower pool index);
4. add their labels to the labelled set.

:func:`pool_based_loop` returns the labelled pool indices in the order they
were labelled, so one plain integer array says everything the loop decided;
a learning curve is drawn by refitting on each prefix of it
(:func:`dcai_al.experiments.lab1.digits_curves`). The kit's full loop, with
selectors, test accuracy and SEALS, is :func:`dcai_al.loop.run_loop`.

Lecture: "Growing or Compressing Datasets", section *Active learning*.
"""

from __future__ import annotations

import numpy as np

from .validation import check_indices, check_labels, check_positive_int

__all__ = ["RandomScore", "pool_based_loop"]


def pool_based_loop(X, y, labelled, make_model, score, batch_size, n_rounds):
    """Pool-based active learning: train, score the unlabelled pool, label the top batch, repeat.

    Parameters
    ----------
    X : array-like of shape (n, ...)
        The pool, one row per example (``X[indices]`` selects rows).
    y : array-like of shape (n,)
        The oracle's labels; the loop reads only those of labelled points.
    labelled : array-like of int, shape (m,)
        Pool indices labelled before the first round (m >= 1); not edited.
    make_model : callable
        ``make_model()`` returns an unfitted classifier with ``fit(X, y)``
        and ``predict_proba(X)``; a fresh one is trained every round.
    score : callable
        ``score(probs) -> scores``: probs of shape (u, n_classes) for the u
        unlabelled points, one score each, larger = label first.
    batch_size : int
        How many points one round labels (>= 1).
    n_rounds : int
        How many rounds (>= 0).

    Returns
    -------
    order : numpy.ndarray of int64, shape (m + n_rounds * batch_size,)
        Pool indices in the order labelled: ``labelled`` as given, then each
        round's batch, highest score first (ties: the lower pool index).

    Raises
    ------
    TypeError
        When ``make_model`` or ``score`` is not callable, or ``batch_size``
        or ``n_rounds`` is not an integer.
    ValueError
        When the arguments' shapes disagree, ``labelled`` is empty, repeats
        or leaves the pool, the pool holds fewer than
        ``m + n_rounds * batch_size`` points, or ``score`` returns other than
        one finite score per unlabelled point.

    Examples
    --------
    A 1-D pool labelled 1 from 7 on, and a model that is least sure halfway
    between its rightmost 0 and leftmost 1: entropy binary-searches the
    threshold.

    >>> from dcai_al.acquisition import entropy
    >>> from dcai_al.exercises.lab1 import MidpointModel
    >>> x = np.arange(11.0).reshape(-1, 1)
    >>> pool_based_loop(x, (x[:, 0] >= 7).astype(int), [0, 10], MidpointModel, entropy, 1, 3).tolist()
    [0, 10, 5, 7, 6]
    """
    n = _pool_size(X)
    y = check_labels(y, n=n, name="y")
    labelled = check_indices(labelled, n, "labelled", allow_empty=False)
    if not callable(make_model):
        raise TypeError(f"make_model must be a function that returns an unfitted model, got {make_model!r}.")
    if not callable(score):
        raise TypeError(f"score must be a function probs -> scores, got {score!r}.")
    batch_size = check_positive_int(batch_size, "batch_size")
    n_rounds = check_positive_int(n_rounds, "n_rounds", minimum=0)
    wanted = labelled.size + n_rounds * batch_size
    if wanted > n:
        raise ValueError(
            f"{labelled.size} labelled + n_rounds * batch_size = {n_rounds} * {batch_size} is {wanted} points, "
            f"but the pool holds {n}."
        )
    X = X if hasattr(X, "shape") else np.asarray(X)
    is_labelled = np.zeros(n, dtype=bool)
    is_labelled[labelled] = True
    order = [labelled]
    for _ in range(n_rounds):
        train = np.concatenate(order)
        model = make_model()
        model.fit(X[train], y[train])
        unlabelled = np.flatnonzero(~is_labelled)
        scores = _scores(score(model.predict_proba(X[unlabelled])), unlabelled.size)
        batch = unlabelled[np.argsort(-scores, kind="stable")[:batch_size]]  # positions -> pool indices
        is_labelled[batch] = True
        order.append(batch)
    return np.concatenate(order).astype(np.int64)


def _pool_size(X) -> int:
    if isinstance(X, str | bytes) or not hasattr(X, "__len__"):
        raise TypeError(f"X must be an array with one row per pool point, got {type(X).__name__}.")
    if np.ndim(X) == 0:
        raise ValueError("X must have one row per pool point, got a scalar.")
    n = len(X)
    if n == 0:
        raise ValueError("X is empty: the pool has no points.")
    return n


def _scores(scores, u: int) -> np.ndarray:
    if hasattr(scores, "detach"):
        scores = scores.detach().cpu().numpy()
    try:
        scores = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"score must return one number per unlabelled point, got {type(scores).__name__}.") from None
    if scores.shape != (u,):
        raise ValueError(f"score must return one score per unlabelled point, shape ({u},), got shape {scores.shape}.")
    if not np.all(np.isfinite(scores)):
        raise ValueError("score returned NaN or inf: every score must be a finite number.")
    return scores


class RandomScore:
    """Passive learning as a score: uniform random numbers that ignore the model.

    Through :func:`pool_based_loop` it labels a seeded random batch each
    round, so random sampling runs through the very loop it is compared with.

    Parameters
    ----------
    seed : int
        Seed of the draws; each call continues the same stream.

    Examples
    --------
    >>> s = RandomScore(seed=0)
    >>> s(np.ones((3, 2))).shape
    (3,)
    """

    def __init__(self, seed: int = 0):
        self.seed = check_positive_int(seed, "seed", minimum=0)
        self._rng = np.random.default_rng(self.seed)

    def __call__(self, probs) -> np.ndarray:
        return self._rng.random(len(probs))

    def __repr__(self) -> str:
        return f"RandomScore(seed={self.seed})"
