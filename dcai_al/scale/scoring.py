"""Acquisition scores over a sharded pool, and a distributed top-J.

:func:`score_pool` turns every shard into scores (a linear head's softmax,
then entropy, least confidence or margin), lazily; :func:`top_j` picks the J
best with a per-chunk top-J and a tree of merges, so no process ever holds
more than a chunk's scores and J winners.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_budget, check_indices, check_positive_int
from .storage import ShardedPool

__all__ = ["score_pool", "top_j"]


def _score_block(block, coef, intercept, score_name: str):
    from ..acquisition import SCORES

    if coef is None:
        probs = np.asarray(block, dtype=np.float64)
    else:
        logits = np.asarray(block, dtype=np.float32) @ coef + intercept
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits, dtype=np.float64)
        probs /= probs.sum(axis=1, keepdims=True)
    return SCORES[score_name](probs)


def score_pool(pool, score: str = "entropy", *, coef=None, intercept=None):
    """Acquisition scores of every row, as a lazy 1-D dask array.

    Parameters
    ----------
    pool : ShardedPool or dask.array.Array of shape (n, d)
        Embeddings (with ``coef``), or class probabilities (without).
    score : {"entropy", "least confidence", "margin"}
    coef, intercept : array-like of shape (d, K) and (K,), optional
        A linear head (e.g. ``LogisticRegression.coef_.T`` and
        ``.intercept_``): scores come from its softmax probabilities.
    """
    import dask
    import dask.array as da

    from ..acquisition import SCORES

    if score not in SCORES:
        raise ValueError(f"score must be one of {sorted(SCORES)}, got {score!r}.")
    if len(pool.shape) != 2:
        raise ValueError(f"pool must be 2-D (n, d), got shape {pool.shape}.")
    d = pool.shape[1]
    if coef is not None:
        coef = np.asarray(coef, dtype=np.float32)
        intercept = np.zeros(coef.shape[1], np.float32) if intercept is None else np.asarray(intercept, np.float32)
        if coef.ndim != 2 or coef.shape[0] != d or intercept.shape != (coef.shape[1],):
            raise ValueError(f"coef must be (d={d}, K) and intercept (K,); got {coef.shape} and {intercept.shape}.")
    if isinstance(pool, ShardedPool):
        # One task per shard reads and scores it where it runs: the rows never travel between workers.
        parts = [
            da.from_delayed(
                dask.delayed(_score_shard)(str(pool.shard_file(i)), coef, intercept, score),
                shape=(pool.starts[i + 1] - pool.starts[i],),
                dtype=np.float64,
            )
            for i in range(pool.n_shards)
        ]
        return da.concatenate(parts)
    X = pool if pool.chunks[1] == (d,) else pool.rechunk({1: -1})  # whole rows in each block
    return X.map_blocks(_score_block, coef, intercept, score, drop_axis=1, dtype=np.float64)


def _score_shard(shard_file: str, coef, intercept, score_name: str):
    return _score_block(np.load(shard_file, mmap_mode="r"), coef, intercept, score_name)


def _chunk_top(scores, offset: int, j: int, exclude: np.ndarray):
    from ..acquisition import select_top

    scores = np.asarray(scores)
    local = exclude[(exclude >= offset) & (exclude < offset + scores.size)] - offset
    k = min(j, scores.size - local.size)
    if k <= 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    picked = select_top(scores, k, exclude=local)
    return scores[picked].astype(np.float64), picked + offset


def _merge_top(j: int, *parts):
    values = np.concatenate([p[0] for p in parts])
    ids = np.concatenate([p[1] for p in parts])
    order = np.lexsort((ids, -values))[:j]  # larger score first; ties to the lower pool index
    return values[order], ids[order]


def top_j(scores, j: int, *, exclude=None, client=None, fan_in: int = 8) -> np.ndarray:
    """The ``j`` largest scores of a chunked score vector, distributed.

    Each chunk keeps its own top ``j`` (never an excluded index), then merge
    tasks combine ``fan_in`` partial results at a time until one is left; the
    caller receives only the final ``j`` indices. Same answer as
    :func:`dcai_al.acquisition.select_top` on the whole vector.

    Parameters
    ----------
    scores : dask.array.Array of shape (n,)
    j : int
    exclude : array-like of int, optional
        Pool indices that must not be chosen (already labelled).
    client : distributed.Client, optional
        Run there; otherwise on Dask's default scheduler.
    fan_in : int
        Partial results combined per merge task.

    Returns
    -------
    numpy.ndarray of int64, shape (j,)
        Pool indices, best first.
    """
    import dask

    if getattr(scores, "ndim", None) != 1:
        raise ValueError(f"scores must be a 1-D dask array, got {type(scores).__name__} of shape {scores.shape}.")
    n = scores.shape[0]
    excluded = check_indices(exclude, n, "exclude")
    j = check_budget(j, n - excluded.size, "j")
    fan_in = check_positive_int(fan_in, "fan_in", minimum=2)
    offsets = np.concatenate([[0], np.cumsum(scores.chunks[0])[:-1]])
    parts = [
        dask.delayed(_chunk_top)(block, int(off), j, excluded)
        for block, off in zip(scores.to_delayed().ravel(), offsets, strict=True)
    ]
    while len(parts) > 1:
        parts = [dask.delayed(_merge_top)(j, *parts[i : i + fan_in]) for i in range(0, len(parts), fan_in)]
    _, ids = client.compute(parts[0]).result() if client is not None else parts[0].compute()
    if ids.size != j:
        raise RuntimeError(f"the merge returned {ids.size} indices instead of {j}.")
    return ids.astype(np.int64)
