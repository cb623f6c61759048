"""Every registered lab experiment runs at quick size and reports measured numbers and figures."""

import pytest

from dcai_al.experiments import LABS, RunConfig, run_labs


@pytest.mark.parametrize("lab", sorted(LABS))
def test_experiment_writes_tables_and_figures(lab, tmp_path):
    config = RunConfig(quick=True, device="cpu", out_dir=tmp_path, progress=False)
    (report,) = run_labs([lab], config)
    assert report.tables and all(table.rows for table in report.tables)
    for name, caption in report.figures:
        assert (tmp_path / name).stat().st_size > 10_000 and caption
    text = (tmp_path / "report.md").read_text()
    assert report.title in text


def test_unknown_lab_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown lab"):
        run_labs([42], RunConfig(out_dir=tmp_path))
