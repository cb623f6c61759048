"""Lab 3 experiment: SEALS against a full scan of the pool, on a network's embeddings.

The embeddings come from a network, as in the paper, not from a generator:
a small 1-D CNN is trained offline on MNIST-1D (Greydanus, 2020) *without*
the rare class (digit 7), and its penultimate layer embeds a pool and a test
set in which that class is kept at 0.5%. The network never saw the concept,
like a pre-trained model meeting a new one. Three results: (1) active search,
the share of the pool's positives found vs labels; (2) active learning, test
average precision vs labels; (3) cost, the selection step's time per round vs
pool size, on pools of new MNIST-1D samples embedded by the same network
(:func:`generated_embeddings`; the samples come from the package's recipe
applied to whole blocks, :mod:`dcai_al.mnist1d_recipe`), which can be made
as large as wanted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from tqdm.auto import tqdm

from .. import plotting
from ..acquisition import entropy
from ..data import load_mnist1d, make_embedding_pool
from ..mnist1d_recipe import mnist1d_signals, standardise
from ..models import TorchClassifier
from ..seals import build_index, most_likely_positive, run_seals
from ..seals_round import run_rounds
from ..seals_round import seals_round as kit_round
from ..validation import check_fraction, check_positive_int
from . import Report, RunConfig, Table, cpu_threads

D = 64
PREVALENCE = 0.005
RARE_CLASS = 7
#: The embedding network: three 1-D convolutions of 32 channels, a 64-d penultimate layer, 10 epochs.
EMBEDDER = dict(arch="cnn1d", width=32, depth=3, hidden=D, epochs=10, lr=3e-3, batch_size=128)


def sizes(quick: bool, full: bool = False) -> dict:
    """Experiment sizes; ``quick`` shrinks them for CI, ``full`` takes the cost curve to 10^7.

    ``generate`` MNIST-1D samples are made: ``embed_train`` of them (less the
    rare class) train the embedding network, ``n_test`` form the test set and
    the rest the pool, each with the rare class thinned to ``PREVALENCE``.
    """
    if quick:
        return dict(
            generate=8_000,
            embed_train=3_000,
            n_test=2_000,
            embed_epochs=2,
            rounds=8,
            seeds=2,
            k=50,
            cost_sizes=[5_000, 20_000],
            cost_rounds=3,
        )
    cost = [10_000, 100_000, 1_000_000] + ([10_000_000] if full else [])
    return dict(
        generate=80_000,
        embed_train=20_000,
        n_test=10_000,
        embed_epochs=EMBEDDER["epochs"],
        rounds=30,
        seeds=5,
        k=100,
        cost_sizes=cost,
        cost_rounds=15,
    )


@dataclass
class EmbeddedPool:
    """A pool and a test set embedded by a network that never saw the rare class.

    Attributes
    ----------
    X, y : numpy.ndarray
        Pool embeddings (n, 64), float32, and labels (1 = the rare class).
    X_test, y_test : numpy.ndarray
        The test set, embedded the same way, with the same prevalence.
    embedder_accuracy : float
        The network's test accuracy on the other 9 classes.
    neighbour_precision : float
        Share of a positive's 10 nearest pool neighbours that are positive.
    seconds : dict
        Generating, training the network, embedding.
    embedder : TorchClassifier
        The network; :func:`generated_embeddings` embeds a pool of any size with it.
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    embedder_accuracy: float
    neighbour_precision: float
    seconds: dict
    embedder: TorchClassifier | None = None


def _thin(y, keep_fraction: float, rng) -> np.ndarray:
    """Indices keeping every non-rare row and the rare class at ``keep_fraction`` of the result."""
    rare = np.flatnonzero(y == RARE_CLASS)
    other = np.flatnonzero(y != RARE_CLASS)
    n_rare = max(1, round(keep_fraction * other.size / (1 - keep_fraction)))
    return np.sort(np.concatenate([other, rng.choice(rare, min(n_rare, rare.size), replace=False)]))


