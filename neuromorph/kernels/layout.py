"""Where each thread partition's targets start in every CSR row (:func:`split_rows`).

Rows are sorted by target, so it is a binary search per row and partition. (The
transpose index of plastic projections is :func:`.connect.column_index`.)
"""
from __future__ import annotations

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


__all__ = ["split_rows"]
