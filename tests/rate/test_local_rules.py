"""Oracles for PC, EP, CHL, learned feedback, TP/DTP, perturbation, FF, local rules (spec §6)."""
import numpy as np
import pytest

from neuromorph.models.rate import (
    ContrastiveHebbian, DifferenceTargetPropagation, EquilibriumPropagation, ForwardForward,
    LearnedFeedback, LocalLosses, NodePerturbation, Pepita, PredictiveCoding, Reinforce,
    TargetPropagation, WeightPerturbation,
)
from neuromorph.models.rate.activations import get_activation
from neuromorph.models.rate.forward_forward import goodness_step


def cosine(a, b):
    a = np.concatenate([x.ravel() for x in a]) if isinstance(a, list) else a.ravel()
    b = np.concatenate([x.ravel() for x in b]) if isinstance(b, list) else b.ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture
def tiny():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 5))
    y = np.arange(8) % 3
    return X, y


# ---------------------------------------------------------------- predictive coding
def test_pc_update_approaches_backprop_as_output_error_vanishes(tiny):
    """Spec §6 (Whittington & Bogacz 2017): PC ΔW → backprop ΔW, cosine > 0.99.

    The output error's pull on the hidden nodes is scaled down through the output
    precision π^L; the cosine with the squared-error backprop gradient rises towards 1.
    """
    X, y = tiny
    cos = []
    for prec in (1.0, 0.1, 0.01):
        pc = PredictiveCoding(hidden_layer_sizes=(6, 4), max_iter=1, n_inference=300,
                              inference_rate=0.2, output_precision=prec, random_state=0).fit(X, y)
        mu = pc.net_.output(X)
        Y = mu + 0.1 * np.random.default_rng(1).normal(size=mu.shape)  # small output error
        cos.append(cosine(pc.update_directions(X, Y), pc.backprop_directions(X, Y)))
    assert cos[0] < cos[1] < cos[2]
    assert cos[2] > 0.99


def test_pc_inference_descends_the_free_energy(tiny):
    X, y = tiny
    pc = PredictiveCoding(hidden_layer_sizes=(6, 4), max_iter=1, random_state=0).fit(X, y)
    Y = pc._one_hot(y)
    F = [pc.energy(pc.settle(X, Y, n_steps=t)[0]) for t in (0, 1, 5, 20, 100)]
    assert all(a > b for a, b in zip(F, F[1:]))


def test_pc_with_consistent_target_does_not_learn(tiny):
    """If the clamped target equals the prediction, every error and update is zero."""
    X, y = tiny
    pc = PredictiveCoding(hidden_layer_sizes=(6,), max_iter=1, random_state=0).fit(X, y)
    for g in pc.update_directions(X, pc.net_.output(X)):
        assert np.allclose(g, 0, atol=1e-12)


# ---------------------------------------------------------------- equilibrium propagation
def _free_loss(ep, X, Y):
    return 0.5 * float(((ep.free_phase(X)[-1] - Y) ** 2).sum(axis=1).mean())


@pytest.mark.parametrize("nudging", ["symmetric", "positive"])
def test_ep_update_approaches_recurrent_backprop_gradient(tiny, nudging):
    """Spec §6: EP's update → ∂C(h^{L,0}(θ))/∂θ as β → 0 (finite differences)."""
    X, y = tiny
    kw = dict(hidden_layer_sizes=(4,), activation="sigmoid", n_free=300, n_nudged=300,
              step=0.5, max_iter=1, random_state=0)
    ep = EquilibriumPropagation(beta=1e-3, nudging=nudging, **kw).fit(X, y)
    Y = ep._one_hot(y)
    ep_dir = ep.update_directions(X, Y)
    fd = []
    for p in ep.net_.params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + 1e-5
            lp = _free_loss(ep, X, Y)
            p[i] = old - 1e-5
            lm = _free_loss(ep, X, Y)
            p[i] = old
            g[i] = (lp - lm) / 2e-5
        fd.append(g)
    assert cosine(ep_dir, fd) > 0.999
    rel = np.linalg.norm(np.concatenate([(a - b).ravel() for a, b in zip(ep_dir, fd)]))
    assert rel / np.linalg.norm(np.concatenate([b.ravel() for b in fd])) < 0.02
    # a large β biases the one-sided estimate more than the symmetric one
    big = EquilibriumPropagation(beta=1.0, nudging=nudging, **kw).fit(X, y)
    big.net_.W, big.net_.b = ep.net_.W, ep.net_.b
    err_big = cosine(big.update_directions(X, Y), fd)
    assert err_big < cosine(ep_dir, fd)