def mnist1d_embeddings(size: dict, *, seed: int = 0, progress=False) -> EmbeddedPool:
    """Train the embedding network on MNIST-1D without digit 7, then embed a pool and a test set.

    The rare class is thinned to ``PREVALENCE`` in both; ``seed`` controls the thinning
    and the network (the data is MNIST-1D's own default generation, seed 42).
    """
    bar = tqdm(total=3, desc="embeddings", disable=not progress, leave=False)
    t0 = time.perf_counter()
    n_test = size["n_test"]
    data = load_mnist1d(size["generate"], seed=42, test_fraction=n_test / size["generate"])
    t1 = time.perf_counter()
    bar.update()
    X_all, y_all = data.X_pool, data.y_pool
    m = size["embed_train"]
    known = y_all[:m] != RARE_CLASS
    classes = np.array([c for c in range(10) if c != RARE_CLASS])
    with cpu_threads(1):
        net = TorchClassifier(
            **dict(EMBEDDER, epochs=size["embed_epochs"]), classes=classes, seed=seed, progress=progress
        )
        net.fit(X_all[:m][known], y_all[:m][known])
        t2 = time.perf_counter()
        bar.update()
        test_known = data.y_test != RARE_CLASS
        accuracy = float((net.predict(data.X_test[test_known]) == data.y_test[test_known]).mean())
        rng = np.random.default_rng(seed)
        pool_rows, test_rows = _thin(y_all[m:], PREVALENCE, rng), _thin(data.y_test, PREVALENCE, rng)
        X = net.embed(X_all[m:][pool_rows])
        X_test = net.embed(data.X_test[test_rows])
    y = (y_all[m:][pool_rows] == RARE_CLASS).astype(np.int8)
    y_test = (data.y_test[test_rows] == RARE_CLASS).astype(np.int8)
    index = build_index(X)
    pos = np.flatnonzero(y)
    ids = index.search(X[pos], 11)[1]
    precision = float(np.mean([y[row[row != p][:10]].mean() for row, p in zip(ids, pos, strict=True)]))
    bar.update()
    bar.close()
    seconds = dict(generate=t1 - t0, train=t2 - t1, embed=time.perf_counter() - t2)
    return EmbeddedPool(X, y, X_test, y_test, accuracy, precision, seconds, embedder=net)


def generated_embeddings(
    embedder, n: int, *, seed: int = 0, prevalence: float = PREVALENCE, block: int = 100_000, out=None
) -> tuple[np.ndarray, np.ndarray]:
    """A pool of ``n`` new MNIST-1D samples embedded by ``embedder``, made block by block: any size.

    The samples come from :mod:`dcai_al.mnist1d_recipe` (the package's recipe
    on whole blocks), digit 7 with probability ``prevalence`` and the other
    nine equally likely, so a pool of 10^7 takes minutes, not hours, and never
    holds more than one block of signals.

    Parameters
    ----------
    embedder : TorchClassifier
        A fitted network, e.g. :attr:`EmbeddedPool.embedder`.
    n : int
    seed : int
        Seeds the labels and every block's draws (one seed with another
        ``block`` gives other samples: the draws are made block by block).
    prevalence : float
        Probability of the rare digit, in (0, 1].
    block : int
        Samples made and embedded at a time.
    out : numpy.ndarray of shape (n, d), float32, optional
        Written in place (to avoid a second copy of a large pool).

    Returns
    -------
    X : numpy.ndarray of float32, shape (n, d)
    y : numpy.ndarray of int8, shape (n,)
        1 for the rare digit.
    """
    n = check_positive_int(n, "n")
    block = check_positive_int(block, "block")
    prevalence = check_fraction(prevalence, "prevalence")
    if out is not None and not (
        isinstance(out, np.ndarray) and out.dtype == np.float32 and out.ndim == 2 and out.shape[0] == n
    ):
        raise ValueError(f"out must be a float32 array of {n} rows, got {getattr(out, 'shape', out)!r}.")
    rng = np.random.default_rng(seed)
    digits = rng.integers(0, 9, n)
    digits[digits >= RARE_CLASS] += 1  # the other nine digits, equally likely
    digits[rng.random(n) < prevalence] = RARE_CLASS
    X = out
    for start in range(0, n, block):
        stop = min(n, start + block)
        rows = embedder.embed(standardise(mnist1d_signals(digits[start:stop], seed=rng)))
        if X is None:  # the embedding's width is the network's: known after the first block
            X = np.empty((n, rows.shape[1]), dtype=np.float32)
        X[start:stop] = rows
    return X, (digits == RARE_CLASS).astype(np.int8)


def seed_set(y, seed: int, n_pos: int = 5, n_neg: int = 95) -> np.ndarray:
    """The original course lab's start: 5 positives and 95 negatives."""
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.choice(np.flatnonzero(y == 1), n_pos, replace=False),
            rng.choice(np.flatnonzero(y == 0), n_neg, replace=False),
        ]
    )


