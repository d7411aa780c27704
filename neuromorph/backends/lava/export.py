"""Network description -> Lava processes (:func:`to_lava`), checks before any process is
made, and the objects a run returns.
"""
from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from dataclasses import dataclass, field

import numpy as np

from ...descriptions import describe, hook
from ...errors import UnsupportedFeature, all_problems
from ...monitors import StateMonitor, WeightMonitor
from ...network import Network, check_network
from .._inputs import input_spikes as _input_spikes
from ...loihi import bias_parts, representable_bias, weight_exponent  # noqa: F401

from .compat import _lava
from .rules import (MAX_DELAY, TRACE_IMPULSE, _modulator, _rstdp_amplitudes, _stdp_float,
                    _third_factor_series, rstdp_rule, stdp_rule, triplet_rule)


# -- checks -------------------------------------------------------------------------------
def _check_network(net, connection, trace_impulse=TRACE_IMPULSE, learning="float"):
    """The network's precision (fixed point?); every reason it cannot be exported is
    raised at once (one :class:`UnsupportedFeature` listing them all)."""
    check_network(net)
    if connection not in ("dense", "sparse"):
        raise ValueError(f"connection must be 'dense' or 'sparse', got {connection!r}")
    if learning not in ("float", "fixed"):
        raise ValueError(f"learning must be 'float' or 'fixed', got {learning!r}")
    problems = []

    def check(rule, *args):  # a rule translation that raises for what has no Loihi form
        try:
            rule(*args)
        except UnsupportedFeature as err:
            problems.append(str(err))

    if net.step != 0:
        problems.append(f"the network has already run ({net.step} steps): spikes in flight "
                        f"live in the engine; export a freshly built network")
    kinds = set()
    for p in net.populations:
        desc = describe(p.model, None)
        form = getattr(desc, "lava", None)
        if form is None:
            hint = getattr(desc, "lava_hint", None)
            problems.append(f"population {p.name!r} {hint}" if hint else
                            f"population {p.name!r} ({type(p.model).__name__}) has no Lava "
                            f"mapping")
        if form == "lif":
            kinds.add(p.model.fixed_point)
    if len(kinds) > 1:
        problems.append("the network mixes fixed- and floating-point LoihiLIF populations; "
                        "Lava runs one precision at a time")
    for pr in net.projections:
        rule_form = hook(pr.plasticity, "lava")
        if rule_form == "rstdp":
            check(rstdp_rule, pr, learning == "fixed")
            check(_modulator, net, pr)
        elif rule_form == "triplet":
            check(triplet_rule, pr, learning == "fixed")
        elif pr.plasticity is not None:
            check(stdp_rule, pr, learning == "fixed", trace_impulse)
        if pr.n_synapses and pr.delay_steps.max() > MAX_DELAY:
            problems.append(f"projection {pr.name!r} has a delay of {pr.delay_steps.max()} "
                            f"steps; Loihi 2 allows 0-{MAX_DELAY}")
        if connection == "sparse" and pr.n_synapses and pr.delay_steps.any():
            problems.append(f"projection {pr.name!r} has delays: Lava's Sparse has none; use "
                            f"connection='dense' (DelayDense)")
    if net.currents:
        try:
            bias_schedule(net)
        except UnsupportedFeature as err:
            problems.append(str(err))
    for m in net.monitors:
        if isinstance(m, WeightMonitor):
            problems.append(f"weight monitor of projection {m.target.name!r}: Lava's weights "
                            f"are read once, after the run (LavaResult.weights)")
    if problems:
        raise all_problems(problems, "exported to Lava",
                           "Lava runs a freshly built network of LoihiLIF neurons of one "
                           "precision (net.loihi_lif, or neuromorph.loihi.to_loihi(net) for "
                           "LIF), spike/Poisson inputs, delays up to "
                           f"{MAX_DELAY} steps and the learning rules of "
                           "lava_rule_support().")
    return kinds.pop() if kinds else True




