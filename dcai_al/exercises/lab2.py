"""Lab 2's graded functions: top-J batches, the k-centers update, greedy k-centers, the coverage radius.

Several hints compare a wrong answer with what a known slip would return on
the same arguments (a k-centers loop started from zeros, one that never
updates, argmin for argmax), so each names the slip that was actually made.

>>> [e.name for e in EXERCISES]
['top_j', 'update_min_distances', 'k_center_greedy', 'coverage_radius']
"""

from __future__ import annotations

import numpy as np

from ..acquisition import select_top
from ..diversity import coverage_radius, k_center_greedy
from .answers import INDICES, NUMBER, vector
from .record import Answer, Case, Exercise, Hint, Mistake
from .ties import MANY_TIES, stable_hint, ties_misordered

LAB = "lab2-batch-diversity"


# --- top_j ----------------------------------------------------------------------


def reference_top_j(scores, batch_size, labelled):
    """The kit's top-J selection with the exercise's signature."""
    return select_top(scores, batch_size, labelled=labelled)


_STABLE_HINT = stable_hint("scores")


def _unlabelled_scores(scores, labelled) -> np.ndarray:
    s = np.array(scores, dtype=float)
    s[np.asarray(labelled, dtype=int)] = -np.inf
    return s


def _reversed_ascending(scores, batch_size, labelled) -> list[int]:
    """What ``np.argsort(scores)[::-1][:batch_size]`` gives (labelled excluded): ties by the higher index."""
    return [int(i) for i in np.argsort(_unlabelled_scores(scores, labelled), kind="stable")[::-1][:batch_size]]


def _lowest_unlabelled(scores, batch_size, labelled) -> list[int]:
    """The first ``batch_size`` unlabelled indices in index order, as np.setdiff1d leaves them."""
    return [int(i) for i in np.setdiff1d(np.arange(len(scores)), labelled)[:batch_size]]


def _unlabelled_positions(scores, batch_size, labelled) -> list[int]:
    """What ranking ``scores[unlabelled]`` gives without mapping back: positions in the unlabelled list."""
    unlabelled = np.setdiff1d(np.arange(len(scores)), labelled)
    return [int(i) for i in np.argsort(-np.asarray(scores, dtype=float)[unlabelled], kind="stable")[:batch_size]]


def _smallest(scores, batch_size, labelled) -> list[int]:
    s = np.array(scores, dtype=float)
    s[np.asarray(labelled, dtype=int)] = np.inf
    return [int(i) for i in np.argsort(s, kind="stable")[:batch_size]]


