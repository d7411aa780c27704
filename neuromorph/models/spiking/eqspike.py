r"""EqSpike: equilibrium propagation on spiking neurons (spec §3.6, SEL:EB; rate form §4.19).

A layered network of LIF neurons with symmetric coupling: layer ℓ receives its lower
neighbour through W^ℓ and its upper neighbour through (W^{ℓ+1})^T, the *same* matrix
used the other way round (a transposed view: symmetry holds exactly, at every step).
The rate estimate of a neuron is its normalised spike trace

    ρ_i = x_i (1 − e^{−dt/τ_tr}) / (f_max dt)          (ρ ≈ 1 at f_max; x bumps +1 per spike)

which stands for the EqProp state ρ(u_i). Per step (all layers in parallel, rates of the
previous step; rows are samples, weights stored (pre, post))::

    I^ℓ = R (ρ^{ℓ−1} W^ℓ + ρ^{ℓ+1} (W^{ℓ+1})^T + b^ℓ)        ρ^0 = x (input clamped)
    output layer, nudged phase only:  I^L += R β (y − ρ^L)
    LIF step of every layer (spec §3.1), trace x^ℓ

Phases of one presentation: a free phase of ``n_free`` steps from rest (β = 0); the
reference rates ρ^{ℓ,0} are the traces averaged over its second half. Then a nudged phase
of ``n_nudge`` steps continuing from the free state; with ``nudging="symmetric"`` (the
default) a second nudged phase at −β restarts from the saved free state and the update
is the mean of the two (each divided by its signed β; Laborieux et al. 2021). With the
one-sided form (``"positive"``) the O(β) bias (a silent output cannot be nudged down, so
the estimate is systematically positive) drove every digits run we tried, Adam or SGD,
into saturation; ``"symmetric"`` cancels it, ``"random_sign"`` on average.

Defaults: dt = 1 ms, τ_m = 20 ms, τ_tr = 10 ms, t_ref = 4 ms, so a neuron fires at most
every 4 ms (250 Hz = ``f_max``, ρ = 1); R = 4 mV per unit of drive and thresholds at 1 mV
make ρ(drive) a concave ramp from drive ≈ 0.25 that saturates at 1, a spiking stand-in
for the hard sigmoid of rate EqProp.

Weight update, ``update="spike"`` (spike-triggered, local; spec §3.6)::

    at every presynaptic spike of j:   Δw_ji += (η/β) (ρ_i(t) − ρ_i^0)
    at every postsynaptic spike of i:  Δw_ji += (η/β) (ρ_j(t) − ρ_j^0)
    bias (a presynaptic unit that is always on):  Δb_i += (η/β) (ρ_i(t) − ρ_i^0) per step

Spikes count as ``s / (f_max dt)`` so that their time average is ρ; the sums are
averaged over the nudged phase and the batch. Summed over the phase this is
≈ (1/β) Δ(ρ_j ρ_i), the contrastive EqProp update (S1 Eq. 56/57) with its pre factor
sampled by spikes. Input units are clamped (ρ^0 = x in both phases), so only the
presynaptic-spike term acts on W^1. ``update="batch"`` is the reference mode: the
end-of-phase contrast

    ΔW^ℓ = (1/β) ((ρ^{ℓ−1,β})^T ρ^{ℓ,β} − (ρ^{ℓ−1,0})^T ρ^{ℓ,0}) / n,   Δb^ℓ = (1/β) mean(ρ^{ℓ,β} − ρ^{ℓ,0})

with ρ^{·,β} the traces averaged over the second half of the nudged phase. In both
modes the ascent direction is handed (negated) to the optimiser once per mini-batch;
W^ℓ is updated in place, so the top-down view (W^ℓ)^T changes with it.

Classification: arg-max of the output rates ρ^L averaged over the second half of the
free phase (ties, e.g. a silent output layer, broken by the output layer's mean drive).

References: Scellier & Bengio 2017 (equilibrium propagation); O'Connor, Gavves & Welling
2019 and Martin et al. 2021, iScience ("EqSpike") for spiking forms; Laborieux et al. 2021
(symmetric nudging); Bengio et al. 2017 (STDP as pre activity × change of post activity).
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ... import _checks
from ..rate.metadata import Family
from ..rate._validation import check_choice, check_layer_sizes
from .base import SpikingClassifier
from .layers import BernoulliEncoder, Dense, LIFLayer, check_unit_range, make_optimizer
from .training import MiniBatchEpochs

_FORMAT = "neuromorph.EqSpike/1"


class EqSpike(MiniBatchEpochs, SpikingClassifier, family=Family.SEL_EB, checklist="ep",
              algorithm="EqSpike (spiking equilibrium propagation)", spec_section="3.6"):
    r"""Spiking equilibrium propagation with symmetric weights (spec §3.6).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden LIF layers; the output layer has one LIF neuron per class.
    n_free : int >= 2
        Steps of the free phase (also used at prediction time).
    n_nudge : int >= 2
        Steps of the nudged phase.
    beta : float > 0
        Nudging strength β (output current per unit of rate error, in units of R).
    nudging : {"positive", "symmetric", "random_sign"}
        ``"symmetric"``: two nudged phases, at +β and −β, both started from the free
        state; the update is their mean (each divided by its signed β), which cancels
        the O(β) bias and the drift of not-quite-settled traces (Laborieux et al. 2021).
        ``"random_sign"`` draws the sign of β per mini-batch (the cancellation holds on
        average only).
    update : {"spike", "batch"}
        Spike-triggered local update, or the end-of-phase contrastive reference mode.
    dt : float > 0
        Step (ms).
    tau_m : float > 0
        Membrane time constant τ_m (ms).
    tau_trace : float > 0
        Trace time constant τ_tr (ms): the rate estimate's averaging time.
    v_th : float > 0
        Threshold (mV); rest and reset are 0 mV.
    t_ref : float >= 0
        Refractory period (ms), a multiple of ``dt``.
    f_max : float > 0
        Rate (Hz) that counts as ρ = 1 (also the input rate of a pixel of value 1 with
        ``input_encoding="bernoulli"``); at most ``1000 / dt``.
    resistance : float > 0
        R (mV per unit of drive): converts the rate-unit drive into the LIF input.
    input_encoding : {"rate", "bernoulli"}
        ``"rate"``: the input units are clamped at x (their presynaptic "spikes" are the
        expected spike counts x per step, deterministic); ``"bernoulli"``: each pixel
        fires with probability x · f_max · dt per step and drives layer 1 through its
        normalised trace.
    weight_scale : float > 0
        Initial weights ~ U(−a, a), a = weight_scale · sqrt(6 / (n_pre + n_post)).
    bias_init : float
        Initial bias of every LIF neuron (rate units).
    learning_rate : float > 0 or tuple of float
        Step size η; a tuple gives one per weight layer (input side first; spec §3.6:
        rates decreasing with depth). Biases use their layer's rate.
    optimizer : {"adam", "sgd"}
    momentum : float in [0, 1)
        Momentum of SGD.
    <mini-batch training parameters>
    random_state : int, numpy Generator or None
        Seed of the single generator (initialisation, batching, input spikes, β signs).

    Attributes
    ----------
    history_ : dict
        Per epoch: ``wall_s`` (s), ``validation_accuracy`` (with ``validation_fraction``),
        ``loss`` (mean ½‖ρ^{L,0} − y‖², ρ^{L,0} the output rates averaged over
        the second half of the free phase),
        ``accuracy`` (training accuracy of the free phase), ``rate_hidden`` (mean
        hidden rate in Hz, free phase), ``delta_rate`` (mean |ρ^β − ρ^0| of the output
        layer: how strongly the nudge acts).
    weights_ : dict of ndarray
        ``W1, ..., WL`` (pre, post) and ``b1, ..., bL``; the top-down pathways are
        transposed views of these, never separate arrays.
    """

    _params = dict(
        hidden_layer_sizes=(256,), n_free=50, n_nudge=30, beta=0.5, nudging="symmetric",
        update="spike", dt=1.0, tau_m=20.0, tau_trace=10.0, v_th=1.0, t_ref=4.0,
        f_max=250.0, resistance=4.0, input_encoding="rate", weight_scale=1.0, bias_init=0.3,
        learning_rate=2e-3, optimizer="adam", momentum=0.9, batch_size=20, max_iter=10,
        verbose=False, random_state=None)

    # ------------------------------------------------------------------ validation
    _batch_stats = ("loss", "hits", "rate_hidden", "delta_rate")

    def _check_params(self):
        self._sizes = check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)
        _checks.integer("n_free", self.n_free, minimum=2)
        _checks.integer("n_nudge", self.n_nudge, minimum=2)
        for name, unit in (("beta", ""), ("dt", "ms"), ("tau_m", "ms"), ("tau_trace", "ms"),
                           ("v_th", "mV"), ("f_max", "Hz"), ("resistance", "mV"),
                           ("weight_scale", "")):
            _checks.positive(name, getattr(self, name), unit)
        _checks.steps("t_ref", _checks.non_negative("t_ref", self.t_ref, "ms"), self.dt)
        if self.f_max * self.dt / 1000.0 > 1.0:
            raise ValueError(f"f_max must be <= 1000 / dt = {1000.0 / self.dt:g} Hz (at most one "
                             f"spike per step), got {self.f_max}")
        _checks.real("bias_init", self.bias_init)
        for name, allowed in (("nudging", ("positive", "symmetric", "random_sign")),
                              ("update", ("spike", "batch")),
                              ("input_encoding", ("rate", "bernoulli"))):
            check_choice(name, getattr(self, name), allowed)
        n_layers = len(self._sizes) + 1
        lr = self.learning_rate
        if isinstance(lr, (tuple, list)):
            if len(lr) != n_layers:
                raise ValueError(f"learning_rate must be a float or a tuple of {n_layers} floats "
                                 f"(one per weight layer), got {lr!r}")
            self._lrs = tuple(_checks.positive("learning_rate", v) for v in lr)
        else:
            self._lrs = (_checks.positive("learning_rate", lr),) * n_layers
        self._check_training_params()

    def _check_X(self, X):
        return check_unit_range(self._validated(X), "EqSpike")

    # ------------------------------------------------------------------ construction
    def _initialize(self, n_features, n_classes):
        rng = self._rng
        sizes = (n_features,) + self._sizes + (n_classes,)
        self._rho_step = self.f_max * self.dt / 1000.0  # spikes per step at ρ = 1
        self.layers_ = [LIFLayer(n, dt=self.dt, tau_m=self.tau_m, v_th=self.v_th,
                                 t_ref=self.t_ref, tau_trace=self.tau_trace)
                        for n in sizes[1:]]
        self._e_trace = math.exp(-self.dt / self.tau_trace)
        self._norm = (1.0 - self._e_trace) / self._rho_step
        R = float(self.resistance)
        # up_[l]: W^{l+1} (pre = layer l, post = layer l+1); down_[l]: the same memory, transposed
        self.up_ = []
        for n_pre, n_post in zip(sizes[:-1], sizes[1:]):
            a = self.weight_scale * math.sqrt(6.0 / (n_pre + n_post))
            self.up_.append(Dense.uniform(n_pre, n_post, rng, -a, a, resistance=R))
        self.down_ = [Dense(syn.W.T, copy=False, resistance=R) for syn in self.up_[1:]]
        self.b_ = [np.full(n, float(self.bias_init)) for n in sizes[1:]]
        self._opts = [make_optimizer(self.optimizer, lr, self.momentum) for lr in self._lrs]
        self._encoder = BernoulliEncoder(self._rho_step)
        self.eval_seed_ = self._new_eval_seed()

    @property
    def weights_(self):
        check_is_fitted(self, "up_")
        out = {f"W{l + 1}": syn.W for l, syn in enumerate(self.up_)}
        out.update({f"b{l + 1}": b for l, b in enumerate(self.b_)})
        return out

    def _params_list(self):
        return [syn.W for syn in self.up_] + self.b_

    # ------------------------------------------------------------------ dynamics
    def _reset(self, X):
        for layer in self.layers_:
            layer.reset(len(X))
        self._x_in = np.zeros_like(X)  # input trace (bernoulli encoding)

    def _input(self, X, rng):
        """Presynaptic activity of the input layer this step: (normalised spikes, rate)."""
        if self.input_encoding == "rate":
            return X, X
        s = self._encoder(X, rng)
        self._x_in *= self._e_trace
        self._x_in += s
        return s / self._rho_step, self._x_in * self._norm

    def _rates(self):
        return [layer.x * self._norm for layer in self.layers_]

    def _step(self, X, rng, beta=0.0, Y=None):
        """One step of every layer; returns the input's (spikes, rate) and the layers' rates."""
        s_in, r_in = self._input(X, rng)
        rs = [r_in] + self._rates()  # rates of the previous step
        L = len(self.layers_)
        R = float(self.resistance)
        for l, layer in enumerate(self.layers_):
            i_in = self.up_[l].current(rs[l]) + R * self.b_[l]
            if l + 1 < L:
                i_in += self.down_[l].current(rs[l + 2])
            elif beta != 0.0:
                i_in += (R * beta) * (Y - rs[L])
            layer.step(i_in)
        self._last_drive = i_in
        return s_in, r_in

    def _free_phase(self, X, rng):
        """Run the free phase from rest; returns the window-averaged rates [ρ^1..ρ^L] and drive."""
        self._reset(X)
        half = self.n_free // 2
        acc = [np.zeros((len(X), layer.n)) for layer in self.layers_]
        drive = np.zeros((len(X), self.layers_[-1].n))
        for t in range(self.n_free):
            self._step(X, rng)
            if t >= self.n_free - half:
                for a, r in zip(acc, self._rates()):
                    a += r
                drive += self._last_drive
        return [a / half for a in acc], drive / half

    def _nudged_phase(self, X, Y, rho0, beta, rng):
        """Continue with the nudge; returns (ascent directions W's then b's, mean output |Δρ|)."""
        n = len(X)
        L = len(self.layers_)
        spike_mode = self.update == "spike"
        gW = [np.zeros(syn.W.shape) for syn in self.up_]
        gb = [np.zeros(b.shape) for b in self.b_]
        half = self.n_nudge // 2
        acc = [np.zeros_like(r) for r in rho0]
        r0 = [X] + rho0
        for t in range(self.n_nudge):
            s_in, _ = self._step(X, rng, beta, Y)
            rs = self._rates()
            if spike_mode:
                ss = [s_in] + [layer.s / self._rho_step for layer in self.layers_]
                d = [None] + [r - r_ref for r, r_ref in zip(rs, rho0)]
                for l in range(L):
                    gW[l] += ss[l].T @ d[l + 1]              # presynaptic spike triggers
                    if l > 0:
                        gW[l] += d[l].T @ ss[l + 1]          # postsynaptic spike triggers
                    gb[l] += d[l + 1].sum(axis=0)
            if t >= self.n_nudge - half:
                for a, r in zip(acc, rs):
                    a += r
        rb = [X] + [a / half for a in acc]
        if spike_mode:
            scale = 1.0 / (beta * n * self.n_nudge)
            gW = [g * scale for g in gW]
            gb = [g * scale for g in gb]
        else:
            for l in range(L):
                gW[l] = (rb[l].T @ rb[l + 1] - r0[l].T @ r0[l + 1]) / (beta * n)
                gb[l] = (rb[l + 1] - r0[l + 1]).mean(axis=0) / beta
        return gW + gb, float(np.abs(rb[-1] - r0[-1]).mean())

    def update_directions(self, X, Y, rng=None):
        """Ascent directions of one EqSpike update on (X, Y) without applying them.

        Parameters
        ----------
        X : ndarray (n, n_features) in [0, 1]
        Y : ndarray (n, n_classes)
            Targets (one-hot) in rate units.
        rng : numpy Generator or None
            Input spikes (``"bernoulli"``); default: the model's own generator.

        Returns
        -------
        list of ndarray
            ΔW^1..ΔW^L (pre, post) then Δb^1..Δb^L (for ``"random_sign"`` nudging the
            positive sign of β).
        """
        check_is_fitted(self, "up_")
        rng = self._eval_rng() if rng is None else rng
        rho0, _ = self._free_phase(X, rng)
        if self.nudging == "random_sign":  # the expected direction: β > 0
            return self._nudged_phase(X, Y, rho0, float(self.beta), rng)[0]
        return self._contrast(X, Y, rho0, rng)[0]

    def _state(self):
        """Copy of every layer's dynamic state (to start a second nudged phase)."""
        keys = ("v", "i_syn", "ref", "theta", "s", "x")
        return ([{k: getattr(lay, k).copy() for k in keys} for lay in self.layers_],
                self._x_in.copy())

    def _restore(self, state):
        layers, x_in = state
        for lay, st in zip(self.layers_, layers):
            for k, a in st.items():
                getattr(lay, k)[...] = a
        self._x_in[...] = x_in

    def _contrast(self, X, Y, rho0, rng):
        """Ascent directions from the nudged phase(s) after a free phase; returns (grads, |Δρ|)."""
        beta = float(self.beta)
        if self.nudging == "random_sign" and rng.random() < 0.5:
            beta = -beta
        if self.nudging != "symmetric":
            return self._nudged_phase(X, Y, rho0, beta, rng)
        free = self._state()
        g_plus, dr = self._nudged_phase(X, Y, rho0, beta, rng)
        self._restore(free)
        g_minus, _ = self._nudged_phase(X, Y, rho0, -beta, rng)
        return [0.5 * (a + b) for a, b in zip(g_plus, g_minus)], dr

    def _train_batch(self, X, Y):
        rng = self._rng
        rho0, drive = self._free_phase(X, rng)
        grads, dr = self._contrast(X, Y, rho0, rng)
        L = len(self.up_)
        params = self._params_list()
        for l, opt in enumerate(self._opts):
            opt.step([params[l], params[L + l]], [-grads[l], -grads[L + l]])
        out = rho0[-1]
        loss = 0.5 * float(((out - Y) ** 2).sum(axis=1).mean())
        hits = int(np.sum(np.argmax(_scores(out, drive), axis=1) == np.argmax(Y, axis=1)))
        hidden = float(np.mean([r.mean() for r in rho0[:-1]])) * self.f_max
        return loss, hits, hidden, dr

    # ------------------------------------------------------------------ public API
    def _epoch_targets(self, y):
        return self._one_hot(y)

    def simulate(self, X, labels=None, record=False, rng=None):
        """Run a free phase (and, with ``labels``, a nudged phase) without learning.

        Parameters
        ----------
        X : (n, n_features) in [0, 1]
        labels : array of class labels or None
            If given, a nudged phase with β = ``beta`` towards these labels follows.
        record : bool
            Also return per-step spikes of every layer and output rates.
        <simulate rng>

        Returns
        -------
        dict with ``rates`` (list over layers of the free-phase window-averaged rates ρ^ℓ),
        ``scores`` (n, C) and, with ``record``, ``spikes`` (list over layers [input,
        hidden..., output] of (T, n, J) bool arrays) and ``output_rates`` (T, n, C).
        """
        check_is_fitted(self, "up_")
        X = self._check_X(X)
        rng = self._eval_rng() if rng is None else rng
        labels = self._simulation_labels(labels, len(X))
        n_steps = self.n_free + (0 if labels is None else self.n_nudge)
        Y = None if labels is None else self._one_hot(np.asarray(labels))
        self._reset(X)
        half = self.n_free // 2
        acc = [np.zeros((len(X), layer.n)) for layer in self.layers_]
        drive = np.zeros((len(X), self.layers_[-1].n))
        spikes, outs = [], []
        for t in range(n_steps):
            nudged = t >= self.n_free
            s_in, _ = self._step(X, rng, float(self.beta) if nudged else 0.0, Y)
            if self.n_free - half <= t < self.n_free:
                for a, r in zip(acc, self._rates()):
                    a += r
                drive += self._last_drive
            if record:
                spikes.append([s_in > 0] + [lay.s > 0 for lay in self.layers_])
                outs.append(self._rates()[-1])
        rates = [a / half for a in acc]
        out = {"rates": rates, "scores": _scores(rates[-1], drive / half)}
        if record:
            out["spikes"] = [np.stack(k) for k in zip(*spikes)]
            out["output_rates"] = np.stack(outs)
        return out

    def _scores(self, X, batch_size=500):
        """Free-phase output rates (+ a tie-break < 0.01 from the output drive)."""
        check_unit_range(X, "EqSpike")
        rng = self._eval_rng()
        parts = []
        for s in range(0, len(X), batch_size):
            rho0, drive = self._free_phase(X[s:s + batch_size], rng)
            parts.append(_scores(rho0[-1], drive))
        return np.vstack(parts)

    # ------------------------------------------------------------------ deployment
    def deploy_spec(self):
        """The inference network of ``nm.deploy``: EqSpike's free phase on the core
        (:func:`neuromorph.deploy.builders.eqspike_spec`)."""
        from ...deploy.builders import eqspike_spec
        return eqspike_spec(self)

    # ------------------------------------------------------------------ checkpoints
    _checkpoint_format = _FORMAT
    _fitted_attr = "up_"
    _tuple_params = ("hidden_layer_sizes", "learning_rate")


def _scores(rates, drive):
    """Output rates plus a tie-break below 0.01 from the mean output drive."""
    scale = np.abs(drive).max(axis=1, keepdims=True) + 1e-12
    return rates + 0.005 * drive / scale
