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

Fixed-point learning. :func:`loihi_stdp_fixed` replays, without Lava, how Loihi's
fixed-point learning engine (Lava's bit-approximate ``LearningDense`` model) applies
neuromorph's additive STDP to given spike trains: integer traces and 8-bit weights
with stochastic rounding, the same weights as Lava bit for bit (same ``rng_seed``).
The engine's own STDP stays real-valued (it runs no plasticity onto fixed-point
LoihiLIF neurons); :func:`neuromorph.backends.lava.stdp_rule` gives the error bound.

Step currents (``net.current`` into a LIF population, mV: ``v_inf = v_rest + I``)
become step currents into the LoihiLIF population, i.e. per-neuron biases switched on
and off at the same steps: the exact LIF step adds ``I (1 - E_m)`` to ``v`` per step,
so the bias is ``s I (1 - E_m)`` (fixed point: rounded to what Loihi's
``bias_mant << bias_exp`` holds, :func:`representable_bias`). Lava sets the biases
between runs (:mod:`neuromorph.backends.lava`).

Not converted (``ValueError`` naming the population or projection): refractory
periods (Loihi has none), ``v_reset != v_rest`` (Loihi resets to rest),
``tau_syn_exc != tau_syn_inh`` (Loihi has one current), plasticity.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _checks
from .descriptions import current_gain as _current_gain, describe, hook
from .errors import UnsupportedFeature, all_problems
from .network import Network, check_network


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
    """Every reason ``net`` cannot be converted, raised at once (``UnsupportedFeature``)."""
    check_network(net)
    problems = []
    for c in net.currents:
        if hook(c.target.population.model, "loihi") != "convert":
            problems.append(f"step currents into population {c.target.population.name!r} "
                            f"are not converted (only into LIF populations)")
    for p in net.populations:
        m = p.model
        if hook(m, "loihi") != "convert":
            continue
        if m.t_ref != 0:
            problems.append(f"population {p.name!r}: t_ref = {m.t_ref} ms, but Loihi neurons "
                            f"have no refractory period (t_ref must be 0)")
        if m.v_reset != m.v_rest:
            problems.append(f"population {p.name!r}: Loihi resets to rest; v_reset must "
                            f"equal v_rest, got {m.v_reset} and {m.v_rest} mV")
        if m.theta_frozen and np.any(p.state["theta"] != 0):
            problems.append(f"population {p.name!r}: per-neuron thresholds (theta_frozen); "
                            f"Loihi neurons share one threshold per population (fold them "
                            f"into the incoming weights, as neuromorph.deploy.quantize."
                            f"nearest_loihi does)")
        if m.tau_syn_exc != m.tau_syn_inh:
            problems.append(f"population {p.name!r}: Loihi has one synaptic current; "
                            f"tau_syn_exc must equal tau_syn_inh, got {m.tau_syn_exc} and "
                            f"{m.tau_syn_inh} ms")
    for pr in net.projections:
        if pr.plasticity is not None:
            problems.append(f"projection {pr.name!r} is plastic: not converted (export "
                            f"plastic LoihiLIF networks with neuromorph.backends.lava)")
    if problems:
        raise all_problems(problems, "converted to Loihi neurons",
                           "A convertible network uses net.lif(..., t_ref=0.0, v_reset=v_rest, "
                           "tau_syn_inh=tau_syn_exc) and static projections "
                           "(or build it with net.loihi_lif directly).")


