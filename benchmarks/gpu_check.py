"""Time the kit's torch paths on cuda against cpu, and check they agree; prints one table.

Run by ``benchmarks/gpu_check.sh`` on a machine with a CUDA GPU (under 5 minutes there). On a machine
without one it times the cpu column only and says so.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from dcai_al.acquisition import entropy, least_confidence, margin
from dcai_al.diversity import k_center_greedy
from dcai_al.models import TorchClassifier


def _timed(fn, device: str, repeat: int = 1) -> tuple[float, object]:
    if device == "cuda":
        fn()  # warm-up: kernels load and memory is allocated once
    best, out = float("inf"), None
    for _ in range(repeat):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        out = fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return best, out


def jobs(device: str, n: int) -> dict:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 128), dtype=np.float32)
    probs = torch.from_numpy(rng.dirichlet(np.ones(100), size=n).astype(np.float32)).to(device)
    images = torch.randn(2_048, 3, 32, 32)
    labels = torch.randint(0, 10, (2_048,))
    X_small = rng.standard_normal((20_000, 64), dtype=np.float32)
    y_small = (X_small[:, 0] > 0).astype(int)

    def scores():
        return [f(probs) for f in (entropy, least_confidence, margin)]

    return {
        f"k-centers, n = {n:,}, d = 128, budget 1000": lambda: k_center_greedy(X, 1000, labelled=[0], device=device),
        f"scoring {n:,} x 100 (entropy, LC, margin)": scores,
        "TorchClassifier MLP fit, 20k x 64, 5 epochs": lambda: TorchClassifier(epochs=5, device=device, seed=0).fit(
            X_small, y_small
        ),
        "ResNet20 (CIFAR-style) fit, 2,048 synthetic images, 1 epoch": lambda: TorchClassifier(
            arch="resnet", depth=20, epochs=1, device=device, seed=0
        ).fit(images.numpy(), labels.numpy()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows for k-centers and scoring (default 1M)")
    n = parser.parse_args().n
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if len(devices) == 1:
        print("no CUDA GPU here: the cpu column only")
    else:
        print(f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}")
    results = {d: {} for d in devices}
    for device in devices:
        for name, fn in jobs(device, n).items():
            seconds, out = _timed(fn, device)
            results[device][name] = (seconds, out)
    print("\n| job | cpu s | cuda s | cpu / cuda | same answer |")
    print("|---|---|---|---|---|")
    for name, (cpu_s, cpu_out) in results["cpu"].items():
        if "cuda" not in results:
            print(f"| {name} | {cpu_s:.2f} | - | - | - |")
            continue
        cuda_s, cuda_out = results["cuda"][name]
        same = "-"
        if name.startswith("k-centers"):
            same = "yes" if np.array_equal(cpu_out, cuda_out) else "NO"
        elif name.startswith("scoring"):
            ok = all(torch.allclose(a.cpu(), b.cpu(), atol=1e-5) for a, b in zip(cpu_out, cuda_out, strict=True))
            same = "yes" if ok else "NO"
        print(f"| {name} | {cpu_s:.2f} | {cuda_s:.2f} | {cpu_s / cuda_s:.1f}x | {same} |")


if __name__ == "__main__":
    main()
