"""Bad input raises a clear error before any work and leaves the network unchanged."""
import numpy as np
import pytest
import scipy.sparse as sp

import neuromorph as nm

LIF = dict(tau_m=20.0, v_rest=-65.0, v_reset=-70.0, v_th=-50.0)


def fresh():
    net = nm.Network(dt=0.1, seed=5)
    P = net.lif(20, **LIF)
    src = net.spike_source(5, indices=[0, 1], times=[1.0, 2.0])
    return net, P, src


def snapshot(net):
    return (len(net.populations), len(net.projections), len(net.currents), len(net.monitors),
            net._n_draws, net.step)


@pytest.mark.parametrize("kwargs,match", [
    (dict(tau_m=0.0), "tau_m"), (dict(tau_m=-5.0), "tau_m"),
    (dict(tau_syn_exc=0.0), "tau_syn_exc"), (dict(tau_syn_inh=-1.0), "tau_syn_inh"),
    (dict(v_reset=-50.0), "v_reset"), (dict(v_reset=-40.0), "v_reset"),
    (dict(t_ref=-1.0), "t_ref"), (dict(t_ref=0.25), "t_ref"),
    (dict(t_ref=3e8), "2\*\*31"),  # the refractory counter is 32 bits
    (dict(tau_m=float("nan")), "tau_m"), (dict(v_th=float("inf")), "v_th"),
    (dict(v_init=np.zeros(3)), "v_init"), (dict(v_init=[np.nan] * 20), "v_init"),
])
def test_bad_lif_parameters(kwargs, match):
    net, P, src = fresh()
    before = snapshot(net)
    with pytest.raises(ValueError, match=match):
        net.lif(20, **{**LIF, **kwargs})
    assert snapshot(net) == before


