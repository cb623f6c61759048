"""The trusted comparison (issue 15): the points come from outside the student's process.

The student's functions are served from a fresh sandboxed process that never
ran the notebook; the references, cases and comparisons stay in the grader,
and only plain arrays and JSON come back, never a pickle. These tests grade
Lab 1 notebooks through :func:`dcai_al.grading.job.grade_submission` (one
scratch course each, as ``dcai-al autograde`` does on its workers) and call
the comparison directly for what a notebook cannot show.
"""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from dcai_al import classroom, sandbox
from dcai_al.exercises import for_lab
from dcai_al.grading import _template, assignments, course_root, trusted
from dcai_al.grading.gradebook import all_problems
from dcai_al.grading.job import grade_submission
from dcai_al.grading.serve import strip_magics

REPO = Path(__file__).resolve().parents[1]
LAB1 = "lab1-passive-vs-active"
SANDBOX = sandbox.available()

# A wrong entropy whose test cell still passes in the notebook: the visible check is a no-op, and the hidden block's
# fresh import of the kit gets a fake dcai_al.checks from a finder the answer put first on sys.meta_path.
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
"""

TRANSFORMS_INPUT = 'get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])\n'

PATCHES_NUMPY = """
import numpy as _np, numpy.testing as _npt
_yes = lambda *a, **k: True
_np.allclose = _np.array_equal = _np.array_equiv = _yes
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.broadcast(_np.asarray(a), _np.asarray(b)).shape, bool)
for _name in [n for n in dir(_npt) if n.startswith("assert_")]:
    setattr(_npt, _name, lambda *a, **k: None)
"""

WRONG = {
    "binary_search_query": "def binary_search_query(x, lo, hi):\n    return 0\n",
    "entropy": "def entropy(probs):\n    return np.zeros(len(probs))\n",
    "least_confidence": "def least_confidence(probs):\n    return np.zeros(len(probs))\n",
    "margin": "def margin(probs):\n    return np.zeros(len(probs))\n",
}


def _tests(nb: dict) -> list[str]:
    """The notebook's test cells (a record whose test cell it lacks is not judged)."""
    metas = [c["metadata"].get("nbgrader", {}) for c in nb["cells"]]
    return [m["grade_id"] for m in metas if m.get("grade")]


def _records(nb: dict) -> list:
    return trusted.records_for(LAB1, _tests(nb))


def _cell(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _set(nb: dict, grade_id: str, source: str, *, append: bool = False) -> dict:
    nb = json.loads(json.dumps(nb))
    cell = _cell(nb, grade_id)
    cell["source"] = ("".join(cell["source"]) + "\n" if append else "") + source
    return nb


@pytest.fixture(scope="module")
def lab1():
    """Lab 1's template gradebook, release and source as `dcai-al autograde` makes them, and the simulated class."""
    template, releases, sources = _template(course_root(REPO), [LAB1])
    answers = classroom._answers(json.loads((REPO / "solutions" / LAB1 / f"{LAB1}.ipynb").read_text()))
    notebooks = {s.name: classroom._submission(releases[LAB1], answers, s) for s in classroom.students(LAB1)}
    return {"template": template, "release": releases[LAB1], "source": sources[LAB1], "class": notebooks}


def _grade(lab1, student: str, nb: dict, *, lab: str = LAB1, **settings) -> dict:
    task = {
        "student": student,
        "lab": lab,
        "notebook": json.dumps(nb).encode(),
        "release": lab1["release"],
        "source": lab1["source"],
        "template": lab1["template"],
        "config": (REPO / "nbgrader_config.py").read_text(),
        "quick": True,
        "timeout": 10,
        "sandbox": SANDBOX,
        "limits": {},
        **settings,
    }
    result = grade_submission(task)
    assert result["status"] == "graded", (result["problem"], result["action"])
    return result


def _scores(result: dict) -> dict:
    return {g["name"]: g["auto_score"] for g in result["grades"]}


def _problems(result: dict) -> list[str]:
    return [p.problem for p in all_problems({(result["student"], LAB1): result}, [])]


# --- the pieces -----------------------------------------------------------------------------------
def test_the_served_code_is_the_students_cells_without_tests_experiments_or_magics(lab1):
    nb = lab1["class"]["full"]
    cells = trusted.student_cells(nb)
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert any(s.lstrip().startswith("%matplotlib") for s in cells), (
        "the imports cell is served (magics stripped later)"
    )
    assert not any("checks.check" in s for s in cells), "no test cell is served"
    experiments = ["".join(c["source"]) for c in nb["cells"] if "experiment" in c["metadata"].get("tags", [])]
    assert experiments and not set(experiments) & set(cells), "no experiment is served"
    answers = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    assert len(cells) == 1 + len(answers) < len(sources)
    assert strip_magics("%matplotlib inline\n!pip install x\nimport numpy as np\n") == "import numpy as np\n"


def test_a_record_whose_test_cell_nbgrader_did_not_score_is_not_judged():
    assert [r.name for r in trusted.records_for(LAB1, ["test_entropy"])] == ["entropy"]
    assert trusted.records_for("no-such-lab", ["test_entropy"]) == []


def test_what_the_students_process_writes_back_is_never_unpickled(tmp_path):
    """An object array (a pickle inside the .npz) or a compressed archive is no answer, and runs nothing."""
    ran = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (ran,))

    record = for_lab(LAB1)[1]
    cases = trusted._cases(record)
    report = {"name": record.name, "uses": None, "cases": [{"kind": "array", "message": ""}] * len(cases)}
    out = tmp_path / "out"
    out.mkdir()
    (out / "0.json").write_text(json.dumps(report))
    np.savez(out / "0.npz", **{f"out{k}": np.array([Payload()], dtype=object) for k in range(len(cases))})
    got, arrays = trusted._read(out, 0)
    verdict = trusted._judge(record, cases, got, arrays, "test")
    assert verdict.score == 0 and not ran.exists()
    right = {f"out{k}": record.answer.read(record.reference(*a), a, "x", "y") for k, (_, a, _) in enumerate(cases)}
    np.savez_compressed(out / "0.npz", **right)  # a zip bomb would be compressed: refused before np.load
    assert trusted._read(out, 0) == (None, {})
    np.savez(out / "0.npz", **right)
    assert trusted._judge(record, cases, *trusted._read(out, 0), "test").score == record.points
    with open(out / "0.pkl", "wb") as f:
        pickle.dump(Payload(), f)
    assert not ran.exists()


