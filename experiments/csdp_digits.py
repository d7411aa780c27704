"""CSDP (spec §3.7) on scikit-learn digits, or on MNIST-format IDX files, vs rate FF / RFF.

Trains :class:`neuromorph.models.spiking.CSDP` (supervised mode, two hidden LIF layers
with bottom-up, top-down, lateral-inhibitory and label synapses, Adam, delta-rule LIF
label readout) for several seeds on the project's fixed digits split
(:func:`neuromorph.datasets.load_digits_split`), one epoch at a time so the test
accuracy after every epoch gives a learning curve. The rate-coded Forward-Forward and
recurrent FF of :mod:`neuromorph.models.rate` (same hidden widths, same split) run as the
comparison. Writes to ``--out``:

* ``metrics.json`` — per seed: per-epoch test accuracy, training loss, goodness, wall
  time; mean ± std test accuracy; training throughput (samples/s); a profile of the
  training hot path; the FF / RFF comparison;
* ``learning_curve.png/.svg`` — test accuracy per epoch (mean ± std over seeds);
* ``rasters.png/.svg`` — spikes of every layer for one positive (true label) and one
  negative (wrong label) presentation of the same test image;
* ``goodness.png/.svg`` — per-layer goodness logit over the window, positive vs negative;
* ``receptive_fields.png/.svg`` — bottom-up weights W1 of the first 64 z1 neurons;
* ``control_frozen.json`` (``--control``) — the same network with CSDP switched off
  (η = 1e-12, λ_d = 0: random recurrent spiking features, only the readout learns), to
  measure what the CSDP updates add over the readout alone.

Usage::

    python experiments/csdp_digits.py                        # digits, 5 seeds
    python experiments/csdp_digits.py --quick --out /tmp/c   # smoke run (~1 min)
    python experiments/csdp_digits.py --data-dir ~/mnist     # MNIST IDX files
    python experiments/csdp_digits.py --control --seeds 3    # frozen-hidden control only

Wall times are training only (test evaluation excluded), one process, on the machine
that ran the script.
"""
import argparse
import cProfile
import json
import os
import platform
import pstats
import time

import numpy as np

from neuromorph.datasets import load_image_task
from neuromorph.models.spiking import CSDP

CONFIG = dict(hidden_layer_sizes=(256, 256), n_steps=30, batch_size=100)
EPOCHS = 5
QUICK = dict(hidden_layer_sizes=(128, 128), n_steps=25, batch_size=100)


def run_csdp(config, epochs, seed, data):
    Xtr, Xte, ytr, yte = data
    model = CSDP(random_state=seed, **config)
    curve, train_time = [], 0.0
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.partial_fit(Xtr, ytr, classes=np.unique(ytr))
        train_time += time.perf_counter() - t0
        curve.append(float(model.score(Xte, yte)))
        print(f"  seed {seed} epoch {len(curve)}: test {curve[-1]:.4f} "
              f"({train_time:.0f} s)", flush=True)
    return model, dict(seed=seed, test_accuracy=curve[-1], test_curve=curve,
                       loss=model.history_["loss"], train_accuracy=model.history_["accuracy"],
                       goodness_pos=model.history_["goodness_pos"],
                       goodness_neg=model.history_["goodness_neg"],
                       train_seconds=train_time,
                       samples_per_second=epochs * len(Xtr) / train_time)


def profile(config, data, n=500):
    """cProfile one partial epoch; group time into GEMMs, optimiser, LIF kernels, rest."""
    Xtr, _, ytr, _ = data
    model = CSDP(random_state=0, **config)
    model.partial_fit(Xtr[:config["batch_size"]], ytr[:config["batch_size"]],
                      classes=np.unique(ytr))  # compile kernels, build optimiser state
    prof = cProfile.Profile()
    prof.enable()
    model.partial_fit(Xtr[:n], ytr[:n])
    prof.disable()
    stats = pstats.Stats(prof)
    groups = {"matrix products (Dense.current, _pre_products)": ("current", "_pre_products"),
              "optimiser (Adam/SGD increments)": ("_increment",),
              "LIF + trace kernels": ("lif_batch_step", "trace_batch_step"),
              "input encoding (Bernoulli draws)": ("'random' of",)}
    total = sum(v[2] for v in stats.stats.values())
    out = {}
    for label, names in groups.items():  # cumulative time of these leaf calls
        out[label] = sum(v[3] for (_, _, fn), v in stats.stats.items()
                         if fn in names or any(n in fn for n in names if "'" in n))
    out["other (Python, elementwise updates, clipping)"] = total - sum(out.values())
    top = sorted(((v[2], f"{os.path.basename(f)}:{fn}") for (f, _, fn), v in stats.stats.items()),
                 reverse=True)[:12]
    return {"samples": n, "total_seconds": total,
            "fractions": {k: v / total for k, v in out.items()},
            "top_functions_tottime_s": {name: t for t, name in top}}


