"""Inference networks of the five spiking learners (each learner's ``deploy_spec``
calls one of these; :mod:`neuromorph.deploy.api` knows no learner class).

Each builder returns a spec with ``run(X) -> (scores, spikes, network)`` that runs the
samples back to back in one simulation of the core and reads the learner's answer
off the recorded spikes on the host (label-layer spike counts, a learned readout of
spike counts, ...), and ``build()`` for the network itself.
"""
from __future__ import annotations

import numpy as np

from ..models.spiking.layers import count_scores
from .layered import Edge, Layer, LayeredSpec, batched_stream, traces


def _hidden_layer(model, name, layer, **extra):
    """A :class:`Layer` from a learner's :class:`~neuromorph.models.spiking.layers.LIFLayer`."""
    coef = layer.coef
    v_th = float(model.v_th)
    theta0 = layer.v_th0 - v_th
    tau_theta = np.inf if layer.e_theta == 1.0 else -model.dt / np.log(layer.e_theta)
    return Layer(name, layer.n, tau_m=float(model.tau_m), v_th=v_th, v_rest=float(coef[5]),
                 v_reset=float(coef[6]), t_ref=float(coef[8]) * model.dt,
                 theta0=theta0 if np.any(theta0 != 0) else None,
                 theta_plus=float(layer.theta_plus), tau_theta=float(tau_theta), **extra)


def csdp_spec(model):
    """CSDP (label-free inference window): hidden layers z1..zL driven by held currents
    ``R s W + R s_prev V - R_inh s_prev M`` (the label input Y is zero at inference),
    a LIF label layer driven by the traces of every hidden layer through ``R_y C``;
    answer: label-layer spike counts (tie-break: the summed label drive, computed on
    the host from the recorded hidden spikes)."""
    L = len(model.layers_)
    layers, edges = [], []
    for l, layer in enumerate(model.layers_):
        layers.append(_hidden_layer(model, f"z{l + 1}", layer))
    for l, into in enumerate(model.syn_):
        for name, (syn, pre) in into.items():
            if pre == ("label",):
                continue  # zero at inference
            src = "input" if pre == ("layer", 0) else f"z{pre[1]}"
            edges.append(Edge(src, f"z{l + 1}", syn.sign * syn.resistance * syn.W,
                              lag=0 if name == "W" else 1))
    zy = model.label_layer_
    layers.append(Layer("label", zy.n, tau_m=float(model.tau_m), v_th=float(model.v_th),
                        tau_trace=float(model.tau_trace)))
    for l, syn in enumerate(model.readout_):
        edges.append(Edge(f"z{l + 1}", "label", syn.sign * syn.resistance * syn.W, lag=0))
    e_tr = model.layers_[0].e_trace

    def readout(X, rec):
        xs = [traces(rec[f"z{l + 1}"], e_tr) for l in range(L)]
        drive = np.zeros((len(X), zy.n))
        for t in range(model.n_steps):  # the learner's arithmetic, step by step
            i_y = 0.0
            for x, syn in zip(xs, model.readout_):
                i_y = i_y + syn.current(x[:, t])
            drive += i_y
        counts = rec["label"].sum(axis=1).astype(float)
        return count_scores(counts, drive)

    return LayeredSpec(dt=float(model.dt), n_steps=int(model.n_steps),
                       n_inputs=int(model.n_features_in_), layers=layers, edges=edges,
                       readout=readout,
                       input_spikes=lambda X: batched_stream(model, X, model.n_steps,
                                                             model._encoder))


