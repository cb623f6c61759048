"""The class's results: one record per submission, merged into files an instructor reads.

Every graded (or failed) submission becomes a record, kept in
``<out>/grading.json`` with the hash of the notebook it came from, so that a
later run into the same folder regrades only what changed. From the records,
each run writes anew:

- ``gradebook.db``: an nbgrader gradebook (the labs from the template, every
  graded submission merged in), so ``nbgrader export`` and formgrader work;
- ``grades.csv``: one row per student and lab, ``status`` graded, failed or
  missing, an empty score unless graded, and whether the student's kernel
  ran in the sandbox;
- ``cells.csv``: one row per graded test cell, with its failure message;
- ``problems.csv``: what went wrong or was repaired, and what to do;
  also each test cell where the notebook's own test scored otherwise than
  the trusted comparison (:mod:`dcai_al.grading.trusted`), whose score the
  gradebook and the CSVs hold.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import warnings
from pathlib import Path

from .collect import REPAIRED, Problem
from .trusted import ACTION as TRUSTED

__all__ = [
    "MANIFEST",
    "all_problems",
    "read_manifest",
    "score_of",
    "write_files",
    "write_gradebook",
    "write_tables",
    "write_text_atomic",
]

MANIFEST = "grading.json"


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary name, so a crash never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_manifest(out: Path) -> dict | None:
    """The manifest of a grading folder, or None when there is none."""
    path = Path(out) / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def score_of(grade: dict) -> float:
    """nbgrader's rule: a manual score overrides the automatic one."""
    score = grade["manual_score"] if grade["manual_score"] is not None else grade["auto_score"]
    return float(score or 0.0)


def write_gradebook(path: Path, template: bytes, records: list[dict]) -> None:
    """Write an nbgrader gradebook: the template's labs plus every graded record."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(template)
    # nbgrader's own submission code trips SQLAlchemy's autoflush warnings; they are about nbgrader, not the data.
    with Gradebook(f"sqlite:///{tmp}") as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        for record in records:
            if record["status"] != "graded":
                continue
            gb.update_or_create_student(record["student"])
            gb.update_or_create_submission(record["lab"], record["student"])
            for grade in record["grades"]:
                row = gb.find_grade(grade["name"], grade["notebook"], record["lab"], record["student"])
                row.auto_score = grade["auto_score"]
                row.manual_score = grade["manual_score"]
                row.needs_manual_grade = grade["needs_manual_grade"]
            gb.db.commit()
    os.replace(tmp, path)


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_tables(out: Path, records: dict, students: list[str], labs: list[str], max_scores: dict, problems) -> dict:
    """Write grades.csv, cells.csv and problems.csv; return the counts by status.

    Parameters
    ----------
    out : Path
    records : dict
        ``(student, lab)`` -> record.
    students, labs : list of str
        Every student and lab of the class: a pair without a record is missing.
    max_scores : dict
        Lab -> its points, from the template.
    problems : list of Problem
        Found while collecting (records carry their own).
    """
    grades = [["assignment", "student_id", "status", "score", "max_score", "sandboxed"]]
    cells = [["assignment", "student_id", "problem", "score", "max_score", "message"]]
    issues = [["student_id", "assignment", "graded", "problem", "action"]]
    counts = {"graded": 0, "failed": 0, "missing": 0}
    for lab in labs:
        for student in students:
            record = records.get((student, lab))
            status = record["status"] if record else "missing"
            counts[status] += 1
            score = ""
            if status == "graded":
                score = f"{sum(score_of(g) for g in record['grades']):g}"
                for g in record["grades"]:
                    message = record["messages"].get(g["name"], "")
                    cells.append([lab, student, g["name"], f"{score_of(g):g}", f"{g['max_score']:g}", message])
            sandboxed = ("yes" if record.get("sandboxed") else "no") if record else ""
            grades.append([lab, student, status, score, f"{max_scores[lab]:g}", sandboxed])
    found = all_problems(records, problems)
    rows = {(p.student, p.lab, "yes" if p.graded else "no", p.problem, p.action) for p in found}
    issues.extend(list(r) for r in sorted(rows))
    for name, table in (("grades.csv", grades), ("cells.csv", cells), ("problems.csv", issues)):
        write_text_atomic(out / name, _csv(table))
    return counts


def all_problems(records: dict, problems) -> list:
    """``problems`` found while collecting, then each record's failure and repair notes, as Problems."""
    found = list(problems)
    for (student, lab), record in sorted(records.items()):
        if record["status"] == "failed":
            found.append(Problem(student, lab, record["problem"], record["action"]))
        found.extend(Problem(student, lab, note, REPAIRED, graded=True) for note in record["notes"])
        found.extend(Problem(student, lab, text, TRUSTED, graded=True) for text in record.get("disagreements", []))
    return found


def write_files(out: Path, record: dict, autograded: bytes | None, feedback: bytes | None) -> None:
    """Put one submission's autograded notebook and feedback page in place (replacing its old ones)."""
    for folder, data, suffix in (("autograded", autograded, "ipynb"), ("feedback", feedback, "html")):
        target = out / folder / record["student"] / record["lab"]
        if target.exists():
            shutil.rmtree(target)
        if data is not None:
            target.mkdir(parents=True)
            (target / f"{record['lab']}.{suffix}").write_bytes(data)
