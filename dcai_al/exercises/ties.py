"""Ties in a ranking: the case that tells a stable sort from numpy's default one, and its hint.

Every ranking exercise breaks ties towards the lower index (or the earlier
candidate). ``np.argsort``'s default sort does not keep equal scores in index
order on a long array, whatever sorting routine the CPU gets, so an answer
without ``kind="stable"`` passes small cases and fails on :data:`MANY_TIES`.

>>> import numpy as np
>>> np.argsort(-MANY_TIES, kind="stable")[:3].tolist()
[5, 6, 7]
"""

from __future__ import annotations

import numpy as np

__all__ = ["MANY_TIES", "stable_hint", "ties_misordered"]

#: 90 tied high scores between 5 low ones on each side.
MANY_TIES = np.array([0.3] * 5 + [0.7] * 90 + [0.3] * 5)


def stable_hint(scores: str = "scores", first: str = "the lower index") -> str:
    """The hint for ties in the wrong order, naming the student's argument ``scores``."""
    return (
        f"the right scores, with ties in the wrong order: ties go to {first}. np.argsort's default sort does "
        "not keep equal scores in order, and reversing an ascending sort puts the later one first; use "
        f"np.argsort(-{scores}, kind='stable')."
    )


def ties_misordered(got, expected, scores) -> bool:
    """Whether ``got`` has the scores of ``expected``, position by position, with equal scores in another order."""
    scores = np.asarray(scores)
    got, expected = [int(i) for i in got], [int(i) for i in expected]
    if len(got) != len(expected) or got == expected or not all(0 <= i < scores.size for i in got):
        return False
    return bool(np.array_equal(scores[got], scores[expected]))
