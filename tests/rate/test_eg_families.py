"""Oracles for the EG families of issue 19: IFA, DRTP, weight mirrors (spec §4.5–4.6),
the rate three-factor Hebbian rule (§4.7), hill-climbing and simulated annealing (§4.8)
and the HSIC bottleneck (§4.10)."""
import copy

import numpy as np
import pytest

from neuromorph.models.rate import (
    DirectFeedbackAlignment, DirectRandomTargetProjection, HillClimbing, HSICBottleneck,
    IndirectFeedbackAlignment, RewardModulatedHebbian, SimulatedAnnealing, WeightMirrors,
)
from neuromorph.models.rate.hsic import bottleneck_gradient, gaussian_kernel, hsic
from neuromorph.models.rate.layers import backprop_deltas
from neuromorph.models.rate.losses import SoftmaxCrossEntropy
from neuromorph.models.rate.stochastic_search import metropolis_accept


def cosine(a, b):
    return float(np.vdot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def blobs(n=200, seed=0):
    """Two well-separated Gaussian classes: a task whose optimum (accuracy 1, reward 1,
    loss → 0) is known."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(0.0, 0.5, (n, 4)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return X, y


# ---------------------------------------------------------------- IFA, DRTP, weight mirrors
WARMUP = dict(hidden_layer_sizes=(64, 64), weight_scale=0.1, optimizer="sgd",
              learning_rate=0.05, max_iter=1)


def _warmed_up(cls, digits):
    X, y = digits[0][:400], digits[2][:400]
    est = cls(**WARMUP, random_state=0).fit(X, y)
    for _ in range(10):
        est.partial_fit(X, y)
    return est, X, est._one_hot(y)


@pytest.mark.parametrize(
    "cls", [IndirectFeedbackAlignment, DirectRandomTargetProjection, WeightMirrors])
def test_errors_and_online_updates_within_90_degrees_of_backprop(cls, digits):
    """Spec §4.3/§6 diagnostic, after warm-up on 400 digits: every hidden layer's error
    signal δ̂^ℓ lies within 90° of backprop's δ^ℓ on the fixed batch (cosine > 0.2), and
    so does the update of every single sample (δ̂_s ⊗ z_s vs δ_s ⊗ z_s: on average
    cosine > 0.2, > 70 % of the samples within 90°)."""
    est, X, Y = _warmed_up(cls, digits)
    net = est.net_
    hs, zs = net.forward(X)
    true = backprop_deltas(net, hs, est.loss.delta(hs[-1], Y))
    # the rule's deltas: its batch update is weight_grads(deltas, zs), so recover them
    # by running the rule on one sample at a time
    for l in range(net.n_layers - 1):
        rule = np.array([est.update_directions(X[i:i + 1], Y[i:i + 1])[net.n_layers + l]
                         for i in range(len(X))])  # bias direction of layer l = δ̂_s
        per_sample = np.sum(rule * true[l], axis=1) / (
            np.linalg.norm(rule, axis=1) * np.linalg.norm(true[l], axis=1) + 1e-300)
        assert cosine(rule, true[l]) > 0.2, (cls.__name__, l)
        assert per_sample.mean() > 0.2 and np.mean(per_sample > 0) > 0.7, (cls.__name__, l)


@pytest.mark.parametrize("cls", [IndirectFeedbackAlignment, WeightMirrors])
def test_batch_update_descends_within_90_degrees_of_backprop(cls, digits):
    """The whole batch's update (400 digits) of every layer, too, lies within 90° of
    backprop's after warm-up (cosine > 0.2). DRTP is not held to this: it keeps pushing
    samples that are already right along −y B, and on non-negative pixel inputs those
    terms make its first layer's batch update near-orthogonal to backprop's (cosine
    fluctuating around 0 from epoch to epoch) although every sample's update is aligned
    (test above)."""
    est, X, Y = _warmed_up(cls, digits)
    rule, bp = est.update_directions(X, Y), est.backprop_directions(X, Y)
    L = est.net_.n_layers
    assert np.allclose(rule[L - 1], bp[L - 1])  # output layer: the true δ^L
    per_layer = [cosine(rule[l], bp[l]) for l in range(L - 1)]
    assert all(c > 0.2 for c in per_layer), (cls.__name__, per_layer)


def test_ifa_with_one_hidden_layer_is_dfa(toy_batch):
    """S1 Eq. 13 with L − 1 = 1: the error is injected once and nothing travels upwards,
    which is DFA's update (same seed: same W and same B)."""
    X, y, Y = toy_batch
    ifa = IndirectFeedbackAlignment(hidden_layer_sizes=(6,), max_iter=1, random_state=4)
    dfa = DirectFeedbackAlignment(hidden_layer_sizes=(6,), max_iter=1, random_state=4)
    ifa.fit(X, y), dfa.fit(X, y)
    for a, b in zip(ifa.update_directions(X, Y), dfa.update_directions(X, Y)):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14)


