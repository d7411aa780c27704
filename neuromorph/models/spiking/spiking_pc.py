r"""Spiking predictive coding (spec §3.5, SEL:DR; after Ororbia's SpNCN and Whittington & Bogacz).

A hierarchy of levels ``k = 0..K`` in the generative (top-down) orientation: level
``k+1`` predicts the activity of level ``k``. Hidden levels are LIF *state units*
(state current ``j``, membrane ``v``, spikes ``s``, trace ``x``); every predicted level
has real-valued *error units* ``e``; errors travel up through separate *error
synapses* ``E`` (or ``E = W^T``). Per step of ``dt`` ms (row-vector batches, synapses
stored ``(pre, post)``, ``g = dt/τ_j``)::

    prediction:   z̃^k ← z̃^k + g (a^{k+1} W^{k+1} − z̃^k)  a: presynaptic spikes (or traces)
    errors:       e^k = j^k − z̃^k                 hidden level ("current" value node, default)
                  e^k = x^k − z̃^k                 (state_variable="trace": spec's literal form)
                  e^0 = π (target − z̃^0)          leaf: label y (supervised, training), the
                                                   filtered input spikes / gain (unsupervised);
                                                   e^0 = 0 at test time (supervised)
                  e^K = 0                          top: clamped input, or no prior
    state input:  I^k = −e^k + β_fb e^{k−1} E^k    (E^k = (W^k)^T when tied)
    state unit:   j ← j + g (I − κ_j j)            (τ_j dj/dt = −κ_j j + I, forward Euler)
                  τ_m dv/dt = −(v − v_rest) + R_m j, spike at v > v_th, reset, refractory
                  t_ref (exact integration over the step with j held, §3.1)
    trace:        x ← x e^{−dt/τ_tr} + s

Two-factor plasticity (ascent), averaged over the rows and the steps after ``burn_in``,
then one optimiser step (Adam or SGD) per mini-batch::

    ΔW^{k+1} = (a^{k+1})^T e^k          ΔE^{k+1} = β_E (ΔW^{k+1})^T   (untied E only)
    optional: every row of W (and E) renormalised to L2 norm <= max_norm

Two choices differ from the literal equations of §3.5, both to make the expected update
of a network without label error vanish, so the rule does not drift:

* the prediction reaches the error unit through a synapse with the state current's time
  constant τ_j (``z̃``), and the error is computed before this step's spikes arrive.
  With the raw per-step prediction ``a W`` the error contains ``−a_t W``, whose
  correlation with the presynaptic factor ``a_t`` acts as a weight decay
  ``−diag(Var a) W``; in development runs it silenced the hidden layer (rates < 1 Hz)
  within a few epochs;
* the value node compared with the prediction is the state current ``j`` (κ_j = 0: ``j``
  relaxes to ``z̃ + β_fb e E``, so the hidden error is the filtered error message, as
  in rate PC where ε^ℓ equals the feedback at equilibrium). The literal trace form is
  kept as ``state_variable="trace"``: the trace of a firing LIF unit never equals its
  prediction, the error keeps a threshold-dependent offset, and digits accuracy is
  lower (seed 0, 12 epochs: 86–88 % against 92.5 %).

Two layouts of the same hierarchy:

* ``mode="supervised"`` (discriminative PC, Whittington & Bogacz 2017; S1's bottom-up
  depiction with indices reversed): the input spikes are the clamped top level, the
  hidden layers sit below it and the *label level* is the leaf, clamped to the one-hot
  target during training and free at test time. This is the spiking counterpart of
  :class:`neuromorph.models.rate.PredictiveCoding` with the same weights (the oracle
  test compares the two updates).
* ``mode="unsupervised"`` (generative PC, SpNCN): the filtered input spikes are the
  clamped leaf (reconstruction), hidden levels above infer their causes, the top level
  has no prior. A label readout ``z̃^y`` from the spikes of level 1 (delta rule
  ``ΔW^y = (a^1)^T (y − z̃^y)``, no feedback into the network) gives a classifier.

Classification: a LIF label layer driven by the current ``R_y z̃^y`` counts spikes over
the window; ties are broken by the summed drive (:func:`.layers.count_scores`).
"""
from __future__ import annotations

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ... import _checks
from ..rate.metadata import Family
from ..rate._validation import check_choice, check_layer_sizes
from .base import SpikingClassifier
from .layers import (Dense, LIFLayer, PoissonEncoder, check_unit_range, count_scores,
                     make_optimizer)
