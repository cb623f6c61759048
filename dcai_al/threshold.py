"""The lecture's 1-D example: learning a threshold on [0, 1].

Points are labelled 1 at or right of an unknown threshold and 0 left of it.
The version space is the interval between the rightmost 0 and the leftmost 1
seen so far; the estimate is its midpoint.

* The passive learner labels random pool points: its interval shrinks like
  1/n, so its error does too.
* The active learner labels the pool point nearest the middle of the
  interval: a binary search, so the error halves with every label (2^-n).

Lecture: "Growing or Compressing Datasets", section *Passive vs Active Learning*.
"""

from __future__ import annotations

import numpy as np

from .validation import as_generator, check_indices, check_number, check_positive_int, check_real_array

__all__ = ["binary_search_query", "labels_to_reach", "run_threshold_learner", "version_space"]


def version_space(x_labelled, y_labelled) -> tuple[float, float]:
    """The interval of thresholds consistent with the labels seen so far.

    Parameters
    ----------
    x_labelled : array-like of shape (m,)
        Positions of the labelled points (m may be 0).
    y_labelled : array-like of shape (m,)
        Their labels, 0 or 1.

    Returns
    -------
    (lo, hi) : tuple of float
        The rightmost point labelled 0 (or 0.0) and the leftmost labelled 1
        (or 1.0).

    Examples
    --------
    >>> version_space([0.2, 0.9, 0.4], [0, 1, 0])
    (0.4, 0.9)
    """
    x = check_real_array(x_labelled, "x_labelled", shape="(m,): one position per labelled point", allow_empty=True)
    y = np.asarray(y_labelled).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x_labelled and y_labelled must have the same length, got {x.size} and {y.size}.")
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("y_labelled must hold only 0 and 1.")
    lo = float(x[y == 0].max()) if (y == 0).any() else 0.0
    hi = float(x[y == 1].min()) if (y == 1).any() else 1.0
    if lo > hi:
        raise ValueError(f"the labels contradict a threshold: a 0 at {lo} lies right of a 1 at {hi}.")
    return lo, hi


def binary_search_query(x, lo: float, hi: float) -> int:
    """The pool point strictly inside (lo, hi) nearest the interval's middle.

    Parameters
    ----------
    x : array-like of shape (n,)
        The pool's positions.
    lo, hi : float
        The version space.

    Returns
    -------
    int
        Its index in ``x`` (ties go to the lower index), or -1 when no pool
        point lies strictly inside the interval: the pool cannot narrow it more.

    Examples
    --------
    >>> binary_search_query([0.1, 0.45, 0.6, 0.9], 0.0, 1.0)
    1
    >>> binary_search_query([0.1, 0.9], 0.1, 0.9)
    -1
    """
    x = check_real_array(x, "x", shape="(n,): one position per pool point")
    lo, hi = check_number(lo, "lo"), check_number(hi, "hi")
    if not lo <= hi:
        raise ValueError(f"the version space needs lo <= hi, got lo={lo}, hi={hi}.")
    inside = np.flatnonzero((x > lo) & (x < hi))
    if inside.size == 0:
        return -1
    return int(inside[np.argmin(np.abs(x[inside] - (lo + hi) / 2))])


def run_threshold_learner(x, y, threshold: float, n_labels: int, *, active: bool, seed=0, query=None):
    """Label ``n_labels`` pool points one at a time; track the estimate's error.

    Parameters
    ----------
    x, y : array-like of shape (n,)
        Pool positions and their (oracle) labels.
    threshold : float
        The true threshold, used only to measure the error.
    n_labels : int
        Labels to spend over the whole run (one per step; not a batch size).
    active : bool
        Binary search (True) or random sampling (False).
    seed : int, numpy.random.Generator or None
        Order of the passive learner's random labels (see
        :func:`dcai_al.validation.as_generator`).
    query : callable, optional
        ``query(x, lo, hi) -> index or -1``; defaults to
        :func:`binary_search_query` (a notebook passes the student's).

    Returns
    -------
    errors : numpy.ndarray of shape (n_labels,)
        ``|estimate - threshold|`` after each label; the active learner stops
        asking once the pool cannot narrow the interval, and its error stays.
    chosen : numpy.ndarray of int64
        The labelled indices, in order.

    Examples
    --------
    >>> x = np.linspace(0, 1, 101)
    >>> errors, chosen = run_threshold_learner(x, (x >= 0.3).astype(int), 0.3, 8, active=True)
    >>> bool(errors[-1] < 0.01)
    True
    """
    x = check_real_array(x, "x", shape="(n,): one position per pool point")
    threshold = check_number(threshold, "threshold")
    y = np.asarray(y).ravel()
    if y.shape != x.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}.")
    n_labels = check_positive_int(n_labels, "n_labels")
    if n_labels > x.size:
        raise ValueError(f"n_labels={n_labels} is larger than the pool of {x.size} points.")
    query = binary_search_query if query is None else query
    order = as_generator(seed).permutation(x.size)
    chosen: list[int] = []
    errors = np.empty(n_labels)
    lo, hi = 0.0, 1.0
    for i in range(n_labels):
        nxt = query(x, lo, hi) if active else int(order[i])
        if nxt != -1:
            chosen.append(int(nxt))
            lo, hi = version_space(x[chosen], y[chosen])
        errors[i] = abs((lo + hi) / 2 - threshold)
    return errors, check_indices(chosen, x.size, "chosen")


def labels_to_reach(errors, tolerance: float) -> np.ndarray:
    """Labels needed until the error first drops to ``tolerance`` or below.

    Parameters
    ----------
    errors : array-like of shape (n_runs, n_labels) or (n_labels,)
    tolerance : float

    Returns
    -------
    numpy.ndarray of shape (n_runs,)
        1-based label counts; ``n_labels + 1`` where a run never got there.

    Examples
    --------
    >>> labels_to_reach([[0.5, 0.2, 0.05], [0.5, 0.4, 0.3]], 0.1).tolist()
    [3, 4]
    """
    tolerance = check_number(tolerance, "tolerance")
    if tolerance < 0:
        raise ValueError(f"tolerance must be a non-negative distance, got {tolerance}.")
    errors = np.atleast_2d(check_real_array(errors, "errors", ndims=(1, 2), shape="(n_runs, n_labels) or (n_labels,)"))
    reached = errors <= tolerance
    return np.where(reached.any(1), reached.argmax(1) + 1, errors.shape[1] + 1)
