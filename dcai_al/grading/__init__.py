"""Release the labs and autograde a class with nbgrader, one submission at a time, in parallel.

``release`` runs nbgrader's ``generate_assignment`` in a temporary copy of the
course. ``autograde`` grades each submission in a scratch course of its own
(:mod:`dcai_al.grading.job`) on a Dask cluster, so that one notebook's bad
JSON, dead kernel or timeout costs that notebook alone, then merges every
result into one nbgrader gradebook and the CSVs (:mod:`dcai_al.grading.gradebook`).
A rerun into the same output folder regrades only new or changed notebooks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__
from ..config import QUICK_ENV
from ..exercises.cells import expand
from .collect import Problem, find_submissions
from .gradebook import (
    MANIFEST,
    all_problems,
    read_manifest,
    score_of,
    write_files,
    write_gradebook,
    write_tables,
    write_text_atomic,
)

__all__ = [
    "GradeRow",
    "GradingResult",
    "Problem",
    "assignments",
    "autograde",
    "course_root",
    "release",
    "score_table",
]

CONFIG_FILE = "nbgrader_config.py"
KIT_CHECKOUT = Path(__file__).resolve().parents[2]


def _is_course(folder: Path) -> bool:
    return (folder / CONFIG_FILE).is_file() and (folder / "solutions").is_dir()


def course_root(root=None) -> Path:
    """The course folder: ``root``; else the current folder when it is a course; else the kit's checkout.

    A course is a folder holding ``nbgrader_config.py`` beside ``solutions/``.
    """
    candidates = [Path(root)] if root is not None else [Path.cwd(), KIT_CHECKOUT]
    for candidate in candidates:
        if _is_course(candidate):
            return candidate.resolve()
    where = candidates[0] if root is not None else "the current folder or the kit's checkout"
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


def _copy_solutions(root: Path, names: list[str], to: Path) -> None:
    """Copy ``solutions/<name>`` into ``to/solutions``, each test cell written out from its exercise record."""
    for name in names:
        shutil.copytree(root / "solutions" / name, to / "solutions" / name, dirs_exist_ok=True)
        path = to / "solutions" / name / f"{name}.ipynb"
        if path.is_file():
            notebook = expand(json.loads(path.read_text()), name)
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def _scratch_course(root: Path, names: list[str]) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="dcai-al-course-"))
    shutil.copy2(root / CONFIG_FILE, tmp / CONFIG_FILE)
    _copy_solutions(root, names, tmp)
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


@dataclass
class GradingResult:
    """What :func:`autograde` did: per-cell rows, the problems, and the counts by status."""

    course: Path
    out: Path | None
    rows: list[GradeRow]
    problems: list[Problem]
    counts: dict = field(default_factory=dict)
    regraded: int = 0
    reused: int = 0

    @property
    def summary(self) -> str:
        """One line, such as "33 graded, 2 could not be graded: see problems.csv"."""
        failed = self.counts.get("failed", 0)
        text = f"{self.counts.get('graded', 0)} graded"
        if self.counts.get("missing"):
            text += f", {self.counts['missing']} missing (never handed in)"
        if failed:
            where = self.out / "problems.csv" if self.out else "the problems"
            text += f", {failed} could not be graded: see {where}"
        return text


def _template(root: Path, labs: list[str]) -> tuple[bytes, dict, dict]:
    """The labs' gradebook (cells and points, no students) and their release and source notebooks."""
    scratch = _scratch_course(root, labs)
    try:
        for lab in labs:
            _nbgrader(["generate_assignment", lab, "--force"], scratch, quick=False)
        releases = {lab: json.loads((scratch / "labs" / lab / f"{lab}.ipynb").read_text()) for lab in labs}
        sources = {lab: json.loads((scratch / "solutions" / lab / f"{lab}.ipynb").read_text()) for lab in labs}
        return (scratch / "gradebook.db").read_bytes(), releases, sources
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _points(notebook: dict) -> float:
    meta = [c.get("metadata", {}).get("nbgrader", {}) for c in notebook["cells"]]
    return float(sum(m.get("points", 0) for m in meta if m.get("grade")))


def _prepare_out(out: Path, root: Path, force: bool) -> dict:
    """The records already in ``out``; refuse a folder this kit did not write, or another course's."""
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return {}
    manifest = read_manifest(out)
    if manifest is None:
        raise FileExistsError(
            f"{out} exists and was not written by `dcai-al autograde` (no {MANIFEST}); "
            "nothing was changed. Choose a new or empty --out."
        )
    if manifest["course"] != str(root) and not force:
        raise FileExistsError(
            f"{out} holds grades for the course {manifest['course']}, not {root}; nothing was changed. "
            "Choose another --out, or pass --force to grade this course into it."
        )
    return manifest


