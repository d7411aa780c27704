"""Slow, readable NumPy reference of the whole engine loop (:mod:`.engine`).

:func:`run_reference` advances a compiled simulator step by step with the vectorised
``*_reference`` kernels and a dense ``(n_slots, 2, n_lif)`` delay buffer in which every
delay, including zero, goes through the ring. It shares no code path with the
numba loop beyond the array layout, so tests can hold one against the other.
"""
from __future__ import annotations

import numpy as np

from .lif import lif_step_reference
from .loihi import POP_LIF, POP_LOIHI_FIXED, loihi_step_reference
from .propagate import propagate_reference
from .stdp import (A3_MINUS, A3_PLUS, A_MINUS, A_PLUS, DECAY_POST, DECAY_PRE, DECAY_X, DECAY_Y,
                   LR, RSTDP_KIND, TAU_ELIG, TAU_P, TRIPLET_KIND, pairing_term_reference,
                   update_weight_reference)


class _EagerRSTDP:
    """Step-by-step R-STDP for the reference loop.

    Every step, for every synapse, the weight change over the step is accumulated in
    ``acc`` (``lr d(u) C tau_p (1 - exp(-dt/tau_p))``) and ``C`` decays; ``acc`` is added
    to the weight (and clipped) when the synapse has an event, at a reward, and at the
    end of the call — the moments the lazy engine brings a synapse up to date.
    """

    def __init__(self, sim):
        self.sim = sim
        self.k = [k for k in range(len(sim.projections)) if sim.pr_kind[k] == RSTDP_KIND]
        self.acc = {k: np.zeros(sim.projections[k].n_synapses) for k in self.k}

    def elig(self, k):
        return self.sim.elig_of(k)[1]

    def settle(self, k, mask=slice(None)):
        pr = self.sim.projections[k]
        rule = pr.plasticity
        pr.w[mask] = np.clip(pr.w[mask] + self.acc[k][mask], rule.w_min, rule.w_max)
        self.acc[k][mask] = 0.0

    def rewards(self, u):
        pending = [m for m in self.sim.net.modulators if m._pending != 0.0]
        if not pending:
            return
        for k in self.k:
            self.settle(k)
        for mod in pending:
            for k in self.k:
                if self.sim.modulator_of[k] is mod and mod.phasic:
                    pr, rule = self.sim.projections[k], self.sim.projections[k].plasticity
                    pr.w[:] = np.clip(pr.w + rule.lr * mod._pending * self.elig(k), rule.w_min,
                                      rule.w_max)
            if not mod.phasic:
                mod._level, mod._level_step = mod.level_at(u) + mod._pending, u
            mod._pending = 0.0

    def integrate(self, u, dt):
        for k in self.k:
            tau_e, lr, tau_p = (self.sim.pr_rule[k, c] for c in (TAU_ELIG, LR, TAU_P))
            d = self.sim.modulator_of[k].level_at(u)
            c = self.elig(k)
            self.acc[k] += lr * d * c * tau_p * -np.expm1(-dt / tau_p)
            c *= np.exp(-dt / tau_e)


