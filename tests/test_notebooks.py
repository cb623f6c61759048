"""Every solution notebook runs top to bottom (quick sizes) with no error."""

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from dcai_al.config import QUICK_ENV

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "solutions").glob("*/*.ipynb"))
TIME_LIMIT_S = 240  # per notebook, at quick sizes on a 2-core CPU


def test_there_are_solution_notebooks():
    assert NOTEBOOKS, "solutions/ holds no notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_solution_notebook_executes(path, monkeypatch):
    monkeypatch.setenv(QUICK_ENV, "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_LIMIT_S, f"{path.name} took {elapsed:.0f} s"
    figures = sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
    assert figures >= 1, "the notebook should draw at least one figure"
