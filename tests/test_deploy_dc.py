"""Diehl & Cook deployment and CSDP to NIR.

* Frozen per-neuron thresholds in the core (``LIF(theta_frozen=True)``): the threshold is
  ``v_th + theta`` with ``theta`` held constant, checked against a direct NumPy
  simulation of the LIF equations; the STDPClassifier's readout uses its learned
  ``theta_``.
* Diehl & Cook in Lava: the fixed-point network with the samples' input spike trains
  precomputed into one spike source fires in Lava exactly the spikes of the core's
  ``"loihi"`` backend.
* CSDP to NIR and back gives the deployed network's predictions.
"""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.models.spiking import CSDP, STDPClassifier
from helpers import written_nir


def _numpy_lif(I, theta, *, dt, tau_m, v_rest, v_reset, v_th, n_steps):
    """Spike steps of LIF neurons (no refractoriness) under constant currents ``I`` (mV),
    thresholds ``v_th + theta``, integrated exactly: ``v <- v_inf + (v - v_inf) E_m``."""
    e_m = np.exp(-dt / tau_m)
    v = np.full(len(I), v_rest, float)
    out = []
    for t in range(n_steps):
        v = (v_rest + I) + (v - (v_rest + I)) * e_m
        s = v > v_th + theta
        v = np.where(s, v_reset, v)
        out += [(t, j) for j in np.flatnonzero(s)]
    return out


def test_frozen_theta_is_the_threshold():
    """theta_frozen: the per-neuron thresholds v_th + theta decide the spikes, exactly
    as a NumPy simulation with those thresholds; theta never changes; the same neurons
    without the flag ignore theta (the pre-fix readout)."""
    dt, n, T = 0.5, 6, 400
    I = np.array([20.0, 20.0, 20.0, 30.0, 30.0, 14.0])         # mV, constant
    theta = np.array([0.0, 2.0, 6.0, 1.5, 12.0, 1.5])           # mV
    kw = dict(tau_m=10.0, v_rest=-65.0, v_reset=-65.0, v_th=-52.0)
    counts = {}
    for frozen in (True, False):
        net = nm.Network(dt=dt, seed=0)
        P = net.lif(n, t_ref=0.0, theta_frozen=frozen, **kw)
        P.theta[:] = theta
        net.current(P, I)
        mon = net.spike_monitor(P)
        net.run(T * dt)
        got = sorted(zip(mon.steps.tolist(), mon.i.tolist()))
        want = _numpy_lif(I, theta if frozen else 0.0, dt=dt, n_steps=T, **kw)
        assert got == sorted(want)
        assert np.array_equal(P.theta, theta)
        counts[frozen] = np.bincount(mon.i, minlength=n)
    # a higher threshold fires less (the 14 mV neuron, threshold 13 + 1.5 mV above rest, never)
    assert counts[True][5] == 0 and counts[False][5] > 0
    assert np.all(counts[True] <= counts[False]) and counts[True][4] < counts[False][4]


def test_frozen_theta_bad_input():
    with pytest.raises(ValueError, match="theta_plus must be 0"):
        nm.LIF(theta_plus=0.1, theta_frozen=True)
    with pytest.raises(TypeError, match="theta_frozen must be a bool"):
        nm.LIF(theta_frozen=1)


def test_stdp_readout_uses_learned_thresholds(digits):
    """The readout network holds the learned theta_ (frozen) in its thresholds: the
    responses depend on them (without them they differ; thresholds raised out of reach
    silence the layer), and the readout leaves them unchanged."""
    X_tr, X_te, y_tr, _ = digits
    clf = STDPClassifier(n_neurons=20, max_iter=1, t_readout=100.0, random_state=0).fit(
        X_tr[:60], y_tr[:60])
    assert clf.theta_.max() > 0
    net, _, exc, _, _ = clf.build_network(64, 0, weights=clf.weights_, theta=clf.theta_,
                                          learn=False)
    assert exc.population.model.theta_frozen and np.array_equal(exc.theta, clf.theta_)
    saved = clf.theta_.copy()
    R = clf.responses(X_te[:10])
    assert np.array_equal(clf.theta_, saved) and R.sum() > 0
    clf.theta_ = np.zeros_like(saved)
    R0 = clf.responses(X_te[:10])
    clf.theta_ = saved + 1e4  # far above any reachable voltage
    R_high = clf.responses(X_te[:10])
    clf.theta_ = saved
    assert not np.array_equal(R, R0)
    assert R_high.sum() == 0


