"""The compile step: a :class:`~neuromorph.network.Network` becomes the engine's bundles.

Layout. LIF neurons get global indices ``0 .. n_lif-1`` (populations in creation
order), input neurons follow. Per-synapse arrays of all projections are concatenated
(:mod:`neuromorph.kernels.bundles` documents every field and its bytes per synapse);
afterwards each projection's ``targets``, ``w`` and delays are views on them, so each
synapse is stored once. Population state becomes views on the engine's state arrays,
so ``P.v`` and ``proj.w`` always show the live values.

Threads. The LIF neurons are cut into ``n_parts`` contiguous ranges of equal size
(:func:`partition_bounds`), and every CSR row is split where each range's targets
start (:func:`~neuromorph.kernels.layout.split_rows`).
"""
from __future__ import annotations

import numpy as np

from .descriptions import describe
from .kernels.bundles import Hooks, Neurons, Plasticity, Synapses
from .kernels.connect import column_index
from .kernels.hooks import CUSTOM_KIND
from .kernels.layout import split_rows
from .kernels.lif import N_COEF
from .kernels.stdp import N_RULE, RSTDP_KIND, STATIC


def _cat(parts, dtype):
    """Concatenate ``parts``; a single part of the right dtype is used as is (no copy)."""
    if len(parts) == 1 and parts[0].dtype == dtype and parts[0].flags.c_contiguous:
        return parts[0]
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _offsets(sizes):
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)


