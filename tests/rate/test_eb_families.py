"""Oracle tests of recirculation, GeneRec, RBM (CD-k / PCD), wake-sleep and SigProp (issue 19).

Each test checks the rule against something computed independently here: exact
enumeration of small Boltzmann / Helmholtz machines, scikit-learn's ``BernoulliRBM``, the
project's ContrastiveHebbian, direct NumPy formulas and finite differences.
"""
import itertools

import numpy as np
import pytest

from neuromorph.models.rate import (
    RBM, ContrastiveHebbian, GeneRec, Recirculation, SigProp, WakeSleep,
)
from neuromorph.models.rate.activations import get_activation
from neuromorph.models.rate.sigprop import sigprop_layer


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def logsumexp(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.exp(a - m).sum(axis=axis))


def binary_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


# ---------------------------------------------------------------- recirculation
def _toy_autoencoder_data():
    """16-dim binary patterns made of 3 latent bits (each switches a block of 5 pixels)
    with 5 % pixel noise: an autoencoder with 4 hidden units can reconstruct them."""
    rng = np.random.default_rng(0)
    latent = rng.integers(0, 2, size=(400, 3))
    X = np.repeat(latent, 5, axis=1).astype(float)
    X = np.hstack([X, np.ones((400, 1))])
    flip = rng.random(X.shape) < 0.05
    return np.abs(X - flip), latent @ [1, 2, 4] % 3


def _reconstruction(est, X):
    """x̂ = σ(V σ(W x + b) + d), computed from the stored weights."""
    (W,), (b,) = est.encoders_[:1], est.encoders_[1:]
    (V,), (d,) = est.decoders_[:1], est.decoders_[1:]
    return sigmoid(sigmoid(X @ W.T + b) @ V.T + d)


@pytest.mark.parametrize("presynaptic", ["input", "reconstruction"])
def test_recirculation_reduces_reconstruction_error_on_toy_autoencoder(presynaptic):
    X, y = _toy_autoencoder_data()
    kw = dict(hidden_layer_sizes=(4,), feature_learning_rate=1.0, batch_size=20,
              presynaptic=presynaptic, random_state=0)
    start = Recirculation(max_iter=1, **kw).fit(X, y)
    trained = Recirculation(max_iter=150, **kw).fit(X, y)
    err = [((X - _reconstruction(m, X)) ** 2).sum(axis=1).mean() for m in (start, trained)]
    constant = ((X - X.mean(axis=0)) ** 2).sum(axis=1).mean()   # best constant guess
    assert err[1] < 0.35 * err[0]
    assert err[1] < 0.5 * constant                               # it encodes the latents
    assert np.isclose(trained.reconstruction_error(X).mean(), err[1])
    curve = trained.history_["reconstruction_error"]
    assert curve[-1] < curve[0]


def test_deep_recirculation_stack_reduces_end_to_end_reconstruction_error():
    """Two autoencoders trained layer-locally; x̂ decoded through both decoders."""
    X, y = _toy_autoencoder_data()
    kw = dict(hidden_layer_sizes=(8, 4), feature_learning_rate=1.0, batch_size=20,
              random_state=0)
    est = Recirculation(max_iter=150, **kw).fit(X, y)
    (W1, W2, b1, b2), (V1, V2, d0, d1) = est.encoders_, est.decoders_
    x_hat = sigmoid(sigmoid(sigmoid(sigmoid(X @ W1.T + b1) @ W2.T + b2) @ V2.T + d1) @ V1.T + d0)
    err = ((X - x_hat) ** 2).sum(axis=1).mean()
    np.testing.assert_allclose(est.reconstruction_error(X).mean(), err)
    assert err < 0.5 * est.history_["reconstruction_error"][0]


def test_recirculation_follows_reconstruction_gradient_with_symmetric_weights():
    """Hinton & McClelland: with V = W^T and β → 1 the encoder update points along the
    reconstruction error's negative gradient (finite differences here)."""
    X, y = _toy_autoencoder_data()
    X = X[:50]
    est = Recirculation(hidden_layer_sizes=(4,), regression=0.99, max_iter=1,
                        random_state=1).fit(X, y[:50])
    W, b = est.encoders_
    est.decoders_[0] = W.T.copy()                         # symmetric weights
    V, d = est.decoders_

    def loss(Wm):                                         # decoder held at V
        r = sigmoid(sigmoid(X @ Wm.T + b) @ V.T + d)
        return 0.5 * ((X - r) ** 2).sum(axis=1).mean()

    g = np.zeros_like(W)
    for i, j in itertools.product(*map(range, W.shape)):
        E = np.zeros_like(W)
        E[i, j] = 1e-6
        g[i, j] = (loss(W + E) - loss(W - E)) / 2e-6
    dW = est.update_directions(X)[0][0]
    cos = -(g * dW).sum() / np.linalg.norm(g) / np.linalg.norm(dW)
    assert cos > 0.5


