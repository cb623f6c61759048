"""Selection via proxy, end to end: target on all data vs proxy-selected vs random subsets.

One run, same seeds: wall time of each pipeline (the proxy's training and the
ranking count against the proxy pipeline) and test accuracy, with ratios
against training the target on all data.

    python benchmarks/bench_proxy.py [--fraction 0.5] [--seeds 3] [--copies 20] [--device cuda]
"""

from __future__ import annotations

import argparse

import numpy as np

from dcai_al.data import load_augmented_digits
from dcai_al.experiments.lab4 import random_subset
from dcai_al.models import TorchClassifier
from dcai_al.proxy import TARGET, select_via_proxy, train_on_subset


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fraction", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--ranking", default="forgetting")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    split = load_augmented_digits(copies=args.copies, seed=0)
    n = len(split.y_pool)
    TorchClassifier(**dict(TARGET, epochs=1), device=args.device).fit(split.X_pool[:512], split.y_pool[:512])
    results = {
        "target on all data": [],
        f"proxy-selected {args.fraction:.0%} ({args.ranking})": [],
        f"random {args.fraction:.0%}": [],
    }
    names = list(results)
    for seed in range(args.seeds):
        _, full = train_on_subset(split, np.arange(n), seed=seed, device=args.device)
        results[names[0]].append((full.seconds["total"], full.accuracy))
        svp = select_via_proxy(split, args.fraction, ranking=args.ranking, seed=seed, device=args.device)
        results[names[1]].append((svp.seconds["total"], svp.accuracy))
        _, rnd = train_on_subset(split, random_subset(n, args.fraction, seed), seed=seed, device=args.device)
        results[names[2]].append((rnd.seconds["total"], rnd.accuracy))

    base_s = np.mean([s for s, _ in results[names[0]]])
    base_a = np.mean([a for _, a in results[names[0]]])
    print(f"Augmented digits: {n:,} training images, {len(split.y_test)} test images; {args.seeds} seeds\n")
    header = f"{'pipeline':34s} {'seconds':>9s} {'speed-up':>9s} {'accuracy':>9s} {'sd':>7s} {'vs all (points)':>16s}"
    print(header)
    print("-" * len(header))
    for name, rows in results.items():
        s = np.mean([r[0] for r in rows])
        acc = np.array([r[1] for r in rows])
        print(
            f"{name:34s} {s:9.1f} {base_s / s:8.2f}x {acc.mean():9.4f} {acc.std():7.4f} "
            f"{(acc.mean() - base_a) * 100:+16.2f}"
        )


if __name__ == "__main__":
    main()
