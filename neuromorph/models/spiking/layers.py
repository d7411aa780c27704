r"""Batched spiking layers shared by the layered spiking learners (CSDP, spiking PC, EqSpike).

Three small pieces, each stepping a whole mini-batch at once (arrays of shape
``(batch, neurons)``):

* :class:`LIFLayer` — LIF neurons (spec §3.1) with an optional exponential synaptic
  current, per-neuron base threshold (optional jitter), adaptive threshold and a
  spike trace; integrated by :func:`neuromorph.kernels.layers.lif_batch_step`, which
  reuses the engine's exact-integration coefficients and update
  (:mod:`neuromorph.kernels.lif`).
* :class:`BernoulliEncoder` / :class:`PoissonEncoder` — rate coding of inputs in
  [0, 1] into spikes (defined in :mod:`neuromorph.encoders`, re-exported here).
* :func:`make_optimizer` — the rate families' optimisers (:mod:`neuromorph.models.rate.optimizers`),
  with Adam's element-wise arithmetic fused into one numba kernel (:class:`FusedAdam`)
  because a per-step learner like CSDP runs it thousands of times per epoch.
* :class:`Dense` — a dense synapse matrix stored ``(pre, post)`` (row-vector batches:
  ``current = sign · R · s_pre @ W``) with bounds, an optional zero diagonal
  (lateral connections) and the helpers learning rules need.

Units: time in ms, voltages and currents in mV (normalised units are fine: the
reference CSDP model uses ``v_th = 0.055``), rates in Hz.
"""
from __future__ import annotations

import math

import numpy as np

from ... import _checks
from ...encoders import BernoulliEncoder, PoissonEncoder  # noqa: F401  (re-exported)
from ...kernels import layers as _k
from ...kernels.lif import coefficients
from ...kernels.optim import adam_increment
from ..rate.optimizers import Adam
from ..rate.optimizers import make_optimizer as _make_rate_optimizer


