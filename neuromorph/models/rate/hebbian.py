"""Implicit-family feature learners with a supervised readout (spec §4.2, family Imp).

One hidden layer of features h = x W^T, z = φ(h) (optionally sparsified by k-winners-
take-all, with homeostatic per-unit thresholds θ_i that rise when a unit wins more
than its share k/J, θ_i ← θ_i + α_h (f_i − k/J), so every unit gets to learn) learns
*without any target* from a purely local rule; a softmax readout on
the features learns by the delta rule (Widrow–Hoff with a softmax output,
ΔV = (softmax(z V^T) − y)^T z / n, descent). Only the readout ever sees a label.
Feature rules are ascent rules; each returns ΔW for one batch.
"""
import numpy as np

from ._validation import check_number, check_positive
from .base import RateClassifier
from .metadata import Family
from .readout import readout_step


def k_winners(h, k, bias=None):
    """k-WTA (S1 Algorithm 1): keep the k largest entries of each row, zero the rest.

    With ``bias`` (one value per unit) the winners are the k largest of h − bias, but
    the kept values are those of h (homeostatic thresholds only bias the competition).
    """
    if k is None or k >= h.shape[1]:
        return h
    out = np.zeros_like(h)
    score = h if bias is None else h - bias
    idx = np.argpartition(-score, k - 1, axis=1)[:, :k]
    rows = np.arange(h.shape[0])[:, None]
    out[rows, idx] = h[rows, idx]
    return out


def _normalised_step(W, dW, alpha):
    """The ascent direction that takes W to the row-normalised W + α dW (Oja, BCM)."""
    new = W + alpha * dW
    new /= np.linalg.norm(new, axis=1, keepdims=True) + 1e-12
    return (new - W) / alpha


class _FeatureLearner(RateClassifier, family=Family.IMP, checklist="hebbian", spec_section="4.2"):
    """Unsupervised feature layer + delta-rule readout (abstract).

    Extra parameters
    ----------------
    feature_learning_rate : float > 0
        α of the (ascent) feature rule.
    k_winners : int > 0 or None
        Units kept active per sample by k-WTA (None: no competition).
    homeostasis : float >= 0
        α_h of the homeostatic thresholds (used with k-WTA).

    Attributes
    ----------
    features_ : ndarray (J, J_0)
        Feature weights W.
    readout_ : list [V, c]
        Readout weights and bias.
    """

    _params = dict(hidden_layer_sizes=(256,), activation="relu", feature_learning_rate=1e-2,
                   k_winners=None, homeostasis=0.05)

    def _check_extra_params(self):
        if len(self._hidden) != 1:
            raise ValueError("hidden_layer_sizes must name exactly one feature layer for "
                             f"{type(self).__name__}, got {self.hidden_layer_sizes!r}")
        check_positive("feature_learning_rate", self.feature_learning_rate)
        if self.k_winners is not None:
            check_positive("k_winners", self.k_winners, integer=True)
        check_number("homeostasis", self.homeostasis, low=0)
        self._check_rule_params()

    def _check_rule_params(self):
        """Rule-specific checks (override)."""

    def _initialize(self, n_features, n_classes):
        from .activations import get_activation

        J = self._hidden[0]
        self._act = get_activation(self.activation)
        self.features_ = self._initial_features(J, n_features)
        self.readout_ = [np.zeros((n_classes, J)), np.zeros(n_classes)]
        self._opt = self._optimizer()
        self.unit_thresholds_ = np.zeros(J)
        self._init_rule(J)

    def _initial_features(self, J, n_features):
        W = self._rng.normal(size=(J, n_features))
        return W / np.linalg.norm(W, axis=1, keepdims=True)

    def _init_rule(self, J):
        """Rule state (override)."""

    def encode(self, X):
        """Feature activities z = kWTA(φ(x W^T))."""
        return self._features(self._validated(X))

    def _features(self, X):
        return k_winners(self._act.f(self._drive(X)), self.k_winners, self.unit_thresholds_)

    def _drive(self, X):
        return X @ self.features_.T

    def _scores(self, X):
        V, c = self.readout_
        return self._features(X) @ V.T + c

    def _train_batch(self, X, Y):
        z = self._features(X)
        self.features_ += self.feature_learning_rate * self._rule(X, z)
        if self.k_winners is not None:
            share = min(self.k_winners, z.shape[1]) / z.shape[1]
            self.unit_thresholds_ += self.homeostasis * ((z != 0).mean(axis=0) - share)
        return readout_step(self._opt, self.readout_, z, Y)

    def _rule(self, X, z):  # pragma: no cover - abstract
        raise NotImplementedError


