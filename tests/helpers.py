"""Small networks shared by the core tests."""
import numpy as np

import neuromorph as nm


def random_network(seed=0, plastic=True, pairing="all_to_all", dependence="additive",
                   delays=True, adaptive=False, clip="update"):
    """Spike sources + Poisson -> two LIF populations, recurrent, mixed signs, delays."""
    net = nm.Network(dt=0.1, seed=seed)
    rng = np.random.default_rng(seed)
    n_src, t_end = 30, 200.0
    times = np.round(rng.uniform(0, t_end, 400) / 0.1) * 0.1
    idx = rng.integers(0, n_src, 400)
    key = np.unique(np.round(times / 0.1).astype(int) * n_src + idx)
    src = net.spike_source(n_src, indices=key % n_src, times=(key // n_src) * 0.1)
    inp = net.poisson(40, rate=60.0)
    a = net.lif(25, tau_m=10.0, v_rest=-57.0, v_reset=-70.0, v_th=-55.0, t_ref=2.0,
                tau_syn_exc=3.0, tau_syn_inh=8.0, v_init=nm.uniform(-70.0, -56.0),
                theta_plus=0.5 if adaptive else 0.0, tau_theta=80.0 if adaptive else np.inf)
    b = net.lif(15, tau_m=15.0, v_rest=-60.0, v_reset=-65.0, v_th=-52.0, t_ref=0.0,
                tau_syn_exc=15.0, tau_syn_inh=5.0)
    mixed = rng.normal(2.0, 3.0, (n_src, 25)) * (rng.random((n_src, 25)) < 0.4)
    d = rng.integers(0, 30, (n_src, 25)) * 0.1 if delays else 0.0
    net.connect(src, a, matrix=mixed, delay=d)
    rule = nm.STDP(tau_pre=15.0, tau_post=25.0, a_plus=0.2, a_minus=-0.25, w_min=-1.0,
                   w_max=4.0, weight_dependence=dependence, pairing=pairing, power=0.7,
                   x_tar=0.2 if dependence == "power" else 0.0, clip=clip)
    net.connect(inp, a, p=0.3, w=nm.uniform(0.0, 3.0), plasticity=rule if plastic else None)
    net.connect(a, b, p=0.5, w=nm.uniform(0.5, 3.0), delay=1.0 if delays else 0.0,
                plasticity=rule if plastic else None)
    net.connect(b, a, p=0.3, w=-2.0, delay=0.5 if delays else 0.0)
    net.connect(a, a, p=0.1, w=1.0, allow_self=False)
    net.current(b[:5], 12.0, start=50.0, stop=120.0)
    return net


def rstdp_network(seed, phasic=False, dependence="additive", pairing="all_to_all"):
    net = nm.Network(dt=0.1, seed=seed)
    inp = net.poisson(60, rate=80.0)
    a = net.lif(30, tau_m=10.0, v_rest=-58.0, v_reset=-70.0, v_th=-55.0, t_ref=2.0,
                tau_syn_exc=3.0, tau_syn_inh=6.0, v_init=nm.uniform(-70.0, -56.0))
    b = net.lif(10, tau_m=12.0, v_rest=-60.0, v_reset=-65.0, v_th=-54.0, tau_syn_exc=4.0)
    reward = net.reward_signal(None if phasic else 150.0)
    rule = nm.RSTDP(tau_pre=20.0, tau_post=25.0, a_plus=1.0, a_minus=-1.2, tau_elig=300.0,
                    lr=0.02 if not phasic else 0.3, w_min=-1.0, w_max=4.0,
                    weight_dependence=dependence, pairing=pairing)
    net.connect(inp, a, p=0.4, w=nm.uniform(0.0, 3.0), plasticity=rule)
    net.connect(a, b, p=0.5, w=nm.uniform(0.5, 3.0), plasticity=rule, delay=0.5)
    net.connect(b, a, p=0.3, w=-2.0, delay=1.0)
    return net, reward


def refuse_nest(monkeypatch):
    """Make any use of NEST in :mod:`neuromorph.backends.nest` fail the test: for
    checks that bad input is refused before NEST is touched."""
    from neuromorph.backends import nest as nb

    def touched():
        raise AssertionError("NEST was touched")
    monkeypatch.setattr(nb, "_nest", touched)


def written_nir(dep, path):
    """``dep.to_nir(path)``, then the graph NIR itself reads back from ``path``."""
    import nir

    dep.to_nir(path)
    return nir.read(path)


def assert_same_synapses(p, q):
    """Projections ``p`` and ``q`` join the same neurons with the same weights and delays
    (compared as dense pre x post matrices, whatever their synapse order)."""
    for attr in ("w", "delay_steps"):
        full = np.full((p.pre.population.size, p.post.population.size), np.nan)
        full[p.sources, p.targets] = getattr(p, attr)
        got = np.full_like(full, np.nan)
        got[q.sources, q.targets] = getattr(q, attr)
        np.testing.assert_allclose(got, full, rtol=1e-12, atol=0)