class LIFLayer:
    r"""A layer of ``n`` LIF neurons run on a batch of samples.

    Equations (spec §3.1; exact integration over a step of ``dt``)::

        tau_m dv/dt = -(v - v_rest) + I          I = I_in held over the step (tau_syn None)
        tau_syn dI/dt = -I + I_in δ-pulses      (tau_syn given: filtered current)
        v > v_th0_j + theta  ->  spike, v <- v_reset, refractory for t_ref
        theta <- theta exp(-dt/tau_theta), then + theta_plus at a spike    (adaptive threshold)
        x <- x exp(-dt/tau_trace) + s   (trace="exponential")  or  x <- 1 at a spike ("nearest")

    Parameters
    ----------
    n : int > 0
        Number of neurons.
    dt : float > 0
        Step (ms).
    tau_m : float > 0
        Membrane time constant (ms).
    tau_syn : float > 0 or None
        Synaptic-current time constant (ms); ``None`` holds the step's input current
        constant over the step (``v_inf = v_rest + I_in``).
    v_th : float
        Base threshold (mV); must exceed ``v_reset``.
    v_rest, v_reset : float
        Resting and reset potential (mV).
    t_ref : float >= 0
        Absolute refractory period (ms), a multiple of ``dt``.
    threshold_jitter : float >= 0
        Each neuron's base threshold is ``v_th + threshold_jitter · U(0, 1)`` (drawn once
        from ``rng``).
    theta_plus : float >= 0
        Adaptive-threshold increment per spike (mV); ``theta`` is per sample and neuron
        and starts at 0 with every :meth:`reset`.
    tau_theta : float > 0
        Decay time constant of ``theta`` (ms); ``math.inf`` for no decay.
    tau_trace : float > 0
        Trace time constant (ms).
    trace : {"exponential", "nearest"}
        Trace bump at a spike: ``+1`` or set to 1.
    rng : numpy Generator, optional
        Needed only for ``threshold_jitter > 0``.
    """

    def __init__(self, n, *, dt, tau_m, tau_syn=None, v_th=1.0, v_rest=0.0, v_reset=0.0,
                 t_ref=0.0, threshold_jitter=0.0, theta_plus=0.0, tau_theta=math.inf,
                 tau_trace=20.0, trace="exponential", rng=None):
        self.n = _checks.integer("n", n, minimum=1)
        self.dt = _checks.positive("dt", dt, "ms")
        self.tau_m = _checks.positive("tau_m", tau_m, "ms")
        self.tau_syn = None if tau_syn is None else _checks.positive("tau_syn", tau_syn, "ms")
        v_th = _checks.real("v_th", v_th)
        v_rest = _checks.real("v_rest", v_rest)
        v_reset = _checks.real("v_reset", v_reset)
        if v_th <= v_reset:
            raise ValueError(f"v_th must be > v_reset = {v_reset} mV, got {v_th}")
        n_ref = _checks.steps("t_ref", t_ref, self.dt)
        jitter = _checks.non_negative("threshold_jitter", threshold_jitter, "mV")
        self.theta_plus = _checks.non_negative("theta_plus", theta_plus, "mV")
        tau_theta = float(tau_theta)
        if not tau_theta > 0:
            raise ValueError(f"tau_theta must be > 0 ms (math.inf for no decay), got {tau_theta}")
        self.e_theta = 1.0 if math.isinf(tau_theta) else math.exp(-self.dt / tau_theta)
        self.tau_trace = _checks.positive("tau_trace", tau_trace, "ms")
        if trace not in ("exponential", "nearest"):
            raise ValueError(f"trace must be 'exponential' or 'nearest', got {trace!r}")
        self.nearest = trace == "nearest"
        self.e_trace = math.exp(-self.dt / self.tau_trace)
        tau_s = self.tau_m if self.tau_syn is None else self.tau_syn
        self.coef = coefficients(self.dt, self.tau_m, tau_s, tau_s, v_rest, v_reset, v_th, n_ref)
        self.v_th0 = np.full(self.n, v_th)
        if jitter > 0:
            if rng is None:
                raise ValueError("threshold_jitter > 0 needs an rng (numpy Generator)")
            self.v_th0 = self.v_th0 + jitter * rng.random(self.n)
        self.reset(1)

    def reset(self, batch_size):
        """Put ``batch_size`` fresh samples at rest: v = v_rest, currents, theta, traces 0."""
        batch_size = _checks.integer("batch_size", batch_size, minimum=1)
        shape = (batch_size, self.n)
        self.v = np.full(shape, self.coef[5])
        self.i_syn = np.zeros(shape)
        self.ref = np.zeros(shape, dtype=np.int32)
        self.theta = np.zeros(shape)
        self.s = np.zeros(shape)
        self.x = np.zeros(shape)

    def step(self, i_in):
        """Advance one step with input current ``i_in`` (B, n) mV; return this step's spikes.

        Updates ``v``, ``i_syn``, ``ref``, ``theta``, spikes ``s`` (0/1 floats) and
        trace ``x`` in place.
        """
        _k.lif_batch_step(self.coef, self.v, self.i_syn, self.ref, self.theta,
                          np.ascontiguousarray(i_in, dtype=np.float64), self.v_th0,
                          self.tau_syn is not None, self.theta_plus, self.e_theta, self.s)
        _k.trace_batch_step(self.x, self.s, self.e_trace, self.nearest)
        return self.s


