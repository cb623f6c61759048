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

from .acquisition import select_top
from .loop import class_probabilities
from .models import get_device
from .validation import (
    check_budget,
    check_features,
    check_indices,
    check_positive_int,
    check_random_state,
    check_scores,
    is_tensor,
)

__all__ = ["HybridSelector", "KCenterSelector", "coverage_radius", "k_center_greedy", "uncertain_then_diverse"]

#: Entries of one (n, chunk) block of distances when starting from many centers.
_BLOCK_ENTRIES = 2**24  # 64 MB of float32


def _to_torch_t(features, device) -> torch.Tensor:
    """Features transposed to a contiguous (n_features, n_samples) tensor on ``device``.

    Distances to one center are then a vector-matrix product ``c @ XT`` that
    streams XT once; with rows laid out as (n, d), torch's CPU mat-vec kernel
    ran about 3x slower here (see benchmarks/bench_kcenter.py). float64 stays
    float64, anything else becomes float32.
    """
    X = features.detach() if is_tensor(features) else torch.from_numpy(np.asarray(features))
    if X.dtype not in (torch.float32, torch.float64):
        X = X.float()
    dev = get_device(device) if device is not None else X.device
    return X.to(dev).T.contiguous()


def _sq_dist_to_vector(XT: torch.Tensor, sq_norms: torch.Tensor, c: torch.Tensor, c_sq) -> torch.Tensor:
    """Squared distances from every point to the vector ``c`` (squared norm ``c_sq``): one pass over XT.

    Shared with :mod:`dcai_al.scale`, whose shards run this same kernel, so
    a sharded pool gets exactly the distances of the whole one.
    """
    d = torch.addmv(sq_norms, XT.T, c, alpha=-2.0).add_(c_sq)
    return d.clamp_(min=0.0)  # the expansion can dip just below 0 through rounding


def _sq_dist_to(XT: torch.Tensor, sq_norms: torch.Tensor, center: int) -> torch.Tensor:
    """Squared distances from every point to point ``center``."""
    # The center's column is strided in XT; a contiguous copy (d floats) keeps
    # the product on the fast path (about 2x faster on CPU than the strided view).
    return _sq_dist_to_vector(XT, sq_norms, XT[:, center].contiguous(), sq_norms[center])


def _min_sq_dist(
    XT: torch.Tensor, sq_norms: torch.Tensor, CT: torch.Tensor, c_sq: torch.Tensor, chunk_size: int
) -> torch.Tensor:
    """Squared distance from each point to its nearest center; the centers are the columns of CT."""
    out = torch.full((XT.shape[1],), torch.inf, dtype=XT.dtype, device=XT.device)
    for start in range(0, CT.shape[1], chunk_size):
        block = CT[:, start : start + chunk_size].contiguous()
        d = c_sq[start : start + chunk_size][:, None] - 2.0 * (block.T @ XT) + sq_norms[None, :]
        torch.minimum(out, d.amin(0).clamp_(min=0.0), out=out)
    return out


