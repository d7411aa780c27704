"""The compiled simulation loop: every step of a chunk runs inside one numba call.

The network arrives as named bundles (:mod:`.bundles`). Per step ``u`` (Brian2's
schedule), for every neuron:

1. record state monitors (values at the start of the step),
2. decay the STDP traces of plastic projections,
3. integrate neuron populations, threshold, reset, dispatched on the population's
   kernel kind: continuous LIF (:func:`lif.lif_step`) or Loihi CUBA
   (:func:`loihi.loihi_step`),
4. append this step's input spikes (Poisson / spike sources, pre-drawn per chunk),
5. pre spikes: walk CSR rows, deliver (STDP: then depress; R-STDP: bring the row up
   to date first, then tag eligibility) and bump ``x_pre``,
6. post spikes of plastic projections: bump ``x_post``, then potentiate (STDP) or tag
   eligibility (R-STDP, :mod:`.eligibility`) over the CSC column,

(rules that bring their own kernels are called at 5 and 6 through :mod:`.hooks`)
7. drain the ring-buffer slot of step ``u`` (delayed arrivals),
8. record spikes and population spike counts.

Threads. The LIF neurons are split into ``n_parts`` contiguous ranges
(``neurons.bounds``), one per numba thread. Everything a neuron owns -- its state,
its post trace, the synapses that end on it (their weights and eligibility), its
ring-buffer column -- is written only by its partition's thread, and every such
write happens in the same order as in a single-threaded run (spikes in index order,
each CSR row in target order). No float is ever summed across threads, so spikes
and weights are bit-identical for any number of threads. A CSR row is cut between
partitions at ``synapses.split[row]``.

The step's parts are inlined into the loop (numba reference-counts every array of a
bundle at each call that is not inlined: microseconds per step), and the loop works
on *borrowed* bundles (:mod:`.refs`): the arrays without numba's memory-info pointer,
so that the reference counts numba still emits at every inlined boundary are a null
test instead of an atomic operation (a quarter of a step at 4,000 neurons). Each partition does
steps 5-7 of step ``u - 1`` (the previous step's spikes reach its targets) followed by
steps 1-3 of step ``u``; steps 4 and 8, the presynaptic traces (read by every
partition) and the merging of the partitions' spike lists run on one thread in
between. With a core per thread the threads run as a *team* (:func:`_member`): one
parallel region per chunk, two spin barriers per step (:mod:`.sync`, ~0.1-0.5 us);
otherwise one parallel region per step (:func:`_region`, ~4 us to open). Both give the
same results.
"""
from __future__ import annotations

from numba import njit, prange

from .eligibility import catch_up_range, tag_column, tag_row
from .hooks import CUSTOM_KIND
from .lif import lif_step
from .loihi import POP_LIF, POP_LOIHI_FIXED, loihi_step
from .propagate import drain_ring, propagate_row
from .prefetch import prefetch
from .refs import borrow
from .stdp import (A3_MINUS, A3_PLUS, A_MINUS, A_PLUS, CLIP_STEP, DECAY_POST, DECAY_PRE,
                   DECAY_X, DECAY_Y, LR, MU_MINUS, MU_PLUS, NEAREST, RSTDP_KIND, STATIC,
                   STDP_KIND, TAU_D, TAU_ELIG, TAU_P, TRIPLET_KIND, W_MAX, W_MIN, X_TAR,
                   bump_trace, clip_column, clip_row, potentiate_column, potentiate_strided)
from .sync import ABORTED, CHECK_IN, SHARED, barrier, check_in


#: how many spikes ahead :func:`_deliver` prefetches a row's split entry, and its targets
#: and weights
_AHEAD_SPLIT, _AHEAD_ROW = 8, 4


@njit(cache=True, nogil=True, inline="always")
def _transpose(pl, k, n_post):
    """Projection ``k``'s transpose index: ``(colptr, col_syn, col_pre)``."""
    return (pl.colptr[pl.cp_off[k]:pl.cp_off[k] + n_post + 1],
            pl.col_syn[pl.co_off[k]:pl.co_off[k + 1]], pl.col_pre[pl.co_off[k]:pl.co_off[k + 1]])


