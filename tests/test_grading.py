"""The nbgrader pipeline, run for real on every lab: release, then autograde.

Grading happens in a temporary copy of the course, so the repository never
gets a gradebook or a submissions folder.
"""

import json
import shutil
from pathlib import Path

import pytest

from dcai_al.grading import assignments, autograde, release, score_table

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


@pytest.mark.parametrize("name", LABS)
def test_autograde_full_marks_zero_and_repeatable(released, name, tmp_path):
    subs = tmp_path / "submitted"
    for student, source in (("full", REPO / "solutions"), ("blank", released)):
        (subs / student / name).mkdir(parents=True)
        shutil.copy(source / name / f"{name}.ipynb", subs / student / name / f"{name}.ipynb")
    first = autograde(subs, root=REPO)
    second = autograde(subs, root=REPO)
    assert first == second, "grading the same submissions twice gave different scores"
    full = [r for r in first if r.student == "full"]
    blank = [r for r in first if r.student == "blank"]
    assert full and all(r.score == r.max_score > 0 for r in full), score_table(first)
    assert blank and all(r.score == 0 for r in blank), score_table(first)
    assert not (REPO / "gradebook.db").exists() and not (REPO / "submitted").exists()
