"""The Lava backend against neuromorph's LoihiLIF: same spikes and voltages, robust runs.

Lava (lava-nc 0.10.0) must be installed (README / requirements-lava.txt); these
tests are not skipped without it.
"""
import multiprocessing as mp
import os
import sys
import time

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.backends import lava as nl
from neuromorph.monitors import SpikeMonitor

from loihi_nets import recurrent_loihi_network


def _monitored(net):
    """Spike monitors on every population, 'v' and 'u' monitors on every LoihiLIF one."""
    mons = [net.spike_monitor(p) for p in net.populations]
    for p in net.populations:
        if p.is_loihi:
            mons += [net.state_monitor(p, "v"), net.state_monitor(p, "u", every=2.0)]
    return mons


def _compare(ref_monitors, lava_monitors, atol):
    n_neuron_spikes = 0
    for a, b in zip(ref_monitors, lava_monitors):
        assert type(a) is type(b) and a.target is b.target
        if isinstance(a, SpikeMonitor):
            np.testing.assert_array_equal(a.steps, b.steps)
            np.testing.assert_array_equal(a.i, b.i)
            n_neuron_spikes += a.num_spikes if a.target.population.is_loihi else 0
        else:
            np.testing.assert_array_equal(a.t, b.t)
            np.testing.assert_allclose(b.values, a.values, rtol=0, atol=atol)
    return n_neuron_spikes


@pytest.mark.parametrize("fixed,atol", [(True, 0.0), (False, 1e-9)])
def test_same_spikes_and_voltages_as_neuromorph_over_1000_steps(fixed, atol):
    net = recurrent_loihi_network(fixed_point=fixed, delays=True, n_steps=1000)
    mons = _monitored(net)
    res = nl.run_lava(net, 1000.0, fixed_point=fixed)
    assert net.step == 0  # the network is not modified
    net.run(1000.0)
    n = _compare(mons, res.monitors, atol)
    assert n > 3000  # every population fires: a meaningful comparison
    for p in net.populations:
        if p.is_loihi:  # final state (after step 999)
            np.testing.assert_allclose(res.state[p.name]["v"], p.v, rtol=0, atol=atol)
            np.testing.assert_allclose(res.state[p.name]["u"], p.population.state["u"],
                                       rtol=0, atol=atol)


def test_poisson_inputs_sparse_connections_views_and_rate_monitors():
    net = nm.Network(dt=1.0, seed=11)
    inp = net.poisson(30, rate=80.0)
    P = net.loihi_lif(20, du=0.15, dv=0.08, vth=12.0, bias_mant=0.2,
                      v_init=nm.uniform(0.0, 10.0))
    rng = np.random.default_rng(0)
    w = rng.uniform(-2, 6, (20, 15)) * (rng.random((20, 15)) < 0.5)
    net.connect(inp[5:25], P[:15], matrix=w)
    net.connect(P[10:], P, p=0.3, w=nm.uniform(-3.0, 2.0))
    mons = [net.spike_monitor(P[3:18]), net.rate_monitor(P), net.spike_monitor(inp[2:9]),
            net.state_monitor(P[5:], "v", record=[0, 4, 9], every=3.0)]
    res = nl.run_lava(net, 300.0, connection="sparse")
    net.run(300.0)
    assert mons[0].num_spikes > 50
    for a, b in zip(mons, res.monitors):
        if hasattr(a, "steps"):
            np.testing.assert_array_equal(a.steps, b.steps)
            np.testing.assert_array_equal(a.i, b.i)
        elif hasattr(a, "counts"):
            np.testing.assert_array_equal(a.counts, b.counts)
        else:
            np.testing.assert_allclose(b.values, a.values, rtol=0, atol=1e-9)


def _bad_threshold_model(n_steps=50):
    net = recurrent_loihi_network(fixed_point=True, n_steps=n_steps)
    net.spike_monitor(net.populations[1])
    model = nl.to_lava(net, float(n_steps))
    model.neurons["exc"].vth.init = 80.5  # float threshold under fixed point: child raises
    return model


def _assert_clean(outcome):
    """No child, no process in the worker's group, none of its shared memory left."""
    assert mp.active_children() == []
    with pytest.raises(ProcessLookupError):
        os.killpg(outcome.worker_pid, 0)
    assert len(outcome.segments) > 10  # the names are known: Lava used them
    assert not [s for s in outcome.segments if os.path.exists(os.path.join("/dev/shm", s))]


def test_child_crash_raises_with_traceback_and_cleans_up():
    t0 = time.perf_counter()
    with pytest.raises(nl.LavaRuntimeError, match="(?s)scale_threshold.*left_shift") as info:
        _bad_threshold_model().run(timeout=120)
    elapsed = time.perf_counter() - t0  # compile + first step + detection; reported, a
    print(f"crash raised after {elapsed:.2f} s")  # hang would hit the timeout instead
    assert "TypeError" in str(info.value)
    _assert_clean(info.value)


def test_twenty_runs_in_a_row_stay_clean():
    net = recurrent_loihi_network(fixed_point=True, n_steps=20)
    mon = net.spike_monitor(net.populations[2])
    first = None
    for k in range(20):
        if k == 10:  # a crash in the middle does not poison later runs
            with pytest.raises(nl.LavaRuntimeError):
                _bad_threshold_model(10).run(timeout=120)
        res = nl.run_lava(net, 20.0, timeout=120)
        _assert_clean(res)
        spikes = (res.monitors[0].steps.tolist(), res.monitors[0].i.tolist())
        first = first or spikes
        assert spikes == first
    net.run(20.0)
    assert (mon.steps.tolist(), mon.i.tolist()) == first


