"""The exceptions neuromorph raises beyond Python's own (one definition each).

Bad input raises ``TypeError`` / ``ValueError`` naming the parameter and the allowed
range (:mod:`neuromorph._checks`); the classes here say what else went wrong.
"""


class UnsupportedFeature(ValueError):
    """A part of a network or graph that has no counterpart in the other tool (Brian2,
    Lava, NIR, ...): raised before that tool is touched, naming the part and why."""


def all_problems(problems, what, advice):
    """One :class:`UnsupportedFeature` listing every problem found (so a user fixes them
    all in one go, not one per attempt).

    Parameters
    ----------
    problems : list of str
        One line per violated constraint, naming the part (population, projection).
    what : str
        What could not be done, e.g. ``"converted to Loihi neurons"``.
    advice : str
        How to build a network for which it can be done.
    """
    n = len(problems)
    return UnsupportedFeature(f"the network cannot be {what} ({n} problem{'s' if n > 1 else ''})"
                              f":\n  - " + "\n  - ".join(problems) + f"\n{advice}")


class LavaRuntimeError(RuntimeError):
    """A Lava process failed in its child process; the message carries its traceback.

    ``worker_pid`` is the id (and process group) of the worker that ran Lava,
    ``segments`` the names of the shared-memory segments it used (all released).
    """

    worker_pid = None
    segments = ()


class NestError(RuntimeError):
    """NEST failed while building or running a network; the message carries NEST's own.
    The neuromorph network is unchanged (backends never write it)."""


__all__ = ["UnsupportedFeature", "LavaRuntimeError", "NestError"]
