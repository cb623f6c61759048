"""Lab 3's graded functions: the candidate update, the selection among candidates, one SEALS round."""

from __future__ import annotations

import functools

import numpy as np

from ..checks import _as_index_list, _fail, _fmt
from ..neighbour_index import build_index
from ..seals_round import seals_round, select_from_candidates, update_candidates
from .answers import INDICES
from .record import Answer, Case, Exercise, Hint, Mistake
from .ties import MANY_TIES, stable_hint

LAB = "lab3-seals"


def _ints(values) -> np.ndarray:
    return np.array(values, dtype=np.int64).reshape(-1) if len(values) else np.empty(0, dtype=np.int64)


def _grid(rows) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


# --- Exercise 1: update_candidates -------------------------------------------------------------

#: The candidates, read and compared as a list of ints in order (sorted is part of the answer).
CANDIDATES = Answer("candidates", INDICES.read, INDICES.same)


def _flat_search(X: np.ndarray, queries: np.ndarray, n_neighbours: int) -> np.ndarray:
    """``index.search(X[queries], n_neighbours)[1]`` of an exact index, in numpy: ties to the lower id, -1 padding."""
    d = ((X[queries][:, None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(-1)
    ids = np.argsort(d, axis=1, kind="stable")[:, :n_neighbours]
    if ids.shape[1] < n_neighbours:  # faiss pads with -1 when asked for more neighbours than the pool holds
        ids = np.hstack([ids, np.full((len(queries), n_neighbours - ids.shape[1]), -1)])
    return ids.astype(np.int64)


def _update_cases(rng) -> list[tuple]:
    """The notebook's old hidden test: 10 pools of 200 with a duplicate pair, 4 updates of 10 each, k = 5.

    Each case starts from the reference's candidates of the step before, so a
    case stands alone. Two small pools add faiss's -1 padding.
    """
    cases = []
    for _ in range(10):
        X = rng.standard_normal((200, 4)).astype(np.float32)
        X[1] = X[0]  # an exact duplicate pair: a query's own id can come second in its row
        candidates, labelled = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        for new in np.array_split(rng.permutation(200)[:40], 4):
            new = new.astype(np.int64)
            labelled = np.concatenate([labelled, new])
            ids = _flat_search(X, new, 6)
            cases.append((candidates, labelled, new, ids))
            candidates = update_candidates(candidates, labelled, new, ids)
    for n in (4, 5):
        X = rng.standard_normal((n, 2)).astype(np.float32)
        new = np.array([0, n - 1], dtype=np.int64)
        cases.append((np.empty(0, dtype=np.int64), new, new, _flat_search(X, new, 6)))
    return cases


def _labelled_kept(got, args, expected) -> bool:
    return bool(set(got) & {int(i) for i in np.ravel(args[1])})


def _old_dropped(got, args, expected) -> bool:
    old = {int(i) for i in np.ravel(args[0])} - {int(i) for i in np.ravel(args[1])}
    return bool(old - set(got))


def _first_row_only(got, args, expected) -> bool:
    ids, new = np.asarray(args[3]), np.ravel(args[2])
    if len(ids) < 2:
        return False
    later = {int(i) for row, q in zip(ids[1:], new[1:], strict=True) for i in row if i != q and i >= 0}
    later -= {int(i) for i in np.ravel(args[1])}
    return bool(later) and later <= set(expected) - set(got)


def _zero_dropped(got, args, expected) -> bool:
    return 0 in expected and set(got) == set(expected) - {0}


def _dropped_by_position(got, args, expected) -> bool:
    missing = set(expected) - set(got)
    return bool(missing) and missing <= {int(i) for i in np.asarray(args[3])[:, 0]}


UPDATE_CANDIDATES = Exercise(
    name="update_candidates",
    lab=LAB,
    signature="(candidates, labelled, new_ids, neighbour_ids)",
    points=3,
    reference=update_candidates,
    answer=CANDIDATES,
    cases=(
        Case(
            "one new point; its own id comes first in its row", (_ints([]), _ints([4]), _ints([4]), _grid([[4, 2, 7]]))
        ),
        Case(
            "two new points: both rows count (not just the first)",
            (_ints([]), _ints([4, 9]), _ints([4, 9]), _grid([[4, 2, 7], [9, 8, 1]])),
        ),
        Case(
            "old candidates stay; a newly labelled candidate leaves",
            (_ints([2, 7]), _ints([4, 7]), _ints([7]), _grid([[7, 3, 2]])),
        ),
        Case(
            "old candidates stay, even those that are no new point's neighbour",
            (_ints([5, 6]), _ints([0, 1]), _ints([1]), _grid([[1, 2, 8]])),
        ),
        Case(
            "a duplicate point: the query's own id is second in its row",
            (_ints([]), _ints([5]), _ints([5]), _grid([[6, 5, 1]])),
        ),
        Case("labelled neighbours never become candidates", (_ints([]), _ints([0, 3]), _ints([3]), _grid([[3, 0, 8]]))),
        Case("-1 marks a missing neighbour", (_ints([]), _ints([2]), _ints([2]), _grid([[2, 5, -1]]))),
        Case(
            "pool index 0 is a real row: an unlabelled neighbour 0 becomes a candidate",
            (_ints([]), _ints([3]), _ints([3]), _grid([[3, 0, 5]])),
        ),
    ),
    hidden=_update_cases,
    hints=(
        Hint("drop every labelled index (old and new) from the candidates.", _labelled_kept),
        Hint("faiss uses -1 for 'no neighbour': skip those.", lambda got, args, expected: -1 in got),
        Hint("index 0 is a real pool row: skip only -1 (row >= 0), not 0 as well (row > 0).", _zero_dropped),
        Hint(
            "keep the old candidates: the pool only grows, so candidates = (old candidates | the new points' "
            "neighbours) - labelled.",
            _old_dropped,
        ),
        Hint(
            "use every row of neighbour_ids, one per new point; neighbour_ids[0][1:] keeps only the first "
            "query's neighbours.",
            _first_row_only,
        ),
        Hint(
            "remove each query's own id by value (row != query), not by position: with duplicate points it "
            "can come second in its row.",
            _dropped_by_position,
        ),
        Hint("return the candidates sorted (np.unique sorts).", lambda got, args, expected: got != sorted(got)),
    ),
    hint="candidates = (old candidates | every neighbour in every row) - labelled, sorted.",
    mistakes=(
        Mistake(
            "forgets to drop the labelled points",
            "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
            "    found = [np.asarray(candidates, dtype=np.int64)]\n"
            "    for row, query in zip(np.asarray(neighbour_ids), np.asarray(new_ids)):\n"
            "        found.append(row[(row != query) & (row >= 0)])\n"
            "    return np.unique(np.concatenate(found))\n",
            "drop every labelled index",
        ),
        Mistake(
            "the public SEALS slip: only the first query's row, I[0][1:]",
            "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
            "    merged = np.unique(np.concatenate([candidates, neighbour_ids[0][1:]]))\n"
            "    return merged[~np.isin(merged, labelled)]\n",
            "every row of neighbour_ids",
        ),
        Mistake(
            "drops the first column instead of the query's own id",
            "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
            "    found = np.asarray(neighbour_ids)[:, 1:].ravel()\n"
            "    merged = np.unique(np.concatenate([candidates, found[found >= 0]]))\n"
            "    return merged[~np.isin(merged, labelled)]\n",
            "by value",
        ),
        Mistake(
            "overwrites the search results in place to hide the query",
            "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
            "    found = [np.asarray(candidates, dtype=np.int64)]\n"
            "    for row, query in zip(np.asarray(neighbour_ids), np.asarray(new_ids)):\n"
            "        row[row == query] = -1  # treat the query as a missing neighbour\n"
            "        found.append(row[row >= 0])\n"
            "    merged = np.unique(np.concatenate(found))\n"
            "    return merged[~np.isin(merged, labelled)]\n",
            "in place",
        ),
        Mistake(
            "rebuilds the candidates from the new points only, dropping the old ones",
            "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
            "    found = [row[(row != query) & (row >= 0)] for row, query in zip(neighbour_ids, new_ids)]\n"
            "    merged = np.unique(np.concatenate(found))\n"
            "    return merged[~np.isin(merged, labelled)]\n",
            "keep the old candidates",
        ),
        Mistake(
            "keeps faiss's -1 (no neighbour)",
            "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
            "    found = [np.asarray(candidates, dtype=np.int64)]\n"
            "    for row, query in zip(np.asarray(neighbour_ids), np.asarray(new_ids)):\n"
            "        found.append(row[row != query])\n"
            "    merged = np.unique(np.concatenate(found))\n"
            "    return merged[~np.isin(merged, labelled)]\n",
            "-1",
        ),
        Mistake(
            "appends new neighbours in the order met, unsorted",
            "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
            "    out = [int(i) for i in candidates]\n"
            "    for row, query in zip(neighbour_ids, new_ids):\n"
            "        for i in row:\n"
            "            if i != query and i >= 0 and i not in labelled and i not in out:\n"
            "                out.append(int(i))\n"
            "    return np.array(out, dtype=np.int64)\n",
            "sorted",
        ),
        Mistake(
            "skips -1 with > 0, which drops pool index 0 too",
            "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
            "    nb = np.asarray(neighbour_ids).ravel()\n"
            "    nb = nb[nb > 0]\n"
            "    out = np.union1d(candidates, nb)\n"
            "    return np.setdiff1d(out, labelled)\n",
            "index 0 is a real pool row",
        ),
    ),
    seed=21,
)


# --- Exercise 2: select_from_candidates --------------------------------------------------------

STABLE_HINT = stable_hint("candidate_scores", "the candidate listed first")


def _select_cases(rng) -> list[tuple]:
    """The notebook's old hidden test: 50 sorted candidate sets of 5-300 with scores in 20 steps (many ties)."""
    cases = []
    for _ in range(50):
        candidates = np.sort(rng.choice(10_000, int(rng.integers(5, 300)), replace=False)).astype(np.int64)
        scores = rng.integers(0, 20, size=candidates.size) / 19.0
        cases.append((scores, candidates, int(rng.integers(1, candidates.size + 1))))
    return cases


def _positions(scores, batch_size) -> list[int]:
    return [int(i) for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:batch_size]]


def _returned_positions(got, args, expected) -> bool:
    return got == _positions(args[0], args[2]) and got != list(expected)


def _ties_misordered(got, args, expected) -> bool:
    scores, candidates = np.asarray(args[0], dtype=float), [int(i) for i in args[1]]
    if len(got) != len(expected) or got == list(expected) or not set(got) <= set(candidates):
        return False
    at = {c: i for i, c in enumerate(candidates)}
    return bool(np.array_equal(scores[[at[i] for i in got]], scores[[at[i] for i in expected]]))


def _sorted_picks(got, args, expected) -> bool:
    return len(got) > 1 and got == sorted(expected) != list(expected)


def _read_picks(out, args, exercise, case):
    if isinstance(out, tuple | list) and any(np.ndim(part) > 0 for part in out):
        _fail(
            f"{exercise} should return only the pool indices, one array (candidates[positions]); it returned "
            f"{len(out)} arrays, {_fmt(out)}, on the case: {case}. Return the picks alone, not their scores too."
        )
    return INDICES.read(out, args, exercise, case)


#: The picks: one 1-D array of pool indices, compared in order; a tuple such as (picks, scores) is refused by name.
PICKS = Answer("indices", _read_picks, INDICES.same)


def _lowest_first(got, args, expected) -> bool:
    scores, candidates = np.asarray(args[0], dtype=float), np.asarray(args[1])
    return got == [int(i) for i in candidates[np.argsort(scores, kind="stable")[: args[2]]]]


SELECT_FROM_CANDIDATES = Exercise(
    name="select_from_candidates",
    lab=LAB,
    signature="(candidate_scores, candidates, batch_size)",
    points=2,
    reference=select_from_candidates,
    answer=PICKS,
    cases=(
        Case("scores are given per candidate: return pool indices", (np.array([0.2, 0.9, 0.5]), _ints([10, 42, 7]), 1)),
        Case("the top two, largest first", (np.array([0.2, 0.9, 0.5]), _ints([10, 42, 7]), 2)),
        Case("ties go to the candidate listed first", (np.array([0.5, 0.5, 0.1]), _ints([3, 8, 9]), 1)),
        Case("the whole candidate pool", (np.array([0.1, 0.3]), _ints([5, 6]), 2)),
        Case(
            "90 tied scores among 100 candidates: ties still go to the candidate listed first",
            (MANY_TIES, _ints(range(100, 100 + len(MANY_TIES))), 5),
        ),
    ),
    hidden=_select_cases,
    hints=(
        Hint(
            "those are positions in the candidate list; return candidates[positions], the pool indices.",
            _returned_positions,
        ),
        Hint("return exactly batch_size indices.", lambda got, args, expected: len(got) != args[2]),
        Hint(STABLE_HINT, _ties_misordered),
        Hint(
            "keep the picks in the order of their scores, largest score first, as the sort gave them: don't sort "
            "the picks by index (no np.sort).",
            _sorted_picks,
        ),
        Hint("those are the lowest scores: sort by -candidate_scores to put the largest first.", _lowest_first),
    ),
    hint="pick the positions of the largest scores, then map them through candidates[...].",
    mistakes=(
        Mistake(
            "returns positions in the candidate list, not pool indices",
            "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
            "    return np.argsort(-np.asarray(candidate_scores), kind='stable')[:batch_size]\n",
            "positions in the candidate list",
        ),
        Mistake(
            "numpy's default argsort: ties in any order",
            "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
            "    order = np.argsort(-np.asarray(candidate_scores))[:batch_size]\n"
            "    return np.asarray(candidates)[order]\n",
            "kind='stable'",
        ),
        Mistake(
            "reverses an ascending sort: ties go to the later candidate",
            "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
            "    order = np.argsort(candidate_scores, kind='stable')[::-1][:batch_size]\n"
            "    return np.asarray(candidates)[order]\n",
            "reversing an ascending sort",
        ),
        Mistake(
            "one index too many",
            "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
            "    order = np.argsort(-np.asarray(candidate_scores), kind='stable')[: batch_size + 1]\n"
            "    return np.asarray(candidates)[order]\n",
            "exactly batch_size",
        ),
        Mistake(
            "takes the lowest scores",
            "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
            "    order = np.argsort(candidate_scores, kind='stable')[:batch_size]\n"
            "    return np.asarray(candidates)[order]\n",
            "lowest scores",
        ),
        Mistake(
            "sorts the picks by index, losing the largest-score-first order",
            "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
            "    order = np.argsort(-np.asarray(candidate_scores), kind='stable')[:batch_size]\n"
            "    return np.sort(np.asarray(candidates)[order])\n",
            "largest score first",
        ),
        Mistake(
            "returns the picks and their scores",
            "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
            "    order = np.argsort(-np.asarray(candidate_scores), kind='stable')[:batch_size]\n"
            "    return np.asarray(candidates)[order], np.asarray(candidate_scores)[order]\n",
            "return only the pool indices, one array",
        ),
    ),
    seed=22,
)


# --- Exercise 3: seals_round --------------------------------------------------------------------

#: Eight points on a line, at uneven gaps so that no two neighbours tie, and a score per point.
LINE = np.array([[0.0], [1.0], [3.0], [7.0], [20.0], [22.0], [25.0], [29.0]], dtype=np.float32)
LINE_SCORES = np.array([0.0, 0.2, 0.5, 0.3, 0.9, 0.1, 0.4, 0.6])


def row_score(row_scores, ids) -> np.ndarray:
    """``score(ids)`` of the checks: the given score of each pool row in ``ids`` (picklable in a partial).

    ``ids`` must be pool indices, a 1-D array of ints: anything else (the
    embeddings of the candidates, say) is refused in words, not read as indices.
    """
    arr = np.asarray(ids)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(
            f"score takes pool indices, a 1-D int array: call score(candidates), not score(embeddings[...]); "
            f"got an array of shape {arr.shape} and dtype {arr.dtype}."
        )
    return np.asarray(row_scores, dtype=float)[arr.astype(np.int64)]


class OneThreadIndex:
    """A faiss index whose ``search`` runs on one thread; every other attribute is the index's own.

    The checks search a few points of a tiny index. faiss would start its
    OpenMP threads for every search of two or more queries, which on a busy
    grading machine costs tens of milliseconds each; one thread takes microseconds.
    """

    def __init__(self, index):
        self.__dict__["_index"] = index

    def search(self, x, k, *args, **kwargs):
        import faiss

        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(x, k, *args, **kwargs)
        finally:
            faiss.omp_set_num_threads(threads)

    def __getattr__(self, name):
        if name.startswith("__") or "_index" not in self.__dict__:  # copy and pickle look for __setstate__ & co.
            raise AttributeError(name)
        return getattr(self.__dict__["_index"], name)

    def __repr__(self) -> str:
        return f"<faiss {type(self._index).__name__} of {self._index.ntotal} vectors, searched on one thread>"


def _prepare_round(index_kind, embeddings, labelled, new_ids, candidates, row_scores, k, batch_size) -> tuple:
    """The plain arguments of a case as seals_round gets them: a faiss index and a score function."""
    index = OneThreadIndex(build_index(embeddings, index_kind))
    score = functools.partial(row_score, row_scores)
    return index, embeddings, labelled, new_ids, candidates, score, k, batch_size


def _show_round(index_kind, embeddings, labelled, new_ids, candidates, row_scores, k, batch_size) -> str:
    X = np.asarray(embeddings)
    points = f"{_fmt(X.ravel())} (one coordinate each)" if X.shape[1] == 1 else _fmt(X)
    return (
        f"index = a {index_kind} index over embeddings = {points}, labelled = {_fmt(labelled)}, "
        f"new_ids = {_fmt(new_ids)}, candidates = {_fmt(candidates)}, score(ids) = {_fmt(row_scores)}[ids], "
        f"k = {k}, batch_size = {batch_size}"
    )


def _read_round(out, args, exercise, case):
    if not isinstance(out, tuple | list) or len(out) != 2 or any(np.ndim(part) != 1 for part in out):
        _fail(f"{exercise} should return two 1-D int arrays, (candidates, picks); got {_fmt(out)} on the case: {case}.")
    return (_as_index_list(out[0], exercise, case), _as_index_list(out[1], exercise, case))


#: The updated candidates and the picks, both compared in order.
ROUND = Answer("(candidates, picks)", _read_round, lambda expected, got: tuple(expected) == tuple(got))


def _round_cases(rng) -> list[tuple]:
    """Six pools of 80 points in 3-d (a duplicate pair each), four rounds each from a seed set of 4.

    Scores come in 20 steps, so candidates tie; each case starts from the
    reference's state of the round before.
    """
    cases = []
    for _ in range(6):
        X = rng.standard_normal((80, 3)).astype(np.float32)
        X[1] = X[0]
        row_scores = rng.integers(0, 20, size=80) / 19.0
        k, batch_size = int(rng.integers(2, 6)), int(rng.integers(1, 4))
        new = np.sort(rng.choice(80, 4, replace=False)).astype(np.int64)
        labelled, candidates = new.copy(), np.empty(0, dtype=np.int64)
        for _ in range(4):
            args = ("flat", X, labelled, new, candidates, row_scores, k, batch_size)
            cases.append(args)
            candidates, picks = seals_round(*_prepare_round(*args))
            labelled, new = np.concatenate([labelled, picks]), picks
    return cases


def _candidates_with(args, *, new_ids=None, labelled=None, n_search=None) -> list[int]:
    """The candidates the round would have with other inputs to the search and the update."""
    index_kind, X, lab, new, cand, _, k, _ = args
    new = np.asarray(new if new_ids is None else new_ids, dtype=np.int64)
    ids = OneThreadIndex(build_index(X, index_kind)).search(
        np.asarray(X, dtype=np.float32)[new], k + 1 if n_search is None else n_search
    )[1]
    return [int(i) for i in update_candidates(cand, lab if labelled is None else labelled, new, ids)]


def _pick_from(candidates, args) -> list[int]:
    candidates = np.asarray(candidates, dtype=np.int64)
    order = np.argsort(-row_score(args[5], candidates), kind="stable")[: args[7]]
    return [int(i) for i in candidates[order]]


ROUND_HINTS = (
    Hint(
        "return (candidates, picks), in that order.",
        lambda got, args, expected: (got[1], got[0]) == tuple(expected),
    ),
    Hint(
        "update_candidates returns the new candidates: keep its result and return it.",
        lambda got, args, expected: got[0] == sorted(int(i) for i in args[4]) != expected[0],
    ),
    Hint(
        "a labelled point is among the candidates: give update_candidates every labelled index (labelled), "
        "not only new_ids.",
        lambda got, args, expected: bool(set(got[0]) & {int(i) for i in args[2]}),
    ),
    Hint(
        "search for every newly labelled point, index.search(embeddings[new_ids], k + 1), not only the first.",
        lambda got, args, expected: len(args[3]) > 1 and got[0] == _candidates_with(args, new_ids=args[3][:1]),
    ),
    Hint(
        "ask the index for k + 1 neighbours: each query finds itself first, and update_candidates drops it.",
        lambda got, args, expected: got[0] == _candidates_with(args, n_search=args[6]),
    ),
    Hint(
        "update the candidates first, then score and select among the updated ones: the old candidates still "
        "hold the new points and miss their neighbours.",
        lambda got, args, expected: got[1] == _pick_from(args[4], args) != expected[1],
    ),
    Hint(
        "pick among the candidates only: score(candidates) gives one score per candidate, in their order; pass "
        "both to select_from_candidates.",
        lambda got, args, expected: not set(got[1]) <= set(expected[0]),
    ),
)

SEALS_ROUND = Exercise(
    name="seals_round",
    lab=LAB,
    signature="(index, embeddings, labelled, new_ids, candidates, score, k, batch_size)",
    points=3,
    reference=seals_round,
    answer=ROUND,
    cases=(
        Case(
            "the first round: the seed point's k = 2 neighbours become the candidates; the best is picked",
            ("flat", LINE, _ints([0]), _ints([0]), _ints([]), LINE_SCORES, 2, 1),
        ),
        Case(
            "two new points far apart: both are searched; two picks, best first",
            ("flat", LINE, _ints([0, 4]), _ints([0, 4]), _ints([]), LINE_SCORES, 1, 2),
        ),
        Case(
            "the second round: the last pick leaves the candidates, and labelled points never come back",
            ("flat", LINE, _ints([0, 2]), _ints([2]), _ints([1, 2]), LINE_SCORES, 2, 1),
        ),
        Case(
            "a new point far from the old candidates: they stay, and its neighbours join",
            ("flat", LINE, _ints([0, 4]), _ints([4]), _ints([1]), LINE_SCORES, 2, 2),
        ),
        Case(
            "the third round, k = 3: the new point 1's neighbours 0 and 2 were labelled in earlier rounds and stay "
            "out; only 3 is a candidate",
            ("flat", LINE, _ints([0, 2, 1]), _ints([1]), _ints([]), LINE_SCORES, 3, 1),
        ),
    ),
    hidden=_round_cases,
    hints=ROUND_HINTS,
    hint=(
        "search embeddings[new_ids] for k + 1 neighbours, update_candidates, score(candidates), "
        "select_from_candidates; return (candidates, picks)."
    ),
    mistakes=(
        Mistake(
            "searches for the first new point only",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids[:1]], k + 1)\n"
            "    candidates = update_candidates(candidates, labelled, new_ids, ids)\n"
            "    return candidates, select_from_candidates(score(candidates), candidates, batch_size)\n",
            "every newly labelled point",
        ),
        Mistake(
            "gives update_candidates only this round's labels, so older labelled points come back",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
            "    candidates = update_candidates(candidates, new_ids, new_ids, ids)\n"
            "    return candidates, select_from_candidates(score(candidates), candidates, batch_size)\n",
            "every labelled index",
        ),
        Mistake(
            "searches k neighbours, forgetting that the query finds itself",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids], k)\n"
            "    candidates = update_candidates(candidates, labelled, new_ids, ids)\n"
            "    return candidates, select_from_candidates(score(candidates), candidates, batch_size)\n",
            "k + 1 neighbours",
        ),
        Mistake(
            "scores the whole pool and picks from it, as Lab 1's full scan",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
            "    candidates = update_candidates(candidates, labelled, new_ids, ids)\n"
            "    everyone = np.arange(len(embeddings))\n"
            "    return candidates, select_from_candidates(score(everyone), everyone, batch_size)\n",
            "pick among the candidates only",
        ),
        Mistake(
            "selects before the update, from last round's candidates",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    picks = select_from_candidates(score(candidates), candidates, batch_size)\n"
            "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
            "    return update_candidates(candidates, labelled, new_ids, ids), picks\n",
            "update the candidates first",
        ),
        Mistake(
            "calls update_candidates without keeping its result",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
            "    update_candidates(candidates, labelled, new_ids, ids)\n"
            "    return candidates, select_from_candidates(score(candidates), candidates, batch_size)\n",
            "keep its result",
        ),
        Mistake(
            "returns the picks first",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
            "    candidates = update_candidates(candidates, labelled, new_ids, ids)\n"
            "    return select_from_candidates(score(candidates), candidates, batch_size), candidates\n",
            "in that order",
        ),
        Mistake(
            "returns only the picks",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
            "    candidates = update_candidates(candidates, labelled, new_ids, ids)\n"
            "    return select_from_candidates(score(candidates), candidates, batch_size)\n",
            "(candidates, picks)",
        ),
        Mistake(
            "swaps labelled and new_ids in the call to update_candidates",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
            "    candidates = update_candidates(candidates, new_ids, labelled, ids)\n"
            "    return candidates, select_from_candidates(score(candidates), candidates, batch_size)\n",
            "every labelled index",
        ),
        Mistake(
            "scores the candidates' embeddings instead of their pool indices",
            "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
            "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
            "    candidates = update_candidates(candidates, labelled, new_ids, ids)\n"
            "    return candidates, select_from_candidates(score(embeddings[candidates]), candidates, batch_size)\n",
            "call score(candidates)",
        ),
    ),
    uses=("update_candidates", "select_from_candidates"),
    seed=23,
    prepare=_prepare_round,
    show=_show_round,
)

EXERCISES = (UPDATE_CANDIDATES, SELECT_FROM_CANDIDATES, SEALS_ROUND)
