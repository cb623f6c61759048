"""proxy.py: forgetting counts, subset selection, time accounting, and the end-to-end pipeline."""

import numpy as np
import pytest

from dcai_al.data import load_augmented_digits
from dcai_al.proxy import (
    end_to_end_speedup,
    forgetting_events,
    forgetting_order,
    keep_hardest,
    select_via_proxy,
    train_on_subset,
    uncertainty_order,
)

T, F = True, False


def test_forgetting_events_on_hand_made_matrices():
    correct = np.array([[T, F, T, F], [F, F, T, T], [T, F, F, F], [F, F, T, T]])
    # ex0: T->F, T->F = 2; ex1 never right = 0; ex2: T->F once = 1; ex3: T->F once = 1
    assert forgetting_events(correct).tolist() == [2, 0, 1, 1]
    assert forgetting_events(correct[:1]).tolist() == [0, 0, 0, 0]
    assert forgetting_events(correct.astype(int)).tolist() == [2, 0, 1, 1]


def test_forgetting_order_puts_never_learned_first_then_most_forgotten():
    correct = np.array([[T, F, T, F], [F, F, T, T], [T, F, F, F], [F, F, T, T]])
    assert forgetting_order(correct).tolist() == [1, 0, 2, 3]


def test_uncertainty_order_is_most_uncertain_first():
    probs = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3]])
    assert uncertainty_order(probs).tolist() == [1, 2, 0]


def test_keep_hardest_sizes_uniqueness_and_class_quotas(rng):
    labels = rng.integers(0, 4, size=500)
    order = rng.permutation(500)
    for fraction in (0.1, 0.33, 0.5, 1.0):
        kept = keep_hardest(order, labels, fraction)
        assert len(set(kept.tolist())) == kept.size and np.all(np.diff(kept) > 0)
        for c in range(4):
            n_c = int((labels == c).sum())
            assert int((labels[kept] == c).sum()) == int(np.ceil(fraction * n_c))
        assert np.array_equal(kept, keep_hardest(order, labels, fraction))  # deterministic
    unbalanced = keep_hardest(order, labels, 0.2, class_balance=False)
    assert np.array_equal(unbalanced, np.sort(order[:100]))


def test_end_to_end_speedup():
    assert end_to_end_speedup(10, 1, 49, 120) == (60, 2.0)


BAD = [
    (lambda: forgetting_events(np.ones(3, bool)), ValueError, "2-D"),
    (lambda: forgetting_events(np.ones((0, 3), bool)), ValueError, "empty"),
    (lambda: forgetting_events([[0, 2]]), ValueError, "boolean"),
    (lambda: keep_hardest([0, 1], [0, 1], 0.0), ValueError, "fraction"),
    (lambda: keep_hardest([0, 1], [0, 1], 1.5), ValueError, "fraction"),
    (lambda: keep_hardest([0, 1, 2], [0, 1], 0.5), ValueError, "order"),
    (lambda: keep_hardest([0, 0], [0, 1], 0.5), ValueError, "repeat"),
    (lambda: keep_hardest([0, 1], [[0, 1]], 0.5), ValueError, "1-D"),
    (lambda: end_to_end_speedup(-1, 0, 1, 1), ValueError, "proxy_seconds"),
    (lambda: end_to_end_speedup(1, float("nan"), 1, 1), ValueError, "ranking_seconds"),
    (lambda: end_to_end_speedup(0, 0, 0, 1), ValueError, "positive"),
    (lambda: uncertainty_order([[0.5, 0.6]]), ValueError, "sum"),
]


@pytest.mark.parametrize("call, error, word", BAD, ids=[b[2] for b in BAD])
def test_bad_input(call, error, word):
    with pytest.raises(error, match=word):
        call()


@pytest.fixture(scope="module")
def small_split():
    return load_augmented_digits(copies=2, seed=0)


SMALL_PROXY = dict(arch="cnn", width=4, depth=1, hidden=16, epochs=2, lr=3e-3, batch_size=128)
SMALL_TARGET = dict(arch="cnn", width=8, depth=2, hidden=32, epochs=2, lr=3e-3, batch_size=128)


@pytest.mark.parametrize("ranking", ["forgetting", "least confidence", "k-centers"])
def test_select_via_proxy_keeps_the_fraction_and_accounts_for_time(small_split, ranking):
    run = select_via_proxy(
        small_split, 0.3, ranking=ranking, proxy=SMALL_PROXY, target=SMALL_TARGET, seed=0, device="cpu"
    )
    n = len(small_split.y_pool)
    assert abs(run.subset.size - 0.3 * n) <= 10 and len(set(run.subset.tolist())) == run.subset.size
    s = run.seconds
    parts = s["proxy"] + s["ranking"] + s["target"]
    assert parts <= s["total"] and s["total"] - parts < 0.05 * s["total"] + 0.5  # the breakdown adds up
    assert 0 <= run.accuracy <= 1 and len(run.curve_accuracy) == SMALL_TARGET["epochs"]
    assert run.curve_seconds[0] >= s["proxy"]  # the target's curve starts after the proxy


def test_select_via_proxy_is_deterministic(small_split):
    a = select_via_proxy(small_split, 0.5, proxy=SMALL_PROXY, target=SMALL_TARGET, seed=3, device="cpu")
    b = select_via_proxy(small_split, 0.5, proxy=SMALL_PROXY, target=SMALL_TARGET, seed=3, device="cpu")
    assert np.array_equal(a.subset, b.subset) and a.accuracy == b.accuracy


def test_select_via_proxy_rejects_unknown_ranking(small_split):
    with pytest.raises(ValueError, match="ranking"):
        select_via_proxy(small_split, 0.5, ranking="loss")


def test_train_on_subset_reports_a_curve(small_split):
    _, run = train_on_subset(small_split, np.arange(300), params=SMALL_TARGET, device="cpu")
    assert run.seconds["total"] == run.seconds["target"] > 0 and len(run.curve_seconds) == 2
