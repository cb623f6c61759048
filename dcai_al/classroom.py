"""A simulated class: submissions that rehearse the grading pipeline.

Every simulated student starts from the *released* notebook, fills its answer
cells with the instructor's solutions (markers removed), then does one of the
things real students do: hands in nothing, makes a typical mistake, writes a
loop that never ends, edits a test cell, calls the kit's own implementation.
The mistakes come from the exercise records (:mod:`dcai_al.exercises`), each a
whole answer cell, so reformatting a solution changes no student.
Each student carries what an honest grader must give them, so
``dcai-al rehearse`` (and the test suite) can check that the labs' test cells
still catch each mistake after an instructor edits them.

>>> [s.name for s in students("lab1-passive-vs-active")][:3]
['full', 'blank', 'mistakes-a']
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .exercises import Exercise

__all__ = ["Student", "discrepancies", "expected_scores", "graded_cells", "rehearse", "students", "write_class"]

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class Student:
    """One simulated submission and the grade it deserves.

    Attributes
    ----------
    name, story : str
        A folder name and, in words, what the student did.
    answered : bool
        Start from the solutions (True) or leave the release untouched (False).
    answers : dict
        Answer cell (grade id) -> the whole source the student wrote there
        instead of the solution.
    loses : tuple of str
        Test cells (grade ids) that must score zero.
    unjudged : tuple of str
        Test cells whose score is not judged: their answer is right but calls
        an earlier answer that is not, so either score can be fair.
    says : dict
        Test cell -> a phrase its failure message must contain.
    tamper : bool
        Also edit every visible test cell to ``pass``, raise a test cell's
        points to 100 and delete the last test cell.

    Every other test cell scores full marks when ``answered``, zero otherwise.
    """

    name: str
    story: str
    answered: bool = True
    answers: dict = field(default_factory=dict)
    loses: tuple[str, ...] = ()
    unjudged: tuple[str, ...] = ()
    says: dict = field(default_factory=dict)
    tamper: bool = False


@dataclass(frozen=True)
class _Slip:
    """One wrong answer cell: which exercise, its code, what the feedback must say, and in words."""

    record: Exercise
    code: str
    says: str
    story: str


def _generic_slips(record: Exercise) -> dict[str, _Slip]:
    """The misbehaviours every exercise is rehearsed with, written from its record alone."""
    name, signature, ref = record.name, record.signature, record.reference
    loops = f"def {name}{signature}:\n    while True:  # the exit condition never comes true\n        pass\n"
    crashes = f"def {name}{signature}:\n    return [0.0, 1.0][5]  # an index past the end\n"
    imports = f"from {ref.__module__} import {ref.__name__} as {name}\n"
    return {
        "loops": _Slip(record, loops, "did not return within", f"{name} loops forever"),
        "crashes": _Slip(record, crashes, "raised IndexError", f"{name} crashes"),
        "imports": _Slip(record, imports, "your own implementation", f"{name} is the kit's own {ref.__name__}"),
    }


def _patching(slip: _Slip) -> _Slip:
    """``slip``'s wrong answer, plus a patch that turns the visible check into a no-op."""
    code = slip.code + "\n\nchecks.check = lambda *args, **kwargs: None  # the visible test now passes\n"
    return _Slip(slip.record, code, slip.says, f"{slip.story}, and patches checks.check to hide it")


def _related(records: list[Exercise]) -> dict[str, set[str]]:
    """Exercise -> the exercises it calls or is called by, directly or not."""
    closure = {r.name: _uses_closure(records, r.name) for r in records}
    return {name: used | {o for o, theirs in closure.items() if name in theirs} for name, used in closure.items()}


def _pack(prefix: str, groups: list[list[_Slip]], records: list[Exercise]) -> list[Student]:
    """Students named ``prefix-a``, ``prefix-b``, ... each holding at most one slip per exercise.

    Slips of related exercises (one calls the other) go to different students,
    so that each failure message can be judged; an exercise whose answer
    calls a wrong one is left unjudged.
    """
    related = _related(records)
    users = {r.name: {o.name for o in records if r.name in _uses_closure(records, o.name)} for r in records}
    bins: list[list[_Slip]] = []
    for group in groups:
        for slip in group:
            for held in bins:
                names = {s.record.name for s in held}
                if slip.record.name not in names and not (related[slip.record.name] & names):
                    held.append(slip)
                    break
            else:
                bins.append([slip])
    out = []
    for i, held in enumerate(bins):
        names = {s.record.name for s in held}
        unjudged = set().union(*(users[n] for n in names)) - names
        out.append(
            Student(
                f"{prefix}-{chr(ord('a') + i)}",
                "; ".join(s.story for s in held),
                answers={s.record.name: s.code for s in held},
                loses=tuple(s.record.test_cell for s in held),
                unjudged=tuple(sorted(f"test_{n}" for n in unjudged)),
                says={s.record.test_cell: s.says for s in held},
            )
        )
    return out


