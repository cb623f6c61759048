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

SEALS is not a loop of its own: :class:`Seals` wraps any selector of
:func:`dcai_al.loop.run_loop` and hands it the candidate pool instead of the
unlabelled pool, as small-text's SEALS wraps a base strategy.
:func:`run_seals` is that loop with a score over the model's probabilities.
The index comes from :func:`dcai_al.neighbour_index.build_index` (re-exported here).

Lecture: "Growing or Compressing Datasets", section *Practical Challenge 2: Big Data*.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from .acquisition import entropy
from .deprecation import renamed_parameters
from .loop import History, ScoreSelector, _run
from .neighbour_index import INDEX_KINDS, as_faiss_array, build_index
from .validation import as_generator, check_indices, check_labels, check_positive_int

__all__ = [
    "INDEX_KINDS",
    "CandidatePool",
    "Seals",
    "SealsHistory",
    "build_index",
    "most_likely_positive",
    "neighbours_without_self",
    "run_seals",
]

#: One history type for every loop; the old name stays for the labs and notebooks.
SealsHistory = History


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
        self.embeddings = embeddings if getattr(embeddings, "lazy_rows", False) else as_faiss_array(embeddings)
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
        # The candidates' rows, copied once when each joins, in a buffer of their own (in joining order, not
        # sorted): scoring reads them contiguously. Gathering ~13k rows at random places of a 10^7-row pool
        # took 1.5 ms of a 4.6 ms round; a round now copies only the ~1k rows that join. The buffer starts
        # at the first candidate_rows() call, so a pool whose rows nobody scores (k-centers) never pays for it.
        self._buffered = False
        self._slots = np.empty(0, dtype=np.int64)  # pool index of each buffer row
        self._rows = np.empty((0, self.embeddings.shape[1]), dtype=np.float32)
        self._size = 0

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
        self._update(new)
        return self

    def _update(self, new: np.ndarray) -> None:
        """:meth:`update` on checked input: distinct, in range, never labelled before."""
        self._is_labelled[new] = True
        self._labelled = np.union1d(self._labelled, new)
        # Only the new examples can have become labelled: find them in the sorted candidates
        # (O(batch log c)) instead of reading every candidate's flag at random places in n.
        leaving = new[self._is_candidate[new]]
        kept = _without(self._candidates, leaving)
        self._drop_rows(leaving)
        self._is_candidate[new] = False
        if new.size:
            queries = np.ascontiguousarray(self.embeddings[new], dtype=np.float32)
            _, ids = self.index.search(queries, self.k + 1)
            # Each query's own id and -1 (no neighbour) dropped, as neighbours_without_self does row by row.
            ids = ids[:, : self.k + 1]
            keep = (ids >= 0) & (ids != new[:, None])
            found = np.unique(_first_k_per_row(ids, keep, self.k))
            fresh = found[~self._is_candidate[found] & ~self._is_labelled[found]]
            self._is_candidate[fresh] = True
            kept = _merged(kept, fresh)
            self._add_rows(fresh)
        self._candidates = kept

    def _drop_rows(self, leaving: np.ndarray) -> None:
        """Remove these candidates' rows from the buffer: one pass over its ids finds them, and as many
        rows from its end move into the gaps (no sort, no copy of the buffer)."""
        if not (self._buffered and leaving.size):
            return
        size = self._size
        gaps = np.flatnonzero(np.isin(self._slots[:size], leaving))
        tail = size - gaps.size
        holes = gaps[gaps < tail]
        movers = np.setdiff1d(np.arange(tail, size), gaps, assume_unique=True)  # as many as holes
        self._slots[holes] = self._slots[movers]
        self._rows[holes] = self._rows[movers]
        self._size = tail

    def _add_rows(self, fresh: np.ndarray) -> None:
        """Append these new candidates' rows, growing the buffer by doubling."""
        if not self._buffered:
            return
        end = self._size + fresh.size
        if end > self._slots.size:
            capacity = max(end, 2 * self._slots.size, 1024)
            self._slots = np.resize(self._slots, capacity)
            rows = np.empty((capacity, self._rows.shape[1]), dtype=np.float32)
            rows[: self._size] = self._rows[: self._size]
            self._rows = rows
        self._slots[self._size : end] = fresh
        self._rows[self._size : end] = self.embeddings[fresh]
        self._size = end

    def candidate_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The candidates and their embedding rows, in the buffer's order (not sorted); views, not copies.

        The first call copies every current candidate's row; from then on
        each update copies only the rows that join.

        Returns
        -------
        ids : numpy.ndarray of int64, shape (c,)
        rows : numpy.ndarray of float32, shape (c, d)
            ``rows[i]`` is the embedding of pool index ``ids[i]``.
        """
        if not self._buffered:
            self._buffered = True
            self._add_rows(self._candidates)
        return self._slots[: self._size], self._rows[: self._size]

    @property
    def candidates(self) -> np.ndarray:
        return self._candidates.copy()

    @property
    def labelled(self) -> np.ndarray:
        return self._labelled.copy()

    def __len__(self) -> int:
        return int(self._candidates.size)


def _first_k_per_row(ids: np.ndarray, keep: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` kept entries of each row, flattened: neighbours_without_self without a Python loop."""
    rank = np.cumsum(keep, axis=1)  # 1-based position among the kept entries of its row
    return ids[keep & (rank <= k)]


