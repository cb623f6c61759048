"""acquisition.py: scores match hand values and invariances; select_top is deterministic."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dcai_al.acquisition import SCORES, entropy, least_confidence, margin, random_scores, select_top

SCORE_FNS = [entropy, least_confidence, margin]


def test_hand_computed_values():
    p = np.array([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0], [0.7, 0.3]])
    assert np.allclose(entropy(p), [np.log(2), 0.3250829733914482, 0.0, 0.6108643020548935])
    assert np.allclose(least_confidence(p), [0.5, 0.1, 0.0, 0.3])
    assert np.allclose(margin(p), [1.0, 0.2, 0.0, 0.6])
    three = np.array([[0.1, 0.2, 0.7]])
    assert np.allclose(margin(three), [0.5]) and np.allclose(least_confidence(three), [0.3])


@pytest.mark.parametrize("fn", SCORE_FNS)
def test_one_hot_is_minimal_and_uniform_maximal(fn):
    k = 5
    onehot, uniform = np.eye(k), np.full((1, k), 1 / k)
    assert np.allclose(fn(onehot), 0.0) and np.all(np.isfinite(fn(onehot)))
    rng = np.random.default_rng(0)
    others = rng.dirichlet(np.ones(k), size=200)
    assert fn(uniform)[0] >= fn(others).max() - 1e-12


@pytest.mark.parametrize("fn", SCORE_FNS)
def test_permuting_classes_does_not_change_scores(fn, rng):
    p = rng.dirichlet(np.ones(6), size=30)
    assert np.allclose(fn(p), fn(p[:, rng.permutation(6)]))


@pytest.mark.parametrize("fn", SCORE_FNS)
def test_torch_in_torch_out_same_values(fn, rng):
    p = rng.dirichlet(np.ones(4), size=20)
    out = fn(torch.from_numpy(p))
    assert isinstance(out, torch.Tensor) and out.shape == (20,)
    assert np.allclose(out.numpy(), fn(p))


@pytest.mark.parametrize("fn", SCORE_FNS)
def test_scores_do_not_modify_their_input(fn, rng):
    p = rng.dirichlet(np.ones(3), size=5)
    before = p.copy()
    fn(p)
    assert np.array_equal(p, before)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_score_ranges_hold_for_random_probabilities(k, n, seed):
    p = np.random.default_rng(seed).dirichlet(np.full(k, 0.5), size=n)
    assert np.all((entropy(p) >= -1e-12) & (entropy(p) <= np.log(k) + 1e-9))
    assert np.all((least_confidence(p) >= 0) & (least_confidence(p) <= 1 - 1 / k + 1e-9))
    assert np.all((margin(p) >= 0) & (margin(p) <= 1 + 1e-12))


@pytest.mark.parametrize("fn", SCORE_FNS)
@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.array([0.5, 0.5]), ValueError, ["2-D"]),
        (np.array([[1.0], [1.0]]), ValueError, ["2 classes"]),
        (np.array([[0.5, 0.5], [0.5, np.nan]]), ValueError, ["row 1"]),
        (np.array([[0.5, 0.5], [0.2, 0.2]]), ValueError, ["row 1", "sums to 0.4"]),
        (np.array([[1.5, -0.5]]), ValueError, ["negative"]),
        (np.zeros((0, 3)), ValueError, ["empty"]),
    ],
)
def test_scores_reject_bad_probabilities(fn, bad, error, words):
    with pytest.raises(error) as info:
        fn(bad)
    assert "probs" in str(info.value) and all(w in str(info.value) for w in words)


def test_random_scores_are_seeded():
    assert np.array_equal(random_scores(10, seed=3), random_scores(10, seed=3))
    assert not np.array_equal(random_scores(10, seed=3), random_scores(10, seed=4))
    with pytest.raises(ValueError, match="n"):
        random_scores(0)


def test_select_top_orders_by_score_then_index():
    s = np.array([0.2, 0.9, 0.9, 0.1, 0.9])
    assert select_top(s, 2).tolist() == [1, 2]
    assert select_top(s, 4).tolist() == [1, 2, 4, 0]
    assert select_top(s, 2, labelled=[1, 2]).tolist() == [4, 0]


@settings(max_examples=80, deadline=None)
@given(arrays(np.float64, st.integers(1, 40), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0])), st.data())
def test_select_top_equals_a_stable_sort(scores, data):
    k = data.draw(st.integers(1, scores.size))
    expected = np.argsort(-scores, kind="stable")[:k]
    assert select_top(scores, k).tolist() == expected.tolist()
    assert select_top(torch.from_numpy(scores), k).tolist() == expected.tolist()


def test_select_top_never_returns_a_labelled_index(rng):
    s = rng.random(100)
    excluded = rng.choice(100, 40, replace=False)
    picked = select_top(s, 60, labelled=excluded)
    assert set(picked).isdisjoint(excluded) and len(set(picked)) == 60


@pytest.mark.parametrize(
    "args, kwargs, error, word",
    [
        (([0.1, 0.2], 3), {}, ValueError, "batch_size=3"),
        (([0.1, 0.2], 0), {}, ValueError, "batch_size"),
        (([0.1, 0.2], 2), {"labelled": [0]}, ValueError, "batch_size=2"),
        (([0.1, 0.2], 1), {"labelled": [0, 1]}, ValueError, "exhausted"),
        (([0.1, 0.2], 1), {"labelled": [5]}, ValueError, "labelled"),
        (([0.1, 0.2], 1), {"labelled": [0, 0]}, ValueError, "labelled"),
        (([0.1, 0.2], 1), {"labelled": 1}, ValueError, "labelled"),
        (([[0.1, 0.2]], 1), {}, ValueError, "scores"),
        (([0.1, np.nan], 1), {}, ValueError, "scores"),
        (([], 1), {}, ValueError, "empty"),
    ],
)
def test_select_top_rejects_bad_input(args, kwargs, error, word):
    with pytest.raises(error, match=word):
        select_top(*args, **kwargs)


def test_scores_registry_names_every_score():
    assert set(SCORES) == {"entropy", "least confidence", "margin"}


def _near_uniform_rows(dtype):
    # entropy is flat near the uniform row: scored in float16 (3 significant digits) these rows tie.
    # Both entries are multiples of 2**-12, so each row sums to exactly 1 in float16 and float64.
    a = 0.5 - np.array([0, 4, 12, 8]) / 4096
    return np.stack([a, 1 - a], axis=1).astype(dtype)


@pytest.mark.parametrize("fn", SCORE_FNS)
@pytest.mark.parametrize("to", [np.asarray, torch.from_numpy], ids=["numpy", "torch"])
def test_float16_probabilities_are_scored_in_at_least_float32(fn, to):
    p16 = _near_uniform_rows(np.float16)
    scores = fn(to(p16))
    as_numpy = scores.numpy() if isinstance(scores, torch.Tensor) else scores
    assert as_numpy.dtype.itemsize >= 4
    assert len(set(as_numpy.tolist())) == len(p16)  # different rows, different scores
    reference = np.asarray(fn(p16.astype(np.float64)))  # the same float16 values, scored in float64
    assert select_top(as_numpy, len(p16)).tolist() == select_top(reference, len(p16)).tolist()


def test_a_float16_softmax_is_accepted_as_probabilities():
    logits = np.random.default_rng(0).standard_normal((50, 10))
    p16 = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float16)  # rows sum to 1 +- 1e-3
    assert entropy(p16).shape == (50,) and entropy(torch.from_numpy(p16)).shape == (50,)


@pytest.mark.parametrize("seed", range(5))
def test_top_by_score_over_rows_in_any_order_picks_what_select_top_picks_over_the_rows_sorted_by_id(seed):
    from dcai_al.acquisition import top_by_score

    rng = np.random.default_rng(seed)
    ids = rng.choice(10_000, 300, replace=False)
    scores = rng.integers(0, 5, 300).astype(float)  # many ties: the tie-break decides most of the batch
    by_id = np.argsort(ids)
    expected = ids[by_id][select_top(scores[by_id], 25)]
    assert np.array_equal(ids[top_by_score(scores, 25, ids)], expected)


@pytest.mark.parametrize(
    "call, error, word",
    [
        (lambda f: f(np.array([1.0, 2.0]), 3), ValueError, "batch_size"),
        (lambda f: f(np.array([1.0, 2.0]), 0), ValueError, "batch_size"),
        (lambda f: f(np.array([1.0, 2.0]), 1.5), TypeError, "batch_size"),
        (lambda f: f(np.array([[1.0, 2.0]]), 1), ValueError, "scores"),
        (lambda f: f(np.array([1.0, 2.0]), 1, np.array([3])), ValueError, "ids"),
    ],
)
def test_top_by_score_refuses_a_bad_batch_size_scores_or_ids_by_name(call, error, word):
    from dcai_al.acquisition import top_by_score

    with pytest.raises(error, match=word):
        call(top_by_score)
