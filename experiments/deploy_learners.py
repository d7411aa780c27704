"""Deploying the five spiking learners on the core: float fidelity and Loihi energy per inference.

Trains CSDP, SpikingPC, EqSpike, RSTDPClassifier and STDPClassifier on the project's
fixed digits split (:func:`neuromorph.datasets.load_digits_split`), deploys each with
``nm.deploy(model, backend="neuromorph")`` (the core engine, float64) and reports on the
whole test split: the learner's own ``predict`` accuracy, the deployed network's, and
their agreement (the fraction of samples with the same answer; same input spike
stream). Then ``dep.estimate(X[:n], hardware="loihi")``: SANA-FE's first-generation
Loihi energy and latency per inference of the deployed network's activity, next to the
independent count with Davies et al. 2018's constants (Loihi 23.6 + 3.5 pJ per
synaptic op and 81 pJ per neuron update; 8.6 nJ per operation for a CPU, 0.3 nJ for a
GPU, keras-spiking's ModelEnergy). Writes ``results.json`` and ``results.md`` to
``--out``.

At ``--seed`` it also measures the Loihi fixed-point deployment (``backend="loihi"``)
on the same test samples and checks Lava (``nm.deploy(model, backend="lava",
fixed_point=True)``: Lava's bit-accurate Loihi 2 simulation) on the first ``N`` test
samples of each learner (``--lava-samples``; Lava costs ~1-2 ms per simulated step
here, so ``N`` is small and chosen per learner in ``LAVA_SAMPLES``): Lava's accuracy there, the
fixed-point accuracy on the same samples, and whether Lava's recorded spikes (every
layer's spikes in each sample's window; R-STDP: every output spike; Diehl & Cook:
every excitatory and inhibitory spike of the run) and answers equal the core's fixed point. Diehl & Cook's Lava check
uses the shorter deployment presentation ``--lava-presentation`` (default 350 ms; the
fixed-point accuracy on the whole split uses the learner's readout presentation).

``--fixed-point-seeds N`` also measures, for seeds 0..N-1, the accuracy of the Loihi
fixed-point deployment (``backend="loihi"``: 8-bit weights per layer, CUBA neurons) vs
float on the whole test split, for every learner that maps (the others are listed with
the reason), into ``fixed_point.json`` / ``fixed_point.md``.

Usage::

    python experiments/deploy_learners.py                       # moderate training
    python experiments/deploy_learners.py --quick --out /tmp/d  # smoke run (~1 min)
    python experiments/deploy_learners.py --fixed-point-seeds 5 # + quantisation cost
    python experiments/deploy_learners.py --lava-samples 10 STDPClassifier=5

Training budgets are small (the point is deployment fidelity, not accuracy): see
``CONFIGS``; wall times are on the machine that ran the script.
"""
import argparse
import json
import os
import time

import numpy as np

import neuromorph as nm
from neuromorph.datasets import load_digits_split
from neuromorph.deploy.energy import davies_estimate
from neuromorph.models.spiking import registry

CONFIGS = {
    "CSDP": dict(hidden_layer_sizes=(128,), max_iter=3),
    "SpikingPC": dict(max_iter=3),
    "EqSpike": dict(max_iter=3),
    "RSTDPClassifier": dict(max_iter=3),
    "STDPClassifier": dict(n_neurons=100, max_iter=1),
    "EProp": dict(max_iter=5),
    "SurrogateBPTT": dict(max_iter=5),
}
QUICK = {
    "CSDP": dict(hidden_layer_sizes=(32,), max_iter=1),
    "SpikingPC": dict(hidden_layer_sizes=(32,), n_steps=30, burn_in=10.0, max_iter=1),
    "EqSpike": dict(hidden_layer_sizes=(32,), max_iter=1),
    "RSTDPClassifier": dict(max_iter=1),
    "STDPClassifier": dict(n_neurons=20, max_iter=1),
    "EProp": dict(n_hidden=32, max_iter=1),
    "SurrogateBPTT": dict(n_hidden=32, max_iter=1),
}


#: Test samples checked in Lava per learner (the first N of the digits test split; each
#: run 0.5-2.5 min on this 2-core machine, Lava ~1.2-1.8 ms per step when not contended;
#: steps per sample: CSDP 542, EqSpike 464, EProp and SurrogateBPTT 225, R-STDP 280 in
#: one ``RunSteps`` segment per trial, Diehl & Cook 1000 at 350 ms + 150 ms rest, more
#: with re-presentations). SpikingPC's delays exceed Loihi 2's at its default
#: ``n_steps`` (not mapped: the reason is reported).
LAVA_SAMPLES = {"CSDP": 100, "SpikingPC": 20, "EqSpike": 100, "RSTDPClassifier": 100,
                "STDPClassifier": 50, "EProp": 100, "SurrogateBPTT": 100}


