r"""The same network on NEST (``nest-simulator`` 3.10): threads here, MPI on a cluster.

:func:`to_nest` reads a :class:`~neuromorph.network.Network` description and builds it
in NEST's kernel; :func:`run_nest` builds, runs and returns monitors of the same
classes ``net.run`` fills (in ``net.monitors`` order) and the weights of the plastic
projections after the run, like :func:`~neuromorph.backends.lava.run_lava`. The
neuromorph network is never modified and the engine's internals are never read.

Mapping (neuromorph: ms, mV, Hz, weights in mV; NEST: ms, mV, pA, pF)
-----------------------------------------------------------------------
Every population and rule is translated by the ``nest`` hook of its description
(:mod:`neuromorph.descriptions`).

* **LIF** -> ``iaf_psc_exp`` (exact integration, the same propagators): ``tau_m``,
  ``E_L = v_rest``, ``V_reset``, ``V_th``, ``tau_syn_ex/in``, ``V_m = pop.v`` (``v_init``),
  membrane capacitance ``C_m =`` :data:`C_M` pF. neuromorph's currents are in mV (the
  voltage they would hold the membrane at), NEST's in pA: a weight or step current of
  ``x`` mV is ``x * C_m / tau_m`` pA (the membrane resistance is ``tau_m / C_m`` GOhm).
  Refractoriness: neuromorph integrates a neuron again ``n_ref = t_ref / dt`` steps
  after its spike (Brian2's convention: the reset value is the start of the next step),
  NEST holds ``V_m`` for ``t_ref / h`` steps after the spike step, so NEST's ``t_ref``
  is ``max(t_ref - dt, 0)``. Threshold: neuromorph fires on ``v > v_th``, NEST on
  ``V_m >= V_th`` (they differ only when ``v`` lands exactly on the threshold).
  **Step currents** set ``I_e``: the run is cut at every step where a current starts
  or stops and ``I_e`` is set between the pieces (exact, no generator delay).
  Adaptive thresholds (``theta_plus > 0``) and initial synaptic currents other than 0
  have no ``iaf_psc_exp`` counterpart.
* **Spike sources** -> ``spike_generator`` -> ``parrot_neuron`` (one each per neuron):
  the parrots are the sources of every projection, so every target sees the same
  train and plastic synapses (which a generator cannot be the source of) work.
* **Poisson** inputs: ``poisson='exact'`` (default) replays neuromorph's own trains
  (same seed, same spikes as ``net.run``) through ``spike_generator`` -> parrots;
  ``poisson='generator'`` uses one ``poisson_generator`` per neuron -> parrot (NEST's
  random numbers, seeded from ``net.seed``; statistically, not spike-for-spike, equal).
* **Projections** -> explicit connections (``connectivity='explicit'``): the same
  synapses, weights (pA) and delays; or ``connectivity='rules'``: NEST's own rules for
  the projections neuromorph drew from one (see :func:`to_nest`), so that each MPI rank
  creates only its own synapses.

Time and delays. NEST stamps a spike at the *end* of the step it was emitted in and
its minimum delay is one step ``h = dt``; neuromorph reports the step a spike was
emitted in and a delay-0 synapse acts on the next step's integration. To let inputs
(and delay-0 synapses from them) act from neuromorph's step 0, NEST runs
:data:`OFFSET` = 2 extra steps first with the LIF neurons frozen; then neuromorph's
step ``s`` is NEST's step ``s + 2``. A synapse of ``d`` steps becomes:

* from an input population (parrot): NEST delay ``d + 1`` steps (the parrots fire one
  step before the spike is due) -- **every** delay, 0 included, is exact;
* from LIF neurons: NEST delay ``d`` steps, exact for ``d >= 1``. A delay of 0 between
  LIF neurons has no NEST equivalent: ``zero_delay='warn'`` (default) maps it to one
  step and warns, ``'one_step'`` does so silently, ``'error'`` raises
  :class:`UnsupportedFeature`. Spikes then arrive one step later than in neuromorph.

With that, a deterministic network (spike sources or ``poisson='exact'``, delays >= 1
step between LIF neurons) gives the same spikes at the same steps, on any number of
threads (tests: >= 99 % identical; the rest are threshold ties of rounding).

Plasticity
----------
**STDP** -> ``stdp_synapse`` (one copied synapse model per projection). NEST's weights
are bounded in ``[0, Wmax]``, so the rule must have ``w_min = 0``; ``Wmax = w_max``
(pA), ``lambda = a_plus / w_max``, ``alpha = -a_minus / a_plus``, ``mu_plus =
mu_minus`` = the rule's exponent (0 additive, 1 multiplicative, ``power``), NEST's
``tau_plus = tau_pre`` and the post neurons' ``tau_minus = tau_post`` (so every plastic
projection onto a population must share ``tau_post``). Differences, stated exactly:

1. *Pair timing.* NEST treats the whole delay ``D`` as dendritic and times pairs at
   the synapse: a pre spike stamped ``t_pre`` pairs with a post spike stamped
   ``t_post`` at the lag ``t_post + D - t_pre``. neuromorph pairs at the presynaptic
   neuron's firing step. The NEST lag is therefore the neuromorph lag plus ``k`` steps,
   ``k = d + 2`` for input sources and ``k = D`` for LIF sources; the amplitudes are
   compensated exactly (``lambda * exp(k dt / tau_pre)``, depression ``* exp(-k dt /
   tau_post)``), so every pair is weighted as in neuromorph **except the pairs whose
   post spike precedes the pre spike by 1..k steps** (``s_post - s_pre`` in
   ``[-k, -1]``): NEST potentiates ``s_post - s_pre > -k`` and ignores ``= -k``, where
   neuromorph depresses. A post spike in the same step as a pre spike (lag 0) is
   potentiation in both. Free-running, these pairs tilt the balance of potentiation
   and depression towards potentiation: in Song et al.'s 1000 -> 1 network the output
   neuron fires more on NEST (20 s: +14 % at dt = 0.1 ms, k = 2; -4 % at dt = 0.025 ms;
   +185 % with a 0.5 ms input delay, k = 7; with plasticity off the spikes are
   identical). The window is ``k dt`` ms: a smaller ``dt`` shrinks it.
2. *When the weight changes.* NEST applies the facilitation of post spikes only when
   the next pre spike reaches the synapse; the weight a NEST spike delivers is the
   weight *after* that spike's own depression (neuromorph's is before it). The
   weights :func:`run_nest` returns are NEST's: those after each synapse's last
   delivered pre spike (NEST delivers all spikes emitted in the run: the neurons are
   frozen for a few steps after it). Compare them with neuromorph's at a moment when
   no post spike happened since each synapse's last pre spike (the tests send a last
   pre spike after the final post spike), or expect the difference of the pending
   facilitation.
3. ``clip='step'`` runs as ``'update'`` (NEST clips after each update; they differ
   only for same-step pairs that cross a bound).

**Nearest-spike STDP** (``pairing='nearest'``: both traces reset to 1 at a spike) ->
``stdp_nn_symm_synapse`` (Morrison et al. 2008's symmetric nearest-neighbour scheme,
the same traces), with the parameters and differences of STDP above, and one more:
NEST's synapse starts with its last pre spike at time 0, so post spikes before a
synapse's first pre spike are paired with that phantom spike (neuromorph: no pre
trace yet, no change). (NEST's other nearest-neighbour synapses pair differently:
``stdp_nn_pre_centered_synapse`` potentiates with all pre spikes since the previous
post spike, its pre trace reset to 0 at a post spike; ``stdp_nn_restr_synapse`` uses a
spike in at most one potentiation and one depression pair.)
``x_tar`` (a target presynaptic trace) has no NEST synapse counterpart, nor have
negative bounds: ``stdp_synapse`` keeps a weight's sign, and with ``Wmax < 0`` its
pre-before-post update grows ``|w|`` where neuromorph moves ``w`` up (towards 0);
both raise :class:`UnsupportedFeature`.

**Triplet STDP** -> ``stdp_triplet_synapse``: ``Aplus = a2_plus``, ``Aplus_triplet =
a3_plus``, ``Aminus = -a2_minus``, ``Aminus_triplet = -a3_minus`` (pA), ``tau_plus``,
``tau_plus_triplet = tau_x``, post neurons' ``tau_minus`` and ``tau_minus_triplet =
tau_y``; the same timing compensation and differences as STDP (the slow traces are
read at each neuron's own spikes, which the shift does not move).

**R-STDP** -> ``stdp_dopamine_synapse`` (Izhikevich 2007; Potjans et al. 2010) with
one ``volume_transmitter`` per reward signal. The two are the same model where the
rule is additive and all-to-all (NEST's eligibility ``c`` jumps by ``A_plus K_plus``
/ ``-A_minus K_minus`` without weight dependence, its pre trace is all-to-all, and
there is no ``x_tar``): ``dw/dt = (n - b) c`` with ``b = 0``, ``tau_c = tau_elig``,
``tau_plus = tau_pre``, post neurons' ``tau_minus = tau_post``, ``Wmin/Wmax = w_min,
w_max`` (pA; negative bounds included). The rewards are a schedule
(``run_nest(..., rewards={signal: [(t_ms, r), ...]})``, each delivered before the step
at ``t``, as ``signal.deliver(r)`` there; :func:`run_with_rewards` runs the same on
neuromorph's engine; a baseline ``baseline_rate`` is applied to the schedule in time
order). A reward of ``m q`` becomes a dopamine spike of multiplicity ``m`` (a
``spike_generator`` -> ``parrot_neuron`` -> ``volume_transmitter``, at NEST time ``(s
+ REWARD_LAG) dt`` for neuromorph step ``s``), so rewards must be ``>= 0`` and integer
multiples of one quantum ``q`` (NEST's ``n`` is driven by spike counts);
concentration mode (``tau_dopamine``): ``tau_n = tau_dopamine``, NEST's ``n = d /
(q tau_n)``, ``A_plus = a_plus gain lr q tau_n``, ``A_minus = -a_minus gain lr q
tau_n``; phasic mode: a pulse with ``tau_n =`` :data:`PHASIC_TAU_N` steps, whose
integral is ``m``, and the amplitudes ``gain lr q (tau_c + tau_n) / tau_c`` (``c``
decays during the pulse). Timing (event-driven NEST vs. neuromorph's steps, both in
closed form between events): NEST adds a post spike's eligibility ``D`` steps after
the spike, relative to the rewards, and an input source's pre spike one step before
it (LIF sources: at the same step); the amplitudes carry ``exp(-D dt / tau_c)`` and
``exp(+dt / tau_c)`` besides STDP's pair-lag factors, so the eligibility is the same
once the shifted event happened. Hence:

* **the same weights** (tests: within 1e-6, measured ~1e-12 relative) when no dopamine
  is present in those windows: pairings first, rewards later (Izhikevich's distal
  reward), with STDP's pair exclusion (post spikes 1..k steps before a pre spike); a
  phasic reward differs only when it comes 1..D-1 steps after a post spike (then
  NEST's weight misses that spike's ``lr r`` potentiation) or when a pre spike falls
  in the reward's step (or, from an input source, the step after it: NEST's weight
  already has its depression);
* **otherwise close**: dopamine present while the neurons fire (concentration mode),
  the weights integrate neuromorph's eligibility during those short windows and NEST's
  without the shifted jump (test: learned changes within 5 %, relative L2; measured
  0.3 % from inputs, 1.0 % through 1 ms delays).

NEST updates a dopamine synapse at its pre spikes and whenever the volume transmitter
delivers (every step here); the weights :func:`run_nest` returns are NEST's at the end
of the drain run back in closed form to neuromorph's end of run (``w - c n tau_s
(exp(Delta / tau_s) - 1)``, ``1/tau_s = 1/tau_c + 1/tau_n``): exact unless a post spike
in the last ``D`` steps adds eligibility after that moment or a weight reaches a bound
within the drain (it is returned at the bound). Not mapped (:class:`UnsupportedFeature`):
multiplicative/power dependence, nearest-spike pairing, ``x_tar``, negative rewards
(a dopamine dip; ``b > 0`` would make one, but it acts all the time), rewards that are
not multiples of one quantum.

Monitors: :class:`SpikeMonitor`, :class:`RateMonitor` and :class:`StateMonitor` of
``v``, ``I_exc``, ``I_inh`` (mV; a ``multimeter``) are returned; weight monitors are
refused (weights are read once, after the run).

Not mappable (one :class:`UnsupportedFeature` listing every such part, raised before
NEST is imported or touched): LoihiLIF populations, adaptive thresholds, non-zero
initial synaptic currents, the rule variants above, networks that have already run
(``net.step != 0``), weight monitors.

NEST failures (e.g. a ``dt`` NEST's clock cannot represent) raise
:class:`~neuromorph.errors.NestError` carrying NEST's message; the network is
unchanged (nothing of it is ever written).

MPI: with an MPI-enabled NEST (conda-forge ``nest-simulator``, or an HPC site's), the
same script runs under ``mpirun -n K``; each rank holds its own neurons' spikes, and
:mod:`neuromorph.backends.nest_mpi` gathers or merges them. The pip wheel used here
has no MPI.

Examples
--------
>>> import numpy as np, neuromorph as nm
>>> from neuromorph.backends.nest import run_nest
>>> net = nm.Network(dt=0.1, seed=0)
>>> src = net.spike_source(2, indices=np.array([0, 1]), times=np.array([1.0, 2.0]))
>>> P = net.lif(3, v_rest=-65.0, v_reset=-70.0, v_th=-50.0)
>>> _ = net.connect(src, P, w=60.0)
>>> mon = net.spike_monitor(P)
>>> res = run_nest(net, 20.0, threads=2)            # doctest: +SKIP
>>> res.monitors[0].t                               # doctest: +SKIP
"""
from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import _checks
from ..descriptions import describe, hook
from ..errors import NestError, UnsupportedFeature, all_problems
from ..monitors import RateMonitor, SpikeMonitor, StateMonitor, WeightMonitor
from ..network import check_network
from ._inputs import input_spikes

