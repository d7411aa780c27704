"""LoihiLIF networks shared by the core Loihi tests and the Lava backend tests."""
import numpy as np

import neuromorph as nm


def recurrent_loihi_network(fixed_point=True, seed=3, sizes=(40, 25, 15), n_src=20,
                            n_steps=1000, delays=False):
    """Spike source -> three LoihiLIF populations (exc, inh, exc), recurrent.

    Weights are random with mixed signs inside projections (integers in [-255, 255]
    in fixed point); ``delays`` adds per-synapse delays of 0-3 steps on two projections.
    """
    rng = np.random.default_rng(seed)
    net = nm.Network(dt=1.0, seed=seed)
    n_spk = 6 * n_steps // 10
    key = np.unique(rng.integers(0, n_steps - 5, n_spk) * n_src + rng.integers(0, n_src, n_spk))
    src = net.spike_source(n_src, indices=key % n_src, times=(key // n_src) * 1.0)
    if fixed_point:
        params = [dict(du=410, dv=205, vth=80, bias_mant=30, bias_exp=4),
                  dict(du=820, dv=410, vth=200, bias_mant=0, bias_exp=0),
                  dict(du=300, dv=100, vth=90, bias_mant=-5, bias_exp=3)]
        v0 = [rng.integers(0, 5000, n).astype(float) for n in sizes]
    else:
        params = [dict(du=0.1, dv=0.05, vth=80.0, bias_mant=7.0),
                  dict(du=0.2, dv=0.1, vth=200.0, bias_mant=0.0),
                  dict(du=0.07, dv=0.025, vth=90.0, bias_mant=-0.6)]
        v0 = [nm.uniform(0, 78), nm.uniform(-50, 50), nm.uniform(0, 80)]
    pops = [net.loihi_lif(n, fixed_point=fixed_point, v_init=v, name=name, **p)
            for n, p, v, name in zip(sizes, params, v0, ("exc", "inh", "exc2"))]
    exc, inh, exc2 = pops

    def weights(n_pre, n_post, lo, hi, p):
        w = rng.uniform(lo, hi, (n_pre, n_post))
        w = np.rint(w) if fixed_point else w / 4.0
        return w * (rng.random((n_pre, n_post)) < p)

    def delay(n_pre, n_post):
        return rng.integers(0, 4, (n_pre, n_post)) * 1.0 if delays else 0.0

    net.connect(src, exc, matrix=weights(n_src, sizes[0], -60, 255, 0.3))
    net.connect(src, exc2, matrix=weights(n_src, sizes[2], 0, 200, 0.3))
    net.connect(exc, exc, matrix=weights(sizes[0], sizes[0], -40, 120, 0.15),
                delay=delay(sizes[0], sizes[0]))
    net.connect(exc, inh, matrix=weights(sizes[0], sizes[1], 0, 60, 0.2))
    net.connect(inh, exc, matrix=weights(sizes[1], sizes[0], -255, 0, 0.3))
    net.connect(inh, exc2, matrix=weights(sizes[1], sizes[2], -120, 30, 0.2),
                delay=delay(sizes[1], sizes[2]))
    net.connect(exc2, inh, matrix=weights(sizes[2], sizes[1], -150, 120, 0.2))
    net.connect(exc2, exc, matrix=weights(sizes[2], sizes[0], -200, 200, 0.2))
    return net
