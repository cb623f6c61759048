"""validation.py: every check accepts good input and names the argument in its errors."""

import numpy as np
import pytest
import torch

from dcai_al.validation import (
    check_array,
    check_budget,
    check_features,
    check_fraction,
    check_indices,
    check_labels,
    check_number,
    check_positive_int,
    check_probs,
    check_random_state,
    check_real_array,
    check_scores,
)

BAD_INPUTS = [
    # (function, args, kwargs, error type, words the message must contain)
    (check_probs, ([0.5, 0.5],), {}, ValueError, ["probs", "2-D", "(1, n_classes)"]),
    (check_probs, (np.zeros((0, 3)),), {}, ValueError, ["probs", "empty"]),
    (check_probs, ([[1.0], [1.0]],), {}, ValueError, ["probs", "at least 2 classes"]),
    (check_probs, ([[0.5, 0.5], [np.nan, 0.5]],), {}, ValueError, ["probs", "row 1", "NaN"]),
    (check_probs, ([[0.5, 0.5], [1.2, -0.2]],), {}, ValueError, ["probs", "row 1", "negative"]),
    (check_probs, ([[0.5, 0.5], [0.5, 0.5], [0.6, 0.1]],), {}, ValueError, ["probs", "row 2", "sums to 0.7"]),
    (check_probs, ([["a", "b"]],), {}, TypeError, ["probs", "real numbers"]),
    (check_probs, (np.ones((2, 2), dtype=bool),), {}, TypeError, ["probs"]),
    (check_probs, ("probs",), {}, TypeError, ["probs"]),
    (check_probs, (torch.tensor([[0.2, 0.2]]),), {}, ValueError, ["probs", "row 0"]),
    (check_scores, ([[1.0, 2.0]],), {}, ValueError, ["scores", "1-D"]),
    (check_scores, ([],), {}, ValueError, ["scores", "empty"]),
    (check_scores, ([0.1, np.inf],), {}, ValueError, ["scores", "entry 1"]),
    (check_features, ([1.0, 2.0],), {}, ValueError, ["features", "reshape(-1, 1)"]),
    (check_features, (np.zeros((0, 2)),), {}, ValueError, ["features", "empty"]),
    (check_features, (np.zeros((2, 0)),), {}, ValueError, ["features", "no columns"]),
    (check_features, ([[0.0, np.nan]],), {}, ValueError, ["features", "row 0"]),
    (check_features, (torch.zeros(2, 2),), {"allow_tensor": False}, TypeError, ["features", "numpy"]),
    (check_indices, ([0, 5],), {"n": 5}, ValueError, ["indices", "[0, 5)", "position 1"]),
    (check_indices, ([-1],), {"n": 5}, ValueError, ["indices", "-1"]),
    (check_indices, ([1, 2, 1],), {"n": 5}, ValueError, ["indices", "repeat", "1"]),
    (check_indices, ([0.5],), {"n": 5}, TypeError, ["indices", "integers"]),
    (check_indices, ([True, False],), {"n": 5}, TypeError, ["indices", "flatnonzero"]),
    (check_indices, (3,), {"n": 5}, ValueError, ["indices", "scalar"]),
    (check_indices, ([[0, 1]],), {"n": 5}, ValueError, ["indices", "1-D"]),
    (check_indices, ([],), {"n": 5, "allow_empty": False}, ValueError, ["indices", "empty"]),
    (check_budget, (0, 10), {}, ValueError, ["budget", ">= 1"]),
    (check_budget, (-3, 10), {}, ValueError, ["budget"]),
    (check_budget, (11, 10), {}, ValueError, ["budget=11", "10"]),
    (check_budget, (1, 0), {}, ValueError, ["exhausted"]),
    (check_budget, (2.5, 10), {}, TypeError, ["budget", "integer"]),
    (check_positive_int, (True, "epochs"), {}, TypeError, ["epochs"]),
    (check_fraction, (0.0,), {}, ValueError, ["fraction", "(0, 1]"]),
    (check_fraction, (1.5,), {}, ValueError, ["fraction"]),
    (check_fraction, ("half",), {}, TypeError, ["fraction"]),
    (check_labels, ([[0, 1]],), {}, ValueError, ["y", "1-D"]),
    (check_labels, ([0, 1],), {"n": 3}, ValueError, ["y", "2 labels", "3 examples"]),
    (check_random_state, ("seed",), {}, TypeError, ["seed", "Generator"]),
    (check_random_state, (-1,), {}, ValueError, ["seed", "non-negative"]),
    (check_random_state, (np.random.RandomState(0),), {}, TypeError, ["seed"]),
    (check_array, ([[1, 2], [3]], "correct"), {}, ValueError, ["correct", "different lengths"]),
    (check_array, ("abc", "correct"), {}, TypeError, ["correct"]),
    (check_probs, ([[0.5, 0.5], [1.0]],), {}, ValueError, ["probs", "different lengths"]),
    (check_number, ("0.5", "lo"), {}, TypeError, ["lo", "real number"]),
    (check_number, (True, "lo"), {}, TypeError, ["lo"]),
    (check_number, (np.inf, "hi"), {}, ValueError, ["hi", "finite"]),
    (check_number, (np.nan, "threshold"), {}, ValueError, ["threshold", "finite"]),
    (check_real_array, (["a"], "x"), {}, TypeError, ["x", "real numbers"]),
    (check_real_array, ([[0.5]], "x"), {}, ValueError, ["x", "1-D", "(1, 1)"]),
    (check_real_array, ([], "x"), {}, ValueError, ["x", "empty"]),
    (check_real_array, ([0.1, np.nan], "x"), {}, ValueError, ["x", "entry 1"]),
    (check_real_array, (np.zeros((2, 2, 2)), "errors"), {"ndims": (1, 2)}, ValueError, ["errors", "1-D or 2-D"]),
]


