"""Restricted Boltzmann machine trained by contrastive divergence (spec §4.18, SEL:EB).

Bernoulli visible units v ∈ {0,1}^{J_0}, Bernoulli hidden units h ∈ {0,1}^{J}, weights
W ∈ R^{J × J_0} (S1 Eq. 39), visible bias b, hidden bias c (rows are samples)::

    E(v, h) = −h^T W v − b^T v − c^T h,       p(v, h) = exp(−E) / Z
    p(h_j = 1 | v) = σ(W v + c)_j,            p(v_i = 1 | h) = σ(W^T h + b)_i
    F(v) = −b^T v − Σ_j softplus((W v + c)_j)        (free energy, p(v) ∝ exp(−F(v)))
    ∂ log p(v) / ∂W = p(h|v) v^T − ⟨h v^T⟩_model      (S1 Eq. 41)

The functions here are the pure pieces (conditionals, Gibbs chain, free energy,
pseudo-likelihood, CD statistics); :class:`RBM` is the estimator around them.
"""
import numpy as np

from ._validation import check_choice, check_positive
from .activations import ACTIVATIONS
from .metadata import Family
from .readout import FeatureReadoutClassifier

_sigmoid = ACTIVATIONS["sigmoid"].f
_METRIC_ROWS = 256  # rows of the epoch's data the per-epoch pseudo-likelihood averages


def softplus(a):
    """log(1 + e^a), overflow-free (faster than ``np.logaddexp(0, a)``)."""
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


def hidden_probs(W, c, V):
    """p(h = 1 | v) = σ(v W^T + c), shape (n, J)."""
    return _sigmoid(V @ W.T + c)


def visible_probs(W, b, H):
    """p(v = 1 | h) = σ(h W + b), shape (n, J_0)."""
    return _sigmoid(H @ W + b)


def bernoulli(p, rng):
    """Binary samples with success probabilities ``p`` (one uniform draw per entry)."""
    return (rng.random(p.shape) < p).astype(np.float64)


def gibbs_chain(W, b, c, H, k, rng):
    """``k`` block-Gibbs alternations v ~ p(v|h), h ~ p(h|v) starting from hidden ``H``.

    Returns
    -------
    V : ndarray (n, J_0)
        Visible sample after the k-th alternation (v_k).
    PH : ndarray (n, J)
        p(h = 1 | v_k), the negative-phase hidden statistics.
    H : ndarray (n, J)
        Hidden sample drawn from ``PH`` (where a persistent chain continues).
    """
    for _ in range(k):
        V = bernoulli(visible_probs(W, b, H), rng)
        PH = hidden_probs(W, c, V)
        H = bernoulli(PH, rng)
    return V, PH, H


def cd_statistics(V_pos, PH_pos, V_neg, PH_neg):
    """Ascent directions [ΔW, Δb, Δc] from positive and negative statistics::

        ΔW = p(h|v⁺)^T v⁺ / n⁺ − p(h|v⁻)^T v⁻ / n⁻,  Δb = mean v⁺ − mean v⁻,
        Δc = mean p(h|v⁺) − mean p(h|v⁻)

    (hidden probabilities in place of samples: same expectation, less variance).
    """
    dW = PH_pos.T @ V_pos / len(V_pos) - PH_neg.T @ V_neg / len(V_neg)
    return [dW, V_pos.mean(axis=0) - V_neg.mean(axis=0), PH_pos.mean(axis=0) - PH_neg.mean(axis=0)]


def free_energy(W, b, c, V):
    """F(v) = −b^T v − Σ_j softplus((W v + c)_j), per sample."""
    return -V @ b - softplus(V @ W.T + c).sum(axis=1)


def pseudo_log_likelihood(W, b, c, V):
    """Σ_i log p(v_i | v_{−i}) per sample, summed over every visible unit::

        log p(v_i | v_{−i}) = log σ(F(v^{(i)}) − F(v)),   v^{(i)}: v with v_i → 1 − v_i

    For binary v this is the exact pseudo-log-likelihood (Besag 1975); scikit-learn's
    ``BernoulliRBM.score_samples`` is an unbiased one-unit-per-sample estimate of it
    (J_0 times the term of one random i). Continuous v use the same flip, as there.
    """
    A = V @ W.T + c
    F = -V @ b - softplus(A).sum(axis=1)
    total = np.zeros(len(V))
    for i in range(V.shape[1]):
        s = 1.0 - 2.0 * V[:, i]                      # v_i → 1 − v_i changes v_i by s
        Fi = -(V @ b + s * b[i]) - softplus(A + s[:, None] * W[:, i]).sum(axis=1)
        total -= softplus(F - Fi)                    # log σ(F_i − F)
    return total


