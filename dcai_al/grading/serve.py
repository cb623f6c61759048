"""Serve a student's functions to the trusted comparison: the part that runs inside the sandbox.

The grader (:mod:`dcai_al.grading.trusted`) runs this file as a script, in
a fresh process that never ran the student's notebook (no IPython, so no
input transformers, no patched modules from the notebook's kernel), in the
same bubblewrap sandbox and limits as the kernel::

    python -I serve.py INBOX OUTBOX

``INBOX/task.pkl`` (written by the grader, so unpickling it is safe) holds
the student's code cells and, per exercise, its name, where its record's
``prepare`` is (module and name, or None), a time limit per call and the cases
(a label and a tuple of plain arguments). This script execs the cells in
one namespace, each on its own (a cell that raises is reported and the next
one runs, as in a notebook), then calls each exercise's function on every
case and writes, per exercise ``i``:

- ``OUTBOX/<i>.npz``: ``out<k>``, case ``k``'s answer as a plain array
  (bool, int, float or complex; never an object array), written with
  :func:`numpy.savez`, uncompressed;
- ``OUTBOX/<i>.json``: what happened on each case (``array``, ``none``,
  ``error`` or ``refused``, with a message) and whether the function uses
  the kit's reference.

Nothing here decides a score. Everything in OUTBOX is the student's to
forge (their code runs in this process), so the grader reads it as untrusted
data: JSON, and arrays with ``allow_pickle=False``, then computes the
reference's answers and compares them itself.

The top level imports only the standard library: numpy and the kit are
imported in :func:`main`, before any student code runs.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import signal
import sys
import warnings
from pathlib import Path

PLAIN_KINDS = "biufc"  # bool, int, unsigned, float, complex: np.load(allow_pickle=False) reads them
MESSAGE_MAX = 2000


class _OutOfTime(BaseException):
    """Raised by the alarm: a BaseException, so ``except Exception`` in an answer does not swallow it."""


def _alarm(signum, frame):
    raise _OutOfTime


def strip_magics(code: str) -> str:
    """``code`` without IPython's line magics and shell lines (``%...``, ``!...``), which plain Python rejects.

    >>> strip_magics("%matplotlib inline\\nimport numpy as np\\n  !ls\\n")
    'import numpy as np\\n'
    """
    return "".join(ln for ln in code.splitlines(keepends=True) if not ln.lstrip().startswith(("%", "!")))


def _short(text: str) -> str:
    text = str(text)
    return text if len(text) <= MESSAGE_MAX else text[:MESSAGE_MAX] + " ..."


def _plain(out, np):
    """``(kind, array or None, message)``: an answer as a plain array, or why it is not one."""
    if out is None:
        return "none", None, ""
    try:
        if hasattr(out, "detach"):  # a torch tensor
            out = out.detach().cpu().numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            array = np.asarray(out)
    except Exception as exc:
        return "refused", None, f"returned {type(out).__name__}, which is not numbers ({type(exc).__name__})"
    if array.dtype.kind not in PLAIN_KINDS:
        return "refused", None, f"returned {type(out).__name__} of dtype {array.dtype}, which is not numbers"
    return "array", np.array(array, order="C"), ""  # not ascontiguousarray: it makes a 0-d answer 1-d


#: A returned tuple or list of at most this many parts, one of them an array, comes back part by part.
MAX_PARTS = 8


def _parts(out, np):
    """``(kind, arrays, message)``: an answer as one plain array, or a short tuple of them (``seals_round``)."""
    if isinstance(out, tuple | list) and 0 < len(out) <= MAX_PARTS and any(np.ndim(part) > 0 for part in out):
        parts = [_plain(part, np) for part in out]
        refused = next((p for p in parts if p[0] != "array"), None)
        if refused is not None:
            return "refused", [], refused[2] or f"returned a {type(out).__name__} holding None"
        return "tuple", [p[1] for p in parts], ""
    kind, array, message = _plain(out, np)
    return kind, [] if array is None else [array], message


def _call(fn, args, limit: float, same):
    """Call ``fn(*args)`` with a time limit; ``(out, error message or None)``."""
    originals = copy.deepcopy(args)
    signal.signal(signal.SIGALRM, _alarm)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                out = fn(*args)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except NotImplementedError:
        return None, "is not implemented yet: replace `raise NotImplementedError()` with your code."
    except _OutOfTime:
        return None, f"did not return within {limit:g} s"
    except BaseException as exc:  # SystemExit too: the student's error is this case's result
        return None, _short(f"raised {type(exc).__name__}: {exc}")
    for i, (before, after) in enumerate(zip(originals, args, strict=True)):
        try:
            unchanged = same(before, after)
        except Exception:
            unchanged = False
        if not unchanged:
            return None, f"changed its argument #{i + 1} in place"
    return out, None


def _frozen(module) -> dict:
    """A copy of ``module``'s namespace whose functions look their globals up in that copy.

    So an answer cell that rebinds a name in the live module (``checks._subject_modules = ...``)
    does not change the checks this script runs. (Patching what the copy shares, numpy or builtins, still
    reaches them: the student's code runs in this process, and INSTRUCTORS.md says what that allows.)
    """
    import types

    namespace = dict(vars(module))
    for key, value in list(namespace.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            copy_ = types.FunctionType(value.__code__, namespace, value.__name__, value.__defaults__, value.__closure__)
            copy_.__kwdefaults__ = value.__kwdefaults__
            namespace[key] = copy_
    return namespace


def _write(outbox: Path, index: int, report: dict, arrays: dict, np) -> None:
    """Write one exercise's files, each through a temporary name, so a crash leaves none half written."""
    with open(outbox / f".{index}.npz", "wb") as f:
        np.savez(f, **arrays)
    os.replace(outbox / f".{index}.npz", outbox / f"{index}.npz")
    (outbox / f".{index}.json").write_text(json.dumps(report))
    os.replace(outbox / f".{index}.json", outbox / f"{index}.json")


def main(inbox: Path, outbox: Path) -> None:
    with open(inbox / "task.pkl", "rb") as f:
        task = pickle.load(f)  # the grader wrote it
    import builtins

    import numpy as np

    from dcai_al import checks  # taken before any student code runs, as the notebook's test cell would

    kit = _frozen(checks)
    if task.get("subjects"):
        # The grader's list of the references' modules: finding it here would import every lab's records
        # (torch among them), seconds per notebook, for names the grader already knows.
        subjects = tuple(task["subjects"])
        kit["_subject_modules"] = lambda: subjects
    uses_kit, same = kit["_uses_kit_subject"], kit["_same"]
    import importlib

    prepares = {}
    for exercise in task["exercises"]:  # the record's own module only: all of them would import torch
        if exercise["prepare"]:
            module, qualname = exercise["prepare"]
            found = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
            prepares[exercise["name"]] = found
    namespace = {"__name__": "__main__", "__builtins__": builtins, "display": lambda *a, **k: None}
    cell_errors = []
    cell_limit = float(task.get("cell_limit") or 60)
    signal.signal(signal.SIGALRM, _alarm)
    for i, code in enumerate(task["cells"]):
        try:
            # As nbgrader stops a cell and goes on; every 0.5 s again, in case the cell catches the first.
            signal.setitimer(signal.ITIMER_REAL, cell_limit, 0.5)
            try:
                exec(compile(strip_magics(code), f"<cell {i}>", "exec"), namespace)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _OutOfTime:
            cell_errors.append(f"cell {i}: did not finish within {cell_limit:g} s")
        except BaseException as exc:  # a notebook goes on to the next cell after an error
            cell_errors.append(_short(f"cell {i}: {type(exc).__name__}: {exc}"))
    (outbox / "cells.json").write_text(json.dumps(cell_errors))
    for index, exercise in enumerate(task["exercises"]):
        name = exercise["name"]
        report = {"name": name, "defined": name in namespace, "uses": None, "cases": []}
        arrays = {}
        fn = namespace.get(name)
        if fn is not None and callable(fn):
            try:
                report["uses"] = uses_kit(fn)
            except Exception:
                report["uses"] = None
        for k, (_label, args) in enumerate(exercise["cases"]):
            if report["cases"] and report["cases"][-1]["kind"] == "error":
                break  # the first error decides (all or nothing): no need to wait out another loop
            if fn is None or not callable(fn):
                what = "is not defined" if fn is None else f"is a {type(fn).__name__}, not a function"
                report["cases"].append({"kind": "error", "message": what})
                continue
            call_args = tuple(args)
            if exercise["prepare"]:
                try:
                    call_args = tuple(prepares[name](*copy.deepcopy(tuple(args))))  # Exercise.call_args
                except Exception as exc:
                    report["cases"].append({"kind": "error", "message": _short(f"prepare failed: {exc!r}")})
                    continue
            out, error = _call(fn, call_args, float(exercise["time_limit"]), same)
            if error is not None:
                report["cases"].append({"kind": "error", "message": error})
                continue
            kind, parts, message = _parts(out, np)
            report["cases"].append({"kind": kind, "message": message, "parts": len(parts)})
            if kind == "array":
                arrays[f"out{k}"] = parts[0]
            for i, part in enumerate(parts if kind == "tuple" else ()):
                arrays[f"out{k}_{i}"] = part
        _write(outbox, index, report, arrays, np)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -I serve.py INBOX OUTBOX")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
