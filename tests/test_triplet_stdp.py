"""Triplet STDP (Pfister & Gerstner 2006): closed-form triplets, the frequency dependence
of pairing (Sjostrom et al. 2001), and the engine against the NumPy reference loop."""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.kernels.reference import run_reference
from neuromorph.simulator import Simulator

DT = 0.1


def forced(pre_times, post_times, rule, w0=0.5, t_end=None):
    """One plastic synapse; the post neuron is forced to fire at ``post_times`` (ms)."""
    net = nm.Network(dt=DT, seed=0)
    pre = net.spike_source(1, indices=np.zeros(len(pre_times), int),
                           times=np.round(np.asarray(pre_times) / DT) * DT)
    kicks = np.round((np.asarray(post_times) - DT) / DT) * DT
    kick = net.spike_source(1, indices=np.zeros(len(kicks), int), times=kicks)
    post = net.lif(1, tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, tau_syn_exc=0.1)
    proj = net.connect(pre, post, w=w0, plasticity=rule)
    net.connect(kick, post, w=5000.0)
    mon = net.spike_monitor(post)
    net.run(t_end or (max(max(pre_times), max(post_times)) + 50.0))
    np.testing.assert_allclose(mon.t, post_times, atol=1e-9)  # the post spikes are where asked
    return proj.w[0] - w0


def test_pre_post_post_triplet_closed_form():
    rule = nm.TripletSTDP(a2_plus=0.004, a3_plus=0.01, a2_minus=-0.005, a3_minus=-0.002,
                          w_min=0.0, w_max=1.0)
    t0, t1, t2 = 50.0, 58.0, 70.0
    dw = forced([t0], [t1, t2], rule)
    r1 = lambda t: np.exp(-(t - t0) / rule.tau_plus)
    want = r1(t1) * rule.a2_plus + r1(t2) * (rule.a2_plus + rule.a3_plus * np.exp(-(t2 - t1) / rule.tau_y))
    assert dw == pytest.approx(want, abs=1e-12)


def test_post_pre_pre_triplet_closed_form():
    rule = nm.TripletSTDP(a2_plus=0.004, a3_plus=0.01, a2_minus=-0.005, a3_minus=-0.002,
                          w_min=0.0, w_max=1.0)
    t_post, p1, p2 = 50.0, 60.0, 75.0
    dw = forced([p1, p2], [t_post], rule)
    o1 = lambda t: np.exp(-(t - t_post) / rule.tau_minus)
    want = o1(p1) * rule.a2_minus + o1(p2) * (rule.a2_minus + rule.a3_minus * np.exp(-(p2 - p1) / rule.tau_x))
    assert want < 0  # signed depression amplitudes (a2_minus, a3_minus <= 0)
    assert dw == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("lag", [10.0, -10.0])
def test_pairing_frequency_dependence(lag):
    """Sjostrom protocol, 60 pairings: with the visual-cortex fit, pre-before-post
    potentiation grows with the pairing frequency (almost none at 1 Hz, where the
    triplet term has decayed); post-before-pre depresses at low frequency."""
    rule = nm.TripletSTDP(w_min=-10.0, w_max=10.0)  # the fit's amplitudes, no clipping
    dws = {}
    for hz in (1.0, 10.0, 20.0, 40.0, 50.0):
        period = 1000.0 / hz
        start = 20.0
        pres = start + np.arange(60) * period
        posts = pres + lag
        if lag < 0:
            pres, posts = pres - lag, pres
        dws[hz] = forced(pres, posts, rule)
    seq = [dws[h] for h in sorted(dws)]
    if lag > 0:
        assert all(b > a for a, b in zip(seq, seq[1:]))
        assert seq[-1] > 50 * abs(seq[0])
    else:
        assert seq[0] < 0                       # post-before-pre depresses at low rates
        assert seq[-1] > 0                      # and potentiates at 50 Hz (Sjostrom 2001)


def test_engine_matches_reference_loop_with_triplets():
    def build():
        net = nm.Network(dt=DT, seed=12)
        inp = net.poisson(50, rate=40.0)
        out = net.lif(20, tau_m=10.0, v_rest=-58.0, v_reset=-65.0, v_th=-55.0, t_ref=1.0)
        rule = nm.TripletSTDP(a2_plus=0.02, a3_plus=0.05, a2_minus=-0.03, a3_minus=-0.01,
                              w_min=0.0, w_max=3.0)
        net.connect(inp, out, p=0.5, w=nm.uniform(0.5, 2.5), plasticity=rule)
        net.connect(out, out, w=nm.uniform(0.0, 1.0), plasticity=rule)   # all-to-all path
        return net

    fast, slow = build(), build()
    mon = fast.spike_monitor(fast.populations[1])
    fast.run(300.0)
    steps, gidx = run_reference(Simulator(slow), 3000)
    assert mon.num_spikes > 100
    assert set(zip(mon.steps.tolist(), mon.i.tolist())) == \
        set(zip(steps[gidx < 20].tolist(), gidx[gidx < 20].tolist()))
    for a, b in zip(fast.projections, slow.projections):
        np.testing.assert_allclose(a.w, b.w, rtol=0, atol=1e-12)
    w0 = build().projections[0].w
    assert np.abs(fast.projections[0].w - w0).max() > 0.05


def test_bad_triplet_parameters_and_save_load(tmp_path):
    with pytest.raises(ValueError, match="tau_x"):
        nm.TripletSTDP(tau_x=0.0)
    with pytest.raises(ValueError, match="a3_plus"):
        nm.TripletSTDP(a3_plus=-1.0)
    with pytest.raises(ValueError, match="w_min"):
        nm.TripletSTDP(w_min=2.0, w_max=1.0)
    # one sign convention for every rule (STDP's a_minus <= 0): a positive depression
    # amplitude is refused with the reason, never flipped silently
    for kw in (dict(a2_minus=0.007), dict(a3_minus=2e-4)):
        name = next(iter(kw))
        with pytest.raises(ValueError, match=rf"{name} must be <= 0 .*signed.*pass -"):
            nm.TripletSTDP(**kw)
    with pytest.raises(ValueError, match=r"a_minus must be <= 0 .*signed"):
        nm.STDP(a_minus=0.01)
    assert nm.TripletSTDP().a2_minus < 0 and nm.TripletSTDP().a3_minus < 0
    net = nm.Network(dt=DT, seed=3)
    inp = net.poisson(20, rate=50.0)
    out = net.lif(5, v_rest=-52.0, v_th=-50.0, v_reset=-60.0)
    net.connect(inp, out, w=nm.uniform(0.0, 1.0), plasticity=nm.TripletSTDP(a3_plus=0.05))
    net.run(100.0)
    net.save(tmp_path / "t.npz")
    back = nm.Network.load(tmp_path / "t.npz")
    assert back.projections[0].plasticity == net.projections[0].plasticity
    net.run(100.0)
    back.run(100.0)
    np.testing.assert_array_equal(net.projections[0].w, back.projections[0].w)
