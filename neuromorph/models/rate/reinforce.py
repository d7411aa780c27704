"""REINFORCE with stochastic units (Williams 1992; spec §4.8, family EG)."""
import numpy as np

from ._validation import check_choice, check_number
from .activations import softmax
from .feedforward import FeedforwardClassifier
from .metadata import Family


class Reinforce(
    FeedforwardClassifier, family=Family.EG, checklist="perturbation", algorithm="REINFORCE",
    spec_section="4.8",
):
    """A network of Bernoulli-logistic units trained by a scalar reward.

    Hidden units fire a^ℓ ~ Bernoulli(σ(h^ℓ)); the output is a softmax policy
    π = softmax(h^L). Every hidden synapse keeps its eligibility
    e_ij = ∂ log π(a_i)/∂w_ij and learns from the reward alone::

        hidden (Bernoulli-logistic): E^ℓ = (a^ℓ − σ(h^ℓ))^T a^{ℓ−1}
        ΔW^ℓ = (r − b) E^ℓ / n          ascent

    ``reward="correct"``: the output samples an action k ~ π, r = 1[k = label], and the
    output layer is a REINFORCE unit too, E^L = (onehot(k) − π)^T a^{L−1} (pure RL: the
    label is seen only through r). ``reward="log_likelihood"``: r = log π(label), and the
    output layer follows the same expected-reward gradient, E^L = (y − π)^T a^{L−1}.

    Baseline b: with ``n_samples`` > 1 stochastic passes per input, each pass uses the
    mean reward of the *other* passes for the same input (leave-one-out, unbiased);
    with one pass, a running mean b ← b + α_b (r̄ − b). Prediction uses the mean-field
    pass (a^ℓ replaced by σ(h^ℓ), arg-max of π).

    Extra parameters
    ----------------
    reward : {"log_likelihood", "correct"}
    baseline_rate : float in (0, 1]
        α_b of the running baseline (used when ``n_samples`` == 1).
    n_samples : int > 0
        Stochastic passes per input per update.
    """

    # large initial weights make the binary units nearly deterministic, so the sampled
    # activity carries information about the input from the start
    _params = dict(activation="sigmoid", reward="log_likelihood", baseline_rate=0.05,
                   n_samples=4, weight_scale=8.0, learning_rate=3e-3)
    _activations = ("sigmoid",)

    def _check_rule_params(self):
        check_choice("reward", self.reward, ("log_likelihood", "correct"))
        check_number("baseline_rate", self.baseline_rate, low=0, high=1, low_open=True)
        check_number("n_samples", self.n_samples, low=1, integer=True)

    def _init_rule(self, sizes):
        self.baseline_ = 0.0

    def _sample_pass(self, X, Y):
        """One stochastic pass: activities, firing probabilities, reward, output eligibility."""
        net, rng = self.net_, self._rng
        acts, probs = [X], []
        for l in range(net.n_layers - 1):
            p = net.act.f(acts[-1] @ net.W[l].T + net.b[l])
            probs.append(p)
            acts.append((rng.random(p.shape) < p).astype(float))
        pi = softmax(acts[-1] @ net.W[-1].T + net.b[-1])
        if self.reward == "correct":
            k = np.minimum((rng.random((len(X), 1)) > np.cumsum(pi, axis=1)).sum(axis=1),
                           pi.shape[1] - 1)
            r = Y[np.arange(len(X)), k]
            out_elig = np.eye(Y.shape[1])[k] - pi
        else:
            r = np.log((Y * pi).sum(axis=1) + 1e-12)
            out_elig = Y - pi
        hid_elig = [a - p for a, p in zip(acts[1:], probs)]
        return acts, hid_elig, out_elig, r

    def _directions(self, hs, zs, Y):
        passes = [self._sample_pass(zs[0], Y) for _ in range(self.n_samples)]
        R = np.stack([p[3] for p in passes])  # (n_samples, n)
        m = self.n_samples
        base = (R.sum(0) - R) / (m - 1) if m > 1 else np.full_like(R, self.baseline_)
        grads = [np.zeros_like(p) for p in self.net_.params]
        for (acts, hid, out, _), r, b in zip(passes, R, base):
            adv = (r - b)[:, None]
            out_dir = -out if self.reward == "log_likelihood" else -adv * out
            step = self.net_.weight_grads([-adv * e for e in hid] + [out_dir], acts + [None])
            for g, s in zip(grads, step):
                g += s / m
        self.baseline_ += self.baseline_rate * (R.mean() - self.baseline_)
        return grads