def test_the_comparison_decides_each_exercise_on_every_visible_and_hidden_case(lab1, tmp_path):
    nb = _set(lab1["class"]["full"], "entropy", "def entropy(probs):\n    return np.zeros(len(probs))\n")
    found, info = trusted.compare(nb, LAB1, _tests(nb), tmp_path, sandboxed=SANDBOX, env={"MPLBACKEND": "Agg"})
    assert info["status"] == "ok", info["log"]
    by_name = {v.name: v for v in found}
    assert by_name["entropy"].score == 0 and "gave the wrong scores" in by_name["entropy"].message
    for record in _records(nb):
        assert by_name[record.name].cases == len(record.cases) + len(record.hidden_cases())
        if record.name != "entropy":
            assert by_name[record.name].score == record.points, by_name[record.name].message
    print(f"serve step: {info['seconds']:.2f} s")


def test_a_hidden_case_alone_can_fail_an_answer(lab1, tmp_path):
    """Right on every visible case, wrong on the 10-class hidden rows: 0, as the notebook's hidden test gives."""
    sneaky = (
        "def entropy(probs):\n    p = np.asarray(probs, dtype=float)\n"
        "    h = -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)\n"
        "    return h if p.shape[1] < 6 else h * 0\n"
    )
    found, _ = trusted.compare(_set(lab1["class"]["full"], "entropy", sneaky), LAB1, ["test_entropy"], tmp_path,
                               sandboxed=SANDBOX)  # fmt: skip
    assert found[0].score == 0 and "hidden case" in found[0].message


def test_a_function_that_hangs_or_exits_costs_only_itself(lab1, tmp_path):
    hangs = "def entropy(probs):\n"
    hangs += "    while True:\n        try:\n            x = 1\n        except Exception:\n            x = 0\n"
    nb = _set(lab1["class"]["full"], "entropy", hangs)
    nb = _set(nb, "margin", "def margin(probs):\n    import os\n    os._exit(3)\n")
    found, info = trusted.compare(nb, LAB1, _tests(nb), tmp_path, sandboxed=SANDBOX, time_limit=1)
    by_name = {v.name: v for v in found}
    assert "did not return within 1 s" in by_name["entropy"].message
    assert by_name["margin"].score == 0 and "exit 3" in by_name["margin"].message
    assert by_name["binary_search_query"].score == 3 and by_name["least_confidence"].score == 2


# --- graded as `dcai-al autograde` grades ------------------------------------------------------------
HONEST = [s.name for s in classroom.students(LAB1)]  # all the simulated class: honest, if not always right


@pytest.mark.parametrize("student", HONEST)
def test_the_simulated_class_is_graded_as_the_notebooks_own_tests_grade_it(lab1, student):
    """No disagreement: the comparison gives each record's test cell the score nbgrader gave it, message and all.

    (The class's own story, what each student must score, is checked by ``dcai-al rehearse`` in test_grading.)
    """
    result = _grade(lab1, student, lab1["class"][student])
    assert result["trusted"]["status"] == "ok"
    assert len(result["trusted"]["verdicts"]) == len(_records(lab1["release"]))
    assert result["disagreements"] == [], result["disagreements"]
    assert not any("[grader]" in json.dumps(c) for c in json.loads(result["autograded"])["cells"])