@pytest.fixture(scope="module")
def small_dc(digits):
    """A small trained Diehl & Cook network with a short readout (for Lava)."""
    X_tr, _, y_tr, _ = digits
    return STDPClassifier(n_neurons=12, max_iter=1, t_readout=20.0, t_rest=10.0,
                          random_state=0).fit(X_tr[:60], y_tr[:60])


def test_stdp_loihi_folds_frozen_thresholds(small_dc):
    """Fixed point: neuron j's learned threshold is folded into its incoming weights
    (k_j = (v_th - v_rest) / (v_th - v_rest + theta_j)), exactly in the float copy."""
    from neuromorph.deploy.quantize import nearest_loihi

    clf = small_dc
    net = clf.build_network(64, 0, weights=clf.weights_, theta=clf.theta_, learn=False)[0]
    conv, notes = nearest_loihi(net)
    assert any("per-neuron thresholds folded" in n for n in notes)
    exc = [p for p in conv.populations if p.name == "exc"][0]
    # every exc neuron shares one Loihi threshold; the weights carry the thresholds
    w = {p.name: p.weights for p in conv.projections}["input_exc"]
    k = 13.0 / (13.0 + clf.theta_)   # v_th - v_rest = 13 mV

    def residual(a):  # integer weights = round(c a) for one scale c?
        c = np.sum(w * a) / np.sum(a * a)
        return np.abs(w - c * a).max()
    assert np.all(w == np.rint(w)) and np.abs(w).max() <= 255
    assert residual(clf.weights_ * k[None, :]) <= 0.55  # rounding (c: least squares)
    assert residual(clf.weights_) > 1.0   # the thresholds are in the weights
    assert exc.model.fixed_point


def test_stdp_lava_spikes_equal_loihi(digits, small_dc):
    """Diehl & Cook in Lava: the presentations' input trains precomputed into one spike
    source, samples back to back with rests: Lava fires exactly the core's spikes (every
    excitatory and inhibitory spike), so it answers as the "loihi" backend."""
    X = digits[1][:3]
    lava = nm.deploy(small_dc, backend="lava")
    scores, rec = lava.run(X)
    core = rec["lava"]
    assert np.array_equal(rec["exc_counts"], rec["core_exc_counts"])
    assert rec["exc_counts"].sum() > 0
    loihi = nm.deploy(small_dc, backend="loihi")
    s_core, _ = loihi.run(X)
    assert np.array_equal(scores, s_core)
    # every spike, not only the counts of the accepted presentations
    _, _, net = lava.spec.run(X)
    mons = {m.target.name: m for m in net.monitors if hasattr(m, "steps")}
    for name in ("exc", "inh"):
        steps, idx = core[name]
        got = sorted(zip(steps.tolist(), idx.tolist()))
        want = sorted(zip(mons[name].steps.tolist(), mons[name].i.tolist()))
        assert got == want and len(got) > 0


