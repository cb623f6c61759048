"""checks.py: correct answers pass; typical mistakes fail with a message that names the symptom."""

import numpy as np
import pytest

from dcai_al import acquisition, checks, threshold
from dcai_al.checks import CheckFailed


def correct_entropy(p):
    p = np.asarray(p, dtype=float)
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(1)


def correct_lc(p):
    return 1 - np.asarray(p).max(1)


def correct_margin(p):
    s = np.sort(np.asarray(p), 1)
    return 1 - (s[:, -1] - s[:, -2])


def correct_query(x, lo, hi):
    x = np.asarray(x)
    inside = np.flatnonzero((x > lo) & (x < hi))
    return -1 if inside.size == 0 else int(inside[np.argmin(np.abs(x[inside] - (lo + hi) / 2))])


@pytest.mark.parametrize(
    "check, fn",
    [
        (checks.check_entropy, correct_entropy),
        (checks.check_least_confidence, correct_lc),
        (checks.check_margin, correct_margin),
        (checks.check_binary_search_query, correct_query),
    ],
)
def test_correct_answers_pass(check, fn, capsys):
    check(fn)
    assert "passed" in capsys.readouterr().out


def farthest_query(x, lo, hi):
    inside = np.flatnonzero((x > lo) & (x < hi))
    return int(inside[np.argmax(np.abs(x[inside] - (lo + hi) / 2))]) if inside.size else -1


MISTAKES = [
    (checks.check_entropy, lambda p: -(p * np.log2(np.where(p > 0, p, 1))).sum(1), "natural log"),
    (checks.check_entropy, lambda p: (p * np.log(np.where(p > 0, p, 1))).sum(1), "minus sign"),
    (checks.check_entropy, lambda p: -(p * np.log(p)).sum(1), "0 log 0"),
    (checks.check_entropy, lambda p: -(p * np.log(np.where(p > 0, p, 1))), "axis=1"),
    (checks.check_entropy, lambda p: None, "return"),
    (checks.check_least_confidence, lambda p: p.max(1), "1 - max p"),
    (checks.check_least_confidence, lambda p: 1 - p.min(1), "largest probability"),
    (checks.check_least_confidence, lambda p: 1 - p[:, 0], "axis=1"),
    (checks.check_margin, lambda p: np.sort(p, 1)[:, -1] - np.sort(p, 1)[:, -2], "small gaps score high"),
    (checks.check_margin, lambda p: 1 - np.abs(p[:, 0] - p[:, 1]), "two largest"),
    (checks.check_binary_search_query, lambda x, lo, hi: int(np.argmin(np.abs(x - (lo + hi) / 2))), "strictly"),
    (checks.check_binary_search_query, lambda x, lo, hi: 0, "expected"),
    (checks.check_binary_search_query, farthest_query, "farthest from the middle"),
]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("check, fn, symptom", MISTAKES, ids=[m[2] for m in MISTAKES])
def test_typical_mistakes_fail_with_a_hint(check, fn, symptom):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    assert symptom in str(info.value)


def test_unfinished_answer_says_not_implemented():
    def entropy(p):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        checks.check_entropy(entropy)


def test_crashing_answer_reports_the_error_and_case():
    with pytest.raises(CheckFailed, match="(?s)raised ZeroDivisionError.*on the case"):
        checks.check_margin(lambda p: 1 / 0)


def test_answer_that_edits_its_input_is_caught():
    def sloppy(p):
        p.sort(axis=1)
        return 1 - (p[:, -1] - p[:, -2])

    with pytest.raises(CheckFailed, match="in place"):
        checks.check_margin(sloppy)


@pytest.mark.parametrize("fn", [acquisition.entropy, lambda p: acquisition.entropy(p)])
def test_handing_in_the_kits_reference_is_refused(fn):
    with pytest.raises(CheckFailed, match="your own implementation"):
        checks.check_entropy(fn)


def test_module_attribute_use_is_refused_too():
    def query(x, lo, hi):
        return threshold.binary_search_query(x, lo, hi)

    with pytest.raises(CheckFailed, match="your own implementation"):
        checks.check_binary_search_query(query)


def test_wrapping_the_reference_in_helpers_is_refused():
    import dcai_al

    def helper(p):
        return dcai_al.acquisition.entropy(p)  # through the package's attributes

    def entropy(p):
        inner = lambda q: helper(q)  # noqa: E731 - a nested function on purpose
        return inner(p)

    with pytest.raises(CheckFailed, match="dcai_al.acquisition"):
        checks.check_entropy(entropy)


