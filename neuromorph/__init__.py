"""neuromorph: an event-driven spiking neural network simulator that learns while it runs.

Units: time in ms, voltage in mV, rates in Hz, weights in mV per spike.
"""
from . import errors
from .distributions import normal, uniform
from .errors import UnsupportedFeature
from .network import Network, Population, PopulationView, Projection
from .neurons import LIF, LoihiLIF
from .modulation import RewardSignal
from .plasticity import RSTDP, STDP, TripletSTDP

__version__ = "0.1.0"


__all__ = ["Network", "Population", "PopulationView", "Projection", "LIF", "LoihiLIF", "STDP",
           "RSTDP", "TripletSTDP", "RewardSignal", "UnsupportedFeature", "errors", "uniform",
           "normal", "deploy", "set_num_threads", "get_num_threads", "__version__"]


def set_num_threads(n):
    """Use ``n`` numba threads in the engine (1 .. ``NUMBA_NUM_THREADS``).

    Spikes and weights are bit-identical for any number of threads.
    """
    from .simulator import set_num_threads as _set
    _set(n)


def get_num_threads():
    """The number of numba threads the engine uses."""
    from .simulator import get_num_threads as _get
    return _get()


from . import deploy  # noqa: E402  (a callable package: nm.deploy(model, backend=...))