__all__ = ["to_nest", "run_nest", "run_with_rewards", "under_mpi", "NestNetwork", "NestResult",
           "UnsupportedFeature", "NestError", "C_M", "OFFSET"]

#: Membrane capacitance (pF) of every ``iaf_psc_exp`` neuron: x mV = x * C_M / tau_m pA.
C_M = 250.0
#: NEST steps run before neuromorph's step 0 (LIF neurons frozen; see the module notes).
OFFSET = 2
#: NEST's ``tau_n`` (in steps) standing for a phasic reward: a pulse over within a step.
PHASIC_TAU_N = 1e-3
#: NEST time (steps) of a reward delivered before neuromorph's step ``s``: ``s + REWARD_LAG``
#: (a spike_generator at ``s + 1`` -> parrot -> volume_transmitter, one step each).
REWARD_LAG = 3
POISSON_MODES = ("exact", "generator")
CONNECTIVITY_MODES = ("explicit", "rules")
#: How ``connectivity='rules'`` draws a projection made with ``net.connect(..., p=...)``.
BERNOULLI_RULES = ("pairwise_bernoulli", "fixed_indegree")
ZERO_DELAY_MODES = ("warn", "one_step", "error")
#: Variables a state monitor can read from NEST and the NEST recordable of each.
_RECORDABLE = {"v": "V_m", "I_exc": "I_syn_ex", "I_inh": "I_syn_in"}


