"""Acquisition scoring throughput: the kit's numpy and torch paths against a plain loop.

Scores a 1,000,000 x 100 probability matrix with entropy, least confidence
and margin. The baseline is a straightforward per-row Python loop (run on
fewer rows and reported per row, since it is slow); the kit's numbers include
its input validation. Then, unless --skip-quality, the label-efficiency table
of Lab 1's digits experiment.

    python benchmarks/bench_acquisition.py [--n 1000000] [--k 100] [--device cuda]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from dcai_al.acquisition import entropy, least_confidence, margin
from dcai_al.models import get_device


def loop_entropy(p):
    return [-sum(v * math.log(v) for v in row if v > 0) for row in p.tolist()]


def loop_least_confidence(p):
    return [1 - max(row) for row in p.tolist()]


def loop_margin(p):
    out = []
    for row in p.tolist():
        a, b = sorted(row)[-2:]
        out.append(1 - (b - a))
    return out


def best_of(fn, repeats=3, sync=None):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--loop-rows", type=int, default=20_000)
    parser.add_argument("--device", default=None, help="torch device for the tensor path (default: best)")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    logits = rng.standard_normal((args.n, args.k), dtype=np.float32)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    device = get_device(args.device)
    tensor = torch.from_numpy(probs).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    print(f"Scoring a {args.n:,} x {args.k} float32 probability matrix; tensor path on {device}.")
    print(f"Baseline: a per-row Python loop on {args.loop_rows:,} rows, scaled to {args.n:,} rows.\n")
    columns = ["loop (s)", "numpy (s)", "torch (s)"]
    header = (
        f"{'score':18s} " + " ".join(f"{c:>10s}" for c in columns) + f" {'numpy vs loop':>14s} {'torch vs loop':>14s}"
    )
    print(header)
    print("-" * len(header))
    for name, fn, loop in [
        ("entropy", entropy, loop_entropy),
        ("least confidence", least_confidence, loop_least_confidence),
        ("margin", margin, loop_margin),
    ]:
        sub = probs[: args.loop_rows]
        loop_s = best_of(lambda sub=sub, loop=loop: loop(sub), repeats=1) * args.n / args.loop_rows
        numpy_s = best_of(lambda fn=fn: fn(probs))
        torch_s = best_of(lambda fn=fn: fn(tensor), sync=sync)
        assert np.allclose(fn(sub), loop(sub), atol=1e-5)
        print(
            f"{name:18s} {loop_s:10.2f} {numpy_s:10.3f} {torch_s:10.3f} {loop_s / numpy_s:13.0f}x "
            f"{loop_s / torch_s:13.0f}x"
        )

    if not args.skip_quality:
        from dcai_al.acquisition import SCORES
        from dcai_al.experiments import lab1

        print("\nLabel efficiency on digits (Lab 1's experiment, 5 seeds, seed set 20, batch 10):")
        n_labelled, accuracy, _ = lab1.digits_curves({"random": "random", **SCORES}, 5, 20)
        print(lab1.efficiency_table(n_labelled, accuracy).to_markdown())


if __name__ == "__main__":
    main()
