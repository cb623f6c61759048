"""Lab 4's exercise records: the ranking reference, its bad inputs, and the feedback lab 4's mistakes get."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dcai_al import checks
from dcai_al.checks import CheckFailed
from dcai_al.exercises import for_lab, get
from dcai_al.exercises.cells import expand
from dcai_al.proxy import forgetting_order, keep_hardest

LAB = "lab4-selection-via-proxy"
NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / LAB / f"{LAB}.ipynb"
T, F = True, False


def _cells() -> dict:
    nb = json.loads(NOTEBOOK.read_text())
    return {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}


def _namespace() -> dict:
    """The solution's answer cells, run in order after the lab's numpy/math imports."""
    ns = {"np": np, "math": math}
    cells = _cells()
    for record in for_lab(LAB):
        exec("".join(cells[record.name]["source"]), ns)
    return ns


def test_lab4_has_three_graded_functions_in_notebook_order():
    assert [e.name for e in for_lab(LAB)] == ["forgetting_events", "forgetting_order", "keep_hardest"]
    assert "end_to_end_speedup" not in _cells() and "test_end_to_end_speedup" not in _cells()


def test_forgetting_order_on_a_worked_example():
    # column 0: learned, forgotten, relearned (1 event); column 1: never learned; column 2: forgotten twice;
    # column 3: never forgotten; column 4: learned late, 0 events (ties with 3, so after it by index)
    correct = [
        [T, F, T, T, F],
        [F, F, F, T, F],
        [T, F, T, T, T],
        [T, F, F, T, T],
    ]
    assert forgetting_order(correct).tolist() == [1, 2, 0, 3, 4]
    assert forgetting_order(np.array(correct, dtype=int)).dtype == np.int64  # 0/1 is read as bool


def test_forgetting_order_feeds_keep_hardest():
    correct = np.array([[T, F, T, T], [F, F, T, T], [T, F, F, T]])
    order = forgetting_order(correct)  # [1, 0, 2, 3]
    assert keep_hardest(order, [0, 0, 1, 1], 0.5).tolist() == [1, 2]


@pytest.mark.parametrize(
    "bad, says",
    [
        ([True, False], "2-D"),
        (np.zeros((0, 3), dtype=bool), "empty"),
        ([[0, 2], [1, 0]], "boolean"),
        ([["yes", "no"]], "correct"),
        (np.ones((2, 2, 2), dtype=bool), "2-D"),
    ],
)
def test_forgetting_order_refuses_bad_inputs(bad, says):
    with pytest.raises((ValueError, TypeError)) as info:
        forgetting_order(bad)
    assert says in str(info.value)


def test_the_solution_passes_visible_and_hidden(capsys):
    ns = _namespace()
    for record in for_lab(LAB):
        checks.check_hidden(record.name, ns[record.name])
    out = capsys.readouterr().out
    assert out.count("hidden cases passed") == 3


def test_every_mistake_fails_a_visible_case_with_its_phrase():
    ns = _namespace()
    for record in for_lab(LAB):
        for mistake in record.mistakes:
            local = dict(ns)
            exec(mistake.code, local)
            with pytest.raises(CheckFailed) as info:
                checks.check(record.name, local[record.name])
            assert mistake.says in str(info.value), (record.name, mistake.story, str(info.value))


def test_summing_over_axis_1_is_told_to_count_per_example_over_the_epochs():
    def forgetting_events(correct):
        correct = np.asarray(correct, dtype=bool)
        return (correct[:-1] & ~correct[1:]).sum(axis=1)

    with pytest.raises(CheckFailed) as info:
        checks.check("forgetting_events", forgetting_events)
    message = str(info.value)
    assert "per example" in message and "axis=0" in message
    assert "classes" not in message and "axis=1" not in message  # the bug is not offered as the fix


def test_per_epoch_counts_of_the_right_length_get_the_per_example_hint():
    # 3 epochs, 2 examples: per-epoch counts have the right length, so the hint, not the shape, must say it
    def forgetting_events(correct):
        correct = np.asarray(correct, dtype=bool)
        return (correct[:-1] & ~correct[1:]).sum(axis=1)

    record = get("forgetting_events")
    case = next(c for c in record.cases if np.shape(c.args[0]) == (3, 2))
    got = np.asarray(forgetting_events(case.args[0]), dtype=float)
    expected = record.reference(case.args[0])
    assert got.shape == expected.shape and not np.array_equal(got, expected)
    says = next(h.says for h in record.hints if h.when(got, case.args, expected))  # the first matching hint
    assert "counts per epoch" in says and "per example" in says and "axis=0" in says


def test_counts_are_shown_as_ints_and_still_compared_exactly():
    def forgetting_events(correct):  # ever forgotten (any), not how often
        correct = np.asarray(correct, dtype=bool)
        return (correct[:-1] & ~correct[1:]).any(axis=0)

    with pytest.raises(CheckFailed) as info:
        checks.check("forgetting_events", forgetting_events)
    message = str(info.value)
    assert "expected: [2]\n" in message and "got:      [1]\n" in message
    record = get("forgetting_events")
    args = record.cases[0].args
    assert record.answer.read(np.array([1.0]), args, record.name, "a case").dtype == np.int64
    half = record.answer.read(np.array([0.5]), args, record.name, "a case")  # not a count: kept as it is, and wrong
    assert half.tolist() == [0.5] and not record.answer.same(record.answer.read([1], args, record.name, "c"), half)


def test_the_hidden_cases_are_deterministic_and_fast():
    import time

    ns = _namespace()
    for record in for_lab(LAB):
        first, second = record.hidden_cases(), record.hidden_cases()
        assert len(first) == len(second) > 0
        for a, b in zip(first, second, strict=True):
            assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
        start = time.perf_counter()
        checks.check_hidden(record.name, ns[record.name])
        assert time.perf_counter() - start < 2.0


def test_the_release_writes_each_test_cell():
    nb = json.loads(NOTEBOOK.read_text())
    out = {c["metadata"]["nbgrader"]["grade_id"]: c for c in expand(nb, LAB)["cells"]}
    for record in for_lab(LAB):
        source = out[record.test_cell]["source"]
        assert source.startswith(record.visible_line) and f'_check_hidden("{record.name}"' in source
        assert out[record.test_cell]["metadata"]["nbgrader"]["points"] == float(record.points)
