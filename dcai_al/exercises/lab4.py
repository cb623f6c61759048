"""Lab 4's graded functions: forgetting events, the proxy's ranking and the class-balanced subset.

>>> [e.name for e in EXERCISES]
['forgetting_events', 'forgetting_order', 'keep_hardest']
"""

from __future__ import annotations

import math

import numpy as np

from ..checks import _fmt
from ..proxy import forgetting_events, forgetting_order, keep_hardest
from .answers import INDICES, vector
from .record import Answer, Case, Exercise, Hint, Mistake
from .ties import MANY_TIES

LAB = "lab4-selection-via-proxy"
T, F = True, False


def _bools(correct) -> np.ndarray:
    return np.asarray(correct, dtype=bool)


def _show_correct(correct) -> str:
    return f"correct (epochs x examples) = {_fmt(_bools(correct).astype(int))}"


# --- forgetting_events --------------------------------------------------------------------------


def _correctness_matrices(rng) -> list[tuple]:
    """30 random correctness matrices, 1 to 11 epochs by 1 to 49 examples (the old hidden block, seed 31)."""
    return [(rng.random((int(rng.integers(1, 12)), int(rng.integers(1, 50)))) < 0.6,) for _ in range(30)]


def _learned(correct) -> np.ndarray:
    c = _bools(correct)
    return (~c[:-1] & c[1:]).sum(0)


def _changes(correct) -> np.ndarray:
    c = _bools(correct)
    return (c[:-1] != c[1:]).sum(0)


def _per_epoch(correct) -> np.ndarray:
    c = _bools(correct)
    return (c[:-1] & ~c[1:]).sum(1)


def _wrapped(got, args, expected) -> bool:
    """``np.roll`` over the epochs: the last epoch taken as the one before the first (or the first after the last)."""
    c = _bools(args[0])
    return any(
        np.array_equal(got, counts)
        for counts in ((np.roll(c, 1, axis=0) & ~c).sum(0), (c & ~np.roll(c, -1, axis=0)).sum(0))
    )


def _ever_forgotten(got, args, expected) -> bool:
    c = _bools(args[0])
    return np.array_equal(got, (c[:-1] & ~c[1:]).any(0).astype(int))


_COUNT_VECTOR = vector(
    "counts",
    lambda correct: np.shape(correct)[1],
    "one count per example (column)",
    "Rows are epochs and columns are examples: count, per example, over the epochs (axis=0).",
    exact=True,
)


def _read_counts(out, args, exercise, case) -> np.ndarray:
    """The counts as :data:`_COUNT_VECTOR` reads them; ints when whole numbers (shown ``[2]``, not ``[2.]``)."""
    got = _COUNT_VECTOR.read(out, args, exercise, case)
    whole = np.isfinite(got).all() and np.array_equal(got, np.round(got))
    return got.astype(np.int64) if whole else got


#: One count per example, compared exactly and shown as ints.
COUNTS = Answer("counts", _read_counts, _COUNT_VECTOR.same)

