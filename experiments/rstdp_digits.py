"""R-STDP digits classifier: scikit-learn digits learned from a scalar reward only.

:class:`neuromorph.models.spiking.RSTDPClassifier` (64 pixels -> ON/OFF rate-coded
inputs -> winner-take-all LIF outputs, R-STDP synapses, reward +1 when the right output
group fires most, -1 otherwise, running-mean baseline) trained on the project's fixed
seeded split (:func:`neuromorph.datasets.load_digits_split`, 1437 train / 360 test),
one epoch at a time, with the test accuracy after every epoch.

Writes into ``--out`` (default ``experiments/results/rstdp_digits/``):
``learning_curve.png/.svg``, ``receptive_fields.png/.svg`` (ON minus OFF weights of
every output neuron), ``metrics.json``.

Usage::

    python experiments/rstdp_digits.py           # full: 20 epochs
    python experiments/rstdp_digits.py --quick   # 400 training images, 4 epochs
"""
import argparse
import json
import os
import time

import numpy as np

from neuromorph.datasets import load_digits_split
from neuromorph.models.spiking import RSTDPClassifier


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "rstdp_digits"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    X_tr, X_te, y_tr, y_te = load_digits_split()
    if args.quick:
        X_tr, y_tr = X_tr[:400], y_tr[:400]
    n_epochs = args.epochs or (4 if args.quick else 20)
    clf = RSTDPClassifier(n_epochs=1, warm_start=True, random_state=args.seed)
    test_acc, t0 = [], time.perf_counter()
    for ep in range(n_epochs):           # one epoch per call: test accuracy after each
        clf.fit(X_tr, y_tr)
        test_acc.append(float(clf.score(X_te, y_te)))
        print(f"epoch {ep + 1}: online train accuracy "
              f"{clf.history_['train_accuracy'][-1]:.3f}, test accuracy {test_acc[-1]:.3f}",
              flush=True)
    train_online = clf.history_["train_accuracy"]
    wall = time.perf_counter() - t0
    metrics = dict(seed=args.seed, n_train=len(X_tr), n_test=len(X_te), epochs=n_epochs,
                   test_accuracy=test_acc[-1], best_test_accuracy=max(test_acc),
                   test_accuracy_per_epoch=test_acc, online_train_accuracy_per_epoch=train_online,
                   target=0.85, reached_target=test_acc[-1] >= 0.85,
                   params={k: v for k, v in clf.get_params().items() if k != "progress"},
                   wall_time_s=wall)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2, default=float)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neuromorph.plot import PALETTE, receptive_fields, save
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ep = np.arange(1, n_epochs + 1)
    ax.plot(ep, train_online, "o-", color=PALETTE[0], label="online (training) accuracy")
    ax.plot(ep, test_acc, "s-", color=PALETTE[3], label="test accuracy")
    ax.axhline(0.85, color="k", ls=":", lw=1, label="target 0.85")
    ax.axhline(0.1, color="grey", ls="--", lw=1, label="chance")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("Digits, spiking classifier trained by R-STDP (reward only)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, os.path.join(args.out, "learning_curve.png"))
    W = clf.weights_
    ax = receptive_fields(W[:64] - W[64:], (8, 8), n_cols=clf.n_per_class * 2, cmap="RdBu_r")
    ax.set_title("ON - OFF weights per output neuron (rows: classes)", fontsize=9)
    save(ax.figure, os.path.join(args.out, "receptive_fields.png"))
    print(json.dumps({k: v for k, v in metrics.items() if k != "params"}, indent=2))


if __name__ == "__main__":
    main()
