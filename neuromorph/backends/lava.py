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

Examples
--------
>>> import numpy as np, neuromorph as nm
>>> from neuromorph.backends.lava import run_lava
>>> net = nm.Network(dt=1.0, seed=0)
>>> src = net.spike_source(2, indices=np.array([0, 1]), times=np.array([1.0, 2.0]))
>>> P = net.loihi_lif(3, du=410, dv=205, vth=100, fixed_point=True)
>>> _ = net.connect(src, P, w=200.0)
>>> mon = net.spike_monitor(P)
>>> spikes, = run_lava(net, 20.0).monitors        # doctest: +SKIP
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import multiprocessing as mp
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from multiprocessing import resource_tracker

import numpy as np

from ..errors import LavaRuntimeError, UnsupportedFeature, all_problems
from ..monitors import RateMonitor, SpikeMonitor, StateMonitor, WeightMonitor
from ..network import Network, check_network
from ..neurons import LIF, SpikeTimes
from ..plasticity import RSTDP, STDP, TripletSTDP
from ..encoders import PoissonBlocks

MAX_DELAY = 63  # Loihi 2: 6-bit synaptic delays
#: Default trace impulse of fixed-point learning (neuromorph's trace 1 -> 16 of 127).
TRACE_IMPULSE = 16


# -- import shim --------------------------------------------------------------------------
_BYTE_ENCODER_FIELD = re.compile(r"^(\s+\w+): ByteEncoder = ByteEncoder\(\)[ \t]*$", re.M)


class _VarModelLoader(importlib.machinery.SourceFileLoader):
    """Compiles ``lava/magma/compiler/var_model.py`` with Python-3.11-valid defaults.

    ``x: ByteEncoder = ByteEncoder()`` is a mutable dataclass default, rejected by
    Python 3.11; it becomes ``field(default_factory=ByteEncoder)``. The source on disk
    is never changed; an already valid source is compiled unchanged.
    """

    def get_code(self, fullname):
        src = self.get_data(self.path).decode("utf-8")
        src = _BYTE_ENCODER_FIELD.sub(
            r"\1: ByteEncoder = __import__('dataclasses').field(default_factory=ByteEncoder)",
            src)
        return compile(src, self.path, "exec", dont_inherit=True)


class _VarModelFinder(importlib.abc.MetaPathFinder):
    name = "lava.magma.compiler.var_model"

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            spec.loader = _VarModelLoader(fullname, spec.origin)
        return spec


def _install_import_hook():
    """Idempotent: one finder on ``sys.meta_path`` whatever the number of calls."""
    if not any(type(f).__name__ == "_VarModelFinder" for f in sys.meta_path):
        sys.meta_path.insert(0, _VarModelFinder())


_LAVA = None


def _lava():
    """Import lava (once) and return a namespace of the classes the backend uses."""
    global _LAVA
    if _LAVA is not None:
        return _LAVA
    _install_import_hook()
    method = mp.get_start_method(allow_none=True)
    original = mp.set_start_method
    if method is not None:
        # lava calls set_start_method('fork') without force, which raises once a start
        # method is set; the runs use an explicit fork context instead
        mp.set_start_method = lambda *a, **k: None
    try:
        import lava.magma.core.process.process  # noqa: F401 (lava is a namespace package)
    except ModuleNotFoundError as err:
        raise ImportError(
            "the Lava backend needs lava-nc 0.10.0: pip install -r requirements-lava.txt && "
            "pip install --no-deps --ignore-requires-python lava-nc==0.10.0") from err
    finally:
        mp.set_start_method = original
    if method is None and mp.get_start_method(allow_none=True) is not None:
        mp.set_start_method(None, force=True)  # leave the caller's default untouched
    _LAVA = _build_namespace()
    return _LAVA


def _build_namespace():
    from types import SimpleNamespace

    from lava.magma.core.decorator import implements, requires, tag
    from lava.magma.core.model.py.model import PyLoihiProcessModel
    from lava.magma.core.model.py.ports import PyInPort, PyRefPort
    from lava.magma.core.model.py.type import LavaPyType
    from lava.magma.core.process.ports.ports import InPort, RefPort
    from lava.magma.core.process.process import AbstractProcess
    from lava.magma.core.resources import CPU
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule, Loihi3FLearningRule
    from lava.magma.core.model.py.ports import PyOutPort
    from lava.magma.core.process.ports.ports import OutPort
    from lava.proc.dense.process import DelayDense, Dense, LearningDense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF as LavaLIF
    from lava.proc.sparse.process import Sparse

    class Recorder(AbstractProcess):
        """Receives a population's spikes and reads its ``v``/``u`` every step."""

        def __init__(self, *, shape, path, n_steps, read_state):
            super().__init__(shape=shape, path=path, n_steps=n_steps, read_state=read_state)
            self.s_in = InPort(shape=shape)
            self.v_ref = RefPort(shape=shape)
            self.u_ref = RefPort(shape=shape)

    @implements(proc=Recorder, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("floating_pt", "fixed_pt")
    class RecorderModel(PyLoihiProcessModel):
        s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        v_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, float)
        u_ref: PyRefPort = LavaPyType(PyRefPort.VEC_DENSE, float)

        def __init__(self, proc_params):
            super().__init__(proc_params)
            self._steps, self._idx, self._v, self._u = [], [], [], []

        def run_spk(self):
            idx = np.flatnonzero(self.s_in.recv())
            self._steps.append(np.full(idx.size, self.time_step - 1, np.int64))
            self._idx.append(idx)
            if not self.proc_params["read_state"] and self.time_step == \
                    self.proc_params["n_steps"]:
                self._save()

        def post_guard(self):
            return self.proc_params["read_state"]

        def run_post_mgmt(self):
            self._v.append(np.array(self.v_ref.read(), dtype=np.float64))
            self._u.append(np.array(self.u_ref.read(), dtype=np.float64))
            if self.time_step == self.proc_params["n_steps"]:
                self._save()

        def _save(self):
            shape = (0, int(np.prod(self.proc_params["shape"])))
            np.savez(self.proc_params["path"], steps=np.concatenate(self._steps),
                     idx=np.concatenate(self._idx),
                     v=np.array(self._v) if self._v else np.zeros(shape),
                     u=np.array(self._u) if self._u else np.zeros(shape))

    class ThirdFactor(AbstractProcess):
        """Post-side companion of an R-STDP ``LearningDense``: spikes, traces, reward."""

        def __init__(self, *, shape, decay_post, a_minus, gain, y3):
            super().__init__(shape=shape, decay_post=decay_post, a_minus=a_minus, gain=gain,
                             y3=y3)
            self.s_in = InPort(shape=shape)
            self.s_bap = OutPort(shape=shape)
            self.y1_out = OutPort(shape=shape)
            self.y2_out = OutPort(shape=shape)
            self.y3_out = OutPort(shape=shape)

    @implements(proc=ThirdFactor, protocol=LoihiProtocol)
    @requires(CPU)
    @tag("floating_pt")
    class ThirdFactorModel(PyLoihiProcessModel):
        s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
        s_bap: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool)
        y1_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
        y2_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
        y3_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

        def __init__(self, proc_params):
            super().__init__(proc_params)
            p = proc_params
            self._trace = np.zeros(p["shape"])
            # Lava decays the y traces it receives by exp(-1/65535) before use
            self._comp = np.exp(1.0 / _ELIG_TAU_3F)

        def run_spk(self):
            p = self.proc_params
            spiked = self.s_in.recv().astype(bool)
            before = self._trace * p["decay_post"]  # post trace before this step's spike
            ones = np.ones(p["shape"])
            self.s_bap.send(spiked)
            self.y1_out.send(p["a_minus"] * before * self._comp)
            self.y2_out.send(p["gain"][self.time_step - 1] * self._comp * ones)
            self.y3_out.send(p["y3"] * self._comp * ones)
            self._trace = before + spiked

    from lava.proc.dense.models import (PyLearningDenseModelBitApproximate,
                                        PyLearningDenseModelFloat)
    from lava.utils.weightutils import SignMode

    class BoundedLearningDenseFloat(PyLearningDenseModelFloat):
        """Lava's floating-point ``LearningDense`` whose weights saturate at the rule's
        bounds: after each step's learning (the step's changes summed), weights are
        clipped to ``proc_params['weight_bounds']``, as Loihi's learning engine
        saturates them at the ends of its weight range. Lava's own float model clips
        at 0 only (sign modes)."""

        def _saturate_synaptic_variable(self, synaptic_variable_name,
                                        synaptic_variable_values):
            values = super()._saturate_synaptic_variable(synaptic_variable_name,
                                                         synaptic_variable_values)
            bounds = self.proc_params["weight_bounds"]
            if synaptic_variable_name == "weights" and bounds is not None:
                values = np.clip(values, *bounds)
            return values

    return SimpleNamespace(LIF=LavaLIF, Dense=Dense, LearningDense=LearningDense,
                           SignMode=SignMode,
                           LearningDenseFixed=PyLearningDenseModelBitApproximate,
                           LearningDenseFloat=BoundedLearningDenseFloat,
                           Loihi3FLearningRule=Loihi3FLearningRule, ThirdFactor=ThirdFactor,
                           ThirdFactorModel=ThirdFactorModel,
                           Loihi2FLearningRule=Loihi2FLearningRule, DelayDense=DelayDense,
                           Sparse=Sparse,
                           RingBuffer=RingBuffer, RunSteps=RunSteps, Loihi2SimCfg=Loihi2SimCfg,
                           Recorder=Recorder, RecorderModel=RecorderModel)