def test_own_helpers_and_numpy_are_fine(capsys):
    def safe_log(p):
        return np.log(np.where(p > 0, p, 1.0))

    def entropy(p):
        return -(p * safe_log(p)).sum(axis=1)

    checks.check_entropy(entropy)
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
        checks.check_entropy(correct_entropy(np.eye(2)))


def test_same_as_reference_spots_a_disagreement():
    p = np.random.default_rng(0).dirichlet(np.ones(3), size=10)
    checks.check_same_as_reference(correct_margin, acquisition.margin, [(p,)], exercise="margin")
    with pytest.raises(CheckFailed, match="disagrees"):
        checks.check_same_as_reference(correct_lc, acquisition.margin, [(p,)], exercise="margin")


# --- Lab 2 -------------------------------------------------------------------


def good_top_j(scores, j, labelled):
    s = np.array(scores, dtype=float)
    s[np.asarray(labelled, dtype=int)] = -np.inf
    return np.argsort(-s, kind="stable")[:j]


def good_update(min_dist, X, c):
    return np.minimum(min_dist, np.linalg.norm(X - X[c], axis=1))


def good_k_center(X, budget, labelled):
    m = np.full(len(X), np.inf)
    for c in labelled:
        m = good_update(m, X, c)
    m[list(labelled)] = -np.inf
    out = []
    for _ in range(budget):
        i = int(np.argmax(m))
        out.append(i)
        m = good_update(m, X, i)
        m[i] = -np.inf
    return np.array(out)


def good_radius(X, centers):
    m = np.full(len(X), np.inf)
    for c in centers:
        m = good_update(m, X, c)
    return float(m.max())


@pytest.mark.parametrize(
    "check, fn",
    [
        (checks.check_top_j, good_top_j),
        (checks.check_update_min_distances, good_update),
        (checks.check_k_center_greedy, good_k_center),
        (checks.check_coverage_radius, good_radius),
    ],
)
def test_lab2_correct_answers_pass(check, fn, capsys):
    check(fn)
    assert "passed" in capsys.readouterr().out


def _k_center_keeping_labelled(X, budget, labelled):
    m = np.full(len(X), np.inf)
    for c in labelled:
        m = good_update(m, X, c)
    out = []
    for _ in range(budget):
        i = int(np.argmax(m))
        out.append(i)
        m = good_update(m, X, i)
    return np.array(out)


LAB2_MISTAKES = [
    (checks.check_top_j, lambda s, j, lab: np.argsort(s, kind="stable")[:j], "smallest"),
    (checks.check_top_j, lambda s, j, lab: np.argsort(-np.asarray(s), kind="stable")[:j], "already labelled"),
    (checks.check_top_j, lambda s, j, lab: good_top_j(s, j + 1, lab), "off-by-one"),
    (checks.check_top_j, lambda s, j, lab: np.sort(good_top_j(s, j, lab)), "wrong order"),
    (checks.check_update_min_distances, lambda m, X, c: np.minimum(m, ((X - X[c]) ** 2).sum(1)), "squared"),
    (checks.check_update_min_distances, lambda m, X, c: np.linalg.norm(X - X[c], axis=1), "np.minimum"),
    (checks.check_update_min_distances, lambda m, X, c: np.maximum(m, np.linalg.norm(X - X[c], axis=1)), "maximum"),
    (checks.check_k_center_greedy, lambda X, b, lab: good_k_center(X, b, lab)[:-1], "exactly budget"),
    (checks.check_k_center_greedy, lambda X, b, lab: np.array([lab[0]] * b), "already a center"),
    (checks.check_coverage_radius, lambda X, c: good_radius(X, c) ** 2, "not its square"),
]


@pytest.mark.parametrize("check, fn, symptom", LAB2_MISTAKES, ids=[m[2] for m in LAB2_MISTAKES])
def test_lab2_typical_mistakes_fail_with_a_hint(check, fn, symptom):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    assert symptom in str(info.value)


def test_in_place_update_of_min_dist_is_reported():
    def in_place(m, X, c):
        np.minimum(m, np.linalg.norm(X - X[c], axis=1), out=m)
        return m

    with pytest.raises(CheckFailed, match="in place"):
        checks.check_update_min_distances(in_place)


# --- Lab 3 -------------------------------------------------------------------


def good_update_candidates(cand, labelled, new, ids):
    found = [np.asarray(cand, dtype=np.int64)]
    for row, q in zip(np.asarray(ids), np.asarray(new), strict=True):
        found.append(row[(row != q) & (row >= 0)])
    merged = np.unique(np.concatenate(found))
    return merged[~np.isin(merged, labelled)]


def first_row_slip(cand, labelled, new, ids):  # the public SEALS slip: ids[0][1:]
    merged = np.unique(np.concatenate([cand, np.asarray(ids)[0][1:]]))
    return merged[~np.isin(merged, labelled)]