def _without(sorted_ids: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """``sorted_ids`` less ``drop`` (entries of it): one copy, no sort."""
    if not drop.size:
        return sorted_ids
    return np.delete(sorted_ids, np.searchsorted(sorted_ids, drop))


def _merged(sorted_ids: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """Two disjoint sorted id arrays as one sorted array: a merge, not a sort of both."""
    if not fresh.size:
        return sorted_ids
    return np.insert(sorted_ids, np.searchsorted(sorted_ids, fresh), fresh)


def most_likely_positive(probs):
    """Active search: the probability of the positive class (column 1) as the score."""
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] != 2:
        raise ValueError(f"most_likely_positive needs binary probs of shape (n, 2), got {probs.shape}.")
    return probs[:, 1]


_CONTROLLER = []


def _one_thread():
    """Limit BLAS and OpenMP (faiss) to one thread; the controller is built once (a few ms)."""
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1)


class Seals:
    """SEALS as a candidate restriction around any selector.

    Each round the wrapped selector chooses from the candidate pool (the
    unlabelled nearest neighbours of the labelled set) instead of the whole
    unlabelled pool, and the batch it picks then joins the labelled set and
    brings its own neighbours in. When the candidate pool holds fewer than a
    batch, the whole unlabelled pool is used for that round.

    Parameters
    ----------
    selector : selector
        Anything with ``select(model, X_pool, labelled, unlabelled, batch_size, rng)``,
        e.g. :class:`dcai_al.loop.ScoreSelector` (entropy, most likely positive)
        or :class:`dcai_al.diversity.KCenterSelector`.
    pool : CandidatePool
        Empty; :func:`dcai_al.loop.run_loop` fills it with the seed set.

    Examples
    --------
    >>> from dcai_al.loop import ScoreSelector, run_loop
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).standard_normal((200, 4)).astype(np.float32)
    >>> y = (X[:, 0] > 1).astype(int)
    >>> seals = Seals(ScoreSelector(most_likely_positive), CandidatePool(build_index(X), X, k=5))
    >>> h = run_loop(LogisticRegression(), X, y, score=seals, labelled=[int(np.argmax(y)), 1, 2, 3],
    ...              batch_size=5, n_rounds=2)
    >>> h.n_labelled.tolist()
    [4, 9, 14]
    """

    #: The loop need not list the unlabelled pool (a pass over n) for this selector.
    needs_unlabelled = False

    def __init__(self, selector, pool: CandidatePool):
        if not hasattr(selector, "select"):
            raise TypeError(f"selector must have a select(...) method, got {selector!r}.")
        if not isinstance(pool, CandidatePool):
            raise TypeError(f"pool must be a CandidatePool, got {type(pool).__name__}.")
        self.selector = selector
        self.pool = pool

    def start(self, labelled: np.ndarray) -> None:
        """Seed the candidate pool with the seed set (sorted pool indices)."""
        self.pool._update(np.setdiff1d(labelled, self.pool._labelled))

    def n_candidates(self) -> int:
        return len(self.pool)

    def select(self, model, X_pool, labelled, unlabelled, batch_size, rng):
        # A SEALS round is small work (about 10k rows scored, 10 queries searched): threads cost
        # more in wake-ups than they save. On 2 busy cores, a faiss search of 10 queries took
        # 5.8 ms on one thread and 17 ms on two; an 11k x 64 mat-vec 0.5 ms against 1.8 ms.
        with _one_thread():
            return self._select(model, X_pool, labelled, batch_size, rng)

    def _select(self, model, X_pool, labelled, batch_size, rng):
        if len(self.pool) >= batch_size and _scores_rows(self.selector) and X_pool is self.pool.embeddings:
            # A selector that scores rows one by one takes the pool's own copy of the candidates' rows
            # (only when the model's features are the embeddings themselves, as in run_seals).
            ids, rows = self.pool.candidate_rows()
            picked = self.selector.select_rows(model, rows, ids, batch_size)
        else:
            if len(self.pool) >= batch_size:
                choose_from = self.pool._candidates  # sorted; never written to by the selector
            else:  # too few candidates to fill a batch: this round scans the whole unlabelled pool
                choose_from = np.flatnonzero(~self.pool._is_labelled)
            picked = self.selector.select(model, X_pool, labelled, choose_from, batch_size, rng)
        picked = check_indices(picked, self.pool.n, "selection")  # O(batch): the selector may be anyone's
        self.pool.update(picked)
        return picked


