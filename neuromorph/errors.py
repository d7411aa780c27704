"""The exceptions neuromorph raises beyond Python's own (one definition each).

Bad input raises ``TypeError`` / ``ValueError`` naming the parameter and the allowed
range (:mod:`neuromorph._checks`); the classes here say what else went wrong.
"""


class UnsupportedFeature(ValueError):
    """A part of a network or graph that has no counterpart in the other tool (Brian2,
    Lava, NIR, ...): raised before that tool is touched, naming the part and why."""


class LavaRuntimeError(RuntimeError):
    """A Lava process failed in its child process; the message carries its traceback.

    ``worker_pid`` is the id (and process group) of the worker that ran Lava,
    ``segments`` the names of the shared-memory segments it used (all released).
    """

    worker_pid = None
    segments = ()


__all__ = ["UnsupportedFeature", "LavaRuntimeError"]
