"""NIR export/import: round trip through a file, and a graph written with ``nir`` directly
that runs in neuromorph (against the closed-form solution) and in Lava."""
from pathlib import Path

import nir
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.backends import nir as nn
from neuromorph.backends.lava import run_lava
from neuromorph.loihi import to_loihi

from helpers import assert_same_synapses


def _net():
    rng = np.random.default_rng(4)
    net = nm.Network(dt=0.5, seed=2)
    times = np.arange(0.0, 200.0, 2.5)
    src = net.spike_source(10, indices=np.arange(times.size) % 10, times=times, name="src")
    a = net.lif(30, tau_m=15.0, v_rest=-65.0, v_reset=-70.0, v_th=-55.0, tau_syn_exc=4.0,
                tau_syn_inh=4.0, name="a")
    b = net.lif(12, tau_m=10.0, v_rest=-60.0, v_reset=-60.0, v_th=-50.0, tau_syn_exc=6.0,
                tau_syn_inh=3.0, name="b")
    net.connect(src, a[5:], matrix=rng.uniform(0, 80, (10, 25)) * (rng.random((10, 25)) < 0.5))
    net.connect(a, b, p=0.4, w=nm.uniform(0.0, 12.0), delay=1.5)   # b: only excitatory input
    net.connect(a[:20], a, matrix=rng.normal(0, 15, (20, 30)) * (rng.random((20, 30)) < 0.2))
    return net, (src.model.indices, src.model.steps * 0.5)


def test_round_trip_through_a_file_gives_the_same_spikes(tmp_path):
    net, src_spikes = _net()
    graph = nn.to_nir(net)
    assert isinstance(graph.nodes["a"], nir.CubaLIF) and isinstance(graph.nodes["proj1"], nir.Linear)
    assert isinstance(graph.nodes["proj1.delay"], nir.Delay)
    nir.write(tmp_path / "net.nir", graph)
    back = nn.from_nir(nir.read(tmp_path / "net.nir"), inputs={"src": src_spikes}, seed=2)
    assert back.dt == pytest.approx(0.5)
    named = {p.name: p for p in back.projections}
    for p in net.projections:  # views become whole populations
        q = named[p.name]
        full = np.zeros((p.pre.population.size, p.post.population.size))
        full[p.sources + p.pre.start, p.targets + p.post.start] = p.w
        np.testing.assert_allclose(q.weights, full, rtol=1e-12)
        assert set(np.unique(q.delay_steps)) == set(np.unique(p.delay_steps))
    m_orig = [net.spike_monitor(net.populations[k]) for k in (1, 2)]
    v_orig = net.state_monitor(net.populations[2], "v")
    v_back = back.state_monitor({p.name: p for p in back.populations}["b"], "v")
    net.run(200.0)
    back.run(200.0)
    m_back = sorted([m for m in back.monitors if hasattr(m, "steps")],
                    key=lambda m: m.target.name)  # monitors on the graph's Output nodes
    assert sum(m.num_spikes for m in m_orig) > 100
    for a, b in zip(m_orig, m_back):
        np.testing.assert_array_equal(a.steps, b.steps)
        np.testing.assert_array_equal(a.i, b.i)
    np.testing.assert_allclose(v_back.values, v_orig.values, rtol=0, atol=1e-9)


def _foreign_graph(w=2e-3, delay_s=1e-3):
    """As another tool writes it: seconds, CubaLIF with r and w_in != 1, Affine, Delay."""
    n = 3
    return nir.NIRGraph(
        nodes={"x": nir.Input(np.array([2])),
               "fc": nir.Affine(weight=np.array([[w, 0.0], [0.0, w], [w, w]]),
                                bias=np.zeros(n)),
               "wait": nir.Delay(np.full(n, delay_s)),
               "cell": nir.CubaLIF(tau_syn=np.full(n, 5e-3), tau_mem=np.full(n, 20e-3),
                                   r=np.full(n, 2.0), v_leak=np.zeros(n),
                                   v_threshold=np.full(n, 1.0), v_reset=np.zeros(n),
                                   w_in=np.full(n, 0.5)),
               "y": nir.Output(np.array([n]))},
        edges=[("x", "fc"), ("fc", "wait"), ("wait", "cell"), ("cell", "y")],
        metadata={"dt": 1e-4})


