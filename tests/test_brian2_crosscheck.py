"""neuromorph against Brian2 on the same network (``neuromorph.backends.brian2``).

Deterministic inputs (spike sources, step currents): the same spikes, step for step,
for every neuron, and with STDP the same final weights to 1e-9 mV. The CUBA network:
the same mean rate and CV of the inter-spike intervals within 10 %. Brian2 runs with
the ``numpy`` target (no compilation); ``cpp_standalone`` is exercised by a slow test.
"""
import glob
import os
import tempfile

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.backends.brian2 import UnsupportedFeature, run_brian2, to_brian2

DT = 0.1  # ms


def _spike_source(net, n, duration, n_events, rng):
    """``n`` sources with ~``n_events`` spikes at random steps in ``[0, duration)`` ms."""
    n_steps = int(round(duration / DT))
    key = np.unique(rng.integers(0, n_steps, n_events) * n + rng.integers(0, n, n_events))
    return net.spike_source(n, indices=key % n, times=(key // n) * DT)


def static_network(seed=3, theta_plus=0.0, tau_theta=np.inf):
    """Spike sources -> two LIF populations: mixed-sign matrix, heterogeneous delays,
    refractoriness, recurrent and view-to-view projections, step currents.

    Population ``b`` has ``tau_syn_exc == tau_syn_inh == tau_m`` (the degenerate case of
    the exact integration) and overlapping step currents switching at 50, 100 and
    220 ms on top of a constant one; ``a`` gets a constant current only.
    """
    net = nm.Network(dt=DT, seed=seed)
    rng = np.random.default_rng(seed)
    src = _spike_source(net, 40, 500.0, 2500, rng)
    a = net.lif(30, tau_m=10.0, v_rest=-57.0, v_reset=-70.0, v_th=-55.0, t_ref=2.0,
                tau_syn_exc=3.0, tau_syn_inh=8.0, v_init=nm.uniform(-70.0, -56.0),
                theta_plus=theta_plus, tau_theta=tau_theta)
    b = net.lif(15, tau_m=15.0, v_rest=-60.0, v_reset=-65.0, v_th=-52.0, t_ref=0.5,
                tau_syn_exc=15.0, tau_syn_inh=15.0)
    mixed = rng.normal(1.0, 3.0, (40, 30)) * (rng.random((40, 30)) < 0.4)
    net.connect(src, a, matrix=mixed, delay=rng.integers(0, 30, (40, 30)) * DT, name="mixed")
    net.connect(a, b, p=0.5, w=nm.uniform(0.5, 3.0), delay=1.0)
    net.connect(b, a[10:], p=0.3, w=-2.0, delay=0.5)
    net.connect(a, a, p=0.1, w=1.0, allow_self=False, name="recurrent")
    net.current(a[:8], 1.5)  # constant: I_ext set once
    net.current(b[:5], 12.0, start=50.0, stop=220.0)  # gated: I_ext set every step
    net.current(b, 0.5)
    net.current(b[3:], 3.0, start=100.0)
    return net


def stdp_network(dependence, pairing, seed=5, x_tar=0.0):
    """Spike sources -> LIF with STDP (bounds straddling 0, so weights change sign;
    bounds <= 0, an inhibitory plastic projection), plastic LIF -> LIF projections (between views; recurrent with self-synapses) and a
    static delayed inhibition."""
    net = nm.Network(dt=DT, seed=seed)
    rng = np.random.default_rng(seed)
    src = _spike_source(net, 60, 500.0, 6000, rng)
    post = net.lif(20, tau_m=10.0, v_rest=-60.0, v_reset=-65.0, v_th=-54.0, t_ref=2.0,
                   tau_syn_exc=5.0, tau_syn_inh=10.0, v_init=nm.uniform(-65.0, -55.0))
    kw = dict(weight_dependence=dependence, pairing=pairing, power=0.6, x_tar=x_tar)
    straddling = nm.STDP(tau_pre=15.0, tau_post=25.0, a_plus=0.1, a_minus=-0.12, w_min=-1.0,
                         w_max=3.0, **kw)
    positive = nm.STDP(tau_pre=20.0, tau_post=20.0, a_plus=0.05, a_minus=-0.06, w_min=0.0,
                       w_max=2.0, **kw)
    net.connect(src, post, p=0.5, w=nm.uniform(-0.5, 2.5), plasticity=straddling,
                name="input")
    net.connect(post[:10], post[10:], p=0.5, w=nm.uniform(0.0, 2.0), plasticity=positive,
                name="lateral")
    # recurrent, with self-synapses: one spike is pre and post of the same synapse
    net.connect(post, post, p=0.2, w=nm.uniform(0.0, 1.0), plasticity=positive,
                allow_self=True, name="recurrent")
    negative = nm.STDP(tau_pre=20.0, tau_post=20.0, a_plus=0.05, a_minus=-0.05, w_min=-1.0,
                       w_max=0.0, **kw)
    net.connect(src[40:], post, p=0.15, w=nm.uniform(-0.6, 0.0), plasticity=negative,
                name="inhibitory")
    net.connect(src[:20], post, p=0.2, w=-1.5, delay=1.0)
    net.current(post, 2.0)
    return net


def _events(steps_or_t, i, in_ms):
    steps = np.round(np.asarray(steps_or_t) / DT).astype(int) if in_ms else steps_or_t
    return set(zip(np.asarray(steps).tolist(), np.asarray(i).tolist()))


def _run_both(net, duration):
    """Brian2 first (the description is untouched), then neuromorph.

    Returns ``(result, monitors)`` with one neuromorph spike monitor per population.
    """
    mons = [net.spike_monitor(p) for p in net.populations]
    res = run_brian2(net, duration, target="numpy")
    net.run(duration)
    return res, mons


def test_deterministic_network_same_spikes_every_neuron():
    net = static_network()
    view_mon = net.spike_monitor(net.populations[1][10:])  # a view: local indices
    res, mons = _run_both(net, 500.0)
    assert len(res.spikes) == len(net.monitors) == 4
    view, *per_pop = res.spikes  # monitors in creation order: the view's came first
    for pop, mon, (t, i) in zip(net.populations, mons, per_pop):
        assert _events(mon.steps, mon.i, False) == _events(t, i, True), pop.name
    assert _events(view_mon.steps, view_mon.i, False) == _events(*view, True)
    assert view[1].max() < 20
    lif_spikes = [m.num_spikes for p, m in zip(net.populations, mons) if p.is_lif]
    assert min(lif_spikes) > 200  # both populations, incl. the degenerate one, fire
    for proj in net.projections:  # static weights come back unchanged
        np.testing.assert_array_equal(res.weights[proj.name], proj.w)


@pytest.mark.parametrize("tau_theta", [60.0, np.inf])
def test_adaptive_threshold_same_spikes(tau_theta):
    net = static_network(theta_plus=0.3, tau_theta=tau_theta)
    res, mons = _run_both(net, 300.0)
    for pop, mon, (t, i) in zip(net.populations, mons, res.spikes):
        assert _events(mon.steps, mon.i, False) == _events(t, i, True), pop.name
    a = net.populations[1]
    assert mons[1].num_spikes > 100 and a.theta.max() > 1.0


@pytest.mark.parametrize("dependence,pairing,x_tar", [
    ("additive", "all_to_all", 0.0), ("additive", "nearest", 0.0),
    ("multiplicative", "all_to_all", 0.0), ("multiplicative", "nearest", 0.0),
    ("power", "all_to_all", 0.3)])
def test_stdp_same_post_spikes_and_final_weights(dependence, pairing, x_tar):
    net = stdp_network(dependence, pairing, x_tar=x_tar)
    w0 = {p.name: p.w.copy() for p in net.projections}
    res, mons = _run_both(net, 500.0)
    post_mon, (t, i) = mons[1], res.spikes[1]
    assert post_mon.num_spikes > 50
    assert _events(post_mon.steps, post_mon.i, False) == _events(t, i, True)
    for proj in net.projections:
        np.testing.assert_allclose(res.weights[proj.name], proj.w, rtol=0, atol=1e-9,
                                   err_msg=proj.name)
    for name in ("input", "lateral", "recurrent", "inhibitory"):  # learning happened...
        assert np.abs(res.weights[name] - w0[name]).max() > 0.1
    flipped = np.sign(w0["input"]) != np.sign(res.weights["input"])
    assert flipped.sum() > 10  # ...and plastic weights crossed zero (exc <-> inh)


def _rate_and_cv(t, i, n, duration):
    """Mean rate (Hz) and mean CV of the ISIs of neurons with >= 3 spikes."""
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    isi = np.diff(t)
    same = np.diff(i) == 0
    cvs = []
    for k in np.unique(i):
        d = isi[same & (i[:-1] == k)]
        if len(d) >= 2:
            cvs.append(d.std() / d.mean())
    return len(t) / n / (duration * 1e-3), float(np.mean(cvs))


def test_cuba_rate_and_cv_match_brian2():
    net = nm.Network(dt=DT, seed=1)
    P = net.lif(4000, tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_th=-50.0, t_ref=5.0,
                tau_syn_exc=5.0, tau_syn_inh=10.0, v_init=nm.uniform(-60.0, -50.0))
    net.connect(P[:3200], P, p=0.02, w=1.62)
    net.connect(P[3200:], P, p=0.02, w=-9.0)
    mon = net.spike_monitor(P)
    res = run_brian2(net, 1000.0, target="numpy")
    net.run(1000.0)
    rate_nm, cv_nm = _rate_and_cv(mon.t, mon.i, 4000, 1000.0)
    rate_b2, cv_b2 = _rate_and_cv(*res.spikes[0], 4000, 1000.0)
    assert 2.0 < rate_b2 < 20.0 and cv_b2 > 0.2  # the asynchronous irregular regime
    assert rate_nm == pytest.approx(rate_b2, rel=0.1)
    assert cv_nm == pytest.approx(cv_b2, rel=0.1)


@pytest.fixture
def numpy_target():
    """Brian2's runtime target set to numpy (no compilation) for direct ``run`` calls."""
    import brian2 as b2
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    yield b2
    b2.prefs.codegen.target = previous


def test_to_brian2_mirrors_the_description_without_changing_it(numpy_target):
    net = static_network()
    inp = net.poisson(50, rate=np.linspace(0.0, 400.0, 50))
    net.connect(inp, net.populations[2], p=0.1, w=0.5)
    net.spike_monitor(inp[25:])
    v0 = net.populations[1].v.copy()
    w0 = [p.w.copy() for p in net.projections]
    model = to_brian2(net)
    assert list(model.groups) == [p.name for p in net.populations]
    assert [len(model.synapses[p.name]) for p in net.projections] == [2, 1, 1, 1, 1]
    assert len(model.spike_monitors) == 1
    assert model.synapses["mixed"][0].N + model.synapses["mixed"][1].N == \
        net.projections[0].n_synapses
    np.testing.assert_array_equal(net.populations[1].v, v0)
    for proj, w in zip(net.projections, w0):
        np.testing.assert_array_equal(proj.w, w)
    assert net.step == 0
    # Poisson inputs become PoissonGroups with the same rates (statistics only)
    b2 = numpy_target
    b2.seed(7)
    model.network.run(2000 * b2.ms)
    t, i = model.spike_trains()[0]
    assert i.min() >= 0 and i.max() < 25
    counts = np.bincount(i, minlength=25)
    expected = inp.model.rate[25:] * 2.0
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected) + 1)


