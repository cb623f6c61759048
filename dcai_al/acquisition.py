"""Acquisition scores for uncertainty sampling, and the one top-batch selector.

A score maps a probability matrix ``probs`` of shape (n, K) to one number
per example; larger means "more worth labelling". Every strategy in the kit
is a score followed by :func:`select_top`. Functions accept numpy arrays or
torch tensors and return the same kind, on the same device. Half-precision
input (float16, bfloat16) is scored in float32: with three significant digits,
rows near the uniform one would otherwise tie.

Lecture: "Growing or Compressing Datasets", section *Active learning*.
"""

from __future__ import annotations

import numpy as np

from .deprecation import renamed_parameters
from .validation import (
    _torch,
    as_generator,
    check_batch_size,
    check_indices,
    check_positive_int,
    check_probs,
    check_scores,
    is_tensor,
)

__all__ = ["SCORES", "entropy", "least_confidence", "margin", "random_scores", "select_top", "top_by_score"]


def entropy(probs):
    """Predictive entropy, ``-sum_k p_k log p_k`` (natural log; 0 log 0 = 0).

    Parameters
    ----------
    probs : array-like or torch.Tensor of shape (n_samples, n_classes)

    Returns
    -------
    scores : same kind as ``probs``, shape (n_samples,)
        0 for a one-hot row, ``log(n_classes)`` for a uniform one.

    Examples
    --------
    >>> entropy(np.array([[0.5, 0.5], [1.0, 0.0]])).round(4).tolist()
    [0.6931, 0.0]
    """
    p = check_probs(probs)
    # "0.0 -" rather than unary minus, so a one-hot row scores 0.0, not -0.0.
    if is_tensor(p):
        return 0.0 - _torch().special.xlogy(p, p).sum(1)
    # log(1) = 0 where p = 0, so 0 log 0 contributes exactly 0.
    return 0.0 - (p * np.log(np.where(p > 0, p, 1.0))).sum(1)


def least_confidence(probs):
    """One minus the probability of the most likely class, ``1 - max_k p_k``.

    Examples
    --------
    >>> least_confidence(np.array([[0.2, 0.8], [0.5, 0.5]])).round(4).tolist()
    [0.2, 0.5]
    """
    p = check_probs(probs)
    return 1 - (p.max(1).values if is_tensor(p) else p.max(1))


def margin(probs):
    """One minus the gap between the two most likely classes, ``1 - (p_(1) - p_(2))``.

    A small gap means the model hesitates between two classes, so it scores high.

    Examples
    --------
    >>> margin(np.array([[0.1, 0.3, 0.6], [0.5, 0.5, 0.0]])).round(4).tolist()
    [0.7, 1.0]
    """
    p = check_probs(probs)
    if is_tensor(p):
        top2 = _torch().topk(p, 2, dim=1).values
        return 1 - (top2[:, 0] - top2[:, 1])
    top2 = np.partition(p, -2, axis=1)[:, -2:]  # no full sort needed
    return 1 - (top2[:, 1] - top2[:, 0])


def random_scores(n: int, seed=0) -> np.ndarray:
    """Uniform random scores: passive learning expressed as a score.

    Parameters
    ----------
    n : int
        Number of examples.
    seed : int, numpy.random.Generator or None
        See :func:`dcai_al.validation.as_generator` (``None``: fresh entropy).

    Returns
    -------
    scores : numpy.ndarray of float64, shape (n,)

    Examples
    --------
    >>> random_scores(3, seed=0).shape
    (3,)
    """
    n = check_positive_int(n, "n")
    return as_generator(seed).random(n)


#: Strategies by name, for runners and experiments.
SCORES = {"entropy": entropy, "least confidence": least_confidence, "margin": margin}


@renamed_parameters(k="batch_size", exclude="labelled")
def select_top(scores, batch_size: int, *, labelled=None):
    """Indices of the ``batch_size`` largest scores, in decreasing order of score.

    Ties are broken towards the lower index, so the result is deterministic.

    Parameters
    ----------
    scores : array-like or torch.Tensor of shape (n,)
    batch_size : int
        How many indices to return; at most the number not in ``labelled``.
        (Was ``k``, deprecated.)
    labelled : array-like of int, optional
        Pool indices already labelled: never selected. (Was ``exclude``, deprecated.)

    Returns
    -------
    indices : numpy.ndarray or torch.Tensor of int64, shape (batch_size,)
        Positions in ``scores`` (a tensor stays on its device).

    Examples
    --------
    >>> select_top(np.array([0.1, 0.9, 0.5, 0.9]), 2).tolist()
    [1, 3]
    >>> select_top(np.array([0.1, 0.9, 0.5, 0.9]), 2, labelled=[1]).tolist()
    [3, 2]
    """
    s = check_scores(scores)
    n = s.shape[0]
    excluded = check_indices(labelled, n, "labelled")
    b = check_batch_size(batch_size, n - excluded.size)
    if is_tensor(s):
        s = s.double().clone()
        if excluded.size:
            s[_torch().from_numpy(excluded).to(s.device)] = -_torch().inf
        kth = _torch().kthvalue(s, n - b + 1).values
        above = _torch().nonzero(s > kth).ravel()
        ties = _torch().nonzero(s == kth).ravel()[: b - above.numel()]
        idx = _torch().cat([above, ties]).sort().values
        return idx[_torch().sort(-s[idx], stable=True).indices]
    s = np.asarray(s, dtype=np.float64).copy()
    s[excluded] = -np.inf
    return top_by_score(s, b)


def top_by_score(scores: np.ndarray, batch_size: int, ids: np.ndarray | None = None) -> np.ndarray:
    """:func:`select_top`'s kernel, on checked input: positions of the ``batch_size`` largest scores.

    Ties are broken towards the lower ``ids`` entry (the lower position when
    ``ids`` is None), so a pool held in any order gives the batch that
    :func:`select_top` gives on the same pool sorted by id. One partition,
    no sort of the whole array.

    Only shapes and the batch size are checked here (not every value: the
    loop calls this each round on scores it has checked).

    Parameters
    ----------
    scores : numpy.ndarray of float, shape (m,)
        Finite, or ``-inf`` for rows never to choose.
    batch_size : int
        In [1, m].
    ids : numpy.ndarray of int, shape (m,), optional
        Distinct keys for the tie-break, e.g. the pool indices of the rows.

    Returns
    -------
    numpy.ndarray of int64, shape (batch_size,)
        Positions in ``scores``, in decreasing order of score.
    """
    scores = np.asarray(scores)
    if scores.ndim != 1 or not np.issubdtype(scores.dtype, np.floating):
        raise ValueError(f"scores must be a 1-D float array, got shape {scores.shape} of {scores.dtype}.")
    n = scores.shape[0]
    b = check_batch_size(batch_size, n)
    if ids is not None:
        ids = np.asarray(ids)
        if ids.shape != scores.shape or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be integers of the same shape as scores {scores.shape}, got {ids.shape}.")
    kth = np.partition(scores, n - b)[n - b]
    above = np.flatnonzero(scores > kth)
    ties = np.flatnonzero(scores == kth)
    if ids is not None:
        ties = ties[np.argsort(ids[ties], kind="stable")]
    idx = np.concatenate([above, ties[: b - above.size]])
    key = idx if ids is None else ids[idx]
    return idx[np.lexsort((key, -scores[idx]))].astype(np.int64)