def test_foreign_graph_matches_the_closed_form_solution_dirac_spikes():
    # a spike read as a Dirac pulse of unit area (spike_representation='dirac'): one input
    # spike at t = 0: I jumps by r w_in W / tau_syn = 2 * 0.5 * 2e-3 / 5e-3 = 0.4 after
    # the 1 ms delay; then v(t) = A (e^{-t/tau_s} - e^{-t/tau_m}), A = J tau_s / (tau_s - tau_m)
    net = nn.from_nir(_foreign_graph(), inputs={"x": (np.array([0]), np.array([0.0]))},
                      spike_representation="dirac")
    cell = {p.name: p for p in net.populations}["cell"]
    v = net.state_monitor(cell, "v")
    net.run(30.0)
    t = v.t - 0.1 - 1.0  # delivered at the end of the delayed step; integrated from the next
    J = 2 * 0.5 * 2e-3 / 5e-3
    expected = np.where(t > 0, J * 5.0 / (5.0 - 20.0) * (np.exp(-t / 5.0) - np.exp(-t / 20.0)), 0)
    np.testing.assert_allclose(v.values[:, 0], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(v.values[:, 2], expected, rtol=0, atol=1e-12)
    assert np.all(v.values[:, 1] == 0)


def test_foreign_graph_step_spikes_match_a_held_input_integrated_numerically():
    # the default reading: a spike is a 1 held for one step (dt = 0.1 ms) into the Affine
    # node; integrate NIR's CubaLIF equations for that input independently (scipy) and
    # compare at the step ends: the current exactly, the voltage to O(dt/tau_syn) (the
    # current jumps at the start of the step instead of rising through it)
    from scipy.integrate import solve_ivp
    W, dt, r, w_in, tau_s, tau_m = 40.0, 0.1, 2.0, 0.5, 5.0, 20.0
    net = nn.from_nir(_foreign_graph(w=W, delay_s=0.0),
                      inputs={"x": (np.array([0]), np.array([0.0]))})
    cell = {p.name: p for p in net.populations}["cell"]
    v, cur = net.state_monitor(cell, "v"), net.state_monitor(cell, "I_exc")
    net.run(30.1)

    def rhs(t, y, s):
        return [(-y[0] + w_in * W * s) / tau_s, (-y[1] + r * y[0]) / tau_m]
    held = solve_ivp(rhs, (0, dt), [0.0, 0.0], args=(1.0,), rtol=1e-12, atol=1e-14)
    free = solve_ivp(rhs, (dt, 30.0), held.y[:, -1], args=(0.0,),
                     t_eval=np.arange(1, 300) * dt, rtol=1e-12, atol=1e-14)
    # neuromorph delivers the spike of step 0 at its end: its step k + 1 is the tools' step k
    i_nm, v_nm = cur.values[2:301, 0], v.values[2:301, 0]
    np.testing.assert_allclose(i_nm, r * free.y[0], rtol=1e-9, atol=0)
    err = np.abs(v_nm - free.y[1]).max() / free.y[1].max()
    print(f"CubaLIF, held input: max |dv| / max v = {err:.1e} (dt/tau_s = {dt / tau_s})")
    assert err < dt / tau_s
    assert np.all(v.values[:, 1] == 0)


def test_foreign_graph_runs_in_neuromorph_and_in_lava():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 2, 150)
    times = np.sort(rng.choice(np.arange(0, 2000), 150, replace=False)) * 0.1
    inputs = {"x": (idx, times)}
    graph = _foreign_graph(w=80.0)
    ref = nn.from_nir(graph, inputs=inputs)
    ref.run(200.0)
    ref_spikes = ref.monitors[0]
    assert ref_spikes.num_spikes > 10
    loihi = to_loihi(nn.from_nir(graph, inputs=inputs)).net
    mon = loihi.spike_monitor({p.name: p for p in loihi.populations}["cell"])
    res = run_lava(loihi, 200.0)
    np.testing.assert_array_equal(res.monitors[0].steps, ref_spikes.steps)
    np.testing.assert_array_equal(res.monitors[0].i, ref_spikes.i)
    loihi.run(200.0)
    np.testing.assert_array_equal(mon.steps, ref_spikes.steps)


