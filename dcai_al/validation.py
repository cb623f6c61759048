"""Argument checks shared by every public function of the kit.

Each public function validates its arguments here, once, and hands clean
values to private code that assumes them. Every error is a ``ValueError`` or
``TypeError`` whose message names the argument, what was expected and what
was given, so a student reading it knows what to fix.

Arrays may be numpy arrays or torch tensors; the checks keep tensors on their
device and never copy data they do not need to.
"""

from __future__ import annotations

import numbers
import sys

import numpy as np

from .deprecation import deprecated_alias

__all__ = [
    "as_generator",
    "as_seed_int",
    "check_array",
    "check_batch_size",
    "check_budget",
    "check_features",
    "check_fraction",
    "check_indices",
    "check_labels",
    "check_number",
    "check_positive_int",
    "check_probs",
    "check_random_state",
    "check_real_array",
    "check_scores",
    "is_tensor",
]

#: Rows of a probability matrix may drift this far from 1 (float32 softmax
#: outputs routinely sit 1e-6 away; a user who forgot to normalise is far off).
PROBS_ATOL = 1e-4


def is_tensor(x) -> bool:
    """Return True when ``x`` is a torch tensor.

    Asked without importing torch (2 s of a kernel's start): no tensor can exist before torch is imported.
    """
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _torch():
    """The torch module, for code that already holds a tensor (so torch is imported)."""
    return sys.modules["torch"]


def _describe(value) -> str:
    if is_tensor(value):
        return f"torch.Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"numpy array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def _as_array(x, name: str):
    """Return ``x`` as a numpy array or leave a tensor as it is."""
    if is_tensor(x):
        return x
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {_describe(x)}.")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        if "inhomogeneous" in str(exc):
            raise ValueError(f"{name} must be a rectangular array: its rows have different lengths.") from None
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    return arr


def _upcast_half(x):
    """float16 (and torch's bfloat16) as float32: 3 significant digits make different rows score the same."""
    if is_tensor(x):
        return x.float() if x.dtype in (_torch().float16, _torch().bfloat16) else x
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _require_numeric(x, name: str):
    if is_tensor(x):
        if x.dtype == _torch().bool or x.is_complex():
            raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}.")
        return
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}.")


def _first_bad_row(mask) -> int:
    """Index of the first True row of a boolean (n,) mask (numpy or torch)."""
    if is_tensor(mask):
        return int(_torch().nonzero(mask)[0, 0])
    return int(np.flatnonzero(mask)[0])


def _require_finite(x, name: str):
    finite = _torch().isfinite(x) if is_tensor(x) else np.isfinite(x)
    if not bool(finite.all()):
        bad = ~finite
        if x.ndim >= 2:
            row = _first_bad_row(bad.reshape(bad.shape[0], -1).any(1))
            raise ValueError(f"{name} must be finite; row {row} holds NaN or inf.")
        raise ValueError(f"{name} must be finite; entry {_first_bad_row(bad.reshape(-1))} is NaN or inf.")


def check_probs(probs, name: str = "probs", *, atol: float = PROBS_ATOL):
    """Validate a matrix of class probabilities.

    Parameters
    ----------
    probs : array-like or torch.Tensor of shape (n_samples, n_classes)
        One row per example; each row non-negative and summing to 1.
    name : str
        The argument's name, used in error messages.
    atol : float
        How far a row sum may be from 1.

    Returns
    -------
    probs : numpy.ndarray or torch.Tensor
        The same data as a floating-point array (a tensor stays a tensor on
        its device).

    Examples
    --------
    >>> check_probs([[0.25, 0.75], [1.0, 0.0]]).shape
    (2, 2)
    """
    probs = _as_array(probs, name)
    _require_numeric(probs, name)
    if probs.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_classes), got {probs.ndim}-D "
            f"shape {tuple(probs.shape)}. A single example needs shape (1, n_classes)."
        )
    n, k = probs.shape
    if n == 0:
        raise ValueError(f"{name} is empty: it has no rows (the pool has no examples).")
    if k < 2:
        raise ValueError(f"{name} must have at least 2 classes (columns), got {k}.")
    if is_tensor(probs):
        if not probs.is_floating_point():
            probs = probs.double()
    elif not np.issubdtype(probs.dtype, np.floating):
        probs = probs.astype(np.float64)
    half = probs.dtype in (_torch().float16, _torch().bfloat16) if is_tensor(probs) else probs.dtype == np.float16
    if half:  # each entry is rounded by up to eps/2 of itself, so a row's sum may be off by eps/2
        atol = max(atol, _torch().finfo(probs.dtype).eps if is_tensor(probs) else float(np.finfo(np.float16).eps))
        probs = _upcast_half(probs)
    _require_finite(probs, name)
    negative = (probs < 0).any(1)
    if bool(negative.any()):
        row = _first_bad_row(negative)
        raise ValueError(f"{name} must be non-negative; row {row} has a negative entry.")
    sums = probs.sum(1)
    off = (sums - 1).abs() > atol if is_tensor(sums) else np.abs(sums - 1) > atol
    if bool(off.any()):
        row = _first_bad_row(off)
        raise ValueError(
            f"{name} rows must sum to 1; row {row} sums to {float(sums[row]):.6g}. "
            "Pass probabilities (for example a softmax), not raw scores."
        )
    return probs