def run_reference(sim, n_steps):
    """Advance ``sim`` (a :class:`neuromorph.simulator.Simulator`) by ``n_steps``.

    Returns the spikes as two arrays ``(steps, global indices)``. Monitors are not fed.
    """
    net, st = sim.net, sim.state
    n_slots = sim.ring_exc.shape[0]
    ring = np.stack([sim.ring_exc, sim.ring_inh], axis=1)  # (slots, 2, n_lif)
    out_steps, out_idx = [], []
    rstdp = _EagerRSTDP(sim)
    rstdp.rewards(net.step)
    for u in range(net.step, net.step + n_steps):
        sim._apply_currents(u)
        # trace decay
        for k, pr in enumerate(sim.projections):
            if sim.pr_kind[k] != 0:
                sl = slice(sim.pr_xpre_off[k], sim.pr_xpre_off[k + 1])
                sim.x_pre[sl] *= sim.pr_rule[k, DECAY_PRE]
                sl2 = slice(sim.pr_xpost_off[k], sim.pr_xpost_off[k + 1])
                sim.x_post[sl2] *= sim.pr_rule[k, DECAY_POST]
                sim.x_pre2[sl] *= sim.pr_rule[k, DECAY_X]
                sim.x_post2[sl2] *= sim.pr_rule[k, DECAY_Y]
        # neurons
        spiked = np.zeros(sim.n_total, bool)
        for coef, kind, lo, hi in zip(sim.pop_coef, sim.pop_kind, sim.pop_lo, sim.pop_hi):
            sl = slice(lo, hi)
            if kind != POP_LIF:
                v, cur, s = loihi_step_reference(coef, kind == POP_LOIHI_FIXED, st["v"][sl],
                                                 st["u"][sl], st["I_exc"][sl] + st["I_inh"][sl],
                                                 st["I_ext"][sl])
                st["v"][sl], st["u"][sl], spiked[sl] = v, cur, s
                st["I_exc"][sl], st["I_inh"][sl] = 0.0, 0.0
                continue
            v, ie, ii, ref, s, th = lif_step_reference(coef, st["v"][sl], st["I_exc"][sl],
                                                       st["I_inh"][sl], st["ref"][sl],
                                                       st["I_ext"][sl], st["theta"][sl])
            st["v"][sl], st["I_exc"][sl], st["I_inh"][sl], st["ref"][sl] = v, ie, ii, ref
            st["theta"][sl] = th
            spiked[sl] = s
        ptr, idx = sim._inputs(u, u + 1)
        spiked[idx] = True
        # pre spikes: deliver old weights, then depress and bump pre traces
        for k, pr in enumerate(sim.projections):
            pre_mask = spiked[sim.pr_pre_lo[k]:sim.pr_pre_hi[k]]
            post_lo = sim.pr_post_lo[k]
            rule = pr.plasticity
            if sim.pr_kind[k] == RSTDP_KIND:
                rstdp.settle(k, pre_mask[pr.sources])
            part = propagate_reference(pre_mask, pr.sources, pr.targets, pr.w, pr.delay_steps, u,
                                       pr.post.size, np.zeros((n_slots, 2, pr.post.size)))
            ring[:, :, post_lo:post_lo + pr.post.size] += part
            if rule is not None:
                x_pre = sim.x_pre[sim.pr_xpre_off[k]:sim.pr_xpre_off[k + 1]]
                x_post = sim.x_post[sim.pr_xpost_off[k]:sim.pr_xpost_off[k + 1]]
                act = pre_mask[pr.sources]
                if sim.pr_kind[k] == RSTDP_KIND:
                    rstdp.elig(k)[act] += pairing_term_reference(
                        pr.w[act], rule.a_minus, x_post[pr.targets[act]], rule.w_min,
                        rule.w_max, rule.mu, False)
                else:
                    a_minus = sim.pr_rule[k, A_MINUS]
                    if sim.pr_kind[k] == TRIPLET_KIND:  # A2- + A3- r2 before its jump
                        x_pre2 = sim.x_pre2[sim.pr_xpre_off[k]:sim.pr_xpre_off[k + 1]]
                        a_minus = a_minus + sim.pr_rule[k, A3_MINUS] * x_pre2[pr.sources[act]]
                        x_pre2[pre_mask] += 1.0
                    pr.w[act] = update_weight_reference(pr.w[act], a_minus,
                                                        x_post[pr.targets[act]], rule.w_min,
                                                        rule.w_max, rule.mu, False,
                                                        not rule.clip_step)
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
            if sim.pr_kind[k] == RSTDP_KIND:
                rstdp.settle(k, act)
                rstdp.elig(k)[act] += pairing_term_reference(
                    pr.w[act], rule.a_plus, x_pre[pr.sources[act]] - rule.x_tar, rule.w_min,
                    rule.w_max, rule.mu, True)
            else:
                a_plus = sim.pr_rule[k, A_PLUS]
                if sim.pr_kind[k] == TRIPLET_KIND:  # A2+ + A3+ o2 before its jump
                    x_post2 = sim.x_post2[sim.pr_xpost_off[k]:sim.pr_xpost_off[k + 1]]
                    a_plus = a_plus + sim.pr_rule[k, A3_PLUS] * x_post2[pr.targets[act]]
                    x_post2[post_mask] += 1.0
                pr.w[act] = update_weight_reference(pr.w[act], a_plus,
                                                    x_pre[pr.sources[act]] - rule.x_tar,
                                                    rule.w_min, rule.w_max, rule.mu, True,
                                                    not rule.clip_step)
                if rule.clip_step:  # the step's changes summed, then clipped once
                    pre_lo = sim.pr_pre_lo[k]
                    touched = act | spiked[pre_lo:pre_lo + pr.pre.size][pr.sources]
                    pr.w[touched] = np.clip(pr.w[touched], rule.w_min, rule.w_max)
        # arrivals due at the end of this step
        slot = u % n_slots
        st["I_exc"] += ring[slot, 0]
        st["I_inh"] += ring[slot, 1]
        ring[slot] = 0.0
        rstdp.integrate(u, net.dt)
        g = np.nonzero(spiked)[0]
        out_steps.append(np.full(len(g), u, np.int64))
        out_idx.append(g)
    net.step += n_steps
    for k in rstdp.k:
        rstdp.settle(k)
    sim.ring_exc[...], sim.ring_inh[...] = ring[:, 0], ring[:, 1]
    return np.concatenate(out_steps), np.concatenate(out_idx)