def test_unmappable_parts_raise():
    net = nm.Network(dt=0.5)
    P = net.lif(3, t_ref=1.0, name="P")
    with pytest.raises(nn.UnsupportedFeature, match="'P' has t_ref"):
        nn.to_nir(net)
    net = nm.Network(dt=0.5)
    P = net.lif(3, tau_syn_exc=2.0, tau_syn_inh=8.0, name="P")
    net.connect(P, P, matrix=np.array([[1.0, -1.0, 0], [0, 0, 0], [0, 0, 0]]))
    net.lif(2, name="P.I_exc")  # two currents (tests/test_nir_two_currents.py): LI nodes
    with pytest.raises(nn.UnsupportedFeature, match="written as node 'P.I_exc'"):
        nn.to_nir(net)
    with pytest.raises(ValueError, match="refractory must be 'error' or 'metadata'"):
        nn.to_nir(net, refractory="drop")
    g = nir.NIRGraph(nodes={"x": nir.Input(np.array([2])), "c": nir.Conv1d(
        input_shape=None, weight=np.ones((1, 1, 1)), stride=1, padding=0, dilation=1,
        groups=1, bias=np.zeros(1)), "y": nir.Output(np.array([2]))},
        edges=[("x", "c"), ("c", "y")], metadata={"dt": 1e-3}, type_check=False)
    with pytest.raises(nn.UnsupportedFeature, match="'c': Conv1d"):
        nn.from_nir(g)


def _delay_net():
    """Per-synapse delays (by target and arbitrary) and refractory periods."""
    rng = np.random.default_rng(7)
    net = nm.Network(dt=0.5, seed=1)
    times = np.arange(0.0, 150.0, 1.5)
    src = net.spike_source(8, indices=np.arange(times.size) % 8, times=times, name="src")
    a = net.lif(20, tau_m=12.0, v_rest=-65.0, v_reset=-68.0, v_th=-58.0, tau_syn_exc=3.0,
                tau_syn_inh=3.0, t_ref=2.0, name="a")
    b = net.lif(10, tau_m=10.0, v_rest=-60.0, v_reset=-60.0, v_th=-52.0, tau_syn_exc=5.0,
                tau_syn_inh=5.0, t_ref=1.5, name="b")
    by_target = np.broadcast_to(rng.integers(0, 5, 20) * 0.5, (8, 20))  # depends on target
    net.connect(src, a, matrix=rng.uniform(0, 60, (8, 20)) * (rng.random((8, 20)) < 0.6),
                delay=by_target, name="in")
    net.connect(a, b, p=0.5, w=nm.uniform(2.0, 14.0), delay=rng.integers(0, 7, (20, 10)) * 0.5,
                name="ab")
    net.connect(a, a, p=0.2, w=nm.uniform(-8.0, 4.0), delay=0.5, name="rec")
    return net, (src.model.indices, src.model.steps * 0.5)


def test_delays_and_refractory_periods_round_trip(tmp_path):
    net, src_spikes = _delay_net()
    with pytest.raises(nn.UnsupportedFeature,
                       match="'a' has t_ref = 2.0 ms.*refractory='metadata'"):
        nn.to_nir(net)
    graph = nn.to_nir(net, refractory="metadata")
    ab = {p.name: p for p in net.projections}["ab"]
    n_delays = np.unique(ab.delay_steps).size
    assert n_delays > 3
    # 'in': delays by target -> one Linear + one per-neuron Delay; 'ab': one branch per value
    assert isinstance(graph.nodes["in.delay"], nir.Delay)
    assert np.unique(graph.nodes["in.delay"].delay).size > 1
    branches = [k for k in graph.nodes if k.startswith("ab@") and not k.endswith(".delay")]
    assert len(branches) == n_delays
    assert all(graph.nodes[k].metadata["neuromorph.projection"] == "ab" for k in branches)
    np.testing.assert_allclose(graph.nodes["a"].metadata["t_ref"], 2e-3)
    nir.write(tmp_path / "delays.nir", graph)
    back = nn.from_nir(nir.read(tmp_path / "delays.nir"), inputs={"src": src_spikes}, seed=1)
    named = {p.name: p for p in back.projections}
    assert sorted(named) == ["ab", "in", "rec"]
    for p in net.projections:
        q = named[p.name]
        assert_same_synapses(p, q)
    pops = {p.name: p for p in back.populations}
    assert pops["a"].model.t_ref == pytest.approx(2.0)
    assert pops["b"].model.t_ref == pytest.approx(1.5)
    mons = [net.spike_monitor(net.populations[k]) for k in (1, 2)]
    net.run(150.0)
    back.run(150.0)
    back_mons = sorted([m for m in back.monitors if hasattr(m, "steps")],
                       key=lambda m: m.target.name)
    assert all(m.num_spikes > 20 for m in mons)
    for m, m_back in zip(mons, back_mons):
        np.testing.assert_array_equal(m.steps, m_back.steps)
        np.testing.assert_array_equal(m.i, m_back.i)


def test_foreign_per_neuron_delays_import():
    g = _foreign_graph()
    g.nodes["wait"] = nir.Delay(np.array([0.0, 1e-3, 2.5e-3]))
    net = nn.from_nir(g)
    (fc,) = net.projections
    np.testing.assert_array_equal(fc.delay_steps, np.array([0, 10, 25])[fc.targets])


