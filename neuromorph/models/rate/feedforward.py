"""Feed-forward classifiers whose rules differ only in how hidden errors are formed.

Backprop, FA, DFA, sign symmetry, Kolen–Pollack, learned feedback, node perturbation,
local losses and PEPITA all run the same network (spec §4.0): a :class:`DenseStack`
with a softmax + cross-entropy output. :class:`FeedforwardClassifier` owns that network
and the optimiser; a family overrides :meth:`FeedforwardClassifier._directions` (the
credit-assignment rule: descent directions for every parameter) and optionally
:meth:`FeedforwardClassifier._after_step`.
"""
from ._validation import check_choice, check_positive
from .base import RateClassifier
from .layers import DenseStack, backprop_deltas
from .losses import SoftmaxCrossEntropy


class FeedforwardClassifier(RateClassifier):
    """Shared machinery of the feed-forward families (not used directly).

    Extra parameters
    ----------------
    init : {"glorot_uniform", "he_normal"}
        Initialiser of the forward weights.
    weight_scale : float > 0
        Multiplier of the initial forward weights.
    """

    _params = dict(init="glorot_uniform", weight_scale=1.0)
    loss = SoftmaxCrossEntropy

    def _check_extra_params(self):
        check_choice("init", self.init, ("glorot_uniform", "he_normal"))
        check_positive("weight_scale", self.weight_scale)
        if "feedback_scale" in self._all_params:  # every rule with random feedback
            check_positive("feedback_scale", self.feedback_scale)
        self._check_rule_params()

    def _check_rule_params(self):
        """Checks of the rule's own parameters (override)."""

    def _initialize(self, n_features, n_classes):
        sizes = self._layer_sizes(n_features, n_classes)
        self.net_ = DenseStack(sizes, self.activation, self._rng, self.init, self.weight_scale)
        self._opt = self._optimizer()
        self._init_rule(sizes)

    def _init_rule(self, sizes):
        """Build the rule's extra state, e.g. feedback matrices (override)."""

    def _scores(self, X):
        return self.net_.output(X)

    def _train_batch(self, X, Y):
        hs, zs = self.net_.forward(X)
        grads = self._directions(hs, zs, Y)
        incs = self._opt.step(self.net_.params, grads)
        self._after_step(incs)
        return self.loss.per_sample(hs[-1], Y).mean()

    def _after_step(self, increments):
        """Hook run after the optimiser step with the applied increments (override)."""

    def _directions(self, hs, zs, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def update_directions(self, X, Y):
        """Descent directions the rule would hand to the optimiser for batch (X, Y).

        ``Y`` is one-hot. Returned in ``net_.params`` order (weights then biases). Used
        by the oracle tests to compare a rule's update with backprop's. Rules that draw
        noise consume the estimator's generator.
        """
        hs, zs = self.net_.forward(X)
        return self._directions(hs, zs, Y)

    def backprop_directions(self, X, Y):
        """The exact gradient of the mean loss (reverse mode, spec §4.1), same layout."""
        return exact_gradients(self.net_, X, Y, self.loss)


def exact_gradients(net, X, Y, loss=SoftmaxCrossEntropy):
    """Backprop gradient ∂(mean loss)/∂θ of a :class:`DenseStack` (spec §4.1)."""
    hs, zs = net.forward(X)
    return net.weight_grads(backprop_deltas(net, hs, loss.delta(hs[-1], Y)), zs)
