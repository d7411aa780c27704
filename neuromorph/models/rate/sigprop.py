"""Signal propagation, SigProp (Kohan, Rietman & Siegelmann 2018/2023; spec §4.23, SEL:FO)."""
import numpy as np

from ._validation import check_choice, check_positive
from .activations import softmax
from .base import RateClassifier
from .layers import DenseStack
from .losses import SoftmaxCrossEntropy
from .metadata import Family

_EPS = 1e-8


def _unit(a):
    """Rows over their smoothed length sqrt(‖a‖² + ε²), and that length."""
    norm = np.sqrt((a**2).sum(axis=1, keepdims=True) + _EPS**2)
    return a / norm, norm


def sigprop_layer(W, b, act, r, rc, Y, loss="cosine", temperature=0.1):
    """One layer of SigProp: both streams through the same weights, local loss, directions.

    ``r`` (n × J_in) is the data stream's input, ``rc`` (C × J_in) the context stream's
    (one row per class: the context of class k). With z = φ(W r + b), c = φ(W r_c + b)::

        cosine:   s_ik = ẑ_i · ĉ_k / τ,   L = mean_i −log softmax(s_i)_{y_i}
                  (each sample against every class's context: contrast within the batch)
        squared:  L = mean_i ½ ‖z_i − c_{y_i}‖²
        ΔW = (∂L/∂z ⊙ φ'(h_z))^T r + (∂L/∂c ⊙ φ'(h_c))^T r_c,
        Δb = Σ_rows of the same deltas             descent (L a batch mean: ∂L/∂z ∝ 1/n)

    â = a / sqrt(‖a‖² + ε²). The inputs are constants (no gradient leaves the layer).

    Returns
    -------
    z, c : ndarray
        The layer's outputs for the two streams (the next layer's inputs).
    value : float
        L on this batch.
    gW, gb : ndarray
        Descent directions of W and b.
    """
    n = len(r)
    hz, hc = r @ W.T + b, rc @ W.T + b
    z, c = act.f(hz), act.f(hc)
    if loss == "cosine":
        zn, nz = _unit(z)
        cn, nc = _unit(c)
        cos = zn @ cn.T
        S = cos / temperature
        value = SoftmaxCrossEntropy.per_sample(S, Y).mean()
        dS = (softmax(S) - Y) / (temperature * n)       # ∂L/∂(cos), mean over the batch
        dz = (dS @ cn - (dS * cos).sum(axis=1, keepdims=True) * zn) / nz
        dc = (dS.T @ zn - (dS * cos).sum(axis=0)[:, None] * cn) / nc
    else:
        e = z - Y @ c
        value = 0.5 * (e**2).sum(axis=1).mean()
        dz, dc = e / n, -(Y.T @ e) / n
    dhz, dhc = dz * act.df(hz), dc * act.df(hc)
    return z, c, value, dhz.T @ r + dhc.T @ rc, dhz.sum(axis=0) + dhc.sum(axis=0)


