"""Diehl & Cook deployment: float vs Loihi fixed point, standard vs shorter presentation, Lava.

Trains :class:`neuromorph.models.spiking.STDPClassifier` (100 neurons, 1 epoch: the
configuration of ``experiments/deploy_learners.py``) for seeds 0..N-1 on the fixed
digits split, and scores on the whole test split:

* the learner's ``predict`` and the float deployment (``backend="neuromorph"``,
  agreement with ``predict``) at its standard readout (``t_readout`` = 700 ms shown,
  150 ms rest, re-presentations at a higher rate when fewer than 5 spikes);
* the float and the Loihi fixed-point deployment (``backend="loihi"``: learned
  thresholds folded into the weights, 8-bit weights, CUBA neurons) for each
  presentation in ``--presentations`` (ms; ``nm.deploy(..., presentation=...)``), with
  re-presentations and without them (``max_retries=0``: the Lava run then needs no
  host decision at all);
* for seed 0, the first ``--lava-samples`` test samples in Lava (``backend="lava"``)
  at the shortest presentation: whether every spike equals the core's.

Writes ``diehl_cook.json`` / ``diehl_cook.md`` to ``--out``.

Usage::

    python experiments/deploy_diehl_cook.py                     # 5 seeds
    python experiments/deploy_diehl_cook.py --seeds 1 --quick   # smoke run
"""
import argparse
import json
import os
import time

import numpy as np

import neuromorph as nm
from neuromorph.datasets import load_digits_split
from neuromorph.models.spiking import STDPClassifier


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "deploy"))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--presentations", type=float, nargs="+", default=[700.0, 350.0, 100.0])
    ap.add_argument("--lava-samples", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="20 neurons, 300 training samples")
    args = ap.parse_args()
    X_tr, X_te, y_tr, y_te = load_digits_split()
    params = dict(n_neurons=100, max_iter=1)
    if args.quick:
        params, X_tr, y_tr = dict(n_neurons=20, max_iter=1), X_tr[:300], y_tr[:300]
    runs = []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        clf = STDPClassifier(random_state=seed, **params).fit(X_tr, y_tr)
        row = {"seed": seed, "fit_s": time.perf_counter() - t0,
               "theta_mean_mV": float(clf.theta_.mean())}
        p_learner = clf.predict(X_te)
        row["learner"] = float(np.mean(p_learner == y_te))
        for t in args.presentations:
            for retries in (None, 0):
                key = f"{t:g}ms" + ("" if retries is None else "_no_retries")
                kw = dict(presentation=t, max_retries=retries)
                p_f = nm.deploy(clf, **kw).predict(X_te)
                p_q = nm.deploy(clf, backend="loihi", **kw).predict(X_te)
                row[key] = {"float": float(np.mean(p_f == y_te)),
                            "fixed": float(np.mean(p_q == y_te))}
                if t == clf.t_readout and retries is None:
                    row["agreement"] = float(np.mean(p_f == p_learner))
        print(json.dumps(row), flush=True)
        runs.append(row)
        if seed == 0 and args.lava_samples:
            t = min(args.presentations)
            X = X_te[:args.lava_samples]
            t0 = time.perf_counter()
            dep = nm.deploy(clf, backend="lava", presentation=t)
            _, rec = dep.run(X)
            _, _, net = dep.spec.run(X)
            mons = {m.target.name: m for m in net.monitors if hasattr(m, "steps")}
            same = all(sorted(zip(*[a.tolist() for a in rec["lava"][n]])) ==
                       sorted(zip(mons[n].steps.tolist(), mons[n].i.tolist()))
                       for n in ("exc", "inh"))
            lava = {"presentation_ms": t, "samples": len(X), "steps": int(net.step),
                    "wall_s": time.perf_counter() - t0, "spikes_identical": bool(same),
                    "exc_spikes": int(len(rec["lava"]["exc"][0]))}
            print(json.dumps(lava), flush=True)
    keys = [k for k in runs[0] if k.endswith("ms") or k.endswith("_no_retries")]
    summary = {}
    for k in keys:
        f = np.array([r[k]["float"] for r in runs])
        q = np.array([r[k]["fixed"] for r in runs])
        d = 100 * (f - q)
        summary[k] = {"float_mean": f.mean(), "fixed_mean": q.mean(),
                      "drop_points_mean": d.mean(), "drop_points_std": d.std(),
                      "drop_points_max": d.max()}
    out = {"params": params, "n_test": len(X_te), "runs": runs, "summary": summary,
           "learner_mean": float(np.mean([r["learner"] for r in runs])),
           "agreement_min": float(min(r["agreement"] for r in runs)),
           "lava": lava if args.lava_samples else None}
    os.makedirs(args.out, exist_ok=True)
    tag = "_quick" if args.quick else ""
    with open(os.path.join(args.out, f"diehl_cook{tag}.json"), "w") as f:
        json.dump(out, f, indent=1, default=float)
    lines = [f"Diehl & Cook (STDPClassifier {params}), digits test split ({len(X_te)} "
             f"samples), seeds 0..{args.seeds - 1} (python experiments/deploy_diehl_cook.py). "
             f"Learner accuracy {out['learner_mean']:.3f} (mean); float deployment agrees "
             f"with predict on >= {out['agreement_min']:.3f} of the samples. Each sample: "
             f"presentation, then {clf.t_rest:g} ms rest.", "",
             "| presentation | re-presentations | float acc | fixed acc | drop, points "
             "(mean +- std, max) |", "|---|---|---|---|---|"]
    for k, s in summary.items():
        t = k.split("ms")[0]
        lines.append(f"| {t} ms | {'no' if 'no_retries' in k else 'yes'} | "
                     f"{s['float_mean']:.3f} | {s['fixed_mean']:.3f} | "
                     f"{s['drop_points_mean']:.2f} +- {s['drop_points_std']:.2f}, "
                     f"{s['drop_points_max']:.2f} |")
    if args.lava_samples:
        lines += ["", f"Lava (seed 0, {lava['samples']} samples at {lava['presentation_ms']:g} "
                      f"ms, {lava['steps']} steps, {lava['wall_s']:.0f} s): spikes identical "
                      f"to the core's fixed point: {lava['spikes_identical']}."]
    with open(os.path.join(args.out, f"diehl_cook{tag}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
