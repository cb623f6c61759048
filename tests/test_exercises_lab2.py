"""Lab 2's records, beyond the spec every record meets (tests/test_exercises.py): which hint each slip gets.

The k-centers hints compare a wrong answer with what known slips return, so these
tests pin the ones that used to be confused: a loop started from zeros was told
"argmin", one that never updated was told to use argmax.
"""

from pathlib import Path

import numpy as np
import pytest

from dcai_al.exercises import for_lab, get
from dcai_al.exercises.solutions import visible_failure

REPO = Path(__file__).resolve().parents[1]
LAB = "lab2-batch-diversity"


def _message(name: str, code: str) -> str:
    message = visible_failure(LAB, REPO, name, code)
    assert message, f"the visible check of {name} passed this answer"
    return message


def test_the_records_come_in_notebook_order_with_their_points():
    assert [(r.name, r.points) for r in for_lab(LAB)] == [
        ("top_j", 2),
        ("update_min_distances", 2),
        ("k_center_greedy", 3),
        ("coverage_radius", 2),
    ]
    assert get("k_center_greedy").uses == ("update_min_distances",)
    assert get("coverage_radius").uses == ("update_min_distances",)


@pytest.mark.parametrize(
    "story, says, never_says",
    [
        ("starts the distances at zeros", ["zeros", "np.inf"], ["argmin"]),
        ("starts the distances at zeros and never rules out centers", ["zeros", "np.inf"], ["argmin"]),
        ("never updates the distances after a pick", ["never updated"], ["argmin", "largest (argmax)"]),
        (
            "never updates after a pick, nor rules the pick out",
            ["same point", "update"],
            ["argmin", "largest (argmax)"],
        ),
        ("takes argmin", ["argmin"], ["zeros"]),
        ("marks the centers with np.inf", ["already a center", "np.inf"], ["zeros"]),
    ],
)
def test_each_k_center_slip_gets_its_own_hint_and_not_anothers(story, says, never_says):
    message = _message("k_center_greedy", get("k_center_greedy").mistake(story).code)
    for phrase in says:
        assert phrase in message, message
    for phrase in never_says:
        assert phrase not in message, message


@pytest.mark.parametrize(
    "name, story, says, never_says",
    [
        (
            "top_j",
            "rules out the labelled points with a score of 0, which an unlabelled score of 0 or less does not beat",
            ["already labelled", "-np.inf"],
            ["np.setdiff1d"],
        ),
        (
            "top_j",
            "returns positions in the list of unlabelled points, not pool indices",
            ["unlabelled[top]"],
            ["np.setdiff1d (like np.unique) sorts"],
        ),
        ("top_j", "forgets to leave out the labelled points", ["already labelled"], ["unlabelled[top]"]),
        ("update_min_distances", "the L1 distance (the sum of absolute differences)", ["Euclidean"], ["minimum"]),
        ("update_min_distances", "squared distances", ["not the squared one"], ["absolute differences"]),
        (
            "coverage_radius",
            "a one-element array (keepdims=True), which the notebook's plot cannot use as a number",
            ["one number", "shape (1,)"],
            ["hint:"],
        ),
    ],
)
def test_each_top_j_update_and_radius_slip_gets_its_own_hint_and_not_anothers(name, story, says, never_says):
    message = _message(name, get(name).mistake(story).code)
    for phrase in says:
        assert phrase in message, message
    for phrase in never_says:
        assert phrase not in message, message


def test_numpys_default_argsort_fails_the_many_ties_case_with_the_stable_sort_hint():
    message = _message("top_j", get("top_j").mistake("numpy's default argsort: ties in any order").code)
    assert "90 tied scores" in message.splitlines()[0]
    assert "kind='stable'" in message and "does not keep equal scores in order" in message


def test_a_reversed_ascending_argsort_is_told_that_it_puts_the_higher_index_first():
    message = _message("top_j", get("top_j").mistake("reverses an ascending argsort: ties go to the higher index").code)
    assert "ties go to the lower index" in message.splitlines()[0]
    assert "reversing an ascending sort puts the higher index first" in message


@pytest.mark.parametrize(
    "name, code, argument",
    [
        (
            "top_j",
            "def top_j(scores, batch_size, labelled):\n    scores.sort()\n    return np.arange(batch_size)\n",
            "scores",
        ),
        (
            "top_j",
            "def top_j(s, batch_size, labelled):\n    s[labelled] = -np.inf\n"
            "    return np.argsort(-s, kind='stable')[:batch_size]\n",
            "s",
        ),
        (
            "update_min_distances",
            "def update_min_distances(min_dist, features, center):\n    return np.minimum(min_dist, 0, out=min_dist)\n",
            "min_dist",
        ),
    ],
)
def test_the_copy_hint_names_the_argument_that_was_edited(name, code, argument):
    message = _message(name, code)
    assert "in place" in message and f"{argument} = {argument}.copy()" in message and "probs" not in message


def test_a_top_j_that_copies_its_scores_is_not_told_about_in_place_edits():
    code = "def top_j(scores, batch_size, labelled):\n    return np.argsort(-scores, kind='stable')[:batch_size]\n"
    message = _message("top_j", code)
    assert "in place" not in message and "already labelled" in message


def test_the_visible_cases_expect_what_the_hand_written_checks_did():
    def expected(name):
        record = get(name)
        return [record.answer.read(record.reference(*c.args), c.args, name, c.what) for c in record.cases]

    assert expected("top_j")[:6] == [[1, 3], [2, 3, 0], [2, 3], [0, 1], [1], [5, 6, 7, 8, 9]]
    assert expected("top_j")[-1] == [1, 2]  # the negative score, not the labelled point 0
    assert expected("k_center_greedy") == [[4, 0], [4, 2], [2, 1, 3], [3, 1], [0]]
    assert expected("coverage_radius") == [10.0, 5.0, 0.0, 5.0]
    distances = expected("update_min_distances")
    assert np.allclose(distances, [[0, 5, 6, 1], [0, 5, 0, 1], [0, 0, 1, 0.5]])


def test_the_hidden_cases_are_the_old_hidden_blocks_draws():
    rng = np.random.default_rng(11)
    n = int(rng.integers(5, 60))
    scores = rng.integers(0, 5, size=n) / 4.0
    labelled = rng.choice(n, int(rng.integers(0, n // 2)), replace=False)
    first = get("top_j").hidden_cases()[0]
    assert np.array_equal(first[0], scores) and np.array_equal(first[2], labelled)

    rng = np.random.default_rng(13)
    n = int(rng.integers(10, 80))
    features = rng.standard_normal((n, 3))
    labelled = rng.choice(n, int(rng.integers(1, 5)), replace=False)
    first = get("k_center_greedy").hidden_cases()[0]
    assert np.array_equal(first[0], features) and np.array_equal(first[2], labelled)

    rng = np.random.default_rng(14)
    features = rng.standard_normal((50, 4))
    assert np.array_equal(get("coverage_radius").hidden_cases()[0][0], features)


def test_the_efficiency_table_renders_as_a_markdown_table():
    from dcai_al.experiments import lab2

    n_labelled = np.array([20, 30, 40])
    accuracy = {"random": np.array([[0.5, 0.6, 0.7], [0.5, 0.6, 0.7]]), "top-J entropy": np.full((2, 3), 0.8)}
    text = lab2.efficiency_table(n_labelled, accuracy, 10).to_markdown()
    assert "(2 seeds)" in text and "| 10 | top-J entropy | 0.800 ± 0.000 | 20 |" in text
    assert text.splitlines()[3].startswith("|---|")