def test_ifa_carries_the_error_upwards_through_forward_weights(toy_batch):
    X, y, Y = toy_batch
    ifa = IndirectFeedbackAlignment(hidden_layer_sizes=(6, 5, 4), max_iter=1, random_state=0)
    ifa.fit(X, y)
    W, b = ifa.net_.W, ifa.net_.b
    h1 = X @ W[0].T + b[0]
    h2 = np.tanh(h1) @ W[1].T + b[1]
    h3 = np.tanh(h2) @ W[2].T + b[2]
    out = np.tanh(h3) @ W[3].T + b[3]
    e = SoftmaxCrossEntropy.delta(out, Y)
    d1 = (e @ ifa.feedback_) * (1 - np.tanh(h1) ** 2)
    d2 = (d1 @ W[1].T) * (1 - np.tanh(h2) ** 2)     # forward synapses, forward direction
    d3 = (d2 @ W[2].T) * (1 - np.tanh(h3) ** 2)
    g = ifa.update_directions(X, Y)
    for got, d, z in zip(g[:3], (d1, d2, d3), (X, np.tanh(h1), np.tanh(h2))):
        assert np.allclose(got, d.T @ z / len(X))


def test_drtp_hidden_updates_need_only_the_label(toy_batch):
    """DRTP's hidden updates do not depend on the output layer (no update locking): any
    change of W^L leaves them unchanged, and they equal (−y B_d^ℓ) ⊙ φ'(h^ℓ) ⊗ z^{ℓ−1}."""
    X, y, Y = toy_batch
    est = DirectRandomTargetProjection(hidden_layer_sizes=(6, 5), max_iter=1, random_state=0)
    est.fit(X, y)
    before = est.update_directions(X, Y)
    est.net_.W[-1] += np.random.default_rng(1).normal(size=est.net_.W[-1].shape)
    after = est.update_directions(X, Y)
    for k in (0, 1, 3, 4):  # W^1, W^2, b^1, b^2
        assert np.array_equal(before[k], after[k])
    assert not np.allclose(before[2], after[2])  # the output layer's own error changed
    h1 = X @ est.net_.W[0].T + est.net_.b[0]
    d1 = (-Y @ est.feedback_[0]) * (1 - np.tanh(h1) ** 2)
    assert np.allclose(before[0], d1.T @ X / len(X))


def test_weight_mirrors_feedback_converges_to_forward_weights(toy_batch):
    """Mirror phase alone (W fixed): E[r^T Ξ / m] = σ² W, so B → (η σ² / λ) W. With the
    default λ = η σ² B → W: the angle falls from ~90° (random B) to a few degrees."""
    X, y, _ = toy_batch
    wm = WeightMirrors(hidden_layer_sizes=(20, 20), max_iter=1, mirror_samples=64,
                       mirror_learning_rate=0.05, random_state=0).fit(X, y)
    W = [w.copy() for w in wm.net_.W]
    wm.feedback_ = [None] + [np.random.default_rng(5).normal(size=w.shape) for w in W[1:]]

    def angles():
        return [np.degrees(np.arccos(cosine(B, w))) for B, w in zip(wm.feedback_[1:], W[1:])]

    start = angles()
    for _ in range(400):
        wm.mirror_step()
    end = angles()
    assert all(a > 60 for a in start) and all(a < 8 for a in end), (start, end)
    for B, w in zip(wm.feedback_[1:], W[1:]):
        assert np.linalg.norm(B - w) < 0.15 * np.linalg.norm(w)
    # another decay: same direction, fixed point scaled by η σ² / λ = 0.5
    wm.set_params(mirror_decay=0.1)
    for _ in range(400):
        wm.mirror_step()
    for B, w in zip(wm.feedback_[1:], W[1:]):
        assert np.linalg.norm(B - 0.5 * w) < 0.15 * np.linalg.norm(0.5 * w)