# -- checks -------------------------------------------------------------------------------
def _check_network(net, connection, trace_impulse=TRACE_IMPULSE, learning="float"):
    """The network's precision (fixed point?); every reason it cannot be exported is
    raised at once (one :class:`UnsupportedFeature` listing them all)."""
    check_network(net)
    if connection not in ("dense", "sparse"):
        raise ValueError(f"connection must be 'dense' or 'sparse', got {connection!r}")
    if learning not in ("float", "fixed"):
        raise ValueError(f"learning must be 'float' or 'fixed', got {learning!r}")
    problems = []

    def check(rule, *args):  # a rule translation that raises for what has no Loihi form
        try:
            rule(*args)
        except UnsupportedFeature as err:
            problems.append(str(err))

    if net.step != 0:
        problems.append(f"the network has already run ({net.step} steps): spikes in flight "
                        f"live in the engine; export a freshly built network")
    kinds = set()
    for p in net.populations:
        if isinstance(p.model, LIF):
            problems.append(f"population {p.name!r} is a continuous LIF: Lava runs Loihi's "
                            f"CUBA neuron; convert the network with "
                            f"neuromorph.loihi.to_loihi(net) first")
        if p.is_loihi:
            kinds.add(p.model.fixed_point)
    if len(kinds) > 1:
        problems.append("the network mixes fixed- and floating-point LoihiLIF populations; "
                        "Lava runs one precision at a time")
    for pr in net.projections:
        if isinstance(pr.plasticity, RSTDP):
            check(rstdp_rule, pr, learning == "fixed")
            check(_modulator, net, pr)
        elif isinstance(pr.plasticity, TripletSTDP):
            check(triplet_rule, pr, learning == "fixed")
        elif pr.plasticity is not None:
            check(stdp_rule, pr, learning == "fixed", trace_impulse)
        if pr.n_synapses and pr.delay_steps.max() > MAX_DELAY:
            problems.append(f"projection {pr.name!r} has a delay of {pr.delay_steps.max()} "
                            f"steps; Loihi 2 allows 0-{MAX_DELAY}")
        if connection == "sparse" and pr.n_synapses and pr.delay_steps.any():
            problems.append(f"projection {pr.name!r} has delays: Lava's Sparse has none; use "
                            f"connection='dense' (DelayDense)")
    if net.currents:
        problems.append("step currents (net.current) have no Lava equivalent here; use the "
                        "LoihiLIF bias")
    for m in net.monitors:
        if isinstance(m, WeightMonitor):
            problems.append(f"weight monitor of projection {m.target.name!r}: Lava's weights "
                            f"are read once, after the run (LavaResult.weights)")
    if problems:
        raise all_problems(problems, "exported to Lava",
                           "Lava runs a freshly built network of LoihiLIF neurons of one "
                           "precision (net.loihi_lif, or neuromorph.loihi.to_loihi(net) for "
                           "LIF), spike/Poisson inputs, delays up to "
                           f"{MAX_DELAY} steps and the learning rules of "
                           "lava_rule_support().")
    return kinds.pop() if kinds else True


# -- learning -----------------------------------------------------------------------------
_ELIG_TAU_3F = float(np.iinfo(np.uint16).max)  # Lava's decay of neuron-supplied y traces


def _pow2_literal(name, value):
    """``value`` as a Lava learning-rule literal ``m*2^e``, exactly, or raise.

    Lava folds a product's constants into one scale ``s_mant * 2**s_exp`` with an
    integer ``|s_mant| <= 7`` and ``-7 <= s_exp <= 8`` (floating and fixed point alike).
    """
    if value == 0:
        return "0"
    m, e = np.frexp(value)  # value = m * 2**e, 0.5 <= |m| < 1
    for bits in range(1, 4):
        mant = m * 2**bits
        if mant == np.rint(mant):
            mant, ex = int(mant), int(e) - bits
            while mant % 2 == 0:
                mant, ex = mant // 2, ex + 1
            if -7 <= ex <= 8:
                return f"{mant}*2^{ex}"
            break
    raise UnsupportedFeature(f"{name} = {value!r} is not m * 2**e with an integer |m| <= 7 "
                             f"and -7 <= e <= 8: Loihi learning rules scale by such "
                             f"constants only")


def _check_learning_shape(proj):
    name = proj.name
    if proj.n_synapses and proj.delay_steps.any():
        raise UnsupportedFeature(f"projection {name!r}: plastic synapses with delays (Lava's "
                                 f"LearningDense has none)")
    if proj.n_synapses != proj.pre.population.size * proj.post.population.size:
        raise UnsupportedFeature(f"projection {name!r}: a plastic projection must connect "
                                 f"whole populations all-to-all (every entry of Lava's "
                                 f"LearningDense matrix learns, absent synapses included)")


