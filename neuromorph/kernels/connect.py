r"""Connectivity drawn straight into CSR layout (numba kernels).

Every builder returns ``(rowptr, post)``: ``rowptr`` (int64, length ``n_pre + 1``) and
``post`` (int32, local post indices, strictly increasing within each row), so the
synapses of pre neuron ``i`` are ``post[rowptr[i]:rowptr[i + 1]]``. Rows come out
sorted, nothing sorts the whole network, and no int64 or float64 array of the size of
the synapse set is made: the only array of that size is the int32 ``post`` itself
(grown by half only when the first, generous, guess of its size is exceeded, and
trimmed at the end).

Random connectivity (:func:`bernoulli_csr`) uses its own random stream so that a seed
gives the same synapses whatever numpy or numba do with their generators:

* each row ``i`` has an independent xoshiro256** generator whose four state words are
  SplitMix64 outputs at a row-specific place of the sequence started from ``seed``,
  so row ``i`` depends only on ``(seed, i, n_post, p)`` and on the self-pair rule;
* within a row, the gap to the next synapse is geometric,
  ``gap = floor(log(U) / log(1 - p))`` with ``U = (k + 1) / 2**53`` uniform in
  ``(0, 1]`` (``k`` the top 53 bits of a draw) — Brian2's ``p=`` by skipping.

:func:`bernoulli_csr_reference` is the same algorithm in plain Python (slow, for
tests), :func:`column_index_reference` the transpose index by a stable argsort.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from numba import njit, uint64

from .. import _checks

#: largest size of a population view (post indices are int32)
MAX_INDEX = 2 ** 31 - 1

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53

# --------------------------------------------------------------------------- random


@njit(cache=True, inline="always")
def _mix64(z):
    """SplitMix64 output function (a bijection of uint64)."""
    z = (z ^ (z >> uint64(30))) * _MIX1
    z = (z ^ (z >> uint64(27))) * _MIX2
    return z ^ (z >> uint64(31))


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(cache=True, inline="always")
def _row_state(base, i):
    """The xoshiro256** state of row ``i``: SplitMix64 outputs ``4 i + 1 .. 4 i + 4``."""
    z = base + uint64(4) * uint64(i) * _GOLDEN
    return (_mix64(z + _GOLDEN), _mix64(z + uint64(2) * _GOLDEN),
            _mix64(z + uint64(3) * _GOLDEN), _mix64(z + uint64(4) * _GOLDEN))


# --------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def bernoulli_kernel(n_pre, n_post, p, seed, self_shift, exclude_self, cap):
    """Geometric-skipping Bernoulli draw into CSR; see :func:`bernoulli_csr`.

    ``seed`` is a uint64; a pair ``(i, j)`` is a self pair when ``j == i + self_shift``
    (only excluded if ``exclude_self``); ``cap`` is the initial length of ``post``,
    grown by half (plus 1024) whenever it is full. Returns ``(rowptr, post, n)`` with
    the synapses in ``post[:n]``.
    """
    inv_log_q = 1.0 / math.log1p(-p)          # < 0; -inf for subnormal p
    rowptr = np.empty(n_pre + 1, np.int64)
    post = np.empty(max(cap, 1), np.int32)
    cap = post.shape[0]
    base = _mix64(seed)
    lim = n_post - 1
    k = 0
    rowptr[0] = 0
    for i in range(n_pre):
        s0, s1, s2, s3 = _row_state(base, i)
        skip = i + self_shift if exclude_self else -1
        j = -1
        while True:
            # xoshiro256**
            r = _rotl(s1 * uint64(5), 7) * uint64(9)
            t = s1 << uint64(17)
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = _rotl(s3, 45)
            u = (float(r >> uint64(11)) + 1.0) * _TWO_M53
            g = math.log(u) * inv_log_q
            if not g < lim - j:               # past the row's end (or NaN)
                break
            j += np.int64(g) + 1
            if j == skip:
                continue
            if k == cap:
                grown = np.empty(cap + cap // 2 + 1024, np.int32)
                grown[:k] = post[:k]
                post = grown
                cap = post.shape[0]
            post[k] = j
            k += 1
        rowptr[i + 1] = k
    return rowptr, post, k


@njit(cache=True, nogil=True)
def all_to_all_kernel(n_pre, n_post, self_shift, exclude_self):
    """Every pair in CSR, without ``j == i + self_shift`` if ``exclude_self``."""
    rowptr = np.empty(n_pre + 1, np.int64)
    rowptr[0] = 0
    for i in range(n_pre):
        s = i + self_shift
        drop = 1 if exclude_self and 0 <= s < n_post else 0
        rowptr[i + 1] = rowptr[i] + n_post - drop
    post = np.empty(rowptr[n_pre], np.int32)
    for i in range(n_pre):
        k = rowptr[i]
        s = i + self_shift if exclude_self else -1
        for j in range(n_post):
            if j != s:
                post[k] = j
                k += 1
    return rowptr, post


@njit(cache=True, nogil=True)
def nonzero_kernel(indptr, indices, data):
    """CSR of the non-zero entries of a matrix stored by rows: row ``i`` is
    ``data[indptr[i]:indptr[i + 1]]``, entry ``s`` in column ``indices[s]`` -- a canonical
    scipy CSR matrix -- or, with ``indices=None``, in column ``s - indptr[i]`` (a dense
    C-contiguous matrix, raveled).

    Returns ``(rowptr, post, values, ok)``; ``ok`` is False (and the arrays empty) if
    ``data`` holds a NaN or an infinity.
    """
    n_pre = indptr.shape[0] - 1
    rowptr = np.empty(n_pre + 1, np.int64)
    rowptr[0] = 0
    for i in range(n_pre):
        c = 0
        for s in range(indptr[i], indptr[i + 1]):
            x = data[s]
            if not math.isfinite(x):
                return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.float64), False
            if x != 0.0:
                c += 1
        rowptr[i + 1] = rowptr[i] + c
    post = np.empty(rowptr[n_pre], np.int32)
    values = np.empty(rowptr[n_pre], np.float64)
    k = 0
    for i in range(n_pre):
        for s in range(indptr[i], indptr[i + 1]):
            x = data[s]
            if x != 0.0:
                if indices is None:
                    post[k] = s - indptr[i]
                else:
                    post[k] = indices[s]
                values[k] = x
                k += 1
    return rowptr, post, values, True


@njit(cache=True, nogil=True)
def column_kernel(rowptr, post, n_post, col_syn):
    """Counting-sort transpose of CSR into ``col_syn`` (preallocated, int32 or int64).

    Returns ``(colptr, col_pre, ok)``; ``ok`` is False if a post index lies outside
    ``[0, n_post)``.
    """
    n_pre = rowptr.shape[0] - 1
    n_syn = post.shape[0]
    colptr = np.zeros(n_post + 1, np.int64)
    for s in range(n_syn):
        c = post[s]
        if c < 0 or c >= n_post:
            return colptr, np.empty(0, np.int32), False
        colptr[c + 1] += 1
    for c in range(n_post):
        colptr[c + 1] += colptr[c]
    fill = colptr[:n_post].copy()
    col_pre = np.empty(n_syn, np.int32)
    for i in range(n_pre):
        for s in range(rowptr[i], rowptr[i + 1]):
            c = post[s]
            d = fill[c]
            col_syn[d] = s
            col_pre[d] = i
            fill[c] = d + 1
    return colptr, col_pre, True


# --------------------------------------------------------------------------- helpers


def _size(name, value):
    return _checks.number(name, value, low=0, high=MAX_INDEX, integer=True)


def _start(name, value):
    return _checks.number(name, value, low=0, integer=True)


def _seed(value):
    return np.uint64(_checks.number("seed", value, low=0, high=2 ** 64 - 1, integer=True))


def _self_shift(pre_start, post_start, allow_self):
    """``(shift, exclude)``: pair ``(i, j)`` is a self pair iff ``j == i + shift``."""
    shift = _start("pre_start", pre_start) - _start("post_start", post_start)
    if not isinstance(allow_self, (bool, np.bool_)):
        raise TypeError(f"allow_self must be a bool, got {type(allow_self).__name__} "
                        f"{allow_self!r}")
    return shift, not allow_self


def _empty(n_pre):
    return np.zeros(n_pre + 1, np.int64), np.zeros(0, np.int32)


def _trim(post, n):
    """``post[:n]``; a view while the unused tail is small, else a compact copy."""
    if post.shape[0] - n > max(n // 16, 4096):
        return post[:n].copy()
    return post[:n]


# --------------------------------------------------------------------------- builders


def bernoulli_csr(n_pre, n_post, p, seed, pre_start=0, post_start=0, allow_self=True):
    """Each (pre, post) pair independently with probability ``p``, in CSR form.

    Brian2's ``connect(p=...)``. Each row skips geometric gaps
    ``floor(log(U) / log(1 - p))`` (``U`` uniform in ``(0, 1]``) from its own random
    stream, so the cost is O(n_pre + synapses) whatever ``n_pre * n_post`` is.

    Parameters
    ----------
    n_pre, n_post : int
        Sizes of the pre and post views, each in ``[0, 2**31 - 1]``; their product may
        exceed ``2**31``.
    p : float
        Connection probability in ``[0, 1]``. ``0`` gives no synapse, ``1`` every pair
        (no draw).
    seed : int
        In ``[0, 2**64 - 1]``. The synapses are a deterministic, platform-independent
        function of ``(n_pre, n_post, p, seed)`` and the self-pair rule (bit-identical
        for the same arguments); row ``i`` does not depend on ``n_pre``.
    pre_start, post_start : int, optional
        Where the views start in their population(s); only used with
        ``allow_self=False``.
    allow_self : bool, optional
        If False, the pre and post views are taken to be views of one population and
        the self pairs ``pre_start + i == post_start + j`` are never connected (the
        other pairs are still Bernoulli(``p``)).

    Returns
    -------
    rowptr : ndarray of int64, shape (n_pre + 1,)
    post : ndarray of int32, shape (rowptr[-1],)
        Local post indices, strictly increasing within each row. It may be a view of
        a slightly longer array (the tail beyond the synapses is not touched).

    Notes
    -----
    Memory: ``4`` bytes per synapse plus ``8 (n_pre + 1)`` bytes; no temporary of the
    size of the synapse set. The first guess of the synapse count is the mean plus
    eight standard deviations; past it ``post`` grows by half.
    """
    n_pre, n_post = _size("n_pre", n_pre), _size("n_post", n_post)
    p = _checks.probability("p", p)
    seed = _seed(seed)
    shift, exclude = _self_shift(pre_start, post_start, allow_self)
    if p == 1.0:
        return all_to_all_kernel(n_pre, n_post, shift, exclude)
    if p == 0.0 or n_pre == 0 or n_post == 0:
        return _empty(n_pre)
    mean = float(n_pre) * float(n_post) * p
    cap = int(min(mean + 8.0 * math.sqrt(mean) + 64.0, float(n_pre) * float(n_post)))
    rowptr, post, n = bernoulli_kernel(n_pre, n_post, p, seed, shift, exclude, cap)
    return rowptr, _trim(post, n)


def bernoulli_csr_reference(n_pre, n_post, p, seed, pre_start=0, post_start=0,
                            allow_self=True):
    """Plain-Python twin of :func:`bernoulli_csr` (same streams, same result; slow).

    For tests on small sizes: it shares no code with the numba kernel.
    """
    mask = (1 << 64) - 1
    gold = 0x9E3779B97F4A7C15

    def mix(z):
        z &= mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & mask

    n_pre, n_post, p = int(n_pre), int(n_post), float(p)
    if p == 1.0:
        rows = [[j for j in range(n_post)
                 if allow_self or pre_start + i != post_start + j] for i in range(n_pre)]
    elif p == 0.0:
        rows = [[] for _ in range(n_pre)]
    else:
        inv_log_q = 1.0 / math.log1p(-p)
        base = mix(int(seed))
        rows = []
        for i in range(n_pre):
            z = base + 4 * i * gold
            s = [mix(z + m * gold) for m in (1, 2, 3, 4)]
            row, j = [], -1
            while True:
                r = (rotl((s[1] * 5) & mask, 7) * 9) & mask
                t = (s[1] << 17) & mask
                s[2] ^= s[0]
                s[3] ^= s[1]
                s[1] ^= s[2]
                s[0] ^= s[3]
                s[2] ^= t
                s[3] = rotl(s[3], 45)
                g = math.log(((r >> 11) + 1) * _TWO_M53) * inv_log_q
                if not g < n_post - 1 - j:
                    break
                j += int(g) + 1
                if allow_self or pre_start + i != post_start + j:
                    row.append(j)
            rows.append(row)
    rowptr = np.zeros(n_pre + 1, np.int64)
    rowptr[1:] = np.cumsum([len(r) for r in rows])
    post = np.array([j for r in rows for j in r], dtype=np.int32)
    return rowptr, post


def all_to_all_csr(n_pre, n_post, pre_start=0, post_start=0, allow_self=True):
    """Every pre neuron to every post neuron, in CSR form.

    Parameters
    ----------
    n_pre, n_post : int
        Sizes of the views, each in ``[0, 2**31 - 1]``.
    pre_start, post_start, allow_self
        As in :func:`bernoulli_csr`: without ``allow_self`` the pairs
        ``pre_start + i == post_start + j`` are left out.

    Returns
    -------
    rowptr : ndarray of int64, shape (n_pre + 1,)
    post : ndarray of int32, shape (rowptr[-1],)
    """
    n_pre, n_post = _size("n_pre", n_pre), _size("n_post", n_post)
    shift, exclude = _self_shift(pre_start, post_start, allow_self)
    return all_to_all_kernel(n_pre, n_post, shift, exclude)


def one_to_one_csr(n):
    """Pre neuron ``i`` to post neuron ``i`` for ``i < n``, in CSR form.

    Returns
    -------
    rowptr : ndarray of int64, shape (n + 1,)
        ``0, 1, ..., n``.
    post : ndarray of int32, shape (n,)
        ``0, 1, ..., n - 1``.
    """
    n = _size("n", n)
    return np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int32)


def matrix_csr(matrix, n_pre, n_post):
    """Synapses where an ``(n_pre, n_post)`` matrix is non-zero, in CSR form.

    Parameters
    ----------
    matrix : array_like or scipy.sparse matrix/array
        Dense: every non-zero entry is a synapse. Sparse (any format): its CSR form,
        duplicates summed as scipy does; entries that are zero after that (explicitly
        stored zeros included) are not synapses. The matrix is not modified.
    n_pre, n_post : int
        The expected shape.

    Returns
    -------
    rowptr : ndarray of int64, shape (n_pre + 1,)
    post : ndarray of int32, shape (rowptr[-1],)
        Column indices, strictly increasing within each row.
    values : ndarray of float64, shape (rowptr[-1],)
        The matrix entries at the synapses (e.g. the weights).

    Raises
    ------
    ValueError
        If the shape is not ``(n_pre, n_post)`` or an entry is NaN or infinite.
    TypeError
        If the entries are not real numbers.
    """
    n_pre, n_post = _size("n_pre", n_pre), _size("n_post", n_post)
    if sp.issparse(matrix):
        if matrix.shape != (n_pre, n_post):
            raise ValueError(f"matrix must have shape ({n_pre}, {n_post}), "
                             f"got {matrix.shape}")
        if matrix.dtype.kind not in "biuf":
            raise TypeError(f"matrix must hold real numbers, got dtype {matrix.dtype}")
        csr = matrix.tocsr()
        if not csr.has_canonical_format:
            if csr is matrix:                 # tocsr() of other formats makes new arrays
                csr = csr.copy()
            csr.sum_duplicates()
        data = np.asarray(csr.data, dtype=np.float64)
        rowptr, post, values, ok = nonzero_kernel(csr.indptr, csr.indices, data)
    else:
        if np.iscomplexobj(matrix):
            raise TypeError("matrix must hold real numbers, got complex values")
        if isinstance(matrix, np.ndarray) and matrix.dtype == np.float64:
            dense = matrix                    # finiteness is checked by the kernel
        else:
            dense = _checks.finite_array("matrix", matrix, shape=(n_pre, n_post))
        if dense.shape != (n_pre, n_post):
            raise ValueError(f"matrix must have shape {(n_pre, n_post)}, got {dense.shape}")
        rows = np.arange(n_pre + 1, dtype=np.int64) * n_post  # every row holds n_post
        rowptr, post, values, ok = nonzero_kernel(rows, None,
                                                  np.ascontiguousarray(dense).ravel())
    if not ok:
        raise ValueError("matrix must contain only finite values (no NaN or inf)")
    return rowptr, post, values


def sources_of(rowptr):
    """The pre index (int32) of every synapse of a CSR ``rowptr``.

    Returns
    -------
    ndarray of int32, shape (rowptr[-1],)
        ``i`` repeated ``rowptr[i + 1] - rowptr[i]`` times.
    """
    rowptr = np.asarray(rowptr)
    n_pre = rowptr.shape[0] - 1
    return np.repeat(np.arange(n_pre, dtype=np.int32), np.diff(rowptr))


def _check_csr(rowptr, post, n_post):
    rowptr = np.ascontiguousarray(rowptr, dtype=np.int64)
    post = np.asarray(post)
    if rowptr.ndim != 1 or rowptr.shape[0] < 1 or post.ndim != 1:
        raise ValueError("rowptr and post must be 1-D, rowptr of length n_pre + 1 >= 1")
    if post.dtype.kind not in "iu":
        raise TypeError(f"post must hold integers, got dtype {post.dtype}")
    if rowptr[0] != 0 or rowptr[-1] != post.shape[0] or np.any(np.diff(rowptr) < 0):
        raise ValueError("rowptr must start at 0, never decrease and end at len(post)")
    if rowptr.shape[0] - 1 > MAX_INDEX:
        raise ValueError(f"n_pre = len(rowptr) - 1 must be <= {MAX_INDEX} (int32 indices)")
    return rowptr, post, _size("n_post", n_post)


def column_index(rowptr, post, n_post):
    """The column (CSC) index of a CSR connectivity, by a stable counting sort.

    O(synapses + n_pre + n_post) time; replaces ``np.argsort(post, kind='stable')``.

    Parameters
    ----------
    rowptr : array_like of int, shape (n_pre + 1,)
    post : array_like of int, shape (rowptr[-1],)
        Post indices in ``[0, n_post)``.
    n_post : int

    Returns
    -------
    colptr : ndarray of int64, shape (n_post + 1,)
        The synapses onto post neuron ``j`` are ``col_syn[colptr[j]:colptr[j + 1]]``.
    col_syn : ndarray of int32, shape (rowptr[-1],)
        Synapse (CSR position) indices grouped by column; within a column in
        increasing pre (and synapse) order. int64 if there are ``2**31`` or more
        synapses.
    col_pre : ndarray of int32, shape (rowptr[-1],)
        The pre index of each entry of ``col_syn``.
    """
    rowptr, post, n_post = _check_csr(rowptr, post, n_post)
    n_syn = post.shape[0]
    col_syn = np.empty(n_syn, np.int32 if n_syn <= MAX_INDEX + 1 else np.int64)
    colptr, col_pre, ok = column_kernel(rowptr, post, n_post, col_syn)
    if not ok:
        raise ValueError(f"post indices must lie in [0, {n_post})")
    return colptr, col_syn, col_pre


def column_index_reference(rowptr, post, n_post):
    """:func:`column_index` by ``np.argsort(kind='stable')`` (slow, for tests)."""
    rowptr, post = np.asarray(rowptr, np.int64), np.asarray(post)
    order = np.argsort(post, kind="stable")
    colptr = np.zeros(int(n_post) + 1, np.int64)
    colptr[1:] = np.cumsum(np.bincount(post, minlength=int(n_post)))
    return colptr, order.astype(np.int32), sources_of(rowptr)[order]


__all__ = ["bernoulli_csr", "bernoulli_csr_reference", "all_to_all_csr", "one_to_one_csr",
           "matrix_csr", "sources_of", "column_index", "column_index_reference",
           "MAX_INDEX"]
