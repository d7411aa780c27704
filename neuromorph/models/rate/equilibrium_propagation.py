"""Equilibrium propagation, rate form (Scellier & Bengio 2017; spec §4.19, SEL:EB)."""

from ._validation import check_choice, check_positive
from .base import RateClassifier
from .energy import energy, feedforward_states, hebbian_products, relax
from .layers import DenseStack
from .metadata import Family


class _EnergyBased(RateClassifier):
    """Layered Hopfield network with settling phases (abstract; see :mod:`.energy`).

    Extra parameters
    ----------------
    n_free : int > 0
        Euler steps of the free phase (also used at prediction time).
    step : float in (0, 1]
        Euler step ε.
    """

    _params = dict(activation="hard_sigmoid", n_free=40, step=0.5)
    _activations = ("hard_sigmoid", "sigmoid")

    def _check_extra_params(self):
        check_positive("n_free", self.n_free, integer=True)
        check_positive("step", self.step)
        if self.step > 1:
            raise ValueError(f"step must be in (0, 1], got {self.step!r}")
        self._check_rule_params()

    def _initialize(self, n_features, n_classes):
        sizes = self._layer_sizes(n_features, n_classes)
        self.net_ = DenseStack(sizes, self.activation, self._rng)
        self._rho = self.net_.act
        self._opt = self._optimizer()

    def free_phase(self, X):
        """Free fixed point: states after ``n_free`` steps from the bottom-up sweep."""
        init = feedforward_states(self.net_, self._rho, X)
        return relax(self.net_, self._rho, X, init, self.n_free, self.step)

    def energy(self, X, states, beta=0.0, Y=None):
        """Per-sample total energy F = E + β C of ``states``."""
        return energy(self.net_, self._rho, X, states, beta, Y)

    def _scores(self, X):
        return self.free_phase(X)[-1]

    def _train_batch(self, X, Y):
        free = self.free_phase(X)
        self._opt.step(self.net_.params, self._contrast(X, Y, free))
        return 0.5 * float(((free[-1] - Y) ** 2).sum(axis=1).mean())

    def update_directions(self, X, Y):
        """Descent directions of one update on (X, Y) (W's then b's)."""
        return self._contrast(X, Y, self.free_phase(X))


class EquilibriumPropagation(
    _EnergyBased, family=Family.SEL_EB, checklist="ep", algorithm="Equilibrium propagation",
    spec_section="4.19",
):
    """Free phase, weakly nudged phase, contrastive local update.

    ::

        free:    relax with β = 0 to h^{ℓ,0}          (prediction: h^{L,0})
        nudged:  continue with β > 0 to h^{ℓ,β}
        ΔW^ℓ = (1/β) (ρ(h^{ℓ,β}) ρ(h^{ℓ−1,β})^T − ρ(h^{ℓ,0}) ρ(h^{ℓ−1,0})^T) / n    ascent
        Δb^ℓ = (1/β) mean(ρ(h^{ℓ,β}) − ρ(h^{ℓ,0}))

    As β → 0 this equals −∂C(h^{L,0}(θ), y)/∂θ, the gradient recurrent backprop would
    compute (Scellier & Bengio 2017; the oracle test checks it against finite
    differences). ``nudging="symmetric"`` uses phases at +β and −β and divides by 2β,
    which cancels the O(β) bias (Laborieux et al. 2021); ``"random_sign"`` draws the
    sign of β per batch, cancelling the bias on average.

    Extra parameters
    ----------------
    beta : float > 0
        Nudging strength β.
    n_nudged : int > 0
        Euler steps of each nudged phase.
    nudging : {"positive", "symmetric", "random_sign"}
    """

    _params = dict(beta=0.5, n_nudged=10, nudging="symmetric", hidden_layer_sizes=(256,),
                   learning_rate=1e-3)

    def _check_rule_params(self):
        check_positive("beta", self.beta)
        check_positive("n_nudged", self.n_nudged, integer=True)
        check_choice("nudging", self.nudging, ("positive", "symmetric", "random_sign"))

    def _nudged(self, X, Y, free, beta):
        return relax(self.net_, self._rho, X, free, self.n_nudged, self.step, beta, Y)

    def _contrast(self, X, Y, free):
        if self.nudging == "symmetric":
            plus, minus = self.beta, -self.beta
            lo = hebbian_products(self._rho, X, self._nudged(X, Y, free, minus))
        else:
            plus = self.beta
            if self.nudging == "random_sign" and self._rng.random() < 0.5:
                plus = -self.beta
            minus = 0.0
            lo = hebbian_products(self._rho, X, free)
        hi = hebbian_products(self._rho, X, self._nudged(X, Y, free, plus))
        return [-(a - b) / (plus - minus) for a, b in zip(hi, lo)]  # descent = −ascent
