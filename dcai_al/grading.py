"""Thin wrappers over nbgrader: release the labs and autograde submissions.

Nothing here grades anything itself; it calls nbgrader's own command line
(``python -m nbgrader``) in a temporary copy of the course, so that the
gradebook and the submissions never land in the repository, and reads the
scores back through ``nbgrader.api.Gradebook``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .config import QUICK_ENV

__all__ = ["GradeRow", "assignments", "autograde", "course_root", "release", "score_table"]

CONFIG_FILE = "nbgrader_config.py"


def course_root(root=None) -> Path:
    """The course directory: ``root``, else the repository holding the kit, else the cwd."""
    candidates = [Path(root)] if root is not None else [Path(__file__).resolve().parents[1], Path.cwd()]
    for candidate in candidates:
        if (candidate / CONFIG_FILE).is_file() and (candidate / "solutions").is_dir():
            return candidate.resolve()
    where = candidates[0] if root is not None else "the kit's checkout or the current directory"
    raise FileNotFoundError(f"No nbgrader course found in {where}: expected {CONFIG_FILE} beside a solutions/ folder.")


def assignments(root=None) -> list[str]:
    """Names of the assignments in ``solutions/``, sorted."""
    root = course_root(root)
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def _nbgrader(args: list[str], cwd: Path, *, quick: bool) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # nbgrader runs alembic as a subprocess when it creates a gradebook.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["MPLBACKEND"] = "Agg"
    if quick:
        env[QUICK_ENV] = "1"
    db = f"sqlite:///{cwd / 'gradebook.db'}"
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={cwd}", f"--CourseDirectory.db_url={db}"]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _scratch_course(root: Path, names: list[str]) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="dcai-al-course-"))
    shutil.copy2(root / CONFIG_FILE, tmp / CONFIG_FILE)
    for name in names:
        shutil.copytree(root / "solutions" / name, tmp / "solutions" / name)
    return tmp


def _check_names(names, root: Path) -> list[str]:
    known = assignments(root)
    names = known if names is None else list(names)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; solutions/ holds {known}.")
    return names


def release(names=None, *, root=None, release_dir=None) -> list[Path]:
    """Generate the student notebooks from ``solutions/`` with nbgrader.

    Parameters
    ----------
    names : list of str, optional
        Assignments to release; all of ``solutions/`` by default.
    root : path, optional
        The course directory (see :func:`course_root`).
    release_dir : path, optional
        Where to write ``<name>/<name>.ipynb``; ``labs/`` of the course by default.

    Returns
    -------
    list of Path
        The released assignment folders.
    """
    root = course_root(root)
    names = _check_names(names, root)
    release_dir = Path(release_dir) if release_dir is not None else root / "labs"
    scratch = _scratch_course(root, names)
    try:
        out = []
        for name in names:
            _nbgrader(["generate_assignment", name, "--force"], scratch, quick=False)
            target = release_dir / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(scratch / "labs" / name, target)
            out.append(target)
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass(frozen=True)
class GradeRow:
    """One autograded cell of one student's submission.

    ``message`` is the error the test cell raised (``CheckFailed: ...``), or
    ``""`` when it passed: the same text the student sees in their feedback.
    """

    student: str
    assignment: str
    problem: str
    score: float
    max_score: float
    message: str = ""


def _error_messages(notebook: Path) -> dict[str, str]:
    """The error each graded cell of an autograded notebook raised, by grade id."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    messages = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        messages[meta["grade_id"]] = "\n".join(f"{e['ename']}: {e['evalue']}".rstrip(": ") for e in errors)
    return messages


