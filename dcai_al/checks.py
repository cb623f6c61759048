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

__all__ = ["CheckFailed", "call_student", "check", "check_hidden", "require_own_implementation"]

#: Modules whose functions are the exercises themselves: calling them from an
#: answer would hand in the kit's work instead of the student's.
SUBJECT_MODULES = (
    "dcai_al.acquisition",
    "dcai_al.threshold",
    "dcai_al.diversity",
    "dcai_al.seals",  # and dcai_al.seals_round
    "dcai_al.proxy",
    "dcai_al.pool_loop",
    "dcai_al.exercises",  # the records and the references some of them define
)


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
    """:data:`SUBJECT_MODULES`; a test checks that every exercise record's reference is in one of them.

    A fixed list rather than one read from the records, whose modules import torch: a check in a
    student's kernel would pay for that on its first call.
    """
    return SUBJECT_MODULES


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
    if isinstance(out, tuple):  # `return a, b` or a trailing comma
        _fail(
            f"{exercise} should return {one}, shape ({n},), but returned a tuple of {len(out)} on the case: "
            f"{case}. Return the array itself (a trailing comma after `return x` makes a tuple)."
        )
    try:
        arr = np.asarray(out, dtype=float) if not isinstance(out, str) else None
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.shape != (n,):
        shape = None if arr is None else arr.shape
        _fail(f"{exercise} should return {one}, shape ({n},), but returned shape {shape} on the case: {case}. {how}")
    return arr


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


def __getattr__(name: str):
    """``check_entropy`` and the other per-exercise names of the last release: :func:`check` with a warning."""
    if name.startswith("check_"):
        from .exercises import all_exercises

        exercise = {"check_candidate_update": "update_candidates"}.get(name, name[len("check_") :])
        if exercise in {e.name for e in all_exercises()}:

            def deprecated_check(fn) -> None:
                warnings.warn(
                    f"checks.{name}(fn) is deprecated; use checks.check({exercise!r}, fn).",
                    DeprecationWarning,
                    stacklevel=2,
                )
                check(exercise, fn)

            return deprecated_check
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
