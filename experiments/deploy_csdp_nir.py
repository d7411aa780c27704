"""CSDP to NIR and back: exact with the adaptive threshold in metadata, and without it.

Trains CSDP (128 hidden, 3 epochs: the configuration of ``experiments/deploy_learners.py``)
on the fixed digits split, writes its deployed network with ``dep.to_nir(path)``
(per-neuron thresholds as the nodes' ``v_threshold``, the adaptive threshold as the
nodes' metadata ``theta_plus`` / ``tau_theta``), reads it back (``nir.read``,
``neuromorph.backends.nir.from_nir``) and compares predictions on the whole test split
with the deployed network's:

* as written (neuromorph reads the metadata back): the exact network;
* with ``theta_plus`` / ``tau_theta`` removed from the metadata: what a tool that
  ignores neuromorph's metadata runs (the base per-neuron thresholds, no adaptation),
  the nearest NIR construct.

Writes ``csdp_nir.json`` / ``csdp_nir.md`` to ``--out``.
"""
import argparse
import json
import os
import tempfile

import nir
import numpy as np

import neuromorph as nm
from neuromorph.datasets import load_digits_split
from neuromorph.models.spiking import CSDP


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "deploy"))
    ap.add_argument("--seeds", type=int, default=1)
    args = ap.parse_args()
    X_tr, X_te, y_tr, y_te = load_digits_split()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            clf = CSDP(hidden_layer_sizes=(128,), max_iter=3, random_state=seed).fit(X_tr, y_tr)
            dep = nm.deploy(clf)
            p_dep = dep.predict(X_te)
            path = os.path.join(tmp, "csdp.nir")
            graph = dep.to_nir(path)
            p_nir = dep.predict_nir(X_te, path)
            for node in graph.nodes.values():
                for key in ("theta_plus", "tau_theta"):
                    (getattr(node, "metadata", None) or {}).pop(key, None)
            bare = os.path.join(tmp, "csdp_bare.nir")
            nir.write(bare, graph)
            p_bare = dep.predict_nir(X_te, bare)
            rows.append({"seed": seed, "learner": float(clf.score(X_te, y_te)),
                         "deployed": float(np.mean(p_dep == y_te)),
                         "nir_metadata_agreement": float(np.mean(p_nir == p_dep)),
                         "nir_metadata_accuracy": float(np.mean(p_nir == y_te)),
                         "nir_bare_agreement": float(np.mean(p_bare == p_dep)),
                         "nir_bare_accuracy": float(np.mean(p_bare == y_te))})
            print(json.dumps(rows[-1]), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "csdp_nir.json"), "w") as f:
        json.dump(rows, f, indent=1)
    lines = ["CSDP (128 hidden, 3 epochs) to NIR and back, digits test split "
             f"({len(X_te)} samples; python experiments/deploy_csdp_nir.py).", "",
             "| seed | deployed acc | NIR + metadata: agreement / acc | NIR without the "
             "adaptation (other tools): agreement / acc |", "|---|---|---|---|"]
    lines += [f"| {r['seed']} | {r['deployed']:.3f} | {r['nir_metadata_agreement']:.3f} / "
              f"{r['nir_metadata_accuracy']:.3f} | {r['nir_bare_agreement']:.3f} / "
              f"{r['nir_bare_accuracy']:.3f} |" for r in rows]
    with open(os.path.join(args.out, "csdp_nir.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
