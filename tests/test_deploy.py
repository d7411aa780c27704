"""nm.deploy: trained spiking learners as inference networks on the core.

Float fidelity is checked against each learner's own ``predict`` on the digits test
split (same input spike stream): the deployed network must give the same answer on
>= 99 % of the samples (the layered learners' spikes are bit-identical in practice,
checked on the recorded spikes too).
"""
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import neuromorph as nm
from neuromorph.errors import UnsupportedFeature
from neuromorph.models.spiking import CSDP, EqSpike, RSTDPClassifier, SpikingPC, STDPClassifier


def _agreement(clf, X):
    dep = nm.deploy(clf, backend="neuromorph")
    return float(np.mean(dep.predict(X) == clf.predict(X))), dep


@pytest.mark.parametrize("make", [
    lambda: CSDP(hidden_layer_sizes=(48,), max_iter=1, random_state=0),
    lambda: EqSpike(hidden_layer_sizes=(32,), max_iter=1, random_state=0),
    lambda: EqSpike(hidden_layer_sizes=(24, 16), input_encoding="bernoulli", max_iter=1,
                    random_state=1),
    lambda: SpikingPC(hidden_layer_sizes=(32,), n_steps=30, burn_in=10.0, max_iter=2,
                      random_state=0),
], ids=["CSDP", "EqSpike", "EqSpike-bernoulli-2layers", "SpikingPC"])
def test_layered_float_matches_predict(digits, make):
    X_tr, X_te, y_tr, y_te = digits
    clf = make().fit(X_tr[:300], y_tr[:300])
    agree, dep = _agreement(clf, X_te)
    assert dep.spec.exact
    assert agree >= 0.99
    assert dep.score(X_te, y_te) == pytest.approx(clf.score(X_te, y_te), abs=0.01)


def test_csdp_spikes_bit_identical(digits):
    """The deployed hidden and label layers fire exactly when the learner's do."""
    X_tr, X_te, y_tr, _ = digits
    clf = CSDP(hidden_layer_sizes=(32,), max_iter=1, random_state=2).fit(X_tr[:200], y_tr[:200])
    X = X_te[:40]
    _, rec = nm.deploy(clf).run(X)
    ref = clf.simulate(X, record=True)  # spikes [input, z1, label], (T, n, J)
    assert np.array_equal(rec["input"], ref["spikes"][0].transpose(1, 0, 2))
    assert np.array_equal(rec["z1"], ref["spikes"][1].transpose(1, 0, 2))
    assert np.array_equal(rec["label"], ref["spikes"][2].transpose(1, 0, 2))
    assert rec["z1"].any() and rec["label"].any()


def test_spiking_pc_hidden_spikes_bit_identical(digits):
    """The second-order state current, as delayed copies of the input projection into a
    first-order held current, gives the learner's hidden spikes exactly."""
    X_tr, X_te, y_tr, _ = digits
    clf = SpikingPC(hidden_layer_sizes=(24,), n_steps=25, burn_in=5.0, max_iter=1,
                    random_state=3).fit(X_tr[:100], y_tr[:100])
    X = X_te[:40]
    _, rec = nm.deploy(clf).run(X)
    ref = clf.simulate(X, record=True)
    assert np.array_equal(rec["hidden"], ref["spikes"][1].transpose(1, 0, 2))
    assert np.array_equal(rec["label"], ref["spikes"][2].transpose(1, 0, 2))
    assert rec["hidden"].any()


def test_csdp_two_layers_top_down_late(digits):
    """With a top-down V the network cannot be causal-exact: the spec says so, and the
    answers still agree on most samples."""
    X_tr, X_te, y_tr, _ = digits
    clf = CSDP(hidden_layer_sizes=(32, 32), max_iter=1, random_state=0).fit(X_tr[:200],
                                                                           y_tr[:200])
    agree, dep = _agreement(clf, X_te[:120])
    assert not dep.spec.exact and "z2 -> z1" in dep.spec.notes[0]
    assert agree >= 0.9


def test_rstdp_float_matches_predict(digits):
    X_tr, X_te, y_tr, _ = digits
    clf = RSTDPClassifier(max_iter=1, random_state=0).fit(X_tr[:150], y_tr[:150])
    agree, dep = _agreement(clf, X_te[:60])
    assert agree >= 0.99
    assert isinstance(dep.network, nm.Network)


