"""The console command and the demo."""
import json
import subprocess
import sys

import numpy as np
import pytest

from neuromorph.cli import main


def test_help_lists_commands(capsys):
    try:
        main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    out = capsys.readouterr().out
    assert "demo" in out and "bench" in out


def test_bench_help_and_bare_bench(capsys):
    for flag in ("--help", "-h"):
        with pytest.raises(SystemExit) as e:
            main(["bench", flag])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert "usage: neuromorph bench" in out and "cuba" in out and "stdp" in out
    assert main(["bench"]) == 2  # no benchmark named: the help, not "required: bench"
    out = capsys.readouterr()
    assert "cuba" in out.out and "required" not in out.err
    with pytest.raises(SystemExit) as e:
        main(["bench", "cuba", "-h"])
    assert e.value.code == 0 and "--n" in capsys.readouterr().out


def test_demo_writes_figure_and_learns(tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--duration", "15000", "--quiet"]) == 0
    png = (tmp_path / "demo.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert (tmp_path / "demo.svg").exists()
    m = json.loads((tmp_path / "demo.json").read_text())
    # STDP pushes weights towards both bounds from a uniform start (10 % per tail)
    assert m["frac_w_below_0_1"] > 0.12 and m["frac_w_above_0_9"] > 0.12
    assert 5.0 < m["output_rate_hz_last_s"] < 60.0


def test_console_entry_point_runs():
    r = subprocess.run([sys.executable, "-m", "neuromorph.cli", "--version"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "neuromorph" in r.stdout
