"""The grading pipeline, run for real: release, the documented commands, and a messy class.

Grading happens in scratch courses, so the repository never gets a
gradebook or a submissions folder. Every ``dcai-al`` command that README.md
and INSTRUCTORS.md show is run here exactly as written, from a folder that
is not the kit's.
"""

import csv
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dcai_al.classroom import expected_scores, graded_cells, rehearse, students, write_class
from dcai_al.exercises.cells import expand
from dcai_al.grading import assignments, release

REPO = Path(__file__).resolve().parents[1]
LABS = assignments(REPO)
LAB1 = "lab1-passive-vs-active"
FORBIDDEN = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "_reference"]
BIN = Path(sys.executable).parent


def _notebook(folder: Path, name: str) -> dict:
    return json.loads((folder / name / f"{name}.ipynb").read_text())


def _table(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _sh(command: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run a command line as a user types it, with the kit's venv on PATH."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg")
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _tree_hash(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    release(LABS, root=REPO, release_dir=out)
    return out


def test_there_are_labs():
    assert len(LABS) >= 1


@pytest.mark.parametrize("name", LABS)
def test_release_holds_no_solution_and_no_hidden_tests(released, name):
    nb = _notebook(released, name)
    text = json.dumps(nb)
    for marker in FORBIDDEN:
        assert marker not in text, f"{marker!r} leaked into the release of {name}"
    solution = _notebook(REPO / "solutions", name)
    answers = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    assert answers and all("raise NotImplementedError()" in "".join(c["source"]) for c in answers)
    assert len(nb["cells"]) == len(solution["cells"])
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert nb["metadata"]["kernelspec"]["name"] == "python3" and nb["nbformat"] == 4


@pytest.mark.parametrize("name", LABS)
def test_labs_folder_is_exactly_what_release_generates(released, name):
    assert _notebook(REPO / "labs", name) == _notebook(released, name), (
        f"labs/{name} differs from a fresh release: run `dcai-al release` and commit the result"
    )


# --- the documented commands, exactly as written ------------------------------------------------
def _documented_commands() -> list[str]:
    commands = []
    for doc in ("README.md", "INSTRUCTORS.md"):
        blocks = re.findall(r"```(\w*)\n(.*?)```", (REPO / doc).read_text(), re.S)
        for language, body in blocks:
            if language in ("", "sh", "bash", "console"):
                for line in body.splitlines():
                    command = line.split("  #")[0].strip()
                    if command.startswith("dcai-al "):
                        commands.append(command)
    return list(dict.fromkeys(commands))  # a command shown twice runs once


DOCUMENTED = _documented_commands()


def _lab1_students_only(folder: Path, keep) -> None:
    """Write Lab 1's simulated class into ``folder`` and keep only the students named in ``keep``."""
    write_class(LAB1, folder, release_dir=REPO / "labs", solutions_dir=REPO / "solutions")
    for student in folder.iterdir():
        if student.name not in keep:
            shutil.rmtree(student)


#: Lab 1's points in all, and what its first simulated student with typical mistakes deserves.
LAB1_POINTS = graded_cells(json.loads((REPO / "labs" / LAB1 / f"{LAB1}.ipynb").read_text()))
TOTAL = sum(LAB1_POINTS.values())
MISTAKES_A_SCORE = sum(expected_scores(next(s for s in students(LAB1) if s.name == "mistakes-a"), LAB1_POINTS).values())


@pytest.fixture(scope="module")
def instructor(tmp_path_factory):
    """A folder that is not the kit's, holding a small class in submitted/ (as INSTRUCTORS.md lays out)."""
    home = tmp_path_factory.mktemp("instructor")
    _lab1_students_only(home / "submitted", ("full", "blank", "mistakes-a"))  # keep the documented run short
    return home


@pytest.fixture(scope="module")
def ran(instructor):
    """Each documented command's result, run once from the instructor's folder."""
    results = {}
    for command in DOCUMENTED:
        results[command] = _sh(command, instructor)
    return results


def test_the_docs_show_the_grading_commands():
    assert any(c.startswith("dcai-al autograde submitted/ --out grading/") for c in DOCUMENTED)
    assert any(c.startswith("dcai-al rehearse") for c in DOCUMENTED)
    assert any(c.startswith("dcai-al release") for c in DOCUMENTED)


@pytest.mark.parametrize("command", DOCUMENTED)
def test_documented_command_works_as_written_from_another_folder(ran, command):
    result = ran[command]
    assert result.returncode == 0, (
        f"`{command}` exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


def test_autograde_prints_the_course_and_writes_relative_to_the_callers_folder(ran, instructor):
    command = next(c for c in DOCUMENTED if c.startswith("dcai-al autograde submitted/ --out grading/"))
    out = ran[command].stdout
    assert out.splitlines()[0] == f"Course: {REPO}"
    assert out.strip().splitlines()[-1] == "3 graded"
    grades = {(r["student_id"], r["status"]) for r in _table(instructor / "grading" / "grades.csv")}
    assert grades == {("full", "graded"), ("blank", "graded"), ("mistakes-a", "graded")}
    assert not (REPO / "grading").exists() and not (REPO / "submitted").exists()


def test_the_current_folder_is_the_course_when_it_is_one(tmp_path, instructor):
    course = tmp_path / "course"
    shutil.copytree(REPO / "solutions", course / "solutions")
    shutil.copy2(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    result = _sh("dcai-al release --course . lab1-passive-vs-active", course)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Course: {course}"
    assert _notebook(course / "labs", LAB1) == _notebook(REPO / "labs", LAB1)


def test_an_output_folder_it_did_not_write_is_refused_untouched(tmp_path, instructor):
    (tmp_path / "grading").mkdir()
    (tmp_path / "grading" / "notes.txt").write_text("mine")
    shutil.copytree(instructor / "submitted" / "full", tmp_path / "submitted" / "full")
    result = _sh("dcai-al autograde submitted/ --out grading/", tmp_path)
    assert result.returncode == 2 and "was not written by `dcai-al autograde`" in result.stderr
    assert [p.name for p in (tmp_path / "grading").iterdir()] == ["notes.txt"]


# --- the simulated class of every lab, through `dcai-al rehearse` as documented ----------------
@pytest.fixture(scope="module")
def rehearsal(ran, instructor):
    command = next(c for c in DOCUMENTED if c.startswith("dcai-al rehearse"))
    assert ran[command].returncode == 0, ran[command].stdout[-3000:] + ran[command].stderr[-3000:]
    assert "Every simulated student got the grade and the message they deserve." in ran[command].stdout
    return instructor / command.split("--out ")[1].split()[0]


def _hidden_lines(lab: str) -> list[str]:
    """Lines of the lab's hidden tests that the visible part does not also have."""
    hidden, visible, inside = [], set(), False
    for cell in expand(_notebook(REPO / "solutions", lab), lab)["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                inside = "BEGIN" in line
            elif inside and len(line.strip()) > 12:
                hidden.append(line.strip())
            else:
                visible.add(line.strip())
    return [h for h in hidden if h not in visible and not h.startswith("#")]


def _page_text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


@pytest.mark.parametrize("lab", LABS)
def test_feedback_shows_each_student_their_failures_and_no_hidden_test(rehearsal, lab):
    hidden = _hidden_lines(lab)
    assert hidden, f"{lab} has no hidden tests to look for"
    for student in students(lab):
        page = rehearsal / "feedback" / student.name / lab / f"{lab}.html"
        assert page.is_file(), f"no feedback page for {student.name}"
        text = _page_text(page)
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{student.name}'s {lab} feedback shows hidden tests: {leaked[:3]}"
        for phrase in student.says.values():
            assert phrase in text, f"{student.name}'s feedback lacks {phrase!r}"
        assert "<math" in page.read_text(), "the lab's math is not written as MathML"


def test_rehearsal_grades_every_lab_and_warns_nobody_honest_about_checksums(rehearsal):
    table = _table(rehearsal / "grades.csv")
    assert {r["assignment"] for r in table} == set(LABS)
    for lab in LABS:  # every simulated student of a lab is graded; the other labs' extra students are missing
        names = {s.name for s in students(lab)}
        rows = [r for r in table if r["assignment"] == lab]
        assert {r["student_id"] for r in rows if r["status"] == "graded"} == names
        assert all(r["status"] == "missing" for r in rows if r["student_id"] not in names)
    problems = _table(rehearsal / "problems.csv")
    assert {p["student_id"] for p in problems} == {"tamperer"}, "only the tamperer edited locked cells"


def _reformatted(code: str) -> str:
    """``code`` as another hand would write it: ruff at 60 columns, single quotes, a comment on top."""
    ruff = [str(BIN / "ruff"), "format", "--line-length", "60", "--config", "format.quote-style='single'", "-"]
    lines = code.splitlines(keepends=True)
    magics = [ln for ln in lines if ln.lstrip().startswith(("%", "!"))]  # ruff formats Python only
    body = "".join(ln for ln in lines if ln not in magics)
    formatted = subprocess.run(ruff, input=body, capture_output=True, text=True, check=True).stdout
    return "".join(magics) + "# reformatted by hand\n" + formatted


def test_reformatting_every_solution_keeps_the_rehearsal_passing(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    for lab in LABS:
        nb = _notebook(REPO / "solutions", lab)
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if cell["cell_type"] == "code" and meta.get("solution"):
                cell["source"] = _reformatted("".join(cell["source"]))
        (course / "solutions" / lab).mkdir(parents=True)
        (course / "solutions" / lab / f"{lab}.ipynb").write_text(json.dumps(nb, indent=1))
    release(root=course)
    rows, problems = rehearse(root=course, timeout=30)
    assert not problems, "\n".join(problems)
    assert {r.assignment for r in rows} == set(LABS)


# --- a messy class: each faulty notebook costs its student alone --------------------------------
def _lab1_class(folder: Path) -> dict:
    """Honest students beside each kind of broken submission; returns the score each deserves (None: failed)."""
    _lab1_students_only(folder, ("full", "mistakes-a"))
    full = json.loads((folder / "full" / LAB1 / f"{LAB1}.ipynb").read_text())

    def write(student: str, nb=None, *, name=f"{LAB1}.ipynb", raw=None):
        target = folder / student / LAB1
        target.mkdir(parents=True)
        (target / name).write_bytes(raw if raw is not None else json.dumps(nb, indent=1).encode())

    def edited(change):
        nb = json.loads(json.dumps(full))
        change(nb, {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]})
        return nb

    def answer(cell_id: str, code: str):
        return lambda nb, cells: cells[cell_id].update(source="".join(cells[cell_id]["source"]) + code)

    # Correct, but numpy warns "divide by zero encountered in log" on every zero probability.
    warning_entropy = (
        "def entropy(probs):\n    p = np.asarray(probs, float)\n    return -np.nansum(p * np.log(p), axis=1)\n"
    )
    write("renamed", full, name=f"{LAB1} (1).ipynb")
    write("not-json", raw=b'{"cells": [ {"cell_type": "code",')
    write("empty", raw=b"")
    write("warns", edited(lambda nb, cells: cells["entropy"].update(source=warning_entropy)))
    write("exits", edited(answer("least_confidence", "\nimport os\nos._exit(0)\n")))
    write("kills-parent", edited(answer("margin", "\nimport os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")))
    write("loops", edited(answer("binary_search_query", "\nwhile True:\n    pass\n")))
    write("new-grade-id", edited(lambda nb, cells: cells["test_entropy"]["metadata"]["nbgrader"].update(grade_id="x")))
    write("duplicated", edited(lambda nb, cells: nb["cells"].insert(5, json.loads(json.dumps(cells["test_entropy"])))))
    write("deleted", edited(lambda nb, cells: nb["cells"].remove(cells["test_margin"])))
    write("reordered", edited(lambda nb, cells: nb["cells"].insert(0, nb["cells"].pop(2))))
    write("retyped", edited(lambda nb, cells: cells["test_least_confidence"].update(cell_type="markdown")))

    def metadata(nb, cells):
        cells["test_margin"]["metadata"]["nbgrader"]["points"] = 50
        nb["metadata"]["kernelspec"]["name"] = "evil"

    write("metadata", edited(metadata))
    (folder / "absent").mkdir()
    (folder / "stray" / "lab9").mkdir(parents=True)
    honest = ("full", "renamed", "warns", "loops", "new-grade-id", "duplicated", "deleted", "reordered", "retyped")
    return {
        **dict.fromkeys(honest, TOTAL),
        "mistakes-a": MISTAKES_A_SCORE,
        "metadata": TOTAL,
        "kills-parent": TOTAL,  # in the sandbox its parent is the sandbox's init, which ignores the signal
        "not-json": None, "empty": None, "exits": None,
    }  # fmt: skip


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    home = tmp_path_factory.mktemp("messy")
    deserved = _lab1_class(home / "submitted")
    before = _tree_hash(home / "submitted")
    first = _sh("dcai-al autograde submitted/ --out grading/ --timeout 10 --no-progress", home)
    again = _sh("dcai-al autograde submitted/ --out grading/ --timeout 10 --no-progress", home)
    forced = _sh("dcai-al autograde submitted/ --out regraded/ --timeout 10 --no-progress --force", home)
    return {"home": home, "deserved": deserved, "before": before, "first": first, "again": again, "forced": forced}


def test_every_honest_student_gets_their_score_whatever_the_others_did(messy):
    grades = {r["student_id"]: r for r in _table(messy["home"] / "grading" / "grades.csv")}
    for student, score in messy["deserved"].items():
        row = grades[student]
        if score is None:
            assert row["status"] == "failed" and row["score"] == "", f"{student}: {row}"
        else:
            assert row["status"] == "graded" and float(row["score"]) == score, f"{student}: {row}"
            assert row["sandboxed"] == "yes"
        assert float(row["max_score"]) == TOTAL
    assert grades["absent"]["status"] == "missing" and grades["absent"]["score"] == ""


def test_each_faulty_submission_is_named_in_problems_csv(messy):
    problems = _table(messy["home"] / "grading" / "problems.csv")
    said = {}
    for p in problems:
        said.setdefault(p["student_id"], []).append((p["graded"], p["problem"]))
    expect = {
        "not-json": ("no", "not valid JSON"),
        "empty": ("no", "empty"),
        "exits": ("no", "kernel died"),
        "renamed": ("yes", "graded it as"),
        "new-grade-id": ("yes", "ordinary cell"),
        "duplicated": ("yes", "appears twice"),
        "deleted": ("yes", "was deleted"),
        "retyped": ("yes", "its type"),
        "metadata": ("yes", "nbgrader metadata"),
        "stray": ("no", "not a lab of this course"),
    }
    for student, (graded, phrase) in expect.items():
        assert any(g == graded and phrase in text for g, text in said.get(student, [])), (
            f"{student}: {said.get(student)}"
        )
    assert not {"full", "mistakes-a", "warns", "reordered", "kills-parent"} & set(said), "the honest are fine"


def test_the_run_ends_with_a_summary_and_fails_only_for_what_could_not_be_graded(messy):
    first = messy["first"]
    assert first.returncode == 1, first.stderr[-2000:]
    assert first.stdout.strip().splitlines()[-1] == (
        "12 graded, 2 missing (never handed in), 3 could not be graded: see grading/problems.csv"
    )


def test_the_submissions_are_left_byte_identical(messy):
    assert _tree_hash(messy["home"] / "submitted") == messy["before"]


def test_a_rerun_grades_nothing_unchanged_and_a_forced_regrade_gives_identical_csvs(messy):
    again = messy["again"]
    assert "0 notebooks graded, 15 unchanged since the last run" in again.stdout, again.stdout[-1500:]
    for name in ("grades.csv", "cells.csv", "problems.csv"):
        first = (messy["home"] / "grading" / name).read_text()
        assert first == (messy["home"] / "regraded" / name).read_text(), f"{name} differs on a regrade"


def test_without_the_sandbox_a_notebook_that_kills_its_worker_costs_only_itself(messy, tmp_path):
    home = messy["home"]
    for student in ("full", "kills-parent"):
        shutil.copytree(home / "submitted" / student, tmp_path / "submitted" / student)
    result = _sh("dcai-al autograde submitted/ --out grading/ --timeout 10 --no-progress --no-sandbox", tmp_path)
    assert result.returncode == 1 and "WARNING: --no-sandbox" in result.stderr
    grades = {r["student_id"]: r for r in _table(tmp_path / "grading" / "grades.csv")}
    assert grades["full"]["status"] == "graded" and float(grades["full"]["score"]) == TOTAL
    assert grades["full"]["sandboxed"] == "no"
    assert grades["kills-parent"]["status"] == "failed"
    problems = {p["student_id"]: p["problem"] for p in _table(tmp_path / "grading" / "problems.csv")}
    assert "grading process died twice" in problems["kills-parent"]


def test_a_class_can_be_graded_on_an_existing_dask_cluster(messy, tmp_path):
    from distributed import LocalCluster

    for student in ("full", "mistakes-a"):
        shutil.copytree(messy["home"] / "submitted" / student, tmp_path / "submitted" / student)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        flags = f"--timeout 10 --no-progress --scheduler {cluster.scheduler_address}"
        result = _sh(f"dcai-al autograde submitted/ --out grading/ {flags}", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    grades = {r["student_id"]: float(r["score"]) for r in _table(tmp_path / "grading" / "grades.csv")}
    assert grades == {"full": TOTAL, "mistakes-a": MISTAKES_A_SCORE}


def test_grading_refuses_to_run_unsandboxed_unless_told(tmp_path, monkeypatch):
    from dcai_al import grading, sandbox

    monkeypatch.setattr(sandbox, "available", lambda: False)
    (tmp_path / "submitted" / "ann").mkdir(parents=True)
    with pytest.raises(sandbox.SandboxUnavailable, match="--no-sandbox"):
        grading.autograde(tmp_path / "submitted", root=REPO)


def test_the_merged_gradebook_is_nbgraders_own(messy, tmp_path):
    db = messy["home"] / "grading" / "gradebook.db"
    result = _sh(f"nbgrader export --CourseDirectory.db_url=sqlite:///{db} --to={tmp_path / 'export.csv'}", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    exported = {r["student_id"]: float(r["score"]) for r in _table(tmp_path / "export.csv")}
    for student, score in messy["deserved"].items():
        if score is not None:
            assert exported[student] == score


def test_grading_leaves_the_repository_clean():
    for leftover in ("gradebook.db", "submitted", "autograded", "feedback", "grading"):
        assert not (REPO / leftover).exists()
