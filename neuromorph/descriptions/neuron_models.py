"""Descriptions of the neuron models and input groups of :mod:`neuromorph.neurons`."""
from __future__ import annotations

import numpy as np

from ..neurons import (LIF, LOIHI_BIAS_EXP, LOIHI_BIAS_MANT, LoihiLIF, PoissonInput,
                       SpikeTimes)
from .base import (POP_LIF, POP_LOIHI_FIXED, POP_LOIHI_FLOAT, NEURON_COLUMNS,
                   NeuronDescription, Parameter, Variable, current_gain, register)

_UNITY = 4096    # Loihi's decay unit (fixed point)
_ACT_SHIFT = 6   # Loihi MSB-aligns synaptic input and threshold by 6 bits


class LIFDescription(NeuronDescription):
    """Continuous LIF with current-based exponential synapses, integrated exactly."""

    name = "LIF"
    cls = LIF
    parameters = (
        Parameter("tau_m", "ms", "membrane time constant"),
        Parameter("v_rest", "mV", "resting potential"),
        Parameter("v_reset", "mV", "reset potential"),
        Parameter("v_th", "mV", "threshold"),
        Parameter("t_ref", "ms", "refractory period (a multiple of dt)"),
        Parameter("tau_syn_exc", "ms", "decay of the excitatory current"),
        Parameter("tau_syn_inh", "ms", "decay of the inhibitory current"),
        Parameter("theta_plus", "mV", "threshold raise per spike (adaptive threshold)"),
        Parameter("tau_theta", "ms", "decay of the threshold raise (inf: none)"),
        Parameter("theta_frozen", "bool", "threshold v_th + theta with theta held constant "
                  "(per-neuron thresholds)"),
    )
    state = (
        Variable("v", "mV", "membrane potential", monitor=True, saved=True),
        Variable("I_exc", "mV", "excitatory synaptic current", monitor=True, saved=True),
        Variable("I_inh", "mV", "inhibitory synaptic current", monitor=True, saved=True),
        Variable("ref", "steps", "refractory counter", dtype=np.int32, saved=True),
        Variable("I_ext", "mV", "step currents (rebuilt from net.currents)"),
        Variable("theta", "mV", "adaptive threshold raise", monitor=True, saved=True),
    )
    simulated = True
    kernel = "neuromorph.kernels.lif"
    kernel_kinds = {"POP_LIF": POP_LIF}
    current_input = True
    file_kind = "lif"
    brian2 = "lif"
    lava_hint = ("is a continuous LIF: Lava runs Loihi's CUBA neuron; convert the network "
                 "with neuromorph.loihi.to_loihi(net) first")
    nir = "cuba_lif"
    loihi = "convert"
    nest = "iaf_psc_exp"

    def nest_problems(self, model):
        if model.theta_plus > 0:
            return ["has an adaptive threshold (theta_plus > 0), which NEST's iaf_psc_exp "
                    "lacks"]
        if model.theta_frozen:
            return ["has frozen per-neuron thresholds (theta_frozen), which the NEST "
                    "export does not map"]
        return []

    def kernel_kind(self, model):
        return POP_LIF

    def engine_row(self, model, dt):
        """Exact-integration coefficients (``kernels.lif.coefficients``, same bits)."""
        m = model
        frozen = m.theta_frozen  # theta read, never changed: E_theta = 1, theta_plus = 0
        return np.array([
            np.exp(-dt / m.tau_m), np.exp(-dt / m.tau_syn_exc), np.exp(-dt / m.tau_syn_inh),
            current_gain(dt, m.tau_m, m.tau_syn_exc), current_gain(dt, m.tau_m, m.tau_syn_inh),
            m.v_rest, m.v_reset, m.v_th, float(int(round(m.t_ref / dt))),
            1.0 if frozen else np.exp(-dt / m.tau_theta), 0.0 if frozen else m.theta_plus,
            1.0 if frozen else 0.0], dtype=np.float64)


