"""A faiss IVF or IVF-PQ index over a sharded pool, for SEALS past one machine's memory."""

from __future__ import annotations

import numpy as np

from ..neighbour_index import RECALL_QUERIES, TARGET_RECALL, choose_nprobe, exact_neighbours, ivf_nlist, new_ivf
from ..validation import as_generator, check_positive_int
from .storage import ShardedPool

__all__ = ["build_sharded_index"]


def build_sharded_index(
    pool: ShardedPool,
    kind: str = "ivfpq",
    *,
    nlist: int | None = None,
    pq_bytes: int = 16,
    nprobe="auto",
    target_recall: float = TARGET_RECALL,
    train_size: int | None = None,
    seed: int = 0,
    verbose: bool = False,
):
    """A faiss IVF (or IVF-PQ) index trained on a sample and filled shard by shard.

    Only the training sample and one shard are in memory at a time; the
    index keeps ``pq_bytes`` bytes per vector (IVF-PQ) or the raw vectors
    (IVF). Faiss ids are pool indices, so Lab 3's
    :class:`~dcai_al.seals.CandidatePool` works on it unchanged:
    ``CandidatePool(index, pool, k)`` reads query rows from the shards. The
    cells and the search breadth follow the same rule as
    :func:`dcai_al.neighbour_index.build_index`.

    Parameters
    ----------
    pool : ShardedPool
    kind : {"ivf", "ivfpq"}
    nlist : int, optional
        k-means cells; default :func:`~dcai_al.neighbour_index.ivf_nlist` (about sqrt(n)).
    pq_bytes : int
        IVF-PQ code size: sub-quantizers of 8 bits each; must divide d.
    nprobe : "auto" or int
        Cells scanned per query; ``"auto"`` chooses the smallest breadth whose
        recall@10 against an exact search (shard by shard) reaches
        ``target_recall`` on a seeded sample of pool rows. IVF-PQ's codes can
        cap recall below the target: then the breadth where recall stops
        growing is kept (``verbose`` says so).
    target_recall : float
    train_size : int, optional
        Training sample; default 64 points per cell (faiss's rule of thumb is 39 to 256).
    seed : int
    verbose : bool
        Print the chosen nprobe and the recall it measured.

    Returns
    -------
    faiss.Index
    """
    if not isinstance(pool, ShardedPool):
        raise TypeError(f"pool must be a ShardedPool (see open_pool), got {type(pool).__name__}.")
    if kind not in ("ivf", "ivfpq"):
        raise ValueError(f"kind must be 'ivf' or 'ivfpq', got {kind!r}.")
    if not (isinstance(nprobe, str) and nprobe == "auto"):
        nprobe = check_positive_int(nprobe, "nprobe")
    n, d = pool.shape
    nlist = ivf_nlist(n) if nlist is None else check_positive_int(nlist, "nlist")
    train_size = min(n, 64 * nlist) if train_size is None else check_positive_int(train_size, "train_size")
    if train_size > n or train_size < nlist:
        raise ValueError(f"train_size={train_size} must lie in [nlist={nlist}, n={n}].")
    index = new_ivf(d, nlist, pq_bytes=None if kind == "ivf" else check_positive_int(pq_bytes, "pq_bytes"), seed=seed)
    rng = as_generator(seed)
    sample = np.sort(rng.choice(n, size=train_size, replace=False))
    index.train(np.ascontiguousarray(pool[sample], dtype=np.float32))
    for i in range(pool.n_shards):
        rows = np.ascontiguousarray(pool.shard(i), dtype=np.float32)
        index.add_with_ids(rows, np.arange(pool.starts[i], pool.starts[i + 1], dtype=np.int64))
    if nprobe == "auto":
        queries = np.ascontiguousarray(pool[np.sort(rng.choice(n, size=min(n, RECALL_QUERIES), replace=False))])
        shards = ((pool.starts[i], pool.shard(i)) for i in range(pool.n_shards))
        exact = exact_neighbours(queries.astype(np.float32), shards, min(10, n))
        choice = choose_nprobe(index, queries.astype(np.float32), exact, target=target_recall)
        if verbose:
            print(choice)
    else:
        index.nprobe = min(nprobe, nlist)
    return index
