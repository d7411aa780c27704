"""e-prop vs surrogate-gradient BPTT on row-wise digits (spec §4.24, issue 19).

Both learners (:class:`neuromorph.models.spiking.EProp`,
:class:`neuromorph.models.spiking.SurrogateBPTT`) at their defaults read each 8x8 digit as
a sequence of 8 rows of 8 pixels, every row held as an input current for
``steps_per_row = 10`` steps of 1 ms (80 ms per digit), into one recurrent layer of LIF
neurons with a leaky readout. Five stratified 80/20 splits of scikit-learn digits, split
seeds 101..105 (those of ``experiments/rate_defaults.py``), ``random_state`` = split seed;
the test accuracy is recorded after every epoch. Writes to ``--out``:

* ``metrics.json`` — per learner and seed: per-epoch test accuracy, training loss, hidden
  rate (Hz), training wall time; mean ± std final test accuracy;
* ``results.md`` — the table;
* ``learning_curve.png/.svg`` — test accuracy per epoch, mean ± std over seeds.

``--search N`` instead runs a random hyperparameter search of N configurations per
learner (``SEARCH_EPOCHS`` = 10 epochs each, other parameters at their defaults) on a
validation split (25 % of the training part of split 101,
test data unused) and writes ``search.json``.

Usage::

    python experiments/eprop_digits.py --out experiments/results/eprop_digits
    python experiments/eprop_digits.py --quick --out /tmp/e      # smoke run
    python experiments/eprop_digits.py --search 20 --learners EProp   # the search below

Wall times are training only (test evaluation excluded), one process, on the machine that
ran the script.
"""
import argparse
import json
import os
import platform
import time

import numpy as np

from neuromorph.datasets import load_digits_split
from neuromorph.models.spiking import EProp, SurrogateBPTT

SPLIT_SEEDS = (101, 102, 103, 104, 105)
LEARNERS = {"EProp": EProp, "SurrogateBPTT": SurrogateBPTT}
QUICK = dict(n_hidden=32, max_iter=2)
#: Epochs per search configuration: half the default 20, to fit 20 configurations into
#: the time a shared 2-core machine allowed (validation scores are for 10 epochs).
SEARCH_EPOCHS = 10


def run(cls, seed, params):
    Xtr, Xte, ytr, yte = load_digits_split(random_state=seed)
    model = cls(random_state=seed, **params)
    curve, train_time = [], 0.0
    for _ in range(model.max_iter):
        t0 = time.perf_counter()
        model.partial_fit(Xtr, ytr, classes=np.unique(ytr))
        train_time += time.perf_counter() - t0
        curve.append(float(model.score(Xte, yte)))
    print(f"  {cls.__name__} seed {seed}: test {curve[-1]:.4f} ({train_time:.0f} s)",
          flush=True)
    return dict(seed=seed, test_accuracy=curve[-1], test_curve=curve,
                loss=[float(v) for v in model.history_["loss"]],
                rate_hidden_hz=[float(v) for v in model.history_["rate_hidden"]],
                train_seconds=train_time)


def search(n_configs, learners, seed=0):
    """Random search on a validation split; returns the list of (learner, params, score)."""
    from sklearn.model_selection import train_test_split

    Xtr, _, ytr, _ = load_digits_split(random_state=SPLIT_SEEDS[0])
    Xa, Xv, ya, yv = train_test_split(Xtr, ytr, test_size=0.25, random_state=seed,
                                      stratify=ytr)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_configs):
        params = dict(learning_rate=float(10 ** rng.uniform(-3.0, -2.0)),
                      tau_m=float(rng.choice([5.0, 10.0, 20.0])),
                      tau_out=float(rng.choice([40.0, 80.0, 160.0])),
                      readout_steps=[None, 20, 10, 5][rng.integers(4)],
                      resistance=float(rng.choice([5.0, 10.0, 20.0])),
                      surrogate_scale=float(rng.choice([0.3, 0.5, 1.0])),
                      max_iter=SEARCH_EPOCHS)
        for name in learners:
            cls = LEARNERS[name]
            t0 = time.perf_counter()
            m = cls(random_state=seed, **params).fit(Xa, ya)
            score = float(m.score(Xv, yv))
            out.append(dict(learner=name, params=params, validation_accuracy=score,
                            wall_s=time.perf_counter() - t0))
            print(f"  [{i + 1}/{n_configs}] {name} {params}: {score:.4f}", flush=True)
    return out