def check_scores(scores, name: str = "scores"):
    """Validate a 1-D vector of finite scores; return it as an array or tensor.

    Examples
    --------
    >>> check_scores([0.1, 0.5]).tolist()
    [0.1, 0.5]
    """
    scores = _as_array(scores, name)
    _require_numeric(scores, name)
    if scores.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one score per example, got shape {tuple(scores.shape)}.")
    if scores.shape[0] == 0:
        raise ValueError(f"{name} is empty: there is nothing to select from.")
    _require_finite(scores, name)
    return scores


def check_array(x, name: str) -> np.ndarray:
    """``x`` as a numpy array (a tensor is copied to the CPU), or an error naming ``name`` for a ragged list.

    Examples
    --------
    >>> check_array([[True, False]], "correct").shape
    (1, 2)
    """
    if is_tensor(x):
        return x.detach().cpu().numpy()
    return _as_array(x, name)


def check_real_array(x, name: str, *, ndims=(1,), shape: str = "(n,)", allow_empty: bool = False) -> np.ndarray:
    """Validate an array of finite real numbers, such as positions on a line or a table of errors.

    Parameters
    ----------
    x : array-like
    name : str
        The argument's name, used in error messages.
    ndims : tuple of int
        The numbers of dimensions accepted.
    shape : str
        The expected shape, as the error message says it (``"(n_runs, n_labels)"``).
    allow_empty : bool
        Whether an array with no entries is acceptable.

    Returns
    -------
    x : numpy.ndarray of float64

    Examples
    --------
    >>> check_real_array([0.2, 1], "x").tolist()
    [0.2, 1.0]
    """
    if is_tensor(x):
        x = x.detach().cpu().numpy()
    x = _as_array(x, name)
    if x.ndim not in ndims:
        dims = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {dims} with shape {shape}; got {x.ndim}-D shape {x.shape}.")
    if x.size == 0:
        if not allow_empty:
            raise ValueError(f"{name} is empty: shape {x.shape}.")
        return x.astype(np.float64)
    _require_numeric(x, name)
    x = x.astype(np.float64, copy=False)
    _require_finite(x, name)
    return x


