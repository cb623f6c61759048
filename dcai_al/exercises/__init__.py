"""The labs' graded functions, one record each.

Each lab module (``lab1`` ... ``lab4``) lists its :class:`Exercise` records
in the order the notebook asks for them. Everything that grades or rehearses
an exercise reads its record from here.

>>> "entropy" in [e.name for e in for_lab("lab1-passive-vs-active")]
True
"""

from __future__ import annotations

import importlib

from .record import Answer, Case, Exercise, Hint, Mistake

__all__ = ["Answer", "Case", "Exercise", "Hint", "Mistake", "all_exercises", "for_lab", "get", "labs"]


#: The lab modules, in course order; each is imported only when one of its records is asked for.
LAB_MODULES = ("lab1", "lab2", "lab3", "lab4")


def _lab_records():
    """Each lab module's records, importing the modules one by one, in course order."""
    for module_name in LAB_MODULES:
        yield importlib.import_module(f"{__name__}.{module_name}").EXERCISES


def all_exercises() -> list[Exercise]:
    """Every record, lab by lab, in notebook order."""
    records = [record for lab in _lab_records() for record in lab]
    names = [r.name for r in records]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise RuntimeError(f"two exercise records share the name(s) {repeated}")
    return records


def get(name: str) -> Exercise:
    """The record of the exercise ``name`` (the function's name).

    Only the lab modules up to the one holding it are imported (the later
    labs' references import torch).
    """
    if not isinstance(name, str):
        raise TypeError(f"name should be an exercise's name (str), got {type(name).__name__}.")
    for lab in _lab_records():
        for record in lab:
            if record.name == name:
                return record
    known = ", ".join(e.name for e in all_exercises())
    raise ValueError(f"no exercise is named {name!r}; the exercises are: {known}.")


def labs() -> list[str]:
    """The labs that have records, in order."""
    return list(dict.fromkeys(e.lab for e in all_exercises()))


def for_lab(lab: str) -> list[Exercise]:
    """The records of ``lab``, in notebook order."""
    for records in _lab_records():
        if records and records[0].lab == lab:
            return list(records)
    raise ValueError(f"no exercises for lab {lab!r}; the labs are: {', '.join(labs())}.")
