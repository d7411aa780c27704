"""The spike trains of a network's input populations, for backends that replay them."""
from __future__ import annotations

import numpy as np

from ..descriptions import describe
from ..encoders import PoissonBlocks


def input_spikes(net, pop, n_steps):
    """Steps and local indices of an input population's spikes in ``[0, n_steps)``.

    Spike sources: their own steps. Poisson inputs: the trains neuromorph's engine
    draws for ``pop`` (same seed and block layout), so a backend that replays them
    sees exactly the spikes ``net.run`` would.
    """
    if describe(pop.model).input_kind == "spike_times":
        keep = pop.model.steps < n_steps
        return pop.model.steps[keep], pop.model.indices[keep]
    gen = PoissonBlocks(pop.model.rate, net.dt, net.seed, net.populations.index(pop))
    steps, idx = [], []
    for u0 in range(0, n_steps, 1000):
        s, i = gen.events(u0, min(u0 + 1000, n_steps))
        steps.append(s)
        idx.append(i)
    return np.concatenate(steps), np.concatenate(idx)