def eqspike_spec(model):
    """EqSpike's free phase: LIF layers h1..hL coupled both ways by the same matrices
    (``W`` up, ``W^T`` down), every layer driven by the traces of its neighbours
    (normalised rates ``ρ = x (1 - E_tr) / (f_max dt)``, previous step) plus a held
    bias ``R b``; rate-coded inputs (``input_encoding="rate"``) are the held current
    ``R x W^1``, Bernoulli inputs a spike source whose trace drives layer 1. Answer: the
    output rates averaged over the second half of the free phase (tie-break: the output
    drive), computed on the host from the recorded spikes."""
    L = len(model.layers_)
    R = float(model.resistance)
    norm = model._norm
    rate_input = model.input_encoding == "rate"
    names = [f"h{l + 1}" for l in range(L - 1)] + ["output"]
    layers = [_hidden_layer(model, name, layer, tau_trace=float(model.tau_trace))
              for name, layer in zip(names, model.layers_)]
    edges = []
    for l, syn in enumerate(model.up_):
        if l == 0 and rate_input:
            continue
        pre = "input" if l == 0 else names[l - 1]
        edges.append(Edge(pre, names[l], syn.resistance * norm * syn.W, lag=0 if l == 0 else 1))
        if l > 0:  # the same matrix, down (W^{l+1})^T from layer l+1 into layer l
            edges.append(Edge(names[l], names[l - 1], syn.resistance * norm * syn.W.T, lag=1))
    half = model.n_free // 2

    def currents(X):
        out = {}
        for l, name in enumerate(names):
            bias = R * model.b_[l]
            out[name] = (model.up_[0].current(X) + bias if (l == 0 and rate_input)
                         else np.broadcast_to(bias, (len(X), len(bias))))
        return out

    def readout(X, rec):
        rates = [traces(rec[name], model._e_trace) * norm for name in names]
        acc = np.zeros((len(X), model.layers_[-1].n))
        drive = np.zeros_like(acc)
        pre = rates[-2] if L > 1 else (traces(rec["input"], model._e_trace) * norm
                                       if not rate_input else None)
        for t in range(model.n_free - half, model.n_free):
            acc += rates[-1][:, t]
            if L > 1:  # the output's drive used the previous step's rates
                r_prev = pre[:, t - 1] if t > 0 else np.zeros_like(pre[:, 0])
                drive += model.up_[-1].current(r_prev) + R * model.b_[-1]
            elif rate_input:
                drive += model.up_[0].current(X) + R * model.b_[0]
            else:
                drive += model.up_[0].current(pre[:, t]) + R * model.b_[0]
        from ..models.spiking.eqspike import _scores
        return _scores(acc / half, drive / half)

    def spikes(X):
        return batched_stream(model, X, model.n_free, model._encoder)

    syn0 = model.up_[0]
    current_weights = {name: ((syn0.sign * syn0.resistance) * syn0.W
                              if (l == 0 and rate_input) else None, R * model.b_[l])
                       for l, name in enumerate(names)}
    return LayeredSpec(dt=float(model.dt), n_steps=int(model.n_free),
                       n_inputs=int(model.n_features_in_), layers=layers, edges=edges,
                       readout=readout, input_spikes=None if rate_input else spikes,
                       input_currents=currents, current_weights=current_weights)


