"""Lab 1's records and its loop, beyond the spec every record meets (tests/test_exercises.py).

The pool-based loop is new: its reference on worked examples, its refusals,
that equivalent correct loops pass its hidden cases, that each slip gets its
own hint, and that the notebook's digits experiment runs the student's loop.
"""

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from dcai_al.acquisition import entropy, least_confidence
from dcai_al.checks import check_hidden
from dcai_al.exercises import for_lab, get
from dcai_al.exercises.lab1 import LOOP_CASES, MidpointModel
from dcai_al.exercises.solutions import answer_namespace, visible_failure
from dcai_al.experiments import lab1 as experiment
from dcai_al.pool_loop import RandomScore, pool_based_loop

REPO = Path(__file__).resolve().parents[1]
LAB = "lab1-passive-vs-active"


def _line(n, threshold):
    x = np.arange(float(n)).reshape(-1, 1)
    return x, (x[:, 0] >= threshold).astype(int)


def _message(name: str, code: str) -> str:
    message = visible_failure(LAB, REPO, name, code)
    assert message, f"the visible check of {name} passed this answer"
    return message


def test_the_records_come_in_notebook_order_with_their_points():
    assert [(r.name, r.points) for r in for_lab(LAB)] == [
        ("binary_search_query", 3),
        ("entropy", 3),
        ("least_confidence", 2),
        ("margin", 3),
        ("active_learning_loop", 3),
    ]
    assert get("active_learning_loop").signature == "(X, y, labelled, make_model, score, batch_size, n_rounds)"


# --- the reference loop -----------------------------------------------------------------------------


def test_the_loop_binary_searches_a_threshold_with_entropy():
    # boundary 5 -> label 5 (a 0); boundary 7.5 -> 7 and 8 tie, 7 (a 1); boundary 6 -> 6
    x, y = _line(11, 7)
    assert pool_based_loop(x, y, [0, 10], MidpointModel, entropy, 1, 3).tolist() == [0, 10, 5, 7, 6]


@pytest.mark.parametrize(
    "case, expected",
    [
        (1, [0, 20, 10, 9, 15, 14]),  # boundary 10: 10, then 9 and 11 tie; both 0s -> boundary 15
        (2, [0, 7, 10, 9]),  # the highest probabilities of class 1
        (3, [0, 5, 6, 10, 4, 7]),  # 5 and 6 are the most uncertain but labelled
        (4, [0, 29, 14, 15, 1, 2, 3, 4]),  # 14 and 15 uncertain, then the lowest of 26 tied at 0
    ],
)
def test_each_visible_case_of_the_loop_holds_what_its_sentence_says(case, expected):
    assert pool_based_loop(*LOOP_CASES[case].args).tolist() == expected


def test_the_tie_case_breaks_every_unstable_sort_not_just_this_cpus():
    # numpy's default argsort is SIMD-sorted on some CPUs and introsort elsewhere (as for long doubles)
    X, y, labelled, make_model, score, batch_size, _ = LOOP_CASES[4].args
    model = make_model().fit(X[labelled], y[labelled])
    unlabelled = np.setdiff1d(np.arange(len(X)), labelled)
    scores = -score(model.predict_proba(X[unlabelled]))
    stable = np.argsort(scores, kind="stable")[:batch_size].tolist()
    for unstable in (np.argsort(scores), np.argsort(scores.astype(np.longdouble)), np.argsort(scores, kind="heapsort")):
        assert unstable[:batch_size].tolist() != stable


def test_the_loop_leaves_labelled_alone_and_answers_int64():
    x, y = _line(11, 7)
    for labelled in ([0, 10], np.array([0, 10])):
        before = list(labelled)
        order = pool_based_loop(x, y, labelled, MidpointModel, entropy, 2, 2)
        assert list(labelled) == before and order.dtype == np.int64 and order.shape == (6,)


def test_no_rounds_returns_the_labelled_set_as_given():
    x, y = _line(11, 7)
    assert pool_based_loop(x, y, [10, 0, 3], MidpointModel, entropy, 4, 0).tolist() == [10, 0, 3]


