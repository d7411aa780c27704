"""Feedback-alignment rules: backprop's W^T replaced by other feedback (spec §4.3–4.6).

All four rules share the recursion ``δ̂^ℓ = (δ̂^{ℓ+1} B^{ℓ+1}) ⊙ φ'(h^ℓ)`` (FA, sign
symmetry, Kolen–Pollack) or its direct form ``δ̂^ℓ = (δ^L B_d^ℓ) ⊙ φ'(h^ℓ)`` (DFA), and
differ only in what B is. Feedback matrices are stored with the orientation of the
forward matrix they replace (B^{ℓ+1} has W^{ℓ+1}'s shape, J_{ℓ+1} × J_ℓ), so the row-batch
recursion reads ``δ̂ @ B`` exactly like backprop's ``δ @ W``.
"""
import numpy as np

from ._validation import check_number
from .feedforward import FeedforwardClassifier
from .initializers import direct_feedback, layerwise_feedback
from .layers import backprop_deltas
from .metadata import Family


class _LayerwiseFeedback(FeedforwardClassifier):
    """Backprop's recursion with a feedback matrix per layer (abstract)."""

    def _feedback(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _directions(self, hs, zs, Y):
        deltas = backprop_deltas(self.net_, hs, self.loss.delta(hs[-1], Y), self._feedback())
        return self.net_.weight_grads(deltas, zs)


class FeedbackAlignment(
    _LayerwiseFeedback, family=Family.EG, checklist="fa", algorithm="Feedback alignment",
    spec_section="4.3",
):
    """Random feedback alignment (Lillicrap et al. 2016; S1 Eq. 11).

    ::

        δ̂^L = softmax(h^L) − y
        δ̂^ℓ = (δ̂^{ℓ+1} B^{ℓ+1}) ⊙ φ'(h^ℓ),   B^{ℓ+1} fixed random, never updated
        ΔW^ℓ = (δ̂^ℓ)^T z^{ℓ−1} / B            descent

    Extra parameters
    ----------------
    feedback_scale : float > 0
        B entries are N(0, (feedback_scale)² / J_{ℓ}) (spec §4.3: variance 1/J).

    Attributes
    ----------
    feedback_ : list of ndarray
        B^ℓ per layer (entry 0 unused, kept ``None``).
    """

    _params = dict(feedback_scale=1.0)

    def _init_rule(self, sizes):
        self.feedback_ = layerwise_feedback(self._rng, sizes, self.feedback_scale)

    def _feedback(self):
        return self.feedback_


class SignSymmetry(
    _LayerwiseFeedback, family=Family.EG, checklist="sign_symmetry", algorithm="Sign symmetry",
    spec_section="4.6",
):
    """Sign-symmetric feedback (Liao, Leibo & Poggio 2016; Xiao et al. 2018).

    B^{ℓ+1} = sign(W^{ℓ+1}) · mean|W^{ℓ+1}|, recomputed every step: only the signs of
    the forward weights are transported, the magnitudes are replaced by the layer mean.
    """


    def _feedback(self):
        return [None] + [np.sign(W) * np.abs(W).mean() for W in self.net_.W[1:]]


class KolenPollack(
    _LayerwiseFeedback, family=Family.EG, checklist="kp", algorithm="Kolen-Pollack",
    spec_section="4.6",
):
    """Kolen–Pollack learned feedback (Akrout et al. 2019; spec §4.6).

    The feedback matrices receive the very same increment as the forward weights they
    mirror, and both decay::

        W ← (1 − λ) W + u,   B ← (1 − λ) B + u,   u = optimiser increment of −ΔW

    so W − B shrinks as (1 − λ)^t from any start: B converges to W (i.e. to W^T in the
    column-vector convention) without being copied.

    Extra parameters
    ----------------
    feedback_scale : float > 0
        Scale of the random initial B.
    decay : float in [0, 1)
        Weight decay λ applied to W and B every step.
    """

    _params = dict(feedback_scale=1.0, decay=1e-3)

    def _check_rule_params(self):
        check_number("decay", self.decay, low=0, high=1, high_open=True)

    _init_rule = FeedbackAlignment._init_rule
    _feedback = FeedbackAlignment._feedback

    def _after_step(self, increments):
        lam = self.decay
        for l, W in enumerate(self.net_.W):
            W -= lam * (W - increments[l])  # W_new = (1 − λ) W_old + u (u already added)
            if l > 0:
                self.feedback_[l] *= 1.0 - lam
                self.feedback_[l] += increments[l]


class DirectFeedbackAlignment(
    FeedforwardClassifier, family=Family.EG, checklist="dfa",
    algorithm="Direct feedback alignment", spec_section="4.4",
):
    """Direct feedback alignment (Nøkland 2016; S1 Eq. 12).

    ::

        δ̂^ℓ = (δ^L B_d^ℓ) ⊙ φ'(h^ℓ),   B_d^ℓ ∈ R^{C × J_ℓ} fixed random
        ΔW^ℓ = (δ̂^ℓ)^T z^{ℓ−1} / B     descent

    Every hidden layer receives the output error in one hop, so all hidden updates can
    run in parallel once δ^L exists.

    Extra parameters
    ----------------
    feedback_scale : float > 0
        B_d entries are N(0, feedback_scale² / C).
    """

    _params = dict(feedback_scale=1.0)

    def _init_rule(self, sizes):
        self.feedback_ = direct_feedback(self._rng, sizes, self.feedback_scale)

    def _directions(self, hs, zs, Y):
        e = self.loss.delta(hs[-1], Y)
        deltas = [(e @ B) * self.net_.act.df(h) for B, h in zip(self.feedback_, hs[:-1])] + [e]
        return self.net_.weight_grads(deltas, zs)
