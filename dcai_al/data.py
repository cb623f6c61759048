"""Offline datasets for the labs, every one seeded.

Everything here works with no network: scikit-learn's digits ship inside the
package; MNIST-1D (Greydanus, 2020) is generated locally by its own package;
the 1-D pools and the clustered embedding pool are generated. MNIST and
CIFAR-10 are opt-in through torchvision and never download unless asked to.
"""

from __future__ import annotations

import functools
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .validation import as_generator, as_seed_int, check_fraction, check_positive_int

__all__ = [
    "PoolSplit",
    "load_augmented_digits",
    "load_cifar10",
    "load_digits_pool",
    "load_mnist",
    "load_mnist1d",
    "make_embedding_pool",
    "make_gaussian_line",
    "make_threshold_pool",
]


@dataclass(frozen=True)
class PoolSplit:
    """An unlabelled pool (whose labels the oracle reveals) and a test set.

    Attributes
    ----------
    X_pool, y_pool : numpy.ndarray
        Pool features, shape (n_pool, ...), and the labels an annotator would give.
    X_test, y_test : numpy.ndarray
        Held-out examples for measuring accuracy.
    n_classes : int
        Number of classes.
    """

    X_pool: np.ndarray
    y_pool: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    def __repr__(self) -> str:
        return f"PoolSplit(pool={self.X_pool.shape}, test={self.X_test.shape}, n_classes={self.n_classes})"


def _stratified_split(y: np.ndarray, test_fraction: float, rng: np.random.Generator):
    test = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test.append(idx[: max(1, round(len(idx) * test_fraction))])
    test = np.sort(np.concatenate(test))
    pool = np.setdiff1d(np.arange(len(y)), test)
    return pool, test


def load_digits_pool(*, test_fraction: float = 0.25, images: bool = False, seed=0) -> PoolSplit:
    """scikit-learn's 8x8 handwritten digits as a pool and a stratified test set.

    Parameters
    ----------
    test_fraction : float
        Share of each class held out for testing.
    images : bool
        If True, features have shape (n, 1, 8, 8) for a CNN; otherwise (n, 64).
    seed : int, numpy.random.Generator or None
        Controls the split.

    Returns
    -------
    PoolSplit
        Features scaled to [0, 1] as float32; labels int64 in 0..9.

    Examples
    --------
    >>> split = load_digits_pool(seed=0)
    >>> split.X_pool.shape[1], split.n_classes
    (64, 10)
    """
    from sklearn.datasets import load_digits

    test_fraction = check_fraction(test_fraction, "test_fraction")
    if test_fraction >= 1.0:
        raise ValueError("test_fraction must be below 1 so that the pool is not empty.")
    rng = as_generator(seed)
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    pool, test = _stratified_split(y, test_fraction, rng)
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return PoolSplit(X[pool], y[pool], X[test], y[test], n_classes=10)


