"""Kernel hooks of learning rules that the engine does not know by name.

A rule's description may bring its own kernels (``engine_kernels = (on_pre, on_post)``,
see :class:`neuromorph.descriptions.RuleDescription`): numba functions compiled with
the signatures below, which the engine receives as first-class function values in its
``Hooks`` bundle and calls on events -- so adding such a rule touches its
description, its kernels and its tests, never the engine. Everything else is the
engine's: per-neuron traces ``x_pre``/``x_post`` decayed by the row's ``decay_pre`` /
``decay_post`` and bumped at spikes (``nearest``), the current delivered with the
weight from before ``on_pre`` (Brian2's ``on_pre`` order), thread partitioning.

``on_pre(a, b, step, w, post, x_post, params)``
    A presynaptic spike at ``step``: its CSR row's synapses ``a:b`` (indices into the
    projection's ``w``, float64, mV, and ``post``, int32: local post index), the post
    traces ``x_post`` and the rule's parameter row ``params``
    (:data:`neuromorph.descriptions.RULE_COLUMNS`). Called after delivery, for the
    part of the row whose targets the calling thread owns.
``on_post(lo, hi, step, w, col_syn, col_pre, x_pre, params)``
    A postsynaptic spike: its incoming synapses ``col_syn[lo:hi]`` (int32, indices into
    ``w``) from presynaptic neurons ``col_pre[lo:hi]``, after its ``x_post`` was bumped.
"""
from __future__ import annotations

from numba import types

#: Signature of a rule's ``on_pre`` kernel.
PRE_SIGNATURE = types.void(types.int64, types.int64, types.int64, types.float64[:],
                           types.int32[:], types.float64[:], types.float64[:])
#: Signature of a rule's ``on_post`` kernel.
POST_SIGNATURE = types.void(types.int64, types.int64, types.int64, types.float64[:],
                            types.int32[:], types.int32[:], types.float64[:],
                            types.float64[:])
#: First engine kind number of rules with kernel hooks (``kind - CUSTOM_KIND`` indexes
#: the network's compiled ``Hooks`` bundle).
CUSTOM_KIND = 16

__all__ = ["PRE_SIGNATURE", "POST_SIGNATURE", "CUSTOM_KIND"]
