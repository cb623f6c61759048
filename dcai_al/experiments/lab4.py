"""Lab 4 experiment: core-set selection via proxy on MNIST-1D.

MNIST-1D (Greydanus, 2020) is generated offline by its own package, with
published baselines (logistic regression 32%, MLP 68%, CNN 94%), so nobody
here designed the data for the method. A narrow 1-D CNN proxy, trained for 5
epochs, ranks the training set by forgetting events; the target 1-D CNN trains
on the hardest 30% and 50% (class-balanced), against all the data and against
random subsets of the same size, over several seeds and several training-set
sizes. The proxy's training and the ranking count in the pipeline's time.

The augmented digits (:func:`run_digits`) and CIFAR-10 (opt-in, for a GPU)
run through the same code.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr
from tqdm.auto import tqdm

from .. import plotting
from ..acquisition import least_confidence
from ..data import PoolSplit, load_augmented_digits, load_cifar10, load_mnist1d
from ..models import TorchClassifier
from ..proxy import PROXY, TARGET, end_to_end_speedup, select_via_proxy, train_on_subset
from . import Report, RunConfig, Table, cpu_threads

#: MNIST-1D: a width-8, one-convolution proxy trained for 5 epochs; a width-32, three-convolution target.
#: Fixed before any subset was trained (the issue's pre-check); never tuned to make the proxy win.
MNIST1D_PROXY = dict(arch="cnn1d", width=8, depth=1, hidden=32, epochs=5, lr=3e-3, batch_size=128)
MNIST1D_TARGET = dict(arch="cnn1d", width=32, depth=3, hidden=64, epochs=10, lr=3e-3, batch_size=128)

#: The opt-in CIFAR-10 setting, for a GPU: ResNet20 proxy as in the paper, a deeper ResNet target
#: (the paper's ResNet164 uses bottleneck blocks; this family uses basic blocks).
CIFAR_PROXY = dict(arch="resnet", depth=20, width=16, epochs=10, lr=1e-3, batch_size=128)
CIFAR_TARGET = dict(arch="resnet", depth=56, width=16, epochs=20, lr=1e-3, batch_size=128)


def sizes(quick: bool, full: bool = False) -> dict:
    """Experiment sizes; ``quick`` shrinks them for CI, ``full`` adds a 20,000- and a 40,000-sample pool.

    ``pool_sizes`` are training-set sizes (prefixes of one generated,
    shuffled training set, all scored on the same test set); the largest is
    the main setting, whose numbers the table reports. The default stops at
    10,000 so that the notebook runs in under 3 minutes on 2 CPU cores.
    """
    if quick:
        return dict(
            pool_sizes=[500, 1_000],
            n_test=500,
            fractions=[0.3, 0.5],
            seeds=1,
            target_epochs=2,
            proxy_epochs=2,
            rankings=["forgetting"],
        )
    return dict(
        pool_sizes=[2_500, 5_000, 10_000, 20_000, 40_000] if full else [2_500, 5_000, 10_000],
        n_test=5_000,
        fractions=[0.3, 0.5],
        seeds=3,
        target_epochs=MNIST1D_TARGET["epochs"],
        proxy_epochs=MNIST1D_PROXY["epochs"],
        rankings=["forgetting", "least confidence"] + (["k-centers"] if full else []),
    )


def mnist1d_split(n_train: int, n_test: int, *, seed: int = 42) -> PoolSplit:
    """MNIST-1D as (n, 1, 40) sequences: ``n_train`` training and ``n_test`` test samples."""
    n = n_train + n_test
    return load_mnist1d(n, seed=seed, test_fraction=n_test / n)


def prefix(split: PoolSplit, n: int) -> PoolSplit:
    """The first ``n`` training examples (the pool is shuffled, so a random subset) and the same test set."""
    return PoolSplit(split.X_pool[:n], split.y_pool[:n], split.X_test, split.y_test, split.n_classes)


def _describe(params: dict) -> str:
    return f"{params['arch']} width {params['width']}, depth {params['depth']}, {params['epochs']} epochs"


def random_subset(n: int, fraction: float, seed: int) -> np.ndarray:
    """A seeded uniform random subset of ``ceil(fraction * n)`` training indices, sorted."""
    m = int(np.ceil(fraction * n))
    return np.sort(np.random.default_rng(seed).choice(n, m, replace=False))


def fraction_sweep(
    split, pool_sizes, fractions, seeds, *, proxy: dict, target: dict, device=None, progress=False
) -> dict:
    """Train the target on all data, a proxy-selected and a random subset, per pool size, fraction and seed.

    Returns
    -------
    dict of int -> dict
        For each pool size ``n``: ``{"full": [ProxyRun per seed], "proxy": {fraction: [...]},
        "random": {fraction: [...]}}``. A proxy run's seconds include the proxy's training and the ranking.
    """
    seeds = list(seeds)
    total = len(pool_sizes) * len(seeds) * (1 + 2 * len(fractions))
    bar = tqdm(total=total, desc="trainings", disable=not progress)
    results = {}
    with cpu_threads(1):  # see cpu_threads: a second thread only stalls on a shared 2-core machine
        _sweep(split, pool_sizes, fractions, seeds, proxy, target, device, bar, results)
    bar.close()
    return results


def _sweep(split, pool_sizes, fractions, seeds, proxy, target, device, bar, results) -> None:
    for n in pool_sizes:
        part = prefix(split, n)
        res = results[n] = dict(full=[], proxy={f: [] for f in fractions}, random={f: [] for f in fractions})
        for s in seeds:
            bar.set_postfix_str(f"pool {n:,}, seed {s}")
            res["full"].append(train_on_subset(part, np.arange(n), params=target, seed=s, device=device)[1])
            bar.update()
            for f in fractions:
                res["proxy"][f].append(
                    select_via_proxy(part, f, ranking="forgetting", proxy=proxy, target=target, seed=s, device=device)
                )
                bar.update()
                subset = random_subset(n, f, s)
                res["random"][f].append(train_on_subset(part, subset, params=target, seed=s, device=device)[1])
                bar.update()


def _acc(runs) -> np.ndarray:
    return np.array([r.accuracy for r in runs])


def training_seconds(run) -> dict:
    """A run's proxy training, ranking and target training seconds, the per-epoch test evaluations left out.

    Every run evaluates on the same fixed test set after each epoch, to draw its
    curve; that costs a subset's run as much as the all-data run's, so it is
    measurement, not training, and is left out of every pipeline alike.
    """
    offset = run.seconds["total"] - run.seconds["target"]  # when the target started (0 without a proxy)
    proxy = float(run.proxy_curve[0][-1]) if run.proxy_curve is not None else 0.0
    return dict(proxy=proxy, ranking=float(run.seconds["ranking"]), target=float(run.curve_seconds[-1] - offset))


def summary_rows(res: dict, fractions) -> list[dict]:
    """Per fraction: median training times and speed-ups, mean accuracies over seeds, and the seed spread."""
    full_s = float(np.median([training_seconds(r)["target"] for r in res["full"]]))  # medians: load spikes
    full_acc = _acc(res["full"])
    rows = []
    for f in fractions:
        svp, rnd = res["proxy"][f], res["random"][f]
        times = [training_seconds(r) for r in svp]
        parts = {k: float(np.median([t[k] for t in times])) for k in ("proxy", "ranking", "target")}
        total, speedup = end_to_end_speedup(parts["proxy"], parts["ranking"], parts["target"], full_s)
        acc, racc = _acc(svp), _acc(rnd)
        rows.append(
            dict(
                fraction=f,
                **{f"{k}_s": v for k, v in parts.items()},
                pipeline_s=total,
                full_s=full_s,
                speedup=speedup,
                random_speedup=full_s / float(np.median([training_seconds(r)["target"] for r in rnd])),
                proxy_acc=acc,
                random_acc=racc,
                full_acc=full_acc,
                vs_full=(acc.mean() - full_acc.mean()) * 100,
                vs_random=(acc.mean() - racc.mean()) * 100,
                spread=max(acc.std(), racc.std()) * 100,  # points: the larger of the two seed sds
            )
        )
    return rows


def fraction_figure(results: dict, fractions):
    """Target accuracy against the fraction kept, one colour per pool size: proxy solid, random dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    xs = [*fractions, 1.0]
    for i, (n, res) in enumerate(results.items()):
        full = _acc(res["full"])[:, None]
        proxy = np.hstack([np.stack([_acc(res["proxy"][f]) for f in fractions], 1), full])
        rand = np.hstack([np.stack([_acc(res["random"][f]) for f in fractions], 1), full])
        style = {f"{n:,}: proxy (forgetting)": dict(color=f"C{i}"), f"{n:,}: random": dict(color=f"C{i}", ls="--")}
        plotting.plot_seed_curves(
            {f"{n:,}: proxy (forgetting)": proxy, f"{n:,}: random": rand},
            xs,
            title="MNIST-1D: target accuracy vs fraction kept, per training-set size",
            xlabel="fraction of the training set kept (1.0 = all data)",
            ylabel="test accuracy",
            ax=ax,
            styles=style,
        )
    return fig


