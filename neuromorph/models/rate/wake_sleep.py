"""Helmholtz machine trained by the wake-sleep algorithm (spec §4.18, SEL:EB).

Layers z^0 = v (visible), z^1..z^L (hidden, Bernoulli); rows are samples. A recognition
network R^ℓ ∈ R^{J_ℓ × J_{ℓ−1}} (biases r^ℓ) infers upward, a generative network
G^ℓ ∈ R^{J_{ℓ−1} × J_ℓ} (biases g^{ℓ−1}) and a top prior σ(g^L) generate downward
(Hinton, Dayan, Frey & Neal 1995; S1 Eq. 46–52)::

    q(z^ℓ = 1 | z^{ℓ−1}) = σ(R^ℓ z^{ℓ−1} + r^ℓ)          recognition
    p(z^{ℓ−1} = 1 | z^ℓ) = σ(G^ℓ z^ℓ + g^{ℓ−1}),  p(z^L = 1) = σ(g^L)     generative

The functions here are the pure pieces; :class:`WakeSleep` is the estimator.
"""
import numpy as np

from ._validation import check_positive
from .activations import ACTIVATIONS
from .initializers import glorot_uniform
from .metadata import Family
from .rbm import bernoulli
from .readout import FeatureReadoutClassifier

_sigmoid = ACTIVATIONS["sigmoid"].f


def wake_directions(R, r, G, g, V, rng):
    """Wake phase: sample the recognition net upward from data ``V``, move the generative
    net towards reproducing each layer from the one above (ascent)::

        ΔG^ℓ = (z^{ℓ−1} − σ(G^ℓ z^ℓ + g^{ℓ−1})) (z^ℓ)^T,  Δg^{ℓ−1} = z^{ℓ−1} − σ(·)
        Δg^L = z^L − σ(g^L)                                    (batch means)

    ``g`` holds g^0..g^L (g^L the top prior). Returns ([ΔG^ℓ], [Δg^ℓ]).
    """
    zs = [V]
    for Rl, rl in zip(R, r):
        zs.append(bernoulli(_sigmoid(zs[-1] @ Rl.T + rl), rng))
    n = len(V)
    dG, dg = [], []
    for l, Gl in enumerate(G):
        err = zs[l] - _sigmoid(zs[l + 1] @ Gl.T + g[l])
        dG.append(err.T @ zs[l + 1] / n)
        dg.append(err.mean(axis=0))
    dg.append(zs[-1].mean(axis=0) - _sigmoid(g[-1]))
    return dG, dg


def dream(G, g, n, rng):
    """Ancestral sample ("fantasy") of ``n`` configurations from the generative net;
    returns [z^0, ..., z^L] (binary)."""
    zs = [bernoulli(np.broadcast_to(_sigmoid(g[-1]), (n, len(g[-1]))), rng)]
    for Gl, gl in zip(reversed(G), reversed(g[:-1])):
        zs.insert(0, bernoulli(_sigmoid(zs[0] @ Gl.T + gl), rng))
    return zs


def sleep_directions(R, r, G, g, n, rng):
    """Sleep phase: dream top-down, move the recognition net towards recovering each
    layer of the dream from the one below (ascent)::

        ΔR^ℓ = (z^ℓ − σ(R^ℓ z^{ℓ−1} + r^ℓ)) (z^{ℓ−1})^T,   Δr^ℓ = z^ℓ − σ(·)   (means)

    Returns ([ΔR^ℓ], [Δr^ℓ]).
    """
    zs = dream(G, g, n, rng)
    dR, dr = [], []
    for l, (Rl, rl) in enumerate(zip(R, r)):
        err = zs[l + 1] - _sigmoid(zs[l] @ Rl.T + rl)
        dR.append(err.T @ zs[l] / n)
        dr.append(err.mean(axis=0))
    return dR, dr


def recognition_means(R, r, V):
    """Deterministic (mean-field) upward pass: [q^1, ..., q^L], q^ℓ = σ(R^ℓ q^{ℓ−1} + r^ℓ)."""
    qs, q = [], V
    for Rl, rl in zip(R, r):
        q = _sigmoid(q @ Rl.T + rl)
        qs.append(q)
    return qs


def generative_means(G, g, top):
    """Deterministic downward pass from top-layer activity: p(v = 1) under mean field."""
    p = top
    for Gl, gl in zip(reversed(G), reversed(g[:-1])):
        p = _sigmoid(p @ Gl.T + gl)
    return p


def _log_bernoulli(z, logits):
    """Σ_j log Bern(z_j; σ(logit_j)) per row."""
    return -(np.logaddexp(0.0, logits) - z * logits).sum(axis=1)


