r"""Batched kernels for layered spiking learners (CSDP, spiking PC, EqSpike).

Every array carries a leading batch axis ``b`` (one row per sample presented in
parallel) and a neuron axis ``j``. The neuron equations are those of
:mod:`neuromorph.kernels.lif` (exact integration, same coefficient row from
:func:`~neuromorph.kernels.lif.coefficients`, same per-neuron update
``lif._update``); this module only adds the batch axis, a per-neuron threshold and
an adaptive threshold ``theta``::

    input current held over the step (``filtered = False``):
        v(t+dt) = v_inf + (v - v_inf) E_m,            v_inf = v_rest + I_in
    exponential synaptic current (``filtered = True``):
        v(t+dt) = v_rest + (v - v_rest) E_m + I_syn c_exc
        I_syn  <- I_syn E_exc + I_in                  (input lands at the end of the step)
    adaptation:  theta <- theta E_theta                 (decay first, as in ``lif.lif_step``)
    threshold:   v > v_th0[j] + theta[b, j]  ->  spike, v <- v_reset, refractory n_ref steps,
                 theta <- theta + theta_plus

Traces follow the engine's conventions (:func:`~neuromorph.kernels.stdp.bump_trace`):
decay ``x <- x E_tr`` then, on a spike, ``x + 1`` (all-to-all) or ``1`` (nearest).

Each numba kernel has a NumPy ``*_reference`` that the tests compare against.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .lif import _update
from .stdp import bump_trace


@njit(cache=True, nogil=True)
def lif_batch_step(coef, v, i_syn, ref, theta, i_in, v_th0, filtered, theta_plus, e_theta,
                   spikes):
    """Advance a batch of LIF layers by one step, in place.

    Parameters
    ----------
    coef : float64[N_COEF]
        Coefficients of :func:`neuromorph.kernels.lif.coefficients` (``v_th`` unused:
        the threshold is ``v_th0 + theta``).
    v, i_syn, theta : float64[B, n]
        Membrane potential (mV), synaptic current (mV) and threshold adaptation (mV).
    ref : int32[B, n]
        Refractory counter (convention of :mod:`neuromorph.kernels.lif`).
    i_in : float64[B, n]
        This step's input current (mV).
    v_th0 : float64[n]
        Base threshold of each neuron (mV).
    filtered : bool
        ``True``: ``i_in`` enters an exponential synaptic current; ``False``: it is held
        constant over the step (``v_inf = v_rest + i_in``).
    theta_plus, e_theta : float
        Threshold increment per spike (mV) and its per-step decay factor.
    spikes : float64[B, n]
        Output: 1.0 where a neuron fired this step, else 0.0.
    """
    e_m, e_e, c_e = coef[0], coef[1], coef[3]
    v_rest, v_reset = coef[5], coef[6]
    n_ref = np.int32(coef[8])
    just_fired = n_ref + 1
    B, n = v.shape
    for b in range(B):
        for j in range(n):
            th = theta[b, j] * e_theta
            if filtered:
                vn, r = _update(v[b, j], i_syn[b, j], 0.0, ref[b, j], v_rest, e_m, c_e, 0.0,
                                v_reset, v_th0[j] + th, n_ref)
                i_syn[b, j] = i_syn[b, j] * e_e + i_in[b, j]
            else:
                vn, r = _update(v[b, j], 0.0, 0.0, ref[b, j], v_rest + i_in[b, j], e_m, 0.0,
                                0.0, v_reset, v_th0[j] + th, n_ref)
            v[b, j] = vn
            ref[b, j] = r
            s = 1.0 if r == just_fired else 0.0
            spikes[b, j] = s
            theta[b, j] = th + theta_plus * s


def lif_batch_step_reference(coef, v, i_syn, ref, theta, i_in, v_th0, filtered, theta_plus,
                             e_theta):
    """NumPy version of :func:`lif_batch_step`; returns ``(v, i_syn, ref, theta, spikes)``."""
    e_m, e_e, c_e, v_rest, v_reset, n_ref = coef[0], coef[1], coef[3], coef[5], coef[6], coef[8]
    if filtered:
        integrated = v_rest + (v - v_rest) * e_m + i_syn * c_e
        i_syn = i_syn * e_e + i_in
    else:
        v_inf = v_rest + i_in
        integrated = v_inf + (v - v_inf) * e_m
    ref = np.maximum(ref - 1, 0)
    refractory = ref > 1
    v_new = np.where(refractory, v, integrated)
    theta = theta * e_theta
    spiked = (v_new > v_th0 + theta) & ~refractory
    v_new = np.where(spiked, v_reset, v_new)
    ref = np.where(spiked, int(n_ref) + 1, ref).astype(np.int32)
    s = spiked.astype(np.float64)
    return v_new, i_syn, ref, theta + theta_plus * s, s


@njit(cache=True, nogil=True)
def trace_batch_step(x, s, decay, nearest):
    """Decay traces ``x`` (any shape, flattened view) by ``decay`` and bump at spikes ``s``."""
    xf, sf = x.reshape(-1), s.reshape(-1)
    for k in range(xf.size):
        xk = xf[k] * decay
        xf[k] = bump_trace(xk, nearest) if sf[k] > 0.0 else xk


def trace_batch_step_reference(x, s, decay, nearest):
    """NumPy version of :func:`trace_batch_step`; returns the new traces."""
    x = x * decay
    return np.where(s > 0, 1.0 if nearest else x + 1.0, x)

