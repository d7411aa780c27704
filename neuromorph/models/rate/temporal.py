"""Temporal credit assignment in a recurrent rate network: BPTT, RTRL, UORO (spec §4.24).

The three learners share the network, data layout and readout of :mod:`.recurrent`
and differ only in how the gradient of the recurrent parameters θ = [W_in | W_rec | b]
(one (J, I + J + 1) matrix acting on u_t = [x_t, z_{t−1}, 1]) reaches them:

* :func:`bptt_gradients` — reverse mode: store the whole trajectory, run the error back
  through time (the reference);
* :func:`rtrl_sensitivities` — forward mode (Williams & Zipser 1989): carry the exact
  sensitivity P_t = ∂z_t/∂θ forward with the state; no history is stored;
* :func:`uoro_traces` — Unbiased Online Recurrent Optimisation (Tallec & Ollivier 2018):
  carry a rank-one random estimate s̃_t θ̃_tᵀ of P_t whose expectation is exact.

Every function takes the parameters as they are (held fixed over the sequence) and
returns per-batch-mean gradients in :attr:`RecurrentNet.params` order.
"""
import numpy as np
from sklearn.utils.validation import validate_data

from ._validation import check_number, check_positive
from .base import RateClassifier
from .losses import SoftmaxCrossEntropy
from .metadata import Family
from .recurrent import (RecurrentNet, as_sequence, check_n_steps, readout_error,
                        sequence_shape, split_recurrent, step_inputs)


def bptt_gradients(net, xs, Y, loss=SoftmaxCrossEntropy):
    """Backpropagation through time: exact gradient of the mean loss.

    ::

        e_T = ∂L/∂z_T = δ W_out,  δ = softmax(o) − y
        δ_t = e_t ⊙ φ'(h_t),  e_{t−1} = δ_t W_rec          t = T..1
        ∂L/∂θ = Σ_t δ_tᵀ u_t / n

    Parameters
    ----------
    net : RecurrentNet
    xs : ndarray (T, n, I)
        A batch of sequences (:func:`.recurrent.as_sequence`).
    Y : ndarray (n, C)
        One-hot targets.

    Returns
    -------
    grads : list of ndarray
        ∂(mean loss)/∂ for W_in, W_rec, b, W_out, b_out.
    out : ndarray (n, C)
        The readout (for the loss).
    """
    hs, zs, _ = net.forward(xs)
    g_out, e, out = readout_error(net, zs[-1], Y, loss)
    G = np.zeros((net.n_hidden, xs.shape[2] + net.n_hidden + 1))
    for t in range(xs.shape[0] - 1, -1, -1):
        d = e * net.act.df(hs[t])
        G += d.T @ step_inputs(xs[t], zs[t])
        e = d @ net.W_rec
    return split_recurrent(G / len(Y), xs.shape[2]) + g_out, out


def rtrl_sensitivities(net, xs):
    """Real-time recurrent learning: the exact sensitivities, carried forward in time.

    ::

        P_t[k, i, j] = ∂z_t[k]/∂θ[i, j],   P_0 = 0
        P_t = φ'(h_t) ⊙ (W_rec P_{t−1} + D_t),   D_t[k, i, j] = [k = i] u_t[j]

    Memory O(n J² (I + J)) and time O(n J³ (I + J)) per step, independent of the
    sequence length; nothing of the past is stored.

    Returns
    -------
    P : ndarray (J, n, J, I + J + 1)
        P_T, indexed [k, sample, i, j].
    z : ndarray (n, J)
        The last state z_T.
    """
    T, n, n_in = xs.shape
    J = net.n_hidden
    U = n_in + J + 1
    P = np.zeros((J, n, J, U))
    diag = np.arange(J)
    z = net.initial_state(n)
    for x in xs:
        u = step_inputs(x, z)
        h, z = net.step(x, z)
        P = (net.W_rec @ P.reshape(J, -1)).reshape(J, n, J, U)  # W_rec P_{t−1}: one GEMM
        P[diag, :, diag, :] += u                                 # + D_t
        P *= net.act.df(h).T[:, :, None, None]
    return P, z


