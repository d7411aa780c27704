"""The ``scale`` benchmark at a tiny size: record consistency, guards, argument errors."""
import json
import math

import pytest

from neuromorph import bench


def _records(text):
    return [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]


def test_scale_tiny_record_is_consistent(capsys, tmp_path):
    out = tmp_path / "scale.json"
    n, dur = 2000, 20.0
    assert bench.main(["scale", "--n", str(n), "--duration", "20", "--threads", "1",
                       "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    records = _records(printed)
    assert records == [json.loads(ln) for ln in out.read_text().splitlines()]
    runs = [r for r in records if not r.get("summary")]
    summaries = [r for r in records if r.get("summary")]
    assert len(runs) == 1 and len(summaries) == 1
    rec = runs[0]
    assert "error" not in rec, rec.get("error")
    assert rec["simulator"] == "neuromorph" and rec["bench"] == "scale"
    assert rec["N"] == n and rec["threads"] == 1 and rec["duration_ms"] == dur
    assert rec["numba_threads"] == 1
    # synapses: both projections, binomial around N * N * p (p = 0.02 * 4000 / N)
    assert rec["synapses"] == rec["n_syn_exc"] + rec["n_syn_inh"]
    p = bench.cuba_p(n)
    mean, sd = n * n * p, math.sqrt(n * n * p * (1 - p))
    assert abs(rec["synapses"] - mean) < 5 * sd
    assert abs(rec["n_syn_exc"] - 0.8 * mean) < 5 * sd
    # times: every phase measured, and the sums the table reports
    for key in ("import_s", "engine_load_s", "connect_s", "first_run_s", "run_s"):
        assert rec[key] > 0, key
    assert rec["numba_cache"] in ("warm", "cold", "unknown")
    assert math.isclose(rec["build_s"], rec["connect_s"] + rec["first_run_s"])
    assert math.isclose(rec["end_to_end_s"], rec["build_s"] + rec["run_s"])
    assert math.isclose(rec["build_run_ratio"], rec["build_s"] / rec["run_s"])
    # memory: the network and the engine's arrays cost something per synapse
    assert rec["rss_baseline_mb"] > 0 and rec["peak_rss_mb"] >= rec["rss_baseline_mb"]
    assert rec["bytes_per_synapse"] > 0
    assert math.isclose(rec["bytes_per_synapse"],
                        rec["peak_growth_mb"] * 2 ** 20 / rec["synapses"])
    # activity: CUBA is an asynchronous irregular state of a few Hz
    assert rec["spikes"] > 0 and 1 < rec["rate_hz"] < 30
    assert math.isclose(rec["rate_hz"], rec["spikes"] / n / (dur * 1e-3))
    s = summaries[0]
    assert s["N"] == n and s["threads"] == 1 and s["speedup_threads"] == 1.0
    assert s["end_to_end_s"] == rec["end_to_end_s"] and s["synapses"] == rec["synapses"]
    assert s["brian2_device_run_s"] is None and "errors" not in s
    # the table: header plus one row
    assert "| N | synapses | threads | engine load s |" in printed
    assert "| 2,000 | " in printed


@pytest.mark.parametrize("guard, why", [(["--max-rss-gb", "0.01"], "--max-rss-gb"),
                                        (["--timeout", "0.1"], "timed out")])
def test_scale_guard_records_the_reason(capsys, guard, why):
    assert bench.main(["scale", "--n", "2000", "--duration", "10", *guard]) == 1
    printed = capsys.readouterr().out
    records = _records(printed)
    run, summary = records
    assert why in run["error"] and run["n"] == 2000 and run["threads"] == 1
    assert summary["run_s"] is None and why in summary["errors"]["neuromorph"]
    assert "neuromorph: " in printed  # the reason is printed under the table


def test_scale_predicts_memory_from_a_smaller_size():
    ok = [dict(N=1000, bytes_per_synapse=100.0, rss_baseline_mb=100.0)]
    limit = 2 ** 30
    assert bench._predicted_too_big(dict(n=2000), ok, limit) is None  # ~0.1 GiB
    reason = bench._predicted_too_big(dict(n=1_000_000), ok, limit)   # ~7.5 GiB
    assert reason.startswith("skipped: predicted") and "--max-rss-gb" in reason
    assert bench._predicted_too_big(dict(n=1_000_000), ok, None) is None


@pytest.mark.parametrize("args, message", [
    (["--n", "0"], "argument --n: must be >= 10 neurons, got 0"),
    (["--n", "4000", "x"], "argument --n: expected an integer number of neurons"),
    (["--threads", "0"], "argument --threads: must be >= 1 threads, got 0"),
    (["--duration", "0"], "argument --duration: must be a positive multiple of dt"),
    (["--duration", "0.05"], "argument --duration: must be a positive multiple of dt"),
    (["--max-rss-gb", "-1"], "argument --max-rss-gb: must be > 0 GiB"),
    (["--compare", "lava"], "argument --compare: invalid choice"),
])
def test_scale_bad_arguments_are_argparse_errors(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        bench.main(["scale", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: neuromorph bench scale" in err and message in err


def test_scale_help_lists_fields_with_units(capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["scale", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("--n", "--threads", "--duration", "--compare", "--brian2-threads",
                 "--max-rss-gb", "--timeout", "engine_load_s", "connect_s", "first_run_s",
                 "build_s", "run_s", "end_to_end_s", "bytes_per_synapse", "device_run_s",
                 "(ms", "(s)", "(B)", "GiB"):
        assert word in text, word


@pytest.mark.slow
def test_scale_brian2_peer_tiny(capsys):
    pytest.importorskip("brian2")
    assert bench.main(["scale", "--n", "2000", "--duration", "50", "--compare",
                       "brian2"]) == 0
    records = _records(capsys.readouterr().out)
    nm, b2 = records[0], records[1]
    assert b2["simulator"] == "brian2" and "error" not in b2, b2.get("error")
    assert b2["synapses"] == nm["synapses"]  # the identical network
    assert b2["device_run_s"] > 0 and b2["cpp_build_s"] > 0 and b2["bytes_per_synapse"] > 0
    assert abs(b2["spikes"] - nm["spikes"]) <= 0.05 * nm["spikes"] + 5
    summary = records[2]
    assert math.isclose(summary["ratio_end_to_end"],
                        b2["device_run_s"] / nm["end_to_end_s"])
