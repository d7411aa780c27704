"""Same seed -> bit-identical spikes and weights; different seed -> different."""
import numpy as np

from helpers import random_network


def run(seed, pieces=(250.0,)):
    net = random_network(seed=seed)
    mons = [net.spike_monitor(p) for p in net.populations]
    for d in pieces:
        net.run(d)
    spikes = [(m.steps.copy(), m.i.copy()) for m in mons]
    return spikes, [p.w.copy() for p in net.projections], [p.v.copy() for p in net.populations if p.is_lif]


def same(a, b):
    sa, wa, va = a
    sb, wb, vb = b
    return (all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(sa, sb))
            and all(np.array_equal(x, y) for x, y in zip(wa, wb))
            and all(np.array_equal(x, y) for x, y in zip(va, vb)))


def test_same_seed_bit_identical():
    assert same(run(11), run(11))


def test_different_seed_differs():
    assert not same(run(11), run(12))


def test_splitting_a_run_changes_nothing():
    """Poisson inputs are drawn in fixed absolute blocks, so run(a) + run(b) == run(a + b)."""
    assert same(run(11), run(11, pieces=(0.0, 33.3, 100.0, 116.7)))


def test_growing_a_network_between_runs_keeps_state():
    """Adding a population and a projection after a run keeps spikes in flight and traces:
    the old part of the network goes on exactly as if nothing had been added."""
    a = random_network(seed=21)
    b = random_network(seed=21)
    ma = [a.spike_monitor(p) for p in a.populations]
    mb = [b.spike_monitor(p) for p in b.populations]
    a.run(100.0)
    b.run(100.0)
    extra = b.lif(10, tau_m=5.0)
    b.connect(b.populations[2], extra, w=1.0, delay=4.0)
    a.run(100.0)
    b.run(100.0)
    for x, y in zip(ma, mb):
        np.testing.assert_array_equal(x.steps, y.steps)
        np.testing.assert_array_equal(x.i, y.i)
    for x, y in zip(a.projections, b.projections):
        np.testing.assert_array_equal(x.w, y.w)
