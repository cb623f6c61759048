"""The job behind ``dcai-al scale select``: fit a head, score + top-J, k-centers, write JSON."""

from __future__ import annotations

import json
import numbers
import os
import uuid
from pathlib import Path

import numpy as np

from ..deprecation import renamed_parameters
from ..validation import as_generator, as_seed_int, check_batch_size, check_indices, check_positive_int
from .kcenters import k_center_greedy
from .scoring import score_pool, top_j
from .storage import ShardedPool

__all__ = ["select", "write_json"]


def _linear_head(X, y, seed: int):
    """A logistic regression on the labelled rows, as a two-column softmax head for :func:`score_pool`."""
    from sklearn.linear_model import LogisticRegression

    if np.unique(y).size < 2:
        raise ValueError("the labelled sample holds one class only; label more rows (--n-initial) or change --seed.")
    model = LogisticRegression(max_iter=1000, random_state=seed).fit(X, y)
    w, b = model.coef_[0].astype(np.float32), float(model.intercept_[0])
    # softmax([0, w.x + b])[1] is the model's sigmoid probability of class 1.
    return np.stack([np.zeros_like(w), w], axis=1), np.array([0.0, b], dtype=np.float32)


@renamed_parameters(j="batch_size", budget="k_centers_batch_size")
def select(
    pool: ShardedPool,
    *,
    client,
    batch_size: int,
    k_centers_batch_size: int,
    labelled=None,
    n_initial: int | None = None,
    seed=0,
    score="entropy",
) -> dict:
    """The whole job behind ``dcai-al scale select``.

    Takes the labelled set (``labelled``, or a seeded random sample of
    ``n_initial`` rows) with the pool's stored labels, fits a
    logistic-regression head on it, then returns the ``batch_size`` most
    uncertain unlabelled rows (distributed top-J) and ``k_centers_batch_size``
    greedy k-centers, with the seconds each part took.

    Parameters
    ----------
    pool : ShardedPool
        A pool with stored labels (:func:`~dcai_al.scale.write_embedding_pool`).
    client : distributed.Client
    batch_size : int
        Rows the top-J returns (was ``j``, deprecated).
    k_centers_batch_size : int
        Greedy k-center picks; 0 skips them (was ``budget``, deprecated).
    labelled : array-like of int, optional
        Pool indices already labelled. Indices, never a count: a count is
        ``n_initial``.
    n_initial : int, optional
        Without ``labelled``: label a seeded random sample of this many rows.
    seed : int, numpy.random.Generator or None
        Draws that sample; see :func:`dcai_al.validation.as_generator`.
    score : {"entropy", "least confidence", "margin"}

    Returns
    -------
    dict
        ``labelled``, ``top_j`` (``batch_size`` pool indices), ``k_centers``
        (``k_centers_batch_size`` pool indices), ``seconds`` and the pool's shape.

    Examples
    --------
    >>> with connect(n_workers=2) as client:  # doctest: +SKIP
    ...     out = select(open_pool("pool/"), client=client, batch_size=50, k_centers_batch_size=10, n_initial=2000)
    >>> len(out["top_j"]), len(out["k_centers"])  # doctest: +SKIP
    (50, 10)
    """
    import time

    if isinstance(labelled, numbers.Integral | float) and not isinstance(labelled, bool):
        raise TypeError(
            f"select: labelled must be an array of pool indices, not a count (got {labelled!r}); "
            f"for a random seed set of {labelled} rows pass n_initial={labelled}."
        )
    if labelled is not None and n_initial is not None:
        raise ValueError("select: give labelled (pool indices) or n_initial (a count), not both.")
    if labelled is None and n_initial is None:
        raise ValueError("select: give labelled (pool indices) or n_initial (the size of a random seed set).")
    batch_size = check_positive_int(batch_size, "batch_size")
    k_centers_batch_size = check_positive_int(k_centers_batch_size, "k_centers_batch_size", minimum=0)
    if labelled is not None:
        seed_set = np.sort(check_indices(labelled, pool.n, "labelled", allow_empty=False))
    else:
        n_initial = check_batch_size(n_initial, pool.n, "n_initial")
        seed_set = np.sort(as_generator(seed).choice(pool.n, size=n_initial, replace=False))
    timings = {}
    started = time.perf_counter()
    coef, intercept = _linear_head(pool[seed_set], pool.labels(seed_set), as_seed_int(seed))
    timings["fit head"] = time.perf_counter() - started
    started = time.perf_counter()
    scores = score_pool(pool, score, coef=coef, intercept=intercept)
    uncertain = top_j(scores, batch_size, labelled=seed_set, client=client)
    timings["score + top-J"] = time.perf_counter() - started
    started = time.perf_counter()
    if k_centers_batch_size:
        diverse = k_center_greedy(pool, k_centers_batch_size, seed_set, client=client)
    else:
        diverse = np.empty(0, np.int64)
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