class SigProp(
    RateClassifier, family=Family.SEL_FO, checklist="pepita", algorithm="SigProp",
    spec_section="4.23",
):
    """The label travels forward as a context through the same layers as the input;
    each layer learns from a local loss between the two.

    ::

        [z^1, c^1] = [φ(W^1 x + b^1), φ(C^1 y + b^1)],   C^1 ∈ R^{J_1 × C}
        [z^ℓ, c^ℓ] = φ(W^ℓ [z^{ℓ−1}, c^{ℓ−1}] + b^ℓ)     ℓ > 1, same W^ℓ for both
        L^ℓ: cosine in-batch contrast or squared distance (see :func:`sigprop_layer`)
        ΔW^ℓ = (∂L^ℓ/∂[z^ℓ, c^ℓ] ⊙ φ') [z^{ℓ−1}, c^{ℓ−1}]^T        descent, layer by layer

    Each layer is updated as soon as its two streams are computed; nothing travels
    backward between layers (no weight transport, no backward pass). The contexts of all
    C classes are sent forward every batch (C rows), so the contrast covers every label.
    Prediction: the label whose top-layer context is the most similar to the input's
    top-layer activity, scores s_k = ẑ^L · ĉ^L_k / τ (``decision_scores``); with the
    squared loss, s_k = −½ ‖z^L − c^L_k‖².

    Extra parameters
    ----------------
    loss : {"cosine", "squared"}
        Local loss. The squared loss has no contrast and can collapse (z = c
        constant); the cosine contrast is the default (spec §4.23).
    temperature : float > 0
        τ of the cosine contrast.
    learn_context : bool
        Train the context projection C^1 with layer 1's loss (else it stays random).

    Attributes
    ----------
    net_ : DenseStack
        W^ℓ, b^ℓ (no output layer: the top hidden layer is compared with contexts).
    context_ : ndarray (J_1, C)
        C^1.

    Notes
    -----
    At the defaults (64-256-256, tanh, cosine contrast τ = 0.1, Adam η = 1e-3, 30
    epochs): 0.969 mean / 0.961 min test accuracy on digits splits 101..105
    (experiments/results/eb_families/defaults.md).
    """

    _params = dict(loss="cosine", temperature=0.1, learn_context=True,
                   hidden_layer_sizes=(256, 256), learning_rate=1e-3)

    def _check_extra_params(self):
        check_choice("loss", self.loss, ("cosine", "squared"))
        check_positive("temperature", self.temperature)
        check_choice("learn_context", self.learn_context, (True, False))

    def _initialize(self, n_features, n_classes):
        sizes = (n_features,) + self._hidden
        self.net_ = DenseStack(sizes + (1,), self.activation, self._rng)
        self.net_.W.pop(), self.net_.b.pop()  # no output layer: contexts are the targets
        self.context_ = DenseStack((n_classes, sizes[1]), "identity", self._rng).W[0]
        self._opt = self._optimizer()

    def _scores(self, X):
        z, c = self._top(X)
        if self.loss == "cosine":
            return (_unit(z)[0] @ _unit(c)[0].T) / self.temperature
        return -0.5 * ((z[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)

    def _top(self, X):
        act, (W, b) = self.net_.act, (self.net_.W, self.net_.b)
        z = act.f(X @ W[0].T + b[0])
        c = act.f(self.context_.T + b[0])          # C^1 y + b^1 for every one-hot y
        for Wl, bl in zip(W[1:], b[1:]):
            z, c = act.f(z @ Wl.T + bl), act.f(c @ Wl.T + bl)
        return z, c

    def update_directions(self, X, Y):
        """Descent directions [W^1.., b^1.., C^1] of one update on (X, Y), and the
        local losses (one per layer).

        Layer 1 is :func:`sigprop_layer` on the joint weight [W^1, C^1] with data
        inputs [x, 0] and context inputs [0, e_k]: the data stream meets W^1, the
        context of class k meets C^1's column k, and the two share b^1.
        """
        W, b, act = self.net_.W, self.net_.b, self.net_.act
        C, J0 = Y.shape[1], X.shape[1]
        weights = [np.hstack([W[0], self.context_])] + W[1:]
        r = np.hstack([X, np.zeros((len(X), C))])
        rc = np.hstack([np.zeros((C, J0)), np.eye(C)])
        gW, gb, losses = [], [], []
        for Wl, bl in zip(weights, b):
            r, rc, value, g, gbl = sigprop_layer(Wl, bl, act, r, rc, Y, self.loss,
                                                 self.temperature)
            gW.append(g), gb.append(gbl), losses.append(value)
        gC = gW[0][:, J0:] if self.learn_context else np.zeros_like(self.context_)
        gW[0] = gW[0][:, :J0]
        return gW + gb + [gC], losses

    def _train_batch(self, X, Y):
        grads, losses = self.update_directions(X, Y)
        self._opt.step(self.net_.W + self.net_.b + [self.context_], grads)
        return float(sum(losses))