def time_figure(res: dict, fraction: float):
    """Accuracy after each epoch against elapsed time for the first seed: proxy, both subsets, all data."""
    svp, rnd, base = res["proxy"][fraction][0], res["random"][fraction][0], res["full"][0]
    proxy_t, proxy_a = svp.proxy_curve
    names = ["proxy training", f"target on {fraction:.0%} proxy-selected", f"target on {fraction:.0%} random"]
    names.append("target on all data")
    return plotting.plot_curves(
        dict(zip(names, [proxy_a, svp.curve_accuracy, rnd.curve_accuracy, base.curve_accuracy], strict=True)),
        dict(zip(names, [proxy_t, svp.curve_seconds, rnd.curve_seconds, base.curve_seconds], strict=True)),
        title="Accuracy vs time (proxy first, then its target)",
        xlabel="seconds since the start",
        ylabel="test accuracy",
    )


def ranking_agreement(split, proxy_params, target_clf, fraction: float, seed: int, device=None):
    """Spearman correlation of per-example least confidence, proxy vs target, and top-set overlap."""
    proxy = TorchClassifier(**proxy_params, classes=np.arange(split.n_classes), seed=seed, device=device)
    proxy.fit(split.X_pool, split.y_pool)
    p = least_confidence(proxy.predict_proba(split.X_pool))
    t = least_confidence(target_clf.predict_proba(split.X_pool))
    m = int(np.ceil(fraction * len(p)))
    top_p, top_t = np.argsort(-p, kind="stable")[:m], np.argsort(-t, kind="stable")[:m]
    overlap = np.intersect1d(top_p, top_t).size / m
    return float(spearmanr(p, t).statistic), overlap, m / len(p)