# -- graphs and traces of the NIR paper (tests/data/nir, see its README) -------------------
DATA = Path(__file__).parent / "data" / "nir"


def _paper_trace(tool):
    """``(input, v, spikes)`` per step (dt = 0.1 ms) of the NIR paper's LIF experiment."""
    a = np.loadtxt(DATA / f"lif_{tool}.csv", delimiter=",")
    return a[:, 0], a[:, 1], np.flatnonzero(a[:, 2])


def _run_paper_graph(graph, spike_representation="step"):
    x, _, _ = _paper_trace("exact")
    steps = np.flatnonzero(x)
    net = nn.from_nir(graph, dt=0.1, inputs={"input": (np.zeros(steps.size, int), steps * 0.1)},
                      spike_representation=spike_representation)
    lif, = [p for p in net.populations if p.name != "input"]
    v = net.state_monitor(lif, "v")
    net.run(100.2)
    # neuromorph delivers an input spike of step k at its end: its step k + 1 is the
    # tools' step k (v.values[u] is v at the start of step u, the end of step u - 1)
    return net.monitors[0], v.values[2:1002, 0]


def test_nir_paper_lif_graph_from_norse_behaves_as_in_the_paper():
    # Norse's graph: Input -> Affine (w = 1) -> LIF (tau 2.5 ms, v_threshold 0.1), driven by
    # the paper's input; a spike is a 1 held for one step (the tools' reading)
    spikes, v = _run_paper_graph(DATA / "lif_norse.nir")
    x, v_exact, exact = _paper_trace("exact")
    assert exact.tolist() == [460, 510, 710, 760]
    for tool in ("norse", "snntorch"):
        assert _paper_trace(tool)[2].tolist() == exact.tolist()
    # the same spikes one step later, as in Lava (which delivers spikes as neuromorph does)
    np.testing.assert_array_equal(spikes.steps, exact + 1)
    np.testing.assert_array_equal(spikes.steps, _paper_trace("lava_cpu_float")[2])
    # below threshold, the paper's exact simulation to rounding ...
    first = exact[0]
    np.testing.assert_allclose(v[:first], v_exact[:first], rtol=0, atol=1e-12)
    assert v_exact[:first].max() > 0.09
    # ... after a spike it resets by subtraction (v - v_th), neuromorph (like Norse) to
    # v_reset = 0: they differ by the residual v - v_th at the crossing, which then decays
    resid = v - v_exact
    decay = np.exp(-0.1 / 2.5) ** np.arange(40)  # (the graph stores tau in float32)
    for s in exact:
        assert 0 < -resid[s] < 0.01
        np.testing.assert_allclose(resid[s:s + 40], resid[s] * decay, rtol=0, atol=1e-9)
    # Norse's Euler steps (dt / tau = 0.04) stay within 1.5 % of the threshold of the
    # exact simulation (0.00094 below threshold), and of neuromorph (0.0012)
    _, v_norse, _ = _paper_trace("norse")
    assert np.abs(v_norse - v_exact)[:first].max() < 1e-3
    assert np.abs(v_norse - v).max() < 0.015 * 0.1


def test_nir_paper_lif_graph_with_dirac_spikes_fires_on_every_input():
    # the other reading (unit-area pulses) makes the synapse 1 / dt = 10,000 times stronger:
    # every input spike fires the neuron, as from_nir did before it read spikes as steps
    spikes, _ = _run_paper_graph(DATA / "lif_norse.nir", "dirac")
    x = _paper_trace("exact")[0]
    np.testing.assert_array_equal(spikes.steps, np.flatnonzero(x) + 1)
    assert spikes.num_spikes == 34


def test_rockpool_graph_reads_leniently_and_runs():
    path = DATA / "lif_rockpool.nir"
    with pytest.raises(ValueError, match=r"type mismatch.*read\(path, strict=False\)"):
        nn.read(path)
    with pytest.raises(ValueError, match="strict=False"):
        nn.from_nir(path)            # a path is read strictly
    with pytest.warns(UserWarning, match="without NIR's type check"):
        graph = nn.read(path, strict=False)
    spikes, v = _run_paper_graph(graph)
    _, v_rock, rock = _paper_trace("rockpool")
    # Rockpool writes r = 24.02 (tau / dt * exp(-dt / tau)) and W = 0.04 for its own
    # discretisation; read as held steps, the trace is Rockpool's scaled by one constant
    # (0.942) below threshold, and the neuron fires as often
    first = rock[0]
    ratio = v[60:first - 1] / v_rock[60:first - 1]
    assert np.ptp(ratio) < 1e-5 and abs(ratio.mean() - 1) < 0.06
    assert spikes.num_spikes == rock.size == 4