def test_weight_mirrors_align_during_training(digits):
    X, y = digits[0][:400], digits[2][:400]
    wm = WeightMirrors(hidden_layer_sizes=(64, 64), max_iter=1, random_state=0).fit(X, y)
    first = [cosine(B, W) for B, W in zip(wm.feedback_[1:], wm.net_.W[1:])]
    for _ in range(10):
        wm.partial_fit(X, y)
    last = [cosine(B, W) for B, W in zip(wm.feedback_[1:], wm.net_.W[1:])]
    assert all(c > 0.9 for c in last) and all(b > a for a, b in zip(first, last))


# ---------------------------------------------------------------- three-factor Hebbian
def test_three_factor_update_is_the_modulated_eligibility_trace(toy_batch):
    """The batch update equals Σ_s M_s E_s / (n σ²) with every sample's per-synapse trace
    run step by step, E ← γ E + (z̃_t − z)(z̃^{ℓ−1}_t)^T (spec §4.7, S1 Eq. 14)."""
    X, y, Y = toy_batch
    est = RewardModulatedHebbian(hidden_layer_sizes=(5,), n_steps=3, trace_decay=0.6,
                                 sigma=0.2, max_iter=1, random_state=0).fit(X, y)
    rng = copy.deepcopy(est._rng)  # the draws update_directions is about to make
    got = est.update_directions(X, Y)
    W, b = est.net_.W, est.net_.b
    n, s, T, g = len(X), 0.2, 3, 0.6
    h1 = X @ W[0].T + b[0]
    z1, out = np.tanh(h1), np.tanh(h1) @ W[1].T + b[1]
    E1, E2 = np.zeros((n,) + W[0].shape), np.zeros((n,) + W[1].shape)
    Eb1, Eb2, mean_out = np.zeros((n, 5)), np.zeros((n, 3)), 0
    for _ in range(T):
        xi1, xi2 = rng.normal(0, s, h1.shape), rng.normal(0, s, out.shape)
        zt = np.tanh(h1 + xi1)
        ot = zt @ W[1].T + b[1] + xi2
        mean_out = mean_out + ot / T
        for i in range(n):
            E1[i] = g * E1[i] + np.outer(zt[i] - z1[i], X[i])
            E2[i] = g * E2[i] + np.outer(ot[i] - out[i], zt[i])
            Eb1[i] = g * Eb1[i] + (zt[i] - z1[i])
            Eb2[i] = g * Eb2[i] + (ot[i] - out[i])

    def log_lik(o):
        return np.log(np.exp(o[np.arange(n), y]) / np.exp(o).sum(axis=1))

    M = log_lik(mean_out) - log_lik(out)
    for got_k, E in zip(got, (E1, E2, Eb1, Eb2)):
        expected = -np.tensordot(M, E, axes=1) / (n * s * s)  # descent direction = −ΔW
        assert np.allclose(got_k, expected)


def test_three_factor_expected_update_ascends_the_reward(toy_batch):
    """Averaged over many trials, the update points along the exact gradient of the
    expected reward (log-likelihood, so −backprop's gradient) for small σ."""
    X, y, Y = toy_batch
    est = RewardModulatedHebbian(hidden_layer_sizes=(8,), sigma=0.01, n_steps=1, max_iter=1,
                                 random_state=0).fit(X, y)
    mean = None
    for _ in range(3000):
        d = est.update_directions(X, Y)
        mean = d if mean is None else [a + b for a, b in zip(mean, d)]
    bp = est.backprop_directions(X, Y)
    flat = lambda gs: np.concatenate([g.ravel() for g in gs])  # noqa: E731
    assert cosine(flat(mean), flat(bp)) > 0.9


