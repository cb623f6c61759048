"""Grade one submission in a course of its own: the unit of work a grading worker runs.

Each job builds a scratch nbgrader course in a temporary folder, with a copy of
the class's template gradebook (the labs' cells and points, no students), the
one student's repaired notebook, and runs nbgrader's ``autograde`` and
``generate_feedback`` on it in this process. So whatever the notebook does,
nbgrader's state, the gradebook and the files it can break are its own; what
comes back is plain data: scores, messages, notes, and the autograded
notebook and feedback page as bytes. The grading process merges the results
into the class gradebook (see :mod:`dcai_al.grading.gradebook`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from .. import sandbox
from ..config import QUICK_ENV
from . import trusted
from .collect import Ungradable, repair_notebook
from .feedback import EXPERIMENT_TAG, for_student

__all__ = ["grade_submission"]

#: Bytes of output a cell keeps in the graded notebook and the feedback page.
OUTPUT_LIMIT = sandbox.MB
#: Seconds a whole notebook may take, on top of its cells' limits, before its kernel is killed.
NOTEBOOK_SLACK = 120


@contextmanager
def _environment(values: dict[str, str]):
    """Set environment variables for the kernel this job starts (one job per worker thread)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _output_to(path: Path):
    """Send this process's stdout and stderr (and so the kernel's, which inherits them) to ``path``.

    Kernels print start-up notes and nbgrader prints warnings on every notebook; in a class of hundreds
    that is noise on the worker's console, and the log is kept with the job instead.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


@contextmanager
def _watchdog(seconds: float):
    """Kill this process's children (the kernel) after ``seconds``; yields a flag set when it fired."""
    import psutil

    fired = threading.Event()

    def kill():
        fired.set()
        for child in psutil.Process().children(recursive=True):
            try:
                child.kill()
            except psutil.Error:
                pass

    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


def _config(config_text: str, course: Path, timeout: int | None):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    (course / "nbgrader_config.py").write_text(config_text)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    overrides = Config()
    overrides.CourseDirectory.root = str(course)
    overrides.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    if timeout:
        overrides.ExecutePreprocessor.timeout = int(timeout)
    # The labs' experiments and figures carry no points: most of a notebook's time, none of its grade.
    overrides.ExecutePreprocessor.skip_cells_with_tag = EXPERIMENT_TAG
    config.merge(overrides)
    return config


def _why(log: str, fired: bool, limit: float) -> tuple[str, str]:
    """The problem and the instructor's next step, from nbgrader's log of a failed autograde."""
    if fired:
        return (
            f"the notebook ran longer than {limit:.0f} s in all, so its kernel was stopped",
            "run the notebook yourself to see which cell hangs",
        )
    if "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log:
        return (
            "the kernel died while running the notebook (an answer may call os._exit or sys.exit, or crash Python)",
            "look for os._exit, sys.exit or a crash in the answer cells; grade by hand or ask for a fix",
        )
    lines = [ln.strip() for ln in log.splitlines() if ln.strip() and not ln.startswith("[")]
    last = lines[-1] if lines else "no log"
    return f"nbgrader could not grade it: {last[:300]}", "open the notebook and run it; grade by hand if needed"


def _messages(nb) -> dict[str, str]:
    messages = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            messages[meta["grade_id"]] = "\n".join(f"{e['ename']}: {e['evalue']}".rstrip(": ") for e in errors)
    return messages


def _grades(db_url: str, lab: str, student: str) -> list[dict]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        submission = gb.find_submission(lab, student)
        rows = []
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                rows.append(
                    {
                        "notebook": notebook.name,
                        "name": grade.name,
                        "auto_score": grade.auto_score,
                        "manual_score": grade.manual_score,
                        "needs_manual_grade": bool(grade.needs_manual_grade),
                        "max_score": float(grade.max_score),
                    }
                )
        return sorted(rows, key=lambda r: (r["notebook"], r["name"]))


def _trusted(
    result: dict, notebook, full, course: Path, db_url: str, task: dict, limit: float, env: dict, per_cell: float
) -> None:
    """Score the records' test cells by the trusted comparison: in the gradebook, the result and the notebook.

    Where the notebook's own test cell scored otherwise, the result's
    ``disagreements`` say so (problems.csv), the cell's message is the
    comparison's, and the graded notebook's test cell gets a note, so the
    student's feedback says why its score is not what the notebook showed.
    """
    lab, student = result["lab"], result["student"]
    limits = sandbox.Limits(**task.get("limits", {}))
    found, info = trusted.compare(
        notebook, lab, [g["name"] for g in result["grades"]], course / "trusted",
        sandboxed=bool(task.get("sandbox", True)), limits=limits, timeout=limit, env=env, cell_limit=per_cell,
    )  # fmt: skip
    result["trusted"] = {"status": info["status"], "verdicts": trusted.verdicts(found)}
    if not found:
        return
    notebooks = {g["name"]: g["notebook"] for g in result["grades"]}
    found = [v for v in found if v.test_cell in notebooks]
    disagree = trusted.disagreements(result["grades"], found)
    trusted.apply(db_url, lab, student, found, notebooks)
    result["grades"] = _grades(db_url, lab, student)
    result["disagreements"] = [d["problem"] for d in disagree]
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in full.cells if c.cell_type == "code"}
    for d in disagree:
        if d["trusted"] < d["points"]:
            result["messages"][d["cell"]] = d["message"]
            note = f"the grader's own comparison gave {d['trusted']:g} of {d['points']:g} points: {d['message']}"
        else:
            note = f"the grader's own comparison found every case right: {d['points']:g} of {d['points']:g} points"
            said = result["messages"].get(d["cell"], "")
            result["messages"][d["cell"]] = f"(the notebook's test failed; the trusted comparison passed) {said}"
        cell = cells.get(d["cell"])
        if cell is not None:
            import nbformat

            text = f"[grader] This cell's grade is not what the notebook showed: {note}\n"
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))