def test_stdp_float_matches_predict(digits):
    X_tr, X_te, y_tr, _ = digits
    clf = STDPClassifier(n_neurons=20, max_iter=1, random_state=0).fit(X_tr[:60], y_tr[:60])
    agree, dep = _agreement(clf, X_te[:30])
    assert agree >= 0.99
    assert [p.name for p in dep.network.populations] == ["input", "exc", "inh"]


def test_network_is_the_learned_weights(digits):
    X_tr, _, y_tr, _ = digits
    clf = EqSpike(hidden_layer_sizes=(16,), max_iter=1, random_state=0).fit(X_tr[:100],
                                                                          y_tr[:100])
    net = nm.deploy(clf).network
    proj = {p.name: p for p in net.projections}
    W2 = clf.weights_["W2"]
    # h1 -> output carries R * norm * W2, rescaled by (1 - E_m) / c_syn per neuron
    ratio = proj["h1->output"].weights / W2
    assert np.allclose(ratio, ratio.flat[0])
    assert np.allclose(proj["output->h1"].weights, (ratio.flat[0] * W2).T)


def test_bad_input(digits):
    X_tr, _, y_tr, _ = digits
    with pytest.raises(NotFittedError):
        nm.deploy(CSDP())
    clf = EqSpike(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X_tr[:40], y_tr[:40])
    with pytest.raises(ValueError, match=r"backend must be one of \['neuromorph'"):
        nm.deploy(clf, backend="spinnaker")
    with pytest.raises(ValueError, match="fixed_point=True does not go with backend"):
        nm.deploy(clf, fixed_point=True)
    with pytest.raises(TypeError, match="spiking learner"):
        nm.deploy(object())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nm.deploy(clf).predict(X_tr[:3] * 2.0)
    # tau_j = 30 dt: the copy of the input delayed 65 steps keeps (29/30)^64 = 11 % of the
    # first one's weight, a real synapse Loihi 2 cannot delay
    pc1 = SpikingPC(hidden_layer_sizes=(8,), n_steps=70, burn_in=2.0, tau_j=30.0,
                    max_iter=1, random_state=0).fit(X_tr[:20], y_tr[:20])
    with pytest.raises(UnsupportedFeature, match="layer 'hidden'.*delay of 64 steps"):
        nm.deploy(pc1, backend="lava")
    pc = SpikingPC(hidden_layer_sizes=(8, 8), n_steps=10, burn_in=2.0, max_iter=1,
                   random_state=0).fit(X_tr[:40], y_tr[:40])
    with pytest.raises(UnsupportedFeature, match="hidden level 2"):
        nm.deploy(pc)


def test_estimate_loihi_within_2x_of_davies(digits):
    """SANA-FE's Loihi energy of the replayed activity vs an independent count with
    Davies et al. 2018's constants (23.6 + 3.5 pJ per synaptic op, 81 pJ per update)."""
    from neuromorph.deploy.energy import davies_estimate

    X_tr, X_te, y_tr, _ = digits
    clf = CSDP(hidden_layer_sizes=(32,), max_iter=1, random_state=0).fit(X_tr[:200], y_tr[:200])
    dep = nm.deploy(clf)
    X = X_te[:6]
    est = dep.estimate(X, hardware="loihi")
    # independent count from the recorded spikes and the learned matrices
    _, rec = dep.run(X)
    W, M, C = (clf.weights_[k] for k in ("W1", "M1", "C1"))
    ops = (sum(rec["input"][:, :, i].sum() * np.count_nonzero(W[i]) for i in range(W.shape[0]))
           + sum(rec["z1"][:, :, j].sum() * (np.count_nonzero(M[j]) + np.count_nonzero(C[j]))
                 for j in range(M.shape[0])))
    assert est.synaptic_ops == pytest.approx(ops / len(X))
    period = dep.spec.period
    assert est.neuron_updates == (32 + 10) * period
    ref = davies_estimate(ops / len(X), (32 + 10) * period)
    assert 0.5 * ref <= est.energy_j <= 2.0 * ref
    assert est.latency_s > 0 and est.cores >= 2
    assert "Loihi" in est.table() and "uJ" in est.table()


def test_estimate_bad_hardware(digits):
    X_tr, _, y_tr, _ = digits
    clf = EqSpike(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X_tr[:40], y_tr[:40])
    with pytest.raises(ValueError, match=r"hardware must be one of \['loihi'\]"):
        nm.deploy(clf).estimate(X_tr[:2], hardware="spinnaker")


