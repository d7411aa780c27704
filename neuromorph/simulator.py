"""The engine: runs a network compiled into named bundles (:mod:`neuromorph.compiler`)
with the numba kernels, a chunk of steps per compiled call, on numba's threads.

Randomness. Each Poisson population draws from its own generator (seeded from the
network seed and the population's position), in fixed absolute blocks of steps, so
its spike train does not depend on how ``run`` calls are split or on other
populations (:class:`neuromorph.encoders.PoissonBlocks`).

Threads. ``set_num_threads(n)`` (or ``NUMBA_NUM_THREADS``) sets how many threads the
engine uses; spikes and weights are bit-identical for any number (see
:mod:`neuromorph.kernels.engine`).
"""
from __future__ import annotations

import numbers
import os
import warnings

import numba
import numpy as np
from numba.core.errors import NumbaExperimentalFeatureWarning

from . import compiler
from .descriptions import describe
from .encoders import BLOCK, PoissonBlocks
from .kernels.bundles import Buffers, Inputs, Recording
from .kernels.eligibility import catch_up_range, phasic_reward
from .kernels.engine import run_steps
from .kernels.stdp import RSTDP_KIND, STATIC
from .kernels.sync import ABORTED, CHECK_IN, team_size
from .monitors import RateMonitor, SpikeMonitor, StateMonitor, STATE_VARIABLES, WeightMonitor


_threads = None  # set by set_num_threads
#: Let the threads run as a team that stays in one parallel region per chunk (two spin
#: barriers a step, :mod:`neuromorph.kernels.sync`) when there is a core for each; False:
#: one parallel region per step. Results are the same either way.
TEAM = True


def set_num_threads(n):
    """Use ``n`` threads in the engine (1 .. ``numba.config.NUMBA_NUM_THREADS``, the size of
    numba's pool: the ``NUMBA_NUM_THREADS`` environment variable, default the number of
    cores). Results do not depend on it."""
    global _threads
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"n must be an integer number of threads, got {type(n).__name__}")
    top = numba.config.NUMBA_NUM_THREADS
    if not 1 <= n <= top:
        raise ValueError(f"n must be in [1, {top}] (NUMBA_NUM_THREADS), got {n}")
    _threads = int(n)


def get_num_threads():
    """The number of threads the engine uses: the last :func:`set_num_threads`, else
    ``NUMBA_NUM_THREADS`` if that environment variable is set, else 1.

    One thread is the default because the engine synchronises its threads every step:
    on a machine whose cores are busy with other work, more threads than free cores
    make it slower, not faster.
    """
    if _threads is not None:
        return _threads
    return numba.config.NUMBA_NUM_THREADS if "NUMBA_NUM_THREADS" in os.environ else 1


