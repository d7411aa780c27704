"""Index structures the compile step derives from a projection's CSR arrays.

* :func:`split_rows`: where each thread partition's targets start in every CSR row
  (rows are sorted by target, so a binary search per row and partition);
* :func:`column_index`: the transpose (CSC) index of a plastic projection, by a
  counting sort: O(synapses), stable (within a column, synapses in increasing pre
  order), int32 per synapse.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True, parallel=True)
def split_rows(rowptr, post, post_lo, bounds, out):
    """Fill ``out[r, t]`` (int64, ``[n_pre, n_parts + 1]``) with the first synapse of row
    ``r`` whose global target ``post_lo + post[s]`` is ``>= bounds[t]``.

    ``rowptr`` (``n_pre + 1``) holds local synapse indices; ``bounds`` the partitions'
    global neuron ranges. ``out[r, 0] = rowptr[r]`` and ``out[r, -1] = rowptr[r + 1]``.
    """
    n_parts = bounds.shape[0] - 1
    for r in prange(rowptr.shape[0] - 1):
        a, b = rowptr[r], rowptr[r + 1]
        out[r, 0] = a
        out[r, n_parts] = b
        for t in range(1, n_parts):
            key = bounds[t] - post_lo
            lo, hi = a, b
            while lo < hi:
                mid = (lo + hi) >> 1
                if post[mid] < key:
                    lo = mid + 1
                else:
                    hi = mid
            out[r, t] = lo


@njit(cache=True, nogil=True)
def column_index(rowptr, post, n_post):
    """Transpose index of a CSR projection.

    Returns ``(colptr, col_syn, col_pre)``: ``colptr`` (int64, ``n_post + 1``) delimits
    each post neuron's incoming synapses in ``col_syn`` (int32, local synapse index) and
    ``col_pre`` (int32, their presynaptic neuron), in increasing pre order.
    """
    n_syn = post.shape[0]
    colptr = np.zeros(n_post + 1, np.int64)
    for s in range(n_syn):
        colptr[post[s] + 1] += 1
    for i in range(n_post):
        colptr[i + 1] += colptr[i]
    fill = colptr[:-1].copy()
    col_syn = np.empty(n_syn, np.int32)
    col_pre = np.empty(n_syn, np.int32)
    for j in range(rowptr.shape[0] - 1):
        for s in range(rowptr[j], rowptr[j + 1]):
            i = post[s]
            c = fill[i]
            col_syn[c] = s
            col_pre[c] = j
            fill[i] = c + 1
    return colptr, col_syn, col_pre


def column_index_reference(rowptr, post, n_post):
    """NumPy version of :func:`column_index` (a stable argsort)."""
    pre = np.repeat(np.arange(len(rowptr) - 1), np.diff(rowptr))
    order = np.argsort(post, kind="stable")
    colptr = np.searchsorted(post[order], np.arange(n_post + 1)).astype(np.int64)
    return colptr, order.astype(np.int32), pre[order].astype(np.int32)


__all__ = ["split_rows", "column_index", "column_index_reference"]
