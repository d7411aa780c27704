r"""A recurrent LIF network read row by row: what EProp and SurrogateBPTT share (spec §4.24).

One recurrent layer of ``n_hidden`` LIF neurons (the layered learners'
:class:`~.layers.LIFLayer`, i.e. the batched LIF kernel
:func:`neuromorph.kernels.layers.lif_batch_step`: exact integration, threshold
``v_th``, reset to 0, no refractory period) and a leaky, non-spiking readout. A
sample ``X[b]`` of ``n_steps * width`` features is a sequence of ``n_steps`` rows of
``width`` real values (digits: pixels scaled to [0, 1]; any finite value is a valid
input current, so scikit-learn's ``check_estimator`` applies); each row is held as an
input current for ``steps_per_row``
steps of ``dt`` (digits: 8 rows of 8 pixels, 10 steps each = 80 ms). Per step ``t``
(rows are samples, weights stored (pre, post))::

    I^t    = R (x^t W_in + z^{t-1} W_rec)                       (W_rec: zero diagonal)
    ṽ^t    = α v^{t-1} + (1 - α) I^t,      α = exp(-dt / τ_m)    (membrane before the reset)
    z^t    = H(ṽ^t - v_th),                v^t = ṽ^t (1 - z^t)  (the kernel's step)
    y^t    = κ y^{t-1} + z^t W_out + b,    κ = exp(-dt / τ_out)  (readout)
    E      = (1 / |𝒲|) Σ_{t∈𝒲} CE(softmax(y^t), y*)        (𝒲: the last ``readout_steps``)

Class scores are the readout averaged over 𝒲. The spike's derivative is replaced by the
pseudo-derivative (Bellec et al. 2020, Eq. 6 with their dampening factor γ)::

    ψ^t = (γ / v_th) max(0, 1 - |ṽ^t - v_th| / v_th)

and the reset does not enter the gradient (``∂ṽ^{t+1}/∂ṽ^t = α``; Bellec et al. treat the
reset term the same way), which is what lets e-prop's eligibility factorise. Both
learners compute the same two pieces from one recorded forward pass
(:func:`run_network`): the readout's output errors ``δy^t = (softmax(y^t) - y*) / |𝒲|``
and their κ-filtered sums ``ĝ^t = Σ_{t'≥t} κ^{t'-t} δy^{t'}`` (:func:`readout_errors`),
which give the readout gradients ``ΔW_out = Σ_t (z^t)^T ĝ^t`` — identical to e-prop's
online readout rule ``Σ_t F_κ(z)^t{}^T δy^t``. They differ only in how credit reaches
``W_in`` and ``W_rec`` (:meth:`RecurrentLIFClassifier._hidden_gradients`).

Units: time in ms, voltages in mV (normalised: ``v_th = 1``), rates in Hz.
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ... import _checks
from ..rate._validation import check_choice
from .base import SpikingClassifier
from .layers import Dense, LIFLayer, make_optimizer
from .training import MiniBatchEpochs


def pseudo_derivative(v, v_th, gamma):
    r"""Bellec et al.'s (2020) pseudo-derivative ψ = (γ / v_th) max(0, 1 − |v − v_th| / v_th).

    Parameters
    ----------
    v : ndarray
        Membrane potential before the reset (mV).
    v_th : float > 0
        Threshold (mV).
    gamma : float > 0
        Dampening factor γ (dimensionless).
    """
    return (gamma / v_th) * np.maximum(0.0, 1.0 - np.abs(v - v_th) / v_th)


def forward_filter(a, decay, gain=1.0):
    """``out^t = decay · out^{t−1} + gain · a^t`` along axis 0 (``out^{−1} = 0``)."""
    out = np.empty_like(a)
    acc = np.zeros_like(a[0])
    for t in range(len(a)):
        acc *= decay
        acc += gain * a[t]
        out[t] = acc
    return out


def reverse_filter(a, decay):
    """``out^t = a^t + decay · out^{t+1}`` along axis 0 (``out^T = 0``): the transpose of
    :func:`forward_filter`, ``Σ_t out^t b^t = Σ_t a^t F(b)^t``."""
    out = np.empty_like(a)
    acc = np.zeros_like(a[0])
    for t in range(len(a) - 1, -1, -1):
        acc *= decay
        acc += a[t]
        out[t] = acc
    return out


def softmax(y):
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Trajectory:
    """One recorded forward pass: ``x`` (T, B, width) input, ``z`` (T, B, n) spikes,
    ``v`` (T, B, n) membrane before the reset ṽ, ``y`` (T, B, C) readout; ``window`` is
    the slice of steps 𝒲 whose readout enters the loss and the scores."""

    def __init__(self, x, z, v, y, window):
        self.x, self.z, self.v, self.y, self.window = x, z, v, y, window

    @property
    def z_prev(self):
        """``z^{t−1}`` (zeros at t = 0): the recurrent layer's presynaptic activity."""
        out = np.zeros_like(self.z)
        out[1:] = self.z[:-1]
        return out

    def scores(self):
        return self.y[self.window].mean(axis=0)