# ---------------------------------------------------------------- GeneRec
@pytest.fixture
def tiny_settle():
    rng = np.random.default_rng(5)
    X = rng.random((12, 6))
    y = np.arange(12) % 3
    return X, y, np.eye(3)[y]


@pytest.mark.parametrize("phase_order", ["free_first", "clamped_first"])
def test_generec_symmetric_midpoint_equals_chl(tiny_settle, phase_order):
    X, y, Y = tiny_settle
    kw = dict(hidden_layer_sizes=(5,), gamma=0.5, n_free=15, n_clamped=15, max_iter=1,
              phase_order=phase_order, activation="sigmoid", random_state=2)
    chl = ContrastiveHebbian(**kw).fit(X, y)
    gr = GeneRec(variant="symmetric_midpoint", **kw).fit(X, y)
    gr.net_.W = [w.copy() for w in chl.net_.W]
    gr.net_.b = [b.copy() for b in chl.net_.b]
    for a, b in zip(gr.update_directions(X, Y), chl.update_directions(X, Y)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_generec_variants_match_their_formulas(tiny_settle):
    X, y, Y = tiny_settle
    kw = dict(hidden_layer_sizes=(5,), gamma=0.5, n_free=15, n_clamped=15, max_iter=1,
              activation="sigmoid", random_state=3)
    for variant in ("basic", "symmetric", "midpoint"):
        gr = GeneRec(variant=variant, **kw).fit(X, y)
        plus, minus = gr.phases(X, Y, gr.free_phase(X))
        p = [X] + [sigmoid(h) for h in plus]
        m = [X] + [sigmoid(h) for h in minus]
        n, scale = len(X), [0.5 ** -1, 1.0]          # γ^{−(L−ℓ)} for L = 2
        got = gr.update_directions(X, Y)
        for l in range(2):
            dy = p[l + 1] - m[l + 1]
            if variant == "basic":
                want = np.einsum("ni,nj->ij", dy, m[l]) / n
            elif variant == "symmetric":
                want = (np.einsum("ni,nj->ij", dy, m[l])
                        + np.einsum("ni,nj->ij", m[l + 1], p[l] - m[l])) / n
            else:
                want = np.einsum("ni,nj->ij", dy, (m[l] + p[l]) / 2) / n
            np.testing.assert_allclose(got[l], -scale[l] * want, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(got[2 + l], -scale[l] * dy.mean(axis=0), rtol=1e-10,
                                       atol=1e-14)
    # the basic rule differs from CHL whenever the presynaptic rates change between phases
    basic = GeneRec(variant="basic", **kw).fit(X, y)
    sym = GeneRec(variant="symmetric_midpoint", **kw).fit(X, y)
    sym.net_.W, sym.net_.b = basic.net_.W, basic.net_.b
    assert not np.allclose(basic.update_directions(X, Y)[1], sym.update_directions(X, Y)[1])


# ---------------------------------------------------------------- RBM by enumeration
V_ALL, H_ALL = binary_states(4), binary_states(3)
DATA = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0]], dtype=float)


def rbm_exact(W, b, c):
    """log p(v) for all 16 v, and the model statistics ⟨h v^T⟩, ⟨v⟩, ⟨h⟩."""
    E = -(H_ALL @ W @ V_ALL.T) - (V_ALL @ b)[None, :] - (H_ALL @ c)[:, None]   # (h, v)
    logp = -E - logsumexp(-E)
    p = np.exp(logp)
    return (logsumexp(logp, axis=0), H_ALL.T @ p @ V_ALL, p.sum(axis=0) @ V_ALL,
            p.sum(axis=1) @ H_ALL)


def exact_gradient(W, b, c, data):
    _, hv, v, h = rbm_exact(W, b, c)
    ph = sigmoid(data @ W.T + c)
    return [ph.T @ data / len(data) - hv, data.mean(axis=0) - v, ph.mean(axis=0) - h]