def stdp_rule(proj, fixed_point=False, trace_impulse=TRACE_IMPULSE):
    """The Loihi learning-rule string ``dw`` of a projection's STDP rule.

    neuromorph's all-to-all STDP maps onto a ``Loihi2FLearningRule`` with traces
    ``x1`` (pre, ``tau = tau_pre / dt`` steps) and ``y1`` (post, ``tau_post / dt``).
    ``y1`` seen by a pre spike (``x0``) already holds the impulse of a post
    spike in the same step, which neuromorph's depression does not see: ``y2`` (the
    same impulse, decaying to exactly 0 within a step) holds just that impulse, so an
    ``x0 * y2`` term takes it back (Lava's rules accept traces as factors, not
    ``y0``). ``x1`` seen by a post spike holds the same step's pre impulse, as in
    neuromorph (same-step pairs count as pre-before-post).

    **Floating point: exact**, any amplitudes, additive or multiplicative, with or
    without ``x_tar``. The amplitudes travel in the trace impulses (``x1``:
    ``a_plus``; ``y1``, ``y2``: ``|a_minus|``; divided by ``w_max - w_min`` when
    multiplicative); ``y3`` (impulse ``a_plus x_tar``, gone within the step) is the
    target-trace part. Additive::

        dw = x0 y2 - x0 y1 + y0 x1 - y0 y3

    Multiplicative (soft bounds; ``w_min``, ``w_max`` as exact constants ``m*2^e``):
    the pre-spike update ``w1 = w - M (w - w_min)`` comes before the post-spike one
    ``w2 = w1 - P (w1 - w_max)`` in the same step, as in neuromorph, so the product
    ``P M (w - w_min)`` is spelled out, with ``x2`` (impulse ``a_plus / |a_minus|``)
    and ``y2`` marking a post spike::

        dw = x0 (y2 - y1)(w - w_min) - y0 (x1 - y3)(w - w_max)
             + x0 (x2 y2 - y3)(y1 - y2)(w - w_min)        (expanded into products)

    Bounds: Loihi's learning engine adds a step's pre- and post-spike changes and then
    saturates the weight. Lava's floating-point ``LearningDense`` clips at 0 only (its
    sign modes); the export runs it with weights saturated at ``[w_min, w_max]`` after
    each step's learning (``BoundedLearningDenseFloat``). neuromorph does the same with
    ``STDP(..., clip='step')``: spikes and weights then agree, free-running and with
    weights on the bounds (tested with recurrence and inhibition). With the default
    ``clip='update'`` (Brian2's order: clip after the pre-spike update, then after the
    post-spike one) they differ when, in one step, a synapse's pre-spike update crosses
    a bound before its post-spike update; :func:`to_lava` warns for additive rules.

    **Fixed point** (additive, ``x_tar = 0``): traces are integers with impulse ``I =
    trace_impulse``, so the amplitudes become the rule's constants::

        dw = (a_minus/I) x0 y1 - (a_minus/I) x0 y2 + (a_plus/I) y0 x1


    **Fixed point: approximate** (Lava's ``PyLearningDenseModelBitApproximate``).
    Traces are 7-bit integers (``I x``, saturating at 127: keep ``I`` times the
    largest trace below 127) that decay by ``exp(-1/tau)`` with stochastic rounding;
    each step's weight change (exact in the learning engine's 15-bit accumulator,
    resolution ``2**-7``) is stochastically rounded to the integer 8-bit weight, one
    uniform random number per step shared by all synapses; weights must be integers of
    one sign and are clipped to ``[0, 255]`` (``[-255, 0]``) instead of ``[w_min,
    w_max]``. Both roundings are unbiased, so the expected change is neuromorph's; the
    deviation of one synapse after ``n`` weight updates has a standard deviation of at
    most ``sqrt(n)/2`` (weight rounding) plus ``|a| sqrt(tau/2)/(2 I)`` per update
    that reads a trace (trace rounding, ``sigma_tr = 1 / (2 sqrt(1 - exp(-2/tau)))``
    trace units, stationary). Measured on the teacher-forced reference network of
    ``tests/test_lava_learning.py`` (16 x 8 synapses, 600 steps, ``tau = 16``,
    ``I = 16``, changes up to 72 weight units, ``sigma`` about 5): deviations are
    0.9 ``sigma`` rms, at most 2.8 ``sigma``, and every synapse whose change exceeds
    4 ``sigma`` changes in the same direction. In a free-running network the integer
    weights move spike times instead (30 inputs -> 12 LoihiLIF, 600 steps, about 0.1
    spikes per neuron and step: spike counts within 8 %, 30 % of spikes on the same
    step, weight changes correlated 0.7 with neuromorph's and of the same sign for
    85-89 % of the synapses that change by more than 5). ``rng_seed`` (of :func:`run_lava`)
    seeds the trace roundings; Lava seeds the weight rounding with a constant (2), so
    runs are reproducible. :func:`neuromorph.loihi.loihi_stdp_fixed` replays this
    arithmetic without Lava and gives the same weights bit for bit (tested).

    Not exported (:class:`UnsupportedFeature`): in fixed point, amplitudes ``a / I``
    not of the form ``m * 2**e`` (``|m| <= 7``, ``-7 <= e <= 8``), multiplicative
    dependence and ``x_tar``; power weight dependence, nearest-spike pairing; plastic
    synapses with delays; projections that do not connect whole populations
    all-to-all. See :func:`lava_rule_support` for every rule.

    Returns
    -------
    str
    """
    if not fixed_point:
        return _stdp_float(proj)[0]
    rule, name = proj.plasticity, proj.name
    _check_pair_rule(proj, STDP)
    if rule.weight_dependence != "additive" or rule.x_tar:
        raise UnsupportedFeature(f"projection {name!r}: fixed-point learning exports "
                                 f"additive STDP without x_tar only, got "
                                 f"{rule.weight_dependence}, x_tar={rule.x_tar}")
    impulse = _trace_impulse(trace_impulse)
    w = proj.w
    if proj.n_synapses and (np.any(w != np.rint(w)) or np.abs(w).max() > 255
                            or (w.min() < 0 < w.max())):
        raise UnsupportedFeature(
            f"projection {name!r}: fixed-point learning needs integer weights of one "
            f"sign in [-255, 255] (Lava's 8-bit learning weights; mixed signs lose "
            f"a bit), got range [{w.min()}, {w.max()}]")
    per = f" / trace_impulse {impulse}"
    am = _pow2_literal(f"projection {name!r}: a_minus{per}", rule.a_minus / impulse)
    ap = _pow2_literal(f"projection {name!r}: a_plus{per}", rule.a_plus / impulse)
    inhibitory = proj.n_synapses and w.max() <= 0 and w.min() < 0
    bounds = (-255.0, 0.0) if inhibitory else (0.0, 255.0)
    if (rule.w_min, rule.w_max) != bounds:
        raise UnsupportedFeature(
            f"projection {name!r}: fixed-point learning clips {'inhibitory' if inhibitory else 'excitatory'} "
            f"weights to [{bounds[0]:g}, {bounds[1]:g}] (Lava's 8-bit weights); set the rule's "
            f"w_min, w_max to these, got [{rule.w_min}, {rule.w_max}]")
    return f"({am})*x0*y1 - ({am})*x0*y2 + ({ap})*y0*x1"


def _triplet_half(a2, a3):
    """``(impulse of the fast trace, impulse of the slow trace, K)`` such that
    ``fast * (slow + K)`` is ``a2 + a3 * (slow trace before its own bump)`` times the
    fast trace (impulse 1); ``K`` in {-1, 0, 1} (a Lava literal)."""
    if a3 == 0:
        return a2, None, None
    k = float(np.sign(a2 - a3))
    c = k * a3 / (a2 - a3) if k else 1.0
    return a3 / c, c, int(k)


def triplet_rule(proj, fixed_point=False):
    """Loihi rule ``(dw, impulses)`` of a projection's :class:`TripletSTDP` rule.

    Lava has the five traces the minimal triplet model needs: ``x1`` (``r1``,
    ``tau_plus``), ``x2`` (``r2``, ``tau_x``), ``y1`` (``o1``, ``tau_minus``), ``y3``
    (``o2``, ``tau_y``) and ``y2``, which holds a post spike's impulse in its own step
    only (it takes back what neuromorph's depression does not see, as in
    :func:`stdp_rule`). Read after this step's impulses, a slow trace in a product
    with its own spike's dependency exceeds ``r2(t - eps)`` / ``o2(t - eps)`` by
    exactly one impulse, so::

        pre spike:   w += o1 (a2_minus + a3_minus r2(t - eps))  ->  x0 (y2 - y1) (x2 + K-)
        post spike:  w += r1 (a2_plus  + a3_plus  o2(t - eps))  ->  y0 x1 (y3 + K+)

    with impulses chosen so that the constants ``K`` are -1, 0 or 1 (Lava's literals):
    ``x2``: ``c- = K- a3_minus / (a2_minus - a3_minus)``, ``y1``, ``y2``:
    ``a3_minus / c-``, ``y3``: ``c+ = K+ a3_plus / (a2_plus - a3_plus)``, ``x1``:
    ``a3_plus / c+``, ``K = sign(a2 - a3)`` (a3 = 0: the pair terms alone), with the
    depression amplitudes' magnitudes (they are <= 0, see :mod:`neuromorph.plasticity`). **Floating
    point: exact** (to rounding) while weights stay inside ``(w_min, w_max)``; fixed
    point is not exported (:class:`UnsupportedFeature`).

    Returns
    -------
    (str, dict)
        ``dw`` and the ``Loihi2FLearningRule`` impulse keywords.
    """
    rule, name = proj.plasticity, proj.name
    if not isinstance(rule, TripletSTDP):
        raise UnsupportedFeature(f"projection {name!r}: {type(rule).__name__} is not "
                                 f"TripletSTDP")
    if fixed_point:
        raise UnsupportedFeature(f"projection {name!r}: TripletSTDP is exported in "
                                 f"floating point only (not mapped to integer traces)")
    _check_learning_shape(proj)
    terms, imp = [], {}

    def bracket(trace, k):
        return "" if k is None else f"*{trace}" if k == 0 else \
            f"*({trace} {'+' if k > 0 else '-'} 1)"

    fast, slow, k = _triplet_half(-rule.a2_minus, -rule.a3_minus)
    if fast:
        imp.update(y1_impulse=fast, y2_impulse=fast)
        terms += [f"x0*y2{bracket('x2', k)}", f"- x0*y1{bracket('x2', k)}"]
        if slow is not None:
            imp["x2_impulse"] = slow
    fast, slow, k = _triplet_half(rule.a2_plus, rule.a3_plus)
    if fast:
        imp["x1_impulse"] = fast
        terms.append(f"+ y0*x1{bracket('y3', k)}")
        if slow is not None:
            imp["y3_impulse"] = slow
    return (" ".join(terms).lstrip("+ ") or "0*x0"), imp