def lava_check(clf, X, y, n, presentation=None):
    """Lava vs the core's Loihi fixed point on ``X[:n]``: accuracies, whether the recorded
    spikes and answers are equal, run times. ``presentation`` (ms): the deployment
    presentation of learners that present samples for a time (Diehl & Cook)."""
    from neuromorph.errors import UnsupportedFeature

    kw = {"presentation": presentation} if presentation and hasattr(clf, "t_readout") else {}
    try:
        lava = nm.deploy(clf, backend="lava", fixed_point=True, **kw)
    except UnsupportedFeature as err:
        return {"mapped": False, "reason": str(err)}
    fixed = nm.deploy(clf, backend="loihi", **kw)
    X, y = fixed._check_X(X[:n]), y[:n]
    t0 = time.perf_counter()
    s_fixed, rec_fixed, net_fixed = fixed.spec.run(X)
    fixed_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    s_lava, rec_lava, _ = lava.spec.run(X, engine="lava")
    lava_s = time.perf_counter() - t0
    keys = sorted(set(rec_fixed) & set(rec_lava))   # recorded activity of both runs
    same = all(np.array_equal(np.asarray(rec_fixed[k]), np.asarray(rec_lava[k])) for k in keys)
    if "output_i" in rec_lava:   # R-STDP: the outputs' spike steps and indices
        n_spikes = len(rec_lava["output_i"])
    else:   # spike counts per sample (windows of the layers; Diehl & Cook's exc counts)
        n_spikes = int(sum(np.asarray(rec_lava[k]).sum() for k in keys
                           if k not in ("input", "presentation_start")))
    if "lava" in rec_lava:   # Diehl & Cook: every spike of the run, not only the counts
        mons = {m.target.name: m for m in net_fixed.monitors if hasattr(m, "steps")}
        for name in ("exc", "inh"):
            steps, idx = rec_lava["lava"][name]
            same &= sorted(zip(steps.tolist(), idx.tolist())) == sorted(
                zip(mons[name].steps.tolist(), mons[name].i.tolist()))
        keys += ["lava:exc", "lava:inh"]
    p_fixed = clf.classes_[np.argmax(s_fixed, axis=1)]
    p_lava = clf.classes_[np.argmax(s_lava, axis=1)]
    return {"mapped": True, "samples": len(X), "presentation_ms": kw.get("presentation"),
            "lava_accuracy": float(np.mean(p_lava == y)),
            "fixed_accuracy": float(np.mean(p_fixed == y)),
            "same_spikes": bool(same), "same_predictions": bool(np.array_equal(p_lava, p_fixed)),
            "compared": keys, "spikes_compared": n_spikes,
            "lava_predictions": p_lava.tolist(), "fixed_predictions": p_fixed.tolist(),
            "lava_s": lava_s, "fixed_s": fixed_s}


def run(name, params, data, seed, n_energy, n_test, n_lava=0, lava_presentation=None):
    X_tr, X_te, y_tr, y_te = data
    X_te, y_te = X_te[:n_test], y_te[:n_test]
    t0 = time.perf_counter()
    clf = registry()[name](random_state=seed, **params).fit(X_tr, y_tr)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    p_learner = clf.predict(X_te)
    learner_s = time.perf_counter() - t0
    dep = nm.deploy(clf, backend="neuromorph")
    t0 = time.perf_counter()
    p_dep = dep.predict(X_te)
    deploy_s = time.perf_counter() - t0
    est = dep.estimate(X_te[:n_energy], hardware="loihi")
    fixed = {"mapped": False}
    try:
        fdep = nm.deploy(clf, backend="loihi")
        t0 = time.perf_counter()
        p_fixed = fdep.predict(X_te)
        fixed = {"mapped": True, "accuracy": float(np.mean(p_fixed == y_te)),
                 "agreement_with_float": float(np.mean(p_fixed == p_dep)),
                 "predict_s": time.perf_counter() - t0,
                 "predictions_first": p_fixed[:max(n_lava, 1)].tolist()}
    except nm.UnsupportedFeature as err:
        fixed["reason"] = str(err)
    lava = lava_check(clf, X_te, y_te, n_lava, lava_presentation) if n_lava else None
    return {
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
        "exact": bool(getattr(dep.spec, "exact", True)),
        "learner_accuracy": float(np.mean(p_learner == y_te)),
        "deployed_accuracy": float(np.mean(p_dep == y_te)),
        "agreement": float(np.mean(p_learner == p_dep)),
        "fit_s": fit_s, "learner_predict_s": learner_s, "deployed_predict_s": deploy_s,
        "energy_samples": n_energy,
        "loihi_sanafe_uJ": est.energy_j * 1e6,
        "loihi_latency_ms": est.latency_s * 1e3,
        "synaptic_ops": est.synaptic_ops, "neuron_updates": est.neuron_updates,
        "cores": est.cores,
        "loihi_davies_uJ": davies_estimate(est.synaptic_ops, est.neuron_updates) * 1e6,
        "cpu_uJ": davies_estimate(est.synaptic_ops, est.neuron_updates, "cpu") * 1e6,
        "gpu_uJ": davies_estimate(est.synaptic_ops, est.neuron_updates, "gpu") * 1e6,
        "fixed_point": fixed, "lava": lava,
    }