@njit(cache=True, nogil=True, inline="always")
def _deliver(t, u, spikes, n_spk, n_lif_spk, dt, neu, syn, pl):
    """Partition ``t``: steps 5-7 of step ``u`` for the targets it owns."""
    t0, t1 = neu.bounds[t], neu.bounds[t + 1]
    n_proj = syn.pre_lo.shape[0]
    i_exc, i_inh = neu.i_exc, neu.i_inh
    for k in range(n_proj):
        post_lo, n_post = syn.post_lo[k], syn.n_post[k]
        if max(t0 - post_lo, 0) >= min(t1 - post_lo, n_post):
            continue
        lo, hi, rp = syn.pre_lo[k], syn.pre_hi[k], syn.rp_off[k]
        kind = pl.kind[k]
        rule = pl.rule[k]
        post = syn.post[syn.so_off[k]:syn.so_off[k + 1]]
        w = syn.w[syn.wo_off[k]:syn.wo_off[k + 1]]
        delay = syn.delay[syn.do_off[k]:syn.do_off[k + 1]]
        xpost = pl.x_post[pl.xpost_off[k]:pl.xpost_off[k + 1]]
        a_now = pl.a_now[pl.xpre_off[k]:pl.xpre_off[k + 1]]
        elig = pl.elig[pl.eo_off[k]:pl.eo_off[k + 1]]
        elig_step = pl.elig_step[pl.eo_off[k]:pl.eo_off[k + 1]]
        a_minus, w_min, w_max = rule[A_MINUS], rule[W_MIN], rule[W_MAX]
        mu_minus, tau_e, lr = rule[MU_MINUS], rule[TAU_ELIG], rule[LR]
        tau_d, tau_p = rule[TAU_D], rule[TAU_P]
        clip_each = rule[CLIP_STEP] == 0.0
        pair = kind == STDP_KIND or kind == TRIPLET_KIND
        for q in range(n_spk):
            # overlap the cache misses of the rows ahead: their split entries
            # _AHEAD_SPLIT spikes ahead, every cache line of their targets (16 int32
            # a line) and weights _AHEAD_ROW spikes ahead
            if q + _AHEAD_SPLIT < n_spk:
                jf = spikes[q + _AHEAD_SPLIT]
                if lo <= jf < hi:
                    prefetch(syn.split, (rp + jf - lo, t))
            if q + _AHEAD_ROW < n_spk:
                jf = spikes[q + _AHEAD_ROW]
                if lo <= jf < hi:
                    af, bf = syn.split[rp + jf - lo, t], syn.split[rp + jf - lo, t + 1]
                    for x in range(af, bf, 16):
                        prefetch(post, x)
                    if w.shape[0] > 0:  # per-synapse weights (8 float64 a line)
                        for x in range(af, bf, 8):
                            prefetch(w, x)
            j = spikes[q]
            if j < lo or j >= hi:
                continue
            r = rp + j - lo
            a, b = syn.split[r, t], syn.split[r, t + 1]
            if a == b:
                continue
            if kind == TRIPLET_KIND:  # w += o1 (A2- + A3- r2(t - eps)), A- <= 0
                a_minus = a_now[j - lo]
            if kind == RSTDP_KIND:
                catch_up_range(a, b, 0, u, w, elig, elig_step, pl.dop[k], pl.dop_step[k],
                               tau_d, lr, tau_e, tau_p, dt, w_min, w_max)
            propagate_row(a, b, post, post_lo, w, delay, u, i_exc, i_inh, syn.ring_exc,
                          syn.ring_inh, syn.sign[k], syn.delay_const[k], syn.w_const[k], pair,
                          xpost, a_minus, w_min, w_max, mu_minus, clip_each)
            if kind == RSTDP_KIND:
                tag_row(a, b, 0, post, w, elig, xpost, a_minus, w_min, w_max, mu_minus)
    for k in range(n_proj):
        kind = pl.kind[k]
        if kind == STATIC or kind >= CUSTOM_KIND:  # custom rules: see _custom_rules
            continue
        post_lo, n_post = syn.post_lo[k], syn.n_post[k]
        i0, i1 = max(t0 - post_lo, 0), min(t1 - post_lo, n_post)
        if i0 >= i1:
            continue
        lo, hi, rp = syn.pre_lo[k], syn.pre_hi[k], syn.rp_off[k]
        rule = pl.rule[k]
        a_plus, w_min, w_max = rule[A_PLUS], rule[W_MIN], rule[W_MAX]
        nearest, mu_plus, x_tar = rule[NEAREST] != 0.0, rule[MU_PLUS], rule[X_TAR]
        tau_e, lr, tau_d, tau_p = rule[TAU_ELIG], rule[LR], rule[TAU_D], rule[TAU_P]
        w = syn.w[syn.wo_off[k]:syn.wo_off[k + 1]]
        xpre = pl.x_pre[pl.xpre_off[k]:pl.xpre_off[k + 1]]
        xpost = pl.x_post[pl.xpost_off[k]:pl.xpost_off[k + 1]]
        xpost2 = pl.x_post2[pl.xpost_off[k]:pl.xpost_off[k + 1]]
        colptr, col_syn, col_pre = _transpose(pl, k, n_post)
        elig = pl.elig[pl.eo_off[k]:pl.eo_off[k + 1]]
        elig_step = pl.elig_step[pl.eo_off[k]:pl.eo_off[k + 1]]
        pair = kind == STDP_KIND or kind == TRIPLET_KIND
        clip_each = rule[CLIP_STEP] == 0.0
        for q in range(n_lif_spk):
            i = spikes[q] - post_lo
            if i < i0 or i >= i1:
                continue
            xpost[i] = bump_trace(xpost[i], nearest)
            if kind == TRIPLET_KIND:  # w += r1 (A2+ + A3+ o2(t - eps))
                a_plus = rule[A_PLUS] + rule[A3_PLUS] * xpost2[i]
                xpost2[i] += 1.0
            if pair and syn.dense[k]:
                potentiate_strided(i, n_post, hi - lo, w, xpre, x_tar, a_plus, w_min, w_max,
                                   mu_plus, clip_each)
            elif pair:
                potentiate_column(col_syn, col_pre, colptr[i], colptr[i + 1], w, xpre, x_tar,
                                  a_plus, w_min, w_max, mu_plus, clip_each)
            else:
                tag_column(col_syn, col_pre, colptr[i], colptr[i + 1], 0, u, w, elig,
                           elig_step, xpre, x_tar, pl.dop[k], pl.dop_step[k], tau_d, lr,
                           tau_e, tau_p, dt, a_plus, w_min, w_max, mu_plus)
        # clip='step': the step's pre- and post-spike changes are in; clip them once
        if not clip_each:
            for q in range(n_spk):
                j = spikes[q]
                if lo <= j < hi:
                    r = rp + j - lo
                    clip_row(syn.split[r, t], syn.split[r, t + 1], w, w_min, w_max)
            for q in range(n_lif_spk):
                i = spikes[q] - post_lo
                if i0 <= i < i1:
                    clip_column(col_syn, colptr[i], colptr[i + 1], w, w_min, w_max)
    if syn.ring_exc.shape[0] > 1:
        drain_ring(u, t0, t1, i_exc, i_inh, syn.ring_exc, syn.ring_inh)