def _check_pair_rule(proj, kind):
    """Pairing and weight dependence that Loihi's sum-of-products rules can express."""
    rule, name = proj.plasticity, proj.name
    if kind is STDP and (isinstance(rule, RSTDP) or not isinstance(rule, STDP)):
        raise UnsupportedFeature(f"projection {name!r}: {type(rule).__name__} is not "
                                 f"exported by stdp_rule (see lava_rule_support())")
    if rule.pairing != "all_to_all":
        raise UnsupportedFeature(f"projection {name!r}: only all-to-all pairing maps onto "
                                 f"Loihi's traces (impulses add; nearest-spike pairing "
                                 f"resets them), got {rule.pairing}")
    if rule.mu not in (0.0, 1.0):
        raise UnsupportedFeature(f"projection {name!r}: only additive or multiplicative "
                                 f"weight dependence maps onto Loihi's sum-of-products "
                                 f"rules, got {rule.weight_dependence} with exponent "
                                 f"{rule.mu}")
    _check_learning_shape(proj)


def _exact_literal(value):
    """Any finite float as a Lava bracket constant ``m*2^e`` (integer ``m``), exactly."""
    if value == np.rint(value):
        return str(int(value))
    m, e = np.frexp(value)
    m, e = int(m * 2**53), int(e) - 53
    while m % 2 == 0:
        m, e = m // 2, e + 1
    return f"{m}*2^{e}"


def _minus(var, k):
    """``(var - k)`` as a Lava factor."""
    if k == 0:
        return var
    return f"({var} {'-' if k > 0 else '+'} {_exact_literal(abs(k))})"


def _stdp_float(proj):
    """``(dw, impulse keywords)`` of a floating-point STDP rule (see :func:`stdp_rule`)."""
    rule = proj.plasticity
    _check_pair_rule(proj, STDP)
    a, b, xt = rule.a_plus, -rule.a_minus, rule.x_tar
    if rule.mu == 0.0:
        imp = dict(x1_impulse=a, y1_impulse=b, y2_impulse=b, y3_impulse=a * xt)
        dw = "x0*y2 - x0*y1 + y0*x1" + (" - y0*y3" if xt else "")
        return dw, imp
    span = rule.w_max - rule.w_min
    lo, hi = _minus("w", rule.w_min), _minus("w", rule.w_max)
    # pre spike first:  w1 = w - M (w - w_min),  M = b o1 / span  (y1 - y2)
    # then post spike:  w2 = w1 - P (w1 - w_max), P = a (r1 - x_tar) / span
    #                      = w1 - P (w - w_max) + P M (w - w_min)   (both in one step)
    # P M needs a post spike in this step: y2 (b/span, gone within the step) marks it,
    # x2 (impulse a/b, tau_pre) is x1 * span / b; y3 (impulse a x_tar / span, gone
    # within the step) is the target-trace part of P
    imp = dict(x1_impulse=a / span, x2_impulse=a / b if b else 0.0, y1_impulse=b / span,
               y2_impulse=b / span, y3_impulse=a * xt / span)
    terms = [f"x0*y2*{lo}", f"- x0*y1*{lo}", f"- y0*x1*{hi}"]
    if b:
        terms += [f"+ x0*x2*y1*y2*{lo}", f"- x0*x2*y2*y2*{lo}"]
    if xt:
        terms += [f"+ y0*y3*{hi}", f"- x0*y1*y3*{lo}", f"+ x0*y2*y3*{lo}"]
    return " ".join(terms), imp


