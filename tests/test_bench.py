"""Smoke test of the benchmark driver (no timing assertions)."""
import json
import math

from neuromorph import bench


def test_cuba_quick_prints_sane_json(capsys):
    assert bench.main(["cuba", "--n", "400", "--duration", "50", "--quick"]) == 0
    records = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()
               if ln.startswith("{")]
    runs = [r for r in records if not r.get("summary")]
    assert len(runs) == 1
    rec = runs[0]
    assert "error" not in rec, rec.get("error")
    for key in ("simulator", "N", "duration_ms", "wall_s", "build_s", "first_call_s",
                "numba_cache", "spikes", "synapses", "syn_per_neuron", "events",
                "events_per_s", "rate_hz", "cv_isi"):
        assert key in rec, key
    assert rec["simulator"] == "neuromorph"
    assert rec["N"] == 400 and rec["duration_ms"] == 50.0
    assert rec["wall_s"] > 0 and rec["first_call_s"] >= 0
    assert rec["numba_cache"] in ("warm", "cold", "unknown")
    assert rec["spikes"] > 0 and 0 < rec["rate_hz"] < 200
    # ~80 synapses per neuron (p = 0.02 * 4000 / N), events = spikes x synapses per neuron
    assert 60 < rec["syn_per_neuron"] < 100
    assert math.isclose(rec["syn_per_neuron"], rec["synapses"] / 400)
    assert math.isclose(rec["events"], rec["spikes"] * rec["syn_per_neuron"])
    assert math.isclose(rec["events_per_s"], rec["events"] / rec["wall_s"])
    assert math.isclose(rec["rate_hz"], rec["spikes"] / 400 / 0.05)
    summary = [r for r in records if r.get("summary")]
    assert len(summary) == 1 and summary[0]["neuromorph_wall_s"] == rec["wall_s"]


def test_cv_isi_regular_and_poisson():
    import numpy as np
    t = np.tile(np.arange(10.0), 3)
    i = np.repeat(np.arange(3), 10)
    assert bench.cv_isi(t, i) == 0.0
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.exponential(1.0, 20000))
    assert abs(bench.cv_isi(t, np.zeros(t.size, int)) - 1.0) < 0.05


def test_stdp_quick_counts_events(capsys):
    assert bench.main(["stdp", "--quick", "--n-out", "2", "--duration", "200"]) == 0
    rec = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()
           if ln.startswith("{")][0]
    assert rec["n_in"] == 1000 and rec["n_out"] == 2 and rec["synapses"] == 2000
    assert rec["n_pre_spikes"] > 0 and 5 < rec["input_rate_hz"] < 30
    assert rec["events"] == rec["n_pre_spikes"] * 2 + rec["n_post_spikes"] * 1000
    assert 0.0 <= rec["w_mean"] <= 1.0 and abs(sum(rec["w_hist10"]) - 1.0) < 1e-3