def test_the_loop_makes_the_kits_run_loop_decisions_on_digits():
    from sklearn.linear_model import LogisticRegression

    from dcai_al.data import load_digits_pool
    from dcai_al.loop import initial_labels, run_loop

    split = load_digits_pool(seed=0)
    labelled = initial_labels(split.y_pool, 20, seed=0)
    make_model = functools.partial(LogisticRegression, max_iter=500)
    order = pool_based_loop(split.X_pool, split.y_pool, labelled, make_model, least_confidence, 10, 2)
    history = run_loop(
        make_model(), split.X_pool, split.y_pool, score=least_confidence, labelled=labelled, batch_size=10, n_rounds=2
    )
    assert order.tolist() == history.labelled.tolist()


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"X": 3.0}, TypeError, "X must be an array"),
        ({"X": np.empty((0, 1))}, ValueError, "X is empty"),
        ({"y": np.zeros(5, dtype=int)}, ValueError, "y has 5 labels"),
        ({"labelled": []}, ValueError, "labelled is empty"),
        ({"labelled": [0, 11]}, ValueError, r"labelled must lie in \[0, 11\)"),
        ({"labelled": [0, 0, 10]}, ValueError, "labelled must not repeat"),
        ({"labelled": [0.5, 10]}, TypeError, "labelled must hold integers"),
        ({"make_model": MidpointModel()}, TypeError, "make_model must be a function"),
        ({"score": "entropy"}, TypeError, "score must be a function"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 1.5}, TypeError, "batch_size must be an integer"),
        ({"n_rounds": -1}, ValueError, "n_rounds must be >= 0"),
        ({"batch_size": 5, "n_rounds": 2}, ValueError, "the pool holds 11"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(change, error, match):
    x, y = _line(11, 7)
    args = {"X": x, "y": y, "labelled": [0, 10], "make_model": MidpointModel, "score": entropy}
    args.update({"batch_size": 1, "n_rounds": 3}, **change)
    with pytest.raises(error, match=match):
        pool_based_loop(**args)


@pytest.mark.parametrize(
    "score, match",
    [
        (lambda probs: probs, r"one score per unlabelled point, shape \(9,\), got shape \(9, 2\)"),
        (lambda probs: np.full(len(probs), np.nan), "NaN or inf"),
        (lambda probs: None, "one score per unlabelled point"),
    ],
)
def test_a_score_that_does_not_give_one_finite_number_per_point_is_refused(score, match):
    x, y = _line(11, 7)
    with pytest.raises(ValueError, match=match):
        pool_based_loop(x, y, [0, 10], MidpointModel, score, 1, 1)


def test_random_score_draws_the_same_stream_for_the_same_seed():
    a, b = RandomScore(3), RandomScore(3)
    assert np.array_equal(a(np.ones((4, 2))), b(np.ones((4, 2))))
    assert not np.array_equal(a(np.ones((4, 2))), RandomScore(4)(np.ones((4, 2))))


# --- the record: equivalent answers pass, each slip gets its own hint --------------------------------

EQUIVALENT_LOOPS = {
    "a boolean mask, training on the labelled set in index order": """
def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):
    order = [int(i) for i in labelled]
    is_labelled = np.zeros(len(X), dtype=bool)
    is_labelled[order] = True
    for _ in range(n_rounds):
        model = make_model()
        model.fit(X[is_labelled], y[is_labelled])
        scores = np.asarray(score(model.predict_proba(X)), dtype=float)
        scores[is_labelled] = -np.inf
        top = np.argsort(-scores, kind="stable")[:batch_size]
        is_labelled[top] = True
        order += [int(i) for i in top]
    return np.array(order)
""",
    "arrays and np.concatenate": """
def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):
    labelled = np.asarray(labelled)
    for _ in range(n_rounds):
        model = make_model().fit(X[labelled], y[labelled])
        unlabelled = np.array([i for i in range(len(X)) if i not in set(labelled.tolist())])
        scores = score(model.predict_proba(X[unlabelled]))
        labelled = np.concatenate([labelled, unlabelled[np.argsort(-scores, kind="stable")[:batch_size]]])
    return labelled
""",
}


@pytest.mark.parametrize("code", EQUIVALENT_LOOPS.values(), ids=EQUIVALENT_LOOPS.keys())
def test_other_correct_loops_pass_the_hidden_cases_too(code, capsys):
    namespace = answer_namespace(LAB, REPO, {"active_learning_loop": code})
    check_hidden("active_learning_loop", namespace["active_learning_loop"])
    assert "hidden cases passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name, story, says, never_says",
    [
        (
            "active_learning_loop",
            "adds the positions in the unlabelled list, not pool indices",
            ["unlabelled[top]"],
            ["only once"],
        ),
        ("active_learning_loop", "np.argsort's default sort, which is not stable", ["kind='stable'"], ["highest"]),
        ("active_learning_loop", "trains once, before the loop", ["start of each round"], ["labelled points only"]),
        (
            "active_learning_loop",
            "trains on the whole pool's labels",
            ["labelled points only"],
            ["start of each round"],
        ),
        ("active_learning_loop", "returns only the new labels", ["initial labelled indices"], ["n_rounds rounds"]),
        ("binary_search_query", "the middle as (hi - lo) / 2", ["(lo + hi) / 2"], ["farthest"]),
        ("binary_search_query", "returns the position in the list of inside points", ["inside[that]"], ["strictly"]),
        (
            "binary_search_query",
            "lo and hi count as inside (>= and <=)",
            ["only points strictly inside"],
            ["when no pool point"],
        ),
        (
            "binary_search_query",
            "masks the outside points with inf but never returns -1",
            ["return -1"],
            ["inside (lo"],
        ),
        ("margin", "the first two columns after np.sort: the two smallest", ["s[:, -2]"], ["columns 0 and 1"]),
        ("margin", "takes columns 0 and 1 as the top two", ["columns 0 and 1"], ["s[:, -2]"]),
        (
            "margin",
            "the gap the wrong way round: second largest minus largest",
            ["s[:, -1] - s[:, -2]"],
            ["columns 0 and 1"],
        ),
        (
            "binary_search_query",
            "the middle as lo + hi / 2: without brackets only hi is halved",
            ["(lo + hi) / 2", "does not start at 0"],
            ["farthest"],
        ),
        (
            "binary_search_query",
            "the middle as (lo + hi) // 2: floor division rounds it down to 0",
            ["//"],
            ["farthest"],
        ),
        (
            "least_confidence",
            "the second largest probability (s[:, -2] after np.sort)",
            ["second largest (s[:, -2])"],
            ["column 0"],
        ),
        ("least_confidence", "takes column 0 as the most likely class", ["column 0"], ["second largest (s"]),
        ("least_confidence", "a trailing comma after the return: a 1-tuple", ["a tuple of 1"], ["returned shape"]),
    ],
)
def test_each_slip_gets_its_own_hint_and_not_anothers(name, story, says, never_says):
    message = _message(name, get(name).mistake(story).code)
    for phrase in says:
        assert phrase in message, message
    for phrase in never_says:
        assert phrase not in message, message