@pytest.mark.parametrize("call,exc,match", [
    (lambda n, P, s: n.connect(s, P, p=1.5, w=1.0), ValueError, "probability"),
    (lambda n, P, s: n.connect(s, P, p=-0.1, w=1.0), ValueError, "probability"),
    (lambda n, P, s: n.connect(s, P, p=0.5, w=np.nan), ValueError, "finite"),
    (lambda n, P, s: n.connect(s, P, p=0.5, w=np.inf), ValueError, "finite"),
    (lambda n, P, s: n.connect(s, P, matrix=np.ones((4, 20))), ValueError, "shape"),
    (lambda n, P, s: n.connect(s, P, matrix=sp.random(5, 19, 0.5)), ValueError, "shape"),
    (lambda n, P, s: n.connect(s, P, matrix=np.full((5, 20), np.nan)), ValueError, "finite"),
    (lambda n, P, s: n.connect(s, P, w=np.ones((5, 3))), ValueError, "shape"),
    (lambda n, P, s: n.connect(s, P, w=1.0, delay=-1.0), ValueError, "delay"),
    (lambda n, P, s: n.connect(s, P, w=1.0, delay=0.25), ValueError, "multiple of dt"),
    (lambda n, P, s: n.connect(s, P, w=1.0, delay=np.full((5, 20), 0.05)), ValueError, "multiple"),
    (lambda n, P, s: n.connect(s, P, w=1.0, delay=np.ones((2, 2))), ValueError, "shape"),
    (lambda n, P, s: n.connect(s, P, w=1.0, weight=2.0), TypeError, "weight"),
    (lambda n, P, s: n.connect(s, P, p=0.5, matrix=np.ones((5, 20))), TypeError, "only one"),
    (lambda n, P, s: n.connect(s, P, matrix=np.ones((5, 20)), w=1.0), TypeError, "matrix"),
    (lambda n, P, s: n.connect(s, P, p=0.5), TypeError, "weights"),
    (lambda n, P, s: n.connect(P, s, w=1.0), TypeError, "LIF"),
    (lambda n, P, s: n.connect("P", P, w=1.0), TypeError, "pre"),
    (lambda n, P, s: n.connect(s, P, w=2.0, plasticity=nm.STDP(w_max=1.0)), ValueError, "w_max"),
    (lambda n, P, s: n.connect(s, P, w=1.0, plasticity="stdp"), TypeError, "plasticity"),
    (lambda n, P, s: n.connect(s, P[:3], w=1.0, connectivity_rule="one_to_one"), ValueError, "equal"),
    (lambda n, P, s: n.connect(s, P, w=1.0, connectivity_rule="ring"), ValueError, "connectivity_rule"),
    (lambda n, P, s: n.run(-1.0), ValueError, "duration"),
    (lambda n, P, s: n.run(0.05), ValueError, "multiple of dt"),
    (lambda n, P, s: n.run(10.0, steps=3), TypeError, "steps"),
    (lambda n, P, s: n.run("10"), TypeError, "duration"),
    (lambda n, P, s: n.lif(10, tau=3.0), TypeError, "tau"),
    (lambda n, P, s: n.lif(0), ValueError, "n"),
    (lambda n, P, s: n.lif(2.5), TypeError, "n"),
    (lambda n, P, s: n.poisson(10, rate=-1.0), ValueError, "rate"),
    (lambda n, P, s: n.poisson(10, rate=20000.0), ValueError, "rate"),
    (lambda n, P, s: n.poisson(10, rate=np.ones(3)), ValueError, "rate"),
    (lambda n, P, s: n.spike_source(3, indices=[0, 5], times=[1.0, 2.0]), ValueError, "indices"),
    (lambda n, P, s: n.spike_source(3, indices=[0, 1], times=[1.0]), ValueError, "shape"),
    (lambda n, P, s: n.spike_source(3, indices=[0, 1], times=[1.0, 1.05]), ValueError, "multiple"),
    (lambda n, P, s: n.spike_source(3, indices=[0, 0], times=[1.0, 1.0]), ValueError, "once per step"),
    (lambda n, P, s: n.spike_source(3, indices=[0, 1], times=[-1.0, 1.0]), ValueError, "times"),
    (lambda n, P, s: n.current(P, np.ones(3)), ValueError, "amplitude"),
    (lambda n, P, s: n.current(P, 1.0, start=5.0, stop=5.0), ValueError, "stop"),
    (lambda n, P, s: n.current(s, 1.0), TypeError, "LIF"),
    (lambda n, P, s: n.state_monitor(P, "u"), ValueError, "var"),
    (lambda n, P, s: n.state_monitor(P, "v", record=[0, 99]), ValueError, "record"),
    (lambda n, P, s: n.state_monitor(P, "v", every=0.0), ValueError, "every"),
    (lambda n, P, s: n.weight_monitor(P, every=1.0), TypeError, "Projection"),
    (lambda n, P, s: P[::2], ValueError, "contiguous"),
    (lambda n, P, s: P[25], IndexError, "out of range"),
])
def test_bad_calls_raise_and_change_nothing(call, exc, match):
    net, P, src = fresh()
    before = snapshot(net)
    with pytest.raises(exc, match=match):
        call(net, P, src)
    assert snapshot(net) == before


@pytest.mark.parametrize("kwargs,match", [
    (dict(tau_pre=0.0), "tau_pre"), (dict(tau_post=-2.0), "tau_post"),
    (dict(a_plus=-0.1), "a_plus"), (dict(a_minus=0.1), "a_minus"),
    (dict(w_min=1.0, w_max=1.0), "w_min"), (dict(weight_dependence="log"), "weight_dependence"),
    (dict(pairing="triplet"), "pairing"), (dict(a_plus=float("nan")), "a_plus"),
])
def test_bad_stdp_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nm.STDP(**kwargs)


def test_network_arguments():
    for kwargs, exc in ((dict(dt=0.0), ValueError), (dict(dt=-0.1), ValueError),
                        (dict(seed=-1), ValueError), (dict(seed=1.5), TypeError),
                        (dict(dt=0.1, clock=1), TypeError)):
        with pytest.raises(exc):
            nm.Network(**kwargs)


def test_failed_call_does_not_shift_later_random_draws():
    """A rejected connect consumes no randomness: what follows is as if it never happened."""
    a, Pa, sa = fresh()
    b, Pb, sb = fresh()
    with pytest.raises(ValueError):
        b.connect(sb, Pb, p=0.5, w=nm.uniform(0, 1), delay=0.33)
    pa = a.connect(sa, Pa, p=0.5, w=nm.uniform(0, 1))
    pb = b.connect(sb, Pb, p=0.5, w=nm.uniform(0, 1))
    np.testing.assert_array_equal(pa.weights, pb.weights)


