"""The one faiss index builder, for SEALS in memory and over a sharded pool.

An IVF index splits the pool into ``nlist`` k-means cells and a query scans
only the ``nprobe`` nearest cells. Both numbers decide how many true
neighbours a query finds, so they are set by one rule here:

* ``nlist`` is about sqrt(n), capped so that every cell trains on at least
  39 points, and never below 1 (:func:`ivf_nlist`);
* ``nprobe`` is not fixed: it is the smallest breadth (1, 2, 3, 4, 6, 8, 12,
  ..., up to ``nlist``) whose recall@10 against an exact search reaches a target, 0.95 by default,
  measured at build time on a seeded sample of pool rows used as queries,
  since SEALS queries are pool rows (:func:`choose_nprobe`). A fixed nprobe
  lets recall fall as the pool grows: with nprobe = 8 and nlist = sqrt(n),
  recall@10 fell from 0.954 at 1M to 0.796 at 4M.

With ``nlist`` about sqrt(n) a query reads ``nprobe`` cells of about
sqrt(n) vectors, so its cost grows like sqrt(n) even at a fixed nprobe.
``kind="ivfhnsw"`` keeps the cells at a constant size instead (about
:data:`CELL_SIZE` vectors, so ``nlist`` grows like n; :func:`ivfhnsw_nlist`),
which a flat coarse quantizer cannot afford at 10^7 rows: its cells' centroids
are found by two-level k-means (sqrt(nlist) coarse cells, then k-means inside
each) and searched through an HNSW graph, so training, adding a vector and
choosing a query's cells cost about log(nlist), not nlist. Whether a query then
reads fewer vectors depends on the data, not the index: ``choose_nprobe``
still asks for recall@10 >= 0.95. On a network's embeddings (Lab 3's CNN
over new MNIST-1D samples) that takes 2, 3 and 6 cells of about 1,024 at
10^5, 10^6 and 10^7 rows, so a query's cost barely grows. In 64-d Gaussian
clusters (the kit's generator), which fill every dimension, it takes a
nearly constant fraction of the pool whatever the cells' size: 1 cell of 97,
8 of 976, 64 of 9,765 (1%, 0.8%, 0.65%), and a query's cost grows almost
like n (``benchmarks/bench_seals.py``, ``--data``). At 10^7 no nprobe, up to all 9,765 cells, brought the
8-bit codes alone to recall@10 0.95 (0.936 at the one kept); ``refine=True`` reranks a shortlist by exact
distances, and then the same 64 cells reach 0.983 (measured on other rows).

Faiss's Python wrapper keeps an IVF index's quantizer alive by itself (the
index holds it in ``referenced_objects``), so the quantizer can be a local.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import faiss
import numpy as np

from .validation import as_generator, check_features, check_positive_int

__all__ = [
    "CELL_SIZE",
    "INDEX_KINDS",
    "TARGET_RECALL",
    "REFINE_K_FACTOR",
    "NprobeChoice",
    "as_faiss_array",
    "build_index",
    "choose_nprobe",
    "exact_neighbours",
    "ivf_nlist",
    "ivfhnsw_nlist",
    "new_ivf",
    "new_ivfhnsw",
    "recall_at",
    "two_level_centroids",
]

INDEX_KINDS = ("flat", "ivf", "ivfsq", "ivfhnsw", "hnsw")

#: Vectors per cell for ``kind="ivfhnsw"``: nlist grows like n / CELL_SIZE.
CELL_SIZE = 1024

#: Training points per cell for ``kind="ivfhnsw"`` (faiss asks for 39; two-level
#: k-means trains each coarse cell's sub-cells on its own share of the sample).
TRAIN_PER_CELL = 32

#: recall@10 against an exact search that the chosen nprobe must reach.
TARGET_RECALL = 0.95

#: With ``refine``: codes' nearest kept per neighbour asked for, then reranked exactly.
REFINE_K_FACTOR = 2.0

#: Pool rows searched to measure recall when choosing nprobe: the estimate's
#: standard error is about 0.005 at recall 0.95 (200 queries x 10 neighbours).
RECALL_QUERIES = 200


def as_faiss_array(embeddings, name: str = "embeddings") -> np.ndarray:
    """float32, C-contiguous, finite, 2-D: what faiss reads without surprises."""
    X = check_features(embeddings, name, allow_tensor=False)
    return np.ascontiguousarray(X, dtype=np.float32)


def _faiss_metric(metric: str) -> int:
    if metric not in ("l2", "ip"):
        raise ValueError(f"metric must be 'l2' or 'ip', got {metric!r}.")
    return faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT


def ivf_nlist(n: int) -> int:
    """IVF cells for a pool of ``n``: about sqrt(n), at least 39 training points per cell, never 0.

    Examples
    --------
    >>> ivf_nlist(10), ivf_nlist(10_000), ivf_nlist(10_000_000)
    (1, 100, 3162)
    """
    return max(1, min(int(np.sqrt(n)), n // 39))


def ivfhnsw_nlist(n: int, cell_size: int = CELL_SIZE) -> int:
    """Cells of ``kind="ivfhnsw"`` for a pool of ``n``: about n / ``cell_size``, never 0.

    Examples
    --------
    >>> ivfhnsw_nlist(10), ivfhnsw_nlist(100_000), ivfhnsw_nlist(10_000_000)
    (1, 97, 9765)
    """
    return max(1, n // cell_size)


def _kmeans(x: np.ndarray, k: int, *, seed: int, niter: int) -> np.ndarray:
    """k centroids of ``x`` (at least k rows), seeded; every row is used (no subsampling)."""
    if k == 1:
        return x.mean(axis=0, keepdims=True)
    km = faiss.Kmeans(
        x.shape[1], k, niter=niter, seed=seed, min_points_per_centroid=1, max_points_per_centroid=len(x) // k + 1
    )
    km.train(x)
    return km.centroids


def two_level_centroids(x: np.ndarray, nlist: int, *, seed: int = 0, niter: int = 10) -> np.ndarray:
    """``nlist`` k-means centroids found in two levels, at a cost of about sqrt(nlist) per point, not nlist.

    k-means first splits ``x`` into about sqrt(nlist) coarse cells; each
    coarse cell then gets sub-cells in proportion to its points (never more
    than its points), found by k-means on its points alone.

    Parameters
    ----------
    x : numpy.ndarray of shape (m, d), float32
        Training sample, m >= nlist.
    nlist : int
    seed : int
        Seeds every k-means (the coarse one with ``seed``, coarse cell c with ``seed + 1 + c``).
    niter : int
        k-means iterations at each level.

    Returns
    -------
    numpy.ndarray of shape (nlist, d), float32
    """
    n1 = max(1, int(np.sqrt(nlist)))
    if n1 < 4:  # few cells: one level is cheap
        return _kmeans(x, nlist, seed=seed, niter=niter)
    coarse = _kmeans(x, n1, seed=seed, niter=niter)
    assign = faiss.knn(x, coarse, 1)[1][:, 0]
    order = np.argsort(assign, kind="stable")
    sizes = np.bincount(assign, minlength=n1)
    cells = np.diff(np.cumsum(sizes) * nlist // len(x), prepend=0)  # sums to nlist
    cells = np.minimum(cells, sizes)
    while (short := nlist - int(cells.sum())) > 0:  # cells the cap took back go where points are spare
        room = sizes - cells
        cells[np.argsort(-room, kind="stable")[: min(short, int((room > 0).sum()))]] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    parts = [
        _kmeans(x[np.sort(order[bounds[c] : bounds[c + 1]])], int(cells[c]), seed=seed + 1 + c, niter=niter)
        for c in range(n1)
        if cells[c]
    ]
    return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def new_ivfhnsw(centroids: np.ndarray, *, metric: str = "l2", hnsw_m: int = 32, ef_search: int = 32):
    """An IVF index with 8-bit scalar codes whose cells are ``centroids``, searched through an HNSW graph.

    The graph is built on one thread, so it is the same on every run. The
    index still needs ``train`` (the scalar quantizer's ranges only: the
    quantizer already holds ``nlist`` centroids, so faiss skips k-means).
    ``ef_search`` is the graph's search breadth when adding vectors (their
    nearest cell) and choosing cells; faiss uses at least nprobe.
    """
    nlist, d = centroids.shape
    faiss_metric = _faiss_metric(metric)
    quantizer = faiss.IndexHNSWFlat(d, hnsw_m, faiss_metric)
    quantizer.hnsw.efConstruction = 40
    quantizer.hnsw.efSearch = ef_search
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        quantizer.add(centroids)
    finally:
        faiss.omp_set_num_threads(threads)
    return faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss_metric)


def new_ivf(d: int, nlist: int, *, metric: str = "l2", pq_bytes: int | None = None, sq8: bool = False, seed: int = 0):
    """An untrained IVF index, k-means seeded: raw float32 vectors (IVF-Flat), 8-bit scalar
    codes (``sq8``: a quarter of the bytes, so a quarter of the memory traffic per probe), or
    ``pq_bytes`` bytes a vector (IVF-PQ)."""
    faiss_metric = _faiss_metric(metric)
    quantizer = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
    if sq8:
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss_metric)
    elif pq_bytes is None:
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss_metric)
    else:
        if d % pq_bytes:
            raise ValueError(f"pq_bytes={pq_bytes} must divide the dimension d={d}.")
        index = faiss.IndexIVFPQ(quantizer, d, nlist, pq_bytes, 8, faiss_metric)
    index.cp.seed = seed
    return index


def exact_neighbours(queries: np.ndarray, blocks: Iterable, k: int, *, metric: str = "l2") -> np.ndarray:
    """Exact ``k`` nearest pool rows of each query, over the pool given block by block.

    Parameters
    ----------
    queries : numpy.ndarray of shape (m, d), float32
    blocks : iterable of (start, numpy.ndarray of shape (rows, d))
        The pool in order, ``start`` being the pool index of the block's first row.
    k : int
    metric : {"l2", "ip"}

    Returns
    -------
    numpy.ndarray of int64, shape (m, k)
        Pool indices, nearest first.
    """
    faiss_metric = _faiss_metric(metric)
    best_d = best_i = None
    for start, rows in blocks:
        D, I = faiss.knn(queries, np.ascontiguousarray(rows, dtype=np.float32), min(k, len(rows)), faiss_metric)
        I = np.where(I >= 0, I + start, -1)
        if best_d is not None:
            D, I = np.concatenate([best_d, D], axis=1), np.concatenate([best_i, I], axis=1)
        order = np.argsort(D if metric == "l2" else -D, axis=1, kind="stable")[:, :k]
        best_d, best_i = np.take_along_axis(D, order, 1), np.take_along_axis(I, order, 1)
    return best_i.astype(np.int64)


def recall_at(index, queries: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean fraction of each query's exact neighbours (a row of ``exact_ids``) that ``index`` finds."""
    k = exact_ids.shape[1]
    found = index.search(queries, k)[1]
    return float(np.mean([np.intersect1d(a, b).size / k for a, b in zip(found, exact_ids, strict=True)]))


