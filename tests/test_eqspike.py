"""EqSpike (spec §3.6): oracle vs rate EqProp, update modes, digits, symmetry, errors, checkpoints."""
import numpy as np
import pytest

from neuromorph.models.rate import EquilibriumPropagation
from neuromorph.models.spiking.eqspike import EqSpike


def _built(n_features=64, n_classes=10, **kw):
    """An initialised, untrained EqSpike (weights drawn from ``random_state``)."""
    m = EqSpike(**{**dict(random_state=0), **kw})
    m._check_params()
    m.classes_ = np.arange(n_classes)
    m._rng = np.random.default_rng(0)
    m._initialize(n_features, n_classes)
    return m


def _cos(a, b):
    a = np.concatenate([x.ravel() for x in a])
    b = np.concatenate([x.ravel() for x in b])
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --------------------------------------------------------------------------- oracles
#: LIF neurons whose rate is close to the hard sigmoid of rate EqProp on [0, 1]: a long
#: membrane time constant (nearly a perfect integrator), no refractoriness, R = τ_m / (f_max dt)
#: so that ρ(drive) ≈ drive; small weights keep the drives inside [0, 1].
ORACLE = dict(hidden_layer_sizes=(32,), tau_m=200.0, resistance=20.0, t_ref=0.0, f_max=100.0,
              weight_scale=0.5, n_free=300, n_nudge=300, beta=0.1)


@pytest.mark.parametrize("update", ["spike", "batch"])
def test_oracle_points_like_rate_eqprop(digits, update):
    """Small β, long phases: EqSpike's accumulated update ≈ rate EqProp's on the same weights."""
    Xtr, _, ytr, _ = digits
    X, Y = Xtr[:100], np.eye(10)[ytr[:100]]
    spiking = _built(update=update, **ORACLE)
    g = spiking.update_directions(X, Y)
    rate = EquilibriumPropagation(hidden_layer_sizes=(32,), beta=0.1, nudging="symmetric",
                                  n_free=300, n_nudged=300, random_state=0)
    rate._check_params()
    rate.classes_ = np.arange(10)
    rate._rng = np.random.default_rng(0)
    rate._initialize(64, 10)
    L = len(spiking.up_)
    for l in range(L):  # rate EqProp stores W^ℓ as (post, pre)
        rate.net_.W[l][...] = spiking.up_[l].W.T
        rate.net_.b[l][...] = spiking.b_[l]
    d = rate.update_directions(X, Y)  # descent directions
    ascent = [-w.T for w in d[:L]] + [-b for b in d[L:]]
    assert _cos(g, ascent) > 0.9
    for l in range(L):
        assert _cos([g[l]], [ascent[l]]) > 0.85, f"W{l + 1}"


def test_spike_and_batch_modes_agree_in_direction(digits):
    Xtr, _, ytr, _ = digits
    X, Y = Xtr[:100], np.eye(10)[ytr[:100]]
    kw = dict(hidden_layer_sizes=(48,), n_free=80, n_nudge=60)
    g_spike = _built(update="spike", **kw).update_directions(X, Y)
    g_batch = _built(update="batch", **kw).update_directions(X, Y)
    assert _cos(g_spike, g_batch) > 0.9
    # and a small step along it lowers the free-phase output error on the batch
    m = _built(update="spike", **kw)

    def loss():
        rates, _ = m._free_phase(X, m._rng)
        return float(((rates[-1] - Y) ** 2).sum(axis=1).mean())

    before = loss()
    for p, a in zip(m._params_list(), g_spike):
        p += 0.5 * a
    assert loss() < before


