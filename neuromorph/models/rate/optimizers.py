"""Optimisers, kept apart from the credit-assignment rules (spec §0.4, item 4).

A learning rule emits a *descent direction* g for every parameter (spec §0.2 sign
convention: ascent rules hand over −ΔW). The optimiser turns directions into increments
u and adds them in place: θ ← θ + u. :meth:`Optimizer.step` returns the increments, so
rules such as Kolen–Pollack can apply the very same increment to a second matrix.
"""
import numpy as np


class Optimizer:
    """Base class: keeps one state slot per parameter, identified by position."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate
        self._state = None

    def step(self, params, grads):
        """Apply one update in place; return the list of increments u (θ ← θ + u)."""
        if self._state is None:
            self._state = [self._init_state(p) for p in params]
            self._shapes = [p.shape for p in params]
        if [p.shape for p in params] != self._shapes:
            raise ValueError("an optimizer instance serves one fixed list of parameters; got "
                             "different shapes than at its first step")
        incs = [self._increment(g, s) for g, s in zip(grads, self._state)]
        for p, u in zip(params, incs):
            p += u
        return incs

    def _init_state(self, p):
        raise NotImplementedError

    def _increment(self, g, state):
        raise NotImplementedError


class SGD(Optimizer):
    """SGD with (heavy-ball) momentum μ: v ← μ v − η g,  θ ← θ + v."""

    def __init__(self, learning_rate, momentum=0.9):
        super().__init__(learning_rate)
        self.momentum = momentum

    def _init_state(self, p):
        return {"v": np.zeros_like(p)}

    def _increment(self, g, state):
        state["v"] *= self.momentum
        state["v"] -= self.learning_rate * g
        return state["v"].copy()


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015).

    m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
    θ ← θ − η m̂ / (sqrt(v̂) + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ).
    """

    def __init__(self, learning_rate, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def _init_state(self, p):
        return {"m": np.zeros_like(p), "v": np.zeros_like(p), "t": 0}

    def _increment(self, g, state):
        state["t"] += 1
        t = state["t"]
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g
        mhat = state["m"] / (1 - self.beta1**t)
        vhat = state["v"] / (1 - self.beta2**t)
        return -self.learning_rate * mhat / (np.sqrt(vhat) + self.eps)


def make_optimizer(name, learning_rate, momentum=0.9):
    """Build an optimiser by name: ``"adam"`` or ``"sgd"`` (with ``momentum``)."""
    if name == "adam":
        return Adam(learning_rate)
    if name == "sgd":
        return SGD(learning_rate, momentum)
    raise ValueError(f"optimizer must be one of ['adam', 'sgd'], got {name!r}")
