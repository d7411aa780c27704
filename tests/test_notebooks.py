"""Execute every teaching notebook in notebooks/ top to bottom, in its reduced form.

Each notebook's first code cell is tagged ``parameters`` and defines ``QUICK = False``;
the test replaces it with ``QUICK = True`` (smaller networks, shorter runs, fewer
epochs), runs the notebook in a fresh kernel inside a temporary directory, and checks
that it produces its figures: every cell that calls ``plt.show()`` must have an image
output. A failing cell raises ``CellExecutionError`` with the cell's traceback.
"""
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_notebooks_are_present():
    names = [p.stem for p in NOTEBOOKS]
    for prefix in ("01_", "02_", "03_", "04_", "05_", "06_", "07_"):
        assert any(n.startswith(prefix) for n in names), f"no notebook {prefix}*: {names}"


def quick_version(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = code[0]
    assert "parameters" in params.metadata.get("tags", []), \
        f"{path.name}: the first code cell must be tagged 'parameters'"
    assert "QUICK = False" in params.source, f"{path.name}: parameters cell must set QUICK = False"
    params.source = "QUICK = True"
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_draws_its_figures(path, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)     # the kernel uses the inline backend
    nb = quick_version(path)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    figure_cells = [c for c in nb.cells if c.cell_type == "code" and "plt.show()" in c.source]
    assert figure_cells, f"{path.name} draws no figures"
    for cell in figure_cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert images, f"{path.name}: no image from cell\n{cell.source[:300]}"
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        assert not errors
    assert any(c.cell_type == "markdown" and "## Exercises" in c.source for c in nb.cells), \
        f"{path.name} has no exercises section"