def grade_submission(task: dict) -> dict:
    """Autograde one notebook in a scratch course and return the results as plain data.

    Parameters
    ----------
    task : dict
        ``student``, ``lab``, ``notebook`` (bytes as handed in), ``release`` and
        ``source`` (the lab's two notebooks, as dicts), ``template`` (the
        template gradebook, bytes), ``config`` (the course's
        ``nbgrader_config.py`` text), ``quick`` (bool), ``timeout``
        (seconds per cell, or None for the course's), ``sandbox`` (bool:
        run the kernel in :mod:`dcai_al.sandbox`), ``limits`` (keyword
        arguments of :class:`dcai_al.sandbox.Limits`) and ``trusted`` (bool,
        default True: score the exercise records' test cells by the trusted
        comparison of :mod:`dcai_al.grading.trusted`, run in the sandbox when
        ``sandbox`` is).

    Returns
    -------
    dict
        ``status`` ("graded" or "failed"), ``grades`` (one dict per graded
        cell), ``messages`` (grade id -> failure message), ``notes`` (repairs,
        for problems.csv), ``problem`` and ``action`` (when failed),
        ``autograded`` and ``feedback`` (bytes, or None), ``seconds``;
        with ``trusted``, also ``trusted`` (the serve step's status and each
        verdict) and ``disagreements`` (lines for problems.csv).
    """
    from nbgrader.apps import NbGraderAPI

    started = time.perf_counter()
    student, lab = task["student"], task["lab"]
    result = {"student": student, "lab": lab, "status": "failed", "grades": [], "messages": {}, "notes": []}
    result["sandboxed"] = bool(task.get("sandbox", True))
    result.update(problem=None, action=None, autograded=None, feedback=None, disagreements=[])
    try:
        notebook, notes = repair_notebook(task["notebook"], task["release"], task["source"])
    except Ungradable as exc:
        result.update(problem=exc.problem, action=exc.action, seconds=time.perf_counter() - started)
        return result
    result["notes"] = notes
    import nbformat

    with tempfile.TemporaryDirectory(prefix="dcai-al-job-") as tmp:
        course = Path(tmp)
        (course / "gradebook.db").write_bytes(task["template"])
        submitted = course / "submitted" / student / lab
        submitted.mkdir(parents=True)
        nbformat.write(notebook, submitted / f"{lab}.ipynb")
        config = _config(task["config"], course, task.get("timeout"))
        per_cell = float(config.ExecutePreprocessor.get("timeout", 30) or 30)
        n_code = sum(c.cell_type == "code" for c in notebook.cells)
        limit = per_cell * n_code + NOTEBOOK_SLACK
        env = {"MPLBACKEND": "Agg", QUICK_ENV: "1" if task.get("quick", True) else "0"}
        if task.get("sandbox", True):
            # Not autograded/: nbgrader writes and chmods the files there after the kernel ends, following any
            # symlink the student's code left (onto any file the grader may write). Nothing reads this folder.
            workdir = course / "kernel" / student / lab
            workdir.mkdir(parents=True)
            limits = sandbox.Limits(**task.get("limits", {}))
            boxed = sandbox.write_kernelspec(course / "sandbox", workdir=workdir, limits=limits)
            config.merge(type(config)(boxed["config"]))
            env.update(boxed["env"])
        api = NbGraderAPI(config=config)
        with _output_to(course / "job.log"), _environment(env), _watchdog(limit) as fired:
            graded = api.autograde(lab, student, force=True, create=True)
        autograded = course / "autograded" / student / lab / f"{lab}.ipynb"
        if not graded["success"] or fired.is_set() or not autograded.is_file():
            problem, action = _why(graded.get("log", "") + graded.get("error", ""), fired.is_set(), limit)
            result.update(problem=problem, action=action, seconds=time.perf_counter() - started)
            return result
        # The repair above leaves nbgrader nothing to restore; if it still finds a changed cell, say so.
        changed = [line.split("] ", 1)[-1] for line in graded["log"].splitlines() if "has changed!" in line]
        result["notes"] += [f"nbgrader: {line}" for line in changed]
        full = nbformat.read(autograded, as_version=4)
        cut = sandbox.cut_outputs(full, max_bytes=OUTPUT_LIMIT)
        if cut:
            result["notes"].append(f"outputs over 1 MB were cut in {len(cut)} cell(s) (cells {cut})")
        result["grades"] = _grades(config.CourseDirectory.db_url, lab, student)
        result["messages"] = _messages(full)
        if task.get("trusted", True):
            serve_env = {k: v for k, v in env.items() if k in ("MPLBACKEND", QUICK_ENV)}
            _trusted(result, notebook, full, course, config.CourseDirectory.db_url, task, limit, serve_env, per_cell)
        # nbgrader renders feedback from autograded/: give it the student's copy, keep the full one.
        autograded.chmod(0o644)
        nbformat.write(nbformat.from_dict(for_student(full)), autograded)
        with _output_to(course / "job.log"):
            feedback = api.generate_feedback(lab, student, force=True)
        page = course / "feedback" / student / lab / f"{lab}.html"
        if feedback["success"] and page.is_file():
            result["feedback"] = page.read_bytes()
        else:
            result["notes"].append("nbgrader could not write the feedback page; the grades stand")
        result["autograded"] = nbformat.writes(full).encode()
        result["status"] = "graded"
    result["seconds"] = time.perf_counter() - started
    return result
