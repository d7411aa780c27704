"""NEST's per-rank (and per-thread) records, brought together: gathered over MPI or merged
from files.

Under ``mpirun -n K`` each MPI rank of NEST holds only its own neurons (node ``g`` lives
on virtual process ``g % (K * threads)``): a ``spike_recorder`` or ``multimeter`` returns
the local events only, and with ``record_to='ascii'`` NEST writes one file per virtual
process, ``<label>-<recorder id>-<vp>.dat`` (two ``#`` header lines, a tab-separated
column header such as ``sender  time_ms``, then one event per line). Two ways to get
the whole record:

* :func:`gather_events` (in the job, mpi4py): every rank passes its local events, the
  root (or, with ``all=True``, every rank) gets them merged;
* :func:`merge_files` (after the job, no MPI needed): the per-VP ``.dat`` files, or
  per-rank ``.npz`` files written with :func:`write_rank_events`, merged.

Either way the events come back sorted by time, then sender, then any further columns,
so the merge does not depend on the number of ranks or threads: the same network on
1, 2 or K processes gives the same arrays. :func:`~neuromorph.backends.nest.run_nest`
uses :func:`gather_events` itself when NEST runs on several MPI processes.

Only this module imports mpi4py (lazily, in :func:`gather_events`).
"""
from __future__ import annotations

import glob
import os

import numpy as np

__all__ = ["gather_events", "merge_events", "merge_files", "read_ascii",
           "write_rank_events", "comm_world"]


def comm_world():
    """``mpi4py.MPI.COMM_WORLD``."""
    from mpi4py import MPI
    return MPI.COMM_WORLD


def _check_events(events, name="events"):
    if not isinstance(events, dict) or not events:
        raise TypeError(f"{name} must be a non-empty dict of equal-length 1-D arrays "
                        f"(e.g. {{'senders': ..., 'times': ...}}), got {type(events).__name__}")
    arrays = {k: np.atleast_1d(np.asarray(v)) for k, v in events.items()}
    lengths = {k: a.shape for k, a in arrays.items()}
    if any(a.ndim != 1 for a in arrays.values()) or len({s[0] for s in lengths.values()}) > 1:
        raise ValueError(f"{name}: every field must be a 1-D array of one length, got "
                         f"shapes {lengths}")
    return arrays


def merge_events(parts):
    """One events dict from several (one per rank, thread or file), sorted by ``times``
    (or ``time_ms``), then ``senders`` (or ``sender``), then the other fields.

    Parameters
    ----------
    parts : list of dict
        Each with the same keys, arrays of one length per dict.
    """
    parts = [_check_events(p, f"parts[{k}]") for k, p in enumerate(parts)]
    if not parts:
        raise ValueError("parts must hold at least one events dict")
    keys = list(parts[0])
    for k, p in enumerate(parts):
        if list(p) != keys and set(p) != set(keys):
            raise ValueError(f"parts[{k}] has fields {sorted(p)}, parts[0] {sorted(keys)}")
    out = {k: np.concatenate([p[k] for p in parts]) for k in keys}
    first = [k for k in ("times", "time_ms", "senders", "sender") if k in out]
    order_keys = first + [k for k in keys if k not in first]
    order = np.lexsort(tuple(out[k] for k in reversed(order_keys)))
    return {k: v[order] for k, v in out.items()}


def gather_events(events, comm=None, root=0, all=False):  # noqa: A002 - MPI's name
    """Merge every rank's local events (call it on every rank).

    Parameters
    ----------
    events : dict
        This rank's events, e.g. ``recorder.get('events')`` of a NEST recorder.
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD``.
    root : int
        Rank that receives the merged events (ignored with ``all=True``).
    all : bool
        Every rank receives them (``allgather``).

    Returns
    -------
    dict or None
        The merged events (:func:`merge_events`) on ``root`` (every rank with ``all``),
        None on the other ranks.
    """
    events = _check_events(events)
    comm = comm_world() if comm is None else comm
    if all:
        return merge_events(comm.allgather(events))
    size = comm.Get_size()
    if not isinstance(root, (int, np.integer)) or not 0 <= root < size:
        raise ValueError(f"root must be a rank in [0, {size - 1}], got {root!r}")
    parts = comm.gather(events, root=root)
    return merge_events(parts) if comm.Get_rank() == root else None


def read_ascii(path):
    """The events of one NEST ASCII record file (``record_to='ascii'``): a dict from the
    column header's names (``sender`` as int64, the others float64)."""
    with open(path) as f:
        lines = [ln for ln in f if not ln.startswith("#")]
    if not lines:
        raise ValueError(f"{path}: not a NEST ASCII record (no column header)")
    names = lines[0].split()
    data = np.loadtxt(lines[1:], ndmin=2) if len(lines) > 1 else np.zeros((0, len(names)))
    if data.shape[1] != len(names):
        raise ValueError(f"{path}: {data.shape[1]} columns under the header {names}")
    return {n: (data[:, j].astype(np.int64) if n == "sender" else data[:, j])
            for j, n in enumerate(names)}


def write_rank_events(events, folder, rank, label="spikes"):
    """Write one rank's events to ``folder/<label>-rank<rank>.npz`` (for
    :func:`merge_files`); returns the path."""
    events = _check_events(events)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{label}-rank{int(rank)}.npz")
    np.savez(path, **events)
    return path


def merge_files(paths):
    """Merge per-rank / per-VP files: NEST ASCII ``.dat`` files or ``.npz`` files of
    :func:`write_rank_events`.

    Parameters
    ----------
    paths : str or list of str
        File names, or one glob pattern (e.g. ``'out/spikes-7-*.dat'``).
    """
    if isinstance(paths, (str, os.PathLike)):
        found = sorted(glob.glob(os.fspath(paths)))
        if not found:
            raise FileNotFoundError(f"no file matches {os.fspath(paths)!r}")
        paths = found
    parts = []
    for p in paths:
        if os.fspath(p).endswith(".npz"):
            with np.load(p) as f:
                parts.append({k: f[k] for k in f.files})
        else:
            parts.append(read_ascii(p))
    return merge_events(parts)
