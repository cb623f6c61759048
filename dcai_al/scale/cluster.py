"""A Dask client: to a given scheduler, or to a local cluster it owns."""

from __future__ import annotations

from ..validation import check_positive_int

__all__ = ["connect"]


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
