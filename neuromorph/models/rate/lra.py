"""Local representation alignment (Ororbia et al. 2018; Ororbia & Mali 2019; spec §4.15)."""

from ._validation import check_choice, check_positive
from .feedforward import FeedforwardClassifier
from .initializers import layerwise_feedback
from .metadata import Family


class LocalRepresentationAlignment(
    FeedforwardClassifier, family=Family.SEL_DR, checklist="lra",
    algorithm="Local representation alignment", spec_section="4.15",
):
    """Layer targets from one step of error-message passing (S1 Eq. 28–29).

    With rows as samples and error synapses E^{ℓ+1} stored in W^{ℓ+1}'s orientation::

        e^L = softmax(h^L) − y
        ẑ^ℓ = φ(h^ℓ − β e^{ℓ+1} E^{ℓ+1}),   e^ℓ = z^ℓ − ẑ^ℓ        ℓ = L−1..1
        ΔW^ℓ = (e^ℓ)^T z^{ℓ−1} / n                                  descent
        E^{ℓ+1}: ``"fixed"`` random, or ``"kp"`` — receives the increment of W^{ℓ+1}
                 scaled by γ (the transpose-of-forward-update variant of the LRA papers)

    No activation derivatives and no transported weights.

    Extra parameters
    ----------------
    beta : float > 0
        Target step β.
    error_synapses : {"kp", "fixed"}
    error_rate : float > 0
        γ of the ``"kp"`` error-synapse update.
    feedback_scale : float > 0
        Scale of the random initial E.
    """

    _params = dict(beta=0.5, error_synapses="kp", error_rate=0.9, feedback_scale=1.0)

    def _check_rule_params(self):
        check_positive("beta", self.beta)
        check_choice("error_synapses", self.error_synapses, ("kp", "fixed"))
        check_positive("error_rate", self.error_rate)

    def _init_rule(self, sizes):
        self.error_synapses_ = layerwise_feedback(self._rng, sizes, self.feedback_scale)

    def targets(self, hs, zs, Y):
        """Hidden targets ẑ^ℓ and errors e^ℓ (lists over hidden layers)."""
        act = self.net_.act
        e = self.loss.delta(hs[-1], Y)
        targets, errors = [], [e]
        for l in range(self.net_.n_layers - 1, 0, -1):
            t = act.f(hs[l - 1] - self.beta * (errors[0] @ self.error_synapses_[l]))
            targets.insert(0, t)
            errors.insert(0, zs[l] - t)
        return targets, errors

    def _directions(self, hs, zs, Y):
        return self.net_.weight_grads(self.targets(hs, zs, Y)[1], zs)

    def _after_step(self, increments):
        if self.error_synapses == "kp":
            for l in range(1, self.net_.n_layers):
                self.error_synapses_[l] += self.error_rate * increments[l]
