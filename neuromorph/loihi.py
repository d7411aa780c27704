r"""Conversion of a continuous-LIF network to Loihi CUBA neurons (:class:`LoihiLIF`).

:func:`to_loihi` rebuilds a network with every :class:`~neuromorph.neurons.LIF`
population replaced by a :class:`~neuromorph.neurons.LoihiLIF` one; inputs (spike
sources, Poisson groups with the same seed, hence the same trains), projections,
delays and names are kept, so the result runs in neuromorph and in Lava
(:mod:`neuromorph.backends.lava`).

Mapping. With ``E_m = exp(-dt/tau_m)``, ``E_s = exp(-dt/tau_syn)`` and the exact
current gain ``c = tau_s / (tau_s - tau_m) (E_s - E_m)`` of
:mod:`neuromorph.kernels.lif`, the LIF step ``v' <- v' E_m + c I``, ``I <- I E_s +
w`` (``v' = v - v_rest``) is Loihi's step ``u <- u (1 - du) + a_in``, ``v <- v (1 - dv)
+ u`` with ``u = c I``::

    dv = 1 - E_m,  du = 1 - E_s,  vth = v_th - v_rest,  weight -> c w,  bias = 0

Loihi's ``Dense`` delivers one step after the spike, which is exactly when the LIF
engine's delay-0 spike first reaches ``v``, so delays are kept. In **floating point**
the conversion is exact up to rounding: the same spikes, ``v = v_LIF - v_rest``.

In **fixed point** voltages are scaled by ``s`` (Lava units per mV, per population,
the largest that keeps every incoming weight within ``max_weight`` and ``vth`` within
17 bits) and rounded::

    w_int = round(s c w / 64),  vth = round(s (v_th - v_rest) / 64),
    du = round(4095 - 4096 E_s),  dv = round(4096 (1 - E_m))

This quantises weights (relative error up to ``0.5 / max|w_int|``), decays
(``1/4096``) and the threshold, and Loihi truncates ``u`` and ``v`` every step.
Measured on the reference network of ``tests/test_loihi_convert.py`` (Poisson and
spike-source inputs -> 50 LIF -> 20 LIF, 1000 steps of 0.5 ms, weights scaled to
+-255): the voltage error before the first spike stays below 0.02 mV (threshold 13 mV
above rest); spike counts differ by < 0.5 %; of the first layer's spikes 70 % fall on
the same step and 82 % within one step (:func:`spike_agreement`), of the second
layer's -- which inherits the first layer's shifts -- 23 % and 51 % (69 % within two
steps). With recurrent connections (inhibitory feedback, mixed-sign recurrent
excitation) counts still agree within 1 %, but single spike times decorrelate
(about 50 % within one step), as any perturbation of a recurrent network does.

Not converted (``ValueError`` naming the population or projection): refractory
periods (Loihi has none), ``v_reset != v_rest`` (Loihi resets to rest),
``tau_syn_exc != tau_syn_inh`` (Loihi has one current), step currents, plasticity.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .kernels.lif import _current_gain
from .network import Network
from .neurons import LIF, PoissonInput, SpikeTimes


@dataclass
class Conversion:
    """What :func:`to_loihi` did.

    Attributes
    ----------
    net : Network
        The converted network (not yet run).
    scale : dict
        Population name -> voltage scale: Lava units per mV (1.0 in floating point).
    v_rest : dict
        Population name -> the LIF's ``v_rest`` (mV): ``v_LIF = v_rest + v / scale``.
    """

    net: Network
    scale: dict
    v_rest: dict


def _check(net):
    if not isinstance(net, Network):
        raise TypeError(f"net must be a neuromorph Network, got {type(net).__name__}")
    if net.currents:
        raise ValueError("step currents (net.current) are not converted: Loihi neurons "
                         "take a constant bias only")
    for p in net.populations:
        m = p.model
        if not isinstance(m, LIF):
            continue
        if m.t_ref != 0:
            raise ValueError(f"population {p.name!r}: t_ref = {m.t_ref} ms, but Loihi neurons "
                             f"have no refractory period (t_ref must be 0)")
        if m.v_reset != m.v_rest:
            raise ValueError(f"population {p.name!r}: Loihi resets to rest; v_reset must equal "
                             f"v_rest, got {m.v_reset} and {m.v_rest} mV")
        if m.tau_syn_exc != m.tau_syn_inh:
            raise ValueError(f"population {p.name!r}: Loihi has one synaptic current; "
                             f"tau_syn_exc must equal tau_syn_inh, got {m.tau_syn_exc} and "
                             f"{m.tau_syn_inh} ms")
    for pr in net.projections:
        if pr.plasticity is not None:
            raise ValueError(f"projection {pr.name!r} is plastic: not converted")


def to_loihi(net, *, fixed_point=False, max_weight=255):
    """Rebuild ``net`` with LoihiLIF neurons (see the module notes for the mapping).

    Parameters
    ----------
    net : Network
        A network that has not been modified by a run (initial state is read).
    fixed_point : bool
        Bit-accurate integer neurons (weights scaled and rounded) or floating point
        (exact up to rounding).
    max_weight : int
        Largest integer weight magnitude in fixed point, in [1, 255].

    Returns
    -------
    Conversion
    """
    _check(net)
    if not isinstance(fixed_point, bool):
        raise TypeError(f"fixed_point must be a bool, got {type(fixed_point).__name__}")
    if isinstance(max_weight, bool) or not isinstance(max_weight, (int, np.integer)) \
            or not 1 <= max_weight <= 255:
        raise ValueError(f"max_weight must be an integer in [1, 255], got {max_weight!r}")
    dt = net.dt
    gain, scale, v_rest = {}, {}, {}
    for p in net.populations:
        if isinstance(p.model, LIF):
            m = p.model
            gain[p.name] = _current_gain(dt, m.tau_m, m.tau_syn_exc)
            v_rest[p.name] = m.v_rest
            if not fixed_point:
                scale[p.name] = 1.0
                continue
            w_max = max([np.abs(pr.w).max() for pr in net.projections
                         if pr.post.population is p and pr.n_synapses] or [0.0])
            limit = (2**17 - 1) * 64 / (m.v_th - m.v_rest) if m.v_th > m.v_rest else np.inf
            by_w = max_weight * 64 / (gain[p.name] * w_max) if w_max > 0 else np.inf
            s = min(limit, by_w)
            scale[p.name] = s if np.isfinite(s) else 64.0
    out = Network(dt=dt, seed=net.seed)
    for p in net.populations:
        m = p.model
        if isinstance(m, LIF):
            e_m, e_s = np.exp(-dt / m.tau_m), np.exp(-dt / m.tau_syn_exc)
            s, c = scale[p.name], gain[p.name]
            v0 = (p.state["v"] - m.v_rest) * s
            u0 = (p.state["I_exc"] + p.state["I_inh"]) * c / e_s * s
            if fixed_point:
                out.loihi_lif(p.size, du=int(np.clip(np.rint(4095 - 4096 * e_s), 0, 4095)),
                              dv=int(np.clip(np.rint(4096 * (1 - e_m)), 0, 4095)),
                              vth=int(np.clip(np.rint(s * (m.v_th - m.v_rest) / 64), 0,
                                              2**17 - 1)),
                              fixed_point=True, v_init=np.clip(np.rint(v0), -2**23 + 1,
                                                               2**23 - 1),
                              u_init=np.clip(np.rint(u0), -2**23 + 1, 2**23 - 1), name=p.name)
            else:
                out.loihi_lif(p.size, du=1 - e_s, dv=1 - e_m, vth=m.v_th - m.v_rest,
                              v_init=v0, u_init=u0, name=p.name)
        elif isinstance(m, PoissonInput):
            out.poisson(p.size, rate=np.array(m.rate), name=p.name)
        elif isinstance(m, SpikeTimes):
            out.spike_source(p.size, indices=m.indices, times=m.steps * dt, name=p.name)
        else:
            raise TypeError(f"population {p.name!r}: cannot convert {type(m).__name__}")
    pops = {p.name: p for p in out.populations}
    for pr in net.projections:
        post = pr.post.population
        w = pr.w * gain[post.name]
        if fixed_point:
            w = np.rint(w * scale[post.name] / 64)
        pre = pops[pr.pre.population.name][pr.pre.start:pr.pre.stop]
        tgt = pops[post.name][pr.post.start:pr.post.stop]
        keep = w != 0  # a weight rounded to zero is no synapse
        shape = (pr.pre.size, pr.post.size)
        matrix = sp.csr_matrix((w[keep], (pr.sources[keep], pr.targets[keep])), shape=shape)
        delay = np.zeros(shape)
        delay[pr.sources, pr.targets] = pr.delay_steps * dt
        out.connect(pre, tgt, matrix=matrix, delay=delay, name=pr.name)
    return Conversion(out, scale, v_rest)


def spike_agreement(steps_a, idx_a, steps_b, idx_b, tolerance=1):
    """Fraction of spikes of ``a`` with a spike of the same neuron in ``b`` within
    ``tolerance`` steps (each spike of ``b`` matched at most once, greedily in time).
    """
    matched = 0
    for n in np.union1d(idx_a, idx_b):
        ta, tb = np.sort(steps_a[idx_a == n]), list(np.sort(steps_b[idx_b == n]))
        for t in ta:
            near = [k for k, x in enumerate(tb) if abs(x - t) <= tolerance]
            if near:
                tb.pop(min(near, key=lambda k: abs(tb[k] - t)))
                matched += 1
    return matched / max(len(steps_a), 1)


__all__ = ["to_loihi", "Conversion", "spike_agreement"]