def _vs(acc, full) -> str:
    return f"{acc.mean():.4f} ({(acc.mean() - full.mean()) * 100:+.1f})"


def _spread(values) -> str:
    values = np.asarray(values)
    return f"{values.mean():.4f} ({values.min():.4f}-{values.max():.4f})"


def summary_table(rows: list[dict], title: str) -> Table:
    """The rows of :func:`summary_rows` as a table: times, speed-ups, accuracies and gaps, one row per fraction.

    In a notebook, ``IPython.display.Markdown(summary_table(rows, title).to_markdown())`` shows it.
    """
    columns = [
        "kept",
        "proxy s",
        "ranking s",
        "target s",
        "pipeline s",
        "all-data s",
        "speed-up (proxy pipeline)",
        "speed-up (random subset)",
        "proxy-selected acc",
        "random acc",
        "all-data acc",
        "vs all (points)",
        "vs random (points)",
        "seed sd (points)",
    ]
    body = [
        [
            f"{r['fraction']:.0%}",
            f"{r['proxy_s']:.1f}",
            f"{r['ranking_s']:.2f}",
            f"{r['target_s']:.1f}",
            f"{r['pipeline_s']:.1f}",
            f"{r['full_s']:.1f}",
            f"{r['speedup']:.2f}x",
            f"{r['random_speedup']:.2f}x",
            _spread(r["proxy_acc"]),
            _spread(r["random_acc"]),
            _spread(r["full_acc"]),
            f"{r['vs_full']:+.2f}",
            f"{r['vs_random']:+.2f}",
            f"{r['spread']:.2f}",
        ]
        for r in rows
    ]
    return Table(title, columns, body)