def test_failed_run_leaves_state():
    net, P, src = fresh()
    net.connect(src, P, w=3.0)
    net.run(5.0)
    v = P.v.copy()
    with pytest.raises(ValueError):
        net.run(-5.0)
    assert net.t == pytest.approx(5.0)
    np.testing.assert_array_equal(P.v, v)


def _saved(net, folder):
    path = folder / "net.npz"
    net.save(path)
    return path


def test_populations_of_another_network_are_refused_where_they_are_passed(tmp_path):
    a, b = nm.Network(dt=0.1, seed=1), nm.Network(dt=0.1, seed=2)
    P, Q = a.lif(5), b.lif(5)
    src = b.poisson(3, rate=10.0)
    for call in (lambda: a.connect(P, Q, w=1.0), lambda: a.connect(src, P, w=1.0),
                 lambda: a.connect(P[:2], Q[1:], p=0.5, w=1.0), lambda: a.spike_monitor(Q),
                 lambda: a.state_monitor(Q[:2], "v"), lambda: a.rate_monitor(Q),
                 lambda: a.current(Q, 1.0)):
        with pytest.raises(ValueError, match=r"population '.*' belongs to another network "
                                             r"\(Network\(dt=0.1, seed=2.*not to this one "
                                             r"\(Network\(dt=0.1, seed=1"):
            call()
    pr = b.connect(src, Q, w=1.0)
    with pytest.raises(ValueError, match=r"belongs to another network \(Network\(dt=0.1, "
                                         r"seed=2.*not to this one \(Network\(dt=0.1, seed=1"):
        a.weight_monitor(pr, 1.0)
    c = nm.Network.load(_saved(b, tmp_path))  # a loaded network knows its parts too
    with pytest.raises(ValueError, match=r"another network \(Network\(dt=0.1, seed=2"):
        a.connect(c.populations[0], P, w=1.0)
    assert a.projections == [] and a.monitors == [] and a.currents == []
    a.run(1.0)  # nothing half-built


def test_slices_out_of_range_raise_index_error():
    net = nm.Network(dt=0.1, seed=1)
    P = net.lif(5)
    for key in (slice(3, 9), slice(-7, 2), slice(0, 6), slice(6, None)):
        with pytest.raises(IndexError, match=r"out of range for 5 neurons"):
            P[key]
    with pytest.raises(IndexError, match="out of range"):
        P[1:4][0:4]                 # views check their own size
    with pytest.raises(TypeError, match="slice bounds must be integers"):
        P[0.5:2]
    assert (P[3:5].start, P[3:5].stop) == (3, 5) and P[-2:].size == 2 and P[:].size == 5
    assert P[1:4][1:3].start == 2 and P[5:].size == 0


def test_one_unsupported_feature_class_for_every_backend():
    from neuromorph.backends import brian2, lava, nir
    from neuromorph.errors import LavaRuntimeError, UnsupportedFeature
    assert brian2.UnsupportedFeature is lava.UnsupportedFeature is nir.UnsupportedFeature \
        is UnsupportedFeature is nm.UnsupportedFeature
    assert issubclass(UnsupportedFeature, ValueError) and lava.LavaRuntimeError is LavaRuntimeError
    net = nm.Network(dt=0.1, seed=0)
    net.lif(3, t_ref=2.0)
    with pytest.raises(nm.UnsupportedFeature, match="refractory"):  # the shared class catches
        nir.to_nir(net)


@pytest.mark.parametrize("make", [
    lambda v: nm.Network(dt=v),
    lambda v: nm.STDP(tau_pre=v),
    lambda v: nm.TripletSTDP(tau_x=v),
    lambda v: nm.Network(dt=0.1).lif(3, tau_m=v),
    lambda v: __import__("neuromorph.models.rate", fromlist=["Backprop"]).Backprop(
        learning_rate=v).fit(np.zeros((4, 2)), [0, 1, 0, 1]),
    lambda v: __import__("neuromorph.models.spiking", fromlist=["x"]).RSTDPClassifier(
        t_present=v).fit(np.zeros((4, 2)), [0, 1, 0, 1]),
    lambda v: __import__("neuromorph.models.spiking", fromlist=["x"]).STDPClassifier(
        max_rate=v).fit(np.zeros((4, 2)), [0, 1, 0, 1]),
], ids=["Network.dt", "STDP.tau_pre", "TripletSTDP.tau_x", "lif.tau_m", "Backprop.learning_rate",
        "RSTDPClassifier.t_present", "STDPClassifier.max_rate"])