class SoftBoundHebbian(_FeatureLearner, algorithm="Hebbian (soft bounds)"):
    """Hebbian learning with soft bounds and decay (S1 Eq. 6).

    ::

        ΔW = (w_max − W) ⊙ (z^T x / n) − γ W,     W ≥ 0 (clipped)

    The drive of unit i is normalised by its total weight, h_i = Σ_j W_ij x_j / Σ_j W_ij.
    Weights grow with pre/post coincidence and saturate softly at w_max. With k-WTA the
    postsynaptic factor is the winner indicator (z_i > 0), so a weight settles at
    w_max·c_ij / (c_ij + γ), c_ij = mean(1[i wins] x_j): selective for the inputs that
    make unit i win.

    Extra parameters
    ----------------
    w_max : float > 0
    decay : float >= 0
        γ.
    """

    _params = dict(w_max=1.0, decay=1e-2, k_winners=16)

    def _check_rule_params(self):
        check_positive("w_max", self.w_max)
        check_number("decay", self.decay, low=0)

    def _initial_features(self, J, n_features):
        return self._rng.uniform(0, 0.1 * self.w_max, size=(J, n_features))

    def _drive(self, X):
        # drive normalised by each unit's total weight: a weighted mean of its inputs, so
        # units that grew everywhere do not win every competition
        return X @ self.features_.T / (self.features_.sum(axis=1) + 1e-12)

    def _rule(self, X, z):
        post = (z != 0).astype(float) if self.k_winners is not None else z
        dW = (self.w_max - self.features_) * (post.T @ X / len(X)) - self.decay * self.features_
        np.maximum(self.features_ + self.feature_learning_rate * dW, 0, out=dW)
        return (dW - self.features_) / self.feature_learning_rate


class Oja(_FeatureLearner, algorithm="Oja"):
    """Oja's rule per unit (Oja 1982), normalising Hebbian growth.

    ::

        w_i ← (w_i + α Σ_n z_i x / n) / ‖w_i + α Σ_n z_i x / n‖

    Oja's normalised Hebbian update (Oja 1982, Eq. 2); its first-order expansion in α is
    the familiar Oja's rule Δw_i = z_i (x − z_i w_i). The normalised form is used because
    the expansion diverges once α z_i² exceeds ~2 (bright or unscaled inputs: the weights
    oscillate and overflow), while the normalised form keeps every row at unit norm for
    any input. Each unit's weight vector converges along a principal direction of its
    (k-WTA-gated) input; competition makes units pick different directions.
    """

    # α = 1e-2 lets the features drift faster than the readout follows (~88 % on
    # digits); α = 1e-3 gives ~96 % (experiments/rate_defaults.py)
    _params = dict(activation="identity", k_winners=16, feature_learning_rate=1e-3)

    def _rule(self, X, z):
        return _normalised_step(self.features_, z.T @ X / len(X), self.feature_learning_rate)


class BCM(_FeatureLearner, algorithm="BCM"):
    """Bienenstock–Cooper–Munro rule with a sliding threshold.

    ::

        ΔW = (z ⊙ (z − θ))^T x / n,      θ_i ← θ_i + α_θ (mean_n z_i² − θ_i)

    Activity above the unit's threshold potentiates, below depresses; the threshold
    tracks the mean squared activity so units become selective. Rows are renormalised
    to unit length after each step (stability).

    Extra parameters
    ----------------
    threshold_rate : float in (0, 1]
        α_θ.
    """

    # α = 1e-2 lets the features drift faster than the readout follows (~87 % on digits);
    # α = 1e-3 gives ~95 % (experiments/rate_defaults.py)
    _params = dict(threshold_rate=0.1, feature_learning_rate=1e-3)

    def _check_rule_params(self):
        check_number("threshold_rate", self.threshold_rate, low=0, high=1, low_open=True)

    def _init_rule(self, J):
        self.thresholds_ = np.ones(J)

    def _rule(self, X, z):
        dW = (z * (z - self.thresholds_)).T @ X / len(X)
        self.thresholds_ += self.threshold_rate * ((z**2).mean(axis=0) - self.thresholds_)
        return _normalised_step(self.features_, dW, self.feature_learning_rate)


class CompetitiveKWTA(_FeatureLearner, algorithm="Competitive learning (k-WTA)"):
    """Competitive learning with k winners (instar rule, S1 Eq. 8–10, Algorithm 1).

    Inputs and weight rows are length-normalised; the k units with the largest
    W x̂ win and move towards the input, the others stay::

        ΔW[q, :] = x̂ − W[q, :]   for each winner q;   other rows unchanged

    (averaged over the batch for each winning unit).
    """

    # defaults from the digits search of experiments/rate_defaults.py (issue 15 §4): with
    # α = 0.1 the features drift every batch and the readout never settles (10 % after
    # 30 epochs on one split); α = 2e-3 with stronger homeostasis reaches >= 93 %
    _params = dict(activation="identity", k_winners=8, feature_learning_rate=2e-3,
                   homeostasis=1e-2, learning_rate=1e-2)

    def _drive(self, X):
        Xn = X / (np.linalg.norm(X, axis=1, keepdims=True) + 1e-12)
        return np.maximum(Xn @ self.features_.T, 0.0)

    def _rule(self, X, z):
        Xn = X / (np.linalg.norm(X, axis=1, keepdims=True) + 1e-12)
        win = (z > 0).astype(float)
        counts = win.sum(axis=0)[:, None]
        dW = (win.T @ Xn - counts * self.features_) / np.maximum(counts, 1.0)
        return dW