def autograde(
    submissions_dir,
    *,
    root=None,
    quick: bool = True,
    timeout: int | None = None,
    out=None,
    keep=None,
) -> list[GradeRow]:
    """Autograde every submission under ``submissions_dir`` with nbgrader.

    The instructor pipeline runs headless in a scratch copy of the course:
    ``generate_assignment`` and ``autograde``, then, when ``out`` is given,
    ``export`` (CSV) and ``generate_feedback`` (one HTML page per student and
    assignment).

    Parameters
    ----------
    submissions_dir : path
        Laid out as nbgrader's ``submitted/`` folder:
        ``<student>/<assignment>/<assignment>.ipynb``.
    root : path, optional
        The course directory.
    quick : bool
        Run the notebooks' experiments at CI size (grades depend only on the
        test cells, which are the same at every size).
    timeout : int, optional
        Per-cell time limit in seconds (``nbgrader_config.py`` sets the default).
    out : path, optional
        Write ``grades.csv`` (nbgrader's export), ``feedback/`` (HTML) and
        ``autograded/`` (the executed notebooks) here.
    keep : path, optional
        Copy the whole scratch course (gradebook included) here.

    Returns
    -------
    list of GradeRow
        One row per student, assignment and graded cell, sorted.
    """
    from nbgrader.api import Gradebook

    root = course_root(root)
    submissions_dir = Path(submissions_dir)
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"submissions_dir {submissions_dir} is not a folder.")
    students = sorted(p.name for p in submissions_dir.iterdir() if p.is_dir())
    if not students:
        raise ValueError(f"{submissions_dir} holds no student folders (<student>/<assignment>/<notebook>.ipynb).")
    names = sorted({p.name for s in students for p in (submissions_dir / s).iterdir() if p.is_dir()})
    names = _check_names(names, root)
    scratch = _scratch_course(root, names)
    try:
        shutil.copytree(submissions_dir, scratch / "submitted")
        extra = [f"--ExecutePreprocessor.timeout={int(timeout)}"] if timeout else []
        for name in names:
            _nbgrader(["generate_assignment", name, "--force"], scratch, quick=quick)
            _nbgrader(["autograde", name, "--force", "--create", *extra], scratch, quick=quick)
        rows = []
        with Gradebook(f"sqlite:///{scratch / 'gradebook.db'}") as gb:
            for name in names:
                for student in students:
                    if not (submissions_dir / student / name).is_dir():
                        continue
                    submission = gb.find_submission(name, student)
                    for notebook in submission.notebooks:
                        path = scratch / "autograded" / student / name / f"{notebook.name}.ipynb"
                        messages = _error_messages(path) if path.is_file() else {}
                        for grade in sorted(notebook.grades, key=lambda g: g.name):
                            score = float(grade.score)
                            rows.append(
                                GradeRow(
                                    student,
                                    name,
                                    grade.name,
                                    score,
                                    float(grade.max_score),
                                    messages.get(grade.name, ""),
                                )
                            )
        if out is not None:
            out = Path(out)
            out.mkdir(parents=True, exist_ok=True)
            _nbgrader(["export", f"--to={out / 'grades.csv'}"], scratch, quick=quick)
            for name in names:
                _nbgrader(["generate_feedback", name, "--force"], scratch, quick=quick)
            for folder in ("feedback", "autograded"):
                if (out / folder).exists():
                    shutil.rmtree(out / folder)
                shutil.copytree(scratch / folder, out / folder)
        if keep is not None:
            shutil.copytree(scratch, Path(keep), dirs_exist_ok=True)
        return rows
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def score_table(rows: list[GradeRow]) -> str:
    """Format grade rows as a student x problem text table with totals."""
    problems = sorted({(r.assignment, r.problem) for r in rows})
    students = sorted({r.student for r in rows})
    cell = {(r.student, r.assignment, r.problem): r for r in rows}
    header = ["student", *[p for _, p in problems], "total"]
    lines = [header]
    for student in students:
        got = [cell.get((student, a, p)) for a, p in problems]
        total = sum(r.score for r in got if r)
        possible = sum(r.max_score for r in got if r)
        lines.append([student, *[f"{r.score:g}/{r.max_score:g}" if r else "-" for r in got], f"{total:g}/{possible:g}"])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)) for line in lines)
