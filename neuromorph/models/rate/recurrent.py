"""Recurrent rate network and the sequence layout shared by the temporal learners (spec §4.24).

BPTT, RTRL and UORO train the same network on the same data; only the way the gradient
of the recurrent parameters is obtained differs. This module holds what they share:

* the **sequence layout** of a 2-D input: a row of ``n_features`` numbers is read as
  ``n_steps`` consecutive steps of ``n_inputs = n_features / n_steps`` numbers each
  (features ``[t·I, (t+1)·I)`` are step t), so estimators take ordinary
  (samples × features) arrays -- 8×8 digits read row by row are 8 steps of 8 pixels;
* the **Elman network** (one recurrent hidden layer, rows are samples)::

      u_t = [x_t, z_{t−1}, 1]                       (I + J + 1)
      h_t = x_t W_inᵀ + z_{t−1} W_recᵀ + b          (J),  z_0 = 0
      z_t = φ(h_t)
      o   = z_T W_outᵀ + b_out                      (C)   read out after the last step

  with a softmax cross-entropy loss on o (class of the whole sequence);
* the **readout error**: the exact gradient of the readout (W_out, b_out) and the error
  ∂L/∂z_T that each rule must carry to the recurrent parameters θ = (W_in, W_rec, b).
"""
import numbers

import numpy as np

from .activations import get_activation
from .initializers import glorot_uniform


def auto_steps(n_features):
    """Steps of a near-square reading: the largest divisor of ``n_features`` not above
    √n_features (8 for 64 = 8×8 digits, i.e. one image row per step; 1 for a prime)."""
    return max(d for d in range(1, int(np.sqrt(n_features)) + 1) if n_features % d == 0)


def sequence_shape(n_features, n_steps):
    """``(T, I)``: how a row of ``n_features`` numbers splits into ``T`` steps of ``I``.

    Parameters
    ----------
    n_features : int
        Columns of X.
    n_steps : int >= 1 or "auto"
        Number of steps T; ``"auto"`` picks :func:`auto_steps`.

    Raises
    ------
    ValueError
        If ``n_steps`` does not divide ``n_features``; the message gives the expected
        shape of X.
    """
    if isinstance(n_steps, str):
        n_steps = auto_steps(n_features)
    if n_features % n_steps:
        lower = n_steps * max(1, n_features // n_steps)
        raise ValueError(
            f"n_steps={n_steps} cannot split X's {n_features} features into equal steps: "
            f"expected X of shape (n_samples, {n_steps} * n_inputs), e.g. (n_samples, "
            f"{lower}) or (n_samples, {lower + n_steps}); got (n_samples, {n_features})")
    return n_steps, n_features // n_steps


def check_n_steps(value):
    """``n_steps`` is ``"auto"`` or an int >= 1 (ValueError/TypeError naming it)."""
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"n_steps must be 'auto' or an int >= 1, got {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"n_steps must be 'auto' or an int >= 1, got {type(value).__name__} "
                        f"{value!r}")
    if value < 1:
        raise ValueError(f"n_steps must be 'auto' or an int >= 1, got {value}")


def as_sequence(X, n_steps):
    """(n, T·I) rows -> (T, n, I) steps: features ``[t·I, (t+1)·I)`` are step t."""
    n, f = X.shape
    T, I = sequence_shape(f, n_steps)
    return X.reshape(n, T, I).transpose(1, 0, 2)


class RecurrentNet:
    """Weights and forward pass of an Elman network with a readout after the last step.

    Parameters
    ----------
    n_inputs, n_hidden, n_outputs : int
        I (inputs per step), J (recurrent units), C (classes).
    activation : str
        Recurrent nonlinearity φ (see :mod:`.activations`).
    rng : numpy.random.Generator
        Source of the initial weights.
    recurrent_scale : float
        Factor on the Glorot-uniform initial W_rec (1: spectral radius ≈ 1).

    Attributes
    ----------
    W_in (J, I), W_rec (J, J), b (J), W_out (C, J), b_out (C) : ndarray
    """

    def __init__(self, n_inputs, n_hidden, n_outputs, activation, rng, recurrent_scale=1.0):
        self.act = get_activation(activation)
        self.W_in = glorot_uniform(rng, n_hidden, n_inputs)
        self.W_rec = recurrent_scale * glorot_uniform(rng, n_hidden, n_hidden)
        self.b = np.zeros(n_hidden)
        self.W_out = glorot_uniform(rng, n_outputs, n_hidden)
        self.b_out = np.zeros(n_outputs)

    @property
    def n_hidden(self):
        return self.W_rec.shape[0]

    @property
    def params(self):
        """Trainable arrays, recurrent (W_in, W_rec, b) then readout (W_out, b_out)."""
        return [self.W_in, self.W_rec, self.b, self.W_out, self.b_out]

    def step(self, x, z_prev):
        """One step: ``(h_t, z_t)`` from x_t (n, I) and z_{t−1} (n, J)."""
        h = x @ self.W_in.T + z_prev @ self.W_rec.T + self.b
        return h, self.act.f(h)

    def initial_state(self, n):
        """z_0 = 0 for ``n`` sequences."""
        return np.zeros((n, self.n_hidden))

    def forward(self, xs):
        """Run a batch of sequences ``xs`` (T, n, I).

        Returns
        -------
        hs : ndarray (T, n, J)
            Pre-activations h_1..h_T.
        zs : ndarray (T + 1, n, J)
            States z_0 = 0, z_1..z_T.
        out : ndarray (n, C)
            Readout o of the last state.
        """
        T, n, _ = xs.shape
        hs = np.empty((T, n, self.n_hidden))
        zs = np.empty((T + 1, n, self.n_hidden))
        zs[0] = self.initial_state(n)
        for t in range(T):
            hs[t], zs[t + 1] = self.step(xs[t], zs[t])
        return hs, zs, self.readout(zs[-1])

    def readout(self, z):
        """o = z W_outᵀ + b_out."""
        return z @ self.W_out.T + self.b_out

    def output(self, xs):
        """Readout after the last step (class scores), without storing the history."""
        z = self.initial_state(xs.shape[1])
        for x in xs:
            z = self.step(x, z)[1]
        return self.readout(z)


def readout_error(net, z_last, Y, loss):
    """Readout gradients and the error the recurrent layer receives.

    Returns
    -------
    g_out : list [∂L/∂W_out, ∂L/∂b_out]
        Batch means (exact: the readout is not recurrent).
    dz : ndarray (n, J)
        Per-sample ∂L/∂z_T = δ W_out with δ = softmax(o) − y (not divided by n).
    out : ndarray (n, C)
        The readout o.
    """
    out = net.readout(z_last)
    delta = loss.delta(out, Y)
    n = len(Y)
    return [delta.T @ z_last / n, delta.mean(axis=0)], delta @ net.W_out, out


def step_inputs(x, z_prev):
    """u_t = [x_t, z_{t−1}, 1] (n, I + J + 1): the presynaptic vector of the recurrent
    layer, so that ∂h_t[k]/∂θ[k, j] = u_t[j] for θ = [W_in | W_rec | b]."""
    return np.hstack([x, z_prev, np.ones((len(x), 1))])


def split_recurrent(G, n_inputs):
    """[W_in | W_rec | b]-shaped gradient (J, I + J + 1) -> [g_W_in, g_W_rec, g_b]."""
    J = G.shape[0]
    return [G[:, :n_inputs], G[:, n_inputs:n_inputs + J], G[:, -1]]
