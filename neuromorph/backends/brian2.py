r"""The same network in Brian2, for spike-for-spike cross-checks and as a benchmark peer.

:func:`to_brian2` reads a :class:`~neuromorph.network.Network` description (its
populations, projections, step currents, spike monitors, model and rule parameters and
the initial state ``pop.state``) and builds the equivalent Brian2 objects;
:func:`run_brian2` builds, runs and reads them back in neuromorph's units and orders.
The neuromorph network is never modified and the engine's internals are never read.

Mapping (time in ms, voltages, currents and weights in mV on the neuromorph side):

* **LIF** population -> ``NeuronGroup`` with ``method='exact'``::

      dv/dt     = (I_exc + I_inh + I_ext - (v - v_rest)) / tau_m   (unless refractory)
      dI_exc/dt = -I_exc / tau_syn_exc
      dI_inh/dt = -I_inh / tau_syn_inh

  threshold ``v > v_th``, reset ``v = v_reset``, ``refractory = t_ref``; initial
  ``v``, ``I_exc`` and ``I_inh`` are copied from ``pop.state``. An adaptive threshold
  (``theta_plus > 0``) adds ``dtheta/dt = -theta / tau_theta``, threshold
  ``v > v_th + theta`` and ``theta += theta_plus`` at reset (``theta_frozen``: a
  constant ``theta`` in the threshold). When a synaptic time
  constant equals ``tau_m`` (the engine's tolerance, 1e-12 relative), Brian2's symbolic
  solution with ``(unless refractory)`` divides by zero; such a population is
  integrated without the flag and ``v`` is held at ``v_reset`` by an operation after
  integration while refractory (the same values).
* **Poisson** inputs -> ``PoissonGroup`` (same rates, Brian2 seeded with
  ``net.seed % 2**32`` by :func:`run_brian2`; the spike trains differ from neuromorph's,
  which only matters for exact comparisons), **spike sources** ->
  ``SpikeGeneratorGroup`` (same steps).
* **Step currents** (``net.currents``) -> a parameter ``I_ext``, set every step
  (``run_regularly`` at ``when='start'``, before integration) as the sum of per-neuron
  amplitudes times 0/1 ``TimedArray`` gates; currents that are all on from step 0
  forever make ``I_ext`` a constant that costs nothing per step.
* **Static projections** -> up to two ``Synapses`` (``w >= 0`` into ``I_exc``,
  ``w < 0`` into ``I_inh``), with a scalar weight / delay when all synapses share one.
* **STDP projections** -> one ``Synapses`` with event-driven traces ``Apre``/``Apost``
  (``+= 1`` all-to-all, ``= 1`` nearest): ``on_pre`` delivers the old weight into
  ``I_exc`` or ``I_inh`` by its sign at that spike, bumps ``Apre`` and depresses,
  ``on_post`` bumps ``Apost`` and potentiates; weights are clipped to ``[w_min,
  w_max]``. Brian2 runs the ``pre`` pathway before ``post`` within a step, as
  neuromorph does.

Every object shares one ``Clock`` with ``dt = net.dt``, and Brian2's default schedule
(integrate, threshold, propagate, reset) is the order neuromorph's engine uses, so a
network with deterministic inputs gives the same spikes, step for step.

Not mappable (raise :class:`UnsupportedFeature`, before any Brian2 object is made):

* STDP on synapses with a non-zero delay: neuromorph applies the pre-side update
  (depression, ``x_pre`` bump) when the presynaptic neuron fires and delivers the weight
  of that moment later, whereas Brian2 delays the whole ``on_pre`` pathway;
* a network that has already been run (``net.step != 0``): spikes in flight and STDP
  traces live in the engine, not in the description.

Only :class:`~neuromorph.monitors.SpikeMonitor` objects are mirrored; state, rate and
weight monitors are ignored (final weights come back in :attr:`Brian2Result.weights`).

``cpp_standalone`` runs in :func:`run_brian2` switch Brian2's device for the duration
of the call and reset it afterwards (``device.reinit()``), so repeated calls in one
process work; the project is built in ``build_dir`` or in a temporary folder that is
removed afterwards. :func:`to_brian2` builds on whatever device is active.

Examples
--------
>>> import numpy as np, neuromorph as nm
>>> from neuromorph.backends.brian2 import run_brian2
>>> net = nm.Network(dt=0.1, seed=0)
>>> src = net.spike_source(2, indices=np.array([0, 1]), times=np.array([1.0, 2.0]))
>>> P = net.lif(3, v_rest=-65.0, v_reset=-70.0, v_th=-50.0)
>>> _ = net.connect(src, P, w=60.0)             # mV per spike
>>> mon = net.spike_monitor(P)
>>> res = run_brian2(net, 20.0)                 # ms, target 'numpy'
>>> t, i = res.spikes[0]                        # times (ms), indices local to P
>>> t, i
(array([5.7, 5.7, 5.7]), array([0, 1, 2], dtype=int32))
"""
from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import reduce

