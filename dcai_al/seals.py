"""SEALS: active learning and search over the nearest neighbours of the labelled set.

Instead of scoring the whole unlabelled pool each round, SEALS (Coleman et
al., AAAI 2022) scores only a *candidate pool*: the nearest neighbours of the
labelled examples in a pre-trained embedding space, found with a
similarity-search index (faiss here). Each round then costs time that grows
with the labelled set, and only sublinearly with the pool.

The candidate pool follows the paper: each labelled example contributes its
``k`` nearest neighbours in the pool (itself excluded), found once, when it is
labelled; the pool is the union of these minus every labelled example. So an
incremental update equals a rebuild from scratch. A neighbour that gets
labelled later is not replaced.

Lecture: "Growing or Compressing Datasets", section *Practical Challenge 2: Big Data*.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import faiss
import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from tqdm.auto import tqdm

from .acquisition import entropy, select_top
from .validation import check_features, check_indices, check_labels, check_positive_int, check_random_state

__all__ = [
    "CandidatePool",
    "SealsHistory",
    "build_index",
    "most_likely_positive",
    "neighbours_without_self",
    "run_seals",
]

INDEX_KINDS = ("flat", "ivf", "hnsw")


def _as_faiss_array(embeddings, name: str = "embeddings") -> np.ndarray:
    """float32, C-contiguous, finite, 2-D: what faiss reads without surprises."""
    X = check_features(embeddings, name, allow_tensor=False)
    return np.ascontiguousarray(X, dtype=np.float32)


def build_index(
    embeddings,
    kind: str = "flat",
    *,
    metric: str = "l2",
    nlist: int | None = None,
    nprobe: int = 8,
    hnsw_m: int = 32,
    ef_search: int = 128,
    use_gpu: bool = False,
    seed: int = 0,
):
    """A faiss index over the pool's embeddings.

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
        Converted to float32.
    kind : {"flat", "ivf", "hnsw"}
        ``"flat"``: exact search (``IndexFlatL2`` or ``IndexFlatIP``).
        ``"ivf"``: an inverted file over ``nlist`` k-means cells; a query scans
        the ``nprobe`` nearest cells only. ``"hnsw"``: a navigable small-world
        graph with ``hnsw_m`` links per node.
    metric : {"l2", "ip"}
        Euclidean distance, or inner product (cosine on normalised vectors).
    nlist : int, optional
        IVF cells; default ``sqrt(n)``, capped so each cell trains on at least
        39 points. k-means trains on a seeded sample of 64 points per cell.
    nprobe : int
        IVF cells scanned per query: more is slower and closer to exact.
    hnsw_m, ef_search : int
        HNSW links per node, and the search breadth (higher = better recall).
    use_gpu : bool
        Move the index to every visible GPU (needs the faiss GPU build).
    seed : int
        Seeds the IVF training sample and k-means.

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
    X = _as_faiss_array(embeddings)
    n, d = X.shape
    if kind not in INDEX_KINDS:
        raise ValueError(f"kind must be one of {INDEX_KINDS}, got {kind!r}.")
    if metric not in ("l2", "ip"):
        raise ValueError(f"metric must be 'l2' or 'ip', got {metric!r}.")
    faiss_metric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    if kind == "flat":
        index = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
    elif kind == "ivf":
        nlist = int(min(np.sqrt(n), n // 39)) if nlist is None else check_positive_int(nlist, "nlist")
        if nlist < 1 or nlist > n:
            raise ValueError(f"nlist={nlist} must lie in [1, n={n}]; the pool is too small for an IVF index.")
        quantizer = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss_metric)
        index.cp.seed = seed
        sample = check_random_state(seed).choice(n, size=min(n, 64 * nlist), replace=False)
        index.train(X[np.sort(sample)])
        index.nprobe = check_positive_int(nprobe, "nprobe")  # cells scanned per query
        index.__dict__["_dcai_quantizer"] = quantizer  # keep the quantizer alive with the index
    else:
        index = faiss.IndexHNSWFlat(d, check_positive_int(hnsw_m, "hnsw_m"), faiss_metric)
        index.hnsw.efSearch = check_positive_int(ef_search, "ef_search")
    index.add(X)
    if use_gpu:
        if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
            raise ValueError("use_gpu=True needs the faiss GPU build and a visible GPU; this faiss has neither.")
        index = faiss.index_cpu_to_all_gpus(index)
    return index


def neighbours_without_self(ids: np.ndarray, query_ids: np.ndarray) -> list[np.ndarray]:
    """Drop each query's own id from its row of ``index.search`` results.

    Removing by id, not by position: with exact duplicates in the pool the
    query need not come first in its own row, and ``I[:, 1:]`` (or the public
    slip ``I[0][1:]``, which drops the first query's whole row) gets it wrong.
    ``-1`` entries (no neighbour found) are dropped too.

    Parameters
    ----------
    ids : numpy.ndarray of shape (m, k + 1)
        The ``I`` array of ``index.search`` for the m queries.
    query_ids : numpy.ndarray of shape (m,)
        The pool index of each query.

    Returns
    -------
    list of numpy.ndarray
        For each query, at most k neighbour ids.

    Examples
    --------
    >>> neighbours_without_self(np.array([[7, 3, 5], [3, 7, -1]]), np.array([3, 7]))
    [array([7, 5]), array([3])]
    """
    ids = np.asarray(ids)
    query_ids = np.asarray(query_ids)
    if ids.ndim != 2 or ids.shape[0] != query_ids.shape[0]:
        raise ValueError(
            f"ids must have one row per entry of query_ids: got shape {ids.shape} for {query_ids.shape[0]} queries."
        )
    k = ids.shape[1] - 1
    out = []
    for row, q in zip(ids, query_ids, strict=True):
        row = row[(row != q) & (row >= 0)]
        out.append(row[:k])
    return out


class CandidatePool:
    """The SEALS candidate pool: unlabelled nearest neighbours of the labelled set.

    Parameters
    ----------
    index : faiss.Index
        Built over the pool (faiss ids are pool indices), e.g. by :func:`build_index`.
    embeddings : numpy.ndarray of shape (n, d), or a ShardedPool
        The same embeddings, used as queries for newly labelled examples;
        a :class:`dcai_al.scale.ShardedPool` is read row by row, not loaded.
    k : int
        Neighbours per labelled example.

    Attributes
    ----------
    candidates : numpy.ndarray of int64
        Current candidate pool indices, sorted.
    labelled : numpy.ndarray of int64
        Every index labelled so far, sorted.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]], dtype=np.float32)
    >>> pool = CandidatePool(build_index(X), X, k=2)
    >>> pool.update([0]).candidates.tolist()
    [1, 2]
    >>> pool.update([1]).candidates.tolist()
    [2]
    """

    def __init__(self, index, embeddings, k: int):
        self.index = index
        # A sharded pool (dcai_al.scale) serves rows on demand instead of living in memory.
        self.embeddings = embeddings if getattr(embeddings, "lazy_rows", False) else _as_faiss_array(embeddings)
        self.n = self.embeddings.shape[0]
        if index.ntotal != self.n:
            raise ValueError(f"the index holds {index.ntotal} vectors but embeddings has {self.n} rows.")
        if index.d != self.embeddings.shape[1]:
            raise ValueError(f"the index has dimension {index.d} but embeddings have {self.embeddings.shape[1]}.")
        self.k = check_positive_int(k, "k")
        if self.k >= self.n:
            raise ValueError(f"k={self.k} must be smaller than the pool of {self.n} examples.")
        # Membership flags give O(1) look-ups; they are never scanned whole, so an
        # update costs time in the candidates and new neighbours, not in n.
        self._is_labelled = np.zeros(self.n, dtype=bool)
        self._is_candidate = np.zeros(self.n, dtype=bool)
        self._labelled = np.empty(0, dtype=np.int64)
        self._candidates = np.empty(0, dtype=np.int64)

    def update(self, newly_labelled) -> CandidatePool:
        """Add the neighbours of ``newly_labelled`` and drop every labelled index.

        Only the new examples are searched, and the work is proportional to
        the candidate pool and the new neighbours, never to the whole pool.
        Returns ``self``.
        """
        new = check_indices(newly_labelled, self.n, "newly_labelled")
        if self._is_labelled[new].any():
            first = int(new[self._is_labelled[new]][0])
            raise ValueError(f"newly_labelled holds {first}, which was labelled before; pass each index once.")
        self._is_labelled[new] = True
        self._labelled = np.union1d(self._labelled, new)
        kept = self._candidates[~self._is_labelled[self._candidates]]
        self._is_candidate[new] = False
        if new.size:
            queries = np.ascontiguousarray(self.embeddings[new], dtype=np.float32)
            _, ids = self.index.search(queries, self.k + 1)
            found = np.unique(np.concatenate(neighbours_without_self(ids, new)))
            fresh = found[~self._is_candidate[found] & ~self._is_labelled[found]]
            self._is_candidate[fresh] = True
            kept = np.sort(np.concatenate([kept, fresh]))
        self._candidates = kept
        return self

    @property
    def candidates(self) -> np.ndarray:
        return self._candidates.copy()

    @property
    def labelled(self) -> np.ndarray:
        return self._labelled.copy()

    def __len__(self) -> int:
        return int(self._candidates.size)


def most_likely_positive(probs):
    """Active search: the probability of the positive class (column 1) as the score."""
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] != 2:
        raise ValueError(f"most_likely_positive needs binary probs of shape (n, 2), got {probs.shape}.")
    return probs[:, 1]


