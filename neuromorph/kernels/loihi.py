r"""Loihi's CUBA LIF neuron with exactly the arithmetic of Lava's LIF process models.

One step of one population (see :class:`~neuromorph.neurons.LoihiLIF`)::

    a_in = I_exc + I_inh            spikes that arrived since the last step (then cleared)
    u   <- u (1 - du) + a_in
    v   <- v (1 - dv) + u + bias + I_ext
    spike when v > vth;  v <- 0 where spiked

Floating point follows ``lava.proc.lif.models.PyLifModelFloat`` operation by
operation. Fixed point follows ``PyLifModelBitAcc`` bit by bit; all values are
integers held exactly in float64 arrays (24-bit state, integer weights)::

    u <- trunc(u (4096 - du - 1) / 4096) + a_in * 64      wrapped into (-2**23, 2**23]
    v <- trunc(v (4096 - dv) / 4096) + u + bias           clipped to [-(2**23 - 1), 2**23 - 1]
    spike when v > vth * 64

``I_ext`` is the neuron's share of the network's step currents (``net.current`` on a
LoihiLIF population, Lava units): a per-neuron bias on top of the population's, which
may change between steps (Lava: per-neuron ``bias_mant << bias_exp`` set between
runs, :mod:`neuromorph.backends.lava`).

``trunc`` rounds towards zero (Lava: ``sign(x) * (|x| >> 12)``). The wrap of ``u``
is Lava's: a value above ``2**23`` loses ``2**24``, one at or below ``-2**23`` gains
it.

The engine routes spikes into ``I_exc`` (w >= 0) and ``I_inh`` (w < 0) as for the
continuous LIF; this kernel folds the two into the single input ``a_in`` and clears
them, so their values between steps are the input pending for the next step. With
integer weights the float64 sums are exact (below ``2**53``).

A spike emitted in step ``t`` through a delay-0 synapse reaches ``a_in`` in step
``t + 1`` -- the timing of Lava's ``Dense`` process, which sends in step ``t + 1``
what it accumulated in step ``t``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: Population kinds of the engine's per-population dispatch (``pop_kind``).
POP_LIF, POP_LOIHI_FLOAT, POP_LOIHI_FIXED = 0, 1, 2

_HALF = 2**23
_ACT_SHIFT = 6  # Loihi MSB-aligns synaptic input and threshold by 6 bits


@njit(cache=True, inline="always")
def _decay_fixed(x, factor):
    """``trunc(x * factor / 4096)`` on int64, as Lava's ``sign(p) * (|p| >> 12)``."""
    p = x * factor
    q = (p if p >= 0 else -p) >> 12
    return q if p >= 0 else -q


@njit(cache=True, inline="always")
def _commit(j, cur, vol, threshold, v, u, i_exc, i_inh, spikes, n_spikes):
    """Shared tail of both arithmetics: store ``u``, clear the input, fire and reset.

    Returns the new number of entries in ``spikes``.
    """
    u[j] = cur
    i_exc[j] = 0.0
    i_inh[j] = 0.0
    if vol > threshold:
        v[j] = 0.0
        spikes[n_spikes] = j
        return n_spikes + 1
    v[j] = vol
    return n_spikes


@njit(cache=True, nogil=True)
def loihi_step(coef, lo, hi, fixed, v, u, i_exc, i_inh, i_ext, spikes, n_spikes):
    """Advance LoihiLIF neurons ``lo:hi`` (one population) by one step, in place.

    Parameters
    ----------
    coef, lo, hi
        The population's row (``describe(model).engine_row``, :mod:`neuromorph.descriptions`)
        and its global index range, as in :func:`neuromorph.kernels.lif.lif_step`.
    fixed : bool
        Fixed-point (bit-accurate) or floating-point arithmetic.
    v, u : float64[n]
        Voltage and current (Lava's units; integers in fixed point), updated in place.
    i_exc, i_inh : float64[n]
        Input that arrived since the last step (weight units); read and cleared.
    i_ext : float64[n]
        Step currents (Lava units, integers in fixed point): added to the bias.
    spikes, n_spikes
        The step's spike list, as in :func:`neuromorph.kernels.lif.lif_step`: this
        population's spikes are appended and the new length is returned.
    """
    fu, fv, vth, bias = coef[0], coef[1], coef[2], coef[3]
    if fixed:
        iu, iv, ith, ib = np.int64(fu), np.int64(fv), np.int64(vth), np.int64(bias)
        for j in range(lo, hi):
            a = np.int64(i_exc[j] + i_inh[j])
            cur = _decay_fixed(np.int64(u[j]), iu) + (a << _ACT_SHIFT)
            if cur > _HALF:
                cur -= 2 * _HALF
            elif cur <= -_HALF:
                cur += 2 * _HALF
            vol = _decay_fixed(np.int64(v[j]), iv) + cur + ib + np.int64(i_ext[j])
            vol = min(max(vol, 1 - _HALF), _HALF - 1)
            n_spikes = _commit(j, cur, vol, ith, v, u, i_exc, i_inh, spikes, n_spikes)
    else:
        for j in range(lo, hi):
            cur = u[j] * fu
            cur += i_exc[j] + i_inh[j]
            vol = v[j] * fv + cur + (bias + i_ext[j])
            n_spikes = _commit(j, cur, vol, vth, v, u, i_exc, i_inh, spikes, n_spikes)
    return n_spikes


def loihi_step_reference(coef, fixed, v, u, a_in, i_ext=0.0):
    """Readable NumPy version of :func:`loihi_step`, written as Lava writes it.

    ``a_in`` is the summed input of the step (weight units), ``i_ext`` the step
    currents (Lava units, added to the bias). Returns new ``(v, u,
    spiked)`` arrays; inputs are not modified.
    """
    fu, fv, vth, bias = coef[:4]
    bias = bias + np.asarray(i_ext, float)
    if not fixed:
        u_new = u * fu
        u_new = u_new + a_in
        v_new = v * fv + u_new + bias
        spiked = v_new > vth
        return np.where(spiked, 0.0, v_new), u_new, spiked
    half = 2**23
    decayed = np.int64(u) * np.int64(fu)
    decayed = np.int32(np.sign(decayed) * np.right_shift(np.abs(decayed), 12))
    decayed = decayed + np.left_shift(np.int64(a_in), _ACT_SHIFT)
    wrapped = np.where(decayed > half, decayed - 2 * half, decayed)
    wrapped = np.where(wrapped <= -half, decayed + 2 * half, wrapped)
    dv = np.int64(v) * np.int64(fv)
    dv = np.int32(np.sign(dv) * np.right_shift(np.abs(dv), 12))
    v_new = np.clip(dv + wrapped + np.int64(bias), -half + 1, half - 1)
    spiked = v_new > np.int64(vth)
    return (np.where(spiked, 0, v_new).astype(np.float64), wrapped.astype(np.float64),
            spiked)


__all__ = ["POP_LIF", "POP_LOIHI_FLOAT", "POP_LOIHI_FIXED",
           "loihi_step", "loihi_step_reference"]