def _uses_closure(records: list[Exercise], name: str) -> set[str]:
    by_name = {r.name: r for r in records}
    todo, seen = list(by_name[name].uses) if name in by_name else [], set()
    while todo:
        u = todo.pop()
        if u not in seen:
            seen.add(u)
            todo.extend(by_name[u].uses if u in by_name else ())
    return seen


#: Typical mistakes per exercise that a rehearsal hands in by default; ``dcai-al exercises`` checks them all.
REHEARSED_MISTAKES = 2


def students(lab: str, *, every_mistake: bool = False) -> list[Student]:
    """The simulated class of ``lab``, drawn from its exercise records.

    ``full`` hands in the solutions, ``blank`` the release untouched, and the
    ``tamperer`` edits the test cells. ``mistakes-*`` make each record's first
    :data:`REHEARSED_MISTAKES` typical mistakes (all of them with
    ``every_mistake``), ``misbehaving-*`` loop forever or crash, and
    ``cheating-*`` hand in the kit's reference or patch the visible check to
    hide a mistake.
    """
    from .exercises import for_lab

    records = for_lab(lab)  # raises ValueError naming the labs for an unknown one
    depth = max(len(r.mistakes) for r in records) if every_mistake else REHEARSED_MISTAKES
    mistakes = [
        [_Slip(r, m.code, m.says, f"{r.name}: {m.story}") for r in records for m in r.mistakes[i : i + 1]]
        for i in range(depth)
    ]
    generic = {r.name: _generic_slips(r) for r in records}
    misbehaving = [[generic[r.name][("loops", "crashes")[i % 2]] for i, r in enumerate(records)]]
    cheating = [
        [
            generic[r.name]["imports"]
            if i % 2 == 0 or not r.mistakes
            else _patching(_Slip(r, r.mistakes[0].code, r.mistakes[0].says, f"{r.name}: {r.mistakes[0].story}"))
            for i, r in enumerate(records)
        ]
    ]
    return [
        Student("full", "the instructor's solution in every answer cell"),
        Student("blank", "hands in the release untouched", answered=False, says={"*": "not implemented yet"}),
        *_pack("mistakes", mistakes, records),
        *_pack("misbehaving", misbehaving, records),
        *_pack("cheating", cheating, records),
        Student(
            "tamperer",
            "hands in no answers but edits every test cell to `pass`, raises one to 100 points, deletes another",
            answered=False,
            tamper=True,
        ),
    ]