def _scores_rows(selector) -> bool:
    """Whether ``selector.select`` on gathered rows is its ``select_rows``: true of a ScoreSelector unless a
    subclass changed ``select`` alone (its own rule, e.g. a filter, must then run)."""
    if not hasattr(selector, "select_rows"):
        return False
    return not isinstance(selector, ScoreSelector) or type(selector).select is ScoreSelector.select


def check_search_run(embeddings, y, labelled, n_rounds, batch_size, X_test=None, y_test=None):
    """The validated arguments of a rare-concept search run (:func:`run_seals` and ``seals_round.run_rounds``).

    Returns
    -------
    X : numpy.ndarray of float32, shape (n, d)
    y : numpy.ndarray of int, shape (n,)
        Binary labels.
    labelled : numpy.ndarray of int64
        The seed set; it holds a positive and a negative.
    n_rounds, batch_size : int
    y_test : numpy.ndarray or None
    """
    X = as_faiss_array(embeddings)
    n = X.shape[0]
    y = check_labels(y, n=n, name="y")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must be binary (0/1) for SEALS' rare-concept search.")
    labelled = check_indices(labelled, n, "labelled", allow_empty=False)
    if np.unique(y[labelled]).size < 2:
        raise ValueError("labelled must hold both a positive and a negative example to train the first model.")
    n_rounds = check_positive_int(n_rounds, "n_rounds", minimum=0)
    batch_size = check_positive_int(batch_size, "batch_size")
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither.")
    if y_test is not None:
        y_test = check_labels(y_test, n=len(X_test), name="y_test")
    return X, y, labelled, n_rounds, batch_size, y_test


@renamed_parameters(initial="labelled")
def run_seals(
    embeddings,
    y,
    *,
    labelled,
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
    seed=0,
) -> History:
    """The pool-based loop of Lab 1, scoring only the SEALS candidate pool.

    A thin wrapper: :func:`dcai_al.loop.run_loop`'s loop with
    ``Seals(ScoreSelector(score), CandidatePool(index, embeddings, k))`` as
    the selector. With ``restrict=False`` the same loop scores the whole
    unlabelled pool (the baseline), so the two differ in nothing but the candidates.

    Parameters
    ----------
    embeddings : array-like of shape (n, d)
    y : array-like of shape (n,)
        Binary oracle labels (1 = the concept searched for).
    labelled : array-like of int
        The seed set's pool indices, for example 5 positives and 95 negatives
        (was ``initial``, deprecated).
    n_rounds, batch_size : int
        Rounds, and labels per round.
    k : int
        Neighbours per labelled example (``k`` only ever counts neighbours).
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
    seed : int, numpy.random.Generator or None
        Passed to the selector as ``rng`` (see :func:`dcai_al.validation.as_generator`).

    Returns
    -------
    History
        ``selection_seconds`` times scoring, choosing the batch and updating
        the candidate pool; model training is not included (it is the same
        for both). ``candidates`` is the candidate pool's size (SEALS) or the
        unlabelled pool's (full scan), per round.
    """
    X, y, labelled, n_rounds, batch_size, y_test = check_search_run(
        embeddings, y, labelled, n_rounds, batch_size, X_test, y_test
    )
    selector = ScoreSelector(score, n_classes=2)
    if restrict:
        selector = Seals(selector, CandidatePool(build_index(X) if index is None else index, X, k))
    estimator = LogisticRegression(max_iter=1000, class_weight="balanced") if estimator is None else estimator
    return _run(
        estimator, X, y, X_test, y_test, selector, labelled, batch_size, n_rounds, as_generator(seed),
        progress=progress, desc="SEALS rounds" if restrict else "full-scan rounds",
    )  # fmt: skip
