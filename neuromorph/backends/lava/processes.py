"""Lava process classes and process models of the backend: spike/state recorders, the
R-STDP post-side companion, and the float ``LearningDense`` model whose weights saturate
at the rule's bounds (built when lava is imported, :func:`neuromorph.backends.lava.compat._lava`).
"""
from __future__ import annotations

import numpy as np

from .rules import _ELIG_TAU_3F


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