def run_rate(data, seeds, quick):
    """Rate-coded FF and recurrent FF (defaults of the rate families, same widths)."""
    from neuromorph.models.rate import ForwardForward, RecurrentForwardForward

    Xtr, Xte, ytr, yte = data
    out = {}
    for cls, epochs in ((ForwardForward, 30), (RecurrentForwardForward, 10)):
        accs, times = [], []
        for seed in seeds:
            t0 = time.perf_counter()
            m = cls(hidden_layer_sizes=(256, 256), max_iter=2 if quick else epochs,
                    random_state=seed).fit(Xtr, ytr)
            times.append(time.perf_counter() - t0)
            accs.append(float(m.score(Xte, yte)))
        out[cls.__name__] = dict(epochs=2 if quick else epochs, test_accuracy=accs,
                                 mean=float(np.mean(accs)), std=float(np.std(accs)),
                                 train_seconds_mean=float(np.mean(times)))
        print(f"  {cls.__name__}: {np.mean(accs):.4f} ± {np.std(accs):.4f}", flush=True)
    return out


def figures(model, runs, data, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neuromorph import plot

    Xtr, Xte, ytr, yte = data
    curves = np.array([r["test_curve"] for r in runs])
    ep = np.arange(1, curves.shape[1] + 1)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(ep, curves.mean(0), marker="o", label=f"CSDP test ({len(runs)} seeds)")
    ax.fill_between(ep, curves.mean(0) - curves.std(0), curves.mean(0) + curves.std(0), alpha=0.3)
    ax.plot(ep, np.mean([r["train_accuracy"] for r in runs], axis=0), ls="--",
            label="online training accuracy")
    ax.axhline(0.93, color="gray", lw=0.8, ls=":", label="target 93 %")
    ax.set(xlabel="epoch", ylabel="accuracy", title="CSDP learning curve")
    ax.legend(loc="lower right", fontsize=8)
    plot.save(fig, os.path.join(out, "learning_curve.png"))
    plt.close(fig)

    x, label = Xte[:1], yte[:1]
    wrong = (label + 1) % len(model.classes_)
    rng = np.random.default_rng(0)
    pos = model.simulate(x, labels=label, record=True, rng=np.random.default_rng(0))
    neg = model.simulate(x, labels=wrong, record=True, rng=np.random.default_rng(0))
    names = ["input z0"] + [f"z{l + 1}" for l in range(len(model.layers_))] + ["label zy"]
    fig, axes = plt.subplots(len(names), 2, figsize=(9, 1.6 * len(names)), sharex=True)
    for col, (rec, title) in enumerate(((pos, f"positive (label {label[0]})"),
                                        (neg, f"negative (label {wrong[0]})"))):
        for row, (spk, name) in enumerate(zip(rec["spikes"], names)):
            t, j = np.nonzero(spk[:, 0, :])
            axes[row, col].plot(t * model.dt, j, "|", ms=2, color="k")
            axes[row, col].set_ylabel(name)
            axes[row, col].set_ylim(-0.5, spk.shape[2] - 0.5)
        axes[0, col].set_title(title)
        axes[-1, col].set_xlabel("time (ms)")
    plot.save(fig, os.path.join(out, "rasters.png"))
    plt.close(fig)

    n = min(200, len(Xte))
    rng = np.random.default_rng(1)
    wrong = (yte[:n] + rng.integers(1, len(model.classes_), n)) % len(model.classes_)
    gp = model.simulate(Xte[:n], labels=yte[:n], record=True, rng=np.random.default_rng(2))
    gn = model.simulate(Xte[:n], labels=wrong, record=True, rng=np.random.default_rng(2))
    t = np.arange(1, model.n_steps + 1) * model.dt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for l in range(len(model.layers_)):
        ax.plot(t, gp["goodness"][:, :, l].mean(1), color=plot.PALETTE[l % len(plot.PALETTE)], label=f"z{l + 1} positive")
        ax.plot(t, gn["goodness"][:, :, l].mean(1), color=plot.PALETTE[l % len(plot.PALETTE)], ls="--",
                label=f"z{l + 1} negative")
    ax.set(xlabel="time (ms)", ylabel="goodness logit  Σx² − θ_g",
           title=f"goodness over the window ({n} test images)")
    ax.legend(fontsize=8)
    plot.save(fig, os.path.join(out, "goodness.png"))
    plt.close(fig)

    side = int(round(np.sqrt(Xte.shape[1])))
    fig, ax = plt.subplots(figsize=(5, 5))
    plot.receptive_fields(model.weights_["W1"][:, :64], (side, side), ax=ax)
    ax.set_title("W1 receptive fields (first 64 z1 neurons)")
    plot.save(fig, os.path.join(out, "receptive_fields.png"))
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "csdp_digits"))
    ap.add_argument("--data-dir", default=None, help="folder with MNIST IDX files")
    ap.add_argument("--n-train", type=int, default=None, help="subset of the IDX training set")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="small net, 1 seed, 2 epochs")
    ap.add_argument("--no-rate", action="store_true", help="skip the FF / RFF comparison")
    ap.add_argument("--control", action="store_true",
                    help="only run the frozen-hidden control (CSDP off, readout learns)")
    ap.add_argument("--rate-seeds", type=int, default=None,
                    help="seeds of the FF / RFF comparison (default: as --seeds)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    *data, name = load_image_task(args.data_dir, args.n_train)
    config = dict(QUICK if args.quick else CONFIG)
    epochs = args.epochs or (2 if args.quick else EPOCHS)
    seeds = list(range(1 if args.quick else args.seeds))
    if args.control:
        frozen = dict(config, learning_rate=1e-12, depression=0.0)
        runs = [run_csdp(frozen, epochs, seed, data)[1] for seed in seeds]
        accs = [r["test_accuracy"] for r in runs]
        control = {"config": {k: list(v) if isinstance(v, tuple) else v
                              for k, v in frozen.items()},
                   "epochs": epochs, "seeds": seeds, "test_accuracy_mean": float(np.mean(accs)),
                   "test_accuracy_std": float(np.std(accs)), "runs": runs}
        print(f"frozen control: {np.mean(accs):.4f} ± {np.std(accs):.4f}", flush=True)
        with open(os.path.join(args.out, "control_frozen.json"), "w") as f:
            json.dump(control, f, indent=1)
        return control
    runs, model = [], None
    for seed in seeds:
        m, r = run_csdp(config, epochs, seed, data)
        runs.append(r)
        model = model or m
    accs = [r["test_accuracy"] for r in runs]
    metrics = {
        "dataset": name, "n_train": len(data[0]), "n_test": len(data[1]),
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
        "epochs": epochs, "seeds": seeds,
        "test_accuracy_mean": float(np.mean(accs)), "test_accuracy_std": float(np.std(accs)),
        "train_seconds_mean": float(np.mean([r["train_seconds"] for r in runs])),
        "samples_per_second_mean": float(np.mean([r["samples_per_second"] for r in runs])),
        "runs": runs,
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "cpus": os.cpu_count()},
    }
    print(f"CSDP {name}: {metrics['test_accuracy_mean']:.4f} ± {metrics['test_accuracy_std']:.4f}"
          f" ({metrics['train_seconds_mean']:.0f} s training, "
          f"{metrics['samples_per_second_mean']:.1f} samples/s)", flush=True)
    metrics["profile"] = profile(config, data, n=200 if args.quick else 500)
    print(json.dumps(metrics["profile"]["fractions"], indent=1), flush=True)
    figures(model, runs, data, args.out)
    write(metrics, args.out)
    if not args.no_rate:
        rate_seeds = seeds if args.rate_seeds is None else list(range(args.rate_seeds))
        metrics["rate_comparison"] = run_rate(data, rate_seeds, args.quick)
        write(metrics, args.out)
    return metrics


def write(metrics, out):
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)


if __name__ == "__main__":
    main()