def by_position(cand, labelled, new, ids):
    merged = np.unique(np.concatenate([cand, np.asarray(ids)[:, 1:].ravel()]))
    merged = merged[merged >= 0]
    return merged[~np.isin(merged, labelled)]


def test_lab3_correct_answers_pass(capsys):
    checks.check_candidate_update(good_update_candidates)
    checks.check_select_from_candidates(lambda s, c, b: np.asarray(c)[np.argsort(-np.asarray(s), kind="stable")[:b]])
    assert capsys.readouterr().out.count("passed") == 2


LAB3_MISTAKES = [
    (checks.check_candidate_update, first_row_slip, "ids[0][1:]"),
    (checks.check_candidate_update, by_position, "by value"),
    (checks.check_candidate_update, lambda c, lab, new, ids: np.unique(np.concatenate([c, np.ravel(ids)])), "labelled"),
    (checks.check_select_from_candidates, lambda s, c, b: np.argsort(-np.asarray(s), kind="stable")[:b], "positions"),
    (
        checks.check_select_from_candidates,
        lambda s, c, b: np.asarray(c)[np.argsort(-np.asarray(s))[: b + 1]],
        "exactly",
    ),
]


@pytest.mark.parametrize("check, fn, symptom", LAB3_MISTAKES, ids=[m[2] for m in LAB3_MISTAKES])
def test_lab3_typical_mistakes_fail_with_a_hint(check, fn, symptom):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    assert symptom in str(info.value)


# --- Lab 4 -------------------------------------------------------------------


def good_keep(order, labels, fraction):
    import math

    order, labels = np.asarray(order), np.asarray(labels)
    return np.sort(
        np.concatenate(
            [order[labels[order] == c][: math.ceil(fraction * (labels == c).sum())] for c in np.unique(labels)]
        )
    )


def test_lab4_correct_answers_pass(capsys):
    checks.check_forgetting_events(lambda c: (np.asarray(c)[:-1] & ~np.asarray(c)[1:]).sum(0))
    checks.check_keep_hardest(good_keep)
    checks.check_end_to_end_speedup(lambda p, r, t, b: (p + r + t, b / (p + r + t)))
    assert capsys.readouterr().out.count("passed") == 3


LAB4_MISTAKES = [
    (checks.check_forgetting_events, lambda c: (~np.asarray(c)[:-1] & np.asarray(c)[1:]).sum(0), "learning"),
    (checks.check_forgetting_events, lambda c: (np.asarray(c)[:-1] != np.asarray(c)[1:]).sum(0), "every change"),
    (checks.check_forgetting_events, lambda c: (~np.asarray(c)).sum(0), "not the epochs"),
    (checks.check_keep_hardest, lambda o, lab, f: np.sort(np.asarray(o)[: int(np.ceil(f * len(o)))]), "each class"),
    (checks.check_keep_hardest, lambda o, lab, f: good_keep(o, lab, f)[::-1], "sorted"),
    (checks.check_end_to_end_speedup, lambda p, r, t, b: (t, b / t), "includes training the proxy"),
    (checks.check_end_to_end_speedup, lambda p, r, t, b: (r + t, b / (r + t)), "includes training the proxy"),
    (checks.check_end_to_end_speedup, lambda p, r, t, b: (p + r + t, (p + r + t) / b), "baseline / total"),
]


@pytest.mark.parametrize("check, fn, symptom", LAB4_MISTAKES, ids=[m[2] for m in LAB4_MISTAKES])
def test_lab4_typical_mistakes_fail_with_a_hint(check, fn, symptom):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    assert symptom in str(info.value)


def test_importing_the_reference_inside_the_body_is_refused():
    def entropy(p):
        from dcai_al.acquisition import entropy as kit_entropy

        return kit_entropy(p)

    with pytest.raises(CheckFailed, match="your own implementation"):
        checks.check_entropy(entropy)


# --- How a failure reads ------------------------------------------------------


def _failure(check, fn) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return info.value


def test_a_failure_renders_as_its_message_only_in_at_most_eight_lines():
    failure = _failure(checks.check_entropy, lambda p: (p * np.log(np.where(p > 0, p, 1))).sum(1))
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
    failure = _failure(checks.check_entropy, lambda p: np.repeat(correct_entropy(p[:1]), len(p)))  # row 0 only
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

    failure = _failure(checks.check_entropy, answer)
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
    import warnings

    p = np.random.default_rng(0).dirichlet(np.ones(3), size=10)
    p[0] = [1.0, 0.0, 0.0]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        checks.check_entropy(entropy)
        checks.check_same_as_reference(entropy, acquisition.entropy, [(p,)], exercise="entropy")
    assert [str(w.message) for w in seen] == []  # nbgrader scores a cell that writes to stderr 0
    out, err = capfd.readouterr()
    assert "passed" in out and err == ""


