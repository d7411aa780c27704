"""LoihiLIF in the core: kernel vs NumPy reference, hand-computed Lava arithmetic,
engine vs reference loop, validation."""
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.descriptions import describe
from neuromorph.kernels import loihi
from neuromorph.kernels.reference import run_reference
from neuromorph.simulator import Simulator

from loihi_nets import recurrent_loihi_network


def _lava_fixed_scalar(u, v, a_in, du, dv, vth, bias):
    """One neuron, one step, in plain Python integers (Lava's PyLifModelBitAcc)."""
    def trunc(x):
        return -((-x) >> 12) if x < 0 else x >> 12
    u = trunc(u * (4096 - (du + 1))) + (a_in << 6)
    if u > 2**23:
        u -= 2**24
    elif u <= -2**23:
        u += 2**24
    v = min(max(trunc(v * (4096 - dv)) + u + bias, -(2**23) + 1), 2**23 - 1)
    return u, (0 if v > vth << 6 else v), v > vth << 6


@pytest.mark.parametrize("fixed", [True, False])
def test_loihi_step_matches_reference(fixed):
    rng = np.random.default_rng(2)
    n = 3000
    if fixed:
        model = nm.LoihiLIF(du=300, dv=4095, vth=1000, bias_mant=-77, bias_exp=5,
                            fixed_point=True)
        # large states exercise the 24-bit wrap of u and the clip of v
        u = rng.integers(-2**23 + 1, 2**23, n).astype(float)
        v = rng.integers(-2**23 + 1, 2**23, n).astype(float)
        ie = rng.integers(0, 3000, n).astype(float)
        ii = rng.integers(-3000, 1, n).astype(float)
    else:
        model = nm.LoihiLIF(du=0.3, dv=0.01, vth=5.0, bias_mant=0.25)
        u, v = rng.normal(0, 3, n), rng.normal(3, 3, n)
        ie, ii = rng.uniform(0, 2, n), rng.uniform(-2, 0, n)
    coef = describe(model).engine_row(model, 1.0)
    exp_v, exp_u, exp_s = loihi.loihi_step_reference(coef, fixed, v, u, ie + ii)
    spikes = np.zeros(n, np.int32)
    k = loihi.loihi_step(coef, 0, n, fixed, v, u, ie, ii, np.zeros(n), spikes, 0)
    assert 0 < k < n
    np.testing.assert_array_equal(spikes[:k], np.nonzero(exp_s)[0])
    np.testing.assert_array_equal(v, exp_v)
    np.testing.assert_array_equal(u, exp_u)
    assert not ie.any() and not ii.any()  # the input buffer is consumed


def test_fixed_point_matches_scalar_lava_arithmetic():
    rng = np.random.default_rng(5)
    du, dv, vth, bias_mant, bias_exp = 4095, 17, 2000, 4095, 7
    model = nm.LoihiLIF(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp,
                        fixed_point=True)
    coef = describe(model).engine_row(model, 1.0)
    u = rng.integers(-2**23 + 1, 2**23, 400)
    v = rng.integers(-2**23 + 1, 2**23, 400)
    a = rng.integers(-40000, 40000, 400)
    uu, vv = u.astype(float), v.astype(float)
    spikes = np.zeros(400, np.int32)
    ie, ii = np.maximum(a, 0).astype(float), np.minimum(a, 0).astype(float)
    loihi.loihi_step(coef, 0, 400, True, vv, uu, ie, ii, np.zeros(400), spikes, 0)
    for j in range(400):
        eu, ev, _ = _lava_fixed_scalar(int(u[j]), int(v[j]), int(a[j]), du, dv, vth,
                                       bias_mant << bias_exp)
        assert (uu[j], vv[j]) == (eu, ev)


def test_single_neuron_trajectory_by_hand():
    # du=0 -> u decays by 4095/4096 (Lava's ds_offset); dv=0 -> no leak; bias 2*2**3
    net = nm.Network(dt=1.0, seed=0)
    src = net.spike_source(1, indices=np.array([0]), times=np.array([0.0]))
    P = net.loihi_lif(1, du=0, dv=0, vth=2000, bias_mant=2, bias_exp=3, fixed_point=True)
    net.connect(src, P, w=254.0)
    su, sv = net.state_monitor(P, "u"), net.state_monitor(P, "v")
    net.run(5.0)
    # step 0: no input yet; the spike of step 0 arrives in step 1 (Lava's Dense timing)
    u1 = 254 * 64
    u2 = (u1 * 4095) >> 12
    u3 = (u2 * 4095) >> 12
    assert su.values[:, 0].tolist() == [0, 0, u1, u2, u3]
    assert sv.values[:, 0].tolist() == [0, 16, 16 + 16 + u1, 16 + 16 + u1 + 16 + u2,
                                         16 + 16 + u1 + 16 + u2 + 16 + u3]