def test_ep_random_sign_averages_to_symmetric(tiny):
    X, y = tiny
    kw = dict(hidden_layer_sizes=(4,), activation="sigmoid", n_free=200, n_nudged=200,
              beta=0.3, max_iter=1, random_state=0)
    sym = EquilibriumPropagation(nudging="symmetric", **kw).fit(X, y)
    rnd = EquilibriumPropagation(nudging="random_sign", **kw).fit(X, y)
    rnd.net_.W, rnd.net_.b = sym.net_.W, sym.net_.b
    Y = sym._one_hot(y)
    draws = [rnd.update_directions(X, Y) for _ in range(40)]
    mean = [np.mean([d[k] for d in draws], axis=0) for k in range(len(draws[0]))]
    assert cosine(mean, sym.update_directions(X, Y)) > 0.99


def test_ep_relaxation_descends_energy(tiny):
    X, y = tiny
    ep = EquilibriumPropagation(hidden_layer_sizes=(6,), activation="sigmoid", step=0.2,
                                n_free=1, max_iter=1, random_state=0).fit(X, y)
    from neuromorph.models.rate.energy import feedforward_states, relax

    s = feedforward_states(ep.net_, ep._rho, X)
    F = []
    for _ in range(30):
        F.append(ep.energy(X, s).sum())
        s = relax(ep.net_, ep._rho, X, s, 1, 0.2)
    assert all(a >= b - 1e-12 for a, b in zip(F, F[1:]))


def test_ep_rejects_non_positive_beta(tiny):
    X, y = tiny
    for beta in (0.0, -0.1):
        with pytest.raises(ValueError, match="beta"):
            EquilibriumPropagation(beta=beta).fit(X, y)


def test_chl_update_correlates_with_gradient(tiny):
    """CHL with small γ approximates the gradient of the free-phase loss (Xie & Seung)."""
    X, y = tiny
    kw = dict(hidden_layer_sizes=(4,), activation="sigmoid", n_free=300, step=0.5,
              max_iter=1, random_state=0)
    ep = EquilibriumPropagation(beta=1e-3, n_nudged=300, **kw).fit(X, y)
    chl = ContrastiveHebbian(gamma=0.2, n_clamped=300, **kw).fit(X, y)
    Y = ep._one_hot(y)
    chl.net_.W, chl.net_.b = ep.net_.W, ep.net_.b
    ep.gamma = 0.2
    assert cosine(chl.update_directions(X, Y), ep.update_directions(X, Y)) > 0.5


