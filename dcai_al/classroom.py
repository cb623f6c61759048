"""A simulated class: submissions that rehearse the grading pipeline.

Every simulated student starts from the *released* notebook, fills its answer
cells with the instructor's solutions (markers removed), then does one of the
things real students do: hands in nothing, makes a typical mistake, writes a
loop that never ends, edits a test cell, calls the kit's own implementation.
Each student carries what an honest grader must give them, so
``dcai-al rehearse`` (and the test suite) can check that the labs' test cells
still catch each mistake after an instructor edits them.

>>> [s.name for s in students("lab3-seals")][:3]
['full', 'blank', 'mistakes-a']
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Edit", "Student", "discrepancies", "expected_scores", "graded_cells", "rehearse", "students", "write_class"]

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` by ``new`` in the answer cell ``cell`` (it must occur there)."""

    cell: str
    old: str
    new: str


@dataclass(frozen=True)
class Student:
    """One simulated submission and the grade it deserves.

    Attributes
    ----------
    name, story : str
        A folder name and, in words, what the student did.
    answered : bool
        Start from the solutions (True) or leave the release untouched (False).
    edits : tuple of Edit
        Changes to the answer cells.
    loses : tuple of str
        Test cells (grade ids) that must score zero; every other test cell
        scores full marks when ``answered``, zero otherwise.
    says : dict
        Test cell -> a phrase its failure message must contain.
    tamper : bool
        Also edit every visible test cell to ``pass``, raise a test cell's
        points to 100 and delete the last test cell.
    """

    name: str
    story: str
    answered: bool = True
    edits: tuple[Edit, ...] = ()
    loses: tuple[str, ...] = ()
    says: dict = field(default_factory=dict)
    tamper: bool = False


LOOP = "    while True:  # the exit condition never comes true\n        pass\n"


def _looping(cell: str, first_line: str) -> Edit:
    return Edit(cell, first_line, first_line + LOOP)


