"""Task losses L(y, output) and their gradients (spec §4.0).

Every loss works on a batch (rows are samples) and returns per-sample values, so
perturbation methods can difference clean and perturbed losses sample by sample.
Gradients are with respect to the output layer's pre-activation h^L and are *not*
divided by the batch size (the caller averages the weight updates).
"""
import numpy as np

from .activations import softmax


class SoftmaxCrossEntropy:
    """Softmax output with categorical negative log-likelihood.

    L = −Σ_i y_i log softmax(h^L)_i,   δ^L = ∂L/∂h^L = softmax(h^L) − y.
    """

    name = "softmax_cross_entropy"

    @staticmethod
    def per_sample(h, Y):
        logp = h - h.max(axis=1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
        return -(Y * logp).sum(axis=1)

    @staticmethod
    def delta(h, Y):
        return softmax(h) - Y


class SquaredError:
    """Identity output with squared error.

    L = ½ Σ_i (h^L_i − y_i)²,   δ^L = h^L − y.
    """

    name = "squared_error"

    @staticmethod
    def per_sample(h, Y):
        return 0.5 * ((h - Y) ** 2).sum(axis=1)

    @staticmethod
    def delta(h, Y):
        return h - Y
