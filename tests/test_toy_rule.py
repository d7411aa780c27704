"""A new learning rule is added by writing its description, its kernels and this test.

Nothing else of neuromorph is touched: ``HandWrittenPairSTDP`` below is additive pair
STDP written from scratch as two small numba kernels. The engine runs it through its
kernel hooks (:mod:`neuromorph.kernels.hooks`); the oracle is the built-in
:class:`~neuromorph.STDP` on the same network, which must give bit-identical spikes and
weights, on one thread and on two.
"""
from dataclasses import dataclass

import numpy as np
import pytest
import numba
from numba import njit

import neuromorph as nm
from neuromorph import descriptions as D
from neuromorph.kernels.hooks import POST_SIGNATURE, PRE_SIGNATURE


# -- the rule ----------------------------------------------------------------------------
@dataclass(frozen=True)
class HandWrittenPairSTDP:
    """Additive pair STDP: pre spike ``w += a_minus x_post``, post spike
    ``w += a_plus x_pre``, clipped to ``[w_min, w_max]`` after each change."""

    tau_pre: float = 20.0    # ms
    tau_post: float = 20.0   # ms
    a_plus: float = 0.01     # mV
    a_minus: float = -0.012  # mV
    w_min: float = 0.0       # mV
    w_max: float = 1.0       # mV


# -- its kernels (params: the row laid out as descriptions.RULE_COLUMNS) ---------------------
@njit(PRE_SIGNATURE, cache=False)
def on_pre(a, b, step, w, post, x_post, params):
    for s in range(a, b):
        w[s] = min(max(w[s] + params[1] * x_post[post[s]], params[2]), params[3])


@njit(POST_SIGNATURE, cache=False)
def on_post(lo, hi, step, w, col_syn, col_pre, x_pre, params):
    for k in range(lo, hi):
        s = col_syn[k]
        w[s] = min(max(w[s] + params[0] * x_pre[col_pre[k]], params[2]), params[3])


# -- its description -------------------------------------------------------------------------
class HandWrittenPairSTDPDescription(D.RuleDescription):
    name = "HandWrittenPairSTDP"
    cls = HandWrittenPairSTDP
    parameters = (D.Parameter("tau_pre", "ms", "decay of the pre trace"),
                  D.Parameter("tau_post", "ms", "decay of the post trace"),
                  D.Parameter("a_plus", "mV", "potentiation per unit pre trace"),
                  D.Parameter("a_minus", "mV", "depression per unit post trace"),
                  D.Parameter("w_min", "mV", "lower bound"),
                  D.Parameter("w_max", "mV", "upper bound"))
    kernel_kind, kernel_kind_name = D.CUSTOM_KIND, "CUSTOM_KIND"
    engine_kernels = (on_pre, on_post)
    file_kind = "HandWrittenPairSTDP"

    def engine_parameters(self, rule, dt, modulator=None):
        return {"a_plus": rule.a_plus, "a_minus": rule.a_minus, "w_min": rule.w_min,
                "w_max": rule.w_max, "decay_pre": np.exp(-dt / rule.tau_pre),
                "decay_post": np.exp(-dt / rule.tau_post), "nearest": 0.0}


@pytest.fixture
def registered():
    desc = D.register(HandWrittenPairSTDPDescription())
    yield desc
    D.unregister(HandWrittenPairSTDP)


def network(rule, second_rule=None):
    net = nm.Network(dt=0.1, seed=11)
    inp = net.poisson(60, rate=30.0)
    out = net.lif(20, tau_m=10.0, v_rest=-60.0, v_reset=-65.0, v_th=-54.0,
                  v_init=nm.uniform(-65.0, -55.0))
    proj = net.connect(inp, out, p=0.5, w=nm.uniform(0.0, 4.0), plasticity=rule, delay=0.2)
    net.connect(out, out, p=0.2, w=-0.5, allow_self=False)
    other = None
    if second_rule is not None:  # a second plastic projection with the built-in rule
        other = net.connect(inp, out, p=0.3, w=nm.uniform(0.0, 4.0), plasticity=second_rule)
    mon = net.spike_monitor(out)
    return net, proj, other, mon


@pytest.mark.parametrize("threads", [1, 2])
def test_hand_written_rule_equals_the_built_in_stdp(registered, threads):
    kw = dict(tau_pre=20.0, tau_post=20.0, a_plus=0.04, a_minus=-0.048, w_min=0.0, w_max=4.0)
    nm.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        toy, toy_proj, _, toy_mon = network(HandWrittenPairSTDP(**kw))
        ref, ref_proj, _, ref_mon = network(nm.STDP(**kw))
        w0 = toy_proj.w.copy()
        toy.run(500.0)
        ref.run(500.0)
    finally:
        nm.set_num_threads(1)
    assert toy_mon.num_spikes > 300
    np.testing.assert_array_equal(toy_mon.steps, ref_mon.steps)
    np.testing.assert_array_equal(toy_mon.i, ref_mon.i)
    assert np.abs(toy_proj.w - w0).max() > 0.2           # it learned ...
    np.testing.assert_array_equal(toy_proj.w, ref_proj.w)  # ... exactly as STDP does


def test_hand_written_rule_next_to_a_built_in_one(registered):
    kw = dict(tau_pre=15.0, tau_post=30.0, a_plus=0.08, a_minus=-0.04, w_min=0.0, w_max=4.0)
    toy, toy_proj, toy_other, _ = network(HandWrittenPairSTDP(**kw), nm.STDP(**kw))
    ref, ref_proj, ref_other, _ = network(nm.STDP(**kw), nm.STDP(**kw))
    toy.run(300.0)
    ref.run(300.0)
    np.testing.assert_array_equal(toy_proj.w, ref_proj.w)
    np.testing.assert_array_equal(toy_other.w, ref_other.w)


def test_unregistered_rule_is_refused_by_connect():
    net = nm.Network(dt=0.1)
    with pytest.raises(TypeError, match="plasticity must be one of"):
        net.connect(net.poisson(2, rate=1.0), net.lif(2), w=0.5,
                    plasticity=HandWrittenPairSTDP())