def to_loihi(net, *, fixed_point=False, max_weight=255, weight_exponents=False):
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
    weight_exponents : bool
        Fixed point: give every projection its own power-of-two exponent (Lava's
        ``weight_exp``, 0-7) on top of the population's scale, which is then set by the
        projection with the *smallest* weights (up to 2**7 finer): a population that
        receives weak and strong projections (inputs and a strong inhibition) keeps
        ``max_weight`` levels for each instead of rounding the weak ones to a few.

    Returns
    -------
    Conversion
    """
    _check(net)
    if not isinstance(fixed_point, bool):
        raise TypeError(f"fixed_point must be a bool, got {type(fixed_point).__name__}")
    _checks.number("max_weight", max_weight, low=1, high=255, integer=True)
    dt = net.dt
    gain, scale, v_rest = {}, {}, {}
    for p in net.populations:
        if hook(p.model, "loihi") == "convert":
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
            if weight_exponents and w_max > 0:  # the weakest projection sets the scale
                w_min = min(np.abs(pr.w).max() for pr in net.projections
                            if pr.post.population is p and pr.n_synapses
                            and np.abs(pr.w).max() > 0)
                by_w = min(max_weight * 64 / (gain[p.name] * w_min), by_w * 2**7)
            s = min(limit, by_w)
            scale[p.name] = s if np.isfinite(s) else 64.0
    out = Network(dt=dt, seed=net.seed)
    for p in net.populations:
        m = p.model
        form = hook(m, "loihi")
        if form == "convert":
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
        elif form == "copy":
            describe(m).copy_into(out, p)
        else:
            raise TypeError(f"population {p.name!r}: cannot convert {type(m).__name__}")
    pops = {p.name: p for p in out.populations}
    for pr in net.projections:
        post = pr.post.population
        w = pr.w * gain[post.name]
        if fixed_point:
            w = w * scale[post.name] / 64
            e = 0
            if weight_exponents and pr.n_synapses:
                top = np.abs(w).max()
                while e < 7 and np.rint(top / 2**e) > max_weight:
                    e += 1
            w = np.rint(w / 2**e) * 2**e
        pre = pops[pr.pre.population.name][pr.pre.start:pr.pre.stop]
        tgt = pops[post.name][pr.post.start:pr.post.stop]
        keep = w != 0  # a weight rounded to zero is no synapse
        shape = (pr.pre.size, pr.post.size)
        matrix = sp.csr_matrix((w[keep], (pr.sources[keep], pr.targets[keep])), shape=shape)
        delay = np.zeros(shape)
        delay[pr.sources, pr.targets] = pr.delay_steps * dt
        out.connect(pre, tgt, matrix=matrix, delay=delay, name=pr.name)
    for c in net.currents:  # per-neuron biases, on and off at the same steps
        p = c.target.population
        amp = c.amplitude * (1.0 - np.exp(-dt / p.model.tau_m)) * scale[p.name]
        if fixed_point:
            amp = representable_bias(amp)
        out.current(pops[p.name][c.target.start:c.target.stop], amp, start=c.on * dt,
                    stop=None if c.off is None else c.off * dt)
    return Conversion(out, scale, v_rest)


def bias_parts(total, fixed_point, name="bias"):
    """``(bias_mant, bias_exp)`` arrays whose ``bias_mant << bias_exp`` is ``total`` (Lava
    units, one per neuron): the smallest exponent in 0-7 with a 13-bit mantissa
    (fixed point), or ``(total, 0)`` (floating point, Lava's float LIF ignores the
    exponent). Raises :class:`UnsupportedFeature` naming ``name`` when a fixed-point
    total has no such form (use :func:`representable_bias` to round to one)."""
    total = np.asarray(total, float)
    if not fixed_point:
        return total.copy(), np.zeros(total.shape, np.int32)
    mant = np.rint(total).astype(np.int64)
    exp = np.zeros(total.shape, np.int64)
    if np.any(mant != total):
        raise UnsupportedFeature(f"{name}: fixed-point biases must be integers")
    for e in range(7):
        move = (exp == e) & ((mant > 4095) | (mant < -4096)) & (mant % 2 == 0)
        mant[move] //= 2
        exp[move] += 1
    if np.any(mant > 4095) or np.any(mant < -4096):
        bad = total[(mant > 4095) | (mant < -4096)][0]
        raise UnsupportedFeature(f"{name}: bias {bad:g} is no 13-bit mantissa times 2**0..7 "
                                 f"(Loihi's bias_mant << bias_exp)")
    return mant.astype(np.int32), exp.astype(np.int32)


def representable_bias(b):
    """``b`` (Lava units, any reals) rounded to the nearest values Loihi's per-neuron
    bias ``bias_mant << bias_exp`` (13-bit signed mantissa, exponent 0-7) can hold:
    exact integers up to 4095 in magnitude, above that the smallest exponent that fits
    (relative error <= 2**-13), clipped to ``[-4096, 4095] * 2**7``."""
    b = np.asarray(b, float)
    e = np.zeros(b.shape)
    r = np.rint(b)
    for k in range(1, 8):
        big = (r > 4095 * 2.0 ** (k - 1)) | (r < -4096 * 2.0 ** (k - 1))
        e = np.where(big, k, e)
    q = np.clip(np.rint(b / 2.0 ** e), -4096, 4095) * 2.0 ** e
    return q


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


def loihi_stdp_fixed(pre, post, w0, rule, n_steps, *, dt=1.0, trace_impulse=16, rng_seed=0):
    r"""Additive all-to-all STDP in Loihi's fixed-point learning arithmetic, as Lava does it.

    A step-by-step replay of Lava's bit-approximate learning engine
    (``PyLearningDenseModelBitApproximate``, lava-nc 0.10.0) for the rule that
    :func:`neuromorph.backends.lava.stdp_rule` exports with ``learning='fixed'``: given
    the same pre and post spike trains and ``rng_seed`` it returns the same integer
    weights as Lava, bit for bit (``tests/test_lava_learning.py``), without Lava. Per
    step ``s``, with ``I = trace_impulse`` and one uniform random number per step for
    the pre traces, one for the post traces and one for all weight roundings (Lava's
    generators: seeded ``rng_seed`` and ``rng_seed + 2`` for the traces, and always 2,
    Lava's default, for the weights)::

        X <- floor(X e^{-dt/tau}) + [r_s < frac(X e^{-dt/tau})] + I [spike], at most 127
        W <- W + (a_minus/I) x0 (Y - Y2) + (a_plus/I) y0 X      (exact, in 2**-7 units)
        W <- floor(W) + [q_s < frac(W)],  clipped to [0, 255] (or [-255, 0])

    where ``x0``/``y0`` flag this step's pre/post spikes, ``Y2 = I`` at a same-step post
    spike (neuromorph's depression does not see it), and the traces are read after
    this step's decay and impulse. Both roundings are unbiased: the expected weights
    follow neuromorph's real-valued STDP (:class:`~neuromorph.plasticity.STDP`).

    Parameters
    ----------
    pre, post : (steps, indices)
        Spike steps and neuron indices of the pre and post populations.
    w0 : array (n_pre, n_post)
        Initial integer weights, all >= 0 or all <= 0.
    rule : STDP
        Additive, all-to-all rule; ``a_plus / I`` and ``a_minus / I`` must be
        ``m * 2**e`` (``|m| <= 7``, ``-7 <= e <= 8``).
    n_steps : int
        Number of steps (Loihi time steps).
    dt : float
        Step (ms): the traces decay by ``exp(-dt / tau)`` per step.
    trace_impulse : int
        Integer trace value of one spike (1-127).
    rng_seed : int
        Lava's ``rng_seed`` of the learning rule.

    Returns
    -------
    ndarray (n_pre, n_post)
        The learned integer weights (float64).
    """
    if hook(rule, "lava") != "stdp" or rule.weight_dependence != "additive" \
            or rule.pairing != "all_to_all" or rule.x_tar:
        raise ValueError("rule must be an additive, all-to-all STDP without x_tar")
    w0 = np.asarray(w0, dtype=float)
    if w0.ndim != 2:
        raise ValueError(f"w0 must be a 2-D (n_pre, n_post) array, got shape {w0.shape}")
    if np.any(w0 != np.rint(w0)) or np.abs(w0).max(initial=0) > 255 or w0.min(initial=0) < 0 \
            < w0.max(initial=0):
        raise ValueError("w0 must hold integers of one sign in [-255, 255]")
    n_pre, n_post = w0.shape
    _checks.number("n_steps", n_steps, low=1, integer=True)
    _checks.number("trace_impulse", trace_impulse, low=1, high=127, integer=True)
    _checks.number("rng_seed", rng_seed, low=0, integer=True)
    for which, (steps, idx), n in (("pre", pre, n_pre), ("post", post, n_post)):
        steps, idx = np.asarray(steps), np.asarray(idx)
        if steps.shape != idx.shape or (steps.size and (
                steps.min() < 0 or steps.max() >= n_steps or idx.min() < 0 or idx.max() >= n)):
            raise ValueError(f"{which} spikes must be (steps, indices) of equal length with "
                             f"steps in [0, {n_steps - 1}] and indices in [0, {n - 1}]")
    imp = int(trace_impulse)

    def scale(a):  # Lava's literal: s_mant * 2**s_exp, applied as << (s_exp + 7)
        m, e = np.frexp(a / imp)
        for bits in range(1, 4):
            if m * 2**bits == np.rint(m * 2**bits):
                mant, ex = int(m * 2**bits), int(e) - bits
                while mant % 2 == 0 and mant:
                    mant, ex = mant // 2, ex + 1
                if -7 <= ex <= 8:
                    return mant, ex + 7
        raise ValueError(f"{a} / {imp} is not m * 2**e with |m| <= 7, -7 <= e <= 8")

    (m_minus, sh_minus), (m_plus, sh_plus) = scale(rule.a_minus), scale(rule.a_plus)
    x_spk = np.zeros((n_steps, n_pre), bool)
    y_spk = np.zeros((n_steps, n_post), bool)
    x_spk[np.asarray(pre[0]), np.asarray(pre[1])] = True
    y_spk[np.asarray(post[0]), np.asarray(post[1])] = True
    rx, ry = np.random.default_rng(rng_seed), np.random.default_rng(rng_seed + 2)
    rq = np.random.default_rng(2)  # Lava's ConnVarRandom: its default seed, always
    # draws per step: trace generators one at start, two per step (before the decay);
    # the weight generator one at start, one per step
    r_x = rx.random(2 * n_steps + 1)[2::2]
    r_y = ry.random(2 * n_steps + 1)[2::2]
    r_q = rq.random(n_steps + 1)[1:]
    dx, dy = np.exp(-dt / rule.tau_pre), np.exp(-dt / rule.tau_post)
    X = np.zeros(n_pre, np.int64)
    Y = np.zeros(n_post, np.int64)
    W = w0.T.astype(np.int64)  # Lava's (n_post, n_pre)
    excitatory = not (w0.min(initial=0) < 0 or (w0.max(initial=0) == 0 and rule.w_max <= 0))
    lim = 2**15

    def decay(trace, d, r):
        v = d * trace
        fl = np.floor(v)
        return (fl + (r < v - fl)).astype(np.int64)

    for s in range(n_steps):
        X = decay(X, dx, r_x[s])
        X[x_spk[s]] = np.minimum(X[x_spk[s]] + imp, 127)
        Y = decay(Y, dy, r_y[s])
        Y[y_spk[s]] = np.minimum(Y[y_spk[s]] + imp, 127)
        Y2 = np.where(y_spk[s], imp, 0)
        x0, y0 = x_spk[s][None, :], y_spk[s][:, None]
        if not (x0.any() or y0.any()):
            continue
        acc = W << 7
        for mant, sh, dep, fac in ((m_minus, sh_minus, x0, Y[:, None]),
                                   (-m_minus, sh_minus, x0, Y2[:, None]),
                                   (m_plus, sh_plus, y0, X[None, :])):
            prod = (dep * np.clip(fac, -128, 127) * mant) << sh
            acc = np.clip(acc + np.clip(prod, -lim - 1, lim - 1), -lim - 1, lim - 1)
        acc = np.maximum(acc, 0) if excitatory else np.minimum(acc, 0)
        q = acc / 128
        fl = np.floor(q)
        W = (fl + (r_q[s] < q - fl)).astype(np.int64)
        W = np.clip(W, 0, 255) if excitatory else np.clip(W, -255, 0)
    return W.T.astype(np.float64)


def weight_exponent(w, max_weight=255):
    """The smallest ``e`` in 0-7 with ``w = m * 2**e``, ``m`` integers in
    ``[-max_weight, max_weight]`` (Loihi's 8-bit weights and a connection's
    ``weight_exp``), or None."""
    w = np.asarray(w, float)
    if w.size == 0:
        return 0
    if np.any(w != np.rint(w)):
        return None
    for e in range(8):
        m = w / 2.0**e
        if np.all(m == np.rint(m)) and np.abs(m).max() <= max_weight:
            return e
    return None


__all__ = ["to_loihi", "Conversion", "spike_agreement", "loihi_stdp_fixed", "bias_parts",
           "representable_bias", "weight_exponent"]
