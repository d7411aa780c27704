"""R-STDP on NEST (issue 18): ``stdp_dopamine_synapse`` + ``volume_transmitter``.

Independent reference: neuromorph's own engine (``net.run`` through
:func:`run_with_rewards`, which calls ``signal.deliver`` at the reward steps) on an
identical network; NEST's dopamine synapse (Izhikevich 2007 / Potjans et al. 2010,
closed-form event-driven) is the system under test.
"""
import copy

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.backends import nest as nb
from neuromorph.backends.nest import UnsupportedFeature, run_nest, run_with_rewards
from helpers import refuse_nest

DT = 0.1


def rstdp_teacher_forced(phasic, seed=0, n_pre=30, n_post=4, spike_end=200.0, k=2,
                         lr_scale=1.0):
    """Spike sources -> R-STDP (delay 0) onto teacher-forced LIF neurons, and LIF relay
    neurons (driven by the same sources) -> R-STDP (delay 1 ms) onto the same neurons.
    No post spike precedes a pre spike by 1..k(+10) steps (the pairs NEST's
    dendritic-delay timing treats differently, as for STDP); a source's spikes are > 6 ms
    apart, so each makes its relay fire in the next step. All spikes happen before
    ``spike_end``."""
    rng = np.random.default_rng(seed)
    end = int(round(spike_end / DT))
    teach = np.sort(rng.choice(np.arange(20, end - 50), 30, replace=False))
    bad = set()
    for s in teach + 1:                          # post steps
        bad.update(range(s - 1, s + k + 12))      # covers the relay (+1 step, D = 10)
    pre = []
    for j in range(n_pre):
        kept = []
        for c in np.sort(rng.choice(np.arange(1, end - 50), 20, replace=False)):
            if c not in bad and (not kept or c - kept[-1] > 60):  # relays: not refractory
                kept.append(c)
        pre += [(c, j) for c in kept]
    pre = np.array(sorted(pre))
    net = nm.Network(dt=DT, seed=seed)
    src = net.spike_source(n_pre, indices=pre[:, 1], times=pre[:, 0] * DT)
    teacher = net.spike_source(n_post, indices=np.arange(len(teach)) % n_post,
                               times=teach * DT)
    lif = dict(tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_th=-50.0, t_ref=5.0,
               tau_syn_exc=0.5, tau_syn_inh=5.0)
    relay = net.lif(5, **lif)
    post = net.lif(n_post, **lif)
    signal = net.reward_signal(None if phasic else 50.0)
    rule = nm.RSTDP(tau_pre=17.0, tau_post=34.0, a_plus=0.02, a_minus=-0.021,
                    tau_elig=300.0, lr=lr_scale * (0.5 if phasic else 0.012), w_min=0.0, w_max=0.5)
    plastic = net.connect(src, post, w=nm.uniform(0.1, 0.4), plasticity=rule,
                          modulator=signal)
    net.connect(src[:5], relay, connectivity_rule="one_to_one", w=6000.0)
    relayed = net.connect(relay, post, w=nm.uniform(0.1, 0.4), delay=1.0, plasticity=rule,
                          modulator=signal)
    net.connect(teacher, post, connectivity_rule="one_to_one", w=6000.0)
    mon = net.spike_monitor(post)
    return net, (plastic, relayed), mon, signal


def _rewards(signal, times):
    return {signal: [(t, 2.0 if i % 2 == 0 else 1.0) for i, t in enumerate(times)]}


@pytest.mark.parametrize("phasic, threads", [(False, 2), (True, 1)])
def test_rstdp_distal_rewards_match_nest_within_1e6(phasic, threads):
    """Pairings first, rewards later (the distal-reward setting of Izhikevich 2007):
    NEST's dopamine synapse and neuromorph's R-STDP are the same model here (additive
    eligibility, b = 0, dopamine = exponentially decaying rewards), so the weights agree
    to rounding."""
    net, projs, mon, signal = rstdp_teacher_forced(phasic)
    w0 = [p.w.copy() for p in projs]
    schedule = _rewards(signal, [220.0, 260.0, 300.0])
    res = run_nest(copy.deepcopy(net), 400.0, threads=threads,
                   rewards={signal.name: schedule[signal]})
    run_with_rewards(net, 400.0, schedule)
    assert mon.num_spikes == 30 and res.monitors[0].num_spikes == 30
    assert res.monitors[0].steps.tolist() == mon.steps.tolist()
    w = np.concatenate([p.w for p in projs])
    assert np.abs(w - np.concatenate(w0)).max() > 0.05          # the rewards did teach
    assert np.any(w == 0.0) and np.any((w > 0) & (w < 0.5))     # a bound reached, held
    for p in projs:
        np.testing.assert_allclose(res.weights[p.name], p.w, rtol=1e-6, atol=1e-12)


