"""The dcai-al command: run writes a report and figures; bad arguments are refused."""

import pytest

from dcai_al.cli import main
from dcai_al.config import quick_mode


def test_run_quick_writes_report_and_figures(tmp_path, capsys):
    assert main(["run", "--quick", "--lab", "1", "--out", str(tmp_path), "--no-progress", "--device", "cpu"]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "Lab 1" in report and "label efficiency vs random" in report
    for figure in ("lab1_threshold.png", "lab1_digits.png", "lab1_strips.png"):
        assert (tmp_path / figure).stat().st_size > 10_000 and f"({figure})" in report
    assert "report.md" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["run", "--lab", "99"], ["run", "--quick", "--full"], ["frobnicate"], []])
def test_bad_arguments_exit_with_usage(argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_quick_switch_reads_the_environment():
    assert quick_mode({"DCAI_AL_QUICK": "yes"}) and not quick_mode({"DCAI_AL_QUICK": "0"})
    with pytest.raises(ValueError, match="DCAI_AL_QUICK"):
        quick_mode({"DCAI_AL_QUICK": "maybe"})


def test_cifar10_opt_in_without_the_files_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "--lab", "4", "--cifar10", str(tmp_path), "--no-progress", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "CIFAR10 was not found" in err and "download=True" in err
