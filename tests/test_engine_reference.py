"""The numba engine against the NumPy reference loop, and each kernel against its reference."""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.kernels import lif, stdp
from neuromorph.kernels.propagate import drain_ring, propagate_reference, propagate_row
from neuromorph.kernels.reference import run_reference
from neuromorph.simulator import Simulator

from helpers import random_network


@pytest.mark.parametrize("pairing,dependence,delays,adaptive,clip", [
    ("all_to_all", "additive", True, False, "update"),
    ("nearest", "multiplicative", True, True, "update"),
    ("all_to_all", "multiplicative", False, False, "update"),
    ("all_to_all", "power", True, True, "update"),
    ("all_to_all", "additive", True, False, "step"),
    ("nearest", "power", False, True, "step"),
])
def test_numba_loop_matches_numpy_reference(pairing, dependence, delays, adaptive, clip):
    kw = dict(pairing=pairing, dependence=dependence, delays=delays, adaptive=adaptive,
              clip=clip)
    fast = random_network(seed=4, **kw)
    slow = random_network(seed=4, **kw)
    mons = [fast.spike_monitor(p) for p in fast.populations]
    fast.run(250.0)
    sim = Simulator(slow)
    steps, gidx = run_reference(sim, 2500)
    ref = set(zip(steps.tolist(), gidx.tolist()))
    got = set()
    for m, p in zip(mons, fast.populations):
        got |= set(zip(m.steps.tolist(), (m.i + sim.gstart[slow.populations[fast.populations.index(p)]]).tolist()))
    lif_spikes = sum(m.num_spikes for m, p in zip(mons, fast.populations) if p.is_lif)
    assert lif_spikes > 200
    assert got == ref
    for pf, ps in zip(fast.projections, slow.projections):
        np.testing.assert_allclose(pf.w, ps.w, rtol=0, atol=1e-12)
    for pf, ps in zip(fast.populations, slow.populations):
        if pf.is_lif:
            np.testing.assert_allclose(pf.v, ps.v, rtol=0, atol=1e-9)
            np.testing.assert_allclose(pf.I_exc, ps.I_exc, rtol=0, atol=1e-9)
            np.testing.assert_allclose(pf.theta, ps.theta, rtol=0, atol=1e-12)
    if adaptive:
        assert fast.populations[2].theta.max() > 0.5


@pytest.mark.parametrize("rule_cls", [nm.STDP, nm.TripletSTDP])
def test_clip_schedule_of_a_step_with_a_pre_and_a_post_spike(rule_cls):
    # one synapse, pre and post spike in the same step, the depression alone crosses w_min:
    # clip='update' clips it (to w_min) before adding the potentiation, clip='step' adds
    # both, then clips (hand-computed; traces: x_post = 1 from the post spike one step
    # earlier decayed by one step, x_pre = 1 from this step's pre spike)
    def run(clip):
        net = nm.Network(dt=1.0)
        src = net.spike_source(1, indices=np.array([0]), times=np.array([5.0]))
        forcing = net.spike_source(1, indices=np.array([0, 0]), times=np.array([3.0, 4.0]))
        post = net.loihi_lif(1, du=1.0, dv=1.0, vth=10.0)
        net.connect(forcing, post, w=50.0)  # post fires at steps 4 and 5
        if rule_cls is nm.STDP:
            rule = nm.STDP(tau_pre=10.0, tau_post=10.0, a_plus=0.5, a_minus=-1.0,
                           w_min=0.0, w_max=5.0, clip=clip)
        else:
            rule = nm.TripletSTDP(tau_plus=10.0, tau_minus=10.0, a2_plus=0.5, a3_plus=0.0,
                                  a2_minus=-1.0, a3_minus=0.0, w_min=0.0, w_max=5.0, clip=clip)
        pl = net.connect(src, post, w=0.3, plasticity=rule)
        mon = net.spike_monitor(post)
        net.run(7.0)
        assert mon.steps.tolist() == [4, 5]
        return pl.w[0]
    x_post = np.exp(-1 / 10.0)   # post spike at step 4, seen by the pre spike of step 5
    depressed = 0.3 - 1.0 * x_post  # < 0 = w_min
    assert depressed < 0
    assert run("update") == pytest.approx(0.0 + 0.5 * 1.0, abs=1e-12)
    assert run("step") == pytest.approx(max(depressed + 0.5 * 1.0, 0.0), abs=1e-12)
    assert run("step") != run("update")


