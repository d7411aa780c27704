"""Descriptions of the plasticity rules of :mod:`neuromorph.plasticity`."""
from __future__ import annotations

import numpy as np

from ..plasticity import RSTDP, STDP, TripletSTDP
from .base import (RSTDP_KIND, RULE_COLUMNS, STDP_KIND, TRIPLET_KIND, Parameter,
                   RuleDescription, Variable, register)

_PAIR_PARAMETERS = (
    Parameter("tau_pre", "ms", "decay of the presynaptic trace"),
    Parameter("tau_post", "ms", "decay of the postsynaptic trace"),
    Parameter("a_plus", "mV", "potentiation amplitude (>= 0)"),
    Parameter("a_minus", "mV", "depression amplitude (<= 0)"),
    Parameter("w_min", "mV", "lower weight bound"),
    Parameter("w_max", "mV", "upper weight bound"),
    Parameter("weight_dependence", "", "'additive', 'multiplicative' or 'power'"),
    Parameter("pairing", "", "'all_to_all' or 'nearest'"),
    Parameter("x_tar", "1", "target value of the presynaptic trace"),
    Parameter("power", "1", "exponent of the 'power' weight dependence"),
)
_CLIP = Parameter("clip", "", "'update' (after each update) or 'step' (once per step)")
_PAIR_TRACES = (
    Variable("x_pre", "1", "presynaptic trace", per="pre"),
    Variable("x_post", "1", "postsynaptic trace", per="post"),
    Variable("w", "mV", "weight", per="synapse"),
)


class _PairRule(RuleDescription):
    kernel = "neuromorph.kernels.stdp"
    state = _PAIR_TRACES

    def engine_parameters(self, rule, dt, modulator=None):
        params = dict(zip(RULE_COLUMNS[:9], rule.parameter_row(dt)))
        params["x_tar"] = rule.x_tar
        params["clip_step"] = float(rule.clip_step)
        return params


class STDPDescription(_PairRule):
    """Trace-based pair STDP."""

    name = "STDP"
    cls = STDP
    parameters = _PAIR_PARAMETERS + (_CLIP,)
    kernel_kind, kernel_kind_name = STDP_KIND, "STDP_KIND"
    file_kind = "STDP"
    brian2 = "stdp"
    lava = "stdp"
    nest = "stdp_synapse"


class RSTDPDescription(_PairRule):
    """Reward-modulated STDP: the pairing term feeds a per-synapse eligibility trace."""

    name = "RSTDP"
    cls = RSTDP
    parameters = _PAIR_PARAMETERS + (
        Parameter("tau_elig", "ms", "decay of the eligibility trace"),
        Parameter("lr", "1/ms per unit of dopamine (concentration), 1 per unit of reward "
                        "(phasic)", "learning rate"),
    )
    state = _PAIR_TRACES + (Variable("eligibility", "mV", "eligibility trace", per="synapse"),)
    kernel = "neuromorph.kernels.eligibility"
    kernel_kind, kernel_kind_name = RSTDP_KIND, "RSTDP_KIND"
    eligibility = True
    needs_modulator = True
    file_kind = "RSTDP"
    lava = "rstdp"
    nest = "stdp_dopamine_synapse"

    def engine_parameters(self, rule, dt, modulator=None):
        params = super().engine_parameters(rule, dt)
        if modulator is not None:
            tau_d = np.inf if modulator.phasic else modulator.tau_dopamine
            tau_e = rule.tau_elig
            tau_p = 1.0 / (1 / tau_d + 1 / tau_e)
            params.update(tau_elig=tau_e, lr=rule.lr, tau_d=tau_d, tau_p=tau_p)
        return params


class TripletSTDPDescription(_PairRule):
    """Minimal all-to-all triplet STDP (Pfister & Gerstner 2006)."""

    name = "TripletSTDP"
    cls = TripletSTDP
    parameters = (
        Parameter("tau_plus", "ms", "decay of the fast presynaptic trace r1"),
        Parameter("tau_minus", "ms", "decay of the fast postsynaptic trace o1"),
        Parameter("tau_x", "ms", "decay of the slow presynaptic trace r2"),
        Parameter("tau_y", "ms", "decay of the slow postsynaptic trace o2"),
        Parameter("a2_plus", "mV", "pair potentiation amplitude (>= 0)"),
        Parameter("a3_plus", "mV", "triplet potentiation amplitude (>= 0)"),
        Parameter("a2_minus", "mV", "pair depression amplitude (<= 0)"),
        Parameter("a3_minus", "mV", "triplet depression amplitude (<= 0)"),
        Parameter("w_min", "mV", "lower weight bound"),
        Parameter("w_max", "mV", "upper weight bound"),
        _CLIP,
    )
    state = (
        Variable("x_pre", "1", "fast presynaptic trace r1", per="pre"),
        Variable("x_post", "1", "fast postsynaptic trace o1", per="post"),
        Variable("x_pre2", "1", "slow presynaptic trace r2", per="pre"),
        Variable("x_post2", "1", "slow postsynaptic trace o2", per="post"),
        Variable("w", "mV", "weight", per="synapse"),
    )
    kernel_kind, kernel_kind_name = TRIPLET_KIND, "TRIPLET_KIND"
    file_kind = "TripletSTDP"
    lava = "triplet"
    nest = "stdp_triplet_synapse"

    def engine_parameters(self, rule, dt, modulator=None):
        params = super().engine_parameters(rule, dt)
        params.update(zip(("decay_x", "decay_y", "a3_plus", "a3_minus"), rule.triplet_row(dt)))
        return params


for _d in (STDPDescription, RSTDPDescription, TripletSTDPDescription):
    register(_d())
