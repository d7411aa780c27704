"""Local losses / local signalers (Mostafa, Ramesh & Cauwenberghs 2018; spec §4.12, NSEL)."""

from .activations import softmax
from .feedforward import FeedforwardClassifier
from .initializers import direct_feedback
from .metadata import Family


class LocalLosses(
    FeedforwardClassifier, family=Family.NSEL, checklist="local_losses", algorithm="Local losses",
    spec_section="4.12",
):
    """Every hidden layer learns from its own fixed random classifier.

    ::

        ȳ^ℓ = softmax(z^ℓ (K^ℓ)^T),     K^ℓ ∈ R^{C × J_ℓ} fixed random
        δ̂^ℓ = ((ȳ^ℓ − y) B^ℓ) ⊙ φ'(h^ℓ),  B^ℓ ∈ R^{C × J_ℓ} fixed random
        ΔW^ℓ = (δ̂^ℓ)^T z^{ℓ−1} / n       descent;  top layer: ordinary delta rule

    No error crosses a layer boundary: each layer's update needs only its own activity,
    the label and two fixed matrices (S1 Eq. 19–20).

    Extra parameters
    ----------------
    feedback_scale : float > 0
        K and B entries are N(0, feedback_scale² / C).

    Attributes
    ----------
    classifiers_, feedback_ : lists of ndarray
        K^ℓ and B^ℓ of each hidden layer.
    """

    _params = dict(feedback_scale=1.0, learning_rate=3e-3)

    def _init_rule(self, sizes):
        self.classifiers_ = direct_feedback(self._rng, sizes, self.feedback_scale)
        self.feedback_ = direct_feedback(self._rng, sizes, self.feedback_scale)

    def local_predictions(self, X):
        """Class probabilities of each hidden layer's local classifier (early exits)."""
        zs = self.net_.forward(self._validated(X))[1]
        return [softmax(z @ K.T) for z, K in zip(zs[1:-1], self.classifiers_)]

    def _directions(self, hs, zs, Y):
        act = self.net_.act
        deltas = [
            ((softmax(z @ K.T) - Y) @ B) * act.df(h)
            for z, h, K, B in zip(zs[1:-1], hs[:-1], self.classifiers_, self.feedback_)
        ]
        deltas.append(self.loss.delta(hs[-1], Y))
        return self.net_.weight_grads(deltas, zs)