def check_number(value, name: str) -> float:
    """Return ``value`` as a float, checking it is a finite real number (not a string or a bool).

    Examples
    --------
    >>> check_number(1, "lo")
    1.0
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}.")
    return value


def check_features(features, name: str = "features", *, allow_tensor: bool = True):
    """Validate a 2-D matrix of finite features, one row per example.

    Integer input is converted to float32; a tensor stays a tensor.

    Examples
    --------
    >>> check_features([[0, 1], [2, 3]]).dtype
    dtype('float32')
    """
    features = _as_array(features, name)
    if is_tensor(features) and not allow_tensor:
        raise TypeError(f"{name} must be a numpy array here, got {_describe(features)}.")
    _require_numeric(features, name)
    if features.ndim != 2:
        hint = " Use X.reshape(-1, 1) for a single feature." if features.ndim == 1 else ""
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_features), got shape {tuple(features.shape)}.{hint}"
        )
    if features.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has no rows.")
    if features.shape[1] == 0:
        raise ValueError(f"{name} has no columns (features).")
    if is_tensor(features):
        if not features.is_floating_point():
            features = features.float()
    elif not np.issubdtype(features.dtype, np.floating):
        features = features.astype(np.float32)
    _require_finite(features, name)
    return features


def check_indices(indices, n: int, name: str = "indices", *, allow_empty: bool = True) -> np.ndarray:
    """Validate indices into a pool of ``n`` examples.

    Parameters
    ----------
    indices : array-like of int, or None
        Positions in the original pool. ``None`` means no indices.
    n : int
        Size of the pool.
    name : str
        The argument's name, used in error messages.
    allow_empty : bool
        Whether an empty set of indices is acceptable.

    Returns
    -------
    indices : numpy.ndarray of int64, shape (m,)
        The indices in the order given.

    Examples
    --------
    >>> check_indices([3, 1], n=5).tolist()
    [3, 1]
    """
    if indices is None:
        indices = np.empty(0, dtype=np.int64)
    if is_tensor(indices):
        indices = indices.detach().cpu().numpy()
    if isinstance(indices, (set, frozenset)):
        indices = sorted(indices)
    arr = np.asarray(indices)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a 1-D array of indices, got the scalar {arr.item()!r}. Wrap it in a list.")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}.")
    if arr.size == 0:
        if not allow_empty:
            raise ValueError(f"{name} is empty; at least one index is needed.")
        return np.empty(0, dtype=np.int64)
    if arr.dtype == bool:
        raise TypeError(
            f"{name} must hold integer indices, got a boolean mask; use np.flatnonzero(mask) to turn it into indices."
        )
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64, copy=False)
    out_of_range = (arr < 0) | (arr >= n)
    if out_of_range.any():
        pos = int(np.flatnonzero(out_of_range)[0])
        raise ValueError(f"{name} must lie in [0, {n}) for a pool of {n} examples; position {pos} holds {arr[pos]}.")
    uniq, counts = np.unique(arr, return_counts=True)
    if uniq.size != arr.size:
        raise ValueError(f"{name} must not repeat an index; {int(uniq[counts > 1][0])} appears more than once.")
    return arr


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, checking it is an integer >= ``minimum``.

    Examples
    --------
    >>> check_positive_int(3, "k")
    3
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got the boolean {value}.")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {_describe(value)}.")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return value


def check_batch_size(batch_size, available: int, name: str = "batch_size") -> int:
    """Check that ``batch_size`` examples can be picked from ``available`` ones.

    Parameters
    ----------
    batch_size : int
        How many indices one selection returns (at least 1).
    available : int
        How many the selection may choose from (the unlabelled pool, say).
    name : str
        The argument's name, used in error messages.

    Examples
    --------
    >>> check_batch_size(2, available=10)
    2
    """
    batch_size = check_positive_int(batch_size, name)
    if available <= 0:
        raise ValueError(f"the pool is exhausted: no unlabelled examples are left to pick {name}={batch_size} from.")
    if batch_size > available:
        raise ValueError(f"{name}={batch_size} is larger than the {available} examples available to choose from.")
    return batch_size


#: Deprecated alias of :func:`check_batch_size` (kept for one release).
check_budget = deprecated_alias(check_batch_size, "check_budget")


def check_fraction(fraction, name: str = "fraction") -> float:
    """Check a fraction in (0, 1].

    Examples
    --------
    >>> check_fraction(0.5)
    0.5
    """
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
        raise TypeError(f"{name} must be a number in (0, 1], got {_describe(fraction)}.")
    fraction = float(fraction)
    if not (0.0 < fraction <= 1.0):
        raise ValueError(f"{name} must lie in (0, 1], got {fraction}.")
    return fraction


def check_labels(y, n: int | None = None, name: str = "y") -> np.ndarray:
    """Validate a 1-D vector of class labels, optionally of length ``n``.

    Examples
    --------
    >>> check_labels([0, 1, 1], n=3).tolist()
    [0, 1, 1]
    """
    if is_tensor(y):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one label per example, got shape {y.shape}.")
    if n is not None and y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} labels but there are {n} examples; the lengths must match.")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} must not contain NaN or inf.")
    return y


def as_generator(seed=0) -> np.random.Generator:
    """Turn ``seed`` into a ``numpy.random.Generator``: the kit's one seed rule.

    Every function of the kit that makes a random choice takes ``seed=0`` and
    passes it through here.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        An int (>= 0) gives a reproducible generator; a Generator is returned
        as is, so callers can share one stream; ``None`` gives fresh entropy
        from the operating system.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
    True
    >>> g = np.random.default_rng(1)
    >>> as_generator(g) is g
    True
    """
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool | np.bool_)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}.")
        return np.random.default_rng(None if seed is None else int(seed))
    if isinstance(seed, np.random.Generator):
        return seed
    raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {_describe(seed)}.")


def as_seed_int(seed=0, *, high: int = 2**32) -> int:
    """``seed`` as an int in [0, high), for code that needs an integer key (a block's stream, torch, mnist1d).

    An int is checked and returned; a Generator gives its next draw; ``None``
    gives a fresh draw from the operating system's entropy.

    Examples
    --------
    >>> as_seed_int(7)
    7
    >>> as_seed_int(np.random.default_rng(0)) == as_seed_int(np.random.default_rng(0))
    True
    """
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool | np.bool_):
        if not 0 <= seed < high:
            raise ValueError(f"seed must be an integer in [0, {high}), got {seed}.")
        return int(seed)
    return int(as_generator(seed).integers(high))


#: Deprecated alias of :func:`as_generator` (scikit-learn's name, but it returns a Generator).
check_random_state = deprecated_alias(as_generator, "check_random_state")
