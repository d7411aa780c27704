"""EqSpike (spec §3.6) on scikit-learn digits, or on MNIST-format IDX files, vs rate EqProp (§4.19).

Trains :class:`neuromorph.models.spiking.eqspike.EqSpike` (one hidden layer of LIF
neurons, symmetric weights, free phase + symmetric ±β nudged phases, spike-triggered
local update, Adam) for several seeds on the project's fixed digits split
(:func:`neuromorph.datasets.load_digits_split`), one epoch at a time so the test accuracy
after every epoch gives a learning curve. Also runs, with the same seeds, hidden width,
data and epochs: the batch end-of-phase reference mode of EqSpike, EqSpike with Bernoulli
spike input instead of clamped analog rates, and rate equilibrium propagation
(:class:`neuromorph.models.rate.EquilibriumPropagation`, hard-sigmoid units, symmetric
nudging) — the rate-vs-spike row. Writes to ``--out``:

* ``metrics.json`` — per seed: per-epoch test accuracy, training loss, hidden rate, wall
  time; mean ± std test accuracy of EqSpike (spike-triggered), EqSpike (batch mode),
  EqSpike (Bernoulli input) and rate EqProp; the oracle cosines (EqSpike's update vs
  rate EqProp's on the same weights and input, small β, long phases);
* ``learning_curve.png/.svg`` — test accuracy per epoch, mean ± std over seeds, all runs;
* ``phases.png/.svg`` — spikes of every layer and the output rates over the free phase
  and the +β nudged phase for one test image;
* ``oracle.png/.svg`` — EqSpike's accumulated update vs rate EqProp's, element by element;
* ``receptive_fields.png/.svg`` — W1 of the first 64 hidden neurons.

Usage::

    python experiments/eqspike_digits.py                        # digits, 5 seeds
    python experiments/eqspike_digits.py --quick --out /tmp/e   # smoke run (< 1 min)
    python experiments/eqspike_digits.py --seed 3               # one seed
    python experiments/eqspike_digits.py --data-dir ~/mnist     # MNIST IDX files

Wall times are training only (test evaluation excluded), one process, on the machine
that ran the script.
"""
import argparse
import json
import os
import platform
import time

import numpy as np

from neuromorph.datasets import load_image_task
from neuromorph.models.spiking.eqspike import EqSpike

CONFIG = dict(hidden_layer_sizes=(256,), learning_rate=2e-3)  # = the estimator defaults
EPOCHS = 10
QUICK = dict(hidden_layer_sizes=(64,), learning_rate=2e-3)
#: Bernoulli spike input (each pixel fires with probability x f_max dt per step): longer
#: traces and phases average the input noise.
BERNOULLI = dict(input_encoding="bernoulli", tau_trace=20.0, n_free=100, n_nudge=40)
#: Rate EqProp with the same width, optimiser, learning rate, batch size and nudging.
RATE = dict(learning_rate=2e-3, batch_size=20, nudging="symmetric")
#: The oracle configuration of tests/test_eqspike.py: near-linear LIF rates (long τ_m, no
#: refractoriness) so ρ(drive) ≈ hard-sigmoid(drive), small weights, small β, long phases.
ORACLE = dict(hidden_layer_sizes=(32,), tau_m=200.0, resistance=20.0, t_ref=0.0, f_max=100.0,
              weight_scale=0.5, n_free=300, n_nudge=300, beta=0.1)


def _curve_run(model, epochs, data, label):
    Xtr, Xte, ytr, yte = data
    curve, train_time = [], 0.0
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.partial_fit(Xtr, ytr, classes=np.unique(ytr))
        train_time += time.perf_counter() - t0
        curve.append(float(model.score(Xte, yte)))
        print(f"  {label} seed {model.random_state} epoch {len(curve)}: test {curve[-1]:.4f} "
              f"({train_time:.0f} s)", flush=True)
    return dict(seed=model.random_state, test_accuracy=curve[-1], test_curve=curve,
                loss=[float(v) for v in model.history_["loss"]],
                train_accuracy=[float(v) for v in model.history_["accuracy"]],
                train_seconds=train_time, samples_per_second=epochs * len(Xtr) / train_time)


def run_eqspike(config, epochs, seed, data, update="spike"):
    model = EqSpike(random_state=seed, update=update, **config)
    run = _curve_run(model, epochs, data, f"EqSpike[{update}, {model.input_encoding}]")
    run["rate_hidden_hz"] = model.history_["rate_hidden"]
    return model, run


def run_rate(config, epochs, seed, data):
    from neuromorph.models.rate import EquilibriumPropagation

    model = EquilibriumPropagation(random_state=seed,
                                   hidden_layer_sizes=config["hidden_layer_sizes"], **RATE)
    return _curve_run(model, epochs, data, "rate EqProp")


