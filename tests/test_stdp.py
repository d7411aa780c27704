"""STDP on the engine against the analytic pair window and the known Song et al. result."""
import numpy as np
import pytest

import neuromorph as nm

DT = 0.1


def pairing_network(lags, rule, w0=0.5, extra_pre=None):
    """One post neuron forced to fire at a known time; pre neuron j fires ``lags[j]`` ms
    before it (negative lag: after). Returns (net, plastic projection, post spike monitor,
    t_post)."""
    net = nm.Network(dt=DT, seed=0)
    t_force = 100.0
    t_post = t_force + DT  # a 5000 mV kick crosses threshold in the next step
    times = t_post - np.asarray(lags, float)
    idx = np.arange(len(lags))
    if extra_pre is not None:
        idx = np.concatenate([idx, extra_pre[0]])
        times = np.concatenate([times, extra_pre[1]])
    pre = net.spike_source(len(lags), indices=idx, times=np.round(times / DT) * DT)
    kick = net.spike_source(1, indices=[0], times=[t_force])
    post = net.lif(1, tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=2.0,
                   tau_syn_exc=0.1)
    proj = net.connect(pre, post, w=w0, plasticity=rule)
    net.connect(kick, post, w=5000.0)
    mon = net.spike_monitor(post)
    net.run(400.0)
    return net, proj, mon, t_post


LAGS = [-60.0, -25.0, -10.0, -3.3, -0.1, 0.0, 0.1, 2.0, 7.5, 20.0, 45.0]


@pytest.mark.parametrize("pairing", ["all_to_all", "nearest"])
def test_recovered_window_matches_analytic(pairing):
    rule = nm.STDP(tau_pre=16.8, tau_post=33.7, a_plus=0.01, a_minus=-0.012, w_min=0.0,
                   w_max=1.0, pairing=pairing)
    _, proj, mon, t_post = pairing_network(LAGS, rule)
    assert np.allclose(mon.t, [t_post])
    dw = proj.w - 0.5
    np.testing.assert_allclose(dw, rule.window(LAGS), rtol=0, atol=1e-12)
    assert np.all(dw[np.array(LAGS) > 0] > 0) and np.all(dw[np.array(LAGS) < 0] < 0)


def test_multiplicative_window_scales_with_distance_to_bounds():
    rule = nm.STDP(tau_pre=20.0, tau_post=20.0, a_plus=0.02, a_minus=-0.02, w_min=-1.0,
                   w_max=3.0, weight_dependence="multiplicative")
    w0 = 2.0
    _, proj, _, _ = pairing_network(LAGS, rule, w0=w0)
    lags = np.array(LAGS)
    frac = np.where(lags >= 0, (3.0 - w0) / 4.0, (w0 + 1.0) / 4.0)
    np.testing.assert_allclose(proj.w - w0, rule.window(lags) * frac, rtol=0, atol=1e-12)


def test_target_trace_and_power_dependence_diehl_cook():
    """dw = a_plus (x_pre - x_tar) ((w_max - w) / (w_max - w_min))^power at the post spike,
    nothing at pre spikes (a_minus = 0): silent inputs are depressed."""
    rule = nm.STDP(tau_pre=20.0, tau_post=20.0, a_plus=0.05, a_minus=0.0, w_min=0.0,
                   w_max=1.0, weight_dependence="power", power=0.4, x_tar=0.3)
    w0 = 0.5
    _, proj, _, _ = pairing_network(LAGS, rule, w0=w0)
    lags = np.array(LAGS)
    x_pre = np.where(lags >= 0, np.exp(-lags / 20.0), 0.0)
    want = 0.05 * (x_pre - 0.3) * 0.5 ** 0.4
    np.testing.assert_allclose(proj.w - w0, want, rtol=0, atol=1e-12)
    assert np.sum(want < 0) >= 5 and np.sum(want > 0) >= 4


def test_all_to_all_sums_pairs_nearest_keeps_closest():
    # pre neuron 0 fires 5 ms and 12 ms before the post spike
    kw = dict(tau_pre=20.0, tau_post=20.0, a_plus=0.01, a_minus=-0.01, w_min=0.0, w_max=1.0)
    t_post = 100.0 + DT
    extra = (np.array([0]), np.array([t_post - 12.0]))
    out = {}
    for pairing in ("all_to_all", "nearest"):
        _, proj, _, _ = pairing_network([5.0], nm.STDP(pairing=pairing, **kw), extra_pre=extra)
        out[pairing] = proj.w[0] - 0.5
    assert out["all_to_all"] == pytest.approx(0.01 * (np.exp(-5 / 20) + np.exp(-12 / 20)), abs=1e-12)
    assert out["nearest"] == pytest.approx(0.01 * np.exp(-5 / 20), abs=1e-12)


def test_additive_weights_stay_within_hard_bounds():
    rule = nm.STDP(a_plus=0.5, a_minus=-0.5, w_min=0.1, w_max=0.6)
    _, proj, _, _ = pairing_network(LAGS, rule, w0=0.4)
    assert proj.w.min() == pytest.approx(0.1) and proj.w.max() == pytest.approx(0.6)


def test_song_miller_abbott_bimodal_distribution():
    """1000 Poisson inputs at 15 Hz onto one LIF neuron with additive STDP (Song et al. 2000,
    as in Brian2's example): after 100 s the weights pile up at both bounds and the output
    rate drops; Brian2 reports ~27 % below 0.1 w_max and ~16 % above 0.9 w_max."""
    net = nm.Network(dt=0.1, seed=2)
    inp = net.poisson(1000, rate=15.0)
    post = net.lif(1, tau_m=10.0, v_rest=-74.0, v_reset=-60.0, v_th=-54.0, tau_syn_exc=5.0,
                   v_init=-60.0)
    proj = net.connect(inp, post, w=nm.uniform(0.0, 0.6),
                       plasticity=nm.STDP(tau_pre=20.0, tau_post=20.0, a_plus=0.006,
                                          a_minus=-0.0063, w_min=0.0, w_max=0.6))
    rate = net.rate_monitor(post)
    net.run(100_000.0)
    w = proj.w / 0.6
    hist = np.histogram(w, 10, (0, 1))[0] / w.size
    assert hist[0] > 0.18 and hist[-1] > 0.10           # both ends populated
    assert hist[1:-1].max() < min(hist[0], hist[-1])   # U-shaped
    assert 0.3 < w.mean() < 0.55
    early = rate.rate[:50_000].mean()
    late = rate.rate[-100_000:].mean()
    assert early > 1.3 * late and 10.0 < late < 40.0