class Dense:
    """Dense synapses ``pre -> post``, weights ``W`` of shape (n_pre, n_post).

    The current into the post layer is ``sign · resistance · (s_pre @ W)``.

    Parameters
    ----------
    W : ndarray (n_pre, n_post)
        Initial weights (copied).
    resistance : float > 0
        Membrane resistance R applied to the summed input.
    sign : {+1, -1}
        -1 for inhibitory synapses stored with non-negative weights.
    bounds : (float, float)
        Hard bounds applied by :meth:`clip`.
    zero_diagonal : bool
        Keep ``W[i, i] = 0`` (lateral connections of a layer onto itself).
    copy : bool
        ``False`` shares the memory of a float64 ``W`` (e.g. ``Dense(A.W.T, copy=False)``
        for tied feedback ``E = W^T`` in spiking PC or the symmetric weights of EqSpike).
    """

    def __init__(self, W, *, resistance=1.0, sign=1, bounds=(-np.inf, np.inf),
                 zero_diagonal=False, copy=True):
        self.W = np.array(W, dtype=np.float64) if copy else np.asarray(W, dtype=np.float64)
        if self.W.ndim != 2:
            raise ValueError(f"W must be 2-D (n_pre, n_post), got shape {self.W.shape}")
        self.resistance = _checks.positive("resistance", resistance)
        if sign not in (1, -1):
            raise ValueError(f"sign must be +1 or -1, got {sign!r}")
        self.sign = sign
        lo, hi = bounds
        if not lo < hi:
            raise ValueError(f"bounds must satisfy low < high, got {bounds}")
        self.bounds = (float(lo), float(hi))
        self.zero_diagonal = bool(zero_diagonal)
        if self.zero_diagonal and self.W.shape[0] != self.W.shape[1]:
            raise ValueError(f"zero_diagonal needs a square W, got shape {self.W.shape}")
        self.clip()

    @classmethod
    def uniform(cls, n_pre, n_post, rng, low=-1.0, high=1.0, **kwargs):
        """Weights drawn from U(low, high) with ``rng``."""
        return cls(rng.uniform(low, high, size=(n_pre, n_post)), **kwargs)

    @property
    def shape(self):
        return self.W.shape

    def current(self, s_pre):
        """Input current (mV) into the post layer for presynaptic activity ``s_pre`` (B, n_pre)."""
        return (self.sign * self.resistance) * (s_pre @ self.W)

    def clip(self):
        """Apply the bounds (and the zero diagonal) in place."""
        np.clip(self.W, self.bounds[0], self.bounds[1], out=self.W)
        if self.zero_diagonal:
            np.fill_diagonal(self.W, 0.0)


class FusedAdam(Adam):
    """:class:`~neuromorph.models.rate.optimizers.Adam` with its per-element update fused.

    Same state, same arithmetic (:func:`neuromorph.kernels.optim.adam_increment`); the
    increments returned by :meth:`step` are buffers reused at the next step.
    """

    def _init_state(self, p):
        state = super()._init_state(p)
        state["u"] = np.empty_like(p)
        return state

    def _increment(self, g, state):
        state["t"] += 1
        adam_increment(np.ascontiguousarray(g, dtype=np.float64), state["m"], state["v"],
                       self.learning_rate, self.beta1, self.beta2, self.eps, state["t"],
                       state["u"])
        return state["u"]


def make_optimizer(name, learning_rate, momentum=0.9):
    """``"adam"`` (:class:`FusedAdam`) or ``"sgd"`` (momentum SGD of the rate families)."""
    if name == "adam":
        return FusedAdam(learning_rate)
    return _make_rate_optimizer(name, learning_rate, momentum)


def check_unit_range(X, model="the model"):
    """Inputs coded as spike probabilities / rates: raise unless every value lies in [0, 1].

    ``model`` names the estimator in the message. Returns ``X``.
    """
    lo, hi = X.min(), X.max()
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"{model} encodes inputs as spike probabilities: X must lie in [0, 1], "
                         f"got values in [{lo:g}, {hi:g}] (scale the data first)")
    return X


def count_scores(counts, drive):
    """Class scores from a label layer: spike counts plus a tie-break in (−0.25, 0.25).

    ``counts`` (n, C) spikes over the window, ``drive`` (n, C) the summed input current
    of the label layer; the tie-break only orders classes with equal counts.
    """
    scale = np.abs(drive).max(axis=1, keepdims=True) + 1e-12
    return counts + 0.25 * drive / scale
