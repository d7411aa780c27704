r"""Leaky integrate-and-fire neurons with current-based exponential synapses.

Equations (time in ms, voltages and currents in mV)::

    tau_m     dv/dt     = -(v - v_rest) + I_exc + I_inh + I_ext     (unless refractory)
    tau_exc   dI_exc/dt = -I_exc
    tau_inh   dI_inh/dt = -I_inh
    v > v_th + theta  ->  spike, v <- v_reset, v held for t_ref, theta <- theta + theta_plus
    tau_theta dtheta/dt = -theta                                    (adaptive threshold)

With ``theta_frozen`` the threshold is ``v_th + theta`` with ``theta`` held constant
(per-neuron thresholds, neither raised nor decayed); without it and with
``theta_plus = 0``, ``theta`` is not read.

A presynaptic spike through a synapse of weight ``w`` (mV) adds ``w`` to ``I_exc``
when ``w > 0`` and to ``I_inh`` when ``w < 0``.

The system is linear between spikes, so one step of length ``dt`` is integrated
exactly (the scheme Brian2 calls ``method='exact'``). With ``E_x = exp(-dt/tau_x)``
and ``v_inf = v_rest + I_ext``::

    v(t+dt)     = v_inf + (v - v_inf) E_m + I_exc c_exc + I_inh c_inh
    c_x         = tau_x / (tau_x - tau_m) (E_x - E_m)        (tau_x != tau_m)
                = (dt / tau_m) E_m                            (tau_x == tau_m)
    I_x(t+dt)   = I_x E_x

Order within a step, as in Brian2's default schedule: integrate, threshold, reset.
A neuron that spiked in step ``s`` is integrated again from step ``s + n_ref`` on
(``n_ref = t_ref / dt``). The refractory counter ``ref`` is set to ``n_ref + 1`` in the
step of a spike and counts down to 0; the neuron integrates while ``ref - 1 <= 1``
after the decrement. The value ``n_ref + 1`` occurs only in the step of a spike, so
spikes are read off the counter without a separate flag array.
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: Column order of a population's coefficient row (see :func:`coefficients`).
COEF_NAMES = ("E_m", "E_exc", "E_inh", "c_exc", "c_inh", "v_rest", "v_reset", "v_th", "n_ref",
              "E_theta", "theta_plus", "theta_frozen")
N_COEF = len(COEF_NAMES)


def _current_gain(dt, tau_m, tau_syn):
    e_m, e_s = np.exp(-dt / tau_m), np.exp(-dt / tau_syn)
    if abs(tau_syn - tau_m) <= 1e-12 * tau_m:
        return dt / tau_m * e_m
    return tau_syn / (tau_syn - tau_m) * (e_s - e_m)


def coefficients(dt, tau_m, tau_syn_exc, tau_syn_inh, v_rest, v_reset, v_th, n_ref,
                 theta_plus=0.0, tau_theta=np.inf, theta_frozen=False):
    """Exact-integration coefficients of one population for step ``dt`` (ms).

    Returns a float64 array laid out as :data:`COEF_NAMES` (``theta_frozen``: 1.0 or
    0.0; a frozen ``theta`` has ``E_theta = 1`` and ``theta_plus = 0``).
    """
    if theta_frozen:
        theta_plus, tau_theta = 0.0, np.inf
    return np.array([
        np.exp(-dt / tau_m), np.exp(-dt / tau_syn_exc), np.exp(-dt / tau_syn_inh),
        _current_gain(dt, tau_m, tau_syn_exc), _current_gain(dt, tau_m, tau_syn_inh),
        v_rest, v_reset, v_th, float(n_ref), np.exp(-dt / tau_theta), theta_plus,
        1.0 if theta_frozen else 0.0], dtype=np.float64)


@njit(cache=True, inline="always")
def _update(v_old, ie, ii, ref, v_inf, e_m, c_e, c_i, v_reset, v_th, n_ref):
    """One neuron, one step: returns ``(v, ref)`` (branch-free selects)."""
    r = ref - 1
    active = r <= 1
    v_new = v_inf + (v_old - v_inf) * e_m + ie * c_e + ii * c_i
    v_new = v_new if active else v_old
    spiked = active and v_new > v_th
    v_new = v_reset if spiked else v_new
    r = n_ref + 1 if spiked else (r if r > 0 else 0)
    return v_new, r


#: Neurons advanced per block: a block is integrated in one vectorised loop that also
#: counts its spikes, and only a block with a spike is scanned again for their indices
#: (read back from L1). One pass over the state instead of two; at 64k neurons the
#: state no longer fits in L2 and the second pass cost as much as a third of the step.
BLOCK = 64


def _make_advance(ext, adapt):
    """Integrate neurons ``a:b`` of a population's 0-based views (one block) and return
    how many spiked. ``ext`` (external current) and ``adapt`` (adaptive threshold) are
    frozen into the compiled loop, so each variant vectorises without dead branches."""

    @njit(inline="always")
    def advance(a, b, vv, ie, ii, rr, xx, tt, v_rest, e_m, e_e, e_i, c_e, c_i, v_reset, v_th,
                n_ref, e_theta, theta_plus):
        just_fired = n_ref + 1
        hit = 0
        for j in range(a, b):  # unsigned a, b: no wrap-around checks, so it vectorises
            th = tt[j] * e_theta if adapt else 0.0
            v_inf = v_rest + xx[j] if ext else v_rest
            v_j, r_j = _update(vv[j], ie[j], ii[j], rr[j], v_inf, e_m, c_e, c_i, v_reset,
                               v_th + th, n_ref)
            vv[j], rr[j] = v_j, r_j
            hit += r_j == just_fired
            if adapt:  # (homeostasis, Diehl & Cook 2015)
                tt[j] = th + theta_plus if r_j == just_fired else th
            ie[j] *= e_e
            ii[j] *= e_i
        return hit

    return advance


_advance_plain = _make_advance(False, False)
_advance_ext = _make_advance(True, False)
_advance_adapt = _make_advance(True, True)


@njit(cache=True, nogil=True)
def lif_step(coef, lo, hi, v, i_exc, i_inh, ref, i_ext, use_ext, theta, spikes, n_spikes):
    """Advance neurons ``lo:hi`` (one population) by one step, in place.

    Parameters
    ----------
    coef : float64[N_COEF]
        The population's coefficients (:func:`coefficients`).
    lo, hi : int
        Global index range of the population.
    v, i_exc, i_inh : float64[n]
        Membrane potential (mV) and synaptic currents (mV), updated in place.
    ref : int32[n]
        Refractory counter (see the module docstring), updated in place (32 bits: the
        LIF update is memory-bound beyond L2, ~2 MB of state here; 2**31 steps).
    i_ext : float64[n]
        External current (mV) held constant over the step; read only if ``use_ext``
        or the population's threshold adapts.
    theta : float64[n]
        Adaptive threshold (mV), decayed and bumped in place; used only when the
        population's ``theta_plus > 0`` or its ``theta_frozen`` flag is set (then
        ``E_theta = 1``, ``theta_plus = 0``: read, never changed).
    spikes : int32[>= n]
        Indices of this step's spikes are appended at ``spikes[n_spikes:]``, in
        increasing order.

    Returns
    -------
    int
        The new number of entries in ``spikes``.
    """
    e_m, e_e, e_i = coef[0], coef[1], coef[2]
    c_e, c_i = coef[3], coef[4]
    v_rest, v_reset, v_th = coef[5], coef[6], coef[7]
    n_ref = np.int64(coef[8])
    e_theta, theta_plus, frozen = coef[9], coef[10], coef[11]
    just_fired = n_ref + 1
    vv, ie, ii = v[lo:hi], i_exc[lo:hi], i_inh[lo:hi]
    rr, xx, tt = ref[lo:hi], i_ext[lo:hi], theta[lo:hi]
    n_blocks = (hi - lo) // BLOCK
    for k in range(n_blocks + 1):
        a = np.uint64(k * BLOCK)
        b = np.uint64(a + BLOCK if k < n_blocks else hi - lo)
        if theta_plus > 0.0 or frozen != 0.0:  # adaptive or frozen threshold
            hit = _advance_adapt(a, b, vv, ie, ii, rr, xx, tt, v_rest, e_m, e_e, e_i, c_e, c_i,
                                 v_reset, v_th, n_ref, e_theta, theta_plus)
        elif use_ext:
            hit = _advance_ext(a, b, vv, ie, ii, rr, xx, tt, v_rest, e_m, e_e, e_i, c_e, c_i,
                               v_reset, v_th, n_ref, e_theta, theta_plus)
        else:
            hit = _advance_plain(a, b, vv, ie, ii, rr, xx, tt, v_rest, e_m, e_e, e_i, c_e, c_i,
                                 v_reset, v_th, n_ref, e_theta, theta_plus)
        if hit:
            for j in range(a, b):
                if rr[j] == just_fired:
                    spikes[n_spikes] = lo + np.int64(j)
                    n_spikes += 1
    return n_spikes


def lif_step_reference(coef, v, i_exc, i_inh, ref, i_ext, theta=None):
    """Readable NumPy version of :func:`lif_step` for one population.

    Returns new ``(v, i_exc, i_inh, ref, spiked)`` arrays, and the new ``theta`` as a
    sixth element when ``theta`` is given; inputs are not modified.
    """
    e_m, e_e, e_i, c_e, c_i, v_rest, v_reset, v_th, n_ref, e_theta, theta_plus, frozen = coef
    v_inf = v_rest + i_ext
    integrated = v_inf + (v - v_inf) * e_m + i_exc * c_e + i_inh * c_i
    ref = np.maximum(ref - 1, 0)
    refractory = ref > 1
    v_new = np.where(refractory, v, integrated)
    adapt = (theta_plus > 0 or frozen != 0) and theta is not None
    if adapt:
        theta = theta * e_theta
    spiked = (v_new > v_th + (theta if adapt else 0.0)) & ~refractory
    v_new = np.where(spiked, v_reset, v_new)
    ref = np.where(spiked, int(n_ref) + 1, ref).astype(np.int32)
    out = (v_new, i_exc * e_e, i_inh * e_i, ref, spiked)
    if theta is None:
        return out
    return out + (theta + theta_plus * spiked if adapt else theta,)
