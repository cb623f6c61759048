"""A sharded pool on a Dask LocalCluster against one process on the same data.

The pool is ``make_embedding_pool(n, d)`` (float32) written as 1,048,576-row
shards. Two jobs: score every row (a 10-class linear head's softmax, then
entropy) and take the top J = 1,000 with 100 rows excluded as labelled; and
100 greedy k-center steps from those 100 labelled rows. Each job runs on a
fresh LocalCluster of 1 and of 2 workers (1 thread each), and in one process
with the whole pool in memory (numpy scoring + ``select_top``; Lab 2's
``k_center_greedy`` with 1 torch thread). Peak memory is each process's peak
resident set during the job (Linux ``VmHWM``, reset before the job). Every
distributed answer is checked against the single-process one.

    python benchmarks/bench_scale.py                 # n = 10,000,000, d = 64 (2.56 GB on disk)
    python benchmarks/bench_scale.py --n 2000000     # smaller
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

J, LABELLED, STEPS, CLASSES = 1000, 100, 100, 10
JOBS = {"topj": "score + top-J", "kcenters": "k-centers"}


def _peak_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:  # 5 resets the peak resident set (VmHWM)
        f.write("5")


def _job_inputs(n: int, d: int):
    rng = np.random.default_rng(0)
    coef = rng.standard_normal((d, CLASSES)).astype(np.float32)
    intercept = rng.standard_normal(CLASSES).astype(np.float32)
    labelled = np.sort(rng.choice(n, LABELLED, replace=False))
    return coef, intercept, labelled


def _distributed(path: str, workers: int, job: str) -> dict:
    from dcai_al import scale

    pool = scale.open_pool(path)
    coef, intercept, labelled = _job_inputs(pool.n, pool.d)
    with scale.connect(n_workers=workers, threads_per_worker=1, memory_limit=None) as client:
        client.wait_for_workers(workers)
        client.run(_reset_peak)
        started = time.perf_counter()
        if job == "topj":
            scores = scale.score_pool(pool, "entropy", coef=coef, intercept=intercept)
            picked = scale.top_j(scores, J, labelled=labelled, client=client)
        else:
            picked = scale.k_center_greedy(pool, STEPS, labelled, client=client)
        seconds = time.perf_counter() - started
        peaks = sorted(client.run(_peak_kb).values())
    return {"seconds": seconds, "peak_mb": [p / 1024 for p in peaks], "picked": picked.tolist()}


def _single(path: str, job: str) -> dict:
    import torch

    from dcai_al import scale
    from dcai_al.acquisition import select_top
    from dcai_al.diversity import k_center_greedy

    torch.set_num_threads(1)
    pool = scale.open_pool(path)
    coef, intercept, labelled = _job_inputs(pool.n, pool.d)
    X = pool.to_numpy()  # the whole pool in memory: what one process needs
    _reset_peak()
    started = time.perf_counter()
    if job == "topj":
        picked = select_top(scale._score_block(X, coef, intercept, "entropy"), J, labelled=labelled)
    else:
        picked = k_center_greedy(X, STEPS, labelled)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": [_peak_kb() / 1024], "picked": picked.tolist()}


def _in_subprocess(*args) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--path", type=Path, default=None, help="where to write the pool (default: a temp folder)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, workers, job = args.child
        result = _single(path, job) if kind == "single" else _distributed(path, int(workers), job)
        print(json.dumps(result))
        return

    from dcai_al import scale

    root = Path(tempfile.mkdtemp(prefix="dcai-al-bench-scale-")) if args.path is None else args.path
    path = root / "pool"
    try:
        started = time.perf_counter()
        with scale.connect(n_workers=2, threads_per_worker=1, memory_limit=None) as client:
            pool = scale.write_embedding_pool(path, args.n, args.d, seed=0, client=client, overwrite=True)
        written = time.perf_counter() - started
        gb = pool.n * pool.d * 4 / 1e9
        print(
            f"pool: {pool.n:,} x {pool.d} float32 = {gb:.2f} GB in {pool.n_shards} shards, written in {written:.1f} s"
        )
        print(f"jobs: score + top-J (J={J}, {LABELLED} excluded); k-centers ({STEPS} steps from {LABELLED} labelled)\n")
        header = f"{'job':15s} {'where':22s} {'seconds':>8s} {'vs 1 process':>13s} {'peak MB per process':>22s}  same"
        print(header)
        print("-" * len(header))
        for job, name in JOBS.items():
            single = _in_subprocess("single", path, 0, job)
            rows = [("1 process, in memory", single)]
            for workers in (1, 2):
                label = f"Dask, {workers} worker{'s' if workers > 1 else ''}"
                rows.append((label, _in_subprocess("dask", path, workers, job)))
            for where, r in rows:
                ratio = single["seconds"] / r["seconds"]
                peaks = ", ".join(f"{p:,.0f}" for p in r["peak_mb"])
                same = "yes" if r["picked"] == single["picked"] else "NO"
                print(f"{name:15s} {where:22s} {r['seconds']:8.2f} {ratio:12.2f}x {peaks:>22s}  {same}")
    finally:
        if args.path is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
