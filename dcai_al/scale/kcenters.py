"""Greedy k-centers over a sharded pool, with one Dask actor per shard.

Each shard's nearest-center distances stay on the worker holding the shard;
each step broadcasts the new center (d floats) and gathers one local
farthest point per shard. The kernels are :mod:`dcai_al.kcenter_kernels`,
the same as :func:`dcai_al.diversity.k_center_greedy`'s, so the picks are the
same; a lost worker is survived by replaying the chosen centers on the
workers left.
"""

from __future__ import annotations

import numpy as np

from ..deprecation import renamed_parameters
from ..validation import as_generator, check_batch_size, check_indices, check_positive_int
from .storage import ShardedPool

__all__ = ["k_center_greedy"]


class _ShardCenters:
    """One shard's part of greedy k-centers; lives on a worker as a Dask actor.

    It holds the shard's features (transposed, in torch, on ``device``), each
    row's squared distance to its nearest center, and every center seen so
    far in float64, and updates them with the same kernels as
    :func:`dcai_al.diversity.k_center_greedy`: the expansion for the pass over
    the shard, exact float64 distances to decide the farthest row.
    """

    def __init__(self, shard_file: str, start: int, device=None):
        import torch

        from .. import kcenter_kernels as kk

        try:  # one torch thread per Dask worker thread: workers do not fight over cores
            from distributed import get_worker

            torch.set_num_threads(get_worker().state.nthreads)
        except ValueError:  # not on a worker (called directly)
            pass
        self.start = int(start)
        self.XT = kk.to_torch_t(np.load(shard_file, mmap_mode="c"), device)
        self.sq_norms = kk.sq_norms(self.XT)
        self.min_dist = torch.full((self.XT.shape[1],), torch.inf, dtype=self.XT.dtype, device=self.XT.device)
        self.centers64 = torch.empty((0, self.XT.shape[0]), dtype=torch.float64, device=self.XT.device)
        self.max_sq_norm = float(self.sq_norms.max()) if self.XT.shape[1] else 0.0

    def _add_centers(self, centers, center_sq):
        import torch

        rows = torch.as_tensor(np.asarray(centers, dtype=np.float64), device=self.XT.device)
        rows = rows.reshape(-1, self.XT.shape[0])
        self.centers64 = torch.cat([self.centers64, rows])
        if len(center_sq):  # centers from other shards may be longer than any row here: the slack must cover them
            self.max_sq_norm = max(self.max_sq_norm, float(np.max(center_sq)))

    def rows(self, local_ids):
        """Feature vectors and squared norms of some of this shard's rows."""
        idx = np.asarray(local_ids, dtype=np.int64)
        return self.XT[:, idx].T.cpu().numpy(), self.sq_norms[idx].cpu().numpy()

    def start_from(self, centers, center_sq, local_labelled, chunk_size: int):
        """Distances to the labelled centers (vectors from any shard); labelled rows get -inf."""
        import torch

        from .. import kcenter_kernels as kk

        if len(centers):
            # Centers as the columns of a (d, L) tensor, laid out as diversity.k_center_greedy lays out XT[:, labelled].
            CT = torch.as_tensor(np.asarray(centers).T, dtype=self.XT.dtype, device=self.XT.device).contiguous()
            c_sq = torch.as_tensor(np.asarray(center_sq), dtype=self.XT.dtype, device=self.XT.device)
            self.min_dist = kk.min_sq_dist(self.XT, self.sq_norms, CT, c_sq, chunk_size)
            self._add_centers(centers, center_sq)
        self.min_dist[torch.as_tensor(np.asarray(local_labelled, dtype=np.int64), device=self.XT.device)] = -torch.inf

    def farthest(self):
        """This shard's farthest row from its nearest center, as (exact squared distance, pool index)."""
        import torch

        from .. import kcenter_kernels as kk

        if self.centers64.shape[0] == 0:  # no center yet: only the seeded first pick can follow
            return float(torch.max(self.min_dist)), self.start + int(torch.argmax(self.min_dist))
        slack = kk.rounding_slack(self.XT.shape[0], self.XT.dtype, self.max_sq_norm)
        dist, best = kk.exact_farthest(
            self.min_dist, slack, lambda ids: kk.exact_min_sq_dist(self.XT[:, ids].T.double(), self.centers64)
        )
        return dist, self.start + best

    def step(self, center, center_sq: float, local_pick: int):
        """Take in a new center (``local_pick``: its row here, or -1); return :meth:`farthest`."""
        import torch

        from .. import kcenter_kernels as kk

        c = torch.as_tensor(np.asarray(center), dtype=self.XT.dtype, device=self.XT.device)
        torch.minimum(self.min_dist, kk.sq_dist_to_vector(self.XT, self.sq_norms, c, center_sq), out=self.min_dist)
        self._add_centers([center], [center_sq])
        if local_pick >= 0:
            self.min_dist[local_pick] = -torch.inf
        return self.farthest()

    def replay(self, steps):
        """Apply ``step`` for each (center, center_sq, local_pick) in order: rebuilds state after a lost worker."""
        out = None
        for center, center_sq, local_pick in steps:
            out = self.step(center, center_sq, local_pick)
        return out


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
        # Largest exact distance; ties to the lower pool index, like the whole pool's exact check.
        return min(results, key=lambda r: (-r[0], r[1]))[1]