# -- per-neuron biases --------------------------------------------------------------------
def bias_schedule(net):
    """The per-neuron bias of every LoihiLIF population that takes step currents, as
    a schedule ``[(step, {population: total bias array})]`` (Lava units: its
    ``bias_mant << bias_exp`` plus the currents on at that step), one entry at step 0
    and one wherever a current switches on or off. Raises :class:`UnsupportedFeature`
    for a current into a population Lava runs no LIF for, or a fixed-point total that
    Loihi's bias cannot hold."""
    targets = {}
    for c in net.currents:
        p = c.target.population
        if describe(p.model).lava != "lif":
            raise UnsupportedFeature(f"population {p.name!r}: step currents (net.current) "
                                     f"into {type(p.model).__name__} have no Lava "
                                     f"equivalent; Lava biases LoihiLIF neurons only")
        targets[p.name] = p
    if not targets:
        return []
    steps = sorted({0} | {b for c in net.currents for b in (c.on, c.off) if b is not None})
    out = []
    for step in steps:
        now = {}
        for name, p in targets.items():
            total = np.full(p.size, float(p.model.bias))
            for c in net.currents:  # summed in net.currents order, as the engine does
                if c.target.population is p and c.on <= step and (c.off is None or
                                                                   step < c.off):
                    total[c.target.start:c.target.stop] += c.amplitude
            bias_parts(total, p.model.fixed_point, f"population {name!r}")
            now[name] = total
        out.append((step, now))
    return out


# -- export -------------------------------------------------------------------------------
@dataclass
class LavaNetwork:
    """Lava processes of a network built by :func:`to_lava`.

    Attributes
    ----------
    neurons : dict
        Population name -> ``lava.proc.lif.process.LIF``.
    sources : dict
        Input population name -> ``RingBuffer`` source (spike times or Poisson trains
        pre-drawn for ``n_steps`` steps).
    connections : dict
        Projection name -> list of Lava connection processes (fixed point: the
        excitatory one first, then the inhibitory one, each only if present).
    recorders : dict
        Population name -> recorder process (monitored LoihiLIF populations).
    fixed_point : bool
        Precision the processes run in (``Loihi2SimCfg`` tag ``fixed_pt`` or
        ``floating_pt``).
    n_steps : int
        Number of steps the inputs and recorders were built for.
    net : Network
        The exported network (read, never modified).
    plastic : dict
        Plastic projection name -> its ``LearningDense`` process.
    input_spikes : dict
        Input population name -> ``(steps, local indices)`` replayed by its source.
    third_factors : dict
        R-STDP projection name -> its post-side third-factor process (see
        :func:`rstdp_rule`).
    learning : str
        'float' or 'fixed': the learning engine's arithmetic (see :func:`to_lava`).

    breaks : dict
        Step -> list of ``(Var, value)`` set before that step runs: the run is split
        into ``RunSteps`` segments at these steps (per-neuron biases from step currents,
        :func:`bias_schedule`, or resets added by the caller with :meth:`set_at`).

    Processes can be adjusted before :meth:`run` (e.g. a ``Var``'s ``init``); the run
    happens in a forked worker, which sees them as they are at that moment.
    """

    def set_at(self, step, var, value):
        """Set the Lava ``Var`` ``var`` to ``value`` between runs, before ``step`` runs
        (``0 < step < n_steps``): the run pauses there (``RunSteps`` up to ``step``)."""
        if not 0 < int(step) < self.n_steps:
            raise ValueError(f"step must be in [1, {self.n_steps - 1}], got {step}")
        self.breaks.setdefault(int(step), []).append((var, value))

    net: Network
    neurons: dict
    sources: dict
    connections: dict
    recorders: dict
    fixed_point: bool
    n_steps: int
    plastic: dict = field(repr=False, default_factory=dict)
    input_spikes: dict = field(repr=False, default_factory=dict)
    third_factors: dict = field(repr=False, default_factory=dict)
    learning: str = "float"
    breaks: dict = field(repr=False, default_factory=dict)
    _dir: str = field(repr=False, default="")

    def run(self, timeout=None):
        """Run all ``n_steps`` steps in a watched worker process (see the module notes).

        Parameters
        ----------
        timeout : float, optional
            Wall-clock limit (s) for compiling and running; ``None``: no limit.

        Returns
        -------
        LavaResult
        """
        from .runner import _run_watched
        return _run_watched(self, timeout)


