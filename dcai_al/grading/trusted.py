"""The trusted comparison: a student's functions against the references, decided outside the student's process.

A notebook's test cells run in the student's kernel, where an answer cell
can patch numpy, ``checks.check`` or the import system, or add an IPython
input transformer that turns every later cell into ``pass``. No sandbox
stops that: the score must not be decided there. So, after nbgrader has
graded a notebook (its test cells still give the student their feedback),
the grading job:

1. takes the student's code cells (:func:`student_cells`: the lab's
   imports, the answer cells, cells the student added; not the test cells,
   not the experiments);
2. writes them and, for each exercise record of the lab
   (:mod:`dcai_al.exercises`), its visible and hidden cases' plain
   arguments to an inbox (pickle: the grader wrote it);
3. runs :mod:`dcai_al.grading.serve` on them in a fresh process, in the
   same bubblewrap sandbox and limits as the kernel: it execs the cells and
   calls each function on each case, and writes the answers back as plain
   arrays (``np.savez``) and JSON;
4. reads them with ``allow_pickle=False`` (never unpickling anything the
   student's process wrote), computes the reference's answer on each case
   here, and reads and compares the student's with the record's
   ``answer.read`` and ``answer.same``.

An exercise scores its points when every case matches, else 0: the rule of
the notebook's test cell (:func:`verdicts`). The job writes that score into
nbgrader's gradebook for the record's test cell (:func:`apply`), so
``grades.csv``, the feedback page, ``nbgrader export`` and formgrader all
show it; where it differs from what the notebook's test cell scored, the
job notes it for ``problems.csv`` (:func:`disagreements`). Test cells
without a record keep nbgrader's score.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .feedback import EXPERIMENT_TAG

__all__ = [
    "ACTION",
    "VERSION",
    "Verdict",
    "apply",
    "compare",
    "disagreements",
    "records_for",
    "student_cells",
    "verdicts",
]

#: Part of the settings fingerprint: a change here regrades every notebook.
VERSION = 1
#: What problems.csv tells the instructor to do about a disagreement.
ACTION = (
    "the grade is the trusted comparison's; read the answer cells: an answer that patches numpy, the checks or "
    "IPython earns nothing from it (else an answer that needs state from cells the grader does not run)"
)
#: Bytes the grader reads back per exercise: answers to small cases take kilobytes.
READ_LIMIT = 64 << 20
SERVE = Path(__file__).resolve().with_name("serve.py")


@dataclass(frozen=True)
class Verdict:
    """The trusted comparison's judgement of one exercise.

    ``score`` is ``points`` when every case matched, else 0; ``message`` says
    the first case that did not (empty when all did).
    """

    name: str
    test_cell: str
    points: float
    score: float
    message: str = ""
    cases: int = 0


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def student_cells(notebook) -> list[str]:
    """The code the trusted comparison runs: every code cell but the test cells and the experiments.

    That is the lab's imports, the answer cells and any cell the student
    added, in notebook order. Test cells (nbgrader ``grade`` cells that are
    not answers) never run there: the grader judges instead.
    """
    out = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = _meta(cell)
        if meta.get("grade") and not meta.get("solution"):
            continue
        if EXPERIMENT_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        out.append(_source(cell))
    return out


def records_for(lab: str, test_cells) -> list:
    """The exercise records of ``lab`` whose test cell is one of ``test_cells`` (nbgrader's grade ids)."""
    from ..exercises import for_lab

    try:
        records = for_lab(lab)
    except ValueError:  # a lab without records: nbgrader's scores stand
        return []
    cells = set(test_cells)
    return [r for r in records if r.test_cell in cells]


def _cases(record) -> list[tuple[str, tuple, object]]:
    """``(label, plain args, given expected or None)``: the visible cases, then the hidden ones, as check_hidden."""
    import numpy as np

    cases = [(c.what, tuple(c.args), c.expected) for c in record.cases]
    hidden = record.hidden_cases()
    for i, args in enumerate(hidden):
        shapes = ", ".join(f"{p} of shape {np.shape(a)}" for p, a in zip(record.parameters, args, strict=False))
        cases.append((f"hidden case {i + 1} of {len(hidden)} ({shapes})", tuple(args), None))
    return cases


def _serve(
    cells, exercises, folder: Path, *, sandboxed: bool, limits, timeout: float, env: dict, cell_limit: float
) -> dict:
    """Run serve.py on ``cells``; returns ``{"seconds", "status", "log"}`` (its files are in ``folder/out``)."""
    from .. import sandbox

    inbox, outbox = folder / "in", folder / "out"
    inbox.mkdir(parents=True)
    outbox.mkdir(parents=True)
    from .. import checks

    subjects = list(checks._subject_modules()) if hasattr(checks, "_subject_modules") else []
    with open(inbox / "task.pkl", "wb") as f:
        pickle.dump({"cells": cells, "exercises": exercises, "subjects": subjects, "cell_limit": cell_limit}, f)
    argv = [sys.executable, "-I", str(SERVE), str(inbox), str(outbox)]
    if sandboxed:
        command = sandbox.write_command(folder / "sandbox", argv, workdir=outbox, limits=limits, readonly=[inbox])
    else:
        command = argv
    started = time.perf_counter()
    log = folder / "serve.log"
    with open(log, "wb") as out:
        try:
            proc = subprocess.run(
                command, cwd=outbox, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                stdout=out, stderr=out, timeout=timeout,
            )  # fmt: skip
            status = f"exit {proc.returncode}" if proc.returncode else "ok"
        except subprocess.TimeoutExpired:
            status = f"stopped after {timeout:.0f} s"
    with open(log, "rb") as f:
        f.seek(max(0, log.stat().st_size - 2000))
        tail = f.read().decode(errors="replace")
    return {"seconds": time.perf_counter() - started, "status": status, "log": tail}


def _read(outbox: Path, index: int):
    """Exercise ``index``'s report (JSON) and answers (arrays, never pickles), or ``(None, {})``."""
    import numpy as np

    report_path, arrays_path = outbox / f"{index}.json", outbox / f"{index}.npz"
    try:
        for path in (report_path, arrays_path):
            if path.is_symlink() or not path.is_file() or path.stat().st_size > READ_LIMIT:
                return None, {}
        report = json.loads(report_path.read_text())
        with zipfile.ZipFile(arrays_path) as archive:  # np.load would inflate whatever the archive claims
            infos = archive.infolist()
            stored = all(i.compress_type == zipfile.ZIP_STORED for i in infos)
            if not stored or sum(i.file_size for i in infos) > READ_LIMIT:
                return None, {}
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception:  # anything unreadable is no answer
        return None, {}
    if not isinstance(report, dict) or not isinstance(report.get("cases"), list):
        return None, {}
    return report, arrays


def _has_parts(arrays: dict, k: int, parts) -> bool:
    """Whether case ``k``'s answer came back as ``parts`` arrays (a tuple answer), all of them there."""
    return isinstance(parts, int) and 0 < parts <= 8 and all(f"out{k}_{i}" in arrays for i in range(parts))


#: (record, case index) -> the reference's answer, read: the same for every notebook a worker grades.
_EXPECTED: dict = {}


def _expected_answer(record, k: int, args: tuple, given):
    from ..checks import _expected

    key = (id(record), record.name, k)
    if key not in _EXPECTED:
        _EXPECTED[key] = _expected(record, args, given)
    return copy.deepcopy(_EXPECTED[key])


def _judge(record, cases, report, arrays, why_missing: str) -> Verdict:
    """Full points iff every case's answer matches the reference's; else 0 and the first failure."""
    from ..checks import _fmt

    name, points = record.name, float(record.points)

    def fail(message: str) -> Verdict:
        return Verdict(name, record.test_cell, points, 0.0, message, len(cases))

    if report is None:
        return fail(f"{name}: the trusted comparison got no answers from your code ({why_missing}).")
    uses = report.get("uses")
    if uses:
        return fail(
            f"{name}: your function uses the kit's reference implementation ({str(uses)[:200]}). "
            "This exercise asks for your own implementation, written with numpy (or torch)."
        )
    results = report["cases"]
    for k, (label, args, given) in enumerate(cases):
        result = results[k] if k < len(results) and isinstance(results[k], dict) else {}
        kind, message = result.get("kind"), str(result.get("message", ""))[:2000]
        if kind == "error":
            return fail(f"{name} {message} on the case: {label}")
        if kind == "refused":
            return fail(f"{name} {message} on the case: {label}")
        if kind == "none":
            out = None
        elif kind == "array" and f"out{k}" in arrays:
            out = arrays[f"out{k}"]
        elif kind == "tuple" and _has_parts(arrays, k, result.get("parts")):
            out = tuple(arrays[f"out{k}_{i}"] for i in range(int(result["parts"])))
        else:
            return fail(f"{name}: the trusted comparison got no answer on the case: {label} ({why_missing})")
        try:
            expected = _expected_answer(record, k, args, given)
            got = record.answer.read(out, args, name, label)
            right = bool(record.answer.same(expected, got))
        except AssertionError as exc:  # CheckFailed: the answer's shape is wrong, the message says which
            return fail(str(exc))
        except Exception as exc:
            return fail(f"{name}: its answer could not be read on the case: {label} ({type(exc).__name__}: {exc})")
        if not right:
            return fail(
                f"{name} gave the wrong {record.answer.what} on the case: {label}\n"
                f"  expected: {_fmt(expected)}\n  got:      {_fmt(got)}"
            )
    return Verdict(name, record.test_cell, points, points, "", len(cases))


def compare(notebook, lab: str, test_cells, folder, *, sandboxed: bool = True, limits=None, timeout: float = 600,
            env=None, time_limit: float | None = None,
            cell_limit: float = 60) -> tuple[list[Verdict], dict]:  # fmt: skip
    """Judge ``notebook``'s functions for every exercise record of ``lab`` graded in ``test_cells``.

    Parameters
    ----------
    notebook : dict
        The notebook as nbgrader graded it (the repaired submission).
    lab : str
    test_cells : iterable of str
        The grade ids nbgrader scored: a record whose test cell is not among them is not judged.
    folder : path
        An empty scratch folder of this job's (the inbox, the serve's workdir, its log).
    sandboxed : bool
        Run the serve step in :mod:`dcai_al.sandbox` (as the kernel ran); else a plain subprocess.
    limits : dcai_al.sandbox.Limits, optional
    timeout : float
        Seconds the whole serve step may take.
    env : dict, optional
        Variables for it (``MPLBACKEND``, the quick switch); the sandbox passes only :data:`~dcai_al.sandbox.PASS_ENV`.
    time_limit : float, optional
        Seconds per call; :data:`dcai_al.checks.TIME_LIMIT` by default.
    cell_limit : float
        Seconds each of the student's cells may run (nbgrader's per-cell limit): a top-level loop that
        never ends costs the cells after it, not the whole notebook's time.

    Returns
    -------
    verdicts : list of Verdict
    info : dict
        ``seconds`` (of the serve step), ``status`` and ``log`` (its last lines).
    """
    from ..checks import TIME_LIMIT

    records = records_for(lab, test_cells)
    if not records:
        return [], {"seconds": 0.0, "status": "no records", "log": ""}
    folder = Path(folder).resolve()
    plans = [_cases(r) for r in records]
    exercises = [
        {
            "name": r.name,
            "prepare": None if r.prepare is None else [r.prepare.__module__, r.prepare.__qualname__],
            "time_limit": TIME_LIMIT if time_limit is None else float(time_limit),
            "cases": [(label, copy.deepcopy(args)) for label, args, _ in cases],
        }
        for r, cases in zip(records, plans, strict=True)
    ]
    info = _serve(student_cells(notebook), exercises, folder, sandboxed=sandboxed, limits=limits, timeout=timeout,
                  env=dict(env or {}), cell_limit=cell_limit)  # fmt: skip
    why = f"the serving process: {info['status']}"
    out = []
    for index, (record, cases) in enumerate(zip(records, plans, strict=True)):
        report, arrays = _read(folder / "out", index)
        out.append(_judge(record, cases, report, arrays, why))
    return out, info


def apply(db_url: str, lab: str, student: str, found: list[Verdict], notebooks: dict[str, str]) -> None:
    """Write each verdict's score into nbgrader's gradebook, as the automatic score of its test cell.

    ``notebooks`` maps each test cell to the name of the notebook holding it.
    """
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    # nbgrader's own submission code trips SQLAlchemy's autoflush warnings (as in gradebook.write_gradebook).
    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        for verdict in found:
            grade = gb.find_grade(verdict.test_cell, notebooks[verdict.test_cell], lab, student)
            grade.auto_score = verdict.score
        gb.db.commit()


def disagreements(grades: list[dict], found: list[Verdict]) -> list[dict]:
    """The test cells where the notebook's own test scored otherwise than the trusted comparison.

    ``grades`` are nbgrader's rows from before :func:`apply` (``name``,
    ``auto_score``); each disagreement is a dict: ``cell``, ``notebook``
    (its score), ``trusted``, ``points``, ``message`` and ``problem`` (the
    line for problems.csv).
    """
    notebook = {g["name"]: float(g["auto_score"] or 0.0) for g in grades}
    out = []
    for v in found:
        said = notebook.get(v.test_cell)
        if said is None or said == v.score:
            continue
        why = v.message.splitlines()[0][:300] if v.message else "every case matched the reference"
        problem = (
            f"{v.test_cell}: the notebook's test said {said:g}/{v.points:g}, "
            f"the trusted comparison {v.score:g}/{v.points:g}: {why}"
        )
        out.append({"cell": v.test_cell, "notebook": said, "trusted": v.score, "points": v.points,
                    "message": v.message, "problem": problem})  # fmt: skip
    return out


def verdicts(found: list[Verdict]) -> list[dict]:
    """The verdicts as plain dicts (for the grading record)."""
    return [asdict(v) for v in found]