@dataclass(frozen=True)
class NprobeChoice:
    """The IVF search breadth chosen for a target recall, and the recall it measured."""

    nprobe: int
    nlist: int
    recall: float
    target: float
    n_queries: int

    def __str__(self) -> str:
        reached = "reached" if self.recall >= self.target else "NOT reached (best found)"
        return (
            f"IVF nlist={self.nlist}, nprobe={self.nprobe}: recall@10 {self.recall:.3f} against exact search "
            f"on {self.n_queries} pool rows; target {self.target} {reached}"
        )


def _breadths(nlist: int) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, 16, 24, ... up to nlist: steps of at most 1.5x, so the choice overshoots little."""
    out, p = [], 1
    while p < nlist:
        out += [p] if p < 2 else [p, p + p // 2]
        p *= 2
    return sorted({min(q, nlist) for q in out} | {nlist})


def choose_nprobe(index, queries: np.ndarray, exact_ids: np.ndarray, *, target: float = TARGET_RECALL):
    """Set ``index.nprobe`` to the smallest breadth whose recall reaches ``target``.

    Breadths are tried in steps of at most 1.5x (1, 2, 3, 4, 6, 8, 12, ...,
    nlist). When none reaches the target (compressed codes can cap recall:
    IVF-PQ's, and 8-bit codes in a pool of 10^7, where the 10 nearest lie
    closer together than the codes' error), the smallest nprobe within 0.005 of
    the best recall measured is kept. ``index`` may be an IVF index or an
    ``IndexRefineFlat`` around one (its IVF's nprobe is set).

    Returns
    -------
    NprobeChoice
    """
    ivf = faiss.extract_index_ivf(index)  # the IVF itself, or the one inside an IndexRefineFlat
    nlist = int(ivf.nlist)
    tried = []
    for nprobe in _breadths(nlist):
        ivf.nprobe = nprobe
        tried.append((nprobe, recall_at(index, queries, exact_ids)))
        if tried[-1][1] >= target:
            break
    if tried[-1][1] >= target:
        nprobe, recall = tried[-1]
    else:
        best = max(r for _, r in tried)
        nprobe, recall = next((p, r) for p, r in tried if r >= best - 0.005)
    ivf.nprobe = nprobe
    return NprobeChoice(nprobe, nlist, recall, target, len(queries))


def build_index(
    embeddings,
    kind: str = "flat",
    *,
    metric: str = "l2",
    nlist: int | None = None,
    nprobe="auto",
    target_recall: float = TARGET_RECALL,
    hnsw_m: int = 32,
    ef_search: int = 128,
    refine: bool = False,
    k_factor: float = REFINE_K_FACTOR,
    use_gpu: bool = False,
    seed: int = 0,
    verbose: bool = False,
):
    """A faiss index over the pool's embeddings.

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
        Converted to float32.
    kind : {"flat", "ivf", "ivfsq", "ivfhnsw", "hnsw"}
        ``"flat"``: exact search (``IndexFlatL2`` or ``IndexFlatIP``).
        ``"ivf"``: an inverted file over ``nlist`` k-means cells; a query scans
        the ``nprobe`` nearest cells only. ``"ivfsq"``: the same cells holding
        8-bit codes instead of float32 vectors: a quarter of the memory, and a
        probe reads a quarter of the bytes (a SEALS search of a large pool is
        bound by memory traffic), for a little recall. ``"ivfhnsw"``: 8-bit
        codes in cells of a constant size (about :data:`CELL_SIZE` vectors),
        found by two-level k-means and chosen through an HNSW graph of the
        cells' centroids (``hnsw_m`` links each), so adding and searching cost
        about log(nlist) in the quantizer (:func:`new_ivfhnsw`). ``"hnsw"``: a
        navigable small-world graph over the pool with ``hnsw_m`` links per node.
    metric : {"l2", "ip"}
        Euclidean distance, or inner product (cosine on normalised vectors).
    nlist : int, optional
        IVF cells; default :func:`ivf_nlist` (about sqrt(n)), or
        :func:`ivfhnsw_nlist` (about n / CELL_SIZE) for ``"ivfhnsw"``. k-means
        trains on a seeded sample of 64 points per cell (``"ivfhnsw"``: 32, at
        least 1,000 rows).
    nprobe : "auto" or int
        IVF cells scanned per query. ``"auto"``: the smallest breadth whose
        recall@10 against exact search reaches ``target_recall`` on a seeded
        sample of pool rows (:func:`choose_nprobe`); read it back as ``index.nprobe``.
    target_recall : float
        For ``nprobe="auto"``.
    hnsw_m, ef_search : int
        HNSW links per node, and the search breadth (higher = better recall)
        of ``"hnsw"``; ``"ivfhnsw"`` uses ``hnsw_m`` for its cell graph.
    refine : bool
        For the 8-bit kinds (``"ivfsq"``, ``"ivfhnsw"``): rerank each query's
        ``k_factor * k`` nearest by their codes with exact float32 distances
        (``faiss.IndexRefineFlat``, which holds a float32 copy of the pool:
        n x d x 4 bytes more). 8-bit codes alone cap recall@10 below 0.95 in a
        dense pool (at 10^7 rows of the kit's generator no nprobe up to
        nlist reached 0.95; 0.936 at the one kept); reranked, the nprobe chosen reaches the target. The
        IVF inside is ``faiss.extract_index_ivf(index)`` (its ``nlist``, ``nprobe``).
    k_factor : float
        Shortlist per neighbour asked for, with ``refine``.
    use_gpu : bool
        Move the index to every visible GPU (needs the faiss GPU build).
    seed : int
        Seeds the IVF training sample, k-means and the recall sample: an IVF
        index built twice with one seed gives the same search results.
    verbose : bool
        Print the chosen nprobe and the recall it measured.

    Returns
    -------
    faiss.Index
        Holds all n rows, in order: faiss ids are pool indices.

    Examples
    --------
    >>> X = np.random.default_rng(0).standard_normal((100, 8)).astype(np.float32)
    >>> index = build_index(X)
    >>> index.ntotal, int(index.search(X[:1], 1)[1][0, 0])
    (100, 0)
    """
    X = as_faiss_array(embeddings)
    n, d = X.shape
    if kind not in INDEX_KINDS:
        raise ValueError(f"kind must be one of {INDEX_KINDS}, got {kind!r}.")
    faiss_metric = _faiss_metric(metric)
    if not (isinstance(nprobe, str) and nprobe == "auto"):
        nprobe = check_positive_int(nprobe, "nprobe")
    if not 0 < target_recall <= 1:
        raise ValueError(f"target_recall must lie in (0, 1], got {target_recall!r}.")
    if refine and kind not in ("ivfsq", "ivfhnsw"):
        raise ValueError(f"refine=True reranks 8-bit codes: kind must be 'ivfsq' or 'ivfhnsw', got {kind!r}.")
    if refine and not (isinstance(k_factor, int | float) and k_factor >= 1):
        raise ValueError(f"k_factor must be a number >= 1, got {k_factor!r}.")
    if kind == "flat":
        index = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
        index.add(X)
    elif kind in ("ivf", "ivfsq", "ivfhnsw"):
        default = ivfhnsw_nlist(n) if kind == "ivfhnsw" else ivf_nlist(n)
        nlist = default if nlist is None else check_positive_int(nlist, "nlist")
        if nlist > n:
            raise ValueError(f"nlist={nlist} must lie in [1, n={n}]; the pool is too small for that many cells.")
        rng = as_generator(seed)
        if kind == "ivfhnsw":
            sample = X[np.sort(rng.choice(n, size=min(n, max(TRAIN_PER_CELL * nlist, 1000)), replace=False))]
            centroids = two_level_centroids(sample, nlist, seed=seed)
            index = new_ivfhnsw(centroids, metric=metric, hnsw_m=check_positive_int(hnsw_m, "hnsw_m"))
            index.train(sample)  # the scalar quantizer's ranges; the cells are set
        else:
            index = new_ivf(d, nlist, metric=metric, sq8=kind == "ivfsq", seed=seed)
            index.train(X[np.sort(rng.choice(n, size=min(n, 64 * nlist), replace=False))])
        ivf = index
        if refine:  # the refine index keeps the IVF alive (faiss's wrapper references it)
            index = faiss.IndexRefineFlat(ivf)
            index.k_factor = float(k_factor)
        index.add(X)
        if nprobe == "auto":
            queries = X[np.sort(rng.choice(n, size=min(n, RECALL_QUERIES), replace=False))]
            exact = exact_neighbours(queries, [(0, X)], min(10, n), metric=metric)
            choice = choose_nprobe(index, queries, exact, target=target_recall)
            if verbose:
                print(choice)
        else:
            ivf.nprobe = min(nprobe, nlist)  # cells scanned per query
    else:
        index = faiss.IndexHNSWFlat(d, check_positive_int(hnsw_m, "hnsw_m"), faiss_metric)
        index.hnsw.efSearch = check_positive_int(ef_search, "ef_search")
        index.add(X)
    if use_gpu:
        if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
            raise ValueError("use_gpu=True needs the faiss GPU build and a visible GPU; this faiss has neither.")
        index = faiss.index_cpu_to_all_gpus(index)
    return index
