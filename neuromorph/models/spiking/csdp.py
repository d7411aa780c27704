r"""CSDP: contrastive-signal-dependent plasticity (Ororbia 2023/2024; spec §3.7, SEL:FO).

A recurrent spiking circuit of LIF layers z1..zL (bottom-up W, top-down V, lateral
inhibitory M, label/context Y) runs over a window of ``n_steps`` steps. Each layer
scores its own traces with a goodness ``g = Σ_j x_j² − θ_g``; the derivative of the
local loss ``BCE(σ(g), c)`` (c = 1 positive, 0 negative sample) is a per-neuron
modulator that drives a Hebbian-like update of every synapse entering the layer,
online, at every step. No error crosses a layer boundary; no activity is stored.

Per step (row-vector batches, weights stored (pre, post); ``s_prev`` = previous step)::

    I^ℓ = R (s^{ℓ-1} W_ℓ) + R (s^{ℓ+1}_prev V_ℓ) + R (y Y_ℓ) − R_inh (s^ℓ_prev M_ℓ)
          (s^0 = Bernoulli spikes of the image; V only below the top layer; Y only supervised)
    LIF step of z^ℓ (adaptive threshold), trace x^ℓ
    g^ℓ = Σ_j (x^ℓ_j)² − θ_g,   d^ℓ = (2 x^ℓ / N) ⊙ (σ(g^ℓ) − c)     (N rows in the batch)
    for every synapse matrix A into layer ℓ with presynaptic spikes p (previous step):
        ΔA  = p^T d^ℓ                         descent, through the optimiser (Adam or SGD)
        Dec = −λ_d (1 − p)^T s^ℓ               depression: post fired while pre was silent
        A  ← clip(A − opt(ΔA) + Dec, −w_bound, w_bound)      (M: [0, w_bound], zero diagonal)

Classification: a LIF label layer zy driven by ``I^y = R_y Σ_ℓ x^ℓ C_ℓ`` (hidden traces)
learns with the delta (Widrow–Hoff) rule ``C_ℓ ← C_ℓ + η_y (x^ℓ)^T (y − I^y) / n`` at every
step of label-free presentations (target drive 1 for the true class, 0 otherwise);
the predicted class is the arg-max of zy's spike counts over the window (ties broken
by the summed input current). In supervised mode every training batch is run as
[positive; negative; label-free] rows: the first two drive CSDP, the third (the image
with the label input zeroed, exactly as at test time) trains the readout.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ... import _checks
from ..rate.metadata import Family
from ..rate._validation import check_choice, check_layer_sizes
from .base import SpikingClassifier
from .layers import (BernoulliEncoder, Dense, LIFLayer, check_unit_range, count_scores,
                     make_optimizer)
from .training import MiniBatchEpochs

#: (minimum batch size, learning rate η, depression λ_d) of the reference implementation.
REFERENCE_RATES = ((200, 0.002, 5e-5), (100, 0.001, 6e-5), (50, 0.001, 7e-5),
                   (20, 7.5e-4, 8e-5), (10, 5.5e-4, 9e-5), (0, 4e-4, 1e-4))

_FORMAT = "neuromorph.CSDP/1"


def reference_rates(batch_size):
    """η and λ_d of the reference code for a given batch size (spec §3.7)."""
    for minimum, lr, dec in REFERENCE_RATES:
        if batch_size >= minimum:
            return lr, dec
    raise AssertionError("unreachable")


def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def goodness_modulator(x, theta_g, c):
    """Goodness logits, BCE losses and modulators of one layer.

    ``x`` (N, J) traces, ``c`` (N,) targets (1 positive, 0 negative). Returns
    ``g`` (N,), ``loss`` (N,) and ``d = 2 x / N ⊙ (σ(g) − c)`` (N, J).
    """
    g = np.einsum("ij,ij->i", x, x) - theta_g
    loss = c * np.logaddexp(0.0, -g) + (1 - c) * np.logaddexp(0.0, g)
    d = x * ((2.0 / len(x)) * (sigmoid(g) - c))[:, None]
    return g, loss, d


def deform(X, image_shape, rng, mix=0.5):
    """Unsupervised negatives: ``mix · x + (1 − mix) · rotate(x')`` for a random other image x'.

    The rotation angle is uniform in [45°, 315°], so the result is never a plain digit.
    """
    from scipy.ndimage import rotate

    other = X[rng.permutation(len(X))].reshape((len(X),) + tuple(image_shape))
    angles = rng.uniform(45.0, 315.0, size=len(X))
    rot = np.stack([rotate(im, a, reshape=False, order=1, mode="constant")
                    for im, a in zip(other, angles)]).reshape(len(X), -1)
    return np.clip(mix * X + (1.0 - mix) * rot, 0.0, 1.0)


class CSDP(MiniBatchEpochs, SpikingClassifier, family=Family.SEL_FO, checklist="rff",
           algorithm="CSDP (contrastive-signal-dependent plasticity)", spec_section="3.7"):
    r"""Spiking forward-only learner trained by CSDP (spec §3.7).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden LIF layers z1..zL.
    mode : {"supervised", "unsupervised"}
        Negatives: the image with a random wrong label (supervised, label synapses Y),
        or a deformed image (unsupervised, no label input; the readout learns on the
        positive rows).
    n_steps : int > 0
        T, steps per stimulus window.
    dt : float > 0
        Step (ms).
    tau_m : float > 0
        Membrane time constant (ms).
    tau_trace : float > 0
        Trace time constant τ_tr (ms) of the goodness traces.
    v_th : float > 0
        Base threshold (mV, normalised units).
    threshold_jitter : float >= 0
        Per-neuron threshold offset U(0, jitter) (mV).
    theta_plus : float >= 0
        Adaptive-threshold increment per spike (mV), reset every window.
    tau_theta : float > 0
        Decay of the adaptive threshold (ms); ``math.inf`` for none.
    resistance, resistance_inh : float > 0
        R_m of excitatory/bottom-up/top-down/label input and R_inh of the lateral input.
    goodness_threshold : float
        θ_g.
    w_bound : float > 0
        Hard weight bound.
    soft_bound : bool
        Multiply ΔW by (w_bound − |W|).
    lateral_sign_aware : bool
        Flip the update of the inhibitory lateral matrices M (the reference code does not).
    learning_rate, depression : float > 0 or None
        η and λ_d; ``None`` takes the reference value for ``batch_size``.
    optimizer : {"adam", "sgd"}
    momentum : float in [0, 1)
        Momentum of SGD.
    readout_learning_rate : float > 0
        η_y of the delta-rule readout.
    readout_resistance : float > 0
        R_y of the label layer.
    reconstruction : bool
        Also learn a linear reconstruction readout R1 from the z1 traces (delta rule);
        see :meth:`reconstruct`.
    image_shape : tuple or None
        Image shape for unsupervised deformations; ``None``: square images.
    <mini-batch training parameters>
    random_state : int, numpy Generator or None
        Seed of the single generator (initialisation, encoding, negatives, batching).

    ``decision_scores(X)`` returns the label layer's spike counts over the window plus a
    tie-break below 1 from its summed drive; ``predict`` takes their arg-max.

    Attributes
    ----------
    history_ : dict
        Per epoch: ``wall_s`` (s), ``validation_accuracy`` (with ``validation_fraction``),
        ``loss`` (mean goodness BCE over layers, steps, rows), ``accuracy``
        (online readout accuracy on the training presentations), ``goodness_pos`` /
        ``goodness_neg`` (per-layer mean goodness logit at the last step).
    weights_ : dict of ndarray
        Current synapse matrices (``W1``, ``V1``, ``M1``, ``Y1``, ``C1``, ... 1-based layer).
    """

    _params = dict(
        hidden_layer_sizes=(256, 256), mode="supervised", n_steps=40, dt=3.0, tau_m=100.0,
        tau_trace=13.0, v_th=0.055, threshold_jitter=0.025, theta_plus=0.001,
        tau_theta=math.inf, resistance=0.1, resistance_inh=0.01, goodness_threshold=10.0,
        w_bound=1.0, soft_bound=False, lateral_sign_aware=False, learning_rate=None,
        depression=None, optimizer="adam", momentum=0.9, readout_learning_rate=0.05,
        readout_resistance=1.0, reconstruction=False, image_shape=None, batch_size=50,
        max_iter=20, verbose=False, random_state=None)

    # ------------------------------------------------------------------ validation
    _batch_stats = ("loss", "hits", "goodness_pos", "goodness_neg")

    def _check_params(self):
        self._sizes = check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)
        check_choice("mode", self.mode, ("supervised", "unsupervised"))
        _checks.integer("n_steps", self.n_steps, minimum=1)
        for name in ("dt", "tau_m", "tau_trace", "v_th", "resistance", "resistance_inh",
                     "w_bound", "readout_learning_rate", "readout_resistance"):
            _checks.positive(name, getattr(self, name))
        for name in ("threshold_jitter", "theta_plus"):
            _checks.non_negative(name, getattr(self, name))
        if not (isinstance(self.tau_theta, numbers.Real) and self.tau_theta > 0):
            raise ValueError(f"tau_theta must be > 0 ms (math.inf for none), got {self.tau_theta!r}")
        _checks.real("goodness_threshold", self.goodness_threshold)
        if self.learning_rate is not None:
            _checks.positive("learning_rate", self.learning_rate)
        if self.depression is not None:
            _checks.non_negative("depression", self.depression)
        self._check_training_params()
        lr, dec = reference_rates(self.batch_size)
        self._lr = lr if self.learning_rate is None else float(self.learning_rate)
        self._dec = dec if self.depression is None else float(self.depression)

    def _check_X(self, X):
        return _check_range(self._validated(X))

    def _image_shape(self, n_features):
        if self.image_shape is not None:
            shape = tuple(int(s) for s in self.image_shape)
            if int(np.prod(shape)) != n_features:
                raise ValueError(f"image_shape {shape} does not match {n_features} features")
            return shape
        side = int(round(math.sqrt(n_features)))
        if side * side != n_features:
            raise ValueError(f"unsupervised mode needs image_shape for {n_features} "
                             f"non-square features")
        return (side, side)

    # ------------------------------------------------------------------ construction
    def _initialize(self, n_features, n_classes):
        if self.mode == "unsupervised":
            self._img_shape = self._image_shape(n_features)
        rng = self._rng
        sizes = self._sizes
        L = len(sizes)
        wb = float(self.w_bound)
        R, Ri = float(self.resistance), float(self.resistance_inh)
        self.layers_ = [
            LIFLayer(n, dt=self.dt, tau_m=self.tau_m, v_th=self.v_th,
                     threshold_jitter=self.threshold_jitter, theta_plus=self.theta_plus,
                     tau_theta=self.tau_theta, tau_trace=self.tau_trace, rng=rng)
            for n in sizes]
        self.label_layer_ = LIFLayer(n_classes, dt=self.dt, tau_m=self.tau_m, v_th=self.v_th,
                                     tau_trace=self.tau_trace)
        bounds, lat_bounds = (-wb, wb), (0.0, wb)
        pre_sizes = (n_features,) + sizes
        # syn_[l] = dict of the synapses into hidden layer l: name -> (Dense, pre key)
        # pre keys: ("layer", k) spikes of hidden layer k (0 = input), ("label",)
        self.syn_ = []
        for l in range(L):
            into = {"W": (Dense.uniform(pre_sizes[l], sizes[l], rng, resistance=R,
                                        bounds=bounds), ("layer", l))}
            if l + 1 < L:
                into["V"] = (Dense.uniform(sizes[l + 1], sizes[l], rng, resistance=R,
                                           bounds=bounds), ("layer", l + 2))
            into["M"] = (Dense.uniform(sizes[l], sizes[l], rng, 0.0, wb, resistance=Ri, sign=-1,
                                       bounds=lat_bounds, zero_diagonal=True), ("layer", l + 1))
            if self.mode == "supervised":
                into["Y"] = (Dense.uniform(n_classes, sizes[l], rng, resistance=R,
                                           bounds=bounds), ("label",))
            self.syn_.append(into)
        self.readout_ = [Dense(np.zeros((n, n_classes)), resistance=self.readout_resistance)
                         for n in sizes]
        self.recon_ = np.zeros((sizes[0], n_features)) if self.reconstruction else None
        self._opt = make_optimizer(self.optimizer, self._lr, self.momentum)
        self._encoder = BernoulliEncoder(1.0)
        self.eval_seed_ = self._new_eval_seed()

    @property
    def weights_(self):
        check_is_fitted(self, "syn_")
        out = {}
        for l, into in enumerate(self.syn_):
            for name, (syn, _) in into.items():
                out[f"{name}{l + 1}"] = syn.W
        for l, syn in enumerate(self.readout_):
            out[f"C{l + 1}"] = syn.W
        if self.recon_ is not None:
            out["R1"] = self.recon_
        return out

    # ------------------------------------------------------------------ dynamics
    def _reset(self, n_rows):
        for layer in self.layers_ + [self.label_layer_]:
            layer.reset(n_rows)
        self._s0_prev = None

    def _step(self, s0, ylab):
        """One step of every layer in order z1..zL (top-down and lateral from the previous step).

        Returns ``pre_prev``: the presynaptic spikes of the previous step, keyed like
        the synapses' pre keys (for the CSDP update).
        """
        prev = {("layer", k + 1): layer.s.copy() for k, layer in enumerate(self.layers_)}
        prev[("layer", 0)] = np.zeros_like(s0) if self._s0_prev is None else self._s0_prev
        prev[("label",)] = ylab
        current = {("layer", 0): s0, ("label",): ylab}
        for l, layer in enumerate(self.layers_):
            i_in = 0.0
            for name, (syn, pre) in self.syn_[l].items():
                src = current[pre] if name == "W" else prev[pre]
                i_in = i_in + syn.current(src)
            current[("layer", l + 1)] = layer.step(i_in)
        self._s0_prev = s0
        return prev

    def _csdp_update(self, prev, c, n_learn):
        """CSDP update of every synapse into every hidden layer from rows ``:n_learn``."""
        grads, params, decs, syns = [], [], [], []
        losses, gs = [], []
        for l, layer in enumerate(self.layers_):
            g, loss, d = goodness_modulator(layer.x[:n_learn], self.goodness_threshold, c)
            losses.append(loss.mean())
            gs.append(g)
            post = layer.s[:n_learn]
            col = post.sum(axis=0)
            for name, (syn, pre) in self.syn_[l].items():
                dW, co = _pre_products(prev[pre][:n_learn], d, post)
                dec = -self._dec * (col[None, :] - co)
                if name == "M" and self.lateral_sign_aware:
                    dW, dec = -dW, -dec
                if self.soft_bound:
                    dW = dW * (self.w_bound - np.abs(syn.W))
                grads.append(dW), params.append(syn.W), decs.append(dec), syns.append(syn)
        self._opt.step(params, grads)
        for syn, dec in zip(syns, decs):
            syn.W += dec
            syn.clip()
        return float(np.mean(losses)), gs

    def _readout_step(self, rows):
        """Drive of the label layer from the hidden traces of ``rows`` (mV)."""
        i_y = 0.0
        for layer, syn in zip(self.layers_, self.readout_):
            i_y = i_y + syn.current(layer.x[rows])
        return i_y

    def _train_batch(self, X, yidx):
        """One window of CSDP learning on a batch; returns (mean loss, readout hits, goodness)."""
        rng = self._rng
        C = len(self.classes_)
        n = len(X)
        Y = np.eye(C)[yidx]
        if self.mode == "supervised":
            wrong = (yidx + rng.integers(1, C, size=n)) % C
            Xr = np.vstack([X, X, X])
            ylab = np.vstack([Y, np.eye(C)[wrong], np.zeros((n, C))])
            free = slice(2 * n, 3 * n)
        else:
            Xr = np.vstack([X, deform(X, self._img_shape, rng)])
            ylab = np.zeros((2 * n, 0))
            free = slice(0, n)
        c = np.r_[np.ones(n), np.zeros(n)]
        self._reset(len(Xr))
        zy = self.label_layer_
        zy.reset(n)
        counts = np.zeros((n, C))
        drive = np.zeros((n, C))
        loss = 0.0
        eta_y = float(self.readout_learning_rate)
        for _ in range(self.n_steps):
            s0 = self._encoder(Xr, rng)
            prev = self._step(s0, ylab)
            l_t, gs = self._csdp_update(prev, c, 2 * n)
            loss += l_t
            i_y = self._readout_step(free)
            sy = zy.step(i_y)
            counts += sy
            drive += i_y
            err = Y - i_y
            for layer, syn in zip(self.layers_, self.readout_):
                syn.W += (eta_y / n) * (layer.x[free].T @ err)
            if self.recon_ is not None:
                x1 = self.layers_[0].x[free]
                self.recon_ += (eta_y / n) * (x1.T @ (X - x1 @ self.recon_))
        hits = int(np.sum(np.argmax(count_scores(counts, drive), axis=1) == yidx))
        g_pos = [float(g[:n].mean()) for g in gs]
        g_neg = [float(g[n:].mean()) for g in gs]
        return loss / self.n_steps, hits, g_pos, g_neg

    # ------------------------------------------------------------------ public API
    def simulate(self, X, labels=None, record=False, rng=None):
        """Run one window without learning.

        Parameters
        ----------
        X : (n, n_features) in [0, 1]
        labels : array of class labels or None
            Label input (supervised mode); ``None`` zeroes it (inference).
        record : bool
            Also return per-step spikes of every layer and goodness logits.
        <simulate rng>

        Returns
        -------
        dict with ``counts`` (n, C) label-layer spike counts, ``drive`` (n, C) summed
        label-layer input, and with ``record``: ``spikes`` (list over layers
        [input, z1..zL, zy] of (T, n, J) bool arrays) and ``goodness`` (T, n, L).
        """
        check_is_fitted(self, "syn_")
        X = self._check_X(X)
        rng = self._eval_rng() if rng is None else rng
        C = len(self.classes_)
        n = len(X)
        labels = self._simulation_labels(labels, n)  # checked in both modes
        if self.mode == "supervised":
            ylab = (np.zeros((n, C)) if labels is None else
                    np.eye(C)[np.searchsorted(self.classes_, labels)])
        else:
            ylab = np.zeros((n, 0))
        self._reset(n)
        counts, drive = np.zeros((n, C)), np.zeros((n, C))
        spikes, good = [], []
        rows = slice(0, n)
        for _ in range(self.n_steps):
            s0 = self._encoder(X, rng)
            self._step(s0, ylab)
            i_y = self._readout_step(rows)
            counts += self.label_layer_.step(i_y)
            drive += i_y
            if record:
                spikes.append([s0 > 0] + [lay.s > 0 for lay in self.layers_]
                              + [self.label_layer_.s > 0])
                good.append([np.einsum("ij,ij->i", lay.x, lay.x) - self.goodness_threshold
                             for lay in self.layers_])
        out = {"counts": counts, "drive": drive}
        if record:
            out["spikes"] = [np.stack(k) for k in zip(*spikes)]
            out["goodness"] = np.transpose(np.array(good), (0, 2, 1))
        return out

    def _scores(self, X, batch_size=500):
        """Label-layer spike counts over the window (+ a tie-break < 1 from the summed drive)."""
        _check_range(X)
        rng = self._eval_rng()
        parts = []
        for s in range(0, len(X), batch_size):
            r = self.simulate(X[s:s + batch_size], rng=rng)
            parts.append(count_scores(r["counts"], r["drive"]))
        return np.vstack(parts)

    def reconstruct(self, X):
        """Reconstruction x̂ = x^1 R1 from the z1 traces averaged over the window."""
        check_is_fitted(self, "syn_")
        if self.recon_ is None:
            raise ValueError("reconstruct needs a model fitted with reconstruction=True")
        X = self._check_X(X)
        self._reset(len(X))
        ylab = np.zeros((len(X), len(self.classes_) if self.mode == "supervised" else 0))
        acc = np.zeros_like(X)
        rng = self._eval_rng()
        for _ in range(self.n_steps):
            self._step(self._encoder(X, rng), ylab)
            acc += self.layers_[0].x @ self.recon_
        return acc / self.n_steps

    # ------------------------------------------------------------------ deployment
    def deploy_spec(self):
        """The inference network of ``nm.deploy``: CSDP's label-free inference window on the core
        (:func:`neuromorph.deploy.builders.csdp_spec`)."""
        from ...deploy.builders import csdp_spec
        return csdp_spec(self)

    # ------------------------------------------------------------------ checkpoints
    _checkpoint_format = _FORMAT
    _fitted_attr = "syn_"
    _tuple_params = ("hidden_layer_sizes", "image_shape")

    def _checkpoint_arrays(self):
        return {f"vth_{l + 1}": layer.v_th0 for l, layer in enumerate(self.layers_)}

    def _restore_checkpoint(self, meta, arrays):
        for l, layer in enumerate(self.layers_):
            a = arrays[f"vth_{l + 1}"]
            if a.shape != layer.v_th0.shape:
                raise ValueError(f"threshold array of layer {l + 1} has shape {a.shape}")
            layer.v_th0 = a.astype(np.float64)


def _pre_products(p, d, post):
    """``p^T d`` (CSDP direction) and ``p^T post`` (coincidences for the depression), one GEMM."""
    both = p.T @ np.hstack([d, post])
    return both[:, :d.shape[1]], both[:, d.shape[1]:]


def _check_range(X):
    """Inputs are spike probabilities: raise unless every value lies in [0, 1]."""
    return check_unit_range(X, "CSDP")