def test_clip_must_name_a_schedule():
    for rule_cls in (nm.STDP, nm.TripletSTDP):
        with pytest.raises(ValueError, match="clip must be one of .*'update'.*'step'"):
            rule_cls(clip="end")


def test_plastic_weights_actually_change():
    net = random_network(seed=4)
    w0 = [p.w.copy() for p in net.projections]
    net.run(250.0)
    changed = [not np.array_equal(a, p.w) for a, p in zip(w0, net.projections)]
    assert changed == [p.plasticity is not None for p in net.projections]


@pytest.mark.parametrize("theta_plus", [0.0, 0.7])
def test_lif_step_matches_reference(theta_plus):
    rng = np.random.default_rng(1)
    n = 500
    coef = lif.coefficients(0.1, 20.0, 5.0, 10.0, -49.0, -60.0, -50.0, 50, theta_plus, 300.0)
    v = rng.uniform(-62, -48, n)
    ie, ii = rng.uniform(0, 5, n), rng.uniform(-5, 0, n)
    ref = rng.integers(0, 4, n).astype(np.int32)  # n_ref = 50: values 0..3 are late refractory
    ext = rng.uniform(-2, 2, n)
    theta = rng.uniform(0, 1.5, n) if theta_plus else np.zeros(n)
    exp = lif.lif_step_reference(coef, v, ie, ii, ref, ext, theta)
    spikes = np.zeros(n, np.int32)
    k = lif.lif_step(coef, 0, n, v, ie, ii, ref, ext, True, theta, spikes, 0)
    np.testing.assert_array_equal(spikes[:k], np.nonzero(exp[4])[0])
    for got, want in zip((v, ie, ii, ref, theta), exp[:4] + exp[5:]):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert 0 < k < n


def test_stdp_weight_update_matches_reference():
    rng = np.random.default_rng(2)
    w = rng.uniform(-1, 2, 200)
    x = rng.uniform(0, 3, 200)
    for mu in (0.0, 1.0, 0.5):
        for amp, pot in ((0.3, True), (-0.4, False)):
            want = stdp.update_weight_reference(w, amp, x, -1.0, 2.0, mu, pot)
            got = np.array([stdp.update_weight(a, amp, b, -1.0, 2.0, mu, pot)
                            for a, b in zip(w, x)])
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
            assert np.all((got >= -1.0) & (got <= 2.0))


@pytest.mark.parametrize("sign,const_delay,const_w", [
    (0, -1, False), (1, 0, False), (-1, 0, False), (1, 3, False), (-1, 2, False), (0, 2, False),
    (1, 0, True), (-1, 4, True)])