def _top_j_cases(rng) -> list[tuple]:
    """Up to 60 scores on a grid of 5 values (many ties), up to half of them labelled."""
    cases = []
    for _ in range(100):
        n = int(rng.integers(5, 60))
        scores = rng.integers(0, 5, size=n) / 4.0
        labelled = rng.choice(n, int(rng.integers(0, n // 2)), replace=False)
        batch_size = int(rng.integers(1, n - len(labelled) + 1))
        cases.append((scores, batch_size, labelled))
    return cases


def _top_j_mistake(body: str) -> str:
    return "def top_j(scores, batch_size, labelled):\n" + body


NONE = np.array([], dtype=int)

TOP_J = Exercise(
    name="top_j",
    lab=LAB,
    signature="(scores, batch_size, labelled)",
    points=2,
    reference=reference_top_j,
    answer=INDICES,
    cases=(
        Case("the 2 largest of 5 scores", (np.array([0.1, 0.9, 0.3, 0.8, 0.2]), 2, NONE)),
        Case("largest first, in decreasing order of score", (np.array([0.5, 0.1, 0.7, 0.6]), 3, NONE)),
        Case(
            "labelled points are skipped even if they score highest", (np.array([0.9, 0.1, 0.7, 0.6]), 2, np.array([0]))
        ),
        Case("ties go to the lower index", (np.array([0.5, 0.5, 0.5, 0.1]), 2, NONE)),
        Case("exactly as many as asked: batch_size = 1", (np.array([0.3, 0.4]), 1, NONE)),
        Case(
            "90 tied scores in a row of 100: ties still go to the lower index",
            (MANY_TIES, 5, NONE),
        ),
        Case(
            "ties and labelled points together",
            (np.array([0.2, 0.8, 0.8, 0.5, 0.8, 0.5]), 3, np.array([2])),
        ),
        Case(
            "an unlabelled point with a negative score is still chosen before a labelled one",
            (np.array([0.9, 0.4, -0.1]), 2, np.array([0])),
        ),
    ),
    hidden=_top_j_cases,
    hints=(
        Hint(
            "return exactly batch_size indices (check your slice for an off-by-one).",
            lambda got, args, expected: len(got) != args[1],
        ),
        Hint(
            "np.argsort over scores[unlabelled] gives positions in that list, not pool indices: return "
            "unlabelled[top], the indices into scores.",
            lambda got, args, expected: got == _unlabelled_positions(*args),
        ),
        Hint(
            "never return an index that is already labelled: rule them out before ranking, by setting their scores "
            "to -np.inf (a score can be 0 or negative, so 0 does not rule a point out).",
            lambda got, args, expected: bool(set(got) & {int(i) for i in args[2]}),
        ),
        Hint(
            "ties go to the lower index, but reversing an ascending sort puts the higher index first: "
            "sort the negated scores instead, np.argsort(-scores, kind='stable').",
            lambda got, args, expected: got == _reversed_ascending(*args),
        ),
        Hint(_STABLE_HINT, lambda got, args, expected: ties_misordered(got, expected, args[0])),
        Hint(
            "the right indices in the wrong order: largest score first, ties by lower index.",
            lambda got, args, expected: sorted(got) == sorted(expected),
        ),
        Hint(
            "you returned the lowest indices in index order: np.setdiff1d (like np.unique) sorts what it returns. "
            "Keep the ranking's order, e.g. order[~np.isin(order, labelled)].",
            lambda got, args, expected: got == _lowest_unlabelled(*args),
        ),
        Hint(
            "you took the smallest scores; the batch should hold the largest.",
            lambda got, args, expected: got == _smallest(*args),
        ),
    ),
    hint="sort by score, largest first (np.argsort(-scores, kind='stable')), leaving out the labelled points.",
    mistakes=(
        Mistake(
            "forgets to leave out the labelled points",
            _top_j_mistake("    return np.argsort(-np.asarray(scores), kind='stable')[:batch_size]\n"),
            "already labelled",
        ),
        Mistake(
            "off by one in the slice",
            _top_j_mistake(
                "    s = np.array(scores, dtype=float)\n"
                "    s[np.asarray(labelled, dtype=int)] = -np.inf\n"
                "    return np.argsort(-s, kind='stable')[: batch_size + 1]\n"
            ),
            "off-by-one",
        ),
        Mistake(
            "numpy's default argsort: ties in any order",
            _top_j_mistake(
                "    s = np.array(scores, dtype=float)\n"
                "    s[np.asarray(labelled, dtype=int)] = -np.inf\n"
                "    return np.argsort(-s)[:batch_size]\n"
            ),
            "kind='stable'",
        ),
        Mistake(
            "reverses an ascending argsort: ties go to the higher index",
            _top_j_mistake(
                "    s = np.array(scores, dtype=float)\n"
                "    s[np.asarray(labelled, dtype=int)] = -np.inf\n"
                "    return np.argsort(s, kind='stable')[::-1][:batch_size]\n"
            ),
            "reversing an ascending sort",
        ),
        Mistake(
            "sorts ascending: the smallest scores",
            _top_j_mistake(
                "    s = np.array(scores, dtype=float)\n"
                "    s[np.asarray(labelled, dtype=int)] = np.inf\n"
                "    return np.argsort(s, kind='stable')[:batch_size]\n"
            ),
            "smallest",
        ),
        Mistake(
            "drops the labelled points with np.setdiff1d, which sorts by index",
            _top_j_mistake(
                "    order = np.argsort(-np.asarray(scores), kind='stable')\n"
                "    return np.setdiff1d(order, labelled)[:batch_size]\n"
            ),
            "np.setdiff1d",
        ),
        Mistake(
            "thresholds at the batch_size-th largest score: indices in index order",
            _top_j_mistake(
                "    s = np.array(scores, dtype=float)\n"
                "    s[np.asarray(labelled, dtype=int)] = -np.inf\n"
                "    cut = np.sort(s)[-batch_size]\n"
                "    return np.flatnonzero(s >= cut)[:batch_size]\n"
            ),
            "wrong order",
        ),
        Mistake(
            "rules out the labelled points in the caller's scores",
            _top_j_mistake(
                "    s = np.asarray(scores, dtype=float)\n"
                "    s[np.asarray(labelled, dtype=int)] = -np.inf\n"
                "    return np.argsort(-s, kind='stable')[:batch_size]\n"
            ),
            "in place",
        ),
        Mistake(
            "rules out the labelled points with a score of 0, which an unlabelled score of 0 or less does not beat",
            _top_j_mistake(
                "    s = np.array(scores, dtype=float)\n"
                "    s[labelled] = 0\n"
                '    return np.argsort(-s, kind="stable")[:batch_size]\n'
            ),
            "can be 0 or negative",
        ),
        Mistake(
            "returns positions in the list of unlabelled points, not pool indices",
            _top_j_mistake(
                "    unl = np.setdiff1d(np.arange(len(scores)), labelled)\n"
                '    return np.argsort(-np.asarray(scores)[unl], kind="stable")[:batch_size]\n'
            ),
            "unlabelled[top]",
        ),
    ),
    seed=11,
)


# --- update_min_distances ----------------------------------------------------------


def reference_update_min_distances(min_dist, features, center):
    """Each point's distance to its nearest center once ``center`` is one too (Euclidean)."""
    features = np.asarray(features, dtype=float)
    return np.minimum(min_dist, np.linalg.norm(features - features[center], axis=1))


SQUARE = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 0.0], [1.0, 0.0]])