def run(config: RunConfig) -> Report:
    size = sizes(config.quick, config.full)
    if config.cifar10_root is not None:  # opt-in: needs the files (or download=True) and, in practice, a GPU
        split = load_cifar10(config.cifar10_root, download=config.download)
        size = dict(size, pool_sizes=[len(split.y_pool)], fractions=[0.5], seeds=1, rankings=["forgetting"])
        size.update(target_epochs=CIFAR_TARGET["epochs"], proxy_epochs=CIFAR_PROXY["epochs"])
        return _run(config, split, size, CIFAR_PROXY, CIFAR_TARGET, "Lab 4 on CIFAR-10 (opt-in)", "CIFAR-10")
    split = mnist1d_split(max(size["pool_sizes"]), size["n_test"])
    return _run(config, split, size, MNIST1D_PROXY, MNIST1D_TARGET, "Lab 4: core-set selection via proxy", "MNIST-1D")


def run_digits(config: RunConfig) -> Report:
    """The second option: the same experiment on the augmented digits (1,347 digits x 20 jittered copies)."""
    size = dict(sizes(config.quick), rankings=["forgetting"])
    split = load_augmented_digits(copies=3 if config.quick else 20, seed=config.seed)
    size.update(pool_sizes=[len(split.y_pool)], target_epochs=2 if config.quick else TARGET["epochs"])
    size.update(proxy_epochs=PROXY["epochs"])
    return _run(config, split, size, PROXY, TARGET, "Lab 4 on augmented digits", "augmented digits")


def _run(config: RunConfig, split, size: dict, proxy: dict, target: dict, title: str, data_name: str) -> Report:
    out = config.out_dir
    proxy = dict(proxy, epochs=size["proxy_epochs"])
    target = dict(target, epochs=size["target_epochs"])
    report = Report(title=title)
    seeds = list(range(config.seed, config.seed + size["seeds"]))
    fractions = size["fractions"]
    n = max(size["pool_sizes"])
    main = prefix(split, n)
    with cpu_threads(1):
        # Untimed warm-up: the first fit in a process pays for torch's one-off start-up costs.
        TorchClassifier(**dict(target, epochs=1), device=config.device).fit(split.X_pool[:512], split.y_pool[:512])
        results = fraction_sweep(
            split,
            size["pool_sizes"],
            fractions,
            seeds,
            proxy=proxy,
            target=target,
            device=config.device,
            progress=config.progress,
        )
        res = results[n]
        rows = summary_rows(res, fractions)
        if len(results) > 1:
            fig = fraction_figure(results, fractions)
            report.add_figure(
                fig,
                out,
                "lab4_fraction.png",
                f"Target test accuracy vs fraction kept, per training-set size; line: median, band: min-max "
                f"over {len(seeds)} seeds. Proxy-selected (solid) vs random (dashed); 1.0 is all the data.",
            )
        f = fractions[-1]
        report.add_figure(
            time_figure(res, f),
            out,
            "lab4_time.png",
            f"Test accuracy after each epoch against elapsed time, seed {seeds[0]}, {n:,} training samples.",
        )
        report.tables.append(
            summary_table(
                rows,
                f"{data_name}, {n:,} training and {len(split.y_test):,} test samples (one test sample is "
                f"{100 / len(split.y_test):.2f} points); {len(seeds)} seeds, accuracy mean and (min-max), "
                f"times median; proxy: "
                f"{_describe(proxy)}; target: {_describe(target)}; the pipeline's time includes the proxy; times are "
                f"training only (the per-epoch test evaluations, the same for every run, are left out)",
            )
        )
        if len(results) > 1:
            report.tables.append(
                Table(
                    f"Accuracy by training-set size, mean of {len(seeds)} seeds (points vs all data in brackets)",
                    ["training samples", "all data", *[f"proxy {f:.0%}" for f in fractions]]
                    + [f"random {f:.0%}" for f in fractions],
                    [
                        [f"{m:,}", f"{_acc(r['full']).mean():.4f}"]
                        + [_vs(_acc(r[kind][f]), _acc(r["full"])) for kind in ("proxy", "random") for f in fractions]
                        for m, r in results.items()
                    ],
                )
            )

        # Other rankings at the largest fraction, and how far the proxy's ranking agrees with the target's.
        target_clf, _ = train_on_subset(main, np.arange(n), params=target, seed=seeds[0], device=config.device)
        rho, overlap, frac = ranking_agreement(main, proxy, target_clf, f, seeds[0], config.device)
        ranking_rows = []
        for ranking in tqdm(size["rankings"], desc="rankings", disable=not config.progress, leave=False):
            r = select_via_proxy(
                main, f, ranking=ranking, proxy=proxy, target=target, seed=seeds[0], device=config.device
            )
            ranking_rows.append(
                [ranking, f"{r.accuracy:.4f}", f"{r.seconds['ranking']:.2f}", f"{r.seconds['total']:.1f}"]
            )
    report.tables.append(
        Table(
            f"Rankings at {f:.0%} kept (seed {seeds[0]}); proxy vs target agreement: Spearman rho of per-example "
            f"least confidence {rho:.2f}, overlap of the top {frac:.0%} sets {overlap:.0%}",
            ["ranking", "target accuracy", "ranking s", "pipeline s"],
            ranking_rows,
        )
    )
    report.summary = summary_text(rows, results, data_name)
    return report