FORGETTING_EVENTS = Exercise(
    name="forgetting_events",
    lab=LAB,
    signature="(correct)",
    points=3,
    reference=forgetting_events,
    answer=COUNTS,
    cases=(
        Case("learned, forgotten, relearned: one event", (np.array([[T], [F], [T]]),)),
        Case("never learned: zero events (the ranking puts it first, in Exercise 2)", (np.array([[F], [F], [F]]),)),
        Case("right, right, then wrong: forgotten in the last epoch, one event", (np.array([[T], [T], [F]]),)),
        Case("forgotten twice", (np.array([[T], [F], [T], [F]]),)),
        Case("learning (wrong -> right) is not forgetting", (np.array([[F], [T], [T]]),)),
        Case(
            "three examples at once: count per example (column)",
            (np.array([[T, F, T], [F, T, T], [T, F, T]]),),
        ),
        Case(
            "three epochs, two examples, both forgotten once: one count per column",
            (np.array([[T, T], [F, F], [F, F]]),),
        ),
        Case("a single epoch: nothing to compare yet", (np.array([[T, F]]),)),
    ),
    hidden=_correctness_matrices,
    hints=(
        Hint(
            "compare consecutive epochs only, correct[:-1] with correct[1:]: the first epoch has no previous one, "
            "and np.roll wraps the last epoch around to before the first.",
            _wrapped,
        ),
        Hint(
            "count every right -> wrong change (sum over the epochs), not whether there was one (any).",
            _ever_forgotten,
        ),
        Hint(
            "you counted wrong -> right (learning); forgetting is right after one epoch, wrong after the next.",
            lambda got, args, expected: np.array_equal(got, _learned(args[0])),
        ),
        Hint(
            "count only the right -> wrong changes, not every change.",
            lambda got, args, expected: np.array_equal(got, _changes(args[0])),
        ),
        Hint(
            "count transitions between consecutive epochs, not the epochs where it was wrong.",
            lambda got, args, expected: np.array_equal(got, (~_bools(args[0])).sum(0)),
        ),
        Hint(
            "these are counts per epoch; each column is one example: count, per example, over the epochs (axis=0).",
            lambda got, args, expected: np.array_equal(got, _per_epoch(args[0])),
        ),
    ),
    hint="count, per example, the epochs t where correct[t-1] is True and correct[t] is False.",
    mistakes=(
        Mistake(
            "counts learning events (wrong -> right) instead of forgetting",
            "def forgetting_events(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    return (~correct[:-1] & correct[1:]).sum(axis=0)\n",
            "wrong -> right",
        ),
        Mistake(
            "counts every change, both ways",
            "def forgetting_events(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    return (correct[:-1] != correct[1:]).sum(axis=0)\n",
            "not every change",
        ),
        Mistake(
            "counts every change with np.diff",
            "def forgetting_events(correct):\n    steps = np.diff(np.asarray(correct, dtype=int), axis=0)\n"
            "    return np.abs(steps).sum(axis=0)\n",
            "not every change",
        ),
        Mistake(
            "counts the epochs where the example was wrong",
            "def forgetting_events(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    return (~correct).sum(axis=0)\n",
            "not the epochs where",
        ),
        Mistake(
            "sums over axis=1 (per epoch) as in Lab 1's scores",
            "def forgetting_events(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    return (correct[:-1] & ~correct[1:]).sum(axis=1)\n",
            "per example",
        ),
        Mistake(
            "overwrites correct in place to save memory",
            "def forgetting_events(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    correct[1:] = correct[:-1] & ~correct[1:]\n    return correct[1:].sum(axis=0)\n",
            "in place",
        ),
        Mistake(
            "compares with np.roll, so the last epoch wraps around to before the first",
            "def forgetting_events(correct):\n    c = np.asarray(correct, dtype=bool)\n"
            "    prev = np.roll(c, 1, axis=0)\n    return (prev & ~c).sum(axis=0)\n",
            "consecutive epochs only",
        ),
        Mistake(
            "says whether the example was ever forgotten (any), not how often",
            "def forgetting_events(correct):\n    c = np.asarray(correct, dtype=bool)\n"
            "    return (c[:-1] & ~c[1:]).any(axis=0)\n",
            "not whether there was one",
        ),
    ),
    seed=31,
    show=_show_correct,
)


# --- forgetting_order ---------------------------------------------------------------------------


def _keys(correct, never) -> np.ndarray:
    """Forgetting events as floats, ``inf`` where ``never`` (a boolean mask) holds."""
    keys = forgetting_events(correct).astype(float)
    keys[never] = np.inf
    return keys


def _never(correct) -> np.ndarray:
    return ~_bools(correct).any(0)


def _same_keys_other_ties(got, args, expected) -> bool:
    keys = _keys(args[0], _never(args[0]))
    return sorted(got) == sorted(expected) and np.array_equal(keys[got], keys[expected])


def _never_not_first(got, args, expected) -> bool:
    return got == np.argsort(-forgetting_events(args[0]), kind="stable").tolist()


def _never_by_the_wrong_rule(got, args, expected) -> bool:
    c = _bools(args[0])
    return any(got == np.argsort(-_keys(c, never), kind="stable").tolist() for never in (~c[-1], ~c.all(0)))


