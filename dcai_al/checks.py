"""Checks that the labs' test cells call on a student's functions.

:func:`check` runs a student's function on the small explained cases of its
exercise record (:mod:`dcai_al.exercises`) and, when something is off, raises
:class:`CheckFailed` with a message in the student's terms: which input, what
was expected, what came back, and a hint. It works in any notebook, with or
without nbgrader::

    from dcai_al.checks import check
    check("entropy", my_entropy)     # prints "entropy: all 5 cases passed"

The student's function is always called on copies of the inputs, so an
answer that edits its input in place is reported rather than silently
corrupting later cases. Warnings it raises are caught (nbgrader gives no
points to a cell that writes to stderr) and mentioned only when the answer
is wrong. In IPython a failure shows as its message alone, at most
:data:`MAX_LINES` lines, without the kit's frames.
"""

from __future__ import annotations

import copy
import inspect
import pickle
import signal
import sys
import threading
import types
import warnings
from contextlib import contextmanager

import numpy as np

__all__ = [
    "CheckFailed",
    "check",
    "check_hidden",
    "check_binary_search_query",
    "check_candidate_update",
    "check_select_from_candidates",
    "check_coverage_radius",
    "check_end_to_end_speedup",
    "check_forgetting_events",
    "check_keep_hardest",
    "check_k_center_greedy",
    "check_top_j",
    "check_update_min_distances",
    "check_entropy",
    "check_least_confidence",
    "check_margin",
    "check_same_as_reference",
]

#: Modules whose functions are the exercises themselves: calling them from an
#: answer would hand in the kit's work instead of the student's.
SUBJECT_MODULES = ("dcai_al.acquisition", "dcai_al.threshold", "dcai_al.diversity", "dcai_al.seals", "dcai_al.proxy")


#: Lines a failure takes in a notebook: the case, its inputs, expected, got, a hint and the warnings seen.
MAX_LINES = 8


class CheckFailed(AssertionError):
    """A student's function gave a wrong answer; the message says how.

    ``str(failure)`` is the whole message (nbgrader's feedback and the
    grading code read it from the error's ``evalue``).
    """

    def _render_traceback_(self) -> list[str]:
        """The lines IPython shows instead of a traceback (ipykernel sends them as the error's ``traceback``).

        A traceback through the kit and the exception the failure came from
        would bury the few lines that say what to fix.
        """
        lines = f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}".splitlines()
        if len(lines) > MAX_LINES:
            lines = [*lines[: MAX_LINES - 1], "  ..."]
        return lines


def _fail(message: str):
    # `from None`: raised while handling the student's exception, which would otherwise be chained.
    raise CheckFailed(message) from None


def _fmt(value) -> str:
    """One line, at most about 300 characters, for a value in a message."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, suppress_small=True, separator=", ", max_line_width=10**6)
    else:
        text = repr(value)
    text = " ".join(text.split())  # a 2-D array prints one row per line
    return text if len(text) < 300 else text[:300] + " ..."


def _subject_modules() -> tuple[str, ...]:
    """:data:`SUBJECT_MODULES` and the module of every exercise record's reference."""
    from .exercises import all_exercises

    return tuple(dict.fromkeys((*SUBJECT_MODULES, *(e.reference.__module__ for e in all_exercises()))))


def _is_subject(obj) -> bool:
    name = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    return bool(name) and name.startswith(_subject_modules())


def _uses_kit_subject(fn) -> str | None:
    """Name of a kit exercise function that ``fn`` is, or reaches from its code.

    Follows the names the code uses: globals, attributes of ``dcai_al``
    modules (``dcai_al.acquisition.entropy``), the student's own helper
    functions and nested functions, so wrapping the reference does not hide it.
    """
    seen: set[int] = set()
    todo = [fn]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if callable(obj) and _is_subject(obj):
            return f"{obj.__module__}.{getattr(obj, '__name__', '?')}"
        code = getattr(obj, "__code__", None)
        if code is None:
            continue
        globs = getattr(obj, "__globals__", {})
        codes = [code]
        while codes:  # the function's own code and the code of functions defined inside it
            current = codes.pop()
            codes.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
            modules = []
            texts = [c for c in current.co_consts if isinstance(c, str)]  # importlib.import_module("...")
            for name in (*current.co_names, *texts):
                if name.startswith(_subject_modules()):  # `from dcai_al.acquisition import ...` inside the body
                    return name
                if name.split(".")[0] == "dcai_al" and name in sys.modules:
                    modules.append(sys.modules[name])
            for name in current.co_names:
                found = globs.get(name)
                if isinstance(found, types.ModuleType):
                    modules.append(found)
                elif isinstance(found, types.FunctionType):
                    todo.append(found)
            while modules:  # dcai_al.acquisition.entropy: walk attributes named in the code
                module = modules.pop()
                if _is_subject(module):
                    return module.__name__
                if not module.__name__.startswith("dcai_al"):
                    continue
                for name in current.co_names:
                    attr = getattr(module, name, None)
                    if isinstance(attr, types.ModuleType) and id(attr) not in seen:
                        seen.add(id(attr))
                        modules.append(attr)
                    elif callable(attr) and _is_subject(attr):
                        return f"{attr.__module__}.{getattr(attr, '__name__', name)}"
        closure = getattr(obj, "__closure__", None) or ()
        todo.extend(cell.cell_contents for cell in closure if callable(getattr(cell, "cell_contents", None)))
    return None


