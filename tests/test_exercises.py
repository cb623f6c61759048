"""Every exercise record, as a specification: its solution passes, its mistakes are caught where students look.

One record per graded function (:mod:`dcai_al.exercises`) feeds the visible
check, the hidden test cell, the simulated class and these tests.
"""

import json
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dcai_al.checks import MAX_LINES, CheckFailed, check, check_hidden
from dcai_al.exercises import all_exercises, for_lab, get
from dcai_al.exercises.cells import BEGIN, END, expand
from dcai_al.exercises.solutions import answer_namespace, answer_sources
from dcai_al.grading import assignments

REPO = Path(__file__).resolve().parents[1]
LABS = assignments(REPO)
RECORDS = all_exercises()
MISTAKES = [(r, m) for r in RECORDS for m in r.mistakes]


def _solution(lab: str) -> dict:
    return json.loads((REPO / "solutions" / lab / f"{lab}.ipynb").read_text())


def _cells(nb: dict) -> dict:
    return {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}


@pytest.mark.parametrize("lab", LABS)
def test_every_lab_has_at_least_three_graded_functions(lab):
    assert len(for_lab(lab)) >= 3, f"{lab} grades {[r.name for r in for_lab(lab)]}"


@pytest.mark.parametrize("lab", LABS)
def test_every_graded_cell_of_a_solution_is_an_exercise_records_one_visible_line(lab):
    nb = _solution(lab)
    names = {r.name for r in for_lab(lab)}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade"):
            grade_id = meta["grade_id"]
            assert grade_id.startswith("test_") and grade_id[5:] in names, f"{lab}: {grade_id} has no exercise record"
            source = "".join(cell["source"])
            assert BEGIN not in source, f"{lab}: {grade_id} holds a hand-written hidden block; the release writes it"
            assert source.strip() == get(grade_id[5:]).visible_line


@pytest.mark.parametrize("lab", LABS)
def test_release_writes_each_hidden_block_and_the_records_points(lab):
    cells = _cells(expand(_solution(lab), lab))
    for record in for_lab(lab):
        cell = cells[record.test_cell]
        source = "".join(cell["source"])
        assert source.startswith(record.visible_line) and source.rstrip().endswith(END)
        assert f'_check_hidden("{record.name}", {record.name})' in source
        assert cell["metadata"]["nbgrader"]["points"] == record.points


def test_a_test_cell_holding_something_else_is_refused_with_its_name():
    lab = RECORDS[0].lab
    nb = _solution(lab)
    _cells(nb)[RECORDS[0].test_cell]["source"] = "assert True\n"
    with pytest.raises(ValueError, match=RECORDS[0].test_cell):
        expand(nb, lab)


@pytest.mark.parametrize("record", RECORDS, ids=[r.name for r in RECORDS])
def test_the_solution_passes_its_visible_and_hidden_cases(record, capsys):
    namespace = answer_namespace(record.lab, REPO)
    check_hidden(record.name, namespace[record.name])
    out = capsys.readouterr().out
    assert f"{record.name}: all {len(record.cases)} cases passed" in out
    assert f"{record.name}: all {len(record.hidden_cases())} hidden cases passed" in out


@pytest.mark.parametrize("record, mistake", MISTAKES, ids=[f"{r.name}: {m.story}" for r, m in MISTAKES])
def test_each_typical_mistake_fails_a_visible_case_with_its_hint(record, mistake):
    namespace = answer_namespace(record.lab, REPO, {record.name: mistake.code})
    with pytest.raises(CheckFailed) as failure:
        check(record.name, namespace[record.name])
    message = str(failure.value)
    assert mistake.says in message, f"{mistake.story}: the message does not say {mistake.says!r}:\n{message}"
    assert len(failure.value._render_traceback_()) <= MAX_LINES


@pytest.mark.parametrize("record", RECORDS, ids=[r.name for r in RECORDS])
def test_each_visible_case_says_what_it_tests_and_hidden_cases_repeat(record):
    whats = [c.what for c in record.cases]
    assert all(w.strip() for w in whats) and len(set(whats)) == len(whats), whats
    first, again = record.hidden_cases(), record.hidden_cases()
    assert first, f"{record.name} has no hidden cases"
    assert pickle.dumps(first) == pickle.dumps(again), "the hidden cases differ between two calls"


@pytest.mark.parametrize("record", RECORDS, ids=[r.name for r in RECORDS])
def test_each_record_has_typical_mistakes_and_a_signature_that_matches_the_answer_cell(record):
    assert record.mistakes, f"{record.name} lists no typical mistake"
    source = answer_sources(_solution(record.lab))[record.name]
    assert f"def {record.name}{record.signature}:" in source, f"the answer cell does not define {record.name}"
    for mistake in record.mistakes:
        assert re.search(rf"def {record.name}\(", mistake.code), f"{mistake.story}: the code never defines it"


def test_a_failing_hidden_case_reads_like_a_visible_one():
    record = get("entropy")
    namespace = {"np": np}
    # Right on every visible case (at most 4 classes) and wrong past them: only a hidden case catches it.
    exec(
        "def entropy(probs):\n    p = np.asarray(probs, dtype=float)\n"
        "    h = -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)\n"
        "    return h if p.shape[1] <= 4 else h / 2\n",
        namespace,
    )
    check(record.name, namespace["entropy"])
    with pytest.raises(CheckFailed) as failure:
        check_hidden(record.name, namespace["entropy"])
    lines = str(failure.value).splitlines()
    assert lines[0].startswith("entropy gave the wrong scores on the case: hidden case")
    assert [ln.split(":")[0].strip() for ln in lines[2:5]] == ["expected", "got", "hint"]


def test_the_exercises_command_reports_every_mistake_caught(tmp_path):
    command = [str(Path(sys.executable).parent / "dcai-al"), "exercises", "--course", str(REPO)]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for lab in LABS:
        n = sum(len(r.mistakes) for r in for_lab(lab))
        assert f"{lab}: {len(for_lab(lab))} graded functions, {n} of {n} typical mistakes caught visibly" in proc.stdout
    assert "NOT CAUGHT" not in proc.stdout
