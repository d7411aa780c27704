"""Forward-Forward, supervised form (Hinton 2022; spec §4.20, SEL:FO)."""
import numpy as np

from ._validation import check_choice, check_positive
from .activations import layer_norm
from .base import RateClassifier
from .layers import DenseStack
from .metadata import Family


def goodness_step(W, b, act, r_in, c, theta):
    """One layer's forward pass and local goodness-loss directions.

    Goodness is the mean square activity, G = (1/J) Σ_j z_j², and
    p = σ(G − θ) is the probability that the input is positive (c = 1)::

        L = −[c log p + (1 − c) log(1 − p)],   ∂L/∂G = p − c
        ΔW = ((p − c) (2/J) z ⊙ φ'(h))^T r_in / n         descent

    Returns (z, loss per sample, gW, gb).
    """
    h = r_in @ W.T + b
    z = act.f(h)
    J = z.shape[1]
    G = (z**2).mean(axis=1)
    p = 0.5 * (1.0 + np.tanh(0.5 * (G - theta)))
    loss = np.logaddexp(0.0, -(G - theta)) * c + np.logaddexp(0.0, G - theta) * (1 - c)
    d = ((p - c) * 2.0 / J)[:, None] * z * act.df(h)
    return z, loss, d.T @ r_in / len(d), d.mean(axis=0)


class ForwardForward(
    RateClassifier, family=Family.SEL_FO, checklist="ff", algorithm="Forward-Forward",
    spec_section="4.20",
):
    """Greedy per-layer goodness learning with the label embedded in the input.

    The input is [x, s·onehot(label)]; positive data carry the true label, negative data
    a wrong one. Each layer sees only the length-normalised activity of the layer below,
    z^ℓ = φ(W^ℓ LN(z^{ℓ−1}) + b^ℓ), and descends its own loss (see
    :func:`goodness_step`); no error crosses a layer boundary. Prediction embeds every
    label in turn and picks the one with the largest goodness summed over layers
    (``decision_scores`` returns those sums).

    Extra parameters
    ----------------
    threshold : float > 0
        θ of p = σ(G − θ) (mean-square goodness).
    label_scale : float > 0
        s, amplitude of the embedded one-hot label.
    negatives : {"hard", "random"}
        Wrong label per sample: the currently most-confusable one ("hard") or uniform.
    """

    _params = dict(activation="relu", threshold=0.5, label_scale=3.0, negatives="hard",
                   learning_rate=1e-2)

    def _check_extra_params(self):
        check_positive("threshold", self.threshold)
        check_positive("label_scale", self.label_scale)
        check_choice("negatives", self.negatives, ("hard", "random"))

    def _initialize(self, n_features, n_classes):
        sizes = (n_features + n_classes,) + self._hidden
        self.net_ = DenseStack(sizes + (1,), self.activation, self._rng, "he_normal")
        self.net_.W.pop(), self.net_.b.pop()  # no output layer: goodness is the output
        self._opt = self._optimizer()

    def _embed(self, X, labels):
        E = np.zeros((len(X), len(self.classes_)))
        E[np.arange(len(X)), labels] = self.label_scale
        return np.hstack([X, E])

    def _goodness(self, X, labels):
        """Summed goodness over layers for inputs carrying ``labels``."""
        r, total = layer_norm(self._embed(X, labels)), 0.0
        for W, b in zip(self.net_.W, self.net_.b):
            z = self.net_.act.f(r @ W.T + b)
            total = total + (z**2).mean(axis=1)
            r = layer_norm(z)
        return total

    def _scores(self, X):
        C = len(self.classes_)
        return np.stack([self._goodness(X, np.full(len(X), k)) for k in range(C)], axis=1)

    def _negative_labels(self, X, y):
        C = len(self.classes_)
        if self.negatives == "hard":
            G = self._scores(X)
            G[np.arange(len(y)), y] = -np.inf
            return np.argmax(G, axis=1)
        return (y + self._rng.integers(1, C, size=len(y))) % C

    def _train_batch(self, X, Y):
        y = Y.argmax(axis=1)
        neg = self._negative_labels(X, y)
        r = layer_norm(np.vstack([self._embed(X, y), self._embed(X, neg)]))
        c = np.r_[np.ones(len(X)), np.zeros(len(X))]
        gW, gb, loss = [], [], 0.0
        for W, b in zip(self.net_.W, self.net_.b):
            z, l, dW, db = goodness_step(W, b, self.net_.act, r, c, self.threshold)
            gW.append(dW), gb.append(db)
            loss += l.mean()
            r = layer_norm(z)
        self._opt.step(self.net_.params, gW + gb)
        return loss