@pytest.mark.parametrize("fixed,delays", [(True, True), (False, True), (True, False)])
def test_engine_matches_reference_loop(fixed, delays):
    fast = recurrent_loihi_network(fixed_point=fixed, delays=delays, n_steps=400)
    slow = recurrent_loihi_network(fixed_point=fixed, delays=delays, n_steps=400)
    mons = [fast.spike_monitor(p) for p in fast.populations]
    fast.run(400.0)
    sim = Simulator(slow)
    steps, gidx = run_reference(sim, 400)
    got = set()
    for m, p in zip(mons, fast.populations):
        got |= set(zip(m.steps.tolist(), (m.i + sim.gstart[slow.populations[
            fast.populations.index(p)]]).tolist()))
    assert got == set(zip(steps.tolist(), gidx.tolist()))
    n_neuron_spikes = sum(m.num_spikes for m, p in zip(mons, fast.populations) if p.is_lif)
    assert n_neuron_spikes > 300
    for pf, ps in zip(fast.populations, slow.populations):
        if pf.is_loihi:  # fixed point exact; float up to summation order of the inputs
            tol = 0.0 if fixed else 1e-9
            np.testing.assert_allclose(pf.v, ps.v, rtol=0, atol=tol)
            np.testing.assert_allclose(pf.population.state["u"], ps.population.state["u"],
                                       rtol=0, atol=tol)


def test_mixed_lif_and_loihi_populations_run_together():
    net = nm.Network(dt=1.0, seed=1)
    a = net.lif(5, tau_m=10.0, v_rest=0.0, v_reset=0.0, v_th=1.0)
    b = net.loihi_lif(5, du=0.1, dv=0.1, vth=1.0, bias_mant=0.3)
    net.connect(b, a, w=0.8)
    net.connect(a, b, w=-0.2)
    ma, mb = net.spike_monitor(a), net.spike_monitor(b)
    net.run(100.0)
    assert ma.num_spikes > 0 and mb.num_spikes > 0


@pytest.mark.parametrize("kwargs,err,match", [
    (dict(du=4096, fixed_point=True), ValueError, r"du must be an integer in \[0, 4095\]"),
    (dict(dv=0.5, fixed_point=True), TypeError, "dv must be an integer"),
    (dict(vth=2**17, fixed_point=True), ValueError, r"vth .*\[0, 131071\]"),
    (dict(bias_mant=4096, fixed_point=True), ValueError, r"bias_mant .*\[-4096, 4095\]"),
    (dict(bias_exp=8, fixed_point=True), ValueError, r"bias_exp .*\[0, 7\]"),
    (dict(du=1.5), ValueError, r"du must be a probability in \[0, 1\]"),
    (dict(bias_exp=2), ValueError, "bias_exp must be 0 in floating point"),
    (dict(fixed_point="yes"), TypeError, "fixed_point must be a bool"),
    (dict(v_init=0.5, fixed_point=True, vth=10, du=0, dv=0), ValueError, "v_init must be integers"),
])
def test_loihi_lif_validation(kwargs, err, match):
    net = nm.Network(dt=1.0)
    with pytest.raises(err, match=match):
        net.loihi_lif(3, **kwargs)
    assert net.populations == []


def test_fixed_point_rejects_non_integer_weights_currents_and_plasticity():
    net = nm.Network(dt=1.0)
    P = net.loihi_lif(3, du=0, dv=0, vth=10, fixed_point=True)
    src = net.spike_source(3, indices=np.array([0]), times=np.array([1.0]))
    net.connect(src, P, w=2.5, name="half")
    with pytest.raises(ValueError, match="projection 'half' .* integers in \\[-255, 255\\]"):
        net.run(2.0)
    with pytest.raises(ValueError, match=r"amplitude must hold integers in \[-524288, 524160\]"):
        net.current(P, 1.5)
    with pytest.raises(ValueError, match="amplitude must hold integers"):
        net.current(P, 4095 * 128 + 1)
    with pytest.raises(TypeError, match="plasticity onto fixed-point LoihiLIF"):
        net.connect(src, P, w=1.0, plasticity=nm.STDP())
    with pytest.raises(ValueError, match=r"var must be one of \['v', 'u'\]"):
        net.state_monitor(P, "I_exc")


def test_save_and_load_continue_bit_identically(tmp_path):
    whole = recurrent_loihi_network(fixed_point=True, delays=True, n_steps=300)
    mon = whole.spike_monitor(whole.populations[2])
    whole.run(300.0)
    half = recurrent_loihi_network(fixed_point=True, delays=True, n_steps=300)
    half.run(150.0)
    half.save(tmp_path / "net.npz")
    resumed = nm.Network.load(tmp_path / "net.npz")
    assert resumed.populations[1].model == half.populations[1].model
    mon2 = resumed.spike_monitor(resumed.populations[2])
    resumed.run(150.0)
    late = mon.steps >= 150
    np.testing.assert_array_equal(mon2.steps, mon.steps[late])
    np.testing.assert_array_equal(mon2.i, mon.i[late])
    for a, b in zip(whole.populations[1:], resumed.populations[1:]):
        np.testing.assert_array_equal(a.v, b.v)
