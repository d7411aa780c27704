"""Sweeps of independent runs (seeds, families) here or on a Dask cluster.

``neuromorph compare --scheduler ADDRESS`` and ``neuromorph run NAME --seeds 0-4
--scheduler ADDRESS`` hand their runs to a Dask ``distributed`` scheduler (start one
with ``dask scheduler`` and workers with ``dask worker ADDRESS``). Every run gets its
seed explicitly, so the same seeds give the same numbers wherever a run executes;
results come back in submission order. Without a scheduler the runs happen here, as
before.

Only :func:`connect` imports ``distributed`` (the ``dask`` extra).
"""
from __future__ import annotations

import re

#: Seconds to wait for a scheduler before giving up (the error comes within this).
CONNECT_TIMEOUT_S = 5.0


class SchedulerUnreachable(ConnectionError):
    """The Dask scheduler at the given address did not answer."""


def parse_seeds(text):
    """Seeds from ``'0-4'`` (a range, both ends included), ``'0,2,7'`` (a list), ``'3'``
    or a mix (``'0-2,10'``); non-negative integers, each once, in the given order.

    Raises ``ValueError`` naming ``--seeds`` for anything else.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"--seeds must be a range like 0-4 or a list like 0,2,7, got "
                         f"{text!r}")
    seeds = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if m is None:
            raise ValueError(f"--seeds must be a range like 0-4 or a list like 0,2,7 of "
                             f"non-negative integers, got {text!r}")
        lo, hi = int(m.group(1)), int(m.group(2) if m.group(2) is not None else m.group(1))
        if hi < lo:
            raise ValueError(f"--seeds: range {part.strip()!r} ends before it starts")
        seeds += range(lo, hi + 1)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds lists a seed twice: {text!r}")
    return seeds


def connect(address, timeout=CONNECT_TIMEOUT_S):
    """A ``distributed.Client`` of the scheduler at ``address`` (e.g.
    ``tcp://10.0.0.5:8786``).

    Raises :class:`SchedulerUnreachable` within ``timeout`` seconds (plus a fraction of
    a second) when nothing answers there, ``ValueError`` for an address that is not a
    string.
    """
    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"scheduler must be an address like tcp://HOST:8786, got "
                         f"{address!r}")
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - the dask extra is installed
        raise ImportError("--scheduler needs dask's distributed package: pip install "
                          "'neuromorph[dask]'") from e
    try:
        return Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise SchedulerUnreachable(f"no Dask scheduler answered at {address!r} within "
                                   f"{timeout:g} s ({type(e).__name__}: {e}); start one "
                                   f"with `dask scheduler` and workers with `dask worker "
                                   f"ADDRESS`") from None


def run_all(fn, calls, scheduler=None, progress=None):
    """``[fn(*args) for args in calls]``, here or on the scheduler at ``scheduler``.

    ``progress(i, result)`` is called as results arrive (here: in order). On a cluster
    the function and its arguments are pickled to the workers; results come back in
    the order of ``calls``.
    """
    calls = [tuple(c) for c in calls]
    if scheduler is None:
        out = []
        for i, args in enumerate(calls):
            out.append(fn(*args))
            if progress is not None:
                progress(i, out[-1])
        return out
    client = connect(scheduler)
    try:
        futures = [client.submit(fn, *args, pure=False) for args in calls]
        out = client.gather(futures)
        if progress is not None:
            for i, r in enumerate(out):
                progress(i, r)
        return out
    finally:
        client.close()
