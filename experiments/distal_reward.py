"""Distal reward (Izhikevich 2007, Cerebral Cortex 17:2443), scaled to minutes on a laptop.

A recurrent network of LIF neurons (default 1000: 80 % excitatory, 20 % inhibitory,
10 % connectivity, 1 ms delays) fires irregularly, driven by background Poisson input.
Excitatory -> excitatory synapses follow R-STDP (:class:`neuromorph.RSTDP`): STDP pairings
only tag the synapse with an eligibility trace ``C`` (tau_elig = 1 s) and the weight moves
as ``dw/dt = lr * d(t) * C(t)`` with ``d`` the dopamine concentration (tau = 200 ms).

One excitatory -> excitatory synapse ``pre -> post`` is chosen. Every time ``post`` fires
within 10 ms after ``pre`` (a pre->post pairing of that synapse), a reward is scheduled
1-3 s later (uniform); the network meanwhile keeps firing, so thousands of other synapses
get tagged by chance pairings in between. Only the chosen synapse is tagged *consistently*
before rewards, so only it grows: it reaches ``w_max``, while the rest stay near their
starting distribution: ``a_minus`` is calibrated (:func:`calibrate_a_minus`) so that the
chance pairings of the ongoing activity give the average synapse zero net eligibility.

The loop is closed from Python with ``net.run(..., callback=..., every=...)``: the callback
reads the two neurons' spike monitors, detects pairings and delivers due rewards.

Scaled-down runs are seed-dependent: with 300 neurons and 300 s, seeds 1 and 2 take the
rewarded synapse to w_max, seeds 0 and 3 to 0.75-0.86 w_max (fewer rewards than it needs
against the chance-pairing noise); the others' mean moves by < 2 % in all four.

Writes into ``--out`` (default ``experiments/results/distal_reward/``):

* ``distal_reward.png/.svg`` — rewarded weight vs the distribution of the others over time,
  eligibility of the rewarded synapse and the dopamine level, rewards, population rate;
* ``metrics.json`` — final rewarded weight / w_max, change of the others' mean, counts.

Usage::

    python experiments/distal_reward.py                 # 1000 neurons, 600 s simulated
    python experiments/distal_reward.py --duration 400  # what results/ holds (~2-3 min)
    python experiments/distal_reward.py --quick         # 300 neurons, 300 s (~30 s)
"""
import argparse
import json
import os
import time

import numpy as np

import neuromorph as nm

V_REST, V_TH = -65.0, -50.0


def build(n=1000, p=0.1, seed=0, w_exc=None, w_max=None, lr=None, rate_bg=400.0, w_bg=5.7,
          a_plus=1.0, a_minus=-1.2):
    """Build the network; returns a dict of the pieces the experiment uses.

    Weights (mV, current jumps) are scaled with the number of recurrent inputs
    ``K = p * n`` so that smaller networks behave alike.
    """
    K = p * n
    n_exc = int(round(0.8 * n))
    w_exc = 40.0 / K if w_exc is None else w_exc        # mV; 100 inputs: 0.4 mV jump
    w_max = 2.0 * w_exc if w_max is None else w_max      # start in the middle of [0, w_max]
    w_inh = -4.0 * w_exc
    net = nm.Network(dt=1.0, seed=seed)
    P = net.lif(n, tau_m=20.0, v_rest=V_REST, v_reset=V_REST, v_th=V_TH, t_ref=2.0,
                tau_syn_exc=5.0, tau_syn_inh=5.0, v_init=nm.uniform(V_REST, V_TH),
                name="cortex")
    E, I = P[:n_exc], P[n_exc:]
    bg = net.poisson(n, rate=rate_bg, name="background")
    net.connect(bg, P, w=w_bg, connectivity_rule="one_to_one")
    dopamine = net.reward_signal(tau_dopamine=200.0, name="dopamine")
    # lr in 1/ms per unit dopamine: a rewarded pairing adds ~lr * C * 170 ms to w
    rule = nm.RSTDP(tau_pre=20.0, tau_post=20.0, a_plus=a_plus, a_minus=a_minus, tau_elig=1000.0,
                    lr=(0.25 * w_max / 170.0) if lr is None else lr, w_min=0.0, w_max=w_max)
    ee = net.connect(E, E, p=p, w=w_exc, delay=1.0, allow_self=False, plasticity=rule,
                     modulator=dopamine, name="EE")
    net.connect(E, I, p=p, w=w_exc, delay=1.0, name="EI")
    net.connect(I, P, p=p, w=w_inh, delay=1.0, name="I*")
    return dict(net=net, P=P, E=E, I=I, ee=ee, dopamine=dopamine, rule=rule, w_max=w_max,
                w_exc=w_exc)