def test_rstdp_rewards_during_activity_agree_within_5_percent():
    """Dopamine while the neurons fire: NEST adds a post spike's eligibility D steps
    after neuromorph does (and an input's pre spike one step before; the amplitudes are
    compensated, so the eligibility is the same afterwards), so the weights integrate a
    different eligibility in those windows (module notes). The learned changes agree
    within 5 % (relative L2) and the mean weight within 5 %; they do differ (> 1e-6),
    which is what the notes explain."""
    net, projs, _, signal = rstdp_teacher_forced(False, lr_scale=0.3)
    w0 = [p.w.copy() for p in projs]
    posts = np.sort(net.populations[1].model.steps)[::10] + 1   # teacher-forced spikes
    times = sorted({round(float(t), 1) for t in np.r_[(posts + 1) * DT, (posts + 3) * DT,
                                                       40.0, 90.0, 130.0, 260.0]})
    schedule = _rewards(signal, times)
    res = run_nest(copy.deepcopy(net), 400.0, rewards=schedule)
    run_with_rewards(net, 400.0, schedule)
    worst = 0.0
    for p, before in zip(projs, w0):
        got, want = res.weights[p.name], p.w
        change = np.linalg.norm((got - before) - (want - before))
        assert change / np.linalg.norm(want - before) < 0.05
        assert abs(got.mean() / want.mean() - 1) < 0.05
        worst = max(worst, np.abs(got - want).max())
    assert worst > 1e-6


def test_phasic_reward_right_after_a_post_spike_is_the_stated_difference():
    """A phasic reward is a dopamine pulse within the step. NEST adds a post spike's
    eligibility D steps after the spike (relative to the rewards), neuromorph at the
    spike, so a phasic reward 1..D-1 steps after a post spike sees that spike's
    potentiation in neuromorph, not in NEST (module notes; D = 10 steps for the relayed
    projection, 1 for the inputs, whose window is empty). Exactly the synapses of the
    relayed projection onto that neuron differ; every other weight agrees within 1e-6."""
    net, projs, _, signal = rstdp_teacher_forced(True, lr_scale=0.3)
    teacher = net.populations[1].model
    order = np.argsort(teacher.steps, kind="stable")
    s_post, neuron = teacher.steps[order][10] + 1, teacher.indices[order][10]
    schedule = _rewards(signal, [40.0, (s_post + 2) * DT, 130.0, 260.0])
    res = run_nest(copy.deepcopy(net), 400.0, rewards=schedule)
    run_with_rewards(net, 400.0, schedule)
    inputs, relayed = projs
    np.testing.assert_allclose(res.weights[inputs.name], inputs.w, rtol=1e-6, atol=1e-12)
    onto = relayed.targets == neuron
    got, want = res.weights[relayed.name], relayed.w
    np.testing.assert_allclose(got[~onto], want[~onto], rtol=1e-6, atol=1e-12)
    assert np.abs(got[onto] - want[onto]).max() > 1e-3


def test_rstdp_without_modulator_and_a_reward_delivered_before_the_run():
    """An R-STDP projection without ``modulator=`` uses the network's only reward signal
    (as neuromorph's engine does); a reward delivered before the run counts at step 0
    (its dopamine then decays while the neurons fire: the 'close' regime)."""
    net, (plastic, relayed), _, signal = rstdp_teacher_forced(False, n_pre=10, lr_scale=0.3)
    src, post = net.populations[0], net.populations[3]
    silent = net.connect(src, post, w=0.3, plasticity=nm.RSTDP(tau_post=34.0))
    w0 = plastic.w.copy()
    signal.deliver(2.0)
    res = run_nest(copy.deepcopy(net), 250.0)
    net.run(250.0)
    assert np.abs(plastic.w - w0).max() > 0.01 and np.abs(silent.w - 0.3).max() > 0.01
    for p in (plastic, silent):
        np.testing.assert_allclose(res.weights[p.name], p.w, rtol=0.05)


