"""Feedback-alignment rules: backprop's W^T replaced by other feedback (spec §4.3–4.6).

The rules share the recursion ``δ̂^ℓ = (δ̂^{ℓ+1} B^{ℓ+1}) ⊙ φ'(h^ℓ)`` (FA, sign
symmetry, Kolen–Pollack, weight mirrors), its direct form
``δ̂^ℓ = (δ^L B_d^ℓ) ⊙ φ'(h^ℓ)`` (DFA; DRTP sends the label in place of δ^L), or inject
the error once and carry it upwards through the forward weights (IFA), and differ only
in what B is and where it sends the error. Feedback matrices are stored with the orientation of the
forward matrix they replace (B^{ℓ+1} has W^{ℓ+1}'s shape, J_{ℓ+1} × J_ℓ), so the row-batch
recursion reads ``δ̂ @ B`` exactly like backprop's ``δ @ W``.
"""
import numpy as np

from ._validation import check_number, check_positive
from .feedforward import FeedforwardClassifier
from .initializers import direct_feedback, layerwise_feedback, random_feedback
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


class DirectRandomTargetProjection(
    DirectFeedbackAlignment, family=Family.EG, checklist="dfa",
    algorithm="Direct random target projection", spec_section="4.6",
):
    """Direct random target projection, DRTP (Frenkel, Lefebvre & Bol 2021; spec §4.6).

    DFA's pathway with the output error replaced by the label::

        δ̂^ℓ = (−y B_d^ℓ) ⊙ φ'(h^ℓ),   B_d^ℓ ∈ R^{C × J_ℓ} fixed random
        δ^L = softmax(h^L) − y        (output layer: its own, local error)
        ΔW^ℓ = (δ̂^ℓ)^T z^{ℓ−1} / B     descent

    −y is the part of DFA's error δ^L = softmax(h^L) − y that is known before the
    forward pass reaches the output (its sign is known: negative on the label, zero
    elsewhere), so every hidden layer can update as soon as its own activity exists:
    the hidden updates wait neither for the output nor for any backward signal (no update
    locking). The hidden layers learn to project the label along fixed random
    directions; the output layer learns to read those projections. The checklist row is
    DFA's (spec §2.3 has no separate DRTP row).

    Measured (tests/rate/test_eg_families.py): after warm-up the error signals δ̂^ℓ and
    every single sample's update lie within 90° of backprop's, but a whole batch's
    first-layer update need not: DRTP keeps pushing samples that are already right, and
    on non-negative inputs (pixels) those terms leave the batch update near-orthogonal to
    backprop's.

    Extra parameters
    ----------------
    feedback_scale : float > 0
        B_d entries are N(0, feedback_scale² / C).
    """

    def _directions(self, hs, zs, Y):
        e = self.loss.delta(hs[-1], Y)
        deltas = [(-Y @ B) * self.net_.act.df(h) for B, h in zip(self.feedback_, hs[:-1])]
        return self.net_.weight_grads(deltas + [e], zs)


class IndirectFeedbackAlignment(
    FeedforwardClassifier, family=Family.EG, checklist="ifa",
    algorithm="Indirect feedback alignment", spec_section="4.5",
):
    """Indirect feedback alignment, IFA (S1 Eq. 13; spec §4.5, which attributes it to
    Nøkland 2016 [EXT?]).

    One fixed random matrix injects the output error into the first hidden layer; the
    signal then travels *upwards* through the unmodified forward weights::

        δ̂^1 = (δ^L B) ⊙ φ'(h^1),             B ∈ R^{C × J_1} fixed random
        δ̂^ℓ = (δ̂^{ℓ−1} (W^ℓ)^T) ⊙ φ'(h^ℓ),   ℓ = 2..L−1   (through the forward synapses)
        δ^L = softmax(h^L) − y
        ΔW^ℓ = (δ̂^ℓ)^T z^{ℓ−1} / B           descent

    A single feedback matrix for the whole network, and the forward pathway reused to
    carry the teaching signal (S1: the seed of forward-only learning). With one hidden
    layer IFA is DFA.

    Extra parameters
    ----------------
    feedback_scale : float > 0
        B entries are N(0, feedback_scale² / C).

    Attributes
    ----------
    feedback_ : ndarray (C, J_1)
        B.
    """

    _params = dict(feedback_scale=1.0)

    def _init_rule(self, sizes):
        C = sizes[-1]
        self.feedback_ = random_feedback(self._rng, C, sizes[1], self.feedback_scale / np.sqrt(C))

    def _directions(self, hs, zs, Y):
        net = self.net_
        e = self.loss.delta(hs[-1], Y)
        deltas = [(e @ self.feedback_) * net.act.df(hs[0])]
        for l in range(1, net.n_layers - 1):
            deltas.append((deltas[-1] @ net.W[l].T) * net.act.df(hs[l]))
        return net.weight_grads(deltas + [e], zs)


