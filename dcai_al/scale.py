"""Selection past one machine: a sharded pool, scored and selected with Dask.

Lab 1's loop holds the whole pool in one process. Here the pool lives on
disk as shards (one ``.npy`` file each, plus ``pool.json``), and the work is
spread over a Dask cluster, a :class:`distributed.LocalCluster` on a laptop or
a real one given its scheduler address. The methods are the labs' own:

* :func:`score_pool` turns every shard into acquisition scores (a linear
  head's softmax, then entropy, least confidence or margin), lazily;
* :func:`top_j` picks the J best scores with a per-chunk top-J and a tree of
  merges, so no process ever holds more than a chunk's scores and J winners;
* :func:`k_center_greedy` keeps each shard's nearest-center distances on the
  worker holding the shard; each step broadcasts the new center (d floats)
  and gathers one local farthest point per shard. It gives the same answer
  as :func:`dcai_al.diversity.k_center_greedy`, survives a lost worker by
  replaying the chosen centers on the ones left, and runs in torch on
  whatever device the workers have;
* :func:`build_sharded_index` trains a faiss IVF or IVF-PQ index on a sample
  and fills it shard by shard, for Lab 3's :class:`~dcai_al.seals.CandidatePool`.

Writes are all-or-nothing: a pool is written to a hidden temporary folder
and renamed into place only when every shard is complete.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     pool = write_pool(f"{tmp}/pool", [np.ones((3, 2)), np.zeros((2, 2))])
...     pool.shape, pool.starts, pool[[4, 0]].tolist()
((5, 2), (0, 3, 5), [[0.0, 0.0], [1.0, 1.0]])
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .validation import check_budget, check_features, check_indices, check_positive_int, check_random_state

__all__ = [
    "ShardedPool",
    "build_sharded_index",
    "connect",
    "k_center_greedy",
    "open_pool",
    "score_pool",
    "select",
    "top_j",
    "write_embedding_pool",
    "write_json",
    "write_pool",
]

META = "pool.json"
FORMAT = "dcai-al sharded pool v1"


# --- the on-disk pool -------------------------------------------------------


@dataclass(frozen=True)
class ShardedPool:
    """A pool of ``n`` rows of ``d`` values stored as ``.npy`` shards.

    Shard ``i`` holds rows ``starts[i]:starts[i + 1]``. Row indices are
    always pool indices, whichever shard holds them.
    """

    path: Path
    n: int
    d: int
    dtype: str
    starts: tuple[int, ...]

    #: Lab 3's CandidatePool reads rows by index from this object instead of copying the pool into memory.
    lazy_rows = True

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.d)

    @property
    def n_shards(self) -> int:
        return len(self.starts) - 1

    def shard_file(self, i: int) -> Path:
        return self.path / f"shard-{i:05d}.npy"

    def shard(self, i: int) -> np.ndarray:
        """Shard ``i``, memory-mapped (read-only)."""
        return np.load(self.shard_file(i), mmap_mode="r")

    def __getitem__(self, ids) -> np.ndarray:
        """Rows by pool index, in the order given (a copy)."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise TypeError(f"index a ShardedPool with a 1-D array of pool indices, got {ids.dtype} {ids.shape}.")
        if ids.size and (ids.min() < 0 or ids.max() >= self.n):
            raise ValueError(f"ids must lie in [0, {self.n}); got {int(ids.min())}..{int(ids.max())}.")
        out = np.empty((ids.size, self.d), dtype=self.dtype)
        shard_of = np.searchsorted(self.starts, ids, side="right") - 1
        for i in np.unique(shard_of):
            rows = shard_of == i
            out[rows] = self.shard(int(i))[ids[rows] - self.starts[i]]
        return out

    def labels(self, ids=None) -> np.ndarray:
        """Stored labels (pools from :func:`write_embedding_pool`: 1 for the rare concept), all or by index."""
        files = [self.path / f"labels-{i:05d}.npy" for i in range(self.n_shards)]
        if not all(f.is_file() for f in files):
            raise FileNotFoundError(f"{self.path} stores no labels; only write_embedding_pool writes them.")
        y = np.concatenate([np.load(f) for f in files])
        return y if ids is None else y[check_indices(ids, self.n, "ids")]

    def to_numpy(self) -> np.ndarray:
        """The whole pool in one array, for single-process baselines."""
        return np.concatenate([self.shard(i) for i in range(self.n_shards)])

    def to_dask(self):
        """The pool as a :class:`dask.array.Array`, one chunk per shard, read lazily on the workers."""
        import dask
        import dask.array as da

        blocks = [
            da.from_delayed(
                dask.delayed(np.load)(str(self.shard_file(i)), mmap_mode="r"),
                shape=(self.starts[i + 1] - self.starts[i], self.d),
                dtype=self.dtype,
            )
            for i in range(self.n_shards)
        ]
        return da.concatenate(blocks, axis=0)


