"""Spiking learning-rule families built on the event-driven core."""
