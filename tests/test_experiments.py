"""Every registered lab experiment runs at quick size and reports measured numbers and figures."""

import numpy as np
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


def test_lab4_times_leave_out_the_per_epoch_test_evaluations():
    import numpy as np

    from dcai_al.experiments import lab4
    from dcai_al.proxy import ProxyRun

    # The target started 2.6 s into the pipeline and trained 6 s; its 10 s of wall time include evaluations.
    run = ProxyRun(
        subset=np.arange(3),
        accuracy=0.5,
        seconds=dict(proxy=2.0, ranking=0.5, target=10.0, total=12.6),
        curve_seconds=np.array([5.6, 8.6]),
        curve_accuracy=np.array([0.4, 0.5]),
        proxy_curve=(np.array([1.0, 1.8]), np.array([0.3, 0.4])),
    )
    assert lab4.training_seconds(run) == {"proxy": 1.8, "ranking": 0.5, "target": 6.0}


def test_lab3_thinning_keeps_the_rare_class_at_its_prevalence():
    import numpy as np

    from dcai_al.experiments import lab3

    y = np.repeat(np.arange(10), 1000)
    kept = lab3._thin(y, lab3.PREVALENCE, np.random.default_rng(0))
    assert np.isclose((y[kept] == lab3.RARE_CLASS).mean(), lab3.PREVALENCE, atol=1e-4)
    assert (y[kept] != lab3.RARE_CLASS).sum() == 9000


def test_lab3_generated_embeddings_are_seeded_rows_of_the_networks_width_with_the_rare_digit_at_its_prevalence():
    import numpy as np

    from dcai_al.experiments import lab3
    from dcai_al.mnist1d_recipe import mnist1d_signals, standardise
    from dcai_al.models import TorchClassifier

    digits = np.arange(300) % 10
    net = TorchClassifier(arch="cnn1d", width=4, depth=2, hidden=8, epochs=1, seed=0)
    net.fit(standardise(mnist1d_signals(digits, seed=0)), digits)
    X, y = lab3.generated_embeddings(net, 30_000, seed=1, prevalence=0.02, block=7_000)
    assert X.shape == (30_000, 8) and X.dtype == np.float32 and y.dtype == np.int8
    assert abs(y.mean() - 0.02) < 0.004
    out = np.zeros((30_000, 8), dtype=np.float32)
    X2, y2 = lab3.generated_embeddings(net, 30_000, seed=1, prevalence=0.02, block=7_000, out=out)
    assert X2 is out and np.array_equal(X2, X) and np.array_equal(y2, y)
    assert not np.array_equal(lab3.generated_embeddings(net, 100, seed=2)[0], X[:100])


def test_lab3_selection_cost_runs_on_the_generator_without_a_network_and_reports_the_index():
    from dcai_al.experiments import lab3

    (row,) = lab3.selection_cost([3_000], rounds=2, k=10)
    assert row["n"] == 3_000 and row["seals_s"] > 0 and row["full_s"] > 0
    assert 1 <= row["nprobe"] <= row["nlist"] and row["candidates"] > 0


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        (dict(block=0), ValueError, "block"),
        (dict(prevalence=3.0), ValueError, "prevalence"),
        (dict(out=None, n=-1), ValueError, "n"),
        (dict(out=np.zeros((10, 4))), ValueError, "out"),
    ],
)
def test_lab3_generated_embeddings_refuses_bad_sizes_by_name(kwargs, error, word):
    from dcai_al.experiments import lab3

    args = dict(n=10)
    args.update(kwargs)
    with pytest.raises(error, match=word):
        lab3.generated_embeddings(None, **args)