def test_one_numeric_rule_type_errors_and_value_errors(make):
    # one validator everywhere: a non-number is a TypeError naming the parameter, a
    # number out of range (or NaN) a ValueError naming the parameter and the range
    for bad_type in ("1.0", None, True):
        with pytest.raises(TypeError, match=r"must be a real number, got"):
            make(bad_type)
    for bad_value, match in ((-1.0, r"must be > 0.*got -1"), (float("nan"), "must be finite")):
        with pytest.raises(ValueError, match=match):
            make(bad_value)


def _loihi_stdp(**kw):
    from neuromorph.loihi import loihi_stdp_fixed
    args = dict(pre=([], []), post=([], []), w0=np.zeros((2, 2)), rule=nm.STDP(a_plus=16.0,
                a_minus=-16.0, w_min=0.0, w_max=255.0), n_steps=10)
    return loihi_stdp_fixed(**{**args, **kw})


def _rate_fit(**kw):
    from neuromorph.models.rate import Backprop
    return Backprop(**kw).fit(np.zeros((4, 2)), [0, 1, 0, 1])


@pytest.mark.parametrize("call,name,wrong_type,expected,out_of_range,allowed", [
    (lambda v: __import__("neuromorph.datasets", fromlist=["x"]).make_mnist1d(length=v),
     "length", 12.0, "an integer", 5, ">= 12"),
    (lambda v: __import__("neuromorph.datasets", fromlist=["x"]).make_mnist1d(noise=v),
     "noise", "0.1", "a real number", -1.0, ">= 0"),
    (lambda v: __import__("neuromorph.datasets", fromlist=["x"]).load_digits_split(test_size=v),
     "test_size", "0.2", "a real number", 1.0, r"in \(0, 1\)"),
    (lambda v: __import__("neuromorph.loihi", fromlist=["x"]).to_loihi(nm.Network(),
                                                                       max_weight=v),
     "max_weight", 8.0, "an integer", 256, r"in \[1, 255\]"),
    (lambda v: _loihi_stdp(n_steps=v), "n_steps", 10.0, "an integer", 0, ">= 1"),
    (lambda v: _loihi_stdp(trace_impulse=v), "trace_impulse", True, "an integer", 128,
     r"in \[1, 127\]"),
    (lambda v: _rate_fit(momentum=v), "momentum", None, "a real number", 1.0,
     r"in \[0, 1\)"),
    (lambda v: __import__("neuromorph.models.spiking", fromlist=["x"]).RSTDPClassifier(
        bias=v).fit(np.zeros((4, 2)), [0, 1, 0, 1]), "bias", "0", "a real number", 1.0,
     r"in \[0, 1\)"),
], ids=["make_mnist1d.length", "make_mnist1d.noise", "load_digits_split.test_size",
        "to_loihi.max_weight", "loihi_stdp_fixed.n_steps", "loihi_stdp_fixed.trace_impulse",
        "Backprop.momentum", "RSTDPClassifier.bias"])
def test_former_inline_checks_follow_the_one_rule(call, name, wrong_type, expected,
                                                  out_of_range, allowed):
    # these parameters had checks of their own that raised ValueError for a wrong type
    with pytest.raises(TypeError, match=rf"{name} must be {expected}, got"):
        call(wrong_type)
    with pytest.raises(ValueError, match=rf"{name} must be {allowed}, got {out_of_range}"):
        call(out_of_range)


def test_every_converter_refuses_a_non_network_with_the_same_message():
    from neuromorph.backends import brian2, lava, nir
    from neuromorph.loihi import to_loihi
    for convert in (brian2.to_brian2, lambda n: lava.to_lava(n, 10.0), nir.to_nir, to_loihi):
        with pytest.raises(TypeError, match="net must be a neuromorph Network, got dict"):
            convert({})