def _trace_impulse(value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not 1 <= value <= 127:
        raise ValueError(f"trace_impulse must be an integer in [1, 127], got {value!r}")
    return int(value)


def rstdp_rule(proj, fixed_point=False):
    """Loihi three-factor rule strings ``(dt, dw)`` of a projection's R-STDP rule.

    The eligibility trace ``C`` is the synaptic tag ``t`` and the neuromodulator the
    third factor ``y2``; a small companion process on the post side (it receives the
    post population's spikes) supplies the learning engine, every step, with the
    back-propagated spikes, ``y1 = a_minus x_post`` (the post trace before this
    step's spike), ``y2`` (the weight gain of this step) and ``y3 = 1 - exp(-dt /
    tau_elig)`` (Lava decays neuron-supplied traces by ``exp(-1/65535)`` per step;
    the companion divides that out). The synapse keeps the pre trace ``x1`` (impulse
    ``a_plus``, ``tau_pre / dt``). Additive rule (multiplicative: the amplitudes
    divided by ``w_max - w_min`` and the pairing terms multiplied by ``(w - w_min)``
    and ``-(w - w_max)``; ``x_tar``: a term ``-a_plus x_tar y0``, a Lava constant, so
    ``m * 2**e``)::

        dt = x0 y1 + y0 x1 - u0 t y3                  C_s = C_{s-1} exp(-dt/tau_elig) + pairing_s
        dw = u0 t y2 - u0 t y3 y2 + x0 y1 y2 + y0 x1 y2          w += y2 C_s

    (Lava evaluates both with the tag of the previous step, so ``dw`` spells out
    ``C_s`` itself.) ``y2`` at step ``s`` is ``lr [d(s) tau_p (1 - exp(-dt/tau_p)) +
    r_{s+1} exp(-dt/tau_elig)]``: the closed-form integral of ``lr d C`` over the
    next step (dopamine concentration mode, ``1/tau_p = 1/tau_d + 1/tau_elig``) plus a
    phasic reward ``r_{s+1}`` delivered before step ``s + 1``. Applied at the end of
    step ``s``, this is exactly the weight neuromorph's engine catches a synapse up to
    before it transmits in step ``s + 1``, and its weights after the run, step for
    step (:mod:`neuromorph.kernels.eligibility`): in **floating point weights,
    eligibility and spikes agree** (to rounding) while the weights stay inside
    ``(w_min, w_max)`` (Lava does not clip them), and also at a bound of 0 (``w_min =
    0`` or ``w_max = 0``: Lava's sign mode clips every step, neuromorph at each catch-up;
    the weight moves monotonically in between, so both clip alike).

    Not exported (:class:`UnsupportedFeature`): fixed point (Loihi's 8-bit tags and
    weights would round the eligibility trace and every reward step; not mapped),
    power weight dependence, nearest-spike pairing, ``a_plus x_tar`` not ``m * 2**e``,
    delays, projections that are not whole-population all-to-all.

    Returns
    -------
    (str, str)
    """
    rule, name = proj.plasticity, proj.name
    if not isinstance(rule, RSTDP):
        raise UnsupportedFeature(f"projection {name!r}: {type(rule).__name__} is not R-STDP")
    if fixed_point:
        raise UnsupportedFeature(
            f"projection {name!r}: R-STDP is exported in floating point only: in fixed "
            f"point Loihi's eligibility tag and weights are 8-bit integers, so the tag's "
            f"per-step decay and every reward step would be rounded (not mapped)")
    _check_pair_rule(proj, RSTDP)
    pairing = _rstdp_pairing(proj)
    dt = " ".join(f"{sign} {term}" for sign, term in pairing).lstrip("+ ") + " - u0*t*y3"
    dw = "u0*t*y2 - u0*t*y3*y2 " + " ".join(f"{sign} {term}*y2" for sign, term in pairing)
    return dt, dw


def _rstdp_pairing(proj):
    """Signed pairing terms of the eligibility (``y1`` from the post side, ``x1`` with
    impulse :func:`_rstdp_amplitudes`), with the weight dependence as factors of ``w``."""
    rule, name = proj.plasticity, proj.name
    if rule.mu == 0.0:
        terms = [("+", "x0*y1"), ("+", "y0*x1")]
        hi = ""
    else:
        hi = "*" + _minus("w", rule.w_max)
        terms = [("+", "x0*y1*" + _minus("w", rule.w_min)), ("-", "y0*x1" + hi)]
    if rule.x_tar:
        span = 1.0 if rule.mu == 0.0 else rule.w_max - rule.w_min
        c = _pow2_literal(f"projection {name!r}: a_plus * x_tar"
                          + ("" if rule.mu == 0.0 else " / (w_max - w_min)"),
                          rule.a_plus * rule.x_tar / span)
        # potentiation a_plus (x_pre - x_tar) f_plus(w): the constant part
        terms.append(("+" if rule.mu else "-", f"({c})*y0{hi}"))
    return terms


def _rstdp_amplitudes(rule):
    """``(x1 impulse, factor of the post trace in y1)`` of an R-STDP rule."""
    span = 1.0 if rule.mu == 0.0 else rule.w_max - rule.w_min
    return rule.a_plus / span, rule.a_minus / span


def _third_factor_series(net, proj, n_steps, rewards):
    """Per-step ``y2`` (weight gain of the next step) and the constant ``y3``."""
    rule, dt = proj.plasticity, net.dt
    mod = _modulator(net, proj)
    amounts = np.zeros(n_steps + 1)
    r_bar = mod.r_bar
    for step, r in (rewards or {}).get(mod.name, ()):
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
            raise ValueError(f"reward steps must be integers, got {step!r} for signal "
                             f"{mod.name!r}")
        if not 0 <= step < n_steps:
            raise ValueError(f"reward at step {step} of signal {mod.name!r} is outside "
                             f"the run (0 <= step < {n_steps})")
        amount = r - r_bar if mod.baseline_rate is not None else r
        if mod.baseline_rate is not None:
            r_bar += mod.baseline_rate * (r - r_bar)
        amounts[step] += amount
    decay_e = np.exp(-dt / rule.tau_elig)
    if mod.phasic:  # a reward before step s + 1 acts at the end of step s
        gain = rule.lr * amounts[1:] * decay_e
    else:
        gain = np.zeros(n_steps)  # the increment over (s, s + 1), at the end of step s
        tau_p = 1.0 / (1.0 / mod.tau_dopamine + 1.0 / rule.tau_elig)
        d, level = np.exp(-dt / mod.tau_dopamine), 0.0
        per_step = tau_p * -np.expm1(-dt / tau_p)
        for s in range(n_steps):  # level at step s includes the rewards delivered at s
            level = level * d + amounts[s]
            gain[s] = rule.lr * level * per_step
    return gain, -np.expm1(-dt / rule.tau_elig)


def _modulator(net, proj):
    """The reward signal of an R-STDP projection (its own, or the network's only one)."""
    if proj.modulator is not None:
        return proj.modulator
    if len(net.modulators) == 1:
        return net.modulators[0]
    raise UnsupportedFeature(f"projection {proj.name!r}: R-STDP without a reward signal "
                             f"(net.reward_signal(...))")


#: Which neuromorph learning rules map onto Loihi's learning engine (lava-nc 0.10.0):
#: ``(rule, precision, support, how)``, support one of 'exact', 'approximate', 'no'.
#: :func:`lava_rule_support` returns it; the README's table is this one.
RULE_SUPPORT = (
    ("STDP all-to-all, additive (x_tar >= 0) or multiplicative (soft bounds, x_tar >= 0)",
     "floating point", "exact",
     "Loihi2FLearningRule; amplitudes in the trace impulses, w_min / w_max as exact "
     "constants, the same-step pre-then-post order of soft-bound updates spelled out "
     "(stdp_rule); any amplitudes; weights saturate at [w_min, w_max] after each step's "
     "summed change (the learning engine's order): weights and spikes equal to 1e-9, "
     "free-running and with weights on the bounds, for rules with clip='step'; with "
     "clip='update' (clipping between a step's pre and post updates, as Brian2) also "
     "while no first update of a step crosses a bound (the export warns)"),
    ("STDP all-to-all, additive, x_tar = 0", "fixed point", "approximate",
     "same rule on integer traces (impulse trace_impulse, 7 bits) and 8-bit weights; "
     "stochastic rounding of trace decay and weight change (unbiased, rng_seed); weights "
     "of one sign, clipped to [0, 255] (rule bounds must be w_min = 0, w_max = 255; "
     "inhibitory -255, 0); amplitudes / trace_impulse of the form m * 2**e "
     "(abs(m) <= 7, -7 <= e <= 8); neuromorph.loihi.loihi_stdp_fixed replays it bit for "
     "bit"),
    ("R-STDP all-to-all, additive or multiplicative, phasic or dopamine concentration",
     "floating point", "exact",
     "Loihi3FLearningRule: tag t = eligibility, dt = pairing - u0 t y3, dw = y2 (new t); "
     "a post-side process supplies the post trace y1, the reward gain y2 (closed form "
     "per step) and the tag decay y3 (rstdp_rule); weights saturate at [w_min, w_max] "
     "each step, as neuromorph's catch-up clips them: weights, eligibility and spikes to "
     "rounding, free-running and with weights on the bounds; x_tar > 0 needs a_plus "
     "x_tar (/ (w_max - w_min)) of the form m * 2**e"),
    ("TripletSTDP (minimal all-to-all)", "floating point", "exact",
     "Loihi2FLearningRule dw = x0 (y2 - y1) (x2 + K-) + y0 x1 (y3 + K+), all five "
     "traces, amplitudes in the impulses, K in {-1, 0, 1} (triplet_rule); weights "
     "saturate at [w_min, w_max] after each step: equal for clip='step' (as STDP)"),
    ("STDP multiplicative or with x_tar; R-STDP; TripletSTDP", "fixed point", "no",
     "not mapped to integer traces and 8-bit weights / tags (R-STDP: the tag's per-step "
     "decay and every reward step would be rounded)"),
    ("power weight dependence (exponent other than 0 or 1)", "both", "no",
     "(w_max - w)**mu is not a sum of products of traces, w and constants"),
    ("nearest-spike pairing", "both", "no",
     "Loihi traces add impulses (all-to-all); nearest pairing resets them"),
    ("plastic synapses with delays, or not whole-population all-to-all", "both", "no",
     "LearningDense has no delays, and every matrix entry learns"),
)


def lava_rule_support(markdown=False):
    """Which learning rules run on Loihi's learning engine, and how exactly.

    Parameters
    ----------
    markdown : bool
        Return the table as Markdown text instead.

    Returns
    -------
    list of dict or str
        One dict per row of :data:`RULE_SUPPORT` with keys ``rule``, ``precision``,
        ``support`` ('exact', 'approximate' or 'no') and ``how``.
    """
    rows = [dict(zip(("rule", "precision", "support", "how"), row)) for row in RULE_SUPPORT]
    if not markdown:
        return rows
    lines = ["| rule | precision | on Loihi | how |", "|---|---|---|---|"]
    lines += [f"| {r['rule']} | {r['precision']} | {r['support']} | {r['how']} |" for r in rows]
    return "\n".join(lines)


# -- export -------------------------------------------------------------------------------
@dataclass
class LavaNetwork:
    """Lava processes of a network built by :func:`to_lava`.

    Attributes
    ----------
    neurons : dict
        Population name -> ``lava.proc.lif.process.LIF``.
    sources : dict
        Input population name -> ``RingBuffer`` source (spike times or Poisson trains
        pre-drawn for ``n_steps`` steps).
    connections : dict
        Projection name -> list of Lava connection processes (fixed point: the
        excitatory one first, then the inhibitory one, each only if present).
    recorders : dict
        Population name -> recorder process (monitored LoihiLIF populations).
    fixed_point : bool
        Precision the processes run in (``Loihi2SimCfg`` tag ``fixed_pt`` or
        ``floating_pt``).
    n_steps : int
        Number of steps the inputs and recorders were built for.
    net : Network
        The exported network (read, never modified).
    plastic : dict
        Plastic projection name -> its ``LearningDense`` process.
    input_spikes : dict
        Input population name -> ``(steps, local indices)`` replayed by its source.
    third_factors : dict
        R-STDP projection name -> its post-side third-factor process (see
        :func:`rstdp_rule`).
    learning : str
        'float' or 'fixed': the learning engine's arithmetic (see :func:`to_lava`).

    Processes can be adjusted before :meth:`run` (e.g. a ``Var``'s ``init``); the run
    happens in a forked worker, which sees them as they are at that moment.
    """

    net: Network
    neurons: dict
    sources: dict
    connections: dict
    recorders: dict
    fixed_point: bool
    n_steps: int
    plastic: dict = field(repr=False, default_factory=dict)
    input_spikes: dict = field(repr=False, default_factory=dict)
    third_factors: dict = field(repr=False, default_factory=dict)
    learning: str = "float"
    _dir: str = field(repr=False, default="")

    def run(self, timeout=None):
        """Run all ``n_steps`` steps in a watched worker process (see the module notes).

        Parameters
        ----------
        timeout : float, optional
            Wall-clock limit (s) for compiling and running; ``None``: no limit.

        Returns
        -------
        LavaResult
        """
        return _run_watched(self, timeout)


@dataclass
class LavaResult:
    """Outcome of :func:`run_lava`.

    Attributes
    ----------
    monitors : list
        For each spike, state and rate monitor of ``net.monitors`` (same order), a new
        monitor object of the same class holding what Lava produced.
    state : dict
        Population name -> ``{'v': array, 'u': array}`` after the last step, for
        populations that have a state monitor.
    wall_s : float
        Wall-clock time of Lava's run loop only (s).
    build_s : float
        Wall-clock time of compiling and starting Lava's processes (s).
    weights : dict
        Plastic projection name -> learned weights after the run, in neuromorph's
        synapse order (``proj.sources``, ``proj.targets``).
    eligibility : dict
        R-STDP projection name -> eligibility after the run (Lava's tag ``t``), in the
        same order.
    worker_pid : int
        Id (and process group) of the worker process that ran Lava (gone now).
    segments : list of str
        Names of the shared-memory segments Lava used (all released now).
    """

    monitors: list
    state: dict
    wall_s: float
    build_s: float
    weights: dict = field(default_factory=dict)
    eligibility: dict = field(default_factory=dict)
    worker_pid: int = 0
    segments: list = field(default_factory=list)


def _input_spikes(net, pop, n_steps):
    """Steps and local indices of an input population's spikes in ``[0, n_steps)``."""
    if isinstance(pop.model, SpikeTimes):
        keep = pop.model.steps < n_steps
        return pop.model.steps[keep], pop.model.indices[keep]
    gen = PoissonBlocks(pop.model.rate, net.dt, net.seed, net.populations.index(pop))
    steps, idx = [], []
    for u0 in range(0, n_steps, 1000):
        s, i = gen.events(u0, min(u0 + 1000, n_steps))
        steps.append(s)
        idx.append(i)
    return np.concatenate(steps), np.concatenate(idx)


def _weight_blocks(pr, fixed_point):
    """Full-population ``(n_post, n_pre)`` weight and delay matrices, split by sign."""
    n_pre, n_post = pr.pre.population.size, pr.post.population.size
    rows, cols = pr.targets + pr.post.start, pr.sources + pr.pre.start
    masks = [pr.w >= 0, pr.w < 0] if fixed_point else [np.ones(pr.n_synapses, bool)]
    out = []
    for m in masks:
        if not m.any():
            continue
        w = np.zeros((n_post, n_pre))
        d = np.zeros((n_post, n_pre), np.int64)
        np.add.at(w, (rows[m], cols[m]), pr.w[m])
        d[rows[m], cols[m]] = pr.delay_steps[m]
        out.append((w, d))
    return out


def _sign_mode(pr, fixed_learning, L):
    """``sign_mode`` keyword of a plastic projection's ``LearningDense``.

    Fixed point: one sign always (Lava's default, MIXED, floors weights to even and
    clips them to [-256, 255]). Floating point: sign mode EXCITATORY (``max(0, w)``)
    when ``w_min = 0`` with non-negative weights, INHIBITORY when ``w_max = 0``; the
    rule's own bounds are applied after it (``weight_bounds``).
    """
    rule, w = pr.plasticity, pr.w
    lo, hi = (w.min(), w.max()) if pr.n_synapses else (0.0, 0.0)
    if fixed_learning:
        negative = lo < 0 or (hi == 0 and rule.w_max <= 0)
        return {"sign_mode": L.SignMode.INHIBITORY if negative else L.SignMode.EXCITATORY}
    if rule.w_min == 0 and lo >= 0:
        return {"sign_mode": L.SignMode.EXCITATORY}
    if rule.w_max == 0 and hi <= 0:
        return {"sign_mode": L.SignMode.INHIBITORY}
    return {}


def _warn_clip_schedule(pr):
    """Float STDP: Lava's learning engine clips once per step (neuromorph's ``clip='step'``)."""
    rule = pr.plasticity
    if rule.clip == "update" and rule.mu == 0.0:
        warnings.warn(
            f"projection {pr.name!r}: its rule clips weights after each update "
            f"(clip='update'), Lava's learning engine once per step after summing the "
            f"step's changes; the two differ when a synapse sees a pre and a post spike in "
            f"one step and its first update crosses w_min or w_max. Use clip='step' in the "
            f"rule for the same spikes and weights in both", UserWarning, stacklevel=3)


def to_lava(net, duration, *, connection="dense", learning="float",
            trace_impulse=TRACE_IMPULSE, rng_seed=0, rewards=None):
    """Build Lava processes equivalent to ``net`` for a run of ``duration`` ms.

    Parameters
    ----------
    net : Network
        A network of LoihiLIF populations and spike inputs (see the module notes).
    duration : float
        Length of the run (ms, a multiple of ``net.dt``): inputs and recorders are
        laid out for it.
    connection : {'dense', 'sparse'}
        Lava connection process for delay-free projections.
    learning : {'float', 'fixed'}
        Arithmetic of the plastic projections (``LearningDense``): Lava's floating-point
        learning engine (exact for the rules of :func:`lava_rule_support`), or its
        fixed-point, bit-approximate one (integer traces, 8-bit integer weights,
        stochastic rounding; STDP only, see :func:`stdp_rule`). Neurons keep their own
        precision (neuromorph runs no plasticity onto fixed-point LoihiLIF neurons).
    trace_impulse : int
        Fixed-point learning: integer trace value of neuromorph's trace 1 (1-127).
    rng_seed : int
        Seed of Lava's stochastic rounding in fixed-point learning.
    rewards : dict, optional
        Reward signal name -> sequence of ``(step, reward)``: the rewards R-STDP
        projections receive, each delivered before ``step`` runs, as
        ``signal.deliver(reward)`` with ``net.step == step`` would (baseline included).

    Returns
    -------
    LavaNetwork
    """
    from .._checks import steps as to_steps
    fixed = _check_network(net, connection, trace_impulse, learning)
    unknown = sorted(set(rewards or {}) - {m.name for m in net.modulators})
    if unknown:
        raise ValueError(f"rewards names no reward signal of the network: {unknown}")
    if isinstance(rng_seed, bool) or not isinstance(rng_seed, (int, np.integer)) or rng_seed < 0:
        raise ValueError(f"rng_seed must be a non-negative integer, got {rng_seed!r}")
    n_steps = to_steps("duration", duration, net.dt, minimum=1)
    L = _lava()
    out = LavaNetwork(net, {}, {}, {}, {}, fixed, n_steps, learning=learning)
    # created by run(), removed after it: an unrun export leaves nothing on disk
    out._dir = os.path.join(tempfile.gettempdir(), f"neuromorph-lava-{uuid.uuid4().hex}")
    for p in net.populations:
        if p.is_loihi:
            m = p.model
            cast = (lambda x: np.rint(x).astype(np.int32)) if fixed else (lambda x: x.copy())
            out.neurons[p.name] = L.LIF(shape=(p.size,), u=cast(p.state["u"]),
                                        v=cast(p.state["v"]), du=m.du, dv=m.dv, vth=m.vth,
                                        bias_mant=m.bias_mant, bias_exp=m.bias_exp,
                                        name=p.name)
        else:
            steps, idx = _input_spikes(net, p, n_steps)
            data = np.zeros((p.size, n_steps), np.int32 if fixed else np.float64)
            data[idx, steps] = 1
            out.sources[p.name] = L.RingBuffer(data=data)
            out.input_spikes[p.name] = (steps, idx)
    ports = {name: proc.s_out for name, proc in {**out.neurons, **out.sources}.items()}
    for pr in net.projections:
        procs = []
        if pr.plasticity is not None:
            lif = out.neurons[pr.post.population.name]
            r = pr.plasticity
            (w, _), = _weight_blocks(pr, False)
            if isinstance(r, RSTDP):
                dt_str, dw_str = rstdp_rule(pr, learning == "fixed")
                a_plus, a_minus = _rstdp_amplitudes(r)
                rule = L.Loihi3FLearningRule(dt=dt_str, dw=dw_str, x1_impulse=a_plus,
                                             x1_tau=r.tau_pre / net.dt, t_epoch=1)
                conn = L.LearningDense(weights=w, learning_rule=rule, name=pr.name,
                                       weight_bounds=(r.w_min, r.w_max),
                                       **_sign_mode(pr, False, L))
                gain, y3 = _third_factor_series(net, pr, n_steps, rewards)
                third = L.ThirdFactor(shape=lif.s_out.shape,
                                      decay_post=np.exp(-net.dt / r.tau_post),
                                      a_minus=a_minus, gain=gain, y3=y3)
                lif.s_out.connect(third.s_in)
                third.s_bap.connect(conn.s_in_bap)
                third.y1_out.connect(conn.s_in_y1)
                third.y2_out.connect(conn.s_in_y2)
                third.y3_out.connect(conn.s_in_y3)
                out.third_factors[pr.name] = third
            elif isinstance(r, TripletSTDP):
                dw_str, imp = triplet_rule(pr, learning == "fixed")
                _warn_clip_schedule(pr)
                rule = L.Loihi2FLearningRule(
                    dw=dw_str, x1_tau=r.tau_plus / net.dt, x2_tau=r.tau_x / net.dt,
                    y1_tau=r.tau_minus / net.dt, y2_tau=1e-3, y3_tau=r.tau_y / net.dt,
                    t_epoch=1, **imp)
                conn = L.LearningDense(weights=w, learning_rule=rule, name=pr.name,
                                       weight_bounds=(r.w_min, r.w_max),
                                       **_sign_mode(pr, False, L))
                lif.s_out.connect(conn.s_in_bap)
            else:
                fixed_lrn = learning == "fixed"
                if not fixed_lrn:
                    _warn_clip_schedule(pr)
                if fixed_lrn:  # amplitudes in dw
                    dw_str = stdp_rule(pr, True, trace_impulse)
                    imp = dict(x1_impulse=trace_impulse, y1_impulse=trace_impulse,
                               y2_impulse=trace_impulse, y3_impulse=0.0)
                else:  # amplitudes in the impulses
                    dw_str, imp = _stdp_float(pr)
                rule = L.Loihi2FLearningRule(
                    dw=dw_str, x1_tau=r.tau_pre / net.dt, x2_tau=r.tau_pre / net.dt,
                    y1_tau=r.tau_post / net.dt,
                    y2_tau=1e-3, y3_tau=1e-3,  # exp(-1000) == 0: this step's spike only
                    t_epoch=1, rng_seed=rng_seed, **imp)
                if fixed_lrn:
                    w = np.rint(w).astype(np.int32)
                conn = L.LearningDense(weights=w, learning_rule=rule, name=pr.name,
                                       weight_bounds=None if fixed_lrn else (r.w_min, r.w_max),
                                       **_sign_mode(pr, fixed_lrn, L))
                lif.s_out.connect(conn.s_in_bap)
            ports[pr.pre.population.name].connect(conn.s_in)
            conn.a_out.connect(lif.a_in)
            out.connections[pr.name] = [conn]
            out.plastic[pr.name] = conn
            continue
        for w, d in _weight_blocks(pr, fixed):
            if d.any():
                conn = L.DelayDense(weights=w, delays=d, name=pr.name)
            elif connection == "sparse":
                import scipy.sparse as sp
                conn = L.Sparse(weights=sp.csr_matrix(w), name=pr.name)
            else:
                conn = L.Dense(weights=w, name=pr.name)
            ports[pr.pre.population.name].connect(conn.s_in)
            conn.a_out.connect(out.neurons[pr.post.population.name].a_in)
            procs.append(conn)
        out.connections[pr.name] = procs
    monitored = {}
    for m in net.monitors:
        pop = m.target.population
        if pop.is_loihi:
            monitored[pop.name] = monitored.get(pop.name, False) or isinstance(m, StateMonitor)
    for name, read_state in monitored.items():
        lif = out.neurons[name]
        rec = L.Recorder(shape=lif.s_out.shape, path=os.path.join(out._dir, f"{name}.npz"),
                         n_steps=n_steps, read_state=read_state)
        lif.s_out.connect(rec.s_in)
        rec.v_ref.connect_var(lif.v)
        rec.u_ref.connect_var(lif.u)
        out.recorders[name] = rec
    return out


# -- running ------------------------------------------------------------------------------
def run_lava(net, duration, *, fixed_point=None, connection="dense", timeout=None,
             learning="float", trace_impulse=TRACE_IMPULSE, rng_seed=0, rewards=None):
    """Run ``net`` for ``duration`` ms in Lava's CPU simulation of Loihi 2.

    Parameters
    ----------
    net : Network
        LoihiLIF populations, spike sources / Poisson inputs, static projections.
    duration : float
        Simulated time (ms, a multiple of ``net.dt``; one step is one Loihi step).
    fixed_point : bool, optional
        Precision to run in; must match the populations' ``fixed_point`` (default:
        theirs).
    connection : {'dense', 'sparse'}
        Lava connection process for delay-free projections.
    timeout : float, optional
        Wall-clock limit (s); the run is stopped and :class:`LavaRuntimeError` raised.
    learning, trace_impulse, rng_seed, rewards
        Learning options, see :func:`to_lava`.

    Returns
    -------
    LavaResult

    Raises
    ------
    UnsupportedFeature
        For parts of the network Lava cannot run (before anything is built).
    LavaRuntimeError
        When a Lava process fails in its child process (with its traceback).
    """
    fixed = _check_network(net, connection, trace_impulse, learning)
    if fixed_point is not None and bool(fixed_point) != fixed:
        have = "fixed" if fixed else "floating"
        raise UnsupportedFeature(f"fixed_point={fixed_point} but the network's LoihiLIF "
                                 f"populations are {have} point; build them with "
                                 f"fixed_point={fixed_point}")
    model = to_lava(net, duration, connection=connection, learning=learning,
                    trace_impulse=trace_impulse, rng_seed=rng_seed, rewards=rewards)
    return model.run(timeout)


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run_watched(model, timeout):
    # Lava's shared memory registers with multiprocessing's resource tracker: start it
    # here, so the worker shares ours instead of leaving an orphan of its own behind
    resource_tracker.ensure_running()
    ctx = mp.get_context("fork")
    os.makedirs(model._dir, exist_ok=True)
    recv, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_worker, args=(model, send), name="neuromorph-lava")
    t0 = time.perf_counter()
    try:
        worker.start()
        send.close()
        msg = None
        while msg is None:
            if recv.poll(0.05):
                try:
                    msg = recv.recv()
                except EOFError:
                    msg = ("died", None, [])
            elif not worker.is_alive():
                msg = ("died", None, [])
            elif timeout is not None and time.perf_counter() - t0 > timeout:
                msg = ("timeout", None, [])
        worker.join(2.0)
        if msg[0] != "ok":
            err = LavaRuntimeError(
                f"a Lava process failed in its child process:\n{msg[1]}" if msg[0] == "error"
                else f"the Lava run exceeded timeout={timeout} s and was killed"
                if msg[0] == "timeout"
                else f"the Lava worker process died (exit code {worker.exitcode})")
            err.worker_pid, err.segments = worker.pid, msg[2]
            raise err
        result = _collect(model, *msg[1])
        result.worker_pid, result.segments = worker.pid, msg[2]
        return result
    finally:
        recv.close()
        if worker.pid is not None:
            _kill_group(worker.pid)  # a no-op after a clean exit
            worker.join(2.0)
        shutil.rmtree(model._dir, ignore_errors=True)