def _shift(images: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Shift each 8x8 image by whole pixels, filling with zeros."""
    out = np.zeros_like(images)
    for s_y in (-1, 0, 1):
        for s_x in (-1, 0, 1):
            sel = (dy == s_y) & (dx == s_x)
            if not sel.any():
                continue
            shifted = np.roll(images[sel], (s_y, s_x), axis=(-2, -1))
            if s_y == 1:
                shifted[..., 0, :] = 0
            elif s_y == -1:
                shifted[..., -1, :] = 0
            if s_x == 1:
                shifted[..., :, 0] = 0
            elif s_x == -1:
                shifted[..., :, -1] = 0
            out[sel] = shifted
    return out


def load_augmented_digits(*, copies: int = 20, noise: float = 0.1, test_fraction: float = 0.25, seed=0) -> PoolSplit:
    """A larger digits training set made by jittering the originals.

    The test images are held out *before* augmentation, so no test digit has
    a jittered twin in the training set. Each training digit gets ``copies``
    versions: shifted by up to one pixel, with Gaussian pixel noise.

    Parameters
    ----------
    copies : int
        Augmented versions per training digit (the original is one of them).
    noise : float
        Standard deviation of the pixel noise, on the [0, 1] scale.
    test_fraction : float
        Share of each class held out (not augmented).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    PoolSplit
        Images of shape (n, 1, 8, 8), float32 in [0, 1]. With the defaults
        the training set holds 1,347 x 20 = 26,940 images.

    Examples
    --------
    >>> split = load_augmented_digits(copies=2, seed=0)
    >>> split.X_pool.shape[1:]
    (1, 8, 8)
    """
    copies = check_positive_int(copies, "copies")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise}.")
    rng = as_generator(seed)
    base = load_digits_pool(test_fraction=test_fraction, images=True, seed=rng)
    X = np.repeat(base.X_pool, copies, axis=0)
    y = np.repeat(base.y_pool, copies)
    n = len(X)
    first = np.arange(n) % copies == 0  # keep one untouched original per digit
    dy = np.where(first, 0, rng.integers(-1, 2, size=n))
    dx = np.where(first, 0, rng.integers(-1, 2, size=n))
    X = _shift(X, dy, dx)
    X = X + np.where(first, 0.0, noise)[:, None, None, None] * rng.standard_normal(X.shape)
    X = np.clip(X, 0.0, 1.0).astype(np.float32)
    order = rng.permutation(n)
    return PoolSplit(X[order], y[order], base.X_test, base.y_test, n_classes=10)


MNIST1D_LENGTH = 40  # the published recipe's final sequence length


@functools.lru_cache(maxsize=4)
def _mnist1d_arrays(n_samples: int, seed: int, test_fraction: float, cache_dir: str | None):
    """Generate (or read from the disk cache) MNIST-1D; the global RNGs are left as they were."""
    from importlib.metadata import version

    path = None
    if cache_dir is not None:
        name = f"mnist1d-{version('mnist1d')}-n{n_samples}-seed{seed}-test{test_fraction:g}.npz"
        path = Path(cache_dir).expanduser() / "mnist1d" / name
        if path.is_file():
            with np.load(path) as f:
                return f["x"], f["y"], f["x_test"], f["y_test"]
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = n_samples, seed, 1.0 - test_fraction
    # make_dataset seeds numpy's and Python's global generators (mnist1d.utils.set_seed) and draws
    # from them in a Python loop; put both back afterwards so the caller's randomness is untouched.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002 (restoring it)
    try:
        raw = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    arrays = (
        raw["x"].astype(np.float32),
        raw["y"].astype(np.int64),
        raw["x_test"].astype(np.float32),
        raw["y_test"].astype(np.int64),
    )
    if path is not None:
        try:  # a cache that cannot be written (read-only home, sandbox) only costs the next call time
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, x=arrays[0], y=arrays[1], x_test=arrays[2], y_test=arrays[3])
            tmp.replace(path)
        except OSError:
            pass
    return arrays


def load_mnist1d(
    n_samples: int = 5000,
    *,
    seed=0,
    test_fraction: float = 0.2,
    flat: bool = False,
    cache_dir="~/.cache/dcai-al",
) -> PoolSplit:
    """MNIST-1D (Greydanus, 2020), generated locally: ten 1-D digit templates, length 40.

    A third-party dataset with published baselines (test accuracy: logistic
    regression 32%, MLP 68%, CNN 94%), so that a deep model beats a linear one
    as on real images. It is generated by the PyPI package ``mnist1d``
    (``mnist1d.data.make_dataset``: pad, dilate, scale, translate, correlated
    and iid noise, shear, resample); nothing is downloaded (the package's
    ``get_dataset`` would download, and is never called).

    The package seeds and draws from numpy's and Python's *global* random
    generators; both are saved before and restored after, so the caller's
    random state is untouched. Results are cached in this process (the last
    4 calls) and on disk under ``cache_dir/mnist1d/`` as ``.npz`` (about
    ``n_samples * 160`` bytes); 40,000 samples take about 8 s to generate on
    one CPU core, and a cached copy loads in milliseconds.

    Parameters
    ----------
    n_samples : int
        Samples in all, split into pool and test; the package makes
        ``n_samples // 10`` of each class, so it is rounded down to a multiple
        of 10.
    seed : int, numpy.random.Generator or None
        The package's seed, an int in [0, 2**32) (the package's own default
        is 42; pass ``seed=42`` for its published generation). A Generator
        gives its next draw and ``None`` fresh entropy, as
        :func:`dcai_al.validation.as_seed_int` says.
    test_fraction : float
        Share held out as the test set (the package's default split is 80/20).
    flat : bool
        If True, features have shape (n, 40) (for an MLP or a linear model);
        otherwise (n, 1, 40), one channel, for a 1-D CNN.
    cache_dir : path or None
        Where to keep generated datasets; None turns the disk cache off.
        A cache that cannot be written is skipped silently.

    Returns
    -------
    PoolSplit
        float32 features, standardised over the whole dataset as the package
        does; int64 labels in 0..9, classes balanced to within sampling.

    Examples
    --------
    >>> split = load_mnist1d(200, seed=0, cache_dir=None)
    >>> split.X_pool.shape, split.X_test.shape, split.n_classes
    ((160, 1, 40), (40, 1, 40), 10)
    """
    n_samples = check_positive_int(n_samples, "n_samples", minimum=20)
    seed = as_seed_int(seed)  # mnist1d seeds numpy's global generator with an int
    test_fraction = check_fraction(test_fraction, "test_fraction")
    if test_fraction >= 1.0:
        raise ValueError("test_fraction must be below 1 so that the pool is not empty.")
    cache = None if cache_dir is None else str(Path(cache_dir).expanduser())
    x, y, x_test, y_test = _mnist1d_arrays(n_samples - n_samples % 10, int(seed), float(test_fraction), cache)
    shape = (-1, MNIST1D_LENGTH) if flat else (-1, 1, MNIST1D_LENGTH)
    return PoolSplit(x.reshape(shape).copy(), y.copy(), x_test.reshape(shape).copy(), y_test.copy(), n_classes=10)


def make_threshold_pool(n: int = 1000, *, threshold: float = None, noise: float = 0.0, seed=0):
    """Points on [0, 1] labelled by a threshold: the lecture's 1-D example.

    Parameters
    ----------
    n : int
        Pool size.
    threshold : float, optional
        The true boundary; drawn uniformly from [0.1, 0.9] when None.
    noise : float
        Probability that a label is flipped (0 for the noiseless setting).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    x : numpy.ndarray of shape (n,)
        Sorted points in [0, 1].
    y : numpy.ndarray of shape (n,)
        Labels, 1 where ``x >= threshold`` (before noise).
    threshold : float

    Examples
    --------
    >>> x, y, t = make_threshold_pool(5, threshold=0.5, seed=0)
    >>> bool(((x >= 0.5) == y.astype(bool)).all())
    True
    """
    n = check_positive_int(n, "n", minimum=2)
    if not 0.0 <= noise < 0.5:
        raise ValueError(f"noise must lie in [0, 0.5), got {noise}.")
    rng = as_generator(seed)
    if threshold is None:
        threshold = float(rng.uniform(0.1, 0.9))
    elif not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}.")
    x = np.sort(rng.uniform(0.0, 1.0, size=n))
    y = (x >= threshold).astype(np.int64)
    if noise > 0:
        flip = rng.random(n) < noise
        y = np.where(flip, 1 - y, y)
    return x, y, float(threshold)


def make_gaussian_line(n_per_class: int = 100, *, separation: float = 2.0, seed=0):
    """Two 1-D classes from N(-separation, 1) and N(+separation, 1).

    The original course lab's toy: the Bayes boundary is at 0.

    Returns
    -------
    x : numpy.ndarray of shape (2 * n_per_class, 1)
    y : numpy.ndarray of shape (2 * n_per_class,), 0 for the left class.

    Examples
    --------
    >>> x, y = make_gaussian_line(10, seed=0)
    >>> x.shape, int(y.sum())
    ((20, 1), 10)
    """
    n_per_class = check_positive_int(n_per_class, "n_per_class")
    rng = as_generator(seed)
    x = np.concatenate([rng.normal(-separation, 1.0, n_per_class), rng.normal(separation, 1.0, n_per_class)])
    y = np.repeat([0, 1], n_per_class).astype(np.int64)
    order = rng.permutation(len(x))
    return x[order].reshape(-1, 1), y[order]


_BLOCK = 65_536  # rows generated per block; fixed so the output never depends on chunking
EMBEDDING_BLOCK = _BLOCK  # public: sharded pools (dcai_al.scale) cut shards at multiples of it


def make_embedding_pool(
    n: int = 100_000,
    d: int = 64,
    *,
    n_clusters: int = 100,
    prevalence: float = 0.005,
    cluster_std: float = 0.35,
    seed=0,
    out=None,
    start: int = 0,
):
    """A clustered embedding pool with a rare positive concept.

    Stands in, offline, for embeddings from a pre-trained model: points lie
    around ``n_clusters`` unit-norm centers; the rare concept is a few tight
    clusters that together hold ``prevalence`` of the pool, so its members are
    each other's nearest neighbours, as in real embedding spaces.

    Memory stays at the output: rows are generated in fixed blocks, each from
    its own seeded stream, straight into ``out`` (which may be a
    ``numpy.memmap`` for pools larger than RAM).

    Parameters
    ----------
    n, d : int
        Pool size and embedding dimension.
    n_clusters : int
        Number of negative clusters.
    prevalence : float
        Fraction of the pool in the rare positive concept, in (0, 0.5].
    cluster_std : float
        Per-coordinate spread of a cluster, scaled by 1/sqrt(d).
    seed : int, numpy.random.Generator or None
        Seed for the centers and every block: each block's stream is keyed
        by an int, so a Generator gives its next draw and ``None`` fresh
        entropy (:func:`dcai_al.validation.as_seed_int`).
    out : numpy.ndarray of shape (n, d), float32, optional
        Where to write the embeddings.
    start : int
        Generate rows ``start .. start + n - 1`` of the pool with this seed
        instead of the first ``n``: how :mod:`dcai_al.scale` writes one shard
        at a time. A multiple of ``EMBEDDING_BLOCK`` (65,536).

    Returns
    -------
    X : numpy.ndarray of shape (n, d), float32
    y : numpy.ndarray of shape (n,), int8, 1 for the rare concept.

    Examples
    --------
    >>> X, y = make_embedding_pool(1000, 8, prevalence=0.01, seed=0)
    >>> X.shape, X.dtype.name, int(y.sum()) > 0
    ((1000, 8), 'float32', True)
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d", minimum=2)
    n_clusters = check_positive_int(n_clusters, "n_clusters")
    prevalence = check_fraction(prevalence, "prevalence")
    if prevalence > 0.5:
        raise ValueError(f"prevalence must be at most 0.5 for a rare concept, got {prevalence}.")
    seed = as_seed_int(seed, high=2**63)  # each block derives its own stream from one int
    if isinstance(start, bool) or not isinstance(start, int | np.integer) or start < 0 or start % _BLOCK:
        raise ValueError(f"start must be a non-negative multiple of {_BLOCK}, got {start!r}.")
    if out is None:
        out = np.empty((n, d), dtype=np.float32)
    elif out.shape != (n, d) or out.dtype != np.float32:
        raise ValueError(f"out must be a float32 array of shape {(n, d)}, got {out.dtype} {out.shape}.")
    n_positive_clusters = 3
    center_rng = np.random.default_rng([seed, 0])
    centers = center_rng.standard_normal((n_clusters + n_positive_clusters, d)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    scale = np.float32(cluster_std / np.sqrt(d))
    y = np.empty(n, dtype=np.int8)
    first_block = start // _BLOCK
    for b, lo in enumerate(range(0, n, _BLOCK), start=first_block):
        hi = min(lo + _BLOCK, n)
        m = hi - lo
        # One stream per quantity, so a block's first rows do not depend on its length
        # and a smaller pool is exactly a prefix of a larger one.
        is_pos, pos_cluster, neg_cluster, noise = (np.random.default_rng([seed, b + 1, j]) for j in range(4))
        positive = is_pos.random(m) < prevalence
        which = np.where(
            positive,
            n_clusters + pos_cluster.integers(0, n_positive_clusters, size=m),
            neg_cluster.integers(0, n_clusters, size=m),
        )
        # Positive clusters are tighter: a rare concept forms a compact region.
        spread = np.where(positive, scale * 0.6, scale).astype(np.float32)[:, None]
        out[lo:hi] = centers[which] + spread * noise.standard_normal((m, d), dtype=np.float32)
        y[lo:hi] = positive
    return out, y


def _torchvision_dataset(cls_name: str, root, download: bool, train: bool):
    import torchvision

    root = Path(root).expanduser()
    cls = getattr(torchvision.datasets, cls_name)
    try:
        return cls(root=str(root), train=train, download=download)
    except RuntimeError as exc:
        if not download:
            raise FileNotFoundError(
                f"{cls_name} was not found under {root}. Pass download=True on a machine with internet "
                f"access (or copy the torchvision {cls_name} files there); the kit's default labs need no download."
            ) from None
        raise RuntimeError(f"{cls_name} could not be prepared under {root}: {exc}") from None
    except OSError as exc:  # URLError and socket errors derive from OSError
        raise ConnectionError(
            f"Downloading {cls_name} failed ({exc.__class__.__name__}): this machine seems to be offline. "
            f"Download it elsewhere into {root}, or use the offline datasets (load_digits_pool, "
            "load_augmented_digits)."
        ) from None


def _torchvision_split(cls_name: str, root, download: bool) -> PoolSplit:
    train = _torchvision_dataset(cls_name, root, download, train=True)
    test = _torchvision_dataset(cls_name, root, download, train=False)
    return _to_split(train, test, n_classes=10)


def _to_split(train, test, n_classes: int) -> PoolSplit:
    def arrays(ds):
        X = np.asarray(ds.data, dtype=np.float32) / 255.0
        X = X[:, None] if X.ndim == 3 else X.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(X), np.asarray(ds.targets, dtype=np.int64)

    X_pool, y_pool = arrays(train)
    X_test, y_test = arrays(test)
    return PoolSplit(X_pool, y_pool, X_test, y_test, n_classes=n_classes)


def load_mnist(root="~/.cache/dcai-al", *, download: bool = False) -> PoolSplit:
    """MNIST through torchvision (opt-in; needs the files or a download).

    Raises
    ------
    FileNotFoundError
        When the files are absent and ``download`` is False.
    ConnectionError
        When a download was asked for and the machine is offline.
    """
    return _torchvision_split("MNIST", root, download)


def load_cifar10(root="~/.cache/dcai-al", *, download: bool = False) -> PoolSplit:
    """CIFAR-10 through torchvision (opt-in; needs the files or a download).

    Images come back as float32 arrays of shape (n, 3, 32, 32) in [0, 1].

    Raises
    ------
    FileNotFoundError
        When the files are absent and ``download`` is False.
    ConnectionError
        When a download was asked for and the machine is offline.
    """
    return _torchvision_split("CIFAR10", root, download)
