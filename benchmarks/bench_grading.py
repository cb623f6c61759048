"""Grading a class: plain serial ``nbgrader autograde`` against ``dcai-al autograde``, in one run.

The class is Lab 1's simulated class (``dcai_al.classroom``: full, blank, two students with typical
mistakes, one whose answers loop or crash, a cheater, a tamperer) repeated to ``--n`` notebooks.
Serial nbgrader grades them in one course, one after another, as an instructor would with nbgrader
alone; the kit grades each in its own scratch course on a Dask cluster of 1 and 2 workers (and with the
sandbox, where bubblewrap works), its trusted comparison included (one more sandboxed process per
notebook). Every run's scores are compared with serial nbgrader's.

Then one notebook is timed cell by cell to show where a notebook's time goes.

    python benchmarks/bench_grading.py            # 100 notebooks, about 20 minutes on 2 cores
    python benchmarks/bench_grading.py --n 20     # a quicker look
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dcai_al.classroom import students, write_class
from dcai_al.grading import _copy_solutions, autograde, course_root

LAB = "lab1-passive-vs-active"


def build_class(folder: Path, n: int) -> list[str]:
    """``n`` submissions: the simulated class repeated, each copy under its own student name."""
    root = course_root()
    once = folder / "_once"
    write_class(LAB, once, release_dir=root / "labs", solutions_dir=root / "solutions")
    kinds = [s.name for s in students(LAB)]
    names = []
    for i in range(n):
        name = f"{kinds[i % len(kinds)]}-{i:03d}"
        shutil.copytree(once / kinds[i % len(kinds)], folder / name)
        names.append(name)
    shutil.rmtree(once)
    return names


def serial_nbgrader(submitted: Path, timeout: int) -> tuple[float, dict]:
    """Plain nbgrader: one course, ``generate_assignment`` then one ``autograde`` over every student."""
    from nbgrader.api import Gradebook

    root = course_root()
    course = Path(tempfile.mkdtemp(prefix="bench-nbgrader-"))
    try:
        shutil.copy2(root / "nbgrader_config.py", course / "nbgrader_config.py")
        _copy_solutions(root, [LAB], course)  # the source as `dcai-al release` writes it: hidden tests included
        shutil.copytree(submitted, course / "submitted")
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg")
        env["DCAI_AL_QUICK"] = "1"
        nbgrader = [sys.executable, "-m", "nbgrader"]
        subprocess.run(
            [*nbgrader, "generate_assignment", LAB, "--force"], cwd=course, env=env, check=True, capture_output=True
        )
        started = time.perf_counter()
        subprocess.run(
            [*nbgrader, "autograde", LAB, "--force", "--create", f"--ExecutePreprocessor.timeout={timeout}"],
            cwd=course,
            env=env,
            capture_output=True,
        )
        seconds = time.perf_counter() - started
        scores = {}
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for student in gb.students:
                try:
                    scores[student.id] = float(gb.find_submission(LAB, student.id).score)
                except Exception:  # nbgrader gave up on this notebook
                    scores[student.id] = None
        return seconds, scores
    finally:
        shutil.rmtree(course, ignore_errors=True)


def kit(submitted: Path, timeout: int, workers: int, sandbox: bool) -> tuple[float, dict]:
    started = time.perf_counter()
    kwargs = {} if sandbox else {"sandbox": False}
    result = autograde(submitted, timeout=timeout, workers=workers, **kwargs)
    seconds = time.perf_counter() - started
    scores = {}
    for row in result.rows:
        scores[row.student] = scores.get(row.student, 0.0) + row.score
    return seconds, scores


def where_time_goes(submitted: Path) -> list[tuple[str, float]]:
    """One full student's notebook executed cell by cell with nbclient (as nbgrader does)."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["DCAI_AL_QUICK"], os.environ["MPLBACKEND"] = "1", "Agg"
    path = next(p for p in sorted(submitted.iterdir()) if p.name.startswith("full"))
    nb = nbformat.read(path / LAB / f"{LAB}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3")
    parts = {"kernel start": 0.0, "imports cell": 0.0, "answer and test cells": 0.0, "experiment cells": 0.0}
    started = time.perf_counter()
    with client.setup_kernel():
        parts["kernel start"] = time.perf_counter() - started
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t = time.perf_counter()
            client.execute_cell(cell, i)
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade_id") == "imports":
                key = "imports cell"
            elif "experiment" in cell.metadata.get("tags", []):
                key = "experiment cells"
            else:
                key = "answer and test cells"
            parts[key] += time.perf_counter() - t
    return list(parts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="notebooks in the class (default 100)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds per cell, for every run (default 10)")
    args = parser.parse_args()
    from dcai_al import sandbox

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        submitted = Path(tmp) / "submitted"
        build_class(submitted, args.n)
        print(f"{args.n} Lab 1 notebooks ({len(students(LAB))} kinds of student, repeated); {args.timeout} s per cell")
        print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores\n")
        base_seconds, base = serial_nbgrader(submitted, args.timeout)
        rows = [("serial nbgrader autograde", "1", base_seconds, True)]
        runs = [(2, True), (1, True), (2, False)] if sandbox.available() else [(2, False), (1, False)]
        for workers, boxed in runs:
            seconds, scores = kit(submitted, args.timeout, workers, boxed)
            label = "dcai-al autograde" + (", sandboxed" if boxed else ", no sandbox")
            same = all(scores.get(s) == base.get(s) for s in base) and set(scores) == set(base)
            rows.append((label, str(workers), seconds, same))
        print("| grading | workers | seconds | s / notebook | vs serial nbgrader | same scores |")
        print("|---|---|---|---|---|---|")
        for label, workers, seconds, same in rows:
            ratio = base_seconds / seconds
            same = "yes" if same else "NO"
            print(f"| {label} | {workers} | {seconds:.1f} | {seconds / args.n:.2f} | {ratio:.2f}x | {same} |")
        boxed = {w: s for label, w, s, _ in rows if "sandboxed" in label}
        plain = {w: s for label, w, s, _ in rows if "no sandbox" in label}
        if "2" in boxed and "2" in plain:
            print(f"\nsandbox cost, 2 workers: {100 * (boxed['2'] / plain['2'] - 1):+.1f}% of the time")
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
        print("\nWhere one full student's notebook spends its time (nbclient, cell by cell):\n")
        print("| part | seconds | run when the kit grades |")
        print("|---|---|---|")
        for part, seconds in where_time_goes(submitted):
            print(f"| {part} | {seconds:.2f} | {'no' if part == 'experiment cells' else 'yes'} |")


if __name__ == "__main__":
    main()