def _actor_failure(actors):
    """Traceback of the first failed Lava child, or None while all are healthy."""
    for a in actors:
        try:
            exc = a.exception
        except (OSError, EOFError, ValueError):
            exc = None
        if exc:
            return exc[1]
        if a.exitcode not in (None, 0):
            return f"Lava child process {a.name} (pid {a.pid}) died with exit code {a.exitcode}"
    return None


def _segment_names(runtime):
    """Names of the shared-memory segments of Lava's channels (read before stopping)."""
    smm = runtime._messaging_infrastructure.smm
    handles = getattr(smm, "_shared_memory_handles", []) if smm is not None else []
    return [h.name for h in handles]


def _release_segments(names):
    """Backstop after Lava's own release: on a loaded machine the shared-memory server
    may miss its 1 s shutdown deadline and be terminated before unlinking everything."""
    for name in names:
        path = os.path.join("/dev/shm", name.lstrip("/"))
        if os.path.exists(path):
            try:
                os.unlink(path)
                resource_tracker.unregister("/" + name.lstrip("/"), "shared_memory")
            except OSError:
                pass


def _teardown(runtime):
    """Stop a broken runtime without waiting on it: kill children, free shared memory."""
    names = _segment_names(runtime)
    mi = runtime._messaging_infrastructure
    for a in mi.actors:
        if a.is_alive():
            a.kill()
    for a in mi.actors:
        a._popen.wait(1.0) if a._popen is not None else None
    if mi.smm is not None:
        mi.smm.shutdown()
    _release_segments(names)
    try:
        runtime._watchdog_manager.stop()
    except Exception:  # noqa: BLE001 - best effort on a broken runtime
        pass
    runtime._is_started = False  # lets Runtime.__del__ skip its blocking stop()
    return names