@pytest.mark.parametrize("fn, args, kwargs, error, words", BAD_INPUTS, ids=lambda v: getattr(v, "__name__", None))
def test_bad_input_gets_a_clear_error(fn, args, kwargs, error, words):
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


def test_probs_tolerates_float32_rounding():
    p = np.full((3, 7), 1 / 7, dtype=np.float32)
    assert check_probs(p).shape == (3, 7)


def test_probs_keeps_tensors_on_their_device():
    p = torch.tensor([[0.3, 0.7]])
    out = check_probs(p)
    assert isinstance(out, torch.Tensor) and out.device == p.device


def test_integer_probs_become_float():
    assert check_probs(np.array([[1, 0], [0, 1]])).dtype == np.float64


def test_indices_accept_sets_tensors_and_whole_floats():
    assert check_indices({3, 1}, 5).tolist() == [1, 3]
    assert check_indices(torch.tensor([2, 0]), 5).tolist() == [2, 0]
    assert check_indices(np.array([1.0, 4.0]), 5).dtype == np.int64
    assert check_indices(None, 5).size == 0


def test_random_state_accepts_generator_and_shares_it():
    gen = np.random.default_rng(3)
    assert check_random_state(gen) is gen
    assert check_random_state(5).random() == np.random.default_rng(5).random()


def test_features_convert_integers_to_float32():
    assert check_features([[1, 2]]).dtype == np.float32


def test_real_arrays_and_numbers_come_back_as_float64():
    assert check_real_array([1, 2], "x").dtype == np.float64
    assert check_real_array([], "x", allow_empty=True).shape == (0,)
    assert check_number(np.int64(3), "lo") == 3.0


@pytest.mark.parametrize("to", [np.asarray, torch.from_numpy], ids=["numpy", "torch"])
def test_half_precision_probs_are_upcast_and_their_rounding_tolerated(to):
    p = np.full((2, 3), 1 / 3).astype(np.float16)  # each row sums to 0.99976 in float16
    out = check_probs(to(p))
    assert out.dtype in (np.float32, torch.float32)
