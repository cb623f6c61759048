"""The test cells that ``dcai-al release`` writes from the records.

A solution notebook's test cell holds one visible line,
``checks.check("entropy", entropy)``. On release the cell gets the hidden
block below it and the record's points, so no hidden test is ever copied by
hand and every lab grades the same way.

>>> from dcai_al.exercises import get
>>> print(test_cell_source(get("entropy")).splitlines()[0])
checks.check("entropy", entropy)
"""

from __future__ import annotations

import copy

from . import all_exercises
from .record import Exercise

__all__ = ["expand", "hidden_block", "test_cell_source"]

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

_HIDDEN = """{begin}
# Written by `dcai-al release` from the exercise record. The kit is imported afresh, so that nothing
# an answer cell patched can count.
import sys as _sys

for _module in [_m for _m in _sys.modules if _m.split(".")[0] == "dcai_al"]:
    del _sys.modules[_module]
from dcai_al.checks import check_hidden as _check_hidden

_check_hidden("{name}", {name})
{end}
"""


def hidden_block(record: Exercise) -> str:
    """The hidden part of ``record``'s test cell, markers included."""
    return _HIDDEN.format(begin=BEGIN, end=END, name=record.name)


def test_cell_source(record: Exercise) -> str:
    """The whole source of ``record``'s test cell in the instructor's version."""
    return f"{record.visible_line}\n{hidden_block(record)}"


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def expand(notebook: dict, lab: str) -> dict:
    """A copy of the solution ``notebook`` of ``lab`` with each record's test cell written out.

    Raises
    ------
    ValueError
        When a record of ``lab`` has no answer cell or no test cell in the
        notebook, or a test cell holds something other than its visible line.
    """
    nb = copy.deepcopy(notebook)
    cells = {_meta(c).get("grade_id"): c for c in nb.get("cells", [])}
    for record in (e for e in all_exercises() if e.lab == lab):
        if record.name not in cells:
            raise ValueError(f"{lab}: the exercise {record.name!r} has no answer cell (grade id {record.name!r}).")
        cell = cells.get(record.test_cell)
        if cell is None:
            raise ValueError(f"{lab}: the exercise {record.name!r} has no test cell (grade id {record.test_cell!r}).")
        visible = _text(cell).split(BEGIN)[0].strip()
        if visible != record.visible_line:
            raise ValueError(
                f"{lab}: the test cell {record.test_cell!r} should hold the one line `{record.visible_line}` "
                f"(the release writes the hidden tests), but holds: {visible[:200]!r}"
            )
        cell["source"] = test_cell_source(record)
        _meta(cell)["points"] = float(record.points)
    return nb
