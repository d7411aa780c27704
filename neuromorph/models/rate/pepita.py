"""PEPITA / error forward-propagation (Dellaferrera & Kreiman 2022; spec §4.23, SEL:FO)."""
import numpy as np

from .feedforward import FeedforwardClassifier
from .metadata import Family


class Pepita(
    FeedforwardClassifier, family=Family.SEL_FO, checklist="pepita", algorithm="PEPITA",
    spec_section="4.23",
):
    """Two forward passes, the second with the error projected onto the input.

    ::

        pass 1:  z^ℓ from x;  e = softmax(h^L) − y
        pass 2:  x̃ = x + e F^T  (F ∈ R^{J_0 × C} fixed random);  z̃^ℓ from x̃
        hidden:  ΔW^ℓ = (z^ℓ − z̃^ℓ)^T z̃^{ℓ−1} / n       descent
        output:  ΔW^L = e^T z̃^{L−1} / n                  descent

    No backward pass and no transposed weights: the error modulates the *input* and
    every layer learns from the change of its own activity between the two passes.

    Extra parameters
    ----------------
    feedback_scale : float > 0
        F entries ~ U(−a, a), a = feedback_scale · sqrt(6 / J_0) (paper: 0.05).
    """

    _params = dict(feedback_scale=0.05, activation="relu", init="he_normal",
                   optimizer="sgd", learning_rate=0.01)

    def _init_rule(self, sizes):
        a = self.feedback_scale * np.sqrt(6.0 / sizes[0])
        self.projection_ = self._rng.uniform(-a, a, size=(sizes[0], sizes[-1]))

    def _directions(self, hs, zs, Y):
        e = self.loss.delta(hs[-1], Y)
        _, zt = self.net_.forward(zs[0] + e @ self.projection_.T)
        deltas = [z - t for z, t in zip(zs[1:-1], zt[1:-1])] + [e]
        return self.net_.weight_grads(deltas, zt)