def require_own_implementation(fn, exercise: str) -> None:
    """Fail when ``fn`` is, or calls, the kit's reference implementation."""
    if not callable(fn):
        _fail(f"{exercise}: expected a function, got {type(fn).__name__}. Pass the function itself, without ().")
    used = _uses_kit_subject(fn)
    if used:
        _fail(
            f"{exercise}: your function uses the kit's reference implementation ({used}). "
            "This exercise asks for your own implementation, written with numpy (or torch)."
        )


def _same(a, b) -> bool:
    """Whether ``b`` still equals ``a`` (its copy from before the call); False when that cannot be told."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) or hasattr(a, "detach"):
        a_arr = a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)
        b_arr = b.detach().cpu().numpy() if hasattr(b, "detach") else np.asarray(b)
        return a_arr.shape == b_arr.shape and np.array_equal(a_arr, b_arr, equal_nan=True)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):  # == on a list of arrays raises
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    try:
        if bool(a == b):
            return True
    except Exception:  # no usable ==: compare the state instead
        pass
    try:  # a copy of an object compared by identity, or NaN, is still the same state
        return pickle.dumps(a) == pickle.dumps(b)
    except Exception:
        return False  # cannot tell: report a possible edit rather than hide one


#: Seconds a student's function may run on one small check case. Any correct
#: answer takes milliseconds; the limit turns an infinite loop into feedback.
TIME_LIMIT = 5.0


class _OutOfTime(BaseException):
    """Raised by the alarm; a BaseException so that ``except Exception`` in an answer cannot swallow it."""


@contextmanager
def _time_limit(seconds: float):
    # SIGALRM exists on Unix and works on the main thread only (where a kernel runs cells); elsewhere no limit.
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _alarm(signum, frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


#: What numpy (or anything else) warned during the last call of a student's function, for the next message.
_warned: list[str] = []


def _warning_note() -> str:
    """A line for a wrong answer's message: the warnings its last call raised, if any."""
    if not _warned:
        return ""
    return "\n  warnings while it ran: " + "; ".join(_warned)[:200]


def _argument_name(fn, i: int) -> str | None:
    """The name of ``fn``'s ``i``-th positional parameter, as the student wrote it."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins and the like
        return None
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names[i] if i < len(names) else None


def call_student(fn, *args, exercise: str, case: str, time_limit: float | None = None):
    """Call ``fn(*args)`` on copies; report crashes, infinite loops and in-place edits in plain words.

    Warnings raised during the call are recorded, not shown: a correct answer
    that makes numpy warn ("divide by zero encountered in log") must not write
    to stderr, which costs the cell all its points under nbgrader.
    """
    global _warned
    limit = TIME_LIMIT if time_limit is None else time_limit
    originals = copy.deepcopy(args)
    seen: list[warnings.WarningMessage] = []
    try:
        # record=True keeps every warning off stderr, whatever np.errstate the answer sets inside.
        with warnings.catch_warnings(record=True) as seen, _time_limit(limit):
            warnings.simplefilter("always")
            out = fn(*args)
    except NotImplementedError:
        _fail(f"{exercise} is not implemented yet: replace `raise NotImplementedError()` with your code.")
    except _OutOfTime:
        _fail(
            f"{exercise} did not return within {limit:g} s on the case: {case}. "
            "It is probably stuck in a loop: check that every while loop changes its condition."
        )
    except Exception as exc:  # the student's error, whatever it is, becomes feedback
        _warned = list(dict.fromkeys(str(w.message) for w in seen))
        _fail(f"{exercise} raised {type(exc).__name__}: {exc}\n  on the case: {case}{_warning_note()}")
    finally:
        _warned = list(dict.fromkeys(str(w.message) for w in seen))
    for i, (before, after) in enumerate(zip(originals, args, strict=True)):
        if not _same(before, after):
            name = _argument_name(fn, i)
            copy_of = "clone()" if hasattr(after, "detach") else "copy()"
            which = f"argument {name!r} (#{i + 1})" if name else f"argument #{i + 1}"
            example = f"{name} = {name}.{copy_of}" if name else f"work on x.{copy_of}"
            _fail(
                f"{exercise} changed its {which} in place on the case: {case}. "
                f"Work on a copy (e.g. {example} at the top of your function) so the caller's data stays as it was."
            )
    return out


def _as_vector(
    out, n: int, exercise: str, case: str, *, one="one score per row", how="Reduce over the classes with axis=1."
) -> np.ndarray:
    """``out`` as a float vector of shape (n,), or a failure saying ``one`` value is wanted per what, and ``how``."""
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    if out is None:
        _fail(f"{exercise} returned None on the case: {case}. Did you forget a `return`?")
    try:
        arr = np.asarray(out, dtype=float) if not isinstance(out, str) else None
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (n,):
        shape = None if arr is None else arr.shape
        _fail(f"{exercise} should return {one}, shape ({n},), but returned shape {shape} on the case: {case}. {how}")
    return arr


def _expect_scores(fn, exercise, probs, expected, case, hints=()):
    """Run a score function on ``probs``; compare to ``expected``; pick a hint."""
    got = _as_vector(call_student(fn, probs, exercise=exercise, case=case), len(probs), exercise, case)
    expected = np.asarray(expected, dtype=float)
    if np.allclose(got, expected, atol=1e-6, rtol=1e-6):
        return
    hint = next((text for test, text in hints if test(got)), "Compare your formula with the one in the markdown above.")
    _wrong(exercise, "scores", case, f"probs = {_fmt(np.asarray(probs))}", _fmt(expected), _fmt(got), hint)


def _wrong(exercise: str, what: str, case: str, inputs: str, expected, got, hint: str):
    """Fail with the standard message: the case, its inputs, expected vs got, and a hint."""
    _fail(
        f"{exercise} gave the wrong {what} on the case: {case}\n  {inputs}\n"
        f"  expected: {expected}\n  got:      {got}\n  hint: {hint}{_warning_note()}"
    )


def _passed(name: str, count: int) -> None:
    print(f"{name}: all {count} cases passed")


def _inputs_line(record, args: tuple) -> str:
    """The failure message's line of inputs: each parameter as ``name = value``."""
    if record.show is not None:
        return record.show(*args)
    return ", ".join(f"{name} = {_fmt(value)}" for name, value in zip(record.parameters, args, strict=False))