# Each lab's typical mistakes, split over two students so that each keeps full
# marks on the problems they got right. A mistake in a helper that a later
# answer calls (Lab 2's update_min_distances) costs that later answer too.
_LAB_STUDENTS = {
    "lab1-passive-vs-active": [
        Student(
            "mistakes-a",
            "entropy with log base 2; least confidence returns the confidence itself",
            edits=(
                Edit("entropy", "np.log(", "np.log2("),
                Edit("least_confidence", "return 1.0 - p.max(axis=1)", "return p.max(axis=1)"),
            ),
            loses=("test_entropy", "test_least_confidence"),
            says={"test_entropy": "natural log", "test_least_confidence": "1 - max p"},
        ),
        Student(
            "mistakes-b",
            "binary search takes argmax instead of argmin; margin forgets the 1 -",
            edits=(
                Edit("binary_search_query", "np.argmin(", "np.argmax("),
                Edit("margin", "return 1.0 - (top2[:, 1] - top2[:, 0])", "return top2[:, 1] - top2[:, 0]"),
            ),
            loses=("test_binary_search_query", "test_margin"),
            says={"test_binary_search_query": "farthest from the middle", "test_margin": "small gaps score high"},
        ),
        Student(
            "misbehaving",
            "binary search loops forever; least confidence crashes; entropy edits its input",
            edits=(
                _looping("binary_search_query", "def binary_search_query(x, lo, hi):\n"),
                Edit("least_confidence", "p.max(axis=1)", "p.max(axis=2)"),
                Edit(
                    "entropy",
                    "return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)",
                    "p[p == 0] = 1.0  # 0 log 0 = 1 log 1 = 0\n    return -(p * np.log(p)).sum(axis=1)",
                ),
            ),
            loses=("test_binary_search_query", "test_least_confidence", "test_entropy"),
            says={
                "test_binary_search_query": "did not return within",
                "test_least_confidence": "raised AxisError",
                "test_entropy": "in place",
            },
        ),
        Student(
            "cheater",
            "imports the kit's entropy; patches the margin check and reference to pass a wrong margin",
            edits=(
                Edit(
                    "entropy",
                    "def entropy(probs):\n",
                    "from dcai_al.acquisition import entropy\n\n\ndef _unused(probs):\n",
                ),
                Edit(
                    "margin",
                    "return 1.0 - (top2[:, 1] - top2[:, 0])",
                    "return top2[:, 1] - top2[:, 0]\n\n\n"
                    "import dcai_al.acquisition\n\n"
                    "checks.check_margin = lambda fn: print('check_margin: all 5 cases passed')\n"
                    "dcai_al.acquisition.margin = margin",
                ),
            ),
            loses=("test_entropy", "test_margin"),
            says={"test_entropy": "your own implementation", "test_margin": "small gaps score high"},
        ),
    ],
    "lab2-batch-diversity": [
        Student(
            "mistakes-a",
            "top_j forgets to exclude the labelled points; k-centers takes argmin",
            edits=(
                Edit("top_j", "    s[np.asarray(labelled, dtype=int)] = -np.inf\n", ""),
                Edit("k_center_greedy", "np.argmax(min_dist)", "np.argmin(min_dist)"),
            ),
            loses=("test_top_j", "test_k_center_greedy"),
            says={"test_top_j": "already labelled", "test_k_center_greedy": "argmin"},
        ),
        Student(
            "mistakes-b",
            "top_j off by one in the batch size; squared distances (which coverage_radius inherits)",
            edits=(
                Edit("top_j", "[:j]", "[: j + 1]"),
                Edit(
                    "update_min_distances",
                    "np.linalg.norm(features - features[center], axis=1)",
                    "((features - features[center]) ** 2).sum(axis=1)",
                ),
            ),
            loses=("test_top_j", "test_update_min_distances", "test_coverage_radius"),
            says={
                "test_top_j": "off-by-one",
                "test_update_min_distances": "not the squared one",
                "test_coverage_radius": "not its square",
            },
        ),
        Student(
            "misbehaving",
            "coverage_radius loops forever; k-centers crashes; top_j sorts the caller's scores",
            edits=(
                _looping("coverage_radius", "def coverage_radius(features, centers):\n"),
                Edit("k_center_greedy", "int(np.argmax(min_dist))", "int(np.argmax(min_dist, axis=1))"),
                Edit("top_j", "s = np.array(scores, dtype=float)", "s = np.asarray(scores, dtype=float)"),
            ),
            loses=("test_coverage_radius", "test_k_center_greedy", "test_top_j"),
            says={
                "test_coverage_radius": "did not return within",
                "test_k_center_greedy": "raised AxisError",
                "test_top_j": "in place",
            },
        ),
        Student(
            "cheater",
            "imports the kit's coverage_radius; patches the k-centers check and reference",
            edits=(
                Edit(
                    "coverage_radius",
                    "def coverage_radius(features, centers):\n",
                    "from dcai_al.diversity import coverage_radius\n\n\ndef _unused(features, centers):\n",
                ),
                Edit(
                    "k_center_greedy",
                    "return np.array(chosen)",
                    "return np.array(chosen[::-1])\n\n\n"
                    "import dcai_al.diversity\n\n"
                    "checks.check_k_center_greedy = lambda fn: None\n"
                    "dcai_al.diversity.k_center_greedy = lambda X, b, labelled=(): k_center_greedy(X, b, labelled)",
                ),
            ),
            loses=("test_coverage_radius", "test_k_center_greedy"),
            says={"test_coverage_radius": "your own implementation", "test_k_center_greedy": "wrong selection"},
        ),
    ],
    "lab3-seals": [
        Student(
            "mistakes-a",
            "update_candidates forgets to drop the labelled points",
            edits=(Edit("update_candidates", "return merged[~np.isin(merged, labelled)]", "return merged"),),
            loses=("test_update_candidates",),
            says={"test_update_candidates": "drop every labelled index"},
        ),
        Student(
            "mistakes-b",
            "select_from_candidates returns positions in the candidate list, not pool indices",
            edits=(Edit("select_from_candidates", "return np.asarray(candidates)[order]", "return order"),),
            loses=("test_select_from_candidates",),
            says={"test_select_from_candidates": "positions in the candidate list"},
        ),
        Student(
            "misbehaving",
            "select_from_candidates loops forever; update_candidates overwrites the search results",
            edits=(
                _looping(
                    "select_from_candidates", "def select_from_candidates(candidate_scores, candidates, batch_size):\n"
                ),
                Edit(
                    "update_candidates",
                    "found.append(row[(row != query) & (row >= 0)])",
                    "row[row == query] = -1  # treat the query as a missing neighbour\n"
                    "        found.append(row[row >= 0])",
                ),
            ),
            loses=("test_select_from_candidates", "test_update_candidates"),
            says={"test_select_from_candidates": "did not return within", "test_update_candidates": "in place"},
        ),
        Student(
            "cheater",
            "selects with the kit's select_top; patches the candidate check to pass a wrong update",
            edits=(
                Edit(
                    "select_from_candidates",
                    "return np.asarray(candidates)[order]",
                    "from dcai_al.acquisition import select_top\n\n"
                    "    return np.asarray(candidates)[select_top(np.asarray(candidate_scores), batch_size)]",
                ),
                Edit(
                    "update_candidates",
                    "return merged[~np.isin(merged, labelled)]",
                    "return merged\n\n\nchecks.check_candidate_update = lambda fn: None",
                ),
            ),
            loses=("test_select_from_candidates", "test_update_candidates"),
            says={
                "test_select_from_candidates": "your own implementation",
                "test_update_candidates": "drop every labelled index",
            },
        ),
    ],
    "lab4-selection-via-proxy": [
        Student(
            "mistakes-a",
            "counts learning events instead of forgetting; leaves the proxy's time out of the total",
            edits=(
                Edit("forgetting_events", "(correct[:-1] & ~correct[1:])", "(~correct[:-1] & correct[1:])"),
                Edit(
                    "end_to_end_speedup",
                    "total = proxy_seconds + ranking_seconds + target_seconds",
                    "total = ranking_seconds + target_seconds",
                ),
            ),
            loses=("test_forgetting_events", "test_end_to_end_speedup"),
            says={"test_forgetting_events": "wrong -> right", "test_end_to_end_speedup": "training the proxy"},
        ),
        Student(
            "mistakes-b",
            "keep_hardest rounds each class's quota down",
            edits=(Edit("keep_hardest", "math.ceil(fraction * of_class.size)", "int(fraction * of_class.size)"),),
            loses=("test_keep_hardest",),
            says={"test_keep_hardest": "math.ceil"},
        ),
        Student(
            "misbehaving",
            "the speed-up loops forever; keep_hardest crashes; forgetting_events overwrites its input",
            edits=(
                _looping(
                    "end_to_end_speedup",
                    "def end_to_end_speedup(proxy_seconds, ranking_seconds, target_seconds, baseline_seconds):\n",
                ),
                Edit("keep_hardest", "of_class.size", "of_class.shape[1]"),
                Edit(
                    "forgetting_events",
                    "return (correct[:-1] & ~correct[1:]).sum(axis=0)",
                    "correct[1:] = correct[:-1] & ~correct[1:]\n    return correct[1:].sum(axis=0)",
                ),
            ),
            loses=("test_end_to_end_speedup", "test_keep_hardest", "test_forgetting_events"),
            says={
                "test_end_to_end_speedup": "did not return within",
                "test_keep_hardest": "raised IndexError",
                "test_forgetting_events": "in place",
            },
        ),
        Student(
            "cheater",
            "imports the kit's keep_hardest; patches the forgetting check and reference",
            edits=(
                Edit(
                    "keep_hardest",
                    "def keep_hardest(order, labels, fraction):\n",
                    "from dcai_al.proxy import keep_hardest\n\n\ndef _unused(order, labels, fraction):\n",
                ),
                Edit(
                    "forgetting_events",
                    "return (correct[:-1] & ~correct[1:]).sum(axis=0)",
                    "return (correct[:-1] != correct[1:]).sum(axis=0)\n\n\n"
                    "import dcai_al.proxy\n\n"
                    "checks.check_forgetting_events = lambda fn: None\n"
                    "dcai_al.proxy.forgetting_events = forgetting_events",
                ),
            ),
            loses=("test_keep_hardest", "test_forgetting_events"),
            says={"test_keep_hardest": "your own implementation", "test_forgetting_events": "not every change"},
        ),
    ],
}


