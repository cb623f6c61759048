"""Invariants, checked on generated inputs (hypothesis).

Acquisition scores: ranges, symmetries, the extremes. Greedy k-centers: a
larger budget extends a smaller one's picks and never widens the coverage
radius. The SEALS candidate pool: the order in which labels arrive does not
matter, and labelled and candidate points never overlap.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dcai_al.acquisition import entropy, least_confidence, margin, select_top
from dcai_al.diversity import coverage_radius, k_center_greedy
from dcai_al.seals import CandidatePool, build_index

SCORES = (entropy, least_confidence, margin)
seeds = st.integers(0, 2**31 - 1)


def _probs(seed, n, k, concentration=0.5):
    return np.random.default_rng(seed).dirichlet(np.full(k, concentration), size=n)


@settings(max_examples=50, deadline=None)
@given(seeds, st.integers(1, 30), st.integers(2, 8))
def test_scores_follow_the_rows_and_ignore_the_class_order(seed, n, k):
    p = _probs(seed, n, k)
    rng = np.random.default_rng(seed + 1)
    rows, classes = rng.permutation(n), rng.permutation(k)
    for score in SCORES:
        base = score(p)
        assert base.shape == (n,) and np.all(np.isfinite(base))
        np.testing.assert_allclose(score(p[rows]), base[rows], atol=1e-12)
        np.testing.assert_allclose(score(p[:, classes]), base, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(seeds, st.integers(2, 8))
def test_uniform_rows_score_highest_and_one_hot_rows_zero(seed, k):
    p = np.vstack([_probs(seed, 10, k), np.full(k, 1 / k), np.eye(k)[seed % k]])
    for score in SCORES:
        s = score(p)
        assert np.argmax(s) == 10 or np.isclose(s.max(), s[10]), score.__name__
        assert np.isclose(s[11], 0.0), score.__name__


@settings(max_examples=50, deadline=None)
@given(seeds, st.integers(2, 40), st.data())
def test_top_j_holds_the_j_largest_unlabelled_scores(seed, n, data):
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 4, size=n) / 3.0  # ties on purpose
    excluded = rng.choice(n, int(rng.integers(0, n)), replace=False)
    j = data.draw(st.integers(1, n - excluded.size))
    picked = select_top(s, j, labelled=excluded)
    rest = np.setdiff1d(np.arange(n), np.concatenate([picked, excluded]))
    assert len(set(picked.tolist())) == j and set(picked.tolist()).isdisjoint(excluded.tolist())
    assert rest.size == 0 or s[picked].min() >= s[rest].max()
    assert np.all(np.diff(s[picked]) <= 0), "largest first"


@settings(max_examples=30, deadline=None)
@given(seeds, st.integers(5, 60), st.integers(0, 3))
def test_k_centers_budgets_nest_and_the_radius_never_grows(seed, n, n_labelled):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    labelled = rng.choice(n, n_labelled, replace=False).tolist()
    budget = n - n_labelled
    picks = k_center_greedy(X, budget, labelled=labelled, seed=seed)
    assert sorted(picks.tolist() + labelled) == list(range(n))
    radii = []
    for b in range(1, budget + 1):
        assert k_center_greedy(X, b, labelled=labelled, seed=seed).tolist() == picks[:b].tolist()
        radii.append(coverage_radius(X, labelled + picks[:b].tolist()))
    assert all(later <= earlier + 1e-9 for earlier, later in zip(radii, radii[1:], strict=False))
    assert radii[-1] == 0.0  # every point is a center: exactly, not up to the expansion's rounding


def _exact_k_centers(X, budget, labelled):
    """Greedy k-centers in exact integer arithmetic: ties to the lower index, by definition."""
    X = np.asarray(X, dtype=np.int64)
    centers, chosen = list(labelled), []
    for _ in range(budget):
        d = ((X[:, None, :] - X[None, centers, :]) ** 2).sum(2).min(1)
        d[centers] = -1
        chosen.append(int(np.argmax(d)))
        centers.append(chosen[-1])
    return chosen


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(4, 40), st.integers(1, 3), st.sampled_from([np.float32, np.float64]), st.integers(0, 3))
def test_k_centers_on_integer_data_equal_exact_arithmetic_ties_included(seed, n, n_labelled, dtype, scale):
    # Small integer coordinates tie often; a large offset makes the expansion's rounding large.
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, size=(n, 2)) + 10**scale
    labelled = rng.choice(n, n_labelled, replace=False).tolist()
    budget = n - n_labelled
    got = k_center_greedy(X.astype(dtype), budget, labelled=labelled)
    assert got.tolist() == _exact_k_centers(X, budget, labelled)


@settings(max_examples=30, deadline=None)
@given(seeds, st.integers(1, 5), st.integers(1, 4))
def test_candidate_pool_ignores_the_order_labels_arrive_in(seed, k, n_batches):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 4)).astype(np.float32)
    index = build_index(X)
    labelled = rng.choice(60, 12, replace=False)
    batches = np.array_split(labelled, n_batches)
    forward, backward = CandidatePool(index, X, k), CandidatePool(index, X, k)
    for batch in batches:
        forward.update(batch)
        assert set(forward.candidates.tolist()).isdisjoint(forward.labelled.tolist())
        assert np.all(np.diff(forward.candidates) > 0), "sorted, without repeats"
    for batch in reversed(batches):
        backward.update(batch)
    at_once = CandidatePool(index, X, k).update(labelled)
    assert forward.candidates.tolist() == backward.candidates.tolist() == at_once.candidates.tolist()
    assert forward.labelled.tolist() == sorted(labelled.tolist())
    assert forward.candidates.size <= min(60 - 12, 12 * k)
