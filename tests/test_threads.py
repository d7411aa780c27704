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
import neuromorph.simulator as simulator

TESTS = Path(__file__).parent

SCRIPT = r"""
import hashlib, json, sys
import numba
import numpy as np
sys.path.insert(0, sys.argv[1])
import neuromorph as nm
import neuromorph.simulator
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
for n in (1, 2, 4, "2 regions"):
    # "2 regions": two threads, one parallel region per step (not a team of threads)
    nm.simulator.TEAM = n != "2 regions"
    nm.set_num_threads(2 if n == "2 regions" else n)
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
    """1, 2 and 4 threads (a team where there are cores for it) and 2 threads with one
    parallel region per step give the same spikes and weights."""
    (d1, n1, m1), (d2, n2, m2), (d4, n4, m4), (d2r, n2r, m2r) = runs[name]
    assert n1 > 500            # the network is active ...
    assert m1 > 0.1            # ... and learns: the digest covers something that moves
    assert n1 == n2 == n4 == n2r
    assert d1 == d2 == d4 == d2r


def _cuba(seed=4):
    net = nm.Network(dt=0.1, seed=seed)
    inp = net.poisson(200, rate=40.0)
    pop = net.lif(400, tau_m=20.0, v_rest=-60.0, v_reset=-60.0, v_th=-50.0, t_ref=5.0,
                  v_init=nm.uniform(-60.0, -50.0))
    net.connect(inp, pop, p=0.1, w=4.0)
    net.connect(pop[:320], pop, p=0.05, w=0.6, delay=1.0)
    net.connect(pop[320:], pop, p=0.05, w=-3.0)
    return net, net.spike_monitor(pop)


def test_two_threads_run_as_a_team(monkeypatch):
    """With a core per thread the engine's threads meet at barriers, not regions."""
    monkeypatch.setattr(simulator, "_usable_cores", lambda: 2)
    nm.set_num_threads(2)
    try:
        net, mon = _cuba()
        net.run(20.0)
        assert net._sim.buffers.sync.shape[0] > 0
        ref, ref_mon = _cuba()
        nm.set_num_threads(1)
        ref.run(20.0)
        np.testing.assert_array_equal(mon.i, ref_mon.i)
        assert mon.num_spikes > 50
    finally:
        nm.set_num_threads(1)


def test_team_that_cannot_meet_falls_back_to_regions(monkeypatch):
    """If numba runs the team's members one after the other (here: its pool set to one
    thread behind the engine's back), the first gives up at check-in, nothing is done
    twice, and the engine warns and uses one parallel region per step."""
    real = numba.set_num_threads
    nm.set_num_threads(2)
    try:
        net, mon = _cuba()
        monkeypatch.setattr(simulator, "_usable_cores", lambda: 2)
        net.run(1.0)
        monkeypatch.setattr(numba, "set_num_threads", lambda n: real(1))
        with pytest.warns(RuntimeWarning, match="falling back"):
            net.run(20.0)
        assert net._sim.buffers.sync.shape[0] == 0
        monkeypatch.setattr(numba, "set_num_threads", real)
        net.run(10.0)
        nm.set_num_threads(1)
        ref, ref_mon = _cuba()
        ref.run(31.0)
        np.testing.assert_array_equal(mon.steps, ref_mon.steps)
        np.testing.assert_array_equal(mon.i, ref_mon.i)
    finally:
        real(numba.config.NUMBA_NUM_THREADS)
        nm.set_num_threads(1)


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
