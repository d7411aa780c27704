"""Contrastive Hebbian learning (Movellan 1991; Xie & Seung 2003; spec §4.17, SEL:EB)."""
from ._validation import check_choice, check_number, check_positive
from .energy import feedforward_states, hebbian_products, relax
from .equilibrium_propagation import _EnergyBased
from .metadata import Family


class ContrastiveHebbian(
    _EnergyBased, family=Family.SEL_EB, checklist="chl", algorithm="Contrastive Hebbian learning",
    spec_section="4.17",
):
    """Clamped phase, then free phase; the update is the difference of Hebbian products.

    ::

        negative (free):    only x clamped, relax from the bottom-up sweep → h^{ℓ,−}
        positive (clamped): x and h^L = y clamped, start from h^{ℓ,−} → h^{ℓ,+}
        ΔW^ℓ = γ^{−(L−ℓ)} (ρ(h^{ℓ,+}) ρ(h^{ℓ−1,+})^T − ρ(h^{ℓ,−}) ρ(h^{ℓ−1,−})^T) / n   ascent

    Top-down input is damped by the feedback gain γ (0 < γ ≤ 1); the γ^{−(L−ℓ)} factor
    is Xie & Seung's scaling that makes CHL approximate backprop in layered nets. The
    prediction is the free phase from the bottom-up sweep, like EP. By default the free
    phase comes first, so the negative phase is exactly the state the network predicts
    from (``phase_order="clamped_first"`` runs Movellan's order, the free phase starting
    from the clamped state; it can settle in a different mode than prediction does,
    which is CHL's known failure, spec §4.17).

    Extra parameters
    ----------------
    gamma : float in (0, 1]
        Feedback gain γ.
    n_clamped : int > 0
        Euler steps of the clamped phase.
    phase_order : {"free_first", "clamped_first"}

    Notes
    -----
    With η = 1e-3 the network reaches ~96 % on digits after ~10 epochs and then
    collapses (free and clamped phases settle in different modes; < 50 % after 30
    epochs); the defaults η = 3e-4, 20 epochs stay on the plateau (~95 %,
    experiments/rate_defaults.py).
    """

    _params = dict(gamma=0.2, n_clamped=20, phase_order="free_first", hidden_layer_sizes=(256,),
                   learning_rate=3e-4, max_iter=20)

    def _check_rule_params(self):
        check_number("gamma", self.gamma, low=0, high=1, low_open=True)
        check_positive("n_clamped", self.n_clamped, integer=True)
        check_choice("phase_order", self.phase_order, ("free_first", "clamped_first"))

    def free_phase(self, X):
        init = feedforward_states(self.net_, self._rho, X)
        return relax(self.net_, self._rho, X, init, self.n_free, self.step, gain=self.gamma)

    def phases(self, X, Y, free):
        """(clamped, free) states h^{ℓ,+}, h^{ℓ,−} of one update, given the free phase
        from the bottom-up sweep (``free``; reused as h^{ℓ,−} when the free phase
        comes first)."""
        net, rho, g = self.net_, self._rho, self.gamma
        plus = relax(net, rho, X, free, self.n_clamped, self.step, clamp_output=Y, gain=g)
        if self.phase_order == "clamped_first":
            minus = relax(net, rho, X, plus, self.n_free, self.step, gain=g)
        else:
            minus = free
        return plus, minus

    def _phase_difference(self, X, plus, minus):
        """Ascent directions (W's then b's) from the two phases, before γ-scaling."""
        hi, lo = hebbian_products(self._rho, X, plus), hebbian_products(self._rho, X, minus)
        return [a - b for a, b in zip(hi, lo)]

    def _contrast(self, X, Y, free):
        plus, minus = self.phases(X, Y, free)
        L, g = self.net_.n_layers, self.gamma
        scale = [g ** -(L - 1 - l) for l in range(L)] * 2
        return [-s * d for s, d in zip(scale, self._phase_difference(X, plus, minus))]
