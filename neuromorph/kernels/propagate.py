r"""Event-driven spike propagation through CSR connectivity with delays.

A spike of presynaptic neuron ``j`` walks its CSR row ``rowptr[j]:rowptr[j+1]``. A
synapse with delay ``d`` (steps) delivers its weight at the end of step
``step + d``: directly into the postsynaptic current when ``d == 0``, otherwise into
the ring buffer slot ``(step + d) % n_slots``, drained by :func:`drain_ring`.
Positive weights feed ``I_exc``, negative ones ``I_inh``. Cost: O(synaptic events).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .stdp import update_weight


@njit(cache=True, nogil=True, inline="always")
def propagate_row(lo, hi, post, post_lo, w, delay, step, i_exc, i_inh, ring_exc, ring_inh,
                  sign, const_delay, const_w, plastic, x_post, a_minus, w_min, w_max,
                  mu_minus, clip):
    """Deliver the synapses ``lo:hi`` of one spiking presynaptic neuron.

    ``sign`` (+1: every weight >= 0, -1: every weight < 0, 0: mixed or unknown) and
    ``const_delay`` (the delay in steps shared by all synapses of the projection, or
    -1: read ``delay``) let a whole row go to one destination array without
    per-synapse tests; indices ``lo:hi`` are local to the projection (``post``, ``w``
    and ``delay`` are its own arrays; ``w``/``delay`` are empty when constant);
    a finite ``const_w`` (static projections whose weights are all equal, like
    Brian2's ``on_pre='ge += we'``) spares reading the weights.

    If ``plastic``, each synapse is then depressed from the post trace ``x_post``
    (STDP pre-spike update, :func:`~neuromorph.kernels.stdp.update_weight`, clipped to
    ``[w_min, w_max]`` if ``clip``); the
    current carries the weight from before the update, as in Brian2's ``on_pre``.
    The delivery is written out here rather than in a helper taking arrays: numba
    reference-counts array arguments on every non-inlined call, which would cost
    more than the delivery itself. It is itself inlined into the engine's loop: the call
    (some 60 scalar arguments) was paid per spiking row by every thread, a quarter of
    spike delivery at 256,000 neurons.
    """
    n_slots = ring_exc.shape[0]
    if sign != 0 and const_delay >= 0:
        if const_delay == 0:
            dest = i_exc if sign > 0 else i_inh
        else:
            slot = (step + const_delay) % n_slots
            dest = ring_exc[slot] if sign > 0 else ring_inh[slot]
        if not plastic and np.isfinite(const_w):
            for s in range(lo, hi):
                dest[post_lo + post[s]] += const_w
            return
        for s in range(lo, hi):
            p = post[s]
            ws = w[s]
            dest[post_lo + p] += ws
            if plastic:
                w[s] = update_weight(ws, a_minus, x_post[p], w_min, w_max, mu_minus, False,
                                     clip)
        return
    use_const = np.isfinite(const_w) and not plastic
    for s in range(lo, hi):
        p = post[s]
        tgt = post_lo + p
        ws = const_w if use_const else w[s]
        d = const_delay if const_delay >= 0 else delay[s]
        if d == 0:
            if ws >= 0.0:
                i_exc[tgt] += ws
            else:
                i_inh[tgt] += ws
        else:
            slot = (step + d) % n_slots
            if ws >= 0.0:
                ring_exc[slot, tgt] += ws
            else:
                ring_inh[slot, tgt] += ws
        if plastic:
            w[s] = update_weight(ws, a_minus, x_post[p], w_min, w_max, mu_minus, False, clip)


@njit(cache=True, nogil=True)
def drain_ring(step, lo, hi, i_exc, i_inh, ring_exc, ring_inh):
    """Add ring slot ``step % n_slots`` into the currents of neurons ``lo:hi`` and clear it."""
    slot = step % ring_exc.shape[0]
    for j in range(lo, hi):
        i_exc[j] += ring_exc[slot, j]
        i_inh[j] += ring_inh[slot, j]
        ring_exc[slot, j] = 0.0
        ring_inh[slot, j] = 0.0


def propagate_reference(spiked_pre, pre, post, w, delay, step, n_post, ring):
    """NumPy version: arrivals of this step's spikes, as an ``(n_slots, 2, n_post)`` add.

    ``spiked_pre`` is a boolean mask over presynaptic neurons; ``pre``, ``post``, ``w``
    and ``delay`` list the synapses in any order. Returns the updated ``ring`` (a copy)
    where slot ``(step + d) % n_slots`` receives the delayed weights, split into
    excitatory (``[:, 0]``) and inhibitory (``[:, 1]``) parts.
    """
    ring = ring.copy()
    act = spiked_pre[pre]
    slots = (step + delay[act]) % ring.shape[0]
    ws = w[act]
    np.add.at(ring, (slots, (ws < 0).astype(int), post[act]), ws)
    return ring


__all__ = ["propagate_row", "drain_ring", "propagate_reference"]
