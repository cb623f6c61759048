"""The vectorised MNIST-1D recipe makes what the mnist1d package makes, given the same random draws."""

import numpy as np
import pytest
from mnist1d.data import get_dataset_args, get_templates
from mnist1d.transform import transform

from dcai_al.mnist1d_recipe import draw_transforms, mnist1d_signals, raw_moments, standardise


@pytest.fixture
def global_numpy_state():
    """The package draws from numpy's global generator: leave it as the test found it."""
    state = np.random.get_state()  # noqa: NPY002
    yield
    np.random.set_state(state)  # noqa: NPY002


def package_draws(seed):
    """The draws the package's ``transform`` makes after ``np.random.seed(seed)``, in its order."""
    np.random.seed(seed)  # noqa: NPY002
    return dict(
        pad=np.array([36 + int(np.random.rand() * 25)]),  # noqa: NPY002
        scale=np.array([np.random.rand()]),  # noqa: NPY002
        shift=np.array([np.random.choice(48)]),  # noqa: NPY002
        corr=np.random.randn(1, 72),  # noqa: NPY002
        iid=np.random.randn(1, 72),  # noqa: NPY002
        shear=np.array([np.random.rand()]),  # noqa: NPY002
    )


@pytest.mark.usefixtures("global_numpy_state")
def test_given_the_packages_draws_every_digit_matches_the_packages_transform():
    templates, args = get_templates(), get_dataset_args()
    for seed in range(60):  # six samples of every digit, with shifts and pads all over their ranges
        digit = seed % 10
        draws = package_draws(seed)
        np.random.seed(seed)  # noqa: NPY002
        expected, _ = transform(templates["x"][digit], templates["t"], args)
        got = mnist1d_signals(np.array([digit]), draws=draws)[0]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, err_msg=f"digit {digit}, seed {seed}")


def test_draws_cover_the_packages_ranges():
    d = draw_transforms(20_000, seed=0)
    assert (d["pad"].min(), d["pad"].max()) == (36, 60)
    assert (d["shift"].min(), d["shift"].max()) == (0, 47)
    assert d["corr"].shape == d["iid"].shape == (20_000, 72)


def test_a_seed_gives_the_same_signals_and_another_seed_others():
    labels = np.arange(50) % 10
    np.testing.assert_array_equal(mnist1d_signals(labels, seed=3), mnist1d_signals(labels, seed=3))
    assert not np.allclose(mnist1d_signals(labels, seed=3), mnist1d_signals(labels, seed=4))


def test_standardised_signals_have_zero_mean_and_unit_spread_as_the_package_scales_them():
    mean, std = raw_moments()
    assert std > 0
    x = standardise(mnist1d_signals(np.arange(20_000) % 10, seed=1))
    assert x.shape == (20_000, 1, 40) and x.dtype == np.float32
    assert abs(float(x.mean())) < 0.01 and abs(float(x.std()) - 1) < 0.01


@pytest.mark.parametrize("labels", [[], [10], [-1], [[1, 2]], [1.5]])
def test_labels_that_are_not_digits_are_refused_by_name(labels):
    with pytest.raises(ValueError, match="labels"):
        mnist1d_signals(np.array(labels))


@pytest.mark.parametrize(
    "change, word",
    [
        (lambda d: d.pop("iid"), "lacks"),
        (lambda d: d.update(pad=d["pad"][:1]), "pad"),
        (lambda d: d.update(pad=d["pad"] + 30), "pad"),
        (lambda d: d.update(shift=d["shift"] + 48), "shift"),
        (lambda d: d.update(corr=d["corr"][:, :40]), "corr"),
    ],
)
def test_draws_that_do_not_fit_the_labels_or_the_recipe_are_refused_by_name(change, word):
    draws = draw_transforms(3, seed=0)
    change(draws)
    with pytest.raises(ValueError, match=word):
        mnist1d_signals(np.array([1, 2, 3]), draws=draws)


def test_standardise_wants_signals_of_shape_n_by_length():
    with pytest.raises(ValueError, match="signals"):
        standardise(np.zeros(40))