def test_unsupported_and_bad_arguments_raise_clear_errors():
    net = stdp_network("additive", "all_to_all")
    pre = net.populations[0]
    rule = nm.STDP(w_min=0.0, w_max=2.0)
    net.connect(pre, net.populations[1], p=0.1, w=1.0, delay=1.5, plasticity=rule,
                name="delayed_plastic")
    with pytest.raises(UnsupportedFeature, match="delayed_plastic.*non-zero delays"):
        to_brian2(net)
    with pytest.raises(ValueError, match="delayed_plastic"):  # it is a ValueError
        run_brian2(net, 10.0)
    net = stdp_network("additive", "all_to_all")
    net.connect(pre := net.populations[0], net.populations[1], p=0.1, w=1.0,
                plasticity=nm.STDP(w_min=0.0, w_max=2.0, clip="step"), name="per_step")
    with pytest.raises(UnsupportedFeature, match="per_step.*clip='step'.*use clip='update'"):
        to_brian2(net)

    ok = static_network()
    with pytest.raises(ValueError, match="target must be one of"):
        run_brian2(ok, 10.0, target="genn")
    with pytest.raises(ValueError, match="build_dir only applies"):
        run_brian2(ok, 10.0, target="numpy", build_dir="/tmp/x")
    with pytest.raises(ValueError, match="duration_ms"):
        run_brian2(ok, -1.0)
    with pytest.raises(ValueError, match="duration_ms"):
        run_brian2(ok, 0.05)
    with pytest.raises(TypeError, match="net must be a neuromorph Network"):
        to_brian2("network")
    ok.run(1.0)
    with pytest.raises(UnsupportedFeature, match="already been run"):
        to_brian2(ok)


@pytest.mark.slow
def test_cpp_standalone_repeated_calls_in_one_process():
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "neuromorph_brian2_*")))
    results = [run_brian2(static_network(), 200.0, target="cpp_standalone")
               for _ in range(2)]
    after = set(glob.glob(os.path.join(tempfile.gettempdir(), "neuromorph_brian2_*")))
    assert after == before  # temporary build folders are removed
    net = static_network()
    mons = [net.spike_monitor(p) for p in net.populations]
    net.run(200.0)
    for res in results:
        assert res.wall_s > 0 and res.build_s > 0
        for mon, (t, i) in zip(mons, res.spikes):
            assert _events(mon.steps, mon.i, False) == _events(t, i, True)
    with tempfile.TemporaryDirectory() as folder:
        res = run_brian2(static_network(), 50.0, target="cpp_standalone", build_dir=folder)
        assert os.path.isdir(os.path.join(folder, "results"))  # a given folder is kept
    numpy_res = run_brian2(static_network(), 50.0, target="numpy")  # runtime works again
    assert [len(t) for t, _ in numpy_res.spikes] == [len(t) for t, _ in res.spikes]