def _ascending(got, args, expected) -> bool:
    keys = _keys(args[0], _never(args[0]))
    return got == np.argsort(keys, kind="stable").tolist() or got == np.argsort(keys).tolist()


def _rankings(rng) -> list[tuple]:
    """20 random correctness matrices of 2 to 8 epochs by 20 to 200 examples: many ties, some never learned."""
    cases = []
    for _ in range(20):
        epochs, n = int(rng.integers(2, 9)), int(rng.integers(20, 201))
        cases.append((rng.random((epochs, n)) < rng.uniform(0.4, 0.9),))
    return cases


#: 24 examples over two epochs: 18 forgotten once (columns 4 to 21), 6 never forgotten. With 18 tied keys
#: numpy's default argsort (introsort) orders ties arbitrarily, so only a stable sort passes.
_TIES = np.array([[T] * MANY_TIES.size, MANY_TIES < 0.5])  # the 90 examples forgotten once tie

ORDER = Answer("order", INDICES.read, INDICES.same)

FORGETTING_ORDER = Exercise(
    name="forgetting_order",
    lab=LAB,
    signature="(correct)",
    points=3,
    reference=forgetting_order,
    answer=ORDER,
    cases=(
        Case(
            "most forgotten first: 2 events, then 1, then 0", (np.array([[T, T, T], [F, F, T], [T, T, T], [T, F, T]]),)
        ),
        Case(
            "a never-learned example (column 1) has 0 events but goes first",
            (np.array([[T, F, T], [F, F, T], [T, F, T]]),),
        ),
        Case(
            "column 0 ends wrong but was learned once: ranked by its 1 event, after the never-learned column 1",
            (np.array([[F, F, T, T], [T, F, F, T], [F, F, T, T]]),),
        ),
        Case("a single epoch: the wrong ones were never learned", (np.array([[T, F, T, F]]),)),
        Case("90 examples forgotten once tie: they keep index order", (_TIES,)),
    ),
    hidden=_rankings,
    hints=(
        Hint(
            "the right groups, with ties in the wrong order: ties go to the lower index. np.argsort's default "
            "sort does not keep equal keys in order, and reversing an ascending sort puts the higher index "
            "first; sort the negated counts with kind='stable'.",
            _same_keys_other_ties,
        ),
        Hint(
            "an example never classified correctly has 0 forgetting events, yet it is the hardest of all: "
            "rank the never-learned examples first (e.g. as if forgotten np.inf times).",
            _never_not_first,
        ),
        Hint(
            "never learned means no True anywhere in its column (correct.any(axis=0) is False); an example that "
            "was right once counts by its forgetting events.",
            _never_by_the_wrong_rule,
        ),
        Hint("hardest first: never learned, then the most forgotten, then the least.", _ascending),
    ),
    hint="list every example once: never learned first, then by forgetting events, most first; ties by index.",
    mistakes=(
        Mistake(
            "ranks by forgetting events alone: never-learned examples, with 0 events, go last",
            "def forgetting_order(correct):\n    events = forgetting_events(correct)\n"
            '    return np.argsort(-events, kind="stable")\n',
            "never classified correctly",
        ),
        Mistake(
            "the default (unstable) argsort",
            "def forgetting_order(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    events = forgetting_events(correct).astype(float)\n"
            "    events[~correct.any(axis=0)] = np.inf\n    return np.argsort(-events)\n",
            "kind='stable'",
        ),
        Mistake(
            "reverses an ascending sort",
            "def forgetting_order(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    events = forgetting_events(correct).astype(float)\n"
            '    events[~correct.any(axis=0)] = np.inf\n    return np.argsort(events, kind="stable")[::-1]\n',
            "kind='stable'",
        ),
        Mistake(
            "sorts easiest first",
            "def forgetting_order(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    events = forgetting_events(correct).astype(float)\n"
            '    events[~correct.any(axis=0)] = np.inf\n    return np.argsort(events, kind="stable")\n',
            "hardest first",
        ),
        Mistake(
            "takes 'wrong after the last epoch' for never learned",
            "def forgetting_order(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    events = forgetting_events(correct).astype(float)\n"
            '    events[~correct[-1]] = np.inf\n    return np.argsort(-events, kind="stable")\n',
            "no True anywhere",
        ),
        Mistake(
            "takes 'wrong at least once' for never learned",
            "def forgetting_order(correct):\n    correct = np.asarray(correct, dtype=bool)\n"
            "    events = forgetting_events(correct).astype(float)\n"
            '    events[~correct.all(axis=0)] = np.inf\n    return np.argsort(-events, kind="stable")\n',
            "no True anywhere",
        ),
    ),
    uses=("forgetting_events",),
    seed=34,
    show=_show_correct,
)