def _default_chunk(n: int) -> int:
    return max(1, _BLOCK_ENTRIES // max(n, 1))


def k_center_greedy(features, budget: int, labelled=None, *, seed=None, device=None, chunk_size=None) -> np.ndarray:
    """Greedy k-centers: ``budget`` new points that cover the pool.

    Parameters
    ----------
    features : array-like or torch.Tensor of shape (n_samples, n_features)
        Embeddings or raw features; Euclidean distance. float64 input is kept
        in float64, anything else is computed in float32.
    budget : int
        How many new points to choose; at most the number of unlabelled points.
    labelled : array-like of int, optional
        Pool indices already labelled: they are the initial centers and are
        never chosen again.
    seed : None, int or numpy.random.Generator
        Chooses the first center when nothing is labelled.
    device : None, str or torch.device
        Where to compute; defaults to where ``features`` are (CPU for numpy).
    chunk_size : int, optional
        Labelled centers handled per block when computing the starting
        distances; by default blocks of about 64 MB.

    Returns
    -------
    indices : numpy.ndarray of int64, shape (budget,)
        Pool indices, in the order chosen; none of them in ``labelled``.
        Exact ties in distance go to the lower index.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> k_center_greedy(X, 2, labelled=[0]).tolist()
    [3, 2]
    """
    XT = _to_torch_t(check_features(features), device)
    n = XT.shape[1]
    labelled = check_indices(labelled, n, "labelled")
    budget = check_budget(budget, n - labelled.size)
    chunk_size = _default_chunk(n) if chunk_size is None else check_positive_int(chunk_size, "chunk_size")
    return _k_center_greedy(XT, budget, labelled, check_random_state(seed), chunk_size)


def _k_center_greedy(XT: torch.Tensor, budget: int, labelled: np.ndarray, rng, chunk_size: int) -> np.ndarray:
    n = XT.shape[1]
    sq_norms = torch.linalg.vector_norm(XT, dim=0).square_()  # no n x d temporary, unlike (XT * XT).sum(0)
    if labelled.size:
        centers = torch.from_numpy(labelled).to(XT.device)
        min_dist = _min_sq_dist(XT, sq_norms, XT[:, centers], sq_norms[centers], chunk_size)
    else:
        min_dist = torch.full((n,), torch.inf, dtype=XT.dtype, device=XT.device)
    # Centers get -inf so that argmax never picks them, even when exact
    # duplicates of a center (distance 0) are all that is left.
    min_dist[torch.from_numpy(labelled).to(XT.device)] = -torch.inf
    chosen = np.empty(budget, dtype=np.int64)
    for step in range(budget):
        if step == 0 and labelled.size == 0:
            pick = int(rng.integers(n))
        else:
            pick = int(torch.argmax(min_dist))  # first maximum: ties go to the lower index
        chosen[step] = pick
        torch.minimum(min_dist, _sq_dist_to(XT, sq_norms, pick), out=min_dist)
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
        ``max_i min_{c in centers} ||x_i - x_c||``; 0 when every point is a center.

    Examples
    --------
    >>> coverage_radius(np.array([[0.0], [1.0], [4.0]]), [0])
    4.0
    """
    XT = _to_torch_t(check_features(features), device)
    centers = check_indices(centers, XT.shape[1], "centers", allow_empty=False)
    chunk_size = _default_chunk(XT.shape[1]) if chunk_size is None else check_positive_int(chunk_size, "chunk_size")
    sq_norms = torch.linalg.vector_norm(XT, dim=0).square_()  # no n x d temporary, unlike (XT * XT).sum(0)
    centers = torch.from_numpy(centers).to(XT.device)
    d = _min_sq_dist(XT, sq_norms, XT[:, centers], sq_norms[centers], chunk_size)
    return float(d.max().sqrt())


def uncertain_then_diverse(scores, features, budget: int, labelled=None, *, candidates=None, device=None):
    """The most uncertain candidates, thinned to a diverse batch by k-centers.

    Keep the ``candidates`` unlabelled points with the highest scores, then
    choose ``budget`` of them by greedy k-centers, counting the labelled set
    as existing centers: a batch of high information value that is also
    jointly diverse.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Acquisition scores for the whole pool (larger = more uncertain).
    features : array-like of shape (n_samples, n_features)
    budget : int
    labelled : array-like of int, optional
    candidates : int, optional
        Size of the uncertain shortlist; ``10 * budget`` by default (capped at
        the unlabelled pool).

    Returns
    -------
    indices : numpy.ndarray of int64, shape (budget,)
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
    budget = check_budget(budget, n - labelled.size)
    available = n - labelled.size
    candidates = min(10 * budget, available) if candidates is None else check_positive_int(candidates, "candidates")
    if candidates < budget or candidates > available:
        raise ValueError(f"candidates={candidates} must lie between budget={budget} and the {available} unlabelled.")
    shortlist = select_top(np.asarray(scores.cpu() if is_tensor(scores) else scores), candidates, exclude=labelled)
    # With nothing labelled, the most uncertain point is the first center.
    first = shortlist[:1] if labelled.size == 0 else shortlist[:0]
    anchors = np.concatenate([labelled, first])
    # k-centers over the anchors followed by the rest of the shortlist; map positions back to the pool.
    subset = np.concatenate([anchors, np.sort(np.setdiff1d(shortlist, first))])
    X = features[torch.from_numpy(subset)] if is_tensor(features) else features[subset]
    picked = np.empty(0, dtype=np.int64)
    if budget > first.size:
        picked = k_center_greedy(X, budget - first.size, labelled=np.arange(anchors.size), device=device)
    return np.concatenate([first, subset[picked]]).astype(np.int64)


class KCenterSelector:
    """Batch strategy for :func:`dcai_al.loop.run_loop`: greedy k-centers on fixed features.

    ``k_centers(features, budget, labelled) -> indices`` may replace the kit's
    implementation (a lab notebook passes the student's).
    """

    def __init__(self, features, *, device=None, k_centers=None):
        self.features = check_features(features)
        self.device = device
        self.k_centers = k_centers

    def select(self, model, X_pool, labelled, unlabelled, batch_size, rng):
        if self.k_centers is not None:
            return self.k_centers(self.features, batch_size, labelled)
        return k_center_greedy(self.features, batch_size, labelled=labelled, seed=rng, device=self.device)


class HybridSelector:
    """Batch strategy: :func:`uncertain_then_diverse` with a score over the model's probabilities."""

    def __init__(self, features, score, *, candidates_per_pick: int = 10, n_classes=None, device=None):
        self.features = check_features(features)
        self.score = score
        self.candidates_per_pick = check_positive_int(candidates_per_pick, "candidates_per_pick")
        self.n_classes = n_classes
        self.device = device

    def select(self, model, X_pool, labelled, unlabelled, batch_size, rng):
        n_classes = self.n_classes or len(model.classes_)
        scores = np.zeros(len(X_pool))
        scores[unlabelled] = self.score(class_probabilities(model, X_pool[unlabelled], n_classes))
        m = min(self.candidates_per_pick * batch_size, unlabelled.size)
        return uncertain_then_diverse(scores, self.features, batch_size, labelled, candidates=m, device=self.device)
