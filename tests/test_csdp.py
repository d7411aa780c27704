"""CSDP (spec §3.7): update vs a direct NumPy transcription, digits, errors, API, checkpoints."""
import math

import numpy as np
import pytest

from neuromorph.models.spiking import CSDP
from neuromorph.models.spiking.csdp import reference_rates


# --------------------------------------------------------------------------- transcription
def _transcribed_run(W, V, M, Y, vth0, spikes0, ylab, c, n_learn, p, optimizer):
    """Spec §3.7 written out for two hidden layers, independent of the implementation.

    Returns the weights after every step.
    """
    W1, W2 = W[0].copy(), W[1].copy()
    V2, M1, M2, Y2, Y3 = V.copy(), M[0].copy(), M[1].copy(), Y[0].copy(), Y[1].copy()
    N = spikes0.shape[1]
    n1, n2 = W1.shape[1], W2.shape[1]
    a_m = math.exp(-p["dt"] / p["tau_m"])
    a_tr = math.exp(-p["dt"] / p["tau_trace"])
    R, Ri, lr, lam, wb = p["R"], p["Ri"], p["lr"], p["lam"], p["wb"]
    v1, v2 = np.zeros((N, n1)), np.zeros((N, n2))
    th1, th2 = np.zeros((N, n1)), np.zeros((N, n2))
    x1, x2 = np.zeros((N, n1)), np.zeros((N, n2))
    s0p, s1p, s2p = np.zeros_like(spikes0[0]), np.zeros((N, n1)), np.zeros((N, n2))
    adam = {}
    out = []

    def lif(v, th, I, vth):
        v_inf = I                                  # v_rest = 0, current held over the step
        v = v_inf + (v - v_inf) * a_m
        s = (v > vth + th).astype(float)
        v = np.where(s > 0, 0.0, v)
        th = th + p["theta_plus"] * s              # tau_theta = inf
        return v, th, s

    def descend(name, A, G):
        if optimizer == "sgd":
            return A - lr * G
        st = adam.setdefault(name, [np.zeros_like(A), np.zeros_like(A), 0])
        st[2] += 1
        st[0] = 0.9 * st[0] + 0.1 * G
        st[1] = 0.999 * st[1] + 0.001 * G * G
        mh, vh = st[0] / (1 - 0.9 ** st[2]), st[1] / (1 - 0.999 ** st[2])
        return A - lr * mh / (np.sqrt(vh) + 1e-8)

    for t in range(len(spikes0)):
        s0 = spikes0[t]
        I1 = R * (s0 @ W1) + R * (s2p @ V2) + R * (ylab @ Y2) - Ri * (s1p @ M1)
        v1, th1, s1 = lif(v1, th1, I1, vth0[0])
        I2 = R * (s1 @ W2) + R * (ylab @ Y3) - Ri * (s2p @ M2)
        v2, th2, s2 = lif(v2, th2, I2, vth0[1])
        x1 = x1 * a_tr + s1
        x2 = x2 * a_tr + s2
        k = slice(0, n_learn)
        d = []
        for x in (x1[k], x2[k]):
            g = (x ** 2).sum(axis=1) - p["theta_g"]
            sig = 1 / (1 + np.exp(-g))
            d.append(2 * x / n_learn * (sig - c)[:, None])
        new = {}
        for name, A, pre, post, dl, lat in [
            ("W1", W1, s0p, s1, d[0], False), ("V1", V2, s2p, s1, d[0], False),
            ("M1", M1, s1p, s1, d[0], True), ("Y1", Y2, ylab, s1, d[0], False),
            ("W2", W2, s1p, s2, d[1], False), ("M2", M2, s2p, s2, d[1], True),
            ("Y2", Y3, ylab, s2, d[1], False),
        ]:
            dW = pre[k].T @ dl
            dec = -lam * (1 - pre[k]).T @ post[k]
            A = descend(name, A, dW) + dec
            if lat:
                A = np.clip(A, 0, wb)
                np.fill_diagonal(A, 0)
            else:
                A = np.clip(A, -wb, wb)
            new[name] = A
        W1, V2, M1, Y2, W2, M2, Y3 = (new[n] for n in ("W1", "V1", "M1", "Y1", "W2", "M2", "Y2"))
        s0p, s1p, s2p = s0, s1, s2
        out.append(dict(new))
    return out


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_csdp_update_matches_spec_transcription(optimizer):
    rng = np.random.default_rng(7)
    p = dict(dt=3.0, tau_m=20.0, tau_trace=13.0, R=0.5, Ri=0.2, lr=0.05, lam=0.01, wb=1.0,
             theta_plus=0.01, theta_g=0.5)
    model = CSDP(hidden_layer_sizes=(5, 4), n_steps=12, dt=p["dt"], tau_m=p["tau_m"],
                 tau_trace=p["tau_trace"], v_th=0.05, threshold_jitter=0.03,
                 theta_plus=p["theta_plus"], resistance=p["R"], resistance_inh=p["Ri"],
                 goodness_threshold=p["theta_g"], learning_rate=p["lr"], depression=p["lam"],
                 optimizer=optimizer, momentum=0.0, batch_size=3, random_state=0)
    model._check_params()
    model.classes_ = np.arange(3)
    model._rng = np.random.default_rng(0)
    model._initialize(6, 3)
    w = model.weights_
    W = [w["W1"].copy(), w["W2"].copy()]
    M = [w["M1"].copy(), w["M2"].copy()]
    Y = [w["Y1"].copy(), w["Y2"].copy()]
    V = w["V1"].copy()
    vth0 = [lay.v_th0.copy() for lay in model.layers_]
    N, T, n_learn = 6, 12, 4
    spikes0 = (rng.random((T, N, 6)) < 0.5).astype(float)
    ylab = np.eye(3)[rng.integers(0, 3, N)]
    c = np.array([1.0, 1.0, 0.0, 0.0])
    expected = _transcribed_run(W, V, M, Y, vth0, spikes0, ylab, c, n_learn, p, optimizer)
    model._reset(N)
    fired = 0
    for t in range(T):
        prev = model._step(spikes0[t], ylab)
        model._csdp_update(prev, c, n_learn)
        fired += sum(lay.s.sum() for lay in model.layers_)
        for name, A in expected[t].items():
            np.testing.assert_allclose(model.weights_[name], A, rtol=0, atol=1e-10,
                                       err_msg=f"{name} at step {t}")
    assert fired > 10  # the comparison exercised spikes, depression and clipping


