"""Rate-vs-spike comparison behind ``neuromorph compare``.

Every rate family of :func:`neuromorph.models.rate.registry` and every spiking classifier
of :func:`neuromorph.models.spiking.registry` (CSDP, SpikingPC, EqSpike,
RSTDPClassifier, STDPClassifier, EProp, SurrogateBPTT) is trained on
scikit-learn digits (the project's fixed split, :func:`neuromorph.datasets.load_digits_split`)
with several seeds; :func:`build_report` writes the table (mean ± std test accuracy,
training wall time per fit) and each family's row of the survey's plausibility checklist.

Rate families run at their defaults (``Family(random_state=seed)``, ``max_iter``
epochs); the spiking budgets below follow the spiking experiment scripts. ``quick`` cuts
them (a quarter of the epochs, smaller spiking networks, 1 seed) so that the whole
comparison runs in a few minutes.
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np

from .models.rate import CHECKLIST_COLUMNS, Family, registry

# Rate families run at their defaults, exactly as a user gets them from
# ``Family(random_state=seed)``: no hyperparameters on top, ``max_iter`` epochs
# (also used by experiments/compare_families.py).
RATE_CONFIGS = {name: ({}, cls._all_params["max_iter"]) for name, cls in registry().items()}
DEFAULT_RATE_EPOCHS = 20  # epochs of a spiking family added without a budget below

# Spiking classifiers' budgets (full, quick): constructor parameters, epochs, training
# samples (None: all).
SPIKING_CONFIGS = {
    "CSDP": {
        False: (dict(hidden_layer_sizes=(256, 256), n_steps=30, batch_size=100), 5, None),
        True: (dict(hidden_layer_sizes=(128, 128), n_steps=25, batch_size=100), 2, None),
    },
    "SpikingPC": {
        False: ({}, 20, None),
        True: (dict(hidden_layer_sizes=(128,)), 2, None),
    },
    "EqSpike": {
        False: ({}, 10, None),
        True: (dict(hidden_layer_sizes=(128,)), 2, None),
    },
    "RSTDPClassifier": {
        False: ({}, 20, None),
        True: ({}, 3, None),
    },
    "STDPClassifier": {
        False: (dict(n_neurons=100), 2, None),
        True: (dict(n_neurons=100), 1, None),
    },
    "EProp": {  # digits read row by row (8 rows x 10 steps), experiments/eprop_digits.py
        False: ({}, 20, None),
        True: (dict(n_hidden=32), 2, None),
    },
    "SurrogateBPTT": {
        False: ({}, 20, None),
        True: (dict(n_hidden=32), 2, None),
    },
}


def spiking_classes():
    """``{name: class}`` of the spiking classifiers (:func:`neuromorph.models.spiking.registry`)."""
    from .models import spiking
    return spiking.registry()


def family_names():
    """The families ``neuromorph compare`` runs: every rate family, then the spiking ones."""
    return list(registry()) + list(spiking_classes())


def family_class(name):
    rate = registry()
    return rate[name] if name in rate else spiking_classes()[name]


def metadata(name):
    """``dict(kind, family, algorithm, checklist)`` of a family (rate or spiking)."""
    cls = family_class(name)
    kind = "rate" if name in registry() else "spike"
    return dict(kind=kind, family=cls.family, algorithm=cls.algorithm or name,
                checklist=cls.checklist)


def budget(name, quick):
    """``(params, epochs, n_train)`` for one family."""
    if name in SPIKING_CONFIGS:
        return SPIKING_CONFIGS[name][bool(quick)]
    if name in spiking_classes():  # a spiking family added without a budget here
        return {}, (1 if quick else DEFAULT_RATE_EPOCHS // 4), None
    params, epochs = RATE_CONFIGS.get(name, ({}, DEFAULT_RATE_EPOCHS))
    return params, (max(2, epochs // 4) if quick else epochs), None


def run_family(name, seed, quick=False, data=None, epochs=None):
    """Train one family with one seed on digits; returns accuracy and training wall time.

    Every learner, rate or spiking, is trained the same way: one ``partial_fit`` epoch
    at a time, scored on the test set after each. ``epochs`` overrides the budget
    (tests use 1).
    """
    from .datasets import load_digits_split

    Xtr, Xte, ytr, yte = data if data is not None else load_digits_split()
    params, n_epochs, n_train = budget(name, quick)
    if epochs is not None:
        n_epochs = epochs
    if n_train is not None:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    est = family_class(name)(**params, random_state=seed)
    classes = np.unique(ytr)
    curve, wall = [], 0.0
    for _ in range(n_epochs):
        t0 = time.perf_counter()
        est.partial_fit(Xtr, ytr, classes=classes)
        wall += time.perf_counter() - t0
        curve.append(float(est.score(Xte, yte)))
    out = dict(family=name, seed=seed, test_accuracy=curve[-1], test_curve=curve,
               wall_s=wall, epochs=budget(name, quick)[1] if epochs is None else epochs)
    history = {k: [float(x) for x in est.history_[k]] for k in GENERATIVE_CURVES
               if len(getattr(est, "history_", {}).get(k, ()))}
    if history:  # unsupervised / generative families: their own training curves
        out["history"] = history
    return out


#: Training curves of the unsupervised and generative families (``history_`` keys, one
#: value per epoch) that the report plots besides the readout's test accuracy.
GENERATIVE_CURVES = {"reconstruction_error": "reconstruction error (per sample)",
                     "pseudo_likelihood": "pseudo-log-likelihood (nats per sample)"}


def generative_curves(results):
    """``{key: {family: [per-seed curves]}}`` of :data:`GENERATIVE_CURVES` over the runs
    that recorded them (:func:`run_family`'s ``history``)."""
    out = {}
    for r in results:
        for key, curve in r.get("history", {}).items():
            out.setdefault(key, {}).setdefault(r["family"], []).append(curve)
    return {k: out[k] for k in GENERATIVE_CURVES if k in out}


def plot_generative_curves(results, path):
    """One panel per :data:`GENERATIVE_CURVES` key, mean +- std over seeds per epoch for
    each family that recorded it; PNG at ``path`` + SVG. Returns ``path``, or None when
    no run recorded one."""
    curves = generative_curves(results)
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plot import save

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.6), squeeze=False)
    for ax, (key, fams) in zip(axes[0], curves.items()):
        for name, runs in fams.items():
            n = min(len(c) for c in runs)
            a = np.array([c[:n] for c in runs], dtype=float)
            x = np.arange(1, n + 1)
            ax.plot(x, a.mean(0), marker="o", ms=3, label=name)
            ax.fill_between(x, a.mean(0) - a.std(0), a.mean(0) + a.std(0), alpha=0.2)
        ax.set_xlabel("epoch")
        ax.set_ylabel(GENERATIVE_CURVES[key])
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)
    return path


