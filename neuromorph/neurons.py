"""Neuron models and input groups: validated parameter descriptions (pure data).

The dynamics live in :mod:`neuromorph.kernels.lif`; these classes only describe
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
    """

    tau_m: float = 20.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_th: float = -50.0
    t_ref: float = 0.0
    tau_syn_exc: float = 5.0
    tau_syn_inh: float = 5.0

    def __post_init__(self):
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