@dataclass
class LavaResult:
    """Outcome of :func:`run_lava`.

    Attributes
    ----------
    monitors : list
        For each spike, state and rate monitor of ``net.monitors`` (same order), a new
        monitor object of the same class holding what Lava produced.
    state : dict
        Population name -> ``{'v': array, 'u': array}`` after the last step, for
        populations that have a state monitor.
    wall_s : float
        Wall-clock time of Lava's run loop only (s).
    build_s : float
        Wall-clock time of compiling and starting Lava's processes (s).
    weights : dict
        Plastic projection name -> learned weights after the run, in neuromorph's
        synapse order (``proj.sources``, ``proj.targets``).
    eligibility : dict
        R-STDP projection name -> eligibility after the run (Lava's tag ``t``), in the
        same order.
    worker_pid : int
        Id (and process group) of the worker process that ran Lava (gone now).
    segments : list of str
        Names of the shared-memory segments Lava used (all released now).
    """

    monitors: list
    state: dict
    wall_s: float
    build_s: float
    weights: dict = field(default_factory=dict)
    eligibility: dict = field(default_factory=dict)
    worker_pid: int = 0
    segments: list = field(default_factory=list)


def _weight_blocks(pr, fixed_point):
    """Full-population ``(n_post, n_pre)`` weight and delay matrices, split by sign."""
    n_pre, n_post = pr.pre.population.size, pr.post.population.size
    rows, cols = pr.targets + pr.post.start, pr.sources + pr.pre.start
    masks = [pr.w >= 0, pr.w < 0] if fixed_point else [np.ones(pr.n_synapses, bool)]
    out = []
    for m in masks:
        if not m.any():
            continue
        w = np.zeros((n_post, n_pre))
        d = np.zeros((n_post, n_pre), np.int64)
        np.add.at(w, (rows[m], cols[m]), pr.w[m])
        d[rows[m], cols[m]] = pr.delay_steps[m]
        out.append((w, d))
    return out


def _sign_mode(pr, fixed_learning, L):
    """``sign_mode`` keyword of a plastic projection's ``LearningDense``.

    Fixed point: one sign always (Lava's default, MIXED, floors weights to even and
    clips them to [-256, 255]). Floating point: sign mode EXCITATORY (``max(0, w)``)
    when ``w_min = 0`` with non-negative weights, INHIBITORY when ``w_max = 0``; the
    rule's own bounds are applied after it (``weight_bounds``).
    """
    rule, w = pr.plasticity, pr.w
    lo, hi = (w.min(), w.max()) if pr.n_synapses else (0.0, 0.0)
    if fixed_learning:
        negative = lo < 0 or (hi == 0 and rule.w_max <= 0)
        return {"sign_mode": L.SignMode.INHIBITORY if negative else L.SignMode.EXCITATORY}
    if rule.w_min == 0 and lo >= 0:
        return {"sign_mode": L.SignMode.EXCITATORY}
    if rule.w_max == 0 and hi <= 0:
        return {"sign_mode": L.SignMode.INHIBITORY}
    return {}


def _warn_clip_schedule(pr):
    """Float STDP: Lava's learning engine clips once per step (neuromorph's ``clip='step'``)."""
    rule = pr.plasticity
    if rule.clip == "update" and rule.mu == 0.0:
        warnings.warn(
            f"projection {pr.name!r}: its rule clips weights after each update "
            f"(clip='update'), Lava's learning engine once per step after summing the "
            f"step's changes; the two differ when a synapse sees a pre and a post spike in "
            f"one step and its first update crosses w_min or w_max. Use clip='step' in the "
            f"rule for the same spikes and weights in both", UserWarning, stacklevel=3)


