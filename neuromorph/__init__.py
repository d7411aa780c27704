"""neuromorph: an event-driven spiking neural network simulator that learns while it runs."""
__version__ = "0.1.0"