# --- keep_hardest -------------------------------------------------------------------------------


def _subsets(rng) -> list[tuple]:
    """30 random rankings of 5 to 199 examples in 1 to 5 classes (the old hidden block, seed 32)."""
    cases = []
    for _ in range(30):
        n = int(rng.integers(5, 200))
        labels = rng.integers(0, int(rng.integers(1, 6)), size=n)
        order = rng.permutation(n)
        cases.append((order, labels, float(rng.uniform(0.05, 1.0))))
    return cases


def _overall_top(got, args, expected) -> bool:
    order, _, fraction = args
    return got == sorted(np.asarray(order)[: math.ceil(fraction * len(order))].tolist())


def _positions_for_indices(got, args, expected) -> bool:
    order, labels, fraction = (np.asarray(a) for a in args)
    kept = [order[labels == c][: math.ceil(fraction * (labels == c).sum())] for c in np.unique(labels)]
    return got == sorted(np.concatenate(kept).tolist())


def _rounded_otherwise(got, args, expected) -> bool:
    """Each class's quota rounded by round(), int() or half up instead of math.ceil."""
    order, labels, fraction = np.asarray(args[0]), np.asarray(args[1]), args[2]
    of_class = [(order[labels[order] == c], int((labels == c).sum())) for c in np.unique(labels)]
    return any(
        got == sorted(np.concatenate([idx[: quota(fraction * n)] for idx, n in of_class]).tolist())
        for quota in (round, int, lambda x: int(math.floor(x + 0.5)))
    )


def _missed_a_class(got, args, expected) -> bool:
    """Right for some classes, nothing at all for the others (``range(labels.max())`` misses the last one)."""
    labels = np.asarray(args[1])
    seen = {int(labels[i]) for i in got}
    missing = {int(c) for c in np.unique(labels)} - seen
    return bool(missing) and got == [i for i in expected if int(labels[i]) not in missing]


def _kept_the_end(got, args, expected) -> bool:
    order = np.asarray(args[0])
    return bool(set(got) & set(order[::-1][: len(expected)].tolist())) and not set(got) & set(expected)


SUBSET = Answer("subset", INDICES.read, INDICES.same)