@dataclass
class SealsHistory:
    """Per round (round 0 = the seed set): labels, positives found, candidate-pool size,
    the selection step's wall time, and test average precision."""

    n_labelled: list = field(default_factory=list)
    positives: list = field(default_factory=list)
    candidates: list = field(default_factory=list)
    selection_seconds: list = field(default_factory=list)
    average_precision: list = field(default_factory=list)
    chosen: list = field(default_factory=list)

    def as_arrays(self) -> dict:
        return {k: np.asarray(v) for k, v in self.__dict__.items() if k != "chosen"}


def run_seals(
    embeddings,
    y,
    *,
    initial,
    n_rounds: int,
    batch_size: int = 10,
    k: int = 100,
    score=entropy,
    index=None,
    restrict: bool = True,
    estimator=None,
    X_test=None,
    y_test=None,
    progress: bool = False,
) -> SealsHistory:
    """The pool-based loop of Lab 1, scoring only the SEALS candidate pool.

    With ``restrict=False`` the same loop scores the whole unlabelled pool
    (the baseline), so the two differ in nothing but the candidates.

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
    y : array-like of shape (n,)
        Binary oracle labels (1 = the concept searched for).
    initial : array-like of int
        Seed set (for example 5 positives and 95 negatives).
    n_rounds, batch_size : int
    k : int
        Neighbours per labelled example.
    score : callable
        ``score(probs) -> scores``; :func:`dcai_al.acquisition.entropy` for
        active learning, :func:`most_likely_positive` for active search.
    index : faiss.Index, optional
        Built over ``embeddings``; a flat index is built when None and
        ``restrict`` is True.
    restrict : bool
        Score the candidate pool (SEALS) or the whole unlabelled pool.
    estimator : scikit-learn classifier, optional
        Default: logistic regression with balanced class weights.
    X_test, y_test : arrays, optional
        For test average precision per round.

    Returns
    -------
    SealsHistory
        ``selection_seconds`` times scoring, choosing the batch and updating
        the candidate pool; model training is not included (it is the same for both).
    """
    X = _as_faiss_array(embeddings)
    n = X.shape[0]
    y = check_labels(y, n=n, name="y")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must be binary (0/1) for SEALS' rare-concept search.")
    labelled = check_indices(initial, n, "initial", allow_empty=False)
    if np.unique(y[labelled]).size < 2:
        raise ValueError("initial must hold both a positive and a negative example to train the first model.")
    n_rounds = check_positive_int(n_rounds, "n_rounds", minimum=0)
    batch_size = check_positive_int(batch_size, "batch_size")
    if not callable(score):
        raise TypeError(f"score must be a function probs -> scores, got {score!r}.")
    estimator = LogisticRegression(max_iter=1000, class_weight="balanced") if estimator is None else estimator
    pool = None
    if restrict:
        pool = CandidatePool(build_index(X) if index is None else index, X, k)
        pool.update(labelled)
    is_labelled = np.zeros(n, dtype=bool)
    is_labelled[labelled] = True
    history = SealsHistory()
    history.chosen.append(labelled)
    for r in tqdm(
        range(n_rounds + 1), desc="SEALS rounds" if restrict else "full-scan rounds", disable=not progress, leave=False
    ):
        model = clone(estimator).fit(X[is_labelled], y[is_labelled])
        history.n_labelled.append(int(is_labelled.sum()))
        history.positives.append(int(y[is_labelled].sum()))
        if X_test is not None:
            history.average_precision.append(float(average_precision_score(y_test, model.predict_proba(X_test)[:, 1])))
        if r == n_rounds:
            history.candidates.append(len(pool) if pool else int(n - is_labelled.sum()))
            break
        start = time.perf_counter()
        if pool is not None and len(pool) >= batch_size:
            candidates = pool.candidates
            history.candidates.append(int(candidates.size))
            picked = candidates[select_top(np.asarray(score(model.predict_proba(X[candidates]))), batch_size)]
        else:  # the full scan, or a candidate pool too small to fill a batch
            history.candidates.append(int(n - labelled.size))
            # Score the pool in place and exclude the labelled: no copy of X per round.
            picked = select_top(np.asarray(score(model.predict_proba(X))), batch_size, exclude=labelled)
        if pool is not None:
            pool.update(picked)
        history.selection_seconds.append(time.perf_counter() - start)
        is_labelled[picked] = True
        labelled = np.concatenate([labelled, picked])
        history.chosen.append(picked)
    return history
