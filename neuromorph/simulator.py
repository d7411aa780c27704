"""The engine: compiles a :class:`~neuromorph.network.Network` into flat arrays and
steps it with the numba kernels, a chunk of steps per compiled call.

Layout. LIF neurons get global indices ``0 .. n_lif-1`` (populations in creation
order), input neurons follow. All projections' synapses are concatenated in CSR order;
``rowptr`` / ``colptr`` (per projection, offset into shared arrays) index rows and
columns. Population state and projection weights become views on the engine's
arrays, so ``P.v`` and ``proj.w`` always show the live values.

Randomness. Each Poisson population draws from its own generator (seeded from the
network seed and the population's position), in fixed absolute blocks of steps, so
its spike train does not depend on how ``run`` calls are split or on other
populations (:class:`neuromorph.encoders.PoissonBlocks`).
"""
from __future__ import annotations

import numpy as np

from .encoders import BLOCK, PoissonBlocks
from .kernels import lif as lif_kernel
from .kernels import loihi as loihi_kernel
from .kernels.eligibility import catch_up_range, phasic_reward
from .kernels.engine import run_steps
from .kernels.stdp import N_RULE, RSTDP_KIND, STATIC, STDP_KIND, TRIPLET_KIND
from .monitors import RateMonitor, SpikeMonitor, StateMonitor, STATE_VARIABLES, WeightMonitor
from .neurons import PoissonInput, SpikeTimes
from .plasticity import RSTDP, TripletSTDP