def rtrl_gradients(net, xs, Y, loss=SoftmaxCrossEntropy):
    """RTRL gradient: ∂L/∂θ = Σ_k (∂L/∂z_T[k]) P_T[k] / n (spec §4.24: ΔW = (∂L/∂z) P),
    equal to :func:`bptt_gradients` for the same parameters. Same return values."""
    P, z = rtrl_sensitivities(net, xs)
    g_out, e, out = readout_error(net, z, Y, loss)
    G = np.tensordot(e.T, P, axes=([0, 1], [0, 1])) / len(Y)
    return split_recurrent(G, xs.shape[2]) + g_out, out


def uoro_traces(net, xs, rng, epsilon=1e-7):
    """UORO's rank-one estimate s̃_T θ̃_Tᵀ of P_T, one independent estimate per sequence.

    With ν_t a vector of independent random signs (E[ν νᵀ] = I) and
    F_θ = ∂z_t/∂θ|direct (so νᵀF_θ = (ν ⊙ φ'(h_t)) ⊗ u_t)::

        s̃_t = ρ₀ J_t s̃_{t−1} + ρ₁ ν_t,          J_t s̃ = φ'(h_t) ⊙ (s̃ W_recᵀ)
        θ̃_t = θ̃_{t−1} / ρ₀ + (ν_t ⊙ φ'(h_t)) ⊗ u_t / ρ₁
        ρ₀ = √((‖θ̃_{t−1}‖ + ε) / (‖J_t s̃_{t−1}‖ + ε)),  ρ₁ = √((‖νᵀF_θ‖ + ε) / (‖ν_t‖ + ε))

    s̃_0 = 0, θ̃_0 = 0. E[s̃_t θ̃_tᵀ] = P_t exactly: ρ₀ cancels in the product, and ρ₁ is
    unchanged when ν flips sign, so the cross terms vanish in expectation. The ρ's
    minimise the variance (Tallec & Ollivier 2018, Prop. 1). Memory O(n J (I + J)).

    Returns
    -------
    s : ndarray (n, J)
    theta : ndarray (n, J, I + J + 1)
    z : ndarray (n, J)
        The last state z_T.
    """
    T, n, n_in = xs.shape
    J = net.n_hidden
    s = np.zeros((n, J))
    theta = np.zeros((n, J, n_in + J + 1))
    z = net.initial_state(n)
    for x in xs:
        u = step_inputs(x, z)
        h, z = net.step(x, z)
        d = net.act.df(h)
        Js = d * (s @ net.W_rec.T)
        nu = rng.integers(0, 2, size=(n, J)) * 2.0 - 1.0
        nd = nu * d
        rho0 = np.sqrt((np.sqrt((theta ** 2).sum(axis=(1, 2))) + epsilon)
                       / (np.linalg.norm(Js, axis=1) + epsilon))
        rho1 = np.sqrt((np.linalg.norm(nd, axis=1) * np.linalg.norm(u, axis=1) + epsilon)
                       / (np.linalg.norm(nu, axis=1) + epsilon))
        s = rho0[:, None] * Js + rho1[:, None] * nu
        theta = theta / rho0[:, None, None] + nd[:, :, None] * (u / rho1[:, None])[:, None, :]
    return s, theta, z


def uoro_gradients(net, xs, Y, rng, loss=SoftmaxCrossEntropy, epsilon=1e-7):
    """UORO gradient estimate: ∂L/∂θ ≈ Σ_b (e_b · s̃_b) θ̃_b / n with e = ∂L/∂z_T;
    unbiased for :func:`bptt_gradients`' recurrent part, exact for the readout.
    Same return values."""
    s, theta, z = uoro_traces(net, xs, rng, epsilon)
    g_out, e, out = readout_error(net, z, Y, loss)
    G = np.tensordot((e * s).sum(axis=1), theta, axes=(0, 0)) / len(Y)
    return split_recurrent(G, xs.shape[2]) + g_out, out


