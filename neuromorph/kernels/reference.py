"""Slow, readable NumPy reference of the whole engine loop (:mod:`.engine`).

:func:`run_reference` advances a compiled simulator step by step with the vectorised
``*_reference`` kernels and a dense ``(n_slots, 2, n_lif)`` delay buffer in which every
delay, including zero, goes through the ring. It shares no code path with the
numba loop beyond the array layout, so tests can hold one against the other.
"""
from __future__ import annotations

import numpy as np

from .lif import lif_step_reference
from .propagate import propagate_reference
from .stdp import update_weight_reference


def run_reference(sim, n_steps):
    """Advance ``sim`` (a :class:`neuromorph.simulator.Simulator`) by ``n_steps``.

    Returns the spikes as two arrays ``(steps, global indices)``. Monitors are not fed.
    """
    net, st = sim.net, sim.state
    n_lif, n_slots = sim.n_lif, sim.ring_exc.shape[0]
    ring = np.stack([sim.ring_exc, sim.ring_inh], axis=1)  # (slots, 2, n_lif)
    out_steps, out_idx = [], []
    for u in range(net.step, net.step + n_steps):
        sim._apply_currents(u)
        # trace decay
        for k, pr in enumerate(sim.projections):
            if sim.pr_plastic[k]:
                sl = slice(sim.pr_xpre_off[k], sim.pr_xpre_off[k + 1])
                sim.x_pre[sl] *= sim.pr_rule[k, 4]
                sl = slice(sim.pr_xpost_off[k], sim.pr_xpost_off[k + 1])
                sim.x_post[sl] *= sim.pr_rule[k, 5]
        # neurons
        spiked = np.zeros(sim.n_total, bool)
        for coef, lo, hi in zip(sim.pop_coef, sim.pop_lo, sim.pop_hi):
            sl = slice(lo, hi)
            v, ie, ii, ref, s = lif_step_reference(coef, st["v"][sl], st["I_exc"][sl],
                                                   st["I_inh"][sl], st["ref"][sl], st["I_ext"][sl])
            st["v"][sl], st["I_exc"][sl], st["I_inh"][sl], st["ref"][sl] = v, ie, ii, ref
            spiked[sl] = s
        ptr, idx = sim._inputs(u, u + 1)
        spiked[idx] = True
        # pre spikes: deliver old weights, then depress and bump pre traces
        for k, pr in enumerate(sim.projections):
            pre_mask = spiked[sim.pr_pre_lo[k]:sim.pr_pre_hi[k]]
            post_lo = sim.pr_post_lo[k]
            sub = np.zeros((n_slots, 2, n_lif))
            part = propagate_reference(pre_mask, pr.sources, pr.targets, pr.w, pr.delay_steps, u,
                                       pr.post.size, sub[:, :, post_lo:post_lo + pr.post.size])
            ring[:, :, post_lo:post_lo + pr.post.size] += part
            rule = pr.plasticity
            if rule is not None:
                x_pre = sim.x_pre[sim.pr_xpre_off[k]:sim.pr_xpre_off[k + 1]]
                x_post = sim.x_post[sim.pr_xpost_off[k]:sim.pr_xpost_off[k + 1]]
                act = pre_mask[pr.sources]
                pr.w[act] = update_weight_reference(pr.w[act], rule.a_minus,
                                                    x_post[pr.targets[act]], rule.w_min,
                                                    rule.w_max, rule.mu, False)
                x_pre[pre_mask] = 1.0 if rule.pairing == "nearest" else x_pre[pre_mask] + 1.0
        # post spikes: bump post traces, then potentiate
        for k, pr in enumerate(sim.projections):
            rule = pr.plasticity
            if rule is None:
                continue
            lo = sim.pr_post_lo[k]
            post_mask = spiked[lo:lo + pr.post.size]
            x_pre = sim.x_pre[sim.pr_xpre_off[k]:sim.pr_xpre_off[k + 1]]
            x_post = sim.x_post[sim.pr_xpost_off[k]:sim.pr_xpost_off[k + 1]]
            x_post[post_mask] = 1.0 if rule.pairing == "nearest" else x_post[post_mask] + 1.0
            act = post_mask[pr.targets]
            pr.w[act] = update_weight_reference(pr.w[act], rule.a_plus, x_pre[pr.sources[act]],
                                                rule.w_min, rule.w_max, rule.mu, True)
        # arrivals due at the end of this step
        slot = u % n_slots
        st["I_exc"] += ring[slot, 0]
        st["I_inh"] += ring[slot, 1]
        ring[slot] = 0.0
        g = np.nonzero(spiked)[0]
        out_steps.append(np.full(len(g), u, np.int64))
        out_idx.append(g)
    net.step += n_steps
    sim.ring_exc[...], sim.ring_inh[...] = ring[:, 0], ring[:, 1]
    return np.concatenate(out_steps), np.concatenate(out_idx)
