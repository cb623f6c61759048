"""diversity.py: greedy k-centers is the textbook algorithm, fast, and careful with indices."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dcai_al.acquisition import entropy
from dcai_al.data import load_digits_pool
from dcai_al.diversity import HybridSelector, KCenterSelector, coverage_radius, k_center_greedy, uncertain_then_diverse
from dcai_al.loop import run_loop


def reference_k_center(X, budget, labelled, first=None):
    """Float64 numpy greedy k-centers written the slow, obvious way."""
    X = np.asarray(X, dtype=np.float64)
    centers = list(labelled)
    chosen = []
    for _ in range(budget):
        if not centers:
            pick = first
        else:
            d = np.min(np.linalg.norm(X[:, None, :] - X[None, centers, :], axis=2), axis=1)
            d[centers] = -np.inf
            pick = int(np.argmax(d))
        chosen.append(pick)
        centers.append(pick)
    return chosen


def brute_force_radius(X, budget, labelled):
    n = len(X)
    others = [i for i in range(n) if i not in set(labelled)]
    return min(coverage_radius(X, list(labelled) + list(c)) for c in itertools.combinations(others, budget))


instances = st.tuples(st.integers(4, 9), st.integers(1, 3), st.integers(0, 2), st.integers(0, 2**31 - 1))


@settings(max_examples=40, deadline=None)
@given(instances)
def test_within_twice_the_optimum_and_equal_to_a_float64_reference(instance):
    n, budget, n_labelled, seed = instance
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    labelled = rng.choice(n, n_labelled, replace=False).tolist()
    budget = min(budget, n - n_labelled)
    chosen = k_center_greedy(X, budget, labelled=labelled, seed=seed)
    assert set(chosen).isdisjoint(labelled) and len(set(chosen)) == budget
    first = None if labelled else int(chosen[0])
    assert chosen.tolist() == reference_k_center(X, budget, labelled, first)
    if labelled:
        greedy = coverage_radius(X, labelled + chosen.tolist())
        assert greedy <= 2 * brute_force_radius(X, budget, labelled) + 1e-9


def test_float32_matches_reference_on_larger_data(rng):
    X = rng.standard_normal((500, 16)).astype(np.float32)
    chosen = k_center_greedy(X, 30, labelled=[3, 7])
    assert chosen.tolist() == reference_k_center(X, 30, [3, 7])


def test_cold_start_is_seeded_and_not_always_index_zero(rng):
    X = rng.standard_normal((200, 4))
    firsts = {int(k_center_greedy(X, 3, seed=s)[0]) for s in range(10)}
    assert len(firsts) > 1
    assert np.array_equal(k_center_greedy(X, 5, seed=4), k_center_greedy(X, 5, seed=4))


def test_the_first_random_center_is_part_of_the_result(rng):
    X = rng.standard_normal((50, 3))
    chosen = k_center_greedy(X, 4, seed=1)
    assert len(chosen) == 4 and len(set(chosen)) == 4


def test_exact_duplicates_of_centers_are_chosen_only_when_nothing_else_is_left():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    chosen = k_center_greedy(X, 3, labelled=[0])
    assert chosen.tolist() == [2, 1, 3]
    assert 0 not in chosen


def test_chunked_starting_distances_equal_unchunked(rng):
    X = rng.standard_normal((300, 5))
    labelled = rng.choice(300, 40, replace=False)
    assert np.array_equal(
        k_center_greedy(X, 10, labelled=labelled, chunk_size=3), k_center_greedy(X, 10, labelled=labelled)
    )


def test_torch_input_gives_the_same_answer(rng):
    X = rng.standard_normal((100, 6))
    assert np.array_equal(k_center_greedy(torch.from_numpy(X), 7, labelled=[0]), k_center_greedy(X, 7, labelled=[0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; none on this machine")
def test_cuda_gives_the_same_answer(rng):
    X = rng.standard_normal((2000, 32))
    assert np.array_equal(k_center_greedy(X, 20, labelled=[0], device="cuda"), k_center_greedy(X, 20, labelled=[0]))


def test_coverage_radius_by_hand():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert coverage_radius(X, [0]) == pytest.approx(10.0)
    assert coverage_radius(X, [1]) == pytest.approx(5.0)
    assert coverage_radius(X, [0, 1, 2]) == 0.0


def test_greedy_shrinks_the_coverage_radius_more_than_random(rng):
    X = load_digits_pool(seed=0).X_pool
    greedy = coverage_radius(X, k_center_greedy(X, 50, seed=0))
    random = np.mean([coverage_radius(X, rng.choice(len(X), 50, replace=False)) for _ in range(5)])
    assert greedy < 0.9 * random  # measured: 2.43 vs 2.82 on average


def test_hybrid_takes_uncertain_points_and_spreads_them():
    X = np.array([[0.0], [0.01], [0.02], [5.0], [9.0], [20.0]])
    scores = np.array([0.9, 0.9, 0.9, 0.8, 0.1, 0.05])
    picked = uncertain_then_diverse(scores, X, 2, candidates=4)
    assert picked.tolist() == [0, 3]
    assert set(uncertain_then_diverse(scores, X, 3, labelled=[3], candidates=4)) <= {0, 1, 2, 4}


def test_selectors_plug_into_the_loop():
    split = load_digits_pool(seed=0)
    from sklearn.linear_model import LogisticRegression

    for selector in (KCenterSelector(split.X_pool), HybridSelector(split.X_pool, entropy, n_classes=10)):
        h = run_loop(
            LogisticRegression(max_iter=200),
            split.X_pool,
            split.y_pool,
            split.X_test,
            split.y_test,
            score=selector,
            labelled=np.arange(20),
            batch_size=10,
            n_rounds=2,
            seed=0,
        )
        assert h.n_labelled.tolist() == [20, 30, 40] and len(set(h.labelled.tolist())) == 40


@pytest.mark.parametrize(
    "call, error, word",
    [
        (lambda X: k_center_greedy(X, 0), ValueError, "batch_size"),
        (lambda X: k_center_greedy(X, 11), ValueError, "batch_size=11"),
        (lambda X: k_center_greedy(X, 5, labelled=range(6)), ValueError, "batch_size=5"),
        (lambda X: k_center_greedy(X, 1, labelled=[0, 0]), ValueError, "labelled"),
        (lambda X: k_center_greedy(X, 1, labelled=[10]), ValueError, "labelled"),
        (lambda X: k_center_greedy(X[:, 0], 1), ValueError, "features"),
        (lambda X: k_center_greedy(np.where(X > 1, np.nan, X), 1), ValueError, "features"),
        (lambda X: k_center_greedy(X, 1, device="tpu"), ValueError, "device"),
        (lambda X: k_center_greedy(X, 1, chunk_size=0), ValueError, "chunk_size"),
        (lambda X: coverage_radius(X, []), ValueError, "centers"),
        (lambda X: uncertain_then_diverse(np.ones(9), X, 2), ValueError, "lengths must match"),
        (lambda X: uncertain_then_diverse(np.ones(10), X, 3, candidates=2), ValueError, "candidates"),
    ],
)
def test_bad_input(call, error, word):
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(error, match=word):
        call(X)


GRID = np.array([(i, j) for i in range(4) for j in range(4)], float)  # 4 x 4 integer grid: many exact ties


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_ties_go_to_the_lower_index_on_a_grid(dtype):
    # Exactly: 15 is farthest from 0; then 3 and 12 (distance 3); then 5 and 6 tie at sqrt(5)... and 5 is lower.
    assert reference_k_center(GRID, 4, [0]) == [15, 3, 12, 5]
    assert k_center_greedy(GRID.astype(dtype), 4, labelled=[0]).tolist() == [15, 3, 12, 5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_coverage_radius_is_exactly_zero_when_every_point_is_a_center(dtype):
    X = np.repeat(np.random.default_rng(0).standard_normal((5, 8)) * 30, 3, axis=0).astype(dtype)
    assert coverage_radius(X, [0, 3, 6, 9, 12]) == 0.0
    assert coverage_radius(GRID.astype(dtype), [0]) == np.sqrt(18.0)


def test_exact_ties_survive_a_large_offset():
    # The expansion's rounding grows with the norms: a grid far from the origin still ties exactly.
    X = (GRID + 1000.0).astype(np.float32)
    assert k_center_greedy(X, 4, labelled=[0]).tolist() == [15, 3, 12, 5]


@pytest.mark.parametrize("make", [lambda X: KCenterSelector(X), lambda X: HybridSelector(X, entropy)])
def test_diverse_selectors_choose_only_among_the_unlabelled_they_are_given(make):
    # SEALS restricts any selector to its candidates by passing them as `unlabelled`.
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(3).standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    labelled = np.array([0, 1, 2, 3])
    allowed = np.array([10, 20, 30, 40, 50, 55])
    model = LogisticRegression().fit(X[labelled], y[labelled])
    picked = make(X).select(model, X, labelled, allowed, 3, np.random.default_rng(0))
    assert set(picked.tolist()) <= set(allowed.tolist()) and len(set(picked.tolist())) == 3
    subset = np.concatenate([labelled, allowed])
    if isinstance(make(X), KCenterSelector):  # the same as k-centers run on the allowed points alone
        assert picked.tolist() == subset[k_center_greedy(X[subset], 3, labelled=np.arange(4))].tolist()
