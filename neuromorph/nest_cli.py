"""``neuromorph nest NETWORK_FILE``: a saved network (:meth:`Network.save`) on NEST.

A network designed on a laptop is saved with ``net.save(path)``; on a cluster node
``neuromorph nest path --threads 8 --duration 1000 --out spikes.npz`` loads it, records
the spikes of every LIF population and writes them, with the learned weights of its
plastic projections, to one ``.npz`` file:

* ``<population>.t`` (ms) and ``<population>.i`` (neuron index) of every LIF population;
* ``<projection>.w`` (mV, in the projection's synapse order) of every plastic projection;
* ``meta`` -- a JSON string: duration, dt, threads, build and run seconds.
"""
from __future__ import annotations

import json
import os

import numpy as np

from . import _checks


def run_saved_network(path, out, *, duration, threads=1, poisson="exact", zero_delay="warn"):
    """Load ``path``, run it on NEST for ``duration`` ms, write ``out``; return a summary.

    Raises ``ValueError``/``TypeError`` for bad arguments (before the file is read),
    ``OSError`` for a missing file, :class:`~neuromorph.errors.UnsupportedFeature` and
    :class:`~neuromorph.errors.NestError` as :func:`~neuromorph.backends.nest.run_nest`.
    """
    from .backends.nest import _check_args, run_nest
    from .descriptions import describe
    from .network import Network
    _check_args(threads, poisson, "explicit", zero_delay)
    duration = _checks.positive("duration", duration, "ms")
    if not str(out).endswith(".npz"):
        raise ValueError(f"out must be an .npz file name, got {out!r}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"network file {path!r} does not exist")
    net = Network.load(path)
    lifs = [p for p in net.populations if describe(p.model).simulated]
    for pop in lifs:
        net.spike_monitor(pop)
    res = run_nest(net, duration, threads=threads, poisson=poisson, zero_delay=zero_delay)
    arrays = {}
    for pop, mon in zip(lifs, res.monitors):
        arrays[f"{pop.name}.t"], arrays[f"{pop.name}.i"] = mon.t, mon.i
    for name, w in res.weights.items():
        arrays[f"{name}.w"] = w
    meta = {"duration_ms": duration, "dt_ms": net.dt, "threads": threads,
            "build_s": res.build_s, "run_s": res.wall_s, "zero_delay": res.zero_delay,
            "spikes": {p.name: int(m.num_spikes) for p, m in zip(lifs, res.monitors)}}
    np.savez(out, meta=np.array(json.dumps(meta)), **arrays)
    return dict(meta, out=str(out))