def test_no_mistakes_says_phrase_is_already_in_the_sentence_of_a_case():
    # else the phrase would prove nothing about the hint shown
    for record in for_lab(LAB):
        for mistake in record.mistakes:
            assert not [c.what for c in record.cases if mistake.says in c.what], (record.name, mistake.story)


def test_the_loops_failure_shows_the_pool_compactly():
    message = _message("active_learning_loop", get("active_learning_loop").mistake("takes the lowest scores").code)
    inputs = message.splitlines()[1]
    assert "X = the points 0, 1, ..., 10 (one feature)" in inputs
    assert "make_model = MidpointModel" in inputs and "score = entropy" in inputs and "n_rounds = 3" in inputs


def test_a_list_of_batches_is_told_to_concatenate():
    code = """
def active_learning_loop(X, y, labelled, make_model, score, batch_size, n_rounds):
    out = [np.asarray(labelled)]
    for _ in range(n_rounds):
        seen = np.concatenate(out)
        model = make_model().fit(X[seen], y[seen])
        unlabelled = np.setdiff1d(np.arange(len(X)), seen)
        out.append(unlabelled[np.argsort(-score(model.predict_proba(X[unlabelled])), kind="stable")[:batch_size]])
    return out
"""
    assert "np.concatenate" in _message("active_learning_loop", code)


