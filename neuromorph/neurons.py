"""Neuron models and input groups: validated parameter descriptions (pure data).

The dynamics live in :mod:`neuromorph.kernels.lif` and
:mod:`neuromorph.kernels.loihi`; these classes only describe
parameters, in the units stated on each field.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import _checks


@dataclass(frozen=True)
class LIF:
    r"""Leaky integrate-and-fire neuron with current-based exponential synapses.

    .. math::

        \tau_m \frac{dv}{dt} = -(v - v_{rest}) + I_{exc} + I_{inh} + I_{ext}, \qquad
        \tau_{exc} \frac{dI_{exc}}{dt} = -I_{exc}, \qquad
        \tau_{inh} \frac{dI_{inh}}{dt} = -I_{inh}

    with a spike when ``v > v_th``, then ``v <- v_reset`` held for ``t_ref``.
    Integrated exactly on the clock (see :mod:`neuromorph.kernels.lif`).

    Parameters
    ----------
    tau_m : float
        Membrane time constant (ms), > 0.
    v_rest : float
        Resting potential (mV).
    v_reset : float
        Reset potential (mV), < ``v_th``.
    v_th : float
        Threshold (mV).
    t_ref : float
        Refractory period (ms), >= 0, a multiple of the network's ``dt``.
    tau_syn_exc, tau_syn_inh : float
        Decay time constants (ms) of the excitatory and inhibitory currents, > 0.
    theta_plus : float
        Adaptive threshold (mV), >= 0: each spike raises the threshold by
        ``theta_plus``; the raise ``theta`` decays with ``tau_theta`` (Diehl & Cook
        2015 homeostasis). 0 (default): a fixed threshold.
    tau_theta : float
        Decay time constant of ``theta`` (ms), > 0; ``inf`` (default): no decay.
    theta_frozen : bool
        Frozen per-neuron thresholds: the threshold is ``v_th + theta`` with the
        per-neuron ``theta`` (state, mV) held constant -- neither raised at a spike nor
        decayed (Diehl & Cook 2015 freeze their learned thresholds for testing). Needs
        ``theta_plus = 0``. False (default): ``theta`` is used only when
        ``theta_plus > 0``.
    """

    tau_m: float = 20.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_th: float = -50.0
    t_ref: float = 0.0
    tau_syn_exc: float = 5.0
    tau_syn_inh: float = 5.0
    theta_plus: float = 0.0
    tau_theta: float = float("inf")
    theta_frozen: bool = False

    def __post_init__(self):
        if not isinstance(self.theta_frozen, (bool, np.bool_)):
            raise TypeError(f"theta_frozen must be a bool, got "
                            f"{type(self.theta_frozen).__name__}")
        object.__setattr__(self, "theta_frozen", bool(self.theta_frozen))
        object.__setattr__(self, "theta_plus",
                           _checks.non_negative("theta_plus", self.theta_plus, "mV"))
        tau_theta = self.tau_theta
        if not (isinstance(tau_theta, (int, float)) and tau_theta == float("inf")):
            tau_theta = _checks.positive("tau_theta", tau_theta, "ms")
        object.__setattr__(self, "tau_theta", float(tau_theta))
        if self.theta_frozen and self.theta_plus > 0:
            raise ValueError(f"theta_frozen=True holds theta constant, so theta_plus must "
                             f"be 0, got theta_plus={self.theta_plus} mV")
        for name in ("tau_m", "tau_syn_exc", "tau_syn_inh"):
            object.__setattr__(self, name, _checks.positive(name, getattr(self, name), "ms"))
        for name in ("v_rest", "v_reset", "v_th"):
            object.__setattr__(self, name, _checks.real(name, getattr(self, name)))
        object.__setattr__(self, "t_ref", _checks.non_negative("t_ref", self.t_ref, "ms"))
        if self.v_reset >= self.v_th:
            raise ValueError(f"v_reset must be < v_th, got v_reset={self.v_reset} mV, "
                             f"v_th={self.v_th} mV")

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Fixed-point ranges of Loihi's CUBA neuron, as in Lava's bit-accurate LIF model.
LOIHI_DECAY_MAX = 4095          # du, dv: unsigned 12 bit
LOIHI_VTH_MAX = 2**17 - 1       # vth mantissa: unsigned 17 bit (scaled by 2**6)
LOIHI_BIAS_MANT = (-4096, 4095)  # bias mantissa: signed 13 bit
LOIHI_BIAS_EXP = (0, 7)         # bias exponent: unsigned 3 bit
LOIHI_STATE_MAX = 2**23 - 1     # u, v: signed 24 bit


def _int_in(name, value, lo, hi):
    value = _checks.integer(name, value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}] in fixed point, got {value}")
    return value


@dataclass(frozen=True)
class LoihiLIF:
    r"""Loihi's current-based LIF neuron (CUBA), with exactly Lava's arithmetic.

    Per time step (no ``dt`` appears; one step is one Loihi time step)::

        u <- u (1 - du) + a_in           a_in: sum of the weights of arriving spikes
        v <- v (1 - dv) + u + bias
        spike when v > vth, then v <- 0  (no refractory period)

    **Floating point** (``fixed_point=False``, Lava's ``PyLifModelFloat``): ``du``,
    ``dv`` in [0, 1], ``bias = bias_mant``; Lava's float model ignores ``bias_exp``,
    so it must be 0 here. ``v``, ``u``, ``vth``, ``bias_mant`` and the weights share one
    (arbitrary) unit.

    **Fixed point** (``fixed_point=True``, Lava's bit-accurate ``PyLifModelBitAcc``):
    integers throughout. ``u`` and ``v`` are 24-bit state in Lava's internal units;
    weights (integers, the 8-bit range of a Dense connection) are shifted left by 6
    bits on arrival; ``u <- trunc(u (4096 - du - 1) / 4096) + (a_in << 6)`` wrapping
    modulo ``2**24``; ``v <- trunc(v (4096 - dv) / 4096) + u + (bias_mant << bias_exp)``
    clipped to ``[-(2**23 - 1), 2**23 - 1]``; spike when ``v > vth << 6``. (``trunc``
    rounds towards zero; the ``+ 1`` on ``du`` is Lava's ``ds_offset``.)

    Parameters
    ----------
    du, dv : float or int
        Decay of the current / voltage per step: fractions in [0, 1] (float), or
        integers in [0, 4095] meaning ``d / 4096`` (fixed point).
    vth : float or int
        Threshold: any finite value (float), or the 17-bit mantissa in [0, 131071]
        (fixed point; the effective threshold is ``vth * 64``).
    bias_mant : float or int
        Constant input added to ``v`` every step: any finite value (float), or a
        13-bit mantissa in [-4096, 4095] (fixed point).
    bias_exp : int
        Bias exponent in [0, 7] (fixed point: ``bias = bias_mant * 2**bias_exp``);
        must be 0 in floating point.
    fixed_point : bool
        Integer (bit-accurate) or floating-point arithmetic.
    """

    du: float = 0
    dv: float = 0
    vth: float = 10
    bias_mant: float = 0
    bias_exp: int = 0
    fixed_point: bool = False

    def __post_init__(self):
        if not isinstance(self.fixed_point, (bool, np.bool_)):
            raise TypeError(f"fixed_point must be a bool, got {type(self.fixed_point).__name__}")
        object.__setattr__(self, "fixed_point", bool(self.fixed_point))
        if self.fixed_point:
            checked = {"du": _int_in("du", self.du, 0, LOIHI_DECAY_MAX),
                       "dv": _int_in("dv", self.dv, 0, LOIHI_DECAY_MAX),
                       "vth": _int_in("vth", self.vth, 0, LOIHI_VTH_MAX),
                       "bias_mant": _int_in("bias_mant", self.bias_mant, *LOIHI_BIAS_MANT),
                       "bias_exp": _int_in("bias_exp", self.bias_exp, *LOIHI_BIAS_EXP)}
        else:
            checked = {"du": _checks.probability("du", self.du),
                       "dv": _checks.probability("dv", self.dv),
                       "vth": _checks.real("vth", self.vth),
                       "bias_mant": _checks.real("bias_mant", self.bias_mant),
                       "bias_exp": _checks.integer("bias_exp", self.bias_exp)}
            if checked["bias_exp"] != 0:
                raise ValueError("bias_exp must be 0 in floating point (Lava's float LIF "
                                 f"ignores it; put the whole bias in bias_mant), got "
                                 f"{checked['bias_exp']}")
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @property
    def bias(self):
        """Effective bias added to ``v`` every step (Lava's internal units)."""
        if self.fixed_point:
            return self.bias_mant * 2**self.bias_exp
        return self.bias_mant

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class PoissonInput:
    """Independent Poisson spike trains, one per neuron.

    Parameters
    ----------
    rate : ndarray
        Firing rate of each neuron (Hz), finite and >= 0. In each step of ``dt`` ms
        a neuron fires with probability ``rate * dt / 1000`` (must be <= 1).
    """

    rate: np.ndarray

    def __post_init__(self):
        rate = _checks.finite_array("rate", self.rate)
        if rate.ndim != 1:
            raise ValueError(f"rate must be one-dimensional, got shape {rate.shape}")
        if np.any(rate < 0):
            raise ValueError(f"rate must be >= 0 Hz, got min {rate.min()}")
        rate.setflags(write=False)
        object.__setattr__(self, "rate", rate)


@dataclass(frozen=True)
class SpikeTimes:
    """Neurons that fire at given times.

    Parameters
    ----------
    indices : ndarray of int
        Neuron index (0-based, within the group) of each spike.
    steps : ndarray of int
        Time step of each spike (spike time in ms divided by ``dt``).
    """

    indices: np.ndarray
    steps: np.ndarray