def _hint(record, got, args, expected) -> str:
    for hint in record.hints:
        try:
            if hint.when(got, args, expected):
                return hint.says
        except Exception:  # a hint may assume the shapes it expects
            continue
    return record.hint


def _judge(record, fn, args: tuple, expected, case: str, shown: str) -> None:
    """Call ``fn`` on ``args`` (plain); fail with the standard message unless it answers ``expected``."""
    out = call_student(fn, *record.call_args(copy.deepcopy(args)), exercise=record.name, case=case)
    got = record.answer.read(out, args, record.name, case)
    if not record.answer.same(expected, got):
        hint = _hint(record, got, args, expected)
        _wrong(record.name, record.answer.what, case, shown, _fmt(expected), _fmt(got), hint)


def _expected(record, args: tuple, given=None):
    """The right answer on ``args``: ``given`` if the case states it, else the reference's, read as plain data."""
    if given is None:
        given = record.reference(*record.call_args(copy.deepcopy(args)))
    return record.answer.read(given, args, record.name, "the reference")


def check(name: str, fn) -> None:
    """Run the exercise ``name``'s visible cases on a student's function ``fn``.

    Parameters
    ----------
    name : str
        The exercise, as named in :mod:`dcai_al.exercises` (the function's name).
    fn : callable
        The student's function.

    Raises
    ------
    CheckFailed
        On the first case it gets wrong, with the case, its inputs, the
        expected and the returned answer and a hint.

    Examples
    --------
    >>> import numpy as np
    >>> def entropy(probs):
    ...     p = np.asarray(probs, dtype=float)
    ...     return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)
    >>> check("entropy", entropy)
    entropy: all 5 cases passed
    """
    from .exercises import get

    record = get(name)
    require_own_implementation(fn, record.name)
    for case in record.cases:
        expected = _expected(record, case.args, case.expected)
        _judge(record, fn, case.args, expected, case.what, _inputs_line(record, case.args))
    _passed(record.name, len(record.cases))


def check_hidden(name: str, fn) -> None:
    """The hidden test of the exercise ``name``: its visible cases again, then the record's hidden cases.

    The hidden test cell that ``dcai-al release`` writes calls this after
    importing the kit afresh, so that nothing an answer cell patched counts.
    A failure reads like a visible one.
    """
    from .exercises import get

    record = get(name)
    check(name, fn)
    cases = record.hidden_cases()
    for i, args in enumerate(cases):
        arrays = [(p, a) for p, a in zip(record.parameters, args, strict=False) if np.ndim(a) > 0]
        shapes = ", ".join(f"{p} of shape {np.shape(a)}" for p, a in arrays)
        case = f"hidden case {i + 1} of {len(cases)}" + (f" ({shapes})" if shapes else "")
        _judge(record, fn, args, _expected(record, args), case, _inputs_line(record, args))
    print(f"{record.name}: all {len(cases)} hidden cases passed")


def check_entropy(entropy) -> None:
    """Check a student's ``entropy(probs) -> scores`` against hand-computed cases."""
    name = "entropy"
    require_own_implementation(entropy, name)
    ln2 = np.log(2)
    cases = [
        ("two classes, uniform: the most uncertain row", [[0.5, 0.5]], [ln2]),
        ("a confident row [0.9, 0.1]", [[0.9, 0.1]], [-(0.9 * np.log(0.9) + 0.1 * np.log(0.1))]),
        ("a one-hot row: no uncertainty at all", [[1.0, 0.0, 0.0]], [0.0]),
        ("four classes, uniform", [[0.25, 0.25, 0.25, 0.25]], [np.log(4)]),
        (
            "several rows at once",
            [[0.5, 0.5], [1.0, 0.0], [0.2, 0.8]],
            [ln2, 0.0, -(0.2 * np.log(0.2) + 0.8 * np.log(0.8))],
        ),
    ]
    for case, probs, expected in cases:
        probs = np.array(probs)
        hints = [
            (
                lambda g: np.isnan(g).any(),
                "0 * log(0) gives nan in numpy; treat 0 log 0 as 0 (e.g. np.where(p > 0, ...)).",
            ),
            (lambda g, e=expected: np.allclose(g, np.asarray(e) / ln2), "use the natural log np.log, not np.log2."),
            (lambda g, e=expected: np.allclose(g, -np.asarray(e)), "entropy is -sum p log p: mind the minus sign."),
        ]
        _expect_scores(entropy, name, probs, expected, case, hints)
    # Row order must not matter and rows must be scored independently.
    probs = np.array([[0.2, 0.8], [0.5, 0.5]])
    got = _as_vector(call_student(entropy, probs, exercise=name, case="two rows"), 2, name, "two rows")
    if not got[1] > got[0]:
        _fail(f"{name}: the uniform row [0.5, 0.5] should score higher than [0.2, 0.8]; got {_fmt(got)}.")
    _passed(name, len(cases) + 1)


