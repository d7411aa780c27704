"""R-STDP digits classifier: scikit-learn digits learned from a scalar reward only.

:class:`neuromorph.models.spiking.RSTDPClassifier` (64 pixels -> ON/OFF rate-coded
inputs -> winner-take-all LIF outputs, R-STDP synapses, reward +1 when the right output
group fires most, -1 otherwise, running-mean baseline) trained on the project's fixed
seeded split (:func:`neuromorph.datasets.load_digits_split`, 1437 train / 360 test),
one epoch at a time, with the test accuracy after every epoch, for several seeds.

Writes into ``--out`` (default ``experiments/results/rstdp_digits/``):
``learning_curve.png/.svg`` (every seed), ``receptive_fields.png/.svg`` (ON minus OFF
weights of every output neuron, first seed), ``metrics.json`` (per seed and mean +- std
over seeds), ``seeds/seed_<k>.json`` and ``seeds/seed_<k>_weights.npy``.

Usage::

    python experiments/rstdp_digits.py           # full: seeds 0-4, 20 epochs each
    python experiments/rstdp_digits.py --seed 3  # one seed
    python experiments/rstdp_digits.py --quick   # seed 0, 400 training images, 4 epochs
"""
import argparse
import json
import os
import time

import numpy as np

from neuromorph.datasets import load_digits_split
from neuromorph.models.spiking import RSTDPClassifier


def run_seed(seed, X_tr, X_te, y_tr, y_te, n_epochs, log=print):
    """Train one classifier one epoch at a time; returns (metrics, weights)."""
    clf = RSTDPClassifier(random_state=seed)
    test_acc, t0 = [], time.perf_counter()
    for ep in range(n_epochs):           # one epoch per call: test accuracy after each
        clf.partial_fit(X_tr, y_tr)
        test_acc.append(float(clf.score(X_te, y_te)))
        log(f"seed {seed}, epoch {ep + 1}: online train accuracy "
            f"{clf.history_['accuracy'][-1]:.3f}, test accuracy {test_acc[-1]:.3f}")
    wall = time.perf_counter() - t0
    pred = clf.predict(X_te)
    recall = [float(np.mean(pred[y_te == c] == c)) for c in clf.classes_]
    metrics = dict(seed=seed, n_train=len(X_tr), n_test=len(X_te), epochs=n_epochs,
                   test_accuracy=test_acc[-1], best_test_accuracy=max(test_acc),
                   test_recall_per_class=recall,
                   test_accuracy_per_epoch=test_acc,
                   online_train_accuracy_per_epoch=clf.history_["accuracy"],
                   params={k: v for k, v in clf.get_params().items()
                           if k not in ("verbose", *RSTDPClassifier._renamed)},
                   wall_time_s=wall)
    return metrics, clf.weights_


def aggregate(runs):
    acc = np.array([r["test_accuracy"] for r in runs])
    return dict(
        seeds=[r["seed"] for r in runs], n_seeds=len(runs), n_train=runs[0]["n_train"],
        n_test=runs[0]["n_test"], epochs=runs[0]["epochs"],
        test_accuracy_per_seed=acc.tolist(),
        test_accuracy_mean=float(acc.mean()),
        test_accuracy_std=float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
        test_accuracy_min=float(acc.min()),
        best_epoch_test_accuracy_per_seed=[r["best_test_accuracy"] for r in runs],
        test_recall_per_class_mean=np.mean([r["test_recall_per_class"] for r in runs],
                                           axis=0).tolist(),
        target=0.85, reached_target=bool(acc.mean() >= 0.85),
        seeds_reaching_target=int(np.sum(acc >= 0.85)),
        wall_time_s_per_seed=[r["wall_time_s"] for r in runs],
        params=runs[0]["params"], per_seed=runs,
    )


def plot(runs, weights, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neuromorph.plot import PALETTE, receptive_fields, save
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for j, r in enumerate(runs):
        c = PALETTE[j % len(PALETTE)]
        ep = np.arange(1, len(r["test_accuracy_per_epoch"]) + 1)
        ax.plot(ep, r["online_train_accuracy_per_epoch"], ":", color=c, lw=1)
        ax.plot(ep, r["test_accuracy_per_epoch"], "-", color=c, lw=1.3,
                label=f"seed {r['seed']}: test {r['test_accuracy']:.3f}")
    ax.plot([], [], "k:", lw=1, label="online (training) accuracy")
    ax.axhline(0.85, color="k", ls="--", lw=1, label="target 0.85")
    ax.axhline(0.1, color="grey", ls="--", lw=1, label="chance")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    acc = np.array([r["test_accuracy"] for r in runs])
    sd = acc.std(ddof=1) if len(acc) > 1 else 0.0
    ax.set_title(f"Digits, spiking classifier trained by R-STDP (reward only): "
                 f"test {acc.mean():.3f} $\\pm$ {sd:.3f} ({len(runs)} seeds)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    fig.tight_layout()
    save(fig, os.path.join(out, "learning_curve.png"))
    if weights is not None:
        W, n_per_class = weights
        ax = receptive_fields(W[:64] - W[64:], (8, 8), n_cols=n_per_class * 2, cmap="RdBu_r")
        ax.set_title(f"ON - OFF weights per output neuron (seed {runs[0]['seed']}; "
                     f"classes in order, {n_per_class} neurons each)", fontsize=8)
        save(ax.figure, os.path.join(out, "receptive_fields.png"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "rstdp_digits"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=None, help="run this seed only")
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="seeds to run (default 0-4; --quick: 0)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--aggregate-only", action="store_true",
                    help="only rebuild metrics.json and the figures from seeds/seed_*")
    args = ap.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else \
        (args.seeds or ([0] if args.quick else [0, 1, 2, 3, 4]))
    os.makedirs(os.path.join(args.out, "seeds"), exist_ok=True)
    X_tr, X_te, y_tr, y_te = load_digits_split()
    if args.quick:
        X_tr, y_tr = X_tr[:400], y_tr[:400]
    n_epochs = args.epochs or (4 if args.quick else 20)
    runs, weights = [], None
    for seed in seeds:
        path = os.path.join(args.out, "seeds", f"seed_{seed}")
        if not args.aggregate_only:
            r, W = run_seed(seed, X_tr, X_te, y_tr, y_te, n_epochs,
                            log=lambda s: print(s, flush=True))
            with open(path + ".json", "w") as f:
                json.dump(r, f, indent=1, default=float)
            np.save(path + "_weights.npy", W)
            print(f"seed {seed}: test accuracy {r['test_accuracy']:.4f} "
                  f"({r['wall_time_s']:.0f} s)", flush=True)
        with open(path + ".json") as f:
            runs.append(json.load(f))
        if weights is None and os.path.exists(path + "_weights.npy"):
            weights = (np.load(path + "_weights.npy"), runs[-1]["params"]["n_per_class"])
    metrics = aggregate(runs)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2, default=float)
    plot(runs, weights, args.out)
    print(json.dumps({k: v for k, v in metrics.items() if k not in ("params", "per_seed")},
                     indent=2))


if __name__ == "__main__":
    main()
