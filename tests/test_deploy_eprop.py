"""nm.deploy for the recurrent LIF learners (EProp, SurrogateBPTT): a recurrent layer on the
core, each row of a digit a held input current for ``steps_per_row`` steps, the leaky
readout on the host.

Float fidelity is checked against each learner's own ``predict`` on the row-wise digits
test split (>= 99 % of answers; the hidden spikes are compared bit for bit with the
learner's own recorded pass), the time-varying held currents against the exact
solution of the membrane equation, the energy estimate against an independent count of
synaptic events and Davies et al.'s (2018) Loihi constants; Loihi fixed point (each
row a per-neuron bias) against float, Lava against the core's fixed point (bit for
bit), the NIR graph read back against the float deployment.
"""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.deploy.layered import Layer, LayeredSpec
from neuromorph.models.spiking import EProp, SurrogateBPTT
from helpers import written_nir


@pytest.fixture(scope="module")
def fitted(digits):
    X_tr, _, y_tr, _ = digits
    return {cls.__name__: cls(n_hidden=32, max_iter=2, random_state=0).fit(X_tr[:400],
                                                                            y_tr[:400])
            for cls in (EProp, SurrogateBPTT)}


@pytest.mark.parametrize("name", [
    "EProp",
    pytest.param("SurrogateBPTT", marks=pytest.mark.slow),  # the same deploy_spec (~10 s)
])
def test_float_matches_predict_on_the_test_split(digits, fitted, name):
    _, X_te, _, y_te = digits
    clf = fitted[name]
    dep = nm.deploy(clf, backend="neuromorph")
    assert dep.spec.exact
    pred = dep.predict(X_te)
    assert np.mean(pred == clf.predict(X_te)) >= 0.99
    assert dep.score(X_te, y_te) == pytest.approx(clf.score(X_te, y_te), abs=0.01)


@pytest.mark.parametrize("name", ["EProp", "SurrogateBPTT"])
def test_hidden_spikes_and_scores_equal_the_learners_pass(digits, fitted, name):
    """The deployed recurrent layer fires exactly when the learner's does (its own
    recorded forward pass), and the host readout gives its scores."""
    _, X_te, _, _ = digits
    clf = fitted[name]
    X = X_te[:40]
    scores, rec = nm.deploy(clf).run(X)
    ref = clf.simulate(X, record=True)
    assert np.array_equal(rec["hidden"], ref["spikes"].transpose(1, 0, 2))
    assert rec["hidden"].any()
    np.testing.assert_allclose(scores, ref["scores"], rtol=1e-12, atol=1e-12)


def test_network_is_the_learned_weights(digits, fitted):
    _, X_te, _, _ = digits
    clf = fitted["EProp"]
    dep = nm.deploy(clf)
    net = dep.network
    assert [p.name for p in net.populations] == ["input", "hidden"]
    (rec,) = net.projections
    assert rec.name == "hidden->hidden" and np.all(rec.delay_steps == 0)
    W = clf.resistance * clf.weights_["W_rec"]
    assert not np.any(rec.sources == rec.targets)           # zero diagonal: no autapses
    off = ~np.eye(clf.n_hidden, dtype=bool)
    ratio = rec.weights[off] / W[off]                       # (1 - E_m) / c_syn, one gain
    assert np.allclose(ratio, ratio[0]) and ratio[0] > 0
    # one held current per row and sample: R x_r W_in, on for steps_per_row steps
    X = X_te[:3]
    built, pops, _ = dep.spec.build(None, dep.spec.input_currents(X))
    assert len(built.currents) == 3 * clf.n_steps
    c = built.currents[5]                                   # sample 0, row 5
    np.testing.assert_allclose(c.amplitude,
                               clf.resistance * X[0, 40:48] @ clf.weights_["W_in"])
    assert (c.on, c.off) == (5 * clf.steps_per_row, 6 * clf.steps_per_row)