def check_least_confidence(least_confidence) -> None:
    """Check a student's ``least_confidence(probs) -> scores``."""
    name = "least_confidence"
    require_own_implementation(least_confidence, name)
    cases = [
        ("the most likely class is not the first column", [[0.2, 0.1, 0.7]], [0.3]),
        ("a confident row [0.9, 0.1]", [[0.9, 0.1]], [0.1]),
        ("a uniform row over 4 classes", [[0.25] * 4], [0.75]),
        ("a one-hot row", [[0.0, 1.0]], [0.0]),
        ("several rows at once", [[0.6, 0.4], [0.5, 0.5]], [0.4, 0.5]),
    ]
    for case, probs, expected in cases:
        probs = np.array(probs)
        hints = [
            (lambda g, e=expected: np.allclose(g, 1 - np.asarray(e)), "the score is 1 - max p, not max p itself."),
            (lambda g, p=probs: np.allclose(g, 1 - p.min(1)), "use the largest probability (max), not the smallest."),
            (lambda g, p=probs: np.allclose(g, 1 - p[:, 0]), "take the max over each row (axis=1), not column 0."),
        ]
        _expect_scores(least_confidence, name, probs, expected, case, hints)
    _passed(name, len(cases))


def check_margin(margin) -> None:
    """Check a student's ``margin(probs) -> scores``, ``1 - (p_(1) - p_(2))``."""
    name = "margin"
    require_own_implementation(margin, name)
    cases = [
        ("two classes [0.9, 0.1]: gap 0.8", [[0.9, 0.1]], [0.2]),
        ("a tie between the top two: the highest score", [[0.45, 0.1, 0.45]], [1.0]),
        ("top two not in the first columns", [[0.1, 0.2, 0.7]], [0.5]),
        ("classes in increasing order", [[0.05, 0.15, 0.3, 0.5]], [0.8]),
        ("a one-hot row: the lowest score", [[1.0, 0.0, 0.0]], [0.0]),
    ]
    for case, probs, expected in cases:
        probs = np.array(probs)
        hints = [
            (lambda g, e=expected: np.allclose(g, 1 - np.asarray(e)), "return 1 - gap, so that small gaps score high."),
            (
                lambda g, p=probs: np.allclose(g, 1 - np.abs(p[:, 0] - p[:, 1])),
                "find the two largest probabilities of each row (sort or np.partition), not columns 0 and 1.",
            ),
            (
                lambda g, p=probs: np.allclose(g, 1 - (np.sort(p, 1)[:, -1] - np.sort(p, 1)[:, 0])),
                "the gap is between the largest and the second largest, not the smallest.",
            ),
        ]
        _expect_scores(margin, name, probs, expected, case, hints)
    _passed(name, len(cases))


def check_binary_search_query(binary_search_query) -> None:
    """Check a student's ``binary_search_query(x, lo, hi) -> index or -1``."""
    name = "binary_search_query"
    require_own_implementation(binary_search_query, name)
    cases = [
        ("the point nearest the middle of (0, 1)", [0.1, 0.45, 0.7, 0.9], 0.0, 1.0, 1),
        ("unsorted pool; interval (0.3, 0.9), middle 0.6", [0.95, 0.62, 0.2, 0.5], 0.3, 0.9, 1),
        ("the endpoints themselves are labelled already: strictly inside only", [0.2, 0.4, 0.6], 0.2, 0.6, 1),
        ("no pool point inside the interval: return -1", [0.1, 0.2, 0.8], 0.2, 0.8, -1),
        ("two points equally near the middle: the lower index", [0.4, 0.6, 0.0], 0.0, 1.0, 0),
    ]
    for case, x, lo, hi, expected in cases:
        got = call_student(binary_search_query, np.array(x), lo, hi, exercise=name, case=case)
        try:
            got_int = int(got)
        except (TypeError, ValueError):
            _fail(f"{name} should return an int index, got {_fmt(got)} on the case: {case}.")
        if got_int != expected:
            hint = "return the index into x, not the position x[i]."
            x_arr = np.array(x)
            inside = np.flatnonzero((x_arr > lo) & (x_arr < hi))
            if expected == -1:
                hint = "when no unlabelled pool point lies strictly between lo and hi, return -1."
            elif got_int in (int(np.argmin(np.abs(x_arr - (lo + hi) / 2))),):
                hint = "only points strictly inside (lo, hi) are candidates."
            elif got_int == int(inside[np.argmax(np.abs(x_arr[inside] - (lo + hi) / 2))]):
                hint = "you returned the point farthest from the middle; the query is the nearest one (argmin)."
            _wrong(
                name,
                "index",
                case,
                f"x = {x}, lo = {lo}, hi = {hi}",
                expected,
                repr(got),
                hint,
            )
    _passed(name, len(cases))


