"""checks.py: how a student's function is called and judged, and how a failure reads.

What each exercise's cases and hints are is specified by its record (tests/test_exercises*.py); this
file specifies the machinery every record shares: copies, time limits, warnings, the kit's own
implementation refused, and a failure in a few lines.
"""

import warnings

import numpy as np
import pytest

from dcai_al import acquisition, checks, threshold
from dcai_al.checks import CheckFailed, check


def correct_entropy(p):
    p = np.asarray(p, dtype=float)
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(1)


def correct_margin(p):
    s = np.sort(np.asarray(p), 1)
    return 1 - (s[:, -1] - s[:, -2])


def test_an_unknown_exercise_is_refused_with_the_list_of_exercises():
    with pytest.raises(ValueError, match="no exercise is named 'entropie'.*entropy"):
        check("entropie", correct_entropy)


def test_the_old_per_exercise_name_still_works_with_a_deprecation_warning(capsys):
    with pytest.warns(DeprecationWarning, match=r"check\('entropy', fn\)"):
        checks.check_entropy(correct_entropy)
    assert "entropy: all" in capsys.readouterr().out


def test_unfinished_answer_says_not_implemented():
    def entropy(p):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("entropy", entropy)


def test_crashing_answer_reports_the_error_and_case():
    with pytest.raises(CheckFailed, match="(?s)raised ZeroDivisionError.*on the case"):
        check("margin", lambda p: 1 / 0)


def test_answer_that_edits_its_input_is_caught():
    def sloppy(p):
        p.sort(axis=1)
        return 1 - (p[:, -1] - p[:, -2])

    with pytest.raises(CheckFailed, match="in place"):
        check("margin", sloppy)


@pytest.mark.parametrize("fn", [acquisition.entropy, lambda p: acquisition.entropy(p)])
def test_handing_in_the_kits_reference_is_refused(fn):
    with pytest.raises(CheckFailed, match="your own implementation"):
        check("entropy", fn)


def test_module_attribute_use_is_refused_too():
    def query(x, lo, hi):
        return threshold.binary_search_query(x, lo, hi)

    with pytest.raises(CheckFailed, match="your own implementation"):
        check("binary_search_query", query)


def test_wrapping_the_reference_in_helpers_is_refused():
    import dcai_al

    def helper(p):
        return dcai_al.acquisition.entropy(p)  # through the package's attributes

    def entropy(p):
        inner = lambda q: helper(q)  # noqa: E731 - a nested function on purpose
        return inner(p)

    with pytest.raises(CheckFailed, match="dcai_al.acquisition"):
        check("entropy", entropy)


def test_importing_the_reference_inside_the_body_is_refused():
    def entropy(p):
        from dcai_al.acquisition import entropy as kit_entropy

        return kit_entropy(p)

    with pytest.raises(CheckFailed, match="your own implementation"):
        check("entropy", entropy)


def test_every_records_reference_counts_as_the_kits_own_even_outside_the_listed_modules():
    from dcai_al.exercises import all_exercises

    for record in all_exercises():
        with pytest.raises(CheckFailed, match="your own implementation"):
            checks.require_own_implementation(record.reference, record.name)


def test_own_helpers_and_numpy_are_fine(capsys):
    def safe_log(p):
        return np.log(np.where(p > 0, p, 1.0))

    def entropy(p):
        return -(p * safe_log(p)).sum(axis=1)

    check("entropy", entropy)
    assert "passed" in capsys.readouterr().out


def test_an_answer_stuck_in_a_loop_is_stopped_with_a_message():
    def entropy(p):
        while True:
            pass

    with pytest.raises(CheckFailed, match=r"did not return within 0.2 s(?s:.*)stuck in a loop"):
        checks.call_student(entropy, np.eye(2), exercise="entropy", case="a loop", time_limit=0.2)


def test_catching_every_exception_does_not_escape_the_time_limit():
    def entropy(p):
        while True:
            try:
                while True:
                    pass
            except Exception:  # a student's broad except must not swallow the alarm
                pass

    with pytest.raises(CheckFailed, match="did not return"):
        checks.call_student(entropy, np.eye(2), exercise="entropy", case="a loop", time_limit=0.2)


def test_not_a_function():
    with pytest.raises(CheckFailed, match="expected a function"):
        check("entropy", correct_entropy(np.eye(2)))


# --- How a failure reads ------------------------------------------------------


def _failure(name, fn) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        check(name, fn)
    return info.value


def test_a_failure_renders_as_its_message_only_in_at_most_eight_lines():
    failure = _failure("entropy", lambda p: (p * np.log(np.where(p > 0, p, 1))).sum(1))
    lines = "\n".join(failure._render_traceback_()).splitlines()  # what IPython shows instead of a traceback
    assert 4 <= len(lines) <= 8
    assert "CheckFailed" in lines[0] and "entropy gave the wrong scores" in lines[0]
    assert any("expected:" in line for line in lines) and any("hint:" in line for line in lines)
    assert not any("checks.py" in line or "dcai_al/" in line for line in lines)


