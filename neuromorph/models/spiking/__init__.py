"""Spiking learning-rule families built on the event-driven core."""

from .csdp import CSDP  # noqa: E402
from .eprop import EProp  # noqa: E402
from .eqspike import EqSpike  # noqa: E402
from .rstdp_classifier import RSTDPClassifier  # noqa: E402
from .spiking_pc import SpikingPC  # noqa: E402
from .stdp_classifier import STDPClassifier  # noqa: E402
from .surrogate_bptt import SurrogateBPTT  # noqa: E402

__all__ = ["CSDP", "EProp", "EqSpike", "RSTDPClassifier", "SpikingPC", "STDPClassifier",
           "SurrogateBPTT", "registry"]


def registry():
    """``{name: class}`` of every spiking classifier, in the comparison's order:
    the layered learners (forward-only, discrepancy reduction, energy-based), then the
    learners on the event-driven network core (R-STDP, Diehl & Cook STDP), then the
    temporal learners on a recurrent LIF layer (e-prop, surrogate-gradient BPTT)."""
    return {cls.__name__: cls for cls in (CSDP, SpikingPC, EqSpike, RSTDPClassifier,
                                          STDPClassifier, EProp, SurrogateBPTT)}