def readout_errors(traj, Y, kappa):
    """``(loss, δy, ĝ)``: the mean cross-entropy over the window and batch, the output
    errors δy (T, B, C) of that mean, and their κ-filtered sums ĝ (see the module docstring)."""
    T, B = traj.y.shape[:2]
    w = traj.window
    p = softmax(traj.y[w])
    n_w = p.shape[0]
    loss = -float(np.sum(Y * np.log(np.clip(p, 1e-300, None)))) / (n_w * B)
    dy = np.zeros_like(traj.y)
    dy[w] = (p - Y) / (n_w * B)
    return loss, dy, reverse_filter(dy, kappa)


class RecurrentLIFClassifier(MiniBatchEpochs, SpikingClassifier):
    """Base class of :class:`~.eprop.EProp` and :class:`~.surrogate_bptt.SurrogateBPTT`:
    parameters, the recorded forward pass, readout, scores, training step and checkpoints.
    Subclasses implement :meth:`_hidden_gradients`."""

    _params = dict(
        n_hidden=128, n_steps=8, steps_per_row=10, readout_steps=10, dt=1.0, tau_m=10.0,
        tau_out=80.0, v_th=1.0, resistance=10.0, surrogate_scale=0.3, weight_scale=1.0,
        learning_rate=4e-3, optimizer="adam", momentum=0.9, batch_size=32, max_iter=20,
        validation_fraction=None, verbose=False, random_state=None)
    _batch_stats = ("loss", "hits", "rate_hidden")
    _tuple_params = ()
    _fitted_attr = "layer_"

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        _checks.integer("n_hidden", self.n_hidden, minimum=1)
        _checks.integer("n_steps", self.n_steps, minimum=1)
        _checks.integer("steps_per_row", self.steps_per_row, minimum=1)
        if self.readout_steps is not None:
            T = self.n_steps * self.steps_per_row
            _checks.integer("readout_steps", self.readout_steps, minimum=1)
            if self.readout_steps > T:
                raise ValueError(f"readout_steps must be None or an int in [1, n_steps * "
                                 f"steps_per_row = {T}], got {self.readout_steps}")
        for name, unit in (("dt", "ms"), ("tau_m", "ms"), ("tau_out", "ms"), ("v_th", "mV"),
                           ("resistance", "mV"), ("surrogate_scale", ""),
                           ("weight_scale", "")):
            _checks.positive(name, getattr(self, name), unit)
        _checks.positive("learning_rate", self.learning_rate)
        self._check_extra_params()
        self._check_training_params()

    def _check_extra_params(self):
        """Learner-specific checks (override)."""

    def _check_sequence_shape(self, X):
        """Raise unless X is 2-D with a multiple of ``n_steps`` features."""
        X = np.asarray(X)
        if X.ndim == 2 and X.shape[1] % self.n_steps:
            raise ValueError(
                f"{type(self).__name__} reads each row of X as a sequence of n_steps = "
                f"{self.n_steps} rows of equal width: X must have shape (n_samples, "
                f"n_steps * width), got {X.shape} ({X.shape[1]} features is not a multiple "
                f"of {self.n_steps})")

    def _start(self, X, y, classes):
        self._check_sequence_shape(X)
        return super()._start(X, y, classes)

    def _check_X(self, X):
        return self._validated(X)

    def _check_input_range(self, X):
        """Inputs are held currents ``R x W_in``: any finite value is valid (scikit-learn's
        ``validate_data`` rejects NaN and infinity); digits scaled to [0, 1] are the
        documented use."""
        return X

    # ------------------------------------------------------------------ construction
    def _initialize(self, n_features, n_classes):
        rng = self._rng
        n, width = self.n_hidden, n_features // self.n_steps
        self.width_ = width
        self.layer_ = LIFLayer(n, dt=self.dt, tau_m=self.tau_m, v_th=self.v_th, t_ref=0.0)
        self._alpha = math.exp(-self.dt / self.tau_m)
        self._kappa = math.exp(-self.dt / self.tau_out)
        R = float(self.resistance)

        def uniform(n_pre, n_post, **kw):
            a = self.weight_scale / math.sqrt(n_pre)
            return Dense.uniform(n_pre, n_post, rng, -a, a, **kw)

        self.in_ = uniform(width, n, resistance=R)
        self.rec_ = uniform(n, n, resistance=R, zero_diagonal=True)
        self.out_ = uniform(n, n_classes)
        self.b_out_ = np.zeros(n_classes)
        self._init_extra(n, n_classes)
        self._opt = make_optimizer(self.optimizer, self.learning_rate, self.momentum)
        self.eval_seed_ = self._new_eval_seed()

    def _init_extra(self, n_hidden, n_classes):
        """Learner-specific state drawn after the weights (override)."""

    @property
    def weights_(self):
        check_is_fitted(self, "layer_")
        return {"W_in": self.in_.W, "W_rec": self.rec_.W, "W_out": self.out_.W,
                "b_out": self.b_out_}

    # ------------------------------------------------------------------ dynamics
    @property
    def n_sim_steps(self):
        """Simulation steps per sample: ``n_steps * steps_per_row``."""
        return self.n_steps * self.steps_per_row

    def _window(self):
        T = self.n_sim_steps
        return slice(0 if self.readout_steps is None else T - self.readout_steps, T)

    def run_network(self, X):
        """Run the network on a batch and record it.

        Parameters
        ----------
        X : ndarray (B, n_steps * width), finite

        Returns
        -------
        Trajectory
        """
        B, T = len(X), self.n_sim_steps
        rows = X.reshape(B, self.n_steps, self.width_).transpose(1, 0, 2)
        x = np.repeat(rows, self.steps_per_row, axis=0)  # (T, B, width)
        n, C = self.n_hidden, len(self.b_out_)
        z, v, y = np.zeros((T, B, n)), np.zeros((T, B, n)), np.zeros((T, B, C))
        layer, a = self.layer_, self._alpha
        layer.reset(B)
        s_prev, y_prev = np.zeros((B, n)), np.zeros((B, C))
        for t in range(T):
            i_in = self.in_.current(x[t]) + self.rec_.current(s_prev)
            v[t] = i_in + (layer.v - i_in) * a  # ṽ^t: the kernel's integration, before reset
            s_prev = layer.step(i_in).copy()
            z[t] = s_prev
            y_prev = self._kappa * y_prev + self.out_.current(s_prev) + self.b_out_
            y[t] = y_prev
        return Trajectory(x, z, v, y, self._window())

    def pseudo_derivative(self, traj):
        """ψ^t (T, B, n) of a recorded pass."""
        return pseudo_derivative(traj.v, float(self.v_th), float(self.surrogate_scale))

    def gradients(self, X, Y):
        """Loss and descent directions of one update on (X, Y), without applying them.

        Parameters
        ----------
        X : ndarray (B, n_steps * width), finite
        Y : ndarray (B, n_classes)
            One-hot targets.

        Returns
        -------
        loss : float
            Mean cross-entropy over the readout window and the batch.
        grads : dict of ndarray
            ``W_in``, ``W_rec``, ``W_out``, ``b_out`` (the keys of ``weights_``).
        traj : Trajectory
        """
        check_is_fitted(self, "layer_")
        traj = self.run_network(X)
        loss, dy, g = readout_errors(traj, Y, self._kappa)
        n, C = self.n_hidden, g.shape[2]
        grads = {"W_out": traj.z.reshape(-1, n).T @ g.reshape(-1, C),
                 "b_out": g.sum(axis=(0, 1))}
        grads.update(self._hidden_gradients(traj, dy, g))
        np.fill_diagonal(grads["W_rec"], 0.0)
        return loss, grads, traj

    def _hidden_gradients(self, traj, dy, g):  # pragma: no cover - abstract
        """``{"W_in": ..., "W_rec": ...}`` from a pass, its output errors δy and ĝ."""
        raise NotImplementedError

    def _train_batch(self, X, Y):
        loss, grads, traj = self.gradients(X, Y)
        params = self.weights_
        keys = list(params)
        self._opt.step([params[k] for k in keys], [grads[k] for k in keys])
        self.rec_.clip()
        hits = int(np.sum(np.argmax(traj.scores(), axis=1) == np.argmax(Y, axis=1)))
        rate = float(traj.z.mean()) * 1000.0 / self.dt
        return loss, hits, rate

    def _epoch_targets(self, y):
        return self._one_hot(y)

    # ------------------------------------------------------------------ public API
    def simulate(self, X, labels=None, record=False):
        """Run the network without learning.

        Parameters
        ----------
        X : (n, n_steps * width), finite
        labels : array of class labels or None
            If given, ``loss`` (per-sample cross-entropy over the readout window) is added.
        record : bool
            Also return ``spikes`` (T, n, n_hidden) bool and ``readout`` (T, n, C).

        Returns
        -------
        dict with ``scores`` (n, C), ``rate_hidden`` (n,) mean hidden rate (Hz) and the
        entries above.
        """
        check_is_fitted(self, "layer_")
        X = self._check_X(X)
        labels = self._simulation_labels(labels, len(X))
        traj = self.run_network(X)
        out = {"scores": traj.scores(), "rate_hidden": traj.z.mean(axis=(0, 2)) * 1000.0 / self.dt}
        if labels is not None:
            p = softmax(traj.y[traj.window])
            Y = self._one_hot(labels)
            out["loss"] = -np.mean(np.log(np.clip((p * Y).sum(axis=2), 1e-300, None)), axis=0)
        if record:
            out["spikes"] = traj.z > 0
            out["readout"] = traj.y
        return out

    def _scores(self, X, batch_size=500):
        """Readout averaged over the readout window."""
        return np.vstack([self.run_network(X[s:s + batch_size]).scores()
                          for s in range(0, len(X), batch_size)])

    # ------------------------------------------------------------------ deployment
    def deploy_spec(self):
        r"""The inference network of ``nm.deploy``
        (:class:`~neuromorph.deploy.layered.LayeredSpec`).

        One LIF layer ``"hidden"`` (the learner's :class:`~.layers.LIFLayer`: rest and
        reset 0, no refractory period) with

        * the recurrent weights as an edge from the layer to itself, ``R W_rec`` (lag 1:
          the previous step's spikes; zero diagonal);
        * the input as held currents ``R x_r W_in``, one per row ``r`` of the sample, each
          held for ``steps_per_row`` steps (``n_steps`` segments of the window of
          ``n_steps * steps_per_row`` steps). No input spikes.

        The readout is not a spiking layer: the leaky readout
        ``y^t = κ y^{t−1} + z^t W_out + b`` and its mean over the last ``readout_steps``
        steps (the class scores of ``predict``) are computed on the host from the
        recorded hidden spikes, with the learner's arithmetic. Energy estimates
        therefore count the hidden layer only (not the readout's ``n_hidden x
        n_classes`` weights).

        Backends: ``"neuromorph"`` reproduces the learner's hidden spikes bit for bit
        (tests/test_deploy_eprop.py); ``"loihi"`` makes each row's held current a
        per-neuron Loihi bias (:mod:`neuromorph.deploy.quantize`, one step current per
        row and sample) and each recurrent weight two 8-bit synapses (a coarse one with
        a weight exponent and the residual: ``Edge.fine``; 8-bit recurrent weights
        alone changed ~6 % of the answers and cost up to 2.8 points over 5 seeds); ``"lava"`` runs that schedule
        with the biases set between ``RunSteps`` segments (spikes equal ``"loihi"``'s).
        NIR (``dep.to_nir``): a held ``Input`` of the row values (``current_weights``:
        an ``Affine`` ``R W_in`` into the layer, one row per ``steps_per_row`` steps when
        read back) and the recurrent ``Linear`` from the layer to itself.
        """
        from ...deploy.builders import _hidden_layer
        from ...deploy.layered import Edge, LayeredSpec

        check_is_fitted(self, "layer_")
        T, width = self.n_sim_steps, self.width_
        hidden = _hidden_layer(self, "hidden", self.layer_)
        edges = [Edge("hidden", "hidden", self.rec_.sign * self.rec_.resistance * self.rec_.W,
                      lag=1, fine=True)]
        window = self._window()

        def currents(X):
            rows = X.reshape(len(X), self.n_steps, width)
            return {"hidden": self.in_.current(rows)}   # (n, n_steps, n_hidden)

        def readout(X, rec):
            s = rec["hidden"].astype(np.float64)          # (n, T, n_hidden)
            y_prev = np.zeros((len(X), len(self.b_out_)))
            y = np.zeros((T,) + y_prev.shape)
            for t in range(T):                            # run_network's arithmetic
                y_prev = self._kappa * y_prev + self.out_.current(s[:, t]) + self.b_out_
                y[t] = y_prev
            return y[window].mean(axis=0)

        W_in = self.in_.sign * self.in_.resistance * self.in_.W  # current = row @ W_in
        return LayeredSpec(dt=float(self.dt), n_steps=T, n_inputs=width, layers=[hidden],
                           edges=edges, readout=readout, input_currents=currents,
                           current_weights={"hidden": (W_in, np.zeros(self.n_hidden))})

    def _choice(self, name, allowed):
        check_choice(name, getattr(self, name), allowed)
