r"""Energy and latency of a deployed network's activity on neuromorphic hardware (SANA-FE).

SANA-FE (``pip install sanafe==2.2.9``; Boyle et al., "SANA-FE: Simulating Advanced
Neuromorphic Architectures for Fast Exploration") simulates spiking chips from
per-event energy and latency tables. ``sanafe.load_loihi()`` is calibrated against
measurements of the **first Loihi chip** (Davies et al. 2018; 128 cores of at most
1024 neurons); ``sanafe.load_truenorth()`` describes IBM's TrueNorth, but it has no
input units to replay spike trains on, so it is not offered here. (Lava's
bit-accurate models simulate Loihi **2**'s neuron; no Loihi 2 table ships with
SANA-FE, so energy and latency here describe Loihi 1 running the same network.)

Mapping. The activity is the core's: every population of the deployed network becomes
a SANA-FE neuron group mapped greedily onto the chip's cores (input populations onto
the cores' input units, whose events cost nothing); every projection becomes SANA-FE
synapses with the same pairs. SANA-FE's own neuron model is not used to decide who
fires: each simulated neuron is driven by a *teacher* input that replays the spikes it
fired in the core (the projections' weights are set to 0, so the neurons fire exactly
then). The teachers' own events (their messages and one synaptic event per replayed
spike) are removed by a second simulation with the teachers alone, whose synapse and
network energy is subtracted (its soma energy -- the simulated neurons' updates and
spikes -- is the same in both runs and is kept). Latency is the full run's simulated
time, which includes the teachers' messages: an upper bound. Synaptic delays are not
mapped (they do not change the number of events).

Reported per inference (totals over the run divided by the number of samples):
``energy_j`` (J), ``latency_s`` (s of chip time, rest periods between samples
included), ``synaptic_ops`` (synaptic events: a spike times its fan-out),
``neuron_updates`` (simulated-neuron updates per time step), plus ``cores`` used.

:func:`davies_estimate` is the independent count used to cross-check: the constants
keras-spiking's ``ModelEnergy`` takes from Davies et al. 2018 for Loihi -- 23.6 pJ per
synaptic operation plus 3.5 pJ per synaptic spike (message), 81 pJ per neuron update --
and, for comparison, 8.6 nJ (CPU) and 0.3 nJ (GPU) per operation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..descriptions import describe


def _simulated(p):
    """True for simulated neurons (LIF, LoihiLIF), False for inputs (its description)."""
    return describe(p.model).simulated

#: hardware name -> SANA-FE loader name. (SANA-FE's TrueNorth description has no input
#: units, which the replay needs, so it is not offered.)
HARDWARE = {"loihi": "load_loihi"}
#: What each hardware name describes.
CHIPS = {"loihi": "Intel Loihi (first generation, Davies et al. 2018), SANA-FE's calibration"}
#: keras-spiking ModelEnergy constants (J per operation / update), Davies et al. 2018.
DAVIES = {"loihi": {"synop": 23.6e-12 + 3.5e-12, "neuron": 81e-12},
          "cpu": {"synop": 8.6e-9, "neuron": 8.6e-9},
          "gpu": {"synop": 0.3e-9, "neuron": 0.3e-9}}


def _check_hardware(hardware):
    if not isinstance(hardware, str) or hardware not in HARDWARE:
        raise ValueError(f"hardware must be one of {list(HARDWARE)} (what SANA-FE ships), "
                         f"got {hardware!r}")
    return hardware


@dataclass
class Estimate:
    """Energy and latency per inference (see the module notes)."""

    hardware: str
    chip: str
    n_samples: int
    energy_j: float
    latency_s: float
    synaptic_ops: float
    neuron_updates: float
    cores: int
    breakdown: dict = field(default_factory=dict)

    def table(self):
        """A plain-text table of the estimate."""
        rows = [("hardware", f"{self.hardware}: {self.chip}"),
                ("samples", f"{self.n_samples}"),
                ("energy per inference", f"{self.energy_j * 1e6:.4g} uJ"),
                ("latency per inference", f"{self.latency_s * 1e3:.4g} ms"),
                ("synaptic ops per inference", f"{self.synaptic_ops:.4g}"),
                ("neuron updates per inference", f"{self.neuron_updates:.4g}"),
                ("cores used", f"{self.cores}")]
        rows += [(f"  {k} energy", f"{v * 1e6:.4g} uJ") for k, v in self.breakdown.items()]
        w = max(len(r[0]) for r in rows)
        return "\n".join(f"{a:<{w}}  {b}" for a, b in rows)


def activity(net):
    """``{population name: (steps, indices)}`` from the network's spike monitors (one
    per population, whole populations) and the number of steps run."""
    out = {}
    for m in net.monitors:
        if hasattr(m, "steps") and m.target is m.target.population:
            out[m.target.name] = (np.asarray(m.steps), np.asarray(m.i))
    return out, int(net.step)


def operation_counts(net, spikes):
    """Synaptic events (spikes times fan-out, over every projection) and simulated-neuron
    updates (one per neuron and step) of a run: ``(synaptic_ops, neuron_updates)``."""
    syn = 0
    for pr in net.projections:
        steps, idx = spikes[pr.pre.population.name]
        local = idx - pr.pre.start
        keep = (local >= 0) & (local < pr.pre.size)
        fan = np.diff(pr.rowptr)
        syn += int(fan[local[keep]].sum())
    updates = sum(p.size for p in net.populations if _simulated(p)) * net.step
    return syn, updates


def davies_estimate(synaptic_ops, neuron_updates, device="loihi"):
    """Energy (J) from operation counts with Davies et al. 2018's constants
    (keras-spiking's ``ModelEnergy``); ``device`` in ``{"loihi", "cpu", "gpu"}``."""
    if device not in DAVIES:
        raise ValueError(f"device must be one of {list(DAVIES)}, got {device!r}")
    c = DAVIES[device]
    return synaptic_ops * c["synop"] + neuron_updates * c["neuron"]


def _sanafe_run(arch_loader, net, spikes, n_steps, with_projections):
    """One SANA-FE simulation of the replayed activity; returns (result dict, cores)."""
    import sanafe

    arch = getattr(sanafe, arch_loader)()
    cores = [c for t in arch.tiles for c in t.cores]
    cap = 1024
    snn = sanafe.Network()
    groups, next_core, used = {}, [0, 0], set()

    def place(neuron, hw=None, teacher=False):
        """Map ``neuron`` onto the next free slot (``hw``: replicated unit name); cores
        holding only teachers are not counted as used by the network."""
        if next_core[1] >= cap:
            next_core[0], next_core[1] = next_core[0] + 1, 0
        if next_core[0] >= len(cores):
            from ..errors import UnsupportedFeature
            raise UnsupportedFeature(f"the network needs more than the chip's {len(cores)} "
                                     f"cores")
        if hw is not None:
            neuron.set_attributes(soma_hw_name=f"{hw}[{next_core[1]}]")
        neuron.map_to_core(cores[next_core[0]])
        if not teacher:
            used.add(next_core[0])
        next_core[1] += 1

    def trains(name, size):
        steps, idx = spikes.get(name, (np.zeros(0, int), np.zeros(0, int)))
        s = np.zeros((size, n_steps), bool)
        s[idx, steps] = True
        return s

    soma = _soma_names(arch_loader)
    for p in net.populations:
        if _simulated(p):
            continue
        g = snn.create_neuron_group(p.name, p.size, {})
        s = trains(p.name, p.size)
        for i in range(p.size):
            g[i].set_attributes(model_attributes={"spikes": s[i].tolist()})
            place(g[i], soma["input"])
        groups[p.name] = g
    next_core[0], next_core[1] = next_core[0] + 1, 0
    for p in net.populations:
        if not _simulated(p):
            continue
        g = snn.create_neuron_group(p.name, p.size, {"threshold": 0.5, "leak_decay": 0.0,
                                                     "reset": 0.0},
                                    soma_hw_name=soma["lif"])
        for i in range(p.size):
            place(g[i])
        groups[p.name] = g
        # the teacher: replays the core's spikes one step earlier, weight 1 > threshold
        next_core[0], next_core[1] = next_core[0] + 1, 0
        t = snn.create_neuron_group(f"{p.name}.teacher", p.size, {})
        s = trains(p.name, p.size)
        s = np.concatenate([s[:, 1:], np.zeros((p.size, 1), bool)], axis=1)
        for i in range(p.size):
            t[i].set_attributes(model_attributes={"spikes": s[i].tolist()})
            place(t[i], soma["input"], teacher=True)
        pairs = [(i, i) for i in range(p.size)]
        t.connect_neurons_sparse(g, {"weight": [1.0] * p.size}, pairs)
        next_core[0], next_core[1] = next_core[0] + 1, 0
    if with_projections:
        for pr in net.projections:
            src = pr.sources.astype(int) + pr.pre.start
            dst = pr.targets.astype(int) + pr.post.start
            pairs = list(zip(src.tolist(), dst.tolist()))
            groups[pr.pre.population.name].connect_neurons_sparse(
                groups[pr.post.population.name], {"weight": [0.0] * len(pairs)}, pairs)
    chip = sanafe.SpikingChip(arch)
    chip.load(snn)
    res = chip.sim(n_steps, spike_trace=True)
    return res, len(used)


def _soma_names(arch_loader):
    return {"load_loihi": {"input": "loihi_inputs", "lif": "loihi_lif"}}[arch_loader]


def estimate(net, spikes, n_samples, hardware="loihi"):
    """SANA-FE energy and latency per inference of a run's activity (module notes).

    Parameters
    ----------
    net : Network
        The deployed network after the run (spike monitors on every population).
    spikes : dict
        ``{population: (steps, indices)}`` (:func:`activity`).
    n_samples : int
        Samples the run presented.
    hardware : {"loihi"}

    Returns
    -------
    Estimate
    """
    _check_hardware(hardware)
    n_steps = int(net.step) + 1
    loader = HARDWARE[hardware]
    full, cores = _sanafe_run(loader, net, spikes, n_steps, True)
    teach, _ = _sanafe_run(loader, net, spikes, n_steps, False)
    e = {k: full["energy"][k] - (teach["energy"][k] if k in ("synapse", "network") else 0.0)
         for k in ("synapse", "dendrite", "soma", "network")}
    n_lif = sum(len(spikes[p.name][0]) for p in net.populations if _simulated(p))
    n_in = sum(len(spikes[p.name][0]) for p in net.populations if not _simulated(p))
    if full["neurons_fired"] != n_in + 2 * n_lif:  # teachers and their pupils fire alike
        raise RuntimeError(f"SANA-FE did not replay the activity: {full['neurons_fired']} "
                           f"neurons fired, expected {n_in + 2 * n_lif}")
    syn, upd = operation_counts(net, spikes)
    n = max(int(n_samples), 1)
    return Estimate(hardware=hardware, chip=CHIPS[hardware], n_samples=n,
                    energy_j=sum(e.values()) / n, latency_s=full["sim_time"] / n,
                    synaptic_ops=syn / n, neuron_updates=upd / n, cores=cores,
                    breakdown={k: v / n for k, v in e.items()})