def _usable_cores():
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Simulator:
    """Compiled state of a network; :meth:`run` advances it."""

    def __init__(self, net, previous=None):
        self.net = net
        lif, inputs, self.gstart, self.n_lif, self.n_total = compiler.layout(net)
        self.lif_pops = lif
        bounds = compiler.partition_bounds(self.n_lif, get_num_threads())
        self.neurons, self.state = compiler.compile_neurons(lif, self.gstart, net.dt, bounds)
        self.projections = list(net.projections)
        self.modulator_of = [self._modulator(pr) for pr in self.projections]
        self.synapses = compiler.compile_synapses(self.projections, self._glo, self.n_lif,
                                                  bounds)
        self.plasticity, self.hooks = compiler.compile_plasticity(
            self.projections, self.modulator_of, net.dt, net.step)
        self._build_inputs(inputs, previous)
        self._compile_currents()
        self._carry_over(previous)
        self._buffers()
        self.spike_monitors, self.state_monitors = [], []
        self.rate_monitors, self.weight_monitors = [], []
        self._monitor_arrays()
        for mon in net.monitors:
            self.add_monitor(mon)

    # -- names kept for the NumPy reference loop, io and tests --------------------------
    pop_lo = property(lambda self: self.neurons.pop_lo)
    pop_hi = property(lambda self: self.neurons.pop_hi)
    pop_coef = property(lambda self: self.neurons.coef)
    pop_kind = property(lambda self: self.neurons.kind)
    pr_pre_lo = property(lambda self: self.synapses.pre_lo)
    pr_pre_hi = property(lambda self: self.synapses.pre_hi)
    pr_post_lo = property(lambda self: self.synapses.post_lo)
    pr_dense = property(lambda self: self.synapses.dense)
    ring_exc = property(lambda self: self.synapses.ring_exc)
    ring_inh = property(lambda self: self.synapses.ring_inh)
    pr_kind = property(lambda self: self.plasticity.kind)
    pr_rule = property(lambda self: self.plasticity.rule)
    pr_xpre_off = property(lambda self: self.plasticity.xpre_off)
    pr_xpost_off = property(lambda self: self.plasticity.xpost_off)
    x_pre = property(lambda self: self.plasticity.x_pre)
    x_post = property(lambda self: self.plasticity.x_post)
    x_pre2 = property(lambda self: self.plasticity.x_pre2)
    x_post2 = property(lambda self: self.plasticity.x_post2)
    elig = property(lambda self: self.plasticity.elig)

    def elig_of(self, k):
        """Projection ``k``'s ``(weights, eligibility, eligibility step)`` views."""
        pl = self.plasticity
        a, b = pl.eo_off[k], pl.eo_off[k + 1]
        return self.projections[k].w, pl.elig[a:b], pl.elig_step[a:b]

    def _modulator(self, pr):
        """The reward signal driving an R-STDP projection (``None`` for other kinds)."""
        if pr.plasticity is None or not describe(pr.plasticity).needs_modulator:
            return None
        if pr.modulator is not None:
            return pr.modulator
        mods = self.net.modulators
        if len(mods) != 1:
            raise ValueError(f"projection {pr.name!r} uses R-STDP: give it modulator=... or "
                             f"create exactly one net.reward_signal() (the network has "
                             f"{len(mods)})")
        return mods[0]

    def _build_inputs(self, inputs, previous):
        net = self.net
        old = previous.poisson if previous is not None else {}
        self.poisson, self.sources = {}, []
        for p in inputs:
            kind = describe(p.model).input_kind
            if kind == "poisson":
                key = net.populations.index(p)
                self.poisson[p] = old.get(p) or PoissonBlocks(p.model.rate, net.dt, net.seed, key)
            elif kind == "spike_times":
                self.sources.append(p)
        src_steps = [p.model.steps for p in self.sources]
        src_idx = [p.model.indices.astype(np.int64) + self.gstart[p] for p in self.sources]
        steps = np.concatenate(src_steps) if src_steps else np.zeros(0, np.int64)
        idx = np.concatenate(src_idx) if src_idx else np.zeros(0, np.int64)
        order = np.lexsort((idx, steps))
        self.src_steps, self.src_idx = steps[order], idx[order].astype(np.int32)

    def _carry_over(self, previous):
        """Keep pending delayed arrivals and STDP traces across a recompilation."""
        if previous is None:
            return
        u = self.net.step
        n_old = previous.n_lif
        d_old, d_new = previous.ring_exc.shape[0], self.ring_exc.shape[0]
        for k in range(d_old):
            for new, old in ((self.ring_exc, previous.ring_exc), (self.ring_inh, previous.ring_inh)):
                row = old[(u + k) % d_old]
                if np.any(row):
                    if k >= d_new:
                        raise RuntimeError("cannot shorten the delay ring with spikes in flight")
                    new[(u + k) % d_new, :n_old] += row
        for i, pr in enumerate(self.projections):
            if pr in previous.projections and self.pr_kind[i] == RSTDP_KIND:
                previous.flush(u)
                j = previous.projections.index(pr)
                self.elig_of(i)[1][:] = previous.elig_of(j)[1]
            if pr in previous.projections and self.pr_kind[i] != STATIC:
                j = previous.projections.index(pr)
                for name, off in (("x_pre", "pr_xpre_off"), ("x_pre2", "pr_xpre_off"),
                                  ("x_post", "pr_xpost_off"), ("x_post2", "pr_xpost_off")):
                    new, old = getattr(self, off), getattr(previous, off)
                    getattr(self, name)[new[i]:new[i + 1]] = \
                        getattr(previous, name)[old[j]:old[j + 1]]
                if self.pr_kind[i] != RSTDP_KIND:  # the triplet rule's pending amplitude
                    new, old = self.pr_xpre_off, previous.pr_xpre_off
                    self.plasticity.a_now[new[i]:new[i + 1]] = \
                        previous.plasticity.a_now[old[j]:old[j + 1]]

    def add_monitor(self, mon):
        {SpikeMonitor: self.spike_monitors, StateMonitor: self.state_monitors,
         RateMonitor: self.rate_monitors, WeightMonitor: self.weight_monitors}[type(mon)].append(mon)
        self._monitor_arrays()

    def _glo(self, view):
        return self.gstart[view.population] + view.start

    def _compile_currents(self):
        """On/off steps of the step currents (fixed once the network is compiled: adding
        one recompiles it), so a chunk finds its end and its currents without a Python
        loop over all of them (a deployed recurrent learner has one per row per sample)."""
        cur = self.net.currents
        never = np.iinfo(np.int64).max
        self._cur_on = np.array([c.on for c in cur], np.int64)
        self._cur_off = np.array([never if c.off is None else c.off for c in cur], np.int64)
        self._cur_lo = [int(self._glo(c.target)) for c in cur]
        self._cur_breaks = np.unique(np.concatenate(
            [self._cur_on, self._cur_off[self._cur_off != never]]))

    def _buffers(self, team=True):
        """The engine's two spike lists, the partitions' spike counts and, when the
        threads can run as a team (one per partition, at most one per core the process
        may use: spinning threads must not wait for each other's turn), its control
        words."""
        n_parts = len(self.neurons.bounds) - 1
        team = team and TEAM and 1 < n_parts <= _usable_cores()
        self.buffers = Buffers(np.zeros(max(self.n_total, 1), np.int32),
                               np.zeros(max(self.n_total, 1), np.int32),
                               np.zeros(n_parts, np.int64),
                               np.zeros(team_size(n_parts) if team else 0, np.int64))

    def _monitor_arrays(self):
        self.rec_mask = np.zeros(max(self.n_total, 1), bool)
        for m in self.spike_monitors:
            lo = self._glo(m.target)
            self.rec_mask[lo:lo + m.target.size] = True
        self.max_rec = int(self.rec_mask.sum())
        cap = max(65536, 16 * self.max_rec)
        self.spk_step = np.zeros(cap if self.max_rec else 0, np.int64)
        self.spk_idx = np.zeros(cap if self.max_rec else 0, np.int32)
        sms = self.state_monitors
        self.sm_every = np.array([m.every for m in sms], np.int64)
        self.sm_ptr = np.concatenate([[0], np.cumsum([len(m.record) for m in sms])]).astype(np.int64)
        self.sm_var = np.concatenate([np.full(len(m.record), STATE_VARIABLES[m.var])
                                      for m in sms]).astype(np.int64) if sms else np.zeros(0, np.int64)
        self.sm_idx = np.concatenate([m.record + self._glo(m.target) for m in sms]).astype(np.int64) \
            if sms else np.zeros(0, np.int64)
        self.rm_lo = np.array([self._glo(m.target) for m in self.rate_monitors], np.int64)
        self.rm_hi = self.rm_lo + np.array([m.target.size for m in self.rate_monitors], np.int64)

    # -- running ----------------------------------------------------------------------
    def _breakpoints(self, u0, u_end):
        """End of the chunk starting at ``u0``: block end, current on/off, snapshots."""
        end = min(u_end, (u0 // BLOCK + 1) * BLOCK)
        k = np.searchsorted(self._cur_breaks, u0, side="right")  # first on/off step > u0
        if k < len(self._cur_breaks) and self._cur_breaks[k] < end:
            end = int(self._cur_breaks[k])
        for m in self.weight_monitors:
            nxt = m._start_step + -(-(u0 + 1 - m._start_step) // m.every) * m.every
            end = min(end, max(nxt, u0 + 1))
        return end

    def _inputs(self, u0, u1):
        steps, idx = [], []
        for p, gen in self.poisson.items():
            s, i = gen.events(u0, u1)
            steps.append(s)
            idx.append(i.astype(np.int64) + self.gstart[p])
        lo, hi = np.searchsorted(self.src_steps, [u0, u1])
        steps.append(self.src_steps[lo:hi])
        idx.append(self.src_idx[lo:hi].astype(np.int64))
        steps, idx = np.concatenate(steps), np.concatenate(idx)
        order = np.lexsort((idx, steps))
        steps, idx = steps[order], idx[order].astype(np.int32)
        ptr = np.searchsorted(steps, np.arange(u0, u1 + 1)).astype(np.int64)
        return ptr, idx

    def _apply_currents(self, u0):
        i_ext = self.state["I_ext"]
        i_ext[:] = 0.0
        on = np.flatnonzero((self._cur_on <= u0) & (u0 < self._cur_off))
        currents = self.net.currents
        for k in on:  # in the order they were added: the same float sums
            c = currents[k]
            lo = self._cur_lo[k]
            i_ext[lo:lo + c.target.size] += c.amplitude  # read now: amplitudes may change
        return np.array([np.any(i_ext[lo:hi] != 0) for lo, hi in zip(self.pop_lo, self.pop_hi)],
                        bool)

    def _check_fixed_point_weights(self):
        """Weights into fixed-point LoihiLIF neurons must be Loihi's 8-bit integers, times
        one power of two per projection (Lava's ``weight_exp``, 0-7)."""
        from .loihi import weight_exponent
        for pr in self.projections:
            m = pr.post.population.model
            if getattr(m, "fixed_point", False) and pr.n_synapses:
                w = pr._weight_values()
                if weight_exponent(w) is None:
                    raise ValueError(f"projection {pr.name!r} feeds fixed-point LoihiLIF "
                                     f"neurons: its weights must be integers in [-255, 255] "
                                     f"(times one 2**e, e in 0-7), got range "
                                     f"[{w.min()}, {w.max()}]")

    # -- R-STDP bookkeeping -------------------------------------------------------------
    def _rstdp(self):
        return [k for k in range(len(self.projections)) if self.pr_kind[k] == RSTDP_KIND]

    def flush(self, u):
        """Bring every R-STDP synapse up to step ``u`` (weights clipped, eligibility decayed)."""
        dt = self.net.dt
        for k in self._rstdp():
            r = self.pr_rule[k]
            mod = self.modulator_of[k]
            w, elig, elig_step = self.elig_of(k)
            catch_up_range(0, len(w), 0, u, w, elig, elig_step, mod._level, mod._level_step,
                           r[11], r[10], r[9], r[12], dt, r[2], r[3])

    def _deliver_rewards(self, u):
        """Apply rewards delivered from Python since the last chunk, at step ``u``."""
        pending = [m for m in self.net.modulators if m._pending != 0.0]
        if not pending:
            return
        self.flush(u)
        for mod in pending:
            if mod.phasic:
                for k in self._rstdp():
                    if self.modulator_of[k] is mod:
                        r = self.pr_rule[k]
                        w, elig, _ = self.elig_of(k)
                        phasic_reward(0, len(w), 0, w, elig, mod._pending, r[10], r[2], r[3])
            else:
                mod._level = mod.level_at(u) + mod._pending
                mod._level_step = u
            mod._pending = 0.0

    def _modulator_state(self):
        pl = self.plasticity
        for k in self._rstdp():
            mod = self.modulator_of[k]
            pl.dop[k], pl.dop_step[k] = mod._level, mod._level_step

    # -- running ----------------------------------------------------------------------
    def _snapshot_weights(self, u):
        due = [m for m in self.weight_monitors
               if (u - m._start_step) % m.every == 0 and (not m._t or m._t[-1] != u)]
        if due:
            self.flush(u)
            for m in due:
                m._record(u, m.target.w)

    def run(self, n_steps, progress=False, callback=None, every=None):
        """Advance ``n_steps`` steps; ``callback(net)`` every ``every`` steps (see Network.run)."""
        self._check_fixed_point_weights()
        self._check_partitions()
        net = self.net
        u, u_end = net.step, net.step + n_steps
        next_call = u + every if callback is not None else None
        bar = None
        compiling = not run_steps.signatures  # numba compiles (or loads) at the first call
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=n_steps, unit="step", desc="compiling the engine (first run only)"
                       if compiling else "simulating")
        try:
            while u < u_end:
                self._snapshot_weights(u)
                self._deliver_rewards(u)
                self._modulator_state()
                u1 = self._breakpoints(u, u_end)
                if next_call is not None:
                    u1 = min(u1, next_call)
                self._run_chunk(u, u1)
                if bar is not None:
                    if compiling:  # the compilation is no simulation: restart the clock
                        compiling = False
                        bar.set_description("simulating")
                        bar.reset(total=n_steps)
                    bar.update(u1 - u)
                u = net.step = u1
                if u == next_call:
                    self.flush(u)
                    callback(net)
                    next_call += every
            self._snapshot_weights(u)
        finally:
            self.flush(net.step)
            if bar is not None:
                bar.close()

    def _check_partitions(self):
        """Re-cut the neurons if the number of threads changed since the last run."""
        n = get_num_threads()
        numba.set_num_threads(n)
        if len(self.neurons.bounds) - 1 != n:
            bounds = compiler.partition_bounds(self.n_lif, n)
            self.neurons = self.neurons._replace(bounds=bounds)
            self.synapses = compiler.repartition(self.synapses, bounds)
            self._buffers()

    def _run_chunk(self, u0, u1):
        n = u1 - u0
        ptr, idx = self._inputs(u0, u1)
        inp = Inputs(ptr, idx, self._apply_currents(u0))
        rows = [((u1 - 1) // e) - ((u0 - 1) // e) for e in self.sm_every]
        sizes = [r * len(m.record) for r, m in zip(rows, self.state_monitors)]
        sm_out_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        rec = Recording(self.rec_mask, self.spk_step, self.spk_idx, np.zeros(1, np.int64),
                        self.max_rec, self.sm_every, self.sm_ptr, self.sm_var, self.sm_idx,
                        np.zeros(len(self.state_monitors), np.int64), sm_out_off,
                        np.zeros(int(sm_out_off[-1])), self.rm_lo, self.rm_hi,
                        np.zeros((len(self.rate_monitors), n), np.int32))
        s = 0
        while s < n:
            if self.hooks is None:
                s = run_steps(u0, s, n, self.net.dt, self.neurons, self.synapses,
                              self.plasticity, inp, rec, self.buffers)
            else:
                with warnings.catch_warnings():  # numba calls the hooks "experimental"
                    warnings.simplefilter("ignore", NumbaExperimentalFeatureWarning)
                    s = run_steps(u0, s, n, self.net.dt, self.neurons, self.synapses,
                                  self.plasticity, inp, rec, self.buffers, self.hooks)
            self._flush_spikes(rec.spk_count)
            if self.buffers.sync.shape[0] and self.buffers.sync[CHECK_IN] == ABORTED:
                warnings.warn("numba's threading layer did not run the engine's threads "
                              "at once; falling back to one parallel region per step",
                              RuntimeWarning, stacklevel=2)
                self._buffers(team=False)
        for m, off, r in zip(self.state_monitors, sm_out_off, rows):
            k = len(m.record)
            first = -(-u0 // m.every) * m.every
            m._record(np.arange(first, u1, m.every, dtype=np.int64)[:r],
                      rec.sm_out[off:off + r * k].reshape(r, k))
        for j, m in enumerate(self.rate_monitors):
            m._record(np.arange(u0, u1, dtype=np.int64), rec.rm_out[j].astype(np.int64))

    def _flush_spikes(self, count):
        c = int(count[0])
        if c:
            steps, gidx = self.spk_step[:c], self.spk_idx[:c]
            for m in self.spike_monitors:
                m._record(steps, gidx, self._glo(m.target))
        count[0] = 0
