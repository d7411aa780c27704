"""Backends: the same :class:`~neuromorph.network.Network` description run elsewhere.

* :mod:`neuromorph.backends.brian2` -- the network as Brian2 objects, to cross-check
  spikes and STDP weights against neuromorph's engine and to serve as the peer in
  benchmarks (``to_brian2``, ``run_brian2``).
* :mod:`neuromorph.backends.lava` -- LoihiLIF networks as Lava processes, run in
  Lava's CPU simulation of Loihi 2 in fixed or floating point (``to_lava``,
  ``run_lava``); needs lava-nc 0.10.0 (see the README's install commands).
* :mod:`neuromorph.backends.nest` -- the network on NEST 3.10 (``iaf_psc_exp``,
  ``stdp_synapse``, ...), on threads here and under MPI on a cluster (``to_nest``,
  ``run_nest``); :mod:`neuromorph.backends.nest_mpi` gathers or merges NEST's per-rank
  records.
* :mod:`neuromorph.backends.nir` -- export/import of the network graph as NIR
  (``to_nir``, ``from_nir``), to and from snnTorch, Norse, Lava-dl and other tools.

Backends read the network description (populations, projections, currents, monitors,
model and rule parameters, initial state); they never read or change the engine's
internals, and they never modify the network they are given.
"""
