r"""Trace-based pair STDP, applied only at spikes.

Per-neuron traces (dimensionless) decay with ``tau_pre`` / ``tau_post`` (ms) and are
bumped at spikes: ``x <- x + 1`` (all-to-all pairing) or ``x <- 1`` (nearest-spike).

* pre spike of ``j``:  ``w_ij <- w_ij + a_minus * x_post_i * f_minus(w_ij)`` over the
  CSR row of ``j`` (``a_minus < 0`` depresses),
* post spike of ``i``: ``w_ij <- w_ij + a_plus * x_pre_j * f_plus(w_ij)`` over the
  incoming synapses of ``i`` (CSC / transpose index),

then ``w`` is clipped to ``[w_min, w_max]`` after each update (``clip='update'``), or, with
``clip='step'`` (Loihi's learning engine), once at the end of the step after the step's
pre- and post-spike changes are summed (:func:`clip_row`, :func:`clip_column`). Weight dependence (Guetig et al. 2003)::

    f_plus(w)  = ((w_max - w) / (w_max - w_min)) ** mu_plus
    f_minus(w) = ((w - w_min) / (w_max - w_min)) ** mu_minus

``mu = 0`` is the additive rule with hard bounds, ``mu = 1`` the multiplicative
(soft-bound) rule. ``a_plus`` and ``a_minus`` are in weight units (mV).

Within one step the order is Brian2's: traces decay to the current step; pre
spikes deliver their (old) weight, bump ``x_pre`` and depress; then post spikes bump
``x_post`` and potentiate (seeing this step's ``x_pre``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: Column order of a rule's parameter row.
RULE_NAMES = ("a_plus", "a_minus", "w_min", "w_max", "decay_pre", "decay_post",
              "nearest", "mu_plus", "mu_minus", "tau_elig", "lr", "tau_d", "tau_p", "x_tar",
              "decay_x", "decay_y", "a3_plus", "a3_minus", "clip_step")
N_RULE = len(RULE_NAMES)
#: Column of each parameter in a rule row (the kernels read ``rule[A_MINUS]``, never a bare
#: number; numba folds these module constants at compile time).
(A_PLUS, A_MINUS, W_MIN, W_MAX, DECAY_PRE, DECAY_POST, NEAREST, MU_PLUS, MU_MINUS, TAU_ELIG,
 LR, TAU_D, TAU_P, X_TAR, DECAY_X, DECAY_Y, A3_PLUS, A3_MINUS, CLIP_STEP) = range(N_RULE)
#: Projection kinds of the engine (TRIPLET_KIND is a pair rule whose amplitudes depend,
#: at each spike, on the slow traces r2 / o2: Pfister & Gerstner 2006).
STATIC, STDP_KIND, RSTDP_KIND, TRIPLET_KIND = 0, 1, 2, 3


@njit(cache=True, inline="always")
def _dependence(frac, mu):
    if mu == 0.0:
        return 1.0
    if mu == 1.0:
        return frac
    return frac ** mu if frac > 0.0 else 0.0


@njit(cache=True, inline="always")
def pairing_term(w, amplitude, trace, w_min, w_max, mu, potentiate):
    """The STDP change ``amplitude * trace * f(w)`` of a weight ``w`` (mV)."""
    span = w_max - w_min
    frac = (w_max - w) / span if potentiate else (w - w_min) / span
    return amplitude * trace * _dependence(frac, mu)


@njit(cache=True, inline="always")
def update_weight(w, amplitude, trace, w_min, w_max, mu, potentiate, clip=True):
    """One STDP weight change ``w + amplitude * trace * f(w)``, clipped to the bounds
    unless ``clip`` is false (``clip='step'`` rules clip at the end of the step)."""
    w = w + pairing_term(w, amplitude, trace, w_min, w_max, mu, potentiate)
    if not clip:
        return w
    return clip_weight(w, w_min, w_max)


@njit(cache=True, inline="always")
def clip_weight(w, w_min, w_max):
    """``w`` clipped to ``[w_min, w_max]``."""
    if w < w_min:
        return w_min
    if w > w_max:
        return w_max
    return w


@njit(cache=True, inline="always")
def bump_trace(x, nearest):
    """A spike's effect on a trace: ``x + 1`` (all-to-all) or ``1`` (nearest)."""
    return 1.0 if nearest else x + 1.0


@njit(cache=True, nogil=True)
def potentiate_column(syn, col_pre, lo, hi, w, x_pre, x_tar, a_plus, w_min, w_max, mu_plus,
                      clip):
    """Post spike: potentiate incoming synapses ``syn[lo:hi]`` (indices into ``w``) by
    ``a_plus (x_pre - x_tar) f_plus(w)``.

    ``col_pre[k]`` is the presynaptic neuron of synapse ``syn[k]``, stored in column
    order so that the only scattered memory access per synapse is its weight.
    """
    for k in range(lo, hi):
        s = syn[k]
        w[s] = update_weight(w[s], a_plus, x_pre[col_pre[k]] - x_tar, w_min, w_max, mu_plus,
                             True, clip)


@njit(cache=True, nogil=True)
def potentiate_strided(first, stride, n_pre, w, x_pre, x_tar, a_plus, w_min, w_max, mu_plus,
                       clip):
    """:func:`potentiate_column` for an all-to-all projection in CSR order, where the
    synapse from ``j`` is ``first + j * stride``: no index arrays to read, so the
    constant-stride walk is prefetched by the hardware."""
    for j in range(n_pre):
        s = first + j * stride
        w[s] = update_weight(w[s], a_plus, x_pre[j] - x_tar, w_min, w_max, mu_plus, True, clip)


@njit(cache=True, nogil=True)
def clip_row(lo, hi, w, w_min, w_max):
    """End of a ``clip='step'`` step: clip the synapses ``lo:hi`` (a spiking neuron's
    CSR row) to ``[w_min, w_max]``."""
    for s in range(lo, hi):
        w[s] = clip_weight(w[s], w_min, w_max)


@njit(cache=True, nogil=True)
def clip_column(syn, lo, hi, w, w_min, w_max):
    """End of a ``clip='step'`` step: clip the synapses ``syn[lo:hi]`` (a spiking
    neuron's incoming synapses) to ``[w_min, w_max]``."""
    for k in range(lo, hi):
        s = syn[k]
        w[s] = clip_weight(w[s], w_min, w_max)


def pairing_term_reference(w, amplitude, trace, w_min, w_max, mu, potentiate):
    """Vectorised NumPy version of :func:`pairing_term`."""
    span = w_max - w_min
    frac = (w_max - w) / span if potentiate else (w - w_min) / span
    dep = np.ones_like(w) if mu == 0 else np.where(frac > 0, np.abs(frac) ** mu, 0.0)
    return amplitude * trace * dep


def update_weight_reference(w, amplitude, trace, w_min, w_max, mu, potentiate, clip=True):
    """Vectorised NumPy version of :func:`update_weight`."""
    w = w + pairing_term_reference(w, amplitude, trace, w_min, w_max, mu, potentiate)
    return np.clip(w, w_min, w_max) if clip else w
