"""Greedy k-centers: the kit against a numpy loop, a naive loop and two peer libraries.

Every method runs in its own process on the same float32 standard-normal
data with labelled = {0}; the table gives wall time, extra peak memory (the
process's peak resident set, reset after the data is built), the coverage
radius reached, and ratios against the numpy incremental loop measured in the
same run. "one-read floor" is the time of ``batch_size`` vector-matrix products
that each read the n x d matrix once, the least any incremental method can do.

    python benchmarks/bench_kcenter.py                 # n=100k, d=128, batch size 1000 (+ a small table)
    python benchmarks/bench_kcenter.py --large         # adds n=10M, d=64, batch size 100 (2.5 GB)
    python benchmarks/bench_kcenter.py --device cuda   # the kit on a GPU

Peers are optional: install them outside the kit's environment, e.g.
``pip install --target /tmp/peers --no-deps scikit-activeml small-text makefun iteration-utilities``
and pass ``--peers /tmp/peers``; a peer that does not import is reported, not hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    # Writing 5 to clear_refs resets the peak resident set (VmHWM) on Linux.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _data(n: int, d: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)


def _numpy_incremental(X, batch_size):
    d = ((X - X[0]) ** 2).sum(1)
    d[0] = -np.inf
    chosen = []
    for _ in range(batch_size):
        i = int(np.argmax(d))
        chosen.append(i)
        d = np.minimum(d, ((X - X[i]) ** 2).sum(1))
        d[i] = -np.inf
    return chosen


def _naive(X, batch_size):
    centers = [0]
    for _ in range(batch_size):
        C = X[centers]
        d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(2).min(1)  # distances to every center, every step
        d[centers] = -np.inf
        centers.append(int(np.argmax(d)))
    return centers[1:]


def _kit(X, batch_size, device):
    from dcai_al.diversity import k_center_greedy

    return k_center_greedy(X, batch_size, labelled=[0], device=device).tolist()


def _floor_setup(X, device):
    """The transposed matrix and one center, built before the floor's timer starts."""
    import torch

    from dcai_al.models import get_device

    XT = torch.from_numpy(X).to(get_device(device)).T.contiguous()
    c = XT[:, 1].contiguous()
    (c @ XT).sum().item()  # warm-up
    return XT, c


def _floor(XT, c, batch_size):
    for _ in range(batch_size):
        (c @ XT).sum().item()  # .item() waits for the GPU, as the kit's argmax does
    return None


def _skactiveml(X, batch_size):
    from skactiveml.pool import CoreSet

    y = np.full(len(X), np.nan)
    y[0] = 0
    return CoreSet(random_state=0).query(X, y, batch_size=batch_size).tolist()


def _small_text(X, batch_size):
    from small_text.query_strategies.coresets import greedy_coreset

    unlabelled = np.arange(1, len(X))
    positions = greedy_coreset(X, unlabelled, np.array([0]), batch_size, distance_metric="euclidean", batch_size=100)
    return unlabelled[positions].tolist()  # small-text returns positions among the unlabelled rows


def child(method: str, n: int, d: int, batch_size: int, device: str | None) -> dict:
    X = _data(n, d)
    if method == "kit":
        _kit(X[:1000], 2, device)  # warm-up: imports and kernel selection, not timed
    if method == "one-read floor":
        XT, c = _floor_setup(X, device)
    _reset_peak()
    rss_before = _rss_kb("VmRSS")
    start = time.perf_counter()
    if method == "kit":
        chosen = _kit(X, batch_size, device)
    elif method == "numpy incremental":
        chosen = _numpy_incremental(X, batch_size)
    elif method == "naive (all centers each step)":
        chosen = _naive(X, batch_size)
    elif method == "one-read floor":
        chosen = _floor(XT, c, batch_size)
    elif method == "scikit-activeml CoreSet":
        chosen = _skactiveml(X, batch_size)
    elif method == "small-text greedy_coreset":
        chosen = _small_text(X, batch_size)
    else:
        raise ValueError(method)
    seconds = time.perf_counter() - start
    peak_mb = max(0, _rss_kb("VmHWM") - rss_before) / 1024
    radius = None
    if chosen is not None:
        from dcai_al.diversity import coverage_radius

        radius = coverage_radius(X, [0] + [int(i) for i in chosen])
    return {"seconds": seconds, "peak_mb": peak_mb, "radius": radius, "chosen": chosen[:20] if chosen else None}


def run_child(method, n, d, batch_size, device, peers, timeout):
    env = dict(os.environ)
    if peers:
        env["PYTHONPATH"] = peers + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--child", method, "--n", str(n), "--d", str(d), "--batch-size", str(batch_size)]
    if device:
        cmd += ["--device", device]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last[:120]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(title, n, d, batch_size, methods, device, peers, timeout):
    print(f"\n{title}: n={n:,}, d={d}, batch_size={batch_size}, float32, labelled={{0}}, device={device or 'cpu'}")
    results = {m: run_child(m, n, d, batch_size, device, peers, timeout) for m in methods}
    base = results.get("numpy incremental", {}).get("seconds")
    floor = results.get("one-read floor", {}).get("seconds")
    kit_chosen = results.get("kit", {}).get("chosen")
    header = (
        f"{'method':32s} {'seconds':>9s} {'vs numpy':>9s} {'vs floor':>9s} {'peak MB':>9s} {'radius':>9s}  same picks"
    )
    print(header)
    print("-" * len(header))
    for m, r in results.items():
        if "error" in r:
            print(f"{m:32s} failed: {r['error']}")
            continue
        speed = f"{base / r['seconds']:.2f}x" if base else "-"
        vs_floor = f"{r['seconds'] / floor:.2f}" if floor else "-"
        radius = f"{r['radius']:.4f}" if r["radius"] is not None else "-"
        same = "-" if r["chosen"] is None or kit_chosen is None else str(r["chosen"] == kit_chosen)
        print(f"{m:32s} {r['seconds']:9.2f} {speed:>9s} {vs_floor:>9s} {r['peak_mb']:9.0f} {radius:>9s}  {same}")
    print(
        "('vs numpy': numpy time / method time, higher is faster; 'vs floor': method time / floor time;"
        " 'same picks': first 20 picks equal the kit's)"
    )
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--device", default=None)
    parser.add_argument("--peers", default=None, help="folder holding the optional peer libraries")
    parser.add_argument("--large", action="store_true", help="also n=10M, d=64, batch size 100")
    parser.add_argument("--skip-small", action="store_true", help="skip the small table of slow methods")
    parser.add_argument("--timeout", type=int, default=900, help="per method, seconds")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.d, args.batch_size, args.device)))
        return
    peers = ["scikit-activeml CoreSet"]
    table(
        "Greedy k-centers",
        args.n,
        args.d,
        args.batch_size,
        ["kit", "one-read floor", "numpy incremental", *peers],
        args.device,
        args.peers,
        args.timeout,
    )
    if not args.skip_small:
        table(
            "Smaller pool, for the slow methods",
            10_000,
            args.d,
            200,
            ["kit", "numpy incremental", "naive (all centers each step)", "small-text greedy_coreset"],
            args.device,
            args.peers,
            args.timeout,
        )
    if args.large:
        table(
            "Large pool",
            10_000_000,
            64,
            100,
            ["kit", "one-read floor", "numpy incremental", "scikit-activeml CoreSet"],
            args.device,
            args.peers,
            args.timeout,
        )


if __name__ == "__main__":
    main()
