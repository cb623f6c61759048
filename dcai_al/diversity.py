"""Diverse batch selection: greedy k-centers and an uncertain-then-diverse hybrid.

Greedy k-centers (Sener & Savarese, ICLR 2018) picks, again and again, the
point farthest from its nearest center, a 2-approximation of the k-center
objective: the smallest possible largest distance from any point to its
nearest center. The kit keeps one running nearest distance per point and
updates it against the newest center only, so each pick costs one pass over
the features (a matrix-vector product) and O(n) extra memory. It is written in
torch, so the same code runs on a GPU.

Lecture: "Growing or Compressing Datasets", section *Practical Challenge 1: Big Models*.
"""

from __future__ import annotations

import numpy as np
import torch

from . import kcenter_kernels as kk
from .acquisition import select_top
from .deprecation import renamed_parameters
from .loop import class_probabilities
from .validation import (
    as_generator,
    check_batch_size,
    check_features,
    check_indices,
    check_positive_int,
    check_scores,
    is_tensor,
)

__all__ = ["HybridSelector", "KCenterSelector", "coverage_radius", "k_center_greedy", "uncertain_then_diverse"]


@renamed_parameters(budget="batch_size")
def k_center_greedy(features, batch_size: int, labelled=None, *, seed=0, device=None, chunk_size=None) -> np.ndarray:
    """Greedy k-centers: ``batch_size`` new points that cover the pool.

    Parameters
    ----------
    features : array-like or torch.Tensor of shape (n_samples, n_features)
        Embeddings or raw features; Euclidean distance. float64 input is kept
        in float64, anything else is computed in float32.
    batch_size : int
        How many new points to choose; at most the number of unlabelled points.
        (Was ``budget``, deprecated.)
    labelled : array-like of int, optional
        Pool indices already labelled: they are the initial centers and are
        never chosen again.
    seed : int, numpy.random.Generator or None
        Chooses the first center when nothing is labelled (see
        :func:`dcai_al.validation.as_generator`).
    device : None, str or torch.device
        Where to compute; defaults to where ``features`` are (CPU for numpy).
    chunk_size : int, optional
        Labelled centers handled per block when computing the starting
        distances; by default blocks of about 64 MB.

    Returns
    -------
    indices : numpy.ndarray of int64, shape (batch_size,)
        Pool indices, in the order chosen; none of them in ``labelled``.
        Exact ties in distance go to the lower index: each pick is decided on
        exact float64 distances (see :mod:`dcai_al.kcenter_kernels`).

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> k_center_greedy(X, 2, labelled=[0]).tolist()
    [3, 2]
    """
    XT = kk.to_torch_t(check_features(features), device)
    n = XT.shape[1]
    labelled = check_indices(labelled, n, "labelled")
    batch_size = check_batch_size(batch_size, n - labelled.size)
    chunk_size = kk.default_chunk(n) if chunk_size is None else check_positive_int(chunk_size, "chunk_size")
    return _k_center_greedy(XT, batch_size, labelled, as_generator(seed), chunk_size)


def _k_center_greedy(XT: torch.Tensor, batch_size: int, labelled: np.ndarray, rng, chunk_size: int) -> np.ndarray:
    n = XT.shape[1]
    norms = kk.sq_norms(XT)
    slack = kk.rounding_slack(XT.shape[0], XT.dtype, float(norms.max()))
    # Every center so far, as float64 rows: the exact check of a pick's contenders reads them.
    centers64 = torch.empty((labelled.size + batch_size, XT.shape[0]), dtype=torch.float64, device=XT.device)
    n_centers = labelled.size
    if labelled.size:
        ids = torch.from_numpy(labelled).to(XT.device)
        min_dist = kk.min_sq_dist(XT, norms, XT[:, ids], norms[ids], chunk_size)
        centers64[:n_centers] = XT[:, ids].T
    else:
        min_dist = torch.full((n,), torch.inf, dtype=XT.dtype, device=XT.device)
    # Centers get -inf so that they are never picked, even when exact
    # duplicates of a center (distance 0) are all that is left.
    min_dist[torch.from_numpy(labelled).to(XT.device)] = -torch.inf

    def exact_of(ids):
        return kk.exact_min_sq_dist(XT[:, ids].T.double(), centers64[:n_centers])

    chosen = np.empty(batch_size, dtype=np.int64)
    for step in range(batch_size):
        if n_centers == 0:
            pick = int(rng.integers(n))
        else:
            pick = kk.exact_farthest(min_dist, slack, exact_of, need_value=False)[1]
        chosen[step] = pick
        centers64[n_centers] = XT[:, pick]
        n_centers += 1
        torch.minimum(min_dist, kk.sq_dist_to(XT, norms, pick), out=min_dist)
        min_dist[pick] = -torch.inf
    return chosen