class Simulator:
    """Compiled state of a network; :meth:`run` advances it."""

    def __init__(self, net, previous=None):
        self.net = net
        pops = net.populations
        lif = [p for p in pops if p.is_lif]
        inputs = [p for p in pops if not p.is_lif]
        self.gstart, g = {}, 0
        for p in lif + inputs:
            self.gstart[p] = g
            g += p.size
        self.n_lif = sum(p.size for p in lif)
        self.n_total = g
        self._build_neurons(lif)
        self._build_projections(net.projections)
        self._build_inputs(inputs, previous)
        self._carry_over(previous)
        self.spikes = np.zeros(max(self.n_total, 1), np.int32)
        self.spike_monitors, self.state_monitors = [], []
        self.rate_monitors, self.weight_monitors = [], []
        self._monitor_arrays()
        for mon in net.monitors:
            self.add_monitor(mon)

    # -- compilation ------------------------------------------------------------------
    def _build_neurons(self, lif):
        dt = self.net.dt
        self.lif_pops = lif
        self.pop_lo = np.array([self.gstart[p] for p in lif], np.int64)
        self.pop_hi = self.pop_lo + np.array([p.size for p in lif], np.int64)
        rows, kinds = [], []
        for p in lif:
            m = p.model
            if p.is_loihi:
                rows.append(loihi_kernel.coefficients(m))
                kinds.append(loihi_kernel.kind(m))
                continue
            rows.append(lif_kernel.coefficients(dt, m.tau_m, m.tau_syn_exc, m.tau_syn_inh,
                                                m.v_rest, m.v_reset, m.v_th,
                                                int(round(m.t_ref / dt)), m.theta_plus,
                                                m.tau_theta))
            kinds.append(loihi_kernel.POP_LIF)
        self.pop_coef = np.array(rows, np.float64).reshape(len(lif), lif_kernel.N_COEF)
        self.pop_kind = np.array(kinds, np.int64)
        self.state = {}
        for name, dtype in (("v", np.float64), ("I_exc", np.float64), ("I_inh", np.float64),
                            ("ref", np.int32), ("I_ext", np.float64), ("u", np.float64),
                            ("theta", np.float64)):
            # "u" (LoihiLIF current) and "theta" (adaptive threshold) may be absent: zeros
            arr = np.concatenate([p.state.get(name, np.zeros(p.size)) for p in lif]
                                 ).astype(dtype) if lif else np.zeros(0, dtype)
            for p, lo in zip(lif, self.pop_lo):
                p.state[name] = arr[lo:lo + p.size]
            self.state[name] = arr

    def _build_projections(self, projections):
        self.projections = list(projections)
        k = len(projections)
        n_syn = [pr.n_synapses for pr in projections]
        syn_off = np.concatenate([[0], np.cumsum(n_syn)]).astype(np.int64)
        self.pr_pre_lo = np.array([self._glo(pr.pre) for pr in projections], np.int64)
        self.pr_pre_hi = self.pr_pre_lo + np.array([pr.pre.size for pr in projections], np.int64)
        self.pr_post_lo = np.array([self._glo(pr.post) for pr in projections], np.int64)
        kinds = {RSTDP: RSTDP_KIND, TripletSTDP: TRIPLET_KIND}
        self.pr_kind = np.array([STATIC if pr.plasticity is None else
                                 kinds.get(type(pr.plasticity), STDP_KIND)
                                 for pr in projections], np.int64)
        self.modulator_of = [self._modulator(pr) for pr in projections]
        # all-to-all in CSR order: synapse (j, i) sits at j * n_post + i (no index arrays)
        self.pr_dense = np.array([pr.n_synapses == pr.pre.size * pr.post.size > 0
                                  for pr in projections], bool)
        self.pr_delay = np.array([pr.delay_steps[0] if pr.n_synapses and
                                  np.all(pr.delay_steps == pr.delay_steps[0]) else -1
                                  for pr in projections], np.int64)
        self.pr_sign = np.zeros(k, np.int64)
        self.pr_wconst = np.full(k, np.nan)
        self.pr_rule = np.zeros((k, N_RULE))
        rowptr, colptr, col_syn = [], [], []
        rp_off, cp_off = [], []
        xpre_n, xpost_n = [0], [0]
        for i, pr in enumerate(projections):
            rp_off.append(sum(len(r) for r in rowptr))
            rowptr.append(np.searchsorted(pr.sources, np.arange(pr.pre.size + 1)) + syn_off[i])
            order = np.argsort(pr.targets, kind="stable")
            cp_off.append(sum(len(c) for c in colptr))
            colptr.append(np.searchsorted(pr.targets[order], np.arange(pr.post.size + 1))
                          + sum(len(c) for c in col_syn))
            col_syn.append(order + syn_off[i])
            plastic = pr.plasticity is not None
            if plastic:
                self.pr_rule[i, :9] = pr.plasticity.parameter_row(self.net.dt)
                self.pr_rule[i, 13] = pr.plasticity.x_tar
                self.pr_rule[i, 18] = float(pr.plasticity.clip_step)
            if isinstance(pr.plasticity, TripletSTDP):
                self.pr_rule[i, 14:18] = pr.plasticity.triplet_row(self.net.dt)
            mod = self.modulator_of[i]
            if mod is not None:
                tau_d = np.inf if mod.phasic else mod.tau_dopamine
                tau_e = pr.plasticity.tau_elig
                tau_p = 1.0 / (1 / tau_d + 1 / tau_e)
                self.pr_rule[i, 9:13] = tau_e, pr.plasticity.lr, tau_d, tau_p
            xpre_n.append(pr.pre.size if plastic else 0)
            xpost_n.append(pr.post.size if plastic else 0)

        def cat(parts, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        self.pr_rowptr_off = np.array(rp_off, np.int64)
        self.pr_colptr_off = np.array(cp_off, np.int64)
        self.rowptr, self.colptr = cat(rowptr, np.int64), cat(colptr, np.int64)
        self.col_syn = cat(col_syn, np.int64)
        syn_pre = cat([pr.sources for pr in projections], np.int32)
        self.col_pre = syn_pre[self.col_syn]
        self.syn_post = cat([pr.targets for pr in projections], np.int32)
        self.syn_delay = cat([pr.delay_steps for pr in projections], np.int32)
        self.syn_w = cat([pr.w for pr in projections], np.float64)
        self.syn_off = syn_off
        n_elig = [pr.n_synapses if kind == RSTDP_KIND else 0
                  for pr, kind in zip(projections, self.pr_kind)]
        elig_off = np.concatenate([[0], np.cumsum(n_elig)]).astype(np.int64)
        self.pr_eshift = elig_off[:-1] - syn_off[:-1]
        self.elig = np.zeros(elig_off[-1])
        self.elig_step = np.full(elig_off[-1], self.net.step, np.int64)
        self.pr_dop = np.zeros(k)
        self.pr_dop_step = np.zeros(k, np.int64)
        for i, pr in enumerate(projections):
            pr.w = self.syn_w[syn_off[i]:syn_off[i + 1]]
            pr.eligibility = self.elig[elig_off[i]:elig_off[i + 1]] if n_elig[i] else None
        self.pr_xpre_off = np.cumsum(xpre_n).astype(np.int64)
        self.pr_xpost_off = np.cumsum(xpost_n).astype(np.int64)
        self.x_pre = np.zeros(self.pr_xpre_off[-1])
        self.x_post = np.zeros(self.pr_xpost_off[-1])
        self.x_pre2 = np.zeros(self.pr_xpre_off[-1])    # triplet rule's slow traces
        self.x_post2 = np.zeros(self.pr_xpost_off[-1])
        n_slots = int(self.syn_delay.max()) + 1 if self.syn_delay.size else 1
        self.ring_exc = np.zeros((n_slots, self.n_lif))
        self.ring_inh = np.zeros((n_slots, self.n_lif))

    def _modulator(self, pr):
        """The reward signal driving an R-STDP projection (``None`` for other kinds)."""
        if not isinstance(pr.plasticity, RSTDP):
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
            if isinstance(p.model, PoissonInput):
                key = net.populations.index(p)
                self.poisson[p] = old.get(p) or PoissonBlocks(p.model.rate, net.dt, net.seed, key)
            elif isinstance(p.model, SpikeTimes):
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
                a, b = self.syn_off[i] + self.pr_eshift[i], self.syn_off[i + 1] + self.pr_eshift[i]
                c, d = (previous.syn_off[j] + previous.pr_eshift[j],
                        previous.syn_off[j + 1] + previous.pr_eshift[j])
                self.elig[a:b] = previous.elig[c:d]
            if pr in previous.projections and self.pr_kind[i] != STATIC:
                j = previous.projections.index(pr)
                for name, off in (("x_pre", "pr_xpre_off"), ("x_pre2", "pr_xpre_off"),
                                  ("x_post", "pr_xpost_off"), ("x_post2", "pr_xpost_off")):
                    new, old = getattr(self, off), getattr(previous, off)
                    getattr(self, name)[new[i]:new[i + 1]] = \
                        getattr(previous, name)[old[j]:old[j + 1]]

    def add_monitor(self, mon):
        {SpikeMonitor: self.spike_monitors, StateMonitor: self.state_monitors,
         RateMonitor: self.rate_monitors, WeightMonitor: self.weight_monitors}[type(mon)].append(mon)
        self._monitor_arrays()

    def _glo(self, view):
        return self.gstart[view.population] + view.start

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
        for c in self.net.currents:
            for b in (c.on, c.off):
                if b is not None and u0 < b < end:
                    end = b
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
        for c in self.net.currents:
            if c.on <= u0 and (c.off is None or u0 < c.off):
                lo = self._glo(c.target)
                i_ext[lo:lo + c.target.size] += c.amplitude
        return np.array([np.any(i_ext[lo:hi] != 0) for lo, hi in zip(self.pop_lo, self.pop_hi)],
                        bool)

    def _weight_summary(self):
        """Per projection: does it feed only one current, are all its weights equal?

        Recomputed at every run, since weights can be edited between runs.
        """
        for k, pr in enumerate(self.projections):
            if pr.plasticity is not None:
                lo, hi = pr.plasticity.w_min, pr.plasticity.w_max
                self.pr_wconst[k] = np.nan  # the engine reads each weight
            elif pr.n_synapses:
                lo, hi = pr.w.min(), pr.w.max()
                self.pr_wconst[k] = lo if lo == hi else np.nan
            else:
                lo = hi = 0.0
            self.pr_sign[k] = 1 if lo >= 0 else (-1 if hi < 0 else 0)

    def _check_fixed_point_weights(self):
        """Weights into fixed-point LoihiLIF neurons must be Loihi's 8-bit integers."""
        for pr in self.projections:
            m = pr.post.population.model
            if getattr(m, "fixed_point", False) and pr.n_synapses:
                w = pr.w
                if np.any(w != np.rint(w)) or np.abs(w).max() > 255:
                    raise ValueError(f"projection {pr.name!r} feeds fixed-point LoihiLIF "
                                     f"neurons: its weights must be integers in [-255, 255], "
                                     f"got range [{w.min()}, {w.max()}]")

    # -- R-STDP bookkeeping -------------------------------------------------------------
    def _rstdp(self):
        return [k for k in range(len(self.projections)) if self.pr_kind[k] == RSTDP_KIND]

    def flush(self, u):
        """Bring every R-STDP synapse up to step ``u`` (weights clipped, eligibility decayed)."""
        dt = self.net.dt
        for k in self._rstdp():
            r = self.pr_rule[k]
            mod = self.modulator_of[k]
            catch_up_range(self.syn_off[k], self.syn_off[k + 1], self.pr_eshift[k], u,
                           self.syn_w, self.elig, self.elig_step, mod._level,
                           mod._level_step, r[11], r[10], r[9], r[12], dt, r[2], r[3])

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
                        phasic_reward(self.syn_off[k], self.syn_off[k + 1], self.pr_eshift[k],
                                      self.syn_w, self.elig, mod._pending, r[10], r[2], r[3])
            else:
                mod._level = mod.level_at(u) + mod._pending
                mod._level_step = u
            mod._pending = 0.0

    def _modulator_state(self):
        for k in self._rstdp():
            mod = self.modulator_of[k]
            self.pr_dop[k], self.pr_dop_step[k] = mod._level, mod._level_step

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
        self._weight_summary()
        self._check_fixed_point_weights()
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
                    self._weight_summary()
            self._snapshot_weights(u)
        finally:
            self.flush(net.step)
            if bar is not None:
                bar.close()

    def _run_chunk(self, u0, u1):
        n = u1 - u0
        ptr, idx = self._inputs(u0, u1)
        pop_ext = self._apply_currents(u0)
        st = self.state
        rows = [((u1 - 1) // e) - ((u0 - 1) // e) for e in self.sm_every]
        sizes = [r * len(m.record) for r, m in zip(rows, self.state_monitors)]
        sm_out_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        sm_out = np.zeros(int(sm_out_off[-1]))
        sm_row = np.zeros(len(self.state_monitors), np.int64)
        rm_out = np.zeros((len(self.rate_monitors), n), np.int32)
        count = np.zeros(1, np.int64)
        s = 0
        while s < n:
            s = run_steps(u0, s, n,
                          self.pop_lo, self.pop_hi, self.pop_coef, self.pop_kind, pop_ext,
                          st["v"], st["u"], st["I_exc"], st["I_inh"], st["ref"], st["I_ext"],
                          st["theta"], self.n_lif,
                          self.ring_exc, self.ring_inh, ptr, idx,
                          self.pr_pre_lo, self.pr_pre_hi, self.pr_post_lo, self.pr_rowptr_off,
                          self.pr_colptr_off, self.pr_sign, self.pr_delay, self.pr_wconst,
                          self.pr_kind, self.pr_dense, self.pr_rule, self.pr_xpre_off,
                          self.pr_xpost_off, self.rowptr, self.syn_post, self.syn_w,
                          self.syn_delay, self.colptr, self.col_syn, self.col_pre, self.x_pre,
                          self.x_post, self.x_pre2, self.x_post2, self.pr_eshift, self.elig,
                          self.elig_step, self.pr_dop,
                          self.pr_dop_step, self.net.dt, self.rec_mask, self.spk_step, self.spk_idx, count,
                          self.max_rec, self.sm_every, self.sm_ptr, self.sm_var, self.sm_idx,
                          sm_row, sm_out_off, sm_out, self.rm_lo, self.rm_hi, rm_out,
                          self.spikes)
            self._flush_spikes(count)
        for m, off, r in zip(self.state_monitors, sm_out_off, rows):
            k = len(m.record)
            first = -(-u0 // m.every) * m.every
            m._record(np.arange(first, u1, m.every, dtype=np.int64)[:r],
                      sm_out[off:off + r * k].reshape(r, k))
        for j, m in enumerate(self.rate_monitors):
            m._record(np.arange(u0, u1, dtype=np.int64), rm_out[j].astype(np.int64))

    def _flush_spikes(self, count):
        c = int(count[0])
        if c:
            steps, gidx = self.spk_step[:c], self.spk_idx[:c]
            for m in self.spike_monitors:
                m._record(steps, gidx, self._glo(m.target))
        count[0] = 0
