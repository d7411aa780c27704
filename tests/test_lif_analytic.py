"""LIF dynamics against closed-form solutions."""
import numpy as np
import pytest

import neuromorph as nm


def test_relaxation_to_current_is_exponential():
    net = nm.Network(dt=0.1, seed=0)
    P = net.lif(3, tau_m=12.5, v_rest=-70.0, v_reset=-80.0, v_th=0.0, v_init=[-70.0, -60.0, -75.0])
    net.current(P, 8.0)
    mon = net.state_monitor(P, "v")
    net.run(100.0)
    t = mon.t
    v0 = np.array([-70.0, -60.0, -75.0])
    want = -62.0 + (v0 - (-62.0)) * np.exp(-t[:, None] / 12.5)
    np.testing.assert_allclose(mon.values, want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("tau_m,tau_s", [(20.0, 5.0), (10.0, 10.0), (8.0, 30.0)])
@pytest.mark.parametrize("w,delay", [(3.0, 0.0), (-2.0, 1.7)])
def test_single_psp_matches_closed_form(tau_m, tau_s, w, delay):
    dt, t_in = 0.1, 5.0
    net = nm.Network(dt=dt, seed=0)
    src = net.spike_source(1, indices=[0], times=[t_in])
    kw = dict(tau_syn_exc=tau_s, tau_syn_inh=3.0) if w > 0 else dict(tau_syn_exc=3.0,
                                                                     tau_syn_inh=tau_s)
    P = net.lif(1, tau_m=tau_m, v_rest=-65.0, v_reset=-70.0, v_th=-40.0, **kw)
    net.connect(src, P, w=w, delay=delay)
    mon = net.state_monitor(P, "v")
    cur = net.state_monitor(P, "I_exc" if w > 0 else "I_inh")
    net.run(80.0)
    # the weight lands at the end of the spike's step (+ delay): from the next step on
    # v follows the analytic PSP of a current that starts at w at time t0
    t0 = t_in + delay + dt
    s = np.clip(mon.t - t0, 0, None)
    if tau_m == tau_s:
        psp = w * s / tau_m * np.exp(-s / tau_m)
    else:
        psp = w * tau_s / (tau_s - tau_m) * (np.exp(-s / tau_s) - np.exp(-s / tau_m))
    np.testing.assert_allclose(mon.values[:, 0], -65.0 + psp, rtol=0, atol=1e-9)
    want_i = np.where(mon.t >= t0 - 1e-9, w * np.exp(-s / tau_s), 0.0)
    np.testing.assert_allclose(cur.values[:, 0], want_i, rtol=0, atol=1e-12)
    assert abs(psp).max() > 0.1


@pytest.mark.parametrize("t_ref", [0.0, 0.1, 2.0, 5.0])
def test_regular_firing_interval(t_ref):
    dt, tau, v_reset, v_th, v_inf = 0.1, 10.0, -70.0, -50.0, -45.0
    net = nm.Network(dt=dt, seed=0)
    P = net.lif(1, tau_m=tau, v_rest=-65.0, v_reset=v_reset, v_th=v_th, t_ref=t_ref,
                v_init=v_reset)
    net.current(P, v_inf + 65.0)
    sp = net.spike_monitor(P)
    net.run(300.0)
    # k: first step after integration resumes at which v > v_th
    k = int(np.floor(tau / dt * np.log((v_inf - v_reset) / (v_inf - v_th)))) + 1
    n_ref = round(t_ref / dt)
    isi_steps = k + max(n_ref - 1, 0)
    assert sp.num_spikes > 5
    np.testing.assert_array_equal(np.diff(sp.steps), isi_steps)
    # starting at v_reset: k integrations (steps 0 .. k-1); like Brian2, a spike is
    # stamped with the start time of the step whose update crossed the threshold
    assert sp.steps[0] == k - 1


def test_refractory_neuron_holds_reset_and_ignores_input():
    net = nm.Network(dt=0.1, seed=0)
    src = net.spike_source(1, indices=[0, 0], times=[1.0, 2.0])
    P = net.lif(1, tau_m=10.0, v_rest=-65.0, v_reset=-70.0, v_th=-60.0, t_ref=5.0,
                tau_syn_exc=0.2)
    net.connect(src, P, w=5000.0)
    v = net.state_monitor(P, "v")
    sp = net.spike_monitor(P)
    net.run(20.0)
    assert sp.num_spikes == 1  # the second input arrives during the refractory period
    s = sp.steps[0]
    held = v.values[s + 1:s + 50, 0]
    np.testing.assert_array_equal(held, -70.0)
    assert v.values[s + 51, 0] > -70.0  # integrates again (towards v_rest)


def test_adaptive_threshold_lengthens_intervals_as_predicted():
    """Without decay, the n-th interspike interval is the constant-current interval to a
    threshold raised by n * theta_plus."""
    dt, tau, v_reset, v_th, v_inf, dth = 0.1, 10.0, -70.0, -50.0, -40.0, 1.5
    net = nm.Network(dt=dt, seed=0)
    P = net.lif(1, tau_m=tau, v_rest=-65.0, v_reset=v_reset, v_th=v_th, v_init=v_reset,
                theta_plus=dth)
    net.current(P, v_inf + 65.0)
    sp = net.spike_monitor(P)
    net.run(400.0)
    n = sp.num_spikes
    assert n >= 5
    k = [int(np.floor(tau / dt * np.log((v_inf - v_reset) / (v_inf - v_th - i * dth)))) + 1
         for i in range(n)]
    np.testing.assert_array_equal(np.diff(sp.steps), k[1:])
    assert P.theta[0] == pytest.approx(n * dth)


def test_adaptive_threshold_decays_between_spikes():
    net = nm.Network(dt=0.1, seed=0)
    src = net.spike_source(1, indices=[0], times=[1.0])
    P = net.lif(1, tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, tau_syn_exc=0.1,
                theta_plus=2.0, tau_theta=50.0)
    net.connect(src, P, w=5000.0)
    th = net.state_monitor(P, "theta")
    net.run(200.0)
    s = int(np.argmax(th.values[:, 0] > 0))         # first step after the spike
    t = th.t[s:] - th.t[s]
    np.testing.assert_allclose(th.values[s:, 0], 2.0 * np.exp(-(t + 0.1) / 50.0) * np.exp(0.1 / 50.0),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="theta_plus"):
        net.lif(2, theta_plus=-1.0)
    with pytest.raises(ValueError, match="tau_theta"):
        net.lif(2, theta_plus=1.0, tau_theta=0.0)
