"""NIR export of a population with two synaptic time constants that receives both signs:
a ``LIF`` node fed by two ``LI`` nodes (its excitatory and inhibitory currents). Round
trip through a file (exact), the graph's NIR equations integrated independently (NumPy),
and the trained R-STDP classifier's deployment read back (same predictions)."""
import nir
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.backends import nir as nn
from neuromorph.models.spiking import RSTDPClassifier

from helpers import assert_same_synapses, written_nir

DT = 0.1


def _two_current_net(v_th=-55.0, seed=5, current=True, inh_pre="a"):
    """``b`` gets excitation (2.5 ms) and inhibition (9 ms): a mixed-sign projection with
    per-synapse delays, an inhibitory one with a delay per target (from ``a``, one time
    constant, or from the spike source), refractory period and a constant current."""
    rng = np.random.default_rng(seed)
    net = nm.Network(dt=DT, seed=seed)
    key = np.unique(rng.integers(0, 1200 * 6, 300))  # (step, neuron), each at most once
    src = net.spike_source(6, indices=key % 6, times=(key // 6) * DT, name="src")
    a = net.lif(8, tau_m=10.0, v_rest=-65.0, v_reset=-65.0, v_th=-58.0, tau_syn_exc=3.0,
                tau_syn_inh=3.0, name="a")
    b = net.lif(5, tau_m=12.0, v_rest=-65.0, v_reset=-70.0, v_th=v_th, tau_syn_exc=2.5,
                tau_syn_inh=9.0, t_ref=1.5, name="b")
    net.connect(src, a, matrix=rng.uniform(0.0, 9.0, (6, 8)), name="in")
    mixed = rng.normal(3.0, 4.0, (6, 5)) * (rng.random((6, 5)) < 0.8)
    net.connect(src, b, matrix=mixed, delay=rng.integers(0, 4, (6, 5)) * DT, name="mixed")
    pre = a if inh_pre == "a" else src
    net.connect(pre, b, matrix=-rng.uniform(0.1, 0.6, (pre.size, 5)),
                delay=np.broadcast_to(np.arange(5) * 2 * DT, (pre.size, 5)), name="inh")
    if current:
        net.current(b, np.linspace(3.0, 7.0, 5))
    return net, {"src": (src.model.indices, src.model.steps * DT)}


def _run(net, t=120.0):
    b = next(p for p in net.populations if p.name == "b")
    mon, v = net.spike_monitor(b), net.state_monitor(b, "v")
    cur = [net.state_monitor(b, k) for k in ("I_exc", "I_inh")]
    net.run(t)
    return mon, v.values, [c.values for c in cur]


@pytest.mark.parametrize("rep", ["step", "dirac"])
def test_two_time_constants_round_trip_exactly(tmp_path, rep):
    net, inputs = _two_current_net()
    graph = nn.to_nir(net, refractory="metadata", spike_representation=rep)
    assert isinstance(graph.nodes["a"], nir.CubaLIF)  # one time constant: unchanged
    assert isinstance(graph.nodes["b"], nir.LIF)
    for sign, tau in (("exc", 2.5e-3), ("inh", 9e-3)):
        li = graph.nodes[f"b.I_{sign}"]
        assert isinstance(li, nir.LI) and np.allclose(li.tau, tau)
        assert li.metadata == {"neuromorph.current_of": "b", "neuromorph.sign": sign}
        assert (f"b.I_{sign}", "b") in graph.edges
    # the mixed projection: split by sign (and by delay), every branch into its current
    for name, node in graph.nodes.items():
        if isinstance(node, nir.Linear) and name.startswith("mixed@"):
            into = [b for a, b in graph.edges if a in (name, f"{name}.delay")
                    and b.startswith("b.I_")]
            assert into == [("b.I_exc" if node.weight.sum() > 0 else "b.I_inh")]
    assert [b for a, b in graph.edges if a == "inh.delay"] == ["b.I_inh"]
    nir.write(tmp_path / "two.nir", graph)
    back = nn.from_nir(nir.read(tmp_path / "two.nir"), inputs=inputs, seed=5)
    pb = {p.name: p for p in back.populations}["b"]
    assert (pb.model.tau_syn_exc, pb.model.tau_syn_inh) == pytest.approx((2.5, 9.0))
    assert pb.model.t_ref == pytest.approx(1.5)
    assert sorted(p.name for p in back.projections) == ["in", "inh", "mixed"]
    for p, q in zip(*[sorted(n.projections, key=lambda p: p.name) for n in (net, back)]):
        assert_same_synapses(p, q)
    m0, v0, c0 = _run(net)
    m1, v1, c1 = _run(back)
    assert m0.num_spikes > 20
    np.testing.assert_array_equal(m0.steps, m1.steps)
    np.testing.assert_array_equal(m0.i, m1.i)
    np.testing.assert_allclose(v1, v0, rtol=0, atol=1e-9)
    for x0, x1 in zip(c0, c1):
        np.testing.assert_allclose(x1, x0, rtol=0, atol=1e-9)


def _nir_reference(graph, spikes, n_steps):
    """Integrate the NIR equations of ``graph``'s ``Input -> Linear [-> Delay] -> LI -> LIF``
    chains exactly over each step (linear ODEs, piecewise-constant input): a spike is a 1
    held for its step (``'step'``). No threshold (the test keeps ``v`` below it).
    Returns the LI nodes' ``v`` and the LIF's ``v`` at the end of every step."""
    dt = graph.metadata["dt"]
    lif = graph.nodes["b"]
    lis = {k: graph.nodes[f"b.I_{k}"] for k in ("exc", "inh")}
    s = np.zeros((n_steps, graph.nodes["src"].input_type["input"][0]))
    np.add.at(s, (spikes[1], spikes[0]), 1.0)
    drive = {k: np.zeros((n_steps, lif.tau.size)) for k in lis}   # r W s into each LI
    for name, node in graph.nodes.items():
        if isinstance(node, nir.Linear) and ("src", name) in graph.edges:
            nxt = [b for a, b in graph.edges if a == name][0]
            shift = np.zeros(lif.tau.size, int)
            if isinstance(graph.nodes[nxt], nir.Delay):
                shift = np.rint(graph.nodes[nxt].delay / dt).astype(int)
                nxt = [b for a, b in graph.edges if a == nxt][0]
            if not nxt.startswith("b.I_"):
                continue
            k = nxt[len("b.I_"):]
            x = s @ node.weight.T * lis[k].r
            for j in range(lif.tau.size):
                drive[k][shift[j]:, j] += x[:n_steps - shift[j], j]
    tm = lif.tau
    cur = {k: np.zeros(tm.size) for k in lis}
    v = lif.v_leak.astype(float).copy()
    out_v, out_i = np.zeros((n_steps, tm.size)), {k: np.zeros((n_steps, tm.size)) for k in lis}
    em = np.exp(-dt / tm)
    for t in range(n_steps):
        v = lif.v_leak + (v - lif.v_leak) * em
        for k, li in lis.items():   # I(t) = u + (I0 - u) e^{-t/tau_s}, u = r W s held
            u, es = drive[k][t], np.exp(-dt / li.tau)
            v = v + lif.r * (u * (1 - em) + (cur[k] - u) * li.tau / (li.tau - tm) * (es - em))
            cur[k] = u + (cur[k] - u) * es
            out_i[k][t] = cur[k]
        out_v[t] = v
    return out_v, out_i


def test_subgraph_follows_nir_equations():
    # the written graph's LI and LIF equations integrated independently (NumPy, exact per
    # step, 'step' spikes). A spike held over the tools' step k leaves the current at
    # w e^{-dt/tau_syn} at its end; neuromorph's current jumps by w at the end of step k:
    # the same current times e^{dt/tau_syn}, exactly. Its effect on v starts one step
    # later (neuromorph's step k + 1 is the tools' step k): the voltage agrees to the
    # module's O(dt/tau_syn)
    # below threshold, v at v_leak until the first input, every input from the source
    net, inputs = _two_current_net(v_th=0.0, current=False, inh_pre="src")
    graph = nn.to_nir(net, refractory="metadata")  # the tools' 'step' spikes
    n = 1200
    ref_v, ref_i = _nir_reference(graph, (inputs["src"][0],
                                          np.rint(inputs["src"][1] / DT).astype(int)), n)
    mon, v, currents = _run(net, (n + 1) * DT)
    assert mon.num_spikes == 0
    dt, r = graph.metadata["dt"], graph.nodes["b"].r
    for sign, got in zip(("exc", "inh"), currents):
        decay = np.exp(-dt / graph.nodes[f"b.I_{sign}"].tau)
        assert np.ptp(ref_i[sign]) > 1
        np.testing.assert_allclose(got[1:n + 1] * decay, r * ref_i[sign], rtol=1e-9,
                                   atol=1e-12)
    excursion = np.abs(ref_v - graph.nodes["b"].v_leak).max()
    err = np.abs(v[2:n + 1] - ref_v[:n - 1]).max() / excursion
    print(f"two currents, held input: max |dv| / max |v - v_leak| = {err:.1e}")
    assert excursion > 2 and err < DT / 2.5


def test_foreign_current_nodes_are_checked():
    net, _ = _two_current_net()
    graph = nn.to_nir(net, refractory="metadata")
    wrong = next(k for k, n in graph.nodes.items() if isinstance(n, nir.Linear)
                 and k.startswith("mixed@") and n.weight.sum() > 0)
    graph.nodes[wrong].weight[graph.nodes[wrong].weight > 0] *= -1
    with pytest.raises(nn.UnsupportedFeature, match="wrong sign into the exc current node"):
        nn.from_nir(graph)
    graph = nn.to_nir(net, refractory="metadata")
    graph.nodes["b.I_inh"].v_leak = np.ones(5)
    with pytest.raises(nn.UnsupportedFeature, match="'b.I_inh': a synaptic current node "
                                                    "needs v_leak = 0"):
        nn.from_nir(graph)
    graph = nn.to_nir(net, refractory="metadata")
    graph.edges[graph.edges.index(("inh.delay", "b.I_inh"))] = ("inh.delay", "b")
    with pytest.raises(nn.UnsupportedFeature, match="'inh' feeds LIF node 'b', whose "
                                                    "synaptic currents are the nodes"):
        nn.from_nir(graph)
    graph = nn.to_nir(net, refractory="metadata")
    graph.nodes["b.I_inh"].metadata["neuromorph.current_of"] = "a"
    with pytest.raises(nn.UnsupportedFeature, match="must feed only the LIF node it names"):
        nn.from_nir(graph)


def test_rstdp_deployment_reads_back_from_nir(digits, tmp_path):
    """The R-STDP classifier's outputs (5 ms excitation, t_present inhibition) written as
    LIF + two LI nodes; read back, the network answers as the deployment does on the whole
    test split and its outputs fire the same spikes."""
    X_tr, X_te, y_tr, y_te = digits
    clf = RSTDPClassifier(max_iter=2, random_state=0).fit(X_tr, y_tr)
    dep = nm.deploy(clf)
    path = tmp_path / "rstdp.nir"
    graph = written_nir(dep, path)
    assert isinstance(graph.nodes["output"], nir.LIF)
    assert np.allclose(graph.nodes["output.I_exc"].tau, 5e-3)
    assert np.allclose(graph.nodes["output.I_inh"].tau, clf.t_present * 1e-3)
    assert graph.nodes["output"].metadata["t_ref"] == pytest.approx(2e-3)
    pred = dep.predict(X_te)
    assert np.mean(pred == y_te) > 0.5             # a trained network, not one class
    assert np.array_equal(dep.predict_nir(X_te, path), pred)

    def rebuild(net):
        src = {p.name: p.model for p in net.populations if p.name in ("input", "urgency")}
        return nn.from_nir(graph, dt=net.dt, inputs={k: (m.indices, m.steps * net.dt)
                                                     for k, m in src.items()})

    X = X_te[:30]
    _, rec, _ = dep.spec.run(X)
    _, back, _ = dep.spec.run(X, rebuild=rebuild)
    assert rec["output_steps"].size > 30
    for key in ("output_steps", "output_i"):
        assert np.array_equal(back[key], rec[key])
