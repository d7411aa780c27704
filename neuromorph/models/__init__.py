"""Learning-rule families: ``spiking`` (on the event-driven core) and ``rate`` (NumPy references)."""
