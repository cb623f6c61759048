"""Find each student's notebook for each lab, and repair what nbgrader would choke on.

A class's ``submitted/`` folder is never as tidy as nbgrader expects: a
notebook renamed by a browser download (``lab1 (1).ipynb``), an empty or
truncated file, cells duplicated, deleted, retyped or given another grade id.
nbgrader stops the whole batch on several of these. Here each one is either
repaired, with a note saying what was done, or refused with a reason, and it
concerns that one submission only.

>>> Problem("ann", "lab1", "an empty file", "ask for the notebook again").graded
False
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Problem", "Submission", "Ungradable", "find_submissions", "repair_notebook"]

HIDDEN_FOLDERS = (".", "_")  # .ipynb_checkpoints, __MACOSX and the like
REPAIRED = "none needed: graded as repaired"


@dataclass(frozen=True)
class Problem:
    """Something the instructor should know about one student's lab.

    ``graded`` says whether the submission was graded all the same (a renamed
    notebook, a repaired cell) or not (an empty file, a dead kernel).
    """

    student: str
    lab: str
    problem: str
    action: str
    graded: bool = False


@dataclass(frozen=True)
class Submission:
    """One notebook to grade: the bytes as handed in, and where they came from."""

    student: str
    lab: str
    path: Path
    data: bytes = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class Ungradable(Exception):
    """A submission that cannot be graded; ``args`` are (problem, action)."""

    @property
    def problem(self) -> str:
        return self.args[0]

    @property
    def action(self) -> str:
        return self.args[1]


def _visible(path: Path) -> bool:
    return not path.name.startswith(HIDDEN_FOLDERS)


def find_submissions(submitted, labs) -> tuple[list[Submission], list[Problem]]:
    """The notebooks under ``submitted/<student>/<lab>/``, and what is wrong with the rest.

    Parameters
    ----------
    submitted : path
        nbgrader's ``submitted/`` layout: one folder per student, one folder
        per lab inside it.
    labs : list of str
        The course's lab names.

    Returns
    -------
    submissions : list of Submission
        Sorted by student, then lab.
    problems : list of Problem
        Folders that are not labs, lab folders with no notebook or several,
        and renamed notebooks (graded under the expected name; ``graded=True``).
    """
    submitted = Path(submitted)
    submissions, problems = [], []
    for student_dir in sorted(p for p in submitted.iterdir() if _visible(p)):
        student = student_dir.name
        if not student_dir.is_dir():
            problems.append(
                Problem(
                    student,
                    "",
                    f"{student} is a file, not a student folder",
                    "put each student's work in submitted/<student>/<lab>/",
                )
            )
            continue
        for lab_dir in sorted(p for p in student_dir.iterdir() if _visible(p)):
            if not lab_dir.is_dir() or lab_dir.name not in labs:
                what = "folder" if lab_dir.is_dir() else "file"
                problems.append(
                    Problem(
                        student,
                        lab_dir.name,
                        f"the {what} {lab_dir.name!r} is not a lab of this course ({', '.join(labs)})",
                        "move the notebook into submitted/<student>/<lab>/ under the lab's name",
                    )
                )
                continue
            found = _pick_notebook(student, lab_dir)
            if isinstance(found, Problem):
                problems.append(found)
            else:
                submissions.append(found)
                problems.extend(Problem(student, found.lab, note, REPAIRED, graded=True) for note in found.notes)
    return submissions, problems


def _pick_notebook(student: str, lab_dir: Path) -> Submission | Problem:
    lab = lab_dir.name
    expected = lab_dir / f"{lab}.ipynb"
    notebooks = sorted(p for p in lab_dir.glob("*.ipynb") if _visible(p) and p.is_file())
    if expected in notebooks:
        return Submission(student, lab, expected, expected.read_bytes())
    if len(notebooks) == 1:
        note = f"the notebook was named {notebooks[0].name!r}; graded it as {expected.name}"
        return Submission(student, lab, notebooks[0], notebooks[0].read_bytes(), notes=(note,))
    if not notebooks:
        return Problem(student, lab, "the lab folder holds no notebook", f"ask {student} for {lab}.ipynb")
    names = ", ".join(p.name for p in notebooks)
    return Problem(
        student,
        lab,
        f"the lab folder holds {len(notebooks)} notebooks and none is {expected.name}: {names}",
        f"keep the one to grade and name it {expected.name}",
    )


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _read(data: bytes):
    import nbformat

    if not data.strip():
        raise Ungradable("the notebook file is empty", "ask the student to save the notebook and hand it in again")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise Ungradable(
            f"the file is not a notebook: it is not valid JSON{where}",
            "ask the student to download the notebook again (File > Download) and hand it in",
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise Ungradable("the file is JSON but not a notebook (it has no list of cells)", "ask for the notebook again")
    try:
        return nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # nbformat raises many kinds; all mean the same here
        raise Ungradable(f"nbformat cannot read the notebook: {exc}", "ask for the notebook again") from None


def repair_notebook(data: bytes, release: dict, source: dict) -> tuple[dict, list[str]]:
    """Return the notebook nbgrader should grade, and notes on what had to be repaired.

    The student's cells and their order are kept. Cells that carry nbgrader
    metadata are checked against the release: a grade id that is not the
    lab's, or that appeared before, becomes an ordinary cell; a known cell
    gets the release's type and metadata back; a locked cell (a test) that
    is unchanged gets the instructor's full source, hidden tests included,
    so nbgrader has nothing to warn about, and an edited one is reported
    and restored; a deleted test cell is put back after the cell that
    precedes it in the release.

    Parameters
    ----------
    data : bytes
        The file as handed in.
    release, source : dict
        The student version (``labs/``) and the instructor version of the lab.

    Returns
    -------
    notebook : dict
        An nbformat-4 notebook, valid for nbgrader.
    notes : list of str
        One sentence per repair, for problems.csv.

    Raises
    ------
    Ungradable
        When the file is empty, not JSON or not a notebook.
    """
    nb = _read(data)
    released = {_meta(c)["grade_id"]: c for c in release["cells"] if _meta(c).get("grade_id")}
    sources = {_meta(c)["grade_id"]: c for c in source["cells"] if _meta(c).get("grade_id")}
    # A duplicated test cell is graded where it appears last (after the answer it tests); other copies run as is.
    last = {_meta(c).get("grade_id"): i for i, c in enumerate(nb.cells) if _meta(c).get("locked")}
    notes, seen, cells = [], set(), []
    for i, cell in enumerate(nb.cells):
        meta = _meta(cell)
        grade_id = meta.get("grade_id")
        if not meta:
            cells.append(cell)
            continue
        early_copy = grade_id in last and last[grade_id] != i and _meta(released.get(grade_id, {})).get("locked")
        if grade_id not in released or grade_id in seen or early_copy:
            why = "appears twice" if grade_id in seen or early_copy else "is not a cell of this lab"
            notes.append(f"a cell marked {grade_id!r} {why}; it ran as an ordinary cell")
            cell.metadata.pop("nbgrader", None)
            cells.append(cell)
            continue
        seen.add(grade_id)
        cells.append(_restore(cell, released[grade_id], sources[grade_id], notes))
    for position, grade_id in enumerate(released):
        if grade_id in seen or not _meta(released[grade_id]).get("grade"):
            continue
        before = list(released)[:position]
        index = max((i for i, c in enumerate(cells) if _meta(c).get("grade_id") in before), default=-1)
        cells.insert(index + 1, _fresh(sources[grade_id]))
        notes.append(f"the test cell {grade_id!r} was deleted; it was put back and run")
    nb.cells = cells
    nb.metadata["kernelspec"] = copy.deepcopy(release["metadata"]["kernelspec"])
    ids = set()
    for cell in nb.cells:  # nbformat 4.5 wants unique cell ids; duplicated cells repeat them
        if cell.get("id") in ids:
            cell["id"] = uuid.uuid4().hex[:8]
        ids.add(cell.get("id"))
    return nb, notes


def _fresh(source_cell: dict):
    import nbformat

    cell = nbformat.from_dict(copy.deepcopy(source_cell))
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _restore(cell, released: dict, source_cell: dict, notes: list[str]):
    """The student's ``cell`` with the release's type and metadata; locked cells take the source."""
    meta = _meta(released)
    grade_id = meta["grade_id"]
    changed = []
    if cell.cell_type != released["cell_type"]:
        changed.append(f"its type ({cell.cell_type} instead of {released['cell_type']})")
    student_meta = {k: v for k, v in _meta(cell).items() if k != "checksum"}
    if student_meta != {k: v for k, v in meta.items() if k != "checksum"}:
        changed.append("its nbgrader metadata")
    if meta.get("locked"):
        if _text(cell) != _text(released):
            changed.append("its text")
        restored = _fresh(source_cell)
        if changed:
            notes.append(f"the locked cell {grade_id!r} was edited ({', '.join(changed)}); the original was run")
        return restored
    if changed:
        notes.append(f"the answer cell {grade_id!r} had {' and '.join(changed)} changed; restored")
    fixed = _fresh(released)
    fixed.source = _text(cell)  # _fresh has already emptied a code cell's outputs
    if "id" in cell:
        fixed["id"] = cell["id"]
    return fixed


def _text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source
