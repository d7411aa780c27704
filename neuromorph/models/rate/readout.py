"""Linear readout of learned features: how unsupervised families become classifiers.

The survey probes an unsupervised or generative learner (recirculation, RBM, Helmholtz
machine, the Hebbian rules) by a linear classifier on its features. Here that readout is
a softmax layer trained by the delta rule on the features of each batch, alongside the
feature learning; only the readout ever sees a label::

    scores = z V^T + c,     ΔV = (softmax(z V^T + c) − y)^T z / n,   Δc = mean(softmax − y)

(descent, handed to the estimator's optimiser). :class:`FeatureReadoutClassifier` owns
the readout, the epoch metrics of the feature learner and ``transform``; a family supplies
the feature learner.
"""
import numpy as np
from sklearn.base import TransformerMixin

from ._validation import check_positive
from .activations import softmax
from .base import RateClassifier
from .losses import SoftmaxCrossEntropy


def readout_step(optimizer, readout, z, Y):
    """One delta-rule step of the softmax readout ``[V, c]`` on features ``z``.

    Returns the batch-mean cross-entropy before the step.
    """
    V, c = readout
    h = z @ V.T + c
    d = softmax(h) - Y
    optimizer.step(readout, [d.T @ z / len(z), d.mean(axis=0)])
    return SoftmaxCrossEntropy.per_sample(h, Y).mean()


class FeatureReadoutClassifier(TransformerMixin, RateClassifier):
    """Unsupervised feature learner + softmax readout (abstract): a classifier and a
    transformer (``fit_transform`` = ``fit(X, y).transform(X)``).

    A family implements ``_init_features(n_features)`` (returns the feature width),
    ``_features(X)`` (the deterministic features the readout sees; also ``transform``),
    ``_learn_features(X)`` (one unsupervised step on a batch) and
    ``reconstruction_error(X)``.

    Extra parameters
    ----------------
    feature_learning_rate : float > 0
        Step size α of the (ascent) feature rule, applied as plain SGD, as in the
        original papers; ``learning_rate`` and ``optimizer`` serve the readout.

    Attributes
    ----------
    readout_ : list [V, c]
        Readout weights (C × J) and bias.
    history_ : dict
        Besides the base keys (``"loss"``: the readout's cross-entropy),
        ``"reconstruction_error"``: mean per-sample squared reconstruction error on the
        epoch's data after each epoch (see :meth:`reconstruction_error`).
    """

    _params = dict(feature_learning_rate=0.05)
    _history_keys = ("loss", "accuracy", "wall_s", "reconstruction_error")

    def _check_extra_params(self):
        check_positive("feature_learning_rate", self.feature_learning_rate)
        self._check_rule_params()

    def _check_rule_params(self):
        """Rule-specific checks (override)."""

    def _check_single_layer(self):
        if len(self._hidden) != 1:
            raise ValueError("hidden_layer_sizes must name exactly one hidden layer for "
                             f"{type(self).__name__}, got {self.hidden_layer_sizes!r}")

    def _initialize(self, n_features, n_classes):
        J = self._init_features(n_features)
        self.readout_ = [np.zeros((n_classes, J)), np.zeros(n_classes)]
        self._opt = self._optimizer()

    def _scores(self, X):
        V, c = self.readout_
        return self._features(X) @ V.T + c

    def _train_batch(self, X, Y):
        z = self._features(X)
        self._learn_features(X)
        return readout_step(self._opt, self.readout_, z, Y)

    def _epoch(self, X, y):
        super()._epoch(X, y)
        for key, value in self._epoch_metrics(X).items():
            self.history_[key].append(value)

    def _epoch_metrics(self, X):
        """Unsupervised metrics recorded after each epoch (extend)."""
        return {"reconstruction_error": float(self._reconstruction_error(X).mean())}

    def transform(self, X):
        """Learned features of ``X``, shape (n, J): what the readout sees."""
        return self._features(self._validated(X))

    def reconstruction_error(self, X):
        """Per-sample squared reconstruction error ‖x − x̂‖² (see the family's docs)."""
        return self._reconstruction_error(self._validated(X))

    # hooks ------------------------------------------------------------------
    def _init_features(self, n_features):  # pragma: no cover - abstract
        raise NotImplementedError

    def _features(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _learn_features(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _reconstruction_error(self, X):  # pragma: no cover - abstract
        raise NotImplementedError