def expected_cd(W, b, c, data, k):
    """E[CD-k update] from the k-step Gibbs transition matrix over the 16 visible states."""
    ph_all = sigmoid(V_ALL @ W.T + c)                                      # (v, J)
    p_h = np.prod(np.where(H_ALL[None], ph_all[:, None], 1 - ph_all[:, None]), axis=2)
    pv_all = sigmoid(H_ALL @ W + b)                                        # (h, J0)
    p_v = np.prod(np.where(V_ALL[None], pv_all[:, None], 1 - pv_all[:, None]), axis=2)
    T = np.linalg.matrix_power(p_h @ p_v, k)                               # (v, v')
    rows = [np.flatnonzero((V_ALL == d).all(axis=1))[0] for d in data]
    q = T[rows].mean(axis=0)                                               # law of v_k
    ph = sigmoid(data @ W.T + c)
    neg_hv = (ph_all * q[:, None]).T @ V_ALL
    return [ph.T @ data / len(data) - neg_hv, data.mean(axis=0) - q @ V_ALL,
            ph.mean(axis=0) - q @ ph_all]


def _rbm_with(W, b, c, **kw):
    est = RBM(hidden_layer_sizes=(3,), max_iter=1, random_state=0, **kw).fit(DATA, [0, 1, 0, 1])
    est.components_, est.intercept_visible_, est.intercept_hidden_ = W.copy(), b.copy(), c.copy()
    return est


def _dist(a, b):
    return np.sqrt(sum(((x - y) ** 2).sum() for x, y in zip(a, b)))


def test_cd_k_update_approaches_exact_gradient_as_k_grows():
    rng = np.random.default_rng(0)
    W, b, c = rng.normal(0, 2.0, (3, 4)), rng.normal(0, 1, 4), rng.normal(0, 1, 3)
    grad = exact_gradient(W, b, c, DATA)
    expected = {k: expected_cd(W, b, c, DATA, k) for k in (1, 3, 10, 50)}
    gaps = [_dist(expected[k], grad) for k in (1, 3, 10, 50)]
    assert all(a > b for a, b in zip(gaps, gaps[1:])) and gaps[-1] < 0.05 * gaps[0]
    batch = np.tile(DATA, (5000, 1))                       # 20 000 chains: MC error ~ 0.01
    for k in (1, 50):
        got = _rbm_with(W, b, c, sampling="cd", cd_steps=k).cd_update(batch)
        assert _dist(got, expected[k]) < 0.06             # the implementation's expectation
    cd1 = _rbm_with(W, b, c, sampling="cd", cd_steps=1).cd_update(batch)
    cd50 = _rbm_with(W, b, c, sampling="cd", cd_steps=50).cd_update(batch)
    assert _dist(cd50, grad) < 0.3 * _dist(cd1, grad)


@pytest.mark.parametrize("sampling", ["cd", "pcd"])
def test_exact_log_likelihood_rises_during_training(sampling):
    """Mean exact log p(v) of 4 training patterns (optimum log 1/4 = −1.39 nats, uniform
    model −2.77) rises steadily under CD-1 and PCD-1 (small α: PCD's chains must keep up)."""
    est = RBM(hidden_layer_sizes=(3,), sampling=sampling, feature_learning_rate=0.05,
              batch_size=4, random_state=0)
    X, y = np.tile(DATA, (10, 1)), np.tile([0, 1, 0, 1], 10)
    rows = [np.flatnonzero((V_ALL == d).all(axis=1))[0] for d in DATA]
    ll = []
    for _ in range(200):
        est.partial_fit(X, y)
        logp = rbm_exact(est.components_, est.intercept_visible_, est.intercept_hidden_)[0]
        ll.append(logp[rows].mean())
    checkpoints = [np.mean(ll[i:i + 10]) for i in range(0, 200, 50)]
    assert all(a < b for a, b in zip(checkpoints, checkpoints[1:])), checkpoints
    assert ll[-1] > ll[0] + 0.7


def _rbm_from_sklearn(sk, X):
    """Our RBM carrying a fitted BernoulliRBM's parameters (to score them our way)."""
    est = RBM(hidden_layer_sizes=(sk.n_components,), max_iter=1, random_state=0)
    est.fit(X[:40], np.arange(40) % 4)
    est.components_ = sk.components_
    est.intercept_visible_, est.intercept_hidden_ = sk.intercept_visible_, sk.intercept_hidden_
    return est


