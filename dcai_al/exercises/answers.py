"""How the records read an answer: a score per row, indices, one index, one number.

Each reader turns whatever a student's function returned into a plain value,
or fails with a message that says which shape was wanted; each ``same``
compares two plain values. The trusted comparison reads answers the same way.
"""

from __future__ import annotations

import numpy as np

from ..checks import _as_index_list, _as_vector, _fail, _fmt
from .record import Answer

__all__ = ["INDEX", "INDICES", "NUMBER", "SCORES", "vector"]


def _close(expected, got, atol: float = 1e-6) -> bool:
    expected, got = np.asarray(expected, dtype=float), np.asarray(got, dtype=float)
    return expected.shape == got.shape and bool(np.allclose(got, expected, atol=atol, rtol=1e-6, equal_nan=True))


def vector(what: str, length, one: str, how: str, *, exact: bool = False) -> Answer:
    """A float vector whose length is ``length(*args)``; ``one``/``how`` word the shape failure.

    >>> v = vector("scores", lambda probs: len(probs), "one score per row", "Reduce with axis=1.")
    >>> v.read([0.5, 1.0], ([[0.5, 0.5], [1.0, 0.0]],), "entropy", "a case").tolist()
    [0.5, 1.0]
    """

    def read(out, args, exercise, case):
        return _as_vector(out, int(length(*args)), exercise, case, one=one, how=how)

    def same(expected, got):
        return np.array_equal(np.asarray(expected), np.asarray(got)) if exact else _close(expected, got)

    return Answer(what, read, same)


#: One score per row of the first argument (the probabilities).
SCORES = vector("scores", lambda probs, *_: len(probs), "one score per row", "Reduce over the classes with axis=1.")


def _read_indices(out, args, exercise, case):
    return _as_index_list(out, exercise, case)


#: A 1-D array of integer indices, compared in order.
INDICES = Answer("indices", _read_indices, lambda expected, got: [int(i) for i in expected] == list(got))


def _read_index(out, args, exercise, case):
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    value = np.asarray(out)
    if value.ndim != 0 or not (np.issubdtype(value.dtype, np.integer) or value.dtype == bool):
        if value.ndim == 0 and np.issubdtype(value.dtype, np.floating) and float(value).is_integer():
            return int(value)
        _fail(f"{exercise} should return one int index, got {_fmt(out)} on the case: {case}.")
    return int(value)


#: One integer index.
INDEX = Answer("index", _read_index, lambda expected, got: int(expected) == got)


def _read_number(out, args, exercise, case):
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    try:
        value = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        value = None
    if value is None or value.ndim != 0:
        shape = "" if value is None else f" (an array of shape {value.shape})"
        _fail(
            f"{exercise} should return one number, a float, got {_fmt(out)}{shape} on the case: {case}. "
            "Turn a one-element array into a number with float(...) or .item()."
        )
    return float(value)


#: One real number, compared to 1e-6.
NUMBER = Answer("number", _read_number, lambda expected, got: _close(expected, got))
