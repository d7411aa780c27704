"""Elementwise activations φ and their derivatives φ' (spec §0.2).

Each :class:`Activation` carries the function and its derivative *with respect to the
pre-activation* h, so every family computes ``φ'(h)`` the same way. Derivatives at the
kinks of piecewise-linear functions use the right-continuous convention (ReLU'(0) = 0).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity z = φ(h) with derivative φ'(h).

    Attributes
    ----------
    name : str
        Registry name.
    f : callable
        φ(h).
    df : callable
        φ'(h), elementwise derivative evaluated at the pre-activation.
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]

    def __call__(self, h):
        return self.f(h)

    def __reduce__(self):  # pickle by name: the lambdas themselves are not picklable
        return (get_activation, (self.name,))


def _sigmoid(h):
    return 0.5 * (1.0 + np.tanh(0.5 * h))  # overflow-free logistic σ(h)


ACTIVATIONS = {
    "identity": Activation("identity", lambda h: h, lambda h: np.ones_like(h)),
    "relu": Activation("relu", lambda h: np.maximum(h, 0.0), lambda h: (h > 0).astype(h.dtype)),
    "tanh": Activation("tanh", np.tanh, lambda h: 1.0 - np.tanh(h) ** 2),
    "sigmoid": Activation("sigmoid", _sigmoid, lambda h: _sigmoid(h) * (1.0 - _sigmoid(h))),
    # hard sigmoid ρ(h) = clip(h, 0, 1): the activation of equilibrium propagation (spec §4.19)
    "hard_sigmoid": Activation(
        "hard_sigmoid",
        lambda h: np.clip(h, 0.0, 1.0),
        lambda h: ((h > 0) & (h < 1)).astype(h.dtype),
    ),
}


def get_activation(name):
    """Return the :class:`Activation` registered under ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not one of ``ACTIVATIONS``.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def softmax(h):
    """Row-wise softmax, softmax(h)_i = exp(h_i) / Σ_j exp(h_j), stabilised by max-shift."""
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def layer_norm(z, eps=1e-8):
    """Length normalisation LN(v) = v / (‖v‖₂ + ε), row-wise (spec §0.2, used by FF)."""
    return z / (np.linalg.norm(z, axis=1, keepdims=True) + eps)