from .training import MiniBatchEpochs

_FORMAT = "neuromorph.SpikingPC/1"


class SpikingPC(MiniBatchEpochs, SpikingClassifier, family=Family.SEL_DR, checklist="pc",
                algorithm="Spiking predictive coding", spec_section="3.5"):
    r"""Spiking predictive-coding network trained by local two-factor rules (spec §3.5).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden LIF levels, listed from the input side.
    mode : {"supervised", "unsupervised"}
        ``"supervised"``: discriminative layout, label level clamped to the target
        during training. ``"unsupervised"``: generative layout, the input is
        reconstructed; a label readout on level 1 learns without feeding back.
    n_steps : int > 0
        Steps per stimulus window T (window ``n_steps · dt`` ms).
    burn_in : float >= 0
        Time (ms) at the start of each window without plasticity (currents and
        predictions settle); must be shorter than the window.
    dt : float > 0
        Step (ms).
    tau_m : float > 0
        Membrane time constant τ_m (ms).
    tau_j : float > 0
        Time constant τ_j of the state current j (ms).
    kappa_j : float >= 0
        Leak gain κ_j of the state current (τ_j dj/dt = −κ_j j + I); 0 (default) makes
        the current track prediction + error message without offset.
    state_variable : {"current", "trace"}
        What the hidden error units compare with the prediction: the state current j
        (default) or the spike trace x (spec's literal form).
    v_th : float > 0
        Spike threshold (mV, normalised units; v_rest = v_reset = 0, R_m = 1).
    t_ref : float >= 0
        Refractory period (ms), a multiple of ``dt``.
    tau_trace : float > 0
        Trace time constant τ_tr (ms).
    f_max : float > 0
        Poisson rate (Hz) of an input of intensity 1.
    presynaptic : {"spikes", "trace"}
        Presynaptic activity a of the predictions and of the weight rule: this step's
        spikes (spec, default) or the traces.
    tied_feedback : bool
        ``True``: error synapses E^k = (W^k)^T (shared memory, weight transport);
        ``False``: separate E^k, initialised independently and trained by ΔE = β_E ΔW^T.
    feedback_gating : {"none", "threshold"}
        ``"none"`` (spec): the error message E e enters every state unit.
        ``"threshold"``: only units whose current exceeds ``v_th`` receive it, a
        surrogate of rate PC's φ'(x) factor (silent units neither move nor learn).
    feedback_scale : float > 0
        β_fb, gain of the error messages E e entering the state units.
    error_learning_rate : float >= 0
        β_E of the ΔE rule (untied E only).
    label_precision : float > 0
        π, precision of the leaf error (supervised: label; unsupervised: input).
    readout_resistance : float > 0
        R_y: the label LIF layer is driven by the current ``R_y z̃^y`` (mV) and counts
        spikes (target 1 for the true class).
    max_norm : float > 0 or None
        Renormalise every row of W and E to at most this L2 norm after each update
        (reimplementations of SpNCN use 20); ``None``: off.
    weight_scale : float > 0
        Initial weights N(0, weight_scale² / n_pre); the supervised label predictor
        starts at 0 (so the tied error synapses start silent).
    learning_rate : float > 0
        η of the optimiser (applied to the window-averaged directions).
    optimizer : {"adam", "sgd"}
    momentum : float in [0, 1)
        Momentum of SGD.
    <mini-batch training parameters>
    random_state : int, numpy Generator or None
        Seed of the single generator (initialisation, spike encoding, batching).

    Attributes
    ----------
    history_ : dict
        Per epoch: ``wall_s`` (s), ``validation_accuracy`` (with ``validation_fraction``),
        ``loss`` (mean squared leaf error per unit over the learning
        steps), ``accuracy`` (training accuracy of the label counts during the
        training windows; supervised mode counts with the label clamped, so it is the
        readout's accuracy on nudged states), ``hidden_error`` (mean squared hidden
        error), ``rate`` (mean hidden firing rate, Hz).
    eval_seed_ : int
        Seed of the input spikes of inference windows (``predict``, ``score``,
        ``simulate``): predictions are reproducible and do not consume the training
        generator, so evaluating between epochs leaves training unchanged.
    weights_ : dict of ndarray
        ``W1..WK`` (W^k predicts level k−1 from level k, stored (pre, post)), ``E1..``
        (untied only), ``Wy`` (unsupervised readout).
    """

    _params = dict(
        hidden_layer_sizes=(256,), mode="supervised", n_steps=80, burn_in=30.0, dt=1.0,
        tau_m=20.0, tau_j=10.0, kappa_j=0.0, v_th=0.4, t_ref=1.0, tau_trace=30.0,
        f_max=300.0, state_variable="current", presynaptic="spikes", tied_feedback=True,
        feedback_gating="none", feedback_scale=0.3, error_learning_rate=1.0,
        label_precision=1.0, readout_resistance=2.0, max_norm=None, weight_scale=8.0,
        learning_rate=1.5e-3, optimizer="adam", momentum=0.9, batch_size=20, max_iter=20,
        verbose=False, random_state=None)

    # ------------------------------------------------------------------ validation
    _batch_stats = ("loss", "hidden_error", "hits", "rate")

    def _check_params(self):
        self._sizes = check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)
        for name, allowed in (("mode", ("supervised", "unsupervised")),
                              ("state_variable", ("current", "trace")),
                              ("feedback_gating", ("none", "threshold")),
                              ("presynaptic", ("spikes", "trace"))):
            check_choice(name, getattr(self, name), allowed)
        _checks.integer("n_steps", self.n_steps, minimum=1)
        for name, unit in (("dt", "ms"), ("tau_m", "ms"), ("tau_j", "ms"), ("tau_trace", "ms"),
                           ("v_th", "mV"), ("f_max", "Hz"),
                           ("feedback_scale", ""), ("label_precision", ""),
                           ("weight_scale", ""), ("learning_rate", ""),
                           ("readout_resistance", "")):
            _checks.positive(name, getattr(self, name), unit)
        _checks.non_negative("t_ref", self.t_ref, "ms")
        _checks.non_negative("kappa_j", self.kappa_j)
        _checks.non_negative("error_learning_rate", self.error_learning_rate)
        burn = _checks.non_negative("burn_in", self.burn_in, "ms")
        window = self.n_steps * self.dt
        if burn >= window:
            raise ValueError(f"burn_in must be < the window n_steps · dt = {window:g} ms, "
                             f"got {burn:g} ms")
        self._n_burn = int(_checks.steps("burn_in", burn, self.dt))
        if self.dt * (1.0 + self.kappa_j) > self.tau_j:
            raise ValueError(f"dt must be <= tau_j / (1 + kappa_j) = "
                             f"{self.tau_j / (1.0 + self.kappa_j):g} ms for the forward-Euler "
                             f"state current, got dt = {self.dt:g} ms")
        if self.max_norm is not None:
            _checks.positive("max_norm", self.max_norm)
        if not isinstance(self.tied_feedback, (bool, np.bool_)):
            raise TypeError(f"tied_feedback must be True or False, got {self.tied_feedback!r}")
        self._check_training_params()

    def _check_X(self, X):
        return check_unit_range(self._validated(X), "SpikingPC")

    # ------------------------------------------------------------------ construction
    def _level_sizes(self, n_features, n_classes):
        """Widths of levels 0..K in generative order."""
        if self.mode == "supervised":
            return (n_classes,) + self._sizes[::-1] + (n_features,)
        return (n_features,) + self._sizes

    def _initialize(self, n_features, n_classes):
        rng = self._rng
        sizes = self._level_sizes(n_features, n_classes)
        self.level_sizes_ = sizes
        K = len(sizes) - 1
        lif = dict(dt=self.dt, tau_m=self.tau_m, v_th=self.v_th, t_ref=self.t_ref,
                   tau_trace=self.tau_trace)
        self.layers_ = [LIFLayer(sizes[k], **lif) for k in range(1, len(self._sizes) + 1)]
        self.label_layer_ = LIFLayer(n_classes, dt=self.dt, tau_m=self.tau_m, v_th=self.v_th,
                                     tau_trace=self.tau_trace)
        self._encoder = PoissonEncoder(self.f_max, self.dt)
        # W[k] predicts level k from level k+1: shape (sizes[k+1], sizes[k]); index 0 = W^1
        # W^k ~ N(0, weight_scale² / n_pre); the label predictor (supervised W^1) starts at 0
        self.W_ = [Dense(np.zeros((sizes[1], sizes[0])) if (k == 0 and self.mode == "supervised")
                         else rng.normal(0.0, self.weight_scale / math.sqrt(sizes[k + 1]),
                                         size=(sizes[k + 1], sizes[k])))
                   for k in range(K)]
        if self.tied_feedback:
            self.E_ = [Dense(w.W.T, copy=False) for w in self.W_]
        else:
            self.E_ = [Dense(rng.normal(0.0, self.weight_scale / math.sqrt(sizes[k]),
                                        size=(sizes[k], sizes[k + 1])))
                       for k, _ in enumerate(self.W_)]
        self.Wy_ = (Dense(np.zeros((sizes[1], n_classes))) if self.mode == "unsupervised"
                    else None)
        self._opt = make_optimizer(self.optimizer, self.learning_rate, self.momentum)
        # inference draws its input spikes from its own stream: predictions are
        # reproducible and never perturb the training stream
        self.eval_seed_ = int(rng.integers(2**63))

    @property
    def weights_(self):
        check_is_fitted(self, "W_")
        out = {f"W{k + 1}": w.W for k, w in enumerate(self.W_)}
        if not self.tied_feedback:
            out.update({f"E{k + 1}": e.W for k, e in enumerate(self.E_)})
        if self.Wy_ is not None:
            out["Wy"] = self.Wy_.W
        return out

    # ------------------------------------------------------------------ dynamics
    def _window(self, X, Y=None, learn=False, rng=None, record=False):
        """Run one stimulus window on a batch.

        ``Y`` (one-hot) clamps the label leaf (supervised) or trains the readout
        (unsupervised); ``None`` runs inference. With ``learn`` the accumulated
        two-factor directions are returned (ascent, averaged over rows and learning
        steps) under ``"dW"`` and ``"dWy"``.
        """
        rng = self._rng if rng is None else rng
        n = len(X)
        sup = self.mode == "supervised"
        K = len(self.level_sizes_) - 1
        C = len(self.classes_)
        for layer in self.layers_:
            layer.reset(n)
        js = [np.zeros((n, layer.n)) for layer in self.layers_]
        # predictions as they reach the error units: filtered with τ_j like the state current
        zts = [np.zeros((n, m)) for m in self.level_sizes_[:-1]]
        x_tgt = np.zeros_like(X)  # filtered input spikes / gain (unsupervised leaf target)
        inv_gain = 1.0 / self._encoder.gain
        y_filt = np.zeros((n, C))  # filtered readout prediction (unsupervised)
        on_current = self.state_variable == "current"
        kappa = float(self.kappa_j)
        gate = self.feedback_gating == "threshold"
        zy = self.label_layer_
        zy.reset(n)
        gain_j = self.dt / self.tau_j
        fb = float(self.feedback_scale)
        pi = float(self.label_precision)
        r_y = float(self.readout_resistance)
        decay = math.exp(-self.dt / self.tau_trace)
        x_in = np.zeros_like(X)  # input trace
        use_trace = self.presynaptic == "trace"
        n_learn = 0
        dW = [np.zeros_like(w.W) for w in self.W_] if learn else None
        dWy = np.zeros_like(self.Wy_.W) if (learn and self.Wy_ is not None) else None
        counts, drive = np.zeros((n, C)), np.zeros((n, C))
        leaf_sq, hid_sq, n_spk = 0.0, 0.0, 0.0
        leaf_pred = 0.0
        recon = np.zeros_like(X) if not sup else None
        rec = [] if record else None
        for t in range(self.n_steps):
            s_in = self._encoder(X, rng)
            x_in *= decay
            x_in += s_in
            # presynaptic activity of every level (generative order); hidden: previous step
            acts = [None] * (K + 1)
            for i, layer in enumerate(self.layers_):
                acts[i + 1] = layer.x if use_trace else layer.s
            if sup:
                acts[K] = x_in if use_trace else s_in
            else:
                acts[0] = x_in if use_trace else s_in
            # errors of levels 0..K−1 against the filtered predictions z̃ (up to the last step)
            errs = []
            for k in range(K):
                zbar = zts[k]
                if k == 0:
                    if sup:
                        e = pi * (Y - zbar) if Y is not None else np.zeros_like(zbar)
                        y_drive = zbar
                    else:
                        e = pi * (x_tgt - zbar)
                        if recon is not None and t >= self._n_burn:
                            recon += zbar
                else:
                    e = (js[k - 1] if on_current else self.layers_[k - 1].x) - zbar
                errs.append(e)
            learning = learn and t >= self._n_burn
            if learning:
                n_learn += 1
                for k in range(K):
                    dW[k] += acts[k + 1].T @ errs[k]
                leaf_sq += float(np.mean(errs[0] ** 2))
                leaf_pred += zts[0]
                if K > 1:
                    hid_sq += float(np.mean([np.mean(e ** 2) for e in errs[1:]]))
            # this step's predictions reach the error units through a τ_j synapse
            for k in range(K):
                zts[k] += gain_j * (acts[k + 1] @ self.W_[k].W - zts[k])
            if not sup:
                x_tgt += gain_j * (s_in * inv_gain - x_tgt)
            # state input and LIF step of every hidden level (k = 1..L)
            for i, layer in enumerate(self.layers_):
                k = i + 1
                I = fb * (errs[k - 1] @ self.E_[k - 1].W)
                if gate:  # surrogate φ'(j): error messages reach only units above threshold
                    I *= js[i] > self.v_th
                if k < K:
                    I -= errs[k]
                j = js[i]
                j += gain_j * (I - kappa * j)
                layer.step(j)
                n_spk += float(layer.s.mean())
            # label readout
            if not sup:
                a1 = self.layers_[0].x if use_trace else self.layers_[0].s
                y_drive = y_filt
                y_drive += gain_j * (a1 @ self.Wy_.W - y_drive)
                if learning and Y is not None:
                    dWy += a1.T @ (Y - y_drive)
            counts += zy.step(r_y * y_drive)
            drive += y_drive
            if record:
                rec.append([s_in > 0] + [lay.s > 0 for lay in self.layers_] + [zy.s > 0])
        out = {"counts": counts, "drive": drive,
               "rate": 1000.0 * n_spk / (self.n_steps * len(self.layers_) * self.dt)}
        if learn:
            scale = 1.0 / (max(n_learn, 1) * n)
            out["dW"] = [d * scale for d in dW]
            out["dWy"] = None if dWy is None else dWy * scale
            out["leaf_sq"] = leaf_sq / max(n_learn, 1)
            out["hidden_sq"] = hid_sq / max(n_learn, 1)
            out["leaf_prediction"] = leaf_pred / max(n_learn, 1)
        if recon is not None:
            out["reconstruction"] = recon / max(self.n_steps - self._n_burn, 1)
        if record:
            out["spikes"] = [np.stack(k) for k in zip(*rec)]
        return out

    def _apply(self, dW, dWy):
        params = [w.W for w in self.W_]
        grads = [-d for d in dW]  # the optimiser descends
        if not self.tied_feedback and self.error_learning_rate > 0:
            params += [e.W for e in self.E_]
            grads += [-self.error_learning_rate * d.T for d in dW]
        if dWy is not None:
            params.append(self.Wy_.W)
            grads.append(-dWy)
        self._opt.step(params, grads)
        if self.max_norm is not None:
            mats = [w.W for w in self.W_] + ([] if self.tied_feedback else [e.W for e in self.E_])
            for M in mats:
                norms = np.sqrt((M ** 2).sum(axis=1, keepdims=True))
                M *= np.minimum(1.0, self.max_norm / np.maximum(norms, 1e-12))

    def update_directions(self, X, Y, rng=None):
        """Window-averaged two-factor directions (ascent) for a batch, without learning.

        Parameters
        ----------
        X : ndarray (n, n_features) in [0, 1]
        Y : ndarray (n, C) or None
            Target of the label leaf (supervised; any real values, e.g. a one-hot
            label or the free prediction plus a small perturbation) or of the readout
            (unsupervised); ``None``: free window (no label error).
        rng : numpy Generator or None
            Generator of the input spikes (pass equal seeds to compare targets).

        Returns
        -------
        dict
            ``"W1".."WK"`` (and ``"Wy"``): ΔW averaged over rows and learning steps,
            same shapes as :attr:`weights_`; ``"leaf_prediction"``: the label-leaf
            prediction z̃^0 (n, C) averaged over the learning steps.
        """
        check_is_fitted(self, "W_")
        r = self._window(X, Y, learn=True, rng=rng)
        out = {f"W{k + 1}": d for k, d in enumerate(r["dW"])}
        if r["dWy"] is not None:
            out["Wy"] = r["dWy"]
        out["leaf_prediction"] = r["leaf_prediction"]
        return out

    def _train_batch(self, X, yidx):
        Y = np.eye(len(self.classes_))[yidx]
        r = self._window(X, Y, learn=True)
        self._apply(r["dW"], r["dWy"])
        hits = int(np.sum(np.argmax(count_scores(r["counts"], r["drive"]), axis=1) == yidx))
        return r["leaf_sq"], r["hidden_sq"], hits, r["rate"]

    # ------------------------------------------------------------------ public API
    def simulate(self, X, labels=None, record=False, rng=None):
        """Run one window without learning.

        Parameters
        ----------
        X : (n, n_features) in [0, 1]
        labels : array of class labels or None
            Supervised mode: clamp the label leaf to these labels (a nudged window);
            ``None``: free inference (``e^y = 0``).
        record : bool
            Also return per-step spikes of [input, hidden levels (generative order),
            label layer] as (T, n, J) bool arrays under ``"spikes"``.
        rng : numpy Generator or None
            Generator of the input spikes; default: a fresh generator seeded with
            ``eval_seed_`` (the stream ``predict`` uses, so results are reproducible).

        Returns
        -------
        dict with ``counts`` (n, C) label-layer spike counts, ``drive`` (n, C) summed
        label prediction, ``rate`` (mean hidden rate, Hz) and, unsupervised, the
        ``reconstruction`` (n, n_features) in input units.
        """
        check_is_fitted(self, "W_")
        X = self._check_X(X)
        Y = None
        labels = self._simulation_labels(labels, len(X))
        if labels is not None and self.mode == "supervised":
            Y = np.eye(len(self.classes_))[np.searchsorted(self.classes_, labels)]
        return self._window(X, Y, rng=self._eval_rng() if rng is None else rng, record=record)

    def _scores(self, X, batch_size=500):
        """Label-layer spike counts over the window (+ a tie-break < 1 from the drive)."""
        check_unit_range(X, "SpikingPC")
        parts = []
        rng = self._eval_rng()
        for s in range(0, len(X), batch_size):
            r = self._window(X[s:s + batch_size], rng=rng)
            parts.append(count_scores(r["counts"], r["drive"]))
        return np.vstack(parts)

    def reconstruct(self, X):
        """Unsupervised mode: the leaf prediction z̄^0 averaged after burn-in, input units."""
        check_is_fitted(self, "W_")
        if self.mode != "unsupervised":
            raise ValueError("reconstruct needs mode='unsupervised' (the supervised layout "
                             "predicts labels, not inputs)")
        return self._window(self._check_X(X), rng=self._eval_rng())["reconstruction"]

    # ------------------------------------------------------------------ deployment
    def deploy_spec(self):
        """The inference network of ``nm.deploy``: spiking PC's free inference window on the core
        (:func:`neuromorph.deploy.builders.spiking_pc_spec`)."""
        from ...deploy.builders import spiking_pc_spec
        return spiking_pc_spec(self)

    # ------------------------------------------------------------------ checkpoints
    _checkpoint_format = _FORMAT
    _fitted_attr = "W_"