def _nest():
    """The ``nest`` module, imported quietly (no banner, errors only).

    OpenMP threads wait passively unless ``OMP_WAIT_POLICY`` says otherwise: NEST
    synchronises its threads every ``min_delay`` (here often one step), and spinning
    threads on a shared machine slow a 2-thread run by 100x (measured here: 38 s
    instead of 0.2 s). On a dedicated node ``OMP_WAIT_POLICY=ACTIVE`` may be faster.
    """
    os.environ.setdefault("PYNEST_QUIET", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nest
    nest.verbosity = nest.VerbosityLevel.ERROR
    return nest


def _nest_errors(nest):
    kinds = [nest.NESTErrors.KernelException]
    if isinstance(getattr(nest, "NESTError", None), type):
        kinds.append(nest.NESTError)
    return tuple(kinds)


# -- rules: translation of each plastic projection (keyed by the rule's ``nest`` hook) ------
def _shift(pr, net):
    """``(D, k)``: NEST delay steps of every synapse and the pair-lag shift ``k`` of a
    plastic projection (see the module notes)."""
    d = pr.delay_steps.astype(np.int64)
    if describe(pr.pre.population.model).simulated:
        D = np.maximum(d, 1)
        return D, D
    return d + 1, d + 2


def _stdp_problems(pr):
    r, out = pr.plasticity, []
    if r.w_min != 0 or r.w_max <= 0:
        out.append(f"projection {pr.name!r}: NEST's stdp_synapse bounds weights to "
                   f"[0, Wmax] and keeps each weight's sign (with Wmax < 0 its "
                   f"pre-before-post update grows |w|, where this rule moves w up); the "
                   f"rule has [w_min, w_max] = [{r.w_min}, {r.w_max}] "
                   f"(use w_min=0, w_max>0)")
    if r.x_tar != 0:
        out.append(f"projection {pr.name!r}: x_tar={r.x_tar} (a target presynaptic trace) "
                   f"has no stdp_synapse counterpart")
    if r.a_plus == 0 and r.a_minus != 0:
        out.append(f"projection {pr.name!r}: a_plus=0 with a_minus != 0 cannot be written "
                   f"as stdp_synapse's lambda * alpha")
    return out


def _stdp_params(pr, net, gain, k_shift):
    """Synapse-model defaults of an STDP projection (one ``k`` for all its synapses)."""
    r = pr.plasticity
    lam = r.a_plus / r.w_max * np.exp(k_shift * net.dt / r.tau_pre)
    dep = -r.a_minus / r.w_max * np.exp(-k_shift * net.dt / r.tau_post)
    return {"tau_plus": r.tau_pre, "lambda": lam, "alpha": dep / lam if lam else 0.0,
            "mu_plus": r.mu, "mu_minus": r.mu, "Wmax": r.w_max * gain}, \
        {"tau_minus": r.tau_post}


def _triplet_problems(pr):
    r = pr.plasticity
    if r.w_min != 0 or r.w_max <= 0:
        return [f"projection {pr.name!r}: NEST's stdp_triplet_synapse bounds weights to "
                f"[0, Wmax]; the rule has [w_min, w_max] = [{r.w_min}, {r.w_max}]"]
    return []


def _triplet_params(pr, net, gain, k_shift):
    r = pr.plasticity
    up, down = np.exp(k_shift * net.dt / r.tau_plus), np.exp(-k_shift * net.dt / r.tau_minus)
    return {"tau_plus": r.tau_plus, "tau_plus_triplet": r.tau_x,
            "Aplus": r.a2_plus * gain * up, "Aplus_triplet": r.a3_plus * gain * up,
            "Aminus": -r.a2_minus * gain * down, "Aminus_triplet": -r.a3_minus * gain * down,
            "Wmax": r.w_max * gain}, \
        {"tau_minus": r.tau_minus, "tau_minus_triplet": r.tau_y}


def _rstdp_problems(pr):
    r, out = pr.plasticity, []
    if r.weight_dependence != "additive":
        out.append(f"projection {pr.name!r}: R-STDP with weight_dependence="
                   f"{r.weight_dependence!r}; stdp_dopamine_synapse's eligibility is "
                   f"additive (use weight_dependence='additive')")
    if r.pairing != "all_to_all":
        out.append(f"projection {pr.name!r}: R-STDP with pairing={r.pairing!r}; "
                   f"stdp_dopamine_synapse pairs all to all")
    if r.x_tar != 0:
        out.append(f"projection {pr.name!r}: x_tar={r.x_tar} (a target presynaptic trace) "
                   f"has no stdp_dopamine_synapse counterpart")
    return out


def _signal_of(pr, net):
    """The reward signal of an R-STDP projection as neuromorph's engine picks it: its
    ``modulator``, else the network's only signal (None if it has none or several)."""
    if pr.modulator is not None:
        return pr.modulator
    return net.modulators[0] if len(net.modulators) == 1 else None


def _tau_n(pr, net):
    """NEST's ``tau_n`` (ms) of an R-STDP projection: the dopamine decay, or, for a
    phasic signal, :data:`PHASIC_TAU_N` steps (a dopamine pulse that ends within the
    step, see the module notes)."""
    m = _signal_of(pr, net)
    return PHASIC_TAU_N * net.dt if m.phasic else m.tau_dopamine


def _rstdp_params(pr, net, gain, k_shift):
    """``stdp_dopamine_synapse`` defaults of an R-STDP projection for one dopamine unit
    (``q = 1``; :func:`_build_projections` scales ``A_plus``/``A_minus`` by the reward
    quantum and sets the volume transmitter).

    neuromorph: ``dw/dt = lr d(t) C``; NEST: ``dw/dt = n(t) c`` with ``n`` jumping by
    ``m / tau_n`` at a dopamine spike of multiplicity ``m = r / q``, so ``n = d / (q
    tau_n)`` and ``c = gain lr q tau_n C``. Phasic rewards (``w += lr r C``) use a
    dopamine pulse of ``tau_n << dt``: ``integral n dt = m``, and ``c`` decays during it
    by ``tau_c / (tau_c + tau_n)``, compensated. The timing shifts (module notes) are
    compensated in the amplitudes: the pair lag ``k`` (as for STDP) and the times NEST
    adds eligibility, ``D`` steps later for post spikes and one step earlier for
    input-source pre spikes than neuromorph relative to the rewards."""
    r, dt = pr.plasticity, net.dt
    tau_c, tau_n = r.tau_elig, _tau_n(pr, net)
    phasic = _signal_of(pr, net).phasic
    scale = gain * r.lr * ((tau_c + tau_n) / tau_c if phasic else tau_n)
    from_input = not describe(pr.pre.population.model).simulated
    D = k_shift - 1 if from_input else k_shift
    pre_lead = 1 if from_input else 0
    a_plus = r.a_plus * scale * np.exp(k_shift * dt / r.tau_pre) * np.exp(-D * dt / tau_c)
    a_minus = -r.a_minus * scale * np.exp(-k_shift * dt / r.tau_post) \
        * np.exp(pre_lead * dt / tau_c)
    return {"tau_plus": r.tau_pre, "tau_c": tau_c, "tau_n": tau_n, "b": 0.0,
            "A_plus": a_plus, "A_minus": a_minus, "Wmin": r.w_min * gain,
            "Wmax": r.w_max * gain}, {"tau_minus": r.tau_post}


def _synapse_model(pr, form):
    """The NEST model a plastic projection's synapses are copied from: its rule's
    ``nest`` hook, or ``stdp_nn_symm_synapse`` for nearest-spike STDP (both traces
    reset to 1 at a spike: Morrison et al. 2008's symmetric nearest-neighbour scheme)."""
    if form == "stdp_synapse" and pr.plasticity.pairing == "nearest":
        return "stdp_nn_symm_synapse"
    return form


#: hook -> (problems(pr), params(pr, net, gain pA/mV, k) -> (synapse, post-neuron params)).
_RULES = {"stdp_synapse": (_stdp_problems, _stdp_params),
          "stdp_triplet_synapse": (_triplet_problems, _triplet_params),
          "stdp_dopamine_synapse": (_rstdp_problems, _rstdp_params)}


# -- checks -------------------------------------------------------------------------------
def _check_args(threads, poisson, connectivity, zero_delay,
                bernoulli_rule="pairwise_bernoulli"):
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an integer >= 1, got {threads!r}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1 (NEST's local_num_threads), got {threads}")
    for name, value, allowed in (("poisson", poisson, POISSON_MODES),
                                 ("connectivity", connectivity, CONNECTIVITY_MODES),
                                 ("zero_delay", zero_delay, ZERO_DELAY_MODES),
                                 ("bernoulli_rule", bernoulli_rule, BERNOULLI_RULES)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def _reward_schedule(net, rewards, n_steps):
    """``{signal name: (steps, amounts)}``: the rewards each R-STDP signal delivers in a
    run of ``n_steps`` steps, as neuromorph's engine would apply them.

    ``rewards`` maps a :class:`~neuromorph.modulation.RewardSignal` (or its name: a
    signal of a copy of the network counts by name) to a
    sequence of ``(time_ms, reward)`` pairs; a reward at ``t`` is delivered before step
    ``t / dt`` (what ``signal.deliver(r)`` does when ``net.step == t / dt``). Rewards
    already delivered and pending count at step 0. With a ``baseline_rate`` the amounts
    are the reward-prediction errors, computed in time order from ``signal.r_bar``."""
    by_name = {m.name: m for m in net.modulators}
    given = {}
    if rewards is not None:
        if not hasattr(rewards, "items"):
            raise TypeError(f"rewards must be a mapping of reward signal (or its name) -> "
                            f"[(time_ms, reward), ...], got {type(rewards).__name__}")
        for key, pairs in rewards.items():
            name = getattr(key, "name", key)
            if not isinstance(name, str) or name not in by_name:
                raise ValueError(f"rewards: {key!r} is not a reward signal of this network "
                                 f"(signals: {sorted(by_name)})")
            rows = []
            for pair in pairs:
                if len(pair) != 2:
                    raise ValueError(f"rewards[{name!r}] must hold (time_ms, reward) pairs, "
                                     f"got {pair!r}")
                t = _checks.real(f"rewards[{name!r}] time", pair[0])
                step = int(round(t / net.dt))
                if abs(step * net.dt - t) > 1e-6 * net.dt or not 0 <= step < n_steps:
                    raise ValueError(f"rewards[{name!r}]: time {t} ms must be a multiple of "
                                     f"dt = {net.dt} ms in [0, duration)")
                rows.append((step, _checks.real(f"rewards[{name!r}] reward", pair[1])))
            given[name] = sorted(rows, key=lambda x: x[0])
    out = {}
    for m in net.modulators:
        steps, amounts = ([0], [m._pending]) if m._pending else ([], [])
        r_bar = m.r_bar
        for step, r in given.get(m.name, []):
            amount = r - r_bar if m.baseline_rate is not None else r
            if m.baseline_rate is not None:
                r_bar += m.baseline_rate * (r - r_bar)
            if steps and steps[-1] == step:
                amounts[-1] += amount
            else:
                steps.append(step)
                amounts.append(amount)
        out[m.name] = (np.asarray(steps, np.int64), np.asarray(amounts, float))
    return out


def _reward_quantum(name, amounts):
    """``(q, multiplicities, problems)``: NEST's dopamine spikes have integer
    multiplicities, so every reward must be ``m q`` for one quantum ``q > 0`` and integers
    ``m >= 0`` (``q`` = the smallest positive reward)."""
    amounts = amounts[amounts != 0]
    if not len(amounts):
        return 1.0, np.zeros(0, np.int64), []
    if amounts.min() < 0:
        return 1.0, None, [f"reward signal {name!r}: negative rewards (reward-prediction "
                           f"errors below 0) have no stdp_dopamine_synapse counterpart "
                           f"(its dopamine n >= 0 is driven by spikes)"]
    q = float(amounts.min())
    m = amounts / q
    if np.any(np.abs(m - np.rint(m)) > 1e-9 * m) or m.max() > 1e6:
        return q, None, [f"reward signal {name!r}: rewards {np.unique(amounts)[:5]} are not "
                         f"integer multiples of one quantum; NEST's dopamine spikes carry "
                         f"integer multiplicities"]
    return q, np.rint(m).astype(np.int64), []


def _zero_delay_projections(net):
    """Projections between LIF neurons with some delay-0 synapse."""
    return [pr for pr in net.projections
            if describe(pr.pre.population.model).simulated and pr.n_synapses
            and pr.delay_steps.min() == 0]


def _check_network(net, connectivity, zero_delay, schedule=None):
    """Every reason the network cannot run on NEST, raised at once."""
    check_network(net)
    problems = []
    used = {_signal_of(pr, net).name for pr in net.projections if pr.plasticity is not None
            and describe(pr.plasticity).needs_modulator and _signal_of(pr, net) is not None}
    for name, (_, amounts) in (schedule or {}).items():
        if name in used:
            problems += _reward_quantum(name, amounts)[2]
    if net.step != 0:
        problems.append(f"the network has already run ({net.step} steps): spikes in flight "
                        f"and traces live in the engine; run a freshly built network")
    for p in net.populations:
        desc = describe(p.model, None)
        if getattr(desc, "nest", None) is None:
            hint = getattr(desc, "nest_hint", None)
            problems.append(f"population {p.name!r} {hint}" if hint else
                            f"population {p.name!r} ({type(p.model).__name__}) has no NEST "
                            f"mapping")
            continue
        problems += [f"population {p.name!r} {why}" for why in desc.nest_problems(p.model)]
        if desc.simulated and (np.any(p.state["I_exc"] != 0) or np.any(p.state["I_inh"] != 0)):
            problems.append(f"population {p.name!r} starts with non-zero synaptic currents; "
                            f"NEST's iaf_psc_exp starts them at 0")
    post_params = {}
    for pr in net.projections:
        if pr.plasticity is None:
            continue
        form = hook(pr.plasticity, "nest")
        if form not in _RULES:
            problems.append(f"projection {pr.name!r}: plasticity "
                            f"{type(pr.plasticity).__name__} has no NEST mapping here"
                            + (f" ({form} is not mapped yet)" if form else ""))
            continue
        rule_problems, params = _RULES[form]
        found = rule_problems(pr)
        if form == "stdp_dopamine_synapse" and _signal_of(pr, net) is None:
            found.append(f"projection {pr.name!r} uses R-STDP without a reward signal: give "
                         f"it modulator=... or create exactly one net.reward_signal() (the "
                         f"network has {len(net.modulators)})")
        problems += found
        if found:
            continue
        _, post = params(pr, net, 1.0, 0)
        pop = pr.post.population.name
        for key, value in post.items():
            old = post_params.setdefault(pop, {}).setdefault(key, (value, pr.name))
            if old[0] != value:
                problems.append(f"projections {old[1]!r} and {pr.name!r} need {key}="
                                f"{old[0]} and {value} on population {pop!r}: NEST keeps "
                                f"{key} in the postsynaptic neuron")
    if zero_delay == "error":
        problems += [f"projection {pr.name!r} joins LIF neurons with delay 0; NEST's "
                     f"minimum delay is one step (zero_delay='one_step' maps it to dt)"
                     for pr in _zero_delay_projections(net)]
    if connectivity == "rules":
        for pr in net.projections:
            if _rule_of(pr) is None:
                problems.append(f"projection {pr.name!r} was not drawn from a connectivity "
                                f"rule (connectivity='rules' needs net.connect(..., p=...), "
                                f"all-to-all or one-to-one)")
            elif pr.w_const is None or pr.delay_const is None or pr.plasticity is not None:
                problems.append(f"projection {pr.name!r}: connectivity='rules' maps static "
                                f"projections with one weight and one delay (NEST draws "
                                f"the synapses, so per-synapse values and learned weights "
                                f"have no counterpart in neuromorph's synapse order)")
    for m in net.monitors:
        if isinstance(m, WeightMonitor):
            problems.append(f"weight monitor of projection {m.target.name!r}: NEST's weights "
                            f"are read once, after the run (NestResult.weights)")
        elif isinstance(m, StateMonitor) and m.var not in _RECORDABLE:
            problems.append(f"state monitor of {m.var!r}: NEST records {list(_RECORDABLE)}")
    if problems:
        raise all_problems(problems, "run on NEST",
                           "NEST runs a freshly built network of LIF neurons (fixed "
                           "threshold), spike sources and Poisson inputs, static, STDP and "
                           "triplet-STDP projections (w_min = 0), additive all-to-all "
                           "R-STDP with non-negative commensurate rewards, and spike, rate "
                           "and state monitors.")
    return {pop: {key: value for key, (value, _) in params.items()}
            for pop, params in post_params.items()}


def _rule_of(pr):
    """The connectivity rule a projection was drawn from (``net.connect`` records it), or
    None."""
    return getattr(pr, "connectivity", None)


# -- the built model ---------------------------------------------------------------------
@dataclass
class NestNetwork:
    """A network built in NEST's kernel by :func:`to_nest` (run it with :meth:`run`).

    Attributes
    ----------
    net : Network
        The network (read, never modified).
    n_steps : int
        Steps the inputs were laid out for.
    neurons : dict
        LIF population name -> ``NodeCollection`` of ``iaf_psc_exp``.
    parrots : dict
        Input population name -> ``NodeCollection`` of ``parrot_neuron`` (what its
        projections send from).
    generators : dict
        Input population name -> its ``spike_generator`` / ``poisson_generator`` nodes.
    synapse_models : dict
        Plastic projection name -> the name of its copied NEST synapse model.
    build_s : float
        Wall-clock time of building (s).
    zero_delay : list of str
        Projections whose delay-0 synapses became one step.
    """

    net: object
    n_steps: int
    threads: int
    neurons: dict = field(default_factory=dict)
    parrots: dict = field(default_factory=dict)
    generators: dict = field(default_factory=dict)
    synapse_models: dict = field(default_factory=dict)
    build_s: float = 0.0
    zero_delay: list = field(default_factory=list)
    poisson: str = "exact"
    rewards: dict = field(default_factory=dict)
    volume_transmitters: dict = field(default_factory=dict)
    _input_trains: dict = field(repr=False, default_factory=dict)
    _recorders: dict = field(repr=False, default_factory=dict)
    _meters: dict = field(repr=False, default_factory=dict)
    _max_delay: int = field(repr=False, default=1)
    _run: bool = field(repr=False, default=False)

    def run(self):
        """Run the ``n_steps`` steps in NEST and read the results back.

        Returns
        -------
        NestResult
        """
        if self._run:
            raise RuntimeError("this NEST model has already run; build a new one with "
                               "to_nest")
        self._run = True
        nest = _nest()
        try:
            return _result(self.net, self.n_steps, _raw(nest, self, _simulate(nest, self)))
        except _nest_errors(nest) as err:
            raise NestError(f"NEST failed while running: {err}") from err


@dataclass
class NestResult:
    """Outcome of :func:`run_nest`.

    Attributes
    ----------
    monitors : list
        For each spike, rate and state monitor of ``net.monitors`` (same order), a new
        monitor object of the same class holding what NEST produced.
    weights : dict
        Plastic projection name -> weights (mV) after the run, in neuromorph's synapse
        order (``proj.sources``, ``proj.targets``); see the module notes for the moment
        NEST's weights stand for.
    wall_s : float
        Wall-clock time of NEST's simulation (s).
    build_s : float
        Wall-clock time of creating and connecting the nodes (s).
    threads : int
        NEST threads used.
    zero_delay : list of str
        Projections whose delay-0 synapses ran with one step.
    connections : int
        Connections NEST created (including the generator -> parrot and recorder ones).
    """

    monitors: list
    weights: dict
    wall_s: float
    build_s: float
    threads: int
    zero_delay: list = field(default_factory=list)
    connections: int = 0


# -- building ----------------------------------------------------------------------------
def _gain(pop):
    """pA per mV of a LIF population (``C_M / tau_m``)."""
    return C_M / pop.model.tau_m


def _spike_times(steps, n, dt):
    """Per-neuron NEST spike times (ms) of input spikes at neuromorph ``steps``: the
    generator fires at ``(s + OFFSET - 1) dt``, so its parrot fires in NEST step
    ``s + OFFSET - 1`` (see the module notes)."""
    steps, idx = steps
    out = [[] for _ in range(n)]
    order = np.lexsort((steps, idx))
    times = np.round((steps[order] + OFFSET - 1) * dt, 9)
    bounds = np.searchsorted(idx[order], np.arange(n + 1))
    return [times[bounds[i]:bounds[i + 1]] for i in range(n)] if len(steps) else out


def _lif_params(pop, dt, extra):
    m = pop.model
    n_ref = int(round(m.t_ref / dt))
    params = {"C_m": C_M, "tau_m": m.tau_m, "E_L": m.v_rest, "V_reset": m.v_reset,
              "V_th": m.v_th, "t_ref": max(n_ref - 1, 0) * dt,
              "tau_syn_ex": m.tau_syn_exc, "tau_syn_in": m.tau_syn_inh, "I_e": 0.0}
    params.update(extra)
    return params


def _build_populations(nest, model, post_params, poisson):
    net, dt = model.net, model.net.dt
    for pop in net.populations:
        form = describe(pop.model).nest
        if form == "iaf_psc_exp":
            nodes = nest.Create("iaf_psc_exp", pop.size,
                                params=_lif_params(pop, dt, post_params.get(pop.name, {})))
            nodes.V_m = np.asarray(pop.state["v"], dtype=float)
            model.neurons[pop.name] = nodes
            continue
        parrots = nest.Create("parrot_neuron", pop.size)
        if form == "poisson_generator" and poisson == "generator":
            gens = nest.Create("poisson_generator", pop.size)
            gens.rate = np.asarray(pop.model.rate, dtype=float)
        else:
            trains = input_spikes(net, pop, model.n_steps)
            model._input_trains[pop.name] = trains
            gens = nest.Create("spike_generator", pop.size)
            gens.set([{"spike_times": t} for t in _spike_times(trains, pop.size, dt)])
        nest.Connect(gens, parrots, "one_to_one", syn_spec={"delay": dt})
        model.generators[pop.name] = gens
        model.parrots[pop.name] = parrots


def _build_modulators(nest, model):
    """One ``volume_transmitter`` per reward signal that drives an R-STDP projection, fed
    by a ``spike_generator`` -> ``parrot_neuron``: a reward of ``m q`` before step ``s``
    is a dopamine spike of multiplicity ``m`` at NEST time ``(s + REWARD_LAG) dt``."""
    net, dt = model.net, model.net.dt
    used = {_signal_of(pr, net).name for pr in net.projections if pr.n_synapses
            and pr.plasticity is not None and describe(pr.plasticity).needs_modulator}
    for name in sorted(used):
        steps, amounts = model.rewards[name]
        q, mult, _ = _reward_quantum(name, amounts)
        keep = amounts != 0
        times = np.round((steps[keep] + REWARD_LAG - 2) * dt, 9)
        gen = nest.Create("spike_generator")
        if len(times):
            gen.set(spike_times=times, spike_multiplicities=[int(x) for x in mult])
        parrot = nest.Create("parrot_neuron")
        vt = nest.Create("volume_transmitter")
        nest.Connect(gen, parrot, syn_spec={"delay": dt})
        nest.Connect(parrot, vt, syn_spec={"delay": dt})
        model.volume_transmitters[name] = (vt, q)


def _nodes(model, pop):
    """The nodes whose spikes a population's projections send (LIF or parrots)."""
    return model.neurons[pop.name] if pop.name in model.neurons else model.parrots[pop.name]


def _source_ids(model, pop):
    nodes = _nodes(model, pop)
    return np.asarray(nodes.tolist(), dtype=np.int64)


def _rule_projection(nest, model, pr, bernoulli_rule="pairwise_bernoulli"):
    """A projection drawn by NEST's own connection rule (``connectivity='rules'``): each
    MPI rank creates only the synapses onto its own neurons. A projection drawn with
    probability ``p`` becomes ``pairwise_bernoulli`` (the same distribution), or with
    ``bernoulli_rule='fixed_indegree'`` NEST's ``fixed_indegree`` with
    ``round(p * n_pre)`` distinct sources per target (the same mean in-degree)."""
    net, dt = model.net, model.net.dt
    spec = dict(_rule_of(pr))
    rule = spec.pop("rule")
    conn = {"rule": rule, "allow_autapses": spec["allow_autapses"]}
    if rule == "pairwise_bernoulli" and bernoulli_rule == "fixed_indegree":
        conn.update(rule="fixed_indegree", allow_multapses=False,
                    indegree=int(round(spec["p"] * (pr.pre.stop - pr.pre.start))))
    elif rule == "pairwise_bernoulli":
        conn["p"] = spec["p"]
    D, _ = _shift(pr, net) if pr.n_synapses else \
        (np.array([max(pr.delay_const, 1)]), None)
    model._max_delay = max(model._max_delay, int(D.max()))
    pre = _nodes(model, pr.pre.population)[pr.pre.start:pr.pre.stop]
    post = _nodes(model, pr.post.population)[pr.post.start:pr.post.stop]
    nest.Connect(pre, post, conn, syn_spec={"synapse_model": "static_synapse",
                                            "weight": pr.w_const * _gain(pr.post.population),
                                            "delay": float(np.round(D[0] * dt, 9))})


def _build_projections(nest, model, zero_delay, connectivity="explicit",
                       bernoulli_rule="pairwise_bernoulli"):
    net, dt = model.net, model.net.dt
    raised = {pr.name for pr in _zero_delay_projections(net)}
    for k, pr in enumerate(net.projections):
        if connectivity == "rules":
            _rule_projection(nest, model, pr, bernoulli_rule)
            continue
        if pr.n_synapses == 0:
            continue
        post = pr.post.population
        gain = _gain(post)
        pre_ids = _source_ids(model, pr.pre.population)[pr.sources + pr.pre.start]
        post_ids = _source_ids(model, post)[pr.targets + pr.post.start]
        D, k_shift = _shift(pr, net)
        model._max_delay = max(model._max_delay, int(D.max()))
        syn = {"synapse_model": "static_synapse"}
        if pr.plasticity is not None:
            form = describe(pr.plasticity).nest
            ks = np.unique(k_shift)
            groups = [(ks_i, k_shift == ks_i) for ks_i in ks]
        else:
            groups = [(None, slice(None))]
        for ks_i, sel in groups:
            if ks_i is not None:
                name = f"neuromorph_{k}_{int(ks_i)}_{form}"
                params, _ = _RULES[form][1](pr, net, gain, int(ks_i))
                if form == "stdp_dopamine_synapse":
                    vt, q = model.volume_transmitters[_signal_of(pr, net).name]
                    params.update(A_plus=params["A_plus"] * q, A_minus=params["A_minus"] * q,
                                  volume_transmitter=vt)
                nest.CopyModel(_synapse_model(pr, form), name, params)
                model.synapse_models.setdefault(pr.name, []).append(name)
                syn = {"synapse_model": name}
            w = np.asarray(pr._weight_values()[sel], dtype=float) * gain
            spec = dict(syn, weight=np.ascontiguousarray(w),
                        delay=np.ascontiguousarray(np.round(D[sel] * dt, 9)))
            nest.Connect(pre_ids[sel], post_ids[sel], "one_to_one", syn_spec=spec)
    if raised and zero_delay == "warn":
        _warn_zero_delay(net, raised)
    model.zero_delay = sorted(raised)


def _warn_zero_delay(net, projections):
    names = sorted(getattr(p, "name", p) for p in projections)
    warnings.warn(f"projections {names} join LIF neurons with delay 0; NEST's minimum "
                  f"delay is one step, so they run with delay dt = {net.dt} ms and their "
                  f"spikes arrive one step later than in neuromorph (zero_delay='one_step' "
                  f"silences this, 'error' refuses)", UserWarning, stacklevel=4)


def _build_monitors(nest, model):
    net, dt = model.net, model.net.dt
    for m in net.monitors:
        pop = m.target.population
        if isinstance(m, (SpikeMonitor, RateMonitor)):
            if pop.name in model._recorders or pop.name in model._input_trains:
                continue
            rec = nest.Create("spike_recorder")
            nest.Connect(_nodes(model, pop), rec)
            model._recorders[pop.name] = rec
        elif isinstance(m, StateMonitor):
            meter = nest.Create("multimeter", params={"interval": dt,
                                                      "record_from": [_RECORDABLE[m.var]]})
            nodes = model.neurons[pop.name]
            ids = np.asarray(nodes.tolist())[m.target.start + m.record]
            nest.Connect(meter, nest.NodeCollection(sorted(set(ids.tolist()))))
            model._meters[id(m)] = (meter, ids)


def to_nest(net, duration, *, threads=1, poisson="exact", connectivity="explicit",
            zero_delay="warn", rewards=None, bernoulli_rule="pairwise_bernoulli"):
    """Build ``net`` in NEST's kernel for a run of ``duration`` ms (resets the kernel).

    Parameters
    ----------
    net : Network
        A freshly built network (see the module notes for what maps).
    duration : float
        Length of the run (ms, a multiple of ``net.dt``).
    threads : int
        NEST threads (``local_num_threads``), >= 1.
    poisson : {'exact', 'generator'}
        Poisson inputs as neuromorph's own trains (spike generators) or as NEST's
        ``poisson_generator``.
    connectivity : {'explicit', 'rules'}
        Explicit synapse lists (the same synapses), or NEST's connection rules for the
        projections drawn from one.
    zero_delay : {'warn', 'one_step', 'error'}
        What to do with delay-0 synapses between LIF neurons (see the module notes).
    bernoulli_rule : {'pairwise_bernoulli', 'fixed_indegree'}
        With ``connectivity='rules'``: NEST's rule for the projections drawn with a
        probability ``p`` (``net.connect(..., p=p)``). ``'pairwise_bernoulli'`` (default)
        is the same distribution as neuromorph's, but NEST draws one random number per
        (source, target) pair: ``n_pre * n_post`` draws (at 256,000 neurons ~75 min per
        thread here). ``'fixed_indegree'`` gives every target ``round(p * n_pre)``
        distinct sources (the same mean in-degree, without its binomial spread): one
        draw per synapse.
    rewards : mapping, optional
        R-STDP rewards of the run: reward signal (or its name) -> ``[(time_ms, reward),
        ...]``, each delivered before the step at ``time_ms`` (what
        ``signal.deliver(reward)`` at that step does; :func:`run_with_rewards` runs the
        same schedule on neuromorph's engine). Rewards must be ``>= 0`` integer multiples
        of one quantum (NEST's dopamine spikes).

    Returns
    -------
    NestNetwork

    Raises
    ------
    TypeError, ValueError
        Bad arguments; :class:`UnsupportedFeature` for what NEST cannot run. Both
        before NEST is imported.
    NestError
        When NEST itself fails (with NEST's message).
    """
    _check_args(threads, poisson, connectivity, zero_delay, bernoulli_rule)
    n_steps = _checks.steps("duration", duration, net.dt, minimum=1)
    schedule = _reward_schedule(net, rewards, n_steps)
    post_params = _check_network(net, connectivity, zero_delay, schedule)
    nest = _nest()
    t0 = time.perf_counter()
    model = NestNetwork(net, n_steps, int(threads), poisson=poisson, rewards=schedule)
    try:
        nest.ResetKernel()
        nest.set(resolution=net.dt, local_num_threads=int(threads),
                 rng_seed=int(net.seed % (2**31 - 2)) + 1)
        _build_populations(nest, model, post_params, poisson)
        _build_modulators(nest, model)
        _build_projections(nest, model, zero_delay, connectivity, bernoulli_rule)
        _build_monitors(nest, model)
    except _nest_errors(nest) as err:
        raise NestError(f"NEST failed while building the network: {err}") from err
    model.build_s = time.perf_counter() - t0
    return model


# -- running -----------------------------------------------------------------------------
def _current_segments(net, n_steps):
    """``[(u0, u1, {population name: I_e per neuron in pA})]`` covering ``[0, n_steps)``."""
    edges = {0, n_steps}
    for c in net.currents:
        edges.update(e for e in (c.on, c.off) if e is not None and 0 < e < n_steps)
    edges = sorted(edges)
    out = []
    for u0, u1 in zip(edges[:-1], edges[1:]):
        amps = {}
        for c in net.currents:  # summed in net.currents order, as the engine does
            if c.on <= u0 and (c.off is None or u0 < c.off):
                pop = c.target.population
                a = amps.setdefault(pop.name, np.zeros(pop.size))
                a[c.target.start:c.target.stop] += c.amplitude
        out.append((u0, u1, {name: a * _gain(p) for name, a in amps.items()
                             for p in net.populations if p.name == name}))
    return out


def _simulate(nest, model):
    net, dt = model.net, model.net.dt
    lifs = list(model.neurons.values())
    t0 = time.perf_counter()
    for nodes in lifs:
        nodes.frozen = True
    nest.Simulate(OFFSET * dt)
    for nodes in lifs:
        nodes.frozen = False
    set_before = set()
    for u0, u1, amps in _current_segments(net, model.n_steps):
        for name in set_before | set(amps):
            model.neurons[name].I_e = amps.get(name, np.zeros(len(model.neurons[name])))
        set_before = set(amps)
        nest.Simulate((u1 - u0) * dt)
    # let every spike emitted in the run reach its synapses (plastic weights), with
    # nothing new happening: freeze everything that could spike
    for nodes in lifs + list(model.parrots.values()):
        nodes.frozen = True
    nest.Simulate((model._max_delay + 2) * dt)
    return time.perf_counter() - t0


def _everywhere(events, keys):
    """A recorder's events as arrays; under MPI (several NEST processes) those of every
    rank, gathered on every rank (:func:`~neuromorph.backends.nest_mpi.gather_events`)."""
    ev = {k: np.atleast_1d(np.asarray(events[k])) for k in keys}
    if _nest().num_processes > 1:
        from .nest_mpi import gather_events
        ev = gather_events(ev, all=True)
    return ev


def _recorded(model, pop):
    """``(steps, local indices)`` of a population's spikes in ``[0, n_steps)``."""
    if pop.name in model._input_trains:
        steps, idx = model._input_trains[pop.name]
    else:
        ev = _everywhere(model._recorders[pop.name].get("events"), ("senders", "times"))
        first = _nodes(model, pop)[0].global_id
        stamp = np.rint(np.asarray(ev["times"]) / model.net.dt).astype(np.int64)
        lag = 1 if pop.name in model.neurons else 0  # LIF stamps: end of the step
        steps = stamp - OFFSET - lag
        idx = np.asarray(ev["senders"], dtype=np.int64) - first
    keep = (steps >= 0) & (steps < model.n_steps)
    steps, idx = steps[keep].astype(np.int64), idx[keep].astype(np.int64)
    order = np.lexsort((idx, steps))
    return steps[order], idx[order]


def _state_series(model, m):
    """``(n_steps, n_recorded)`` values (mV) of a state monitor at the start of each step."""
    pop, lo, n, dt = m.target.population, m.target.start, model.n_steps, model.net.dt
    meter, ids = model._meters[id(m)]
    ev = _everywhere(meter.get("events"), ("senders", "times", _RECORDABLE[m.var]))
    stamp = np.rint(np.asarray(ev["times"]) / dt).astype(np.int64)
    step = stamp - OFFSET  # the value at the end of NEST step L is the start of L + 1
    series = np.zeros((n, len(ids)))
    series[0] = pop.state[m.var][lo + m.record]
    ok = (step >= 1) & (step < n)
    scale = 1.0 if m.var == "v" else 1.0 / _gain(pop)
    senders = np.asarray(ev["senders"], dtype=np.int64)[ok]
    vals = np.asarray(ev[_RECORDABLE[m.var]], dtype=float)[ok] * scale
    for j, g in enumerate(ids.tolist()):  # a neuron recorded twice: both columns
        sel = senders == g
        series[step[ok][sel], j] = vals[sel]
    return series


def _weights(nest, model, pr):
    """A plastic projection's NEST weights (mV) in neuromorph's synapse order."""
    pre_ids = _source_ids(model, pr.pre.population)
    post_ids = _source_ids(model, pr.post.population)
    src, tgt, w = [], [], []
    dopamine = describe(pr.plasticity).nest == "stdp_dopamine_synapse"
    keys = ("source", "target", "weight") + (("c", "n") if dopamine else ())
    for name in model.synapse_models[pr.name]:
        got = _everywhere(nest.GetConnections(synapse_model=name).get(list(keys)), keys)
        src.append(np.atleast_1d(np.asarray(got["source"], np.int64)))
        tgt.append(np.atleast_1d(np.asarray(got["target"], np.int64)))
        w.append(np.atleast_1d(np.asarray(got["weight"], float)))
        if dopamine:
            w[-1] = _dopamine_back(nest, model, pr, name, w[-1],
                                   np.atleast_1d(np.asarray(got["c"], float)),
                                   np.atleast_1d(np.asarray(got["n"], float)))
    src, tgt, w = np.concatenate(src), np.concatenate(tgt), np.concatenate(w)
    n_post = pr.post.population.size
    got_keys = (src - pre_ids[0]) * n_post + (tgt - post_ids[0])
    want = (pr.sources + pr.pre.start).astype(np.int64) * n_post + pr.targets + pr.post.start
    order = np.argsort(got_keys, kind="stable")
    return w[order[np.searchsorted(got_keys[order], want)]] / _gain(pr.post.population)


def _dopamine_back(nest, model, pr, name, w, c, n):
    """``stdp_dopamine_synapse`` weights (pA) at the end of the run, from NEST's at the
    end of the drain.

    NEST's clock runs :data:`REWARD_LAG` steps ahead of neuromorph's for rewards, so
    neuromorph's end of run is NEST time ``T = (n_steps + REWARD_LAG) dt``; the drain
    (:func:`_simulate`) ends ``Delta`` later with every synapse brought to that moment by
    the volume transmitter. Without events in between, ``dw/dt = c n`` runs back in closed
    form: ``w(T) = w - c n tau_s (exp(Delta / tau_s) - 1)``, ``1/tau_s = 1/tau_c +
    1/tau_n`` (the eligibility of post spikes in the last ``D`` steps, which NEST adds
    after ``T``, is not undone; a weight that the flow holds at a bound at the end of the
    drain is returned at the bound, which is exact unless it reached the bound within
    the drain)."""
    p = nest.GetDefaults(name)
    tau_s = 1.0 / (1.0 / p["tau_c"] + 1.0 / p["tau_n"])
    delta = (OFFSET + model._max_delay + 2 - REWARD_LAG) * model.net.dt
    with np.errstate(divide="ignore", under="ignore"):  # n = 0 (e.g. a phasic pulse long over): no change
        moved = c * tau_s * (np.exp(np.log(np.abs(n)) + delta / tau_s)
                             - np.exp(np.log(np.abs(n))))
    back = np.clip(w - moved, p["Wmin"], p["Wmax"])
    # a weight held at a bound by the flow (c n pushes into it) stays there
    held = ((w <= p["Wmin"]) & (moved <= 0)) | ((w >= p["Wmax"]) & (moved >= 0))
    return np.where(held, w, back)


def _raw(nest, model, wall):
    """What a run produced, as plain arrays (picklable: the isolated run sends them)."""
    spikes, states = {}, {}
    for k, m in enumerate(model.net.monitors):
        if isinstance(m, StateMonitor):
            states[k] = _state_series(model, m)
        elif m.target.population.name not in spikes:
            spikes[m.target.population.name] = _recorded(model, m.target.population)
    weights = {pr.name: _weights(nest, model, pr) for pr in model.net.projections
               if pr.name in model.synapse_models}
    return {"spikes": spikes, "states": states, "weights": weights, "wall_s": wall,
            "build_s": model.build_s, "threads": model.threads,
            "zero_delay": list(model.zero_delay),
            "connections": int(_nest().num_connections)}


def _result(net, n, raw):
    """A :class:`NestResult` of ``net``'s monitors filled from :func:`_raw`'s arrays."""
    out = []
    for k, m in enumerate(net.monitors):
        lo = m.target.start
        if isinstance(m, StateMonitor):
            new = StateMonitor(net, m.target, m.var, m.record, m.every)
            at = np.arange(0, n, m.every)
            new._record(at.astype(np.int64), raw["states"][k][at])
        else:
            steps, gidx = raw["spikes"][m.target.population.name]
            if isinstance(m, SpikeMonitor):
                new = SpikeMonitor(net, m.target)
                new._record(steps, gidx, lo)
            else:
                keep = (gidx >= lo) & (gidx < m.target.stop)
                new = RateMonitor(net, m.target)
                new._record(np.arange(n, dtype=np.int64),
                            np.bincount(steps[keep], minlength=n).astype(np.int64))
        new._start_step = 0
        out.append(new)
    return NestResult(out, raw["weights"], raw["wall_s"], raw["build_s"], raw["threads"],
                      raw["zero_delay"], raw["connections"])


def _child_main():
    """Entry point of the isolated NEST process (``python -m neuromorph.backends.nest
    RESULT_FILE``): reads ``(net, duration, kwargs)`` pickled on stdin, writes
    ``('ok', raw)`` or ``('error', exception name, message)`` pickled to RESULT_FILE."""
    import pickle
    import sys
    net, duration, kwargs = pickle.load(sys.stdin.buffer)
    try:
        model = to_nest(net, duration, **kwargs)
        nest = _nest()
        try:
            msg = ("ok", _raw(nest, model, _simulate(nest, model)))
        except _nest_errors(nest) as err:
            raise NestError(f"NEST failed while running: {err}") from err
    except Exception as err:  # noqa: BLE001 - everything goes back to the parent
        import traceback
        msg = ("error", type(err).__name__, str(err), traceback.format_exc())
    with open(sys.argv[1], "wb") as f:
        pickle.dump(msg, f)


def _run_isolated(net, duration, kwargs):
    """Run in a fresh Python process (no ``__main__`` re-import, unlike multiprocessing's
    spawn, so it works from scripts without a main guard, notebooks and the REPL)."""
    import pickle
    import subprocess
    import sys
    import tempfile
    import neuromorph
    root = os.path.dirname(os.path.dirname(os.path.abspath(neuromorph.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    fd, path = tempfile.mkstemp(prefix="neuromorph-nest-", suffix=".pkl")
    os.close(fd)
    try:
        proc = subprocess.run([sys.executable, "-m", "neuromorph.backends.nest", path],
                              input=pickle.dumps((net, duration, kwargs)), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            with open(path, "rb") as f:
                msg = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError):
            tail = proc.stderr.decode(errors="replace")[-2000:]
            raise NestError(f"the NEST process died (exit code {proc.returncode}) without a "
                            f"result:\n{tail}") from None
    finally:
        os.unlink(path)
    if msg[0] == "error":
        known = {"NestError": NestError, "UnsupportedFeature": UnsupportedFeature,
                 "ValueError": ValueError, "TypeError": TypeError}
        if msg[1] in known:
            raise known[msg[1]](msg[2])
        raise NestError(f"{msg[1]} in the NEST process: {msg[2]}\n{msg[3]}")
    return msg[1]


def under_mpi():
    """Whether this process was started by an MPI launcher with more than one rank
    (``mpirun``/``mpiexec``/``srun``: MPICH/Hydra's ``PMI_SIZE``, Open MPI's
    ``OMPI_COMM_WORLD_SIZE``, Slurm's ``PMI_SIZE`` / ``SLURM_NTASKS`` with ``PMI_RANK``)."""
    for key in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        try:
            if int(os.environ.get(key, "1")) > 1:
                return True
        except ValueError:
            continue
    return False


def run_with_rewards(net, duration, rewards=None):
    """Run ``net`` on neuromorph's engine for ``duration`` ms with a reward schedule (the
    ``rewards`` of :func:`run_nest`): the run is cut at each reward's step and
    ``signal.deliver(reward)`` is called there, which is what :func:`run_nest` maps."""
    n_steps = _checks.steps("duration", duration, net.dt, minimum=1)
    _reward_schedule(net, rewards, n_steps)  # the same checks, before anything runs
    start = net.step
    given = {}
    for key, pairs in (rewards or {}).items():
        signal = next(m for m in net.modulators if m.name == getattr(key, "name", key))
        for t, r in pairs:
            given.setdefault(int(round(t / net.dt)), []).append((signal, float(r)))
    done = 0
    for step in sorted(given):
        if step > done:
            net.run((step - done) * net.dt)
            done = step
        for signal, r in given[step]:
            signal.deliver(r)
    if n_steps > done:
        net.run((n_steps - done) * net.dt)
    assert net.step == start + n_steps


def run_nest(net, duration, *, threads=1, poisson="exact", connectivity="explicit",
             zero_delay="warn", rewards=None, bernoulli_rule="pairwise_bernoulli",
             isolate=None):
    """Run ``net`` for ``duration`` ms on NEST and read the results back.

    Parameters are those of :func:`to_nest`, and

    isolate : bool or None
        Run NEST in a fresh child Python process. Default (None): yes, unless the
        process was started by an MPI launcher with several ranks (:func:`under_mpi`),
        where every rank must run NEST itself -- so the same script runs unchanged
        under ``mpirun -n K``. NEST's wheel brings its own
        OpenMP runtime, and once neuromorph's engine has run its numba threads (another
        OpenMP runtime) in the same process, NEST's ``ResetKernel`` crashes
        (segmentation fault, measured here); the child also keeps NEST's global kernel
        out of the caller. ``False``: run in this process (what an MPI job does, where
        every rank must run NEST itself; do not run neuromorph's engine in it first).

    Returns
    -------
    NestResult
        Monitors of the same classes as ``net.monitors`` (same order), the plastic
        projections' weights (mV), build and run times.

    Raises
    ------
    TypeError, ValueError
        Bad arguments (``threads < 1``, ...), before anything runs.
    UnsupportedFeature
        For every part NEST cannot run, before NEST is touched.
    NestError
        When NEST fails, with NEST's message; ``net`` is unchanged.
    """
    if rewards is not None and hasattr(rewards, "items"):
        rewards = {getattr(k, "name", k): list(v) for k, v in rewards.items()}
    kwargs = dict(threads=threads, poisson=poisson, connectivity=connectivity,
                  zero_delay=zero_delay, rewards=rewards, bernoulli_rule=bernoulli_rule)
    if isolate is None:
        isolate = not under_mpi()
    if not isinstance(isolate, bool):
        raise TypeError(f"isolate must be a bool or None, got {isolate!r}")
    if not isolate:
        return to_nest(net, duration, **kwargs).run()
    # every check (and the zero-delay warning) here, before a process is started
    _check_args(threads, poisson, connectivity, zero_delay, bernoulli_rule)
    n_steps = _checks.steps("duration", duration, net.dt, minimum=1)
    _check_network(net, connectivity, zero_delay, _reward_schedule(net, rewards, n_steps))
    if zero_delay == "warn" and _zero_delay_projections(net):
        _warn_zero_delay(net, _zero_delay_projections(net))
        kwargs["zero_delay"] = "one_step"
    return _result(net, n_steps, _run_isolated(net, duration, kwargs))


if __name__ == "__main__":
    _child_main()
