"""Connectivity builders: statistics, structure, and the dense/sparse round trip."""
import numpy as np
import pytest
import scipy.sparse as sp

import neuromorph as nm
from neuromorph import connectivity


def test_fixed_probability_count_and_uniformity():
    rng = np.random.default_rng(0)
    n_pre, n_post, p = 700, 900, 0.02
    rowptr, post = connectivity.csr_bernoulli(n_pre, n_post, p, rng)
    pre = np.repeat(np.arange(n_pre), np.diff(rowptr))
    mean, sd = p * n_pre * n_post, np.sqrt(p * (1 - p) * n_pre * n_post)
    assert abs(len(pre) - mean) < 5 * sd
    assert len(set(zip(pre.tolist(), post.tolist()))) == len(pre)  # no duplicates
    assert np.all(np.diff(pre) >= 0)                                # CSR order
    # in-degree distribution is binomial(n_pre, p): check mean and variance
    indeg = np.bincount(post, minlength=n_post)
    assert abs(indeg.mean() - n_pre * p) < 0.5
    assert abs(indeg.var() / (n_pre * p * (1 - p)) - 1) < 0.2


def test_fixed_probability_huge_population_costs_only_synapses():
    rng = np.random.default_rng(1)
    rowptr, post = connectivity.csr_bernoulli(64000, 64000, 80 / 64000, rng)
    assert abs(len(post) / 64000 - 80) < 1.0
    assert rowptr.dtype == np.int64 and post.dtype == np.int32
    assert post.max() < 64000


def test_no_self_connections_when_asked():
    net = nm.Network(seed=1)
    P = net.lif(50)
    proj = net.connect(P, P, p=1.0, w=1.0, allow_self=False)
    assert proj.n_synapses == 50 * 49
    assert not np.any(proj.sources == proj.targets)
    # views: P[10:30] -> P[20:40] overlap on 20..29 (view-local 10..19 -> 0..9)
    proj = net.connect(P[10:30], P[20:40], w=1.0, allow_self=False)
    assert proj.n_synapses == 400 - 10
    assert not np.any(proj.sources + 10 == proj.targets + 20)
    with_self = net.connect(P, P, p=1.0, w=1.0)
    assert with_self.n_synapses == 2500


def test_one_to_one_and_all_to_all():
    net = nm.Network(seed=1)
    A, B = net.lif(7), net.lif(7)
    one = net.connect(A, B, w=2.0, connectivity_rule="one_to_one")
    np.testing.assert_array_equal(one.weights, 2.0 * np.eye(7))
    full = net.connect(A, B, w=nm.uniform(1.0, 2.0))
    assert full.n_synapses == 49 and np.all((full.weights >= 1) & (full.weights < 2))


@pytest.mark.parametrize("sparse", [False, True])
def test_matrix_round_trip_with_delays_and_mixed_signs(sparse):
    rng = np.random.default_rng(2)
    W = rng.normal(0, 2, (6, 9)) * (rng.random((6, 9)) < 0.5)
    D = rng.integers(0, 20, (6, 9)) * 0.1
    net = nm.Network(dt=0.1, seed=0)
    src = net.spike_source(6, indices=[0], times=[0.0])
    P = net.lif(9)
    proj = net.connect(src, P, matrix=sp.csr_matrix(W) if sparse else W, delay=D)
    np.testing.assert_array_equal(proj.weights, W)
    np.testing.assert_allclose(proj.delays, np.where(W != 0, D, 0.0), atol=1e-12)
    assert proj.n_synapses == np.count_nonzero(W)
    np.testing.assert_array_equal(proj.to_sparse().toarray(), W)


def test_weights_setter_validates_and_writes_in_place():
    net = nm.Network(seed=0)
    A, B = net.lif(3), net.lif(4)
    proj = net.connect(A, B, w=1.0)
    W = np.arange(12, dtype=float).reshape(3, 4) + 1
    proj.weights = W
    np.testing.assert_array_equal(proj.weights, W)
    with pytest.raises(ValueError):
        proj.weights = np.ones((4, 3))
    with pytest.raises(ValueError):
        proj.weights = np.full((3, 4), np.nan)
    np.testing.assert_array_equal(proj.weights, W)


def test_population_views():
    net = nm.Network(seed=0)
    P = net.lif(100)
    V = P[20:50]
    assert (V.start, V.stop, len(V)) == (20, 50, 30)
    W = V[5:10]
    assert (W.population, W.start, W.stop) == (P, 25, 30)
    assert P[-1].start == 99 and len(P[100:]) == 0
    with pytest.raises(IndexError, match="out of range"):
        P[200:]  # it used to clip silently (as Python lists and Brian2 2.9 do)
    V.v[:] = -60.0
    assert np.all(P.v[20:50] == -60.0) and P.v[19] == -65.0


def test_normalize_incoming_weights():
    net = nm.Network(seed=3)
    A, B = net.lif(40), net.lif(6)
    proj = net.connect(A, B, p=0.5, w=nm.uniform(0.1, 1.0))
    before = proj.weights.copy()
    proj.normalize(7.8)
    np.testing.assert_allclose(proj.weights.sum(axis=0), 7.8)
    ratio = proj.weights[before > 0] / before[before > 0]
    cols = np.nonzero(before > 0)[1]
    for c in range(6):  # one scale per postsynaptic neuron
        np.testing.assert_allclose(ratio[cols == c], ratio[cols == c][0])
    with pytest.raises(TypeError):
        proj.normalize("a lot")