def coverage_radius(features, centers, *, device=None, chunk_size=None) -> float:
    """The largest distance from any point to its nearest center.

    Parameters
    ----------
    features : array-like or torch.Tensor of shape (n_samples, n_features)
    centers : array-like of int
        Pool indices of the centers (at least one).

    Returns
    -------
    float
        ``max_i min_{c in centers} ||x_i - x_c||``, decided on exact float64
        distances: exactly 0 when every point is a center or a duplicate of one.

    Examples
    --------
    >>> coverage_radius(np.array([[0.0], [1.0], [4.0]]), [0])
    4.0
    """
    XT = kk.to_torch_t(check_features(features), device)
    centers = check_indices(centers, XT.shape[1], "centers", allow_empty=False)
    chunk_size = kk.default_chunk(XT.shape[1]) if chunk_size is None else check_positive_int(chunk_size, "chunk_size")
    norms = kk.sq_norms(XT)
    ids = torch.from_numpy(centers).to(XT.device)
    d = kk.min_sq_dist(XT, norms, XT[:, ids], norms[ids], chunk_size)
    centers64 = XT[:, ids].T.double()
    slack = kk.rounding_slack(XT.shape[0], XT.dtype, float(norms.max()))
    radius_sq, _ = kk.exact_farthest(d, slack, lambda c: kk.exact_min_sq_dist(XT[:, c].T.double(), centers64), None)
    return float(np.sqrt(max(radius_sq, 0.0)))


@renamed_parameters(budget="batch_size")
def uncertain_then_diverse(scores, features, batch_size: int, labelled=None, *, candidates=None, device=None):
    """The most uncertain candidates, thinned to a diverse batch by k-centers.

    Keep the ``candidates`` unlabelled points with the highest scores, then
    choose ``batch_size`` of them by greedy k-centers, counting the labelled set
    as existing centers: a batch of high information value that is also
    jointly diverse.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Acquisition scores for the whole pool (larger = more uncertain).
    features : array-like of shape (n_samples, n_features)
    batch_size : int
        How many to choose. (Was ``budget``, deprecated.)
    labelled : array-like of int, optional
        Pool indices already labelled (existing centers; never chosen).
    candidates : int, optional
        Size of the uncertain shortlist; ``10 * batch_size`` by default (capped at
        the unlabelled pool).

    Returns
    -------
    indices : numpy.ndarray of int64, shape (batch_size,)
        Pool indices.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [9.0]])
    >>> uncertain_then_diverse([0.9, 0.9, 0.9, 0.8, 0.1], X, 2, candidates=4).tolist()
    [0, 3]
    >>> uncertain_then_diverse([0.9, 0.9, 0.9, 0.8, 0.1], X, 1, labelled=[0], candidates=3).tolist()
    [3]
    """
    scores = check_scores(scores)
    features = check_features(features)
    n = features.shape[0]
    if scores.shape[0] != n:
        raise ValueError(f"scores has {scores.shape[0]} entries but features has {n} rows; the lengths must match.")
    labelled = check_indices(labelled, n, "labelled")
    batch_size = check_batch_size(batch_size, n - labelled.size)
    available = n - labelled.size
    candidates = min(10 * batch_size, available) if candidates is None else check_positive_int(candidates, "candidates")
    if candidates < batch_size or candidates > available:
        raise ValueError(
            f"candidates={candidates} must lie between batch_size={batch_size} and the {available} unlabelled."
        )
    shortlist = select_top(np.asarray(scores.cpu() if is_tensor(scores) else scores), candidates, labelled=labelled)
    # With nothing labelled, the most uncertain point is the first center.
    first = shortlist[:1] if labelled.size == 0 else shortlist[:0]
    anchors = np.concatenate([labelled, first])
    # k-centers over the anchors followed by the rest of the shortlist; map positions back to the pool.
    subset = np.concatenate([anchors, np.sort(np.setdiff1d(shortlist, first))])
    X = features[torch.from_numpy(subset)] if is_tensor(features) else features[subset]
    picked = np.empty(0, dtype=np.int64)
    if batch_size > first.size:
        picked = k_center_greedy(X, batch_size - first.size, labelled=np.arange(anchors.size), device=device)
    return np.concatenate([first, subset[picked]]).astype(np.int64)


