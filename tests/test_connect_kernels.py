"""CSR connectivity kernels (:mod:`neuromorph.kernels.connect`): statistics, layout,
determinism, edge cases, matrices and the column index against NumPy/scipy references."""
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from neuromorph.kernels import connect as C


def _check_layout(rowptr, post, n_pre, n_post):
    """CSR invariants every builder promises."""
    assert rowptr.dtype == np.int64 and post.dtype == np.int32
    assert rowptr.shape == (n_pre + 1,) and rowptr[0] == 0 and rowptr[-1] == post.size
    assert np.all(np.diff(rowptr) >= 0)
    if post.size:
        assert post.min() >= 0 and post.max() < n_post
        d = np.diff(post.astype(np.int64))
        row_start = np.zeros(post.size, bool)
        row_start[rowptr[:-1][rowptr[:-1] < post.size]] = True
        # strictly increasing inside each row (a decrease is only allowed at a row start)
        assert np.all((d > 0) | row_start[1:])


def _pairs(rowptr, post):
    return set(zip(C.sources_of(rowptr).tolist(), post.tolist()))


def _chi2_pvalue(observed, expected, min_expected=5.0):
    """Chi-square p-value after merging neighbouring bins until each expects >= 5."""
    obs, exp, o, e = [], [], 0.0, 0.0
    for oi, ei in zip(observed, expected):
        o, e = o + oi, e + ei
        if e >= min_expected:
            obs.append(o)
            exp.append(e)
            o, e = 0.0, 0.0
    obs[-1] += o
    exp[-1] += e
    obs, exp = np.array(obs), np.array(exp)
    stat = np.sum((obs - exp) ** 2 / exp)
    return stats.chi2.sf(stat, len(obs) - 1)


def _degree_pvalue(degrees, n, p):
    """Chi-square p-value of a sample of degrees against Binomial(n, p)."""
    dist = stats.binom(n, p)
    lo, hi = int(dist.ppf(1e-4)), int(dist.ppf(1 - 1e-4))
    ks = np.arange(lo, hi + 1)
    obs = np.array([np.sum(degrees <= lo)] + [np.sum(degrees == k) for k in ks[1:-1]]
                   + [np.sum(degrees >= hi)], float)
    exp = degrees.size * np.concatenate([[dist.cdf(lo)], dist.pmf(ks[1:-1]), [dist.sf(hi - 1)]])
    return _chi2_pvalue(obs, exp)


# --------------------------------------------------------------------------- bernoulli


@pytest.mark.parametrize("n_pre,n_post,p,kw", [
    (20, 30, 0.2, {}),
    (40, 50, 0.5, dict(allow_self=False)),
    (40, 50, 0.5, dict(pre_start=3, post_start=0, allow_self=False)),
    (60, 25, 0.9, dict(pre_start=0, post_start=10, allow_self=False)),
    (7, 3000, 0.01, {}),
    (1, 1, 0.5, {}),
])
def test_kernel_matches_python_reference_bit_for_bit(n_pre, n_post, p, kw):
    for seed in (0, 12345, 2 ** 64 - 1):
        got = C.bernoulli_csr(n_pre, n_post, p, seed, **kw)
        ref = C.bernoulli_csr_reference(n_pre, n_post, p, seed, **kw)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])


def test_stream_is_pinned():
    """The random stream itself is part of the contract (same seed, same network
    across versions): the first synapses of a fixed draw."""
    rowptr, post = C.bernoulli_csr(50, 60, 0.1, 2024)
    assert rowptr[:6].tolist() == PINNED_ROWPTR
    assert post[:12].tolist() == PINNED_POST


PINNED_ROWPTR = [0, 4, 8, 14, 18, 26]
PINNED_POST = [0, 32, 48, 56, 4, 35, 44, 57, 17, 29, 34, 41]


@pytest.mark.parametrize("n_pre,n_post,p", [
    (1000, 1000, 0.01), (3000, 500, 0.2), (200, 20000, 0.001), (1500, 1500, 0.5),
    (300, 400, 0.999), (10, 10, 0.05),
])
def test_total_count_within_5_sigma(n_pre, n_post, p):
    rowptr, post = C.bernoulli_csr(n_pre, n_post, p, seed=7)
    _check_layout(rowptr, post, n_pre, n_post)
    n = n_pre * n_post
    assert abs(post.size - n * p) <= 5 * math.sqrt(n * p * (1 - p))