class _RecurrentClassifier(RateClassifier):
    """Shared estimator of the temporal learners (not used directly): the network of
    :mod:`.recurrent`, the sequence layout (``n_steps``) and the training step; a rule
    supplies :meth:`_gradients`. Parameters and attributes: see :class:`BPTT`."""

    _params = dict(hidden_layer_sizes=(64,), n_steps="auto", recurrent_scale=1.0,
                   learning_rate=3e-3, max_iter=30)
    loss = SoftmaxCrossEntropy

    def _check_extra_params(self):
        if len(self._hidden) != 1:
            raise ValueError("hidden_layer_sizes must hold one width (the recurrent layer), "
                             f"got {self.hidden_layer_sizes!r}")
        check_n_steps(self.n_steps)
        check_positive("recurrent_scale", self.recurrent_scale)
        self._check_rule_params()

    def _check_rule_params(self):
        """Checks of the rule's own parameters (override)."""

    def _start(self, X, y, classes):
        # a row length the sequence layout cannot split raises before any state is set
        X, y = validate_data(self, X, y, reset=True, dtype=np.float64)
        sequence_shape(X.shape[1], self.n_steps)
        return super()._start(X, y, classes)

    def _initialize(self, n_features, n_classes):
        self.n_steps_, n_inputs = sequence_shape(n_features, self.n_steps)
        self.net_ = RecurrentNet(n_inputs, self._hidden[0], n_classes, self.activation,
                                 self._rng, self.recurrent_scale)
        self._opt = self._optimizer()

    def _sequence(self, X):
        return as_sequence(X, self.n_steps_)

    def _scores(self, X):
        return self.net_.output(self._sequence(X))

    def _train_batch(self, X, Y):
        grads, out = self._gradients(self._sequence(X), Y)
        self._opt.step(self.net_.params, grads)
        return self.loss.per_sample(out, Y).mean()

    def _gradients(self, xs, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def update_directions(self, X, Y):
        """Descent directions the rule hands to the optimiser for batch (X, Y), in
        ``net_.params`` order (W_in, W_rec, b, W_out, b_out); ``Y`` one-hot. Rules that
        draw noise (UORO) consume the estimator's generator."""
        return self._gradients(self._sequence(self._validated(X)), Y)[0]

    def bptt_directions(self, X, Y):
        """The exact gradient of the mean loss (BPTT), same layout."""
        return bptt_gradients(self.net_, self._sequence(self._validated(X)), Y, self.loss)[0]


class BPTT(
    _RecurrentClassifier, family=Family.BASELINE, checklist="backprop",
    algorithm="Backpropagation through time", spec_section="4.1, 4.24",
):
    """Recurrent network trained by backpropagation through time: the temporal reference.

    Elman network, one recurrent layer, readout after the last step (rows are samples)::

        h_t = x_t W_inᵀ + z_{t−1} W_recᵀ + b,  z_t = φ(h_t),  z_0 = 0,  o = z_T W_outᵀ + b_out
        e_T = ∂L/∂z_T = (softmax(o) − y) W_out
        δ_t = e_t ⊙ φ'(h_t),  e_{t−1} = δ_t W_rec                    t = T..1
        ΔW_in = Σ_t δ_tᵀ x_t / B,  ΔW_rec = Σ_t δ_tᵀ z_{t−1} / B,  Δb = Σ_t mean(δ_t)   descent

    It stores the whole trajectory and runs a backward pass through time (spec §2.3:
    the backprop row, "Time: N (BPTT)").

    Parameters
    ----------
    hidden_layer_sizes : tuple of one int, default (64,)
        (J,): width of the single recurrent layer.
    n_steps : int >= 1 or "auto", default "auto"
        How a row of X forms a sequence: T = ``n_steps`` steps of I = n_features / T
        inputs (features ``[t·I, (t+1)·I)`` are step t). ``"auto"``: the largest divisor
        of n_features not above √n_features -- 8×8 digits are read row by row, 8 steps
        of 8 pixels. ``n_steps=n_features`` reads a 1-D signal one value per step. A
        value that does not divide n_features raises ValueError at ``fit``, giving the
        expected shape of X.
    recurrent_scale : float > 0, default 1
        Factor on the Glorot-uniform initial W_rec (1: spectral radius ≈ 1).
    activation, learning_rate, optimizer, momentum, batch_size, max_iter,
    validation_fraction, random_state
        As for every rate family (:class:`~.base.RateClassifier`); defaults tanh,
        Adam 3e-3, batch 32, 30 epochs.

    Attributes
    ----------
    net_ : :class:`~.recurrent.RecurrentNet`
        W_in, W_rec, b, W_out, b_out.
    n_steps_ : int
        Steps T the fitted model reads (n_features_in_ = T · I).
    classes_, n_features_in_, n_iter_, history_
        As for every rate family.

    At the defaults on digits read row by row: see
    experiments/results/temporal_learners/results.md.
    """

    def _gradients(self, xs, Y):
        return bptt_gradients(self.net_, xs, Y, self.loss)


class RTRL(
    _RecurrentClassifier, family=Family.SEL_FO, checklist="rtrl",
    algorithm="Real-time recurrent learning", spec_section="4.24",
):
    """Recurrent network trained by real-time recurrent learning (Williams & Zipser 1989).

    Same network as :class:`BPTT`; the sensitivities of the state to every recurrent
    parameter θ = [W_in | W_rec | b] are carried forward with the state (spec §4.24)::

        P_t = φ'(h_t) ⊙ (W_rec P_{t−1} + D_t),   D_t[k, i, j] = [k = i] u_t[j],  P_0 = 0
        Δθ = Σ_k (∂L/∂z_T[k]) P_T[k] / B,   ∂L/∂z_T = (softmax(o) − y) W_out     descent

    With the parameters held fixed over a sequence this is the BPTT gradient exactly
    (to rounding), computed online without storing the past, at O(J³(I + J)) operations
    per step and sample instead of BPTT's O(J(I + J)).

    Parameters and attributes as :class:`BPTT`, with smaller defaults because of that
    cost: J = 24, Adam 1e-2, 15 epochs (BPTT with these settings follows the same
    training trajectory: equal gradients, equal batches; differences at rounding level).
    At the defaults on digits read row by row: see
    experiments/results/temporal_learners/results.md.
    """

    _params = dict(hidden_layer_sizes=(24,), learning_rate=1e-2, max_iter=15)

    def _gradients(self, xs, Y):
        return rtrl_gradients(self.net_, xs, Y, self.loss)


class UORO(
    _RecurrentClassifier, family=Family.SEL_FO, checklist="uoro",
    algorithm="Unbiased online recurrent optimisation", spec_section="4.24",
):
    """Recurrent network trained by UORO (Tallec & Ollivier 2018).

    Same network as :class:`BPTT`; RTRL's sensitivity P_t is replaced by a rank-one
    estimate s̃_t θ̃_tᵀ with E[s̃_t θ̃_tᵀ] = P_t, refreshed each step with random signs ν_t::

        s̃_t = ρ₀ φ'(h_t) ⊙ (s̃_{t−1} W_recᵀ) + ρ₁ ν_t
        θ̃_t = θ̃_{t−1} / ρ₀ + (ν_t ⊙ φ'(h_t)) ⊗ u_t / ρ₁,   u_t = [x_t, z_{t−1}, 1]
        Δθ = (∂L/∂z_T · s̃_T) θ̃_T   (mean over the batch),  readout exact     descent

    ρ₀, ρ₁ are the variance-minimising scales (see :func:`uoro_traces`). Memory and time
    per step O(J(I + J)), as for the forward pass; the price is the estimate's variance.

    Parameters and attributes as :class:`BPTT`, plus

    epsilon : float > 0, default 1e-7
        ε of the ρ scales (guards 0/0 at the first step).

    Defaults J = 64, Adam 1e-3, 50 epochs: the estimate's variance calls for a smaller
    step and more epochs than BPTT's (Adam 3e-3, 30 epochs: 75 % on digits split 101;
    Adam 1e-3, 50 epochs: 92.0 % mean, 90.3 % min over splits 101..105). At the
    defaults on digits read row by row: see
    experiments/results/temporal_learners/results.md.
    """

    _params = dict(epsilon=1e-7, learning_rate=1e-3, max_iter=50)

    def _check_rule_params(self):
        check_number("epsilon", self.epsilon, low=0, low_open=True)

    def _gradients(self, xs, Y):
        return uoro_gradients(self.net_, xs, Y, self._rng, self.loss, self.epsilon)