def calibrate_a_minus(n=1000, seed=0, duration=20.0, **kw):
    """Depression amplitude that balances the network's chance pairings.

    Runs the network without rewards twice, with only the potentiating (``a_plus=1``)
    and only the depressing (``a_minus=-1``) half of the STDP window, and returns
    ``-P / D``, the ratio of the mean eligibilities: with it, the chance pre/post
    pairings of the ongoing activity (including the causal ones that recurrent
    excitation creates) tag the average synapse with zero net eligibility, so rewards
    do not move the mean weight (Izhikevich 2007 used ``a_minus = -1.5 a_plus`` for the
    same purpose).
    """
    means = []
    for a_plus, a_minus in ((1.0, 0.0), (0.0, -1.0)):
        parts = build(n=n, seed=seed, a_plus=a_plus, a_minus=a_minus, **kw)
        net, ee = parts["net"], parts["ee"]
        net.run(2000.0)
        vals = []
        for _ in range(int(duration)):
            net.run(1000.0)
            vals.append(ee.eligibility.mean())
        means.append(float(np.mean(vals)))
    return -means[0] / abs(means[1])


def choose_synapse(ee, rng):
    """Index (in ``ee``'s synapse order) of the synapse whose pairings get rewarded."""
    return int(rng.integers(ee.n_synapses))


def run(n=1000, duration=600.0, seed=0, window=10.0, delay=(1000.0, 3000.0), every=100.0,
        record_every=1000.0, progress=False, **kw):
    """Run the experiment; returns a dict of time series and metrics.

    ``duration`` in s of simulated time; ``window`` (ms): a post spike at most this long
    after a pre spike is a pairing; ``delay`` (ms): range of the reward delay.
    """
    if kw.get("a_minus") is None:
        kw["a_minus"] = calibrate_a_minus(n=n, seed=seed + 7, **{k: v for k, v in kw.items()
                                                                 if k != "a_minus"})
    parts = build(n=n, seed=seed, **kw)
    net, P, ee, dopamine = parts["net"], parts["P"], parts["ee"], parts["dopamine"]
    rng = np.random.default_rng(seed + 1)
    s = choose_synapse(ee, rng)
    i_pre, i_post = int(ee.sources[s]), int(ee.targets[s])
    mon_pre = net.spike_monitor(parts["E"][i_pre])
    mon_post = net.spike_monitor(parts["E"][i_post])
    rate = net.rate_monitor(P)
    others = np.ones(ee.n_synapses, bool)
    others[s] = False
    w0_mean = float(ee.w[others].mean())
    state = dict(pre_seen=0, post_seen=0, last_pre=-np.inf)
    pending = []          # scheduled reward times (ms)
    pairings, rewards = [], []
    trace = dict(t=[], elig=[])
    snaps = dict(t=[], w=[], mean=[], p5=[], p50=[], p95=[])
    rec_k = int(round(record_every / every))
    calls = [0]

    def snapshot(t):
        w = ee.w
        snaps["t"].append(t)
        snaps["w"].append(float(w[s]))
        snaps["mean"].append(float(w[others].mean()))
        for q in (5, 50, 95):
            snaps[f"p{q}"].append(float(np.percentile(w[others], q)))

    def loop(net):
        t = net.t
        pre_t = mon_pre.t[state["pre_seen"]:]
        post_t = mon_post.t[state["post_seen"]:]
        state["pre_seen"] += len(pre_t)
        state["post_seen"] += len(post_t)
        all_pre = np.concatenate([[state["last_pre"]], pre_t])
        for tp in post_t:
            k = np.searchsorted(all_pre, tp, side="left") - 1   # last pre strictly before
            if k >= 0 and tp - all_pre[k] <= window:
                pairings.append(float(tp))
                pending.append(float(tp + rng.uniform(*delay)))
        if len(pre_t):
            state["last_pre"] = float(pre_t[-1])
        due = [r for r in pending if r <= t]
        for r in due:
            pending.remove(r)
            dopamine.deliver(1.0)
            rewards.append(t)
        trace["t"].append(t)
        trace["elig"].append(float(ee.eligibility[s]))
        calls[0] += 1
        if calls[0] % rec_k == 0:
            snapshot(t)

    snapshot(0.0)
    t0 = time.perf_counter()
    net.run(duration * 1000.0, callback=loop, every=every, progress=progress)
    wall = time.perf_counter() - t0
    w_final = float(ee.w[s])
    mean_final = float(ee.w[others].mean())
    counts = np.bincount(np.concatenate([mon_pre.i * 0, mon_post.i * 0 + 1]), minlength=2)
    n_total_spikes = int(rate.counts.sum())
    metrics = dict(
        n_neurons=n, n_exc_synapses_plastic=int(ee.n_synapses), duration_s=duration,
        a_plus=parts["rule"].a_plus, a_minus=parts["rule"].a_minus,
        tau_elig_ms=parts["rule"].tau_elig, lr=parts["rule"].lr,
        rewarded_max_over_wmax=float(max(snaps["w"]) / parts["w_max"]),
        seed=seed, synapse=dict(index=s, pre=i_pre, post=i_post),
        w_initial=float(parts["w_exc"]), w_max=float(parts["w_max"]),
        rewarded_final=w_final, rewarded_final_over_wmax=w_final / parts["w_max"],
        others_mean_initial=w0_mean, others_mean_final=mean_final,
        others_mean_relative_change=(mean_final - w0_mean) / w0_mean,
        others_p95_final=float(np.percentile(ee.w[others], 95)),
        others_fraction_above_90pct_wmax=float(np.mean(ee.w[others] >= 0.9 * parts["w_max"])),
        n_pairings=len(pairings), n_rewards=len(rewards),
        mean_rate_hz=n_total_spikes / (n * duration),
        pre_rate_hz=float(counts[0] / duration), post_rate_hz=float(counts[1] / duration),
        wall_time_s=wall,
    )
    return dict(metrics=metrics, snaps=snaps, trace=trace, rewards=rewards,
                pairings=pairings, dopamine=dopamine, rate=rate)