def test_in_degrees_are_binomial():
    n_pre, n_post, p = 2000, 4000, 0.02
    rowptr, post = C.bernoulli_csr(n_pre, n_post, p, seed=3)
    indeg = np.bincount(post, minlength=n_post)
    assert _degree_pvalue(indeg, n_pre, p) > 1e-3
    # the same check has the power to see a probability off by 5 %
    assert _degree_pvalue(indeg, n_pre, p * 1.05) < 1e-6


def test_out_degrees_are_binomial():
    n_pre, n_post, p = 4000, 2000, 0.02
    rowptr, post = C.bernoulli_csr(n_pre, n_post, p, seed=4)
    outdeg = np.diff(rowptr)
    assert _degree_pvalue(outdeg, n_post, p) > 1e-3
    assert _degree_pvalue(outdeg, n_post, p * 0.95) < 1e-6


def test_gaps_within_rows_are_geometric():
    """Given a synapse at column j, the next one of its row is j + Geometric(p) away."""
    n_pre, n_post, p, cut = 1500, 4000, 0.02, 400
    rowptr, post = C.bernoulli_csr(n_pre, n_post, p, seed=5)
    pre = C.sources_of(rowptr)
    start = post[:-1].astype(np.int64) < n_post - 1 - cut
    same_row = pre[1:] == pre[:-1]
    gap = np.where(same_row, np.diff(post.astype(np.int64)), cut + 1)[start]
    gap = np.minimum(gap, cut + 1)                # cut + 1: no synapse within `cut`
    obs = np.bincount(gap, minlength=cut + 2)[1:].astype(float)
    k = np.arange(1, cut + 1)
    exp = gap.size * np.concatenate([p * (1 - p) ** (k - 1), [(1 - p) ** cut]])
    assert _chi2_pvalue(obs, exp) > 1e-3
    exp_wrong = gap.size * np.concatenate([p * 1.05 * (1 - p * 1.05) ** (k - 1),
                                           [(1 - p * 1.05) ** cut]])
    assert _chi2_pvalue(obs, exp_wrong) < 1e-6


def test_rows_are_independent():
    """Adjacent rows share about n_post p^2 columns (equal or shifted streams would not)."""
    n_pre, n_post, p = 2000, 3000, 0.05
    rowptr, post = C.bernoulli_csr(n_pre, n_post, p, seed=6)
    dense = np.zeros((n_pre, n_post), bool)
    dense[C.sources_of(rowptr), post] = True
    overlap = np.sum(dense[1:] & dense[:-1])
    mean = (n_pre - 1) * n_post * p ** 2
    var = ((n_pre - 1) * n_post * (p ** 2 - p ** 4)
           + 2 * (n_pre - 2) * n_post * (p ** 3 - p ** 4))
    assert abs(overlap - mean) <= 5 * math.sqrt(var)


def test_row_does_not_depend_on_n_pre():
    a = C.bernoulli_csr(10, 500, 0.1, 9)
    b = C.bernoulli_csr(100, 500, 0.1, 9)
    np.testing.assert_array_equal(a[0], b[0][:11])
    np.testing.assert_array_equal(a[1], b[1][:b[0][10]])


@pytest.mark.parametrize("n_pre,n_post,pre_start,post_start", [
    (1200, 1200, 0, 0), (800, 1000, 100, 50), (1000, 700, 0, 300), (500, 500, 0, 500),
])
def test_self_pairs_excluded_exactly(n_pre, n_post, pre_start, post_start):
    p = 0.3
    kw = dict(pre_start=pre_start, post_start=post_start)
    rowptr, post = C.bernoulli_csr(n_pre, n_post, p, 11, allow_self=False, **kw)
    _check_layout(rowptr, post, n_pre, n_post)
    pre = C.sources_of(rowptr).astype(np.int64)
    is_self = pre + pre_start == post.astype(np.int64) + post_start
    assert not is_self.any()
    n_self = sum(1 for i in range(n_pre) if 0 <= i + pre_start - post_start < n_post)
    n = n_pre * n_post - n_self
    assert abs(post.size - n * p) <= 5 * math.sqrt(n * p * (1 - p))
    # the other pairs are exactly those of the unrestricted draw: Bernoulli(p) on them
    full = _pairs(*C.bernoulli_csr(n_pre, n_post, p, 11, allow_self=True, **kw))
    kept = {(i, j) for i, j in full if i + pre_start != j + post_start}
    assert _pairs(rowptr, post) == kept
    # and allow_self=True keeps self pairs (p large enough that some are drawn)
    if n_self:
        assert len(full) > len(kept)