def test_propagate_and_drain_match_reference(sign, const_delay, const_w):
    rng = np.random.default_rng(3)
    n_pre, n_post, slots = 20, 30, 5
    pre = np.sort(rng.integers(0, n_pre, 300)).astype(np.int32)
    post = rng.integers(0, n_post, 300).astype(np.int32)
    w = rng.normal(0, 1, 300)
    if sign:
        w = sign * np.abs(w)
    d = rng.integers(0, slots, 300).astype(np.int32)
    if const_delay >= 0:
        d[:] = const_delay
    if const_w:
        w[:] = w[0]
    rowptr = np.searchsorted(pre, np.arange(n_pre + 1))
    spiked = rng.random(n_pre) < 0.4
    step = 7
    want = propagate_reference(spiked, pre, post, w, d, step, n_post, np.zeros((slots, 2, n_post)))
    ie, ii = np.zeros(n_post), np.zeros(n_post)
    re, ri = np.zeros((slots, n_post)), np.zeros((slots, n_post))
    for j in np.nonzero(spiked)[0]:
        propagate_row(rowptr[j], rowptr[j + 1], post, 0, w, d, step, ie, ii, re, ri,
                      sign, const_delay, w[0] if const_w else np.nan, False, ie, 0.0, 0.0,
                      1.0, 0.0, True)
    # zero-delay arrivals went straight into the currents; the rest into the ring
    here = step % slots
    np.testing.assert_allclose(ie + re[here], want[here, 0], atol=1e-12)
    np.testing.assert_allclose(ii + ri[here], want[here, 1], atol=1e-12)
    others = [s for s in range(slots) if s != here]
    np.testing.assert_allclose(re[others], want[others, 0], atol=1e-12)
    np.testing.assert_allclose(ri[others], want[others, 1], atol=1e-12)
    nxt = (step + 1) % slots
    before, pending = ie.copy(), re[nxt].copy()
    drain_ring(step + 1, 0, n_post, ie, ii, re, ri)
    np.testing.assert_allclose(ie, before + pending, atol=1e-12)
    assert not re[nxt].any() and not ri[nxt].any()
    # nothing is lost or duplicated: every spiking synapse delivered its weight once
    total = ie.sum() + ii.sum() + re.sum() + ri.sum()
    assert total == pytest.approx(w[spiked[pre]].sum(), abs=1e-9)


def test_weights_edited_between_runs_take_effect():
    """Uniform positive weights use a fast path; after editing them to mixed signs the
    engine must follow the new weights exactly (checked against the reference loop)."""
    def build():
        net = nm.Network(dt=0.1, seed=2)
        inp = net.poisson(50, rate=100.0)
        P = net.lif(20, tau_m=10.0, v_rest=-60.0, v_reset=-65.0, v_th=-55.0,
                    tau_syn_exc=4.0, tau_syn_inh=9.0)
        proj = net.connect(inp, P, p=0.5, w=1.5)
        return net, P, proj

    mixed = np.random.default_rng(0).normal(0.5, 2.0, (50, 20))
    fast, Pf, projf = build()
    mon = fast.spike_monitor(Pf)
    fast.run(50.0)
    projf.weights = mixed
    fast.run(50.0)
    slow, Ps, projs = build()
    sim = Simulator(slow)
    s1, g1 = run_reference(sim, 500)
    projs.weights = mixed
    s2, g2 = run_reference(sim, 500)
    steps, gidx = np.concatenate([s1, s2]), np.concatenate([g1, g2])
    lif = gidx < 20
    assert mon.num_spikes > 20
    assert set(zip(mon.steps.tolist(), mon.i.tolist())) == set(zip(steps[lif].tolist(), gidx[lif].tolist()))
    np.testing.assert_allclose(Pf.I_inh, Ps.I_inh, atol=1e-9)
    assert Pf.I_inh.min() < 0


def test_all_to_all_strided_potentiation_equals_indexed_path():
    def run(dense):
        net = nm.Network(dt=0.1, seed=6)
        inp = net.poisson(80, rate=30.0)
        post = net.lif(40, tau_m=10.0, v_rest=-60.0, v_reset=-65.0, v_th=-55.0)
        rule = nm.STDP(a_plus=0.02, a_minus=-0.021, w_min=0.0, w_max=1.5,
                       weight_dependence="multiplicative")
        proj = net.connect(inp, post, w=nm.uniform(0.0, 1.5), plasticity=rule)
        net.run(0.1)
        assert net._sim.pr_dense[0]
        net._sim.pr_dense[:] = dense
        net.run(500.0)
        return proj.w.copy()

    a, b = run(True), run(False)
    np.testing.assert_array_equal(a, b)