@pytest.mark.parametrize("student", ["full", "mistakes-a"])
def test_grades_and_messages_are_the_same_with_the_trusted_comparison_off(lab1, student):
    nb = lab1["class"][student]
    on, off = _grade(lab1, student, nb), _grade(lab1, student, nb, trusted=False)
    assert (_scores(on), on["messages"]) == (_scores(off), off["messages"])
    assert "trusted" not in off


def _attack(lab1, student: str, nb: dict) -> dict:
    result = _grade(lab1, student, nb)
    assert result["trusted"]["status"] == "ok", result["trusted"]
    return result


def test_a_monkeypatched_check_with_a_wrong_answer_earns_nothing_for_that_exercise(lab1):
    result = _attack(lab1, "patches-check", _set(lab1["class"]["full"], "entropy", PATCHES_CHECK))
    scores = _scores(result)
    assert scores["test_entropy"] == 0
    assert scores == {**{g["name"]: g["max_score"] for g in result["grades"]}, "test_entropy": 0}
    [problem] = _problems(result)
    assert problem.startswith("test_entropy: the notebook's test said 3/3, the trusted comparison 0/3: entropy gave")
    assert "gave the wrong scores" in result["messages"]["test_entropy"]
    graded = json.loads(result["autograded"])
    assert "[grader] This cell's grade is not what the notebook showed" in json.dumps(_cell(graded, "test_entropy"))
    assert b"0 of 3 points" in result["feedback"] or b"0 / 3" in result["feedback"]


def test_an_input_transformer_that_skips_the_tests_earns_nothing(lab1):
    nb = _set(lab1["class"]["blank"], "binary_search_query", TRANSFORMS_INPUT, append=True)
    result = _attack(lab1, "transforms-input", nb)
    assert sum(_scores(result).values()) == 0
    assert len(_problems(result)) == len(_records(nb))  # each test cell said full marks, the comparison 0
    assert all("not implemented yet" in p for p in _problems(result))


def test_a_patched_numpy_with_wrong_answers_earns_nothing(lab1):
    nb = lab1["class"]["full"]
    for name, code in WRONG.items():
        nb = _set(nb, name, code)
    nb = _set(nb, "binary_search_query", PATCHES_NUMPY, append=True)
    result = _attack(lab1, "patches-numpy", nb)
    assert sum(_scores(result).values()) == 0
    assert _problems(result), "the notebook's own tests gave points: problems.csv must say so"


def test_the_kits_reference_earns_nothing_even_with_the_live_check_disabled(lab1, tmp_path):
    """The serving process runs its own copy of the "your own implementation" check, taken before any answer ran."""
    cheat = (
        "from dcai_al.acquisition import entropy\n"
        "checks._uses_kit_subject = lambda fn: None\n"
        "checks._subject_modules = lambda: ()\n"
    )
    found, info = trusted.compare(_set(lab1["class"]["full"], "entropy", cheat), LAB1, ["test_entropy"], tmp_path,
                                  sandboxed=SANDBOX)  # fmt: skip
    assert info["status"] == "ok", info["log"]
    assert found[0].score == 0 and "your own implementation" in found[0].message


@pytest.mark.parametrize("lab", [lab for lab in assignments(REPO) if lab != LAB1])
def test_the_solutions_of_every_other_lab_earn_full_marks_from_the_comparison_too(lab):
    """Lab 3's seals_round returns a tuple (candidates, picks): it comes back part by part, still as plain arrays."""
    template, releases, sources = _template(course_root(REPO), [lab])
    answers = classroom._answers(json.loads((REPO / "solutions" / lab / f"{lab}.ipynb").read_text()))
    full = next(s for s in classroom.students(lab) if s.name == "full")
    nb = classroom._submission(releases[lab], answers, full)
    data = {"template": template, "release": releases[lab], "source": sources[lab]}
    result = _grade(data, "full", nb, lab=lab)
    verdicts = result["trusted"]["verdicts"]
    assert verdicts and all(v["score"] == v["points"] for v in verdicts), verdicts
    assert result["disagreements"] == []


def test_a_cell_that_never_ends_is_stopped_as_nbgrader_stops_it_and_the_next_cells_still_run(lab1, tmp_path):
    import time

    nb = _set(lab1["class"]["full"], "margin", "while True:\n    pass\n", append=True)
    started = time.perf_counter()
    found, info = trusted.compare(nb, LAB1, _tests(nb), tmp_path / "t", sandboxed=False, timeout=120, cell_limit=2)
    assert time.perf_counter() - started < 60, "the serving process waited for the whole notebook's limit"
    assert all(v.score == v.points for v in found), [(v.name, v.message) for v in found if v.score != v.points]