def summary_text(rows: list[dict], results: dict, data_name: str) -> str:
    """What the numbers say, written from the numbers (no claim is fixed in advance)."""
    main = rows[-1]
    lines = [
        f"A narrow proxy trained for a few epochs ranks the {data_name} training set by forgetting events; the target "
        f"trains on the hardest fraction of each class. The pipeline's time includes the proxy. At "
        f"{main['fraction']:.0%} kept, the proxy-selected target scores {main['vs_full']:+.2f} points against all "
        f"the data and {main['vs_random']:+.2f} against a random subset of the same size (seed sd up to "
        f"{main['spread']:.2f} points), {main['speedup']:.2f}x faster end to end than training on everything "
        f"(a random subset, which needs no proxy: {main['random_speedup']:.2f}x)."
    ]
    targets = [
        ("within 1 point of all data", main["vs_full"] >= -1.0),
        ("at least 1.5x end to end", main["speedup"] >= 1.5),
        (
            "above random by more than the seed spread",
            len(main["proxy_acc"]) > 1 and main["vs_random"] > main["spread"],
        ),
    ]
    met = [name for name, ok in targets if ok]
    missed = [name for name, ok in targets if not ok]
    lines.append(
        "Of the lecture's claims, this run shows: "
        + (", ".join(met) or "none")
        + ("; not shown: " + ", ".join(missed) if missed else "")
        + "."
    )
    if len(results) > 1:
        gaps = {
            n: (_acc(r["proxy"][main["fraction"]]).mean() - _acc(r["full"]).mean()) * 100 for n, r in results.items()
        }
        sizes_ = sorted(gaps)
        trend = "shrinks" if abs(gaps[sizes_[-1]]) < abs(gaps[sizes_[0]]) else "does not shrink"
        lines.append(
            f"The loss from keeping a fraction {trend} as the training set grows (proxy-selected "
            f"{main['fraction']:.0%} vs all data: "
            + ", ".join(f"{g:+.1f} points at {n:,}" for n, g in gaps.items())
            + "): 'half the data, no loss' needs a training set large and redundant enough that half of it "
            "still covers what the target must learn."
        )
    return " ".join(lines)