def test_cli_deploy(digits, tmp_path, capsys):
    """``neuromorph deploy CHECKPOINT``: the checkpoint's learner, its class read from
    the file, scores the same on the core as its own predict."""
    from neuromorph.cli import main

    X_tr, X_te, y_tr, y_te = digits
    clf = EqSpike(hidden_layer_sizes=(12,), max_iter=1, random_state=0).fit(X_tr[:60],
                                                                          y_tr[:60])
    path = tmp_path / "eqspike.npz"
    clf.save(path)
    assert main(["deploy", str(path), "--samples", "15", "--backend", "neuromorph"]) == 0
    out = capsys.readouterr().out
    acc = clf.score(X_te[:15], y_te[:15])
    assert f"learner predict        accuracy {acc:.4f}" in out
    assert f"float (core)           accuracy {acc:.4f}" in out
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint")
    assert main(["deploy", str(bad)]) == 2
    # --fixed-point (the command line) goes with the fixed-point backends only
    capsys.readouterr()
    assert main(["deploy", str(path), "--backend", "neuromorph", "--fixed-point"]) == 2
    assert "does not go with backend 'neuromorph'" in capsys.readouterr().err


def test_cli_deploy_fixed_point_flag(digits, tmp_path, capsys):
    """``neuromorph deploy CKPT --backend loihi --fixed-point``: float and fixed-point
    accuracies, the fixed point as nm.deploy(..., backend="loihi") scores it."""
    from neuromorph.cli import main

    X_tr, X_te, y_tr, y_te = digits
    clf = CSDP(hidden_layer_sizes=(16,), max_iter=1, random_state=0).fit(X_tr[:200],
                                                                       y_tr[:200])
    path = tmp_path / "csdp.npz"
    clf.save(path)
    assert main(["deploy", str(path), "--samples", "10", "--backend", "loihi",
                 "--fixed-point"]) == 0
    out = capsys.readouterr().out
    fixed = nm.deploy(clf, backend="loihi", fixed_point=True).score(X_te[:10], y_te[:10])
    assert f"fixed point (core)     accuracy {fixed:.4f}" in out
    assert f"float (core)           accuracy {clf.score(X_te[:10], y_te[:10]):.4f}" in out


def test_cli_deploy_presentation_flags(digits, tmp_path, capsys, monkeypatch):
    """``neuromorph deploy CKPT --presentation 350 --rest 100 --max-retries 2``: every
    deployment gets the options, and the printed accuracies are those of
    nm.deploy(..., presentation=350, rest=100, max_retries=2) on the same checkpoint."""
    from neuromorph.cli import main

    X_tr, X_te, y_tr, y_te = digits
    clf = STDPClassifier(n_neurons=12, max_iter=1, random_state=0).fit(X_tr[:60], y_tr[:60])
    path = tmp_path / "dc.npz"
    clf.save(path)
    calls, deploy = [], nm.deploy

    def spy(model, **kw):
        calls.append(kw)
        return deploy(model, **kw)
    monkeypatch.setattr(nm, "deploy", spy)
    assert main(["deploy", str(path), "--samples", "12", "--backend", "loihi",
                 "--fixed-point", "--presentation", "350", "--rest", "100",
                 "--max-retries", "2"]) == 0
    out = capsys.readouterr().out
    assert [c["backend"] for c in calls] == ["neuromorph", "loihi"]
    assert all((c["presentation"], c["rest"], c["max_retries"]) == (350.0, 100.0, 2)
               for c in calls)
    assert "deployed: 350 ms presentation, 100 ms rest, up to 2 re-presentations" in out
    X, y = X_te[:12], y_te[:12]
    for backend, name in (("neuromorph", "float (core)          "),
                          ("loihi", "fixed point (core)    ")):
        acc = deploy(clf, backend=backend, presentation=350, rest=100,
                     max_retries=2).score(X, y)
        assert f"{name} accuracy {acc:.4f}" in out
    # the learner's own predict keeps its 700 ms readout: both are reported
    assert f"learner predict        accuracy {clf.score(X, y):.4f}" in out
    # a value the learner's dt cannot represent: nm.deploy's error, before any scoring
    assert main(["deploy", str(path), "--presentation", "350.25"]) == 2
    got = capsys.readouterr()
    assert "presentation must be a multiple of dt = 0.5 ms" in got.err
    assert "accuracy" not in got.out