def _update_cases(rng) -> list[tuple]:
    """40 points in 5 dimensions, random old distances, a random new center."""
    cases = []
    for _ in range(30):
        features = rng.standard_normal((40, 5))
        min_dist = rng.uniform(0, 4, size=40)
        center = int(rng.integers(40))
        cases.append((min_dist, features, center))
    return cases


def _to_center(features, center, ord=None) -> np.ndarray:
    """Each point's distance to ``features[center]``: Euclidean, or the ``ord`` norm."""
    features = np.asarray(features, dtype=float)
    return np.linalg.norm(features - features[center], ord=ord, axis=1)


def _near(got, value) -> bool:
    return bool(np.allclose(got, value, equal_nan=True))


def _update_mistake(body: str) -> str:
    return "def update_min_distances(min_dist, features, center):\n" + body


UPDATE_MIN_DISTANCES = Exercise(
    name="update_min_distances",
    lab=LAB,
    signature="(min_dist, features, center)",
    points=2,
    reference=reference_update_min_distances,
    answer=vector(
        "distances",
        lambda min_dist, features, center: len(features),
        "one distance per point",
        "Take the norm over the features with axis=1.",
    ),
    cases=(
        Case("nothing covered yet (all inf); new center 0", (np.full(4, np.inf), SQUARE, 0)),
        Case("center 2 changes only its own distance (point 1 ties at 5)", (np.array([0.0, 5.0, 6.0, 1.0]), SQUARE, 2)),
        Case("a new center never increases a distance", (np.array([0.0, 1.0, 1.0, 0.5]), SQUARE, 1)),
    ),
    hidden=_update_cases,
    hints=(
        Hint(
            "use the Euclidean distance (np.linalg.norm or the square root), not the squared one.",
            lambda got, args, expected: _near(got, np.minimum(args[0], _to_center(args[1], args[2]) ** 2)),
        ),
        Hint(
            "use the Euclidean distance (np.linalg.norm(..., axis=1)), not the sum of absolute differences (the L1 "
            "distance).",
            lambda got, args, expected: _near(got, np.minimum(args[0], _to_center(args[1], args[2], ord=1))),
        ),
        Hint(
            "center is an index: the new center's coordinates are features[center].",
            lambda got, args, expected: _near(
                got, np.minimum(args[0], np.linalg.norm(np.asarray(args[1], dtype=float) - args[2], axis=1))
            ),
        ),
        Hint(
            "take one norm per point, over the features (axis=1), not one norm of the whole array.",
            lambda got, args, expected: _near(
                got, np.minimum(args[0], np.linalg.norm(np.asarray(args[1]) - np.asarray(args[1])[args[2]]))
            ),
        ),
        Hint(
            "keep the old distance where it is smaller: np.minimum(min_dist, new).",
            lambda got, args, expected: _near(got, _to_center(args[1], args[2])),
        ),
        Hint(
            "the nearest center gives the minimum, not the maximum.",
            lambda got, args, expected: _near(got, np.maximum(args[0], _to_center(args[1], args[2]))),
        ),
    ),
    hint="take the element-wise minimum of the old distances and the Euclidean distances to the new center.",
    mistakes=(
        Mistake(
            "squared distances",
            _update_mistake("    return np.minimum(min_dist, ((features - features[center]) ** 2).sum(axis=1))\n"),
            "not the squared one",
        ),
        Mistake(
            "forgets the old distances",
            _update_mistake("    return np.linalg.norm(features - features[center], axis=1)\n"),
            "np.minimum",
        ),
        Mistake(
            "takes the maximum",
            _update_mistake("    return np.maximum(min_dist, np.linalg.norm(features - features[center], axis=1))\n"),
            "not the maximum",
        ),
        Mistake(
            "uses the index as a point",
            _update_mistake("    return np.minimum(min_dist, np.linalg.norm(features - center, axis=1))\n"),
            "features[center]",
        ),
        Mistake(
            "one norm of the whole array",
            _update_mistake("    return np.minimum(min_dist, np.linalg.norm(features - features[center]))\n"),
            "axis=1",
        ),
        Mistake(
            "updates min_dist in place",
            _update_mistake(
                "    np.minimum(min_dist, np.linalg.norm(features - features[center], axis=1), out=min_dist)\n"
                "    return min_dist\n"
            ),
            "min_dist = min_dist.copy()",
        ),
        Mistake(
            "the L1 distance (the sum of absolute differences)",
            _update_mistake("    return np.minimum(min_dist, np.abs(features - features[center]).sum(axis=1))\n"),
            "not the sum of absolute differences",
        ),
    ),
    seed=12,
)