def fixed_point_cost(name, params, data, seeds):
    """Float and Loihi fixed-point test accuracy for ``seeds`` (None if not mappable)."""
    from neuromorph.errors import UnsupportedFeature

    X_tr, X_te, y_tr, y_te = data
    rows = []
    for seed in range(seeds):
        clf = registry()[name](random_state=seed, **params).fit(X_tr, y_tr)
        try:
            dep = nm.deploy(clf, backend="loihi")
        except UnsupportedFeature as err:
            return {"mapped": False, "reason": str(err)}
        p_float, p_fixed = nm.deploy(clf).predict(X_te), dep.predict(X_te)
        rows.append({"seed": seed, "float": float(np.mean(p_float == y_te)),
                     "fixed": float(np.mean(p_fixed == y_te)),
                     "agreement": float(np.mean(p_float == p_fixed)), "notes": dep.spec.notes})
        print(name, rows[-1], flush=True)
    drops = [100 * (r["float"] - r["fixed"]) for r in rows]
    return {"mapped": True, "runs": rows, "drop_points_mean": float(np.mean(drops)),
            "drop_points_std": float(np.std(drops)), "drop_points_max": float(np.max(drops))}


def _fixed_cell(r):
    f = r.get("fixed_point") or {}
    return f"{f['accuracy']:.3f}" if f.get("mapped") else "not mapped"


def _lava_cells(r):
    """``fixed acc (first N) | Lava acc (first N) | Lava = fixed`` cells."""
    lv = r.get("lava")
    if not lv:
        return " | not run | "
    if not lv["mapped"]:
        return " | not mapped: " + lv["reason"].splitlines()[0].replace("|", "/") + " | "
    at = f", {lv['presentation_ms']:g} ms" if lv.get("presentation_ms") else ""
    return (f"{lv['fixed_accuracy']:.3f} (N={lv['samples']}{at}) | "
            f"{lv['lava_accuracy']:.3f} (N={lv['samples']}) | "
            f"{'yes' if lv['same_spikes'] and lv['same_predictions'] else 'NO'}")


def table(results):
    head = ("| learner | learner acc | deployed acc (float) | agreement | fixed-point acc | "
            "fixed acc (first N) | Lava acc (first N) | Lava spikes = fixed | Loihi uJ/inf "
            "(SANA-FE) | Loihi uJ (Davies) | CPU uJ | GPU uJ | latency ms | cores |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    rows = [f"| {n} | {r['learner_accuracy']:.3f} | {r['deployed_accuracy']:.3f} | "
            f"{r['agreement']:.3f} | {_fixed_cell(r)} | {_lava_cells(r)} | "
            f"{r['loihi_sanafe_uJ']:.3g} | {r['loihi_davies_uJ']:.3g} | "
            f"{r['cpu_uJ']:.3g} | {r['gpu_uJ']:.3g} | {r['loihi_latency_ms']:.3g} | "
            f"{r['cores']} |" for n, r in results.items()]
    return head + "\n".join(rows) + "\n"


