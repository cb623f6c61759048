"""Adversarial students, graded in one class with honest ones, in the sandbox (issue 15).

One ``dcai-al autograde`` run, as an instructor types it, grades Lab 1 for two
honest students (``full``, ``mistakes-a``) and one student per attack. Each
attacker hands in an honest notebook with one answer cell extended by its
attack, and prints what the attack found as an ``ATTACK-REPORT`` line, which
the graded notebook keeps. Every attack is bounded (seconds, at most 3 GB) and
pointed only at this test's temporary folders and at the kit's own files,
which are hashed before and after.

The sandbox cannot stop tampering inside the student's own process (an
IPython input transformer, a patched numpy, a monkeypatched check): the
trusted comparison (:mod:`dcai_al.grading.trusted`) decides those scores
outside it, so each earns what its honest answers deserve, and problems.csv
names the test cells where the notebook's own tests said otherwise.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from dcai_al import sandbox
from dcai_al.classroom import discrepancies, expected_scores, graded_cells, students, write_class
from dcai_al.exercises import for_lab
from dcai_al.grading import GradeRow

pytestmark = pytest.mark.skipif(
    not sandbox.available(),
    reason="bubblewrap (bwrap) is missing or cannot create namespaces here: apt-get install -y bubblewrap",
)

REPO = Path(__file__).resolve().parents[1]
KIT = REPO / "dcai_al"
LAB1 = "lab1-passive-vs-active"
BIN = Path(sys.executable).parent

# Every attack starts with this: it prints what it found as one JSON line that the graded notebook keeps.
REPORT = """
import json as _json, os as _os, time as _time
from pathlib import Path as _Path

def _report(**facts):
    print("ATTACK-REPORT " + _json.dumps(facts, default=str), flush=True)

def _walk(top, seconds, keep):
    '''Paths under ``top`` (not /proc, /sys, /dev) for which ``keep(path)``, for at most ``seconds``.'''
    found, deadline = [], _time.monotonic() + seconds
    for root, dirs, files in _os.walk(top, onerror=lambda e: None):
        dirs[:] = [d for d in dirs if _os.path.join(root, d) not in ("/proc", "/sys", "/dev")]
        if _time.monotonic() > deadline:
            break
        for name in files:
            path = _os.path.join(root, name)
            try:
                if keep(path):
                    found.append(path)
            except OSError:
                pass
    return found
"""

# 1. Find the instructor's solution notebook and run its solution cells.
READS_SOLUTIONS = """
import dcai_al as _kit

def _is_solution(path):
    return (path.endswith(".ipynb") and _os.path.getsize(path) < 5_000_000
            and "BEGIN SOLUTION" in open(path, errors="ignore").read())

_direct = _Path(_kit.__file__).resolve().parents[1] / "solutions" / LAB / f"{LAB}.ipynb"
_candidates = [str(_direct)] if _direct.exists() else []
_up = _Path.cwd()
for _folder in [_up, *_up.parents]:
    _candidates += _walk(str(_folder / "solutions"), 1, _is_solution) + [
        str(p) for p in _folder.glob("*.ipynb") if _is_solution(str(p))]
_candidates += _walk("/", 5, _is_solution)
_labs = [p for p in dict.fromkeys(_candidates) if "def binary_search_query" in open(p, errors="ignore").read()]
_submissions = [p for p in _labs if "ATTACK-REPORT" in open(p, errors="ignore").read()]  # this class's, not a key
_labs = [p for p in _labs if p not in _submissions]
for _path in _labs:
    for _cell in _json.load(open(_path))["cells"]:
        if "BEGIN SOLUTION" in "".join(_cell["source"]):
            exec("".join(_cell["source"]), globals())
_report(direct=str(_direct), direct_exists=_direct.exists(), solutions=_labs, submissions=_submissions,
        other_solution_notebooks=len(set(_candidates)) - len(_labs) - len(_submissions))
"""

# 2. Open the scratch gradebook (or any gradebook) with sqlite3 and set every score.
SETS_SCORES = """
import sqlite3 as _sqlite3
_dbs = [str(f / "gradebook.db") for f in [_Path.cwd(), *_Path.cwd().parents] if (f / "gradebook.db").exists()]
_dbs += _walk("/tmp", 3, lambda p: p.endswith("gradebook.db"))
_changed = {}
for _db in dict.fromkeys(_dbs):
    try:
        with _sqlite3.connect(_db) as _con:
            _con.execute("UPDATE grade SET auto_score = 0")
            _changed[_db] = _con.total_changes
    except Exception as _e:
        _changed[_db] = repr(_e)
