"""Plot helpers draw what they are given, with units on the axes."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import neuromorph as nm  # noqa: E402
from neuromorph import plot  # noqa: E402


@pytest.fixture(scope="module")
def recorded():
    net = nm.Network(dt=0.1, seed=0)
    inp = net.poisson(30, rate=40.0)
    P = net.lif(6, tau_m=10.0, v_rest=-60.0, v_reset=-65.0, v_th=-55.0)
    proj = net.connect(inp, P, w=nm.uniform(0.5, 3.0))
    sp = net.spike_monitor(P)
    v = net.state_monitor(P, "v", record=[1, 4])
    net.run(200.0)
    return sp, v, proj


def test_raster_and_traces(recorded):
    sp, v, _ = recorded
    ax = plot.raster(sp)
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, sp.t)
    np.testing.assert_array_equal(y, sp.i)
    assert "ms" in ax.get_xlabel()
    ax = plot.traces(v)
    assert len(ax.lines) == 2 and "mV" in ax.get_ylabel()
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), v.values[:, 1])
    plt.close("all")


def test_weight_plots(recorded, tmp_path):
    _, _, proj = recorded
    ax = plot.weight_histogram(proj, bins=10)
    assert sum(p.get_height() for p in ax.patches) == proj.n_synapses
    ax = plot.weight_matrix(proj)
    np.testing.assert_array_equal(ax.images[0].get_array(), proj.weights.T)
    ax = plot.receptive_fields(np.arange(30 * 6).reshape(30, 6), shape=(5, 6))
    grid = ax.images[0].get_array()
    np.testing.assert_array_equal(grid[:5, :6], np.arange(30 * 6).reshape(30, 6)[:, 0].reshape(5, 6))
    with pytest.raises(ValueError, match="shape"):
        plot.receptive_fields(np.zeros((30, 6)), shape=(4, 4))
    out = plot.save(ax.figure, tmp_path / "rf.png")
    assert out.exists() and out.with_suffix(".svg").exists()
    plt.close("all")
