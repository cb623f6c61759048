"""The nbgrader pipeline, run for real on every lab: release, then autograde.

Grading happens in a temporary copy of the course, so the repository never
gets a gradebook or a submissions folder.
"""

import csv
import functools
import html
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dcai_al.classroom import rehearse, students
from dcai_al.cli import main
from dcai_al.grading import assignments, release, score_table

REPO = Path(__file__).resolve().parents[1]
LABS = assignments(REPO)
FORBIDDEN = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "_reference"]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    release(LABS, root=REPO, release_dir=out)
    return out


def _notebook(folder: Path, name: str) -> dict:
    return json.loads((folder / name / f"{name}.ipynb").read_text())


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


# --- the simulated class ---------------------------------------------------
# Each lab's class (see dcai_al.classroom) is graded twice at the same time:
# once through `dcai-al rehearse`, once through the Python API. Thirty seconds
# per cell is five times the slowest cell at CI size (about 6 s): room for a slow machine.
CELL_TIMEOUT = 30


@functools.cache
def _graded_class(name: str) -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"dcai-al-graded-{name}-"))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        cli = pool.submit(main, ["rehearse", name, "--timeout", str(CELL_TIMEOUT), "--out", str(out / "first")])
        api = pool.submit(rehearse, [name], root=REPO, timeout=CELL_TIMEOUT, out=out / "second")
        exit_code, (rows, problems) = cli.result(), api.result()
    print(f"{name}: graded the class twice in {time.perf_counter() - started:.0f} s")
    return {"out": out, "exit_code": exit_code, "rows": rows, "problems": problems}


@pytest.fixture(params=LABS)
def graded(request):
    return request.param, _graded_class(request.param)


def test_every_simulated_student_gets_the_grade_and_message_they_deserve(graded):
    name, result = graded
    assert result["problems"] == [], "\n".join(result["problems"]) + "\n" + score_table(result["rows"])
    assert result["exit_code"] == 0, "`dcai-al rehearse` judged the same class differently"
    assert {r.student for r in result["rows"]} == {s.name for s in students(name)}
    assert len({s.name for s in students(name)}) >= 5


def test_grading_the_same_class_twice_gives_identical_csvs(graded):
    name, result = graded
    first, second = (result["out"] / run / "grades.csv" for run in ("first", "second"))
    assert first.read_text() == second.read_text()
    with first.open() as f:
        table = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(table) == {s.name for s in students(name)}
    assert float(table["full"]["score"]) == float(table["full"]["max_score"]) > 0
    assert float(table["blank"]["score"]) == float(table["tamperer"]["score"]) == 0
    assert table["tamperer"]["max_score"] == table["full"]["max_score"], "a student's edit changed the points"


def test_feedback_pages_show_each_student_their_failures(graded):
    name, result = graded
    feedback = result["out"] / "first" / "feedback"
    for student in students(name):
        page = feedback / student.name / name / f"{name}.html"
        assert page.is_file(), f"no feedback page for {student.name}"
        text = html.unescape(page.read_text())
        for phrase in student.says.values():
            assert phrase in text, f"{student.name}'s feedback lacks {phrase!r}"


def test_grading_leaves_the_repository_clean():
    for leftover in ("gradebook.db", "submitted", "autograded", "feedback"):
        assert not (REPO / leftover).exists()
