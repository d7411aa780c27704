"""Diehl & Cook (2015) unsupervised STDP network on digits, with a Brian2 speed comparison.

Trains :class:`neuromorph.models.spiking.STDPClassifier` (Poisson input, adaptive
thresholds, lateral inhibition through an inhibitory layer, weight normalisation,
resting period, ``dw = a_plus (x_pre - x_tar)(w_max - w)^mu``; labelling and voting
readout; the estimator's defaults: L2 weight normalisation, 700 ms readout) on scikit-learn's 8x8 digits (fixed seeded 80/20 split), or on MNIST given
``--data-dir`` holding the four IDX files (``train-images-idx3-ubyte[.gz]``, ...).

Outputs (``--out``): ``metrics.json`` (accuracy per seed, mean +- std, for 100 and 400
excitatory neurons; accuracy vs training samples; training throughput of neuromorph and
of the same network in Brian2's cython runtime, measured in this run), receptive-field
grids ``receptive_fields_<n>.png/.svg`` and ``accuracy_vs_samples.png/.svg``.

Run::

    python experiments/diehl_cook_digits.py                 # digits, 5 seeds, ~7 min
    python experiments/diehl_cook_digits.py --quick         # ~1 min
    python experiments/diehl_cook_digits.py --data-dir ~/mnist --n-train 10000
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from neuromorph.datasets import load_digits_split, read_idx
from neuromorph.models.spiking import STDPClassifier


def load_mnist(data_dir, n_train=None, n_test=None):
    """MNIST from IDX files in ``data_dir`` (pixels scaled to [0, 1])."""
    d = Path(data_dir)

    def find(stem):
        for name in (stem, stem + ".gz"):
            if (d / name).exists():
                return d / name
        raise FileNotFoundError(f"{stem}[.gz] not found in {d}")
    X_tr = read_idx(find("train-images-idx3-ubyte")).reshape(-1, 784) / 255.0
    y_tr = read_idx(find("train-labels-idx1-ubyte")).astype(int)
    X_te = read_idx(find("t10k-images-idx3-ubyte")).reshape(-1, 784) / 255.0
    y_te = read_idx(find("t10k-labels-idx1-ubyte")).astype(int)
    return X_tr[:n_train], X_te[:n_test], y_tr[:n_train], y_te[:n_test]


def brian2_samples_per_s(clf, X, n_samples, seed=0):
    """Training throughput (samples/s) of the same network in Brian2 (cython runtime).

    The network is built from the classifier's own description
    (:meth:`STDPClassifier.build_network`) by :func:`neuromorph.backends.brian2.to_brian2`
    and driven with the same loop: set the Poisson rates, run ``t_present``, count the
    excitatory spikes (repeat at a higher intensity if too few), rest ``t_rest`` at
    0 Hz, normalise the input weights. The first sample (code generation and
    compilation) is excluded from the timing.
    """
    import brian2 as b2
    from neuromorph.backends.brian2 import to_brian2
    b2.prefs.codegen.target = "cython"
    net, inp, exc, proj, _ = clf.build_network(X.shape[1], seed)
    clf.normalize(proj, clf._total(X.shape[1]))
    model = to_brian2(net)
    b2.seed(seed)
    group = model.groups[inp.name]
    syn = model.synapses[proj.name][0]
    mon = model.spike_monitors[0]
    post = np.asarray(syn.j[:])
    total = clf._total(X.shape[1])

    def one(x):
        rate = clf.max_rate
        for _ in range(clf.max_retries + 1):
            before = mon.num_spikes
            group.rates = x * rate * b2.Hz
            model.network.run(clf.t_present * b2.ms)
            n_spk = mon.num_spikes - before
            group.rates = 0 * b2.Hz
            model.network.run(clf.t_rest * b2.ms)
            if n_spk >= clf.min_spikes:
                break
            rate += clf.intensity_step
        w = np.asarray(syn.w[:] / b2.mV)
        for _ in range(1 if clf.norm == "l1" else 3):  # as STDPClassifier.normalize
            sums = np.bincount(post, weights=w if clf.norm == "l1" else w ** 2,
                               minlength=clf.n_neurons)
            norms = sums if clf.norm == "l1" else np.sqrt(sums)
            w = np.clip(w * (total / norms)[post], 0, clf.w_max)
        syn.w = w * b2.mV

    one(X[0])
    t0 = time.perf_counter()
    for x in X[1:n_samples + 1]:
        one(x)
    return n_samples / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="experiments/results/diehl_cook_digits")
    ap.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
    ap.add_argument("--n-train", type=int, default=None, help="training samples (MNIST)")
    ap.add_argument("--n-test", type=int, default=None, help="test samples (MNIST)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=None, help="default: the estimator's")
    ap.add_argument("--brian2-samples", type=int, default=30,
                    help="samples timed in Brian2 (0: skip)")
    ap.add_argument("--quick", action="store_true", help="1 seed, 100 neurons only")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.data_dir:
        X_tr, X_te, y_tr, y_te = load_mnist(args.data_dir, args.n_train, args.n_test)
        shape, dataset = (28, 28), "mnist"
    else:
        X_tr, X_te, y_tr, y_te = load_digits_split()
        shape, dataset = (8, 8), "digits"
    seeds = list(range(1 if args.quick else args.seeds))
    sizes = [100] if args.quick else [100, 400]
    extra = {} if args.epochs is None else {"max_iter": args.epochs}
    if dataset == "mnist":  # Diehl & Cook's scale: 784 inputs, w_max 1, total 78
        extra.update(w_max=1.0, a_plus=0.01, w_total=78.0, norm="l1")
    metrics = {"dataset": dataset, "n_train": len(X_tr), "n_test": len(X_te), "runs": {}}

    def write(metrics):
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neuromorph.plot import PALETTE, receptive_fields, save

    first = {}
    for n in sizes:
        accs, fit_s, sps, done = [], [], [], []
        for seed in (seeds if n == 100 else seeds[:1]):
            clf = STDPClassifier(n_neurons=n, random_state=seed, verbose=args.progress,
                                 **extra)
            t0 = time.perf_counter()
            clf.fit(X_tr, y_tr)
            fit_s.append(time.perf_counter() - t0)
            accs.append(float(clf.score(X_te, y_te)))
            sps.append(float(np.mean(clf.history_["samples_per_s"])))
            done.append(seed)
            first.setdefault(n, clf)
            print(f"n={n} seed={seed} acc={accs[-1]:.4f} fit={fit_s[-1]:.1f}s", flush=True)
            metrics["runs"][str(n)] = {
                "seeds": done, "accuracy": accs,
                "accuracy_mean": float(np.mean(accs)), "accuracy_std": float(np.std(accs)),
                "fit_s": fit_s, "train_samples_per_s": sps,
                "params": {k: v for k, v in first[n].get_params().items()
                           if k not in ("verbose", *STDPClassifier._renamed)}}
            write(metrics)  # a run cut short keeps the seeds it finished
        fig, ax = plt.subplots(figsize=(6, 6))
        receptive_fields(first[n].weights_, shape, ax=ax)
        ax.set_title(f"receptive fields, {n} excitatory neurons (seed 0)")
        save(fig, out / f"receptive_fields_{n}.png")
        plt.close(fig)

    # accuracy vs number of training samples (100 neurons, seed 0, one pass)
    counts = [c for c in (100, 200, 400, 800, len(X_tr)) if c <= len(X_tr)]
    if args.quick:
        counts = counts[::2]
    curve = []
    for c in counts:
        clf = STDPClassifier(n_neurons=100, random_state=0, **extra)
        curve.append(float(clf.fit(X_tr[:c], y_tr[:c]).score(X_te, y_te)))
        print(f"samples={c} acc={curve[-1]:.4f}", flush=True)
    metrics["accuracy_vs_samples"] = {"n_samples": counts, "accuracy": curve}
    write(metrics)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(counts, curve, "o-", color=PALETTE[0])
    ax.set_xlabel("training samples (labels used only for the readout)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.axhline(0.1, color="grey", lw=0.5, ls="--")
    save(fig, out / "accuracy_vs_samples.png")
    plt.close(fig)

    if args.brian2_samples > 0:
        clf = first[100]
        nm_sps = metrics["runs"]["100"]["train_samples_per_s"][0]
        b2_sps = brian2_samples_per_s(clf, X_tr, args.brian2_samples)
        metrics["speed"] = {"neuromorph_train_samples_per_s": nm_sps,
                            "brian2_cython_train_samples_per_s": b2_sps,
                            "speedup": nm_sps / b2_sps,
                            "brian2_samples_timed": args.brian2_samples,
                            "n_neurons": 100}
        print(json.dumps(metrics["speed"]), flush=True)
    write(metrics)
    print(json.dumps({n: (r["accuracy_mean"], r["accuracy_std"])
                      for n, r in metrics["runs"].items()}))
    return metrics


if __name__ == "__main__":
    main()
