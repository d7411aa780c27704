r"""Loihi fixed point for the layered inference networks (:mod:`.layered`).

Each layer becomes a population of Loihi CUBA neurons (:class:`~neuromorph.neurons.LoihiLIF`,
bit-accurate, Lava's arithmetic)::

    u <- trunc(u (4095 - du) / 4096) + 64 a_in          a_in: summed 8-bit weights
    v <- trunc(v (4096 - dv) / 4096) + u,   spike when v > 64 vth, then v <- 0

The learner's layer (``v <- v E_m + I (1 - E_m)``, ``I`` held over the step and
decaying by ``E`` from step to step) maps onto it with ``dv = round(4096 (1 - E_m))``,
``du = round(4095 - 4096 E)`` (``E = 0``: ``du = 4095``, the current lasts one step)
and ``u = s I (1 - E_m)``: a layer's voltages are in Lava units, ``s`` per mV, one scale
per layer (the largest that keeps every incoming weight within 8 bits, ``|w| <= 255``,
and the threshold within 17 bits)::

    w_int = round(s W (1 - E_m) k_j / 64),   vth = round(s v_th / 64)

with ``k_j = v_th / v_th0_j`` folding neuron ``j``'s own threshold (``threshold_jitter``)
into its incoming weights (exact since these layers rest and reset at 0).

Nearest constructs for what Loihi's CUBA neuron lacks (each noted in
:attr:`LayeredSpec.notes <neuromorph.deploy.layered.LayeredSpec>`):

* an adaptive threshold (CSDP's ``theta_plus``, reset every window): dropped, the
  per-neuron base thresholds kept (Loihi 1's threshold adaptation is not in Lava's
  LIF model);
* a refractory period of more than one step: dropped (Loihi resets and integrates on
  the next step); ``t_ref = dt`` is no refractoriness at all in the core's convention,
  so nothing is lost there;
* ``v_reset != v_rest`` and two synaptic time constants do not occur in these layers.

Not mappable (:class:`~neuromorph.errors.UnsupportedFeature`, naming the layer, raised
before any network is built): held input currents (rate-coded inputs and biases;
neuromorph's LoihiLIF takes one bias per population), and a layer whose weights all
round to 0 at the largest admissible scale.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UnsupportedFeature

MAX_WEIGHT = 255
VTH_MAX = 2**17 - 1


def loihi_layers(spec):
    """Per layer: ``(loihi_lif kwargs, {edge index: integer weight matrix}, scale s)``,
    and the list of mapping notes. Raises :class:`UnsupportedFeature` naming a layer
    that cannot be mapped."""
    dt = spec.dt
    if spec.input_currents is not None:
        names = list(spec.input_currents(np.zeros((0, spec.n_inputs))))
        raise UnsupportedFeature(f"layer {names[0]!r} takes held input currents (rate-coded "
                                 f"input or biases); Loihi neurons here take one bias per "
                                 f"population, so it cannot be mapped to fixed point")
    out, notes = {}, []
    for layer in spec.layers:
        e_m = math.exp(-dt / layer.tau_m)
        decay = 0.0 if layer.tau_trace is None else math.exp(-dt / layer.tau_trace)
        k = np.ones(layer.n)
        if layer.theta0 is not None:
            k = layer.v_th / (layer.v_th + np.asarray(layer.theta0, float))
        if layer.theta_plus > 0:
            notes.append(f"layer {layer.name!r}: adaptive threshold (theta_plus = "
                         f"{layer.theta_plus:g} mV) dropped on Loihi")
        if layer.t_ref > dt * (1 + 1e-9):
            notes.append(f"layer {layer.name!r}: refractory period {layer.t_ref:g} ms "
                         f"dropped on Loihi")
        if layer.v_reset != layer.v_rest or layer.v_rest != 0.0:
            raise UnsupportedFeature(f"layer {layer.name!r}: rest and reset must be 0 for "
                                     f"Loihi, got {layer.v_rest} and {layer.v_reset} mV")
        incoming = {i: np.asarray(e.W, float) * ((1.0 - e_m) * k)[None, :]
                    for i, e in enumerate(spec.edges) if e.post == layer.name}
        w_max = max([np.abs(W).max() for W in incoming.values()] + [0.0])
        s = min(MAX_WEIGHT * 64 / w_max if w_max > 0 else np.inf, VTH_MAX * 64 / layer.v_th)
        if not np.isfinite(s):
            s = 64.0
        ints = {i: np.rint(s * W / 64) for i, W in incoming.items()}
        if incoming and not any(np.any(W != 0) for W in ints.values()):
            raise UnsupportedFeature(f"layer {layer.name!r}: every incoming weight rounds "
                                     f"to 0 in 8 bits at the largest admissible scale")
        kwargs = dict(du=int(np.clip(np.rint(4095 - 4096 * decay), 0, 4095)),
                      dv=int(np.clip(np.rint(4096 * (1 - e_m)), 0, 4095)),
                      vth=int(np.clip(np.rint(s * layer.v_th / 64), 1, VTH_MAX)),
                      fixed_point=True)
        out[layer.name] = (kwargs, ints, s)
    return out, notes


def nearest_loihi(net):
    """A float copy of a core network with Loihi's constructs only, then its fixed-point
    conversion (:func:`neuromorph.loihi.to_loihi`): ``(converted Network, notes)``.

    Nearest constructs, each noted: a refractory period is dropped (Loihi integrates on
    the next step); ``v_reset != v_rest`` resets to rest (Loihi resets to 0 = rest); two
    synaptic time constants become the excitatory one (Loihi has one current). Frozen
    per-neuron thresholds (``theta_frozen``: Diehl & Cook's learned ``v_th + theta_j``)
    are folded into neuron ``j``'s incoming weights, scaled by ``k_j = (v_th - v_rest) /
    (v_th - v_rest + theta_j)`` (exact: the neuron rests and resets at ``v_rest``). Step
    currents (per-neuron biases that change between samples) raise
    :class:`UnsupportedFeature` naming the population.
    """
    from ..descriptions import describe
    from ..loihi import to_loihi
    from ..network import Network

    if net.currents:
        c = net.currents[0]
        raise UnsupportedFeature(f"population {c.target.population.name!r} takes step "
                                 f"currents (per-neuron biases), which Loihi neurons here "
                                 f"lack (one bias per population)")
    out, notes, pops, fold = Network(dt=net.dt, seed=net.seed), [], {}, {}
    for p in net.populations:
        if not describe(p.model).simulated:
            pops[p.name] = describe(p.model).copy_into(out, p)
            continue
        m = p.model
        if m.t_ref > 0:
            notes.append(f"population {p.name!r}: refractory period {m.t_ref:g} ms dropped")
        if m.v_reset != m.v_rest:
            notes.append(f"population {p.name!r}: resets to rest ({m.v_rest:g} mV) instead "
                         f"of {m.v_reset:g} mV")
        if m.tau_syn_inh != m.tau_syn_exc:
            notes.append(f"population {p.name!r}: inhibitory current decays with "
                         f"tau_syn_exc = {m.tau_syn_exc:g} ms instead of {m.tau_syn_inh:g} ms")
        if m.theta_plus > 0:
            notes.append(f"population {p.name!r}: adaptive threshold dropped")
        theta = p.state["theta"]
        if m.theta_frozen and np.any(theta != 0):
            fold[p.name] = (m.v_th - m.v_rest) / (m.v_th - m.v_rest + theta)
            notes.append(f"population {p.name!r}: per-neuron thresholds folded into its "
                         f"incoming weights")
        pops[p.name] = out.lif(p.size, tau_m=m.tau_m, v_rest=m.v_rest, v_reset=m.v_rest,
                               v_th=m.v_th, t_ref=0.0, tau_syn_exc=m.tau_syn_exc,
                               tau_syn_inh=m.tau_syn_exc, v_init=p.state["v"].copy(),
                               name=p.name)
    for pr in net.projections:
        pre = pops[pr.pre.population.name][pr.pre.start:pr.pre.stop]
        post = pops[pr.post.population.name][pr.post.start:pr.post.stop]
        delay = np.zeros((pr.pre.size, pr.post.size))
        delay[pr.sources, pr.targets] = pr.delay_steps * net.dt
        matrix = pr.to_sparse()
        if pr.post.population.name in fold:
            k = fold[pr.post.population.name][pr.post.start:pr.post.stop]
            matrix = matrix.multiply(k[None, :]).tocsr()
        out.connect(pre, post, matrix=matrix, delay=delay, name=pr.name)
    return to_loihi(out, fixed_point=True).net, notes
