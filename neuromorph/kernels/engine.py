"""The compiled simulation loop: every step of a chunk runs inside one numba call.

Per step ``u`` (Brian2's schedule):

1. record state monitors (values at the start of the step),
2. decay the STDP traces of plastic projections,
3. integrate neuron populations, threshold, reset, dispatched on ``pop_kind``:
   continuous LIF (:func:`lif.lif_step`) or Loihi CUBA (:func:`loihi.loihi_step`),
4. append this step's input spikes (Poisson / spike sources, pre-drawn per chunk),
5. pre spikes: walk CSR rows, deliver (STDP: then depress; R-STDP: bring the row up
   to date first, then tag eligibility) and bump ``x_pre``,
6. post spikes of plastic projections: bump ``x_post``, then potentiate (STDP) or tag
   eligibility (R-STDP, :mod:`.eligibility`) over the CSC column,
7. drain the ring-buffer slot of step ``u`` (delayed arrivals),
8. record spikes and population spike counts.

All arguments are NumPy arrays or scalars (see :mod:`neuromorph.simulator` for the
layout); the loop returns early, at a step boundary, when the spike record buffer
might overflow, so the caller can grow it and resume.
"""
from __future__ import annotations

from numba import njit

from .lif import lif_step
from .loihi import POP_LIF, POP_LOIHI_FIXED, loihi_step
from .eligibility import catch_up_range, tag_column, tag_row
from .propagate import drain_ring, propagate_row
from .stdp import (RSTDP_KIND, STATIC, STDP_KIND, TRIPLET_KIND, bump_trace, clip_column,
                   clip_row, potentiate_column, potentiate_strided)


