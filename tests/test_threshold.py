"""threshold.py: the 1-D version space, the binary-search query and the two learners."""

import numpy as np
import pytest

from dcai_al.data import make_threshold_pool
from dcai_al.threshold import binary_search_query, labels_to_reach, run_threshold_learner, version_space


def test_version_space_is_between_rightmost_zero_and_leftmost_one():
    assert version_space([], []) == (0.0, 1.0)
    assert version_space([0.3, 0.1], [0, 0]) == (0.3, 1.0)
    assert version_space([0.2, 0.7, 0.6], [0, 1, 1]) == (0.2, 0.6)


@pytest.mark.parametrize(
    "x, y, word",
    [([0.1, 0.2], [0], "same length"), ([0.1], [2], "only 0 and 1"), ([0.8, 0.2], [0, 1], "contradict")],
)
def test_version_space_rejects_bad_labels(x, y, word):
    with pytest.raises(ValueError, match=word):
        version_space(x, y)


def test_query_picks_the_point_nearest_the_middle_strictly_inside():
    assert binary_search_query([0.1, 0.45, 0.7], 0.0, 1.0) == 1
    assert binary_search_query([0.2, 0.5, 0.8], 0.2, 0.5) == -1
    assert binary_search_query([0.4, 0.6], 0.0, 1.0) == 0  # tie -> lower index


@pytest.mark.parametrize("x, word", [([], "empty"), ([[0.1]], "1-D"), ([np.nan], "finite")])
def test_query_rejects_bad_pools(x, word):
    with pytest.raises(ValueError, match=word):
        binary_search_query(x, 0.0, 1.0)


def test_active_learner_halves_the_interval_each_label():
    x, y, t = make_threshold_pool(4096, seed=0)
    errors, chosen = run_threshold_learner(x, y, t, 12, active=True)
    assert errors[9] < 2.0**-9  # binary search: about 2^-(n+1) until the pool's spacing
    assert len(chosen) == len(set(chosen.tolist()))


def test_active_learner_stops_once_the_pool_is_exhausted():
    x, y, t = make_threshold_pool(16, seed=0)
    errors, chosen = run_threshold_learner(x, y, t, 16, active=True)
    assert len(chosen) <= 6 and np.all(errors[6:] == errors[6])
    lo, hi = version_space(x[chosen], y[chosen])
    assert binary_search_query(x, lo, hi) == -1


def test_passive_learner_is_seeded_and_slower_than_active():
    x, y, t = make_threshold_pool(1000, seed=4)
    a, _ = run_threshold_learner(x, y, t, 100, active=False, seed=1)
    b, _ = run_threshold_learner(x, y, t, 100, active=False, seed=1)
    assert np.array_equal(a, b)
    passive = np.stack(
        [run_threshold_learner(*make_threshold_pool(1000, seed=s), 100, active=False, seed=s)[0] for s in range(20)]
    )
    active = np.stack(
        [run_threshold_learner(*make_threshold_pool(1000, seed=s), 100, active=True)[0] for s in range(20)]
    )
    assert np.median(labels_to_reach(active, 0.005)) * 3 < np.median(labels_to_reach(passive, 0.005))


def test_learner_rejects_bad_arguments():
    x, y, t = make_threshold_pool(10, seed=0)
    with pytest.raises(ValueError, match="n_labels=11"):
        run_threshold_learner(x, y, t, 11, active=True)
    with pytest.raises(ValueError, match="same length"):
        run_threshold_learner(x, y[:5], t, 3, active=True)


def test_labels_to_reach_counts_from_one_and_marks_never():
    assert labels_to_reach([0.5, 0.05], 0.1).tolist() == [2]
    assert labels_to_reach([[0.5, 0.4]], 0.1).tolist() == [3]