class CoreSpec:
    """A learner that already infers with a core :class:`~neuromorph.Network`
    (STDPClassifier, RSTDPClassifier): its own network builder and presentation loop.

    ``network()`` returns the inference network (no samples wired in); ``run(X)``
    returns ``(scores, recorded spikes, network)``. ``fixed_point()`` maps the network to
    Loihi's constructs (:func:`.quantize.nearest_loihi`) before it runs.
    """

    exact = True

    def __init__(self, build, run, description, convert=None, notes=(), lava=False,
                 weight_exponents=False):
        self._build, self._run, self.description = build, run, description
        self.convert, self.notes = convert, list(notes)
        self.lava = lava  # run(X, convert, engine="lava") exists
        self.weight_exponents = weight_exponents  # nearest_loihi's option

    def network(self):
        net = self._build()
        return net if self.convert is None else self.convert(net)[0]

    def fixed_point(self):
        from functools import partial

        from .quantize import nearest_loihi
        convert = partial(nearest_loihi, weight_exponents=self.weight_exponents)
        notes = convert(self._build())[1]  # raises UnsupportedFeature before any run
        return CoreSpec(self._build, self._run, self.description, convert, notes,
                        self.lava, self.weight_exponents)

    def run(self, X, engine="core", rebuild=None):
        """``(scores, recorded spikes, network)``; ``rebuild(net)``: run the network it
        returns instead, same names and inputs (e.g. read back from NIR)."""
        if engine == "lava":
            return self._run(X, self.convert, engine="lava")
        return self._run(X, self.convert, rebuild=rebuild)

    def with_rest(self, rest):
        """Samples are separated by the learner's own rest/reset (no extra steps)."""
        return self

    def rest_steps(self):
        return 0

    def check_lava(self):
        """Lava runs a network in ``RunSteps`` segments; a learner whose run offers
        ``engine="lava"`` resets its neurons between samples through ``Var.set``
        (:meth:`neuromorph.backends.lava.export.LavaNetwork.set_at`); the others change
        inputs (rates, resets) between samples from Python: not offered."""
        from ..errors import UnsupportedFeature
        if self.lava:
            return
        raise UnsupportedFeature(f"the {self.description} presents samples under host "
                                 f"control (input rates and resets between samples), which "
                                 f"a Lava run has no place for; use backend 'loihi'")