def test_a_wrong_answer_is_told_what_numpy_warned():
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        failure = _failure(checks.check_entropy, lambda p: -(p * np.log(p)).sum(1))
    assert seen == []
    assert "0 log 0" in str(failure) and "divide by zero encountered in log" in str(failure)
    assert len(str(failure).splitlines()) <= 8


# --- Mistakes the visible cases used to miss, and hints that were wrong ------------


def unstable_top_j(scores, j, labelled):
    s = np.array(scores, dtype=float)
    s[np.asarray(labelled, dtype=int)] = -np.inf
    return np.argsort(-s)[:j]  # quicksort: ties in any order beyond 16 elements


def dropping_old_candidates(cand, labelled, new, ids):
    return good_update_candidates(np.empty(0, dtype=np.int64), labelled, new, ids)


def _k_center(X, budget, labelled, *, start=np.inf, update=True, exclude=True, pick=np.argmax):
    m = np.full(len(X), start, dtype=float)
    for c in labelled:
        m = good_update(m, X, c)
    if exclude:
        m[list(labelled)] = -np.inf
    out = []
    for _ in range(budget):
        i = int(pick(m))
        out.append(i)
        if update:
            m = good_update(m, X, i)
        if exclude:
            m[i] = -np.inf
    return np.array(out)


NAMED_MISTAKES = [
    (checks.check_top_j, unstable_top_j, ["kind='stable'", "16"], []),
    (
        checks.check_select_from_candidates,
        lambda s, c, b: np.asarray(c)[np.argsort(-np.asarray(s))[:b]],
        ["kind='stable'", "16"],
        [],
    ),
    (checks.check_candidate_update, dropping_old_candidates, ["old candidates"], []),
    (
        checks.check_forgetting_events,
        lambda c: (np.asarray(c)[:-1] & ~np.asarray(c)[1:]).sum(1),
        ["axis=0", "per example"],
        ["classes", "axis=1."],
    ),
    (checks.check_k_center_greedy, lambda X, b, lab: _k_center(X, b, lab, start=0.0), ["zeros", "np.inf"], ["argmin"]),
    (
        checks.check_k_center_greedy,
        lambda X, b, lab: _k_center(X, b, lab, start=0.0, exclude=False),
        ["zeros", "np.inf"],
        ["argmin"],
    ),
    (checks.check_k_center_greedy, lambda X, b, lab: _k_center(X, b, lab, update=False), ["never update"], []),
    (
        checks.check_k_center_greedy,
        lambda X, b, lab: _k_center(X, b, lab, update=False, exclude=False),
        ["same point", "update"],
        ["argmin"],
    ),
    (checks.check_k_center_greedy, lambda X, b, lab: _k_center(X, b, lab, pick=np.argmin), ["argmin"], ["zeros"]),
]


@pytest.mark.parametrize(
    "check, fn, says, never_says",
    NAMED_MISTAKES,
    ids=[
        "top_j unstable argsort",
        "select_from_candidates unstable argsort",
        "update_candidates drops the old candidates",
        "forgetting_events over axis=1",
        "k-centers from zeros",
        "k-centers from zeros, nothing excluded",
        "k-centers never updates",
        "k-centers never updates, nothing excluded",
        "k-centers argmin",
    ],
)
def test_a_plausible_mistake_fails_a_visible_case_with_a_hint_naming_it(check, fn, says, never_says):
    message = str(_failure(check, fn))
    for phrase in says:
        assert phrase in message, message
    for phrase in never_says:
        assert phrase not in message, message


def test_the_visible_top_j_ties_break_numpys_default_argsort():
    # the reason the case exists: more than 16 tied scores, where quicksort is not stable
    failure = _failure(checks.check_top_j, unstable_top_j)
    assert "more than 16" in str(failure)


@pytest.mark.parametrize(
    "check, fn, name",
    [
        (checks.check_update_min_distances, lambda min_dist, X, c: np.minimum(min_dist, 0, out=min_dist), "min_dist"),
        (checks.check_top_j, lambda scores, j, labelled: np.argsort(-scores, kind="stable")[:j], None),
        (checks.check_top_j, lambda scores, j, lab: scores.sort() or np.arange(j), "scores"),
    ],
)
def test_the_copy_hint_names_the_argument_that_was_edited(check, fn, name):
    message = str(_failure(check, fn))
    if name is None:
        assert "in place" not in message
        return
    assert "in place" in message and f"{name}.copy()" in message and "probs" not in message


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
