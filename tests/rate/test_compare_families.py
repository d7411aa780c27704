"""Smoke test of experiments/compare_families.py on two families (quick mode)."""
import importlib.util
import json
import os

import pytest

HERE = os.path.dirname(__file__)
SCRIPT = os.path.join(HERE, "..", "..", "experiments", "compare_families.py")


@pytest.fixture(scope="module")
def compare():
    spec = importlib.util.spec_from_file_location("compare_families", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_registered_family_has_a_config(compare):
    from neuromorph.models.rate import registry

    assert set(compare.CONFIGS) == set(registry())
    assert set(compare.TARGETS) <= set(registry())


def test_quick_run_writes_table_json_and_plot(compare, tmp_path):
    compare.main(["--out", str(tmp_path), "--quick", "--jobs", "1",
                  "--families", "Backprop", "LocalLosses"])
    data = json.loads((tmp_path / "results.json").read_text())
    assert len(data["runs"]) == 2
    for run in data["runs"]:
        assert len(run["test_curve"]) == run["epochs"] == len(run["train_loss"])
        assert 0.5 < run["test_accuracy"] <= 1.0  # both learn digits well above chance
    table = (tmp_path / "results.md").read_text()
    assert "| Backpropagation | BP |" in table and "Local losses" in table
    assert (tmp_path / "learning_curves.png").stat().st_size > 1000


def test_unknown_family_is_rejected(compare, tmp_path):
    with pytest.raises(SystemExit):
        compare.main(["--out", str(tmp_path), "--families", "Nope"])


def test_merge_of_partial_runs_keeps_each_familys_runs(compare, tmp_path):
    """--merge: the union of two partial runs, each family's runs unchanged, in registry
    order."""
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    compare.main(["--out", str(a), "--quick", "--jobs", "1", "--families", "LocalLosses"])
    compare.main(["--out", str(b), "--quick", "--jobs", "1", "--families", "Backprop"])
    compare.main(["--merge", str(a), str(b), "--out", str(out)])
    merged = json.loads((out / "results.json").read_text())
    parts = [json.loads((d / "results.json").read_text()) for d in (a, b)]
    assert [r["family"] for r in merged["summary"]] == ["Backprop", "LocalLosses"]
    assert sorted(map(json.dumps, merged["runs"])) == sorted(
        json.dumps(r) for p in parts for r in p["runs"])
    table = (out / "results.md").read_text()
    assert table.index("| Backpropagation |") < table.index("| Local losses |")
