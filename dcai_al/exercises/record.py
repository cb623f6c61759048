"""What an exercise record holds: cases, hints, mistakes and how an answer is read.

An :class:`Exercise` describes one graded function once, as data. The
visible check (:func:`dcai_al.checks.check`), the hidden test cell that
``dcai-al release`` writes, the simulated class of ``dcai-al rehearse`` and
the tests all read it, so adding an exercise means adding one record.

>>> from dcai_al.exercises import get
>>> record = get("entropy")
>>> record.signature, record.points
('(probs)', 3)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["Answer", "Case", "Exercise", "Hint", "Mistake"]


@dataclass(frozen=True)
class Case:
    """One visible case: a sentence saying what it tests, and its arguments.

    ``expected`` is the right answer; ``None`` means "the reference's answer
    on ``args``", so a case cannot disagree with the reference by a typo.
    """

    what: str
    args: tuple
    expected: object = None


@dataclass(frozen=True)
class Hint:
    """A hint shown when ``when(got, args, expected)`` is true for a wrong answer.

    ``args`` are the arguments the answer was called with and ``got`` is its
    answer as :class:`Answer` read it. A ``when`` that raises counts as false,
    so a hint may assume the shapes it expects.
    """

    says: str
    when: Callable


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong answer, written as a whole answer cell, and what its feedback must say.

    ``code`` is run in the notebook's namespace (after the lab's imports and
    the earlier answers), so it may use ``np`` and the earlier functions.
    ``says`` is a phrase the failure message must contain.
    """

    story: str
    code: str
    says: str


@dataclass(frozen=True)
class Answer:
    """How an answer is read and compared.

    Attributes
    ----------
    what : str
        The noun in "gave the wrong <what>" ("scores", "indices").
    read : callable
        ``read(out, args, exercise, case) -> value``: the returned object as
        a plain value (a float array, a list of ints, a number), or a
        :class:`~dcai_al.checks.CheckFailed` naming what shape was wanted.
    same : callable
        ``same(expected, got) -> bool``.
    """

    what: str
    read: Callable
    same: Callable


@dataclass(frozen=True)
class Exercise:
    """One graded function of a lab, described once.

    Attributes
    ----------
    name : str
        The function's name; also the grade id of its answer cell. Its test
        cell is ``test_<name>``.
    lab : str
        The assignment it belongs to.
    signature : str
        The parameter list of its ``def`` line, e.g. ``"(probs)"``.
    points : float
        What its test cell is worth.
    reference : callable
        The kit's implementation; its answers are the expected ones.
    answer : Answer
        How a returned value is read and compared.
    cases : tuple of Case
        The visible cases, in the order a student meets them.
    hidden : callable
        ``hidden(rng) -> iterable of argument tuples``: the hidden cases,
        drawn from a seeded ``numpy.random.Generator``.
    hints : tuple of Hint
        The hints, most specific first; the first whose ``when`` holds is shown.
    hint : str
        The hint when none of ``hints`` applies.
    mistakes : tuple of Mistake
        Its typical mistakes; a visible case must catch each one.
    uses : tuple of str
        Earlier exercises its answer calls: a mistake there costs this one too.
    seed : int
        Seed of the hidden cases.
    prepare : callable, optional
        ``prepare(*args) -> args``: builds what cannot travel as plain data
        (a faiss index from embeddings) before each call.
    show : callable, optional
        ``show(*args) -> str``: the inputs line of a failure message; by
        default each parameter as ``name = value``.
    """

    name: str
    lab: str
    signature: str
    points: float
    reference: Callable
    answer: Answer
    cases: tuple[Case, ...]
    hidden: Callable[[np.random.Generator], Iterable[tuple]]
    hints: tuple[Hint, ...] = ()
    hint: str = "compare your code with the method in the markdown above."
    mistakes: tuple[Mistake, ...] = ()
    uses: tuple[str, ...] = ()
    seed: int = 0
    prepare: Callable | None = None
    show: Callable | None = None

    @functools.cached_property  # read for every case's message
    def parameters(self) -> list[str]:
        """The parameter names of :attr:`signature`, in order."""
        namespace: dict = {}
        exec(f"def _f{self.signature}:\n    pass", namespace)  # the record's own text, not a student's
        return list(inspect.signature(namespace["_f"]).parameters)

    @property
    def test_cell(self) -> str:
        """The grade id of the test cell that grades this exercise."""
        return f"test_{self.name}"

    @property
    def visible_line(self) -> str:
        """The visible test cell's code: the one line a student runs."""
        return f'checks.check("{self.name}", {self.name})'

    def call_args(self, args: tuple) -> tuple:
        """``args`` as the function receives them (after :attr:`prepare`)."""
        return tuple(self.prepare(*args)) if self.prepare is not None else tuple(args)

    def mistake(self, story: str) -> Mistake:
        """The typical mistake told as ``story``."""
        for mistake in self.mistakes:
            if mistake.story == story:
                return mistake
        raise ValueError(f"{self.name} has no typical mistake {story!r}.")

    def hidden_cases(self) -> list[tuple]:
        """The hidden cases' plain arguments, the same on every call."""
        return [tuple(args) for args in self.hidden(np.random.default_rng(self.seed))]
