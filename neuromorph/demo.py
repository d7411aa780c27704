"""The demo: a small network that learns with STDP while it runs.

200 Poisson inputs (15 Hz) drive 20 LIF neurons through all-to-all additive STDP
synapses (Song, Miller & Abbott 2000; depression 10 % stronger than potentiation). Over the run the weights move from a uniform
start to the bimodal distribution STDP is known for, and the output rate settles.
Writes ``demo.png`` (raster, rates, weight histograms, weight matrix) and
``demo.json`` (numbers) to the output folder.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from . import plot
from .distributions import uniform
from .network import Network
from .plasticity import STDP


def run_demo(out="demo_out", duration=30_000.0, seed=1, progress=True):
    """Build, run and plot the demo network; returns the metrics dict."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    net = Network(dt=0.1, seed=seed)
    inp = net.poisson(200, rate=15.0, name="input")
    post = net.lif(20, tau_m=10.0, v_rest=-74.0, v_reset=-60.0, v_th=-54.0, tau_syn_exc=5.0,
                   v_init=uniform(-60.0, -54.0), name="output")
    w_max = 2.5
    rule = STDP(tau_pre=20.0, tau_post=20.0, a_plus=0.01 * w_max, a_minus=-0.01 * 1.1 * w_max,
                w_min=0.0, w_max=w_max)
    proj = net.connect(inp, post, w=uniform(0.0, w_max), plasticity=rule, name="input->output")
    w0 = proj.w.copy()
    s_in, s_out = net.spike_monitor(inp[:50]), net.spike_monitor(post)
    rate = net.rate_monitor(post)
    t0 = time.perf_counter()
    net.run(duration, progress=progress)
    wall = time.perf_counter() - t0

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    window = min(1000.0, duration)
    for mon, color, off, label in ((s_in, plot.PALETTE[5], 0, "input 0-49"),
                                   (s_out, plot.PALETTE[3], 55, "output")):
        keep = mon.t >= duration - window
        axes[0, 0].plot(mon.t[keep], mon.i[keep] + off, "|", color=color, ms=2, label=label)
    axes[0, 0].set(xlabel="time (ms)", ylabel="neuron", title=f"last {window:.0f} ms")
    axes[0, 0].legend(loc="upper right", fontsize=8)
    per_bin = int(round(250.0 / net.dt))
    n_bins = rate.counts.size // per_bin
    binned = rate.counts[:n_bins * per_bin].reshape(n_bins, per_bin).sum(1) / (20 * 0.25)
    axes[0, 1].step(np.arange(n_bins) * 0.25, binned, where="post", color=plot.PALETTE[0])
    axes[0, 1].set(xlabel="time (s)", ylabel="output rate (Hz)",
                   title="output rate (250 ms bins)")
    bins = np.linspace(0, w_max, 21)
    plot.weight_histogram(w0, ax=axes[1, 0], bins=bins, color=plot.PALETTE[1], label="start",
                          relative=True)
    plot.weight_histogram(proj.w, ax=axes[1, 0], bins=bins, color=plot.PALETTE[0],
                          label="end", relative=True)
    axes[1, 0].legend()
    axes[1, 0].set_title("STDP makes the weights bimodal")
    plot.weight_matrix(proj, ax=axes[1, 1])
    axes[1, 1].set_title("learned weights")
    fig.tight_layout()
    plot.save(fig, out / "demo.png")
    plt.close(fig)
    w = proj.w / w_max
    metrics = dict(duration_ms=duration, wall_s=round(wall, 3), seed=seed,
                   output_rate_hz_first_s=float(s_out.steps[s_out.t < 1000.0].size / 20),
                   output_rate_hz_last_s=float((s_out.t >= duration - 1000.0).sum() / 20),
                   frac_w_below_0_1=float(np.mean(w < 0.1)),
                   frac_w_above_0_9=float(np.mean(w > 0.9)), w_mean_rel=float(w.mean()))
    (out / "demo.json").write_text(json.dumps(metrics, indent=2))
    return metrics
