"""MNIST-1D's published recipe, applied to a whole block of samples at once.

The PyPI package ``mnist1d`` (Greydanus, 2020) makes one sample at a time in
a Python loop, drawing from numpy's global generator: about 0.2-0.7 ms a
sample here, so the 10^6-10^7 rows that SEALS's cost is measured on would
take hours. This module applies the same transformations, read from the
package's own templates and arguments, to every sample of a block with array
operations and a local generator:

1. pad the 12-point template with 36-60 zeros (a uniform draw) and dilate
   the result to 72 points by linear interpolation;
2. scale it by 1 + 0.4 (u - 1/2) and shift it circularly by 0-47 places;
3. where the signal is exactly zero, put correlated noise (Gaussian noise
   of scale 0.25 smoothed by a Gaussian filter of width 2); add iid noise of
   scale 0.02 everywhere;
4. shear it by a line of slope 0.75 (u - 1/2), then resample it to 40 points.

Given the same six random draws per sample, :func:`mnist1d_signals` returns
what the package's ``mnist1d.transform.transform`` returns, to rounding
(``tests/test_mnist1d_recipe.py`` replays the package's draws). The draws
come from another generator, so the samples are not the package's own; they
follow its distribution. The package standardises each dataset by its own
mean and standard deviation; :func:`standardise` uses those of a fixed
seeded sample, so a pool made block by block is standardised the same way
throughout.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .validation import as_generator, check_positive_int

__all__ = ["draw_transforms", "mnist1d_signals", "raw_moments", "standardise"]

#: How many samples :func:`raw_moments` measures the mean and spread on.
MOMENT_SAMPLES = 200_000


@functools.lru_cache(maxsize=1)
def _recipe():
    """The package's templates and arguments (its ``get_templates`` and ``get_dataset_args``)."""
    from mnist1d.data import get_dataset_args, get_templates

    return get_templates()["x"], get_dataset_args()


def _linear_resample(x: np.ndarray, lengths: np.ndarray, m: int) -> np.ndarray:
    """Each row's first ``lengths[i]`` values, resampled to ``m`` points on [0, 1] (scipy's interp1d, linear)."""
    pos = np.linspace(0.0, 1.0, m)[None, :] * (lengths[:, None] - 1)
    lo = np.minimum(np.floor(pos).astype(np.int64), lengths[:, None] - 2)
    frac = pos - lo
    a = np.take_along_axis(x, lo, 1)
    return a + frac * (np.take_along_axis(x, lo + 1, 1) - a)


def draw_transforms(n: int, seed=0) -> dict:
    """The six random draws of the recipe for ``n`` samples, in the package's units.

    Returns
    -------
    dict of numpy.ndarray
        ``pad`` (n,) int, zeros appended (36-60); ``scale`` (n,) uniform on
        [0, 1); ``shift`` (n,) int, places shifted (0-47); ``corr`` and
        ``iid`` (n, 72) standard normal; ``shear`` (n,) uniform on [0, 1).
    """
    n = check_positive_int(n, "n")
    _, args = _recipe()
    rng = as_generator(seed)
    low, high = args.padding
    length = args.template_len + high
    return dict(
        pad=low + (rng.random(n) * (high - low + 1)).astype(np.int64),
        scale=rng.random(n),
        shift=rng.integers(0, args.max_translation, n),
        corr=rng.standard_normal((n, length)),
        iid=rng.standard_normal((n, length)),
        shear=rng.random(n),
    )


def mnist1d_signals(labels, *, seed=0, draws: dict | None = None) -> np.ndarray:
    """MNIST-1D signals for the given digit labels, before the dataset's standardisation.

    Parameters
    ----------
    labels : array-like of int, shape (n,)
        Digits 0-9; one signal is made for each.
    seed : int, numpy.random.Generator or None
        For :func:`draw_transforms`; not used when ``draws`` is given.
    draws : dict, optional
        The random draws, as :func:`draw_transforms` returns them, one per label.

    Returns
    -------
    numpy.ndarray of float64, shape (n, 40)

    Examples
    --------
    >>> mnist1d_signals([3, 7], seed=0).shape
    (2, 40)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array of digits 0-9, got shape {labels.shape}.")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"labels must be digits 0-9, got values from {labels.min()} to {labels.max()}.")
    templates, args = _recipe()
    n, t = labels.size, templates.shape[1]
    length = args.template_len + args.padding[-1]
    d = draw_transforms(n, seed) if draws is None else _checked_draws(draws, n, length, args)
    padded = np.zeros((n, t + args.padding[-1] + 1))
    padded[:, :t] = templates[labels] + 1e-8  # the package's eps: the template is never exactly zero
    x = _linear_resample(padded, t + d["pad"], length)
    x *= (1 + args.scale_coeff * (d["scale"] - 0.5))[:, None]
    x = np.take_along_axis(x, (np.arange(length)[None, :] - d["shift"][:, None]) % length, 1)
    zero = x == 0
    x = np.where(zero, gaussian_filter1d(args.corr_noise_scale * d["corr"], 2, axis=1), x)
    x = x + args.iid_noise_scale * d["iid"]
    x = x - (args.shear_scale * (d["shear"] - 0.5))[:, None] * np.linspace(-0.5, 0.5, length)[None, :]
    return _linear_resample(x, np.full(n, length), args.final_seq_length)


def _checked_draws(draws, n: int, length: int, args) -> dict:
    """``draws`` with every key, one entry per sample, and pads and shifts in the package's ranges."""
    if not isinstance(draws, dict):
        raise TypeError(f"draws must be a dict as draw_transforms returns, got {type(draws).__name__}.")
    missing = {"pad", "scale", "shift", "corr", "iid", "shear"} - set(draws)
    if missing:
        raise ValueError(f"draws lacks {sorted(missing)}: give every key draw_transforms returns.")
    out = {key: np.asarray(value) for key, value in draws.items()}
    for key in ("pad", "scale", "shift", "shear"):
        if out[key].shape != (n,):
            raise ValueError(f"draws[{key!r}] must have shape ({n},), one per label, got {out[key].shape}.")
    for key in ("corr", "iid"):
        if out[key].shape != (n, length):
            raise ValueError(f"draws[{key!r}] must have shape ({n}, {length}), got {out[key].shape}.")
    low, high = args.padding
    if out["pad"].min() < low or out["pad"].max() > high:
        raise ValueError(f"draws['pad'] must lie in [{low}, {high}], got {out['pad'].min()} to {out['pad'].max()}.")
    if out["shift"].min() < 0 or out["shift"].max() >= args.max_translation:
        raise ValueError(f"draws['shift'] must lie in [0, {args.max_translation - 1}].")
    return out


@functools.lru_cache(maxsize=1)
def raw_moments() -> tuple[float, float]:
    """Mean and standard deviation of raw signals, over a fixed seeded sample of balanced digits."""
    labels = np.arange(MOMENT_SAMPLES) % 10
    x = mnist1d_signals(labels, seed=20201204)
    return float(x.mean()), float(x.std())


def standardise(signals: np.ndarray) -> np.ndarray:
    """Signals centred and scaled as the package scales a dataset, float32, shape (n, 1, 40) for a 1-D CNN."""
    signals = np.asarray(signals)
    if signals.ndim != 2:
        raise ValueError(f"signals must have shape (n, length), as mnist1d_signals returns, got {signals.shape}.")
    mean, std = raw_moments()
    return ((signals - mean) / std).astype(np.float32)[:, None, :]
