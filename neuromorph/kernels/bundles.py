"""The engine's named bundles of arrays: what a compiled network is made of.

A network is compiled (:mod:`neuromorph.compiler`) into five bundles, each a
``namedtuple`` of NumPy arrays and scalars that numba passes by value (the arrays
are shared, not copied). The kernels read fields by name, so a field's meaning is
written once, here. Per-projection arrays are indexed by the projection ``k``; the
per-synapse arrays of all projections are concatenated and ``*_off[k]:*_off[k + 1]``
selects projection ``k``'s part, indexed by its *local* synapse index (the position
in its CSR order). A projection whose weights are one constant (or whose delays are)
has an empty part and its value in ``w_const`` (``delay_const``).

Bytes per synapse (static / plastic): ``post`` 4, ``w`` 8 unless constant, ``delay``
4 unless constant; plastic projections add ``col_syn`` 4 and ``col_pre`` 4 (the
transpose index), R-STDP adds ``elig`` 8 and ``elig_step`` 8. Per neuron: ``rowptr``
and ``split`` (8 and ``8 (n_parts + 1)`` bytes per presynaptic neuron of each
projection), neuron state, traces, ring buffer ``2 * 8 * n_slots`` per LIF neuron.
"""
from __future__ import annotations

from collections import namedtuple

#: Neuron state and populations. ``pop_*[p]``: population ``p`` (global index range
#: ``[pop_lo, pop_hi)``, coefficient row, kernel kind); ``bounds`` (int64,
#: ``n_parts + 1``): the neuron range ``[bounds[t], bounds[t + 1])`` owned by thread
#: partition ``t``; state arrays over the LIF neurons (inputs have no state).
Neurons = namedtuple("Neurons", "pop_lo pop_hi coef kind bounds v u i_exc i_inh ref i_ext "
                                "theta")

#: Connectivity and delivery. Per projection ``k``: ``pre_lo``/``pre_hi``/``post_lo``
#: (global index ranges), ``n_post``, ``rp_off`` (first row of ``rowptr``/``split``),
#: ``so_off``/``wo_off``/``do_off`` (offsets into ``post``/``w``/``delay``), ``sign``
#: (+1 all weights >= 0, -1 all < 0, 0 mixed: per-synapse test), ``delay_const``
#: (steps, -1: per synapse), ``w_const`` (NaN: per synapse), ``dense`` (all pairs, CSR
#: synapse ``j * n_post + i``). ``rowptr`` (int64, local synapse index of each row's
#: start, ``n_pre + 1`` per projection), ``split`` (int64 ``[row, n_parts + 1]``: where
#: each partition's targets start in the row), ``post`` (int32), ``w`` (float64, mV),
#: ``delay`` (int32, steps), ``ring_exc``/``ring_inh`` (``[n_slots, n_lif]``, mV).
Synapses = namedtuple("Synapses", "pre_lo pre_hi post_lo n_post rp_off so_off wo_off do_off "
                                  "sign delay_const w_const dense rowptr split post w delay "
                                  "ring_exc ring_inh")

#: Plasticity. Per projection: ``kind`` (STATIC, STDP_KIND, RSTDP_KIND, TRIPLET_KIND),
#: ``rule`` (``[K, N_RULE]``, columns :data:`.stdp.RULE_NAMES`), trace offsets
#: ``xpre_off``/``xpost_off`` (``K + 1``), ``cp_off`` (first entry of ``colptr``),
#: ``co_off`` (``K + 1``, into ``col_syn``/``col_pre``), ``eo_off`` (``K + 1``, into
#: ``elig``/``elig_step``), ``dop``/``dop_step`` (the projection's dopamine level and
#: the step it refers to). Traces (dimensionless) ``x_pre``/``x_post`` and the triplet
#: rule's slow ``x_pre2``/``x_post2``; ``a_now`` (per presynaptic trace entry: the
#: depression amplitude of this step's spike, mV).
Plasticity = namedtuple("Plasticity", "kind rule xpre_off xpost_off cp_off co_off eo_off dop "
                                      "dop_step x_pre x_post x_pre2 x_post2 a_now colptr "
                                      "col_syn col_pre elig elig_step")

#: Kernels of the rules with kind ``CUSTOM_KIND + i`` (tuples of first-class functions,
#: :mod:`.hooks`), kept apart from :class:`Plasticity` because numba's parallel regions
#: cannot take function values.
Hooks = namedtuple("Hooks", "pre post")

#: Inputs of one chunk: ``ptr`` (``n_steps + 1``) into ``idx`` (global indices of the
#: input spikes of each step), ``pop_ext`` (per population: is ``i_ext`` non-zero).
Inputs = namedtuple("Inputs", "ptr idx pop_ext")

#: Recording. Spikes of neurons with ``rec_mask`` go to ``spk_step``/``spk_idx``
#: (``spk_count[0]`` used, at most ``max_rec`` per step); state monitors ``m`` record
#: every ``sm_every[m]`` steps the variables ``sm_var`` of neurons ``sm_idx`` (entries
#: ``sm_ptr[m]:sm_ptr[m + 1]``) into ``sm_out`` (rows from ``sm_out_off[m]``, next row
#: ``sm_row[m]``); rate monitors count spikes in ``[rm_lo, rm_hi)`` into ``rm_out``.
Recording = namedtuple("Recording", "rec_mask spk_step spk_idx spk_count max_rec sm_every "
                                    "sm_ptr sm_var sm_idx sm_row sm_out_off sm_out rm_lo rm_hi "
                                    "rm_out")

#: Work buffers: two spike lists (int32, ``n_total``; one is delivered while the next
#: step's spikes are written into the other), the spike count of each partition, and
#: ``sync`` (int64): the control words of a team of threads that stays in one parallel
#: region per chunk (:mod:`.sync`; empty: one parallel region per step, or one thread).
Buffers = namedtuple("Buffers", "spikes_a spikes_b part_n sync")

__all__ = ["Neurons", "Synapses", "Plasticity", "Hooks", "Inputs", "Recording", "Buffers"]
