"""Plasticity rule descriptions (pure data, validated at construction).

Sign convention, the same for every rule: amplitudes are signed weight changes (mV).
Potentiation amplitudes (``a_plus``, ``a2_plus``, ``a3_plus``) are >= 0, depression
amplitudes (``a_minus``, ``a2_minus``, ``a3_minus``) are <= 0, and a rule adds
``amplitude * trace`` to the weight (or to the eligibility, for R-STDP). A positive
depression amplitude is refused with an error that says so, never flipped silently.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import _checks

_DEPENDENCE = {"additive": 0.0, "multiplicative": 1.0, "power": None}
#: When the pair rules clip weights to ``[w_min, w_max]`` (see :class:`STDP`).
CLIP_SCHEDULES = ("update", "step")


def _depression_sign(name, value):
    return (f"{name} must be <= 0 (mV): depression amplitudes are signed, the weight "
            f"changes by {name} times a trace (pass -{value} to depress), got {value}")


def _check_clip(rule):
    if rule.clip not in CLIP_SCHEDULES:
        raise ValueError(f"clip must be one of {CLIP_SCHEDULES} ('update': after each pre- "
                         f"and post-spike update, as Brian2; 'step': once per step after "
                         f"the step's updates are summed, as Loihi's learning engine), "
                         f"got {rule.clip!r}")


@dataclass(frozen=True)
class PairTraceRule:
    """Shared part of the trace-based pair rules: traces, amplitudes, bounds, pairing.

    Subclasses say what the pairing term does: :class:`STDP` adds it to the weight,
    :class:`RSTDP` to an eligibility trace that a neuromodulator turns into weight.
    """

    tau_pre: float = 20.0
    tau_post: float = 20.0
    a_plus: float = 0.01
    a_minus: float = -0.0105
    w_min: float = 0.0
    w_max: float = 1.0
    weight_dependence: str = "additive"
    pairing: str = "all_to_all"
    x_tar: float = 0.0
    power: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "x_tar", _checks.non_negative("x_tar", self.x_tar))
        object.__setattr__(self, "power", _checks.positive("power", self.power))
        for name in ("tau_pre", "tau_post"):
            object.__setattr__(self, name, _checks.positive(name, getattr(self, name), "ms"))
        a_plus = _checks.real("a_plus", self.a_plus)
        a_minus = _checks.real("a_minus", self.a_minus)
        if a_plus < 0:
            raise ValueError(f"a_plus must be >= 0 (potentiation), got {a_plus}")
        if a_minus > 0:
            raise ValueError(_depression_sign("a_minus", a_minus))
        w_min, w_max = _checks.real("w_min", self.w_min), _checks.real("w_max", self.w_max)
        if not w_min < w_max:
            raise ValueError(f"w_min must be < w_max, got w_min={w_min}, w_max={w_max}")
        if self.weight_dependence not in _DEPENDENCE:
            raise ValueError(f"weight_dependence must be one of {sorted(_DEPENDENCE)}, "
                             f"got {self.weight_dependence!r}")
        if self.pairing not in ("all_to_all", "nearest"):
            raise ValueError(f"pairing must be 'all_to_all' or 'nearest', got {self.pairing!r}")
        for name, val in (("a_plus", a_plus), ("a_minus", a_minus), ("w_min", w_min),
                          ("w_max", w_max)):
            object.__setattr__(self, name, val)

    @property
    def mu(self):
        """Exponent of the weight dependence (0 additive, 1 multiplicative, or ``power``)."""
        exponent = _DEPENDENCE[self.weight_dependence]
        return self.power if exponent is None else exponent

    @property
    def clip_step(self):
        """Whether weights are clipped once per step (``clip='step'``) rather than after
        each update (rules without a ``clip`` parameter clip after each update)."""
        return getattr(self, "clip", "update") == "step"

    def parameter_row(self, dt):
        """Kernel parameter row: the first 9 columns of
        :data:`neuromorph.kernels.stdp.RULE_NAMES` (the engine adds the rest)."""
        return np.array([self.a_plus, self.a_minus, self.w_min, self.w_max,
                         np.exp(-dt / self.tau_pre), np.exp(-dt / self.tau_post),
                         float(self.pairing == "nearest"), self.mu, self.mu])

    def window(self, lag):
        """Pairing term (mV) of one isolated pre/post pair, additive, away from bounds.

        ``lag = t_post - t_pre`` in ms (array-like).
        """
        lag = np.asarray(lag, dtype=float)
        return np.where(lag >= 0, self.a_plus * np.exp(-lag / self.tau_pre),
                        self.a_minus * np.exp(lag / self.tau_post))

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class STDP(PairTraceRule):
    r"""Trace-based pair STDP (Song, Miller & Abbott 2000; Guetig et al. 2003).

    Pre and post traces ``x`` (dimensionless) decay with ``tau_pre`` / ``tau_post`` and
    jump at spikes (``x += 1`` all-to-all, ``x = 1`` nearest-spike). At a post spike
    every incoming weight changes by ``a_plus * x_pre * f_plus(w)``; at a pre spike every
    outgoing weight by ``a_minus * x_post * f_minus(w)``; weights stay in
    ``[w_min, w_max]``. For ``weight_dependence='additive'`` ``f = 1`` with hard clipping;
    for ``'multiplicative'`` (soft bounds)
    ``f_plus = (w_max - w) / (w_max - w_min)``, ``f_minus = (w - w_min) / (w_max - w_min)``;
    ``'power'`` raises both to ``power`` (Guetig et al. 2003). With a target trace
    ``x_tar > 0`` potentiation uses ``x_pre - x_tar``, so a post spike depresses synapses
    from inputs that were silent (Diehl & Cook 2015:
    ``dw = a_plus (x_pre - x_tar) (w_max - w)^power`` with ``a_minus = 0``).

    A pre-post pair with lag ``dt_pair = t_post - t_pre`` (ms) changes an additive
    weight by ``a_plus exp(-dt_pair / tau_pre)`` if ``dt_pair >= 0`` and by
    ``a_minus exp(dt_pair / tau_post)`` if ``dt_pair < 0`` (spikes in the same step
    count as pre-before-post, as in Brian2, where ``on_pre`` runs before ``on_post``).
    With axonal delays, the pre-side update happens when the presynaptic neuron fires.

    Parameters
    ----------
    tau_pre, tau_post : float
        Trace time constants (ms), > 0.
    a_plus : float
        Potentiation amplitude (weight units, mV), >= 0.
    a_minus : float
        Depression amplitude (weight units, mV), <= 0.
    w_min, w_max : float
        Weight bounds (mV), ``w_min < w_max``.
    weight_dependence : {'additive', 'multiplicative', 'power'}
    pairing : {'all_to_all', 'nearest'}
    x_tar : float
        Target value of the presynaptic trace (dimensionless), >= 0.
    power : float
        Exponent of the ``'power'`` weight dependence, > 0.
    clip : {'update', 'step'}
        When weights are clipped to ``[w_min, w_max]``. ``'update'`` (default, Brian2's
        ``w = clip(w + ..., w_min, w_max)`` in ``on_pre`` and ``on_post``): after the
        pre-spike update and again after the post-spike update. ``'step'`` (Loihi's
        learning engine, and Lava's ``LearningDense`` as exported by
        :mod:`neuromorph.backends.lava`): a step's pre- and post-spike changes are
        summed, then the weight is clipped once. The two differ only in a step where a
        synapse sees both a pre and a post spike and its first update crosses a bound.
    """

    clip: str = "update"

    def __post_init__(self):
        super().__post_init__()
        _check_clip(self)


@dataclass(frozen=True)
class RSTDP(PairTraceRule):
    r"""Reward-modulated STDP with eligibility traces (three-factor rule).

    The STDP pairing term of :class:`STDP` (same traces, amplitudes, weight dependence
    and pairing) does not change the weight; it is added to a per-synapse eligibility
    trace ``C`` (mV) that decays with ``tau_elig``. A neuromodulator ``M(t)`` (a
    :class:`~neuromorph.modulation.RewardSignal`) turns eligibility into weight
    (Izhikevich 2007; Fremaux & Gerstner 2016)::

        tau_elig dC/dt = -C + sum of pairing terms
        dw/dt          = lr * M(t) * C(t)            (dopamine concentration mode)
        w             += lr * r * C(t_r)             (phasic mode: reward r at t_r)

    then ``w`` is clipped to ``[w_min, w_max]``. The engine integrates this lazily:
    a synapse is brought up to date in closed form only when it has an event, when a
    reward arrives, or when control returns to Python (weights are clipped then).

    Parameters
    ----------
    tau_elig : float
        Eligibility time constant (ms), > 0 (hundreds of ms to bridge delayed rewards).
    lr : float
        Learning rate, >= 0: per ms per unit of dopamine in concentration mode,
        dimensionless per unit of reward in phasic mode.
    (the other parameters as in :class:`STDP`)
    """

    tau_elig: float = 1000.0
    lr: float = 0.01

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "tau_elig", _checks.positive("tau_elig", self.tau_elig, "ms"))
        lr = _checks.real("lr", self.lr)
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        object.__setattr__(self, "lr", lr)


@dataclass(frozen=True)
class TripletSTDP:
    r"""Triplet STDP, minimal all-to-all model (Pfister & Gerstner 2006).

    Pre traces ``r1`` (``tau_plus``), ``r2`` (``tau_x``); post traces ``o1``
    (``tau_minus``), ``o2`` (``tau_y``); all jump by 1 at spikes::

        pre spike:   w <- w + o1(t) [a2_minus + a3_minus r2(t - eps)]
        post spike:  w <- w + r1(t) [a2_plus  + a3_plus  o2(t - eps)]

    (``t - eps``: the trace just before this spike's own jump), then ``w`` is clipped to
    ``[w_min, w_max]``. The triplet term ``a3_plus`` makes potentiation grow with the
    pairing frequency (Sjostrom et al. 2001). Amplitudes in weight units (mV), signed as
    in :class:`STDP`: ``a2_plus, a3_plus >= 0``, ``a2_minus, a3_minus <= 0``.
    Defaults: the minimal visual-cortex fit of Pfister & Gerstner (2006), in units of
    ``w_max = 1``. ``clip`` ('update' or 'step') as in :class:`STDP`.
    """

    tau_plus: float = 16.8
    tau_minus: float = 33.7
    tau_x: float = 101.0
    tau_y: float = 125.0
    a2_plus: float = 5e-10
    a3_plus: float = 6.2e-3
    a2_minus: float = -7e-3
    a3_minus: float = -2.3e-4
    w_min: float = 0.0
    w_max: float = 1.0
    clip: str = "update"

    def __post_init__(self):
        _check_clip(self)
        for name in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            object.__setattr__(self, name, _checks.positive(name, getattr(self, name), "ms"))
        for name in ("a2_plus", "a3_plus"):
            object.__setattr__(self, name, _checks.non_negative(name, getattr(self, name), "mV"))
        for name in ("a2_minus", "a3_minus"):
            value = _checks.real(name, getattr(self, name))
            if value > 0:
                raise ValueError(_depression_sign(name, value))
            object.__setattr__(self, name, value)
        w_min, w_max = _checks.real("w_min", self.w_min), _checks.real("w_max", self.w_max)
        if not w_min < w_max:
            raise ValueError(f"w_min must be < w_max, got w_min={w_min}, w_max={w_max}")
        object.__setattr__(self, "w_min", w_min)
        object.__setattr__(self, "w_max", w_max)

    x_tar = 0.0  # no target trace (kernel compatibility with the pair rules)
    clip_step = PairTraceRule.clip_step
    mu = 0.0     # additive, hard bounds
    pairing = "all_to_all"

    def parameter_row(self, dt):
        """The first 9 kernel columns (layout :data:`neuromorph.kernels.stdp.RULE_NAMES`)."""
        return np.array([self.a2_plus, self.a2_minus, self.w_min, self.w_max,
                         np.exp(-dt / self.tau_plus), np.exp(-dt / self.tau_minus), 0.0, 0.0,
                         0.0])

    def triplet_row(self, dt):
        """Kernel columns ``decay_x, decay_y, a3_plus, a3_minus``."""
        return np.array([np.exp(-dt / self.tau_x), np.exp(-dt / self.tau_y), self.a3_plus,
                         self.a3_minus])

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}