# --- k_center_greedy ---------------------------------------------------------------


def _greedy(
    features, batch_size, labelled, *, start=np.inf, update=True, exclude=True, pick=np.argmax, every=True, mark=-np.inf
):
    """Greedy k-centers with one slip or none: what a wrong loop returns on the same arguments.

    ``start``: the initial distances; ``update``: lower them after each pick;
    ``exclude``: give centers ``mark`` (-inf); ``pick``: argmax or argmin; ``every``: start
    from every labelled point, or only the last one (the distances reset in the loop).
    """
    X = np.asarray(features, dtype=float)
    min_dist = np.full(len(X), start, dtype=float)
    for c in labelled:
        fresh = min_dist if every else np.full(len(X), start, dtype=float)
        min_dist = np.minimum(fresh, np.linalg.norm(X - X[c], axis=1))
    if exclude:
        min_dist[np.asarray(labelled, dtype=int)] = mark
    chosen = []
    for _ in range(batch_size):
        i = int(pick(min_dist))
        chosen.append(i)
        if update:
            min_dist = np.minimum(min_dist, np.linalg.norm(X - X[i], axis=1))
        if exclude:
            min_dist[i] = mark
    return chosen


def _slip(**slip):
    """A hint's test: the answer is what greedy k-centers with this slip (either way of excluding) gives."""

    def when(got, args, expected):
        return any(got == _greedy(*args, exclude=exclude, **slip) for exclude in (True, False))

    return when


def _k_center_cases(rng) -> list[tuple]:
    """10 to 80 Gaussian points in 3 dimensions, 1 to 4 labelled, batches of up to 10."""
    cases = []
    for _ in range(25):
        n = int(rng.integers(10, 80))
        features = rng.standard_normal((n, 3))
        labelled = rng.choice(n, int(rng.integers(1, 5)), replace=False)
        batch_size = int(rng.integers(1, min(10, n - len(labelled)) + 1))
        cases.append((features, batch_size, labelled))
    return cases


def _repeats(got, args, expected) -> bool:
    return len(set(got)) < len(got)


def _k_center_mistake(body: str, start: str = "np.full(len(features), np.inf)", exclude: bool = True) -> str:
    """The solution's loop with ``body`` as its picking loop, started at ``start``."""
    head = (
        "def k_center_greedy(features, batch_size, labelled):\n"
        "    features = np.asarray(features, dtype=float)\n"
        f"    min_dist = {start}\n"
        "    for c in labelled:\n"
        "        min_dist = update_min_distances(min_dist, features, c)\n"
    )
    if exclude:
        head += "    min_dist[labelled] = -np.inf\n"
    return head + "    chosen = []\n    for _ in range(batch_size):\n" + body + "    return np.array(chosen)\n"


_PICK = "        pick = int(np.argmax(min_dist))\n        chosen.append(pick)\n"
_UPDATE = "        min_dist = update_min_distances(min_dist, features, pick)\n"
_EXCLUDE = "        min_dist[pick] = -np.inf\n"

LINE = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]])