@pytest.mark.parametrize("baseline", ["clean", "running"])
def test_three_factor_learns_a_task_with_known_optimum_from_reward_alone(baseline):
    """Reward 1 for a correct answer, 0 otherwise (the label is never shown): on two
    separable classes the reward climbs from 0 (this seed starts always wrong) to the
    optimum's 1. Exploration noise of σ = 1 lets some answers flip and earn a reward."""
    X, y = blobs()
    est = RewardModulatedHebbian(reward="correct", baseline=baseline, sigma=1.0, n_steps=2,
                                 hidden_layer_sizes=(8,), learning_rate=1e-2, max_iter=1,
                                 random_state=0)
    est.partial_fit(X, y)
    first = est.score(X, y)
    for _ in range(20):
        est.partial_fit(X, y)
    assert first < 0.5 and est.score(X, y) == 1.0, (first, est.score(X, y))


# ---------------------------------------------------------------- hill-climbing, annealing
def test_hill_climbing_never_increases_the_full_batch_loss():
    """Batch = whole set: M = 1 only for moves that lower the loss, so the loss sequence is
    non-increasing, and it approaches the known optimum (separable classes)."""
    X, y = blobs()
    hc = HillClimbing(hidden_layer_sizes=(4,), batch_size=len(X), learning_rate=0.05,
                      max_iter=150, random_state=0).fit(X, y)
    loss = np.array(hc.history_["loss"])
    assert np.all(np.diff(loss) <= 0)
    assert loss[-1] < 0.2 * loss[0] and hc.score(X, y) == 1.0
    assert 0 < np.mean(hc.history_["acceptance"]) < 1


def test_annealing_at_zero_temperature_is_hill_climbing():
    X, y = blobs(60)
    kw = dict(hidden_layer_sizes=(4,), batch_size=20, max_iter=3, random_state=3)
    hc = HillClimbing(**kw).fit(X, y)
    sa = SimulatedAnnealing(initial_temperature=0.0, **kw).fit(X, y)
    for a, b in zip(hc.net_.params, sa.net_.params):
        assert np.array_equal(a, b)


def test_metropolis_acceptance_probability():
    """min(1, exp(−Δ/T)) over uniform draws, within 4 standard errors."""
    u = np.random.default_rng(0).random(20000)
    for delta, T in [(0.1, 0.1), (0.05, 0.2), (1.0, 0.25)]:
        p = np.mean([metropolis_accept(delta, T, v) for v in u])
        q = np.exp(-delta / T)
        assert abs(p - q) < 4 * np.sqrt(q * (1 - q) / len(u)) + 1e-12
    assert metropolis_accept(-1e-9, 0.0, 0.999) and not metropolis_accept(1e-9, 0.0, 0.0)
    # a tiny temperature: Δ/T would overflow; the move is simply refused
    assert not metropolis_accept(np.float64(0.1), np.float64(1e-310), 0.5)


def test_annealing_takes_uphill_moves_while_hot_and_improves_the_loss():
    """Hot start: the full-batch loss sometimes rises (uphill moves accepted, unlike
    hill-climbing, which accepts fewer moves while hot); as T cools, it ends near the
    known optimum."""
    X, y = blobs()
    kw = dict(hidden_layer_sizes=(4,), batch_size=len(X), learning_rate=0.05, max_iter=150,
              random_state=0)
    sa = SimulatedAnnealing(initial_temperature=0.05, cooling_rate=0.95, **kw).fit(X, y)
    hc = HillClimbing(**kw).fit(X, y)
    loss = np.array(sa.history_["loss"])
    assert np.any(np.diff(loss) > 0)
    assert loss[-1] < 0.2 * loss[0] and sa.score(X, y) == 1.0
    hot = slice(0, 20)
    assert np.mean(sa.history_["acceptance"][hot]) > np.mean(hc.history_["acceptance"][hot])