def test_pseudo_likelihood_matches_sklearn_estimate(digits):
    """Our exact Σ_i log p(v_i|v_−i) against the mean of scikit-learn's unbiased
    one-flip estimator on the same parameters (averaged over 100 draws of the flips)."""
    from sklearn.neural_network import BernoulliRBM

    Xtr, Xte = digits[0], digits[1]
    sk = BernoulliRBM(n_components=32, n_iter=3, random_state=0).fit(Xtr)
    ours = _rbm_from_sklearn(sk, Xte).score_samples(Xte).mean()
    theirs = []
    for seed in range(100):            # score_samples draws its flips from random_state
        sk.random_state = seed
        theirs.append(sk.score_samples(Xte).mean())
    theirs = np.mean(theirs)
    assert abs(ours - theirs) < 0.02 * abs(ours)


def test_persistent_cd_pseudo_likelihood_matches_sklearn(digits):
    """Same sizes, learning rate, batch size and epochs as BernoulliRBM (which implements
    PCD): the test-set pseudo-likelihoods agree within 5 %."""
    from sklearn.neural_network import BernoulliRBM

    Xtr, Xte, ytr, _ = digits
    kw = dict(learning_rate=0.1, batch_size=10)
    sk = BernoulliRBM(n_components=64, n_iter=10, random_state=0, **kw).fit(Xtr)
    est = RBM(hidden_layer_sizes=(64,), sampling="pcd", cd_steps=1, max_iter=10, init_scale=0.01,
              feature_learning_rate=kw["learning_rate"], batch_size=kw["batch_size"],
              random_state=0).fit(Xtr, ytr)
    ours = est.score_samples(Xte).mean()
    theirs = _rbm_from_sklearn(sk, Xte).score_samples(Xte).mean()
    untrained = RBM(hidden_layer_sizes=(64,), max_iter=1, random_state=0, init_scale=0.01,
                    feature_learning_rate=1e-9).fit(Xtr, ytr).score_samples(Xte).mean()
    assert theirs > untrained + 1.0                       # training matters at this budget
    assert abs(ours - theirs) <= 0.05 * abs(theirs)
    pl = est.history_["pseudo_likelihood"]
    assert pl[-1] > pl[0]


# ---------------------------------------------------------------- wake-sleep
def helmholtz_exact_log_likelihood(est, data):
    """log p(v) = log Σ_{h1,h2} p(h2) p(h1|h2) p(v|h1) by enumeration (layers 3 and 2)."""
    (G1, G2), (g0, g1, g2) = est.generative_[:2], est.generative_[2:]
    H1, H2 = binary_states(3), binary_states(2)

    def log_bern(z, a):
        return (z * a - np.logaddexp(0, a)).sum(axis=-1)

    lp2 = log_bern(H2, g2)                                               # (h2,)
    lp12 = log_bern(H1[None, :, :], (H2 @ G2.T + g1)[:, None, :])        # (h2, h1)
    lpv1 = log_bern(data[:, None, :], (H1 @ G1.T + g0)[None, :, :])      # (n, h1)
    joint = lp2[None, :, None] + lp12[None] + lpv1[:, None, :]           # (n, h2, h1)
    return logsumexp(joint.reshape(len(data), -1), axis=1)


def test_wake_sleep_raises_exact_log_likelihood():
    X, y = np.tile(DATA, (10, 1)), np.tile([0, 1, 0, 1], 10)
    est = WakeSleep(hidden_layer_sizes=(3, 2), feature_learning_rate=0.1, batch_size=4,
                    random_state=0)
    ll = []
    for _ in range(200):
        est.partial_fit(X, y)
        ll.append(helmholtz_exact_log_likelihood(est, DATA).mean())
    assert ll[-1] > ll[0] + 0.5
    assert ll[-1] > -2.77 + 0.5                            # well above the uniform model
    # importance-sampled estimate (recognition net as proposal) agrees with enumeration
    est_is = est.estimate_log_likelihood(DATA, n_samples=4000)
    np.testing.assert_allclose(est_is, helmholtz_exact_log_likelihood(est, DATA), atol=0.05)


def test_wake_sleep_phases_match_formulas():
    """One wake and one sleep update against the delta rules written out here, replaying
    the estimator's generator."""
    X, y = np.tile(DATA, (2, 1)), np.tile([0, 1, 0, 1], 2)
    est = WakeSleep(hidden_layer_sizes=(3,), max_iter=1, random_state=4).fit(X, y)
    state = est._rng.bit_generator.state
    gen, rec = est.update_directions(X)
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    (R,), (r,) = est.recognition_[:1], est.recognition_[1:]
    (G,), (g0, g1) = est.generative_[:1], est.generative_[1:]
    h = (rng.random((8, 3)) < sigmoid(X @ R.T + r)).astype(float)            # wake sample
    err_v = X - sigmoid(h @ G.T + g0)
    np.testing.assert_allclose(gen[0], err_v.T @ h / 8)
    np.testing.assert_allclose(gen[2], (h - sigmoid(g1)).mean(axis=0))
    hd = (rng.random((8, 3)) < sigmoid(g1)).astype(float)                    # dream
    vd = (rng.random((8, 4)) < sigmoid(hd @ G.T + g0)).astype(float)
    np.testing.assert_allclose(rec[0], (hd - sigmoid(vd @ R.T + r)).T @ vd / 8)