def test_a_returned_position_x_i_is_named_as_such():
    code = """
def binary_search_query(x, lo, hi):
    inside = x[(x > lo) & (x < hi)]
    return -1 if inside.size == 0 else inside[np.argmin(np.abs(inside - (lo + hi) / 2))]
"""
    assert "not the position x[i]" in _message("binary_search_query", code)


def test_the_visible_loop_cases_pass_plain_picklable_arguments():
    import pickle

    for case in get("active_learning_loop").cases:  # to a sandboxed worker and back, the same case
        again = pickle.loads(pickle.dumps(case.args))
        assert pool_based_loop(*again).tolist() == pool_based_loop(*case.args).tolist()
    assert all(pickle.dumps(args) for args in get("active_learning_loop").hidden_cases())


# --- the notebook's digits experiment runs the student's loop ---------------------------------------


def _notebook_cell(grade_id: str) -> str:
    nb = json.loads((REPO / "solutions" / LAB / f"{LAB}.ipynb").read_text())
    (cell,) = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id]
    return "".join(cell["source"])


def test_the_notebooks_digits_cell_passes_the_students_loop():
    source = _notebook_cell("digits")
    assert "experiment.digits_curves(" in source and "loop=active_learning_loop" in source


def test_digits_curves_calls_the_loop_it_is_given_and_refits_on_its_order():
    calls = []

    def loop(X, y, labelled, make_model, score, batch_size, n_rounds):
        calls.append((len(X), len(labelled), batch_size, n_rounds))
        return np.concatenate([labelled, np.setdiff1d(np.arange(len(X)), labelled)[: batch_size * n_rounds]])

    n_labelled, accuracy, orders = experiment.digits_curves({"random": "random", "entropy": entropy}, 1, 1, loop=loop)
    assert calls == [(1347, 20, 10, 1)] * 2
    assert n_labelled.tolist() == [20, 30] and accuracy["entropy"].shape == (1, 2)
    # the loop ignored the score, so both strategies labelled the same points and score the same
    assert np.array_equal(orders["random"][0], orders["entropy"][0])
    assert np.array_equal(accuracy["random"], accuracy["entropy"])


def test_digits_curves_with_the_solutions_loop_equals_the_kits():
    student = answer_namespace(LAB, REPO)["active_learning_loop"]
    strategies = {"random": "random", "entropy": entropy}
    _, theirs, their_orders = experiment.digits_curves(strategies, 1, 2, loop=student)
    _, ours, our_orders = experiment.digits_curves(strategies, 1, 2)
    for name in strategies:
        assert np.array_equal(their_orders[name][0], our_orders[name][0])
        assert np.array_equal(theirs[name], ours[name])


@pytest.mark.parametrize(
    "answer, match",
    [
        (lambda labelled, rest: rest[:10], "should return 30 pool indices"),
        (lambda labelled, rest: np.concatenate([rest[:10], labelled]), "labelled indices it was given first"),
        (lambda labelled, rest: np.concatenate([labelled, labelled[:10]]), "an index twice"),
        (lambda labelled, rest: [labelled, rest[:10]], "should return 30 pool indices"),
    ],
)
def test_a_loop_with_a_malformed_answer_is_refused_by_the_experiment(answer, match):
    def loop(X, y, labelled, make_model, score, batch_size, n_rounds):
        return answer(labelled, np.setdiff1d(np.arange(len(X)), labelled))

    with pytest.raises(ValueError, match=match):
        experiment.digits_curves({"entropy": entropy}, 1, 1, loop=loop)
