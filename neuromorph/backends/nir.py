r"""Export and import networks as NIR graphs (Neuromorphic Intermediate Representation).

:func:`to_nir` writes a :class:`~neuromorph.network.Network`'s structure as a
``nir.NIRGraph`` (nir 1.0.8); :func:`from_nir` builds a network from a graph, whether
neuromorph or another tool (snnTorch, Norse, Lava-dl, ...) wrote it. ``nir.write`` /
``nir.read`` store graphs in files.

NIR describes continuous-time dynamics; times are in **seconds** in the graph (the
convention of NIR tools), in ms in neuromorph. Mapping:

**What a spike is** (``spike_representation``). NIR's equations take spikes as
inputs, and tools read them in one of two ways (the NIR repository's
``paper/01_lif/debug_spike_representation`` note discusses both):

* ``'step'`` (default): a spike is an input of value 1 held for one time step, so
  its area is ``dt``. This is what the tools that write and read NIR compute (Norse,
  snnTorch, Lava, Rockpool, Sinabs, Spyx, and the NIR paper's exact reference
  simulation, whose cross-platform comparison rests on it): a graph from those tools
  behaves in neuromorph as it did there. Through a weight ``W`` into a ``LIF`` node
  (``tau dv/dt = v_leak - v + r I``) a spike raises ``v`` by ``r W (1 - exp(-dt/tau))``
  by the end of its step, exactly as a held input does; into a ``CubaLIF`` node
  (``tau_syn dI/dt = -I + w_in S``) it leaves ``I = w_in W (1 - exp(-dt/tau_syn))`` at
  the end of its step, the exact held-input value, after which the current decays
  exactly; neuromorph's current jumps at the start of the step instead of rising
  through it, so the voltage is that of the held input to a relative ``O(dt/tau_syn)``
  (1.6 % at ``dt/tau_syn = 0.02``, tested against a numerical solution), the order by
  which the tools' own Euler steps differ from the exact solution.
* ``'dirac'``: a spike is a Dirac pulse of unit area (the continuous-time reading):
  through ``W`` it raises a ``LIF`` node's ``v`` by ``r W / tau``, a ``CubaLIF``
  node's ``I`` by ``w_in W / tau_syn``. Other tools' graphs read this way give
  ``1/dt`` times stronger synapses (with dt = 0.1 ms, 10,000 times).

Timing: neuromorph's engine delivers a spike of step ``k`` into the currents at the
end of step ``k`` (delay 0), as Lava does, so its voltages and output spikes are those
of Norse or snnTorch one step later (the NIR paper's LIF graph: Norse, snnTorch and the
exact simulation spike at steps 460, 510, 710, 760, Lava and neuromorph at 461, 511,
711, 761; tested against the paper's published traces).

* **LIF** population -> ``CubaLIF``: ``tau_mem = tau_m``, ``tau_syn``, ``r = 1``,
  ``v_leak = v_rest``, ``v_threshold = v_th``, ``v_reset``, ``w_in = 1``; a step current
  on for the whole run (``net.current`` without ``start``/``stop``) settles ``v`` at
  ``v_rest + I``: it is the neuron's ``v_leak = v_rest + I`` (per neuron; the exact split
  in the node's metadata), and a per-neuron ``v_leak`` read back is a constant current.
  neuromorph's weight ``w`` (mV) is the jump of the current at a spike, so
  ``W = w / (exp(dt/tau_syn) - 1)`` in the step representation (about
  ``w tau_syn / dt``: what a tool that holds the spike for one step needs for the same
  jump), ``W = w * tau_syn`` (seconds) in the Dirac one.
* **Two synaptic currents** (a population with ``tau_syn_exc != tau_syn_inh`` that
  receives both signs) -> a ``LIF`` node (``tau = tau_m``, ``r = 1``, ``v_leak``,
  ``v_threshold``, ``v_reset`` and metadata as above) fed by two ``LI`` nodes,
  ``'<population>.I_exc'`` and ``'<population>.I_inh'`` (``tau = tau_syn_exc`` /
  ``tau_syn_inh``, ``r = 1``, ``v_leak = 0``; ``metadata['neuromorph.current_of'] =
  '<population>'``, ``metadata['neuromorph.sign'] = 'exc'`` / ``'inh'``). With
  ``v_leak = 0``, NIR's LI equation ``tau dv/dt = (v_leak - v) + r I`` is CubaLIF's
  current equation ``tau_syn dI/dt = -I + w_in S`` (``w_in = r``), and a node sums its
  inputs: the subgraph is a CubaLIF with one current per sign, exactly, made of standard
  NIR nodes that other tools run. A weight into an LI node is written as into a CubaLIF
  of that ``tau_syn`` (``W = w / (exp(dt/tau_syn) - 1)`` step, ``w tau_syn`` Dirac);
  positive weights (and zeros) feed ``I_exc``, negative ones ``I_inh``, as the engine
  routes them, so a projection with both signs is split into one ``Linear`` (with its
  ``Delay``) per sign, named and merged back as the delay branches below.
  :func:`from_nir` folds the chains into one population with both time constants
  (exact; an LI node's ``r`` is read as ``w_in``) and refuses a weight of the wrong sign
  into a current node.
* **Projection** -> ``Linear`` with a ``(n_post, n_pre)`` weight over whole
  populations (zero outside the views), followed by a ``Delay`` node when it has
  delays. A NIR ``Delay`` delays each output of the ``Linear`` node, i.e. each post
  neuron: a projection whose delays depend on the post neuron only (in particular one
  delay for all synapses) is one ``Linear`` -> ``Delay`` pair (the delay of a post
  neuron without synapses is written as 0). Other per-synapse delays are split by
  delay value (and by sign, into two currents) into one ``Linear`` -> ``Delay`` branch
  per value, named
  ``'<projection>@<k>'`` (``'<projection>@<k>.delay'``); each branch's ``Linear`` has
  ``metadata['neuromorph.projection'] = '<projection>'`` and :func:`from_nir` merges
  the branches back into one projection (other tools see parallel connections with
  the same total effect).
* **Refractory period** (``t_ref > 0``): NIR 1.0.8 neurons have none.
  ``to_nir(net, refractory='metadata')`` writes it into the ``CubaLIF`` node's
  ``metadata['t_ref']`` (seconds, per neuron), which :func:`from_nir` reads back
  and other tools ignore (their neurons are then not refractory); by default
  (``refractory='error'``) such a network is refused.
* **Per-neuron thresholds** (the state ``theta`` of a population with an adaptive or
  frozen threshold, ``v_th + theta``): the node's ``v_threshold`` per neuron (exact).
  An **adaptive threshold** (``theta_plus > 0``) has no NIR node (NIR neurons reset
  ``v`` to a constant, so a threshold raise, or the equivalent input, cannot be
  written with their equations): ``to_nir(net, adaptation='metadata')`` writes
  ``metadata['theta_plus']`` (mV), ``metadata['tau_theta']`` (s) and
  ``metadata['v_th']`` (the base threshold, mV), which :func:`from_nir` reads back
  (exact); other tools ignore them and run the base thresholds without adaptation.
  By default (``adaptation='error'``) such a network is refused. :func:`from_nir`
  imports thresholds that differ between neurons as a frozen ``theta``
  (``LIF(theta_frozen=True)``) over ``v_th`` = their minimum (or ``metadata['v_th']``).
* **Spike sources / Poisson** -> ``Input``; every LIF population -> ``Output``.
  ``graph.metadata['dt']`` holds the step (s).

Import also accepts ``LIF`` (no synaptic current; imported as a current of
``tau_syn = dt / 100`` whose effect at the end of the arrival step is the one above),
``Affine`` (its bias
becomes a step current ``r * w_in * bias`` into the target, its steady state), and
``Delay`` nodes (one delay, or one per output neuron; multiples of ``dt``). Spike
trains are not part of a graph: give them to :func:`from_nir` (``inputs``), or the
inputs import as silent spike sources.

**Held inputs.** An ``Input`` node whose ``metadata['neuromorph.held']`` is true
carries values, not spikes (e.g. a sample's pixel intensities, held over its
presentation window): :func:`from_nir` makes no population for it, and each
``Linear`` / ``Affine`` node it feeds becomes a step current ``r w_in (W x + b)``
into the target (its steady state, as for an ``Affine`` bias), switched on for each
window given in ``held_inputs`` (without values: the bias alone, always on). This is
how :meth:`neuromorph.deploy.Deployment.to_nir` writes EqSpike's rate-coded input and
biases.

Not mappable (:class:`UnsupportedFeature`, naming the part): refractory periods
unless ``refractory='metadata'``, plasticity, step currents switched on or off during
the run, LoihiLIF populations (export their continuous LIF before
:func:`neuromorph.loihi.to_loihi`), and NIR nodes other than those above (``LI`` nodes
only as the synaptic currents of a ``LIF`` node, marked as :func:`to_nir` writes them).
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from ..descriptions import current_gain as _current_gain, hook
from ..errors import UnsupportedFeature
from ..network import Network, check_network

_S = 1e-3  # seconds per ms


def _nir():
    try:
        import nir
    except ModuleNotFoundError as err:  # pragma: no cover - installed with the project
        raise ImportError("the NIR backend needs nir: pip install nir==1.0.8") from err
    return nir


def _synaptic_currents(net, pop):
    """The synaptic currents the graph writes for ``pop``: ``{None: tau_syn}`` (one
    current, a ``CubaLIF`` node) or ``{'exc': tau_syn_exc, 'inh': tau_syn_inh}`` (ms;
    the two currents of a population that receives both signs with different time
    constants, ``LI`` nodes into a ``LIF`` node)."""
    m = pop.model
    signs = set()
    for pr in net.projections:
        if pr.post.population is pop and pr.n_synapses:
            signs |= {bool(x) for x in np.unique(pr.w >= 0)}
    if m.tau_syn_exc == m.tau_syn_inh or signs == {True}:
        return {None: m.tau_syn_exc}
    if signs == {False}:
        return {None: m.tau_syn_inh}
    return {"exc": m.tau_syn_exc, "inh": m.tau_syn_inh}


def _current_node(pop_name, sign):
    return f"{pop_name}.I_{sign}"


SPIKE_REPRESENTATIONS = ("step", "dirac")


def _check_representation(spike_representation):
    if spike_representation not in SPIKE_REPRESENTATIONS:
        raise ValueError(f"spike_representation must be one of {SPIKE_REPRESENTATIONS} "
                         f"('step': a spike is a 1 held for one step, as the tools that "
                         f"write NIR compute; 'dirac': a pulse of unit area), got "
                         f"{spike_representation!r}")


def _spike_gain(spike_representation, dt, tau_syn):
    """Jump of a synaptic current of ``tau_syn`` per unit of ``w_in W`` (all in ms)."""
    if spike_representation == "step":
        return np.expm1(dt / tau_syn)
    return 1.0 / (tau_syn * _S)


def to_nir(net, *, refractory="error", spike_representation="step", extra_nodes=None,
           extra_edges=(), adaptation="error"):
    """The structure of ``net`` as a ``nir.NIRGraph`` (see the module notes).

    Parameters
    ----------
    net : Network
        LIF populations, spike sources / Poisson inputs and static projections.
    refractory : {'error', 'metadata'}
        What to do with refractory periods, which NIR neurons lack: refuse them, or
        store them in the neuron node's ``metadata['t_ref']`` (seconds).
    spike_representation : {'step', 'dirac'}
        How the tools that read the graph take a spike (see the module notes): the
        weights are written so that a spike raises the current by neuromorph's weight
        there. ``'step'`` (default) for Norse, snnTorch, Lava and the other NIR tools.
    extra_nodes, extra_edges : dict, sequence of pairs, optional
        Nodes and edges added to the graph before NIR's type check (e.g. the held
        inputs of :meth:`neuromorph.deploy.layered.LayeredSpec.nir_held_nodes`).
    adaptation : {'error', 'metadata'}
        What to do with adaptive thresholds (``theta_plus > 0``), which NIR neurons
        lack: refuse them, or store them in the node's metadata (``theta_plus``, mV;
        ``tau_theta``, s; ``v_th``, mV).

    Returns
    -------
    nir.NIRGraph
        ``graph.metadata`` holds ``dt`` (s) and ``spike_representation``.
    """
    nir = _nir()
    check_network(net)
    if refractory not in ("error", "metadata"):
        raise ValueError(f"refractory must be 'error' or 'metadata', got {refractory!r}")
    if adaptation not in ("error", "metadata"):
        raise ValueError(f"adaptation must be 'error' or 'metadata', got {adaptation!r}")
    _check_representation(spike_representation)
    held = {}  # population -> summed constant current (mV, per neuron)
    for c in net.currents:
        if c.on != 0 or c.off is not None:
            raise UnsupportedFeature("step currents (net.current) switched on or off during "
                                     "the run have no NIR node (a current on for the whole "
                                     "run is the neuron's v_leak)")
        pop = c.target.population
        held.setdefault(pop.name, np.zeros(pop.size))
        held[pop.name][c.target.start:c.target.start + c.target.size] += c.amplitude
    nodes, edges = {}, []
    inlets = {}  # population -> {sign or None: (node its weights feed, tau_syn ms)}

    def put(name, node):
        if name in nodes:
            raise UnsupportedFeature(f"two parts of the network are written as node "
                                     f"{name!r}; rename the population or projection")
        nodes[name] = node

    for p in net.populations:
        m, n = p.model, p.size
        form = hook(m, "nir")
        if form == "cuba_lif":
            meta = {}
            if m.t_ref != 0:
                if refractory == "error":
                    raise UnsupportedFeature(
                        f"population {p.name!r} has t_ref = {m.t_ref} ms; NIR neurons have "
                        f"no refractory period (to_nir(net, refractory='metadata') keeps it "
                        f"in the node's metadata, which other tools ignore)")
                meta["t_ref"] = np.full(n, m.t_ref * _S)
            v_threshold = np.full(n, m.v_th)
            if m.theta_plus > 0 or m.theta_frozen:  # per-neuron thresholds v_th + theta
                v_threshold = v_threshold + p.state["theta"]
                meta["v_th"] = np.full(n, m.v_th)
            if m.theta_plus > 0:
                if adaptation == "error":
                    raise UnsupportedFeature(
                        f"population {p.name!r} has an adaptive threshold (theta_plus = "
                        f"{m.theta_plus} mV), which NIR neurons lack (to_nir(net, "
                        f"adaptation='metadata') keeps it in the node's metadata, which "
                        f"other tools ignore)")
                meta["theta_plus"] = np.full(n, m.theta_plus)
                meta["tau_theta"] = np.full(n, m.tau_theta * _S)
            v_leak = np.full(n, m.v_rest)
            if p.name in held:  # a constant current settles v at v_rest + I: v_leak
                v_leak = v_leak + held[p.name]
                meta["neuromorph.v_rest"] = m.v_rest  # the exact split, for from_nir
                meta["neuromorph.current"] = held[p.name]
            neuron = dict(r=np.ones(n), v_leak=v_leak, v_threshold=v_threshold,
                          v_reset=np.full(n, m.v_reset), metadata=meta)
            currents = _synaptic_currents(net, p)
            if None in currents:  # one synaptic current: a CubaLIF node
                put(p.name, nir.CubaLIF(tau_syn=np.full(n, currents[None] * _S),
                                        tau_mem=np.full(n, m.tau_m * _S), w_in=np.ones(n),
                                        **neuron))
                inlets[p.name] = {None: (p.name, currents[None])}
            else:  # two: each an LI node (v_leak 0, r 1: CubaLIF's current) into a LIF
                put(p.name, nir.LIF(tau=np.full(n, m.tau_m * _S), **neuron))
                inlets[p.name] = {}
                for sign, tau in currents.items():
                    name = _current_node(p.name, sign)
                    put(name, nir.LI(tau=np.full(n, tau * _S), r=np.ones(n),
                                     v_leak=np.zeros(n),
                                     metadata={"neuromorph.current_of": p.name,
                                               "neuromorph.sign": sign}))
                    edges.append((name, p.name))
                    inlets[p.name][sign] = (name, tau)
            put(f"{p.name}.out", nir.Output(np.array([n])))
            edges.append((p.name, f"{p.name}.out"))
        elif form == "input":
            put(p.name, nir.Input(np.array([n])))
        else:
            raise UnsupportedFeature(f"population {p.name!r} ({type(m).__name__}) has no NIR "
                                     f"node; export the network before to_loihi()")
    for pr in net.projections:
        if pr.plasticity is not None:
            raise UnsupportedFeature(f"projection {pr.name!r} is plastic; NIR has no "
                                     f"learning rules")
        post, pre = pr.post.population, pr.pre.population
        rows, cols = pr.targets + pr.post.start, pr.sources + pr.pre.start
        per_post = np.zeros(post.size, np.int64)
        per_post[rows] = pr.delay_steps
        if np.array_equal(per_post[rows], pr.delay_steps):  # delays depend on the target only
            by_delay = [(np.ones(pr.n_synapses, bool), per_post)]
        else:
            by_delay = [(pr.delay_steps == d, np.full(post.size, d))
                        for d in np.unique(pr.delay_steps)]
        sign_of = {None: np.ones(pr.n_synapses, bool), "exc": pr.w >= 0, "inh": pr.w < 0}
        branches = [(keep & sign_of[sign], delay, inlet, tau)
                    for keep, delay in by_delay
                    for sign, (inlet, tau) in inlets[post.name].items()]
        branches = [b for b in branches if b[0].any()] or branches[:1]
        for k, (keep, delay, inlet, tau) in enumerate(branches):
            name = pr.name if len(branches) == 1 else f"{pr.name}@{k}"
            w = np.zeros((post.size, pre.size))
            np.add.at(w, (rows[keep], cols[keep]),
                      pr.w[keep] / _spike_gain(spike_representation, net.dt, tau))
            meta = {"neuromorph.projection": pr.name} if name != pr.name else {}
            put(name, nir.Linear(weight=w, metadata=meta))
            edges.append((pre.name, name))
            if delay.any():
                put(f"{name}.delay", nir.Delay(delay * net.dt * _S))
                edges += [(name, f"{name}.delay"), (f"{name}.delay", inlet)]
            else:
                edges.append((name, inlet))
    for name, node in (extra_nodes or {}).items():
        if name in nodes:
            raise ValueError(f"extra_nodes: node {name!r} is already in the graph")
        nodes[name] = node
    edges += [tuple(e) for e in extra_edges]
    return nir.NIRGraph(nodes=nodes, edges=edges,
                        metadata={"dt": net.dt * _S,
                                  "spike_representation": spike_representation})


def _scalar(name, node, attr):
    value = node[attr] if isinstance(node, dict) else getattr(node, attr)
    vals = np.unique(np.asarray(value, dtype=float))
    if vals.size != 1:
        raise UnsupportedFeature(f"node {name!r}: {attr} differs between neurons; neuromorph "
                                 f"populations share one value")
    return float(vals[0])


def _size(types):
    return [int(np.prod(np.asarray(t))) for t in types.values()]


def read(path, *, strict=True):
    """Read a NIR file (``nir.read``), optionally past NIR's type check.

    Parameters
    ----------
    path : str or os.PathLike
    strict : bool
        ``True``: NIR's own type check (every edge's output and input types equal).
        ``False``: if that check fails, read without it and accept edges whose types
        differ only in their shape, with the same number of elements (e.g. Rockpool's
        ``[1]`` into ``[1, 1, 1]``), with a warning; other mismatches still raise.

    Returns
    -------
    nir.NIRGraph
    """
    nir = _nir()
    try:
        return nir.read(path)
    except ValueError as err:
        if strict or "type" not in str(err).lower():
            raise ValueError(f"{path}: {err}. read(path, strict=False) reads a graph whose "
                             f"types differ only in shape") from err
        reason = str(err)
    graph = nir.read(path, type_check=False)
    for a, b in graph.edges:
        out = _size(graph.nodes[a].output_type)
        inp = _size(graph.nodes[b].input_type)
        if out != inp:
            raise ValueError(f"{path}: edge {a!r} -> {b!r} carries {out} values into "
                             f"{inp}: not a difference of shape only")
    warnings.warn(f"{path}: read without NIR's type check (types that differ only in "
                  f"shape: {reason})", UserWarning, stacklevel=2)
    return graph


def _current_nodes(nir, graph, succ):
    """``{LIF node: {sign: LI node}}``: the synaptic currents :func:`to_nir` writes as
    ``LI`` nodes (``metadata['neuromorph.current_of']``, ``['neuromorph.sign']``), checked:
    each feeds only the ``LIF`` node it names, one per sign, ``v_leak = 0``, and is fed by
    weight or delay nodes only."""
    currents = {}
    for name, node in graph.nodes.items():
        meta = node.metadata or {}
        if not isinstance(node, nir.LI) or "neuromorph.current_of" not in meta:
            continue
        of, sign = str(meta["neuromorph.current_of"]), str(meta.get("neuromorph.sign"))
        if (succ.get(name) != [of] or not isinstance(graph.nodes.get(of), nir.LIF)
                or sign not in ("exc", "inh") or sign in currents.get(of, {})):
            raise UnsupportedFeature(
                f"node {name!r}: a synaptic current node (metadata neuromorph.current_of) "
                f"must feed only the LIF node it names ({of!r}), one node per "
                f"neuromorph.sign 'exc' / 'inh' (got {sign!r}, feeding {succ.get(name)})")
        if _scalar(name, node, "v_leak") != 0:
            raise UnsupportedFeature(f"node {name!r}: a synaptic current node needs "
                                     f"v_leak = 0")
        feeds = [a for a, b in graph.edges if b == name
                 and not isinstance(graph.nodes[a], (nir.Linear, nir.Affine, nir.Delay))]
        if feeds:
            raise UnsupportedFeature(f"node {name!r}: a synaptic current node takes weight "
                                     f"or delay nodes only, got {feeds}")
        currents.setdefault(of, {})[sign] = name
    return currents


def from_nir(graph, dt=None, *, inputs=None, seed=None, spike_representation=None,
             held_inputs=None):
    """Build a network from a ``nir.NIRGraph`` (see the module notes).

    Parameters
    ----------
    graph : nir.NIRGraph or path
        A graph, or a NIR file (read with :func:`read`, strict).
    dt : float, optional
        Time step (ms); default ``graph.metadata['dt']`` (s) converted to ms.
    inputs : dict, optional
        Input node name -> ``(indices, times_ms)`` spike trains; missing inputs are
        silent spike sources.
    seed : int, optional
        The network's seed.
    spike_representation : {'step', 'dirac'}, optional
        How a spike drives the graph's neurons (see the module notes): ``'step'``, a 1
        held for one step, as the tools that write NIR compute; ``'dirac'``, a pulse of
        unit area. Default: the graph's ``metadata['spike_representation']`` if
        :func:`to_nir` wrote one, else ``'step'``.
    held_inputs : dict, optional
        Held input node name -> ``(start_ms, stop_ms, values)``: per window ``k`` the
        node holds ``values[k]`` during ``[start_ms[k], stop_ms[k])`` (see the module
        notes).

    Returns
    -------
    Network
        Populations named after the graph's neuron and input nodes, projections after
        its ``Linear`` / ``Affine`` nodes; a spike monitor on each neuron population
        that feeds an ``Output`` node is in ``net.monitors``.
    """
    nir = _nir()
    if isinstance(graph, (str, os.PathLike)):
        graph = read(graph)
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"graph must be a nir.NIRGraph, got {type(graph).__name__}")
    if spike_representation is None:
        spike_representation = (graph.metadata or {}).get("spike_representation", "step")
    _check_representation(spike_representation)
    if dt is None:
        if "dt" not in (graph.metadata or {}):
            raise ValueError("the graph has no metadata['dt']: pass dt (ms)")
        dt = float(graph.metadata["dt"]) / _S
    net = Network(dt=dt, seed=seed)
    inputs = dict(inputs or {})
    held_in = dict(held_inputs or {})
    held = {name for name, node in graph.nodes.items() if isinstance(node, nir.Input)
            and (node.metadata or {}).get("neuromorph.held")}
    if set(held_in) - held:
        raise ValueError(f"held_inputs names no held Input node of the graph: "
                         f"{sorted(set(held_in) - held)}")
    # gain, bias_gain: per node that weights feed (a neuron node or one of its current
    # nodes), the jump of neuromorph's current per unit weight and the step current per
    # unit constant input; owner: that node's population
    pops, gain, bias_gain, owner = {}, {}, {}, {}
    succ = {}
    for a, b in graph.edges:
        succ.setdefault(a, []).append(b)
    currents = _current_nodes(nir, graph, succ)
    sign_of = {li: sign for cur in currents.values() for sign, li in cur.items()}
    for name, node in graph.nodes.items():
        if isinstance(node, nir.Input) and name in held:
            continue
        if isinstance(node, nir.Input):
            n = int(np.prod(node.input_type["input"]))
            idx, times = inputs.pop(name, (np.zeros(0, int), np.zeros(0)))
            pops[name] = net.spike_source(n, indices=np.asarray(idx), times=np.asarray(times),
                                          name=name)
        elif isinstance(node, (nir.CubaLIF, nir.LIF)):
            cuba = isinstance(node, nir.CubaLIF)
            tau_m = _scalar(name, node, "tau_mem" if cuba else "tau") / _S
            tau_s = _scalar(name, node, "tau_syn") / _S if cuba else dt / 100
            cur = {sign: (li, _scalar(li, graph.nodes[li], "tau") / _S)
                   for sign, li in currents.get(name, {}).items()}
            tau_exc = cur.get("exc", cur.get("inh", (None, tau_s)))[1]
            tau_inh = cur.get("inh", cur.get("exc", (None, tau_s)))[1]
            meta = node.metadata or {}
            v_leak = np.broadcast_to(np.asarray(node.v_leak, float), np.shape(node.v_threshold))
            if "neuromorph.current" in meta:  # to_nir's split of v_leak, bit for bit
                v_rest, held_current = float(meta["neuromorph.v_rest"]), \
                    np.asarray(meta["neuromorph.current"], float)
            elif np.unique(v_leak).size > 1:  # per-neuron v_leak: a constant current
                v_rest = float(v_leak.min())
                held_current = v_leak - v_rest
            else:
                v_rest, held_current = _scalar(name, node, "v_leak"), None
            v_reset = _scalar(name, node, "v_reset") if node.v_reset is not None else v_rest
            n = int(np.size(node.v_threshold))
            t_ref = 0.0
            if "t_ref" in meta:  # written by to_nir(refractory='metadata')
                t_ref = _scalar(name, meta, "t_ref") / _S
            v_threshold = np.broadcast_to(np.asarray(node.v_threshold, float), (n,))
            v_th = (_scalar(name, meta, "v_th") if "v_th" in meta
                    else float(v_threshold.min()))
            theta_plus = _scalar(name, meta, "theta_plus") if "theta_plus" in meta else 0.0
            tau_theta = (_scalar(name, meta, "tau_theta") / _S if "tau_theta" in meta
                         else float("inf"))
            theta = v_threshold - v_th
            pops[name] = net.lif(n, tau_m=tau_m, v_rest=v_rest, v_reset=v_reset,
                                 v_th=v_th, tau_syn_exc=tau_exc, tau_syn_inh=tau_inh,
                                 t_ref=t_ref, theta_plus=theta_plus, tau_theta=tau_theta,
                                 theta_frozen=bool(theta_plus == 0 and np.any(theta != 0)),
                                 name=name)
            pops[name].theta[:] = theta
            if held_current is not None:
                net.current(pops[name], held_current)
            # neuromorph's current is r I; a spike through W raises it by
            # r w_in W * _spike_gain (CubaLIF). A LIF node has no current: a fast one
            # (tau_s) carries the spike, scaled to the LIF node's effect on v by the end
            # of the arrival step (r W (1 - E_m) held, r W / tau Dirac; c_s: the
            # engine's effect of a unit jump of a tau_s current on v after one step). A LIF
            # node with current nodes (LI, tau = tau_syn, v_leak = 0) is a CubaLIF per
            # current with w_in = the LI node's r
            r_w_in = _scalar(name, node, "r") * (_scalar(name, node, "w_in") if cuba else 1.0)
            bias_gain[name], owner[name] = r_w_in, name
            for li, tau in cur.values():  # LI (tau = tau_syn, r, v_leak 0) -> LIF (r):
                r_li = r_w_in * _scalar(li, graph.nodes[li], "r")  # CubaLIF, w_in = r_li
                gain[li] = r_li * _spike_gain(spike_representation, dt, tau)
                bias_gain[li], owner[li] = r_li, name
            if cuba:
                gain[name] = r_w_in * _spike_gain(spike_representation, dt, tau_s)
            elif not cur:  # (with current nodes, the weights feed those)
                area = -np.expm1(-dt / tau_m) if spike_representation == "step" \
                    else np.exp(-dt / tau_m) / (tau_m * _S)
                gain[name] = r_w_in * area / _current_gain(dt, tau_m, tau_s)
        elif not isinstance(node, (nir.Output, nir.Linear, nir.Affine, nir.Delay)) \
                and name not in sign_of:
            raise UnsupportedFeature(f"node {name!r}: {type(node).__name__} has no neuromorph "
                                     f"counterpart")
    if inputs:
        raise ValueError(f"inputs names no Input node of the graph: {sorted(inputs)}")
    merged = {}  # projection name -> [pre, post, weight, delay, Affine nodes]
    for name, node in graph.nodes.items():
        if not isinstance(node, (nir.Linear, nir.Affine)):
            continue
        pre = [a for a, b in graph.edges if b == name]
        if len(pre) == 1 and pre[0] in held:  # values held over windows: step currents
            post = succ.get(name, [])
            if len(post) != 1 or post[0] not in bias_gain:
                raise UnsupportedFeature(f"node {name!r}: a weight node after a held input "
                                         f"must feed one neuron node, got {post}")
            weight = np.asarray(node.weight, dtype=float)
            b = np.asarray(getattr(node, "bias", 0.0), float) * np.ones(weight.shape[0])
            if pre[0] not in held_in:
                if np.any(b):
                    net.current(pops[owner[post[0]]], b * bias_gain[post[0]])
                continue
            start, stop, values = held_in[pre[0]]
            for t0, t1, x in zip(start, stop, np.asarray(values, float)):
                net.current(pops[owner[post[0]]], (weight @ x + b) * bias_gain[post[0]],
                            start=t0, stop=t1)
            continue
        if len(pre) != 1 or pre[0] not in pops:
            raise UnsupportedFeature(f"node {name!r}: a weight node needs exactly one neuron "
                                     f"or input node before it, got {pre}")
        weight = np.asarray(node.weight, dtype=float)
        delay, targets = np.zeros(weight.shape[0]), succ.get(name, [])
        if len(targets) == 1 and isinstance(graph.nodes[targets[0]], nir.Delay):
            dnode = graph.nodes[targets[0]]
            delay = np.broadcast_to(np.asarray(dnode.delay, dtype=float) / _S,
                                    weight.shape[:1])
            if np.any(delay < 0) or not np.all(np.isfinite(delay)):
                raise UnsupportedFeature(f"node {targets[0]!r}: delays must be finite and "
                                         f">= 0, got {dnode.delay}")
            targets = succ.get(targets[0], [])
        if len(targets) == 1 and targets[0] in currents:
            raise UnsupportedFeature(f"node {name!r} feeds LIF node {targets[0]!r}, whose "
                                     f"synaptic currents are the nodes "
                                     f"{sorted(currents[targets[0]].values())}: feed one")
        if len(targets) != 1 or targets[0] not in gain:
            raise UnsupportedFeature(f"node {name!r}: a weight node must feed one neuron node "
                                     f"(optionally through one Delay), got {targets}")
        inlet, post = targets[0], owner[targets[0]]
        key = (node.metadata or {}).get("neuromorph.projection", name)
        w = weight * gain[inlet]
        if inlet in sign_of and np.any(w < 0 if sign_of[inlet] == "exc" else w > 0):
            raise UnsupportedFeature(f"node {name!r}: weights of the wrong sign into the "
                                     f"{sign_of[inlet]} current node {inlet!r} (neuromorph "
                                     f"routes a positive weight to I_exc, a negative one to "
                                     f"I_inh)")
        d = np.broadcast_to(delay[:, None], w.shape)
        if key in merged:  # a branch of a projection with per-synapse delays
            m = merged[key]
            if m[0] != pre[0] or m[1] != post:
                raise UnsupportedFeature(f"node {name!r}: branches of projection {key!r} "
                                         f"connect different nodes")
            m[3] = np.where(w != 0, d, m[3])
            m[2] = m[2] + w
        else:
            merged[key] = [pre[0], post, w, d.copy(), []]
        if isinstance(node, nir.Affine) and np.any(node.bias):
            # a constant input b holds the current at r w_in b: a step current of that size
            merged[key][4].append(np.asarray(node.bias, float) * bias_gain[inlet])
    for name, (pre, post, w, d, biases) in merged.items():
        net.connect(pops[pre], pops[post], matrix=w.T, delay=d.T, name=name)
        for amplitude in biases:
            net.current(pops[post], amplitude)
    for name, node in graph.nodes.items():
        if isinstance(node, (nir.CubaLIF, nir.LIF)) and any(
                isinstance(graph.nodes[b], nir.Output) for b in succ.get(name, [])):
            net.spike_monitor(pops[name])
    return net


__all__ = ["to_nir", "from_nir", "read", "SPIKE_REPRESENTATIONS", "UnsupportedFeature"]
