"""Lab 3's exercise records and the SEALS round: the references on worked examples, bad inputs,
and the experiment running each SEALS round through the function it is given."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

from dcai_al import checks
from dcai_al.checks import CheckFailed
from dcai_al.exercises import for_lab, get
from dcai_al.exercises.lab3 import LINE, LINE_SCORES, OneThreadIndex, row_score
from dcai_al.neighbour_index import build_index
from dcai_al.seals import most_likely_positive, run_seals
from dcai_al.seals_round import RoundSelector, run_rounds, seals_round, select_from_candidates, update_candidates

LAB = "lab3-seals"


def ints(*values):
    return np.array(values, dtype=np.int64)


# --- the references on the old checks' worked examples ------------------------------------------


@pytest.mark.parametrize(
    "candidates, labelled, new_ids, neighbour_ids, expected",
    [
        ([], [4], [4], [[4, 2, 7]], [2, 7]),
        ([], [4, 9], [4, 9], [[4, 2, 7], [9, 8, 1]], [1, 2, 7, 8]),
        ([2, 7], [4, 7], [7], [[7, 3, 2]], [2, 3]),
        ([5, 6], [0, 1], [1], [[1, 2, 8]], [2, 5, 6, 8]),
        ([], [5], [5], [[6, 5, 1]], [1, 6]),
        ([], [0, 3], [3], [[3, 0, 8]], [8]),
        ([], [2], [2], [[2, 5, -1]], [5]),
        ([], [3], [3], [[3, 0, 5]], [0, 5]),  # pool index 0 is a real row, not a missing neighbour
    ],
)
def test_update_candidates_on_the_worked_examples(candidates, labelled, new_ids, neighbour_ids, expected):
    assert update_candidates(candidates, labelled, new_ids, neighbour_ids).tolist() == expected


@pytest.mark.parametrize(
    "scores, candidates, batch_size, expected",
    [
        ([0.2, 0.9, 0.5], [10, 42, 7], 1, [42]),
        ([0.2, 0.9, 0.5], [10, 42, 7], 2, [42, 7]),
        ([0.5, 0.5, 0.1], [3, 8, 9], 1, [3]),
        ([0.1, 0.3], [5, 6], 2, [6, 5]),
        ([0.3] * 4 + [0.7] * 18 + [0.3] * 2, list(range(100, 124)), 5, [104, 105, 106, 107, 108]),
    ],
)
def test_select_from_candidates_on_the_worked_examples(scores, candidates, batch_size, expected):
    assert select_from_candidates(scores, candidates, batch_size).tolist() == expected


def test_seals_round_on_a_worked_example_with_a_flat_index():
    # Points at 0, 1, 3, 7, 20, 22, 25, 29 on a line. Round 1 from the seed point 0, k = 2: its
    # neighbours 1 and 3 (rows 1, 2) become the candidates; row 2 scores 0.5 > 0.2, so it is picked.
    index = build_index(LINE)
    score = LINE_SCORES.__getitem__
    candidates, picks = seals_round(index, LINE, ints(0), ints(0), ints(), score, 2, 1)
    assert (candidates.tolist(), picks.tolist()) == ([1, 2], [2])
    # Round 2: row 2 (at 3) is labelled; its neighbours are 1 (at 1) and 0 (at 0), labelled, so only 1 is left.
    candidates, picks = seals_round(index, LINE, ints(0, 2), picks, candidates, score, 2, 1)
    assert (candidates.tolist(), picks.tolist()) == ([1], [1])
    # A new point far away: the old candidate stays, its neighbours 5 and 6 join; the best two, best first.
    candidates, picks = seals_round(index, LINE, ints(0, 4), ints(4), ints(1), score, 2, 2)
    assert (candidates.tolist(), picks.tolist()) == ([1, 5, 6], [6, 1])
    assert candidates.dtype == picks.dtype == np.int64


def test_the_records_visible_cases_are_what_the_worked_examples_say():
    record = get("seals_round")
    answers = [record.reference(*record.call_args(case.args)) for case in record.cases]
    assert [(c.tolist(), p.tolist()) for c, p in answers] == [
        ([1, 2], [2]),
        ([1, 5], [1, 5]),
        ([1], [1]),
        ([1, 5, 6], [6, 1]),
        ([3], [3]),
    ]


# --- bad inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, error, says",
    [
        (dict(index=build_index(LINE[:5])), ValueError, "index over embeddings"),
        (dict(new_ids=ints(3)), ValueError, "labelled must include new_ids"),
        (dict(new_ids=ints(9), labelled=ints(9)), ValueError, "labelled"),
        (dict(k=8), ValueError, "k=8"),
        (dict(k=0), ValueError, "k must be >= 1"),
        (dict(batch_size=3), ValueError, "batch_size=3 is larger than the 2 candidates"),
        (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
        (dict(score="probs"), TypeError, "score must be a function"),
        (dict(score=lambda ids: np.zeros(len(ids) + 1)), ValueError, "one score per candidate"),
        (dict(score=lambda ids: np.full(len(ids), np.nan)), ValueError, "score(candidates)"),
    ],
)
def test_seals_round_rejects_bad_inputs(change, error, says):
    args = dict(
        index=build_index(LINE),
        embeddings=LINE,
        labelled=ints(0),
        new_ids=ints(0),
        candidates=ints(),
        score=LINE_SCORES.__getitem__,
        k=2,
        batch_size=1,
    )
    args.update(change)
    with pytest.raises(error) as info:
        seals_round(**args)
    assert says in str(info.value)


def test_update_and_select_reject_bad_inputs():
    with pytest.raises(ValueError, match="one row per entry of new_ids"):
        update_candidates([], [4, 9], [4, 9], [[4, 2, 7]])
    with pytest.raises(TypeError, match="integer ids"):
        update_candidates([], [4], [4], [[4.0, 2.0]])
    with pytest.raises(ValueError, match="one score per candidate"):
        select_from_candidates([0.1, 0.2], [1, 2, 3], 1)
    with pytest.raises(ValueError, match="larger than the 2 candidates"):
        select_from_candidates([0.1, 0.2], [1, 2], 3)


# --- the records' own machinery -----------------------------------------------------------------


def test_lab3_has_three_records_in_notebook_order():
    assert [r.name for r in for_lab(LAB)] == ["update_candidates", "select_from_candidates", "seals_round"]
    assert get("seals_round").uses == ("update_candidates", "select_from_candidates")


def test_the_round_cases_travel_as_plain_data():
    record = get("seals_round")
    for args in [c.args for c in record.cases] + record.hidden_cases():
        assert pickle.loads(pickle.dumps(args))[0] == "flat"  # no faiss index, no lambda in the plain args
        index, *_, score, _, _ = record.call_args(args)
        assert index.ntotal == len(args[1])
        np.testing.assert_array_equal(score(ints(0, 1)), np.asarray(args[5])[:2])


def test_the_checks_index_is_a_faiss_index_searched_on_one_thread():
    index = OneThreadIndex(build_index(LINE))
    twin = copy.deepcopy(index)
    assert pickle.dumps(twin) == pickle.dumps(index)  # so call_student can tell it was not edited
    assert twin.ntotal == 8 and twin.d == 1
    np.testing.assert_array_equal(twin.search(LINE[[0, 4]], 3)[1], [[0, 1, 2], [4, 5, 6]])
    assert "one thread" in repr(twin)


def test_a_wrong_update_costs_the_round_too():
    namespace = {"np": np}
    exec(
        "def update_candidates(candidates, labelled, new_ids, neighbour_ids):\n"
        "    return np.unique(np.concatenate([candidates, neighbour_ids[0][1:]]))\n"
        "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
        "    return np.asarray(candidates)[np.argsort(-np.asarray(candidate_scores), kind='stable')[:batch_size]]\n"
        "def seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):\n"
        "    _, ids = index.search(embeddings[new_ids], k + 1)\n"
        "    candidates = update_candidates(candidates, labelled, new_ids, ids)\n"
        "    return candidates, select_from_candidates(score(candidates), candidates, batch_size)\n",
        namespace,
    )
    with pytest.raises(CheckFailed, match="two new points far apart"):
        checks.check("seals_round", namespace["seals_round"])


def test_row_score_is_picklable_in_a_partial():
    import functools

    score = pickle.loads(pickle.dumps(functools.partial(row_score, LINE_SCORES)))
    np.testing.assert_array_equal(score([4, 0]), [0.9, 0.0])
    assert score([]).size == 0  # no candidates yet: an empty list is float to numpy, and still fine


@pytest.mark.parametrize("ids", [LINE[[1, 2]], ints(1, 2)[:, None], np.array([1.0, 2.0])])
def test_the_checks_score_refuses_anything_but_pool_indices(ids):
    with pytest.raises(TypeError, match=r"call score\(candidates\)"):
        row_score(LINE_SCORES, ids)


# --- the loop and the experiment run each round through the function given ----------------------


@pytest.fixture(scope="module")
def small_pool():
    from dcai_al.data import make_embedding_pool

    X, y = make_embedding_pool(4000, 16, prevalence=0.03, seed=0)
    return X.astype(np.float32), y


def _seed(y, n_pos=3, n_neg=17):
    return np.concatenate([np.flatnonzero(y == 1)[:n_pos], np.flatnonzero(y == 0)[:n_neg]])


def test_run_rounds_with_the_kits_round_labels_what_run_seals_labels(small_pool):
    X, y = small_pool
    index = build_index(X)
    common = dict(n_rounds=4, batch_size=10, k=15, score=most_likely_positive, index=index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # run_seals' keywords are being renamed
        expected = run_seals(X, y, labelled=_seed(y), **common)
    got = run_rounds(X, y, labelled=_seed(y), **common)
    assert [c.tolist() for c in got.chosen] == [c.tolist() for c in expected.chosen]
    assert got.candidates.tolist() == expected.candidates.tolist()
    assert got.positives.tolist() == expected.positives.tolist()


def test_the_round_gets_copies_and_the_state_of_the_round_before(small_pool):
    X, y = small_pool
    calls = []

    def spy(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):
        calls.append((labelled.copy(), new_ids.copy(), candidates.copy()))
        out = seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size)
        labelled[:] = 0  # an answer that edits its inputs cannot change the loop's state
        candidates[:] = 0
        return out

    seed = _seed(y)
    h = run_rounds(X, y, round_fn=spy, labelled=seed, n_rounds=3, batch_size=5, k=10, score=most_likely_positive)
    assert len(calls) == 3
    assert calls[0][1].tolist() == sorted(seed.tolist()) and calls[0][2].size == 0  # the seed set, no candidates yet
    for r in (1, 2):
        assert calls[r][1].tolist() == h.chosen[r].tolist()  # last round's picks are this round's new_ids
        assert np.isin(h.chosen[r], calls[r][0]).all()  # and already labelled
    assert h.n_labelled.tolist() == [20, 25, 30, 35]


def test_a_round_that_does_not_return_candidates_and_picks_is_refused(small_pool):
    X, y = small_pool

    def picks_only(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):
        return seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size)[1]

    with pytest.raises(TypeError, match=r"\(candidates, picks\)"):
        run_rounds(X, y, round_fn=picks_only, labelled=_seed(y), n_rounds=1, k=10, score=most_likely_positive)

    def outside(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):
        candidates, _ = seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size)
        return candidates[:-1], candidates[-batch_size:]  # the last pick is not among the candidates returned

    with pytest.raises(ValueError, match="among the candidates"):
        run_rounds(X, y, round_fn=outside, labelled=_seed(y), n_rounds=1, k=10, score=most_likely_positive)
    with pytest.raises(TypeError, match="round_fn"):
        RoundSelector("seals_round", build_index(X), X, 10, most_likely_positive)


def test_the_experiment_calls_the_students_round(small_pool):
    from dcai_al.experiments import lab3

    X, y = small_pool
    X_test, y_test = X[:500], y[:500]
    calls = []

    def students_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size):
        calls.append(len(labelled))
        return seals_round(index, embeddings, labelled, new_ids, candidates, score, k, batch_size)

    runs = lab3.compare(
        X, y, X_test, y_test, score=most_likely_positive, rounds=2, k=10, seeds=[0, 1], seals_round=students_round
    )
    assert calls == [100, 110, 100, 110]  # two rounds per seed set, from 5 + 95 seed labels
    kit = lab3.compare(X, y, X_test, y_test, score=most_likely_positive, rounds=2, k=10, seeds=[0, 1])
    for mine, theirs in zip(runs["SEALS"], kit["SEALS"], strict=True):
        assert [c.tolist() for c in mine.chosen] == [c.tolist() for c in theirs.chosen]
        np.testing.assert_allclose(mine.average_precision, theirs.average_precision)