def _client(scheduler, workers):
    from ..scale.cluster import connect

    return connect(scheduler, n_workers=workers or os.cpu_count() or 1, threads_per_worker=1)


def autograde(
    submissions_dir,
    *,
    root=None,
    out=None,
    quick: bool = True,
    timeout: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    keep=None,
    progress: bool = False,
    sandbox: bool = True,
    limits=None,
) -> GradingResult:
    """Autograde every submission under ``submissions_dir``, each on its own, in parallel.

    Parameters
    ----------
    submissions_dir : path
        nbgrader's ``submitted/`` layout: ``<student>/<lab>/<lab>.ipynb``
        (relative paths are relative to the current folder).
    root : path, optional
        The course (see :func:`course_root`).
    out : path, optional
        Where to write ``grades.csv``, ``cells.csv``, ``problems.csv``,
        ``gradebook.db``, ``feedback/`` and ``autograded/``. A folder that
        holds an earlier run of the same course is updated: only new or
        changed notebooks are graded again. Without ``out``, a temporary
        folder is used and removed.
    quick : bool
        Run the notebooks' experiments at CI size (the grades depend only on
        the test cells).
    timeout : int, optional
        Seconds per cell (``nbgrader_config.py`` sets the default).
    workers : int, optional
        Local worker processes; one per core by default.
    scheduler : str, optional
        Address of a running Dask scheduler to grade on instead.
    force : bool
        Grade every notebook again, even unchanged ones.
    keep : path, optional
        Also write a complete nbgrader course here (config, source, the
        repaired submissions, autograded, feedback, gradebook), for formgrader.
    progress : bool
        Show a progress bar per lab.
    sandbox : bool
        Run each student's kernel in a bubblewrap sandbox (:mod:`dcai_al.sandbox`).
        ``False`` grades without one: the students' code runs with your rights,
        and ``grades.csv`` says so on every row graded that way.
    limits : dcai_al.sandbox.Limits, optional
        Memory, CPU time, processes and file size per student (the defaults
        of :class:`~dcai_al.sandbox.Limits`: 2 GB, 1200 s, 256, 256 MiB).

    Returns
    -------
    GradingResult
    """
    from .. import sandbox as _sandbox

    root = course_root(root)
    if sandbox and not _sandbox.available():
        raise _sandbox.SandboxUnavailable(
            "grading runs each student's code in a bubblewrap sandbox, and bwrap is missing or cannot run here: "
            "install it (as root: apt-get update && apt-get install -y bubblewrap), "
            "or pass --no-sandbox to grade with the students' code running with your rights."
        )
    limits = _sandbox.Limits() if limits is None else limits
    if not isinstance(limits, _sandbox.Limits):
        raise TypeError(f"limits must be a dcai_al.sandbox.Limits; got {type(limits).__name__}.")
    submissions_dir = Path(submissions_dir).resolve()
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"submissions_dir {submissions_dir} is not a folder.")
    labs = assignments(root)
    submissions, problems = find_submissions(submissions_dir, labs)
    students = sorted(p.name for p in submissions_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not students:
        raise ValueError(f"{submissions_dir} holds no student folders (<student>/<lab>/<notebook>.ipynb).")
    temporary = out is None
    out = Path(tempfile.mkdtemp(prefix="dcai-al-grading-")) if temporary else Path(out).resolve()
    try:
        settings = {"quick": quick, "timeout": timeout, "sandbox": sandbox, "limits": asdict(limits)}
        return _autograde(
            root, submissions, problems, students, out, settings, workers, scheduler, force, keep, progress
        )
    finally:
        if temporary:
            shutil.rmtree(out, ignore_errors=True)


def _fingerprint(config: str, sources: dict, settings: dict) -> str:
    from .trusted import VERSION  # a new trusted comparison regrades every notebook

    text = json.dumps([__version__, config, sources, settings, {"trusted": VERSION}], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _autograde(root, submissions, problems, students, out, settings, workers, scheduler, force, keep, progress):
    manifest = _prepare_out(out, root, force)
    old = {tuple(k.split("/", 1)): v for k, v in manifest.get("records", {}).items()}
    known = set(assignments(root))
    labs = sorted({s.lab for s in submissions} | {p.lab for p in problems if p.lab in known} | {lab for _, lab in old})
    if not labs:
        raise ValueError("no lab folders found: lay submissions out as <student>/<lab>/<lab>.ipynb.")
    template, releases, sources = _template(root, labs)
    config = (root / CONFIG_FILE).read_text()
    fingerprint = _fingerprint(config, sources, settings)
    same_settings = manifest.get("fingerprint") == fingerprint
    records = dict(old)
    for problem in problems:  # a folder that is no longer gradable keeps no grade from before
        if not problem.graded:
            records.pop((problem.student, problem.lab), None)
    todo = []
    for sub in submissions:
        previous = old.get((sub.student, sub.lab))
        if previous and previous.get("sha256") == sub.sha256 and same_settings and not force:
            continue
        task = {
            "student": sub.student,
            "lab": sub.lab,
            "notebook": sub.data,
            "release": releases[sub.lab],
            "source": sources[sub.lab],
            "template": template,
            "config": config,
            **settings,
        }
        todo.append((sub, task))

    def save():
        doc = {"kit": __version__, "course": str(root), "fingerprint": fingerprint}
        doc["records"] = {f"{s}/{lab}": r for (s, lab), r in sorted(records.items())}
        write_text_atomic(out / MANIFEST, json.dumps(doc, indent=1, sort_keys=True) + "\n")

    for sub, result in _run(todo, scheduler, workers, labs, progress):
        result["sha256"] = sub.sha256
        write_files(out, result, result.pop("autograded"), result.pop("feedback"))
        result.pop("seconds", None)
        records[(sub.student, sub.lab)] = result
        save()  # after every notebook: a run that is killed keeps what it graded
    save()
    write_gradebook(out / "gradebook.db", template, [records[k] for k in sorted(records)])
    class_students = sorted(set(students) | {s for s, _ in records})
    counts = write_tables(out, records, class_students, labs, {lab: _points(releases[lab]) for lab in labs}, problems)
    if keep is not None:
        _keep_course(Path(keep), root, labs, out, submissions)
    rows = [
        GradeRow(r["student"], r["lab"], g["name"], score_of(g), g["max_score"], r["messages"].get(g["name"], ""))
        for _, r in sorted(records.items())
        if r["status"] == "graded"
        for g in r["grades"]
    ]
    found = all_problems(records, problems)
    return GradingResult(root, out, rows, found, counts, regraded=len(todo), reused=len(submissions) - len(todo))


def _run(todo, scheduler, workers, labs, progress):
    """Grade each task on a Dask cluster; yield (submission, result) as each finishes."""
    if not todo:
        return
    import dask
    from distributed import as_completed
    from tqdm.auto import tqdm

    from .job import grade_submission

    bars = {
        lab: tqdm(total=sum(s.lab == lab for s, _ in todo), desc=lab, position=i, unit="notebook", disable=not progress)
        for i, lab in enumerate(labs)
    }
    # A notebook that kills its worker is tried once more, then reported: it must not take every worker down.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), _client(scheduler, workers) as client:
        futures = {
            client.submit(grade_submission, task, key=f"grade-{sub.student}-{sub.lab}-{sub.sha256[:12]}"): sub
            for sub, task in todo
        }
        for future in as_completed(futures, loop=client.loop):
            sub = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the worker died under it (twice), or the job itself broke
                result = {"student": sub.student, "lab": sub.lab, "status": "failed", "grades": [], "messages": {}}
                result.update(notes=[], autograded=None, feedback=None)
                result["problem"] = (
                    "its grading process died twice while running it (an answer may kill its parent or use up memory)"
                    if type(exc).__name__ == "KilledWorker"
                    else f"the grader failed on this notebook: {type(exc).__name__}: {exc}"[:400]
                )
                result["action"] = "open the notebook and run it yourself; grade by hand if needed"
            bars[sub.lab].update()
            yield sub, result
    for bar in bars.values():
        bar.close()


def _keep_course(keep: Path, root: Path, labs: list[str], out: Path, submissions) -> None:
    """A complete nbgrader course in ``keep``: what formgrader and ``nbgrader export`` expect."""
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / CONFIG_FILE, keep / CONFIG_FILE)
    _copy_solutions(root, labs, keep)
    for sub in submissions:
        target = keep / "submitted" / sub.student / sub.lab
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{sub.lab}.ipynb").write_bytes(sub.data)
    for folder in ("autograded", "feedback"):
        if (out / folder).is_dir():
            shutil.copytree(out / folder, keep / folder, dirs_exist_ok=True)
    shutil.copy2(out / "gradebook.db", keep / "gradebook.db")


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