def check_same_as_reference(fn, reference, inputs, *, exercise: str, atol: float = 1e-6) -> None:
    """Compare ``fn`` with the kit's ``reference`` on each input (hidden tests).

    Parameters
    ----------
    fn, reference : callable
        The student's function and the kit's.
    inputs : list of tuple
        Argument tuples to call both with.
    """
    require_own_implementation(fn, exercise)
    for i, args in enumerate(inputs):
        case = f"hidden case {i + 1} (inputs of shape {[np.shape(a) for a in args]})"
        expected = reference(*copy.deepcopy(args))
        got = call_student(fn, *args, exercise=exercise, case=case)
        got_arr = np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got, dtype=float)
        exp_arr = np.asarray(expected, dtype=float)
        if got_arr.shape != exp_arr.shape or not np.allclose(got_arr, exp_arr, atol=atol, rtol=1e-6):
            _fail(
                f"{exercise} disagrees with the expected answer on {case}.\n"
                f"  expected: {_fmt(exp_arr)}\n  got:      {_fmt(got_arr)}"
            )


def _as_index_list(out, exercise: str, case: str) -> list[int]:
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    if out is None:
        _fail(f"{exercise} returned None on the case: {case}. Did you forget a `return`?")
    if isinstance(out, set | frozenset):
        out = sorted(out)
    arr = np.asarray(out)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        _fail(f"{exercise} should return a 1-D array of integer indices, got {_fmt(arr)} on the case: {case}.")
    return [int(i) for i in arr]


#: 18 tied scores among 24: numpy's default argsort (introsort) orders ties arbitrarily beyond 16 elements,
#: so an answer without kind="stable" passes small cases and fails here.
MANY_TIES = [0.3] * 4 + [0.7] * 18 + [0.3] * 2

_STABLE_HINT = (
    "the right scores, with ties in the wrong order: ties go to the lower index. np.argsort's default "
    "(quicksort) is not stable beyond 16 elements, and reversing an ascending sort puts the higher index first; "
    "use np.argsort(-scores, kind='stable')."
)


def _ties_misordered(got: list[int], expected: list[int], scores) -> bool:
    """Whether ``got`` has the scores of ``expected``, position by position, with equal scores in another order."""
    scores = np.asarray(scores)
    if len(got) != len(expected) or got == expected or not all(0 <= i < scores.size for i in got):
        return False
    return np.array_equal(scores[got], scores[expected])


def check_top_j(top_j) -> None:
    """Check a student's ``top_j(scores, j, labelled) -> indices``."""
    name = "top_j"
    require_own_implementation(top_j, name)
    cases = [
        ("the 2 largest of 5 scores", [0.1, 0.9, 0.3, 0.8, 0.2], 2, [], [1, 3]),
        ("largest first, in decreasing order of score", [0.5, 0.1, 0.7, 0.6], 3, [], [2, 3, 0]),
        ("labelled points are skipped even if they score highest", [0.9, 0.1, 0.7, 0.6], 2, [0], [2, 3]),
        ("ties go to the lower index", [0.5, 0.5, 0.5, 0.1], 2, [], [0, 1]),
        ("exactly as many as asked: j = 1", [0.3, 0.4], 1, [], [1]),
        ("18 tied scores (more than 16): ties still go to the lower index", MANY_TIES, 5, [], [4, 5, 6, 7, 8]),
    ]
    for case, scores, j, labelled, expected in cases:
        got = _as_index_list(
            call_student(top_j, np.array(scores), j, np.array(labelled, dtype=int), exercise=name, case=case),
            name,
            case,
        )
        if got != expected:
            hint = "sort by score, largest first (np.argsort(-scores, kind='stable'))."
            if len(got) != len(expected):
                hint = f"return exactly j = {j} indices (check for an off-by-one in your slice)."
            elif set(got) & set(labelled):
                hint = "never return an index that is already labelled: exclude them before ranking."
            elif _ties_misordered(got, expected, scores):
                hint = _STABLE_HINT
            elif sorted(got) == sorted(expected):
                hint = "the right indices in the wrong order: largest score first, ties by lower index."
            elif got == [int(i) for i in np.argsort(scores, kind="stable")[:j]]:
                hint = "you took the smallest scores; the batch should hold the largest."
            _wrong(
                name,
                "indices",
                case,
                f"scores = {scores}, j = {j}, labelled = {labelled}",
                expected,
                got,
                hint,
            )
    _passed(name, len(cases))


def check_update_min_distances(update_min_distances) -> None:
    """Check ``update_min_distances(min_dist, features, center) -> new min_dist`` (Euclidean)."""
    name = "update_min_distances"
    require_own_implementation(update_min_distances, name)
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 0.0], [1.0, 0.0]])
    cases = [
        ("nothing covered yet (all inf); new center 0", np.full(4, np.inf), 0, [0.0, 5.0, 6.0, 1.0]),
        (
            "center 2 changes only its own distance (point 1 ties at 5)",
            np.array([0.0, 5.0, 6.0, 1.0]),
            2,
            [0.0, 5.0, 0.0, 1.0],
        ),
        ("a new center never increases a distance", np.array([0.0, 1.0, 1.0, 0.5]), 1, [0.0, 0.0, 1.0, 0.5]),
    ]
    for case, min_dist, center, expected in cases:
        out = call_student(update_min_distances, min_dist, X.copy(), center, exercise=name, case=case)
        got = _as_vector(
            out, 4, name, case, one="one distance per point", how="Take the norm over the features with axis=1."
        )
        if not np.allclose(got, expected):
            hint = "take the element-wise minimum of the old distances and the distances to the new center."
            squared = np.minimum(min_dist, ((X - X[center]) ** 2).sum(1))
            if np.allclose(got, squared):
                hint = "use the Euclidean distance (np.linalg.norm or the square root), not the squared one."
            elif np.allclose(got, np.linalg.norm(X - X[center], axis=1)):
                hint = "keep the old distance where it is smaller: np.minimum(min_dist, new)."
            elif np.allclose(got, np.maximum(min_dist, np.linalg.norm(X - X[center], axis=1))):
                hint = "the nearest center gives the minimum, not the maximum."
            _wrong(
                name,
                "distances",
                case,
                f"features = {X.tolist()}, center = {center}",
                _fmt(np.array(expected)),
                _fmt(got),
                hint,
            )
    _passed(name, len(cases))


