"""Acquisition scores over a sharded pool, and a distributed top-J.

:func:`score_pool` turns every shard into scores (a linear head's softmax,
then entropy, least confidence or margin), lazily; :func:`top_j` picks the J
best with a per-chunk top-J and a tree of merges, so no process ever holds
more than a chunk's scores and J winners (J is ``batch_size``).
"""

from __future__ import annotations

import numpy as np

from ..deprecation import renamed_parameters
from ..validation import check_batch_size, check_indices, check_positive_int
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


def _chunk_top(scores, offset: int, batch_size: int, labelled: np.ndarray):
    from ..acquisition import select_top

    scores = np.asarray(scores)
    local = labelled[(labelled >= offset) & (labelled < offset + scores.size)] - offset
    m = min(batch_size, scores.size - local.size)
    if m <= 0:
        return np.empty(0), np.empty(0, dtype=np.int64)
    picked = select_top(scores, m, labelled=local)
    return scores[picked].astype(np.float64), picked + offset


def _merge_top(batch_size: int, *parts):
    values = np.concatenate([p[0] for p in parts])
    ids = np.concatenate([p[1] for p in parts])
    order = np.lexsort((ids, -values))[:batch_size]  # larger score first; ties to the lower pool index
    return values[order], ids[order]


@renamed_parameters(j="batch_size", exclude="labelled")
def top_j(scores, batch_size: int, *, labelled=None, client=None, fan_in: int = 8) -> np.ndarray:
    """The ``batch_size`` largest scores of a chunked score vector, distributed.

    Each chunk keeps its own top ``batch_size`` (never a labelled index), then merge
    tasks combine ``fan_in`` partial results at a time until one is left; the
    caller receives only the final ``batch_size`` indices. Same answer as
    :func:`dcai_al.acquisition.select_top` on the whole vector.

    Parameters
    ----------
    scores : dask.array.Array of shape (n,)
    batch_size : int
        How many indices to return (the J of top-J; was ``j``, deprecated).
    labelled : array-like of int, optional
        Pool indices already labelled: never chosen (was ``exclude``, deprecated).
    client : distributed.Client, optional
        Run there; otherwise on Dask's default scheduler.
    fan_in : int
        Partial results combined per merge task.

    Returns
    -------
    numpy.ndarray of int64, shape (batch_size,)
        Pool indices, best first.

    Examples
    --------
    >>> import dask.array as da
    >>> top_j(da.from_array(np.array([0.1, 0.9, 0.5, 0.9]), chunks=2), 2, labelled=[1]).tolist()
    [3, 2]
    """
    import dask

    if getattr(scores, "ndim", None) != 1:
        raise ValueError(f"scores must be a 1-D dask array, got {type(scores).__name__} of shape {scores.shape}.")
    n = scores.shape[0]
    excluded = check_indices(labelled, n, "labelled")
    batch_size = check_batch_size(batch_size, n - excluded.size)
    fan_in = check_positive_int(fan_in, "fan_in", minimum=2)
    offsets = np.concatenate([[0], np.cumsum(scores.chunks[0])[:-1]])
    parts = [
        dask.delayed(_chunk_top)(block, int(off), batch_size, excluded)
        for block, off in zip(scores.to_delayed().ravel(), offsets, strict=True)
    ]
    while len(parts) > 1:
        parts = [dask.delayed(_merge_top)(batch_size, *parts[i : i + fan_in]) for i in range(0, len(parts), fan_in)]
    _, ids = client.compute(parts[0]).result() if client is not None else parts[0].compute()
    if ids.size != batch_size:
        raise RuntimeError(f"the merge returned {ids.size} indices instead of {batch_size}.")
    return ids.astype(np.int64)
