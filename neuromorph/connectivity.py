"""Connectivity builders: which (pre, post) pairs get a synapse, in CSR layout.

Each builder returns ``(rowptr, post)``: ``rowptr`` (int64, ``n_pre + 1``) delimits the
synapses of each pre neuron, ``post`` (int32) their local post indices, increasing
within each row -- the engine's layout, drawn straight into it by the numba kernels of
:mod:`neuromorph.kernels.connect` (imported when first used, so describing a network
loads no compiler). ``self_at`` (or None) excludes self pairs of overlapping views of
one population: ``(pre_start, post_start)``, the views' offsets in the population.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import _checks


def _kernels():
    from .kernels import connect
    return connect


def _self_args(self_at):
    if self_at is None:
        return dict(allow_self=True)
    return dict(pre_start=int(self_at[0]), post_start=int(self_at[1]), allow_self=False)


def csr_bernoulli(n_pre, n_post, p, rng, self_at=None):
    """Each pair independently with probability ``p`` (Brian2's ``p=``).

    O(n_pre + synapses) time and memory (geometric skipping per row); the random stream
    is seeded from ``rng`` (one draw).
    """
    p = _checks.probability("p", p)
    seed = int(rng.integers(0, 2**63))
    return _kernels().bernoulli_csr(n_pre, n_post, p, seed, **_self_args(self_at))


def csr_all_to_all(n_pre, n_post, self_at=None):
    """Every pre neuron to every post neuron."""
    return _kernels().all_to_all_csr(n_pre, n_post, **_self_args(self_at))


def csr_one_to_one(n_pre, n_post, self_at=None):
    """Neuron ``i`` to neuron ``i``; needs ``n_pre == n_post``."""
    if n_pre != n_post:
        raise ValueError(f"one_to_one needs equal sizes, got n_pre={n_pre}, n_post={n_post}")
    rowptr, post = _kernels().one_to_one_csr(n_pre)
    if self_at is not None and self_at[0] == self_at[1]:  # every pair is a self pair
        return np.zeros(n_pre + 1, np.int64), np.zeros(0, np.int32)
    return rowptr, post


def csr_from_matrix(matrix, n_pre, n_post, self_at=None, name="matrix"):
    """Synapses where a dense or scipy-sparse ``(n_pre, n_post)`` matrix is non-zero.

    Returns ``(rowptr, post, values)``. Explicitly stored zeros of a sparse matrix are
    not synapses; duplicates of a COO matrix are summed (scipy's convention).
    """
    if sp.issparse(matrix):
        if matrix.shape != (n_pre, n_post):
            raise ValueError(f"{name} must have shape ({n_pre}, {n_post}), got {matrix.shape}")
    else:
        matrix = _checks.finite_array(name, matrix, shape=(n_pre, n_post))
    rowptr, post, vals = _kernels().matrix_csr(matrix, n_pre, n_post)
    if self_at is not None:
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(rowptr))
        keep = self_at[0] + pre != self_at[1] + post
        counts = np.bincount(pre[keep], minlength=n_pre)
        rowptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        post, vals = post[keep], vals[keep]
    return rowptr, post, vals


def pairs_values(name, values, pre, post, n_pre, n_post):
    """Per-synapse values from a dense/sparse ``(n_pre, n_post)`` array at the given pairs."""
    if sp.issparse(values):
        if values.shape != (n_pre, n_post):
            raise ValueError(f"{name} must have shape ({n_pre}, {n_post}), got {values.shape}")
        out = np.asarray(sp.csr_matrix(values)[pre, post]).ravel().astype(np.float64)
        return _checks.finite_array(name, out)
    arr = _checks.finite_array(name, values, shape=(n_pre, n_post))
    return arr[pre, post].astype(np.float64)


__all__ = ["csr_bernoulli", "csr_all_to_all", "csr_one_to_one", "csr_from_matrix",
           "pairs_values"]