def _k_center_hint(X: np.ndarray, budget: int, labelled: list[int], got: list[int]) -> str:
    """Name the usual k-centers mistake that ``got`` shows, from its first pick and its repeats."""
    dist = np.full(len(X), np.inf)  # each point's distance to its nearest labelled point
    for c in labelled:
        dist = np.minimum(dist, np.linalg.norm(X - X[c], axis=1))
    unlabelled = [i for i in range(len(X)) if i not in labelled]
    farthest_first = sorted(unlabelled, key=lambda i: -dist[i])  # stable: ties by index
    first = got[0] if got else None
    if len(got) != budget:
        return f"return exactly budget = {budget} new indices, without the labelled ones."
    if not all(0 <= i < len(X) for i in got):
        return f"return indices into features, between 0 and {len(X) - 1}."
    if first in labelled:
        return (
            "you picked a point that is already a center (distance 0 to its nearest center), which is what argmin "
            "does; each step takes the point *farthest* from its nearest center (argmax), and labelled points are "
            "never picked."
        )
    if first == unlabelled[0] and dist[first] < dist[farthest_first[0]]:
        return (
            "you picked the lowest index, as argmax does when every distance is equal: did you start the distances "
            "at zeros? Start them at np.inf (np.full(n, np.inf)) and lower them with np.minimum for each center."
        )
    if first == min(unlabelled, key=lambda i: dist[i]) and dist[first] < dist[farthest_first[0]]:
        return "you picked the nearest point (argmin); each step takes the point farthest from its centers (argmax)."
    if len(set(got)) < len(got):
        again = next(i for k, i in enumerate(got) if i in got[:k])
        return (
            f"you picked the same point ({again}) again: after each pick, update the distances with the new center "
            "(np.minimum with its distances), so that it counts as a center from then on."
        )
    if got == farthest_first[:budget]:
        return (
            f"you took the points farthest from the labelled set, but never updated the distances after a pick: "
            f"{got[1]} is near {got[0]}, which you had just picked. Update the distances with each new center."
        )
    return "each step picks the point whose distance to its nearest center is largest (argmax)."


def check_k_center_greedy(k_center_greedy) -> None:
    """Check a student's ``k_center_greedy(features, budget, labelled) -> new indices``."""
    name = "k_center_greedy"
    require_own_implementation(k_center_greedy, name)
    line = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    square = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    cases = [
        ("a line; labelled [2]: the farthest point first, then the farthest from both centers", line, 2, [2], [4, 0]),
        ("a line; labelled [0]: the farthest point first", line, 2, [0], [4, 2]),
        ("labelled points are never chosen again; a tie goes to the lower index", line, 3, [0, 4], [2, 1, 3]),
        ("a square with one corner labelled: the opposite corner first, then a tie", square, 2, [0], [3, 1]),
        ("budget 1", line, 1, [3], [0]),
    ]
    for case, X, budget, labelled, expected in cases:
        got = _as_index_list(
            call_student(k_center_greedy, X.copy(), budget, list(labelled), exercise=name, case=case), name, case
        )
        if got != expected:
            hint = _k_center_hint(X, budget, labelled, got)
            _wrong(
                name,
                "selection",
                case,
                f"features = {X.tolist()}, budget = {budget}, labelled = {labelled}",
                expected,
                got,
                hint,
            )
    _passed(name, len(cases))


def check_coverage_radius(coverage_radius) -> None:
    """Check ``coverage_radius(features, centers) -> float``."""
    name = "coverage_radius"
    require_own_implementation(coverage_radius, name)
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [0.0, 1.0]])
    cases = [
        ("one center at the origin: the farthest point is 10 away", [0], 10.0),
        ("center in the middle", [1], 5.0),
        ("every point a center", [0, 1, 2, 3], 0.0),
        ("two centers: each point uses its nearest", [0, 2], 5.0),
    ]
    for case, centers, expected in cases:
        got = call_student(coverage_radius, X.copy(), list(centers), exercise=name, case=case)
        try:
            value = float(got)
        except (TypeError, ValueError):
            _fail(f"{name} should return one number, got {_fmt(got)} on the case: {case}.")
        if not np.isclose(value, expected):
            hint = "for each point take the distance to its nearest center, then the largest of those."
            if np.isclose(value, expected**2):
                hint = "return the Euclidean distance, not its square."
            _wrong(
                name,
                "radius",
                case,
                f"features = {X.tolist()}, centers = {centers}",
                expected,
                value,
                hint,
            )
    _passed(name, len(cases))