def figure(results, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neuromorph import plot

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for (name, res), color in zip(results.items(), plot.PALETTE):
        curves = np.array([r["test_curve"] for r in res["runs"]])
        ep = np.arange(1, curves.shape[1] + 1)
        ax.plot(ep, curves.mean(0), marker="o", ms=3, color=color,
                label=f"{name} ({len(curves)} seeds)")
        ax.fill_between(ep, curves.mean(0) - curves.std(0), curves.mean(0) + curves.std(0),
                        color=color, alpha=0.25)
    ax.axhline(0.9, color="gray", lw=0.8, ls=":", label="90 %")
    ax.set(xlabel="epoch", ylabel="test accuracy",
           title="row-wise digits (8 rows x 10 steps), recurrent LIF")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="lower right", fontsize=8)
    plot.save(fig, os.path.join(out, "learning_curve.png"))
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="experiments/results/eprop_digits")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--search", type=int, default=0, metavar="N")
    ap.add_argument("--learners", nargs="*", default=list(LEARNERS))
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.search:
        res = search(args.search, args.learners)
        with open(os.path.join(args.out, "search.json"), "w") as f:
            json.dump(res, f, indent=1)
        for name in args.learners:
            best = max((r for r in res if r["learner"] == name),
                       key=lambda r: r["validation_accuracy"])
            print(f"best {name}: {best['validation_accuracy']:.4f} {best['params']}")
        return
    params = QUICK if args.quick else {}
    seeds = SPLIT_SEEDS[:1 if args.quick else args.seeds]
    t0 = time.perf_counter()
    results = {}
    for name in args.learners:
        runs = [run(LEARNERS[name], s, params) for s in seeds]
        accs = [r["test_accuracy"] for r in runs]
        results[name] = dict(params={**LEARNERS[name]()._all_params, **params},
                             test_accuracy_mean=float(np.mean(accs)),
                             test_accuracy_std=float(np.std(accs)),
                             test_accuracy_min=float(np.min(accs)),
                             train_seconds_mean=float(np.mean([r["train_seconds"]
                                                               for r in runs])),
                             runs=runs)
    meta = dict(split_seeds=list(seeds), total_s=time.perf_counter() - t0,
                machine=f"{platform.machine()} {platform.processor()} {os.cpu_count()} cores")
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(dict(meta=meta, results=results), f, indent=1,
                  default=lambda v: list(v) if isinstance(v, tuple) else str(v))
    lines = ["# e-prop vs surrogate-gradient BPTT, row-wise digits", "",
             "8 rows x 8 pixels, each row held 10 steps (dt = 1 ms); defaults; split seeds "
             f"{list(seeds)} (random_state = split seed).", "",
             "| learner | test accuracy (mean ± std) | min | epochs | train s / fit |",
             "|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {100 * r['test_accuracy_mean']:.1f} ± "
                     f"{100 * r['test_accuracy_std']:.1f} % | {100 * r['test_accuracy_min']:.1f} % "
                     f"| {r['params']['max_iter']} | {r['train_seconds_mean']:.0f} |")
    if len(results) == 2:
        gap = 100 * (results["SurrogateBPTT"]["test_accuracy_mean"]
                     - results["EProp"]["test_accuracy_mean"])
        lines += ["", f"BPTT - e-prop: {gap:.1f} points (issue 19: at most 5)."]
    lines += ["", f"Machine: {meta['machine']}; total {meta['total_s']:.0f} s."]
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    figure(results, args.out)


if __name__ == "__main__":
    main()
