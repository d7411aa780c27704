"""Recover the STDP window from the simulator with a pairing protocol (Bi & Poo 1998).

For each lag ``dt_pair = t_post - t_pre`` (ms) one presynaptic spike source and one
postsynaptic LIF neuron are paired ``n_pairs`` times at ``f_pair`` Hz: the post neuron is
forced to fire by a strong kick, the pre neuron fires ``dt_pair`` ms before it (after,
for negative lags). The weight change per pairing, read back from the engine, is
compared with the configured rule's analytic window :meth:`neuromorph.STDP.window`
(additive pair rule) and with the Diehl & Cook rule (``x_tar``, power dependence).

Run::

    python experiments/stdp_window.py [--out experiments/results/stdp_window] [--quick]

Writes ``stdp_window.png`` / ``.svg`` and ``metrics.json``.
"""
import argparse
import json
from pathlib import Path

import numpy as np

import neuromorph as nm

DT = 0.1


def pairing_run(rule, lags, n_pairs=60, f_pair=1.0, w0=0.5, seed=0):
    """Weight change per pairing (mV) for each lag (ms), measured in the engine.

    Parameters
    ----------
    rule : neuromorph.STDP
    lags : array of float
        ``t_post - t_pre`` (ms), multiples of ``DT``.
    n_pairs : int
        Pairings per lag.
    f_pair : float
        Pairing frequency (Hz).
    w0 : float
        Initial weight (mV).

    Returns
    -------
    ndarray
        ``(w_final - w0) / n_pairs`` per lag (mV).
    """
    lags = np.round(np.asarray(lags, float) / DT) * DT
    n = len(lags)
    period = 1000.0 / f_pair
    t_kick = 100.0 + period * np.arange(n_pairs)          # kick -> post spike one step later
    t_post = t_kick + DT
    net = nm.Network(dt=DT, seed=seed)
    pre_t = (t_post[None, :] - lags[:, None]).ravel()
    pre_i = np.repeat(np.arange(n), n_pairs)
    pre = net.spike_source(n, indices=pre_i, times=np.round(pre_t / DT) * DT)
    kick = net.spike_source(n, indices=np.tile(np.arange(n), n_pairs),
                            times=np.repeat(t_kick, n))
    post = net.lif(n, tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=2.0,
                   tau_syn_exc=0.1)
    proj = net.connect(pre, post, w=w0, connectivity_rule="one_to_one", plasticity=rule)
    net.connect(kick, post, w=5000.0, connectivity_rule="one_to_one")
    spikes = net.spike_monitor(post)
    net.run(float(t_post[-1] + period / 2))
    assert spikes.num_spikes == n * n_pairs, "each post neuron must fire once per pairing"
    w = proj.weights[np.arange(n), np.arange(n)]
    return (w - w0) / n_pairs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="experiments/results/stdp_window")
    ap.add_argument("--quick", action="store_true", help="fewer lags and pairings")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lags = np.arange(-80.0, 80.01, 10.0 if args.quick else 2.0)
    lags = lags[lags != 0.0]
    n_pairs = 10 if args.quick else 60
    pair = nm.STDP(tau_pre=16.8, tau_post=33.7, a_plus=0.005, a_minus=-0.0025,
                   w_min=0.0, w_max=1.0)
    dc = nm.STDP(tau_pre=20.0, tau_post=20.0, a_plus=0.005, a_minus=0.0, w_min=0.0,
                 w_max=1.0, weight_dependence="power", power=0.2, x_tar=0.4)
    got_pair = pairing_run(pair, lags, n_pairs)
    got_dc = pairing_run(dc, lags, n_pairs, w0=0.5)
    # Diehl & Cook: a_plus (x_pre - x_tar) (w_max - w)^mu at the post spike; x_pre is
    # exp(-lag/tau_pre) for pre-before-post pairs, 0 otherwise (the soft bound is
    # evaluated at the running weight, so compare the first-order prediction).
    want_pair = pair.window(lags)
    x_pre = np.where(lags >= 0, np.exp(-lags / 20.0), 0.0)
    want_dc = 0.005 * (x_pre - 0.4) * 0.5 ** 0.2
    err_pair = float(np.max(np.abs(got_pair - want_pair)))
    err_dc = float(np.max(np.abs(got_dc - want_dc)) / np.max(np.abs(want_dc)))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neuromorph.plot import PALETTE, save
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    fine = np.linspace(lags.min(), lags.max(), 400)
    fine = fine[fine != 0]
    ax = axes[0]
    ax.plot(fine, pair.window(fine) * 1e3, color=PALETTE[0], label="analytic rule.window")
    ax.plot(lags, got_pair * 1e3, "o", color=PALETTE[1], ms=4, label="engine (pairing)")
    ax.set_title("pair STDP (tau+ 16.8 ms, tau- 33.7 ms)")
    ax = axes[1]
    xf = np.where(fine >= 0, np.exp(-fine / 20.0), 0.0)
    ax.plot(fine, 0.005 * (xf - 0.4) * 0.5 ** 0.2 * 1e3, color=PALETTE[0],
            label="a+ (x_pre - x_tar)(w_max - w)^mu")
    ax.plot(lags, got_dc * 1e3, "o", color=PALETTE[1], ms=4, label="engine (pairing)")
    ax.set_title("Diehl & Cook rule (x_tar 0.4, mu 0.2)")
    for ax in axes:
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_xlabel("t_post - t_pre (ms)")
        ax.set_ylabel("weight change per pairing (uV)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out / "stdp_window.png")
    metrics = {"lags_ms": lags.tolist(), "n_pairs": n_pairs, "f_pair_hz": 1.0,
               "pair_dw_per_pairing_mV": got_pair.tolist(),
               "pair_max_abs_error_mV": err_pair,
               "diehl_cook_dw_per_pairing_mV": got_dc.tolist(),
               "diehl_cook_max_rel_error": err_dc,
               "pair_rule": pair.as_dict(), "diehl_cook_rule": dc.as_dict()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    print(json.dumps({"pair_max_abs_error_mV": err_pair, "diehl_cook_max_rel_error": err_dc}))
    return metrics


if __name__ == "__main__":
    main()