# ---------------------------------------------------------------- learned feedback
def test_learned_feedback_aligns_with_forward_weights_in_linear_net(digits):
    """Spec §6: in a linear net the regression residual and ‖B − W‖ shrink in warm-up.

    B is stored with W's orientation (B ≈ W means B ≈ (W^T)^T, the spec's B → W^T). The
    softmax errors sum to zero over classes, so B is compared with W on that subspace.
    """
    X, y = digits[0][:300], digits[2][:300]
    lf = LearnedFeedback(hidden_layer_sizes=(16,), activation="identity", max_iter=1,
                         warmup_iter=100, sigma=0.05, ridge=1e-3,
                         feedback_learning_rate=3e-3, random_state=0)
    lf.fit(X, y)
    Y = lf._one_hot(y)
    W0 = [w.copy() for w in lf.net_.W]
    C = Y.shape[1]
    P = np.eye(C) - 1.0 / C

    def misalignment():
        W, B = P @ lf.net_.W[1], P @ lf.feedback_[1]
        return np.linalg.norm(B - W) / np.linalg.norm(W)

    def residual():
        hs, zs = lf.net_.forward(X)
        return np.mean([lf.feedback_directions(hs, zs, Y)[1][0] for _ in range(5)])

    m0, r0 = misalignment(), residual()
    for _ in range(30):
        lf.partial_fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(W0, lf.net_.W))  # warm-up froze W
    assert misalignment() < 0.5 * m0
    assert residual() < r0
    assert cosine(P @ lf.feedback_[1], P @ lf.net_.W[1]) > 0.9


def test_learned_feedback_trains_forward_weights_after_warmup(toy_batch):
    X, y, _ = toy_batch
    lf = LearnedFeedback(hidden_layer_sizes=(6,), max_iter=1, warmup_iter=1, random_state=0)
    lf.fit(X, y)
    W = [w.copy() for w in lf.net_.W]
    lf.partial_fit(X, y)
    assert not np.array_equal(W[0], lf.net_.W[0])


# ---------------------------------------------------------------- perturbation
@pytest.mark.parametrize("cls, kw, bound", [
    (NodePerturbation, dict(hidden_layer_sizes=(6,), sigma=1e-3, n_perturbations=3000), 0.97),
    (WeightPerturbation, dict(hidden_layer_sizes=(3,), sigma=1e-4, n_perturbations=4000), 0.95),
])
def test_perturbation_estimates_are_unbiased_for_backprop(tiny, cls, kw, bound):
    """Averaged over many draws, the perturbation estimate points along the gradient."""
    X, y = tiny
    est = cls(**kw, max_iter=1, random_state=0).fit(X, y)
    Y = est._one_hot(y)
    assert cosine(est.update_directions(X, Y), est.backprop_directions(X, Y)) > bound


def _expected_log_likelihood(est, x, label):
    """E_a[log π(label | a)] by enumerating all binary states of one hidden layer."""
    import itertools

    net = est.net_
    p = net.act.f(x @ net.W[0].T + net.b[0])
    total = 0.0
    for a in itertools.product([0.0, 1.0], repeat=p.size):
        a = np.array(a)
        prob = np.prod(np.where(a == 1, p, 1 - p))
        h = a @ net.W[1].T + net.b[1]
        total += prob * (h[label] - np.log(np.exp(h).sum()))
    return total


def test_reinforce_estimates_the_expected_reward_gradient():
    """REINFORCE is unbiased: its mean update equals −∇E[r], computed by enumeration."""
    x, label = np.array([[0.5, -1.0, 0.3]]), 1
    est = Reinforce(hidden_layer_sizes=(3,), weight_scale=1.0, n_samples=20000,
                    max_iter=1, random_state=0).fit(np.vstack([x, -x]), [label, 0])
    Y = np.eye(2)[[label]]
    g = est.update_directions(x, Y)
    W = est.net_.W[0]
    fd = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        old = W[i]
        W[i] = old + 1e-6
        up = _expected_log_likelihood(est, x[0], label)
        W[i] = old - 1e-6
        down = _expected_log_likelihood(est, x[0], label)
        W[i] = old
        fd[i] = -(up - down) / 2e-6  # descent direction
    assert cosine(g[0], fd) > 0.95


