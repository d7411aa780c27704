"""Save and load a network with its full state (versioned ``.npz`` format).

The file holds the structure (populations, projections, currents), every state
variable, the weights, and the engine's hidden state (delayed spikes in flight, STDP
traces, Poisson generators), so a loaded network continues exactly as the saved one
would have: same spikes, same weights. Monitors and their recordings are not saved.

Writing goes through a temporary file and an atomic rename, so a failed save never
leaves a half-written file in place of a good one. Loading checks the format name,
version and every array's shape before building anything, and raises ``ValueError``
for a corrupt or mismatched file.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from .descriptions import NeuronDescription, RuleDescription, by_file_kind, describe
from .network import Network, Population, Projection
from .modulation import RewardSignal

FORMAT = "neuromorph-network"
VERSION = 1


def _view_ref(view):
    return [view.population.name, view.start, view.stop]


def save(net, path):
    """Write ``net`` to ``path`` (``.npz``). See the module docstring."""
    from .simulator import Simulator
    if net._stale:
        net._sim = Simulator(net, previous=net._sim)
        net._stale = False
    sim = net._sim
    sim.flush(net.step)  # R-STDP weights and eligibility current
    arrays, pops, projs, currents = {}, [], [], []
    for k, p in enumerate(net.populations):
        entry = {"name": p.name, "size": p.size}
        desc = describe(p.model)
        params, model_arrays = desc.to_file(p.model)
        entry["kind"] = desc.file_kind
        if params is not None:
            entry["params"] = params
        for var in desc.state:  # (LoihiLIF's I_exc/I_inh: input of the next step)
            if var.saved:
                arrays[f"pop{k}_{var.name}"] = np.asarray(p.state[var.name])
        for name, arr in model_arrays.items():
            arrays[f"pop{k}_{name}"] = arr
        if desc.input_kind == "poisson":  # the generator's state lives in the engine
            gen = sim.poisson[p]
            entry["rng"] = gen.rng.bit_generator.state
            entry["block"] = int(gen.block)
            if gen.next is not None:
                arrays[f"pop{k}_next"] = gen.next
                arrays[f"pop{k}_bsteps"], arrays[f"pop{k}_bidx"] = gen.steps, gen.idx
        pops.append(entry)
    for k, pr in enumerate(net.projections):
        projs.append({"name": pr.name, "pre": _view_ref(pr.pre), "post": _view_ref(pr.post),
                      "plasticity": None if pr.plasticity is None
                      else describe(pr.plasticity).to_file(pr.plasticity),
                      "rule": None if pr.plasticity is None
                      else describe(pr.plasticity).file_kind,
                      "modulator": None if pr.modulator is None else pr.modulator.name})
        arrays[f"proj{k}_sources"], arrays[f"proj{k}_targets"] = pr.sources, pr.targets
        arrays[f"proj{k}_w"], arrays[f"proj{k}_delay"] = pr._weight_values(), pr.delay_steps
        if pr.plasticity is not None:
            arrays[f"proj{k}_xpre"] = sim.x_pre[sim.pr_xpre_off[k]:sim.pr_xpre_off[k + 1]]
            arrays[f"proj{k}_xpost"] = sim.x_post[sim.pr_xpost_off[k]:sim.pr_xpost_off[k + 1]]
            arrays[f"proj{k}_xpre2"] = sim.x_pre2[sim.pr_xpre_off[k]:sim.pr_xpre_off[k + 1]]
            arrays[f"proj{k}_xpost2"] = sim.x_post2[sim.pr_xpost_off[k]:sim.pr_xpost_off[k + 1]]
        if pr.eligibility is not None:
            arrays[f"proj{k}_elig"] = pr.eligibility
    for k, c in enumerate(net.currents):
        currents.append({"target": _view_ref(c.target), "on": int(c.on),
                         "off": None if c.off is None else int(c.off)})
        arrays[f"cur{k}_amplitude"] = c.amplitude
    arrays["ring_exc"], arrays["ring_inh"] = sim.ring_exc, sim.ring_inh
    mods = [{"name": m.name, "tau_dopamine": m.tau_dopamine, "baseline_rate": m.baseline_rate,
             "r_bar": m.r_bar, "history": m.history, "pending": m._pending, "level": m._level,
             "level_step": int(m._level_step)} for m in net.modulators]
    header = {"format": FORMAT, "version": VERSION, "dt": net.dt, "seed": net.seed,
              "step": net.step, "n_draws": net._n_draws, "populations": pops,
              "projections": projs, "currents": currents, "modulators": mods}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class _File:
    """Checked access to the arrays of a saved network."""

    def __init__(self, path):
        try:
            self.data = dict(np.load(os.fspath(path), allow_pickle=False))
            self.header = json.loads(bytes(self.data.pop("header")).decode())
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError,
                json.JSONDecodeError, EOFError) as err:
            raise ValueError(f"{path!s} is not a readable neuromorph network file: {err}") from None
        h = self.header
        if not isinstance(h, dict) or h.get("format") != FORMAT:
            raise ValueError(f"{path!s} is not a neuromorph network file")
        if h.get("version") != VERSION:
            raise ValueError(f"{path!s} has format version {h.get('version')}; this neuromorph "
                             f"reads version {VERSION}")
        self.path = path

    def get(self, key, shape=None, kind=None):
        if key not in self.data:
            raise ValueError(f"{self.path!s} is corrupt: array {key!r} is missing")
        arr = self.data[key]
        if shape is not None and arr.shape != tuple(shape):
            raise ValueError(f"{self.path!s} is corrupt: {key!r} has shape {arr.shape}, "
                             f"expected {tuple(shape)}")
        if kind is not None and arr.dtype.kind not in kind:
            raise ValueError(f"{self.path!s} is corrupt: {key!r} has dtype {arr.dtype}")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError(f"{self.path!s} is corrupt: {key!r} holds NaN or inf")
        return arr


def _state_from_file(desc, get, n):
    """A population's state: the saved variables (floats first, then integers, each
    checked), zeros for the others."""
    state = {}
    for integer in (False, True):
        for var in desc.state:
            is_int = np.dtype(var.dtype).kind in "iu"
            if var.saved and is_int == integer:
                arr = get(var.name, (n,), "iu" if integer else "f")
                state[var.name] = arr.astype(var.dtype) if integer \
                    else arr.astype(float).copy()
    for var in desc.state:
        if not var.saved:
            state[var.name] = np.zeros(n, var.dtype)
    return state


def load(path):
    """Rebuild the network saved in ``path``; it continues where the saved one stopped."""
    from .simulator import Simulator
    f = _File(path)
    h = f.header
    try:
        net = Network(dt=h["dt"], seed=h["seed"])
        by_name = {}
        poisson_state = {}
        for k, e in enumerate(h["populations"]):
            n = int(e["size"])
            desc = by_file_kind(e["kind"], NeuronDescription)
            if desc is None:
                raise ValueError(f"unknown population kind {e['kind']!r}")

            def get(name, shape=None, kind=None, k=k):
                return f.get(f"pop{k}_{name}", shape, kind)

            model = desc.from_file(e.get("params"), get, n)
            state = _state_from_file(desc, get, n)
            if desc.input_kind == "poisson":
                poisson_state[k] = e
            pop = Population(e["name"], n, model, state)
            pop.network = net
            net.populations.append(pop)
            by_name[pop.name] = pop

        def view(ref):
            name, lo, hi = ref
            if name not in by_name or not 0 <= lo <= hi <= by_name[name].size:
                raise ValueError(f"bad population reference {ref!r}")
            return by_name[name][lo:hi]

        mods = {}
        for e in h["modulators"]:
            m = RewardSignal(net, e["name"], e["tau_dopamine"], e["baseline_rate"])
            m.r_bar, m._pending = float(e["r_bar"]), float(e["pending"])
            m._level, m._level_step = float(e["level"]), int(e["level_step"])
            m.history = [(int(a), float(b), float(c)) for a, b, c in e["history"]]
            net.modulators.append(m)
            mods[m.name] = m
        for k, e in enumerate(h["projections"]):
            pre, post = view(e["pre"]), view(e["post"])
            src = f.get(f"proj{k}_sources", kind="iu").astype(np.int32)
            m = src.shape
            tgt = f.get(f"proj{k}_targets", m, "iu").astype(np.int32)
            if m and len(src) and (src.max() >= pre.size or tgt.max() >= post.size):
                raise ValueError(f"projection {e['name']!r}: synapse indices out of range")
            rule_desc = None if e["plasticity"] is None \
                else by_file_kind(e["rule"], RuleDescription)
            if e["plasticity"] is not None and rule_desc is None:
                raise ValueError(f"unknown plasticity rule {e['rule']!r}")
            rule = None if e["plasticity"] is None else rule_desc.from_file(e["plasticity"])
            if e["modulator"] is not None and e["modulator"] not in mods:
                raise ValueError(f"unknown modulator {e['modulator']!r}")
            net.projections.append(Projection.from_pairs(
                e["name"], pre, post, src, tgt, f.get(f"proj{k}_w", m, "f").astype(float).copy(),
                f.get(f"proj{k}_delay", m, "iu").astype(np.int32), rule, net.dt,
                mods.get(e["modulator"])))
            net.projections[-1].network = net
        for k, e in enumerate(h["currents"]):
            tgt = view(e["target"])
            net.current(tgt, f.get(f"cur{k}_amplitude", (tgt.size,), "f"),
                        start=e["on"] * net.dt, stop=None if e["off"] is None else e["off"] * net.dt)
        net.step, net._n_draws = int(h["step"]), int(h["n_draws"])
        sim = Simulator(net)
        for name in ("ring_exc", "ring_inh"):
            getattr(sim, name)[...] = f.get(name, getattr(sim, name).shape, "f")
        for k, pr in enumerate(net.projections):
            if pr.plasticity is not None:
                sim.x_pre[sim.pr_xpre_off[k]:sim.pr_xpre_off[k + 1]] = \
                    f.get(f"proj{k}_xpre", (pr.pre.size,), "f")
                sim.x_post[sim.pr_xpost_off[k]:sim.pr_xpost_off[k + 1]] = \
                    f.get(f"proj{k}_xpost", (pr.post.size,), "f")
                sim.x_pre2[sim.pr_xpre_off[k]:sim.pr_xpre_off[k + 1]] = \
                    f.get(f"proj{k}_xpre2", (pr.pre.size,), "f")
                sim.x_post2[sim.pr_xpost_off[k]:sim.pr_xpost_off[k + 1]] = \
                    f.get(f"proj{k}_xpost2", (pr.post.size,), "f")
            if pr.eligibility is not None:
                pr.eligibility[:] = f.get(f"proj{k}_elig", (pr.n_synapses,), "f")
        for k, e in poisson_state.items():
            pop = net.populations[k]
            gen = sim.poisson[pop]
            gen.rng.bit_generator.state = e["rng"]
            gen.block = int(e["block"])
            if f"pop{k}_next" in f.data:
                gen.next = f.get(f"pop{k}_next", (pop.size,), "iu").astype(np.int64)
                gen.steps = f.get(f"pop{k}_bsteps", kind="iu").astype(np.int64)
                gen.idx = f.get(f"pop{k}_bidx", gen.steps.shape, "iu").astype(np.int32)
        net._sim, net._stale = sim, False
    except (KeyError, TypeError) as err:
        raise ValueError(f"{path!s} is corrupt or from an incompatible version: {err!r}") from None
    return net


__all__ = ["save", "load", "FORMAT", "VERSION"]