def compare(
    X, y, X_test, y_test, *, score, rounds: int, k: int, seeds, index=None, seals_round=None, progress=False
) -> dict:
    """SEALS, full scan and random selection with the same seed sets; histories per method.

    Each SEALS round is a call of ``seals_round(index, embeddings, labelled, new_ids, candidates,
    score, k, batch_size) -> (candidates, picks)`` (Lab 3's exercise; the kit's
    :func:`dcai_al.seals_round.seals_round` when None), through :func:`dcai_al.seals_round.run_rounds`.
    """
    runs = {"SEALS": [], "full scan": [], "random": []}
    seals_round = kit_round if seals_round is None else seals_round
    index = build_index(X) if index is None else index
    with cpu_threads(1):  # a few hundred rows per fit: a second BLAS thread only stalls on a shared machine
        for s in tqdm(list(seeds), desc="seed sets", disable=not progress, leave=False):
            rng = np.random.default_rng(s)

            def random_score(probs, rng=rng):  # the passive baseline, run through the same loop
                return rng.random(len(probs))

            initial = seed_set(y, s)
            common = dict(labelled=initial, n_rounds=rounds, batch_size=10, k=k, X_test=X_test, y_test=y_test)
            runs["SEALS"].append(run_rounds(X, y, round_fn=seals_round, score=score, index=index, **common))
            runs["full scan"].append(run_seals(X, y, score=score, restrict=False, **common))
            runs["random"].append(run_seals(X, y, score=random_score, restrict=False, **common))
    return runs


def all_labels_ap(X, y, X_test, y_test) -> float:
    """Test AP of the same logistic regression trained on every pool label: the ceiling for the loop."""
    model = LogisticRegression(max_iter=1000, class_weight="balanced").fit(X, y)
    return float(average_precision_score(y_test, model.predict_proba(X_test)[:, 1]))


def selection_cost(pool_sizes, *, rounds: int, k: int, seed: int = 0, embedder=None, progress=False) -> list[dict]:
    """Median selection time per round and mean candidate-pool size, SEALS vs full scan, per pool size.

    With ``embedder`` (the lab's network, :attr:`EmbeddedPool.embedder`) each
    pool is new MNIST-1D samples embedded by it (:func:`generated_embeddings`),
    the same kind of data as the rest of the lab, made as large as wanted;
    without, the kit's clustered Gaussian generator
    (:func:`dcai_al.data.make_embedding_pool`). SEALS searches an
    ``"ivfhnsw"`` index (cells of about 1,024 vectors, nprobe chosen for
    recall@10 >= 0.95, the shortlist reranked exactly), as
    ``benchmarks/bench_seals.py`` does; both methods score through the same
    lean scorer, on one thread.
    """
    import faiss

    rows = []
    for n in tqdm(pool_sizes, desc="pool sizes", disable=not progress, leave=False):
        if embedder is None:
            X, y = make_embedding_pool(n, D, prevalence=PREVALENCE, seed=seed)
        else:
            X, y = generated_embeddings(embedder, n, seed=seed)
        start = time.perf_counter()
        index = build_index(X, "ivfhnsw", refine=True, seed=seed)
        build_s = time.perf_counter() - start
        ivf = faiss.extract_index_ivf(index)
        common = dict(labelled=seed_set(y, seed), n_rounds=rounds, batch_size=10, k=k, score=most_likely_positive)
        with cpu_threads(1):  # both on one thread, as SEALS's rounds always are and bench_seals.py runs both
            seals = run_seals(X, y, index=index, **common)
            full = run_seals(X, y, restrict=False, **common)
        rows.append(
            dict(
                n=n,
                seals_s=float(np.median(seals.selection_seconds)),  # medians: single rounds are noisy
                full_s=float(np.median(full.selection_seconds)),
                candidates=int(np.mean(seals.candidates[:-1])),
                build_s=build_s,
                nlist=int(ivf.nlist),
                nprobe=int(ivf.nprobe),
            )
        )
        del X, y, index
    return rows


def _stack(runs, key):
    return np.stack([getattr(h, key) for h in runs]).astype(float)


def _range(values, fmt="{:.3f}") -> str:
    values = np.asarray(values)
    return f"{fmt.format(np.median(values))} ({fmt.format(values.min())}-{fmt.format(values.max())})"


def search_figure(found: dict, n_labelled, total_pos: int, n: int):
    """Share of the pool's positives found vs labels: median and range over seed sets."""
    return plotting.plot_seed_curves(
        {name: v / total_pos for name, v in found.items()},
        n_labelled,
        title=f"Active search: positives found (pool {n:,}, {total_pos} positives)",
        xlabel="labelled examples",
        ylabel="share of the pool's positives labelled",
    )