class PresentationSpec(CoreSpec):
    """Diehl & Cook's readout: samples presented one after the other in one simulation,
    each for ``presentation`` ms then ``rest`` ms of silence (no reset: the learner's own
    readout only rests), shown again at a higher input rate when the excitatory layer
    fired fewer than ``min_spikes`` spikes (the learner's ``_present``).

    In Lava (``run(X, engine="lava")``, fixed point only) the host cannot set rates
    between samples, so every presentation's input spike trains are precomputed into
    one spike source: the core's ``"loihi"`` run draws them from the learner's
    evaluation stream, decides the re-presentations from its own spike counts and
    records the input it presented; Lava then runs that whole input, back to back, in
    one simulation. Its spikes equal the core's (the same fixed-point network and
    input), so the re-presentations it would have decided are those the core decided.
    ``max_retries=0`` (``nm.deploy(..., max_retries=0)``) drops re-presentations: one
    presentation per sample, no host decision at all (it costs accuracy:
    ``experiments/results/deploy/diehl_cook.md``).
    """

    def __init__(self, model, presentation, rest, max_retries, convert=None, notes=()):
        self.model, self.presentation, self.rest_ms = model, presentation, rest
        self.max_retries = max_retries
        super().__init__(self._net, None, "Diehl & Cook readout network", convert, notes)

    def _net(self, input_spikes=None):
        m = self.model
        return m.build_network(int(m.n_features_in_), m.eval_seed_, weights=m.weights_,
                               theta=m.theta_, learn=False, input_spikes=input_spikes)[0]

    def fixed_point(self):
        from .quantize import nearest_loihi
        notes = nearest_loihi(self._net())[1]  # raises UnsupportedFeature before any run
        return PresentationSpec(self.model, self.presentation, self.rest_ms,
                                self.max_retries, nearest_loihi, notes)

    def check_lava(self):
        if self.convert is None:
            raise ValueError("Lava runs the fixed-point network (spec.fixed_point())")

    def rest_steps(self):
        """Silent steps between presentations (the learner's ``t_rest``: its readout
        never resets, so no extra rest is needed for Lava to equal the core)."""
        return int(round(self.rest_ms / self.model.dt))

    def with_rest(self, rest):
        if rest != self.rest_steps():
            raise ValueError(f"the Diehl & Cook readout rests {self.rest_steps()} steps "
                             f"between presentations, got {rest}")
        return self

    def _core(self, X):
        """The core run: ``(R, net, monitors, accepted)``: excitatory spike counts per
        sample (its accepted presentation), the network after the run, a spike monitor
        per population (name -> monitor), and the first step of each sample's accepted
        presentation."""
        m = self.model
        net = self._net()
        if self.convert is not None:
            net = self.convert(net)[0]
        pops = {p.name: p for p in net.populations}
        inp = pops["input"]
        spikes = net.spike_monitor(pops["exc"])
        mons = {p.name: net.spike_monitor(p) for p in net.populations}  # all activity
        R = np.zeros((len(X), m.n_neurons))
        per = int(round((self.presentation + self.rest_ms) / m.dt))
        accepted = np.zeros(len(X), np.int64)
        for k, x in enumerate(X):
            R[k], _ = m._present(net, inp, spikes, x, self.presentation, self.rest_ms,
                                       self.max_retries)
            accepted[k] = net.step - per  # its last presentation started there
        return R, net, mons, accepted

    def run(self, X, convert=None, engine="core", rebuild=None):
        """Scores (the learner's votes), recorded activity and the network; ``engine``
        ``"core"`` or ``"lava"`` (fixed point: the core's presentations replayed in
        Lava, see the class notes). ``rebuild(net)`` (e.g. the network read back from
        NIR): the core's presentations replayed in it, as in Lava -- the readout network
        with the presented input as one spike source, rebuilt, run for the same steps,
        the excitatory spikes counted in each sample's accepted presentation."""
        R, net, mons, accepted = self._core(X)
        rec = {"exc_counts": R, "presentation_start": accepted}
        if engine == "lava" or rebuild is not None:
            replay = self._lava if engine == "lava" else \
                (lambda n, mo, acc: self._replay(n, mo, acc, rebuild))
            R, rec["lava" if engine == "lava" else "rebuilt"] = replay(net, mons, accepted)
            rec["exc_counts"], rec["core_exc_counts"] = R, rec["exc_counts"]
        return self.model._votes(R), rec, net

    def _presented(self, mons):
        """The readout network with the input the core presented as one spike source."""
        src = mons["input"]
        return self._net((src.i, src.steps * self.model.dt))

    def _counts(self, steps, idx, accepted):
        """Excitatory spike counts per sample within its accepted presentation."""
        m = self.model
        n_read = int(round(self.presentation / m.dt))
        R = np.zeros((len(accepted), m.n_neurons))
        k = np.searchsorted(accepted, steps, side="right") - 1
        keep = (k >= 0) & (steps - accepted[np.maximum(k, 0)] < n_read)
        np.add.at(R, (k[keep], idx[keep]), 1.0)
        return R

    def _replay(self, net, mons, accepted, rebuild):
        rnet = rebuild(self._presented(mons))
        exc = rnet.spike_monitor(next(p for p in rnet.populations if p.name == "exc"))
        rnet.run(net.step * self.model.dt)
        return self._counts(exc.steps, exc.i, accepted), {"exc": (exc.steps, exc.i)}

    def _lava(self, net, mons, accepted):
        from ..backends.lava import run_lava

        if self.convert is None:
            raise ValueError("Lava runs the fixed-point network (spec.fixed_point())")
        lnet = self.convert(self._presented(mons))[0]
        for p in lnet.populations:
            lnet.spike_monitor(p)
        res = run_lava(lnet, net.step * self.model.dt, fixed_point=True)
        trains = {mo.target.name: (mo.steps, mo.i) for mo in res.monitors}
        return self._counts(*trains["exc"], accepted), trains


def stdp_spec(model, presentation=None, rest=None, max_retries=None):
    """Diehl & Cook's readout network (``build_network(learn=False)``: frozen input
    weights, the learned thresholds ``v_th + theta_`` held constant, the inhibitory
    loop), samples shown back to back in one simulation (``presentation`` ms each,
    default ``t_readout``, then ``rest`` ms of silence, default ``t_rest``; shown again
    at a higher rate if the layer fired fewer than ``min_spikes``, up to
    ``max_retries`` times, default the learner's: its ``_present``). Answer on the host:
    the mean spike count of each class's labelled neurons (``neuron_labels_``).
    See :class:`PresentationSpec`."""
    from .. import _checks

    dt = float(model.dt)
    if presentation is None:
        presentation = model.t_present if model.t_readout is None else model.t_readout
    _checks.number("presentation", presentation, 0, low_open=True)
    _checks.steps("presentation", presentation, dt)
    rest = model.t_rest if rest is None else rest
    _checks.number("rest", rest, 0)
    _checks.steps("rest", rest, dt)
    retries = model.max_retries if max_retries is None else max_retries
    _checks.number("max_retries", retries, 0, integer=True)
    return PresentationSpec(model, float(presentation), float(rest), int(retries))