def lava_samples(entries, names, default):
    """Lava samples per learner from ``--lava-samples`` entries: ``N`` (every learner)
    or ``NAME=N``; learners not named get ``default[name]``."""
    out = {name: default.get(name, 0) for name in names}
    for entry in entries or ():
        name, sep, value = entry.rpartition("=")
        if not value.isdigit():
            raise ValueError(f"--lava-samples entries must be N or NAME=N with N >= 0, "
                             f"got {entry!r}")
        if not sep:
            out = {k: int(value) for k in out}
        elif name in out:
            out[name] = int(value)
        else:
            raise ValueError(f"--lava-samples: unknown learner {name!r}; choose from "
                             f"{list(out)}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "deploy"))
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny models, 60 samples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fixed-point-seeds", type=int, default=0,
                    help="also measure the fixed-point accuracy drop over this many seeds")
    ap.add_argument("--only-fixed-point", action="store_true",
                    help="skip the float/energy table")
    ap.add_argument("--learners", nargs="+", default=None, metavar="NAME",
                    help="subset of learners (default: all five)")
    ap.add_argument("--tag", default="", help="suffix of the output file names")
    ap.add_argument("--lava-samples", nargs="+", default=None, metavar="N|NAME=N",
                    help="test samples checked in Lava: N for every learner and/or NAME=N "
                         "(default: LAVA_SAMPLES, 2 with --quick; 0: no Lava run)")
    ap.add_argument("--lava-presentation", type=float, default=350.0, metavar="MS",
                    help="Diehl & Cook's deployment presentation in the Lava check (ms; "
                         "default 350; 0: the learner's readout presentation)")
    args = ap.parse_args()
    data = load_digits_split()
    if args.quick:
        data = (data[0][:200], data[1], data[2][:200], data[3])
    configs = QUICK if args.quick else CONFIGS
    if args.learners:
        unknown = sorted(set(args.learners) - set(configs))
        if unknown:
            ap.error(f"unknown learners {unknown}; choose from {list(configs)}")
        configs = {k: v for k, v in configs.items() if k in args.learners}
    n_test = 60 if args.quick else len(data[1])
    try:
        n_lava = lava_samples(args.lava_samples, list(configs),
                              dict.fromkeys(configs, 2) if args.quick else LAVA_SAMPLES)
    except ValueError as err:
        ap.error(str(err))
    if not 0 <= args.lava_presentation:
        ap.error(f"--lava-presentation must be >= 0 ms, got {args.lava_presentation}")
    if args.fixed_point_seeds:
        cost = {name: fixed_point_cost(name, params, data, args.fixed_point_seeds)
                for name, params in configs.items()}
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, f"fixed_point{args.tag}.json"), "w") as f:
            json.dump(cost, f, indent=2)
        lines = ["| learner | float acc (mean) | fixed acc (mean) | drop, points (mean +- std, "
                 "max) | float/fixed agreement (mean) |", "|---|---|---|---|---|"]
        for name, c in cost.items():
            if not c["mapped"]:
                lines.append(f"| {name} | | | not mapped: {c['reason'].splitlines()[0]} |")
                continue
            fl = np.mean([r["float"] for r in c["runs"]])
            fx = np.mean([r["fixed"] for r in c["runs"]])
            ag = np.mean([r["agreement"] for r in c["runs"]])
            lines.append(f"| {name} | {fl:.3f} | {fx:.3f} | {c['drop_points_mean']:.2f} +- "
                         f"{c['drop_points_std']:.2f}, {c['drop_points_max']:.2f} | {ag:.3f} |")
        with open(os.path.join(args.out, f"fixed_point{args.tag}.md"), "w") as f:
            f.write(f"Loihi fixed point vs float, digits test split, seeds "
                    f"0..{args.fixed_point_seeds - 1}.\n\n" + "\n".join(lines) + "\n")
        print("\n".join(lines))
        if args.only_fixed_point:
            return
    results = {}
    os.makedirs(args.out, exist_ok=True)
    for name, params in configs.items():
        t0 = time.perf_counter()
        results[name] = run(name, params, data, args.seed, 3 if args.quick else 10, n_test,
                            n_lava[name], args.lava_presentation or None)
        results[name]["total_s"] = time.perf_counter() - t0
        print(name, {k: results[name][k] for k in ("learner_accuracy", "deployed_accuracy",
                                                   "agreement", "loihi_sanafe_uJ")},
              _fixed_cell(results[name]), _lava_cells(results[name]), flush=True)
        # written after every learner: a run cut short keeps what it finished
        with open(os.path.join(args.out, f"results{args.tag}.json"), "w") as f:
            json.dump({"seed": args.seed, "quick": args.quick, "results": results}, f,
                      indent=2)
        with open(os.path.join(args.out, f"results{args.tag}.md"), "w") as f:
            f.write(f"Digits test split ({n_test} samples), seed {args.seed}; energy on the "
                    f"first {results[next(iter(results))]['energy_samples']} samples. Loihi = "
                    f"first-generation Loihi (SANA-FE's calibration). Fixed-point acc: "
                    f'backend "loihi" on the same samples. Lava (backend "lava", Loihi 2 '
                    f"bit-accurate) on the first N test samples next to the fixed point on "
                    f"the same N; Lava spikes = fixed: every layer's recorded spikes and the "
                    f"answers equal (Diehl & Cook: every excitatory and inhibitory spike, at "
                    f"the presentation given).\n\n" + table(results))
    print(table(results))


if __name__ == "__main__":
    main()
