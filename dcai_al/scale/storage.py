"""The on-disk sharded pool: ``.npy`` shards plus ``pool.json``, written all-or-nothing.

Shard ``i`` holds rows ``starts[i]:starts[i + 1]``; row indices are always
pool indices, whichever shard holds them. A pool is written to a hidden
temporary folder and renamed into place only when every shard is complete.

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

from ..validation import as_seed_int, check_features, check_indices, check_positive_int

__all__ = ["FORMAT", "META", "ShardedPool", "open_pool", "write_embedding_pool", "write_pool"]

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
    from ..data import make_embedding_pool

    X, y = make_embedding_pool(rows, d, start=start, seed=seed, **kwargs)
    _save_shard(folder, i, y, prefix="labels")
    return _save_shard(folder, i, X)


def write_embedding_pool(
    path, n: int, d: int = 64, *, shard_rows: int = 1_048_576, seed=0, client=None, overwrite=False, **kwargs
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
    seed : int, numpy.random.Generator or None
        Drawn once into an int that keys every shard (:func:`dcai_al.validation.as_seed_int`).
    client : distributed.Client, optional
        Generate shards in parallel on its workers; in this process otherwise.
    overwrite : bool
    **kwargs
        Passed to ``make_embedding_pool`` (``n_clusters``, ``prevalence``, ...).
    """
    from ..data import EMBEDDING_BLOCK

    n = check_positive_int(n, "n")
    shard_rows = check_positive_int(shard_rows, "shard_rows")
    seed = as_seed_int(seed, high=2**63)  # one int for every shard, wherever it is generated
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
