"""Per-synapse memory of the compiled engine: every synapse is stored once.

Bytes per synapse (see :mod:`neuromorph.kernels.bundles`): static with a constant
weight and delay: 4 (``post``); a weight array adds 8, a delay array 4; plastic
projections add the transpose index (8); R-STDP the eligibility (16).
"""
import numpy as np
import pytest

import neuromorph as nm


def per_synapse_bytes(net):
    """Bytes of the engine's arrays that grow with the number of synapses."""
    sim = net._sim
    syn, pl = sim.synapses, sim.plasticity
    arrays = (syn.post, syn.w, syn.delay, pl.col_syn, pl.col_pre, pl.elig, pl.elig_step)
    return sum(a.nbytes for a in arrays)


def build(kind, n=400, p=0.1):
    net = nm.Network(dt=0.1, seed=3)
    inp = net.poisson(n, rate=10.0)
    P = net.lif(n)
    if kind == "rstdp":
        net.reward_signal(100.0)
    rules = {"stdp": nm.STDP(w_min=0.0, w_max=1.0),
             "rstdp": nm.RSTDP(w_min=0.0, w_max=1.0)}
    proj = net.connect(inp, P, p=p, plasticity=rules.get(kind),
                       w=nm.uniform(0.0, 1.0) if kind in ("array", "stdp", "rstdp") else 0.5,
                       delay=(np.random.default_rng(0).integers(0, 20, (n, n)) * 0.1
                              if kind == "delays" else 0.0))
    net.run(0.1)
    return net, proj


@pytest.mark.parametrize("kind,expected", [("constant", 4), ("array", 12), ("stdp", 20),
                                           ("rstdp", 36)])
def test_bytes_per_synapse(kind, expected):
    net, proj = build(kind)
    assert proj.n_synapses > 10000
    assert per_synapse_bytes(net) == expected * proj.n_synapses


def test_random_delays_store_one_int32_each():
    net, proj = build("delays")
    assert per_synapse_bytes(net) == (4 + 4) * proj.n_synapses


def test_projection_arrays_are_views_on_the_engine():
    net, proj = build("stdp")
    sim = net._sim
    assert np.shares_memory(proj.targets, sim.synapses.post)
    assert np.shares_memory(proj.w, sim.synapses.w)
    const_net, const = build("constant")
    assert const.w_const == 0.5 and const_net._sim.synapses.w.size == 0
    # reading w of a constant projection creates the array; the engine then uses it
    const.w[:5] = 2.0
    const_net.run(1.0)
    assert np.shares_memory(const.w, const_net._sim.synapses.w)
    assert const.w[:5].tolist() == [2.0] * 5 and const.w_const is None


def test_sources_rowptr_and_targets_describe_the_same_synapses():
    net, proj = build("array", n=50, p=0.3)
    dense = proj.weights
    pre, post = np.nonzero(dense)
    np.testing.assert_array_equal(proj.sources, pre)
    np.testing.assert_array_equal(proj.targets, post)
    np.testing.assert_array_equal(np.diff(proj.rowptr), np.bincount(pre, minlength=50))
