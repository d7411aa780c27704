"""Held input currents on Loihi: per-neuron biases that change between samples.

The core's LoihiLIF takes step currents as per-neuron biases (``net.current``), Lava gets
the same schedule as ``bias_mant``/``bias_exp`` set between ``RunSteps`` segments; the
deploy maps EqSpike's held input currents and the R-STDP classifier's homeostatic drive
onto them. Checked against a scalar replay of Lava's arithmetic, Lava itself, the float
network and the learners.
"""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import UnsupportedFeature
from neuromorph.loihi import bias_parts, representable_bias, to_loihi
from neuromorph.models.spiking import EqSpike, RSTDPClassifier
from helpers import written_nir


def _trunc(x, f):
    """Lava's ``sign(x) * (|x| * f >> 12)``."""
    p = x * f
    return (abs(p) >> 12) * (1 if p >= 0 else -1)


def _bias_network(rng, n_steps=80):
    """A spike source -> fixed-point LoihiLIF with overlapping per-neuron step currents."""
    net = nm.Network(dt=1.0, seed=0)
    t, i = np.nonzero(rng.random((n_steps, 5)) < 0.4)
    src = net.spike_source(5, indices=i, times=t.astype(float), name="src")
    P = net.loihi_lif(4, du=300, dv=200, vth=300, bias_mant=8, fixed_point=True, name="P")
    W = rng.integers(-60, 120, (5, 4)).astype(float)
    net.connect(src, P, matrix=W)
    net.current(P, np.array([3000., 6000., -500., 9000.]), start=10, stop=40)
    net.current(P[1:3], np.array([20000., 8192.]), start=30, stop=70)
    return net, P, (t, i), W


def _replay(spikes, W, n_steps):
    """Scalar replay of Lava's PyLifModelBitAcc for :func:`_bias_network` (du 300,
    dv 200, vth 300 << 6, bias 8 plus the step currents)."""
    t_in, i_in = spikes
    bias = np.full((n_steps, 4), 8)
    bias[10:40] += [3000, 6000, -500, 9000]
    bias[30:70, 1:3] += [20000, 8192]
    u, v = [0] * 4, [0] * 4
    a_next = np.zeros(4, np.int64)
    out = []
    for t in range(n_steps):
        a = a_next
        a_next = W[i_in[t_in == t]].sum(axis=0).astype(np.int64)  # arrives in t + 1
        for j in range(4):
            u[j] = _trunc(u[j], 4095 - 300) + (int(a[j]) << 6)
            v[j] = _trunc(v[j], 4096 - 200) + u[j] + int(bias[t, j])
            if v[j] > 300 << 6:
                v[j] = 0
                out.append((t, j))
    return out


def test_step_currents_are_per_neuron_biases_in_the_core():
    """The engine's fixed-point LoihiLIF adds its step currents to the bias exactly as a
    scalar replay of Lava's arithmetic with those per-neuron biases does."""
    net, P, spikes, W = _bias_network(np.random.default_rng(0))
    mon = net.spike_monitor(P)
    net.run(80.0)
    got = list(zip(mon.steps.tolist(), mon.i.tolist()))
    assert got == _replay(spikes, W, 80)
    assert len(got) > 10


def test_fixed_point_currents_must_be_loihi_biases():
    net = nm.Network(dt=1.0)
    P = net.loihi_lif(2, vth=10, fixed_point=True)
    with pytest.raises(ValueError, match="amplitude must hold integers"):
        net.current(P, 0.5)
    with pytest.raises(ValueError, match="amplitude must hold integers"):
        net.current(P, 4095 * 2**7 + 1)


def test_bias_parts_and_rounding():
    """Every total splits into a 13-bit mantissa and exponent 0-7 with mant << exp equal
    to it; representable_bias rounds to such totals within half a unit of the last
    place (relative 2**-13 above 4095)."""
    rng = np.random.default_rng(1)
    b = np.concatenate([rng.uniform(-5000, 5000, 200), rng.uniform(-5e5, 5e5, 200),
                        [4095.4, -4096.2, 4095 * 128, -4096 * 128]])
    q = representable_bias(b)
    mant, exp = bias_parts(q, True)
    assert np.all((mant >= -4096) & (mant <= 4095) & (exp >= 0) & (exp <= 7))
    assert np.array_equal(mant.astype(np.int64) << exp, q.astype(np.int64))
    small = np.abs(b) <= 4095
    assert np.array_equal(q[small], np.rint(b[small]))
    assert np.all(np.abs(q - b) <= np.maximum(0.5, np.abs(b) * 2.0**-12))
    with pytest.raises(UnsupportedFeature, match="population 'P'.*13-bit"):
        bias_parts(np.array([4097.0]), True, "population 'P'")