class LoihiLIFDescription(NeuronDescription):
    """Loihi's CUBA neuron with Lava's arithmetic, in floating or fixed point."""

    name = "LoihiLIF"
    cls = LoihiLIF
    parameters = (
        Parameter("du", "1 (float) or 1/4096 (fixed point)", "decay of the current u per step"),
        Parameter("dv", "1 (float) or 1/4096 (fixed point)", "decay of the voltage v per step"),
        Parameter("vth", "Lava units (fixed point: mantissa, times 64)", "threshold"),
        Parameter("bias_mant", "Lava units", "bias mantissa, added to v every step"),
        Parameter("bias_exp", "1", "bias exponent (fixed point; 0 in floating point)"),
        Parameter("fixed_point", "bool", "bit-accurate integer arithmetic"),
    )
    state = (
        Variable("v", "Lava units", "voltage", monitor=True, saved=True),
        Variable("u", "Lava units", "current", monitor=True, saved=True),
        Variable("I_exc", "Lava units", "excitatory input pending for the next step",
                 saved=True),
        Variable("I_inh", "Lava units", "inhibitory input pending for the next step",
                 saved=True),
        Variable("ref", "steps", "unused (engine layout)", dtype=np.int32),
        Variable("I_ext", "Lava units", "step currents: per-neuron bias added to v "
                 "(rebuilt from net.current)"),
    )
    simulated = True
    kernel = "neuromorph.kernels.loihi"
    kernel_kinds = {"POP_LOIHI_FLOAT": POP_LOIHI_FLOAT, "POP_LOIHI_FIXED": POP_LOIHI_FIXED}
    current_input = True   # a per-neuron bias on top of bias_mant << bias_exp
    loihi_semantics = True
    file_kind = "loihi_lif"
    lava = "lif"
    nest_hint = ("is Loihi's CUBA neuron (LoihiLIF), which NEST does not have; build the "
                 "network with LIF neurons (net.lif) to run it on NEST")

    def kernel_kind(self, model):
        return POP_LOIHI_FIXED if model.fixed_point else POP_LOIHI_FLOAT

    def check_current(self, model, amplitude):
        """Step currents are per-neuron biases added to ``v`` every step (Lava units);
        in fixed point integers in Lava's bias range ``[-4096 * 2**7, 4095 * 2**7]``
        (Lava: ``bias_mant << bias_exp`` per neuron)."""
        if model.fixed_point:
            lo, hi = LOIHI_BIAS_MANT[0] << LOIHI_BIAS_EXP[1], LOIHI_BIAS_MANT[1] << LOIHI_BIAS_EXP[1]
            if np.any(amplitude != np.rint(amplitude)) or amplitude.min() < lo \
                    or amplitude.max() > hi:
                raise ValueError(f"amplitude must hold integers in [{lo}, {hi}] (Lava units) "
                                 f"for fixed-point LoihiLIF neurons, got range "
                                 f"[{amplitude.min()}, {amplitude.max()}]")
        return amplitude

    def engine_row(self, model, dt):
        """``(decay factor of u, of v, effective threshold, effective bias, 0, ...)``:
        ``(1 - du, 1 - dv, vth, bias_mant)`` in floating point, ``(4095 - du, 4096 - dv,
        vth * 64, bias_mant * 2**bias_exp)`` in fixed point (``kernels.loihi.coefficients``).
        """
        row = np.zeros(len(NEURON_COLUMNS))
        if model.fixed_point:
            row[:4] = (_UNITY - 1 - model.du, _UNITY - model.dv, model.vth << _ACT_SHIFT,
                       model.bias)
        else:
            row[:4] = 1.0 - model.du, 1.0 - model.dv, model.vth, model.bias
        return row


class PoissonInputDescription(NeuronDescription):
    """Independent Poisson spike trains (input group)."""

    name = "PoissonInput"
    cls = PoissonInput
    parameters = (Parameter("rate", "Hz", "firing rate of each neuron"),)
    input_kind = "poisson"
    file_kind = "poisson"
    brian2 = "poisson"
    lava = "ring_buffer"
    nir = "input"
    loihi = "copy"
    nest = "poisson_generator"

    def to_file(self, model):
        return None, {"rate": np.asarray(model.rate)}

    def from_file(self, params, get, n):
        return PoissonInput(get("rate", (n,), "f"))

    def copy_into(self, net, pop):
        return net.poisson(pop.size, rate=np.array(pop.model.rate), name=pop.name)


class SpikeTimesDescription(NeuronDescription):
    """Neurons that fire at given steps (input group)."""

    name = "SpikeTimes"
    cls = SpikeTimes
    parameters = (Parameter("indices", "1", "neuron of each spike (within the group)"),
                  Parameter("steps", "steps of dt", "step of each spike"))
    input_kind = "spike_times"
    file_kind = "spike_source"
    brian2 = "spike_times"
    lava = "ring_buffer"
    nir = "input"
    loihi = "copy"
    nest = "spike_generator"

    def to_file(self, model):
        return None, {"indices": model.indices, "steps": model.steps}

    def from_file(self, params, get, n):
        idx = get("indices", kind="iu")
        return SpikeTimes(idx, get("steps", idx.shape, "iu"))

    def copy_into(self, net, pop):
        m = pop.model
        return net.spike_source(pop.size, indices=m.indices, times=m.steps * net.dt,
                                name=pop.name)


for _d in (LIFDescription, LoihiLIFDescription, PoissonInputDescription,
           SpikeTimesDescription):
    register(_d())