def rstdp_spec(model):
    """The R-STDP classifier's network without plasticity (``_build(plastic=False)``):
    input spike trains of the evaluation stream, outputs with their homeostatic bias
    currents, urgency ramp, winner-take-all inhibition; trials back to back, outputs
    put back to rest by a run callback. Answer on the host: spike count per class plus
    the earliest first spike (``_class_scores``).

    Loihi fixed point (:func:`.quantize.nearest_loihi`, with per-projection weight
    exponents): the homeostatic drive (a step current per output) becomes a per-neuron
    bias, the slow inhibition keeps its charge per spike on the one current, the
    refractory period is dropped; every trial starts with the outputs' ``v``, ``u`` and
    pending input at 0 (the core: a run callback; Lava: ``Var.set`` between
    ``RunSteps`` segments, :func:`_run_with_resets`)."""

    def build():
        X = np.zeros((1, int(model.n_features_in_)))
        return model._build(X, model._eval_rng(), plastic=False)[0]

    def run(X, convert=None, engine="core", rebuild=None):
        rng = model._eval_rng()
        net, _, _, mon = model._build(X, rng, plastic=False)
        per = int(round(model._period / model.dt))
        if rebuild is not None:  # e.g. read back from NIR: same names, same inputs
            net = rebuild(net)
            mon = net.spike_monitor(next(p for p in net.populations
                                         if p.name == mon.target.name))
        if convert is None:
            for p in net.populations:  # every population's activity (energy estimates)
                net.spike_monitor(p)
            out = mon.target
            net.run(len(X) * per * model.dt,
                    callback=lambda net: model._reset(out, rng, explore=False),
                    every=per * model.dt)
            steps, idx = mon.steps, mon.i
        else:  # fixed point: the homeostatic drive is a per-neuron Loihi bias
            net = convert(net)[0]
            steps, idx = _run_with_resets(net, "output", len(X), per, engine)
        return (model._class_scores(steps, idx, len(X), per),
                {"output_steps": steps, "output_i": idx}, net)

    # weak inputs and urgency next to a strong inhibition: per-projection exponents
    return CoreSpec(build, run, "R-STDP classifier network without plasticity", lava=True,
                    weight_exponents=True)


def _run_with_resets(net, name, n, per, engine):
    """Run ``n`` trials of ``per`` steps of the fixed-point network ``net`` back to back,
    population ``name`` put back to rest (``v = u = 0``, its pending synaptic input
    dropped) at the start of every trial, in the core (a run callback) or in Lava
    (``Var.set`` between ``RunSteps`` segments of one runtime: ``v``, ``u`` of the LIF,
    ``a_buff`` of every connection into it). Returns the spike steps and indices of
    ``name``; every population is monitored (energy estimates)."""
    pops = {p.name: p for p in net.populations}
    out = pops[name]
    mons = {p.name: net.spike_monitor(p) for p in net.populations}
    if engine != "lava":
        def reset(net):
            for var in ("v", "u", "I_exc", "I_inh"):
                out.state[var][:] = 0.0

        net.run(n * per * net.dt, callback=reset, every=per * net.dt)
        return mons[name].steps, mons[name].i
    from ..backends.lava import to_lava

    lv = to_lava(net, n * per * net.dt)
    lif = lv.neurons[name]
    into = [c for pr in net.projections if pr.post.population is out
            for c in lv.connections[pr.name]]
    for k in range(1, n):
        lv.set_at(k * per, lif.v, np.zeros(out.size, np.int32))
        lv.set_at(k * per, lif.u, np.zeros(out.size, np.int32))
        for c in into:
            lv.set_at(k * per, c.a_buff, np.zeros(c.a_buff.shape, np.int32))
    res = lv.run()
    m = next(m for m in res.monitors if m.target.population.name == name)
    return m.steps, m.i


