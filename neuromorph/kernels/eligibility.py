r"""R-STDP: per-synapse eligibility traces integrated lazily against a neuromodulator.

Every R-STDP synapse stores its weight ``w``, eligibility ``C`` (mV) and the step
``t_s`` up to which both are current; between its own events nothing is done for it.
The neuromodulator (dopamine concentration) of its projection is one decaying
exponential since the last reward, ``d(t) = D_c exp(-(t - t_c) / tau_d)``: rewards only
arrive between chunks, after the engine has brought every synapse of the projection
up to date. Over ``T`` ms without events, in closed form (the product of two
exponentials, ``1/tau_p = 1/tau_d + 1/tau_elig``)::

    w <- clip(w + lr d(t_s) C tau_p (1 - exp(-T / tau_p)), w_min, w_max)
    C <- C exp(-T / tau_elig)

At a pre spike the synapse is brought up to date, delivers its weight, then
``C += a_minus x_post f_minus(w)``; at a post spike it is brought up to date, then
``C += a_plus x_pre f_plus(w)`` (the pairing terms of :mod:`.stdp`). A phasic reward
``r`` adds ``lr r C`` to every weight at once (:func:`phasic_reward`). Weights are
clipped whenever a synapse is brought up to date.

``e_shift`` maps a synapse index ``s`` (into the engine's weight array) to its
eligibility index ``s + e_shift``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .stdp import pairing_term


@njit(cache=True, inline="always")
def catch_up(w, c, steps, d_start, lr, tau_elig, tau_p, dt, w_min, w_max):
    """One synapse forward by ``steps`` steps: returns the new ``(w, C)``."""
    if steps <= 0:
        return w, c
    span = steps * dt
    if d_start != 0.0 and c != 0.0:
        w = w - lr * d_start * c * tau_p * np.expm1(-span / tau_p)
        w = min(max(w, w_min), w_max)
    return w, c * np.exp(-span / tau_elig)


@njit(cache=True, inline="always")
def dopamine_at(step, d_c, t_c, tau_d, dt):
    """Dopamine level at ``step`` from its value ``d_c`` at step ``t_c`` (0 stays 0)."""
    if d_c == 0.0:
        return 0.0
    return d_c * np.exp(-(step - t_c) * dt / tau_d)


@njit(cache=True, nogil=True)
def catch_up_range(lo, hi, e_shift, step, w, elig, elig_step, d_c, t_c, tau_d, lr, tau_elig,
                   tau_p, dt, w_min, w_max):
    """Bring synapses ``lo:hi`` (indices into ``w``) up to ``step``."""
    for s in range(lo, hi):
        e = s + e_shift
        d0 = dopamine_at(elig_step[e], d_c, t_c, tau_d, dt)
        w[s], elig[e] = catch_up(w[s], elig[e], step - elig_step[e], d0, lr, tau_elig, tau_p,
                                 dt, w_min, w_max)
        elig_step[e] = step


@njit(cache=True, nogil=True)
def tag_row(lo, hi, e_shift, post, w, elig, x_post, a_minus, w_min, w_max, mu_minus):
    """Pre spike: add the depression term to the eligibility of synapses ``lo:hi``."""
    for s in range(lo, hi):
        elig[s + e_shift] += pairing_term(w[s], a_minus, x_post[post[s]], w_min, w_max,
                                          mu_minus, False)


@njit(cache=True, nogil=True)
def tag_column(syn, col_pre, lo, hi, e_shift, step, w, elig, elig_step, x_pre, x_tar, d_c,
               t_c, tau_d, lr, tau_elig, tau_p, dt, a_plus, w_min, w_max, mu_plus):
    """Post spike: bring incoming synapses ``syn[lo:hi]`` up to date, add potentiation."""
    for k in range(lo, hi):
        s = syn[k]
        e = s + e_shift
        d0 = dopamine_at(elig_step[e], d_c, t_c, tau_d, dt)
        ws, c = catch_up(w[s], elig[e], step - elig_step[e], d0, lr, tau_elig, tau_p, dt,
                         w_min, w_max)
        w[s] = ws
        elig[e] = c + pairing_term(ws, a_plus, x_pre[col_pre[k]] - x_tar, w_min, w_max, mu_plus,
                                   True)
        elig_step[e] = step


@njit(cache=True, nogil=True)
def phasic_reward(lo, hi, e_shift, w, elig, amount, lr, w_min, w_max):
    """A phasic reward: ``w += lr * amount * C`` for synapses ``lo:hi`` (already current)."""
    for s in range(lo, hi):
        w[s] = min(max(w[s] + lr * amount * elig[s + e_shift], w_min), w_max)
