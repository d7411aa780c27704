r"""The same network in Lava: Loihi 2's CPU simulation, floating and fixed point.

:func:`to_lava` reads a :class:`~neuromorph.network.Network` description and builds
Lava processes (lava-nc 0.10.0); :func:`run_lava` builds, runs them in Lava's
``Loihi2SimCfg`` and returns monitors of the same classes ``net.run`` fills. The
neuromorph network is never modified and the engine's internals are never read.

Mapping (one neuromorph step of ``dt`` is one Loihi time step):

* **LoihiLIF** population -> ``lava.proc.lif.process.LIF`` with the same ``du``,
  ``dv``, ``vth``, ``bias_mant``, ``bias_exp`` and initial ``u``, ``v``. In fixed point
  Lava's bit-accurate model runs (tag ``fixed_pt``), in floating point its float model
  (``floating_pt``); :class:`~neuromorph.neurons.LoihiLIF` implements both exactly,
  so spikes and voltages agree bit for bit (fixed) or to rounding (float).
* **Projections** -> ``Dense`` (every delay 0) or ``DelayDense`` (per-synapse delays
  0-63 steps), or ``Sparse`` with ``connection='sparse'`` (delay 0 only). Lava's
  connections deliver a spike of step ``t`` in step ``t + 1 + delay``, which is
  exactly when neuromorph's engine delivers a spike into a LoihiLIF neuron through
  a synapse of that delay (a delay-0 synapse feeds the next step's ``a_in``), so no
  shift is needed. Weight matrices span whole populations (zero outside a view).
  In fixed point a projection is split by sign into an excitatory (0..255) and an
  inhibitory (-255..0) connection: a single mixed-sign connection would be clipped
  to [-256, 254] and floored to even by Lava.
* **Spike sources** -> ``RingBuffer`` sources replaying the same steps; **Poisson**
  inputs -> the same spike trains neuromorph draws (same seed and block layout),
  replayed the same way.
* **Monitors**: every monitored LoihiLIF population gets a recorder process that
  receives its spikes and, when a state monitor asks for them, reads ``v`` / ``u``
  through ``RefPort`` each step; it streams them to a file at the last step (reading
  Lava ``Var`` objects back costs ~16 us per element). :class:`SpikeMonitor`,
  :class:`StateMonitor` ('v', 'u') and :class:`RateMonitor` are returned.
* **Learning** (see :func:`lava_rule_support` for the full table). Plastic
  projections (whole populations, delay 0) -> ``LearningDense``:

  - all-to-all **STDP** -> a ``Loihi2FLearningRule`` (:func:`stdp_rule`); the post
    population's spikes are wired back (``s_in_bap``). Floating point
    (``learning='float'``, the default; additive or multiplicative, any amplitudes,
    ``x_tar``): the same spikes and weights as neuromorph (1e-9), free-running and with
    weights on their bounds, for rules with ``clip='step'``, the learning engine's order
    (a step's changes summed, then the weight saturated at ``[w_min, w_max]``); rules
    with ``clip='update'`` (Brian2's order) warn, see :func:`stdp_rule`.
    ``learning='fixed'``: Lava's fixed-point, bit-approximate learning engine (integer
    traces of impulse ``trace_impulse``, 8-bit integer weights, stochastic rounding
    seeded by ``rng_seed``): unbiased, with a per-synapse deviation of standard
    deviation ``sqrt(n (1/4 + (a sigma_tr / I)**2))`` after ``n`` updates (measured:
    rms 0.9 of that, see :func:`stdp_rule`). neuromorph runs no plasticity onto
    fixed-point LoihiLIF neurons, so fixed-point learning is exported from a network
    whose neurons are floating point; the neurons keep their precision.
  - all-to-all **R-STDP** (additive or multiplicative) -> a ``Loihi3FLearningRule``
    whose synaptic tag is the eligibility trace, with a small post-side process that
    supplies the post trace, the tag decay and the reward (third factor ``y2``) every
    step (:func:`rstdp_rule`). Rewards are given up front: ``rewards={signal name:
    [(step, reward), ...]}``, each delivered before ``step`` as ``signal.deliver``
    would. Phasic and dopamine-concentration modes, floating point: the same spikes,
    weights and eligibility as neuromorph (1e-9), also when the learned weights drive
    the spikes and reach ``w_min`` or ``w_max``.
  - minimal all-to-all **triplet STDP** -> a ``Loihi2FLearningRule`` on all five
    traces (:func:`triplet_rule`), floating point: the same weights (1e-9), with the
    same ``clip`` schedule rule as STDP.

  Float learning runs Lava's ``PyLearningDenseModelFloat`` with one addition
  (``BoundedLearningDenseFloat``): after each step's learning, weights saturate at
  the rule's ``[w_min, w_max]``, as Loihi's learning engine saturates weights at the
  ends of its range (Lava's float model clips at 0 only).

  Learned weights (and R-STDP eligibilities) come back in :attr:`LavaResult.weights`
  (:attr:`LavaResult.eligibility`).

Not mappable (one :class:`UnsupportedFeature` listing every such part and why, before any
Lava process is made): continuous ``LIF`` populations (convert them first with
:func:`neuromorph.loihi.to_loihi`), a mix of fixed- and floating-point populations,
the learning rules marked 'no' in :func:`lava_rule_support` (power weight dependence,
nearest-spike pairing, fixed point for all but additive STDP), delays above 63
steps or delays with ``connection='sparse'``, step currents, weight monitors, and
networks that have already run (``net.step != 0``).

Robustness. Lava's runtime waits forever when one of its process models raises in
its child process (e.g. a float where fixed point wants an integer), and a script
that never calls ``stop()`` never exits. :func:`run_lava` (and
:meth:`LavaNetwork.run`) therefore compile and run everything in a forked worker
process that watches Lava's children: a child that raises or dies becomes a
:class:`LavaRuntimeError` carrying the child's traceback within about a second,
after the children are stopped and Lava's shared memory is released; the worker's
whole process group is killed as a last resort. Nothing of Lava keeps running after
the call returns or raises.

Cost. Every Lava process is an OS process synchronised every step. On the 3-population
recurrent test network (80 LoihiLIF neurons, 20 inputs, 8 connections; 2 shared CPU
cores, 1000 steps) Lava's run loop takes about 3-8 ms per step (compiling and starting
~1-2 s more), neuromorph's engine 5-20 us per step; with 400 neurons 5-7 ms against
15-40 us. Reading ``v`` every step through the recorders adds ~0.5-3 ms per step.

Installation. lava-nc 0.10.0 declares Python < 3.11; install its dependencies from
``requirements-lava.txt`` and then lava itself with
``pip install --no-deps --ignore-requires-python lava-nc==0.10.0`` (see the README).
Its ``var_model.py`` has dataclass defaults that Python 3.11 rejects; importing this
module installs an import hook that fixes them in memory (site-packages is never
edited). Lava sets multiprocessing's start method to 'fork' when imported; this
module undoes that in the calling process (the worker uses a fork context
explicitly).

Package layout (one module per job; this module re-exports the public names):
``compat`` (Python 3.11 import hook, the one place lava is imported), ``processes``
(Lava process classes and models: recorders, the R-STDP post-side process, the
bounded float ``LearningDense`` model), ``rules`` (learning-rule translation and the
support table), ``export`` (checks, :func:`to_lava`, :class:`LavaNetwork`,
:class:`LavaResult`), ``runner`` (:func:`run_lava` in a watched worker process).

Examples
--------
>>> import numpy as np, neuromorph as nm
>>> from neuromorph.backends.lava import run_lava
>>> net = nm.Network(dt=1.0, seed=0)
>>> P = net.loihi_lif(3, du=410, dv=205, vth=100, fixed_point=True)   # Lava's units
>>> _ = net.connect(net.spike_source(2, indices=np.array([0, 1]), times=np.array([1.0, 2.0])),
...                 P, w=200.0)
>>> mon = net.spike_monitor(P)
>>> spikes, = run_lava(net, 20.0).monitors        # doctest: +SKIP
"""
from ...errors import LavaRuntimeError, UnsupportedFeature
from .compat import _install_import_hook, _lava  # noqa: F401 (tests reach them here)
from .export import LavaNetwork, LavaResult, to_lava
from .rules import (MAX_DELAY, RULE_SUPPORT, TRACE_IMPULSE, lava_rule_support, rstdp_rule,
                    stdp_rule, triplet_rule)
from .runner import run_lava

__all__ = ["to_lava", "run_lava", "stdp_rule", "rstdp_rule", "triplet_rule", "lava_rule_support",
           "TRACE_IMPULSE", "MAX_DELAY", "RULE_SUPPORT", "LavaNetwork", "LavaResult",
           "UnsupportedFeature", "LavaRuntimeError"]
