"""The experiments behind ``dcai-al run``: one module per lab.

Each lab module exposes ``run(config) -> Report``. The runner here calls the
ones asked for, saves their figures and writes ``report.md``.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["LABS", "Report", "RunConfig", "Table", "cpu_threads", "run_labs", "write_report"]

#: lab number -> (nbgrader assignment name, module holding its experiment)
LABS = {
    1: ("lab1-passive-vs-active", "dcai_al.experiments.lab1"),
    2: ("lab2-batch-diversity", "dcai_al.experiments.lab2"),
    3: ("lab3-seals", "dcai_al.experiments.lab3"),
    4: ("lab4-selection-via-proxy", "dcai_al.experiments.lab4"),
}


@dataclass(frozen=True)
class RunConfig:
    """Settings every experiment receives.

    Attributes
    ----------
    quick : bool
        Small sizes for CI and smoke tests.
    full : bool
        The largest sizes (for example SEALS at 1M points).
    device : str or None
        Torch device for model code; None picks the best available.
    seed : int
        Base seed; experiments derive their per-run seeds from it.
    out_dir : Path
        Where figures and the report go.
    progress : bool
        Show tqdm bars.
    cifar10_root : Path or None
        Opt-in: run Lab 4 on CIFAR-10 (ResNet proxy and target) from this folder.
    download : bool
        Allow torchvision to download CIFAR-10 into ``cifar10_root``.
    """

    quick: bool = False
    full: bool = False
    device: str | None = None
    seed: int = 0
    out_dir: Path = Path("results")
    progress: bool = True
    cifar10_root: Path | None = None
    download: bool = False


@dataclass
class Table:
    """A table of measured numbers for the report."""

    title: str
    columns: list[str]
    rows: list[list]

    def to_markdown(self) -> str:
        def fmt(v):
            if isinstance(v, float | np.floating):
                return f"{v:.4g}"
            return str(v)

        lines = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "---|" * len(self.columns))
        lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass
class Report:
    """What one lab's experiment measured."""

    title: str
    summary: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)
    seconds: float = 0.0

    def add_figure(self, fig, out_dir: Path, name: str, caption: str) -> None:
        """Save ``fig`` as ``out_dir / name`` and list it, with its caption, in the report."""
        from ..plotting import save_figure  # matplotlib loads only when a figure is saved

        save_figure(fig, Path(out_dir) / name)
        self.figures.append((name, caption))


@contextlib.contextmanager
def cpu_threads(n: int = 1):
    """Run torch's CPU ops and the BLAS/OpenMP pools on ``n`` threads inside the block, then restore them.

    Labs 3 and 4 train tiny 1-D CNNs and logistic regressions on a few hundred
    rows, which gain little from a second thread. On a shared 2-core machine a
    second thread stalls whenever another process holds a core: one torch
    epoch took 0.55 s with 2 threads and 0.8 s with 1, but one stalled for 27 s
    with 2; a 400-row logistic regression took 0.34 s with 2 BLAS threads and
    0.06 s with 1 under load. One thread keeps the measured times honest.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


def run_labs(labs, config: RunConfig) -> list[Report]:
    """Run the experiments of ``labs`` (lab numbers) and write ``report.md``."""
    unknown = sorted(set(labs) - set(LABS))
    if unknown:
        raise ValueError(f"unknown lab(s) {unknown}; registered labs are {sorted(LABS)}.")
    config.out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for lab in labs:
        module = importlib.import_module(LABS[lab][1])
        start = time.perf_counter()
        report = module.run(config)
        report.seconds = time.perf_counter() - start
        reports.append(report)
        write_report(reports, config)  # keep what has finished even if a later lab fails
    return reports


def write_report(reports: list[Report], config: RunConfig) -> Path:
    """Write ``report.md`` under ``config.out_dir`` and return its path."""
    mode = "quick" if config.quick else ("full" if config.full else "default")
    lines = [
        "# dcai-al report",
        "",
        f"Sizes: {mode}; seed {config.seed}; device {config.device or 'auto'}. "
        "Every number below was measured in this run.",
        "",
    ]
    for report in reports:
        lines += [f"## {report.title}", "", f"_Ran in {report.seconds:.1f} s._", ""]
        if report.summary:
            lines += [report.summary, ""]
        for table in report.tables:
            lines += [table.to_markdown(), ""]
        for name, caption in report.figures:
            lines += [f"![{caption}]({name})", "", f"_{caption}_", ""]
    path = config.out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path
