"""Input encoders: how intensities in [0, 1] or rates (Hz) become spikes.

Every spike encoder of the library lives here, used by the engine, the learners and
the backends:

* :class:`PoissonBlocks` — the engine's Poisson populations (``Network.poisson``):
  each population's spike train is drawn in fixed absolute blocks of :data:`BLOCK`
  steps from its own generator, so it does not depend on how ``run`` calls are split
  (used by :mod:`neuromorph.simulator` and the Lava backend; STDPClassifier's inputs are
  such populations);
* :class:`BernoulliEncoder` / :class:`PoissonEncoder` — per-step rate coding of a batch
  (``(batch, inputs)`` arrays) for the layered spiking learners (CSDP, SpikingPC,
  EqSpike);
* :func:`trial_spike_trains` — spike times of samples shown one after another as
  trials (regular trains with a random phase, or Poisson), the inputs of
  RSTDPClassifier.

Units: time in ms, rates in Hz; a step of ``dt`` ms fires with probability
``rate * dt / 1000``.
"""
from __future__ import annotations

import numpy as np

from . import _checks

BLOCK = 1000  # steps per chunk of the engine and per Poisson block


class PoissonBlocks:
    """Spike trains of one Poisson population, generated block by block.

    In each step a neuron fires with probability ``p = rate * dt / 1000``; gaps
    between spikes are drawn as geometric variates (exactly a Bernoulli process).
    """

    def __init__(self, rate, dt, seed, key):
        self.dt = dt
        self.p = np.asarray(rate, float) * dt * 1e-3
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, key)))
        self.next = None
        self.block, self.steps, self.idx = -1, None, None

    def _gaps(self, idx):
        return self.rng.geometric(self.p[idx])

    def _first(self, start):
        """Each live neuron's first spike at or after ``start`` (memoryless)."""
        self.next = np.full(self.p.shape, np.iinfo(np.int64).max, np.int64)
        live = np.nonzero(self.p > 0)[0]
        self.next[live] = start - 1 + self._gaps(live)

    def events(self, u0, u1):
        """Spikes ``(steps, local indices)`` in ``[u0, u1)``, inside one block."""
        b = u0 // BLOCK
        if b != self.block:
            if self.next is None:
                self._first(b * BLOCK)
            self.block = b
            self.steps, self.idx = self._draw((b + 1) * BLOCK)
        lo, hi = np.searchsorted(self.steps, [u0, u1])
        return self.steps[lo:hi], self.idx[lo:hi]

    def _draw(self, end):
        """All spikes from the pending ``next`` steps up to ``end`` (sorted)."""
        steps, idx = [], []
        todo = np.nonzero(self.next < end)[0]
        while todo.size:
            steps.append(self.next[todo].copy())
            idx.append(todo)
            self.next[todo] += self._gaps(todo)
            todo = todo[self.next[todo] < end]
        steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
        idx = np.concatenate(idx).astype(np.int32) if idx else np.zeros(0, np.int32)
        order = np.lexsort((idx, steps))
        return steps[order], idx[order]

    def set_rate(self, rate, u):
        """New rates (Hz) from step ``u`` on; spikes before ``u`` are kept.

        A Bernoulli process is memoryless, so redrawing every neuron's next spike from
        ``u`` with the new probability is exact.
        """
        self.p = np.asarray(rate, float) * self.dt * 1e-3
        if self.next is None:
            return
        self._first(u)
        if self.block == u // BLOCK:
            keep = self.steps < u
            steps, idx = self._draw((self.block + 1) * BLOCK)
            self.steps = np.concatenate([self.steps[keep], steps])
            self.idx = np.concatenate([self.idx[keep], idx])


class BernoulliEncoder:
    """Rate coding: each input ``p`` in [0, 1] spikes with probability ``min(1, gain · p)`` per step.

    ``gain = 1`` is the CSDP reference code's encoder (a Bernoulli(p) draw every step).
    """

    def __init__(self, gain=1.0):
        self.gain = _checks.positive("gain", gain)

    def probabilities(self, X):
        return np.minimum(1.0, self.gain * X)

    def __call__(self, X, rng, out=None):
        """Spikes (0/1 floats, same shape as ``X``) for one step, drawn from ``rng``."""
        u = rng.random(X.shape)
        return np.less(u, self.probabilities(X), out=out).astype(np.float64, copy=False)


class PoissonEncoder(BernoulliEncoder):
    """Poisson rate coding: spike probability ``min(1, p · f_max · dt / 1000)`` per step.

    Parameters
    ----------
    f_max : float > 0
        Rate (Hz) of an input of intensity 1.
    dt : float > 0
        Step (ms).
    """

    def __init__(self, f_max, dt):
        self.f_max = _checks.positive("f_max", f_max, "Hz")
        self.dt = _checks.positive("dt", dt, "ms")
        super().__init__(self.f_max * self.dt / 1000.0)


def trial_spike_trains(rates, t_present, t_rest, dt, rng, coding="regular", max_rate=None):
    """Spike-source arguments for samples shown one per trial of ``t_rest + t_present`` ms.

    Trial ``j`` is a silent gap of ``t_rest`` ms, then ``t_present`` ms during which input
    ``i`` fires at ``rates[j, i]`` Hz.

    Parameters
    ----------
    rates : ndarray (n_samples, n_inputs)
        Rates (Hz), at most ``1000 / dt``.
    t_present, t_rest : float
        Presentation and gap (ms), multiples of ``dt``.
    dt : float
        Step (ms).
    rng : numpy Generator
        Source of the phases (regular) or spikes (Poisson).
    coding : {"regular", "poisson"}
        ``"regular"``: the k-th spike at ``(phase + k) / rate`` with a phase uniform in
        [0, 1) per sample and input; ``"poisson"``: a Bernoulli draw per step.
    max_rate : float or None
        Upper bound of ``rates`` (Hz) used to size the regular trains; default
        ``rates.max()``.

    Returns
    -------
    indices : ndarray of int64
        Input index of every spike.
    times : ndarray of float
        Spike times (ms) from the start of the first trial.
    """
    n_steps = int(round(t_present / dt))
    off = int(round(t_rest / dt))
    per = n_steps + off
    rates = np.asarray(rates, dtype=float)
    if max_rate is None:
        max_rate = float(rates.max()) if rates.size else 0.0
    idx, steps = [], []
    for lo in range(0, len(rates), 256):
        r = rates[lo:lo + 256]
        if coding == "poisson":
            fire = rng.random((len(r), n_steps, r.shape[1])) < r[:, None, :] * dt * 1e-3
            s, k, i = np.nonzero(fire)
        else:  # regular trains with a random phase: k-th spike at (phase + k) / rate
            period = np.where(r > 0, 1e3 / np.maximum(r, 1e-300), np.inf) / dt  # steps
            n_max = int(np.ceil(n_steps * max_rate * dt * 1e-3)) + 1
            t = (rng.random(r.shape)[:, :, None] + np.arange(n_max)) * period[:, :, None]
            s, i, _ = np.nonzero(t < n_steps)
            k = np.floor(t[t < n_steps]).astype(np.int64)
        steps.append((s + lo) * per + off + k)
        idx.append(i)
    idx = np.concatenate(idx).astype(np.int64) if idx else np.zeros(0, np.int64)
    steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
    return idx, steps * dt
