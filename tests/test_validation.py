"""validation.py: every check accepts good input and names the argument in its errors."""

import numpy as np
import pytest
import torch

from dcai_al import acquisition, data, diversity, loop, seals, threshold
from dcai_al.deprecation import renamed_parameters
from dcai_al.experiments import lab2
from dcai_al.validation import (
    as_generator,
    as_seed_int,
    check_array,
    check_batch_size,
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
    (check_batch_size, (0, 10), {}, ValueError, ["batch_size", ">= 1"]),
    (check_batch_size, (-3, 10), {}, ValueError, ["batch_size"]),
    (check_batch_size, (11, 10), {}, ValueError, ["batch_size=11", "10"]),
    (check_batch_size, (1, 0), {}, ValueError, ["exhausted"]),
    (check_batch_size, (2.5, 10), {}, TypeError, ["batch_size", "integer"]),
    (check_positive_int, (True, "epochs"), {}, TypeError, ["epochs"]),
    (check_fraction, (0.0,), {}, ValueError, ["fraction", "(0, 1]"]),
    (check_fraction, (1.5,), {}, ValueError, ["fraction"]),
    (check_fraction, ("half",), {}, TypeError, ["fraction"]),
    (check_labels, ([[0, 1]],), {}, ValueError, ["y", "1-D"]),
    (check_labels, ([0, 1],), {"n": 3}, ValueError, ["y", "2 labels", "3 examples"]),
    (as_generator, ("seed",), {}, TypeError, ["seed", "Generator"]),
    (as_generator, (-1,), {}, ValueError, ["seed", "non-negative"]),
    (as_generator, (True,), {}, TypeError, ["seed"]),
    (as_generator, (np.random.RandomState(0),), {}, TypeError, ["seed"]),
    (as_seed_int, (-1,), {}, ValueError, ["seed", "[0, 4294967296)"]),
    (as_seed_int, (2.5,), {}, TypeError, ["seed"]),
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


def test_as_generator_accepts_an_int_a_generator_or_none():
    gen = np.random.default_rng(3)
    assert as_generator(gen) is gen
    assert as_generator(5).random() == np.random.default_rng(5).random()
    assert as_generator().random() == np.random.default_rng(0).random()  # the default seed is 0
    assert isinstance(as_generator(None), np.random.Generator)  # fresh entropy
    assert as_seed_int(7) == 7 and 0 <= as_seed_int(None) < 2**32
    assert as_seed_int(np.random.default_rng(1)) == as_seed_int(np.random.default_rng(1))


# --- One vocabulary: the old names keep working for one release, with a DeprecationWarning --------

X = np.random.default_rng(0).standard_normal((30, 3))
Y = np.arange(30) % 2
S = np.random.default_rng(1).random(30)

#: (function, positional args, old keyword, new keyword, value): calls that must agree.
RENAMED = [
    (acquisition.select_top, (S,), "k", "batch_size", 5),
    (acquisition.select_top, (S, 5), "exclude", "labelled", [1, 2, 3]),
    (diversity.k_center_greedy, (X,), "budget", "batch_size", 4),
    (diversity.uncertain_then_diverse, (S, X), "budget", "batch_size", 3),
    (loop.initial_labels, (Y,), "size", "n_initial", 6),
    (
        lambda **kw: lab2.accuracy_after(data.PoolSplit(X, Y, X, Y, 2), batch=[4, 5], **kw),
        (),
        "initial",
        "labelled",
        [0, 1, 2, 3],
    ),
]


def _loop(**kwargs):
    from sklearn.linear_model import LogisticRegression

    return loop.run_loop(
        LogisticRegression(), X, Y, X, Y, score=acquisition.entropy, batch_size=2, n_rounds=2, **kwargs
    )


def _strategies(**kwargs):
    from sklearn.linear_model import LogisticRegression

    split = data.PoolSplit(X, Y, X, Y, 2)
    out = loop.run_strategies(LogisticRegression(), split, {"e": acquisition.entropy}, seeds=[0], batch_size=2,
                              n_rounds=1, **kwargs)  # fmt: skip
    return out[1]["e"]


def _seals(**kwargs):
    return seals.run_seals(X.astype(np.float32), Y, n_rounds=1, batch_size=2, k=3, **kwargs).n_labelled


RENAMED += [
    (lambda **kw: _loop(**kw).accuracy, (), "initial", "labelled", [0, 1, 2, 3]),
    (_strategies, (), "initial_size", "n_initial", 6),
    (_seals, (), "initial", "labelled", [0, 1, 2, 3]),
    (
        lambda **kw: lab2.one_batch(data.PoolSplit(X, Y, X, Y, 2), batch_size=3, **kw)["k-centers"],
        (),
        "initial",
        "labelled",
        [0, 1, 2, 3],
    ),  # fmt: skip
]


def _same(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(
    "fn, args, old, new, value", RENAMED, ids=[f"{old}->{new}-{i}" for i, (_, _, old, new, _) in enumerate(RENAMED)]
)
def test_an_old_keyword_warns_names_the_new_one_and_gives_the_same_result(fn, args, old, new, value):
    expected = fn(*args, **{new: value})
    with pytest.warns(DeprecationWarning, match=f"`{old}=` is deprecated; use `{new}=`") as seen:
        got = fn(*args, **{old: value})
    assert _same(got, expected) and len(seen) == 1


def test_old_and_new_keyword_together_is_a_type_error():
    with pytest.raises(TypeError, match="batch_size"), pytest.warns(DeprecationWarning):
        acquisition.select_top(S, 3, k=3)  # the new name given by position
    with pytest.raises(TypeError, match="only `labelled=`"):
        acquisition.select_top(S, 3, exclude=[0], labelled=[0])


def test_the_warning_points_at_the_caller():
    with pytest.warns(DeprecationWarning) as seen:
        acquisition.select_top(S, 2, exclude=[0])
    assert seen[0].filename == __file__


def test_old_function_names_warn_and_still_work():
    with pytest.warns(DeprecationWarning, match="`check_random_state` is deprecated; use `as_generator`"):
        gen = check_random_state(5)
    assert gen.random() == as_generator(5).random()
    with pytest.warns(DeprecationWarning, match="`check_budget` is deprecated; use `check_batch_size`"):
        assert check_budget(2, 10) == 2


def test_seeds_default_to_zero_everywhere():
    assert _same(acquisition.random_scores(5), acquisition.random_scores(5, seed=0))
    assert _same(diversity.k_center_greedy(X, 3), diversity.k_center_greedy(X, 3, seed=0))
    assert _same(loop.initial_labels(Y, 4), loop.initial_labels(Y, 4, seed=0))
    x = np.linspace(0, 1, 50)
    a = threshold.run_threshold_learner(x, x >= 0.5, 0.5, 5, active=False)[1]
    assert _same(a, threshold.run_threshold_learner(x, x >= 0.5, 0.5, 5, active=False, seed=0)[1])
    gen = np.random.default_rng(0)
    assert acquisition.random_scores(3, seed=gen).shape == (3,) and acquisition.random_scores(3, seed=None).shape == (
        3,
    )


def test_renamed_parameters_keeps_the_signature_and_doc():
    import inspect

    @renamed_parameters(k="batch_size")
    def pick(scores, batch_size):
        """Doc."""
        return batch_size

    assert list(inspect.signature(pick).parameters) == ["scores", "batch_size"] and pick.__doc__ == "Doc."
    assert list(inspect.signature(acquisition.select_top).parameters) == ["scores", "batch_size", "labelled"]


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