def importance_log_likelihood(R, r, G, g, V, n_samples, rng):
    """Importance-sampled log p(v) per sample with the recognition net as proposal::

        log p(v) ≈ log (1/S) Σ_s p(v, h_s) / q(h_s | v),   h_s ~ q(· | v)

    (a stochastic lower bound in expectation, exact as S → ∞)."""
    logw = np.empty((n_samples, len(V)))
    for s in range(n_samples):
        zs, logq = [V], 0.0
        for Rl, rl in zip(R, r):
            logits = zs[-1] @ Rl.T + rl
            zs.append(bernoulli(_sigmoid(logits), rng))
            logq = logq + _log_bernoulli(zs[-1], logits)
        logp = _log_bernoulli(zs[-1], np.broadcast_to(g[-1], zs[-1].shape))
        for l, Gl in enumerate(G):
            logp = logp + _log_bernoulli(zs[l], zs[l + 1] @ Gl.T + g[l])
        logw[s] = logp - logq
    m = logw.max(axis=0)
    return m + np.log(np.exp(logw - m).mean(axis=0))


class WakeSleep(
    FeatureReadoutClassifier, family=Family.SEL_EB, checklist="cd_wake_sleep",
    algorithm="Wake-sleep (Helmholtz machine)", spec_section="4.18",
):
    """Helmholtz machine learned by wake-sleep, probed by a linear readout.

    One update per batch (ascent, plain SGD at ``feature_learning_rate``)::

        wake:   z^ℓ ~ q(· | z^{ℓ−1}) upward from the data;
                G^ℓ += α (z^{ℓ−1} − σ(G^ℓ z^ℓ + g^{ℓ−1})) (z^ℓ)^T,  g^L += α (z^L − σ(g^L))
        sleep:  dream z^L ~ σ(g^L), z^{ℓ−1} ~ p(· | z^ℓ) downward;
                R^ℓ += α (z^ℓ − σ(R^ℓ z^{ℓ−1} + r^ℓ)) (z^{ℓ−1})^T

    Every update is a local delta rule; neither phase needs a derivative through
    another layer. Wake trains the generative model on the recognition net's samples,
    sleep trains the recognition net on the generative model's dreams (each with as many
    dreams as data in the batch). The readout (:mod:`.readout`) sees the mean-field
    recognition probabilities of the top layer (also ``transform``).

    Scores
    ------
    ``score(X, y)`` is the readout's accuracy; :meth:`estimate_log_likelihood` an
    importance-sampled log p(v) (nats per sample); :meth:`reconstruction_error`
    ‖v − p̂(v)‖² per sample, p̂ the mean-field generative pass from the mean-field
    recognition of v.

    Attributes
    ----------
    recognition_ : list [R^1..R^L, r^1..r^L]
    generative_ : list [G^1..G^L, g^0..g^L]
        g^L is the top prior's bias.

    Notes
    -----
    The concurrently trained readout stays below 90 % on digits: the defaults (256
    units, α = 0.01, batch 10, readout Adam η = 1e-2, 20 epochs) are the best of a
    54-configuration search on a validation split (experiments/results/eb_families/
    wakesleep_search.md) and reach 0.868 mean / 0.842 min test accuracy on splits
    101..105; the readout fluctuates while the features drift. A logistic-regression
    probe of the same learned features reaches 0.922 mean / 0.911 min
    (experiments/results/eb_families/defaults.md).
    """

    # the best of the 54-configuration search of experiments/eb_families.py
    _params = dict(hidden_layer_sizes=(256,), activation="sigmoid", feature_learning_rate=0.01,
                   batch_size=10, learning_rate=1e-2, max_iter=20)
    _activations = ("sigmoid",)

    def _init_features(self, n_features):
        sizes = (n_features,) + self._hidden
        L = len(self._hidden)
        R = [glorot_uniform(self._rng, o, i) for i, o in zip(sizes[:-1], sizes[1:])]
        G = [glorot_uniform(self._rng, i, o) for i, o in zip(sizes[:-1], sizes[1:])]
        self.recognition_ = R + [np.zeros(o) for o in sizes[1:]]
        self.generative_ = G + [np.zeros(s) for s in sizes]
        self._L = L
        return sizes[-1]

    def _split(self):
        L = self._L
        R, r = self.recognition_[:L], self.recognition_[L:]
        G, g = self.generative_[:L], self.generative_[L:]
        return R, r, G, g

    def _features(self, X):
        R, r, _, _ = self._split()
        return recognition_means(R, r, X)[-1]

    def update_directions(self, X):
        """Ascent directions of one wake and one sleep phase on batch ``X``:
        (generative list like ``generative_``, recognition list like ``recognition_``)."""
        R, r, G, g = self._split()
        dG, dg = wake_directions(R, r, G, g, X, self._rng)
        dR, dr = sleep_directions(R, r, G, g, len(X), self._rng)
        return dG + dg, dR + dr

    def _learn_features(self, X):
        gen, rec = self.update_directions(X)
        for p, d in zip(self.generative_ + self.recognition_, gen + rec):
            p += self.feature_learning_rate * d

    def _reconstruction_error(self, X):
        R, r, G, g = self._split()
        return ((X - generative_means(G, g, recognition_means(R, r, X)[-1])) ** 2).sum(axis=1)

    def estimate_log_likelihood(self, X, n_samples=100, random_state=0):
        """Importance-sampled log p(v) per sample (nats), the recognition net as
        proposal, ``n_samples`` draws from a generator seeded by ``random_state``."""
        check_positive("n_samples", n_samples, integer=True)
        X = self._validated(X)
        rng = np.random.default_rng(random_state)
        return importance_log_likelihood(*self._split(), X, n_samples, rng)
