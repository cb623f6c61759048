"""Selection via Proxy: rank the training set with a cheap model, train the big one on a subset.

Coleman et al. (ICLR 2020) train a small, quickly trained *proxy* (fewer
layers, fewer epochs), rank every training example by how hard the proxy
found it, keep the hardest fraction, and train the *target* on that core-set
only. Rankings here: forgetting events (Toneva et al., ICLR 2019), uncertainty
(Lab 1's scores) and greedy k-centers on the proxy's embeddings (Lab 2).

Lecture: "Growing or Compressing Datasets", section *Core-set selection*.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .acquisition import SCORES, least_confidence, select_top
from .diversity import k_center_greedy
from .models import TorchClassifier
from .validation import check_array, check_fraction, check_indices, check_labels, check_probs

__all__ = [
    "PROXY",
    "RANKINGS",
    "TARGET",
    "ProxyRun",
    "end_to_end_speedup",
    "forgetting_events",
    "forgetting_order",
    "keep_hardest",
    "select_via_proxy",
    "train_on_subset",
    "uncertainty_order",
]

#: The model family: the proxy is shallow, narrow and trained briefly; the
#: target is deeper and wider. On the augmented digits (26,940 images, 2 CPU
#: cores) the proxy trains in about 4 s and the target in about 20 s.
PROXY = dict(arch="cnn", width=8, depth=1, hidden=32, epochs=3, lr=3e-3, batch_size=128)
TARGET = dict(arch="cnn", width=32, depth=4, hidden=128, epochs=6, lr=3e-3, batch_size=128)

RANKINGS = ("forgetting", "least confidence", "entropy", "margin", "k-centers")


def _check_correct(correct) -> np.ndarray:
    correct = check_array(correct, "correct")
    if correct.ndim != 2:
        raise ValueError(f"correct must be 2-D with shape (epochs, n_examples), got shape {correct.shape}.")
    if correct.shape[0] == 0 or correct.shape[1] == 0:
        raise ValueError(f"correct is empty: shape {correct.shape}; it needs at least one epoch and one example.")
    if correct.dtype != bool:
        if not np.isin(correct, (0, 1)).all():
            raise ValueError("correct must be boolean (or 0/1): whether each example was right after each epoch.")
        correct = correct.astype(bool)
    return correct


def forgetting_events(correct) -> np.ndarray:
    """How often each example was forgotten: correct after one epoch, wrong after the next.

    Parameters
    ----------
    correct : array-like of bool, shape (epochs, n_examples)
        Whether each training example was classified correctly after each epoch.

    Returns
    -------
    numpy.ndarray of int64, shape (n_examples,)

    Examples
    --------
    >>> forgetting_events([[True, False, True], [False, True, True], [True, False, True]]).tolist()
    [1, 1, 0]
    """
    correct = _check_correct(correct)
    return (correct[:-1] & ~correct[1:]).sum(0).astype(np.int64)


def forgetting_order(correct) -> np.ndarray:
    """Training examples ordered hardest first by forgetting events.

    Examples never classified correctly come first (as in Toneva et al., they
    count as forgotten infinitely often), then by number of forgetting events,
    most first; ties keep index order.

    Parameters
    ----------
    correct : array-like of bool, shape (epochs, n_examples)
        Whether each training example was classified correctly after each epoch.

    Returns
    -------
    numpy.ndarray of int64, shape (n_examples,)
        Every training index once, hardest first: the ``order`` that
        :func:`keep_hardest` takes.

    Raises
    ------
    ValueError
        When ``correct`` is not 2-D, is empty, or holds values other than
        booleans (or 0/1).

    Examples
    --------
    >>> forgetting_order([[True, False, True, True], [False, False, True, True], [True, False, False, True]]).tolist()
    [1, 0, 2, 3]
    """
    correct = _check_correct(correct)
    events = forgetting_events(correct).astype(float)
    events[~correct.any(0)] = np.inf
    return np.argsort(-events, kind="stable").astype(np.int64)


def uncertainty_order(probs, score=least_confidence) -> np.ndarray:
    """Training examples ordered most uncertain first under ``score`` (ties by index)."""
    probs = check_probs(probs)
    return select_top(np.asarray(score(probs)), probs.shape[0])


def keep_hardest(order, labels, fraction: float, *, class_balance: bool = True) -> np.ndarray:
    """Keep the first (hardest) ``fraction`` of a ranking.

    Parameters
    ----------
    order : array-like of int, shape (n,)
        Every training index once, hardest first.
    labels : array-like, shape (n,)
        Class of each training example.
    fraction : float in (0, 1]
    class_balance : bool
        Keep ``ceil(fraction * n_c)`` of each class ``c``, the hardest of that
        class, so that a class the proxy finds easy is not dropped entirely.
        Without it, the overall top ``ceil(fraction * n)``.

    Returns
    -------
    numpy.ndarray of int64
        Sorted training indices.

    Examples
    --------
    >>> keep_hardest([3, 0, 1, 2], [0, 0, 1, 1], 0.5).tolist()
    [0, 3]
    >>> keep_hardest([3, 0, 1, 2], [0, 0, 1, 1], 0.5, class_balance=False).tolist()
    [0, 3]
    """
    fraction = check_fraction(fraction)
    labels = check_labels(labels, name="labels")
    n = labels.size
    order = check_array(order, "order")
    if order.ndim != 1 or order.size != n:
        raise ValueError(f"order must list each of the {n} examples in labels once; got shape {order.shape}.")
    order = check_indices(order, n, "order", allow_empty=False)  # integers in [0, n), none repeated
    if not class_balance:
        return np.sort(order[: math.ceil(fraction * n)]).astype(np.int64)
    kept = []
    ordered_labels = labels[order]
    for c in np.unique(labels):
        of_class = order[ordered_labels == c]
        kept.append(of_class[: math.ceil(fraction * of_class.size)])
    return np.sort(np.concatenate(kept)).astype(np.int64)


def end_to_end_speedup(proxy_seconds: float, ranking_seconds: float, target_seconds: float, baseline_seconds: float):
    """Total time of the proxy pipeline and its speed-up over training on everything.

    Returns
    -------
    (total_seconds, speedup) : tuple of float
        ``total = proxy + ranking + target``; ``speedup = baseline / total``.

    Examples
    --------
    >>> end_to_end_speedup(10, 1, 49, 120)
    (60, 2.0)
    """
    parts = {
        "proxy_seconds": proxy_seconds,
        "ranking_seconds": ranking_seconds,
        "target_seconds": target_seconds,
        "baseline_seconds": baseline_seconds,
    }
    for name, value in parts.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}.")
    total = proxy_seconds + ranking_seconds + target_seconds
    if total <= 0:
        raise ValueError("the pipeline's total time must be positive.")
    return total, baseline_seconds / total


@dataclass
class ProxyRun:
    """One trained target and how long everything took (seconds, measured)."""

    subset: np.ndarray
    accuracy: float
    seconds: dict = field(default_factory=dict)  # proxy, ranking, target, total
    curve_seconds: np.ndarray = None  # target's training time after each epoch (from the pipeline's start)
    curve_accuracy: np.ndarray = None
    proxy_curve: tuple = None  # (seconds, accuracy) of the proxy, when trained


def train_on_subset(split, subset, *, params=None, seed: int = 0, device=None, offset: float = 0.0):
    """Train the target on ``split.X_pool[subset]``; accuracy and its per-epoch curve.

    Returns
    -------
    (classifier, ProxyRun) with ``seconds["target"]`` filled in.
    """
    params = dict(TARGET if params is None else params)
    subset = np.asarray(subset, dtype=np.int64)
    start = time.perf_counter()
    clf = TorchClassifier(**params, classes=np.arange(split.n_classes), seed=seed, device=device)
    clf.fit(split.X_pool[subset], split.y_pool[subset], eval_set=(split.X_test, split.y_test))
    target_s = time.perf_counter() - start
    run = ProxyRun(
        subset=subset,
        accuracy=clf.eval_accuracy_[-1],
        seconds={"proxy": 0.0, "ranking": 0.0, "target": target_s, "total": target_s},
        curve_seconds=offset + np.asarray(clf.epoch_times_),
        curve_accuracy=np.asarray(clf.eval_accuracy_),
    )
    return clf, run


def select_via_proxy(
    split,
    fraction: float,
    *,
    ranking: str = "forgetting",
    proxy=None,
    target=None,
    class_balance: bool = True,
    seed: int = 0,
    device=None,
) -> ProxyRun:
    """Train the proxy, rank the training set, keep ``fraction``, train the target on it.

    Parameters
    ----------
    split : PoolSplit
        ``X_pool``/``y_pool`` are the (fully labelled) training set.
    fraction : float in (0, 1]
        Share of the training set to keep.
    ranking : {"forgetting", "least confidence", "entropy", "margin", "k-centers"}
    proxy, target : dict, optional
        :class:`~dcai_al.models.TorchClassifier` parameters; default :data:`PROXY`, :data:`TARGET`.
    class_balance : bool
        See :func:`keep_hardest` (k-centers ignores it).

    Returns
    -------
    ProxyRun
        The subset, the target's test accuracy, and measured seconds for the
        proxy's training, the ranking, the target's training and the total.
    """
    fraction = check_fraction(fraction)
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {RANKINGS}, got {ranking!r}.")
    proxy = dict(PROXY if proxy is None else proxy)
    start = time.perf_counter()
    model = TorchClassifier(
        **proxy, classes=np.arange(split.n_classes), seed=seed, device=device, track_correct=ranking == "forgetting"
    )
    model.fit(split.X_pool, split.y_pool, eval_set=(split.X_test, split.y_test))
    proxy_s = time.perf_counter() - start

    t = time.perf_counter()
    if ranking == "forgetting":
        subset = keep_hardest(
            forgetting_order(model.correct_history_), split.y_pool, fraction, class_balance=class_balance
        )
    elif ranking == "k-centers":
        m = math.ceil(fraction * len(split.y_pool))
        subset = np.sort(k_center_greedy(model.embed(split.X_pool), m, seed=seed, device=device))
    else:
        order = uncertainty_order(model.predict_proba(split.X_pool), SCORES[ranking])
        subset = keep_hardest(order, split.y_pool, fraction, class_balance=class_balance)
    ranking_s = time.perf_counter() - t

    _, run = train_on_subset(split, subset, params=target, seed=seed, device=device, offset=time.perf_counter() - start)
    run.seconds.update(proxy=proxy_s, ranking=ranking_s, total=time.perf_counter() - start)
    run.proxy_curve = (np.asarray(model.epoch_times_), np.asarray(model.eval_accuracy_))
    return run