def open_pool(path) -> ShardedPool:
    """Open a pool written by :func:`write_pool` or :func:`write_embedding_pool`."""
    path = Path(path).resolve()  # workers may run elsewhere: hand them absolute paths
    meta_file = path / META
    if not meta_file.is_file():
        raise FileNotFoundError(
            f"{path} holds no {META}: it is not a pool written by dcai-al (a pool being written lives in a "
            "hidden temporary folder until it is complete)."
        )
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{meta_file} has format {meta.get('format')!r}, expected {FORMAT!r}.")
    pool = ShardedPool(path, int(meta["n"]), int(meta["d"]), meta["dtype"], tuple(int(s) for s in meta["starts"]))
    missing = [i for i in range(pool.n_shards) if not pool.shard_file(i).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} is missing shard files {missing[:5]}; write the pool again.")
    return pool


def _staging(path: Path, overwrite: bool) -> Path:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.parent / f".{path.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    return staging


def _commit(staging: Path, path: Path, n: int, d: int, dtype, starts) -> ShardedPool:
    meta = {
        "format": FORMAT,
        "n": int(n),
        "d": int(d),
        "dtype": np.dtype(dtype).name,
        "starts": [int(s) for s in starts],
    }
    (staging / META).write_text(json.dumps(meta, indent=1) + "\n")
    if path.exists():
        shutil.rmtree(path)
    os.replace(staging, path)  # the pool appears whole, or not at all
    return open_pool(path)


