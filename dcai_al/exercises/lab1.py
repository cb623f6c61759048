"""Lab 1's graded functions: the threshold query, the uncertainty scores and the pool-based loop."""

from __future__ import annotations

import functools

import numpy as np

from ..acquisition import entropy, least_confidence, margin
from ..checks import _fail, _fmt
from ..pool_loop import pool_based_loop
from ..threshold import binary_search_query
from .answers import INDEX, INDICES, SCORES, _read_index
from .record import Answer, Case, Exercise, Hint, Mistake

__all__ = [
    "ACTIVE_LEARNING_LOOP",
    "BINARY_SEARCH_QUERY",
    "ENTROPY",
    "EXERCISES",
    "LEAST_CONFIDENCE",
    "MARGIN",
    "MidpointModel",
    "logistic_regression",
    "probability_of_class_1",
]

LAB = "lab1-passive-vs-active"
LN2 = float(np.log(2))


# --- Exercise 1: binary_search_query ---------------------------------------------------------------


def _random_intervals(rng) -> list[tuple]:
    """200 random pools of 1 to 39 points on [0, 1], each with a random interval (seed 2024 as before)."""
    cases = []
    for _ in range(200):
        x = rng.uniform(0, 1, size=int(rng.integers(1, 40)))
        lo, hi = np.sort(rng.uniform(0, 1, size=2))
        cases.append((x, float(lo), float(hi)))
    return cases


def _inside(x, lo, hi) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.flatnonzero((x > lo) & (x < hi))


def _query_towards(x, lo, hi, middle, pick=np.argmin) -> int:
    """The point strictly inside (lo, hi) that ``pick`` chooses by distance to ``middle``."""
    x = np.asarray(x, dtype=float)
    inside = _inside(x, lo, hi)
    return int(inside[pick(np.abs(x[inside] - middle))]) if inside.size else -1


