"""Continuous LIF -> LoihiLIF conversion: exact in floating point, measured in fixed point."""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.loihi import spike_agreement, to_loihi


def reference_lif_network(seed=7, recurrent=True):
    """Poisson + spike source -> two LIF populations (exc/inh mixed, recurrent), delays."""
    rng = np.random.default_rng(seed)
    net = nm.Network(dt=0.5, seed=seed)
    inp = net.poisson(60, rate=80.0, name="inp")
    times = np.arange(0, 400, 10.0)
    src = net.spike_source(5, indices=np.arange(times.size) % 5, times=times, name="src")
    a = net.lif(50, tau_m=15.0, v_rest=-65.0, v_reset=-65.0, v_th=-52.0, tau_syn_exc=4.0,
                tau_syn_inh=4.0, v_init=nm.uniform(-65.0, -53.0), name="a")
    b = net.lif(20, tau_m=10.0, v_rest=-60.0, v_reset=-60.0, v_th=-50.0, tau_syn_exc=6.0,
                tau_syn_inh=6.0, name="b")
    net.connect(inp, a, p=0.3, w=nm.uniform(0.0, 8.0))
    net.connect(src, b, w=6.0)
    net.connect(a, b, p=0.3, w=nm.uniform(0.0, 6.0), delay=1.0)
    if recurrent:
        net.connect(b, a, p=0.4, w=nm.uniform(-12.0, 0.0))
        net.connect(a, a, matrix=rng.normal(0.5, 2.0, (50, 50)) * (rng.random((50, 50)) < 0.1))
    return net


def _run(net, duration=500.0):
    mons = [net.spike_monitor(net.populations[k]) for k in (2, 3)]
    vs = [net.state_monitor(net.populations[k], "v") for k in (2, 3)]
    net.run(duration)
    return mons, vs


def test_floating_point_conversion_is_exact():
    ref_m, ref_v = _run(reference_lif_network())
    conv = to_loihi(reference_lif_network())
    got_m, got_v = _run(conv.net)
    assert sum(m.num_spikes for m in ref_m) > 1000
    for a, b in zip(ref_m, got_m):
        np.testing.assert_array_equal(a.steps, b.steps)
        np.testing.assert_array_equal(a.i, b.i)
    for a, b, name in zip(ref_v, got_v, ("a", "b")):
        np.testing.assert_allclose(b.values, a.values - conv.v_rest[name], rtol=0, atol=1e-9)


@pytest.mark.parametrize("recurrent", [False, True])
def test_fixed_point_quantisation_error_on_reference_network(recurrent):
    ref_m, ref_v = _run(reference_lif_network(recurrent=recurrent))
    conv = to_loihi(reference_lif_network(recurrent=recurrent), fixed_point=True)
    got_m, got_v = _run(conv.net)
    w = np.concatenate([pr.w for pr in conv.net.projections])
    assert np.all(w == np.rint(w)) and np.abs(w).max() == 255
    for a, b, name in zip(ref_m, got_m, ("a", "b")):
        count_err = abs(b.num_spikes - a.num_spikes) / a.num_spikes
        match = [spike_agreement(a.steps, a.i, b.steps, b.i, tolerance=t) for t in (0, 1, 2)]
        print(f"recurrent={recurrent} {name}: {a.num_spikes} vs {b.num_spikes} spikes "
              f"({100 * count_err:.1f} %), matched exactly / within 1 / 2 steps: "
              + " / ".join(f"{100 * m:.0f} %" for m in match))
        assert count_err < 0.03
        if not recurrent:  # timing: recurrence amplifies any difference (chaos)
            assert match[1] > (0.75 if name == "a" else 0.4)
    # sub-threshold voltage before the first spike: quantisation only (mV)
    v_fx = got_v[0].values / conv.scale["a"]
    v_lif = ref_v[0].values - conv.v_rest["a"]
    first = min(a.steps.min() for a in ref_m)
    err = np.abs(v_fx[:first] - v_lif[:first]).max()
    print(f"max |v| error before the first spike: {err:.4f} mV")
    assert err < 0.05


@pytest.mark.parametrize("change,match", [
    (dict(t_ref=1.0), "no refractory period"),
    (dict(v_reset=-70.0), "v_reset must equal v_rest"),
    (dict(tau_syn_inh=9.0), "tau_syn_exc must equal tau_syn_inh"),
])
def test_unconvertible_lif_raises(change, match):
    net = nm.Network(dt=0.5)
    kw = dict(tau_m=10.0, v_rest=-65.0, v_reset=-65.0, v_th=-50.0, name="P")
    kw.update(change)
    net.lif(3, **kw)
    with pytest.raises(ValueError, match=f"population 'P'.*{match}"):
        to_loihi(net)


def test_conversion_error_lists_every_problem_and_how_to_fix_it():
    # the obvious network (the README's ten-line CUBA one) fails on three counts at once
    net = nm.Network(dt=0.1, seed=1)
    P = net.lif(40, tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_th=-50.0, t_ref=5.0,
                tau_syn_exc=5.0, tau_syn_inh=10.0, name="P")
    net.connect(P[:32], P, p=0.02, w=1.62)
    net.connect(P[32:], P, p=0.02, w=-9.0)
    with pytest.raises(nm.UnsupportedFeature) as err:
        to_loihi(net)
    msg = str(err.value)
    assert "(3 problems)" in msg
    for part in ("no refractory period", "v_reset must equal v_rest",
                 "tau_syn_exc must equal tau_syn_inh", "A convertible network uses"):
        assert part in msg
    assert isinstance(err.value, ValueError)
