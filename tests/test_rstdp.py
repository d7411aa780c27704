"""R-STDP: lazy closed-form engine against the step-by-step reference, and analytic cases."""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.kernels.reference import run_reference
from neuromorph.simulator import Simulator

from helpers import rstdp_network

DT = 0.1


@pytest.mark.parametrize("phasic,dependence,pairing", [
    (False, "additive", "all_to_all"), (True, "additive", "nearest"),
    (False, "multiplicative", "nearest"), (True, "multiplicative", "all_to_all")])
def test_lazy_engine_matches_step_by_step_reference(phasic, dependence, pairing):
    rewards = [1.0, -0.5, 2.0, 0.0, -1.5]
    fast, rf = rstdp_network(3, phasic, dependence, pairing)
    slow, rs = rstdp_network(3, phasic, dependence, pairing)
    mons = [fast.spike_monitor(p) for p in fast.populations]
    sim = Simulator(slow)
    ref_spikes = []
    for r in rewards:
        rf.deliver(r)
        fast.run(40.0)
        rs.deliver(r)
        ref_spikes.append(run_reference(sim, 400))
    steps = np.concatenate([x[0] for x in ref_spikes])
    gidx = np.concatenate([x[1] for x in ref_spikes])
    got = set()
    for m, p in zip(mons, fast.populations):
        got |= set(zip(m.steps.tolist(), (m.i + sim.gstart[slow.populations[fast.populations.index(p)]]).tolist()))
    assert got == set(zip(steps.tolist(), gidx.tolist()))
    assert sum(m.num_spikes for m in mons[1:]) > 150
    for pf, ps in zip(fast.projections, slow.projections):
        np.testing.assert_allclose(pf.w, ps.w, rtol=0, atol=1e-9)
        if pf.eligibility is not None:
            np.testing.assert_allclose(pf.eligibility, ps.eligibility, rtol=0, atol=1e-9)
            assert np.abs(pf.eligibility).max() > 0.1
    w0 = rstdp_network(3, phasic, dependence, pairing)[0].projections[0].w
    assert np.abs(fast.projections[0].w - w0).max() > 0.05  # rewards did change weights


def pair_then_reward(delay_ms, phasic, lag=5.0, lr=0.5):
    """One pre spike, a forced post spike ``lag`` ms later, a reward ``delay_ms`` after."""
    net = nm.Network(dt=DT, seed=0)
    t_post = 20.0 + DT
    pre = net.spike_source(1, indices=[0], times=[round((t_post - lag) / DT) * DT])
    kick = net.spike_source(1, indices=[0], times=[20.0])
    post = net.lif(1, tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, tau_syn_exc=0.1)
    reward = net.reward_signal(None if phasic else 200.0)
    rule = nm.RSTDP(tau_pre=20.0, tau_post=20.0, a_plus=1.0, a_minus=-1.0, tau_elig=500.0,
                    lr=lr, w_min=0.0, w_max=10.0)
    proj = net.connect(pre, post, w=1.0, plasticity=rule)
    net.connect(kick, post, w=5000.0)
    net.run(t_post + delay_ms)
    return net, proj, reward, rule, t_post


@pytest.mark.parametrize("delay", [0.9, 100.0, 1000.0])
def test_phasic_reward_scales_decayed_eligibility(delay):
    net, proj, reward, rule, t_post = pair_then_reward(delay, phasic=True)
    c = rule.a_plus * np.exp(-5.0 / 20.0) * np.exp(-(net.t - t_post) / 500.0)
    np.testing.assert_allclose(proj.eligibility, [c], rtol=1e-12)
    np.testing.assert_allclose(proj.w, [1.0])   # nothing happens without reward
    reward.deliver(2.0)
    net.run(DT)
    np.testing.assert_allclose(proj.w, [1.0 + 0.5 * 2.0 * c], rtol=1e-12)


