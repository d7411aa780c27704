"""Connectivity builders: which (pre, post) pairs get a synapse.

Each builder returns local index arrays ``(pre, post)`` sorted by ``pre`` then
``post`` (CSR order). They draw randomness only from the generator they are given.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _checks


def all_to_all(n_pre, n_post, self_pairs=None):
    """Every pre neuron to every post neuron.

    ``self_pairs`` is an optional boolean mask over the ``n_pre * n_post`` pairs (row
    major) to exclude (self-connections of overlapping populations).
    """
    pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
    post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
    if self_pairs is not None:
        keep = ~self_pairs(pre, post)
        pre, post = pre[keep], post[keep]
    return pre.astype(np.int32), post.astype(np.int32)


def fixed_probability(n_pre, n_post, p, rng, self_pairs=None):
    """Each pair independently with probability ``p`` (Bernoulli), O(synapses) memory.

    Pairs are drawn by geometric skipping over the row-major pair index, so even
    64000 x 64000 candidate pairs cost only the synapses actually made.
    """
    p = _checks.probability("p", p)
    total = int(n_pre) * int(n_post)
    if p == 0.0 or total == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    if p == 1.0:
        return all_to_all(n_pre, n_post, self_pairs)
    chunks, pos = [], -1
    batch = int(p * total * 1.1) + 1024
    while True:
        gaps = rng.geometric(p, size=batch)
        idx = pos + np.cumsum(gaps)
        done = idx[-1] >= total
        idx = idx[idx < total]
        chunks.append(idx)
        if done:
            break
        pos = int(idx[-1])
    flat = np.concatenate(chunks)
    pre, post = flat // n_post, flat % n_post
    if self_pairs is not None:
        keep = ~self_pairs(pre, post)
        pre, post = pre[keep], post[keep]
    return pre.astype(np.int32), post.astype(np.int32)


def one_to_one(n_pre, n_post):
    """Neuron ``i`` to neuron ``i``; needs ``n_pre == n_post``."""
    if n_pre != n_post:
        raise ValueError(f"one_to_one needs equal sizes, got n_pre={n_pre}, n_post={n_post}")
    idx = np.arange(n_pre, dtype=np.int32)
    return idx, idx.copy()


def from_matrix(matrix, n_pre, n_post, name="matrix"):
    """Synapses where a dense or scipy-sparse ``(n_pre, n_post)`` matrix is non-zero.

    Returns ``(pre, post, values)`` in CSR order. Explicitly stored zeros of a sparse
    matrix are not synapses.
    """
    if sp.issparse(matrix):
        if matrix.shape != (n_pre, n_post):
            raise ValueError(f"{name} must have shape ({n_pre}, {n_post}), got {matrix.shape}")
        coo = sp.coo_matrix(matrix)
        vals = _checks.finite_array(name, coo.data)
        keep = vals != 0
        pre, post, vals = coo.row[keep], coo.col[keep], vals[keep]
        order = np.lexsort((post, pre))
        return pre[order].astype(np.int32), post[order].astype(np.int32), vals[order]
    dense = _checks.finite_array(name, matrix, shape=(n_pre, n_post))
    pre, post = np.nonzero(dense)
    return pre.astype(np.int32), post.astype(np.int32), dense[pre, post].astype(np.float64)


def pairs_values(name, values, pre, post, n_pre, n_post):
    """Per-synapse values from a dense/sparse ``(n_pre, n_post)`` array at the given pairs."""
    if sp.issparse(values):
        if values.shape != (n_pre, n_post):
            raise ValueError(f"{name} must have shape ({n_pre}, {n_post}), got {values.shape}")
        out = np.asarray(sp.csr_matrix(values)[pre, post]).ravel().astype(np.float64)
        return _checks.finite_array(name, out)
    arr = _checks.finite_array(name, values, shape=(n_pre, n_post))
    return arr[pre, post].astype(np.float64)


# -- CSR builders: (rowptr int64[n_pre + 1], post int32) ------------------------------------
# ``diag`` (or None): pre neuron i and post neuron i + diag are the same neuron, and that
# pair is excluded (allow_self=False on overlapping views of one population).

def _csr(pre, post, n_pre):
    return np.searchsorted(pre, np.arange(n_pre + 1)).astype(np.int64), post.astype(np.int32)


def _self_mask(diag):
    return None if diag is None else (lambda i, j: j == i + diag)


def csr_bernoulli(n_pre, n_post, p, rng, diag=None):
    """:func:`fixed_probability` in CSR layout ``(rowptr, post)``."""
    pre, post = fixed_probability(n_pre, n_post, p, rng, _self_mask(diag))
    return _csr(pre, post, n_pre)


def csr_all_to_all(n_pre, n_post, diag=None):
    """:func:`all_to_all` in CSR layout ``(rowptr, post)``."""
    pre, post = all_to_all(n_pre, n_post, _self_mask(diag))
    return _csr(pre, post, n_pre)


def csr_one_to_one(n_pre, n_post, diag=None):
    """:func:`one_to_one` in CSR layout ``(rowptr, post)``."""
    pre, post = one_to_one(n_pre, n_post)
    if diag is not None:
        keep = post != pre + diag
        pre, post = pre[keep], post[keep]
    return _csr(pre, post, n_pre)


def csr_from_matrix(matrix, n_pre, n_post, diag=None, name="matrix"):
    """:func:`from_matrix` in CSR layout ``(rowptr, post, values)``."""
    pre, post, vals = from_matrix(matrix, n_pre, n_post, name)
    if diag is not None:
        keep = post != pre + diag
        pre, post, vals = pre[keep], post[keep], vals[keep]
    rowptr, post = _csr(pre, post, n_pre)
    return rowptr, post, vals


__all__ = ["all_to_all", "fixed_probability", "one_to_one", "from_matrix", "pairs_values",
           "csr_bernoulli", "csr_all_to_all", "csr_one_to_one", "csr_from_matrix"]
