"""What `make lab` gives students: Validate without nbgrader's instructor panels, and a quick Validate."""

import json
import os
import subprocess
import sys
from pathlib import Path

from dcai_al.classroom import write_class

REPO = Path(__file__).resolve().parents[1]
STUDENT = REPO / "jupyter" / "student"
LAB = "lab1-passive-vs-active"
LABEXT = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader"


def test_make_lab_points_jupyter_at_the_student_settings():
    assert 'JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter/student"' in (REPO / "Makefile").read_text()


def test_the_instructor_panels_are_disabled_and_validate_is_not(monkeypatch):
    from jupyterlab_server.config import get_static_page_config

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(STUDENT))
    disabled = get_static_page_config().get("disabledExtensions", {})
    for plugin in ("create-assignment", "course-list", "assignment-list", "menu"):
        assert disabled.get(f"@jupyter/nbgrader:{plugin}") is True
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    code = "".join(p.read_text() for p in (LABEXT / "static").glob("*.js"))
    for plugin in disabled:  # the ids are nbgrader's own, so a rename in nbgrader shows up here
        assert f'id:"{plugin}"' in code, plugin


def test_the_formgrader_server_extension_is_off_for_students():
    own = json.loads((Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/nbgrader.json").read_text())
    ours = json.loads((STUDENT / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert set(ours) <= set(own["ServerApp"]["jpserver_extensions"])
    assert ours["nbgrader.server_extensions.formgrader"] is False
    assert "nbgrader.server_extensions.validate_assignment" not in ours


def test_validate_runs_the_tests_and_skips_the_experiments(tmp_path):
    write_class(LAB, tmp_path, release_dir=REPO / "labs", solutions_dir=REPO / "solutions")
    path = tmp_path / "full" / LAB / f"{LAB}.ipynb"
    nb = json.loads(path.read_text())
    log = tmp_path / "ran.txt"
    spy = (  # an answer cell may hold any code: this one logs the grade id of every cell run after it
        "\nget_ipython().events.register('pre_run_cell', lambda info: open("
        f"{str(log)!r}, 'a').write(info.raw_cell.splitlines()[0] + '\\n'))\n"
    )
    first = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    first["source"] = "".join(first["source"]) + spy
    path.write_text(json.dumps(nb))
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(STUDENT), MPLBACKEND="Agg")
    validate = [sys.executable, "-m", "nbgrader", "validate", str(path)]
    result = subprocess.run(validate, cwd=REPO, env=env, capture_output=True, text=True)
    assert "Success! Your notebook passes all the tests." in result.stdout, result.stdout[-2000:] + result.stderr
    ran = log.read_text().splitlines()
    experiments = [c for c in nb["cells"] if "experiment" in c["metadata"].get("tags", [])]
    assert experiments and not {"".join(c["source"]).splitlines()[0] for c in experiments} & set(ran)
    assert any(line.startswith("checks.check(") for line in ran), "the test cells ran"