@njit(cache=True, nogil=True, inline="always")
def _advance(t, u, neu, syn, pl, inp, rec, out):
    """Partition ``t``: steps 1-3 of step ``u``; its spikes go to ``out[bounds[t]:]``.

    Returns the number of spikes.
    """
    t0, t1 = neu.bounds[t], neu.bounds[t + 1]
    for m in range(rec.sm_every.shape[0]):
        if u % rec.sm_every[m] == 0:
            base = rec.sm_out_off[m] + rec.sm_row[m] * (rec.sm_ptr[m + 1] - rec.sm_ptr[m])
            for e in range(rec.sm_ptr[m], rec.sm_ptr[m + 1]):
                j = rec.sm_idx[e]
                if j < t0 or j >= t1:
                    continue
                var = rec.sm_var[e]
                if var == 0:
                    val = neu.v[j]
                elif var == 1:
                    val = neu.i_exc[j]
                elif var == 2:
                    val = neu.i_inh[j]
                elif var == 3:
                    val = neu.u[j]
                else:
                    val = neu.theta[j]
                rec.sm_out[base + e - rec.sm_ptr[m]] = val
    for k in range(pl.kind.shape[0]):
        if pl.kind[k] == STATIC or pl.kind[k] >= CUSTOM_KIND:
            continue
        post_lo = syn.post_lo[k]
        i0, i1 = max(t0 - post_lo, 0), min(t1 - post_lo, syn.n_post[k])
        off = pl.xpost_off[k]
        dpost, dy = pl.rule[k, DECAY_POST], pl.rule[k, DECAY_Y]
        for i in range(off + i0, off + i1):
            pl.x_post[i] *= dpost
        if pl.kind[k] == TRIPLET_KIND:
            for i in range(off + i0, off + i1):
                pl.x_post2[i] *= dy
    n = t0
    for p in range(neu.pop_lo.shape[0]):
        lo, hi = max(neu.pop_lo[p], t0), min(neu.pop_hi[p], t1)
        if lo >= hi:
            continue
        if neu.kind[p] == POP_LIF:
            n = lif_step(neu.coef[p], lo, hi, neu.v, neu.i_exc, neu.i_inh, neu.ref, neu.i_ext,
                         inp.pop_ext[p], neu.theta, out, n)
        else:
            n = loihi_step(neu.coef[p], lo, hi, neu.kind[p] == POP_LOIHI_FIXED, neu.v, neu.u,
                           neu.i_exc, neu.i_inh, neu.i_ext, out, n)
    return n - t0


