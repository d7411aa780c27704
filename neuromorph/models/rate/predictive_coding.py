"""Predictive coding, rate form (Whittington & Bogacz 2017; spec §4.16, SEL:DR)."""
import numpy as np

from ._validation import check_positive
from .feedforward import FeedforwardClassifier
from .losses import SquaredError
from .metadata import Family


class PredictiveCoding(
    FeedforwardClassifier, family=Family.SEL_DR, checklist="pc", algorithm="Predictive coding",
    spec_section="4.16",
):
    """Supervised predictive coding: settle the value nodes, then local Hebbian updates.

    The network is a chain of value nodes x^ℓ (x^0 = input) with predictions and
    prediction-error nodes (unit precision, Σ = 1; S1 Eq. 30–36)::

        μ^ℓ = φ(x^{ℓ−1}) (W^ℓ)^T + b^ℓ            (φ = identity on the input layer)
        ε^ℓ = π^ℓ (x^ℓ − μ^ℓ)                     (π^ℓ = 1/Σ^ℓ; π^ℓ = 1 below the output)
        F   = Σ_ℓ (π^ℓ/2) ‖x^ℓ − μ^ℓ‖²

    Training clamps x^0 = x and x^L = y, initialises the hidden nodes with a feed-forward
    sweep (x^ℓ = μ^ℓ) and runs ``n_inference`` Euler steps of the state dynamics
    dx^ℓ/dt = −∂F/∂x^ℓ::

        x^ℓ ← x^ℓ + γ (−ε^ℓ + φ'(x^ℓ) ⊙ (ε^{ℓ+1} W^{ℓ+1}))     all hidden layers in parallel

    then applies the two-factor rules, error × presynaptic rate::

        ΔW^ℓ = (ε^ℓ)^T φ(x^{ℓ−1}) / n,   Δb^ℓ = mean(ε^ℓ)           ascent

    Test time clamps only x^0: the settled state is the feed-forward sweep, whose output
    μ^L is the prediction. The value nodes are the pre-activations h^ℓ of the equivalent
    MLP trained with squared error, against which the oracle test compares: the PC update
    approaches backprop's as the output error's weight on the hidden states vanishes
    (π^L → 0, Whittington & Bogacz 2017). At π^L = 1 the settled hidden nodes move by as
    much as the output error itself, so the output error is (I + J Jᵀ)⁻¹ times the
    feed-forward one and the cosine with backprop plateaus below 1 however small the
    target perturbation.

    Extra parameters
    ----------------
    n_inference : int > 0
        Inference steps T.
    inference_rate : float > 0
        Euler step γ = Δt/τ of the value-node dynamics.
    output_precision : float > 0
        π^L = 1/Σ^L, precision of the output error units.
    """

    loss = SquaredError
    _params = dict(n_inference=20, inference_rate=0.1, output_precision=1.0)

    def _check_rule_params(self):
        check_positive("n_inference", self.n_inference, integer=True)
        check_positive("inference_rate", self.inference_rate)
        check_positive("output_precision", self.output_precision)

    def _rates(self, xs):
        """Presynaptic rates φ(x^ℓ), identity on the input layer."""
        return [xs[0]] + [self.net_.act.f(x) for x in xs[1:]]

    def _errors(self, xs):
        """Precision-weighted errors ε^ℓ, ℓ = 1..L."""
        net = self.net_
        eps = [x - (r @ W.T + b) for x, r, W, b in zip(xs[1:], self._rates(xs), net.W, net.b)]
        eps[-1] = self.output_precision * eps[-1]
        return eps

    def energy(self, xs):
        """Free energy F = Σ (π^ℓ/2)‖x^ℓ − μ^ℓ‖², summed over the batch."""
        eps = self._errors(xs)
        eps[-1] = eps[-1] / np.sqrt(self.output_precision)
        return 0.5 * sum(float((e**2).sum()) for e in eps)

    def settle(self, X, Y, n_steps=None):
        """Clamp x and y, relax the hidden value nodes; returns (value nodes, errors)."""
        net = self.net_
        hs, _ = net.forward(X)
        xs = [X] + hs[:-1] + [Y]
        for _ in range(self.n_inference if n_steps is None else n_steps):
            eps = self._errors(xs)
            for l in range(1, net.n_layers):
                back = (eps[l] @ net.W[l]) * net.act.df(xs[l])
                xs[l] = xs[l] + self.inference_rate * (back - eps[l - 1])
        return xs, self._errors(xs)

    def _directions(self, hs, zs, Y):
        xs, eps = self.settle(zs[0], Y)
        rates = self._rates(xs)
        gW = [-(e.T @ r) / len(e) for e, r in zip(eps, rates)]
        gb = [-e.mean(axis=0) for e in eps]
        return gW + gb