def partition_bounds(n_lif, n_parts):
    """``n_parts + 1`` boundaries cutting ``0 .. n_lif`` into nearly equal ranges."""
    return np.array([n_lif * t // n_parts for t in range(n_parts + 1)], np.int64)


def layout(net):
    """Global index of each population: LIF first, then inputs.

    Returns ``(lif, inputs, gstart, n_lif, n_total)``.
    """
    simulated = [describe(p.model).simulated for p in net.populations]
    lif = [p for p, s in zip(net.populations, simulated) if s]
    inputs = [p for p, s in zip(net.populations, simulated) if not s]
    gstart, g = {}, 0
    for p in lif + inputs:
        gstart[p] = g
        g += p.size
    return lif, inputs, gstart, sum(p.size for p in lif), g


def compile_neurons(lif, gstart, dt, bounds):
    """The :class:`~neuromorph.kernels.bundles.Neurons` bundle; populations' ``state``
    entries become views on its arrays."""
    pop_lo = np.array([gstart[p] for p in lif], np.int64)
    pop_hi = pop_lo + np.array([p.size for p in lif], np.int64)
    rows = [describe(p.model).engine_row(p.model, dt) for p in lif]
    kinds = [describe(p.model).kernel_kind(p.model) for p in lif]
    state = {}
    for name, dtype in (("v", np.float64), ("I_exc", np.float64), ("I_inh", np.float64),
                        ("ref", np.int32), ("I_ext", np.float64), ("u", np.float64),
                        ("theta", np.float64)):
        # "u" (LoihiLIF current) and "theta" (adaptive threshold) may be absent: zeros
        arr = np.concatenate([p.state.get(name, np.zeros(p.size)) for p in lif]
                             ).astype(dtype) if lif else np.zeros(0, dtype)
        for p, lo in zip(lif, pop_lo):
            p.state[name] = arr[lo:lo + p.size]
        state[name] = arr
    neu = Neurons(pop_lo, pop_hi,
                  np.array(rows, np.float64).reshape(len(lif), N_COEF),
                  np.array(kinds, np.int64), bounds, state["v"], state["u"], state["I_exc"],
                  state["I_inh"], state["ref"], state["I_ext"], state["theta"])
    return neu, state


def _sign(pr):
    """+1 if every weight is >= 0 for good, -1 if every weight is < 0, 0 if unknown.

    Known only for a constant weight or a plastic projection's bounds: stored weight
    arrays may be edited in place between runs, so the engine tests each of them.
    """
    if pr.plasticity is not None:
        lo = getattr(pr.plasticity, "w_min", -np.inf)
        hi = getattr(pr.plasticity, "w_max", np.inf)
    elif pr.w_const is not None:
        lo = hi = pr.w_const
    else:
        return 0
    return 1 if lo >= 0 else (-1 if hi < 0 else 0)


def compile_synapses(projections, glo, n_lif, bounds):
    """The :class:`~neuromorph.kernels.bundles.Synapses` bundle; projections' synapse
    arrays become views on its arrays (the projections' own copies are released)."""
    n_syn = [pr.n_synapses for pr in projections]
    pre_lo = np.array([glo(pr.pre) for pr in projections], np.int64)
    pre_hi = pre_lo + np.array([pr.pre.size for pr in projections], np.int64)
    post_lo = np.array([glo(pr.post) for pr in projections], np.int64)
    n_post = np.array([pr.post.size for pr in projections], np.int64)
    rp_off = _offsets([pr.pre.size + 1 for pr in projections])
    so_off = _offsets(n_syn)
    with_w = [pr._w is not None for pr in projections]
    with_d = [pr._delay is not None for pr in projections]
    wo_off = _offsets([n if a else 0 for n, a in zip(n_syn, with_w)])
    do_off = _offsets([n if a else 0 for n, a in zip(n_syn, with_d)])
    rowptr = _cat([pr.rowptr for pr in projections], np.int64)
    post = _cat([pr.targets for pr in projections], np.int32)
    w = _cat([pr._w for pr, a in zip(projections, with_w) if a], np.float64)
    delay = _cat([pr._delay for pr, a in zip(projections, with_d) if a], np.int32)
    w_const = np.array([np.nan if a else pr.w_const for pr, a in zip(projections, with_w)],
                       np.float64)
    delay_const = np.array([-1 if a else pr.delay_const for pr, a in zip(projections, with_d)],
                           np.int64)
    for i, pr in enumerate(projections):
        pr._targets = post[so_off[i]:so_off[i + 1]]
        if with_w[i]:
            pr._w = w[wo_off[i]:wo_off[i + 1]]
        if with_d[i]:
            pr._delay = delay[do_off[i]:do_off[i + 1]]
    dense = np.array([n == pr.pre.size * pr.post.size > 0 for n, pr in zip(n_syn, projections)],
                     bool)
    d_max = max([int(delay.max()) if delay.size else 0] +
                [int(d) for d in delay_const if d >= 0] + [0])
    syn = Synapses(pre_lo, pre_hi, post_lo, n_post, rp_off[:-1], so_off, wo_off, do_off,
                   np.array([_sign(pr) for pr in projections], np.int64), delay_const, w_const,
                   dense, rowptr, np.zeros((0, 0), np.int64), post, w, delay,
                   np.zeros((d_max + 1, n_lif)), np.zeros((d_max + 1, n_lif)))
    return repartition(syn, bounds)


def repartition(syn, bounds):
    """``syn`` with its rows split for the partitions ``bounds``."""
    split = np.empty((syn.rowptr.shape[0], bounds.shape[0]), np.int64)
    for k in range(syn.pre_lo.shape[0]):
        a = syn.rp_off[k]
        b = a + syn.pre_hi[k] - syn.pre_lo[k] + 1
        split_rows(syn.rowptr[a:b], syn.post[syn.so_off[k]:syn.so_off[k + 1]], syn.post_lo[k],
                   bounds, split[a:b - 1])
    return syn._replace(split=split)


def compile_plasticity(projections, modulator_of, dt, step):
    """The :class:`~neuromorph.kernels.bundles.Plasticity` bundle, and the
    :class:`~neuromorph.kernels.bundles.Hooks` of rules with their own kernels (None if
    the network has none)."""
    k = len(projections)
    custom = []  # descriptions of rules with their own kernels, numbered in order of use
    kind = np.zeros(k, np.int64)
    for i, pr in enumerate(projections):
        d = None if pr.plasticity is None else describe(pr.plasticity)
        if d is None:
            kind[i] = STATIC
        elif d.engine_kernels is not None:
            if d not in custom:
                custom.append(d)
            kind[i] = CUSTOM_KIND + custom.index(d)
        else:
            kind[i] = d.kernel_kind
    rule = np.zeros((k, N_RULE))
    colptr, col_syn, col_pre = [], [], []
    plastic = kind != STATIC
    cp_off = _offsets([pr.post.size + 1 if a else 0 for pr, a in zip(projections, plastic)])
    for i, pr in enumerate(projections):
        r = pr.plasticity
        if r is None:
            continue
        rule[i] = describe(r).engine_row(r, dt, modulator_of[i])
        c, s, p = column_index(pr.rowptr, pr.targets, pr.post.size)
        colptr.append(c)
        col_syn.append(s)
        col_pre.append(p)
    xpre_off = _offsets([pr.pre.size if a else 0 for pr, a in zip(projections, plastic)])
    xpost_off = _offsets([pr.post.size if a else 0 for pr, a in zip(projections, plastic)])
    co_off = _offsets([pr.n_synapses if a else 0 for pr, a in zip(projections, plastic)])
    eo_off = _offsets([pr.n_synapses if kd == RSTDP_KIND else 0
                       for pr, kd in zip(projections, kind)])
    n_pre, n_post = xpre_off[-1], xpost_off[-1]
    pl = Plasticity(kind, rule, xpre_off, xpost_off, cp_off[:-1], co_off, eo_off, np.zeros(k),
                    np.zeros(k, np.int64), np.zeros(n_pre), np.zeros(n_post), np.zeros(n_pre),
                    np.zeros(n_post), np.zeros(n_pre), _cat(colptr, np.int64),
                    _cat(col_syn, np.int32), _cat(col_pre, np.int32), np.zeros(eo_off[-1]),
                    np.full(eo_off[-1], step, np.int64))
    hooks = Hooks(tuple(d.engine_kernels[0] for d in custom),
                  tuple(d.engine_kernels[1] for d in custom)) if custom else None
    for i, pr in enumerate(projections):
        pr.eligibility = pl.elig[eo_off[i]:eo_off[i + 1]] if kind[i] == RSTDP_KIND else None
    return pl, hooks


__all__ = ["layout", "partition_bounds", "compile_neurons", "compile_synapses", "repartition",
           "compile_plasticity"]