@njit(cache=True, nogil=True, parallel=True)
def _region(u, deliver, advance, prev, n_prev, n_prev_lif, dt, neu, syn, pl, inp, rec, out,
            part_n):
    """One parallel region: per partition, deliver step ``u - 1``, then advance step ``u``."""
    for t in prange(part_n.shape[0]):
        _partition_call(t, u, deliver, advance, prev, n_prev, n_prev_lif, dt, neu, syn, pl,
                        inp, rec, out, part_n)


@njit(cache=True, nogil=True, inline="always")
def _partition(t, u, deliver, advance, prev, n_prev, n_prev_lif, dt, neu, syn, pl, inp, rec,
               out, part_n):
    """Partition ``t``'s share of :func:`_region`."""
    if deliver:
        _deliver(t, u - 1, prev, n_prev, n_prev_lif, dt, neu, syn, pl)
    if advance:
        part_n[t] = _advance(t, u, neu, syn, pl, inp, rec, out)


#: :func:`_partition` as a call: the body of a parallel loop must not be inlined (numba's
#: parfor analysis would treat the inlined locals as shared across iterations).
_partition_call = njit(cache=True, nogil=True)(_partition.py_func)


@njit(cache=True, nogil=True, inline="always")
def _step(u, deliver, advance, prev, n_prev, n_prev_lif, dt, neu, syn, pl, inp, rec, out,
          part_n):
    """:func:`_region`, on the calling thread when there is one partition."""
    if part_n.shape[0] == 1:
        _partition(0, u, deliver, advance, prev, n_prev, n_prev_lif, dt, neu, syn, pl, inp,
                   rec, out, part_n)
    else:
        _region(u, deliver, advance, prev, n_prev, n_prev_lif, dt, neu, syn, pl, inp, rec,
                out, part_n)


@njit(cache=True, nogil=True, inline="always")
def _presynaptic(spikes, n_spk, syn, pl):
    """Steps 2 and 5 for presynaptic traces (read by every partition): decay them to
    this step, note the triplet rule's depression amplitude, bump them."""
    for k in range(pl.kind.shape[0]):
        kind = pl.kind[k]
        if kind == STATIC:
            continue
        a, b = pl.xpre_off[k], pl.xpre_off[k + 1]
        rule = pl.rule[k]
        for q in range(a, b):
            pl.x_pre[q] *= rule[DECAY_PRE]
        if kind == TRIPLET_KIND:
            for q in range(a, b):
                pl.x_pre2[q] *= rule[DECAY_X]
        lo, hi, nearest = syn.pre_lo[k], syn.pre_hi[k], rule[NEAREST] != 0.0
        for q in range(n_spk):
            j = spikes[q]
            if j < lo or j >= hi:
                continue
            e = a + j - lo
            if kind == TRIPLET_KIND:
                pl.a_now[e] = rule[A_MINUS] + rule[A3_MINUS] * pl.x_pre2[e]
                pl.x_pre2[e] += 1.0
            pl.x_pre[e] = bump_trace(pl.x_pre[e], nearest)