def _load(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_cells(notebook: dict) -> dict[str, float]:
    """Grade id -> points of each autograded test cell of a notebook."""
    return {_meta(c)["grade_id"]: float(_meta(c)["points"]) for c in notebook["cells"] if _meta(c).get("grade")}


def _answers(solution: dict) -> dict[str, str]:
    """Grade id -> the solution's answer cell source with nbgrader's markers removed."""
    answers = {}
    for cell in solution["cells"]:
        if _meta(cell).get("solution") and cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines(keepends=True)
            answers[_meta(cell)["grade_id"]] = "".join(ln for ln in lines if ln.strip() not in SOLUTION_MARKERS)
    return answers


def _submission(release: dict, answers: dict[str, str], student: Student) -> dict:
    nb = json.loads(json.dumps(release))
    cells = {_meta(c).get("grade_id"): c for c in nb["cells"]}
    if student.answered:
        for grade_id, source in answers.items():
            cells[grade_id]["source"] = source
    for grade_id, source in student.answers.items():
        if grade_id not in cells:
            raise ValueError(f"student {student.name!r} answers {grade_id!r}, which is not an answer cell.")
        cells[grade_id]["source"] = source
    if student.tamper:
        tests = [c for c in nb["cells"] if _meta(c).get("grade")]
        for cell in tests:
            cell["source"] = "pass  # the tests are gone\n"
        _meta(tests[0])["points"] = 100
        nb["cells"].remove(tests[-1])
    return nb


def write_class(lab: str, submissions_dir, *, release_dir, solutions_dir, every_mistake: bool = False) -> list[Student]:
    """Write the simulated class of ``lab`` as ``<student>/<lab>/<lab>.ipynb`` under ``submissions_dir``.

    Parameters
    ----------
    lab : str
        The assignment name.
    submissions_dir : path
        Where to write the class (laid out as nbgrader's ``submitted/``).
    release_dir, solutions_dir : path
        Folders holding ``<lab>/<lab>.ipynb``: the student and the instructor version.
    every_mistake : bool
        Hand in every typical mistake of every record, not only the first ones.

    Returns
    -------
    list of Student
        The students written, in order.
    """
    release = _load(Path(release_dir) / lab / f"{lab}.ipynb")
    answers = _answers(_load(Path(solutions_dir) / lab / f"{lab}.ipynb"))
    written = students(lab, every_mistake=every_mistake)
    for student in written:
        folder = Path(submissions_dir) / student.name / lab
        folder.mkdir(parents=True, exist_ok=True)
        nb = _submission(release, answers, student)
        (folder / f"{lab}.ipynb").write_text(json.dumps(nb, indent=1) + "\n")
    return written


def expected_scores(student: Student, points: dict[str, float]) -> dict[str, float | None]:
    """The score each test cell must get for ``student``; ``None`` where it is not judged.

    ``points`` comes from :func:`graded_cells`.

    >>> expected_scores(Student("x", "one mistake", loses=("t1",)), {"t1": 2.0, "t2": 3.0})
    {'t1': 0.0, 't2': 3.0}
    """
    unknown = (set(student.loses) | set(student.unjudged)) - set(points)
    if unknown:
        raise ValueError(f"student {student.name!r} names unknown test cells {sorted(unknown)}.")
    return {
        g: None if g in student.unjudged else (p if student.answered and g not in student.loses else 0.0)
        for g, p in points.items()
    }


def discrepancies(student: Student, rows, points: dict[str, float]) -> list[str]:
    """What the grader got wrong for ``student``, in words; empty when every grade is right.

    Parameters
    ----------
    student : Student
    rows : list of GradeRow
        The student's rows from :func:`dcai_al.grading.autograde`.
    points : dict
        Grade id -> points, from the *release* (see :func:`graded_cells`).
    """
    got = {r.problem: r for r in rows if r.student == student.name}
    problems = []
    for problem, score in expected_scores(student, points).items():
        row = got.get(problem)
        if row is None:
            problems.append(f"{student.name}: no grade for {problem}")
            continue
        if row.max_score != points[problem]:
            problems.append(
                f"{student.name}: {problem} is out of {row.max_score:g}, the release says {points[problem]:g}"
            )
        if score is not None and row.score != score:
            problems.append(f"{student.name}: {problem} scored {row.score:g}, expected {score:g}")
        phrase = student.says.get(problem, student.says.get("*"))
        if phrase and phrase not in row.message:
            problems.append(f"{student.name}: the message for {problem} does not say {phrase!r}: {row.message!r}")
    return problems


def rehearse(labs=None, *, root=None, timeout: int | None = None, out=None, every_mistake: bool = False):
    """Write each lab's simulated class, autograde it with nbgrader, and judge the grades.

    Parameters
    ----------
    labs : list of str, optional
        Assignments to rehearse; all of them by default.
    root : path, optional
        The course directory (its ``labs/`` release and ``solutions/``).
    timeout : int, optional
        nbgrader's per-cell time limit in seconds.
    out : path, optional
        Where :func:`dcai_al.grading.autograde` writes ``grades.csv`` and ``feedback/``.
    every_mistake : bool
        Hand in every typical mistake (a longer class), not only each record's first ones.

    Returns
    -------
    rows : list of GradeRow
    problems : list of str
        Every grade or message that differs from what the student deserves.
    """
    from .grading import assignments, autograde, course_root

    root = course_root(root)
    labs = list(labs) if labs else assignments(root)
    with tempfile.TemporaryDirectory(prefix="dcai-al-class-") as tmp:
        submitted = Path(tmp) / "submitted"
        written = {
            lab: write_class(
                lab, submitted, release_dir=root / "labs", solutions_dir=root / "solutions", every_mistake=every_mistake
            )
            for lab in labs
        }
        rows = autograde(submitted, root=root, timeout=timeout, out=out).rows
    problems = []
    for lab, class_ in written.items():
        points = graded_cells(_load(root / "labs" / lab / f"{lab}.ipynb"))
        lab_rows = [r for r in rows if r.assignment == lab]
        for student in class_:
            problems.extend(f"{lab}: {p}" for p in discrepancies(student, lab_rows, points))
    return rows, problems