def test_lava_bias_schedule_bit_identical():
    """Lava, with bias_mant/bias_exp set between RunSteps segments, fires the core's
    spikes and has its voltages, step for step."""
    from neuromorph.backends.lava import run_lava

    net, P, _, _ = _bias_network(np.random.default_rng(0))
    net.spike_monitor(P)
    net.state_monitor(P, "v")
    res = run_lava(net, 80.0, fixed_point=True)
    net.run(80.0)
    core_s, core_v = net.monitors
    lava_s, lava_v = res.monitors
    assert core_s.num_spikes > 10
    assert np.array_equal(core_s.steps, lava_s.steps) and np.array_equal(core_s.i, lava_s.i)
    assert np.array_equal(core_v.values, lava_v.values)


def test_to_loihi_converts_step_currents_exactly_in_float():
    """A LIF population with step currents and its float LoihiLIF conversion (the
    currents as biases I (1 - E_m)) fire the same spikes."""
    def build():
        net = nm.Network(dt=0.5, seed=3)
        src = net.poisson(20, rate=40.0, name="in")
        P = net.lif(6, tau_m=10.0, v_rest=-65.0, v_reset=-65.0, v_th=-55.0, t_ref=0.0,
                    tau_syn_exc=5.0, tau_syn_inh=5.0, name="P")
        net.connect(src, P, w=np.random.default_rng(0).uniform(0, 2.0, (20, 6)))
        net.current(P, np.linspace(2.0, 12.0, 6), start=20.0, stop=120.0)
        net.current(P[:3], -4.0, start=80.0)
        return net

    ref = build()
    m_ref = ref.spike_monitor(ref.populations[1])
    ref.run(200.0)
    conv = to_loihi(build()).net
    m = conv.spike_monitor(conv.populations[1])
    conv.run(200.0)
    assert m_ref.num_spikes > 20
    assert np.array_equal(m.steps, m_ref.steps) and np.array_equal(m.i, m_ref.i)


def test_eqspike_fixed_point_and_lava(digits):
    """EqSpike (rate-coded input, held currents x W + R b): the Loihi fixed-point
    deployment answers within a few points of float, and Lava fires its spikes."""
    X_tr, X_te, y_tr, y_te = digits
    clf = EqSpike(hidden_layer_sizes=(48,), max_iter=2, random_state=0).fit(X_tr[:700],
                                                                          y_tr[:700])
    fixed = nm.deploy(clf, backend="loihi")
    assert all(p.model.fixed_point for p in fixed.network.populations[1:])
    X, y = X_te[:120], y_te[:120]
    f = nm.deploy(clf).score(X, y)
    assert f > 0.6
    assert fixed.score(X, y) >= f - 0.05
    lava = nm.deploy(clf, backend="lava")
    _, rec_core, net = lava.spec.run(X[:2])  # the core with the rest period
    assert any(c.target.population.name == "h1" for c in net.currents)
    s_lava, rec_lava = lava.run(X[:2])
    for name in ("h1", "output"):
        assert np.array_equal(rec_lava[name], rec_core[name])
    assert rec_lava["h1"].any()
    s_fixed, rec_fixed = fixed.run(X[:2])  # reset by a callback instead of the rest
    assert np.array_equal(rec_fixed["h1"], rec_core["h1"])
    assert np.array_equal(s_lava, s_fixed)
    from neuromorph.deploy.energy import davies_estimate
    est = fixed.estimate(X[:3])  # SANA-FE on the fixed-point network's activity
    ratio = est.energy_j / davies_estimate(est.synaptic_ops, est.neuron_updates)
    assert 0.5 <= ratio <= 2.0