@njit(cache=True, nogil=True)
def _custom_rules(u, spikes, n_spk, n_lif_spk, syn, pl, hooks):
    """Plasticity of rules with their own kernels (:mod:`.hooks`), on one thread, after
    the spikes of step ``u`` were delivered: pre-spike kernels over the spiking rows,
    post traces bumped, post-spike kernels over the spiking neurons' columns, then the
    post traces decayed to step ``u + 1``."""
    for k in range(pl.kind.shape[0]):
        kind = pl.kind[k]
        if kind < CUSTOM_KIND:
            continue
        lo, hi, rp = syn.pre_lo[k], syn.pre_hi[k], syn.rp_off[k]
        post_lo, n_post = syn.post_lo[k], syn.n_post[k]
        rule = pl.rule[k]
        post = syn.post[syn.so_off[k]:syn.so_off[k + 1]]
        w = syn.w[syn.wo_off[k]:syn.wo_off[k + 1]]
        xpre = pl.x_pre[pl.xpre_off[k]:pl.xpre_off[k + 1]]
        xpost = pl.x_post[pl.xpost_off[k]:pl.xpost_off[k + 1]]
        colptr, col_syn, col_pre = _transpose(pl, k, n_post)
        on_pre, on_post = hooks.pre[kind - CUSTOM_KIND], hooks.post[kind - CUSTOM_KIND]
        for q in range(n_spk):
            j = spikes[q]
            if lo <= j < hi:
                r = rp + j - lo
                on_pre(syn.rowptr[r], syn.rowptr[r + 1], u, w, post, xpost, rule)
        nearest = rule[NEAREST] != 0.0
        for q in range(n_lif_spk):
            i = spikes[q] - post_lo
            if 0 <= i < n_post:
                xpost[i] = bump_trace(xpost[i], nearest)
                on_post(colptr[i], colptr[i + 1], u, w, col_syn, col_pre, xpre, rule)
        for i in range(n_post):
            xpost[i] *= rule[DECAY_POST]


@njit(cache=True, nogil=True, inline="always")
def _record(s, u, spikes, n_spk, rec):
    """Step 8: spikes of monitored neurons and population counts."""
    c = rec.spk_count[0]
    for q in range(n_spk):
        j = spikes[q]
        if rec.rec_mask[j]:
            rec.spk_step[c] = u
            rec.spk_idx[c] = j
            c += 1
    rec.spk_count[0] = c
    for m in range(rec.rm_lo.shape[0]):
        cnt = 0
        for q in range(n_spk):
            j = spikes[q]
            if j >= rec.rm_lo[m] and j < rec.rm_hi[m]:
                cnt += 1
        rec.rm_out[m, s] = cnt
    for m in range(rec.sm_every.shape[0]):
        if u % rec.sm_every[m] == 0:
            rec.sm_row[m] += 1


@njit(cache=True, nogil=True, inline="always")
def _record_full(rec):
    """Might the next step overflow the spike record? (the caller then empties it)"""
    return rec.spk_count[0] + rec.max_rec > rec.spk_step.shape[0]


@njit(cache=True, nogil=True, inline="always")
def _gather(s, u, out, bounds, part_n, syn, pl, inp, rec):
    """Steps 4 and 8 and the presynaptic traces of step ``u`` (one thread): merge the
    partitions' spikes in index order, append the input spikes, update the presynaptic
    traces, record. Returns ``(n, n_lif)``: all spikes and LIF spikes in ``out``."""
    n = 0
    for t in range(part_n.shape[0]):
        for q in range(bounds[t], bounds[t] + part_n[t]):
            out[n] = out[q]
            n += 1
    n_lif = n
    for q in range(inp.ptr[s], inp.ptr[s + 1]):
        out[n] = inp.idx[q]
        n += 1
    _presynaptic(out, n, syn, pl)
    _record(s, u, out, n, rec)
    return n, n_lif