def to_lava(net, duration, *, connection="dense", learning="float",
            trace_impulse=TRACE_IMPULSE, rng_seed=0, rewards=None):
    """Build Lava processes equivalent to ``net`` for a run of ``duration`` ms.

    Parameters
    ----------
    net : Network
        A network of LoihiLIF populations and spike inputs (see the module notes).
    duration : float
        Length of the run (ms, a multiple of ``net.dt``): inputs and recorders are
        laid out for it.
    connection : {'dense', 'sparse'}
        Lava connection process for delay-free projections.
    learning : {'float', 'fixed'}
        Arithmetic of the plastic projections (``LearningDense``): Lava's floating-point
        learning engine (exact for the rules of :func:`lava_rule_support`), or its
        fixed-point, bit-approximate one (integer traces, 8-bit integer weights,
        stochastic rounding; STDP only, see :func:`stdp_rule`). Neurons keep their own
        precision (neuromorph runs no plasticity onto fixed-point LoihiLIF neurons).
    trace_impulse : int
        Fixed-point learning: integer trace value of neuromorph's trace 1 (1-127).
    rng_seed : int
        Seed of Lava's stochastic rounding in fixed-point learning.
    rewards : dict, optional
        Reward signal name -> sequence of ``(step, reward)``: the rewards R-STDP
        projections receive, each delivered before ``step`` runs, as
        ``signal.deliver(reward)`` with ``net.step == step`` would (baseline included).

    Returns
    -------
    LavaNetwork
    """
    from ..._checks import steps as to_steps
    fixed = _check_network(net, connection, trace_impulse, learning)
    unknown = sorted(set(rewards or {}) - {m.name for m in net.modulators})
    if unknown:
        raise ValueError(f"rewards names no reward signal of the network: {unknown}")
    if isinstance(rng_seed, bool) or not isinstance(rng_seed, (int, np.integer)) or rng_seed < 0:
        raise ValueError(f"rng_seed must be a non-negative integer, got {rng_seed!r}")
    n_steps = to_steps("duration", duration, net.dt, minimum=1)
    L = _lava()
    out = LavaNetwork(net, {}, {}, {}, {}, fixed, n_steps, learning=learning)
    # created by run(), removed after it: an unrun export leaves nothing on disk
    out._dir = os.path.join(tempfile.gettempdir(), f"neuromorph-lava-{uuid.uuid4().hex}")
    schedule = bias_schedule(net)
    first = schedule[0][1] if schedule else {}
    for p in net.populations:
        if describe(p.model).lava == "lif":
            m = p.model
            cast = (lambda x: np.rint(x).astype(np.int32)) if fixed else (lambda x: x.copy())
            mant, exp = m.bias_mant, m.bias_exp
            if p.name in first:  # per-neuron biases (step currents)
                mant, exp = bias_parts(first[p.name], fixed)
            out.neurons[p.name] = L.LIF(shape=(p.size,), u=cast(p.state["u"]),
                                        v=cast(p.state["v"]), du=m.du, dv=m.dv, vth=m.vth,
                                        bias_mant=mant, bias_exp=exp, name=p.name)
        else:
            steps, idx = _input_spikes(net, p, n_steps)
            data = np.zeros((p.size, n_steps), np.int32 if fixed else np.float64)
            data[idx, steps] = 1
            out.sources[p.name] = L.RingBuffer(data=data)
            out.input_spikes[p.name] = (steps, idx)
    ports = {name: proc.s_out for name, proc in {**out.neurons, **out.sources}.items()}
    for pr in net.projections:
        procs = []
        if pr.plasticity is not None:
            lif = out.neurons[pr.post.population.name]
            r = pr.plasticity
            (w, _), = _weight_blocks(pr, False)
            rule_form = describe(r).lava
            if rule_form == "rstdp":
                dt_str, dw_str = rstdp_rule(pr, learning == "fixed")
                a_plus, a_minus = _rstdp_amplitudes(r)
                rule = L.Loihi3FLearningRule(dt=dt_str, dw=dw_str, x1_impulse=a_plus,
                                             x1_tau=r.tau_pre / net.dt, t_epoch=1)
                conn = L.LearningDense(weights=w, learning_rule=rule, name=pr.name,
                                       weight_bounds=(r.w_min, r.w_max),
                                       **_sign_mode(pr, False, L))
                gain, y3 = _third_factor_series(net, pr, n_steps, rewards)
                third = L.ThirdFactor(shape=lif.s_out.shape,
                                      decay_post=np.exp(-net.dt / r.tau_post),
                                      a_minus=a_minus, gain=gain, y3=y3)
                lif.s_out.connect(third.s_in)
                third.s_bap.connect(conn.s_in_bap)
                third.y1_out.connect(conn.s_in_y1)
                third.y2_out.connect(conn.s_in_y2)
                third.y3_out.connect(conn.s_in_y3)
                out.third_factors[pr.name] = third
            elif rule_form == "triplet":
                dw_str, imp = triplet_rule(pr, learning == "fixed")
                _warn_clip_schedule(pr)
                rule = L.Loihi2FLearningRule(
                    dw=dw_str, x1_tau=r.tau_plus / net.dt, x2_tau=r.tau_x / net.dt,
                    y1_tau=r.tau_minus / net.dt, y2_tau=1e-3, y3_tau=r.tau_y / net.dt,
                    t_epoch=1, **imp)
                conn = L.LearningDense(weights=w, learning_rule=rule, name=pr.name,
                                       weight_bounds=(r.w_min, r.w_max),
                                       **_sign_mode(pr, False, L))
                lif.s_out.connect(conn.s_in_bap)
            else:
                fixed_lrn = learning == "fixed"
                if not fixed_lrn:
                    _warn_clip_schedule(pr)
                if fixed_lrn:  # amplitudes in dw
                    dw_str = stdp_rule(pr, True, trace_impulse)
                    imp = dict(x1_impulse=trace_impulse, y1_impulse=trace_impulse,
                               y2_impulse=trace_impulse, y3_impulse=0.0)
                else:  # amplitudes in the impulses
                    dw_str, imp = _stdp_float(pr)
                rule = L.Loihi2FLearningRule(
                    dw=dw_str, x1_tau=r.tau_pre / net.dt, x2_tau=r.tau_pre / net.dt,
                    y1_tau=r.tau_post / net.dt,
                    y2_tau=1e-3, y3_tau=1e-3,  # exp(-1000) == 0: this step's spike only
                    t_epoch=1, rng_seed=rng_seed, **imp)
                if fixed_lrn:
                    w = np.rint(w).astype(np.int32)
                conn = L.LearningDense(weights=w, learning_rule=rule, name=pr.name,
                                       weight_bounds=None if fixed_lrn else (r.w_min, r.w_max),
                                       **_sign_mode(pr, fixed_lrn, L))
                lif.s_out.connect(conn.s_in_bap)
            ports[pr.pre.population.name].connect(conn.s_in)
            conn.a_out.connect(lif.a_in)
            out.connections[pr.name] = [conn]
            out.plastic[pr.name] = conn
            continue
        for w, d in _weight_blocks(pr, fixed):
            e = {}
            if fixed:  # 8-bit mantissas and the block's exponent (weight_exp)
                exp = weight_exponent(w)
                if exp:
                    w, e = w / 2**exp, {"weight_exp": exp}
            if d.any():
                conn = L.DelayDense(weights=w, delays=d, name=pr.name, **e)
            elif connection == "sparse":
                import scipy.sparse as sp
                conn = L.Sparse(weights=sp.csr_matrix(w), name=pr.name, **e)
            else:
                conn = L.Dense(weights=w, name=pr.name, **e)
            ports[pr.pre.population.name].connect(conn.s_in)
            conn.a_out.connect(out.neurons[pr.post.population.name].a_in)
            procs.append(conn)
        out.connections[pr.name] = procs
    monitored = {}
    for m in net.monitors:
        pop = m.target.population
        if describe(pop.model).lava == "lif":
            monitored[pop.name] = monitored.get(pop.name, False) or isinstance(m, StateMonitor)
    for name, read_state in monitored.items():
        lif = out.neurons[name]
        rec = L.Recorder(shape=lif.s_out.shape, path=os.path.join(out._dir, f"{name}.npz"),
                         n_steps=n_steps, read_state=read_state)
        lif.s_out.connect(rec.s_in)
        rec.v_ref.connect_var(lif.v)
        rec.u_ref.connect_var(lif.u)
        out.recorders[name] = rec
    prev = dict(first)
    for step, now in schedule[1:]:
        if step >= n_steps:
            break
        for name, total in now.items():
            if np.array_equal(total, prev[name]):
                continue
            mant, exp = bias_parts(total, fixed)
            out.set_at(step, out.neurons[name].bias_mant, mant)
            out.set_at(step, out.neurons[name].bias_exp, exp)
            prev[name] = total
    return out