K_CENTER_GREEDY = Exercise(
    name="k_center_greedy",
    lab=LAB,
    signature="(features, batch_size, labelled)",
    points=3,
    reference=k_center_greedy,
    answer=Answer("selection", INDICES.read, INDICES.same),
    cases=(
        Case(
            "a line; labelled [2]: the farthest point first, then the farthest from both centers",
            (LINE, 2, np.array([2])),
        ),
        Case("a line; labelled [0]: the farthest point first", (LINE, 2, np.array([0]))),
        Case("labelled points are never chosen again; a tie goes to the lower index", (LINE, 3, np.array([0, 4]))),
        Case("a square with one corner labelled: the opposite corner first, then a tie", (CORNERS, 2, np.array([0]))),
        Case("batch_size 1", (LINE, 1, np.array([3]))),
    ),
    hidden=_k_center_cases,
    hints=(
        Hint(
            "return exactly batch_size new indices, without the labelled ones.",
            lambda got, args, expected: len(got) != args[1],
        ),
        Hint(
            "return row indices of features, from 0 to len(features) - 1.",
            lambda got, args, expected: not all(0 <= i < len(args[0]) for i in got),
        ),
        Hint(
            "every labelled point is a center from the start: lower the same min_dist with each of them in turn, "
            "rather than starting it afresh for each one.",
            _slip(every=False),
        ),
        Hint(
            "you picked the lowest indices, which is what np.argmax gives when all distances are equal: did you "
            "start the distances at zeros? Start them at np.inf (np.full(n, np.inf)) and lower them with "
            "np.minimum for each center.",
            _slip(start=0.0),
        ),
        Hint(
            "you picked a point that is already a center: argmin does that (a center's distance is 0, or -inf), "
            "and so does argmax when centers are marked np.inf. Each step takes the point *farthest* from its "
            "nearest center (argmax), and centers get -np.inf so that they are never picked.",
            lambda got, args, expected: got[0] in {int(i) for i in args[2]},
        ),
        Hint(
            "you picked the nearest point (argmin); each step takes the point *farthest* from its nearest center "
            "(argmax).",
            lambda got, args, expected: got == _greedy(*args, pick=np.argmin, mark=np.inf),
        ),
        Hint(
            "you picked the same point again: after each pick, update the distances with the new center "
            "(np.minimum with its distances), so that it counts as a center from then on.",
            lambda got, args, expected: (
                got == _greedy(*args, update=False, exclude=False) and _repeats(got, args, expected)
            ),
        ),
        Hint(
            "you took the points farthest from the labelled set, but never updated the distances after a pick, so "
            "the next pick can sit right next to the last one. Update the distances with each new center.",
            lambda got, args, expected: got == _greedy(*args, update=False),
        ),
        Hint(
            "you picked a point that is already a center (labelled, or picked before): after each pick, update the "
            "distances and give the centers -np.inf, so that argmax never picks one again.",
            lambda got, args, expected: bool(set(got) & {int(i) for i in args[2]}) or _repeats(got, args, expected),
        ),
        Hint(
            "the right points in another order: return them in the order picked.",
            lambda got, args, expected: sorted(got) == sorted(expected),
        ),
    ),
    hint="each step picks the point whose distance to its nearest center is largest (argmax), then updates.",
    mistakes=(
        Mistake("takes argmin", _k_center_mistake(_PICK.replace("argmax", "argmin") + _UPDATE + _EXCLUDE), "argmin"),
        Mistake(
            "starts the distances at zeros",
            _k_center_mistake(_PICK + _UPDATE + _EXCLUDE, start="np.zeros(len(features))"),
            "np.full(n, np.inf)",
        ),
        Mistake(
            "starts the distances at zeros and never rules out centers",
            _k_center_mistake(_PICK + _UPDATE, start="np.zeros(len(features))", exclude=False),
            "start the distances at zeros",
        ),
        Mistake(
            "never updates the distances after a pick",
            _k_center_mistake(_PICK + _EXCLUDE),
            "never updated the distances",
        ),
        Mistake(
            "never updates after a pick, nor rules the pick out",
            _k_center_mistake(_PICK, exclude=False),
            "the same point again",
        ),
        Mistake(
            "marks the centers with np.inf",
            _k_center_mistake(_PICK + _UPDATE + _EXCLUDE.replace("-np.inf", "np.inf")).replace(
                "min_dist[labelled] = -np.inf", "min_dist[labelled] = np.inf"
            ),
            "already a center",
        ),
        Mistake(
            "starts the distances afresh for each labelled point",
            _k_center_mistake(_PICK + _UPDATE + _EXCLUDE).replace(
                "update_min_distances(min_dist, features, c)",
                "update_min_distances(np.full(len(features), np.inf), features, c)",
            ),
            "every labelled point",
        ),
        Mistake(
            "returns the labelled points too",
            _k_center_mistake(_PICK + _UPDATE + _EXCLUDE).replace(
                "return np.array(chosen)", "return np.concatenate([labelled, chosen]).astype(int)"
            ),
            "without the labelled ones",
        ),
        Mistake(
            "one pick short",
            _k_center_mistake(_PICK + _UPDATE + _EXCLUDE).replace("range(batch_size)", "range(batch_size - 1)"),
            "exactly batch_size",
        ),
    ),
    uses=("update_min_distances",),
    seed=13,
)


