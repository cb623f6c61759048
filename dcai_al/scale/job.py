"""The job behind ``dcai-al scale select``: fit a head, score + top-J, k-centers, write JSON."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np

from ..validation import check_budget, check_random_state
from .kcenters import k_center_greedy
from .scoring import score_pool, top_j
from .storage import ShardedPool

__all__ = ["select", "write_json"]


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