def test_stdp_presentation_option(digits, small_dc):
    """A shorter presentation runs fewer steps per sample; bad values are refused."""
    X = digits[1][:4]
    dep = nm.deploy(small_dc, presentation=10.0, rest=5.0, max_retries=0)
    _, rec, net = dep.spec.run(X)
    assert net.step == 4 * 30  # (10 + 5) ms per sample, dt 0.5 ms, no re-presentation
    with pytest.raises(ValueError, match="presentation"):
        nm.deploy(small_dc, presentation=-1.0)
    with pytest.raises(ValueError, match="presentation"):
        nm.deploy(small_dc, presentation=10.25)
    csdp = CSDP(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(
        digits[0][:40], digits[2][:40])
    with pytest.raises(ValueError, match="presentation is an option"):
        nm.deploy(csdp, presentation=10.0)


def test_stdp_nir_round_trip(digits, small_dc, tmp_path):
    """Diehl & Cook's readout network in NIR: each excitatory neuron's learned threshold
    v_th + theta_ is its v_threshold; read back (nir.read, from_nir) and driven by the
    input the core presented (its presentations replayed, as in Lava), it answers as the
    deployed network and fires the same excitatory spikes."""
    dep = nm.deploy(small_dc)
    path = tmp_path / "dc.nir"
    graph = written_nir(dep, path)
    exc = next(p for p in dep.network.populations if p.name == "exc")
    assert np.allclose(np.broadcast_to(graph.nodes["exc"].v_threshold, (exc.size,)),
                       exc.model.v_th + small_dc.theta_)
    X = digits[1][:4]
    assert np.array_equal(dep.predict_nir(X, path), dep.predict(X))
    from neuromorph.backends.nir import from_nir
    def rebuild(net):
        src = next(p for p in net.populations if p.name == "input")
        return from_nir(graph, dt=net.dt,
                        inputs={"input": (src.model.indices, src.model.steps * net.dt)})

    _, rec, _ = dep.spec.run(X, rebuild=rebuild)
    assert np.array_equal(rec["exc_counts"], rec["core_exc_counts"])
    assert rec["exc_counts"].sum() > 0


def test_csdp_nir_round_trip_exact(digits, tmp_path):
    """CSDP's network (per-neuron thresholds, adaptive threshold) written to NIR and read
    back gives the deployed network's predictions (the adaptation through the nodes'
    metadata); the graph's thresholds are the learner's per-neuron v_th0."""
    X_tr, X_te, y_tr, _ = digits
    clf = CSDP(hidden_layer_sizes=(24,), max_iter=1, random_state=0).fit(X_tr[:200],
                                                                       y_tr[:200])
    dep = nm.deploy(clf)
    path = tmp_path / "csdp.nir"
    graph = written_nir(dep, path)
    assert np.allclose(graph.nodes["z1"].v_threshold, clf.layers_[0].v_th0)
    assert float(np.unique(graph.nodes["z1"].metadata["theta_plus"])[0]) == clf.theta_plus
    X = X_te[:60]
    assert np.array_equal(dep.predict_nir(X, path), dep.predict(X))


def test_frozen_theta_same_spikes_in_brian2():
    """Frozen per-neuron thresholds translate to Brian2 (threshold v > v_th + theta with
    a constant theta): the same spikes, neuron for neuron."""
    from neuromorph.backends.brian2 import run_brian2

    dt = 0.1
    net = nm.Network(dt=dt, seed=1)
    rng = np.random.default_rng(1)
    n_src, n_steps = 20, 2000
    key = np.unique(rng.integers(0, n_steps, 1500) * n_src + rng.integers(0, n_src, 1500))
    src = net.spike_source(n_src, indices=key % n_src, times=(key // n_src) * dt)
    P = net.lif(10, tau_m=10.0, v_rest=-65.0, v_reset=-68.0, v_th=-55.0, t_ref=1.0,
                tau_syn_exc=3.0, tau_syn_inh=3.0, theta_frozen=True)
    P.theta[:] = np.linspace(0.0, 30.0, 10)
    net.connect(src, P, matrix=rng.uniform(0.0, 4.0, (n_src, 10)))
    mon = net.spike_monitor(P)
    res = run_brian2(net, n_steps * dt, target="numpy")
    net.run(n_steps * dt)
    t, i = res.spikes[0]
    want = set(zip(np.round(np.asarray(t) / dt).astype(int).tolist(), np.asarray(i).tolist()))
    assert set(zip(mon.steps.tolist(), mon.i.tolist())) == want
    counts = np.bincount(mon.i, minlength=10)
    assert len(want) > 50 and counts[0] > counts[-1]  # the higher thresholds fire less