# --- coverage_radius ---------------------------------------------------------------


def _nearest(features, centers) -> np.ndarray:
    """Each point's distance to its nearest center."""
    X = np.asarray(features, dtype=float)
    return np.linalg.norm(X[:, None, :] - X[np.asarray(centers, dtype=int)][None], axis=2).min(axis=1)


def _radius_cases(rng) -> list[tuple]:
    """50 Gaussian points in 4 dimensions, 1 to 9 centers."""
    return [
        (rng.standard_normal((50, 4)), rng.choice(50, int(rng.integers(1, 10)), replace=False).tolist())
        for _ in range(20)
    ]


def _radius_mistake(body: str) -> str:
    return "def coverage_radius(features, centers):\n    features = np.asarray(features, dtype=float)\n" + body


_MIN_DIST = (
    "    min_dist = np.full(len(features), np.inf)\n"
    "    for c in centers:\n"
    "        min_dist = update_min_distances(min_dist, features, c)\n"
)

POINTS = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [0.0, 1.0]])

COVERAGE_RADIUS = Exercise(
    name="coverage_radius",
    lab=LAB,
    signature="(features, centers)",
    points=2,
    reference=coverage_radius,
    answer=Answer("radius", NUMBER.read, NUMBER.same),
    cases=(
        Case("one center at the origin: the farthest point is 10 away", (POINTS, [0])),
        Case("center in the middle", (POINTS, [1])),
        Case("every point a center", (POINTS, [0, 1, 2, 3])),
        Case("two centers: each point uses its nearest", (POINTS, [0, 2])),
    ),
    hidden=_radius_cases,
    hints=(
        Hint(
            "return the Euclidean distance, not its square.",
            lambda got, args, expected: np.isclose(got, _nearest(*args).max() ** 2),
        ),
        Hint(
            "return the largest distance itself, not the index of the point it belongs to.",
            lambda got, args, expected: got == int(np.argmax(_nearest(*args))),
        ),
        Hint(
            "the radius is the largest of the nearest-center distances, not their mean.",
            lambda got, args, expected: np.isclose(got, _nearest(*args).mean()),
        ),
        Hint(
            "each point counts only its nearest center (the minimum over the centers); then take the largest "
            "over the points.",
            lambda got, args, expected: np.isclose(got, _nearest(args[0], args[1][:1]).max()),
        ),
    ),
    hint="for each point take the distance to its nearest center, then the largest of those.",
    mistakes=(
        Mistake(
            "squared distances",
            _radius_mistake(
                "    d = ((features[:, None, :] - features[centers][None]) ** 2).sum(axis=2)\n"
                "    return float(d.min(axis=1).max())\n"
            ),
            "not its square",
        ),
        Mistake(
            "the mean instead of the largest",
            _radius_mistake(_MIN_DIST + "    return float(min_dist.mean())\n"),
            "not their mean",
        ),
        Mistake(
            "the index of the farthest point",
            _radius_mistake(_MIN_DIST + "    return int(np.argmax(min_dist))\n"),
            "not the index",
        ),
        Mistake(
            "the largest distance to any center",
            _radius_mistake(
                "    d = np.linalg.norm(features[:, None, :] - features[centers][None], axis=2)\n"
                "    return float(d.max())\n"
            ),
            "nearest center",
        ),
        Mistake(
            "returns every point's distance",
            _radius_mistake(_MIN_DIST + "    return min_dist\n"),
            "one number",
        ),
        Mistake(
            "a one-element array (keepdims=True), which the notebook's plot cannot use as a number",
            _radius_mistake(
                "    d = np.linalg.norm(features[:, None, :] - features[centers][None], axis=2)\n"
                "    return d.min(axis=1).max(keepdims=True)\n"
            ),
            "one number",
        ),
    ),
    uses=("update_min_distances",),
    seed=14,
)

EXERCISES = (TOP_J, UPDATE_MIN_DISTANCES, K_CENTER_GREEDY, COVERAGE_RADIUS)