def test_determinism():
    a = C.bernoulli_csr(3000, 2000, 0.01, seed=42)
    b = C.bernoulli_csr(3000, 2000, 0.01, seed=42)
    c = C.bernoulli_csr(3000, 2000, 0.01, seed=43)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not (a[0].shape == c[0].shape and np.array_equal(a[0], c[0])
                and np.array_equal(a[1], c[1]))
    assert len(_pairs(*a) & _pairs(*c)) < 0.1 * a[1].size     # ~p of them, by chance


def test_p_zero_and_one():
    rowptr, post = C.bernoulli_csr(30, 40, 0.0, 1)
    _check_layout(rowptr, post, 30, 40)
    assert post.size == 0
    rowptr, post = C.bernoulli_csr(30, 40, 1.0, 1)
    _check_layout(rowptr, post, 30, 40)
    assert _pairs(rowptr, post) == {(i, j) for i in range(30) for j in range(40)}
    rowptr, post = C.bernoulli_csr(30, 40, 1.0, 1, pre_start=5, allow_self=False)
    assert _pairs(rowptr, post) == {(i, j) for i in range(30) for j in range(40)
                                    if i + 5 != j}
    # a subnormal p is (almost surely) nothing, not an error
    assert C.bernoulli_csr(100, 100, 5e-324, 1)[1].size == 0


def test_tiny_and_empty_sizes():
    hits = [C.bernoulli_csr(1, 1, 0.5, s)[1].size for s in range(400)]
    assert set(hits) == {0, 1} and abs(sum(hits) - 200) <= 5 * 10
    for n_pre, n_post in [(0, 0), (0, 5), (5, 0), (1, 1)]:
        for p in (0.0, 0.3, 1.0):
            _check_layout(*C.bernoulli_csr(n_pre, n_post, p, 1), n_pre, n_post)
    assert C.bernoulli_csr(1, 1, 1.0, 0, allow_self=False)[1].size == 0


def test_more_than_2_31_pairs():
    n, p = 70000, 2e-6
    rowptr, post = C.bernoulli_csr(n, n, p, seed=8)
    _check_layout(rowptr, post, n, n)
    assert abs(post.size - n * n * p) <= 5 * math.sqrt(n * n * p)
    pre = C.sources_of(rowptr)
    assert pre.max() > 60000 and post.max() > 60000      # spread over the whole range
    # the largest view size: post indices up to 2**31 - 2 still fit int32
    n_post = C.MAX_INDEX
    rowptr, post = C.bernoulli_csr(2, n_post, 2e-8, seed=1)
    _check_layout(rowptr, post, 2, n_post)
    assert 40 <= post.size <= 140 and post.max() > 2 ** 30


def test_growth_past_the_first_guess():
    """The kernel grows ``post`` when the first capacity is too small."""
    rowptr, post, n = C.bernoulli_kernel(300, 400, 0.2, np.uint64(5), 0, False, 1)
    ref = C.bernoulli_csr(300, 400, 0.2, 5)
    np.testing.assert_array_equal(rowptr, ref[0])
    np.testing.assert_array_equal(post[:n], ref[1])


def test_no_large_overallocation():
    rowptr, post = C.bernoulli_csr(2000, 2000, 0.05, 1)
    base = post.base if isinstance(post.base, np.ndarray) else post
    assert base.size <= 1.1 * post.size + 4096


@pytest.mark.parametrize("kwargs,err", [
    (dict(p=-0.1), ValueError), (dict(p=1.5), ValueError), (dict(p=float("nan")), ValueError),
    (dict(n_pre=-1), ValueError), (dict(n_post=2 ** 31), ValueError),
    (dict(n_pre=2.5), TypeError), (dict(seed=-1), ValueError), (dict(seed=1.0), TypeError),
    (dict(allow_self="no"), TypeError), (dict(pre_start=-3), ValueError),
])
def test_bernoulli_rejects_bad_arguments(kwargs, err):
    args = dict(n_pre=10, n_post=10, p=0.1, seed=1) | kwargs
    name = next(iter(kwargs))
    with pytest.raises(err, match=name):
        C.bernoulli_csr(**args)