def test_rstdp_fixed_point_and_lava(digits):
    """R-STDP classifier: its per-output drive becomes a per-neuron Loihi bias, trials
    are reset by Var.set between Lava runs; Lava equals the core's fixed point."""
    X_tr, X_te, y_tr, y_te = digits
    clf = RSTDPClassifier(max_iter=1, random_state=0).fit(X_tr[:150], y_tr[:150])
    fixed = nm.deploy(clf, backend="loihi")
    net = fixed.network
    out = next(p for p in net.populations if p.name == "output")
    assert out.model.fixed_point and net.currents
    amp = net.currents[0].amplitude
    assert np.all(amp == np.rint(amp)) and np.ptp(amp) > 0  # per-neuron integer biases
    notes = " ".join(fixed.spec.notes)
    assert "refractory" in notes and "inhibitory current" in notes
    X = X_te[:3]
    s_core, rec_core = fixed.run(X)
    s_lava, rec_lava = nm.deploy(clf, backend="lava").run(X)
    assert len(rec_core["output_steps"]) > 0
    assert np.array_equal(rec_lava["output_steps"], rec_core["output_steps"])
    assert np.array_equal(rec_lava["output_i"], rec_core["output_i"])
    assert np.array_equal(s_lava, s_core)


def test_eqspike_nir_round_trip(digits, tmp_path):
    """EqSpike's held input currents in NIR: an Input of the pixel values -> Affine
    (W, b) -> each layer; read back (nir.read, from_nir) it answers as the float
    deployment."""
    import nir

    X_tr, X_te, y_tr, _ = digits
    clf = EqSpike(hidden_layer_sizes=(16,), max_iter=1, random_state=0).fit(X_tr[:100],
                                                                          y_tr[:100])
    dep = nm.deploy(clf)
    path = tmp_path / "eq.nir"
    graph = written_nir(dep, path)
    held = graph.nodes["input.values"]
    assert isinstance(held, nir.Input) and held.metadata["neuromorph.held"]
    aff = graph.nodes["h1.held"]
    assert isinstance(aff, nir.Affine) and aff.weight.shape == (16, 64)
    assert ("h1.held", "h1") in graph.edges and ("output.held", "output") in graph.edges
    X = X_te[:30]
    assert np.mean(dep.predict_nir(X, path) == dep.predict(X)) >= 0.99


def test_held_current_beyond_bias_range_refused(digits):
    """A held current so large that the scale fitting it into Loihi's bias range rounds
    the layer's weights to 0 is refused at deploy time, naming the layer."""
    X_tr, _, y_tr, _ = digits
    clf = EqSpike(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X_tr[:40],
                                                                         y_tr[:40])
    clf.b_[0] = clf.b_[0] + 1e9
    with pytest.raises(UnsupportedFeature, match="layer 'h1'.*held input current"):
        nm.deploy(clf, backend="loihi")


@pytest.mark.parametrize("fixed", [True, False])
def test_engine_matches_numpy_reference_with_loihi_biases(fixed):
    """The engine's LoihiLIF step with step currents equals the readable NumPy reference
    (:func:`neuromorph.kernels.reference.run_reference`), float and fixed point."""
    from neuromorph.kernels.reference import run_reference
    from neuromorph.simulator import Simulator

    def build():
        rng = np.random.default_rng(2)
        net = nm.Network(dt=1.0, seed=0)
        t, i = np.nonzero(rng.random((100, 6)) < 0.3)
        src = net.spike_source(6, indices=i, times=t.astype(float))
        kw = dict(du=300, dv=200, vth=300) if fixed else dict(du=0.07, dv=0.05, vth=300.0)
        P = net.loihi_lif(5, fixed_point=fixed, **kw)
        net.connect(src, P, matrix=rng.integers(-40, 100, (6, 5)).astype(float))
        net.current(P, rng.integers(-2000, 6000, 5).astype(float), start=20.0, stop=60.0)
        net.current(P[2:], 1500.0, start=50.0)
        return net

    fast, slow = build(), build()
    mon = fast.spike_monitor(fast.populations[1])
    fast.run(100.0)
    sim = Simulator(slow)
    steps, gidx = run_reference(sim, 100)
    lo = sim.gstart[slow.populations[1]]
    assert mon.num_spikes > 10
    mine = (gidx >= lo) & (gidx < lo + 5)
    assert set(zip(mon.steps.tolist(), (mon.i + lo).tolist())) == \
        set(zip(steps[mine].tolist(), gidx[mine].tolist()))
    np.testing.assert_array_equal(fast.populations[1].v, slow.populations[1].v)