def test_spike_triggered_sums_match_per_spike_loop():
    """The batched accumulation equals the spec's rule written per spike (spec §3.6)."""
    rng = np.random.default_rng(3)
    m = _built(n_features=6, n_classes=3, hidden_layer_sizes=(5,), n_free=20, n_nudge=4,
               input_encoding="bernoulli", f_max=500.0, bias_init=0.6, nudging="positive")
    X = rng.random((2, 6))
    Y = np.eye(3)[[0, 2]]
    rho0, _ = m._free_phase(X, np.random.default_rng(1))
    state = m._state()
    g, _ = m._nudged_phase(X, Y, rho0, 0.5, np.random.default_rng(2))
    # replay the nudged phase step by step and apply the rule spike by spike
    m._restore(state)
    r_step = m.f_max * m.dt / 1000.0
    expected = [np.zeros_like(syn.W) for syn in m.up_]
    step_rng = np.random.default_rng(2)
    fired = 0
    for _ in range(m.n_nudge):
        s_in, _ = m._step(X, step_rng, 0.5, Y)
        rates = m._rates()
        spikes = [s_in * r_step] + [lay.s for lay in m.layers_]  # 0/1 spikes
        for b in range(2):
            for l, W in enumerate(expected):
                for j in range(W.shape[0]):
                    if spikes[l][b, j]:  # presynaptic spike of j
                        fired += 1
                        W[j] += (rates[l][b] - rho0[l][b]) / r_step
                for i in range(W.shape[1]):
                    if l > 0 and spikes[l + 1][b, i]:  # postsynaptic spike of i
                        W[:, i] += (rates[l - 1][b] - rho0[l - 1][b]) / r_step
    assert fired > 5
    for l, W in enumerate(expected):
        np.testing.assert_allclose(g[l], W / (0.5 * 2 * m.n_nudge), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- learning
def test_digits_scaled_down_exceeds_80_percent(digits):
    Xtr, Xte, ytr, yte = digits
    model = EqSpike(hidden_layer_sizes=(64,), max_iter=2, random_state=0).fit(Xtr, ytr)
    assert model.score(Xte, yte) > 0.80
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_symmetry_is_exact_after_training(digits):
    Xtr, _, ytr, _ = digits
    m = EqSpike(hidden_layer_sizes=(16, 12), n_free=20, n_nudge=10, max_iter=1,
                random_state=0).fit(Xtr[:100], ytr[:100])
    assert len(m.down_) == 2
    for l, down in enumerate(m.down_):
        up = m.up_[l + 1]
        assert np.shares_memory(down.W, up.W)
        np.testing.assert_array_equal(down.W, up.W.T)
    w0 = m.up_[1].W.copy()
    m.partial_fit(Xtr[:100], ytr[:100])
    assert not np.array_equal(w0, m.up_[1].W)  # it learned, and the transpose followed
    np.testing.assert_array_equal(m.down_[0].W, m.up_[1].W.T)


# --------------------------------------------------------------------------- API and errors
def _tiny(**kw):
    return EqSpike(**{**dict(hidden_layer_sizes=(8,), n_free=6, n_nudge=4, batch_size=16,
                             max_iter=1, random_state=0), **kw})


def test_history_simulate_and_metadata(digits):
    Xtr, Xte, ytr, yte = digits
    est = _tiny(learning_rate=(1e-3, 5e-4))
    est.fit(Xtr[:64], ytr[:64])      # the shared API: tests/test_spiking_learners_common.py
    assert set(est.history_) == {"loss", "accuracy", "wall_s", "rate_hidden", "delta_rate"}
    rec = est.simulate(Xte[:3], labels=yte[:3], record=True)
    assert [s.shape for s in rec["spikes"]] == [(10, 3, 64), (10, 3, 8), (10, 3, 10)]
    assert rec["output_rates"].shape == (10, 3, 10)
    assert set(est.weights_) == {"W1", "W2", "b1", "b2"}
    assert EqSpike.spec_section == "3.6" and EqSpike.family == "SEL:EB"


@pytest.mark.parametrize("param, value, exc, match", [
    ("batch_size", 0, ValueError, "batch_size must be >= 1"),
    ("tau_m", -5.0, ValueError, r"tau_m must be > 0 ms"),
    ("tau_trace", 0.0, ValueError, r"tau_trace must be > 0 ms"),
    ("dt", 0.0, ValueError, r"dt must be > 0 ms"),
    ("n_free", 1, ValueError, "n_free must be >= 2"),
    ("n_nudge", 2.5, TypeError, "n_nudge must be an integer"),
    ("beta", 0.0, ValueError, "beta must be > 0"),
    ("beta", "big", TypeError, "beta must be a real number"),
    ("nudging", "both", ValueError, r"nudging must be one of \['positive', 'symmetric'"),
    ("update", "online", ValueError, r"update must be one of \['spike', 'batch'\]"),
    ("input_encoding", "poisson", ValueError, "input_encoding must be one of"),
    ("optimizer", "rmsprop", ValueError, "optimizer must be one of"),
    ("hidden_layer_sizes", (0,), ValueError, "hidden_layer_sizes"),
    ("hidden_layer_sizes", (), ValueError, "hidden_layer_sizes"),
    ("learning_rate", -1.0, ValueError, "learning_rate must be > 0"),
    ("learning_rate", (1e-3,), ValueError, "tuple of 2 floats"),
    ("t_ref", 1.5, ValueError, r"t_ref must be a multiple of dt = 1.0 ms"),
    ("f_max", 2000.0, ValueError, r"f_max must be <= 1000 / dt = 1000 Hz"),
    ("momentum", 1.0, ValueError, r"momentum must be in \[0, 1\)"),
    ("random_state", "seed", TypeError, "random_state"),
])
def test_bad_parameters_raise_before_any_work(digits, param, value, exc, match):
    Xtr, _, ytr, _ = digits
    est = _tiny(**{param: value})
    with pytest.raises(exc, match=match):
        est.fit(Xtr[:32], ytr[:32])
    assert not hasattr(est, "up_") and not hasattr(est, "history_")


def test_checkpoint_roundtrip(digits, tmp_path):
    Xtr, Xte, ytr, _ = digits
    est = _tiny(hidden_layer_sizes=(8, 6), learning_rate=(1e-3, 5e-4, 2e-4)).fit(Xtr[:64],
                                                                                ytr[:64])
    path = tmp_path / "eqspike.npz"
    est.save(path)
    back = EqSpike.load(path)
    assert back.get_params() == est.get_params()  # an int random_state is kept
    for k, W in est.weights_.items():
        np.testing.assert_array_equal(W, back.weights_[k])
    for l, down in enumerate(back.down_):  # the loaded model keeps exact symmetry
        assert np.shares_memory(down.W, back.up_[l + 1].W)
    np.testing.assert_array_equal(est.decision_scores(Xte[:20]), back.decision_scores(Xte[:20]))
    assert back.history_ == est.history_ and back.n_iter_ == est.n_iter_
    # corrupt files: tests/test_spiking_learners_common.py


@pytest.mark.slow
def test_digits_experiment_configuration_reaches_93_percent(digits):
    """The configuration of experiments/eqspike_digits.py, one seed."""
    from importlib import util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "experiments" / "eqspike_digits.py"
    spec = util.spec_from_file_location("eqspike_digits", path)
    exp = util.module_from_spec(spec)
    spec.loader.exec_module(exp)
    Xtr, Xte, ytr, yte = digits
    model = EqSpike(random_state=0, max_iter=exp.EPOCHS, **exp.CONFIG).fit(Xtr, ytr)
    assert model.score(Xte, yte) >= 0.93