# --------------------------------------------------------------------------- fixed patterns


@pytest.mark.parametrize("n_pre,n_post,kw", [
    (5, 7, {}), (6, 6, dict(allow_self=False)), (4, 9, dict(pre_start=2, post_start=0,
                                                            allow_self=False)),
    (8, 3, dict(pre_start=0, post_start=6, allow_self=False)), (0, 3, {}), (3, 0, {}),
])
def test_all_to_all(n_pre, n_post, kw):
    rowptr, post = C.all_to_all_csr(n_pre, n_post, **kw)
    _check_layout(rowptr, post, n_pre, n_post)
    a, b = kw.get("pre_start", 0), kw.get("post_start", 0)
    want = {(i, j) for i in range(n_pre) for j in range(n_post)
            if kw.get("allow_self", True) or a + i != b + j}
    assert _pairs(rowptr, post) == want


def test_one_to_one():
    rowptr, post = C.one_to_one_csr(5)
    _check_layout(rowptr, post, 5, 5)
    assert _pairs(rowptr, post) == {(i, i) for i in range(5)}
    _check_layout(*C.one_to_one_csr(0), 0, 0)


# --------------------------------------------------------------------------- matrices


def _scipy_reference(matrix):
    ref = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    ref.sum_duplicates()
    ref.eliminate_zeros()
    ref.sort_indices()
    return ref


def _random_dense(seed, shape=(40, 50), density=0.2):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(shape) < density, rng.normal(size=shape), 0.0)


def _coo_with_duplicates():
    rng = np.random.default_rng(2)
    rows = rng.integers(0, 40, 600)
    cols = rng.integers(0, 50, 600)
    vals = rng.normal(size=600)
    # a duplicate pair summing to zero and an explicit zero: neither is a synapse
    rows = np.concatenate([rows, [3, 3, 4]])
    cols = np.concatenate([cols, [49, 49, 0]])
    vals = np.concatenate([vals, [1.5, -1.5, 0.0]])
    keep = ~(((rows == 3) & (cols == 49)) | ((rows == 4) & (cols == 0)))
    keep[-3:] = True
    return sp.coo_matrix((vals[keep], (rows[keep], cols[keep])), shape=(40, 50))


def _csr_unsorted_with_zeros():
    m = sp.csr_matrix(_random_dense(3))
    m.data[::5] = 0.0                              # explicitly stored zeros
    for i in range(m.shape[0]):                    # reverse each row: unsorted indices
        lo, hi = m.indptr[i], m.indptr[i + 1]
        m.indices[lo:hi] = m.indices[lo:hi][::-1].copy()
        m.data[lo:hi] = m.data[lo:hi][::-1].copy()
    m.has_sorted_indices = False
    return m


@pytest.mark.parametrize("make", [
    lambda: _random_dense(1),
    lambda: np.asfortranarray(_random_dense(4)),
    lambda: (_random_dense(5) * 10).astype(np.int64),
    lambda: _random_dense(6) != 0,
    lambda: _random_dense(7).tolist(),
    lambda: sp.csr_matrix(_random_dense(8)),
    lambda: sp.csr_array(_random_dense(9)),
    lambda: sp.csc_matrix(_random_dense(10)),
    lambda: _coo_with_duplicates(),
    lambda: _coo_with_duplicates().tocsc(),
    lambda: _csr_unsorted_with_zeros(),
    lambda: sp.csr_matrix((40, 50)),
    lambda: np.zeros((40, 50)),
], ids=["dense", "fortran", "int", "bool", "list", "csr", "csr_array", "csc", "coo_dup",
        "csc_dup", "csr_unsorted_zeros", "sparse_empty", "dense_zeros"])