import numpy as np

import brian2 as b2
from brian2 import Hz, ms, mV
from brian2.devices.device import reset_device

from .. import _checks
from ..descriptions import describe, hook
from ..errors import UnsupportedFeature
from ..monitors import SpikeMonitor
from ..network import check_network

__all__ = ["to_brian2", "run_brian2", "Brian2Model", "Brian2Result", "UnsupportedFeature",
           "TARGETS"]

#: Code generation targets accepted by :func:`run_brian2`.
TARGETS = ("numpy", "cython", "cpp_standalone")

_LIF_EQUATIONS = """
dv/dt = (I_exc + I_inh + I_ext - (v - v_rest)) / tau_m : volt {flags}
dI_exc/dt = -I_exc / {tau_exc} : volt
dI_inh/dt = -I_inh / {tau_inh} : volt
I_ext : volt
"""

#: Holds ``v`` at ``v_reset`` while refractory, for populations integrated without the
#: ``(unless refractory)`` flag (``1 * v + 0 * v_reset`` is exactly ``v``).
_CLAMP = "v = int(not_refractory) * v + (1 - int(not_refractory)) * v_reset"


@dataclass
class Brian2Model:
    """Brian2 objects of a network built by :func:`to_brian2`.

    Attributes
    ----------
    network : brian2.Network
        Every object below, ready to ``run``.
    groups : dict
        Population name -> ``NeuronGroup`` / ``PoissonGroup`` / ``SpikeGeneratorGroup``.
    synapses : dict
        Projection name -> list of ``Synapses`` (static projections: one per weight
        sign present, excitatory first; plastic projections: one).
    spike_monitors : list
        One ``brian2.SpikeMonitor`` per neuromorph :class:`SpikeMonitor` in
        ``net.monitors``, in the same order. Each records the *whole* population of the
        monitored view; :meth:`spike_trains` restricts to the view.
    clock : brian2.Clock
        The clock (``dt = net.dt``) every object runs on.
    dt : float
        The network's time step (ms).
    """

    network: b2.Network
    groups: dict
    synapses: dict
    spike_monitors: list
    clock: b2.Clock
    dt: float
    _views: list = field(repr=False, default_factory=list)
    _layout: dict = field(repr=False, default_factory=dict)

    def spike_trains(self):
        """Recorded spikes as neuromorph reports them.

        Returns
        -------
        list of (ndarray, ndarray)
            For each neuromorph spike monitor: spike times (ms, multiples of ``dt``,
            sorted) and neuron indices local to the monitored view.
        """
        out = []
        for mon, (start, stop) in zip(self.spike_monitors, self._views):
            steps = np.round(np.asarray(mon.t / ms) / self.dt).astype(np.int64)
            idx = np.asarray(mon.i[:], dtype=np.int64)
            keep = (idx >= start) & (idx < stop)
            steps, idx = steps[keep], idx[keep] - start
            order = np.lexsort((idx, steps))
            out.append((steps[order] * self.dt, idx[order].astype(np.int32)))
        return out

    def weights(self):
        """Current weights (mV) of every projection, in neuromorph's synapse order.

        Returns
        -------
        dict
            Projection name -> float64 array aligned with ``proj.sources`` /
            ``proj.targets``.
        """
        out = {}
        for name, (keys, static_w, syn) in self._layout.items():
            if syn is None:
                out[name] = static_w.copy()
                continue
            n_post = syn.target.N
            got = np.asarray(syn.i[:], np.int64) * n_post + np.asarray(syn.j[:], np.int64)
            w = np.asarray(syn.w[:] / mV, dtype=np.float64)
            order = np.argsort(got, kind="stable")
            pos = order[np.searchsorted(got[order], keys)]
            out[name] = w[pos]
        return out


