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

Held input currents (EqSpike's rate-coded input ``x W`` and biases ``R b``, any
layer's current that is constant over a sample's window and changes between samples):
a per-neuron Loihi bias, ``v <- ... + b_j`` every step, which is exactly how the
learner's held current enters ``v`` (``I (1 - E_m)`` per step)::

    b_j = q(s I_j (1 - E_m) k_j)

with ``q`` rounding to the nearest value Loihi's bias holds, ``bias_mant << bias_exp``
(13-bit mantissa, exponent 0-7: exact integers up to 4095, relative error <= 2**-13
above; :func:`neuromorph.loihi.representable_bias`). In the core the
bias is a step current on the LoihiLIF population (``net.current``: a per-neuron bias
switched on for each sample's window); in Lava the same schedule sets ``bias_mant``
and ``bias_exp`` between ``RunSteps`` segments of one runtime. Reusable for any
layered spec: give :class:`~neuromorph.deploy.layered.LayeredSpec` an
``input_currents(X)`` and :func:`loihi_current_gains` scales it.

Weights with more than 8 bits (an :class:`~neuromorph.deploy.layered.Edge` with
``fine=True``, the recurrent learners' recurrent weights): the layer's scale grows by
``2**E`` (the largest ``E`` in 0-7 keeping the threshold and the worst held current in
range) and each weight becomes two synapses, ``2**E round(x / 2**E)`` (8-bit mantissa,
``weight_exp = E``) and the residual ``round(x) - coarse`` (``|r| <= 2**(E-1)``,
``weight_exp = 0``): ``x = s w / 64`` to the nearest integer, ~8 + E bits, at twice the
synaptic operations. The layer's other edges get ``weight_exp = E`` (8-bit mantissas).

Not mappable (:class:`~neuromorph.errors.UnsupportedFeature`, naming the layer, raised
before any network is built): a layer whose weights all round to 0 at the largest
admissible scale, rest or reset other than 0. A layer's scale is also capped so that
the largest held current any input in [0, 1] can give fits Loihi's bias range
(``|b| <= 4095 * 2**7``); if that leaves its weights or threshold at 0, the layer is
refused.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UnsupportedFeature
from .layered import weight_parts

MAX_WEIGHT = 255
VTH_MAX = 2**17 - 1
BIAS_MAX = 4095 * 2**7


def loihi_layers(spec):
    """Per layer: ``(loihi_lif kwargs, {edge index: integer weight matrix}, scale s)``,
    and the list of mapping notes. Raises :class:`UnsupportedFeature` naming a layer
    that cannot be mapped."""
    dt = spec.dt
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
        held = _worst_held_current(spec, layer) * (1.0 - e_m) * k  # mV -> Lava units / s
        by_bias = BIAS_MAX / held.max() if held.max(initial=0.0) > 0 else np.inf
        if by_bias < s:
            s = by_bias
            notes.append(f"layer {layer.name!r}: scale set by its largest possible held "
                         f"input current (Loihi's bias range), not by its weights")
        if not np.isfinite(s):
            s = 64.0
        fine = [i for i in incoming if spec.edges[i].fine]
        exp = _fine_exponent(s, layer.v_th, held.max(initial=0.0)) if fine else 0
        if exp:
            s *= 2**exp
            notes.append(f"layer {layer.name!r}: {len(fine)} edge(s) as two 8-bit synapses "
                         f"per pair (coarse weight_exp {exp} + residual), scale x {2**exp}")
        ints = {i: _split_weights(s * W / 64, exp, i in fine) for i, W in incoming.items()}
        if incoming and not any(np.any(p != 0) for W in ints.values()
                                for p in weight_parts(W)):
            raise UnsupportedFeature(f"layer {layer.name!r}: every incoming weight rounds "
                                     f"to 0 in 8 bits at the largest admissible scale"
                                     + (" (set by its held input current, which needs "
                                        "Loihi's whole bias range)" if s == by_bias else ""))
        if s * layer.v_th / 64 < 1:
            raise UnsupportedFeature(f"layer {layer.name!r}: its held input current needs "
                                     f"a scale at which the threshold rounds to 0")
        kwargs = dict(du=int(np.clip(np.rint(4095 - 4096 * decay), 0, 4095)),
                      dv=int(np.clip(np.rint(4096 * (1 - e_m)), 0, 4095)),
                      vth=int(np.clip(np.rint(s * layer.v_th / 64), 1, VTH_MAX)),
                      fixed_point=True)
        out[layer.name] = (kwargs, ints, s)
    return out, notes


def _fine_exponent(s, v_th, held):
    """The largest ``E`` in 0-7 by which a layer's scale ``s`` can grow (its threshold
    within 17 bits, its largest held current within Loihi's bias range)."""
    e = 0
    while e < 7 and s * 2**(e + 1) * v_th / 64 <= VTH_MAX and held * s * 2**(e + 1) <= BIAS_MAX:
        e += 1
    return e


def _split_weights(x, exp, fine):
    """Loihi weights for real weights ``x`` (Lava units / 64) at a layer scale grown by
    ``2**exp``: ``2**exp * round(x / 2**exp)`` (8-bit mantissa, ``weight_exp = exp``),
    plus, when ``fine``, the residual ``round(x - coarse)`` (``|r| <= 2**(exp-1)``, an
    8-bit weight with ``weight_exp = 0``) as a tuple ``(coarse, residual)``."""
    coarse = 2.0**exp * np.rint(x / 2.0**exp)
    if not fine or exp == 0:
        return coarse if not fine else np.rint(x)
    return coarse, np.rint(x - coarse)


def _worst_held_current(spec, layer):
    """Per neuron, the largest ``|X W + b|`` (mV) any input ``X`` in [0, 1] gives the
    layer's held current (``spec.current_weights``; zeros without held currents)."""
    if not spec.current_weights or layer.name not in spec.current_weights:
        return np.zeros(layer.n)
    W, b = spec.current_weights[layer.name]
    b = np.broadcast_to(np.asarray(b, float), (layer.n,))
    hi, lo = b.copy(), b.copy()
    if W is not None:
        hi = hi + np.maximum(W, 0).sum(axis=0)
        lo = lo + np.minimum(W, 0).sum(axis=0)
    return np.maximum(np.abs(hi), np.abs(lo))


def loihi_current_gains(spec):
    """Per layer, the factor ``s (1 - E_m) k_j`` (one per neuron) that turns a held input
    current (the learner's units, mV) into the Loihi bias of :func:`loihi_layers`'
    fixed-point layer (Lava units per step, before rounding with
    :func:`loihi_bias`)."""
    loihi = spec.loihi if spec.loihi is not None else loihi_layers(spec)[0]
    gains = {}
    for layer in spec.layers:
        e_m = math.exp(-spec.dt / layer.tau_m)
        k = np.ones(layer.n)
        if layer.theta0 is not None:
            k = layer.v_th / (layer.v_th + np.asarray(layer.theta0, float))
        gains[layer.name] = loihi[layer.name][2] * (1.0 - e_m) * k
    return gains


def loihi_bias(current, gain, name):
    """The per-neuron Loihi bias (Lava units) of held currents ``current`` ((n, m) mV)
    for a layer of gains ``gain`` (:func:`loihi_current_gains`): rounded to what
    ``bias_mant << bias_exp`` holds. Raises :class:`UnsupportedFeature` naming the layer
    when a bias exceeds Loihi's range (``|b| > 4095 * 2**7``)."""
    from ..loihi import representable_bias

    b = np.asarray(current, float) * gain
    lim = BIAS_MAX
    if b.size and np.abs(b).max() > lim:
        raise UnsupportedFeature(f"layer {name!r}: a held input current needs a Loihi bias "
                                 f"of {np.abs(b).max():.0f}, beyond bias_mant << bias_exp "
                                 f"(|b| <= {lim})")
    return representable_bias(b)


def nearest_loihi(net, weight_exponents=False):
    """A float copy of a core network with Loihi's constructs only, then its fixed-point
    conversion (:func:`neuromorph.loihi.to_loihi`): ``(converted Network, notes)``.

    Nearest constructs, each noted: a refractory period is dropped (Loihi integrates on
    the next step); ``v_reset != v_rest`` resets to rest (Loihi resets to 0 = rest); two
    synaptic time constants become the excitatory one (Loihi has one current), the
    inhibitory weights scaled by ``tau_syn_inh / tau_syn_exc`` so that a spike still
    delivers the same charge ``∫ I dt`` (and the same ``∫ v dt``); measured on the
    R-STDP classifier (slow winner-take-all inhibition): float predictions unchanged on
    the digits test split, where keeping the weights changed 13 % of them. Step
    currents (per-sample per-neuron drives, e.g. the R-STDP classifier's homeostatic
    bias) become per-neuron Loihi biases (:func:`neuromorph.loihi.to_loihi`).
    Frozen per-neuron thresholds (``theta_frozen``: Diehl & Cook's learned
    ``v_th + theta_j``) are folded into neuron ``j``'s incoming weights and step
    currents, scaled by ``k_j = (v_th - v_rest) / (v_th - v_rest + theta_j)`` (exact: the
    neuron rests and resets at ``v_rest``, so its voltage above rest is linear in them).
    ``weight_exponents``: per-projection weight exponents (``to_loihi``'s option).
    """
    from ..descriptions import describe
    from ..loihi import to_loihi
    from ..network import Network

    out, notes, pops, fold = Network(dt=net.dt, seed=net.seed), [], {}, {}
    inh_factor = {}
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
                         f"tau_syn_exc = {m.tau_syn_exc:g} ms instead of {m.tau_syn_inh:g} "
                         f"ms, its weights scaled by {m.tau_syn_inh / m.tau_syn_exc:.3g} "
                         f"(the same charge per spike)")
            inh_factor[p.name] = m.tau_syn_inh / m.tau_syn_exc
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
        factor = inh_factor.get(pr.post.population.name)
        if factor is not None:  # inhibitory synapses: the same charge per spike
            matrix = matrix.tocsr(copy=True)
            matrix.data = np.where(matrix.data < 0, matrix.data * factor, matrix.data)
        if pr.post.population.name in fold:  # frozen thresholds: k_j on neuron j's inputs
            k = fold[pr.post.population.name][pr.post.start:pr.post.stop]
            matrix = matrix.multiply(k[None, :]).tocsr()
        out.connect(pre, post, matrix=matrix, delay=delay, name=pr.name)
    for c in net.currents:
        tgt = pops[c.target.population.name][c.target.start:c.target.stop]
        amp = c.amplitude.copy()
        if c.target.population.name in fold:
            amp = amp * fold[c.target.population.name][c.target.start:c.target.stop]
        out.current(tgt, amp, start=c.on * net.dt,
                    stop=None if c.off is None else c.off * net.dt)
    return to_loihi(out, fixed_point=True, weight_exponents=weight_exponents).net, notes