# ---------------------------------------------------------------- SigProp
@pytest.mark.parametrize("loss", ["cosine", "squared"])
def test_sigprop_layer_gradient_matches_finite_differences(loss):
    rng = np.random.default_rng(0)
    r, rc = rng.normal(size=(7, 5)), rng.normal(size=(3, 5))
    Y = np.eye(3)[rng.integers(0, 3, 7)]
    W, b = rng.normal(size=(4, 5)), rng.normal(size=4)
    act = get_activation("tanh")

    def L(W, b):                                          # the local loss, written out
        z, c = np.tanh(r @ W.T + b), np.tanh(rc @ W.T + b)
        if loss == "squared":
            return 0.5 * ((z - Y @ c) ** 2).sum(axis=1).mean()
        zn = z / np.linalg.norm(z, axis=1, keepdims=True)
        cn = c / np.linalg.norm(c, axis=1, keepdims=True)
        S = zn @ cn.T / 0.1
        return -(Y * (S - logsumexp(S, axis=1)[:, None])).sum(axis=1).mean()

    _, _, value, gW, gb = sigprop_layer(W, b, act, r, rc, Y, loss, 0.1)
    assert np.isclose(value, L(W, b))
    for P, g in ((W, gW), (b, gb)):
        fd = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            E = np.zeros_like(P)
            E[idx] = 1e-6
            fd[idx] = ((L(W + E, b) - L(W - E, b)) if P is W
                       else (L(W, b + E) - L(W, b - E))) / 2e-6
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)


def test_sigprop_squared_update_formula_and_first_layer(toy_batch):
    """Whole-network directions against the squared-loss formula written in NumPy:
    layer 1 feeds x through W^1 and y through C^1 (shared bias), layer 2 both through W^2."""
    X, y, Y = toy_batch
    est = SigProp(loss="squared", hidden_layer_sizes=(6, 4), max_iter=1, random_state=0).fit(X, y)
    (W1, W2), (b1, b2), C1 = est.net_.W, est.net_.b, est.context_
    grads, _ = est.update_directions(X, Y)
    n = len(X)
    h1, hc1 = X @ W1.T + b1, C1.T + b1                   # context k enters as C^1 e_k
    z1, c1 = np.tanh(h1), np.tanh(hc1)
    e1 = z1 - Y @ c1
    d_z, d_c = e1 / n * (1 - z1**2), -(Y.T @ e1) / n * (1 - c1**2)
    np.testing.assert_allclose(grads[0], d_z.T @ X)                       # ΔW^1
    np.testing.assert_allclose(grads[4], d_c.T)                           # ΔC^1 (column k)
    np.testing.assert_allclose(grads[2], d_z.sum(0) + d_c.sum(0))         # Δb^1
    z2, c2 = np.tanh(z1 @ W2.T + b2), np.tanh(c1 @ W2.T + b2)
    e2 = z2 - Y @ c2
    d_z2, d_c2 = e2 / n * (1 - z2**2), -(Y.T @ e2) / n * (1 - c2**2)
    np.testing.assert_allclose(grads[1], d_z2.T @ z1 + d_c2.T @ c1)       # ΔW^2, both streams


def test_sigprop_learns_digits(small_digits):
    Xtr, Xte, ytr, yte = small_digits
    est = SigProp(hidden_layer_sizes=(64, 64), max_iter=6, random_state=0).fit(Xtr, ytr)
    assert est.history_["loss"][-1] < 0.5 * est.history_["loss"][0]
    assert est.score(Xte, yte) >= 0.85
    # learn_context=False keeps C^1 at its initial draw; learning moves it
    kw = dict(hidden_layer_sizes=(64, 64), random_state=0)
    frozen = [SigProp(learn_context=False, max_iter=m, **kw).fit(Xtr, ytr) for m in (1, 3)]
    np.testing.assert_array_equal(frozen[0].context_, frozen[1].context_)
    assert not np.array_equal(SigProp(max_iter=1, **kw).fit(Xtr, ytr).context_,
                              frozen[0].context_)
    assert frozen[1].score(Xte, yte) >= 0.7