def test_unmappable_features_raise_naming_the_part():
    def base():
        net = nm.Network(dt=1.0)
        P = net.loihi_lif(3, du=10, dv=10, vth=10, fixed_point=True, name="P")
        return net, P

    net, P = base()
    net.lif(2, name="cont")
    with pytest.raises(nl.UnsupportedFeature, match="'cont' is a continuous LIF"):
        nl.run_lava(net, 5.0)
    net, P = base()
    net.loihi_lif(2, vth=1.0, name="flt")
    with pytest.raises(nl.UnsupportedFeature, match="mixes fixed- and floating-point"):
        nl.run_lava(net, 5.0)
    net, P = base()
    net.connect(P, P, w=1.0, delay=64.0, name="slow")
    with pytest.raises(nl.UnsupportedFeature, match="'slow' has a delay of 64 steps"):
        nl.run_lava(net, 5.0)
    net, P = base()
    net.connect(P, P, w=1.0, delay=2.0, name="late")
    with pytest.raises(nl.UnsupportedFeature, match="'late' has delays"):
        nl.to_lava(net, 5.0, connection="sparse")
    net, P = base()
    with pytest.raises(nl.UnsupportedFeature, match="fixed_point=False but .* fixed point"):
        nl.run_lava(net, 5.0, fixed_point=False)
    net.run(1.0)
    with pytest.raises(nl.UnsupportedFeature, match="already run"):
        nl.run_lava(net, 5.0)
    for kw, match in [(dict(weight_dependence="power", power=2.0),
                       "only additive or multiplicative"),
                      (dict(pairing="nearest"), "only all-to-all pairing")]:
        net = nm.Network(dt=1.0)
        Q = net.loihi_lif(3, vth=1.0)
        net.connect(Q, Q, w=0.5, plasticity=nm.STDP(**{"a_plus": 0.125, "a_minus": -0.25,
                                                        **kw}), name="plastic")
        with pytest.raises(nl.UnsupportedFeature, match=f"'plastic'.*{match}"):
            nl.run_lava(net, 5.0)
    net = nm.Network(dt=1.0)
    Q = net.loihi_lif(3, vth=1.0)
    net.connect(Q, Q, p=0.5, w=0.5, plasticity=nm.STDP(a_plus=0.125, a_minus=-0.25),
                name="sparse")
    with pytest.raises(nl.UnsupportedFeature, match="'sparse'.*all-to-all"):
        nl.run_lava(net, 5.0)
    with pytest.raises(ValueError, match="connection must be 'dense' or 'sparse'"):
        nl.run_lava(net, 5.0, connection="csr")
    with pytest.raises(TypeError, match="net must be a neuromorph Network"):
        nl.run_lava("net", 5.0)


def test_export_error_lists_every_problem_at_once():
    """A network with several unmappable parts is refused once, naming all of them and
    what Lava runs (not one part per attempt)."""
    net = nm.Network(dt=1.0)
    P = net.loihi_lif(3, du=10, dv=10, vth=10, fixed_point=True, name="P")
    cont = net.lif(2, name="cont")
    net.connect(P, P, w=1.0, delay=64.0, name="slow")
    net.connect(P, cont, w=1.0, delay=2.0, name="late")
    net.current(cont, 1.0)
    with pytest.raises(nl.UnsupportedFeature) as err:
        nl.to_lava(net, 5.0, connection="sparse")
    msg = str(err.value)
    assert "(5 problems)" in msg
    for part in ("'cont' is a continuous LIF", "'slow' has a delay of 64 steps",
                 "'slow' has delays", "'late' has delays", "step currents",
                 "Lava runs a freshly built network"):
        assert part in msg, part


def test_import_hook_is_idempotent():
    nl._install_import_hook()
    nl._install_import_hook()
    assert sum(type(f).__name__ == "_VarModelFinder" for f in sys.meta_path) == 1
    nl._lava()
    import lava.magma.compiler.var_model as vm
    assert vm.CoreEncoder().x is not vm.CoreEncoder().x  # default_factory, not shared
    assert "lava" not in {os.path.basename(p) for p in sys.path}


def test_stdp_learns_the_same_weights_in_floating_point():
    rng = np.random.default_rng(8)
    net = nm.Network(dt=1.0, seed=8)
    n_pre, n_steps = 30, 600
    key = np.unique(rng.integers(0, n_steps, 900) * n_pre + rng.integers(0, n_pre, 900))
    src = net.spike_source(n_pre, indices=key % n_pre, times=(key // n_pre) * 1.0)
    post = net.loihi_lif(12, du=0.2, dv=0.1, vth=6.0, bias_mant=0.1, v_init=nm.uniform(0, 5))
    # any amplitudes: in floating point they travel in the trace impulses
    rule = nm.STDP(tau_pre=12.0, tau_post=20.0, a_plus=0.0731, a_minus=-0.0517,
                   w_min=-50.0, w_max=50.0, clip="step")
    w0 = rng.uniform(-1.0, 3.0, (n_pre, 12))
    plastic = net.connect(src, post, matrix=w0, plasticity=rule, name="learn")
    net.connect(post, post, p=0.3, w=nm.uniform(-2.0, 1.0), allow_self=False)
    mon = net.spike_monitor(post)
    res = nl.run_lava(net, float(n_steps))
    net.run(float(n_steps))
    np.testing.assert_array_equal(res.monitors[0].steps, mon.steps)
    np.testing.assert_array_equal(res.monitors[0].i, mon.i)
    assert mon.num_spikes > 200
    change = plastic.w - w0[plastic.sources, plastic.targets]
    assert np.abs(change).max() > 0.5 and (change > 0).any() and (change < 0).any()
    assert plastic.w.min() > rule.w_min and plastic.w.max() < rule.w_max  # no clipping
    np.testing.assert_allclose(res.weights["learn"], plastic.w, rtol=0, atol=1e-6)