def _worker(model, conn):
    """Body of the forked worker: compile, run and watch the Lava processes."""
    os.setpgid(0, 0)  # our own process group: the parent can kill the whole tree
    mp.set_start_method("fork", force=True)
    runtime = None
    try:
        L = _lava()
        procs = list(model.neurons.values()) + list(model.sources.values())
        anchor = procs[0]
        cfg = L.Loihi2SimCfg(select_tag="fixed_pt" if model.fixed_point else "floating_pt",
                             exception_proc_model_map={
                                 **{rec: L.RecorderModel for rec in model.recorders.values()},
                                 **{p: L.ThirdFactorModel
                                    for p in model.third_factors.values()},
                                 **({p: L.LearningDenseFixed for p in model.plastic.values()}
                                    if model.learning == "fixed" else
                                    {p: L.LearningDenseFloat for p in model.plastic.values()})})
        t0 = time.perf_counter()
        anchor.create_runtime(run_cfg=cfg)
        runtime = anchor.runtime
        build_s = time.perf_counter() - t0
        failure = _actor_failure(runtime._messaging_infrastructure.actors)
        if failure is None:
            t0 = time.perf_counter()
            anchor.run(condition=L.RunSteps(num_steps=model.n_steps, blocking=False))
            failure = _wait(runtime)
            wall_s = time.perf_counter() - t0
        if failure is not None:
            conn.send(("error", failure, _teardown(runtime)))
            return
        weights = {name: np.asarray(proc.weights.get()) for name, proc in model.plastic.items()}
        weights.update({(name, "tag"): np.asarray(model.plastic[name].tag_1.get())
                        for name in model.third_factors})
        names = _segment_names(runtime)
        anchor.stop()
        _release_segments(names)
        conn.send(("ok", (build_s, wall_s, weights), names))
    except BaseException:  # noqa: BLE001 - everything goes back to the parent
        tb = traceback.format_exc()
        conn.send(("error", tb, _teardown(runtime) if runtime is not None else []))
    finally:
        conn.close()
        os._exit(0)  # skip lava's atexit / __del__ handlers, which can block


