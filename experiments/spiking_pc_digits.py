"""Spiking predictive coding (spec §3.5) on digits vs rate PC, with a continual-learning run.

Trains :class:`neuromorph.models.spiking.spiking_pc.SpikingPC` (supervised layout:
Poisson input spikes -> 256 LIF state units -> label leaf, error units with tied error
synapses E = W^T, Adam on window-averaged two-factor updates) for several seeds on the
project's fixed digits split (:func:`neuromorph.datasets.load_digits_split`), one epoch
at a time so the test accuracy after every epoch gives a learning curve. The rate-coded
predictive coding of :mod:`neuromorph.models.rate` (spec §4.16, same hidden width, same
split, same epochs, ReLU because spike rates are rectified) is the rate-vs-spike row.

Continual learning: task A = digits 0-4, task B = digits 5-9, trained in sequence (same
epochs each, all ten classes declared from the start). Reported for SpikingPC, rate PC
and rate backprop: accuracy on A's test images after A and after B (class-incremental:
arg-max over all ten classes; task-aware: arg-max over A's five classes only) and the
forgetting = accuracy on A after A − accuracy on A after B.

Writes to ``--out``:

* ``metrics.json`` — per seed: per-epoch test accuracy, loss, hidden rate, wall time;
  mean ± std test accuracy; the rate PC comparison; the continual-learning table;
* ``learning_curve.png/.svg`` — test accuracy per epoch, SpikingPC and rate PC;
* ``forgetting.png/.svg`` — accuracy on task A and task B over the A-then-B sequence,
  and the forgetting bars per model;
* ``control_frozen_hidden`` in ``metrics.json`` — the same network with the hidden
  weights frozen (only the label predictor learns), up to 3 seeds;
* ``rasters.png/.svg`` — input, hidden and label-layer spikes for one test image, free
  window and label-clamped window.

Usage::

    python experiments/spiking_pc_digits.py                        # digits, 5 seeds
    python experiments/spiking_pc_digits.py --quick --out /tmp/s   # smoke run (~1 min)
    python experiments/spiking_pc_digits.py --seed 3               # one seed
    python experiments/spiking_pc_digits.py --data-dir ~/mnist     # MNIST IDX files

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
from neuromorph.models.spiking.spiking_pc import SpikingPC

CONFIG = dict(hidden_layer_sizes=(256,))  # everything else: SpikingPC defaults
EPOCHS = 20
QUICK = dict(hidden_layer_sizes=(128,), n_steps=50, burn_in=20.0)
RATE_PC = dict(hidden_layer_sizes=(256,), activation="relu")
BACKPROP = dict(hidden_layer_sizes=(256,), activation="relu", init="he_normal")
TASKS = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))


class FrozenHiddenPC(SpikingPC):
    """Control: SpikingPC with every weight frozen except the label predictor W1.

    The hidden layer keeps its random input weights; only the readout learns (by the
    same PC rule). Shows what learning the hidden weights adds.
    """

    def _apply(self, dW, dWy):
        super()._apply([dW[0]] + [np.zeros_like(d) for d in dW[1:]], dWy)


def _json_config(config):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def run_curve(make, epochs, data, label):
    """Train ``make()`` one epoch at a time; returns (model, per-seed result dict)."""
    Xtr, Xte, ytr, yte = data
    model = make()
    curve, train_time = [], 0.0
    classes = np.unique(ytr)
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.partial_fit(Xtr, ytr, classes=classes)
        train_time += time.perf_counter() - t0
        curve.append(float(model.score(Xte, yte)))
    print(f"  {label}: test {curve[-1]:.4f} ({train_time:.0f} s)", flush=True)
    out = dict(test_accuracy=curve[-1], test_curve=curve, loss=model.history_["loss"],
               train_accuracy=model.history_["accuracy"], train_seconds=train_time,
               samples_per_second=epochs * len(Xtr) / train_time)
    for key in ("rate", "hidden_error"):
        if key in model.history_:
            out[key] = model.history_[key]
    return model, out


def _task_accuracy(model, X, y, task):
    """(class-incremental, task-aware) accuracy on the images of ``task``."""
    mask = np.isin(y, task)
    scores = model.decision_scores(X[mask])
    cols = np.searchsorted(model.classes_, task)
    ci = float(np.mean(model.classes_[np.argmax(scores, axis=1)] == y[mask]))
    ta = float(np.mean(np.asarray(task)[np.argmax(scores[:, cols], axis=1)] == y[mask]))
    return ci, ta


def continual(make, epochs, data):
    """Task A then task B; accuracy on both after every epoch."""
    Xtr, Xte, ytr, yte = data
    classes = np.unique(ytr)
    trace = {"A": [], "B": [], "A_task_aware": [], "B_task_aware": []}
    model = make()
    for task in TASKS:
        m = np.isin(ytr, task)
        for _ in range(epochs):
            model.partial_fit(Xtr[m], ytr[m], classes=classes)
            for name, t in zip("AB", TASKS):
                ci, ta = _task_accuracy(model, Xte, yte, t)
                trace[name].append(ci)
                trace[f"{name}_task_aware"].append(ta)
    e = epochs - 1
    res = dict(trace=trace,
               A_after_A=trace["A"][e], A_after_B=trace["A"][-1], B_after_B=trace["B"][-1],
               A_after_A_task_aware=trace["A_task_aware"][e],
               A_after_B_task_aware=trace["A_task_aware"][-1],
               B_after_B_task_aware=trace["B_task_aware"][-1])
    res["forgetting"] = res["A_after_A"] - res["A_after_B"]
    res["forgetting_task_aware"] = res["A_after_A_task_aware"] - res["A_after_B_task_aware"]
    return res


def continual_all(makers, epochs, data, seeds):
    out = {}
    for name, make in makers.items():
        runs = []
        for seed in seeds:
            runs.append(continual(lambda: make(seed), epochs, data))
            print(f"  continual {name} seed {seed}: A after A {runs[-1]['A_after_A']:.3f}, "
                  f"after B {runs[-1]['A_after_B']:.3f} (task-aware "
                  f"{runs[-1]['A_after_A_task_aware']:.3f} -> "
                  f"{runs[-1]['A_after_B_task_aware']:.3f}), B {runs[-1]['B_after_B']:.3f}",
                  flush=True)
        summary = {}
        for key in ("A_after_A", "A_after_B", "B_after_B", "forgetting", "A_after_A_task_aware",
                    "A_after_B_task_aware", "B_after_B_task_aware", "forgetting_task_aware"):
            vals = [r[key] for r in runs]
            summary[key] = {"mean": float(np.mean(vals)), "std": float(np.std(vals))}
        out[name] = {"summary": summary, "runs": runs}
    return out


def figures(model, runs, rate_runs, cl, epochs_cl, data, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.ticker
    import matplotlib.pyplot as plt

    from neuromorph import plot
    from neuromorph.plot import PALETTE

    Xtr, Xte, ytr, yte = data
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for k, (rs, name) in enumerate(((runs, "SpikingPC"), (rate_runs, "rate PC (ReLU)"))):
        if not rs:
            continue
        c = np.array([r["test_curve"] for r in rs])
        ep = np.arange(1, c.shape[1] + 1)
        ax.plot(ep, c.mean(0), marker="o", ms=3, color=PALETTE[k],
                label=f"{name} ({len(rs)} seeds)")
        ax.fill_between(ep, c.mean(0) - c.std(0), c.mean(0) + c.std(0), color=PALETTE[k],
                        alpha=0.25)
    ax.axhline(0.90, color="gray", lw=0.8, ls=":", label="target 90 %")
    ax.set(xlabel="epoch", ylabel="test accuracy", title="Spiking vs rate predictive coding")
    ax.legend(loc="lower right", fontsize=8)
    plot.save(fig, os.path.join(out, "learning_curve.png"))
    plt.close(fig)

    if cl:
        names = list(cl)
        fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 2]})
        fig.subplots_adjust(wspace=0.75)
        ax = axes[0]
        for k, name in enumerate(names):
            tr = np.array([r["trace"]["A"] for r in cl[name]["runs"]])
            tb = np.array([r["trace"]["B"] for r in cl[name]["runs"]])
            ep = np.arange(1, tr.shape[1] + 1)
            ax.plot(ep, tr.mean(0), color=PALETTE[k], lw=1.5, label=f"{name}: task A (0-4)")
            ax.plot(ep, tb.mean(0), color=PALETTE[k], lw=1.5, ls="--",
                    label=f"{name}: task B (5-9)")
        ax.axvline(epochs_cl + 0.5, color="gray", lw=0.8)
        ax.text(epochs_cl + 0.7, 0.03, "switch to B", fontsize=8, color="gray")
        ax.set(xlabel="epoch (A, then B)", ylabel="test accuracy (10-way arg-max)",
               title="Class-incremental digits", ylim=(-0.02, 1.02))
        ax.legend(fontsize=7, ncol=1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax = axes[1]
        x = np.arange(len(names))
        for j, (key, lab) in enumerate((("forgetting", "class-incremental"),
                                        ("forgetting_task_aware", "task-aware"))):
            m = [cl[n]["summary"][key]["mean"] for n in names]
            s = [cl[n]["summary"][key]["std"] for n in names]
            ax.bar(x + (j - 0.5) * 0.38, m, 0.38, yerr=s, color=PALETTE[3 if j else 7],
                   alpha=0.85 if j else 0.6, label=lab, capsize=3)
        ax.set_xticks(x, names, fontsize=8)
        ax.set(ylabel="forgetting = acc(A after A) − acc(A after B)",
               title="Forgetting of task A")
        ax.set_ylim(min(-0.05, ax.get_ylim()[0]), 1.05)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
        plot.save(fig, os.path.join(out, "forgetting.png"))
        plt.close(fig)

    x, label = Xte[:1], yte[:1]
    free = model.simulate(x, record=True, rng=np.random.default_rng(0))
    clamped = model.simulate(x, labels=label, record=True, rng=np.random.default_rng(0))
    names = ["input"] + [f"hidden {l + 1}" for l in range(len(model.layers_))] + ["label"]
    fig, axes = plt.subplots(len(names), 2, figsize=(9, 1.6 * len(names)), sharex=True)
    for col, (rec, title) in enumerate(((free, "free (test) window"),
                                        (clamped, f"label clamped to {label[0]}"))):
        for row, (spk, name) in enumerate(zip(rec["spikes"], names)):
            t, j = np.nonzero(spk[:, 0, :])
            axes[row, col].plot(t * model.dt, j, "|", ms=2, color=PALETTE[7])
            axes[row, col].set_ylabel(name)
            axes[row, col].set_ylim(-0.5, spk.shape[2] - 0.5)
        axes[0, col].set_title(title)
        axes[-1, col].set_xlabel("time (ms)")
    plot.save(fig, os.path.join(out, "rasters.png"))
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "spiking_pc_digits"))
    ap.add_argument("--data-dir", default=None, help="folder with MNIST IDX files")
    ap.add_argument("--n-train", type=int, default=None, help="subset of the IDX training set")
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds 0..N-1")
    ap.add_argument("--seed", type=int, default=None, help="run this one seed only")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="small net, 1 seed, 2 epochs")
    ap.add_argument("--no-control", action="store_true",
                    help="skip the frozen-hidden control (only the readout learns)")
    ap.add_argument("--no-continual", action="store_true",
                    help="skip the continual-learning (forgetting) experiment")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    *data, name = load_image_task(args.data_dir, args.n_train)
    config = dict(QUICK if args.quick else CONFIG)
    epochs = args.epochs or (2 if args.quick else EPOCHS)
    if args.seed is not None:
        seeds = [args.seed]
    else:
        seeds = list(range(1 if args.quick else args.seeds))
    from neuromorph.models.rate import Backprop, PredictiveCoding

    t_start = time.perf_counter()
    runs, model = [], None
    for seed in seeds:
        m, r = run_curve(lambda: SpikingPC(random_state=seed, **config), epochs, data,
                         f"SpikingPC seed {seed}")
        runs.append(dict(seed=seed, **r))
        model = model or m
    rate_cfg = dict(RATE_PC, hidden_layer_sizes=config["hidden_layer_sizes"])
    rate_runs = [dict(seed=seed, **run_curve(lambda: PredictiveCoding(random_state=seed,
                                                                      **rate_cfg),
                                             epochs, data, f"rate PC seed {seed}")[1])
                 for seed in seeds]
    accs = [r["test_accuracy"] for r in runs]
    raccs = [r["test_accuracy"] for r in rate_runs]
    metrics = {
        "dataset": name, "n_train": len(data[0]), "n_test": len(data[1]),
        "config": _json_config({**SpikingPC().get_params(), **config,
                                "random_state": "seed"}),
        "epochs": epochs, "seeds": seeds,
        "test_accuracy_mean": float(np.mean(accs)), "test_accuracy_std": float(np.std(accs)),
        "rate_pc_test_accuracy_mean": float(np.mean(raccs)),
        "rate_pc_test_accuracy_std": float(np.std(raccs)),
        "train_seconds_mean": float(np.mean([r["train_seconds"] for r in runs])),
        "samples_per_second_mean": float(np.mean([r["samples_per_second"] for r in runs])),
        "runs": runs,
        "rate_pc": {"config": _json_config(rate_cfg), "epochs": epochs, "runs": rate_runs},
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "cpus": os.cpu_count()},
    }
    print(f"SpikingPC {name}: {metrics['test_accuracy_mean']:.4f} ± "
          f"{metrics['test_accuracy_std']:.4f}; rate PC {np.mean(raccs):.4f} ± "
          f"{np.std(raccs):.4f}", flush=True)
    write(metrics, args.out)
    cl, epochs_cl = None, epochs
    if not args.no_continual:
        bp_cfg = dict(BACKPROP, hidden_layer_sizes=config["hidden_layer_sizes"])
        makers = {"SpikingPC": lambda s: SpikingPC(random_state=s, **config),
                  "rate PC": lambda s: PredictiveCoding(random_state=s, **rate_cfg),
                  "backprop": lambda s: Backprop(random_state=s, **bp_cfg)}
        cl = continual_all(makers, epochs_cl, data, seeds)
        metrics["continual"] = {"tasks": [list(t) for t in TASKS], "epochs_per_task": epochs_cl,
                                "seeds": seeds, "backprop_config": _json_config(bp_cfg),
                                "models": cl}
        metrics["forgetting"] = {n: cl[n]["summary"]["forgetting"]["mean"] for n in cl}
    if not args.no_control:
        ctrl_seeds = seeds[:3]
        ctrl = [run_curve(lambda: FrozenHiddenPC(random_state=seed, **config), epochs, data,
                          f"control (hidden frozen) seed {seed}")[1]["test_accuracy"]
                for seed in ctrl_seeds]
        metrics["control_frozen_hidden"] = {
            "what": "same network, only the label predictor W1 learns (hidden weights frozen)",
            "seeds": ctrl_seeds, "test_accuracy": ctrl, "mean": float(np.mean(ctrl)),
            "std": float(np.std(ctrl))}
        write(metrics, args.out)
    metrics["total_seconds"] = time.perf_counter() - t_start
    figures(model, runs, rate_runs, cl, epochs_cl, data, args.out)
    write(metrics, args.out)
    return metrics


def write(metrics, out):
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)


if __name__ == "__main__":
    main()