def test_reference_rates_table():
    assert reference_rates(500) == (0.002, 5e-5)
    assert reference_rates(50) == (0.001, 7e-5)
    assert reference_rates(1) == (4e-4, 1e-4)


def test_lateral_sign_aware_flips_lateral_update():
    rng = np.random.default_rng(0)
    spikes = (rng.random((6, 4, 5)) < 0.6).astype(float)
    out = []
    for flag in (False, True):
        m = CSDP(hidden_layer_sizes=(6,), learning_rate=0.05, depression=0.0, optimizer="sgd",
                 momentum=0.0, lateral_sign_aware=flag, v_th=0.01, w_bound=10.0, tau_m=3.0,
                 resistance=2.0, random_state=0)
        m._check_params()
        m.classes_ = np.arange(2)
        m._rng = np.random.default_rng(0)
        m._initialize(5, 2)
        M0 = m.weights_["M1"].copy()
        m._reset(4)
        for t in range(2):  # step 1 is the first with presynaptic spikes; M is still M0
            prev = m._step(spikes[t], np.eye(2)[[0, 1, 0, 1]])
            m._csdp_update(prev, np.array([1.0, 1.0, 0.0, 0.0]), 4)
        out.append(m.weights_["M1"] - M0)
    assert np.abs(out[0]).sum() > 0
    np.testing.assert_allclose(out[0], -out[1], atol=1e-12)