def check_candidate_update(update_candidates) -> None:
    """Check ``update_candidates(candidates, labelled, new_ids, neighbour_ids) -> sorted candidates``.

    ``neighbour_ids`` is the ``I`` array of ``index.search(embeddings[new_ids], k + 1)``.
    """
    name = "update_candidates"
    require_own_implementation(update_candidates, name)
    cases = [
        ("one new point; its own id comes first in its row", [], [4], [4], [[4, 2, 7]], [2, 7]),
        (
            "two new points: both rows count (not just the first)",
            [],
            [4, 9],
            [4, 9],
            [[4, 2, 7], [9, 8, 1]],
            [1, 2, 7, 8],
        ),
        ("old candidates stay; a newly labelled candidate leaves", [2, 7], [4, 7], [7], [[7, 3, 2]], [2, 3]),
        (
            "old candidates stay, even those that are no new point's neighbour",
            [5, 6],
            [0, 1],
            [1],
            [[1, 2, 8]],
            [2, 5, 6, 8],
        ),
        ("a duplicate point: the query's own id is second in its row", [], [5], [5], [[6, 5, 1]], [1, 6]),
        ("labelled neighbours never become candidates", [], [0, 3], [3], [[3, 0, 8]], [8]),
        ("-1 marks a missing neighbour", [], [2], [2], [[2, 5, -1]], [5]),
    ]
    for case, cand, labelled, new, ids, expected in cases:
        got = _as_index_list(
            call_student(
                update_candidates,
                np.array(cand, dtype=np.int64),
                np.array(labelled, dtype=np.int64),
                np.array(new, dtype=np.int64),
                np.array(ids, dtype=np.int64),
                exercise=name,
                case=case,
            ),
            name,
            case,
        )
        if got != expected:
            hint = "candidates = (old candidates | every neighbour) - labelled, sorted."
            if set(got) & set(labelled):
                hint = "drop every labelled index (old and new) from the candidates."
            elif -1 in got:
                hint = "faiss uses -1 for 'no neighbour': skip those."
            elif set(cand) - set(labelled) - set(got):
                hint = (
                    "keep the old candidates: the pool only grows, so candidates = (old candidates | the new "
                    "points' neighbours) - labelled."
                )
            elif len(ids) > 1 and set(expected) - set(got) >= set(np.asarray(ids[1][1:])) - set(labelled):
                hint = "use every row of the search results; ids[0][1:] keeps only the first query's neighbours."
            elif got != sorted(got):
                hint = "return the candidates sorted (np.unique or np.sort)."
            elif "duplicate" in case:
                hint = "remove the query's own id by value (row != q), not by position: with duplicates it can be 2nd."
            _wrong(
                name,
                "candidates",
                case,
                f"candidates = {cand}, labelled = {labelled}, new_ids = {new}, neighbour_ids = {ids}",
                expected,
                got,
                hint,
            )
    _passed(name, len(cases))


def check_select_from_candidates(select_from_candidates) -> None:
    """Check ``select_from_candidates(candidate_scores, candidates, batch_size) -> pool indices``."""
    name = "select_from_candidates"
    require_own_implementation(select_from_candidates, name)
    cases = [
        ("scores are given per candidate: return pool indices", [0.2, 0.9, 0.5], [10, 42, 7], 1, [42]),
        ("the top two, largest first", [0.2, 0.9, 0.5], [10, 42, 7], 2, [42, 7]),
        ("ties go to the candidate listed first", [0.5, 0.5, 0.1], [3, 8, 9], 1, [3]),
        ("the whole candidate pool", [0.1, 0.3], [5, 6], 2, [6, 5]),
        (
            "18 tied scores (more than 16): ties still go to the candidate listed first",
            MANY_TIES,
            list(range(100, 100 + len(MANY_TIES))),
            5,
            [104, 105, 106, 107, 108],
        ),
    ]
    for case, scores, cand, batch, expected in cases:
        out = call_student(
            select_from_candidates, np.array(scores), np.array(cand, dtype=np.int64), batch, exercise=name, case=case
        )
        got = _as_index_list(out, name, case)
        if got != expected:
            hint = "pick the positions of the largest scores, then map them through candidates[...]."
            positions = [int(i) for i in np.argsort(-np.asarray(scores), kind="stable")[:batch]]
            if got == positions:
                hint = "those are positions in the candidate list; return candidates[positions], the pool indices."
            elif len(got) != batch:
                hint = f"return exactly batch_size = {batch} indices."
            elif set(got) <= set(cand) and _ties_misordered(
                [cand.index(i) for i in got], [cand.index(i) for i in expected], scores
            ):
                hint = _STABLE_HINT.replace("scores, kind", "candidate_scores, kind")
            _wrong(
                name,
                "indices",
                case,
                f"candidate_scores = {scores}, candidates = {cand}, batch_size = {batch}",
                expected,
                got,
                hint,
            )
    _passed(name, len(cases))


