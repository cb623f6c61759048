"""Lab 1's graded functions: the threshold query and the uncertainty scores."""

from __future__ import annotations

import numpy as np

from ..acquisition import entropy
from .answers import SCORES
from .record import Case, Exercise, Hint, Mistake

LAB = "lab1-passive-vs-active"
LN2 = float(np.log(2))


def _probability_rows(rng) -> list[tuple]:
    """Rows from peaked to flat, over 2 to 10 classes, and one-hot rows (0 log 0)."""
    rows = [(rng.dirichlet(np.ones(k) * a, size=50),) for k in (2, 3, 10) for a in (0.1, 1.0, 10.0)]
    rows.append((np.eye(5)[rng.integers(0, 5, size=20)],))
    return rows


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
            "edits its input to dodge log(0)",
            "def entropy(probs):\n    p = probs\n    p[p == 0] = 1.0  # 0 log 0 = 1 log 1 = 0\n"
            "    return -(p * np.log(p)).sum(axis=1)\n",
            "in place",
        ),
    ),
    seed=7,
)

EXERCISES = (ENTROPY,)