def _restricted(features, labelled: np.ndarray, unlabelled: np.ndarray):
    """(features, labelled positions, subset) for a selector allowed to choose only ``unlabelled``.

    When some unlabelled points are not allowed (SEALS passes its candidates),
    the features are cut to the labelled then the allowed rows, ``subset``
    maps positions back to pool indices, and the labelled are positions
    0..L-1; otherwise nothing is copied and ``subset`` is None.
    """
    if labelled.size + unlabelled.size >= len(features):
        return features, labelled, None
    subset = np.concatenate([labelled, unlabelled])
    return features[subset], np.arange(labelled.size), subset


class KCenterSelector:
    """Batch strategy for :func:`dcai_al.loop.run_loop`: greedy k-centers on fixed features.

    Chooses among ``unlabelled`` only, counting every labelled point as a
    center, so :class:`dcai_al.seals.Seals` can restrict it to its candidates.
    ``k_centers(features, batch_size, labelled) -> indices`` may replace the kit's
    implementation (a lab notebook passes the student's).
    """

    def __init__(self, features, *, device=None, k_centers=None):
        self.features = check_features(features)
        self.device = device
        self.k_centers = k_centers

    def select(self, model, X_pool, labelled, unlabelled, batch_size, rng):
        features, known, subset = _restricted(self.features, labelled, unlabelled)
        if self.k_centers is not None:
            picked = self.k_centers(features, batch_size, known)
        else:
            picked = k_center_greedy(features, batch_size, labelled=known, seed=rng, device=self.device)
        return np.asarray(picked) if subset is None else subset[np.asarray(picked)]  # positions -> pool indices


class HybridSelector:
    """Batch strategy: :func:`uncertain_then_diverse` with a score over the model's probabilities.

    Chooses among ``unlabelled`` only (see :class:`KCenterSelector`).
    """

    def __init__(self, features, score, *, candidates_per_pick: int = 10, n_classes=None, device=None):
        self.features = check_features(features)
        self.score = score
        self.candidates_per_pick = check_positive_int(candidates_per_pick, "candidates_per_pick")
        self.n_classes = n_classes
        self.device = device

    def select(self, model, X_pool, labelled, unlabelled, batch_size, rng):
        n_classes = self.n_classes or len(model.classes_)
        features, known, subset = _restricted(self.features, labelled, unlabelled)
        scores = np.zeros(len(features))
        allowed = unlabelled if subset is None else np.arange(labelled.size, subset.size)
        scores[allowed] = self.score(class_probabilities(model, X_pool[unlabelled], n_classes))
        m = min(self.candidates_per_pick * batch_size, unlabelled.size)
        picked = uncertain_then_diverse(scores, features, batch_size, known, candidates=m, device=self.device)
        return picked if subset is None else subset[picked]