def test_reward_schedule_is_what_deliver_does():
    """The baseline (reward-prediction error) amounts NEST would get equal those
    neuromorph's signal computes when the same rewards are delivered."""
    net = nm.Network(dt=DT, seed=0)
    signal = net.reward_signal(100.0, baseline_rate=0.5)
    net.lif(1)
    pairs = [(5.0, 1.0), (1.0, 3.0), (5.0, 2.0)]
    steps, amounts = nb._reward_schedule(net, {signal: pairs}, 100)[signal.name]
    run_with_rewards(net, 10.0, {signal: pairs})
    assert steps.tolist() == [10, 50]
    by_step = {}
    for step, _, amount in signal.history:
        by_step[step] = by_step.get(step, 0.0) + amount
    np.testing.assert_allclose(amounts, [by_step[10], by_step[50]], rtol=1e-15)
    assert net.step == 100


def test_unmappable_rstdp_parts_raise_before_nest_is_touched(monkeypatch):
    refuse_nest(monkeypatch)
    net = nm.Network(dt=DT, seed=0)
    src = net.spike_source(2, indices=np.array([0]), times=np.array([1.0]))
    post = net.lif(2)
    rpe = net.reward_signal(100.0, baseline_rate=0.3, name="rpe")
    plain = net.reward_signal(100.0, name="plain")
    net.connect(src, post, w=0.5, plasticity=nm.RSTDP(), name="orphan")  # two signals
    for name, kw in (("mult", dict(weight_dependence="multiplicative")),
                     ("nn", dict(pairing="nearest")), ("tar", dict(x_tar=0.2))):
        net.connect(src, post, w=0.5, plasticity=nm.RSTDP(**kw), modulator=plain, name=name)
    net.connect(src, post, w=0.5, plasticity=nm.RSTDP(), modulator=rpe, name="ok")
    with pytest.raises(UnsupportedFeature) as err:
        run_nest(net, 10.0, rewards={rpe: [(1.0, 1.0), (2.0, 0.0)],
                                     plain: [(1.0, 1.0), (2.0, 0.3)]})
    msg = str(err.value)
    for part in ("projection 'mult': R-STDP with weight_dependence='multiplicative'",
                 "projection 'nn': R-STDP with pairing='nearest'",
                 "projection 'tar': x_tar=0.2",
                 "reward signal 'rpe': negative rewards",
                 "reward signal 'plain': rewards",
                 "projection 'orphan' uses R-STDP without a reward signal"):
        assert part in msg


@pytest.mark.parametrize("rewards, error, message", [
    ([(1.0, 1.0)], TypeError, "rewards must be a mapping"),
    ({"nope": [(1.0, 1.0)]}, ValueError, "'nope' is not a reward signal"),
    ({"r": [(1.05, 1.0)]}, ValueError, "multiple of dt"),
    ({"r": [(10.0, 1.0)]}, ValueError, r"in \[0, duration\)"),
    ({"r": [(1.0,)]}, ValueError, r"\(time_ms, reward\) pairs"),
])
def test_bad_reward_schedules_raise_before_nest_is_touched(monkeypatch, rewards, error,
                                                          message):
    refuse_nest(monkeypatch)
    net = nm.Network(dt=DT, seed=0)
    src = net.spike_source(1, indices=np.array([0]), times=np.array([1.0]))
    signal = net.reward_signal(name="r")
    net.connect(src, net.lif(1), w=0.5, plasticity=nm.RSTDP(), modulator=signal)
    with pytest.raises(error, match=message):
        run_nest(net, 10.0, rewards=rewards)
    with pytest.raises(error, match=message):
        run_with_rewards(net, 10.0, rewards)
    assert net.step == 0
