"""What a student sees in a notebook when a check fails: the message, in a few lines, and nothing on stderr.

An executed notebook's error output is what JupyterLab shows and what nbgrader's feedback HTML renders
(its ``traceback`` field), so the test reads that field from a real kernel.
"""

import html
import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from dcai_al.checks import MAX_LINES

CELLS = {
    "setup": "import numpy as np\nfrom dcai_al import checks",
    "wrong": "def entropy(p):\n    return (p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)\n\n"
    'checks.check("entropy", entropy)',
    "unfinished": 'def entropy(p):\n    raise NotImplementedError()\n\nchecks.check("entropy", entropy)',
    "looping": "def entropy(p):\n    while True:\n        pass\n\n"
    "checks.call_student(entropy, np.eye(2), exercise='entropy', case='a loop', time_limit=0.5)",
    "warns": "def entropy(p):\n    return -(p * np.nan_to_num(np.log(p))).sum(axis=1)\n\n"
    'checks.check_hidden("entropy", entropy)',
    # Right on the visible cases (up to 4 classes), wrong on wider rows: the hidden test says so the same way.
    "hidden": "def entropy(p):\n    h = -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)\n"
    '    return h if p.shape[1] <= 4 else h / 2\n\nchecks.check_hidden("entropy", entropy)',
}


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS.values()])
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    return nb


@pytest.fixture(scope="module")
def outputs(executed):
    return {name: cell.outputs for name, cell in zip(CELLS, executed.cells, strict=True)}


@pytest.mark.parametrize("cell", ["wrong", "unfinished", "looping", "hidden"])
def test_a_failing_check_shows_its_message_in_a_few_lines_without_kit_frames(outputs, cell):
    (error,) = [out for out in outputs[cell] if out.output_type == "error"]
    shown = "\n".join(error.traceback).splitlines()
    assert len(shown) <= MAX_LINES, shown
    assert not any("dcai_al/" in line or "During handling" in line or "Traceback" in line for line in shown), shown
    assert error.ename == "CheckFailed" and "entropy" in error.evalue  # the grading code reads ename: evalue


def test_the_whole_message_stays_in_the_error_value(outputs):
    (error,) = [out for out in outputs["wrong"] if out.output_type == "error"]
    for part in ("on the case", "expected:", "got:", "hint:", "minus sign"):
        assert part in error.evalue


def test_a_correct_answer_that_makes_numpy_warn_writes_nothing_to_stderr(outputs):
    streams = {out.name: out.text for out in outputs["warns"] if out.output_type == "stream"}
    assert "stderr" not in streams, streams["stderr"]  # nbgrader gives 0 points to a cell that writes to stderr
    assert "entropy: all 5 cases passed" in streams["stdout"] and "hidden cases passed" in streams["stdout"]


def _feedback_html(nb) -> str:
    """The notebook as nbgrader 0.9's feedback page renders it (its template, as GenerateFeedback configures it)."""
    import nbgrader
    from nbconvert.exporters import HTMLExporter

    formgrader = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
    exporter = HTMLExporter(
        template_name="feedback",
        extra_template_basedirs=[os.path.join(formgrader, "templates")],
        extra_template_paths=[os.path.join(formgrader, "static", "node_modules", "bootstrap", "dist", "css")],
    )
    resources = {"nbgrader": {"notebook": "lab", "score": 0, "max_score": 1, "late_penalty": 0}}
    return exporter.from_notebook_node(nb, resources=resources)[0]


def test_the_feedback_page_shows_each_failure_in_a_few_lines_without_kit_frames(executed):
    page = _feedback_html(executed)
    errors = re.findall(r'output_error">\s*<pre>(.*?)</pre>', page, flags=re.S)
    assert len(errors) == 4  # wrong, unfinished, looping, hidden
    for error in errors:
        text = html.unescape(re.sub(r"<[^>]+>", "", error)).strip()
        assert text.startswith("CheckFailed: ") and len(text.splitlines()) <= MAX_LINES, text
        assert "dcai_al/" not in text and "During handling" not in text
