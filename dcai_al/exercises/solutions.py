"""Run a lab's solution answers outside Jupyter, and see which visible case catches each mistake.

:func:`answer_namespace` executes a solution notebook's imports cell and its
answer cells the way a kernel would, optionally with some answer cells
replaced, so tests and ``dcai-al exercises`` can call the answers directly.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from .cells import _meta, _text

__all__ = ["MistakeResult", "answer_namespace", "answer_sources", "try_mistakes", "visible_failure"]

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _code(source: str) -> str:
    """Cell source as plain Python: IPython magics and shell lines become comments."""
    lines = source.splitlines(keepends=True)
    return "".join(f"# {ln}" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)


def answer_sources(notebook: dict) -> dict[str, str]:
    """Grade id -> the source of each answer cell, with nbgrader's solution markers removed."""
    out = {}
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "code" and _meta(cell).get("solution"):
            lines = _text(cell).splitlines(keepends=True)
            out[_meta(cell)["grade_id"]] = "".join(ln for ln in lines if ln.strip() not in MARKERS)
    return out


def answer_namespace(lab: str, root, replace: dict | None = None) -> dict:
    """The names a kernel holds after running ``lab``'s imports and answer cells.

    Parameters
    ----------
    lab : str
        The assignment.
    root : path
        The course folder (holding ``solutions/<lab>/<lab>.ipynb``).
    replace : dict, optional
        Answer cell (grade id) -> source to run instead of the solution's.

    Returns
    -------
    dict
        The namespace, with each answer's function under its name.
    """
    notebook = json.loads((Path(root) / "solutions" / lab / f"{lab}.ipynb").read_text())
    replace = replace or {}
    namespace: dict = {"__name__": "__main__"}
    answers = answer_sources(notebook)
    for cell in notebook["cells"]:
        grade_id = _meta(cell).get("grade_id")
        if grade_id == "imports":
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(_code(_text(cell)), f"<{lab}: imports>", "exec"), namespace)
        elif grade_id in answers:
            source = replace.get(grade_id, answers[grade_id])
            exec(compile(_code(source), f"<{lab}: {grade_id}>", "exec"), namespace)
    return namespace


@dataclass(frozen=True)
class MistakeResult:
    """What the visible check said to one typical mistake."""

    exercise: str
    story: str
    says: str
    message: str  # the failure message, or "" when the visible check passed

    @property
    def caught(self) -> bool:
        """Whether a visible case failed it with the phrase its record promises."""
        return bool(self.message) and self.says in self.message

    @property
    def case(self) -> str:
        """The visible case that caught it (the text after "on the case: ")."""
        head = self.message.split("\n")[0]
        return head.split("on the case: ")[-1].split(". ")[0].rstrip(".") if "on the case: " in head else head[:80]


def visible_failure(lab: str, root, name: str, code: str) -> str:
    """The message the visible check of ``name`` gives to the answer cell ``code``; ``""`` if it passes.

    ``code`` replaces the solution's answer cell, after the lab's imports and earlier answers.
    """
    from ..checks import CheckFailed, check

    namespace = answer_namespace(lab, root, {name: code})
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            check(name, namespace[name])
    except CheckFailed as failure:
        return str(failure)
    return ""


def try_mistakes(lab: str, root) -> list[MistakeResult]:
    """Run each typical mistake of ``lab``'s records through its visible check."""
    from . import for_lab

    return [
        MistakeResult(record.name, m.story, m.says, visible_failure(lab, root, record.name, m.code))
        for record in for_lab(lab)
        for m in record.mistakes
    ]