def summary(runs):
    accs = [r["test_accuracy"] for r in runs]
    return dict(test_accuracy_mean=float(np.mean(accs)), test_accuracy_std=float(np.std(accs)),
                train_seconds_mean=float(np.mean([r["train_seconds"] for r in runs])),
                runs=runs)


def oracle(data, n=100):
    """Cosine between EqSpike's update and rate EqProp's on the same weights and input."""
    from neuromorph.models.rate import EquilibriumPropagation

    Xtr, _, ytr, _ = data
    C = len(np.unique(ytr))
    X, Y = Xtr[:n], np.eye(C)[np.searchsorted(np.unique(ytr), ytr[:n])]
    out = {"config": {k: list(v) if isinstance(v, tuple) else v for k, v in ORACLE.items()}}
    for update in ("spike", "batch"):
        m = EqSpike(random_state=0, update=update, **ORACLE)
        m._check_params()
        m.classes_ = np.arange(C)
        m._rng = np.random.default_rng(0)
        m._initialize(X.shape[1], C)
        g = m.update_directions(X, Y)
        r = EquilibriumPropagation(hidden_layer_sizes=ORACLE["hidden_layer_sizes"],
                                   beta=ORACLE["beta"], nudging="symmetric",
                                   n_free=ORACLE["n_free"], n_nudged=ORACLE["n_nudge"],
                                   random_state=0)
        r._check_params()
        r.classes_ = np.arange(C)
        r._rng = np.random.default_rng(0)
        r._initialize(X.shape[1], C)
        L = len(m.up_)
        for l in range(L):
            r.net_.W[l][...] = m.up_[l].W.T
            r.net_.b[l][...] = m.b_[l]
        d = r.update_directions(X, Y)
        asc = [-w.T for w in d[:L]] + [-b for b in d[L:]]
        a = np.concatenate([v.ravel() for v in g])
        b = np.concatenate([v.ravel() for v in asc])
        per = {f"W{l + 1}": _cos(g[l], asc[l]) for l in range(L)}
        per.update({f"b{l + 1}": _cos(g[L + l], asc[L + l]) for l in range(L)})
        out[update] = dict(cosine=_cos(a, b), per_parameter=per)
        out[f"_vectors_{update}"] = (a, b)
        print(f"  oracle [{update}]: cosine {out[update]['cosine']:.3f}", flush=True)
    return out


