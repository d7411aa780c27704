"""Learned feedback weights (Lansdell, Prakash & Kording 2019; spec §4.9, family EG)."""
import numpy as np

from ._validation import check_number, check_positive
from .alignment import FeedbackAlignment
from .layers import backprop_deltas
from .metadata import Family


class LearnedFeedback(
    FeedbackAlignment, family=Family.EG, checklist="learned_feedback",
    algorithm="Learned feedback (Lansdell et al.)", spec_section="4.9",
):
    """Feedback alignment whose feedback matrices learn to carry backprop's signal.

    Forward weights learn as in FA with feedback B; each B^{ℓ+1} is itself trained by
    online ridge regression onto a node-perturbation estimate of the true gradient::

        noisy pass:    z̃^ℓ = z^ℓ + ξ^ℓ, ξ^ℓ ~ N(0, σ² I) in every hidden layer
        NP estimate:   λ̂^ℓ = (L̃ − L) ξ^ℓ / σ²               (≈ ∂L/∂z^ℓ)
        feedback rule: ΔB^{ℓ+1} = (e^{ℓ+1})^T (e^{ℓ+1} B^{ℓ+1} − λ̂^ℓ) / n + γ B^{ℓ+1}   descent
        forward rule:  δ̂^ℓ = (e^{ℓ+1} B^{ℓ+1}) ⊙ φ'(h^ℓ),  ΔW^ℓ = (δ̂^ℓ)^T z^{ℓ−1} / n  descent

    with e^L = δ^L the output error and e^{ℓ+1} = δ̂^{ℓ+1} below. B^{ℓ+1} is stored with
    W^{ℓ+1}'s orientation, so the regression drives B^{ℓ+1} towards W^{ℓ+1} (W^T in the
    spec's column convention) on the span of the errors. During the first
    ``warmup_iter`` epochs only B learns and W is frozen, so the feedback is informative
    before the forward weights move (S2).

    Extra parameters
    ----------------
    sigma : float > 0
        Node-noise standard deviation σ (the reference code calls it ``var_xi``).
    feedback_learning_rate : float > 0
        η_B of the feedback optimiser.
    ridge : float >= 0
        Ridge penalty γ.
    warmup_iter : int >= 0
        Epochs of feedback-only learning at the start.
    feedback_scale : float > 0
        Scale of the random initial B.
    """

    _params = dict(sigma=0.05, feedback_learning_rate=1e-3, ridge=0.1, warmup_iter=2)

    def _check_rule_params(self):
        super()._check_rule_params()
        check_positive("sigma", self.sigma)
        check_positive("feedback_learning_rate", self.feedback_learning_rate)
        check_number("ridge", self.ridge, low=0)
        check_number("warmup_iter", self.warmup_iter, low=0, integer=True)

    def _init_rule(self, sizes):
        super()._init_rule(sizes)
        self._feedback_opt = self._optimizer(self.feedback_learning_rate)

    def _perturbed_loss(self, zs, Y, xi):
        """Loss after adding ξ^ℓ to every hidden activity and re-running the layers above."""
        z = zs[0]
        for l in range(self.net_.n_layers):
            h, z = self.net_.layer(l, z)
            if l < self.net_.n_layers - 1:
                z = z + xi[l]
        return self.loss.per_sample(h, Y)

    def feedback_directions(self, hs, zs, Y):
        """Ridge-regression descent directions for every B^{ℓ+1} and the residuals."""
        net = self.net_
        clean = self.loss.per_sample(hs[-1], Y)
        xi = [self._rng.normal(0.0, self.sigma, z.shape) for z in zs[1:-1]]
        dl = self._perturbed_loss(zs, Y, xi) - clean
        deltas = backprop_deltas(net, hs, self.loss.delta(hs[-1], Y), self.feedback_)
        grads, residuals = [], []
        for l in range(1, net.n_layers):
            lam = dl[:, None] * xi[l - 1] / self.sigma**2
            e = deltas[l]
            r = e @ self.feedback_[l] - lam
            grads.append(e.T @ r / len(e) + self.ridge * self.feedback_[l])
            residuals.append(float(np.mean(r**2)))
        return grads, residuals

    def _train_batch(self, X, Y):
        hs, zs = self.net_.forward(X)
        gB, _ = self.feedback_directions(hs, zs, Y)
        self._feedback_opt.step(self.feedback_[1:], gB)
        if len(self.history_["loss"]) >= self.warmup_iter:
            self._opt.step(self.net_.params, self._directions(hs, zs, Y))
        return self.loss.per_sample(hs[-1], Y).mean()