def test_to_nir_writes_step_spikes_for_the_tools_and_reads_back(tmp_path):
    # a graph for the tools: weights such that a spike held for one step raises the
    # current by neuromorph's weight; read back (either representation, as written) gives
    # the same network
    net, src_spikes = _net()
    for rep in ("step", "dirac"):
        graph = nn.to_nir(net, spike_representation=rep)
        assert graph.metadata["spike_representation"] == rep
        tau_s = graph.nodes["b"].tau_syn[0] * 1e3
        w = graph.nodes["proj1"].weight
        pr = net.projections[1]
        j = pr.targets[0] + pr.post.start, pr.sources[0] + pr.pre.start
        held = w[j] * graph.nodes["b"].w_in[0] * np.expm1(0.5 / tau_s)   # dt = 0.5 ms
        dirac = w[j] * graph.nodes["b"].w_in[0] / (tau_s * 1e-3)
        assert (held if rep == "step" else dirac) == pytest.approx(pr.w[0], rel=1e-12)
        nir.write(tmp_path / f"{rep}.nir", graph)
        back = nn.from_nir(tmp_path / f"{rep}.nir", inputs={"src": src_spikes})
        for p in net.projections:
            q = {x.name: x for x in back.projections}[p.name]
            full = np.zeros((p.pre.population.size, p.post.population.size))
            full[p.sources + p.pre.start, p.targets + p.post.start] = p.w
            np.testing.assert_allclose(q.weights, full, rtol=1e-12)
    with pytest.raises(ValueError, match="spike_representation must be one of"):
        nn.to_nir(net, spike_representation="pulse")
    with pytest.raises(ValueError, match="spike_representation must be one of"):
        nn.from_nir(graph, spike_representation="pulse")


def test_constant_currents_are_v_leak_and_read_back(tmp_path):
    """A step current on for the whole run is the neuron's v_leak = v_rest + I in NIR
    (per neuron); read back, the network fires the original's spikes bit for bit; a
    foreign graph's per-neuron v_leak settles v at it (closed form, no input); a current
    switched on during the run is refused."""
    def build():
        net = nm.Network(dt=0.5, seed=3)
        times = np.arange(0.0, 60.0, 2.5)
        src = net.spike_source(4, indices=np.arange(times.size) % 4, times=times, name="src")
        a = net.lif(6, tau_m=10.0, v_rest=-65.0, v_reset=-65.0, v_th=-55.0, tau_syn_exc=3.0,
                    tau_syn_inh=3.0, name="a")
        net.connect(src, a, p=0.7, w=nm.uniform(1.0, 6.0), name="in")
        net.current(a, np.linspace(4.0, 12.0, 6))
        net.current(a[2:4], 0.5)
        return net, src, a

    net, src, a = build()
    graph = nn.to_nir(net)
    assert np.allclose(graph.nodes["a"].v_leak, -65.0 + np.linspace(4.0, 12.0, 6)
                       + np.r_[0, 0, 0.5, 0.5, 0, 0])
    nir.write(tmp_path / "c.nir", graph)
    back = nn.from_nir(nn.read(tmp_path / "c.nir"), dt=0.5,
                       inputs={"src": (src.model.indices, src.model.steps * 0.5)})
    mons = [n.spike_monitor(next(p for p in n.populations if p.name == "a"))
            for n in (net, back)]
    net.run(60.0)
    back.run(60.0)
    assert len(mons[0].i) > 5
    assert np.array_equal(mons[0].i, mons[1].i) and np.array_equal(mons[0].t, mons[1].t)
    foreign = nir.NIRGraph(nodes={"cell": nir.LIF(tau=np.full(2, 0.02), r=np.ones(2),
                                                  v_leak=np.array([0.0, 0.4]),
                                                  v_threshold=np.ones(2))},
                           edges=[], metadata={"dt": 1e-4}, type_check=False)
    fnet = nn.from_nir(foreign)
    v = fnet.state_monitor(fnet.populations[0], "v")
    fnet.run(30.0)
    np.testing.assert_allclose(v.values[-1], [0.0, 0.4 * (1 - np.exp(-(30.0 - 0.1) / 20.0))],
                               rtol=0, atol=1e-9)
    net, src, a = build()
    net.current(a, 1.0, start=5.0)
    with pytest.raises(nn.UnsupportedFeature, match="switched on or off"):
        nn.to_nir(net)