@dataclass
class Brian2Result:
    """Outcome of :func:`run_brian2`.

    Attributes
    ----------
    spikes : list of (ndarray, ndarray)
        For each neuromorph :class:`SpikeMonitor` in ``net.monitors`` (same order):
        spike times (ms) and neuron indices local to the monitored view.
    weights : dict
        Projection name -> final weights (mV) in neuromorph's synapse order
        (``proj.sources``, ``proj.targets``).
    wall_s : float
        Wall-clock time of the simulation loop only (s).
    build_s : float
        Wall-clock time of everything else (s): building the objects, code generation
        and compilation, and for ``cpp_standalone`` writing, compiling and starting the
        project.
    target : str
        The code generation target that ran.
    """

    spikes: list
    weights: dict
    wall_s: float
    build_s: float
    target: str


# -- checks ------------------------------------------------------------------------------
def _check_network(net):
    check_network(net)
    if net.step != 0:
        raise UnsupportedFeature(
            f"net has already been run ({net.step} steps): spikes in flight and STDP traces "
            "live in the engine, not in the description; build the Brian2 model from a "
            "network that has not been run yet")
    for pop in net.populations:
        if hook(pop.model, "brian2") not in _GROUPS:
            raise UnsupportedFeature(f"population {pop.name!r}: model "
                                     f"{type(pop.model).__name__} has no Brian2 mapping")
    for proj in net.projections:
        rule = proj.plasticity
        if rule is None:
            continue
        if hook(rule, "brian2") not in _PLASTIC:
            raise UnsupportedFeature(f"projection {proj.name!r}: plasticity "
                                     f"{type(rule).__name__} has no Brian2 mapping")
        if rule.clip != "update":
            raise UnsupportedFeature(
                f"projection {proj.name!r}: STDP with clip={rule.clip!r} (one clip per step "
                "after the step's pre and post updates) is not mappable to Brian2, whose "
                "on_pre and on_post each clip; use clip='update'")
        if proj.n_synapses and np.any(proj.delay_steps != 0):
            raise UnsupportedFeature(
                f"projection {proj.name!r}: STDP with non-zero delays (max "
                f"{proj.delay_steps.max() * net.dt} ms) is not mappable to Brian2: "
                "neuromorph applies the pre-side update when the presynaptic neuron "
                "fires, Brian2 delays the whole on_pre pathway; use delay=0 for "
                "plastic projections")


def _check_target(target):
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")


# -- building --------------------------------------------------------------------------
def _poisson_group(pop, clock, net):
    """``PoissonGroup`` of a Poisson input population (no operations)."""
    return b2.PoissonGroup(pop.size, rates=np.array(pop.model.rate, dtype=float) * Hz,
                           clock=clock), []


def _spike_generator_group(pop, clock, net):
    """``SpikeGeneratorGroup`` of a spike source (no operations)."""
    model = pop.model
    return b2.SpikeGeneratorGroup(pop.size, np.array(model.indices, dtype=np.int64),
                                  np.array(model.steps, dtype=float) * net.dt * ms,
                                  clock=clock), []


def _same_tau(tau_syn, tau_m):
    """Whether the engine treats ``tau_syn`` as equal to ``tau_m`` (its degenerate case)."""
    return abs(tau_syn - tau_m) <= 1e-12 * tau_m


