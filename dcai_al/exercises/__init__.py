"""The labs' graded functions, one record each.

Each lab module (``lab1`` ... ``lab4``) lists its :class:`Exercise` records
in the order the notebook asks for them. Everything that grades or rehearses
an exercise reads its record from here.

>>> "entropy" in [e.name for e in for_lab("lab1-passive-vs-active")]
True
"""

from __future__ import annotations

from .record import Answer, Case, Exercise, Hint, Mistake

__all__ = ["Answer", "Case", "Exercise", "Hint", "Mistake", "all_exercises", "for_lab", "get", "labs"]


def _records() -> dict[str, Exercise]:
    from . import lab1, lab2, lab3, lab4  # the lab modules import the kit's references: load on first use

    records: dict[str, Exercise] = {}
    for module in (lab1, lab2, lab3, lab4):
        for record in module.EXERCISES:
            if record.name in records:
                raise RuntimeError(f"two exercise records are named {record.name!r}")
            records[record.name] = record
    return records


_cache: dict[str, Exercise] = {}


def all_exercises() -> list[Exercise]:
    """Every record, lab by lab, in notebook order."""
    if not _cache:
        _cache.update(_records())
    return list(_cache.values())


def get(name: str) -> Exercise:
    """The record of the exercise ``name`` (the function's name)."""
    if not isinstance(name, str):
        raise TypeError(f"name should be an exercise's name (str), got {type(name).__name__}.")
    for record in all_exercises():
        if record.name == name:
            return record
    known = ", ".join(e.name for e in all_exercises())
    raise ValueError(f"no exercise is named {name!r}; the exercises are: {known}.")


def labs() -> list[str]:
    """The labs that have records, in order."""
    return list(dict.fromkeys(e.lab for e in all_exercises()))


def for_lab(lab: str) -> list[Exercise]:
    """The records of ``lab``, in notebook order."""
    found = [e for e in all_exercises() if e.lab == lab]
    if not found:
        raise ValueError(f"no exercises for lab {lab!r}; the labs are: {', '.join(labs())}.")
    return found