@njit(cache=True, nogil=True)
def run_steps(step0, s_begin, n_steps,
              pop_lo, pop_hi, pop_coef, pop_kind, pop_ext, v, u_cur, i_exc, i_inh, ref, i_ext,
              theta,
              n_lif,
              ring_exc, ring_inh,
              in_ptr, in_idx,
              pr_pre_lo, pr_pre_hi, pr_post_lo, pr_rowptr_off, pr_colptr_off,
              pr_sign, pr_delay, pr_wconst, pr_kind, pr_dense, pr_rule, pr_xpre_off,
              pr_xpost_off,
              rowptr, syn_post, syn_w, syn_delay, colptr, col_syn, col_pre, x_pre, x_post,
              x_pre2, x_post2,
              pr_eshift, elig, elig_step, pr_dop, pr_dop_step, dt,
              rec_mask, spk_step, spk_idx, spk_count, max_rec_per_step,
              sm_every, sm_ptr, sm_var, sm_idx, sm_row, sm_out_off, sm_out,
              rm_lo, rm_hi, rm_out, spikes):
    """Run steps ``s_begin .. n_steps-1`` of a chunk starting at absolute step ``step0``.

    Returns the index of the first step not run (``n_steps`` when the chunk is done).
    """
    n_pops = pop_lo.shape[0]
    n_proj = pr_pre_lo.shape[0]
    n_sm = sm_every.shape[0]
    n_rm = rm_lo.shape[0]
    has_ring = ring_exc.shape[0] > 1
    for s in range(s_begin, n_steps):
        if spk_count[0] + max_rec_per_step > spk_step.shape[0]:
            return s
        u = step0 + s
        # 1. state monitors: values at the start of the step
        for m in range(n_sm):
            if u % sm_every[m] == 0:
                base = sm_out_off[m] + sm_row[m] * (sm_ptr[m + 1] - sm_ptr[m])
                for e in range(sm_ptr[m], sm_ptr[m + 1]):
                    j = sm_idx[e]
                    var = sm_var[e]
                    if var == 0:
                        val = v[j]
                    elif var == 1:
                        val = i_exc[j]
                    elif var == 2:
                        val = i_inh[j]
                    elif var == 3:
                        val = u_cur[j]
                    else:
                        val = theta[j]
                    sm_out[base + e - sm_ptr[m]] = val
                sm_row[m] += 1
        # 2. trace decay
        for k in range(n_proj):
            if pr_kind[k] != STATIC:
                dpre, dpost = pr_rule[k, 4], pr_rule[k, 5]
                for q in range(pr_xpre_off[k], pr_xpre_off[k + 1]):
                    x_pre[q] *= dpre
                for q in range(pr_xpost_off[k], pr_xpost_off[k + 1]):
                    x_post[q] *= dpost
                if pr_kind[k] == TRIPLET_KIND:
                    dx, dy = pr_rule[k, 14], pr_rule[k, 15]
                    for q in range(pr_xpre_off[k], pr_xpre_off[k + 1]):
                        x_pre2[q] *= dx
                    for q in range(pr_xpost_off[k], pr_xpost_off[k + 1]):
                        x_post2[q] *= dy
        # 3. neurons
        n_spk = 0
        for p in range(n_pops):
            if pop_kind[p] == POP_LIF:
                n_spk = lif_step(pop_coef[p], pop_lo[p], pop_hi[p], v, i_exc, i_inh, ref,
                                 i_ext, pop_ext[p], theta, spikes, n_spk)
            else:
                n_spk = loihi_step(pop_coef[p], pop_lo[p], pop_hi[p],
                                   pop_kind[p] == POP_LOIHI_FIXED, v, u_cur, i_exc, i_inh,
                                   spikes, n_spk)
        n_lif_spk = n_spk
        # 4. input spikes
        for q in range(in_ptr[s], in_ptr[s + 1]):
            spikes[n_spk] = in_idx[q]
            n_spk += 1
        # 5. pre spikes
        for k in range(n_proj):
            lo, hi, post_lo = pr_pre_lo[k], pr_pre_hi[k], pr_post_lo[k]
            roff = pr_rowptr_off[k]
            kind = pr_kind[k]
            a_minus, w_min, w_max = pr_rule[k, 1], pr_rule[k, 2], pr_rule[k, 3]
            nearest, mu_minus = pr_rule[k, 6] != 0.0, pr_rule[k, 8]
            tau_e, lr, tau_d, tau_p = pr_rule[k, 9], pr_rule[k, 10], pr_rule[k, 11], pr_rule[k, 12]
            clip_each = pr_rule[k, 18] == 0.0
            xpre = x_pre[pr_xpre_off[k]:pr_xpre_off[k + 1]]
            xpost = x_post[pr_xpost_off[k]:pr_xpost_off[k + 1]]
            xpre2 = x_pre2[pr_xpre_off[k]:pr_xpre_off[k + 1]]
            for q in range(n_spk):
                j = spikes[q]
                if j < lo or j >= hi:
                    continue
                r = roff + j - lo
                a, b = rowptr[r], rowptr[r + 1]
                if kind == TRIPLET_KIND:  # w += o1 (A2- + A3- r2(t - eps)), A- <= 0
                    a_minus = pr_rule[k, 1] + pr_rule[k, 17] * xpre2[j - lo]
                    xpre2[j - lo] += 1.0
                if kind == RSTDP_KIND:
                    catch_up_range(a, b, pr_eshift[k], u, syn_w, elig, elig_step, pr_dop[k],
                                   pr_dop_step[k], tau_d, lr, tau_e, tau_p, dt, w_min, w_max)
                propagate_row(a, b, syn_post, post_lo, syn_w, syn_delay, u, i_exc, i_inh,
                              ring_exc, ring_inh, pr_sign[k], pr_delay[k], pr_wconst[k],
                              kind == STDP_KIND or kind == TRIPLET_KIND, xpost, a_minus, w_min,
                              w_max, mu_minus, clip_each)
                if kind == RSTDP_KIND:
                    tag_row(a, b, pr_eshift[k], syn_post, syn_w, elig, xpost, a_minus, w_min,
                            w_max, mu_minus)
                if kind != STATIC:
                    xpre[j - lo] = bump_trace(xpre[j - lo], nearest)
        # 6. post spikes of plastic projections
        for k in range(n_proj):
            kind = pr_kind[k]
            if kind == STATIC:
                continue
            post_lo = pr_post_lo[k]
            n_post = pr_xpost_off[k + 1] - pr_xpost_off[k]
            a_plus, w_min, w_max = pr_rule[k, 0], pr_rule[k, 2], pr_rule[k, 3]
            nearest, mu_plus, x_tar = pr_rule[k, 6] != 0.0, pr_rule[k, 7], pr_rule[k, 13]
            tau_e, lr, tau_d, tau_p = pr_rule[k, 9], pr_rule[k, 10], pr_rule[k, 11], pr_rule[k, 12]
            clip_each = pr_rule[k, 18] == 0.0
            xpre = x_pre[pr_xpre_off[k]:pr_xpre_off[k + 1]]
            xpost = x_post[pr_xpost_off[k]:pr_xpost_off[k + 1]]
            xpost2 = x_post2[pr_xpost_off[k]:pr_xpost_off[k + 1]]
            coff = pr_colptr_off[k]
            for q in range(n_lif_spk):
                i = spikes[q] - post_lo
                if i < 0 or i >= n_post:
                    continue
                xpost[i] = bump_trace(xpost[i], nearest)
                if kind == TRIPLET_KIND:  # w += r1 (A2+ + A3+ o2(t - eps))
                    a_plus = pr_rule[k, 0] + pr_rule[k, 16] * xpost2[i]
                    xpost2[i] += 1.0
                a, b = colptr[coff + i], colptr[coff + i + 1]
                pair = kind == STDP_KIND or kind == TRIPLET_KIND
                if pair and pr_dense[k]:
                    n_pre = pr_pre_hi[k] - pr_pre_lo[k]
                    potentiate_strided(rowptr[pr_rowptr_off[k]] + i, n_post, n_pre, syn_w, xpre,
                                       x_tar, a_plus, w_min, w_max, mu_plus, clip_each)
                elif pair:
                    potentiate_column(col_syn, col_pre, a, b, syn_w, xpre, x_tar, a_plus, w_min,
                                      w_max, mu_plus, clip_each)
                else:
                    tag_column(col_syn, col_pre, a, b, pr_eshift[k], u, syn_w, elig, elig_step,
                               xpre, x_tar, pr_dop[k], pr_dop_step[k], tau_d, lr, tau_e, tau_p,
                               dt, a_plus, w_min, w_max, mu_plus)
            # clip='step': the step's pre- and post-spike changes are in; clip them once
            if pr_rule[k, 18] != 0.0:
                for q in range(n_spk):
                    j = spikes[q]
                    if pr_pre_lo[k] <= j < pr_pre_hi[k]:
                        r = pr_rowptr_off[k] + j - pr_pre_lo[k]
                        clip_row(rowptr[r], rowptr[r + 1], syn_w, w_min, w_max)
                for q in range(n_lif_spk):
                    i = spikes[q] - post_lo
                    if 0 <= i < n_post:
                        clip_column(col_syn, colptr[coff + i], colptr[coff + i + 1], syn_w,
                                    w_min, w_max)
        # 7. delayed arrivals due at the end of this step
        if has_ring:
            drain_ring(u, 0, n_lif, i_exc, i_inh, ring_exc, ring_inh)
        # 8. recording
        c = spk_count[0]
        for q in range(n_spk):
            j = spikes[q]
            if rec_mask[j]:
                spk_step[c] = u
                spk_idx[c] = j
                c += 1
        spk_count[0] = c
        for m in range(n_rm):
            cnt = 0
            for q in range(n_spk):
                j = spikes[q]
                if j >= rm_lo[m] and j < rm_hi[m]:
                    cnt += 1
            rm_out[m, s] = cnt
    return n_steps