def _current_terms(pop, currents, dt):
    """Step currents into ``pop`` as Brian2 pieces.

    Each current ``k`` (in ``net.currents`` order, as the engine sums them) gets a
    per-neuron amplitude ``I_amp_k`` (mV, 0 outside its target view) and, unless it is
    on from step 0 forever, a 0/1 ``TimedArray`` gate ``gate_k(t)`` whose resolution is
    the greatest common divisor of its on/off steps. Memory is O(neurons + steps / gcd)
    per current.

    Returns
    -------
    amplitudes : list of ndarray
        ``I_amp_k`` of each current (mV, one value per neuron of ``pop``).
    terms : list of str
        The summands of ``I_ext``.
    gates : dict
        Namespace entries ``gate_k -> TimedArray``.
    """
    amplitudes, terms, gates = [], [], {}
    for k, c in enumerate(c for c in currents if c.target.population is pop):
        amp = np.zeros(pop.size)
        amp[c.target.start:c.target.stop] = c.amplitude
        amplitudes.append(amp)
        edges = [e for e in (c.on, c.off) if e]
        if not edges:
            terms.append(f"I_amp_{k}")
            continue
        res = reduce(math.gcd, edges)
        row_step = np.arange(max(edges) // res + 1) * res
        gate = (row_step >= c.on) & (row_step < (np.inf if c.off is None else c.off))
        gates[f"gate_{k}"] = b2.TimedArray(gate.astype(float), dt=res * dt)
        terms.append(f"I_amp_{k} * gate_{k}(t)")
    return amplitudes, terms, gates


def _lif_group(pop, clock, net):
    """``NeuronGroup`` of a LIF population and the operations it needs (a list).

    The network's step currents into ``pop`` become ``I_ext``.
    """
    m, currents = pop.model, net.currents
    namespace = {"tau_m": m.tau_m * ms, "v_rest": m.v_rest * mV, "v_reset": m.v_reset * mV,
                 "v_th": m.v_th * mV, "tau_syn_exc": m.tau_syn_exc * ms,
                 "tau_syn_inh": m.tau_syn_inh * ms}
    # Brian2 solves the equations symbolically: a synaptic time constant equal to tau_m
    # must be the same symbol, and then the ``int(not_refractory)`` factor that
    # ``(unless refractory)`` puts into the exponents makes the solution divide by zero;
    # such a population is integrated without the flag and clamped after integration.
    taus = {f"tau_{kind}": "tau_m" if _same_tau(tau, m.tau_m) else f"tau_syn_{kind}"
            for kind, tau in (("exc", m.tau_syn_exc), ("inh", m.tau_syn_inh))}
    degenerate = "tau_m" in taus.values()
    amplitudes, terms, gates = _current_terms(pop, currents, clock.dt)
    namespace.update(gates)
    equations = _LIF_EQUATIONS.format(flags="" if degenerate else "(unless refractory)",
                                      **taus)
    threshold, reset = "v > v_th", "v = v_reset"
    if m.theta_plus > 0:  # adaptive threshold: decays exactly, raised at each spike
        equations += ("dtheta/dt = -theta / tau_theta : volt\n" if np.isfinite(m.tau_theta)
                      else "theta : volt\n")
        namespace.update(tau_theta=m.tau_theta * ms, theta_plus=m.theta_plus * mV)
        threshold, reset = "v > v_th + theta", "v = v_reset; theta += theta_plus"
    elif m.theta_frozen:  # per-neuron thresholds held constant
        equations += "theta : volt (constant)\n"
        threshold = "v > v_th + theta"
    if gates:
        equations += "".join(f"I_amp_{k} : volt (constant)\n" for k in range(len(terms)))
    group = b2.NeuronGroup(pop.size, equations, threshold=threshold, reset=reset,
                           refractory=m.t_ref * ms, method="exact", namespace=namespace,
                           clock=clock)
    if m.theta_plus > 0 or m.theta_frozen:
        group.theta = np.array(pop.state["theta"], dtype=float) * mV
    group.v = np.array(pop.state["v"], dtype=float) * mV
    group.I_exc = np.array(pop.state["I_exc"], dtype=float) * mV
    group.I_inh = np.array(pop.state["I_inh"], dtype=float) * mV
    ops = []
    if gates:  # set I_ext every step, before integration
        for k, amp in enumerate(amplitudes):
            setattr(group, f"I_amp_{k}", amp * mV)
        ops.append(group.run_regularly("I_ext = " + " + ".join(terms), when="start",
                                       order=-1))
    elif amplitudes:  # constant currents: summed once, in the engine's order
        group.I_ext = reduce(np.add, amplitudes, np.zeros(pop.size)) * mV
    if degenerate and m.t_ref > 0:
        ops.append(group.run_regularly(_CLAMP, when="groups", order=group.order + 1))
    return group, ops


def _synapses(source, target, pre_offset, post_offset, sources, targets, model, on_pre,
              on_post, namespace, clock, delay_steps, weight=None):
    """One ``Synapses`` object joining ``sources[k] -> targets[k]`` (view-local indices)."""
    kwargs = {"on_post": on_post} if on_post else {}
    dt = clock.dt
    uniform_delay = bool(delay_steps.size) and bool(np.all(delay_steps == delay_steps[0]))
    if uniform_delay:
        kwargs["delay"] = int(delay_steps[0]) * dt
    syn = b2.Synapses(source, target, model=model, on_pre=on_pre, namespace=namespace,
                      clock=clock, **kwargs)
    syn.connect(i=np.asarray(sources, np.int64) + pre_offset,
                j=np.asarray(targets, np.int64) + post_offset)
    if not uniform_delay:
        syn.delay = np.asarray(delay_steps, dtype=float) * dt
    if weight is not None:
        syn.w = np.asarray(weight, dtype=float) * mV
    return syn


def _static_projection(proj, source, target, clock):
    """A static projection: one ``Synapses`` per weight sign present."""
    out = []
    w = np.asarray(proj.w, dtype=float)
    for mask, current in ((w >= 0, "I_exc"), (w < 0, "I_inh")):
        if not np.any(mask):
            continue
        wm = w[mask]
        if np.all(wm == wm[0]):  # one shared weight: a constant, like Brian2's CUBA example
            model, on_pre, ns, weight = "", f"{current}_post += w_syn", {"w_syn": wm[0] * mV}, None
        else:
            model, on_pre, ns, weight = "w : volt (constant)", f"{current}_post += w", {}, wm
        out.append(_synapses(source, target, proj.pre.start, proj.post.start,
                             proj.sources[mask], proj.targets[mask], model, on_pre, None, ns,
                             clock, proj.delay_steps[mask], weight))
    return out


def _stdp_code(rule):
    """``(model, on_pre, on_post)`` Brian2 code of an :class:`STDP` rule."""
    model = ("w : volt\n"
             "dApre/dt = -Apre / tau_pre : 1 (event-driven)\n"
             "dApost/dt = -Apost / tau_post : 1 (event-driven)")
    bump = "= 1" if rule.pairing == "nearest" else "+= 1"
    if rule.weight_dependence == "multiplicative":
        f_plus = " * (w_max - w) / (w_max - w_min)"
        f_minus = " * (w - w_min) / (w_max - w_min)"
    elif rule.weight_dependence == "power":
        f_plus = f" * ((w_max - w) / (w_max - w_min)) ** {rule.power!r}"
        f_minus = f" * ((w - w_min) / (w_max - w_min)) ** {rule.power!r}"
    else:
        f_plus = f_minus = ""
    if rule.w_min >= 0:
        deliver = ["I_exc_post += w"]
    elif rule.w_max <= 0:  # w = 0 adds nothing, whichever current it goes to
        deliver = ["I_inh_post += w"]
    else:  # the sign of a plastic weight can change: follow it at each spike
        deliver = ["I_exc_post += w * int(w >= 0 * volt)",
                   "I_inh_post += w * int(w < 0 * volt)"]
    on_pre = "\n".join(deliver + [f"Apre {bump}",
                                  f"w = clip(w + a_minus * Apost{f_minus}, w_min, w_max)"])
    on_post = "\n".join([f"Apost {bump}",
                         f"w = clip(w + a_plus * (Apre - x_tar){f_plus}, w_min, w_max)"])
    return model, on_pre, on_post


def _plastic_projection(proj, source, target, clock):
    rule = proj.plasticity
    model, on_pre, on_post = _stdp_code(rule)
    ns = {"tau_pre": rule.tau_pre * ms, "tau_post": rule.tau_post * ms,
          "a_plus": rule.a_plus * mV, "a_minus": rule.a_minus * mV,
          "w_min": rule.w_min * mV, "w_max": rule.w_max * mV, "x_tar": rule.x_tar}
    return [_synapses(source, target, proj.pre.start, proj.post.start, proj.sources,
                      proj.targets, model, on_pre, on_post, ns, clock, proj.delay_steps,
                      proj.w)]


#: Each population's Brian2 group, by its description's ``brian2`` hook:
#: ``builder(pop, clock, net) -> (group, operations)``.
_GROUPS = {"lif": _lif_group, "poisson": _poisson_group,
           "spike_times": _spike_generator_group}
#: Each plastic projection's Brian2 synapses, by its rule description's ``brian2`` hook.
_PLASTIC = {"stdp": _plastic_projection}


def to_brian2(net):
    """Build the Brian2 equivalent of a network (on the active Brian2 device).

    Parameters
    ----------
    net : neuromorph.Network
        A network that has not been run yet (``net.step == 0``). It is only read.

    Returns
    -------
    Brian2Model
        The objects; ``model.network.run(duration * brian2.ms)`` runs them.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~neuromorph.network.Network`.
    UnsupportedFeature
        (a ``ValueError``) for parts without an exact Brian2 equivalent (see the module
        docstring), before any Brian2 object is created.
    """
    _check_network(net)
    clock = b2.Clock(dt=net.dt * ms)
    groups, extra = {}, []
    for pop in net.populations:
        groups[pop.name], ops = _GROUPS[describe(pop.model).brian2](pop, clock, net)
        extra += ops
    synapses, layout = {}, {}
    for proj in net.projections:
        source = groups[proj.pre.population.name]
        target = groups[proj.post.population.name]
        keys = ((np.asarray(proj.sources, np.int64) + proj.pre.start) * target.N
                + np.asarray(proj.targets, np.int64) + proj.post.start)
        if proj.n_synapses == 0:
            synapses[proj.name] = []
            layout[proj.name] = (keys, np.zeros(0), None)
        elif proj.plasticity is None:
            synapses[proj.name] = _static_projection(proj, source, target, clock)
            layout[proj.name] = (keys, np.array(proj.w, dtype=float), None)
        else:
            build = _PLASTIC[describe(proj.plasticity).brian2]
            synapses[proj.name] = build(proj, source, target, clock)
            layout[proj.name] = (keys, None, synapses[proj.name][0])
    spike_mons, views = [], []
    for mon in net.monitors:
        if isinstance(mon, SpikeMonitor):
            spike_mons.append(b2.SpikeMonitor(groups[mon.target.population.name]))
            views.append((mon.target.start, mon.target.stop))
    objects = list(groups.values()) + extra + [s for ss in synapses.values() for s in ss]
    network = b2.Network(*objects, *spike_mons)
    return Brian2Model(network=network, groups=groups, synapses=synapses,
                       spike_monitors=spike_mons, clock=clock, dt=net.dt, _views=views,
                       _layout=layout)


# -- running ---------------------------------------------------------------------------
def _simulate(net, n_steps, seed):
    """Build and run on the active device; returns ``(model, total_seconds)``."""
    t0 = time.perf_counter()
    model = to_brian2(net)
    b2.seed(seed)
    model.network.run(n_steps * model.clock.dt)
    return model, time.perf_counter() - t0


def run_brian2(net, duration_ms, target="numpy", build_dir=None):
    """Run a network in Brian2 and return its spikes and final weights.

    Parameters
    ----------
    net : neuromorph.Network
        The network (not run yet); it is not modified.
    duration_ms : float
        Biological time to simulate (ms), >= 0 and a multiple of ``net.dt``.
    target : {'numpy', 'cython', 'cpp_standalone'}
        Brian2 code generation target. ``cython`` compiles on first use (cached by
        Brian2 across processes); ``cpp_standalone`` writes, compiles and runs a C++
        project, then resets Brian2's device so the call can be repeated.
    build_dir : str or path-like, optional
        Folder of the ``cpp_standalone`` project (kept afterwards). Default: a
        temporary folder, removed after the run. Only valid with ``cpp_standalone``.

    Returns
    -------
    Brian2Result
        Spikes per neuromorph spike monitor, final weights per projection, and the
        simulation (``wall_s``) and build (``build_s``) times in seconds.

    Raises
    ------
    TypeError, ValueError
        For a bad ``net``, ``duration_ms``, ``target`` or ``build_dir``;
        :class:`UnsupportedFeature` (a ``ValueError``) for parts of the network that
        Brian2 cannot reproduce exactly. All before anything runs.
    """
    _check_network(net)
    n_steps = _checks.steps("duration_ms", duration_ms, net.dt)
    _check_target(target)
    if build_dir is not None and target != "cpp_standalone":
        raise ValueError(f"build_dir only applies to target='cpp_standalone', got "
                         f"target={target!r}")
    seed = net.seed % (2**32)
    if target == "cpp_standalone":
        return _run_standalone(net, n_steps, seed, build_dir)
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        model, total = _simulate(net, n_steps, seed)
    finally:
        b2.prefs.codegen.target = previous
    wall = float(b2.get_device()._last_run_time)
    return Brian2Result(model.spike_trains(), model.weights(), wall, total - wall, target)


def _run_standalone(net, n_steps, seed, build_dir):
    folder = tempfile.mkdtemp(prefix="neuromorph_brian2_") if build_dir is None \
        else str(build_dir)
    try:
        b2.set_device("cpp_standalone", build_on_run=False)
        device = b2.get_device()
        try:
            t0 = time.perf_counter()
            model, _ = _simulate(net, n_steps, seed)
            device.build(directory=folder, compile=True, run=True, debug=False)
            total = time.perf_counter() - t0
            wall = float(device._last_run_time)
            return Brian2Result(model.spike_trains(), model.weights(), wall, total - wall,
                                "cpp_standalone")
        finally:  # forget this project's objects and go back to the previous device
            device.reinit()
            device.activate()
            reset_device()
    finally:
        if build_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
