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


def test_learning_curves_draw_mean_and_group_panels(tmp_path):
    curves = {"a": [[0.1, 0.5, 0.9], [0.3, 0.7, 0.9]], "b": [[0.2, 0.4, 0.6]], "c": [[0.8]]}
    fig = plot.learning_curves(curves, {"a": "G1", "b": "G1", "c": "G2"})
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.lines]
    assert [ax.get_title() for ax in axes] == ["G1", "G2"]
    x, y = axes[0].lines[0].get_data()
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(y, [0.2, 0.6, 0.9])          # mean over seeds
    assert [ln.get_label() for ln in axes[0].lines] == ["a", "b"]
    assert axes[0].lines[0].get_color() != axes[0].lines[1].get_color()
    assert axes[1].lines[0].get_marker() == "o"               # one point: a marker
    assert axes[0].get_xlabel() == "epoch" and axes[0].get_ylabel() == "test accuracy"
    path = plot.save(fig, tmp_path / "lc.png")
    assert path.exists() and path.with_suffix(".svg").exists()
    plt.close(fig)
    many = {f"f{k}": [[0.5, 0.6]] for k in range(10)}       # more families than colours
    fig = plot.learning_curves(many)
    styles = {(ln.get_color(), ln.get_linestyle()) for ln in fig.axes[0].lines}
    assert len(styles) == 10
    plt.close(fig)
    with pytest.raises(ValueError, match="curves"):
        plot.learning_curves({})
