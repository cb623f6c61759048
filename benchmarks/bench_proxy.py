"""Selection via proxy, end to end on MNIST-1D: target on all data vs proxy-selected vs random subsets.

One run, same seeds: wall time of each pipeline (the proxy's training and the
ranking count against the proxy pipeline) and test accuracy (mean, sd and range
over seeds), with ratios against training the target on all data. Torch runs on
one CPU thread, as in Lab 4 (see ``dcai_al.experiments.cpu_threads``).

    python benchmarks/bench_proxy.py [--n-train 20000] [--fractions 0.3 0.5] [--seeds 3] [--device cuda]
    python benchmarks/bench_proxy.py --digits      # the second option: augmented digits
"""

from __future__ import annotations

import argparse
import time

from dcai_al.data import load_augmented_digits
from dcai_al.experiments import cpu_threads
from dcai_al.experiments.lab4 import MNIST1D_PROXY, MNIST1D_TARGET, fraction_sweep, mnist1d_split, summary_rows
from dcai_al.models import TorchClassifier
from dcai_al.proxy import PROXY, TARGET


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-train", type=int, default=20_000, help="MNIST-1D training samples")
    parser.add_argument("--n-test", type=int, default=5_000)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.3, 0.5])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--digits", action="store_true", help="augmented digits (1,347 x 20) instead of MNIST-1D")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    start = time.perf_counter()
    if args.digits:
        split, proxy, target = load_augmented_digits(copies=20, seed=0), PROXY, TARGET
        name = "Augmented digits"
    else:
        split, proxy, target = mnist1d_split(args.n_train, args.n_test), MNIST1D_PROXY, MNIST1D_TARGET
        name = "MNIST-1D"
    n = len(split.y_pool)
    print(f"{name}: {n:,} training and {len(split.y_test):,} test samples ready in {time.perf_counter() - start:.1f} s")
    with cpu_threads(1):
        TorchClassifier(**dict(target, epochs=1), device=args.device).fit(split.X_pool[:512], split.y_pool[:512])
        res = fraction_sweep(
            split, [n], args.fractions, range(args.seeds), proxy=proxy, target=target, device=args.device, progress=True
        )[n]
    rows = summary_rows(res, args.fractions)
    full = rows[0]
    print(
        f"\n{args.seeds} seeds; proxy {proxy}; target {target}; "
        f"one test sample = {100 / len(split.y_test):.2f} points\n"
    )
    header = (
        f"{'pipeline':30s} {'seconds':>8s} {'speed-up':>9s} {'accuracy':>9s} {'sd':>7s} {'min-max':>15s} "
        f"{'vs all (points)':>16s} {'vs random':>10s}"
    )
    print(header)
    print("-" * len(header))

    def line(label, seconds, acc, vs_random=""):
        print(
            f"{label:30s} {seconds:8.1f} {full['full_s'] / seconds:8.2f}x {acc.mean():9.4f} {acc.std():7.4f} "
            f"{acc.min():7.4f}-{acc.max():.4f} {(acc.mean() - full['full_acc'].mean()) * 100:+16.2f} {vs_random:>10s}"
        )

    line("target on all data", full["full_s"], full["full_acc"])
    for r in rows:
        line(
            f"proxy-selected {r['fraction']:.0%} (forgetting)",
            r["pipeline_s"],
            r["proxy_acc"],
            f"{r['vs_random']:+.2f}",
        )
        rnd_s = full["full_s"] / r["random_speedup"]
        line(f"random {r['fraction']:.0%}", rnd_s, r["random_acc"])


if __name__ == "__main__":
    main()