def _save_shard(folder, i: int, rows: np.ndarray, prefix: str = "shard") -> int:
    target = Path(folder) / f"{prefix}-{i:05d}.npy"
    tmp = target.with_name(target.name + f".{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, rows)
    os.replace(tmp, target)
    return int(rows.shape[0])


def write_pool(path, shards: Iterable, *, overwrite: bool = False) -> ShardedPool:
    """Write arrays (each ``(rows, d)``) as the shards of a pool at ``path``.

    Parameters
    ----------
    path : path
        A folder to create (it must not exist unless ``overwrite``).
    shards : iterable of array-like
        The pool's rows, shard by shard; all of the same width and dtype.
    overwrite : bool
        Replace an existing pool.

    Returns
    -------
    ShardedPool
    """
    path = Path(path).resolve()  # workers may run elsewhere: hand them absolute paths
    staging = _staging(path, overwrite)
    try:
        starts, d, dtype = [0], None, None
        for i, rows in enumerate(shards):
            rows = check_features(rows, f"shard {i}", allow_tensor=False)
            if d is not None and (rows.shape[1] != d or rows.dtype != dtype):
                raise ValueError(
                    f"shard {i} is {rows.dtype} of width {rows.shape[1]}; shard 0 was {dtype} of width {d}."
                )
            d, dtype = rows.shape[1], rows.dtype
            starts.append(starts[-1] + _save_shard(staging, i, np.ascontiguousarray(rows)))
        if d is None:
            raise ValueError("shards is empty: a pool needs at least one shard.")
        return _commit(staging, path, starts[-1], d, dtype, starts)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _embedding_shard(folder, i: int, start: int, rows: int, d: int, seed: int, kwargs: dict) -> int:
    from .data import make_embedding_pool

    X, y = make_embedding_pool(rows, d, start=start, seed=seed, **kwargs)
    _save_shard(folder, i, y, prefix="labels")
    return _save_shard(folder, i, X)


def write_embedding_pool(
    path, n: int, d: int = 64, *, shard_rows: int = 1_048_576, seed: int = 0, client=None, overwrite=False, **kwargs
) -> ShardedPool:
    """Generate :func:`dcai_al.data.make_embedding_pool` straight into shards.

    Each shard is generated where it is written (on the workers when a
    ``client`` is given), so no process ever holds more than one shard. The
    rows are exactly those of ``make_embedding_pool(n, d, seed=seed)``.

    Parameters
    ----------
    path : path
        The pool folder to create.
    n, d : int
        Pool size and dimension (10,000,000 x 64 float32 is 2.56 GB).
    shard_rows : int
        Rows per shard; a multiple of the generator's block of 65,536 rows.
    seed : int
    client : distributed.Client, optional
        Generate shards in parallel on its workers; in this process otherwise.
    overwrite : bool
    **kwargs
        Passed to ``make_embedding_pool`` (``n_clusters``, ``prevalence``, ...).
    """
    from .data import EMBEDDING_BLOCK

    n = check_positive_int(n, "n")
    shard_rows = check_positive_int(shard_rows, "shard_rows")
    if shard_rows % EMBEDDING_BLOCK:
        raise ValueError(f"shard_rows must be a multiple of {EMBEDDING_BLOCK}, got {shard_rows}.")
    path = Path(path).resolve()  # workers may run elsewhere: hand them absolute paths
    starts = list(range(0, n, shard_rows)) + [n]
    staging = _staging(path, overwrite)
    try:
        spans = list(zip(starts[:-1], starts[1:], strict=True))
        jobs = [(staging, i, s, e - s, d, seed, kwargs) for i, (s, e) in enumerate(spans)]
        if client is None:
            written = [_embedding_shard(*job) for job in jobs]
        else:
            written = client.gather([client.submit(_embedding_shard, *job, pure=False) for job in jobs])
        if written != [e - s for s, e in spans]:
            raise RuntimeError(f"shards came back with {written} rows, expected {[e - s for s, e in spans]}.")
        return _commit(staging, path, n, d, np.float32, starts)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- scoring and a distributed top-J -----------------------------------------


def _score_block(block, coef, intercept, score_name: str):
    from .acquisition import SCORES

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

    from .acquisition import SCORES

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
    from .acquisition import select_top

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


# --- greedy k-centers over shards ---------------------------------------------


class _ShardCenters:
    """One shard's part of greedy k-centers; lives on a worker as a Dask actor.

    It holds the shard's features (transposed, in torch, on ``device``) and
    each row's squared distance to its nearest center, and updates them with
    the same kernels as :func:`dcai_al.diversity.k_center_greedy`.
    """

    def __init__(self, shard_file: str, start: int, device=None):
        import torch

        from .diversity import _to_torch_t

        try:  # one torch thread per Dask worker thread: workers do not fight over cores
            from distributed import get_worker

            torch.set_num_threads(get_worker().state.nthreads)
        except ValueError:  # not on a worker (called directly)
            pass
        self.start = int(start)
        self.XT = _to_torch_t(np.load(shard_file, mmap_mode="c"), device)
        self.sq_norms = torch.linalg.vector_norm(self.XT, dim=0).square_()
        self.min_dist = torch.full((self.XT.shape[1],), torch.inf, dtype=self.XT.dtype, device=self.XT.device)

    def rows(self, local_ids):
        """Feature vectors and squared norms of some of this shard's rows."""
        idx = np.asarray(local_ids, dtype=np.int64)
        return self.XT[:, idx].T.cpu().numpy(), self.sq_norms[idx].cpu().numpy()

    def start_from(self, centers, center_sq, local_labelled, chunk_size: int):
        """Distances to the labelled centers (vectors from any shard); labelled rows get -inf."""
        import torch

        from .diversity import _min_sq_dist

        if len(centers):
            # Centers as the columns of a (d, L) tensor, laid out as diversity.k_center_greedy lays out XT[:, labelled].
            CT = torch.as_tensor(np.asarray(centers).T, dtype=self.XT.dtype, device=self.XT.device).contiguous()
            c_sq = torch.as_tensor(np.asarray(center_sq), dtype=self.XT.dtype, device=self.XT.device)
            self.min_dist = _min_sq_dist(self.XT, self.sq_norms, CT, c_sq, chunk_size)
        self.min_dist[torch.as_tensor(np.asarray(local_labelled, dtype=np.int64), device=self.XT.device)] = -torch.inf

    def farthest(self):
        """This shard's farthest row from its nearest center, as (squared distance, pool index)."""
        import torch

        best = int(torch.argmax(self.min_dist))  # first maximum, as on one machine
        return float(self.min_dist[best]), self.start + best

    def step(self, center, center_sq: float, local_pick: int):
        """Take in a new center (``local_pick``: its row here, or -1); return :meth:`farthest`."""
        import torch

        from .diversity import _sq_dist_to_vector

        c = torch.as_tensor(np.asarray(center), dtype=self.XT.dtype, device=self.XT.device)
        torch.minimum(self.min_dist, _sq_dist_to_vector(self.XT, self.sq_norms, c, center_sq), out=self.min_dist)
        if local_pick >= 0:
            self.min_dist[local_pick] = -torch.inf
        return self.farthest()

    def replay(self, steps):
        """Apply ``step`` for each (center, center_sq, local_pick) in order: rebuilds state after a lost worker."""
        out = None
        for center, center_sq, local_pick in steps:
            out = self.step(center, center_sq, local_pick)
        return out


def connect(scheduler=None, *, n_workers: int = 2, threads_per_worker: int = 1, memory_limit="auto"):
    """A :class:`distributed.Client`: to ``scheduler`` if given, else to a new local cluster.

    The local cluster (worker processes on this machine, no dashboard) belongs
    to the client and shuts down with it: ``with connect() as client: ...``.
    """
    from distributed import Client

    if scheduler:
        return Client(scheduler, set_as_default=False)
    return Client(
        n_workers=check_positive_int(n_workers, "n_workers"),
        threads_per_worker=check_positive_int(threads_per_worker, "threads_per_worker"),
        memory_limit=memory_limit,
        processes=True,
        dashboard_address=":0",  # any free port: never clashes with another cluster
        set_as_default=False,
    )


class _ShardedKCenters:
    """The driver's side: where each shard's actor lives and what has been chosen."""

    def __init__(self, pool: ShardedPool, client, device, chunk_size: int):
        self.pool, self.client, self.device, self.chunk_size = pool, client, device, chunk_size
        self.actors: list = []
        self.workers: set = set()

    def lost_a_worker(self, wait: float = 10.0) -> bool:
        """Whether a worker holding a shard has left the cluster (waits for the scheduler to notice)."""
        import time

        deadline = time.monotonic() + wait
        while True:
            alive = set(self.client.scheduler_info()["workers"])
            if not self.workers <= alive:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)

    def _shard_of(self, ids) -> np.ndarray:
        return np.searchsorted(self.pool.starts, ids, side="right") - 1

    def _local(self, ids, shard: int) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        return ids[self._shard_of(ids) == shard] - self.pool.starts[shard]

    def place(self, labelled: np.ndarray):
        """Start one actor per shard, round-robin over the live workers, and load the labelled centers."""
        workers = sorted(self.client.scheduler_info()["workers"])
        if not workers:
            raise RuntimeError("the Dask cluster has no workers left.")
        futures = [
            self.client.submit(
                _ShardCenters,
                str(self.pool.shard_file(i)),
                self.pool.starts[i],
                self.device,
                actor=True,
                workers=[workers[i % len(workers)]],
                pure=False,
            )
            for i in range(self.pool.n_shards)
        ]
        self.actors = [f.result() for f in futures]
        self.workers = {workers[i % len(workers)] for i in range(self.pool.n_shards)}
        centers, center_sq = self.rows(labelled)
        calls = [
            actor.start_from(centers, center_sq, self._local(labelled, i), self.chunk_size)
            for i, actor in enumerate(self.actors)
        ]
        for call in calls:
            call.result()

    def rows(self, ids):
        """Vectors and squared norms of pool rows, from the actors that hold them (in ``ids`` order)."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.empty((ids.size, self.pool.d), dtype=np.float64)
        sq = np.empty(ids.size, dtype=np.float64)
        shard_of = self._shard_of(ids)
        for i in np.unique(shard_of):
            mask = shard_of == i
            v, s = self.actors[int(i)].rows(ids[mask] - self.pool.starts[i]).result()
            vectors[mask], sq[mask] = v, s
        return vectors, sq

    def farthest(self):
        return self._farthest([actor.farthest().result() for actor in self.actors])

    def step(self, pick: int, center, center_sq):
        owner = int(self._shard_of([pick])[0])
        calls = [
            actor.step(center, center_sq, pick - self.pool.starts[i] if i == owner else -1)
            for i, actor in enumerate(self.actors)
        ]
        return self._farthest([call.result() for call in calls])

    def replay(self, picks, centers, center_sq):
        owners = self._shard_of(picks)
        calls = []
        for i, actor in enumerate(self.actors):
            steps = [
                (centers[t], float(center_sq[t]), int(picks[t] - self.pool.starts[i]) if owners[t] == i else -1)
                for t in range(len(picks))
            ]
            calls.append(actor.replay(steps))
        return self._farthest([call.result() for call in calls])

    @staticmethod
    def _farthest(results):
        # Largest distance; ties to the lower pool index, like argmax over the whole pool.
        return min(results, key=lambda r: (-r[0], r[1]))[1]


def k_center_greedy(
    pool: ShardedPool,
    budget: int,
    labelled=None,
    *,
    client,
    seed=None,
    device=None,
    chunk_size: int | None = None,
    max_restarts: int = 3,
    on_step=None,
) -> np.ndarray:
    """Greedy k-centers over a sharded pool, on a Dask cluster.

    The same picks as :func:`dcai_al.diversity.k_center_greedy` on the whole
    pool: the same kernels, and ties to the lower pool index. Each shard's
    distances stay on one worker; a step moves one center (d numbers) out
    and one (distance, index) pair per shard back.

    Parameters
    ----------
    pool : ShardedPool
    budget : int
    labelled : array-like of int, optional
        Pool indices already labelled (the first centers; never chosen).
    client : distributed.Client
    seed : None, int or numpy.random.Generator
        Chooses the first center when nothing is labelled.
    device : str, optional
        Torch device on the workers (default CPU).
    chunk_size : int, optional
        Labelled centers per block in the starting distances.
    max_restarts : int
        How many lost workers to survive: the shards are placed again on the
        workers left and the chosen centers replayed, so the answer does not
        change. One more loss raises :class:`RuntimeError`.
    on_step : callable, optional
        Called as ``on_step(step, pick)`` after each pick (progress, tests).

    Returns
    -------
    numpy.ndarray of int64, shape (budget,)
    """
    from .diversity import _default_chunk

    if not isinstance(pool, ShardedPool):
        raise TypeError(f"pool must be a ShardedPool (see open_pool), got {type(pool).__name__}.")
    labelled = check_indices(labelled, pool.n, "labelled")
    budget = check_budget(budget, pool.n - labelled.size)
    if chunk_size is None:
        chunk_size = _default_chunk(max(pool.starts[i + 1] - pool.starts[i] for i in range(pool.n_shards)))
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    rng = check_random_state(seed)
    first = None if labelled.size else int(rng.integers(pool.n))  # drawn once, so a restart cannot change it
    run = _ShardedKCenters(pool, client, device, chunk_size)
    picks: list[int] = []
    centers: list[np.ndarray] = []
    center_sq: list[float] = []
    restarts = 0
    with client.as_current():  # actor handles find their client through it
        while len(picks) < budget:
            picks, restarts = _k_center_round(
                run, labelled, first, budget, picks, centers, center_sq, on_step, restarts, max_restarts
            )
    return np.asarray(picks, dtype=np.int64)


# --- SEALS over a pool too large for one exact index --------------------------


def build_sharded_index(
    pool: ShardedPool,
    kind: str = "ivfpq",
    *,
    nlist: int | None = None,
    pq_bytes: int = 16,
    nprobe: int = 16,
    train_size: int | None = None,
    seed: int = 0,
):
    """A faiss IVF (or IVF-PQ) index trained on a sample and filled shard by shard.

    Only the training sample and one shard are in memory at a time; the
    index keeps ``pq_bytes`` bytes per vector (IVF-PQ) or the raw vectors
    (IVF). Faiss ids are pool indices, so Lab 3's
    :class:`~dcai_al.seals.CandidatePool` works on it unchanged:
    ``CandidatePool(index, pool, k)`` reads query rows from the shards.

    Parameters
    ----------
    pool : ShardedPool
    kind : {"ivf", "ivfpq"}
    nlist : int, optional
        k-means cells; default about ``sqrt(n)``.
    pq_bytes : int
        IVF-PQ code size: sub-quantizers of 8 bits each; must divide d.
    nprobe : int
        Cells scanned per query.
    train_size : int, optional
        Training sample; default 64 points per cell (faiss's rule of thumb is 39 to 256).
    seed : int

    Returns
    -------
    faiss.Index
    """
    import faiss

    if not isinstance(pool, ShardedPool):
        raise TypeError(f"pool must be a ShardedPool (see open_pool), got {type(pool).__name__}.")
    if kind not in ("ivf", "ivfpq"):
        raise ValueError(f"kind must be 'ivf' or 'ivfpq', got {kind!r}.")
    n, d = pool.shape
    nlist = max(1, min(int(np.sqrt(n)), n // 39)) if nlist is None else check_positive_int(nlist, "nlist")
    train_size = min(n, 64 * nlist) if train_size is None else check_positive_int(train_size, "train_size")
    if train_size > n or train_size < nlist:
        raise ValueError(f"train_size={train_size} must lie in [nlist={nlist}, n={n}].")
    quantizer = faiss.IndexFlatL2(d)
    if kind == "ivf":
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_L2)
    else:
        pq_bytes = check_positive_int(pq_bytes, "pq_bytes")
        if d % pq_bytes:
            raise ValueError(f"pq_bytes={pq_bytes} must divide the dimension d={d}.")
        index = faiss.IndexIVFPQ(quantizer, d, nlist, pq_bytes, 8)
    index.cp.seed = seed
    sample = np.sort(check_random_state(seed).choice(n, size=train_size, replace=False))
    index.train(np.ascontiguousarray(pool[sample], dtype=np.float32))
    for i in range(pool.n_shards):
        rows = np.ascontiguousarray(pool.shard(i), dtype=np.float32)
        index.add_with_ids(rows, np.arange(pool.starts[i], pool.starts[i + 1], dtype=np.int64))
    index.nprobe = check_positive_int(nprobe, "nprobe")
    index.__dict__["_dcai_quantizer"] = quantizer  # keep the quantizer alive with the index
    return index


# --- the `dcai-al scale` command ------------------------------------------------


def _linear_head(X, y, seed: int):
    """A logistic regression on the labelled rows, as a two-column softmax head for :func:`score_pool`."""
    from sklearn.linear_model import LogisticRegression

    if np.unique(y).size < 2:
        raise ValueError("the labelled sample holds one class only; label more rows (--labelled) or change --seed.")
    model = LogisticRegression(max_iter=1000, random_state=seed).fit(X, y)
    w, b = model.coef_[0].astype(np.float32), float(model.intercept_[0])
    # softmax([0, w.x + b])[1] is the model's sigmoid probability of class 1.
    return np.stack([np.zeros_like(w), w], axis=1), np.array([0.0, b], dtype=np.float32)


def select(pool: ShardedPool, *, client, j: int, budget: int, labelled: int, seed: int = 0, score="entropy") -> dict:
    """The whole job behind ``dcai-al scale select``.

    Labels a seeded random sample of ``labelled`` rows (with the pool's stored
    labels), fits a logistic-regression head on them, then returns the ``j``
    most uncertain unlabelled rows (distributed top-J) and ``budget`` greedy
    k-centers, with the seconds each part took.
    """
    import time

    rng = check_random_state(seed)
    seed_set = np.sort(rng.choice(pool.n, size=check_budget(labelled, pool.n, "labelled"), replace=False))
    timings = {}
    started = time.perf_counter()
    coef, intercept = _linear_head(pool[seed_set], pool.labels(seed_set), seed)
    timings["fit head"] = time.perf_counter() - started
    started = time.perf_counter()
    uncertain = top_j(score_pool(pool, score, coef=coef, intercept=intercept), j, exclude=seed_set, client=client)
    timings["score + top-J"] = time.perf_counter() - started
    started = time.perf_counter()
    diverse = k_center_greedy(pool, budget, seed_set, client=client) if budget else np.empty(0, np.int64)
    timings["k-centers"] = time.perf_counter() - started
    return {
        "pool": str(pool.path),
        "n": pool.n,
        "d": pool.d,
        "workers": len(client.scheduler_info()["workers"]),
        "labelled": seed_set.tolist(),
        "top_j": uncertain.tolist(),
        "k_centers": diverse.tolist(),
        "seconds": timings,
    }


def write_json(path, payload: dict) -> Path:
    """Write ``payload`` as JSON to ``path`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(payload, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def _k_center_round(run, labelled, first, budget, picks, centers, center_sq, on_step, restarts, max_restarts):
    """Place the shards (again) and pick until done or a worker is lost; returns (picks, restarts)."""
    try:
        run.place(labelled)
        if picks:
            next_pick = run.replay(picks, centers, center_sq)
        else:
            next_pick = first if first is not None else run.farthest()
        while len(picks) < budget:
            pick = next_pick
            vec, sq = run.rows([pick])
            next_pick = run.step(pick, vec[0], float(sq[0]))
            picks.append(pick)
            centers.append(vec[0])
            center_sq.append(float(sq[0]))
            if on_step is not None:
                on_step(len(picks), pick)
    except Exception as exc:
        if not run.lost_a_worker():
            raise  # a real error, not a lost worker
        restarts += 1
        if restarts > max_restarts:
            raise RuntimeError(
                f"k-centers lost a worker {restarts} times (last: {type(exc).__name__}: {exc}); "
                f"stopped after {len(picks)} of {budget} picks, and nothing was returned."
            ) from exc
        # The next round places the shards again on the workers that are left, and replays.
    return picks, restarts