def check_forgetting_events(forgetting_events) -> None:
    """Check ``forgetting_events(correct) -> counts`` for a boolean (epochs, n) matrix."""
    name = "forgetting_events"
    require_own_implementation(forgetting_events, name)
    T, F = True, False
    cases = [
        ("learned, forgotten, relearned: one event", [[T], [F], [T]], [1]),
        ("never learned: zero events (it is ranked first elsewhere)", [[F], [F], [F]], [0]),
        ("forgotten twice", [[T], [F], [T], [F]], [2]),
        ("learning (wrong -> right) is not forgetting", [[F], [T], [T]], [0]),
        ("three examples at once: count per example (column)", [[T, F, T], [F, T, T], [T, F, T]], [1, 1, 0]),
        ("a single epoch: nothing to compare yet", [[T, F]], [0, 0]),
    ]
    for case, correct, expected in cases:
        correct = np.array(correct, dtype=bool)
        out = call_student(forgetting_events, correct, exercise=name, case=case)
        got = _as_vector(
            out,
            correct.shape[1],
            name,
            case,
            one="one count per example (column)",
            how="Rows are epochs and columns are examples: count over the epochs with axis=0.",
        )
        if not np.array_equal(got, expected):
            learned = (~correct[:-1] & correct[1:]).sum(0)
            changes = (correct[:-1] != correct[1:]).sum(0)
            hint = "count, per example, the epochs t where correct[t-1] is True and correct[t] is False."
            if np.array_equal(got, learned):
                hint = "you counted wrong -> right (learning); forgetting is right -> wrong."
            elif np.array_equal(got, changes):
                hint = "count only right -> wrong changes, not every change."
            elif np.array_equal(got, (~correct).sum(0)):
                hint = "count transitions between consecutive epochs, not the epochs where it was wrong."
            elif correct.shape[0] - 1 == correct.shape[1] and np.array_equal(got, (correct[:-1] & ~correct[1:]).sum(1)):
                hint = "you counted per epoch (axis=1); count per example (column), over the epochs with axis=0."
            _wrong(
                name,
                "counts",
                case,
                f"correct (epochs x examples) = {correct.astype(int).tolist()}",
                expected,
                got.astype(int).tolist(),
                hint,
            )
    _passed(name, len(cases))


def check_keep_hardest(keep_hardest) -> None:
    """Check ``keep_hardest(order, labels, fraction) -> sorted indices`` with per-class quotas."""
    name = "keep_hardest"
    require_own_implementation(keep_hardest, name)
    cases = [
        ("half of each class, hardest first", [3, 0, 1, 2], [0, 0, 1, 1], 0.5, [0, 3]),
        ("an easy class still keeps its share", [0, 1, 2, 3, 4, 5], [0, 0, 0, 0, 1, 1], 0.5, [0, 1, 4]),
        ("round the quota up: ceil(0.5 * 3) = 2", [2, 1, 0, 3], [0, 0, 0, 1], 0.5, [1, 2, 3]),
        ("keep everything", [1, 0], [0, 1], 1.0, [0, 1]),
        ("the result is sorted; ceil(0.3 * 3) = 1 per class", [5, 4, 3, 2, 1, 0], [0, 1, 0, 1, 0, 1], 0.3, [4, 5]),
    ]
    for case, order, labels, fraction, expected in cases:
        out = call_student(keep_hardest, np.array(order), np.array(labels), fraction, exercise=name, case=case)
        got = _as_index_list(out, name, case)
        if got != expected:
            order_a = np.array(order)
            hint = "for each class c, keep the first ceil(fraction * n_c) indices of order with label c."
            if got == sorted(order_a[: int(np.ceil(fraction * len(order)))].tolist()):
                hint = "keep a share of *each class* (the class-balance guard), not the overall top."
            elif sorted(got) == expected:
                hint = "return the indices sorted (np.sort)."
            elif len(got) < len(expected):
                hint = "round each class's quota up with math.ceil, so that no class is left with 0."
            elif set(got) & set(order_a[::-1][: len(expected)].tolist()) and not set(got) & set(expected):
                hint = "order lists the hardest first: keep the start of it, not the end."
            _wrong(
                name,
                "subset",
                case,
                f"order = {order}, labels = {labels}, fraction = {fraction}",
                expected,
                got,
                hint,
            )
    _passed(name, len(cases))


def check_end_to_end_speedup(end_to_end_speedup) -> None:
    """Check ``end_to_end_speedup(proxy_s, ranking_s, target_s, baseline_s) -> (total, speedup)``."""
    name = "end_to_end_speedup"
    require_own_implementation(end_to_end_speedup, name)
    cases = [
        ("the lecture's shape: 10 + 1 + 49 s against 120 s", (10.0, 1.0, 49.0, 120.0), (60.0, 2.0)),
        ("no gain: the pipeline takes as long as training on all", (5.0, 0.0, 95.0, 100.0), (100.0, 1.0)),
        ("a slow proxy makes it slower than training on all", (80.0, 5.0, 40.0, 100.0), (125.0, 0.8)),
    ]
    for case, args, expected in cases:
        out = call_student(end_to_end_speedup, *args, exercise=name, case=case)
        try:
            total, speedup = (float(v) for v in out)
        except (TypeError, ValueError):
            _fail(f"{name} should return a pair (total_seconds, speedup), got {_fmt(out)} on the case: {case}.")
        if not (np.isclose(total, expected[0]) and np.isclose(speedup, expected[1])):
            proxy, ranking, target, baseline = args
            hint = "total = proxy + ranking + target; speedup = baseline / total."
            if any(np.isclose(total, t) for t in (target, ranking + target, proxy + target)):
                hint = "the pipeline's time includes training the proxy and ranking, not just the target."
            elif np.isclose(speedup, expected[0] / baseline):
                hint = "speed-up is baseline / total (larger is faster), not total / baseline."
            _wrong(
                name,
                "answer",
                case,
                f"(proxy, ranking, target, baseline) = {args}",
                expected,
                (total, speedup),
                hint,
            )
    _passed(name, len(cases))