@renamed_parameters(budget="batch_size")
def k_center_greedy(
    pool: ShardedPool,
    batch_size: int,
    labelled=None,
    *,
    client,
    seed=0,
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
    batch_size : int
        How many new centers to pick (was ``budget``, deprecated).
    labelled : array-like of int, optional
        Pool indices already labelled (the first centers; never chosen).
    client : distributed.Client
    seed : int, numpy.random.Generator or None
        Chooses the first center when nothing is labelled (see
        :func:`dcai_al.validation.as_generator`).
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
    numpy.ndarray of int64, shape (batch_size,)
        Pool indices, in the order chosen.

    Examples
    --------
    >>> from dcai_al.scale import connect, open_pool  # doctest: +SKIP
    >>> with connect(n_workers=2) as client:  # doctest: +SKIP
    ...     k_center_greedy(open_pool("pool/"), 10, labelled=[0, 1], client=client).shape
    (10,)
    """
    from ..kcenter_kernels import default_chunk

    if not isinstance(pool, ShardedPool):
        raise TypeError(f"pool must be a ShardedPool (see open_pool), got {type(pool).__name__}.")
    labelled = check_indices(labelled, pool.n, "labelled")
    batch_size = check_batch_size(batch_size, pool.n - labelled.size)
    if chunk_size is None:
        chunk_size = default_chunk(max(pool.starts[i + 1] - pool.starts[i] for i in range(pool.n_shards)))
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    rng = as_generator(seed)
    first = None if labelled.size else int(rng.integers(pool.n))  # drawn once, so a restart cannot change it
    run = _ShardedKCenters(pool, client, device, chunk_size)
    picks: list[int] = []
    centers: list[np.ndarray] = []
    center_sq: list[float] = []
    restarts = 0
    with client.as_current():  # actor handles find their client through it
        while len(picks) < batch_size:
            picks, restarts = _k_center_round(
                run, labelled, first, batch_size, picks, centers, center_sq, on_step, restarts, max_restarts
            )
    return np.asarray(picks, dtype=np.int64)


def _k_center_round(run, labelled, first, batch_size, picks, centers, center_sq, on_step, restarts, max_restarts):
    """Place the shards (again) and pick until done or a worker is lost; returns (picks, restarts)."""
    try:
        run.place(labelled)
        if picks:
            next_pick = run.replay(picks, centers, center_sq)
        else:
            next_pick = first if first is not None else run.farthest()
        while len(picks) < batch_size:
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
                f"stopped after {len(picks)} of {batch_size} picks, and nothing was returned."
            ) from exc
        # The next round places the shards again on the workers that are left, and replays.
    return picks, restarts