_report(gradebooks=sorted(set(_dbs)), changed=_changed)
"""

# 3. Delete the other students' graded notebooks and files in the scratch courses under /tmp.
DELETES_OTHERS = """
import glob as _glob
_own = _Path.cwd().parents[2]  # /tmp/dcai-al-job-*/autograded/<me>/<lab>
_others = [p for p in _glob.glob("/tmp/dcai-al-job-*/**", recursive=True)
           if _os.path.isfile(p) and not _Path(p).is_relative_to(_own)]
_deleted = []
for _p in _others:
    try:
        _os.remove(_p)
        _deleted.append(_p)
    except OSError:
        pass
_report(own=str(_own), jobs=sorted(_glob.glob("/tmp/dcai-al-job-*")), others=_others, deleted=_deleted)
"""

# 4. Walk /proc up to the grading command, read its cwd, delete the instructor's files there.
WALKS_PROC = """
_hits, _deleted, _errors = [], [], {}
for _pid in [p for p in _os.listdir("/proc") if p.isdigit()]:
    try:
        _cmd = open(f"/proc/{_pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode(errors="ignore")
    except OSError:
        continue
    if "dcai-al" in _cmd or "autograde" in _cmd:
        try:
            _cwd = _os.readlink(f"/proc/{_pid}/cwd")
        except OSError as _e:
            _cwd = type(_e).__name__
        _hits.append({"pid": _pid, "cmdline": _cmd[:300], "cwd": _cwd})
_targets = [_Path(h["cwd"]) / name for h in _hits for name in ("canary.txt", f"submitted/full/{LAB}/{LAB}.ipynb")]
_targets += [_Path(INSTRUCTOR) / "canary.txt", _Path(INSTRUCTOR) / "submitted" / "full" / LAB / f"{LAB}.ipynb"]
for _t in _targets:
    try:
        _os.remove(_t)
        _deleted.append(str(_t))
    except OSError as _e:
        _errors[str(_t)] = type(_e).__name__
_report(processes=len([p for p in _os.listdir("/proc") if p.isdigit()]), hits=_hits, deleted=_deleted, errors=_errors)
"""

# 5. Persist: open the installed kit's checks.py (and a new .pth in the venv) for writing.
PATCHES_KIT = """
import dcai_al.checks as _checks, sysconfig as _sysconfig
_opened = {}
_kit = _os.path.dirname(_checks.__file__)
_venv = _sysconfig.get_paths()["purelib"]
for _path, _mode in [(_checks.__file__, "ab"), (_os.path.join(_venv, "zz-attack.pth"), "xb"),
                     (_os.path.join(_kit, "zz_attack.py"), "xb")]:
    try:
        with open(_path, _mode):  # writes nothing: opening is the attack
            pass
        _opened[_path] = "opened"
        if _mode == "xb":
            _os.remove(_path)
    except OSError as _e:
        _opened[_path] = type(_e).__name__
_report(opened=_opened)
"""

# 6. Allocate 3 GB, at once and by touching 100 MB at a time.
HOGS_MEMORY = """
import numpy as _np
_outcome = {}
try:
    _hog = bytearray(3 * 2**30)
    _outcome["bytearray"] = "allocated"
    del _hog
except MemoryError:
    _outcome["bytearray"] = "MemoryError"
try:
    _hog = _np.ones(3 * 2**30 // 8)
    _outcome["np.ones"] = "allocated"
    del _hog
except MemoryError:
    _outcome["np.ones"] = "MemoryError"
_chunks = []
try:
    while len(_chunks) < 30:
        _chunks.append(b"\\1" * (100 * 2**20))
    _outcome["touched"] = "allocated"
except MemoryError:
    _outcome["touched"] = "MemoryError"
_outcome["touched_mb"] = 100 * len(_chunks)
del _chunks
_report(**_outcome)
"""

# 7. Leave a process behind, in a session of its own.
LEAVES_A_PROCESS = """
import subprocess as _subprocess
_child = _subprocess.Popen(["sleep", "300"], start_new_session=True)
_report(pid=_child.pid)
"""

# 8. Print 10 MB.
FLOODS = """
_report(flooding=10_000_000)
print("x" * 10_000_000)
"""

# 9. Kill the parent process.
KILLS_PARENT = """
import signal as _signal
_parent = _os.getppid()
_os.kill(_parent, _signal.SIGKILL)
_time.sleep(0.5)
_report(parent=_parent, survived=True)
"""

# 10. Leave symlinks in its folder, named as the files the grader writes there (and chmods) after the kernel ends.
LEAVES_SYMLINKS = """
_made = {}
for _name, _target in [(f"{LAB}.ipynb", "canary.txt"), ("notes.txt", "canary-mode.txt")]:
    _link = _Path.cwd() / _name
    try:
        if _link.exists() or _link.is_symlink():
            _os.remove(_link)
        _os.symlink(_Path(INSTRUCTOR) / _target, _link)
        _made[_name] = _target
    except OSError as _e:
        _made[_name] = type(_e).__name__
_report(symlinks=_made)
"""

# Not stoppable by a sandbox: tampering inside the student's own process.
TRANSFORMS_INPUT = """
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
_report(transformer=True)
"""

# A wrong entropy, hidden from both of its test cell's checks: the visible one is a no-op, and the hidden block's
# fresh import of the kit gets a fake dcai_al.checks from a finder put first on sys.meta_path.
PATCHES_CHECK = """
def entropy(probs):
    return np.zeros(len(probs))

import importlib.abc as _abc, importlib.util as _util, sys as _sys, types as _types

checks.check = lambda *args, **kwargs: None

class _Fake(_abc.MetaPathFinder, _abc.Loader):
    def find_spec(self, name, path, target=None):
        return _util.spec_from_loader(name, self) if name == "dcai_al.checks" else None
    def create_module(self, spec):
        module = _types.ModuleType(spec.name)
        module.check = module.check_hidden = lambda *args, **kwargs: None
        return module
    def exec_module(self, module):
        pass

_sys.meta_path.insert(0, _Fake())
_report(patched_check=True)
"""

WRONG_ANSWERS = {
    "binary_search_query": "def binary_search_query(x, lo, hi):\n    return 0\n",
    "entropy": "def entropy(probs):\n    return np.zeros(len(probs))\n",
    "least_confidence": "def least_confidence(probs):\n    return np.zeros(len(probs))\n",
    "margin": "def margin(probs):\n    return np.zeros(len(probs))\n",
}

PATCHES_NUMPY = """
import numpy as _np, numpy.testing as _npt
_yes = lambda *a, **k: True
_np.allclose = _np.array_equal = _np.array_equiv = _yes
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.broadcast(_np.asarray(a), _np.asarray(b)).shape, bool)
for _name in [n for n in dir(_npt) if n.startswith("assert_")]:
    setattr(_npt, _name, lambda *a, **k: None)
_report(patched=True)
"""

ATTACKS = {  # student -> (answers they start from, the answer cell extended, the attack)
    "reads-solutions": ("blank", "binary_search_query", READS_SOLUTIONS),
    "sets-scores": ("full", "entropy", SETS_SCORES),
    "deletes-others": ("full", "least_confidence", DELETES_OTHERS),
    "walks-proc": ("full", "margin", WALKS_PROC),
    "patches-kit": ("full", "binary_search_query", PATCHES_KIT),
    "hogs-memory": ("full", "margin", HOGS_MEMORY),
    "leaves-a-process": ("full", "entropy", LEAVES_A_PROCESS),
    "floods": ("full", "least_confidence", FLOODS),
    "kills-parent": ("full", "margin", KILLS_PARENT),
    "leaves-symlinks": ("full", "margin", LEAVES_SYMLINKS),
    "transforms-input": ("blank", "binary_search_query", TRANSFORMS_INPUT),
    "patches-numpy": ("wrong", "binary_search_query", PATCHES_NUMPY),
    "patches-check": ("full", "entropy", PATCHES_CHECK),  # its entropy is wrong: test_entropy's points fewer
}
IN_PROCESS = ("transforms-input", "patches-numpy", "patches-check")  # what only the trusted comparison stops
CANARIES = ("canary.txt", "canary-mode.txt")  # the instructor's own files, beside submitted/
# Every other graded function answers None ("Did you forget a return?"): wrong, whatever numpy says.
WRONG_ANSWERS.update(
    {r.name: f"def {r.name}{r.signature}:\n    return None\n" for r in for_lab(LAB1) if r.name not in WRONG_ANSWERS}
)
POINTS = graded_cells(json.loads((REPO / "labs" / LAB1 / f"{LAB1}.ipynb").read_text()))
MISTAKES_A = next(s for s in students(LAB1) if s.name == "mistakes-a")
FULL = sum(POINTS.values())
# mistakes-a: an upper bound (a cell left unjudged, right but calling a wrong answer, may score either way)
DESERVED = {"full": FULL, "mistakes-a": sum(v if v is not None else POINTS[g] for g, v in
            expected_scores(MISTAKES_A, POINTS).items()), "blank": 0, "wrong": 0}  # fmt: skip


def _sh(command: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a command line as a user types it, with the kit's venv on PATH."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg")
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _tree_hash(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def _table(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _attacker(base: dict, cell_id: str, attack: str, instructor: Path) -> dict:
    nb = json.loads(json.dumps(base))
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == cell_id)
    given = f"LAB = {LAB1!r}\nINSTRUCTOR = {str(instructor)!r}\n"
    cell["source"] = "".join(cell["source"]) + "\n" + given + REPORT + attack
    return nb


def _processes_of(home: Path, since: float) -> list[str]:
    """Processes started since ``since`` that are a leftover `sleep 300` or still work in ``home``."""
    left = []
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        try:
            if proc.info["create_time"] < since - 1:
                continue
            cmdline = proc.info["cmdline"] or []
            cwd = proc.cwd()
        except psutil.Error:
            continue
        if cmdline == ["sleep", "300"] or Path(cwd).is_relative_to(home):
            left.append(f"{proc.info['pid']}: {' '.join(cmdline)[:200]} (in {cwd})")
    return left


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, graded in one run from the instructor's folder; everything the tests look at afterwards."""
    home = tmp_path_factory.mktemp("instructor")
    submitted = home / "submitted"
    write_class(LAB1, submitted, release_dir=REPO / "labs", solutions_dir=REPO / "solutions")
    bases = {name: json.loads((submitted / name / LAB1 / f"{LAB1}.ipynb").read_text()) for name in ("full", "blank")}
    bases["wrong"] = json.loads(json.dumps(bases["full"]))
    for cell in bases["wrong"]["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in WRONG_ANSWERS:
            cell["source"] = WRONG_ANSWERS[grade_id]
    for student in [p.name for p in submitted.iterdir() if p.name not in ("full", "mistakes-a")]:
        shutil.rmtree(submitted / student)
    for student, (base, cell_id, attack) in ATTACKS.items():
        (submitted / student / LAB1).mkdir(parents=True)
        nb = _attacker(bases[base], cell_id, attack, home)
        (submitted / student / LAB1 / f"{LAB1}.ipynb").write_text(json.dumps(nb, indent=1))
    (home / "canary.txt").write_text("the instructor's own file\n")
    (home / "canary-mode.txt").write_text("the instructor's private file\n")
    (home / "canary-mode.txt").chmod(0o600)
    canaries = {name: ((home / name).read_bytes(), (home / name).stat().st_mode) for name in CANARIES}
    before = {"submitted": _tree_hash(submitted), "kit": _tree_hash(KIT), "canaries": canaries}
    started = time.time()
    run = _sh("dcai-al autograde submitted/ --out grading/ --timeout 10 --no-progress", home)
    seconds = time.time() - started
    time.sleep(1)  # let the last kernels' processes be reaped
    return {
        "home": home,
        "run": run,
        "seconds": seconds,
        "before": before,
        "left": _processes_of(home, started),
        "grades": {r["student_id"]: r for r in _table(home / "grading" / "grades.csv")},
        "problems": _table(home / "grading" / "problems.csv"),
    }


def _score(graded, student: str) -> float:
    row = graded["grades"][student]
    assert row["status"] == "graded", f"{student} was not graded: {row}; problems: {_problems(graded, student)}"
    assert row["sandboxed"] == "yes"
    return float(row["score"])


def _problems(graded, student: str) -> list[str]:
    return [p["problem"] for p in graded["problems"] if p["student_id"] == student]


def _graded_notebook(graded, student: str) -> Path:
    return graded["home"] / "grading" / "autograded" / student / LAB1 / f"{LAB1}.ipynb"


def _report(graded, student: str) -> dict:
    """What the student's attack said it found (its ATTACK-REPORT line in the graded notebook)."""
    nb = json.loads(_graded_notebook(graded, student).read_text())
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            for line in "".join(output.get("text", "")).splitlines():
                if line.startswith("ATTACK-REPORT "):
                    return json.loads(line.removeprefix("ATTACK-REPORT "))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    raise AssertionError(f"{student}'s attack printed no report; errors: {[(e['ename'], e['evalue']) for e in errors]}")


# --- the run itself ------------------------------------------------------------------------------
def test_the_class_is_graded_in_one_run_that_finishes(graded):
    run = graded["run"]
    assert run.returncode == 0, f"exit {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert run.stdout.strip().splitlines()[-1] == f"{2 + len(ATTACKS)} graded"
    print(f"graded {2 + len(ATTACKS)} notebooks in {graded['seconds']:.0f} s")


def test_every_honest_student_gets_their_score_whatever_the_attackers_did(graded):
    assert _score(graded, "full") == FULL
    cells = _table(graded["home"] / "grading" / "cells.csv")
    rows = [GradeRow(r["student_id"], r["assignment"], r["problem"], float(r["score"]), float(r["max_score"]),
                     r["message"]) for r in cells if r["student_id"] == "mistakes-a"]  # fmt: skip
    assert not discrepancies(MISTAKES_A, rows, POINTS)
    assert not _problems(graded, "full") and not _problems(graded, "mistakes-a")


@pytest.mark.parametrize("student", list(ATTACKS))
def test_no_attacker_earns_more_than_their_honest_answers(graded, student):
    base = ATTACKS[student][0]
    deserved = DESERVED[base] - (POINTS["test_entropy"] if student == "patches-check" else 0)
    assert _score(graded, student) <= deserved


def test_the_submissions_the_kit_and_the_instructors_files_are_byte_identical(graded):
    home = graded["home"]
    assert _tree_hash(home / "submitted") == graded["before"]["submitted"]
    kit = _tree_hash(KIT)
    before = graded["before"]["kit"]
    changed = sorted(k for k in kit.keys() | before.keys() if kit.get(k) != before.get(k))
    assert not changed, f"the kit's files changed: {changed}"
    for name, (data, mode) in graded["before"]["canaries"].items():
        assert (home / name).read_bytes() == data and (home / name).stat().st_mode == mode, f"{name} changed"


def test_no_process_is_left(graded):
    assert graded["left"] == []


# --- one test per attack -------------------------------------------------------------------------
def test_1_the_instructors_solutions_are_out_of_reach(graded):
    found = _report(graded, "reads-solutions")
    assert found["direct_exists"] is False, f"the kit checkout's {found['direct']} is readable in the sandbox"
    assert found["solutions"] == [], f"the sandbox let the student read {found['solutions']}"
    assert all("/reads-solutions/" in p for p in found["submissions"]), "it saw other students' notebooks"
    assert _score(graded, "reads-solutions") == 0  # blank answers earn nothing, as without the attack


def test_2_no_gradebook_is_within_reach_to_set_scores(graded):
    found = _report(graded, "sets-scores")
    # nbgrader ships test gradebooks inside its package; with the venv under /tmp (a clone there) the walk
    # meets them, read-only. No other gradebook may be in reach, and none may be written.
    venv = str(Path(sys.prefix).resolve())
    assert [db for db in found["gradebooks"] if not db.startswith(venv)] == []
    assert all(isinstance(result, str) for result in found["changed"].values()), found["changed"]
    assert _score(graded, "sets-scores") == FULL


def test_3_no_other_students_files_are_within_reach_to_delete(graded):
    found = _report(graded, "deletes-others")
    assert found["others"] == [] and found["deleted"] == []
    for student in ["full", "mistakes-a", *ATTACKS]:
        assert _graded_notebook(graded, student).is_file(), f"{student}'s graded notebook is missing"
        page = graded["home"] / "grading" / "feedback" / student / LAB1 / f"{LAB1}.html"
        assert page.is_file(), f"{student}'s feedback page is missing"
    assert _score(graded, "deletes-others") == FULL


def test_4_proc_shows_no_grading_process_and_the_instructors_folder_is_out_of_reach(graded):
    found = _report(graded, "walks-proc")
    home = str(graded["home"])
    assert not [h for h in found["hits"] if h["cwd"] == home or " --out " in h["cmdline"]], found["hits"]
    assert found["deleted"] == []
    assert set(found["errors"]) >= {f"{home}/canary.txt", f"{home}/submitted/full/{LAB1}/{LAB1}.ipynb"}
    assert found["processes"] <= 4, "the sandbox's /proc shows only its own few processes"
    assert (graded["home"] / "canary.txt").is_file()
    assert (graded["home"] / "submitted" / "full" / LAB1 / f"{LAB1}.ipynb").is_file()
    assert _score(graded, "walks-proc") == FULL


def test_5_the_installed_kit_and_environment_cannot_be_opened_for_writing(graded):
    found = _report(graded, "patches-kit")
    assert found["opened"] and all(outcome != "opened" for outcome in found["opened"].values()), found["opened"]
    assert not any(p.name.startswith("zz") and "attack" in p.name for p in KIT.iterdir())
    assert _score(graded, "patches-kit") == FULL


def test_6_a_memory_hog_is_stopped_at_its_limit_and_its_other_answers_are_graded(graded):
    row = graded["grades"]["hogs-memory"]
    if row["status"] == "graded":
        found = _report(graded, "hogs-memory")
        assert found["bytearray"] == found["np.ones"] == found["touched"] == "MemoryError", found
        assert found["touched_mb"] <= sandbox.Limits().memory / 2**20, found
        assert float(row["score"]) == FULL  # margin was defined before the hog ran
    else:  # the memory cgroup killed the kernel: that student alone fails, and says why
        assert any("kernel died" in p for p in _problems(graded, "hogs-memory")), _problems(graded, "hogs-memory")


def test_7_a_process_started_in_a_new_session_dies_with_the_sandbox(graded):
    found = _report(graded, "leaves-a-process")
    assert found["pid"] > 0
    assert not [p for p in graded["left"] if "sleep 300" in p]
    assert _score(graded, "leaves-a-process") == FULL


def test_8_a_flood_of_output_is_cut_and_the_cut_is_noted(graded):
    found = _report(graded, "floods")  # the start of the cell's output is kept
    assert found["flooding"] == 10_000_000
    page = graded["home"] / "grading" / "feedback" / "floods" / LAB1 / f"{LAB1}.html"
    assert _graded_notebook(graded, "floods").stat().st_size < 1_200_000
    assert page.stat().st_size < 1_200_000
    assert any("cut" in p for p in _problems(graded, "floods")), _problems(graded, "floods")
    assert _score(graded, "floods") == FULL


def test_9_killing_its_parent_is_harmless_in_the_sandbox(graded):
    found = _report(graded, "kills-parent")
    assert found["survived"] is True
    assert _score(graded, "kills-parent") == FULL
    assert not _problems(graded, "kills-parent")


def test_10_symlinks_left_in_its_folder_lead_the_grader_to_no_file_of_the_instructors(graded):
    found = _report(graded, "leaves-symlinks")
    assert found["symlinks"] == {f"{LAB1}.ipynb": "canary.txt", "notes.txt": "canary-mode.txt"}  # its own folder
    for name, (data, mode) in graded["before"]["canaries"].items():
        assert (graded["home"] / name).read_bytes() == data, f"the grader wrote through a symlink to {name}"
        assert (graded["home"] / name).stat().st_mode == mode, f"the grader chmodded {name} through a symlink"
    assert _score(graded, "leaves-symlinks") == FULL


# --- tampering inside the student's own process: the trusted comparison decides the score -----------
def _disagreements(graded, student: str) -> list[str]:
    return [p for p in _problems(graded, student) if "the trusted comparison" in p]


def test_an_input_transformer_that_skips_the_tests_earns_nothing(graded):
    assert _report(graded, "transforms-input")["transformer"] is True
    assert _score(graded, "transforms-input") == 0
    # every test cell became `pass` and passed in the notebook: problems.csv says so, cell by cell
    said = [re.match(r"test_\w+: the notebook's test said (\S+)/(\S+), the trusted comparison 0/", p) for p in
            _disagreements(graded, "transforms-input")]  # fmt: skip
    assert said and all(m and m[1] == m[2] for m in said), _disagreements(graded, "transforms-input")


def test_a_patched_numpy_with_all_wrong_answers_earns_nothing(graded):
    assert _report(graded, "patches-numpy")["patched"] is True
    assert _score(graded, "patches-numpy") == 0
    assert _disagreements(graded, "patches-numpy"), "the notebook's own tests gave points: problems.csv must say so"


def test_a_monkeypatched_check_earns_nothing_for_its_wrong_answer(graded):
    assert _report(graded, "patches-check")["patched_check"] is True
    assert _score(graded, "patches-check") == FULL - POINTS["test_entropy"]
    [said] = _disagreements(graded, "patches-check")
    assert said.startswith("test_entropy: the notebook's test said 3/3, the trusted comparison 0/3"), said


def test_honest_students_and_untampered_attackers_show_no_disagreement(graded):
    for student in ["full", "mistakes-a", *[s for s in ATTACKS if s not in IN_PROCESS]]:
        assert not _disagreements(graded, student), (student, _disagreements(graded, student))
