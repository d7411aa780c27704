"""The engine on several threads: bit-identical spikes and weights for 1, 2 and 4 threads.

Runs in a subprocess started with ``NUMBA_NUM_THREADS=4`` (numba fixes its pool size at
start-up), on this machine's cores whatever their number.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import neuromorph as nm

TESTS = Path(__file__).parent

SCRIPT = r"""
import hashlib, json, sys
import numba
import numpy as np
sys.path.insert(0, sys.argv[1])
import neuromorph as nm
from helpers import random_network, rstdp_network


def digest(net, mons):
    h = hashlib.sha256()
    n_spikes = 0
    for m in mons:
        h.update(m.steps.tobytes()); h.update(m.i.tobytes())
        n_spikes += m.num_spikes
    changed = 0
    for pr in net.projections:
        w = pr.w
        h.update(np.ascontiguousarray(w).tobytes())
        if pr.eligibility is not None:
            h.update(pr.eligibility.tobytes())
    return h.hexdigest(), n_spikes


def plastic():
    net = random_network(seed=3, delays=True, adaptive=True)
    return net, None


def plastic_step_clip():
    net = random_network(seed=5, delays=False, dependence="multiplicative", clip="step")
    return net, None


def rstdp():
    net, reward = rstdp_network(seed=2)
    return net, reward


def triplet():
    net = nm.Network(dt=0.1, seed=7)
    inp = net.poisson(50, rate=40.0)
    post = net.lif(30, tau_m=10.0, v_rest=-58.0, v_reset=-70.0, v_th=-55.0,
                   v_init=nm.uniform(-70.0, -56.0))
    rule = nm.TripletSTDP(tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=125.0,
                          a2_plus=0.05, a3_plus=0.06, a2_minus=-0.07, a3_minus=-0.002,
                          w_min=0.0, w_max=3.0)
    net.connect(inp, post, p=0.5, w=nm.uniform(0.0, 3.0), plasticity=rule, delay=0.3)
    net.connect(post, post, p=0.2, w=-1.0, allow_self=False)
    return net, None


out = {}
for n in (1, 2, 4):
    nm.set_num_threads(n)
    assert nm.get_num_threads() == n
    for name, build in (("plastic", plastic), ("plastic_step_clip", plastic_step_clip),
                        ("rstdp", rstdp), ("triplet", triplet)):
        net, reward = build()
        w0 = [np.array(pr.w) for pr in net.projections]
        mons = [net.spike_monitor(p) for p in net.populations]
        if reward is None:
            net.run(150.0)
            net.run(100.0)  # a second call: state carried over between calls
        else:
            def cb(net, reward=reward):
                reward.deliver(1.0 if net.t % 20.0 < 10.0 else -0.5)
            net.run(250.0, callback=cb, every=5.0)
        moved = max(float(np.abs(pr.w - a).max()) for pr, a in zip(net.projections, w0)
                    if pr.plasticity is not None)
        d, n_spk = digest(net, mons)
        out.setdefault(name, []).append([d, n_spk, moved])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def runs():
    env = dict(os.environ, NUMBA_NUM_THREADS="4")
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(TESTS)], env=env,
                         capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["plastic", "plastic_step_clip", "rstdp", "triplet"])
def test_spikes_and_weights_identical_for_1_2_4_threads(runs, name):
    (d1, n1, m1), (d2, n2, m2), (d4, n4, m4) = runs[name]
    assert n1 > 500            # the network is active ...
    assert m1 > 0.1            # ... and learns: the digest covers something that moves
    assert n1 == n2 == n4
    assert d1 == d2 == d4


def test_set_num_threads_validates():
    with pytest.raises(ValueError, match="n must be in"):
        nm.set_num_threads(0)
    with pytest.raises(TypeError, match="integer"):
        nm.set_num_threads(1.5)
    with pytest.raises(ValueError, match="NUMBA_NUM_THREADS"):
        nm.set_num_threads(10**6)


def test_changing_threads_between_runs_of_one_network_changes_nothing():
    """Re-partitioning a compiled network between two runs keeps the trajectory."""
    import sys as _sys
    _sys.path.insert(0, str(TESTS))
    from helpers import random_network

    def run(switch):
        nm.set_num_threads(1)
        net = random_network(seed=8)
        mon = net.spike_monitor(net.populations[2])
        net.run(100.0)
        if switch:
            nm.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        net.run(100.0)
        nm.set_num_threads(1)
        return mon.steps.copy(), mon.i.copy(), [pr.w.copy() for pr in net.projections]

    a, b = run(False), run(True)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert len(a[0]) > 100
    for x, y in zip(a[2], b[2]):
        np.testing.assert_array_equal(x, y)
