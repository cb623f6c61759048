"""loop.py: the pool-based loop labels what the score asks, in pool indices, reproducibly."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from dcai_al.acquisition import entropy, margin
from dcai_al.data import load_digits_pool
from dcai_al.loop import class_probabilities, initial_labels, labels_to_accuracy, run_loop, run_strategies
from dcai_al.models import TorchClassifier


@pytest.fixture(scope="module")
def split():
    return load_digits_pool(seed=0)


def _loop(split, score, **kw):
    params = dict(score=score, labelled=np.arange(30), batch_size=10, n_rounds=3, n_classes=10, seed=0)
    params.update(kw)
    return run_loop(LogisticRegression(max_iter=300), split.X_pool, split.y_pool, split.X_test, split.y_test, **params)


def test_history_counts_and_indices(split):
    h = _loop(split, entropy)
    assert h.n_labelled.tolist() == [30, 40, 50, 60]
    assert len(h.accuracy) == 4 and np.all((0 <= h.accuracy) & (h.accuracy <= 1))
    labelled = h.labelled
    assert len(set(labelled.tolist())) == 60 and set(range(30)) <= set(labelled.tolist())
    assert [row["round"] for row in h.as_rows()] == [0, 1, 2, 3]


def test_first_batch_is_the_top_of_the_score_over_the_unlabelled_pool(split):
    h = _loop(split, margin, n_rounds=1)
    model = LogisticRegression(max_iter=300).fit(split.X_pool[:30], split.y_pool[:30])
    unlabelled = np.arange(30, len(split.X_pool))
    scores = margin(class_probabilities(model, split.X_pool[unlabelled], 10))
    expected = unlabelled[np.argsort(-scores, kind="stable")[:10]]
    assert h.chosen[1].tolist() == expected.tolist()


def test_random_strategy_is_seeded(split):
    a, b = _loop(split, "random", seed=5), _loop(split, "random", seed=5)
    c = _loop(split, "random", seed=6)
    assert np.array_equal(a.labelled, b.labelled) and not np.array_equal(a.labelled, c.labelled)


def test_loop_works_with_the_torch_classifier(split):
    clf = TorchClassifier(epochs=60, classes=np.arange(10), device="cpu")
    h = run_loop(
        clf,
        split.X_pool,
        split.y_pool,
        split.X_test,
        split.y_test,
        score=entropy,
        labelled=np.arange(40),
        batch_size=20,
        n_rounds=2,
    )
    assert h.n_labelled.tolist() == [40, 60, 80] and h.accuracy[-1] > 0.5


def test_class_probabilities_pads_unseen_classes(split):
    few = np.flatnonzero(np.isin(split.y_pool, [2, 7]))[:20]
    model = LogisticRegression().fit(split.X_pool[few], split.y_pool[few])
    p = class_probabilities(model, split.X_test[:5], 10)
    assert p.shape == (5, 10) and np.allclose(p.sum(1), 1) and np.all(p[:, [0, 1, 3]] == 0)


def test_run_strategies_shares_seed_sets_and_shapes(split):
    n, acc, hist = run_strategies(
        LogisticRegression(max_iter=200),
        split,
        {"random": "random", "entropy": entropy},
        seeds=[0, 1],
        n_initial=20,
        batch_size=10,
        n_rounds=2,
    )
    assert n.tolist() == [20, 30, 40] and acc["entropy"].shape == (2, 3)
    for s in range(2):
        assert np.array_equal(hist["random"][s].chosen[0], hist["entropy"][s].chosen[0])


def test_labels_to_accuracy():
    assert labels_to_accuracy([10, 20, 30], [[0.5, 0.7, 0.9], [0.5, 0.9, 0.9]], 0.8) == 20
    assert labels_to_accuracy([10, 20], [0.1, 0.2], 0.9) is None


def test_initial_labels_hold_two_classes():
    y = np.array([0] * 50 + [1])
    idx = initial_labels(y, 2, seed=0)
    assert set(y[idx]) == {0, 1}


@pytest.mark.parametrize(
    "kw, error, word",
    [
        ({"labelled": [0, 0]}, ValueError, "labelled"),
        ({"labelled": []}, ValueError, "labelled"),
        ({"labelled": [99999]}, ValueError, "labelled"),
        ({"labelled": 30}, ValueError, "labelled"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 1000, "n_rounds": 2}, ValueError, "larger than"),
        ({"score": "entropy"}, TypeError, "score"),
    ],
)
def test_loop_rejects_bad_arguments(split, kw, error, word):
    with pytest.raises(error, match=word):
        _loop(split, kw.pop("score", entropy), **kw)


def test_one_loop_runs_seals_around_any_selector_and_picks_only_candidates():
    # SEALS is a restriction, not a loop: wrapped around random selection, every pick is a candidate of its round.
    from sklearn.linear_model import LogisticRegression

    from dcai_al.loop import RandomSelector
    from dcai_al.seals import CandidatePool, Seals, build_index

    X = np.random.default_rng(0).standard_normal((500, 4)).astype(np.float32)
    y = (X[:, 0] > 1).astype(int)
    initial = np.concatenate([np.flatnonzero(y)[:3], np.flatnonzero(y == 0)[:7]])
    index = build_index(X)
    seals = Seals(RandomSelector(), CandidatePool(index, X, k=5))
    h = run_loop(LogisticRegression(), X, y, score=seals, labelled=initial, batch_size=5, n_rounds=4, seed=0)
    replay = CandidatePool(index, X, k=5).update(initial)
    for r, picked in enumerate(h.chosen[1:], start=1):
        assert h.candidates[r - 1] == len(replay) and set(picked.tolist()) <= set(replay.candidates.tolist())
        replay.update(picked)
    assert h.n_labelled.tolist() == [10, 15, 20, 25, 30] and h.selection_seconds.shape == (4,)
    assert h.positives[0] == 3 and h.accuracy.size == 0  # no test set given: no accuracy recorded


def test_a_score_selector_given_a_restricted_choice_picks_only_from_it_even_when_it_is_most_of_the_pool():
    from dcai_al.loop import ScoreSelector

    X = np.linspace(0, 1, 40)[:, None]
    model = LogisticRegression().fit(X[[0, 39]], [0, 1])
    labelled = np.array([0, 39])
    choose_from = np.r_[1:12, 26:39]  # 24 of 40 rows, without the most uncertain ones (near x = 0.5)
    picks = ScoreSelector(entropy).select(model, X, labelled, choose_from, 5, np.random.default_rng(0))
    assert set(picks.tolist()) <= set(choose_from.tolist()), picks
    everything = np.setdiff1d(np.arange(40), labelled)
    assert ScoreSelector(entropy).select(model, X, labelled, everything, 5, None).tolist() != picks.tolist()
