"""The distance kernels behind greedy k-centers, shared by one machine and a Dask cluster.

:mod:`dcai_al.diversity` runs them over the whole pool and
:mod:`dcai_al.scale.kcenters` over each shard, so a sharded pool gets exactly
the distances, and therefore the picks, of the whole one. They assume clean
input: the public functions validate, then call these.

Features are held transposed, as a contiguous (d, n) tensor ``XT``: the
distances to one center are then a vector-matrix product that streams XT once
(with rows laid out as (n, d), torch's CPU mat-vec ran about 3x slower here;
see ``benchmarks/bench_kcenter.py``).

Distances use the expansion ||x||² − 2 x·c + ||c||², one pass over the data
per center. Its rounding error is about ``eps * (||x||² + ||c||²)``: it can
turn a true 0 into 3e-8 and order two exactly tied points arbitrarily. So the
kernels that *decide* (which point is farthest, how large the radius is)
recompute the few contenders' distances exactly, as ``||x - c||²`` in float64:
see :func:`exact_farthest` and :func:`exact_min_sq_dist`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .models import get_device
from .validation import is_tensor

__all__ = [
    "BLOCK_ENTRIES",
    "default_chunk",
    "exact_farthest",
    "MAX_CONTENDERS",
    "exact_min_sq_dist",
    "min_sq_dist",
    "rounding_slack",
    "sq_dist_to",
    "sq_dist_to_vector",
    "sq_norms",
    "to_torch_t",
]

#: Entries of one (chunk, n) block of distances when starting from many centers.
BLOCK_ENTRIES = 2**24  # 64 MB of float32


def default_chunk(n: int) -> int:
    """Centers per block so that one (chunk, n) block holds about :data:`BLOCK_ENTRIES` entries."""
    return max(1, BLOCK_ENTRIES // max(n, 1))


def to_torch_t(features, device) -> torch.Tensor:
    """Features transposed to a contiguous (n_features, n_samples) tensor on ``device``.

    float64 stays float64, anything else becomes float32.
    """
    X = features.detach() if is_tensor(features) else torch.from_numpy(np.asarray(features))
    if X.dtype not in (torch.float32, torch.float64):
        X = X.float()
    dev = get_device(device) if device is not None else X.device
    return X.to(dev).T.contiguous()


def sq_norms(XT: torch.Tensor) -> torch.Tensor:
    """Squared norm of every column of XT, shape (n,)."""
    return torch.linalg.vector_norm(XT, dim=0).square_()  # no d x n temporary, unlike (XT * XT).sum(0)


def rounding_slack(d: int, dtype: torch.dtype, max_sq_norm: float) -> float:
    """How far below the largest expanded distance the true farthest point can sit.

    The expansion ||x||² − 2 x·c + ||c||² errs by a few units of ``eps``
    times ||x||² + ||c||² ≤ 2·M (M: the largest squared norm of a point or
    center); d-term dot products add up to sqrt(d) of them in practice. Two
    such errors (the true farthest rounded down, another point rounded up)
    give 32·sqrt(d)·eps·M, with room to spare: larger only costs a few more
    exact checks, smaller could miss a tie.
    """
    return float(32.0 * np.sqrt(d) * torch.finfo(dtype).eps * max_sq_norm)


def sq_dist_to_vector(XT: torch.Tensor, norms: torch.Tensor, c: torch.Tensor, c_sq) -> torch.Tensor:
    """Squared distances (by the expansion) from every column of XT to the vector ``c``: one pass over XT."""
    d = torch.addmv(norms, XT.T, c, alpha=-2.0).add_(c_sq)
    return d.clamp_(min=0.0)  # the expansion can dip just below 0 through rounding


def sq_dist_to(XT: torch.Tensor, norms: torch.Tensor, center: int) -> torch.Tensor:
    """Squared distances from every column of XT to column ``center``."""
    # The center's column is strided in XT; a contiguous copy (d floats) keeps
    # the product on the fast path (about 2x faster on CPU than the strided view).
    return sq_dist_to_vector(XT, norms, XT[:, center].contiguous(), norms[center])


def min_sq_dist(XT: torch.Tensor, norms: torch.Tensor, CT: torch.Tensor, c_sq: torch.Tensor, chunk_size: int):
    """Squared distance (by the expansion) from each column of XT to its nearest column of CT."""
    out = torch.full((XT.shape[1],), torch.inf, dtype=XT.dtype, device=XT.device)
    for start in range(0, CT.shape[1], chunk_size):
        block = CT[:, start : start + chunk_size].contiguous()
        d = c_sq[start : start + chunk_size][:, None] - 2.0 * (block.T @ XT) + norms[None, :]
        torch.minimum(out, d.amin(0).clamp_(min=0.0), out=out)
    return out


def exact_min_sq_dist(X64: torch.Tensor, C64: torch.Tensor) -> torch.Tensor:
    """Exact squared distance, in float64, from each row of X64 to its nearest row of C64.

    Computed as ``||x - c||²`` (no expansion): 0 for a duplicate of a center,
    and equal values for points at equal distances on integer-valued data.
    Costs m x L x d for m points and L centers: call it on a few contenders.

    Parameters
    ----------
    X64 : torch.Tensor of shape (m, d), float64
    C64 : torch.Tensor of shape (L, d), float64, L >= 1
    """
    out = torch.full((X64.shape[0],), torch.inf, dtype=torch.float64, device=X64.device)
    # Blocks of (rows, centers, d) differences of about BLOCK_ENTRIES entries.
    rows = max(1, BLOCK_ENTRIES // max(X64.shape[1], 1))
    for r in range(0, X64.shape[0], rows):
        X = X64[r : r + rows]
        step = max(1, BLOCK_ENTRIES // max(X.shape[0] * X.shape[1], 1))
        for c in range(0, C64.shape[0], step):
            diff = X[:, None, :] - C64[None, c : c + step, :]
            torch.minimum(out[r : r + rows], diff.square_().sum(2).amin(1), out=out[r : r + rows])
    return out


#: More contenders than this within rounding of the farthest (massive exact
#: duplication) are not checked exactly: the first by the expansion wins.
MAX_CONTENDERS = 1024


def exact_farthest(
    min_dist: torch.Tensor,
    slack: float,
    exact_of,
    max_contenders: int | None = MAX_CONTENDERS,
    *,
    need_value: bool = True,
) -> tuple[float, int]:
    """The farthest point from its nearest center, decided exactly; ties to the lower index.

    ``min_dist`` holds each point's squared distance by the expansion (-inf
    for centers). Only points within ``slack`` (:func:`rounding_slack`) of its
    maximum can be the true farthest. Usually only one is, and it wins without
    more work; otherwise ``exact_of(ids)``
    gives the contenders' exact squared distances (float64), and the largest
    wins, the lower index on an exact tie. ``max_contenders`` caps that check
    (None: no cap); beyond it the first maximum by the expansion wins.

    Returns
    -------
    (squared distance, index)
        The exact squared distance (by the expansion when ``need_value`` is
        False and one point stood out, or beyond the cap); -inf and index 0
        when every point is a center.
    """
    best = float(torch.max(min_dist))  # a plain max, then one comparison: about what argmax alone costs
    if not math.isfinite(best):
        return best, 0
    contenders = torch.nonzero(min_dist >= best - slack).flatten()  # ascending indices
    if contenders.numel() == 1:  # one point stands out: no tie possible
        i = int(contenders[0])
        return (float(exact_of(contenders)[0]) if need_value else best), i
    if max_contenders is not None and contenders.numel() > max_contenders:
        first = int(torch.argmax(min_dist))
        return float(min_dist[first]), first
    exact = exact_of(contenders)
    i = int(torch.argmax(exact))  # first maximum among ascending indices: ties to the lower index
    return float(exact[i]), int(contenders[i])