class WeightMirrors(
    _LayerwiseFeedback, family=Family.EG, checklist="kp", algorithm="Weight mirrors",
    spec_section="4.6",
):
    """Weight mirrors (Akrout, Wilson, Humphreys, Lillicrap & Tweed 2019; spec §4.6).

    Feedback alignment whose feedback matrices learn, in a separate *mirror* phase, to
    mirror the forward weights. Before every learning step each hidden layer ℓ fires
    noise ξ ~ N(0, σ² I) (``mirror_samples`` independent draws, rows of Ξ), the layer
    above responds through its forward synapses, r = Ξ (W^{ℓ+1})^T, and the feedback
    synapses learn Hebbian on that noise-driven activity::

        mirror:  B^{ℓ+1} ← B^{ℓ+1} + η_B r^T Ξ / m − λ B^{ℓ+1}
        engaged: δ̂^ℓ = (δ̂^{ℓ+1} B^{ℓ+1}) ⊙ φ'(h^ℓ),  ΔW^ℓ = (δ̂^ℓ)^T z^{ℓ−1} / B   descent

    (B^{ℓ+1} stored with W^{ℓ+1}'s orientation.) Since E[r^T Ξ / m] = σ² W^{ℓ+1}, B
    relaxes towards (η_B σ² / λ) W^{ℓ+1}, i.e. towards the transpose of the forward
    matrix in the spec's column convention, with no weight transport: only the noise,
    the forward synapses' response and a local Hebbian product. The default
    λ = η_B σ² makes the fixed point B = W. B starts random, so learning begins as FA
    and becomes backprop-like as the mirrors align.

    Extra parameters
    ----------------
    feedback_scale : float > 0
        Scale of the random initial B.
    mirror_sigma : float > 0
        Noise standard deviation σ of the mirror phase.
    mirror_learning_rate : float > 0
        η_B.
    mirror_decay : float in [0, 1)
        λ (None: η_B σ², so that B → W).
    mirror_samples : int > 0
        Noise draws m per mirror step.
    """

    # η_B = 0.02 with 32 draws averages ~1600 noise samples: on digits (256, 256) the
    # angle between B and W falls from ~90° to ~16° within 4 epochs
    _params = dict(feedback_scale=1.0, mirror_sigma=1.0, mirror_learning_rate=0.02,
                   mirror_decay=None, mirror_samples=32)

    def _check_rule_params(self):
        check_positive("mirror_sigma", self.mirror_sigma)
        check_positive("mirror_learning_rate", self.mirror_learning_rate)
        if self.mirror_decay is not None:
            check_number("mirror_decay", self.mirror_decay, low=0, high=1, high_open=True)
        elif self.mirror_learning_rate * self.mirror_sigma**2 >= 1:
            raise ValueError(
                "mirror_learning_rate * mirror_sigma**2 (the default mirror_decay) must be in "
                f"[0, 1), got {self.mirror_learning_rate * self.mirror_sigma**2!r}")
        check_positive("mirror_samples", self.mirror_samples, integer=True)

    _init_rule = FeedbackAlignment._init_rule
    _feedback = FeedbackAlignment._feedback

    def _decay(self):
        if self.mirror_decay is not None:
            return self.mirror_decay
        return self.mirror_learning_rate * self.mirror_sigma**2

    def mirror_step(self):
        """One mirror phase: update every B^{ℓ+1} from noise-driven activity (in place)."""
        lam, eta, m = self._decay(), self.mirror_learning_rate, self.mirror_samples
        for l in range(1, self.net_.n_layers):
            W, B = self.net_.W[l], self.feedback_[l]
            xi = self._rng.normal(0.0, self.mirror_sigma, (m, W.shape[1]))
            r = xi @ W.T
            B *= 1.0 - lam
            B += eta * (r.T @ xi) / m

    def _train_batch(self, X, Y):
        self.mirror_step()
        return super()._train_batch(X, Y)