def summarise(results, families):
    rows = []
    for name in families:
        runs = [r for r in results if r["family"] == name]
        acc = np.array([r["test_accuracy"] for r in runs], dtype=float)
        meta = metadata(name)
        rows.append(dict(name=name, **{k: meta[k] for k in ("kind", "family", "algorithm")},
                         checklist=meta["checklist"],
                         mean=float(acc.mean()) if len(acc) else float("nan"),
                         std=float(acc.std()) if len(acc) else float("nan"),
                         n=len(runs), epochs=runs[0]["epochs"] if runs else 0,
                         wall_s=float(np.mean([r["wall_s"] for r in runs])) if runs else 0.0))
    return rows


def family_groups(families):
    """``{name: panel}`` in panel order: rate families by survey tag (backprop first, in
    the order of ``Family.ALL``), then the spiking classifiers under ``'spiking'``."""
    panels = {}
    for name in families:
        meta = metadata(name)
        panels[name] = "spiking" if meta["kind"] == "spike" else str(meta["family"])
    order = list(Family.ALL) + ["spiking"]
    rank = {p: (order.index(p) if p in order else len(order)) for p in panels.values()}
    return {name: panels[name] for name in sorted(families, key=lambda n: rank[panels[n]])}


def plot_learning_curves(results, families, path):
    """Learning curves (mean ± std over seeds, test accuracy per epoch), one panel per
    survey family tag (spiking classifiers in their own panel); PNG at ``path`` + SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plot import learning_curves, save

    groups = family_groups(families)
    curves = {name: [r["test_curve"] for r in results if r["family"] == name]
              for name in groups}
    fig = learning_curves({name: c for name, c in curves.items() if c}, groups)
    save(fig, path)
    plt.close(fig)
    return path


def build_report(results, families, meta):
    """Markdown report: accuracy / wall-time table, learning curves, then the
    plausibility checklist.

    ``results``: the dicts of :func:`run_family`; ``families``: names, in table order;
    ``meta``: ``mode``, ``seeds``, ``total_s``, ``machine``.
    """
    rows = summarise(results, families)
    lines = [
        "# Rate vs spike: credit-assignment families on digits",
        "",
        f"Generated by `neuromorph compare` ({meta['mode']}); seeds: {meta['seeds']}; "
        f"machine: {meta['machine']}; total wall time {meta['total_s']:.0f} s.",
        "Data: scikit-learn 8×8 digits, fixed seeded stratified 80/20 split (1437/360). "
        "Wall time: training only, mean per fit (test evaluation excluded).",
        "",
        "## Test accuracy and wall time",
        "",
        "| Family | Kind | Tag | Algorithm | Test acc % (mean ± std) | Seeds | Epochs | s/fit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['kind']} | {r['family']} | {r['algorithm']} | "
                     f"{100 * r['mean']:.1f} ± {100 * r['std']:.1f} | {r['n']} | "
                     f"{r['epochs']} | {r['wall_s']:.1f} |")
    if meta.get("figure"):
        lines += ["", "## Learning curves", "",
                  "Test accuracy after each epoch, mean ± std over seeds, one panel per "
                  "survey family tag (spiking classifiers together).", "",
                  f"![learning curves]({meta['figure']})"]
    curves = generative_curves(results)
    if curves:
        lines += ["", "## Unsupervised and generative families: training curves", "",
                  "Their own objective per epoch (mean ± std over seeds; the table above "
                  "scores a readout of their features). Last epoch:", "",
                  "| Family | " + " | ".join(GENERATIVE_CURVES[k] for k in curves) + " |",
                  "|---|" + "---|" * len(curves)]
        for name in [f for f in families if any(f in c for c in curves.values())]:
            cells = []
            for key in curves:
                last = [c[-1] for c in curves[key].get(name, [])]
                cells.append(f"{np.mean(last):.3f} ± {np.std(last):.3f}" if last else "—")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if meta.get("generative_figure"):
            lines += ["", f"![training curves]({meta['generative_figure']})"]
    lines += [
        "",
        "## Plausibility checklist (survey §2.3)",
        "",
        "Y resolves, N does not, P partly / depends on variant, — not applicable. "
        "P1 global feedback pathway, P2 weight transport, P3 short-term plasticity, "
        "P4 constraint & sensitivity, LP local plasticity, FL forward locking, "
        "UL update locking, P6 inference–learning dependency, AA architecture-agnostic, "
        "Time online sequences, Ctrl control/RL.",
        "",
        "| Family | Checklist row | " + " | ".join(CHECKLIST_COLUMNS) + " |",
        "|---|---|" + "---|" * len(CHECKLIST_COLUMNS),
    ]
    for r in rows:
        c = r["checklist"]
        lines.append(f"| {r['name']} | {c.source} | "
                     + " | ".join(getattr(c, col) for col in CHECKLIST_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def report_rows(markdown):
    """Family names of the accuracy table of a report (for tests and tools)."""
    names, in_table = [], False
    for line in markdown.splitlines():
        if line.startswith("| Family | Kind"):
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                break
            if not line.startswith("|---"):
                names.append(line.split("|")[1].strip())
    return names


def run_compare(out, quick=False, seeds=None, families=None, jobs=1, epochs=None,
                progress=True, scheduler=None):
    """Run the comparison and write ``report.md`` and ``results.json`` into ``out``.

    ``scheduler``: address of a Dask scheduler that runs the fits instead
    (:mod:`neuromorph.sweeps`; the same seeds give the same numbers). Returns the path
    of ``report.md``.
    """
    import json

    from .datasets import load_digits_split

    families = list(families) if families is not None else family_names()
    known = set(family_names())
    unknown = [f for f in families if f not in known]
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {sorted(known)}")
    n_seeds = seeds if seeds is not None else (1 if quick else 5)
    if n_seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {n_seeds}")
    data = load_digits_split()
    runs = [(f, s) for f in families for s in range(n_seeds)]
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    if scheduler is not None:
        from .sweeps import connect, run_all
        connect(scheduler).close()  # an unreachable address fails before any work
        results = run_all(run_family, [(f, s, quick, data, epochs) for f, s in runs],
                          scheduler=scheduler)
    elif jobs > 1:
        from joblib import Parallel, delayed
        results = Parallel(n_jobs=jobs, verbose=5 if progress else 0)(
            delayed(run_family)(f, s, quick, data, epochs) for f, s in runs)
    else:
        results = []
        for i, (f, s) in enumerate(runs):
            results.append(run_family(f, s, quick, data, epochs))
            if progress:
                r = results[-1]
                print(f"[{i + 1}/{len(runs)}] {f} seed {s}: test {r['test_accuracy']:.3f} "
                      f"({r['wall_s']:.1f} s)", flush=True)
    total = time.perf_counter() - t0
    meta = dict(mode="quick" if quick else "full", seeds=n_seeds, total_s=total,
                machine=f"{platform.machine()}, {os.cpu_count()} CPUs, {jobs} parallel fit(s)"
                if scheduler is None else f"Dask scheduler {scheduler}")
    meta["figure"] = os.path.basename(
        plot_learning_curves(results, families, os.path.join(out, "learning_curves.png")))
    gen = plot_generative_curves(results, os.path.join(out, "generative_curves.png"))
    if gen is not None:
        meta["generative_figure"] = os.path.basename(gen)
    report = build_report(results, families, meta)
    path = os.path.join(out, "report.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(report)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(dict(meta=meta, families=families, runs=results), f, indent=1)
    return path
