"""Neuromodulators: reward signals broadcast to R-STDP synapses (pure data + history).

A :class:`RewardSignal` collects rewards delivered from Python (between runs or in a
``run`` callback); the engine applies them at the next step. Two modes:

* **dopamine concentration** (``tau_dopamine`` in ms, Izhikevich 2007): each reward
  ``r`` raises ``d`` by ``r``; ``d`` decays with ``tau_dopamine``; R-STDP weights move
  as ``dw/dt = lr d(t) C(t)``;
* **phasic** (``tau_dopamine=None``): a reward ``r`` changes every weight at once by
  ``lr r C``.

With ``baseline_rate = alpha`` the signal is a reward-prediction error: a delivered
reward ``r`` counts as ``r - r_bar`` and the running mean is updated,
``r_bar <- r_bar + alpha (r - r_bar)`` (Fremaux & Gerstner 2016).
"""
from __future__ import annotations

import numpy as np

from . import _checks


class RewardSignal:
    """A scalar neuromodulator of one network (create it with ``net.reward_signal``).

    Attributes
    ----------
    tau_dopamine : float or None
        Decay time constant of the dopamine concentration (ms); None: phasic.
    baseline_rate : float or None
        Learning rate of the reward baseline (per reward), in (0, 1]; None: no baseline.
    r_bar : float
        Current reward baseline.
    history : list of (step, reward, delivered)
        Every reward: the step it arrived at, the raw reward and the amount delivered
        (after subtracting the baseline).
    """

    def __init__(self, net, name, tau_dopamine=200.0, baseline_rate=None):
        self._net = net
        self.name = name
        self.tau_dopamine = None if tau_dopamine is None else \
            _checks.positive("tau_dopamine", tau_dopamine, "ms")
        if baseline_rate is not None:
            baseline_rate = _checks.real("baseline_rate", baseline_rate)
            if not 0.0 < baseline_rate <= 1.0:
                raise ValueError(f"baseline_rate must be in (0, 1], got {baseline_rate}")
        self.baseline_rate = baseline_rate
        self.r_bar = 0.0
        self.history = []
        self._pending = 0.0      # delivered, not yet applied by the engine
        self._level = 0.0        # dopamine concentration at step _level_step
        self._level_step = 0

    def level_at(self, step):
        """Dopamine concentration at ``step`` as the engine sees it (0 for phasic)."""
        if self.phasic or self._level == 0.0:
            return 0.0
        return self._level * np.exp(-(step - self._level_step) * self._net.dt / self.tau_dopamine)

    @property
    def phasic(self):
        return self.tau_dopamine is None

    def deliver(self, reward):
        """Deliver ``reward`` (dimensionless) now, i.e. at the start of the next step."""
        r = _checks.real("reward", reward)
        amount = r - self.r_bar if self.baseline_rate is not None else r
        if self.baseline_rate is not None:
            self.r_bar += self.baseline_rate * (r - self.r_bar)
        self.history.append((self._net.step, r, amount))
        self._pending += amount
        return amount

    def level(self, t):
        """Dopamine concentration at times ``t`` (ms), from the reward history.

        For a phasic signal this is the sum of the rewards delivered exactly at ``t``.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros_like(t)
        dt = self._net.dt
        for step, _, amount in self.history:
            lag = t - step * dt
            if self.phasic:
                out += np.where(np.abs(lag) < 0.5 * dt, amount, 0.0)
            else:
                out += np.where(lag >= -1e-9, amount * np.exp(-np.maximum(lag, 0) / self.tau_dopamine),
                                0.0)
        return out

    def __repr__(self):
        mode = "phasic" if self.phasic else f"tau_dopamine={self.tau_dopamine} ms"
        return f"RewardSignal({self.name!r}, {mode})"