def test_a_long_message_is_cut_to_eight_lines_but_keeps_its_full_text():
    failure = checks.CheckFailed("\n".join(f"line {i}" for i in range(20)))
    assert len(failure._render_traceback_()) <= 8
    assert "line 19" in str(failure)  # the grading code reads the full message from evalue


def test_arrays_in_a_message_take_one_line_each():
    failure = _failure("entropy", lambda p: np.repeat(correct_entropy(p[:1]), len(p)))  # row 0 only
    lines = str(failure).splitlines()
    probs_line = next(line for line in lines if "probs =" in line)
    assert probs_line.count("[") == probs_line.count("]")  # the (3, 2) case's probs on one line
    assert len(lines) <= 8


@pytest.mark.parametrize(
    "answer",
    [lambda p: (_ for _ in ()).throw(NotImplementedError()), lambda p: 1 / 0],
    ids=["not implemented", "crash"],
)
def test_a_failure_does_not_chain_the_exception_it_came_from(answer):
    import traceback

    failure = _failure("entropy", answer)
    assert failure.__cause__ is None and failure.__suppress_context__
    assert "During handling" not in "".join(traceback.format_exception(failure))


def test_the_module_docstring_shows_the_line_a_passing_check_prints(capsys):
    import re

    shown = re.search(r'# prints "(.*)"', checks.__doc__).group(1)
    checks.check("entropy", correct_entropy)
    assert capsys.readouterr().out.strip() == shown


# --- Warnings ------------------------------------------------------------------


WARNING_ENTROPIES = [
    lambda p: -(p * np.nan_to_num(np.log(p))).sum(1),  # divide by zero encountered in log
    lambda p: -np.where(p > 0, p * np.log(p), 0).sum(1),  # the same, and invalid value in multiply
]


@pytest.mark.parametrize("entropy", WARNING_ENTROPIES, ids=["nan_to_num", "where"])
def test_a_correct_answer_that_makes_numpy_warn_passes_with_nothing_on_stderr(entropy, capfd):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        checks.check_hidden("entropy", entropy)
    assert [str(w.message) for w in seen] == []  # nbgrader scores a cell that writes to stderr 0
    out, err = capfd.readouterr()
    assert "passed" in out and err == ""


def test_a_wrong_answer_is_told_what_numpy_warned():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        failure = _failure("entropy", lambda p: -(p * np.log(p)).sum(1))
    assert seen == []
    assert "0 log 0" in str(failure) and "divide by zero encountered in log" in str(failure)
    assert len(str(failure).splitlines()) <= 8


# --- The copy hint names the argument that was edited ------------------------


@pytest.mark.parametrize(
    "name, fn, argument",
    [
        ("margin", lambda scores: scores.sort(axis=1) or np.zeros(len(scores)), "scores"),
        ("entropy", lambda probs: probs.fill(0.25) or np.zeros(len(probs)), "probs"),
    ],
)
def test_the_copy_hint_names_the_argument_that_was_edited(name, fn, argument):
    message = str(_failure(name, fn))
    assert "in place" in message and f"{argument} = {argument}.copy()" in message


# --- _same ---------------------------------------------------------------------


class _NoEquality:
    def __eq__(self, other):
        raise TypeError("no ==")

    def __reduce__(self):
        raise TypeError("not picklable either")


def test_same_is_honest_when_equality_raises():
    assert not checks._same([np.zeros(2)], [np.ones(2)])  # list == list of arrays raises
    assert checks._same([np.zeros(2)], [np.zeros(2)])
    assert not checks._same(_NoEquality(), _NoEquality())  # cannot tell: say "changed", never "unchanged"


def test_an_edit_inside_a_list_of_arrays_is_caught():
    def edits(rows):
        rows[0][0] = 99.0
        return 0

    with pytest.raises(CheckFailed, match="in place"):
        checks.call_student(edits, [np.zeros(2), np.ones(2)], exercise="f", case="a list of arrays")


def test_every_records_reference_lives_in_a_module_the_checks_refuse():
    from dcai_al.exercises import all_exercises

    for record in all_exercises():
        assert record.reference.__module__.startswith(checks.SUBJECT_MODULES), record.reference.__module__


def test_a_check_in_lab_1_imports_neither_torch_nor_the_later_labs():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\nfrom dcai_al import checks\n"
        "checks.check('entropy', lambda p: -(p * np.log(np.where(p > 0, p, 1.0))).sum(1))\n"
        "print('torch' in sys.modules, 'dcai_al.exercises.lab4' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "False False"
