"""The kit's one quick switch.

``DCAI_AL_QUICK=1`` (or ``dcai-al run --quick``) shrinks pool sizes, seeds and
epochs so that CI executes and autogrades every notebook in well under a
minute. It is read here and nowhere else; everything downstream receives it as
a plain ``quick`` argument.
"""

from __future__ import annotations

import os

QUICK_ENV = "DCAI_AL_QUICK"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick_mode(environ=None) -> bool:
    """Return True when the quick switch is on.

    Parameters
    ----------
    environ : mapping, optional
        Where to read the variable; defaults to ``os.environ``.

    Examples
    --------
    >>> quick_mode({"DCAI_AL_QUICK": "1"})
    True
    >>> quick_mode({})
    False
    """
    environ = os.environ if environ is None else environ
    value = str(environ.get(QUICK_ENV, "")).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{QUICK_ENV} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")
