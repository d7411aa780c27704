"""Learning-rule translation: neuromorph's plasticity rules as Loihi learning-engine
rules (sum-of-products strings and trace impulses), and the rule-support table.
"""
from __future__ import annotations

import numpy as np

from ...descriptions import hook
from ...errors import UnsupportedFeature


MAX_DELAY = 63  # Loihi 2: 6-bit synaptic delays
#: Default trace impulse of fixed-point learning (neuromorph's trace 1 -> 16 of 127).
TRACE_IMPULSE = 16



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
    _check_pair_rule(proj, "stdp")
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
    if hook(rule, "lava") != "triplet":
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


def _check_pair_rule(proj, form):
    """Pairing and weight dependence that Loihi's sum-of-products rules can express
    (``form``: the Lava hook of the rule the caller translates, 'stdp' or 'rstdp')."""
    rule, name = proj.plasticity, proj.name
    if form == "stdp" and hook(rule, "lava") != "stdp":
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
    _check_pair_rule(proj, "stdp")
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
    if hook(rule, "lava") != "rstdp":
        raise UnsupportedFeature(f"projection {name!r}: {type(rule).__name__} is not R-STDP")
    if fixed_point:
        raise UnsupportedFeature(
            f"projection {name!r}: R-STDP is exported in floating point only: in fixed "
            f"point Loihi's eligibility tag and weights are 8-bit integers, so the tag's "
            f"per-step decay and every reward step would be rounded (not mapped)")
    _check_pair_rule(proj, "rstdp")
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