@pytest.mark.parametrize("flag, value, message", [
    ("--presentation", "0", "must be > 0 ms, got 0"),
    ("--presentation", "-350", "must be > 0 ms, got -350"),
    ("--presentation", "nan", "must be finite and > 0 ms, got nan"),
    ("--presentation", "long", "expected a number > 0 ms, got 'long'"),
    ("--rest", "-1", "must be >= 0 ms, got -1"),
    ("--rest", "inf", "must be finite and >= 0 ms, got inf"),
    ("--max-retries", "-1", "must be >= 0, got -1"),
    ("--max-retries", "1.5", "expected an integer >= 0, got '1.5'"),
])
def test_cli_deploy_presentation_flags_bad(tmp_path, capsys, flag, value, message):
    """Out-of-range presentation options are refused by the parser, naming the flag and
    the allowed range, before the checkpoint is even opened (it does not exist here)."""
    from neuromorph.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["deploy", str(tmp_path / "missing.npz"), flag, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: {message}" in err and "not a spiking-learner" not in err


def test_cli_deploy_presentation_flag_other_learner(digits, tmp_path, capsys):
    """A learner that does not present samples for a time: the CLI prints nm.deploy's
    own error and exits 2 before scoring anything."""
    from neuromorph.cli import main

    X_tr, _, y_tr, _ = digits
    clf = EqSpike(hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X_tr[:40],
                                                                         y_tr[:40])
    path = tmp_path / "eqspike.npz"
    clf.save(path)
    with pytest.raises(ValueError) as direct:
        nm.deploy(clf, rest=100.0)
    assert main(["deploy", str(path), "--rest", "100"]) == 2
    got = capsys.readouterr()
    assert got.err.strip() == f"neuromorph: {direct.value}"
    assert "not of EqSpike" in got.err and got.out == ""


def test_loihi_fixed_point_costs_little(digits):
    """CSDP in Loihi fixed point (8-bit weights per layer, CUBA neurons, adaptive
    threshold dropped) scores within a few points of float on the digits test split."""
    X_tr, X_te, y_tr, y_te = digits
    clf = CSDP(hidden_layer_sizes=(64,), max_iter=2, random_state=0).fit(X_tr[:600], y_tr[:600])
    dep = nm.deploy(clf, backend="loihi")
    assert any("adaptive threshold" in note for note in dep.spec.notes)
    pops = {p.name: p for p in dep.network.populations}
    assert pops["z1"].model.fixed_point and pops["z1"].model.du == 4095
    w = np.concatenate([pr.weights.ravel() for pr in dep.network.projections])
    assert np.all(w == np.rint(w)) and np.abs(w).max() == 255
    f = nm.deploy(clf).score(X_te, y_te)
    assert f > 0.5
    assert dep.score(X_te, y_te) >= f - 0.05


def test_lava_spikes_equal_loihi(digits):
    """Lava's bit-accurate Loihi 2 simulation fires exactly the spikes of the core's
    fixed-point network; with the rest period the core equals its reset version."""
    X_tr, X_te, y_tr, _ = digits
    clf = CSDP(hidden_layer_sizes=(16,), n_steps=12, max_iter=1, random_state=0).fit(
        X_tr[:100], y_tr[:100])
    X = X_te[:2]
    loihi = nm.deploy(clf, backend="loihi")
    lava = nm.deploy(clf, backend="lava")
    assert lava.spec.rest > 0
    s_reset, rec_reset = loihi.run(X)
    s_rest, rec_rest, _ = lava.spec.run(X)  # the core, rest period instead of resets
    s_lava, rec_lava = lava.run(X)
    for name in ("z1", "label"):
        assert np.array_equal(rec_rest[name], rec_reset[name])
        assert np.array_equal(rec_lava[name], rec_rest[name])
    assert rec_lava["z1"].any()
    assert np.array_equal(s_lava, s_reset)


def test_spiking_pc_long_window_runs_in_lava(digits):
    """SpikingPC with a window longer than Loihi 2's 63-step delays: the copies of the
    input delayed beyond 63 steps weigh r^(m-1) <= 0.9^63 of the first (tau_j = 10 dt),
    below half an 8-bit weight step, so the fixed-point network has no such synapse and
    Lava runs it -- the same spikes as the core's fixed point."""
    X_tr, X_te, y_tr, _ = digits
    clf = SpikingPC(hidden_layer_sizes=(12,), n_steps=70, burn_in=5.0, max_iter=1,
                    random_state=0).fit(X_tr[:60], y_tr[:60])
    loihi = nm.deploy(clf, backend="loihi")
    assert max(loihi.spec.delays) == 68           # the edges exist in the spec ...
    delays = [pr.delay_const for pr in loihi.network.projections if pr.delay_const >= 0]
    assert max(delays) <= 63 and min(delays) == 0  # ... but are zero beyond 63 steps
    lava = nm.deploy(clf, backend="lava")
    X = X_te[:1]
    s_loihi, rec_loihi = loihi.run(X)
    s_lava, rec_lava = lava.run(X)
    assert rec_lava["hidden"].any()
    for name in ("hidden", "label"):
        assert np.array_equal(rec_lava[name], rec_loihi[name])
    assert np.array_equal(s_lava, s_loihi)


def test_nir_round_trip_same_predictions(digits, tmp_path):
    """SpikingPC's inference network written to NIR and read back (nir.read, from_nir)
    answers as the deployed network does."""
    import nir

    X_tr, X_te, y_tr, _ = digits
    clf = SpikingPC(hidden_layer_sizes=(16,), n_steps=20, burn_in=5.0, max_iter=1,
                    random_state=0).fit(X_tr[:100], y_tr[:100])
    dep = nm.deploy(clf)
    path = tmp_path / "pc.nir"
    dep.to_nir(path)
    graph = nir.read(path)
    assert {"input", "hidden", "label"} <= set(graph.nodes)
    X = X_te[:40]
    assert np.mean(dep.predict_nir(X, path) == dep.predict(X)) >= 0.99


def test_stdp_loihi_nearest_constructs(digits):
    """Diehl & Cook on Loihi fixed point: refractoriness dropped, inhibitory neurons reset
    to rest, one synaptic time constant -- noted, and the network is LoihiLIF with 8-bit
    weights (R-STDP's per-output step currents: tests/test_deploy_fixed.py)."""
    X_tr, X_te, y_tr, y_te = digits
    clf = STDPClassifier(n_neurons=20, max_iter=1, random_state=0).fit(X_tr[:100], y_tr[:100])
    dep = nm.deploy(clf, backend="loihi")
    notes = " ".join(dep.spec.notes)
    assert "refractory" in notes and "resets to rest" in notes
    assert all(p.model.fixed_point for p in dep.network.populations[1:])
    for pr in dep.network.projections:
        assert np.abs(pr.w).max() <= 255 and np.all(pr.w == np.rint(pr.w))
    X, y = X_te[:40], y_te[:40]
    assert dep.score(X, y) >= nm.deploy(clf).score(X, y) - 0.15


def _deploy_learners_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "experiments" / "deploy_learners.py"
    spec = importlib.util.spec_from_file_location("deploy_learners", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_deploy_learners_script_lava_check(tmp_path, monkeypatch, digits):
    """experiments/deploy_learners.py --quick --lava-samples: the fixed-point accuracy on
    the test samples and the Lava check on the first N, written to results.json/.md;
    Lava's answers are the core's fixed-point answers from a separate run."""
    import json
    import sys

    script = _deploy_learners_script()
    monkeypatch.setattr(sys, "argv", ["deploy_learners.py", "--quick", "--learners", "EProp",
                                      "--lava-samples", "3", "--out", str(tmp_path)])
    script.main()
    r = json.loads((tmp_path / "results.json").read_text())["results"]["EProp"]
    y = digits[3]
    lava, fixed = r["lava"], r["fixed_point"]
    assert lava["mapped"] and lava["samples"] == 3 and lava["spikes_compared"] > 0
    assert lava["same_spikes"] and lava["same_predictions"]
    assert lava["lava_accuracy"] == np.mean(np.array(lava["lava_predictions"]) == y[:3])
    # the fixed-point run on all 60 quick test samples answers the first 3 as the Lava
    # check's own fixed-point run on those 3 alone does
    assert fixed["predictions_first"][:3] == lava["fixed_predictions"]
    assert 0.0 <= fixed["accuracy"] <= 1.0
    md = (tmp_path / "results.md").read_text()
    assert "Lava acc (first N)" in md and "(N=3)" in md
    # entries: N for all, NAME=N for one; anything else is refused naming the option
    assert script.lava_samples(["4", "EProp=1"], ["EProp", "CSDP"], {}) == {"EProp": 1,
                                                                          "CSDP": 4}
    for bad in (["Foo=2"], ["EProp=-1"], ["x"]):
        with pytest.raises(ValueError, match="--lava-samples"):
            script.lava_samples(bad, ["EProp"], {})