def test_matrix_csr_equals_scipy(make):
    matrix = make()
    before = matrix.copy() if hasattr(matrix, "copy") else None
    rowptr, post, values = C.matrix_csr(matrix, 40, 50)
    _check_layout(rowptr, post, 40, 50)
    assert values.dtype == np.float64
    ref = _scipy_reference(matrix if not isinstance(matrix, list) else np.array(matrix))
    np.testing.assert_array_equal(rowptr, ref.indptr)
    np.testing.assert_array_equal(post, ref.indices)
    np.testing.assert_allclose(values, ref.data, rtol=1e-15, atol=0)
    assert np.all(values != 0)
    if sp.issparse(matrix):                        # the input is left untouched
        assert (matrix != before).nnz == 0
        assert matrix.nnz == before.nnz


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("sparse", [False, True])
def test_matrix_csr_rejects_non_finite(bad, sparse):
    m = _random_dense(11)
    m[5, 7] = bad
    with pytest.raises(ValueError, match="matrix"):
        C.matrix_csr(sp.coo_matrix(m) if sparse else m, 40, 50)


def test_matrix_csr_rejects_wrong_shape_and_type():
    with pytest.raises(ValueError, match="matrix"):
        C.matrix_csr(np.ones((4, 5)), 5, 4)
    with pytest.raises(ValueError, match="matrix"):
        C.matrix_csr(sp.csr_matrix(np.ones((4, 5))), 5, 4)
    with pytest.raises(ValueError, match="matrix"):
        C.matrix_csr(np.ones(20), 4, 5)
    with pytest.raises(TypeError, match="matrix"):
        C.matrix_csr(np.array([["a"]]), 1, 1)
    with pytest.raises(TypeError, match="matrix"):
        C.matrix_csr(np.array([[1j]]), 1, 1)
    with pytest.raises(TypeError, match="matrix"):
        C.matrix_csr(sp.csr_matrix(np.array([[1j]])), 1, 1)


# --------------------------------------------------------------------------- column index


def _random_csr(seed, n_pre=300, n_post=200):
    """Random CSR with empty rows and columns, not from bernoulli_csr."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_pre, n_post)) < 0.05
    dense[rng.integers(0, n_pre, 20)] = False
    dense[:, rng.integers(0, n_post, 20)] = False
    m = sp.csr_matrix(dense)
    return m.indptr.astype(np.int64), m.indices.astype(np.int32)


@pytest.mark.parametrize("make", [
    lambda: (*_random_csr(1), 200),
    lambda: (*_random_csr(2, 1, 1000), 1000),
    lambda: (*C.bernoulli_csr(500, 700, 0.03, 2), 700),
    lambda: (*C.all_to_all_csr(20, 30, allow_self=False), 30),
    lambda: (*C.bernoulli_csr(10, 10, 0.0, 2), 10),
    lambda: (np.zeros(1, np.int64), np.zeros(0, np.int32), 5),
])
def test_column_index_equals_stable_argsort(make):
    rowptr, post, n_post = make()
    colptr, col_syn, col_pre = C.column_index(rowptr, post, n_post)
    assert colptr.dtype == np.int64 and col_syn.dtype == np.int32 and col_pre.dtype == np.int32
    ref = C.column_index_reference(rowptr, post, n_post)
    # the reference, spelled out here too: stable argsort of post
    order = np.argsort(post, kind="stable")
    np.testing.assert_array_equal(ref[1], order)
    np.testing.assert_array_equal(colptr, ref[0])
    np.testing.assert_array_equal(col_syn, ref[1])
    np.testing.assert_array_equal(col_pre, ref[2])
    np.testing.assert_array_equal(post[col_syn], np.repeat(np.arange(n_post), np.diff(colptr)))


def test_sources_of():
    rowptr = np.array([0, 2, 2, 5, 6], np.int64)
    pre = C.sources_of(rowptr)
    assert pre.dtype == np.int32 and pre.tolist() == [0, 0, 2, 2, 2, 3]
    assert C.sources_of(np.zeros(1, np.int64)).size == 0


def test_column_index_rejects_bad_csr():
    with pytest.raises(ValueError, match="post indices"):
        C.column_index(np.array([0, 2]), np.array([0, 5], np.int32), 5)
    with pytest.raises(ValueError, match="rowptr"):
        C.column_index(np.array([0, 3]), np.array([0, 1], np.int32), 5)
    with pytest.raises(ValueError, match="rowptr"):
        C.column_index(np.array([0, 2, 1, 2]), np.array([0, 1], np.int32), 5)
