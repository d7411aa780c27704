"""Sweeps on Dask (issue 18, item 6): the same seeds give the same numbers on a cluster
(a scheduler and worker started in the test, reached over TCP) as locally."""
import json
import textwrap
import time

import pytest

from neuromorph.cli import main
from neuromorph.compare import run_compare
from neuromorph.sweeps import SchedulerUnreachable, connect, parse_seeds


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as c:
        yield c


def _ran_on(cluster, prefix):
    return prefix in cluster.scheduler.task_prefixes


def test_compare_on_a_scheduler_gives_the_local_numbers(cluster, tmp_path):
    kw = dict(quick=True, seeds=2, families=["Backprop"], epochs=1, progress=False)
    run_compare(tmp_path / "local", **kw)
    run_compare(tmp_path / "dask", scheduler=cluster.scheduler_address, **kw)
    local = json.loads((tmp_path / "local" / "results.json").read_text())["runs"]
    remote = json.loads((tmp_path / "dask" / "results.json").read_text())["runs"]
    assert _ran_on(cluster, "run_family")
    assert [(r["family"], r["seed"], r["test_curve"]) for r in remote] == \
        [(r["family"], r["seed"], r["test_curve"]) for r in local]
    assert local[0]["test_curve"] != local[1]["test_curve"]     # the seeds differ
    report = (tmp_path / "dask" / "report.md").read_text()
    assert "Backprop" in report


_EXPERIMENT = textwrap.dedent('''
    """Tiny seeded experiment for the sweep tests."""
    import argparse, json, os
    import numpy as np
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump({"x": np.random.default_rng(a.seed).random(3).tolist()}, f)
''')


def test_run_seeds_on_a_scheduler_gives_the_local_numbers(cluster, tmp_path, monkeypatch,
                                                          capsys):
    exp = tmp_path / "exps"
    exp.mkdir()
    (exp / "tiny.py").write_text(_EXPERIMENT)
    monkeypatch.setenv("NEUROMORPH_EXPERIMENTS_DIR", str(exp))
    assert main(["run", "tiny", "--seeds", "0-2", "--out", str(tmp_path / "local")]) == 0
    assert main(["run", "tiny", "--seeds", "0-2", "--out", str(tmp_path / "dask"),
                 "--scheduler", cluster.scheduler_address]) == 0
    assert _ran_on(cluster, "run_experiment")
    got = {}
    for where in ("local", "dask"):
        got[where] = [json.loads((tmp_path / where / f"seed{s}" / "result.json").read_text())
                      for s in range(3)]
        assert all((tmp_path / where / f"seed{s}" / "summary.md").exists() for s in range(3))
    assert got["local"] == got["dask"]
    assert len({tuple(r["x"]) for r in got["local"]}) == 3
    assert "seed 2: exit 0" in capsys.readouterr().out


def test_unreachable_scheduler_is_a_clear_error_within_10_s(capsys):
    t0 = time.perf_counter()
    rc = main(["compare", "--quick", "--families", "Backprop",
               "--scheduler", "tcp://127.0.0.1:9"])
    assert time.perf_counter() - t0 < 10.0
    assert rc == 2
    assert "no Dask scheduler answered at 'tcp://127.0.0.1:9'" in capsys.readouterr().err


def test_connect_refuses_a_non_address():
    with pytest.raises(ValueError, match="scheduler must be an address"):
        connect("")
    assert issubclass(SchedulerUnreachable, ConnectionError)


@pytest.mark.parametrize("text, seeds", [("0-4", [0, 1, 2, 3, 4]), ("3", [3]),
                                         ("0,2,7", [0, 2, 7]), ("0-2, 10", [0, 1, 2, 10])])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text, message", [("", "--seeds must be"), ("a-b", "--seeds must"),
                                           ("4-1", "ends before it starts"),
                                           ("1,1", "lists a seed twice"),
                                           ("-1", "--seeds must")])
def test_bad_seeds_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_seeds(text)


def test_run_with_bad_seeds_is_a_cli_error(capsys):
    assert main(["run", "song_stdp", "--seeds", "2-1"]) == 2
    assert "ends before it starts" in capsys.readouterr().err
    assert main(["run", "song_stdp", "--seed", "1", "--seeds", "1-2"]) == 2
    assert "--seed or --seeds" in capsys.readouterr().err