class RBM(
    FeatureReadoutClassifier, family=Family.SEL_EB, checklist="cd_wake_sleep",
    algorithm="Restricted Boltzmann machine (CD-k / persistent CD)", spec_section="4.18",
):
    """Bernoulli RBM trained by CD-k or persistent CD, probed by a linear readout.

    CD-k (S1 Algorithm 2, Eq. 42–44), per batch v⁺::

        h⁰ ~ Bern(σ(W v⁺ + c));  k times: v ~ Bern(σ(W^T h + b)), h ~ Bern(σ(W v + c))
        ΔW = p(h|v⁺) v⁺^T − p(h|v_k) v_k^T          (batch means; ascent, W += α ΔW)

    Persistent CD (Tieleman 2008; ``sampling="pcd"``): the negative chains (as many as
    ``batch_size``, hidden states initialised to 0, as in scikit-learn) are not restarted
    at the data but continue from where the previous update left them, k alternations
    per update. As k → ∞ CD-k's expected update tends to the exact log-likelihood gradient
    ⟨h v^T⟩_data − ⟨h v^T⟩_model (S1 Eq. 41); the oracle tests check both by enumeration.

    The readout (:mod:`.readout`) sees the features p(h = 1 | v) (also ``transform``).
    Inputs are used as Bernoulli means; digits scaled to [0, 1] suit them.

    Scores
    ------
    ``score(X, y)`` is the readout's accuracy (a classifier); :meth:`score_samples` the
    pseudo-log-likelihood (nats per sample, scikit-learn's ``BernoulliRBM`` score);
    :meth:`reconstruction_error` ‖v − σ(W^T p(h|v) + b)‖² per sample (mean field).
    ``history_`` adds ``"pseudo_likelihood"`` (mean over ~256 evenly strided rows of the
    epoch's data, to keep epochs cheap) to ``"reconstruction_error"``.

    Extra parameters
    ----------------
    sampling : {"cd", "pcd"}
        Restart the negative chain at the data (CD-k) or keep persistent chains (PCD).
    cd_steps : int > 0
        Gibbs alternations k per update.
    feature_learning_rate : float > 0
        α of the CD update (plain SGD on the batch means, as scikit-learn's
        ``learning_rate``).
    init_scale : float > 0
        Standard deviation of the initial weights W ~ N(0, init_scale²) (scikit-learn:
        0.01; 0.1 gives informative features from the first epochs, e.g. 0.93 instead
        of 0.76 training accuracy on scikit-learn's 3-blob check).

    Attributes
    ----------
    components_ : ndarray (J, J_0)
        W.
    intercept_visible_, intercept_hidden_ : ndarray
        b and c.

    Notes
    -----
    The defaults (256 hidden units, PCD-1, α = 0.1, batch 10, readout Adam η = 3e-2, 40
    epochs) come from a 36-configuration search on a validation split
    (experiments/results/eb_families/rbm_search.md, run with init_scale = 0.01: best
    0.918 mean test accuracy over splits 101..105; 20 epochs or batch 32 stay below 0.90).
    With init_scale = 0.1 the readout reaches 0.931 mean / 0.906 min on those splits and
    a logistic-regression probe of p(h|v) 0.921 (experiments/results/eb_families/
    defaults.md); the reconstruction-error and pseudo-likelihood curves are in
    experiments/results/eb_families/rbm_curves.{json,png}.
    """

    # defaults from the search of experiments/eb_families.py (36 configurations)
    _params = dict(hidden_layer_sizes=(256,), activation="sigmoid", sampling="pcd", cd_steps=1,
                   feature_learning_rate=0.1, batch_size=10, learning_rate=3e-2, max_iter=40,
                   init_scale=0.1)
    _activations = ("sigmoid",)
    _history_keys = FeatureReadoutClassifier._history_keys + ("pseudo_likelihood",)

    def _check_rule_params(self):
        self._check_single_layer()
        check_choice("sampling", self.sampling, ("cd", "pcd"))
        check_positive("cd_steps", self.cd_steps, integer=True)
        check_positive("init_scale", self.init_scale)

    def _init_features(self, n_features):
        J = self._hidden[0]
        self.components_ = self._rng.normal(0.0, self.init_scale, size=(J, n_features))
        self.intercept_visible_ = np.zeros(n_features)
        self.intercept_hidden_ = np.zeros(J)
        self.chains_ = np.zeros((self.batch_size, J))  # persistent hidden states (PCD)
        return J

    @property
    def _params_list(self):
        return [self.components_, self.intercept_visible_, self.intercept_hidden_]

    def _features(self, X):
        return hidden_probs(self.components_, self.intercept_hidden_, X)

    def cd_update(self, V):
        """Ascent directions [ΔW, Δb, Δc] of one CD-k / PCD update on batch ``V``
        (advances the persistent chains and consumes the generator)."""
        W, b, c = self._params_list
        PH_pos = hidden_probs(W, c, V)
        start = self.chains_ if self.sampling == "pcd" else bernoulli(PH_pos, self._rng)
        V_neg, PH_neg, H = gibbs_chain(W, b, c, start, self.cd_steps, self._rng)
        if self.sampling == "pcd":
            self.chains_ = H
        return cd_statistics(V, PH_pos, V_neg, PH_neg)

    def _learn_features(self, X):
        for p, d in zip(self._params_list, self.cd_update(X)):
            p += self.feature_learning_rate * d

    def _reconstruction_error(self, X):
        W, b, c = self._params_list
        return ((X - visible_probs(W, b, hidden_probs(W, c, X))) ** 2).sum(axis=1)

    def _epoch_metrics(self, X):
        out = super()._epoch_metrics(X)
        rows = X[:: max(1, len(X) // _METRIC_ROWS)]  # evenly strided, deterministic
        out["pseudo_likelihood"] = float(pseudo_log_likelihood(*self._params_list, rows).mean())
        return out

    def free_energy(self, X):
        """Free energy F(v) per sample (nats)."""
        return free_energy(*self._params_list, self._validated(X))

    def score_samples(self, X):
        """Pseudo-log-likelihood Σ_i log p(v_i | v_{−i}) per sample (nats)."""
        return pseudo_log_likelihood(*self._params_list, self._validated(X))