# ---------------------------------------------------------------- HSIC bottleneck
def _direct_gaussian(A, width):
    m, d = A.shape
    K = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            K[i, j] = np.exp(-np.sum((A[i] - A[j]) ** 2) / (2 * width**2 * d))
    return K


def _direct_hsic(K, L):
    """Gretton et al. (2005)'s expanded biased estimator, term by term:
    (m − 1)^−2 [Σ K_ij L_ij + m^−2 Σ K_ij Σ L_kl − 2 m^−1 Σ_ijq K_ij L_iq]."""
    m = len(K)
    t1 = sum(K[i, j] * L[i, j] for i in range(m) for j in range(m))
    t2 = K.sum() * L.sum() / m**2
    t3 = sum(K[i, j] * L[i, q] for i in range(m) for j in range(m) for q in range(m)) / m
    return (t1 + t2 - 2 * t3) / (m - 1) ** 2


def test_hsic_estimate_equals_direct_kernel_computation():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(9, 3))
    B = A[:, :2] ** 2 + 0.3 * rng.normal(size=(9, 2))
    Ka, Kb = gaussian_kernel(A, 0.7), gaussian_kernel(B, 1.3)
    assert np.allclose(Ka, _direct_gaussian(A, 0.7)) and np.allclose(Kb, _direct_gaussian(B, 1.3))
    assert np.isclose(hsic(Ka, Kb), _direct_hsic(Ka, Kb), rtol=1e-12)
    assert np.isclose(hsic(Ka, Kb), hsic(Kb, Ka), rtol=1e-12)
    # independent variables: much smaller dependence than the dependent pair
    C = rng.normal(size=(9, 2))
    assert hsic(Ka, gaussian_kernel(C, 1.3)) < hsic(Ka, Kb)


def test_bottleneck_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    Z, X = rng.normal(size=(7, 4)), rng.normal(size=(7, 3))
    Y = np.eye(3)[rng.integers(0, 3, 7)]
    Kx, Ky = _direct_gaussian(X, 0.8), Y @ Y.T

    def J(Z):
        Kz = _direct_gaussian(Z, 0.6)
        return _direct_hsic(Kz, Kx) - 2.5 * _direct_hsic(Kz, Ky)

    val, G = bottleneck_gradient(Z, Kx, Ky, 2.5, 0.6)
    assert np.isclose(val, J(Z))
    fd = np.zeros_like(Z)
    for i in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[i] += 1e-6
        Zm[i] -= 1e-6
        fd[i] = (J(Zp) - J(Zm)) / 2e-6
    assert np.allclose(G, fd, rtol=1e-5, atol=1e-9)


def test_hsic_training_moves_each_layer_towards_the_label(digits):
    """Each hidden layer lowers its own objective HSIC(Z, X) − β HSIC(Z, Y) on held-out
    data, and its dependence on the label rises; ``layer_hsic`` agrees with a direct
    computation on the layer's activities."""
    Xtr, Xte, ytr, yte = digits
    est = HSICBottleneck(hidden_layer_sizes=(32, 32), batch_size=64, learning_rate=3e-3,
                         max_iter=1, random_state=0)
    est.partial_fit(Xtr[:600], ytr[:600])
    Xv, yv = Xte[:60], yte[:60]
    before = est.layer_hsic(Xv, yv)
    for _ in range(5):
        est.partial_fit(Xtr[:600], ytr[:600])
    after = est.layer_hsic(Xv, yv)
    beta = est.beta
    for (bx, by), (ax, ay) in zip(before, after):
        assert ay > by and ax - beta * ay < bx - beta * by
    _, zs = est.net_.forward(Xv)
    Yv = est._one_hot(yv)
    Kx = _direct_gaussian(Xv, est.kernel_width)
    Kz = _direct_gaussian(zs[2], est.kernel_width)
    assert np.isclose(after[1][0], _direct_hsic(Kz, Kx))
    assert np.isclose(after[1][1], _direct_hsic(Kz, Yv @ Yv.T))