def test_dopamine_reward_integrates_product_of_exponentials():
    net, proj, reward, rule, t_post = pair_then_reward(300.0, phasic=False, lr=0.01)
    c0 = proj.eligibility[0]
    reward.deliver(1.5)
    net.run(2000.0)
    tau_p = 1.0 / (1 / 200.0 + 1 / 500.0)
    want = 1.0 + 0.01 * 1.5 * c0 * tau_p * (1 - np.exp(-2000.0 / tau_p))
    assert want > 1.5
    np.testing.assert_allclose(proj.w, [want], rtol=1e-12)
    np.testing.assert_allclose(reward.level(net.t), 1.5 * np.exp(-2000.0 / 200.0))


def test_reward_baseline_gives_prediction_error():
    net = nm.Network(seed=0)
    r = net.reward_signal(200.0, baseline_rate=0.5)
    assert r.deliver(1.0) == pytest.approx(1.0)
    assert r.deliver(1.0) == pytest.approx(0.5)
    assert r.deliver(0.0) == pytest.approx(-0.75)
    assert r.r_bar == pytest.approx(0.375)


def test_callbacks_run_every_interval_and_see_current_state():
    net, reward = rstdp_network(5)
    seen = []

    def policy(n):
        seen.append(n.t)
        proj = n.projections[0]
        assert np.all(proj.w >= -1.0) and np.all(proj.w <= 4.0)
        reward.deliver(0.1)

    net.run(100.0, callback=policy, every=12.5)
    np.testing.assert_allclose(seen, np.arange(1, 9) * 12.5)
    assert len(reward.history) == 8


def test_callback_exception_stops_cleanly():
    net, reward = rstdp_network(5)
    spikes = net.spike_monitor(net.populations[1])

    def boom(n):
        if n.t >= 30.0:
            raise RuntimeError("policy failed")

    with pytest.raises(RuntimeError, match="policy failed"):
        net.run(100.0, callback=boom, every=10.0)
    assert net.t == pytest.approx(30.0)
    assert spikes.steps.max() < 300
    # the network goes on from where it stopped, exactly as an uninterrupted one
    ref, _ = rstdp_network(5)
    ref_spikes = ref.spike_monitor(ref.populations[1])
    ref.run(60.0)
    net.run(30.0)
    np.testing.assert_array_equal(spikes.steps, ref_spikes.steps)
    np.testing.assert_allclose(net.projections[0].w, ref.projections[0].w, atol=1e-12)


def test_bad_rstdp_input():
    with pytest.raises(ValueError, match="tau_elig"):
        nm.RSTDP(tau_elig=-5.0)
    with pytest.raises(ValueError, match="lr"):
        nm.RSTDP(lr=-1.0)
    with pytest.raises(ValueError, match="tau_pre"):
        nm.RSTDP(tau_pre=-1.0)
    with pytest.raises(ValueError, match="tau_post"):
        nm.RSTDP(tau_post=-20.0)
    with pytest.raises(ValueError, match="tau_elig"):
        nm.RSTDP(tau_elig=float("nan"))
    net, reward = rstdp_network(1)
    with pytest.raises(ValueError, match="reward"):
        reward.deliver(float("nan"))
    with pytest.raises(TypeError, match="reward"):
        reward.deliver("1")
    with pytest.raises(ValueError, match="tau_dopamine"):
        net.reward_signal(0.0)
    with pytest.raises(ValueError, match="tau_dopamine"):
        net.reward_signal(-200.0)
    with pytest.raises(ValueError, match="reward"):
        reward.deliver(float("inf"))
    assert reward.history == []   # rejected rewards leave no trace
    with pytest.raises(ValueError, match="baseline_rate"):
        net.reward_signal(100.0, baseline_rate=2.0)
    with pytest.raises(TypeError, match="callable"):
        net.run(10.0, callback=3, every=1.0)
    with pytest.raises(TypeError, match="together"):
        net.run(10.0, every=1.0)
    with pytest.raises(ValueError, match="every"):
        net.run(10.0, callback=print, every=0.05)
    net.reward_signal(100.0)   # now two signals: R-STDP projections need an explicit one
    with pytest.raises(ValueError, match="modulator"):
        net.run(1.0)
    assert net.t == 0.0
    with pytest.raises(TypeError, match="modulator"):
        net.connect(net.populations[0], net.populations[1], w=1.0, modulator=reward)