def plot(res, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neuromorph.plot import PALETTE, save

    m, sn, tr = res["metrics"], res["snaps"], res["trace"]
    fig, axes = plt.subplots(3, 1, figsize=(8, 8.5), sharex=True)
    ts = np.asarray(sn["t"]) / 1000.0
    ax = axes[0]
    ax.fill_between(ts, sn["p5"], sn["p95"], color=PALETTE[5], alpha=0.4,
                    label="other E->E synapses, 5-95 %")
    ax.plot(ts, sn["mean"], color=PALETTE[0], label="others, mean")
    ax.plot(ts, sn["w"], color=PALETTE[3], lw=2, label="rewarded synapse")
    ax.axhline(m["w_max"], color="k", ls=":", lw=1, label="w_max")
    ax.set_ylabel("weight (mV)")
    ax.legend(loc="center right", fontsize=8)
    ax.set_title(f"Distal reward: {m['n_neurons']} LIF neurons, reward 1-3 s after each "
                 f"pre->post pairing ({m['n_rewards']} rewards)", fontsize=10)
    t = np.asarray(tr["t"]) / 1000.0
    ax = axes[1]
    ax.plot(t, tr["elig"], color=PALETTE[2], lw=0.7)
    ax.set_ylabel("eligibility C of the\nrewarded synapse (mV)")
    ax = axes[2]
    ax.plot(t, res["dopamine"].level(np.asarray(tr["t"])), color=PALETTE[4], lw=0.7)
    ax.plot(np.asarray(res["pairings"]) / 1000.0, np.full(len(res["pairings"]), -0.15), "|",
            color=PALETTE[1], label="pre->post pairing")
    ax.plot(np.asarray(res["rewards"]) / 1000.0, np.full(len(res["rewards"]), -0.35), "|",
            color=PALETTE[3], label="reward")
    ax.set_ylabel("dopamine d(t)")
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    save(fig, os.path.join(out, "distal_reward.png"))
    # zoom on the last 20 s: eligibility jumps at pairings, dopamine after rewards
    fig, ax = plt.subplots(2, 1, figsize=(8, 4.5), sharex=True)
    sel = t >= t[-1] - 20.0
    ax[0].plot(t[sel], np.asarray(tr["elig"])[sel], color=PALETTE[2])
    ax[0].set_ylabel("eligibility (mV)")
    ax[1].plot(t[sel], res["dopamine"].level(np.asarray(tr["t"])[sel]), color=PALETTE[4])
    pr = np.asarray(res["pairings"]) / 1000.0
    ax[1].plot(pr[pr >= t[sel][0]], np.zeros((pr >= t[sel][0]).sum()), "|", color=PALETTE[1],
               markersize=12, label="pairing")
    ax[1].set_ylabel("dopamine")
    ax[1].set_xlabel("time (s)")
    ax[1].legend(fontsize=8)
    fig.tight_layout()
    save(fig, os.path.join(out, "traces_zoom.png"))
    plt.close("all")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "distal_reward"))
    ap.add_argument("--quick", action="store_true", help="300 neurons, 300 s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=None, help="number of neurons")
    ap.add_argument("--duration", type=float, default=None, help="simulated time (s)")
    args = ap.parse_args(argv)
    n = args.n or (300 if args.quick else 1000)
    duration = args.duration or (300.0 if args.quick else 600.0)
    os.makedirs(args.out, exist_ok=True)
    res = run(n=n, duration=duration, seed=args.seed, progress=True)
    plot(res, args.out)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(res["metrics"], f, indent=2)
    print(json.dumps(res["metrics"], indent=2))


if __name__ == "__main__":
    main()