def _wait(runtime):
    """Poll until every runtime service reports done, or a child fails."""
    actors = runtime._messaging_infrastructure.actors
    ports = runtime.service_to_runtime
    while True:
        if all(p.probe() for p in ports):
            runtime.wait()
            return None
        failure = _actor_failure(actors)
        if failure is not None:
            return failure
        time.sleep(0.01)


def _collect(model, build_s, wall_s, weights):
    net = model.net
    rec = {}
    for name in model.recorders:
        with np.load(os.path.join(model._dir, f"{name}.npz")) as f:
            rec[name] = {k: f[k] for k in f.files}
    pops = {p.name: p for p in net.populations}
    out, state = [], {}
    for m in net.monitors:
        pop, lo = m.target.population, m.target.start
        if pop.is_loihi:
            steps, gidx = rec[pop.name]["steps"], rec[pop.name]["idx"]
        else:
            steps, gidx = model.input_spikes[pop.name]
            order = np.lexsort((gidx, steps))
            steps, gidx = steps[order], gidx[order]
        if isinstance(m, SpikeMonitor):
            new = SpikeMonitor(net, m.target)
            new._record(steps.astype(np.int64), gidx.astype(np.int64), lo)
        elif isinstance(m, RateMonitor):
            new = RateMonitor(net, m.target)
            keep = (gidx >= lo) & (gidx < m.target.stop)
            new._record(np.arange(model.n_steps, dtype=np.int64),
                        np.bincount(steps[keep], minlength=model.n_steps).astype(np.int64))
        elif isinstance(m, StateMonitor):
            new = StateMonitor(net, m.target, m.var, m.record, m.every)
            r = rec[pop.name]
            after = r[m.var]  # value after each step 1..n: the start of steps 1..n
            series = np.vstack([pops[pop.name].state[m.var][None, :], after[:-1]])
            at = np.arange(0, model.n_steps, m.every)
            new._record(at.astype(np.int64), series[at][:, lo + m.record])
            state[pop.name] = {"v": r["v"][-1].copy(), "u": r["u"][-1].copy()}
        else:  # pragma: no cover - rejected by _check_network
            raise UnsupportedFeature(type(m).__name__)
        new._start_step = 0
        out.append(new)
    learned, elig = {}, {}
    for pr in net.projections:
        if pr.name in weights:  # back to neuromorph's synapse order
            at = (pr.targets + pr.post.start, pr.sources + pr.pre.start)
            learned[pr.name] = weights[pr.name][at]
            if pr.name in model.third_factors:  # brought up to the end of the run, as
                tag = weights[(pr.name, "tag")][at]  # neuromorph does after the last step
                elig[pr.name] = tag * np.exp(-net.dt / pr.plasticity.tau_elig)
    return LavaResult(out, state, wall_s, build_s, learned, elig)


__all__ = ["to_lava", "run_lava", "stdp_rule", "rstdp_rule", "triplet_rule", "lava_rule_support",
           "TRACE_IMPULSE", "LavaNetwork", "LavaResult", "UnsupportedFeature",
           "LavaRuntimeError"]