def spiking_pc_spec(model):
    """Spiking PC's free inference window (supervised layout, one hidden level).

    At inference the label error is 0, so the hidden level's input is
    ``I = z̃^1 - j`` and its state current ``j <- j + g (I - κ j)`` (``g = dt/τ_j``) is
    the prediction ``z̃^1 <- z̃^1 + g (s_in W - z̃^1)`` filtered once more: an input
    spike at step τ adds ``g² Σ_{i<k} r^i r_j^{k-1-i} W`` to ``j`` at step τ + k
    (``r = 1 - g``, ``r_j = 1 - g (1 + κ)``), a second-order synapse. The core's
    synaptic current is first order; the exact equivalent is a held current decaying by
    ``r_j`` fed by copies of the input projection delayed by ``m = 1 .. T-1`` steps with
    weights ``g² r^{m-1} W`` (longer delays never reach the window). The label layer is
    driven by ``R_y z̃^y``, the hidden spikes of the previous step through a held
    current decaying by ``r`` with weight ``R_y g W^1``. Answer: label-layer spike
    counts (tie-break: the summed prediction, recomputed on the host).

    Other layouts (unsupervised, several hidden levels, ``state_variable="trace"``,
    ``presynaptic="trace"``) couple real-valued error units to the state:
    :class:`~neuromorph.errors.UnsupportedFeature` naming the level.
    """
    from ..errors import UnsupportedFeature

    problems = []
    if model.mode != "supervised":
        problems.append("mode='unsupervised': the leaf error x - z̃^0 is a real-valued unit")
    if len(model.layers_) != 1:
        problems.append(f"hidden level 2: with {len(model.layers_)} hidden levels the "
                        f"errors j - z̃ of a level are real-valued units feeding the next")
    if model.state_variable != "current" or model.presynaptic != "spikes":
        problems.append("hidden level 1: state_variable='trace' / presynaptic='trace' make "
                        "its input a filter of traces (only 'current' and 'spikes' deploy)")
    if problems:
        raise UnsupportedFeature("SpikingPC cannot be deployed on the core: "
                                 + "; ".join(problems))
    T = int(model.n_steps)
    g = model.dt / model.tau_j
    r, r_j = 1.0 - g, 1.0 - g * (1.0 + model.kappa_j)
    hid = model.layers_[0]
    zy = model.label_layer_
    tau_of = (lambda e: float(-model.dt / np.log(e)))
    W_in, W_lab = model.W_[1].W, model.W_[0].W   # input -> hidden, hidden -> label
    layers = [_hidden_layer(model, "hidden", hid, tau_trace=tau_of(r_j)),
              Layer("label", zy.n, tau_m=float(model.tau_m), v_th=float(model.v_th),
                    tau_trace=tau_of(r))]
    edges = [Edge("input", "hidden", (g * g * r ** (m - 1)) * W_in, lag=m)
             for m in range(1, T)]
    edges.append(Edge("hidden", "label", float(model.readout_resistance) * g * W_lab, lag=1))

    def readout(X, rec):
        s = rec["hidden"].astype(float)
        zbar = np.zeros((len(X), zy.n))
        drive = np.zeros_like(zbar)
        prev = np.zeros((len(X), hid.n))
        for t in range(T):  # the learner's in-place update of z̃^0
            zbar += g * (prev @ W_lab - zbar)
            drive += zbar
            prev = s[:, t]
        counts = rec["label"].sum(axis=1).astype(float)
        return count_scores(counts, drive)

    return LayeredSpec(dt=float(model.dt), n_steps=T, n_inputs=int(model.n_features_in_),
                       layers=layers, edges=edges, readout=readout,
                       input_spikes=lambda X: batched_stream(model, X, T, model._encoder))