def learning_figure(ap: dict, n_labelled, ceiling: float):
    """Test AP vs labels: median and range over seed sets, and the all-labels ceiling."""
    curves = dict(ap)
    curves["every pool label"] = np.full(len(n_labelled), ceiling)
    return plotting.plot_seed_curves(
        curves,
        n_labelled,
        title="Active learning (max entropy): test average precision",
        xlabel="labelled examples",
        ylabel="average precision",
        styles={"every pool label": dict(color="gray", ls=":")},
    )


def cost_figure(cost: list[dict]):
    """Per-round selection time against pool size, log-log."""
    return plotting.plot_curves(
        {
            "SEALS (IVF index)": np.array([r["seals_s"] for r in cost]),
            "full scan": np.array([r["full_s"] for r in cost]),
        },
        [r["n"] for r in cost],
        title="Selection cost per round vs pool size (MNIST-1D pools, embedded)",
        xlabel="pool size",
        ylabel="seconds per round (median)",
        log_x=True,
        log_y=True,
    )


def run(config: RunConfig) -> Report:
    size = sizes(config.quick, config.full)
    out = config.out_dir
    report = Report(title="Lab 3: SEALS, active learning and search through nearest neighbours")
    bar = tqdm(total=4, desc="lab 3", disable=not config.progress)
    pool = mnist1d_embeddings(size, seed=config.seed, progress=config.progress)
    X, y, X_test, y_test = pool.X, pool.y, pool.X_test, pool.y_test
    index = build_index(X)
    seeds = range(config.seed, config.seed + size["seeds"])
    total_pos = int(y.sum())
    ceiling = all_labels_ap(X, y, X_test, y_test)
    bar.update()

    common = dict(rounds=size["rounds"], k=size["k"], seeds=seeds, index=index, progress=config.progress)
    search = compare(X, y, X_test, y_test, score=most_likely_positive, **common)
    n_labelled = search["SEALS"][0].n_labelled
    found = {name: _stack(runs, "positives") for name, runs in search.items()}
    fig = search_figure(found, n_labelled, total_pos, len(y))
    caption = (
        f"Share of the pool's positives labelled vs labels; line: median, band: range over {len(seeds)} seed sets."
    )
    report.add_figure(fig, out, "lab3_search.png", caption)
    bar.update()

    learning = compare(X, y, X_test, y_test, score=entropy, **common)
    ap = {name: _stack(runs, "average_precision") for name, runs in learning.items()}
    fig = learning_figure(ap, n_labelled, ceiling)
    caption = f"Test average precision vs labels (max-entropy selection); median and range over {len(seeds)} seed sets."
    report.add_figure(fig, out, "lab3_learning.png", caption)
    rows = []
    for name in search:
        sel = _stack(search[name], "selection_seconds").mean() * 1e3
        cand = _stack(search[name], "candidates")[:, :-1].mean()
        rows.append(
            [
                name,
                _range(found[name][:, -1] / total_pos, "{:.0%}"),
                _range(ap[name][:, 0]),
                _range(ap[name][:, -1]),
                f"{cand:,.0f}",
                f"{sel:.1f}",
            ]
        )
    report.tables.append(
        Table(
            f"MNIST-1D embedded by a 1-D CNN trained without digit {RARE_CLASS} (its accuracy on the other 9 classes: "
            f"{pool.embedder_accuracy:.3f}). Pool of {len(y):,} ({total_pos} positives, {y.mean():.2%}), test set of "
            f"{len(y_test):,} ({int(y_test.sum())} positives); a positive's 10 nearest neighbours are "
            f"{pool.neighbour_precision:.0%} positive ({pool.neighbour_precision / y.mean():.0f}x the prevalence). "
            f"Seed sets of 5 positives + 95 negatives; k={size['k']}; batches of 10; {size['rounds']} rounds; "
            f"median (range) over {len(seeds)} seed sets; logistic regression trained on every pool label: AP "
            f"{ceiling:.3f}",
            [
                "method",
                f"positives found at {int(n_labelled[-1])} labels (active search)",
                "test AP at 100 seed labels",
                f"test AP at {int(n_labelled[-1])} labels (active learning)",
                "scored per round",
                "selection ms per round",
            ],
            rows,
        )
    )
    bar.update()

    cost = selection_cost(
        size["cost_sizes"], rounds=size["cost_rounds"], k=size["k"], seed=config.seed, embedder=pool.embedder
    )
    report.add_figure(
        cost_figure(cost),
        out,
        "lab3_cost.png",
        "Selection time per round (log-log) on new MNIST-1D pools embedded by the same network: the full scan "
        "grows with the pool, SEALS with its candidates.",
    )
    report.tables.append(
        Table(
            "Selection cost per round on new MNIST-1D pools embedded by the network, median (scoring + choosing + "
            "candidate update; model training excluded); IVF cells and the breadth chosen for recall@10 >= 0.95",
            [
                "pool size",
                "SEALS ms",
                "SEALS scored",
                "full scan ms",
                "full / SEALS",
                "IVF cells",
                "nprobe",
                "IVF build s",
            ],
            [
                [
                    f"{r['n']:,}",
                    f"{r['seals_s'] * 1e3:.1f}",
                    f"{r['candidates']:,}",
                    f"{r['full_s'] * 1e3:.1f}",
                    f"{r['full_s'] / r['seals_s']:.1f}x",
                    f"{r['nlist']:,}",
                    f"{r['nprobe']}",
                    f"{r['build_s']:.1f}",
                ]
                for r in cost
            ],
        )
    )
    bar.update()
    bar.close()
    report.summary = summary_text(found, ap, total_pos, ceiling, cost, search)
    return report


