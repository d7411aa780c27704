"""The README's examples run as written (the code blocks are executed)."""
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_cuba_example_matches_balanced_state():
    ns = {}
    exec(blocks()[0].replace("progress=True", "progress=False"), ns)
    t, i = ns["spikes"].t, ns["spikes"].i
    rate = len(t) / 4000 / 1.0
    assert 2.0 < rate < 15.0       # Brian2's CUBA example fires at ~5-6 Hz
    assert t.max() < 1000.0 and i.max() < 4000


def test_explicit_and_plastic_examples():
    ns = {}
    exec(blocks()[0].replace("net.run(1000.0, progress=True)", "net.run(1.0)"), ns)
    rng = np.random.default_rng(0)
    W = rng.normal(0, 1, (50, 4000)) * (rng.random((50, 4000)) < 0.1)
    D = rng.integers(0, 10, (50, 4000)) * 0.1
    key = np.unique(rng.integers(0, 50, 200) * 1000 + rng.integers(0, 1000, 200))
    ns.update(idx=key // 1000, t_ms=(key % 1000) * 0.1, W=W, D=D)
    exec(blocks()[1], ns)
    np.testing.assert_array_equal(ns["proj"].weights, W)
    np.testing.assert_allclose(ns["proj"].delays, np.where(W != 0, D, 0), atol=1e-12)
    code = blocks()[2].replace("net.run(100_000.0)", "net.run(20_000.0)")
    exec(code, ns)
    w = ns["proj"].weights.ravel()
    assert w.min() >= 0 and w.max() <= 0.6
    assert np.mean(w < 0.06) > 0.12  # weights are leaving the uniform start (10 % per tail)


def test_rstdp_example_rewards_the_chosen_neuron():
    ns = {"np": np, "nm": __import__("neuromorph")}
    exec(blocks()[3], ns)
    go, nogo = ns["to_go"].weights.mean(), ns["to_nogo"].weights.mean()
    # both start at mean 1.0 mV: reward drives "go" up and punishment drives "nogo" down
    assert go > 1.2 and nogo < 0.8
    late = ns["net"].t - 1000.0
    assert np.sum(ns["s_go"].t >= late) > 3 * np.sum(ns["s_nogo"].t >= late)
    assert ns["to_go"].eligibility.shape == (100,)


def test_spiking_learners_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                      # the example writes a checkpoint
    code = blocks()[5]
    assert "max_iter=20" in code and "max_iter=10" in code
    ns = {}
    exec(code.replace("max_iter=20", "max_iter=2").replace("max_iter=10", "max_iter=2"), ns)
    assert ns["spc"].score(ns["X_test"], ns["y_test"]) > 0.7
    assert ns["eqs"].score(ns["X_test"], ns["y_test"]) > 0.8
    assert len(ns["eqs"].history_["accuracy"]) == 2
    back = ns["EqSpike"].load(tmp_path / "eqspike.npz")
    np.testing.assert_array_equal(back.predict(ns["X_test"]), ns["eqs"].predict(ns["X_test"]))


def test_lava_example_gives_the_spikes_neuromorph_predicted():
    import neuromorph as nm

    net = nm.Network(dt=0.5, seed=3)
    inp = net.poisson(40, rate=60.0)
    out = net.lif(20, tau_m=10.0, v_th=-55.0, tau_syn_exc=4.0, tau_syn_inh=4.0)
    net.connect(inp, out, p=0.5, w=nm.uniform(0.0, 6.0))
    ns = {"net": net}
    exec(blocks()[6], ns)
    res, mon = ns["res"], ns["mon"]
    assert mon.num_spikes > 50 and type(res.monitors[0]) is type(mon)
    np.testing.assert_array_equal(res.monitors[0].steps, mon.steps)
    np.testing.assert_array_equal(res.monitors[0].i, mon.i)
