"""Monitors: what they record, on views, every k steps, and from their creation on."""
import numpy as np
import pytest

import neuromorph as nm

from helpers import random_network


def test_monitors_agree_with_each_other():
    net = random_network(seed=3)
    a = net.populations[2]
    whole = net.spike_monitor(a)
    part = net.spike_monitor(a[5:15])
    rate = net.rate_monitor(a)
    v_all = net.state_monitor(a, "v")
    v_some = net.state_monitor(a[5:15], "v", record=[0, 3], every=0.5)
    net.run(200.0)
    assert whole.num_spikes > 50
    sel = (whole.i >= 5) & (whole.i < 15)
    np.testing.assert_array_equal(part.steps, whole.steps[sel])
    np.testing.assert_array_equal(part.i, whole.i[sel] - 5)
    np.testing.assert_array_equal(rate.counts, np.bincount(whole.steps, minlength=2000))
    np.testing.assert_allclose(rate.rate.mean(), whole.num_spikes / 25 / 0.2)
    np.testing.assert_allclose(v_some.t, np.arange(0, 200.0, 0.5))
    np.testing.assert_array_equal(v_some.values, v_all.values[::5][:, [5, 8]])
    assert v_all.values.shape == (2000, 25)
    assert np.array_equal(whole.count, np.bincount(whole.i, minlength=25))


def test_state_monitor_records_start_of_step_values():
    net = nm.Network(dt=0.5, seed=0)
    P = net.lif(1, tau_m=10.0, v_rest=-60.0, v_init=-70.0)
    mon = net.state_monitor(P, "v")
    net.run(1.0)
    assert mon.values[0, 0] == -70.0
    assert mon.values[1, 0] == pytest.approx(-60.0 - 10.0 * np.exp(-0.05))


def test_monitor_added_later_records_from_then_on():
    net = random_network(seed=3)
    a = net.populations[2]
    early = net.spike_monitor(a)
    net.run(100.0)
    late = net.spike_monitor(a)
    net.run(100.0)
    assert late.steps.min() >= 1000
    np.testing.assert_array_equal(late.steps, early.steps[early.steps >= 1000])


def test_weight_monitor_snapshots():
    net = random_network(seed=3)
    proj = net.projections[1]
    w0 = proj.w.copy()
    wm = net.weight_monitor(proj, every=25.0)
    net.run(100.0)
    np.testing.assert_allclose(wm.t, [0.0, 25.0, 50.0, 75.0, 100.0])
    np.testing.assert_array_equal(wm.values[0], w0)
    np.testing.assert_array_equal(wm.values[-1], proj.w)
    assert not np.array_equal(wm.values[1], wm.values[0])


def test_large_spike_volume_grows_record_buffer():
    """More spikes than one record buffer holds: nothing is lost."""
    net = nm.Network(dt=0.1, seed=0)
    inp = net.poisson(20000, rate=200.0)
    mon = net.spike_monitor(inp)
    net.run(100.0)
    n = mon.num_spikes
    expected, sd = 20000 * 200 * 0.1, np.sqrt(20000 * 200 * 0.1)
    assert abs(n - expected) < 5 * sd
    assert len(np.unique(mon.steps * 20000 + mon.i)) == n


def test_poisson_rates_and_isi_statistics():
    net = nm.Network(dt=0.1, seed=9)
    rates = np.array([5.0, 20.0, 80.0, 0.0])
    inp = net.poisson(4, rate=rates)
    mon = net.spike_monitor(inp)
    net.run(50_000.0)
    counts = mon.count
    expected = rates * 50.0
    assert counts[3] == 0
    assert np.all(np.abs(counts[:3] - expected[:3]) < 5 * np.sqrt(expected[:3]))
    isi = np.diff(mon.t[mon.i == 2])
    assert abs(isi.std() / isi.mean() - 1.0) < 0.05  # CV of a Poisson process is 1


def test_set_rate_switches_poisson_rates_exactly_when_asked():
    def run(pieces):
        net = nm.Network(dt=0.1, seed=4)
        inp = net.poisson(300, rate=10.0)
        mon = net.spike_monitor(inp)
        for duration, rate in pieces:
            net.set_rate(inp, rate)
            net.run(duration)
        return net, inp, mon

    net, inp, mon = run([(1000.0, 10.0), (1000.0, np.r_[np.full(150, 80.0), np.zeros(150)]),
                         (1000.0, 0.0)])
    first = mon.steps < 10_000
    second = (mon.steps >= 10_000) & (mon.steps < 20_000)
    assert abs(first.sum() - 3000) < 5 * np.sqrt(3000)
    assert abs(second.sum() - 12000) < 5 * np.sqrt(12000)
    assert np.all(mon.i[second] < 150)
    assert not np.any(mon.steps >= 20_000)
    # rate changes at the same steps -> the same spikes, however the runs are split
    _, _, again = run([(400.0, 10.0), (600.0, 10.0),
                       (1000.0, np.r_[np.full(150, 80.0), np.zeros(150)]), (1000.0, 0.0)])
    np.testing.assert_array_equal(again.steps, mon.steps)
    np.testing.assert_array_equal(again.i, mon.i)
    with pytest.raises(ValueError, match="rate"):
        net.set_rate(inp, -1.0)
    with pytest.raises(TypeError, match="Poisson"):
        net.set_rate(net.lif(2), 5.0)
    np.testing.assert_array_equal(inp.model.rate, 0.0)


def test_spike_monitor_clear_forgets_earlier_spikes():
    net = random_network(seed=3)
    a = net.populations[2]
    mon, ref = net.spike_monitor(a), net.spike_monitor(a)
    net.run(50.0)
    assert mon.num_spikes > 0
    mon.clear()
    assert mon.num_spikes == 0 and mon.t.size == 0
    net.run(50.0)
    np.testing.assert_array_equal(mon.steps, ref.steps[ref.steps >= 500])


def test_progress_bar_says_the_engine_compiles_on_the_first_run():
    # a fresh interpreter: the engine is compiled (or loaded from numba's cache) at its
    # first call; the bar says so instead of an estimate that counts the compilation
    import subprocess
    import sys
    code = ("import neuromorph as nm\n"
            "net = nm.Network(dt=0.1, seed=0)\n"
            "P = net.lif(10)\n"
            "net.run(5.0, progress=True)\n"
            "import sys; print('SECOND', file=sys.stderr)\n"
            "net.run(5.0, progress=True)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stderr
    first, second = out.split("SECOND")
    assert "compiling the engine (first run only)" in first and "simulating" in first
    assert "compiling" not in second and "50/50" in second
