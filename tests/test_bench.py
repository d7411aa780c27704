"""Smoke test of the benchmark driver (no timing assertions)."""
import json
import math

import pytest

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


def test_stdp_threads_each_in_its_own_process_same_network(capsys):
    """``--threads 1 2``: one process per count (NUMBA_NUM_THREADS), the same spikes and
    weights (the engine is bit-identical for any thread count), a speedup per count."""
    assert bench.main(["stdp", "--quick", "--n-out", "4", "--duration", "200",
                       "--threads", "1", "2"]) == 0
    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()
             if ln.startswith("{")]
    runs = [r for r in lines if not r.get("summary")]
    assert [r["threads"] for r in runs] == [1, 2]
    one, two = runs
    for k in ("n_pre_spikes", "n_post_spikes", "events", "w_mean", "w_hist10"):
        assert one[k] == two[k], k
    summary = [r for r in lines if r.get("summary")][0]
    assert summary["threads"] == [1, 2]
    assert summary["speedup_threads"]["1"] == 1.0
    assert summary["speedup_threads"]["2"] == (summary["neuromorph_wall_s_by_threads"]["1"]
                                               / summary["neuromorph_wall_s_by_threads"]["2"])


def test_threads_below_one_refused():
    with pytest.raises(SystemExit):
        bench.main(["cuba", "--quick", "--threads", "0"])
