"""dcai-al: a course kit for growing and compressing datasets.

Active learning (``acquisition``, ``threshold``, ``loop``) and the plumbing the
labs share (``data``, ``models``, ``plotting``, ``checks``, ``grading``).
Modules are imported explicitly, e.g. ``from dcai_al import acquisition``.
"""

__version__ = "0.1.0"
