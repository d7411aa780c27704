"""Backpropagation of errors: the reference baseline (spec §4.1)."""
from .feedforward import FeedforwardClassifier
from .layers import backprop_deltas
from .metadata import Family


class Backprop(
    FeedforwardClassifier, family=Family.BASELINE, checklist="backprop",
    algorithm="Backpropagation", spec_section="4.1",
):
    """Multilayer perceptron trained by reverse-mode differentiation.

    Equations (S1 Eq. 2–5, typos fixed; rows are samples)::

        δ^L = softmax(h^L) − y
        δ^ℓ = (δ^{ℓ+1} W^{ℓ+1}) ⊙ φ'(h^ℓ)          ℓ = L−1..1
        ΔW^ℓ = (δ^ℓ)^T z^{ℓ−1} / B                 descent

    Parameters are those of :class:`~neuromorph.models.rate.base.RateClassifier` plus
    ``init`` and ``weight_scale``.
    """


    def _directions(self, hs, zs, Y):
        return self.net_.weight_grads(backprop_deltas(self.net_, hs, self.loss.delta(hs[-1], Y)), zs)
