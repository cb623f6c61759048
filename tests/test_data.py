"""data.py: offline datasets are seeded, shaped as documented, and fail clearly."""

import urllib.error

import numpy as np
import pytest

from dcai_al import data


def test_digits_pool_is_a_stratified_disjoint_split():
    split = data.load_digits_pool(seed=0)
    assert split.X_pool.shape == (1347, 64) and split.X_test.shape == (450, 64)
    assert split.X_pool.dtype == np.float32 and 0 <= split.X_pool.min() and split.X_pool.max() <= 1
    assert set(np.unique(split.y_test)) == set(range(10))
    pool_rows = {r.tobytes() for r in split.X_pool}
    shared = sum(r.tobytes() in pool_rows for r in split.X_test)
    assert shared < 5  # digits holds a few exact duplicate images; the split itself is disjoint


def test_digits_split_depends_on_seed_only():
    a, b, c = (data.load_digits_pool(seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.y_pool, b.y_pool) and np.array_equal(a.X_pool, b.X_pool)
    assert not np.array_equal(a.y_pool, c.y_pool)


def test_digits_as_images():
    assert data.load_digits_pool(images=True).X_pool.shape[1:] == (1, 8, 8)


def test_augmented_digits_keep_test_digits_out_of_training():
    split = data.load_augmented_digits(copies=3, seed=0)
    assert split.X_pool.shape == (1347 * 3, 1, 8, 8)
    assert split.X_pool.min() >= 0 and split.X_pool.max() <= 1
    base = data.load_digits_pool(images=True, seed=np.random.default_rng(0))
    assert np.array_equal(split.X_test, base.X_test)


def test_threshold_pool_labels_follow_the_threshold():
    x, y, t = data.make_threshold_pool(500, threshold=0.3, seed=0)
    assert np.all(np.diff(x) >= 0) and np.array_equal(y, (x >= 0.3).astype(int)) and t == 0.3


def test_threshold_pool_noise_flips_some_labels():
    x, y, _ = data.make_threshold_pool(2000, threshold=0.5, noise=0.1, seed=0)
    flipped = np.mean(y != (x >= 0.5))
    assert 0.05 < flipped < 0.15


def test_gaussian_line_matches_the_original_lab():
    x, y = data.make_gaussian_line(100, seed=0)
    assert x.shape == (200, 1) and y.sum() == 100
    assert x[y == 0].mean() < -1.5 and x[y == 1].mean() > 1.5


def test_embedding_pool_rare_concept_and_chunk_independence():
    X, y = data.make_embedding_pool(70_000, 16, prevalence=0.01, seed=3)
    assert X.dtype == np.float32 and X.shape == (70_000, 16)
    assert 0.008 < y.mean() < 0.012
    out = np.empty((70_000, 16), dtype=np.float32)
    X2, y2 = data.make_embedding_pool(70_000, 16, prevalence=0.01, seed=3, out=out)
    assert X2 is out and np.array_equal(X, X2) and np.array_equal(y, y2)
    # Positives sit together: a positive's nearest neighbour is usually positive.
    pos = np.flatnonzero(y)[:50]
    d = ((X[pos, None, :] - X[None, :5000, :]) ** 2).sum(-1)
    d[np.arange(50)[:, None] == np.arange(5000)[None, :]] = np.inf
    assert y[:5000][d.argmin(1)].mean() > 0.9


def test_embedding_pool_prefix_is_stable_across_sizes():
    small, _ = data.make_embedding_pool(1000, 8, seed=1)
    large, _ = data.make_embedding_pool(2000, 8, seed=1)
    assert np.array_equal(small, large[:1000])


BAD = [
    (data.load_digits_pool, {"test_fraction": 1.0}, ValueError, "test_fraction"),
    (data.load_digits_pool, {"test_fraction": 0}, ValueError, "test_fraction"),
    (data.load_digits_pool, {"seed": "x"}, TypeError, "seed"),
    (data.load_augmented_digits, {"copies": 0}, ValueError, "copies"),
    (data.load_augmented_digits, {"noise": -1.0}, ValueError, "noise"),
    (data.make_threshold_pool, {"n": 1}, ValueError, "n"),
    (data.make_threshold_pool, {"threshold": 1.5}, ValueError, "threshold"),
    (data.make_threshold_pool, {"noise": 0.5}, ValueError, "noise"),
    (data.make_gaussian_line, {"n_per_class": 0}, ValueError, "n_per_class"),
    (data.make_embedding_pool, {"n": 0}, ValueError, "n"),
    (data.make_embedding_pool, {"d": 1}, ValueError, "d"),
    (data.make_embedding_pool, {"prevalence": 0.9}, ValueError, "prevalence"),
    (data.make_embedding_pool, {"prevalence": 0.0}, ValueError, "prevalence"),
    (data.make_embedding_pool, {"seed": "x"}, TypeError, "seed"),
    (data.make_embedding_pool, {"seed": -1}, ValueError, "seed"),
    (data.make_embedding_pool, {"n": 10, "d": 4, "out": np.empty((10, 4))}, ValueError, "out"),
]


@pytest.mark.parametrize("fn, kwargs, error, word", BAD, ids=[f"{f.__name__}-{w}" for f, _, _, w in BAD])
def test_bad_arguments(fn, kwargs, error, word):
    with pytest.raises(error, match=word):
        fn(**kwargs)


@pytest.mark.parametrize("loader", [data.load_mnist, data.load_cifar10])
def test_opt_in_datasets_say_how_to_get_them(loader, tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        loader(root=tmp_path, download=False)


@pytest.mark.parametrize("loader", [data.load_mnist, data.load_cifar10])
def test_offline_download_is_a_clear_error(loader, tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(tv_utils, "urlopen", offline, raising=False)
    monkeypatch.setattr(tv_utils, "_urlretrieve", offline, raising=False)
    with pytest.raises((ConnectionError, RuntimeError), match="offline|could not be prepared"):
        loader(root=tmp_path, download=True)


def test_mnist1d_is_generated_offline_seeded_and_leaves_global_random_state_alone(tmp_path, monkeypatch):
    import random
    import socket

    import requests

    def no_network(*args, **kwargs):
        raise AssertionError("load_mnist1d must not touch the network")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(socket, "socket", no_network)
    np.random.seed(123)  # noqa: NPY002 (the caller's global state, which must survive)
    random.seed(123)
    np_before, py_before = np.random.get_state()[1].copy(), random.getstate()  # noqa: NPY002
    split = data.load_mnist1d(300, seed=7, cache_dir=tmp_path)
    assert np.array_equal(np.random.get_state()[1], np_before) and random.getstate() == py_before  # noqa: NPY002
    assert split.X_pool.shape == (240, 1, 40) and split.X_test.shape == (60, 1, 40)
    assert split.X_pool.dtype == np.float32 and split.y_pool.dtype == np.int64 and split.n_classes == 10
    assert set(np.unique(split.y_pool)) == set(range(10))
    assert list((tmp_path / "mnist1d").glob("*.npz"))  # cached on disk
    again = data.load_mnist1d(300, seed=7, cache_dir=None)  # regenerated, not read back
    assert np.array_equal(split.X_pool, again.X_pool) and np.array_equal(split.y_test, again.y_test)
    assert not np.array_equal(split.X_pool, data.load_mnist1d(300, seed=8, cache_dir=None).X_pool)
    assert data.load_mnist1d(300, seed=7, flat=True, cache_dir=None).X_pool.shape == (240, 40)


def test_mnist1d_is_the_published_recipe():
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed = 200, 3
    state = np.random.get_state()  # noqa: NPY002
    raw = make_dataset(args)
    np.random.set_state(state)  # noqa: NPY002
    split = data.load_mnist1d(200, seed=3, cache_dir=None)
    assert np.allclose(split.X_pool[:, 0], raw["x"], atol=1e-6) and np.array_equal(split.y_test, raw["y_test"])


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        ({"n_samples": 5}, ValueError, "n_samples"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": "x"}, TypeError, "seed"),
        ({"test_fraction": 1.0}, ValueError, "test_fraction"),
    ],
)
def test_mnist1d_bad_arguments(kwargs, error, word):
    with pytest.raises(error, match=word):
        data.load_mnist1d(**kwargs)