@njit(cache=True, nogil=True)
def _member(t, step0, s_begin, n_steps, dt, neu, syn, pl, inp, rec, buf):
    """Thread ``t`` of a team running steps ``s_begin ..`` in one parallel region.

    The same work as :func:`run_steps`' loop, with two barriers per step instead of a
    parallel region: every member delivers the previous step and advances this one for
    its partition; after the first barrier member 0 alone gathers the step
    (:func:`_gather`) and publishes the spike counts and whether to stop; after the
    second, all go on. Member 0 publishes the first step not run in ``sync[SHARED]``.
    """
    sync, n_threads = buf.sync, buf.part_n.shape[0]
    if not check_in(sync, n_threads):
        return
    neu, syn, pl, inp, rec, buf = (borrow(neu), borrow(syn), borrow(pl), borrow(inp),
                                   borrow(rec), borrow(buf))  # (see .refs)
    prev, out = buf.spikes_a, buf.spikes_b
    n_prev, n_prev_lif = 0, 0
    epoch = 0
    s = s_begin
    stop = _record_full(rec)
    while s < n_steps and not stop:
        u = step0 + s
        if s > s_begin:
            _deliver(t, u - 1, prev, n_prev, n_prev_lif, dt, neu, syn, pl)
        buf.part_n[t] = _advance(t, u, neu, syn, pl, inp, rec, out)
        epoch += 1
        barrier(sync, t, n_threads, epoch)
        if t == 0:
            n, n_lif = _gather(s, u, out, neu.bounds, buf.part_n, syn, pl, inp, rec)
            sync[SHARED + 1] = n
            sync[SHARED + 2] = n_lif
            sync[SHARED + 3] = 1 if _record_full(rec) else 0
        epoch += 1
        barrier(sync, t, n_threads, epoch)
        n_prev, n_prev_lif, stop = sync[SHARED + 1], sync[SHARED + 2], sync[SHARED + 3] != 0
        prev, out = out, prev
        s += 1
    if s > s_begin:
        _deliver(t, step0 + s - 1, prev, n_prev, n_prev_lif, dt, neu, syn, pl)
    if t == 0:
        sync[SHARED] = s


@njit(cache=True, nogil=True, parallel=True)
def _team(step0, s_begin, n_steps, dt, neu, syn, pl, inp, rec, buf):
    """A team of ``n_parts`` threads, one per partition (:func:`_member`)."""
    for t in prange(buf.part_n.shape[0]):
        _member(t, step0, s_begin, n_steps, dt, neu, syn, pl, inp, rec, buf)


@njit(cache=True, nogil=True)
def run_steps(step0, s_begin, n_steps, dt, neu, syn, pl, inp, rec, buf, hooks=None):
    """Run steps ``s_begin .. n_steps-1`` of a chunk starting at absolute step ``step0``.

    Returns the index of the first step not run (``n_steps`` when the chunk is done);
    the loop stops early, at a step boundary with every spike delivered, when the
    spike record might overflow, so that the caller can empty it and resume.
    """
    # hooks: the kernels of the network's rules with their own kernels (None: it has none,
    # and this is compiled without them); a team (buf.sync) runs networks without them
    n_prev, n_prev_lif = 0, 0
    if hooks is None:  # (a test numba prunes: keep it alone)
        if buf.sync.shape[0] > 0:
            buf.sync[:] = 0
            _team(step0, s_begin, n_steps, dt, neu, syn, pl, inp, rec, buf)
            if buf.sync[CHECK_IN] != ABORTED:
                return buf.sync[SHARED]
    # borrowed arrays (.refs): no atomic reference counts in the loop (the team above
    # borrows in each member; the per-step regions of the fallback receive borrowed
    # arrays: tests/test_threads.py's "2 regions" digest runs that path)
    neu, syn, pl, inp, rec, buf = (borrow(neu), borrow(syn), borrow(pl), borrow(inp),
                                   borrow(rec), borrow(buf))
    prev, out, bounds, part_n = buf.spikes_a, buf.spikes_b, neu.bounds, buf.part_n
    s = s_begin
    while s < n_steps:
        if _record_full(rec):
            break
        u = step0 + s
        _step(u, s > s_begin, True, prev, n_prev, n_prev_lif, dt, neu, syn, pl, inp, rec,
              out, part_n)
        if hooks is not None:  # (a test numba prunes when hooks is None: keep it alone)
            if s > s_begin:
                _custom_rules(u - 1, prev, n_prev, n_prev_lif, syn, pl, hooks)
        n, n_lif = _gather(s, u, out, bounds, part_n, syn, pl, inp, rec)
        prev, out = out, prev
        n_prev, n_prev_lif = n, n_lif
        s += 1
    if s > s_begin:
        _step(step0 + s, True, False, prev, n_prev, n_prev_lif, dt, neu, syn, pl, inp, rec,
              out, part_n)
        if hooks is not None:
            _custom_rules(step0 + s - 1, prev, n_prev, n_prev_lif, syn, pl, hooks)
    return s