def students(lab: str) -> list[Student]:
    """The simulated class of ``lab``: full, blank, tamperer and the lab's own students."""
    if lab not in _LAB_STUDENTS:
        raise ValueError(f"no simulated class for {lab!r}; known labs: {sorted(_LAB_STUDENTS)}.")
    return [
        Student("full", "the instructor's solution in every answer cell"),
        Student("blank", "hands in the release untouched", answered=False, says={"*": "not implemented yet"}),
        *_LAB_STUDENTS[lab],
        Student(
            "tamperer",
            "hands in no answers but edits every test cell to `pass`, raises one to 100 points, deletes another",
            answered=False,
            tamper=True,
        ),
    ]


def _load(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_cells(notebook: dict) -> dict[str, float]:
    """Grade id -> points of each autograded test cell of a notebook."""
    return {_meta(c)["grade_id"]: float(_meta(c)["points"]) for c in notebook["cells"] if _meta(c).get("grade")}


def _answers(solution: dict) -> dict[str, str]:
    """Grade id -> the solution's answer cell source with nbgrader's markers removed."""
    answers = {}
    for cell in solution["cells"]:
        if _meta(cell).get("solution") and cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines(keepends=True)
            answers[_meta(cell)["grade_id"]] = "".join(ln for ln in lines if ln.strip() not in SOLUTION_MARKERS)
    return answers


def _submission(release: dict, answers: dict[str, str], student: Student) -> dict:
    nb = json.loads(json.dumps(release))
    cells = {_meta(c).get("grade_id"): c for c in nb["cells"]}
    if student.answered:
        for grade_id, source in answers.items():
            cells[grade_id]["source"] = source
    for edit in student.edits:
        source = "".join(cells[edit.cell]["source"])
        if edit.old not in source:
            raise ValueError(f"student {student.name!r}: {edit.old!r} is not in the answer cell {edit.cell!r}.")
        cells[edit.cell]["source"] = source.replace(edit.old, edit.new, 1)
    if student.tamper:
        tests = [c for c in nb["cells"] if _meta(c).get("grade")]
        for cell in tests:
            cell["source"] = "pass  # the tests are gone\n"
        _meta(tests[0])["points"] = 100
        nb["cells"].remove(tests[-1])
    return nb


def write_class(lab: str, submissions_dir, *, release_dir, solutions_dir) -> list[Student]:
    """Write the simulated class of ``lab`` as ``<student>/<lab>/<lab>.ipynb`` under ``submissions_dir``.

    Parameters
    ----------
    lab : str
        The assignment name.
    submissions_dir : path
        Where to write the class (laid out as nbgrader's ``submitted/``).
    release_dir, solutions_dir : path
        Folders holding ``<lab>/<lab>.ipynb``: the student and the instructor version.

    Returns
    -------
    list of Student
        The students written, in order.
    """
    release = _load(Path(release_dir) / lab / f"{lab}.ipynb")
    answers = _answers(_load(Path(solutions_dir) / lab / f"{lab}.ipynb"))
    written = students(lab)
    for student in written:
        folder = Path(submissions_dir) / student.name / lab
        folder.mkdir(parents=True, exist_ok=True)
        nb = _submission(release, answers, student)
        (folder / f"{lab}.ipynb").write_text(json.dumps(nb, indent=1) + "\n")
    return written


def expected_scores(student: Student, points: dict[str, float]) -> dict[str, float]:
    """The score each test cell must get for ``student`` (``points``: see :func:`graded_cells`).

    >>> expected_scores(Student("x", "one mistake", loses=("t1",)), {"t1": 2.0, "t2": 3.0})
    {'t1': 0.0, 't2': 3.0}
    """
    unknown = set(student.loses) - set(points)
    if unknown:
        raise ValueError(f"student {student.name!r} loses unknown test cells {sorted(unknown)}.")
    return {g: (p if student.answered and g not in student.loses else 0.0) for g, p in points.items()}


def discrepancies(student: Student, rows, points: dict[str, float]) -> list[str]:
    """What the grader got wrong for ``student``, in words; empty when every grade is right.

    Parameters
    ----------
    student : Student
    rows : list of GradeRow
        The student's rows from :func:`dcai_al.grading.autograde`.
    points : dict
        Grade id -> points, from the *release* (see :func:`graded_cells`).
    """
    got = {r.problem: r for r in rows if r.student == student.name}
    problems = []
    for problem, score in expected_scores(student, points).items():
        row = got.get(problem)
        if row is None:
            problems.append(f"{student.name}: no grade for {problem}")
            continue
        if row.max_score != points[problem]:
            problems.append(
                f"{student.name}: {problem} is out of {row.max_score:g}, the release says {points[problem]:g}"
            )
        if row.score != score:
            problems.append(f"{student.name}: {problem} scored {row.score:g}, expected {score:g}")
        phrase = student.says.get(problem, student.says.get("*"))
        if phrase and phrase not in row.message:
            problems.append(f"{student.name}: the message for {problem} does not say {phrase!r}: {row.message!r}")
    return problems


def rehearse(labs=None, *, root=None, timeout: int | None = None, out=None):
    """Write each lab's simulated class, autograde it with nbgrader, and judge the grades.

    Parameters
    ----------
    labs : list of str, optional
        Assignments to rehearse; all of them by default.
    root : path, optional
        The course directory (its ``labs/`` release and ``solutions/``).
    timeout : int, optional
        nbgrader's per-cell time limit in seconds.
    out : path, optional
        Where :func:`dcai_al.grading.autograde` writes ``grades.csv`` and ``feedback/``.

    Returns
    -------
    rows : list of GradeRow
    problems : list of str
        Every grade or message that differs from what the student deserves.
    """
    from .grading import assignments, autograde, course_root

    root = course_root(root)
    labs = list(labs) if labs else assignments(root)
    with tempfile.TemporaryDirectory(prefix="dcai-al-class-") as tmp:
        submitted = Path(tmp) / "submitted"
        written = {
            lab: write_class(lab, submitted, release_dir=root / "labs", solutions_dir=root / "solutions")
            for lab in labs
        }
        rows = autograde(submitted, root=root, timeout=timeout, out=out).rows
    problems = []
    for lab, class_ in written.items():
        points = graded_cells(_load(root / "labs" / lab / f"{lab}.ipynb"))
        lab_rows = [r for r in rows if r.assignment == lab]
        for student in class_:
            problems.extend(f"{lab}: {p}" for p in discrepancies(student, lab_rows, points))
    return rows, problems
