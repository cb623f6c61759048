"""SEALS against the full scan: selection time per round and recall, plus index costs.

For each pool size, both loops start from the same seed set (5 positives,
95 negatives) and spend the same label budget on active search ("most likely
positive"); the table gives the median selection time per round (scoring,
choosing, candidate update; training excluded), the ratio, and the recall of
positives at the budget. A second table gives build time and size for the
flat, IVF and HNSW indexes.

    python benchmarks/bench_seals.py                       # 100k and 1M points
    python benchmarks/bench_seals.py --sizes 100000 --hnsw-max 100000
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from dcai_al.experiments.lab3 import rare_concept_pool, seed_set
from dcai_al.seals import build_index, most_likely_positive, run_seals


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--hnsw-max", type=int, default=100_000, help="largest pool to build HNSW for (slow)")
    args = parser.parse_args()

    print(
        f"Active search, d=64, 0.5% positives, seed set 5+95, k={args.k}, batches of 10, {args.rounds} rounds;"
        " SEALS over an IVF index (nlist=sqrt(n), nprobe=8)\n"
    )
    header = (
        f"{'pool':>10s} {'SEALS ms':>9s} {'full ms':>9s} {'full/SEALS':>11s} {'scored/round':>13s} "
        f"{'SEALS recall':>13s} {'full recall':>12s}"
    )
    print(header)
    print("-" * len(header))
    pools = {}
    for n in args.sizes:
        X, y, _, _ = rare_concept_pool(n, n_test=1)
        pools[n] = X
        index = build_index(X, "ivf")
        initial = seed_set(y, 0)
        common = dict(initial=initial, n_rounds=args.rounds, batch_size=10, k=args.k, score=most_likely_positive)
        seals = run_seals(X, y, index=index, **common)
        full = run_seals(X, y, restrict=False, **common)
        s_ms, f_ms = np.median(seals.selection_seconds) * 1e3, np.median(full.selection_seconds) * 1e3
        print(
            f"{n:>10,} {s_ms:9.1f} {f_ms:9.1f} {f_ms / s_ms:10.1f}x {np.mean(seals.candidates[:-1]):13,.0f} "
            f"{seals.positives[-1] / y.sum():13.1%} {full.positives[-1] / y.sum():12.1%}"
        )

    print("\nIndex build time and size (size = faiss's serialised bytes)\n")
    header = f"{'pool':>10s} {'index':>6s} {'build s':>9s} {'size MB':>9s} {'recall@10 vs flat':>18s}"
    print(header)
    print("-" * len(header))
    for n, X in pools.items():
        queries = X[:500]
        exact = None
        for kind in ("flat", "ivf", "hnsw"):
            if kind == "hnsw" and n > args.hnsw_max:
                print(
                    f"{n:>10,} {kind:>6s}   skipped (n > --hnsw-max={args.hnsw_max:,}; HNSW builds slowly on 2 cores)"
                )
                continue
            start = time.perf_counter()
            index = build_index(X, kind)
            build_s = time.perf_counter() - start
            size_mb = faiss.serialize_index(index).nbytes / 2**20
            ids = index.search(queries, 10)[1]
            exact = ids if kind == "flat" else exact
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, exact, strict=True)])
            print(f"{n:>10,} {kind:>6s} {build_s:9.1f} {size_mb:9.0f} {recall:18.3f}")


if __name__ == "__main__":
    main()
