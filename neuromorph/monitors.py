"""Monitors: what the engine records while it runs (no drawing here).

The simulator hands each monitor the raw records of every chunk it runs (global
neuron indices, absolute steps); monitors keep what belongs to them and expose it in
ms and in indices local to the monitored population view.
"""
from __future__ import annotations

import numpy as np

#: Recordable state: ``u`` is the current of LoihiLIF neurons (0 for LIF).
STATE_VARIABLES = {"v": 0, "I_exc": 1, "I_inh": 2, "u": 3, "theta": 4}


class _Monitor:
    def __init__(self, net, target):
        self._dt = net.dt
        self.target = target
        self._start_step = None  # first step recorded


class SpikeMonitor(_Monitor):
    """Records the spikes of a population (or view).

    Attributes
    ----------
    t : ndarray
        Spike times (ms), in order of occurrence.
    i : ndarray
        Index of the spiking neuron within the monitored view.
    """

    def __init__(self, net, target):
        super().__init__(net, target)
        self._steps, self._idx = [], []

    def _record(self, steps, gidx, lo):
        hi = lo + self.target.size
        keep = (gidx >= lo) & (gidx < hi)
        self._steps.append(steps[keep].astype(np.int64))
        self._idx.append((gidx[keep] - lo).astype(np.int32))

    def clear(self):
        """Forget the spikes recorded so far (e.g. between presented samples)."""
        self._steps, self._idx = [], []

    def _consolidate(self):
        if len(self._steps) != 1:
            self._steps = [np.concatenate(self._steps) if self._steps else np.zeros(0, np.int64)]
            self._idx = [np.concatenate(self._idx) if self._idx else np.zeros(0, np.int32)]

    @property
    def steps(self):
        """Time steps of the spikes (int)."""
        self._consolidate()
        return self._steps[0]

    @property
    def t(self):
        return self.steps * self._dt

    @property
    def i(self):
        self._consolidate()
        return self._idx[0]

    @property
    def num_spikes(self):
        return int(sum(len(s) for s in self._steps))

    @property
    def count(self):
        """Spike count of each neuron of the view."""
        return np.bincount(self.i, minlength=self.target.size)

    def spike_trains(self):
        """Dict neuron index -> spike times (ms)."""
        t, i = self.t, self.i
        return {n: t[i == n] for n in range(self.target.size)}


class _SeriesMonitor(_Monitor):
    """A monitor that receives ``(steps, values)`` blocks and concatenates them."""

    def __init__(self, net, target, width=None):
        super().__init__(net, target)
        self._t, self._v = [], []
        self._empty = np.zeros((0, width)) if width is not None else np.zeros(0, np.int64)

    def _record(self, steps, values):
        self._t.append(steps)
        self._v.append(values)

    @property
    def t(self):
        """Times of the recorded steps (ms)."""
        return (np.concatenate(self._t) if self._t else np.zeros(0, np.int64)) * self._dt

    def _values(self):
        return np.concatenate(self._v, axis=0) if self._v else self._empty


class StateMonitor(_SeriesMonitor):
    """Records a state variable of chosen neurons every ``every`` steps.

    Values are those at the start of each recorded step (before integration), like
    Brian2's ``StateMonitor``.

    Attributes
    ----------
    t : ndarray
        Recording times (ms).
    values : ndarray, shape (n_times, n_recorded)
        Recorded values (mV).
    record : ndarray
        Indices (within the view) of the recorded neurons.
    """

    def __init__(self, net, target, var, record, every_steps):
        super().__init__(net, target, width=len(record))
        self.var = var
        self.record = record
        self.every = every_steps

    @property
    def values(self):
        return self._values()


class RateMonitor(_SeriesMonitor):
    """Population spike count in every step, as a rate.

    Attributes
    ----------
    t : ndarray
        Step times (ms).
    counts : ndarray of int
        Spikes of the whole view in each step.
    rate : ndarray
        Instantaneous population rate (Hz): ``counts / (n * dt)``.
    """

    @property
    def counts(self):
        return self._values()

    @property
    def rate(self):
        return self.counts / (self.target.size * self._dt * 1e-3)

    def smoothed_rate(self, width):
        """Rate (Hz) averaged in a flat window of ``width`` ms (a multiple of dt)."""
        n = max(1, int(round(width / self._dt)))
        return np.convolve(self.rate, np.ones(n) / n, mode="same")


class WeightMonitor(_Monitor):
    """Snapshots of a projection's weights every ``every`` steps.

    Attributes
    ----------
    t : ndarray
        Snapshot times (ms).
    values : ndarray, shape (n_snapshots, n_synapses)
        Weights (mV) in the projection's synapse order (``proj.sources``,
        ``proj.targets``).
    """

    def __init__(self, net, projection, every_steps):
        super().__init__(net, projection)
        self.every = every_steps
        self._t, self._w = [], []

    def _record(self, step, w):
        self._t.append(step)
        self._w.append(np.array(w, copy=True))

    @property
    def t(self):
        return np.asarray(self._t, dtype=np.int64) * self._dt

    @property
    def values(self):
        n = self.target.n_synapses
        return np.stack(self._w) if self._w else np.zeros((0, n))
