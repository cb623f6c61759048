"""SEALS against the full scan: per-round selection cost from 10^4 to 10^7 examples.

For each pool size both loops start from the same seed set (5 positives, 95
negatives) and spend the same labels on active search ("most likely
positive"), through the kit's one loop (:func:`dcai_al.loop.run_loop` via
:func:`dcai_al.seals.run_seals`) and the same lean scorer. The table gives the
median selection time per round (scoring, choosing, candidate update;
training excluded), the examples scored per round, the ratio, the recall of
positives at the budget, and the IVF index: its cells, the search breadth
(nprobe) chosen at build time for recall@10 >= 0.95 against exact search, and
the recall@10 measured again on other pool rows.

The index is ``kind="ivfhnsw"`` by default: cells of about 1,024 vectors
(nlist = n // 1024, so a cell does not grow with the pool), found by two-level
k-means and chosen through an HNSW graph, with 8-bit codes. ``--index ivfsq``
gives the older rule, nlist ~ sqrt(n) with a flat quantizer, whose cells grow
like sqrt(n).

The data is the kit's generator :func:`dcai_al.data.make_embedding_pool`
(clustered, 64-d, 0.5% positives), not embeddings from a real network: the
cost of a round depends on the pool's size and the candidates' count, which
this measures; how well SEALS finds a concept on real data is Lab 3's
question. 10M x 64 float32 is 2.56 GB, generated in blocks straight into one
array; the IVF index holds a second copy.

    nice -n 10 python benchmarks/bench_seals.py                 # 10^4 .. 10^7
    python benchmarks/bench_seals.py --sizes 10000 100000 --rounds 10
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import ThreadpoolController

from dcai_al.data import make_embedding_pool
from dcai_al.neighbour_index import exact_neighbours, recall_at
from dcai_al.seals import build_index, most_likely_positive, run_seals

D = 64
NLIST_RULE = {"ivf": "nlist ~ sqrt(n)", "ivfsq": "nlist ~ sqrt(n)", "ivfhnsw": "nlist = n // 1024, HNSW quantizer"}


def seed_set(y, seed: int, n_pos: int = 5, n_neg: int = 95) -> np.ndarray:
    """5 positives and 95 negatives, as in the original course lab."""
    rng = np.random.default_rng(seed)
    pos = rng.choice(np.flatnonzero(y == 1), n_pos, replace=False)
    return np.concatenate([pos, rng.choice(np.flatnonzero(y == 0), n_neg, replace=False)])


def measure(n: int, rounds: int, k: int, recall_queries: int, threads: int, kind: str) -> dict:
    X, y = make_embedding_pool(n, D, seed=0, out=np.empty((n, D), dtype=np.float32))  # generated block by block
    start = time.perf_counter()
    index = build_index(X, kind)  # nprobe chosen for recall@10 >= 0.95 on a seeded sample of pool rows
    build_s = time.perf_counter() - start
    # Recall measured again on other rows than nprobe was chosen on (a different seed).
    queries = X[np.sort(np.random.default_rng(12345).choice(n, recall_queries, replace=False))]
    recall = recall_at(index, queries, exact_neighbours(queries, [(0, X)], 10))
    common = dict(initial=seed_set(y, 0), n_rounds=rounds, batch_size=10, k=k, score=most_likely_positive)
    with ThreadpoolController().limit(limits=threads):  # the build above uses every core
        seals = run_seals(X, y, index=index, **common)
        full = run_seals(X, y, restrict=False, **common)
    return dict(
        n=n,
        nlist=int(index.nlist),
        nprobe=int(index.nprobe),
        recall10=recall,
        build_s=build_s,
        seals_ms=float(np.median(seals.selection_seconds) * 1e3),  # medians: single rounds are noisy
        full_ms=float(np.median(full.selection_seconds) * 1e3),
        seals_scored=float(np.mean(seals.candidates[:-1])),
        full_scored=float(np.mean(full.candidates[:-1])),
        seals_found=seals.positives[-1] / y.sum(),
        full_found=full.positives[-1] / y.sum(),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 10_000_000])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument(
        "--index",
        choices=["ivf", "ivfsq", "ivfhnsw"],
        default="ivfhnsw",
        help="nlist ~ sqrt(n) cells of float32 vectors or of 8-bit codes, or n // 1024 cells of 8-bit codes",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS/OpenMP threads for both methods (SEALS rounds always use 1)"
    )
    # Both methods run under one thread policy. On this 2-core machine under load, a 1M x 64 mat-vec
    # took the same time on 1 thread as on 2 (18-22 ms), and small calls were slower on 2.
    args = parser.parse_args()
    report(args)


def report(args):
    print(
        f"Active search, data: dcai_al.data.make_embedding_pool (the kit's generator, not real embeddings), d={D}, "
        f"0.5% positives; seed set 5+95, k={args.k}, batches of 10, {args.rounds} rounds; SEALS over a faiss "
        f"{args.index!r} index ({NLIST_RULE[args.index]}, nprobe for recall@10 >= 0.95).\n{os.cpu_count()} CPUs, "
        f"{args.threads} thread(s) for both methods, load average {os.getloadavg()[0]:.1f} at the start.\n"
    )
    header = (
        f"{'pool':>11s} {'nlist':>6s} {'nprobe':>6s} {'recall@10':>9s} {'build s':>8s} | {'SEALS ms':>8s} "
        f"{'scored':>7s} | {'full ms':>8s} {'scored':>10s} | {'full/SEALS':>10s} | {'found SEALS':>11s} {'full':>6s}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for n in args.sizes:
        r = measure(n, args.rounds, args.k, min(args.recall_queries, n), args.threads, args.index)
        rows.append(r)
        print(
            f"{n:>11,} {r['nlist']:>6d} {r['nprobe']:>6d} {r['recall10']:>9.3f} {r['build_s']:>8.1f} | "
            f"{r['seals_ms']:>8.1f} {r['seals_scored']:>7,.0f} | {r['full_ms']:>8.1f} {r['full_scored']:>10,.0f} | "
            f"{r['full_ms'] / r['seals_ms']:>9.1f}x | {r['seals_found']:>11.1%} {r['full_found']:>6.1%}",
            flush=True,
        )

    by_n = {r["n"]: r for r in rows}
    print()
    if 10_000_000 in by_n:
        ratio = by_n[10_000_000]["full_ms"] / by_n[10_000_000]["seals_ms"]
        verdict = "met" if ratio >= 50 else "NOT met"
        print(f"target 1: full scan / SEALS per round at 10M >= 50x: {ratio:.1f}x ({verdict})")
    if 100_000 in by_n and 10_000_000 in by_n:
        growth = by_n[10_000_000]["seals_ms"] / by_n[100_000]["seals_ms"]
        verdict = "met" if growth <= 2 else "NOT met"
        print(f"target 2: SEALS per round, 10^7 / 10^5 <= 2x: {growth:.2f}x ({verdict})")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