# ---------------------------------------------------------------- target propagation
def test_dtp_propagates_zero_correction_when_top_target_is_reached(toy_batch):
    X, y, Y = toy_batch
    dtp = DifferenceTargetPropagation(hidden_layer_sizes=(6, 5, 4), max_iter=1,
                                      random_state=0).fit(X, y)
    hs, zs = dtp.net_.forward(X)
    dtp.target_step = 1e-12  # top target = activity
    for z, t in zip(zs[1:-1], dtp.targets(hs, zs, Y)):
        assert np.allclose(z, t, atol=1e-9)
    tp = TargetPropagation(hidden_layer_sizes=(6, 5, 4), max_iter=1, random_state=0,
                           target_step=1e-12).fit(X, y)
    hs, zs = tp.net_.forward(X)
    assert not np.allclose(zs[1], tp.targets(hs, zs, Y)[0])  # plain TP lacks the correction


def test_tp_decoders_learn_to_invert_their_layer(digits):
    X, y = digits[0][:300], digits[2][:300]
    dtp = DifferenceTargetPropagation(hidden_layer_sizes=(32, 32), max_iter=1, random_state=0)
    dtp.fit(X, y)

    def reconstruction_error():
        zs = dtp.net_.forward(X)[1]
        return float(np.mean((dtp._decode(0, zs[2]) - zs[1]) ** 2))

    before = reconstruction_error()
    for _ in range(10):
        dtp.partial_fit(X, y)
    assert reconstruction_error() < 0.5 * before


# ---------------------------------------------------------------- forward-only / local
def test_goodness_step_matches_finite_differences():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(6, 4)), rng.normal(size=6) * 0.1
    r = rng.normal(size=(5, 4))
    c = np.array([1, 0, 1, 0, 1.0])
    act = get_activation("tanh")
    _, loss, gW, gb = goodness_step(W, b, act, r, c, 0.5)
    eps = 1e-6
    for p, g in ((W, gW), (b, gb)):
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            lp = goodness_step(W, b, act, r, c, 0.5)[1].mean()
            p[i] = old - eps
            lm = goodness_step(W, b, act, r, c, 0.5)[1].mean()
            p[i] = old
            assert np.isclose(g[i], (lp - lm) / (2 * eps), atol=1e-7)


def test_ff_positive_goodness_exceeds_negative_after_training(small_digits):
    Xtr, Xte, ytr, yte = small_digits
    ff = ForwardForward(hidden_layer_sizes=(64, 64), max_iter=8, random_state=0).fit(Xtr, ytr)
    G = ff.decision_scores(Xte)
    true = G[np.arange(len(yte)), yte]
    G[np.arange(len(yte)), yte] = -np.inf
    assert np.mean(true > G.max(axis=1)) > 0.8


def test_local_losses_updates_ignore_layers_above(toy_batch):
    """Locality: a hidden layer's update does not change if a layer above changes."""
    X, y, Y = toy_batch
    ll = LocalLosses(hidden_layer_sizes=(6, 5), max_iter=1, random_state=0).fit(X, y)
    g1 = ll.update_directions(X, Y)
    ll.net_.W[1] += 1.0
    ll.net_.W[2] += 1.0
    g2 = ll.update_directions(X, Y)
    assert np.array_equal(g1[0], g2[0])
    assert not np.array_equal(g1[2], g2[2])


def test_pepita_hidden_update_is_activity_difference(toy_batch):
    X, y, Y = toy_batch
    pep = Pepita(hidden_layer_sizes=(6,), max_iter=1, random_state=0).fit(X, y)
    hs, zs = pep.net_.forward(X)
    e = hs[-1] - hs[-1].max(1, keepdims=True)
    e = np.exp(e) / np.exp(e).sum(1, keepdims=True) - Y
    zt = pep.net_.forward(X + e @ pep.projection_.T)[1]
    g = pep.update_directions(X, Y)
    assert np.allclose(g[0], (zs[1] - zt[1]).T @ zt[0] / len(X))
    pep.projection_[:] = 0.0  # no error injected -> hidden layers do not learn
    assert np.allclose(pep.update_directions(X, Y)[0], 0.0)