# --------------------------------------------------------------------------- learning
def test_digits_scaled_down_exceeds_80_percent(digits):
    Xtr, Xte, ytr, yte = digits
    model = CSDP(hidden_layer_sizes=(128, 128), n_steps=20, batch_size=100, max_iter=2,
                 random_state=0).fit(Xtr, ytr)
    assert model.score(Xte, yte) > 0.80
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_unsupervised_mode_learns_and_reconstructs(digits):
    Xtr, Xte, ytr, yte = digits
    model = CSDP(hidden_layer_sizes=(128,), mode="unsupervised", n_steps=20, batch_size=100,
                 max_iter=2, reconstruction=True, random_state=0).fit(Xtr, ytr)
    g_pos, g_neg = model.history_["goodness_pos"][-1], model.history_["goodness_neg"][-1]
    assert g_pos[0] > g_neg[0]
    assert model.score(Xte, yte) > 0.5
    R = model.reconstruct(Xte[:20])
    assert R.shape == (20, 64) and np.all(np.isfinite(R))
    assert np.mean((R - Xte[:20]) ** 2) < np.mean(Xte[:20] ** 2)


# --------------------------------------------------------------------------- API and errors
def _tiny(**kw):
    return CSDP(**{**dict(hidden_layer_sizes=(8,), n_steps=4, batch_size=16, max_iter=1,
                          random_state=0), **kw})


def test_history_simulate_and_metadata(digits):
    Xtr, Xte, ytr, yte = digits
    est = _tiny()
    est.fit(Xtr[:64], ytr[:64])      # the shared API: tests/test_spiking_learners_common.py
    assert set(est.history_) == {"loss", "accuracy", "wall_s", "goodness_pos", "goodness_neg"}
    rec = est.simulate(Xte[:3], labels=yte[:3], record=True)
    assert [s.shape for s in rec["spikes"]] == [(4, 3, 64), (4, 3, 8), (4, 3, 10)]
    assert rec["goodness"].shape == (4, 3, 1)


@pytest.mark.parametrize("param, value, match", [
    ("batch_size", 0, "batch_size"), ("tau_m", -5.0, "tau_m"), ("tau_trace", -1.0, "tau_trace"),
    ("dt", 0.0, "dt"), ("n_steps", 0, "n_steps"), ("mode", "semi", "mode"),
    ("optimizer", "rmsprop", "optimizer"), ("hidden_layer_sizes", (0,), "hidden_layer_sizes"),
    ("learning_rate", -1.0, "learning_rate"), ("w_bound", 0.0, "w_bound"),
])
def test_bad_parameters(digits, param, value, match):
    Xtr, _, ytr, _ = digits
    with pytest.raises(ValueError, match=match):
        _tiny(**{param: value}).fit(Xtr[:32], ytr[:32])


def test_checkpoint_roundtrip(digits, tmp_path):
    Xtr, Xte, ytr, _ = digits
    est = _tiny().fit(Xtr[:64], ytr[:64])
    path = tmp_path / "csdp.npz"
    est.save(path)
    back = CSDP.load(path)
    assert back.get_params() == est.get_params()  # an int random_state is kept
    for k, W in est.weights_.items():
        np.testing.assert_array_equal(W, back.weights_[k])
    a = est.simulate(Xte[:20], rng=np.random.default_rng(5))["counts"]
    b = back.simulate(Xte[:20], rng=np.random.default_rng(5))["counts"]
    np.testing.assert_array_equal(a, b)
    assert back.history_ == est.history_
    # corrupt files: tests/test_spiking_learners_common.py


def test_unfitted_errors(digits):
    with pytest.raises(Exception, match="not fitted"):
        _tiny().predict(digits[1][:3])
    est = _tiny().fit(digits[0][:32], digits[2][:32])
    with pytest.raises(ValueError, match="reconstruction=True"):
        est.reconstruct(digits[1][:3])


@pytest.mark.slow
def test_digits_full_configuration_reaches_93_percent(digits):
    """The experiment's configuration (experiments/csdp_digits.py), one seed."""
    Xtr, Xte, ytr, yte = digits
    model = CSDP(hidden_layer_sizes=(256, 256), n_steps=30, batch_size=100, max_iter=5,
                 random_state=0).fit(Xtr, ytr)
    assert model.score(Xte, yte) >= 0.93
