"""Song, Miller & Abbott (2000): additive STDP drives the weights to a bimodal distribution.

1000 Poisson inputs at 15 Hz drive one LIF neuron through additive, all-to-all pair STDP
with slightly dominant depression (``a_minus = -1.05 a_plus``), as in Brian2's
``examples/synapses/STDP.py`` (conductance ``gmax = 0.01`` times ``E_e - v_r = 60 mV``
gives ``w_max = 0.6 mV`` here). The same network description is run by neuromorph's
engine and, through :mod:`neuromorph.backends.brian2`, by Brian2 (cython runtime);
the weight histograms are drawn side by side.

Run::

    python experiments/song_stdp.py [--out experiments/results/song_stdp] [--quick]
        [--no-brian2]

Writes ``song_stdp.png`` / ``.svg`` and ``metrics.json`` (fractions of weights near
each bound, mean weight, output rates, wall-clock times).
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

import neuromorph as nm

W_MAX = 0.6


def build(seed=1):
    """The network (not run): 1000 Poisson inputs -> 1 LIF with additive STDP."""
    net = nm.Network(dt=0.1, seed=seed)
    inp = net.poisson(1000, rate=15.0)
    post = net.lif(1, tau_m=10.0, v_rest=-74.0, v_reset=-60.0, v_th=-54.0,
                   tau_syn_exc=5.0, v_init=-60.0)
    proj = net.connect(inp, post, w=nm.uniform(0, W_MAX),
                       plasticity=nm.STDP(tau_pre=20.0, tau_post=20.0, a_plus=0.01 * W_MAX,
                                          a_minus=-0.0105 * W_MAX, w_min=0.0, w_max=W_MAX))
    mon = net.spike_monitor(post)
    return net, proj, mon


def summary(w, rate_hz):
    """Fractions of weights below 0.1 / above 0.9 ``w_max``, mean (``w_max``), and the
    output rate over the last 10 s (``rate_hz``, Hz)."""
    w = np.asarray(w) / W_MAX
    return {"frac_low": float(np.mean(w < 0.1)), "frac_high": float(np.mean(w > 0.9)),
            "mean_w_over_wmax": float(w.mean()),
            "rate_last_10s_hz": float(rate_hz)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="experiments/results/song_stdp")
    ap.add_argument("--quick", action="store_true", help="20 s instead of 100 s")
    ap.add_argument("--no-brian2", action="store_true", help="neuromorph only")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    duration = 20_000.0 if args.quick else 100_000.0
    last = 10_000.0

    net, proj, mon = build(args.seed)
    w_init = proj.w.copy()
    t0 = time.perf_counter()
    net.run(duration)
    nm_wall = time.perf_counter() - t0
    nm_res = summary(proj.w, np.sum(mon.t >= duration - last) / (last / 1000.0))
    nm_res["wall_s"] = nm_wall
    results = {"duration_ms": duration, "seed": args.seed, "neuromorph": nm_res}
    w_b2 = None
    if not args.no_brian2:
        from neuromorph.backends.brian2 import run_brian2
        net_b2, proj_b2, _ = build(args.seed)
        res = run_brian2(net_b2, duration, target="cython")
        w_b2 = res.weights[proj_b2.name]
        t_b2 = res.spikes[0][0]
        b2_res = summary(w_b2, np.sum(t_b2 >= duration - last) / (last / 1000.0))
        b2_res.update(wall_s=res.wall_s, build_s=res.build_s, target=res.target)
        results["brian2"] = b2_res

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neuromorph.plot import PALETTE, save, weight_histogram
    fig, axes = plt.subplots(1, 2 if w_b2 is not None else 1, figsize=(10, 3.5), squeeze=False)
    axes = axes[0]
    rng = (0, W_MAX)
    weight_histogram(w_init, ax=axes[0], bins=30, w_range=rng, color="lightgrey",
                     label="initial", relative=True)
    weight_histogram(proj.w, ax=axes[0], bins=30, w_range=rng, color=PALETTE[0],
                     label=f"after {duration / 1000:.0f} s", relative=True)
    axes[0].set_title(f"neuromorph ({nm_wall:.1f} s wall)")
    if w_b2 is not None:
        weight_histogram(w_init, ax=axes[1], bins=30, w_range=rng, color="lightgrey",
                         label="initial", relative=True)
        weight_histogram(w_b2, ax=axes[1], bins=30, w_range=rng, color=PALETTE[1],
                         label=f"after {duration / 1000:.0f} s", relative=True)
        axes[1].set_title(f"Brian2 cython ({results['brian2']['wall_s']:.1f} s wall)")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out / "song_stdp.png")
    (out / "metrics.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
