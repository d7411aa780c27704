"""Dense layer stacks shared by every family (spec §4.0).

A :class:`DenseStack` holds the forward parameters of an L-layer perceptron,
W^ℓ ∈ R^{J_ℓ × J_{ℓ−1}} and b^ℓ ∈ R^{J_ℓ}, and runs the forward pass

    h^ℓ = z^{ℓ−1} (W^ℓ)^T + b^ℓ,   z^ℓ = φ^ℓ(h^ℓ),   z^0 = x,

on a batch whose *rows* are samples (the row-vector form of S1 Eq. 1). Hidden layers
share one activation; the output layer's nonlinearity belongs to the loss, so the stack
returns the output pre-activation h^L and z^L = h^L.
"""
import numpy as np

from .activations import get_activation
from .initializers import get_initializer


class DenseStack:
    """Weights, biases and forward pass of a fully connected network.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths (J_0, J_1, ..., J_L).
    activation : str
        Hidden activation name (see :mod:`.activations`).
    rng : numpy.random.Generator
        Source of the initial weights.
    init : str
        Initialiser name (see :mod:`.initializers`).
    weight_scale : float
        Factor applied to every initial weight matrix (small W helps FA, spec §4.3).
    """

    def __init__(self, sizes, activation, rng, init="glorot_uniform", weight_scale=1.0):
        self.sizes = tuple(int(s) for s in sizes)
        self.act = get_activation(activation)
        draw = get_initializer(init)
        self.W = [weight_scale * draw(rng, o, i) for i, o in zip(self.sizes[:-1], self.sizes[1:])]
        self.b = [np.zeros(o) for o in self.sizes[1:]]

    @property
    def n_layers(self):
        """Number of weight layers L."""
        return len(self.W)

    @property
    def params(self):
        """Trainable arrays, weights then biases (the order optimisers see)."""
        return self.W + self.b

    def layer(self, l, z_prev):
        """Pre-activation and activation of weight layer ``l`` (0-based) from its input."""
        h = z_prev @ self.W[l].T + self.b[l]
        z = h if l == self.n_layers - 1 else self.act.f(h)
        return h, z

    def forward(self, X, noise=None):
        """Full forward pass.

        Parameters
        ----------
        X : ndarray (n, J_0)
        noise : list of ndarray or None
            Optional additive perturbation ξ^ℓ of each pre-activation h^ℓ (node
            perturbation, spec §4.8); ``None`` entries leave a layer clean.

        Returns
        -------
        hs, zs : lists
            ``hs[l]`` is h^{l+1}; ``zs[0]`` is x and ``zs[l+1]`` is z^{l+1}.
        """
        hs, zs = [], [X]
        for l in range(self.n_layers):
            h = zs[-1] @ self.W[l].T + self.b[l]
            if noise is not None and noise[l] is not None:
                h = h + noise[l]
            hs.append(h)
            zs.append(h if l == self.n_layers - 1 else self.act.f(h))
        return hs, zs

    def output(self, X):
        """Output pre-activation h^L."""
        return self.forward(X)[0][-1]

    def weight_grads(self, deltas, zs):
        """Batch-averaged descent directions from per-layer errors.

        ΔW^ℓ = (δ^ℓ)^T z^{ℓ−1} / n and Δb^ℓ = mean(δ^ℓ) for every layer, where
        ``deltas[l]`` is δ^{l+1} ∈ R^{n × J_{l+1}}. Returned in :attr:`params` order.
        """
        n = zs[0].shape[0]
        gW = [d.T @ z / n for d, z in zip(deltas, zs[:-1])]
        gb = [d.mean(axis=0) for d in deltas]
        return gW + gb


def backprop_deltas(stack, hs, delta_out, feedback=None):
    """Propagate an output error down the stack (spec §4.1 and §4.3).

    δ^ℓ = (δ^{ℓ+1} F^{ℓ+1}) ⊙ φ'(h^ℓ), with F^{ℓ+1} = W^{ℓ+1} for backprop or a feedback
    matrix of the same shape (FA, sign symmetry, KP, learned feedback) when
    ``feedback`` is given (a list indexed like ``stack.W``; entry 0 is unused).

    Returns the list of deltas, one per weight layer, output last.
    """
    F = stack.W if feedback is None else feedback
    deltas = [delta_out]
    for l in range(stack.n_layers - 1, 0, -1):
        deltas.insert(0, (deltas[0] @ F[l]) * stack.act.df(hs[l - 1]))
    return deltas
