"""Batched spiking layers: kernels vs NumPy references, vs the engine's LIF and vs analytic LIF."""
import math

import numpy as np
import pytest

from neuromorph.kernels import layers as K
from neuromorph.kernels.lif import coefficients, lif_step_reference
from neuromorph.models.spiking.layers import BernoulliEncoder, Dense, LIFLayer, PoissonEncoder


def _state(rng, B, n, n_ref):
    v = rng.uniform(-0.5, 1.5, (B, n))
    i_syn = rng.normal(0, 0.5, (B, n))
    ref = rng.integers(0, n_ref + 2, (B, n)).astype(np.int32)
    theta = rng.uniform(0, 0.2, (B, n))
    return v, i_syn, ref, theta


@pytest.mark.parametrize("filtered", [False, True])
@pytest.mark.parametrize("n_ref", [0, 2])
def test_lif_batch_kernel_matches_reference(filtered, n_ref):
    rng = np.random.default_rng(3)
    B, n = 5, 7
    coef = coefficients(0.5, 10.0, 4.0, 4.0, 0.0, -0.1, 1.0, n_ref)
    v_th0 = rng.uniform(0.8, 1.2, n)
    v, i_syn, ref, theta = _state(rng, B, n, n_ref)
    ref_state = (v.copy(), i_syn.copy(), ref.copy(), theta.copy())
    spikes = np.zeros((B, n))
    for _ in range(30):
        i_in = rng.normal(0.3, 1.0, (B, n))
        K.lif_batch_step(coef, v, i_syn, ref, theta, i_in, v_th0, filtered, 0.05, 0.9, spikes)
        *ref_state, s_ref = K.lif_batch_step_reference(coef, *ref_state, i_in, v_th0, filtered,
                                                      0.05, 0.9)
        np.testing.assert_allclose(v, ref_state[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(i_syn, ref_state[1], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(ref, ref_state[2])
        np.testing.assert_allclose(theta, ref_state[3], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(spikes, s_ref)


def test_lif_batch_reference_agrees_with_engine_reference():
    """Without adaptation, each batch row is the engine's population step (kernels.lif)."""
    rng = np.random.default_rng(0)
    coef = coefficients(1.0, 20.0, 5.0, 5.0, 0.0, 0.0, 1.0, 2)
    B, n = 3, 6
    v, i_syn, ref, _ = _state(rng, B, n, 2)
    theta = np.zeros((B, n))
    for _ in range(20):
        # engine: exc current i_syn, no external input; spikes then input added at end
        ve, ie, _, re, se = lif_step_reference(coef, v[0], i_syn[0], np.zeros(n), ref[0],
                                               np.zeros(n))
        i_in = rng.normal(0.5, 0.5, (B, n))
        v, i_syn, ref, theta, s = K.lif_batch_step_reference(
            coef, v, i_syn, ref, theta, i_in, np.full(n, 1.0), True, 0.0, 1.0)
        np.testing.assert_allclose(v[0], ve, atol=1e-14)
        np.testing.assert_allclose(i_syn[0], ie + i_in[0], atol=1e-14)
        np.testing.assert_array_equal(ref[0], re)
        np.testing.assert_array_equal(s[0] > 0, se)


def test_trace_kernel_matches_reference():
    rng = np.random.default_rng(1)
    for nearest in (False, True):
        x = rng.random((4, 9))
        xr = x.copy()
        for _ in range(10):
            s = (rng.random((4, 9)) < 0.3).astype(float)
            K.trace_batch_step(x, s, 0.8, nearest)
            xr = K.trace_batch_step_reference(xr, s, 0.8, nearest)
            np.testing.assert_allclose(x, xr, atol=1e-15)


def test_lif_layer_constant_current_matches_analytic_solution():
    """v(t) = I (1 − e^{−t/τ}) below threshold; first spike at the analytic crossing."""
    dt, tau, I, vth = 0.5, 10.0, 2.0, 1.0
    layer = LIFLayer(1, dt=dt, tau_m=tau, v_th=vth)
    layer.reset(2)
    t_cross = -tau * math.log(1 - vth / I)
    first = None
    for k in range(1, 40):
        s = layer.step(np.full((2, 1), I))
        if s[0, 0] and first is None:
            first = k
            break
        np.testing.assert_allclose(layer.v, I * (1 - math.exp(-k * dt / tau)), rtol=1e-12)
    assert first == math.ceil(t_cross / dt)


def test_lif_layer_filtered_pulse_matches_analytic_solution():
    """A unit current pulse: v(t) = τs/(τs−τm) (e^{−t/τs} − e^{−t/τm}), I(t) = e^{−t/τs}."""
    dt, tm, ts = 0.25, 12.0, 3.0
    layer = LIFLayer(2, dt=dt, tau_m=tm, tau_syn=ts, v_th=10.0)
    layer.reset(1)
    layer.step(np.array([[1.0, 0.5]]))  # pulse lands at the end of step 0
    for k in range(1, 60):
        layer.step(np.zeros((1, 2)))
        t = k * dt
        v = ts / (ts - tm) * (math.exp(-t / ts) - math.exp(-t / tm))
        np.testing.assert_allclose(layer.v[0], [v, 0.5 * v], rtol=1e-11)
        np.testing.assert_allclose(layer.i_syn[0], [math.exp(-t / ts), 0.5 * math.exp(-t / ts)],
                                   rtol=1e-11)


def test_lif_layer_adaptive_threshold_and_refractory():
    layer = LIFLayer(1, dt=1.0, tau_m=5.0, v_th=0.1, t_ref=2.0, theta_plus=0.05,
                     tau_theta=math.inf)
    layer.reset(1)
    times = [k for k in range(60) if layer.step(np.full((1, 1), 1.0))[0, 0]]
    gaps = np.diff(times)
    assert len(times) >= 3 and np.all(gaps >= 2)  # integrates again from step s + n_ref (kernels.lif)
    assert np.all(np.diff(gaps) >= 0) and gaps[-1] > gaps[0]  # adaptation slows firing
    np.testing.assert_allclose(layer.theta, 0.05 * len(times))


def test_lif_layer_traces_and_jitter():
    rng = np.random.default_rng(0)
    layer = LIFLayer(50, dt=1.0, tau_m=10.0, v_th=1.0, threshold_jitter=0.2, rng=rng,
                     tau_trace=4.0, trace="nearest")
    assert np.all((layer.v_th0 >= 1.0) & (layer.v_th0 <= 1.2)) and layer.v_th0.std() > 0
    layer.reset(3)
    for _ in range(30):
        layer.step(np.full((3, 50), 5.0))
    assert np.all(layer.x <= 1.0) and layer.x.max() == 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(tau_m=-1.0), "tau_m"), (dict(tau_m=10.0, tau_syn=0.0), "tau_syn"),
    (dict(tau_m=10.0, v_th=-1.0), "v_th"), (dict(tau_m=10.0, t_ref=0.3), "t_ref"),
    (dict(tau_m=10.0, trace="linear"), "trace"), (dict(tau_m=10.0, threshold_jitter=0.1), "rng"),
    (dict(tau_m=10.0, tau_theta=0.0), "tau_theta"), (dict(tau_m=10.0, theta_plus=-1), "theta_plus"),
])
def test_lif_layer_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LIFLayer(4, dt=1.0, **kwargs)


def test_encoders():
    rng = np.random.default_rng(0)
    X = np.array([[0.0, 0.25, 1.0]])
    s = np.vstack([BernoulliEncoder()(X, rng) for _ in range(20000)])
    np.testing.assert_allclose(s.mean(axis=0), [0.0, 0.25, 1.0], atol=0.01)
    enc = PoissonEncoder(f_max=100.0, dt=2.0)
    np.testing.assert_allclose(enc.probabilities(X), [[0.0, 0.05, 0.2]])
    with pytest.raises(ValueError, match="f_max"):
        PoissonEncoder(f_max=-1.0, dt=1.0)


def test_dense_synapses():
    rng = np.random.default_rng(0)
    syn = Dense.uniform(3, 3, rng, 0.0, 2.0, resistance=0.5, sign=-1, bounds=(0.0, 1.0),
                        zero_diagonal=True)
    assert np.all(np.diag(syn.W) == 0) and syn.W.max() <= 1.0
    s = np.array([[1.0, 0.0, 1.0]])
    np.testing.assert_allclose(syn.current(s), -0.5 * (s @ syn.W))
    with pytest.raises(ValueError, match="sign"):
        Dense(np.zeros((2, 2)), sign=2)
    with pytest.raises(ValueError, match="square"):
        Dense(np.zeros((2, 3)), zero_diagonal=True)
    with pytest.raises(ValueError, match="2-D"):
        Dense(np.zeros(3))


def test_fused_adam_matches_rate_adam():
    from neuromorph.models.rate.optimizers import Adam
    from neuromorph.models.spiking.layers import FusedAdam, make_optimizer

    rng = np.random.default_rng(0)
    pa, pb = [rng.normal(size=(5, 4)), rng.normal(size=7)], None
    pb = [p.copy() for p in pa]
    a, b = Adam(0.01), FusedAdam(0.01)
    for _ in range(20):
        grads = [rng.normal(size=(5, 8))[:, :4], rng.normal(size=7)]  # a non-contiguous view
        a.step(pa, grads)
        b.step(pb, grads)
        for x, y in zip(pa, pb):
            np.testing.assert_allclose(x, y, rtol=0, atol=1e-14)
    assert isinstance(make_optimizer("adam", 0.1), FusedAdam)
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer("rmsprop", 0.1)


def test_dense_shared_transpose_view():
    fwd = Dense(np.arange(6.0).reshape(2, 3))
    back = Dense(fwd.W.T, copy=False)
    fwd.W[0, 1] = 42.0
    assert back.W[1, 0] == 42.0
    np.testing.assert_allclose(back.current(np.ones((1, 3))), (np.ones((1, 3)) @ fwd.W.T))