def summary_text(found, ap, total_pos, ceiling, cost, search) -> str:
    """What the numbers say, computed from them."""
    med = {name: float(np.median(v[:, -1])) for name, v in found.items()}
    ap_end = {name: float(np.median(v[:, -1])) for name, v in ap.items()}
    ap_start = float(np.median(ap["SEALS"][:, 0]))
    worst = {name: float(v[:, -1].min()) for name, v in ap.items()}
    scored = float(_stack(search["SEALS"], "candidates")[:, :-1].mean())
    full_scored = float(_stack(search["full scan"], "candidates")[:, :-1].mean())
    small, big = cost[0], cost[-1]
    gap = (ap_end["SEALS"] - ap_end["full scan"]) * 100
    median_curve = {name: np.median(v, 0) for name, v in ap.items()}
    dip = {name: float(c.min()) for name, c in median_curve.items()}
    ms = {name: float(_stack(search[name], "selection_seconds").mean() * 1e3) for name in search}
    return (
        "SEALS scores only the nearest neighbours of the labelled examples, found with a faiss index, in the "
        "embedding space of a 1-D CNN trained on MNIST-1D without the rare digit. "
        f"Active search: after the last round SEALS has labelled {med['SEALS']:.0f} of {total_pos} positives "
        f"(median over seed sets), the full scan {med['full scan']:.0f}, random {med['random']:.0f}. "
        f"Active learning: test AP rises from {ap_start:.3f} with the 100 seed labels to {ap_end['SEALS']:.3f} for "
        f"SEALS and {ap_end['full scan']:.3f} for the full scan ({gap:+.1f} points; random {ap_end['random']:.3f}; "
        f"every pool label {ceiling:.3f}); the worst seed set ends at {worst['SEALS']:.3f} (SEALS) and "
        f"{worst['full scan']:.3f} (full scan). SEALS scored {scored:,.0f} examples a round against "
        f"{full_scored:,.0f}; with the exact (flat) index used here each query still reads the whole pool, so a "
        f"SEALS round took {ms['SEALS']:.1f} ms against {ms['full scan']:.1f} ms for the full scan at this size. "
        f"Where uncertainty sampling loses: the median AP curve first falls, to {dip['SEALS']:.3f} for SEALS and "
        f"{dip['full scan']:.3f} for the full scan (random: {dip['random']:.3f}), before it rises: max entropy "
        "first spends labels near the seed positives on negatives that look like them. "
        "Where SEALS can lose: it only sees the neighbourhoods of what is labelled, so "
        "positives that sit far from every labelled example (a second mode of the concept, or ones the network "
        "embedded among other digits) are never candidates; uncertainty sampling, in both forms, spends labels "
        "on the boundary it already knows and can stall when the seed positives are unrepresentative, which is "
        f"what the spread over seed sets shows. Cost, on new samples embedded by the same network: from "
        f"{small['n']:,} to {big['n']:,} rows the full scan's round grew from {small['full_s'] * 1e3:.1f} to "
        f"{big['full_s'] * 1e3:.1f} ms and SEALS's from {small['seals_s'] * 1e3:.1f} to {big['seals_s'] * 1e3:.1f} "
        f"ms (scoring {small['candidates']:,} to {big['candidates']:,} candidates), so at {big['n']:,} rows a SEALS "
        f"round cost {big['seals_s'] / big['full_s']:.1%} of a full scan's ({big['full_s'] / big['seals_s']:.1f}x "
        "cheaper)."
    )
