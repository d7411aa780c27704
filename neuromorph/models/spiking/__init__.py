"""Spiking learning-rule families built on the event-driven core."""

from .csdp import CSDP  # noqa: E402
from .eqspike import EqSpike  # noqa: E402
from .rstdp_classifier import RSTDPClassifier  # noqa: E402
from .spiking_pc import SpikingPC  # noqa: E402
from .stdp_classifier import STDPClassifier  # noqa: E402
