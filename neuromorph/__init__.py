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
           "normal", "__version__"]