def _wrong_middles(lo, hi) -> tuple:
    """What a slip in writing (lo + hi) / 2 gives: (hi - lo) / 2, lo + hi / 2 and (lo + hi) // 2."""
    return ((hi - lo) / 2, lo + hi / 2, (lo + hi) // 2)


def _read_query(out, args, exercise, case):
    """One int index; a returned position x[i] is named as such."""
    x = np.asarray(args[0], dtype=float)
    try:
        value = float(np.asarray(out, dtype=float).reshape(()))
    except (TypeError, ValueError):
        value = None
    if value is not None and not value.is_integer() and np.isin(value, x):
        _fail(
            f"{exercise} returned {_fmt(out)}, a position in x, on the case: {case}. "
            "Return the index i of the query (an int), not the position x[i]."
        )
    return _read_index(out, args, exercise, case)


QUERY = Answer("index", _read_query, INDEX.same)

BINARY_SEARCH_QUERY = Exercise(
    name="binary_search_query",
    lab=LAB,
    signature="(x, lo, hi)",
    points=3,
    reference=binary_search_query,
    answer=QUERY,
    cases=(
        Case("the point nearest the middle of (0, 1)", (np.array([0.2, 0.45, 0.7, 0.95]), 0.0, 1.0)),
        Case(
            "an unsorted pool; the interval (0.3, 0.9), whose middle is 0.6",
            (np.array([0.95, 0.62, 0.2, 0.5]), 0.3, 0.9),
        ),
        Case(
            "an interval that does not start at 0: the middle of (0.2, 1.0) is 0.6, so 0.58 beats 0.72",
            (np.array([0.25, 0.58, 0.72, 0.9]), 0.2, 1.0),
        ),
        Case("no pool point inside the interval: return -1", (np.array([0.1, 0.2, 0.9]), 0.3, 0.8)),
        Case(
            "lo and hi are pool points (labelled already) and none lies strictly between them: return -1",
            (np.array([0.2, 0.6, 0.9]), 0.2, 0.6),
        ),
        Case("two points equally near the middle: the lower index", (np.array([0.0, 0.25, 0.75]), 0.0, 1.0)),
    ),
    hidden=_random_intervals,
    hints=(
        Hint(
            "lo and hi are labelled already: only points strictly inside (lo, hi) are candidates.",
            lambda got, args, expected: got >= 0 and args[0][got] in (args[1], args[2]),
        ),
        Hint(
            "when no pool point lies strictly between lo and hi, return -1.",
            lambda got, args, expected: expected == -1,
        ),
        Hint(
            "a pool point lies strictly inside (lo, hi) here: return the index of the nearest to the middle; -1 is "
            "for an interval with no pool point inside.",
            lambda got, args, expected: got == -1,
        ),
        Hint(
            "np.argmin over x[inside] gives a position in inside; return inside[that], an index into x.",
            lambda got, args, expected: (
                got == int(np.argmin(np.abs(args[0][_inside(*args)] - (args[1] + args[2]) / 2)))
            ),
        ),
        Hint(
            "the middle of the interval (lo, hi) is (lo + hi) / 2, with the brackets (lo + hi / 2 divides only hi) "
            "and true division / (// rounds down to a whole number).",
            lambda got, args, expected: got in {_query_towards(*args, middle) for middle in _wrong_middles(*args[1:])},
        ),
        Hint(
            "you returned the point farthest from the middle; the query is the nearest one (argmin).",
            lambda got, args, expected: got == _query_towards(*args, (args[1] + args[2]) / 2, pick=np.argmax),
        ),
        Hint(
            "two points equally near the middle: return the lower index (np.argmin returns the first minimum).",
            lambda got, args, expected: (
                got >= 0
                and np.isclose(
                    abs(args[0][got] - (args[1] + args[2]) / 2), abs(args[0][expected] - (args[1] + args[2]) / 2)
                )
            ),
        ),
    ),
    hint="return the index i of the pool point strictly inside (lo, hi) nearest (lo + hi) / 2, or -1.",
    mistakes=(
        Mistake(
            "argmax instead of argmin: the farthest point",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n"
            "    inside = np.flatnonzero((x > lo) & (x < hi))\n    if inside.size == 0:\n        return -1\n"
            "    return int(inside[np.argmax(np.abs(x[inside] - (lo + hi) / 2))])\n",
            "farthest from the middle",
        ),
        Mistake(
            "the nearest point of the whole pool, inside the interval or not",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n"
            "    return int(np.argmin(np.abs(x - (lo + hi) / 2)))\n",
            "when no pool point lies strictly",
        ),
        Mistake(
            "lo and hi count as inside (>= and <=)",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n"
            "    inside = np.flatnonzero((x >= lo) & (x <= hi))\n    if inside.size == 0:\n        return -1\n"
            "    return int(inside[np.argmin(np.abs(x[inside] - (lo + hi) / 2))])\n",
            "only points strictly inside",
        ),
        Mistake(
            "masks the outside points with inf but never returns -1",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n"
            "    dist = np.where((x > lo) & (x < hi), np.abs(x - (lo + hi) / 2), np.inf)\n"
            "    return int(np.argmin(dist))\n",
            "when no pool point lies strictly",
        ),
        Mistake(
            "returns the position x[i] instead of the index i",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n"
            "    inside = x[(x > lo) & (x < hi)]\n    if inside.size == 0:\n        return -1\n"
            "    return inside[np.argmin(np.abs(inside - (lo + hi) / 2))]\n",
            "not the position x[i]",
        ),
        Mistake(
            "returns the position in the list of inside points",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n"
            "    inside = np.flatnonzero((x > lo) & (x < hi))\n    if inside.size == 0:\n        return -1\n"
            "    return int(np.argmin(np.abs(x[inside] - (lo + hi) / 2)))\n",
            "an index into x",
        ),
        Mistake(
            "a hand-written loop with <=: ties go to the later index",
            "def binary_search_query(x, lo, hi):\n    best, best_dist = -1, np.inf\n    for i in range(len(x)):\n"
            "        if lo < x[i] < hi and abs(x[i] - (lo + hi) / 2) <= best_dist:\n"
            "            best, best_dist = i, abs(x[i] - (lo + hi) / 2)\n    return best\n",
            "np.argmin returns the first",
        ),
        Mistake(
            "the middle as (hi - lo) / 2",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n"
            "    inside = np.flatnonzero((x > lo) & (x < hi))\n    if inside.size == 0:\n        return -1\n"
            "    return int(inside[np.argmin(np.abs(x[inside] - (hi - lo) / 2))])\n",
            "(lo + hi) / 2",
        ),
        Mistake(
            "the middle as lo + hi / 2: without brackets only hi is halved",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n    mid = lo + hi / 2\n"
            "    inside = (x > lo) & (x < hi)\n    if not inside.any():\n        return -1\n"
            "    d = np.where(inside, np.abs(x - mid), np.inf)\n    return int(np.argmin(d))\n",
            "lo + hi / 2 divides only hi",
        ),
        Mistake(
            "the middle as (lo + hi) // 2: floor division rounds it down to 0",
            "def binary_search_query(x, lo, hi):\n    x = np.asarray(x, dtype=float)\n    mid = (lo + hi) // 2\n"
            "    inside = (x > lo) & (x < hi)\n    if not inside.any():\n        return -1\n"
            "    d = np.where(inside, np.abs(x - mid), np.inf)\n    return int(np.argmin(d))\n",
            "// rounds down",
        ),
    ),
    seed=2024,
)


# --- Exercises 2 to 4: the uncertainty scores -------------------------------------------------------


def _probability_rows(rng) -> list[tuple]:
    """Rows from peaked to flat, over 2 to 10 classes, and one-hot rows (0 log 0)."""
    rows = [(rng.dirichlet(np.ones(k) * a, size=50),) for k in (2, 3, 10) for a in (0.1, 1.0, 10.0)]
    rows.append((np.eye(5)[rng.integers(0, 5, size=20)],))
    return rows


def _lc_rows(rng) -> list[tuple]:
    """Least confidence's hidden rows, as its hand-written block drew them (seed 8)."""
    return [(rng.dirichlet(np.ones(k) * a, size=50),) for k in (2, 4, 10) for a in (0.2, 1.0, 5.0)]


def _margin_rows(rng) -> list[tuple]:
    """Margin's hidden rows (seed 9), and uniform rows: a three-way tie at the top."""
    rows = [(rng.dirichlet(np.ones(k) * a, size=50),) for k in (2, 3, 10) for a in (0.2, 1.0, 5.0)]
    rows.append((np.full((4, 3), 1 / 3),))
    return rows


def _probs(args) -> np.ndarray:
    return np.asarray(args[0], dtype=float)


def _close(got, value) -> bool:
    return bool(np.allclose(got, value, atol=1e-6))


def _sorted_rows(args) -> np.ndarray:
    return np.sort(_probs(args), axis=1)


ENTROPY = Exercise(
    name="entropy",
    lab=LAB,
    signature="(probs)",
    points=3,
    reference=entropy,
    answer=SCORES,
    cases=(
        Case("two classes, uniform: the most uncertain row", (np.array([[0.5, 0.5]]),)),
        Case("a confident row [0.9, 0.1]", (np.array([[0.9, 0.1]]),)),
        Case("a one-hot row: no uncertainty at all", (np.array([[1.0, 0.0, 0.0]]),)),
        Case("four classes, uniform", (np.array([[0.25, 0.25, 0.25, 0.25]]),)),
        Case("several rows at once, each scored alone", (np.array([[0.5, 0.5], [1.0, 0.0], [0.2, 0.8]]),)),
    ),
    hidden=_probability_rows,
    hints=(
        Hint(
            "0 * log(0) gives nan in numpy; treat 0 log 0 as 0 (e.g. np.where(p > 0, ...)).",
            lambda got, args, expected: np.isnan(got).any(),
        ),
        Hint(
            "use the natural log np.log, not np.log2.",
            lambda got, args, expected: np.allclose(got, np.asarray(expected) / LN2),
        ),
        Hint(
            "entropy is -sum p log p: mind the minus sign.",
            lambda got, args, expected: np.allclose(got, -np.asarray(expected)),
        ),
        Hint(
            "sum over the classes of each row (axis=1), not over the whole array.",
            lambda got, args, expected: np.allclose(got, np.full(len(got), np.nansum(expected))),
        ),
    ),
    hint="entropy is -sum over the classes of p log p, one value per row.",
    mistakes=(
        Mistake(
            "log base 2",
            "def entropy(probs):\n    p = np.asarray(probs, dtype=float)\n"
            "    return -(p * np.log2(np.where(p > 0, p, 1.0))).sum(axis=1)\n",
            "natural log",
        ),
        Mistake(
            "0 log 0 left as nan",
            "def entropy(probs):\n    p = np.asarray(probs, dtype=float)\n    return -(p * np.log(p)).sum(axis=1)\n",
            "0 log 0",
        ),
        Mistake(
            "forgets the minus sign",
            "def entropy(probs):\n    p = np.asarray(probs, dtype=float)\n"
            "    return (p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)\n",
            "minus sign",
        ),
        Mistake(
            "forgets to sum over the classes",
            "def entropy(probs):\n    p = np.asarray(probs, dtype=float)\n"
            "    return -(p * np.log(np.where(p > 0, p, 1.0)))\n",
            "axis=1",
        ),
        Mistake(
            "sums over the whole array",
            "def entropy(probs):\n    p = np.asarray(probs, dtype=float)\n"
            "    return -(p * np.log(np.where(p > 0, p, 1.0))).sum()\n",
            "axis=1",
        ),
        Mistake(
            "edits its input to dodge log(0)",
            "def entropy(probs):\n    p = probs\n    p[p == 0] = 1.0  # 0 log 0 = 1 log 1 = 0\n"
            "    return -(p * np.log(p)).sum(axis=1)\n",
            "in place",
        ),
    ),
    seed=7,
)

LEAST_CONFIDENCE = Exercise(
    name="least_confidence",
    lab=LAB,
    signature="(probs)",
    points=2,
    reference=least_confidence,
    answer=SCORES,
    cases=(
        Case(
            "the most likely class is not the first column (which is neither the second largest nor the smallest)",
            (np.array([[0.1, 0.05, 0.6, 0.25]]),),
        ),
        Case("a confident row [0.9, 0.1]", (np.array([[0.9, 0.1]]),)),
        Case("a uniform row over 4 classes", (np.array([[0.25, 0.25, 0.25, 0.25]]),)),
        Case("a one-hot row: no uncertainty at all", (np.array([[0.0, 1.0]]),)),
        Case("several rows at once, each scored alone", (np.array([[0.6, 0.4], [0.5, 0.5], [0.1, 0.9]]),)),
    ),
    hidden=_lc_rows,
    hints=(
        Hint(
            "the score is 1 - max p, so that an unsure row scores high.",
            lambda got, args, expected: _close(got, _probs(args).max(axis=1)),
        ),
        Hint(
            "use the largest probability of each row (max), not the smallest.",
            lambda got, args, expected: _close(got, 1 - _probs(args).min(axis=1)),
        ),
        Hint(
            "use the largest probability of each row (np.max, or s[:, -1] after np.sort), not the second largest "
            "(s[:, -2]).",
            lambda got, args, expected: _close(got, 1 - _sorted_rows(args)[:, -2]),
        ),
        Hint(
            "take the max over the classes of each row (axis=1), not column 0.",
            lambda got, args, expected: _close(got, 1 - _probs(args)[:, 0]),
        ),
    ),
    hint="least confidence is 1 - max_k p_k, one value per row.",
    mistakes=(
        Mistake(
            "returns max p (the confidence) instead of 1 - max p",
            "def least_confidence(probs):\n    p = np.asarray(probs, dtype=float)\n    return p.max(axis=1)\n",
            "1 - max p",
        ),
        Mistake(
            "the smallest probability instead of the largest",
            "def least_confidence(probs):\n    p = np.asarray(probs, dtype=float)\n    return 1.0 - p.min(axis=1)\n",
            "largest probability",
        ),
        Mistake(
            "takes column 0 as the most likely class",
            "def least_confidence(probs):\n    p = np.asarray(probs, dtype=float)\n    return 1.0 - p[:, 0]\n",
            "axis=1",
        ),
        Mistake(
            "max over the rows (axis=0)",
            "def least_confidence(probs):\n    p = np.asarray(probs, dtype=float)\n    return 1.0 - p.max(axis=0)\n",
            "axis=1",
        ),
        Mistake(
            "max of the whole array",
            "def least_confidence(probs):\n    return 1.0 - np.max(probs)\n",
            "axis=1",
        ),
        Mistake(
            "the second largest probability (s[:, -2] after np.sort)",
            "def least_confidence(probs):\n    return 1 - np.sort(probs, axis=1)[:, -2]\n",
            "not the second largest",
        ),
        Mistake(
            "a trailing comma after the return: a 1-tuple",
            "def least_confidence(probs):\n    return 1 - np.max(probs, axis=1),\n",
            "returned a tuple",
        ),
    ),
    seed=8,
)


MARGIN = Exercise(
    name="margin",
    lab=LAB,
    signature="(probs)",
    points=3,
    reference=margin,
    answer=SCORES,
    cases=(
        Case("two classes [0.9, 0.1]: gap 0.8", (np.array([[0.9, 0.1]]),)),
        Case("a tie between the top two: the highest score", (np.array([[0.45, 0.45, 0.1]]),)),
        Case("the top two are not in the first columns", (np.array([[0.1, 0.2, 0.7]]),)),
        Case("classes in increasing order", (np.array([[0.05, 0.15, 0.3, 0.5]]),)),
        Case("a one-hot row: the lowest score", (np.array([[1.0, 0.0, 0.0]]),)),
        Case("several rows at once, each scored alone", (np.array([[0.2, 0.5, 0.3], [0.6, 0.4, 0.0]]),)),
    ),
    hidden=_margin_rows,
    hints=(
        Hint(
            "return 1 - gap, so that small gaps score high.",
            lambda got, args, expected: _close(got, 1 - np.asarray(expected)),
        ),
        Hint(
            "the gap is the largest minus the second largest probability, s[:, -1] - s[:, -2] (np.sort sorts each "
            "row in increasing order): it is never negative, so the score is at most 1.",
            lambda got, args, expected: _close(got, 1 - (_sorted_rows(args)[:, -2] - _sorted_rows(args)[:, -1])),
        ),
        Hint(
            "find the two largest probabilities of each row (np.sort or np.partition), not columns 0 and 1.",
            lambda got, args, expected: any(
                _close(got, 1 - f(_probs(args)[:, 0] - _probs(args)[:, 1])) for f in (np.abs, np.negative, np.positive)
            ),
        ),
        Hint(
            "the gap is between the largest and the second largest probability: np.sort sorts each row in "
            "increasing order, so they are s[:, -1] and s[:, -2].",
            lambda got, args, expected: any(
                _close(got, 1 - (_sorted_rows(args)[:, i] - _sorted_rows(args)[:, 0])) for i in (1, -1)
            ),
        ),
    ),
    hint="margin is 1 - (p_(1) - p_(2)), the two largest probabilities of each row.",
    mistakes=(
        Mistake(
            "returns the gap itself, without 1 -",
            "def margin(probs):\n    top2 = np.sort(np.asarray(probs, dtype=float), axis=1)[:, -2:]\n"
            "    return top2[:, 1] - top2[:, 0]\n",
            "small gaps score high",
        ),
        Mistake(
            "takes columns 0 and 1 as the top two",
            "def margin(probs):\n    p = np.asarray(probs, dtype=float)\n    return 1.0 - np.abs(p[:, 0] - p[:, 1])\n",
            "two largest",
        ),
        Mistake(
            "the first two columns after np.sort: the two smallest",
            "def margin(probs):\n    s = np.sort(np.asarray(probs, dtype=float), axis=1)\n"
            "    return 1.0 - (s[:, 1] - s[:, 0])\n",
            "second largest",
        ),
        Mistake(
            "largest minus smallest",
            "def margin(probs):\n    s = np.sort(np.asarray(probs, dtype=float), axis=1)\n"
            "    return 1.0 - (s[:, -1] - s[:, 0])\n",
            "second largest",
        ),
        Mistake(
            "sorts its input in place",
            "def margin(probs):\n    probs.sort(axis=1)\n    return 1.0 - (probs[:, -1] - probs[:, -2])\n",
            "in place",
        ),
        Mistake(
            "the gap the wrong way round: second largest minus largest",
            "def margin(probs):\n    s = np.sort(probs, axis=1)\n    return 1 - (s[:, -2] - s[:, -1])\n",
            "never negative",
        ),
    ),
    seed=9,
)


# --- Exercise 5: the pool-based loop ----------------------------------------------------------------


class MidpointModel:
    """The loop's toy model on a 1-D pool: a threshold learner with a soft edge.

    Its boundary lies halfway between the rightmost labelled 0 and the
    leftmost labelled 1 (Part 1's version space). The probability of the
    nearer class is 0.5 on the boundary and grows linearly to 1 at
    ``width`` from it, so the points nearest the boundary are the least
    sure, and two points at the same distance on either side tie exactly.

    Examples
    --------
    >>> m = MidpointModel(width=2.0).fit(np.array([[0.0], [4.0]]), np.array([0, 1]))
    >>> m.boundary_, m.predict_proba(np.array([[1.0], [2.0], [3.0]])).tolist()
    (2.0, [[0.75, 0.25], [0.5, 0.5], [0.25, 0.75]])
    """

    def __init__(self, width: float = 10.0):
        self.width = width

    def fit(self, X, y):
        x, y = np.asarray(X, dtype=float)[:, 0], np.asarray(y)
        if not ((y == 0).any() and (y == 1).any()):
            raise ValueError("MidpointModel needs at least one labelled 0 and one labelled 1.")
        self.boundary_ = float((x[y == 0].max() + x[y == 1].min()) / 2)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        d = np.asarray(X, dtype=float)[:, 0] - self.boundary_
        near = np.clip(0.5 + np.abs(d) / (2 * self.width), 0.5, 1.0)  # symmetric: equal distances tie exactly
        right = (d >= 0)[:, None]
        return np.where(right, np.stack([1 - near, near], axis=1), np.stack([near, 1 - near], axis=1))

    def __repr__(self) -> str:
        return f"MidpointModel(width={self.width:g})"


def probability_of_class_1(probs):
    """A score that is no uncertainty at all: the model's probability of class 1."""
    return np.asarray(probs, dtype=float)[:, 1]


def logistic_regression():
    """A fresh scikit-learn logistic regression, as the digits experiment trains (imported when first used)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500)


def _line(n: int, threshold: float):
    """The pool 0, 1, ..., n - 1 as one feature, labelled 1 from ``threshold`` on."""
    x = np.arange(float(n)).reshape(-1, 1)
    return x, (x[:, 0] >= threshold).astype(np.int64)


def _name(obj) -> str:
    if isinstance(obj, functools.partial):
        keywords = ", ".join(f"{k}={v!r}" for k, v in obj.keywords.items())
        return f"{_name(obj.func)}({keywords})"
    return getattr(obj, "__name__", repr(obj))


def _show_loop(X, y, labelled, make_model, score, batch_size, n_rounds) -> str:
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[1] == 1 and np.array_equal(X[:, 0], np.arange(len(X))):
        pool = f"X = the points 0, 1, ..., {len(X) - 1} (one feature)"
    else:
        pool = f"X of shape {X.shape}"
    return (
        f"{pool}, y = {_fmt(np.asarray(y))}, labelled = {_fmt(labelled)}, make_model = {_name(make_model)}, "
        f"score = {_name(score)}, batch_size = {batch_size}, n_rounds = {n_rounds}"
    )


def _read_order(out, args, exercise, case):
    """The returned order as a list of ints; a list of batches is named as such."""
    if isinstance(out, list | tuple) and out and all(np.ndim(item) == 1 for item in out):
        _fail(
            f"{exercise} returned a list of arrays on the case: {case}. Return one 1-D array of pool indices: "
            "the labelled ones first, then each batch (np.concatenate joins them)."
        )
    return INDICES.read(out, args, exercise, case)


ORDER = Answer("labelled order", _read_order, lambda expected, got: [int(i) for i in expected] == list(got))


def _variant(
    X,
    y,
    labelled,
    make_model,
    score,
    batch_size,
    n_rounds,
    *,
    rank="stable",
    exclude=True,
    retrain=True,
    positions=False,
    use=None,
    train_on_all=False,
):
    """The loop with one mistake, for the hints: what a student who made it returns."""
    X, y = np.asarray(X), np.asarray(y)
    order = [int(i) for i in labelled]
    model = None
    for _ in range(n_rounds):
        if model is None or retrain:
            model = make_model()
            model.fit(*((X, y) if train_on_all else (X[order], y[order])))
        candidates = np.setdiff1d(np.arange(len(X)), order) if exclude else np.arange(len(X))
        scores = np.asarray((use or score)(model.predict_proba(X[candidates])), dtype=float)
        if rank == "lowest":
            top = np.argsort(scores, kind="stable")[:batch_size]
        elif rank == "reversed":
            top = np.argsort(scores, kind="stable")[::-1][:batch_size]
        elif rank == "default":
            top = np.argsort(-scores)[:batch_size]
        else:
            top = np.argsort(-scores, kind="stable")[:batch_size]
        order.extend(int(i) for i in (top if positions else candidates[top]))
    return order


def _hint_if(**mistake):
    return lambda got, args, expected: got == _variant(*args, **mistake)


LOOP_CASES = (
    Case(
        "a 1-D pool labelled 1 from 7 on: each round labels the point nearest the model's boundary, "
        "so 3 rounds binary-search the threshold",
        (*_line(11, 7), [0, 10], MidpointModel, entropy, 1, 3),
    ),
    Case(
        "batch_size = 2 for 2 rounds: each round labels the 2 most uncertain points, the most uncertain first",
        (*_line(21, 13), np.array([0, 20]), MidpointModel, entropy, 2, 2),
    ),
    Case(
        "the score passed in is the probability of class 1: the loop ranks by it, whatever it measures",
        (*_line(11, 7), np.array([0, 7]), MidpointModel, probability_of_class_1, 2, 1),
    ),
    Case(
        "the two points next to the boundary (5 and 6) are labelled already: never pick a labelled point again",
        (*_line(11, 6), np.array([0, 5, 6, 10]), MidpointModel, entropy, 2, 1),
    ),
    Case(
        "only 2 points are uncertain, so 4 of the batch of 6 come from the 26 points tied at score 0: "
        "ties go to the lower index",
        (*_line(30, 15), np.array([0, 29]), functools.partial(MidpointModel, width=1.0), entropy, 6, 1),
    ),
)


def _random_loops(rng) -> list[tuple]:
    """1-D pools (a grid, with exact ties, or uniform points) and 2-D three-class blobs with logistic regression."""
    scores = (entropy, least_confidence, margin, probability_of_class_1)
    cases = []
    for i in range(16):
        n = int(rng.integers(8, 31))
        x = np.arange(float(n)) if i % 2 == 0 else np.sort(rng.uniform(0, n, size=n))
        threshold = float(rng.uniform(x[1], x[-1]))
        y = (x >= threshold).astype(np.int64)
        start = [int(rng.choice(np.flatnonzero(y == 0))), int(rng.choice(np.flatnonzero(y == 1)))]
        extra = rng.choice(np.setdiff1d(np.arange(n), start), size=int(rng.integers(0, 3)), replace=False)
        labelled = rng.permutation(np.concatenate([start, extra]).astype(np.int64))
        batch_size = int(rng.integers(1, 4))
        n_rounds = int(rng.integers(1, min(5, (n - labelled.size) // batch_size) + 1))
        model = functools.partial(MidpointModel, width=float(rng.choice([1.0, 2.0, 5.0, 10.0])))
        cases.append((x.reshape(-1, 1), y, labelled, model, scores[i % 4], batch_size, n_rounds))
    for i in range(3):
        centres = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
        y = rng.integers(0, 3, size=40)
        X = centres[y] + rng.normal(size=(40, 2))
        labelled = np.concatenate([rng.choice(np.flatnonzero(y == c), size=1) for c in range(3)])
        cases.append((X, y, labelled, logistic_regression, scores[i], 3, 3))
    return cases


def _prepare_loop(*args):
    """Import scikit-learn before a case that trains logistic regression, so its import is not timed."""
    if args[3] is logistic_regression:
        import sklearn.linear_model  # noqa: F401
    return args


ACTIVE_LEARNING_LOOP = Exercise(
    name="active_learning_loop",
    lab=LAB,
    signature="(X, y, labelled, make_model, score, batch_size, n_rounds)",
    points=3,
    reference=pool_based_loop,
    answer=ORDER,
    cases=LOOP_CASES,
    hidden=_random_loops,
    hints=(
        Hint(
            "np.argsort over the unlabelled points' scores gives positions in that list; turn them into pool "
            "indices (unlabelled[top]) before adding them.",
            _hint_if(positions=True),
        ),
        Hint(
            "each pool index may appear only once: score only the points not labelled yet, and add each batch to "
            "the labelled set before the next round.",
            lambda got, args, expected: len(set(got)) < len(got),
        ),
        Hint(
            "start the answer with the initial labelled indices, then add each round's batch.",
            lambda got, args, expected: got == list(expected)[len(args[2]) :],
        ),
        Hint(
            "return len(labelled) + n_rounds * batch_size indices: the initial labelled ones, then batch_size new "
            "ones in each of the n_rounds rounds.",
            lambda got, args, expected: len(got) != len(expected),
        ),
        Hint(
            "keep the indices in the order they were labelled: append each batch at the end (np.union1d and "
            "np.unique sort them).",
            lambda got, args, expected: got == sorted(got) and sorted(got) == sorted(int(i) for i in expected),
        ),
        Hint(
            "ties go to the lower index: np.argsort(-scores, kind='stable') keeps tied scores in index order "
            "(numpy's default sort is not stable, and reversing an ascending sort puts the higher index first).",
            lambda got, args, expected: got in (_variant(*args, rank="reversed"), _variant(*args, rank="default")),
        ),
        Hint("label the highest scores: a high score means 'label me first'.", _hint_if(rank="lowest")),
        Hint(
            "train a new model on the labelled set at the start of each round, so that its scores use the labels "
            "added so far.",
            _hint_if(retrain=False),
        ),
        Hint(
            "rank the points by score(probs), the function passed in as `score`.",
            lambda got, args, expected: args[4] is not entropy and got == _variant(*args, use=entropy),
        ),
        Hint(
            "fit the model on the labelled points only (X[labelled], y[labelled]): the other labels are not known yet.",
            _hint_if(train_on_all=True),
        ),
        Hint(
            "the right indices in the wrong order: the initial labelled ones first, then each batch with its "
            "highest score first.",
            lambda got, args, expected: sorted(got) == sorted(int(i) for i in expected),
        ),
    ),
    hint="each round: fit make_model() on the labelled points, score the unlabelled ones with "
    "score(model.predict_proba(...)), and add the batch_size highest (ties: the lower index) to the labelled set.",
    mistakes=(
        Mistake(
            "takes the lowest scores",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        top = np.argsort(scores, kind='stable')[:batch_size]\n"
            "        labelled.extend(unlabelled[top])\n"
            "    return np.array(labelled)\n",
            "highest scores",
        ),
        Mistake(
            "scores the whole pool, labelled points included",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        scores = score(model.predict_proba(X))\n"
            "        top = np.argsort(-scores, kind='stable')[:batch_size]\n"
            "        labelled.extend(top)\n"
            "    return np.array(labelled)\n",
            "only once",
        ),
        Mistake(
            "never adds the batch to the training set",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    picked = []\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        picked.extend(unlabelled[np.argsort(-scores, kind='stable')[:batch_size]])\n"
            "    return np.concatenate([labelled, picked]).astype(int)\n",
            "only once",
        ),
        Mistake(
            "trains once, before the loop",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    model = make_model().fit(X[labelled], y[labelled])\n"
            "    for _ in range(n_rounds):\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        labelled.extend(unlabelled[np.argsort(-scores, kind='stable')[:batch_size]])\n"
            "    return np.array(labelled)\n",
            "start of each round",
        ),
        Mistake(
            "appends to the caller's labelled list",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        labelled += list(unlabelled[np.argsort(-scores, kind='stable')[:batch_size]])\n"
            "    return np.array(labelled)\n",
            "in place",
        ),
        Mistake(
            "adds the positions in the unlabelled list, not pool indices",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        labelled.extend(np.argsort(-scores, kind='stable')[:batch_size])\n"
            "    return np.array(labelled)\n",
            "pool indices",
        ),
        Mistake(
            "one round too many",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    for _ in range(n_rounds + 1):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        labelled.extend(unlabelled[np.argsort(-scores, kind='stable')[:batch_size]])\n"
            "    return np.array(labelled)\n",
            "n_rounds * batch_size",
        ),
        Mistake(
            "returns only the new labels",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled, new = list(labelled), []\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        batch = unlabelled[np.argsort(-scores, kind='stable')[:batch_size]]\n"
            "        labelled.extend(batch)\n"
            "        new.extend(batch)\n"
            "    return np.array(new)\n",
            "initial labelled indices",
        ),
        Mistake(
            "grows the labelled set with np.union1d, which sorts it",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        labelled = np.union1d(labelled, unlabelled[np.argsort(-scores, kind='stable')[:batch_size]])\n"
            "    return labelled\n",
            "order they were labelled",
        ),
        Mistake(
            "reverses an ascending argsort: ties go to the higher index",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        labelled.extend(unlabelled[np.argsort(scores)[::-1][:batch_size]])\n"
            "    return np.array(labelled)\n",
            "kind='stable'",
        ),
        Mistake(
            "np.argsort's default sort, which is not stable",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        labelled.extend(unlabelled[np.argsort(-scores)[:batch_size]])\n"
            "    return np.array(labelled)\n",
            "kind='stable'",
        ),
        Mistake(
            "scores with the entropy written above instead of the score passed in",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X[labelled], y[labelled])\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = entropy(model.predict_proba(X[unlabelled]))\n"
            "        labelled.extend(unlabelled[np.argsort(-scores, kind='stable')[:batch_size]])\n"
            "    return np.array(labelled)\n",
            "passed in as `score`",
        ),
        Mistake(
            "trains on the whole pool's labels",
            "def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):\n"
            "    labelled = list(labelled)\n"
            "    for _ in range(n_rounds):\n"
            "        model = make_model().fit(X, y)\n"
            "        unlabelled = np.setdiff1d(np.arange(len(X)), labelled)\n"
            "        scores = score(model.predict_proba(X[unlabelled]))\n"
            "        labelled.extend(unlabelled[np.argsort(-scores, kind='stable')[:batch_size]])\n"
            "    return np.array(labelled)\n",
            "labelled points only",
        ),
    ),
    seed=11,
    prepare=_prepare_loop,
    show=_show_loop,
)

EXERCISES = (BINARY_SEARCH_QUERY, ENTROPY, LEAST_CONFIDENCE, MARGIN, ACTIVE_LEARNING_LOOP)