KEEP_HARDEST = Exercise(
    name="keep_hardest",
    lab=LAB,
    signature="(order, labels, fraction)",
    points=3,
    reference=keep_hardest,
    answer=SUBSET,
    cases=(
        Case("half of each class, hardest first", (np.array([3, 0, 1, 2]), np.array([0, 0, 1, 1]), 0.5)),
        Case(
            "an easy class still keeps its share",
            (np.array([0, 1, 2, 3, 4, 5]), np.array([0, 0, 0, 0, 1, 1]), 0.5),
        ),
        Case("round the quota up: ceil(0.5 * 3) = 2", (np.array([2, 1, 0, 3]), np.array([0, 0, 0, 1]), 0.5)),
        Case("keep everything", (np.array([1, 0]), np.array([0, 1]), 1.0)),
        Case(
            "the result is sorted; ceil(0.3 * 3) = 1 per class",
            (np.array([5, 4, 3, 2, 1, 0]), np.array([0, 1, 0, 1, 0, 1]), 0.3),
        ),
    ),
    hidden=_subsets,
    hints=(
        Hint(
            "round each class's quota up with math.ceil(fraction * n_c): round() and int() keep fewer, and can "
            "leave a class with 0.",
            _rounded_otherwise,
        ),
        Hint(
            "a class got nothing: loop over every class, for c in np.unique(labels), including the last "
            "(range(labels.max()) stops before it).",
            _missed_a_class,
        ),
        Hint("keep a share of *each class* (the class-balance guard), not the overall top.", _overall_top),
        Hint("return the indices sorted (np.sort).", lambda got, args, expected: sorted(got) == list(expected)),
        Hint(
            "order holds training indices: the class of order[i] is labels[order[i]], not labels[i].",
            _positions_for_indices,
        ),
        Hint(
            "round each class's quota up with math.ceil, so that no class is left with 0.",
            lambda got, args, expected: len(got) < len(expected),
        ),
        Hint("order lists the hardest first: keep the start of it, not the end.", _kept_the_end),
    ),
    hint="for each class c, keep the first ceil(fraction * n_c) indices of order with label c.",
    mistakes=(
        Mistake(
            "keeps the overall top, not a share of each class",
            "def keep_hardest(order, labels, fraction):\n    order = np.asarray(order)\n"
            "    return np.sort(order[: math.ceil(fraction * len(order))])\n",
            "each class",
        ),
        Mistake(
            "rounds each class's quota down",
            "def keep_hardest(order, labels, fraction):\n    order, labels = np.asarray(order), np.asarray(labels)\n"
            "    kept = []\n    for c in np.unique(labels):\n        of_class = order[labels[order] == c]\n"
            "        kept.append(of_class[: int(fraction * of_class.size)])\n"
            "    return np.sort(np.concatenate(kept))\n",
            "math.ceil",
        ),
        Mistake(
            "returns the classes one after the other, not sorted",
            "def keep_hardest(order, labels, fraction):\n    order, labels = np.asarray(order), np.asarray(labels)\n"
            "    kept = []\n    for c in np.unique(labels):\n        of_class = order[labels[order] == c]\n"
            "        kept.append(of_class[: math.ceil(fraction * of_class.size)])\n"
            "    return np.concatenate(kept)\n",
            "sorted",
        ),
        Mistake(
            "reads the class of position i instead of index order[i]",
            "def keep_hardest(order, labels, fraction):\n    order, labels = np.asarray(order), np.asarray(labels)\n"
            "    kept = []\n    for c in np.unique(labels):\n        of_class = order[labels == c]\n"
            "        kept.append(of_class[: math.ceil(fraction * of_class.size)])\n"
            "    return np.sort(np.concatenate(kept))\n",
            "labels[order[i]]",
        ),
        Mistake(
            "keeps the end of order (the easiest)",
            "def keep_hardest(order, labels, fraction):\n    order, labels = np.asarray(order), np.asarray(labels)\n"
            "    kept = []\n    for c in np.unique(labels):\n        of_class = order[labels[order] == c]\n"
            "        kept.append(of_class[-math.ceil(fraction * of_class.size):])\n"
            "    return np.sort(np.concatenate(kept))\n",
            "start of it",
        ),
        Mistake(
            "loops over range(labels.max()), missing the last class",
            "def keep_hardest(order, labels, fraction):\n    order, labels = np.asarray(order), np.asarray(labels)\n"
            "    kept = []\n    for c in range(labels.max()):\n        of_class = order[labels[order] == c]\n"
            "        kept.append(of_class[: math.ceil(fraction * of_class.size)])\n"
            "    return np.sort(np.concatenate(kept))\n",
            "np.unique(labels)",
        ),
        Mistake(
            "rounds each class's quota with round() instead of math.ceil",
            "def keep_hardest(order, labels, fraction):\n    order, labels = np.asarray(order), np.asarray(labels)\n"
            "    kept = []\n    for c in np.unique(labels):\n        idx = order[labels[order] == c]\n"
            "        kept.append(idx[: round(fraction * (labels == c).sum())])\n"
            "    return np.sort(np.concatenate(kept))\n",
            "math.ceil",
        ),
    ),
    seed=32,
)

EXERCISES = (FORGETTING_EVENTS, FORGETTING_ORDER, KEEP_HARDEST)