def test_held_currents_change_within_the_window():
    """Segments of held current: below threshold, v follows the exact solution
    ``v <- v_inf + (v - v_inf) E_m`` with ``v_inf`` the segment's current (0 outside the
    windows), computed here step by step."""
    T, tau_m, dt = 6, 5.0, 0.5
    spec = LayeredSpec(dt=dt, n_steps=T, n_inputs=1,
                       layers=[Layer("a", 2, tau_m=tau_m, v_th=10.0)], edges=[],
                       readout=lambda X, rec: np.zeros((len(X), 1)))
    amps = np.array([[[0.5, 1.0], [2.0, -1.0], [0.0, 3.0]],
                     [[1.5, 0.2], [0.1, 0.1], [4.0, 0.0]]])  # (samples, segments, neurons)
    net, pops, _ = spec.build(None, {"a": amps})
    mon = net.state_monitor(pops["a"], "v")
    n_core = 2 * spec.period
    net.run(n_core * dt)
    e_m, v, expected = np.exp(-dt / tau_m), np.zeros(2), []
    for u in range(n_core):
        k, t = divmod(u, spec.period)
        expected.append(v)                    # (the monitor records v at the step's start)
        v_inf = amps[k, t // 2] if t < T else np.zeros(2)
        v = v_inf + (v - v_inf) * e_m
    np.testing.assert_allclose(mon.values, np.array(expected), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"S dividing the window of 6 steps, got \(2, 4, 2\)"):
        spec.build(None, {"a": np.zeros((2, 4, 2))})


def test_estimate_counts_the_recurrent_events(digits, fitted):
    """SANA-FE's Loihi energy vs an independent count: every hidden spike (in the window
    or the gap step) reaches the neuron's non-zero recurrent weights; neuron updates are
    one per hidden neuron and core step. Within 2x of Davies et al.'s constants."""
    from neuromorph.deploy.energy import davies_estimate

    _, X_te, _, _ = digits
    clf = fitted["SurrogateBPTT"]
    dep = nm.deploy(clf)
    X = X_te[:2]
    est = dep.estimate(X, hardware="loihi")
    _, _, net = dep.spec.run(X)
    (mon,) = [m for m in net.monitors if m.target.name == "hidden"]
    fan = np.count_nonzero(clf.weights_["W_rec"], axis=1)
    ops = fan[np.asarray(mon.i)].sum() / len(X)
    assert est.synaptic_ops == pytest.approx(ops)
    assert est.neuron_updates == clf.n_hidden * dep.spec.period
    ref = davies_estimate(ops, clf.n_hidden * dep.spec.period)
    assert 0.5 * ref <= est.energy_j <= 2.0 * ref
    assert est.latency_s > 0


def test_nir_round_trip(digits, fitted, tmp_path):
    """The recurrent layer in NIR: an Input of the row values (held, one row per
    ``steps_per_row`` steps) -> Affine (R W_in) -> the hidden CubaLIF, whose own spikes
    come back through a Linear (R W_rec); read back (nir.read, from_nir) it answers as
    the float deployment."""
    import nir

    _, X_te, _, _ = digits
    clf = fitted["EProp"]
    dep = nm.deploy(clf)
    path = tmp_path / "eprop.nir"
    graph = written_nir(dep, path)
    held = graph.nodes["input.values"]
    assert isinstance(held, nir.Input) and held.metadata["neuromorph.held"]
    assert list(held.input_type["input"]) == [clf.width_]
    aff = graph.nodes["hidden.held"]
    assert isinstance(aff, nir.Affine) and aff.weight.shape == (clf.n_hidden, clf.width_)
    rec = [b for a, b in graph.edges if a == "hidden" and (b, "hidden") in graph.edges]
    assert len(rec) == 1 and isinstance(graph.nodes[rec[0]], nir.Linear)   # the loop
    X = X_te[:40]
    assert np.mean(dep.predict_nir(X, path) == dep.predict(X)) >= 0.99


def test_fixed_point_and_lava(digits, fitted):
    """Loihi fixed point: each row's held current is a per-neuron bias (integers, one
    step current per row and sample), answers within a few points of float on the test
    split; Lava (bias schedule between RunSteps segments) fires the core's fixed-point
    spikes bit for bit."""
    _, X_te, _, y_te = digits
    clf = fitted["EProp"]
    fixed = nm.deploy(clf, backend="loihi")
    assert all(p.model.fixed_point for p in fixed.network.populations[1:])
    assert fixed.score(X_te, y_te) >= nm.deploy(clf).score(X_te, y_te) - 0.05
    X = X_te[:2]
    lava = nm.deploy(clf, backend="lava")
    _, rec_core, net = lava.spec.run(X)              # the core with the rest period
    rows = X.reshape(2, clf.n_steps, clf.width_)      # one bias per non-blank row
    assert len(net.currents) == np.count_nonzero(rows.any(axis=2))
    assert all(np.array_equal(c.amplitude, np.rint(c.amplitude)) for c in net.currents)
    s_lava, rec_lava = lava.run(X)
    assert np.array_equal(rec_lava["hidden"], rec_core["hidden"]) and rec_core["hidden"].any()
    s_fixed, rec_fixed = fixed.run(X)                # reset by a callback instead of the rest
    assert np.array_equal(rec_fixed["hidden"], rec_core["hidden"])
    assert np.array_equal(s_lava, s_fixed)
