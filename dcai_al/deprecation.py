"""Old names that keep working for one release, with a ``DeprecationWarning`` naming the new one.

The kit's names follow one rule (see the README's "The package"): ``batch_size`` is how many
indices one selection returns, ``labelled`` the labelled pool indices, ``k`` only a number of
neighbours, ``seed`` every random choice. Functions renamed to follow it accept their old
keyword names through :func:`renamed_parameters` and their old function names through
:func:`deprecated_alias`, so callers can switch at their own pace.
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["deprecated_alias", "renamed_parameters"]


def _warn(message: str, stacklevel: int) -> None:
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel + 1)


def renamed_parameters(**old_to_new: str):
    """Decorator: accept each old keyword ``old=`` as ``new=``, warning that it is deprecated.

    Positions do not change, so positional calls need nothing. Passing both the old
    and the new name is a ``TypeError``.

    Examples
    --------
    >>> @renamed_parameters(k="batch_size")
    ... def pick(scores, batch_size):
    ...     return sorted(scores)[-batch_size:]
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     pick([3, 1, 2], k=2)
    [2, 3]
    >>> str(seen[0].message)
    'pick: `k=` is deprecated; use `batch_size=`.'
    """

    def decorate(fn):
        name = fn.__name__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{name}: got both `{old}=` (deprecated) and `{new}=`; pass only `{new}=`.")
                    _warn(f"{name}: `{old}=` is deprecated; use `{new}=`.", stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        wrapper.__renamed_parameters__ = dict(old_to_new)
        return wrapper

    return decorate


def deprecated_alias(fn, old_name: str):
    """``fn`` under its old name: the same function, warning on each call that ``old_name`` is deprecated.

    Examples
    --------
    >>> def as_list(x):
    ...     return list(x)
    >>> to_list = deprecated_alias(as_list, "to_list")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     to_list((1, 2))
    [1, 2]
    >>> str(seen[0].message)
    '`to_list` is deprecated; use `as_list`.'
    """

    @functools.wraps(fn)
    def alias(*args, **kwargs):
        _warn(f"`{old_name}` is deprecated; use `{fn.__name__}`.", stacklevel=2)
        return fn(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = f"Deprecated alias of :func:`{fn.__name__}` (kept for one release).\n"
    return alias
