"""`neuromorph experiments`, `neuromorph run` and `neuromorph compare`."""
import json
from pathlib import Path

import numpy as np
import pytest

from neuromorph import compare
from neuromorph.cli import main
from neuromorph.datasets import load_digits_split
from neuromorph.experiments_registry import (ExperimentsNotFound, command, experiments_dir,
                                             list_experiments)
from neuromorph.models.rate import registry

REPO = Path(__file__).resolve().parent.parent


def test_experiments_lists_every_script(capsys):
    assert main(["experiments"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.strip()]
    on_disk = sorted(p.stem for p in (REPO / "experiments").glob("*.py"))
    assert on_disk and listed == on_disk
    for name, exp in list_experiments().items():
        assert exp["description"] and exp["description"] != "(no description)"
        assert exp["description"] in out
        assert "--out" in exp["options"], name  # `run` always passes --out


def test_missing_experiments_folder_gives_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEUROMORPH_EXPERIMENTS_DIR", str(tmp_path / "absent"))
    with pytest.raises(ExperimentsNotFound, match="non-editable install"):
        experiments_dir()
    assert main(["experiments"]) == 2
    assert "experiments/" in capsys.readouterr().err


def test_run_rejects_unknown_name_and_unsupported_seed(tmp_path, capsys):
    assert main(["run", "no_such_experiment", "--out", str(tmp_path)]) == 2
    assert "unknown experiment" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no --seed"):
        command("stdp_window", tmp_path, seed=1)
    cmd = command("rstdp_digits", tmp_path, seed=4, quick=True)
    assert cmd[1].endswith("rstdp_digits.py")
    assert cmd[2:] == ["--out", str(tmp_path), "--quick", "--seed", "4"]


def test_run_quick_writes_outputs_and_summary(tmp_path):
    out = tmp_path / "sw"
    assert main(["run", "stdp_window", "--quick", "--out", str(out)]) == 0
    assert (out / "metrics.json").exists() and (out / "stdp_window.png").exists()
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# Experiment `stdp_window`")
    assert "exit status: 0" in summary
    assert "metrics.json" in summary and "stdp_window.png" in summary
    assert "stdp_window.svg" in summary
    json.loads((out / "metrics.json").read_text())


def test_compare_family_list_is_registry_plus_spiking():
    import inspect

    from sklearn.base import ClassifierMixin

    from neuromorph.models import spiking
    # every classifier the spiking package exports is in its registry, and compared
    exported = {name for name, obj in vars(spiking).items()
                if inspect.isclass(obj) and issubclass(obj, ClassifierMixin)}
    assert exported == set(spiking.registry()) >= {"CSDP", "SpikingPC", "EqSpike",
                                                   "RSTDPClassifier", "STDPClassifier"}
    expected = list(registry()) + list(spiking.registry())
    assert compare.family_names() == expected
    for name in expected:  # every family has metadata and a budget
        meta = compare.metadata(name)
        assert meta["kind"] == ("rate" if name in registry() else "spike")
        assert meta["checklist"] is not None and meta["family"]
        params, epochs, _ = compare.budget(name, quick=True)
        assert epochs >= 1 and epochs <= compare.budget(name, quick=False)[1]


def test_report_rows_equal_families_given(tmp_path):
    families = ["Backprop", "Oja", "CSDP"]
    data = load_digits_split()
    Xtr, Xte, ytr, yte = data
    small = (Xtr[:200], Xte[:100], ytr[:200], yte[:100])
    results = [compare.run_family(f, s, quick=True, data=small, epochs=1)
               for f in families for s in (0, 1)]
    meta = dict(mode="test", seeds=2, total_s=1.0, machine="test")
    report = compare.build_report(results, families, meta)
    assert compare.report_rows(report) == families
    for f in families:
        row = next(line for line in report.splitlines() if line.startswith(f"| {f} | "))
        assert " ± " in row and "| 2 |" in row
        # checklist row present for each family
        assert sum(line.startswith(f"| {f} | ") for line in report.splitlines()) == 2
    assert "| CSDP | spike |" in report and "| Oja | rate |" in report


def test_report_plots_generative_curves(tmp_path):
    """The RBM's reconstruction error and pseudo-likelihood per epoch reach the report:
    the values are the estimator's own ``history_`` (re-computed here from a refit with
    the same seed), the table shows the last epoch, the figure is written."""
    from neuromorph.models.rate import RBM

    Xtr, Xte, ytr, yte = load_digits_split()
    small = (Xtr[:150], Xte[:60], ytr[:150], yte[:60])
    runs = [compare.run_family(f, s, quick=True, data=small, epochs=2)
            for f in ("RBM", "Backprop") for s in (0, 1)]
    assert "history" not in runs[2]  # a classifier records none
    h = runs[0]["history"]
    assert set(h) == {"reconstruction_error", "pseudo_likelihood"} and len(h["pseudo_likelihood"]) == 2
    params = compare.budget("RBM", True)[0]
    est = RBM(**params, random_state=0)
    for _ in range(2):
        est.partial_fit(small[0], small[2], classes=np.unique(small[2]))
    assert h["reconstruction_error"] == [float(x) for x in est.history_["reconstruction_error"]]
    gen = compare.plot_generative_curves(runs, str(tmp_path / "gen.png"))
    assert (tmp_path / "gen.png").stat().st_size > 0
    meta = dict(mode="test", seeds=2, total_s=1.0, machine="test", generative_figure="gen.png")
    report = compare.build_report(runs, ["RBM", "Backprop"], meta)
    row = next(line for line in report.splitlines() if line.startswith("| RBM | ")
               and "±" in line and "rate" not in line)
    last = [r["history"]["pseudo_likelihood"][-1] for r in runs[:2]]
    assert f"{np.mean(last):.3f} ± {np.std(last):.3f}" in row
    assert "![training curves](gen.png)" in report and gen is not None
    assert compare.plot_generative_curves(runs[2:], str(tmp_path / "none.png")) is None


def test_compare_cli_writes_report(tmp_path, monkeypatch):
    calls = []

    def fake_run_family(name, seed, quick=False, data=None, epochs=None):
        calls.append((name, seed, quick))
        return dict(family=name, seed=seed, test_accuracy=0.5 + 0.1 * seed, test_curve=[0.5],
                    wall_s=0.01, epochs=1)

    monkeypatch.setattr(compare, "run_family", fake_run_family)
    out = tmp_path / "cmp"
    assert main(["compare", "--quick", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "![learning curves](learning_curves.png)" in report
    assert (out / "learning_curves.png").stat().st_size > 0 and (out / "learning_curves.svg").exists()
    assert compare.report_rows(report) == compare.family_names()
    assert calls == [(f, 0, True) for f in compare.family_names()]
    assert main(["compare", "--families", "Backprop", "Nope", "--out", str(out)]) == 2


def test_compare_trains_every_learner_alike():
    """No dispatch by class name: every learner runs one partial_fit epoch at a time and
    gets a test score after each (STDPClassifier used to be fitted in one call, one point)."""
    import inspect

    src = inspect.getsource(compare.run_family)
    assert "STDPClassifier" not in src and "RSTDPClassifier" not in src
    Xtr, Xte, ytr, yte = load_digits_split()
    keep = np.isin(ytr, [0, 1, 2])
    small = (Xtr[keep][:45], Xte[np.isin(yte, [0, 1, 2])][:30], ytr[keep][:45],
             yte[np.isin(yte, [0, 1, 2])][:30])
    for name in ("RSTDPClassifier", "STDPClassifier"):
        r = compare.run_family(name, 0, quick=True, data=small, epochs=2)
        assert len(r["test_curve"]) == 2 and r["test_accuracy"] == r["test_curve"][-1]
        assert r["test_accuracy"] > 0.5, (name, r["test_curve"])   # chance is 1/3