def _cos(a, b):
    a, b = np.ravel(a), np.ravel(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def figures(model, results, orc, data, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neuromorph import plot

    P = plot.PALETTE
    Xtr, Xte, ytr, yte = data
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for (key, label), color in zip((("eqspike", "EqSpike, spike-triggered"),
                                    ("eqspike_batch", "EqSpike, batch reference mode"),
                                    ("eqspike_bernoulli", "EqSpike, Bernoulli spike input"),
                                    ("rate_eqprop", "rate EqProp")), P):
        if key not in results:
            continue
        curves = np.array([r["test_curve"] for r in results[key]["runs"]])
        ep = np.arange(1, curves.shape[1] + 1)
        ax.plot(ep, curves.mean(0), marker="o", ms=3, color=color,
                label=f"{label} ({len(curves)} seeds)")
        ax.fill_between(ep, curves.mean(0) - curves.std(0), curves.mean(0) + curves.std(0),
                        color=color, alpha=0.25)
    ax.axhline(0.93, color="gray", lw=0.8, ls=":", label="target 93 %")
    ax.set(xlabel="epoch", ylabel="test accuracy", title="EqSpike vs rate EqProp (digits)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="lower right", fontsize=8)
    plot.save(fig, os.path.join(out, "learning_curve.png"))
    plt.close(fig)

    x, label = Xte[:1], yte[:1]
    rec = model.simulate(x, labels=label, record=True, rng=np.random.default_rng(0))
    names = ["input"] + [f"hidden {l + 1}" for l in range(len(model.layers_) - 1)] + ["output"]
    spikes = rec["spikes"]
    if model.input_encoding == "rate":  # clamped analog input: no input spikes to show
        names, spikes = names[1:], spikes[1:]
    t_end = model.n_free * model.dt
    fig, axes = plt.subplots(len(names) + 1, 1, figsize=(7, 1.5 * (len(names) + 1)),
                             sharex=True)
    for ax, spk, name in zip(axes, spikes, names):
        t, j = np.nonzero(spk[:, 0, :])
        ax.plot(t * model.dt, j, "|", ms=2, color=P[0])
        ax.set_ylabel(name)
        ax.set_ylim(-0.5, spk.shape[2] - 0.5)
        ax.axvline(t_end, color="gray", lw=0.8, ls="--")
    rates = rec["output_rates"][:, 0, :]
    t = np.arange(1, len(rates) + 1) * model.dt
    for c in range(rates.shape[1]):
        true = model.classes_[c] == label[0]
        axes[-1].plot(t, rates[:, c], color=P[3] if true else "0.6", lw=1.6 if true else 0.8,
                      label=f"class {label[0]} (target)" if true else None)
    axes[-1].axvline(t_end, color="gray", lw=0.8, ls="--")
    axes[-1].set(ylabel="output rate ρ", xlabel="time (ms)")
    axes[-1].legend(fontsize=8, loc="upper left")
    axes[0].set_title(f"free phase | nudged phase (β = +{model.beta}), test image {label[0]}",
                      fontsize=9)
    plot.save(fig, os.path.join(out, "phases.png"))
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    for ax, update in zip(axes, ("spike", "batch")):
        a, b = orc[f"_vectors_{update}"]
        ax.plot(b, a, ".", ms=2, color=P[0], alpha=0.5)
        lim = np.abs(b).max()
        k = (a @ b) / (b @ b)
        ax.plot([-lim, lim], [-k * lim, k * lim], color=P[3], lw=0.8)
        ax.set(xlabel="rate EqProp update", ylabel=f"EqSpike update ({update})",
               title=f"{update}: cosine {orc[update]['cosine']:.3f}")
    fig.suptitle("same weights and input, β = 0.1, 300 + 2×300 steps", fontsize=9)
    plot.save(fig, os.path.join(out, "oracle.png"))
    plt.close(fig)

    side = int(round(np.sqrt(Xte.shape[1])))
    if side * side == Xte.shape[1]:
        fig, ax = plt.subplots(figsize=(5, 5))
        plot.receptive_fields(model.weights_["W1"][:, :64], (side, side), ax=ax)
        ax.set_title("W1 receptive fields (first 64 hidden neurons)")
        plot.save(fig, os.path.join(out, "receptive_fields.png"))
        plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "eqspike_digits"))
    ap.add_argument("--data-dir", default=None, help="folder with MNIST IDX files")
    ap.add_argument("--n-train", type=int, default=None, help="subset of the IDX training set")
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds (0, 1, ...)")
    ap.add_argument("--seed", type=int, default=None, help="run this one seed only")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="small net, 1 seed, 2 epochs")
    ap.add_argument("--no-rate", action="store_true", help="skip rate EqProp")
    ap.add_argument("--no-batch", action="store_true", help="skip EqSpike's batch mode")
    ap.add_argument("--no-bernoulli", action="store_true",
                    help="skip EqSpike with Bernoulli spike input")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    *data, name = load_image_task(args.data_dir, args.n_train)
    config = dict(QUICK if args.quick else CONFIG)
    epochs = args.epochs or (2 if args.quick else EPOCHS)
    if args.seed is not None:
        seeds = [args.seed]
    else:
        seeds = list(range(1 if args.quick else args.seeds))
    results, model = {}, None
    runs = []
    for seed in seeds:
        m, r = run_eqspike(config, epochs, seed, data)
        runs.append(r)
        model = model or m
    results["eqspike"] = summary(runs)
    if not args.no_batch:
        results["eqspike_batch"] = summary(
            [run_eqspike(config, epochs, s, data, update="batch")[1] for s in seeds])
    if not args.no_bernoulli:
        results["eqspike_bernoulli"] = summary(
            [run_eqspike(dict(config, **BERNOULLI), epochs, s, data)[1] for s in seeds])
    if not args.no_rate:
        results["rate_eqprop"] = summary([run_rate(config, epochs, s, data) for s in seeds])
    orc = oracle(data)
    metrics = {
        "dataset": name, "n_train": len(data[0]), "n_test": len(data[1]),
        "config": {k: list(v) if isinstance(v, tuple) else v
                   for k, v in model.get_params().items()
                   if k not in ("random_state", "activation")},
        "bernoulli_config": BERNOULLI,
        "rate_config": dict(RATE, hidden_layer_sizes=list(config["hidden_layer_sizes"])),
        "epochs": epochs, "seeds": seeds,
        "test_accuracy_mean": results["eqspike"]["test_accuracy_mean"],
        "test_accuracy_std": results["eqspike"]["test_accuracy_std"],
        "oracle_cosine_spike": orc["spike"]["cosine"],
        "oracle_cosine_batch": orc["batch"]["cosine"],
        "results": results,
        "oracle": {k: v for k, v in orc.items() if not k.startswith("_")},
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "cpus": os.cpu_count()},
    }
    for key, res in results.items():
        metrics[f"{key}_mean"] = res["test_accuracy_mean"]
        metrics[f"{key}_std"] = res["test_accuracy_std"]
        print(f"{key} {name}: {res['test_accuracy_mean']:.4f} ± {res['test_accuracy_std']:.4f} "
              f"({res['train_seconds_mean']:.0f} s training)", flush=True)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    figures(model, results, orc, data, args.out)
    return metrics


if __name__ == "__main__":
    main()
