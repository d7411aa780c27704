r"""Layered inference networks on the core: the CSDP / EqSpike layers as LIF populations.

The layered learners (:mod:`neuromorph.models.spiking.layers`) step a batch of LIF
layers whose input current is *held over the step* (``LIFLayer(tau_syn=None)``)::

    v(t+dt) = v_inf + (v - v_inf) E_m,      v_inf = v_rest + I,   I = Σ_pre a_pre W

where the presynaptic activity ``a`` is this or the previous step's spikes, or a spike
trace ``x <- x E_tr + s`` (a readout driven by traces). The core's LIF integrates an
exponential synaptic current exactly over the step,
``v(t+dt) = v_rest + (v - v_rest) E_m + I_syn c_syn`` then ``I_syn <- I_syn E_syn`` and
arriving spikes add their weights. Both are linear in the current, so a core synapse of
weight ``w (1 - E_m) / c_syn`` gives the held current ``w`` exactly (up to rounding):

* spikes held for one step: a synaptic time constant with ``E_syn = exp(-dt/tau) = 0``
  in float64 (``tau = dt / 1000``): the current is gone after the step it acted in;
* traces: ``tau_syn = tau_trace`` (``E_syn = E_tr``): the current is then ``Σ w x``.

Timing. A spike of core step ``u`` reaches its targets' currents at the end of ``u``,
so it acts in step ``u + 1``; layered learners update layer ``l`` with the *same*
step's spikes of the layer below. Layer ``l`` therefore runs ``d_l`` core steps behind
the input (learner step ``t`` of layer ``l`` is core step ``t + d_l``): an edge whose
learner lag is ``λ`` (0: same step, 1: previous step) needs a core delay
``d_post - d_pre + λ - 1 >= 0`` steps. Offsets are the smallest that satisfy the
edges from earlier layers; an edge from a later layer (CSDP's top-down ``V`` with more
than one hidden layer) that would need a negative delay gets delay 0, i.e. arrives
one step later than in the learner: :attr:`LayeredSpec.exact` is then False and
:attr:`LayeredSpec.notes` says so.

Recurrent weights: an edge from a layer to itself with ``λ = 1`` (the layer's own
spikes of the previous step, as in a recurrent LIF layer) needs the delay
``d - d + 1 - 1 = 0``: a spike of core step ``u`` acts in ``u + 1``, as in the learner.

Held input currents (``input_currents``) are the core's step currents
(:meth:`Network.current <neuromorph.Network.current>`, ``v_inf = v_rest + I``: the
learners' held current, exactly): either one per sample, on for the whole window, or
``S`` per sample, each on for ``T/S`` steps (a sequence read row by row, each row held
for several steps).

Per-neuron thresholds (``threshold_jitter``): the core's adaptive threshold
``v_th + theta`` with ``theta`` set, per neuron, to the jitter at the start of every
sample (exact when ``tau_theta`` is infinite, as in CSDP); without an adaptive
threshold, neuron ``j``'s voltage is scaled by ``v_th / v_th0_j`` (its incoming
weights and currents too), exact when ``v_rest = v_reset = 0``.

Samples run back to back in one simulation: sample ``k`` occupies core steps
``[k P, (k + 1) P)`` with ``P = T + max(d) + 1`` (the window and a gap in which every
spike of the window has arrived); a run callback at the end of every period puts
every neuron back at rest (``v``, currents, refractory counters, thresholds, pending
delayed spikes) and sets the next sample's held input currents.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import Network
from ..descriptions.base import current_gain

#: Synaptic time constant (in units of dt) whose per-step decay exp(-1000) is 0.0.
_HELD_TAU = 1e-3


@dataclass
class Layer:
    """A layer of the learner: its LIF parameters in the learner's units (ms, mV).

    ``decay`` is the per-step decay of the held input current (0: spikes act for one
    step; ``exp(-dt/tau_trace)``: a trace-driven current, with ``tau_trace`` given).
    ``theta0``: per-neuron threshold offset (mV) or None.
    """

    name: str
    n: int
    tau_m: float
    v_th: float
    v_rest: float = 0.0
    v_reset: float = 0.0
    t_ref: float = 0.0
    theta0: np.ndarray | None = None
    theta_plus: float = 0.0
    tau_theta: float = math.inf
    tau_trace: float | None = None      # None: spikes held for one step


def weight_parts(W):
    """The synapse matrices of one edge's weights: ``(W,)``, or a fine edge's fixed-point
    ``(coarse, residual)`` pair (:attr:`Edge.fine`)."""
    return W if isinstance(W, tuple) else (W,)


@dataclass
class Edge:
    """Synapses ``pre -> post`` carrying the held current ``a_pre @ W`` (mV).

    ``pre`` is ``"input"`` or a layer name; ``lag`` is the learner's: 0 when ``post``
    uses this step's activity of ``pre``, 1 when it uses the previous step's.
    """

    pre: str
    post: str
    W: np.ndarray
    lag: int = 0
    #: Loihi fixed point only: two synapses per pair, an 8-bit coarse weight with
    #: ``weight_exp = E`` and the 8-bit residual with ``weight_exp = 0`` (about 8 + E
    #: bits; :func:`~neuromorph.deploy.quantize.loihi_layers`), at twice the synaptic
    #: operations. For recurrent weights, whose rounding errors the recurrence amplifies.
    fine: bool = False


@dataclass
class LayeredSpec:
    """A layered learner's inference network and how its samples are read out.

    Parameters
    ----------
    dt : float
        Step (ms).
    n_steps : int
        Window T (steps per sample).
    n_inputs : int
        Input channels (spike source).
    layers, edges : list
        :class:`Layer` and :class:`Edge` in the learner's update order.
    input_spikes : callable or None
        ``input_spikes(X) -> (n, T, n_inputs)`` 0/1 array: the learner's encoder with
        its random stream (None: no spike input).
    input_currents : callable or None
        ``input_currents(X) -> {layer name: array}`` held input currents (mV): an
        ``(n, n_layer)`` array is held for the whole window (rate-coded inputs, biases);
        an ``(n, S, n_layer)`` array changes within the window, segment ``s`` held over
        the learner's steps ``[s T/S, (s + 1) T/S)`` (``S`` must divide ``T``; e.g. a
        sequence read row by row, each row held for ``T/S`` steps).
    current_weights : dict or None
        ``{layer name: (W or None, b)}`` with ``input_currents(X)[name] == X @ W + b``
        (``W`` (n_inputs, n_layer) mV, or None: the constant ``b``): how NIR describes
        the held currents (an ``Input`` of the sample's values through an ``Affine``).
        With ``S`` segments, ``X`` is read as ``(n, S, n_inputs)`` and segment ``s``'s
        current is ``X[:, s] @ W + b``.
    readout : callable
        ``readout(X, spikes) -> (n, C)`` class scores on the host from the recorded
        spikes ``{"input": (n, T, n_in), layer name: (n, T, n_layer)}`` of the window
        (learner time).
    """

    dt: float
    n_steps: int
    n_inputs: int
    layers: list
    edges: list
    readout: object
    input_spikes: object = None
    input_currents: object = None
    current_weights: dict = None
    notes: list = field(default_factory=list)

    def __post_init__(self):
        names = ["input"] + [l.name for l in self.layers]
        order = {name: k for k, name in enumerate(names)}
        self.offsets = {"input": 0}
        self.delays = []
        self.exact = True
        for layer in self.layers:
            d = 0
            for e in self.edges:
                if e.post == layer.name and order[e.pre] < order[layer.name]:
                    d = max(d, self.offsets[e.pre] + 1 - e.lag)
            self.offsets[layer.name] = d
        for e in self.edges:
            D = self.offsets[e.post] - self.offsets[e.pre] + e.lag - 1
            if D < 0:
                self.exact = False
                self.notes.append(f"edge {e.pre} -> {e.post} arrives {-D} step(s) later "
                                  f"than in the learner (a causal network cannot deliver it "
                                  f"earlier)")
            self.delays.append(max(D, 0))

    #: Extra silent steps after every window (0: the state is reset by a run callback;
    #: > 0: no callback, the state decays back to rest -- for Lava, which has none).
    rest = 0

    @property
    def period(self):
        """Steps per sample: the window, the deepest layer's lag, one step, ``rest``."""
        return self.n_steps + max(self.offsets.values()) + 1 + self.rest

    # -- the network -------------------------------------------------------------------
    def _core_layer(self, layer):
        """``(lif kwargs, per-neuron input scale, theta0 to restore)`` of one layer."""
        dt = self.dt
        tau = _HELD_TAU * dt if layer.tau_trace is None else float(layer.tau_trace)
        e_m = np.exp(-dt / layer.tau_m)
        gain = (1.0 - e_m) / current_gain(dt, layer.tau_m, tau)
        scale = np.full(layer.n, 1.0)
        theta0 = None
        if layer.theta0 is not None and np.any(layer.theta0 != 0):
            if layer.theta_plus > 0 and math.isinf(layer.tau_theta):
                theta0 = np.asarray(layer.theta0, float)
            else:  # v_rest = v_reset = 0: neuron j's voltage scaled by v_th / v_th0_j
                scale = layer.v_th / (layer.v_th + np.asarray(layer.theta0, float))
        kwargs = dict(tau_m=layer.tau_m, v_rest=layer.v_rest, v_reset=layer.v_reset,
                      v_th=layer.v_th, t_ref=layer.t_ref, tau_syn_exc=tau, tau_syn_inh=tau,
                      theta_plus=layer.theta_plus, tau_theta=layer.tau_theta)
        return kwargs, gain, scale, theta0

    def fixed_point(self):
        """A copy of this spec that builds Loihi fixed-point neurons
        (:mod:`.quantize`; raises ``UnsupportedFeature`` naming a layer it cannot map)."""
        import copy

        from .quantize import loihi_layers
        loihi, notes = loihi_layers(self)
        out = copy.copy(self)
        out.loihi = loihi
        out.notes = list(self.notes) + notes
        return out

    loihi = None

    def build(self, spikes=None, currents=None):
        """The core :class:`~neuromorph.Network` for samples shown back to back, with
        input spikes ``spikes`` ((n, T, n_inputs) or None) and held input currents
        ``currents`` ({layer: (n, n_layer)} mV or None; on during each sample's window).

        Returns ``(net, populations {name: Population}, theta0s {name: array or None})``.
        """
        net = Network(dt=self.dt, seed=0)
        pops, scales, theta0s, gains = {}, {}, {}, {}
        if spikes is not None and spikes.any():
            k, t, i = np.nonzero(spikes)
            steps = k * self.period + t
            order = np.lexsort((i, steps))
            pops["input"] = net.spike_source(self.n_inputs, indices=i[order],
                                             times=steps[order] * self.dt, name="input")
        else:
            pops["input"] = net.spike_source(self.n_inputs, indices=np.zeros(0, np.int64),
                                             times=np.zeros(0), name="input")
        for layer in self.layers:
            if self.loihi is not None:
                pops[layer.name] = net.loihi_lif(layer.n, name=layer.name,
                                                 **self.loihi[layer.name][0])
                theta0s[layer.name] = None
                continue
            kwargs, gains[layer.name], scales[layer.name], theta0s[layer.name] = \
                self._core_layer(layer)
            P = net.lif(layer.n, name=layer.name, **kwargs)
            if theta0s[layer.name] is not None:
                P.theta[:] = theta0s[layer.name]
            pops[layer.name] = P
        for i, (e, D) in enumerate(zip(self.edges, self.delays)):
            if self.loihi is not None:
                W = self.loihi[e.post][1][i]
            else:
                W = np.asarray(e.W, float) * (gains[e.post] * scales[e.post])[None, :]
            name = f"{e.pre}->{e.post}" + (f"@{D}" if D else "")
            for j, part in enumerate(weight_parts(W)):  # (coarse, residual): two synapses
                if np.any(part != 0):
                    net.connect(pops[e.pre], pops[e.post], matrix=part, delay=D * self.dt,
                                name=name + ("/fine" if j else ""))
        if self.loihi is not None and currents:  # fixed point: per-neuron Loihi biases
            from .quantize import loihi_bias, loihi_current_gains
            gains = loihi_current_gains(self)
            currents = {name: loihi_bias(amps, gains[name], name)
                        for name, amps in currents.items()}
            scales = {name: 1.0 for name in currents}
        for name, amps in (currents or {}).items():  # held over each sample's window
            d = self.offsets[name]
            amps = np.asarray(amps, float)
            segs = self._segments(name, amps)
            for k, amp in enumerate(amps):
                for s, (lo, hi) in enumerate(segs):
                    a = amp if amps.ndim == 2 else amp[s]
                    if self.loihi is not None and not np.any(a):
                        continue  # a zero bias: no current (Lava: no segment)
                    start = k * self.period + d + lo
                    net.current(pops[name], a * scales[name], start=start * self.dt,
                                stop=(start + hi - lo) * self.dt)
        return net, pops, theta0s

    def _segments(self, name, amps):
        """``[(first, stop)]`` learner steps of each held segment of layer ``name``'s
        input currents ``amps`` ((n, n_layer): one segment, the window; (n, S, n_layer):
        ``S`` equal segments)."""
        if amps.ndim == 2:
            return [(0, self.n_steps)]
        S = amps.shape[1]
        if amps.ndim != 3 or S < 1 or self.n_steps % S:
            raise ValueError(f"input currents of layer {name!r} must have shape (n, n_layer) "
                             f"or (n, S, n_layer) with S dividing the window of "
                             f"{self.n_steps} steps, got {amps.shape}")
        m = self.n_steps // S
        return [(s * m, (s + 1) * m) for s in range(S)]

    def network(self):
        """The inference network (no samples wired in)."""
        return self.build()[0]

    def with_rest(self, rest):
        """A copy whose samples are separated by ``rest`` silent steps instead of a reset."""
        import copy

        out = copy.copy(self)
        out.rest = int(rest)
        return out

    # -- running -----------------------------------------------------------------------
    def check_nir(self):
        """Raise :class:`~neuromorph.errors.UnsupportedFeature` naming the first layer NIR
        cannot describe: held input currents have no NIR node. (Per-neuron thresholds
        are the nodes' ``v_threshold``; an adaptive threshold, CSDP's, goes into the
        nodes' metadata: :func:`neuromorph.backends.nir.to_nir`, ``adaptation``.)"""
        from ..errors import UnsupportedFeature

        if self.input_currents is not None:
            name = next(iter(self.input_currents(np.zeros((0, self.n_inputs)))))
            if self.current_weights is None:
                raise UnsupportedFeature(f"layer {name!r} takes held input currents that "
                                         f"are no affine map of the input (no NIR node)")
            starts = {self.offsets[name] for name in self.current_weights}
            if len(starts) > 1:
                raise UnsupportedFeature(f"layer {name!r}: held input currents start at "
                                         f"different steps in different layers; one NIR "
                                         f"Input cannot hold them")

    #: Name of the NIR ``Input`` node that holds a sample's values (held currents).
    HELD_INPUT = "input.values"

    def nir_held_nodes(self):
        """``(nodes, edges)`` of the held input currents (see :meth:`check_nir`): an
        ``Input`` node :attr:`HELD_INPUT` of the sample's values (held over each
        window; ``metadata['neuromorph.held'] = True``) and per layer an ``Affine``
        ``'<layer>.held'`` into it with ``weight = (W s)^T``, ``bias = b s`` (``s``:
        the layer's per-neuron threshold scale). A ``CubaLIF`` node takes the current
        ``r w_in (W x + b)`` at its steady state (:func:`neuromorph.backends.nir.from_nir`
        reads a held input as that step current; other tools filter it through the
        node's ``tau_syn``)."""
        import nir

        if not self.current_weights:
            return {}, []
        nodes, edges = {}, []
        nodes[self.HELD_INPUT] = nir.Input(np.array([self.n_inputs]),
                                           metadata={"neuromorph.held": True})
        for layer in self.layers:
            if layer.name not in self.current_weights:
                continue
            W, b = self.current_weights[layer.name]
            scale = self._core_layer(layer)[2]
            W = np.zeros((self.n_inputs, layer.n)) if W is None else np.asarray(W, float)
            nodes[f"{layer.name}.held"] = nir.Affine(weight=(W * scale[None, :]).T,
                                                     bias=np.asarray(b, float) * scale)
            edges += [(self.HELD_INPUT, f"{layer.name}.held"), (f"{layer.name}.held",
                                                                layer.name)]
        return nodes, edges

    def nir_held_values(self, X):
        """``{HELD_INPUT: (start ms, stop ms, values (n S, n_inputs))}`` of ``X``'s windows
        (for :func:`neuromorph.backends.nir.from_nir`'s ``held_inputs``): one per sample,
        or ``S`` per sample when ``X`` has ``S n_inputs`` features (segments, each held
        for ``T/S`` steps)."""
        if not self.current_weights:
            return {}
        X = np.asarray(X, float)
        d = self.offsets[next(iter(self.current_weights))]
        S = X.shape[1] // self.n_inputs   # segments: X holds S values of n_inputs each
        m = self.n_steps // S
        k, s = np.divmod(np.arange(len(X) * S), S)
        start = (k * self.period + d + s * m) * self.dt
        return {self.HELD_INPUT: (start, start + m * self.dt,
                                  X.reshape(len(X) * S, self.n_inputs))}

    def check_lava(self):
        """Raise :class:`~neuromorph.errors.UnsupportedFeature` naming the layer whose
        synaptic delays exceed Loihi 2's 6 bits (0-63 steps). An edge whose fixed-point
        weights are all zero is not built (:meth:`build`), so its delay does not count:
        SpikingPC's copies of the input delayed by ``m`` steps weigh ``r^(m-1)`` of the
        first, below half of Loihi's 8-bit weight step long before ``m = 64`` with the
        default ``tau_j = 10 dt``, so its Lava network is the ``"loihi"`` one, exactly."""
        from ..backends.lava.rules import MAX_DELAY
        from ..errors import UnsupportedFeature

        for i, (e, D) in enumerate(zip(self.edges, self.delays)):
            if D <= MAX_DELAY:
                continue
            if self.loihi is not None and not any(
                    np.any(part != 0) for part in weight_parts(self.loihi[e.post][1][i])):
                continue  # quantised to zero: build() makes no synapse to delay
            raise UnsupportedFeature(f"layer {e.post!r}: its input from {e.pre!r} needs "
                                     f"a delay of {D} steps; Loihi 2 (Lava) allows "
                                     f"0-{MAX_DELAY} (use n_steps <= {MAX_DELAY + 1})")

    def run(self, X, engine="core", rebuild=None):
        """Scores of ``X`` ((n, n_features) checked by the learner) and the recorded
        spikes, all samples back to back in one simulation: of the core (``engine=
        "core"``; reset by a run callback unless :attr:`rest` > 0) or of Lava
        (``engine="lava"``, Loihi fixed point with ``rest`` > 0 only). ``rebuild(net)``
        may replace the built network by an equivalent one (same population names)."""
        if engine == "lava":
            return self._run_lava(X)
        n = len(X)
        spikes = self.input_spikes(X) if self.input_spikes is not None else None
        cur = self.input_currents(X) if self.input_currents is not None else {}
        net, pops, theta0s = self.build(spikes, cur)
        if rebuild is not None:  # e.g. the network read back from a NIR file
            net = rebuild(net)
            pops = {p.name: p for p in net.populations}
        mons = {name: net.spike_monitor(p) for name, p in pops.items()}

        def rest(net):
            for layer in self.layers:
                p = pops[layer.name]
                p.v[:] = layer.v_rest
                p.I_exc[:] = 0.0
                p.I_inh[:] = 0.0
                p.population.state["ref"][:] = 0
                p.population.state["u"][:] = 0.0
                if theta0s[layer.name] is not None:
                    p.theta[:] = theta0s[layer.name]
            sim = net._sim
            sim.ring_exc[:] = 0.0
            sim.ring_inh[:] = 0.0

        if n and self.rest:
            net.run(n * self.period * self.dt)
        elif n:
            net.run(n * self.period * self.dt, callback=rest, every=self.period * self.dt)
        return self._read(X, spikes, {name: (m.steps, m.i) for name, m in mons.items()}, net)

    def _read(self, X, spikes, trains, net):
        n = len(X)
        rec = {"input": spikes if spikes is not None else np.zeros((n, self.n_steps, 0))}
        for layer in self.layers:
            steps, idx = trains[layer.name]
            rec[layer.name] = self.windows(steps, idx, n, layer.n, self.offsets[layer.name])
        return self.readout(X, rec), rec, net

    def _run_lava(self, X):
        """The same network in Lava's bit-accurate simulation of Loihi 2."""
        from ..backends.lava import run_lava

        if self.loihi is None or not self.rest:
            raise ValueError("Lava runs the fixed-point network with a rest period "
                             "(spec.fixed_point().with_rest(spec.rest_steps()))")
        spikes = self.input_spikes(X) if self.input_spikes is not None else None
        cur = self.input_currents(X) if self.input_currents is not None else {}
        net, pops, _ = self.build(spikes, cur)  # held currents: per-neuron biases
        for name, p in pops.items():
            net.spike_monitor(p)
        res = run_lava(net, len(X) * self.period * self.dt, fixed_point=True)
        trains = {m.target.name: (m.steps, m.i) for m in res.monitors}
        return self._read(X, spikes, trains, net)

    def rest_steps(self):
        """Silent steps after which every fixed-point neuron is back at exactly 0 from
        any state (Loihi's truncating decays reach 0 in finitely many steps)."""
        if self.loihi is None:
            raise ValueError("rest_steps needs the fixed-point spec (fixed_point())")

        def steps_to_zero(factor):
            x, k = 2**23 - 1, 0
            while x and k < 100000:
                x = (x * factor) >> 12
                k += 1
            return k

        worst = 0
        for kwargs, _, _ in self.loihi.values():
            worst = max(worst, steps_to_zero(4095 - kwargs["du"])
                        + steps_to_zero(4096 - kwargs["dv"]) + 1)
        return worst

    def windows(self, steps, idx, n, size, offset):
        """Spikes ``(n, T, size)`` of each sample's window (learner time) from core steps."""
        out = np.zeros((n, self.n_steps, size), bool)
        k, r = np.divmod(np.asarray(steps) - offset, self.period)
        keep = (r >= 0) & (r < self.n_steps) & (k >= 0) & (k < n)
        out[k[keep], r[keep], np.asarray(idx)[keep]] = True
        return out


def traces(spikes, decay):
    """Spike traces ``x_t = x_{t-1} decay + s_t`` of (n, T, m) spikes, as the learners'
    :func:`~neuromorph.kernels.layers.trace_batch_step` computes them (same arithmetic)."""
    x = np.zeros((spikes.shape[0], spikes.shape[2]))
    out = np.empty(spikes.shape)
    for t in range(spikes.shape[1]):
        x = x * decay
        x = np.where(spikes[:, t], x + 1.0, x)
        out[:, t] = x
    return out


def batched_stream(model, X, T, draw, batch_size=500):
    """The learner's input stream: ``draw(X_batch, rng)`` called ``T`` times per batch of
    ``batch_size`` rows with one ``model._eval_rng()``, as its ``_scores`` does;
    returns (n, T, n_features) spikes."""
    rng = model._eval_rng()
    out = np.zeros((len(X), T, X.shape[1]), bool)
    for s in range(0, len(X), batch_size):
        xb = X[s:s + batch_size]
        for t in range(T):
            out[s:s + batch_size, t] = draw(xb, rng) > 0
    return out
