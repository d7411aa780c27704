"""Network description: populations, projections, inputs and monitors (pure data).

Everything is validated when it is added, before anything changes, so a bad call
raises a clear ``ValueError``/``TypeError`` and leaves the network as it was. The
engine (:mod:`neuromorph.simulator`) compiles this description into flat arrays;
backends (Brian2, Lava, NIR) read it too.

Units: time in ms, voltage in mV, rates in Hz, weights in mV (the jump of the
postsynaptic current per spike).
"""
from __future__ import annotations

import numbers

import numpy as np

from . import _checks, connectivity
from .descriptions import RuleDescription, describe, rules
from .distributions import Distribution, draw
from .modulation import RewardSignal
from .monitors import RateMonitor, SpikeMonitor, StateMonitor, WeightMonitor
from .neurons import LIF, LoihiLIF, PoissonInput, SpikeTimes



def _state_view(name, doc):
    """Read-only property: the neurons' slice of the population's state ``name``."""
    return property(lambda self: self._state(name), doc=doc)


class _Neurons:
    """A contiguous range ``[start, stop)`` of one population's neurons."""

    population: "Population"
    start: int
    stop: int

    @property
    def size(self):
        return self.stop - self.start

    def __len__(self):
        return self.size

    def __getitem__(self, key):
        """A view on neurons ``key`` (an int or a slice), like a Python sequence but strict.

        Negative indices and bounds count from the end (``P[-2:]``: the last two). A
        bound outside ``[-size, size]`` raises ``IndexError`` instead of being clipped
        (``P[3:9]`` of 5 neurons is an error, not ``P[3:5]``); a step other than 1 raises
        ``ValueError`` (views are contiguous); non-integer bounds raise ``TypeError``.
        An empty range (``P[5:]``, ``P[3:1]``) is an empty view.
        """
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            k = int(key) + (self.size if key < 0 else 0)
            if not 0 <= k < self.size:
                raise IndexError(f"index {key} out of range for {self.size} neurons")
            key = slice(k, k + 1)
        if not isinstance(key, slice):
            raise TypeError(f"populations are indexed by int or slice, got {type(key).__name__}")
        for bound in (key.start, key.stop):
            if bound is not None and (not isinstance(bound, numbers.Integral)
                                      or isinstance(bound, bool)):
                raise TypeError(f"slice bounds must be integers, got {bound!r}")
            if bound is not None and not -self.size <= bound <= self.size:
                raise IndexError(f"slice [{key.start}:{key.stop}] out of range for "
                                 f"{self.size} neurons (bounds in [-{self.size}, "
                                 f"{self.size}])")
        lo, hi, step = key.indices(self.size)
        if step != 1:
            raise ValueError("population views must be contiguous (slice step 1)")
        hi = max(hi, lo)
        return PopulationView(self.population, self.start + lo, self.start + hi)

    def _state(self, name):
        return self.population.state[name][self.start:self.stop]

    v = _state_view("v", "Membrane potential (mV), a view on the population's state.")
    I_exc = _state_view("I_exc", "Excitatory synaptic current (mV).")
    I_inh = _state_view("I_inh", "Inhibitory synaptic current (mV).")
    theta = _state_view("theta", "Adaptive threshold raise (mV): the threshold is "
                        "``v_th + theta``.")

    def overlaps(self, other):
        return (self.population is other.population and self.start < other.stop
                and other.start < self.stop)


class Population(_Neurons):
    """A group of neurons sharing one model (:class:`~neuromorph.neurons.LIF` or an input).

    Index or slice it (``P[:3200]``) to connect or monitor part of it.
    """

    #: The :class:`Network` it was built in (set when it is added).
    network = None

    def __init__(self, name, size, model, state):
        self.name = name
        self.model = model
        self.population = self
        self.start, self.stop = 0, size
        self.state = state

    @property
    def description(self):
        """The model's :class:`~neuromorph.descriptions.NeuronDescription`."""
        return describe(self.model)

    @property
    def is_lif(self):
        """True for simulated neurons (LIF or LoihiLIF), False for inputs (the
        description's ``simulated``)."""
        return describe(self.model).simulated

    @property
    def is_loihi(self):
        """True for :class:`~neuromorph.neurons.LoihiLIF` neurons (the description's
        ``loihi_semantics``)."""
        return describe(self.model).loihi_semantics

    def __repr__(self):
        return f"Population({self.name!r}, {self.size}, {type(self.model).__name__})"


class PopulationView(_Neurons):
    """Neurons ``start:stop`` of a population."""

    def __init__(self, population, start, stop):
        self.population, self.start, self.stop = population, start, stop

    @property
    def name(self):
        return f"{self.population.name}[{self.start}:{self.stop}]"

    def __repr__(self):
        return f"PopulationView({self.name})"


class Projection:
    """Synapses from ``pre`` to ``post``, stored once, in CSR order (sorted by pre, then
    post).

    The synapses of presynaptic neuron ``j`` are ``rowptr[j]:rowptr[j + 1]``; each
    per-synapse array below is in that order. After the first run they are views on the
    engine's arrays (nothing is stored twice).

    Attributes
    ----------
    rowptr : ndarray of int64, shape (n_pre + 1,)
        Row pointers of the CSR layout.
    targets : ndarray of int32
        Post index (within ``post``) of every synapse.
    sources : ndarray of int32
        Pre index (within ``pre``) of every synapse (built on demand).
    w : ndarray of float64
        Weight of every synapse (mV); writable view, changed in place by plasticity.
        A projection made with one scalar weight stores no weight array
        (:attr:`w_const`); reading ``w`` creates it (and the network recompiles).
    delay_steps : ndarray of int32
        Delay of every synapse in steps of ``dt`` (built on demand when all delays are
        equal).
    """

    #: The :class:`Network` it was built in (set when it is added).
    network = None
    #: How ``net.connect`` drew the synapses, for backends that let the other simulator
    #: draw its own (NEST's ``connectivity='rules'``): ``{'rule': 'pairwise_bernoulli',
    #: 'p': p, 'allow_autapses': bool}``, ``'all_to_all'`` or ``'one_to_one'``; None for
    #: explicit matrices.
    connectivity = None

    def __init__(self, name, pre, post, rowptr, targets, w, delay_steps, plasticity, dt,
                 modulator=None):
        self.name = name
        self.modulator = modulator
        #: Eligibility of every synapse (mV), for R-STDP projections (current whenever
        #: control is in Python); None otherwise.
        self.eligibility = None
        self.pre, self.post = pre, post
        self._rowptr = np.asarray(rowptr, np.int64)
        self._targets = targets
        self._w, self._w_const = (None, float(w)) if np.ndim(w) == 0 else (w, None)
        self._delay, self._delay_const = ((None, int(delay_steps)) if np.ndim(delay_steps) == 0
                                          else (delay_steps, None))
        self.plasticity = plasticity
        self._dt = dt

    @classmethod
    def from_pairs(cls, name, pre, post, sources, targets, w, delay_steps, plasticity, dt,
                   modulator=None):
        """A projection from synapse lists already in CSR order (``sources`` sorted)."""
        rowptr = np.searchsorted(np.asarray(sources), np.arange(pre.size + 1))
        return cls(name, pre, post, rowptr, np.asarray(targets, np.int32), w, delay_steps,
                   plasticity, dt, modulator)

    @property
    def n_synapses(self):
        return len(self._targets)

    @property
    def rowptr(self):
        return self._rowptr

    @property
    def targets(self):
        return self._targets

    @property
    def sources(self):
        return np.repeat(np.arange(self.pre.size, dtype=np.int32), np.diff(self._rowptr))

    @property
    def w_const(self):
        """The weight (mV) shared by every synapse when no weight array is stored, else
        None."""
        return self._w_const

    @property
    def w(self):
        if self._w is None:
            self._w = np.full(self.n_synapses, self._w_const)
            self._w_const = None
            if self.network is not None:
                self.network._stale = True
        return self._w

    @w.setter
    def w(self, value):
        """Write weights into the stored array (``proj.w *= 2`` and ``proj.w = x`` keep
        it a view on the engine's array)."""
        target = self.w
        if value is not target:
            target[...] = value

    @property
    def delay_const(self):
        """The delay (steps) shared by every synapse when no delay array is stored, else
        None."""
        return self._delay_const

    @property
    def delay_steps(self):
        if self._delay is None:
            return np.full(self.n_synapses, self._delay_const, np.int32)
        return self._delay

    def _weight_values(self):
        return self._w if self._w is not None else np.full(self.n_synapses, self._w_const)

    def _dense(self, values):
        out = np.zeros((self.pre.size, self.post.size))
        out[self.sources, self.targets] = values
        return out

    @property
    def weights(self):
        """Weights (mV) as a dense ``(n_pre, n_post)`` array; 0 where no synapse."""
        return self._dense(self._weight_values())

    @weights.setter
    def weights(self, value):
        vals = connectivity.pairs_values("weights", value, self.sources, self.targets,
                                         self.pre.size, self.post.size)
        self.w[:] = vals

    @property
    def delays(self):
        """Delays (ms) as a dense ``(n_pre, n_post)`` array; 0 where no synapse."""
        return self._dense(self.delay_steps * self._dt)

    def normalize(self, total):
        """Scale each postsynaptic neuron's incoming weights to sum to ``total`` (mV).

        The weight normalisation of Diehl & Cook (2015), applied between samples.
        Neurons whose incoming weights sum to 0 are left unchanged.
        """
        total = _checks.real("total", total)
        w = self.w
        sums = np.bincount(self.targets, weights=w, minlength=self.post.size)
        scale = np.divide(total, sums, out=np.ones_like(sums), where=sums != 0)
        w *= scale[self.targets]
        if self.plasticity is not None:
            np.clip(w, self.plasticity.w_min, self.plasticity.w_max, out=w)

    def to_sparse(self):
        """Weights as a ``scipy.sparse.csr_matrix`` of shape ``(n_pre, n_post)``."""
        import scipy.sparse as sp
        return sp.csr_matrix((self._weight_values(), self.targets, self._rowptr),
                             shape=(self.pre.size, self.post.size))

    def __repr__(self):
        return (f"Projection({self.name!r}, {self.pre.name} -> {self.post.name}, "
                f"{self.n_synapses} synapses)")


class CurrentInjection:
    """A step current ``amplitude`` (mV) into neurons of ``target`` for steps [on, off)."""

    def __init__(self, target, amplitude, on, off):
        self.target, self.amplitude, self.on, self.off = target, amplitude, on, off


def _as_neurons(name, obj):
    if not isinstance(obj, _Neurons):
        raise TypeError(f"{name} must be a population or a view of one, got {type(obj).__name__}")
    return obj


class Network:
    """A spiking network: build it, add monitors, then :meth:`run` it.

    Parameters
    ----------
    dt : float
        Time step (ms), > 0.
    seed : int or None
        Seed of every random draw (connectivity, initial values, Poisson inputs). The
        same seed gives bit-identical spikes and weights. ``None`` picks fresh entropy
        (stored in :attr:`seed`).

    Examples
    --------
    >>> import neuromorph as nm
    >>> net = nm.Network(dt=0.1, seed=1)
    >>> P = net.lif(100, tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_th=-50.0)
    >>> spikes = net.spike_monitor(P)
    >>> net.run(100.0)
    """

    def __init__(self, dt=0.1, seed=None, **kwargs):
        _checks.no_extra("Network", kwargs)
        self.dt = _checks.positive("dt", dt, "ms")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        self.seed = _checks.integer("seed", seed, minimum=0)
        self.populations: list[Population] = []
        self.projections: list[Projection] = []
        self.currents: list[CurrentInjection] = []
        self.monitors: list = []
        self.modulators: list[RewardSignal] = []
        self.step = 0
        self._n_draws = 0
        self._sim = None
        self._stale = True

    def __repr__(self):
        return (f"Network(dt={self.dt}, seed={self.seed}, {len(self.populations)} "
                f"populations, {len(self.projections)} projections)")

    def _own(self, name, obj):
        """``obj`` (neurons) checked to belong to this network."""
        obj = _as_neurons(name, obj)
        if not any(p is obj.population for p in self.populations):
            raise ValueError(f"{name}: population {obj.population.name!r} belongs to "
                             f"{self._other(obj.population)}, not to this one ({self!r}); "
                             f"connect and monitor populations of one network")
        return obj

    @staticmethod
    def _other(item):
        """The network a population or projection was built in, for error messages."""
        return "another network" if item.network is None \
            else f"another network ({item.network!r})"

    # -- randomness -------------------------------------------------------------
    def _rng(self):
        """Generator for the next construction call (advanced only on success)."""
        return np.random.default_rng(np.random.SeedSequence(self.seed,
                                                            spawn_key=(0, self._n_draws)))

    def _commit(self, item, where):
        if isinstance(item, (Population, Projection)):
            item.network = self
        self._n_draws += 1
        where.append(item)
        self._stale = True
        return item

    @property
    def t(self):
        """Current simulation time (ms)."""
        return self.step * self.dt

    def _name(self, name, kind, existing):
        if name is None:
            return f"{kind}{len(existing)}"
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        if any(x.name == name for x in existing):
            raise ValueError(f"name {name!r} is already used")
        return name

    # -- populations ------------------------------------------------------------
    def lif(self, n, *, tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_th=-50.0, t_ref=0.0,
            tau_syn_exc=5.0, tau_syn_inh=5.0, theta_plus=0.0, tau_theta=float("inf"),
            theta_frozen=False, v_init=None, name=None, **kwargs):
        """Add ``n`` LIF neurons (:class:`~neuromorph.neurons.LIF`; all parameters in ms/mV).

        ``v_init`` (mV) is a scalar, an array of length ``n`` or a distribution such as
        ``nm.uniform(-60.0, -50.0)``; default ``v_rest``. ``t_ref`` must be a multiple
        of ``dt``. ``theta_plus`` / ``tau_theta`` give an adaptive threshold (the
        per-neuron raise ``P.theta``, mV, is state like ``P.v``); ``theta_frozen=True``
        holds ``P.theta`` constant in the threshold ``v_th + P.theta`` (per-neuron
        thresholds, e.g. learned ones frozen for testing).
        """
        _checks.no_extra("lif", kwargs)
        n = _checks.integer("n", n, minimum=1)
        model = LIF(tau_m=tau_m, v_rest=v_rest, v_reset=v_reset, v_th=v_th, t_ref=t_ref,
                    tau_syn_exc=tau_syn_exc, tau_syn_inh=tau_syn_inh, theta_plus=theta_plus,
                    tau_theta=tau_theta, theta_frozen=theta_frozen)
        if _checks.steps("t_ref", model.t_ref, self.dt) >= 2**31 - 2:  # int32 counter
            raise ValueError(f"t_ref must be < {(2**31 - 2) * self.dt:g} ms "
                             f"(2**31 - 2 steps of dt), got {model.t_ref}")
        name = self._name(name, "lif", self.populations)
        v0 = draw("v_init", model.v_rest if v_init is None else v_init, self._rng(), n)
        state = {"v": v0, "I_exc": np.zeros(n), "I_inh": np.zeros(n),
                 "ref": np.zeros(n, np.int32), "I_ext": np.zeros(n), "theta": np.zeros(n)}
        return self._commit(Population(name, n, model, state), self.populations)

    def loihi_lif(self, n, *, du=0, dv=0, vth=10, bias_mant=0, bias_exp=0,
                  fixed_point=False, v_init=0.0, u_init=0.0, name=None, **kwargs):
        """Add ``n`` Loihi CUBA neurons (:class:`~neuromorph.neurons.LoihiLIF`).

        One step of ``dt`` is one Loihi time step. Parameters are Lava's (``du``, ``dv``
        decays, threshold ``vth``, bias ``bias_mant * 2**bias_exp``) in floating or
        fixed point; see :class:`~neuromorph.neurons.LoihiLIF` for ranges and units.
        Weights into fixed-point neurons must be integers in [-255, 255] (a projection
        may scale all of its weights by one ``2**e``, ``e`` in 0-7: Lava's
        ``weight_exp``). Spikes
        through a delay-0 synapse arrive in the next step (Lava's ``Dense``).

        ``v_init``, ``u_init``: initial voltage and current (scalar, array of length
        ``n`` or distribution; integers within 24 bits in fixed point).

        Examples
        --------
        >>> import neuromorph as nm
        >>> net = nm.Network(dt=1.0, seed=0)
        >>> P = net.loihi_lif(10, du=410, dv=205, vth=100, bias_mant=120, bias_exp=6,
        ...                   fixed_point=True)
        """
        _checks.no_extra("loihi_lif", kwargs)
        n = _checks.integer("n", n, minimum=1)
        model = LoihiLIF(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp,
                         fixed_point=fixed_point)
        name = self._name(name, "loihi", self.populations)
        rng = self._rng()
        state = {"I_exc": np.zeros(n), "I_inh": np.zeros(n), "ref": np.zeros(n, np.int32),
                 "I_ext": np.zeros(n)}
        for var, spec in (("v", v_init), ("u", u_init)):
            x = draw(f"{var}_init", spec, rng, n)
            if model.fixed_point and (np.any(x != np.rint(x)) or
                                      np.any(np.abs(x) > 2**23 - 1)):
                raise ValueError(f"{var}_init must be integers in [-(2**23 - 1), 2**23 - 1] "
                                 f"in fixed point, got range [{x.min()}, {x.max()}]")
            state[var] = x
        return self._commit(Population(name, n, model, state), self.populations)

    def poisson(self, n, rate, *, name=None, **kwargs):
        """Add ``n`` independent Poisson spike sources firing at ``rate`` (Hz, scalar or array)."""
        _checks.no_extra("poisson", kwargs)
        n = _checks.integer("n", n, minimum=1)
        model = self._poisson_model(n, rate)
        name = self._name(name, "poisson", self.populations)
        return self._commit(Population(name, n, model, {}), self.populations)

    def _poisson_model(self, n, rate):
        rate = np.broadcast_to(_checks.finite_array("rate", rate), (n,)) \
            if np.ndim(rate) == 0 else rate
        model = PoissonInput(rate)
        if model.rate.shape != (n,):
            raise ValueError(f"rate must be a scalar or have shape ({n},), got {model.rate.shape}")
        if np.any(model.rate * self.dt * 1e-3 > 1.0):
            raise ValueError(f"rate must be <= 1000/dt = {1000 / self.dt} Hz (at most one "
                             f"spike per step), got max {model.rate.max()} Hz")
        return model

    def set_rate(self, population, rate):
        """Change the rates (Hz, scalar or one per neuron) of a Poisson population from now on.

        Use it between runs or in a run callback, e.g. to present a new image. Spike
        trains depend only on the seed and on the steps at which rates change.
        """
        if not isinstance(population, Population) or \
                describe(population.model).input_kind != "poisson":
            raise TypeError("set_rate needs a Poisson population (net.poisson(...)), got "
                            f"{population!r}")
        if population not in self.populations:
            raise ValueError(f"{population.name!r} is not a population of this network")
        model = self._poisson_model(population.size, rate)
        if np.array_equal(model.rate, population.model.rate):
            return  # unchanged: keep the spike trains already drawn
        population.model = model
        if self._sim is not None and population in self._sim.poisson:
            self._sim.poisson[population].set_rate(model.rate, self.step)

    def spike_source(self, n, indices, times, *, name=None, **kwargs):
        """Add ``n`` neurons that fire at given times.

        Parameters
        ----------
        indices : array of int
            Neuron (0..n-1) of each spike.
        times : array of float
            Time of each spike (ms), >= 0 and a multiple of ``dt``; a neuron fires at
            most once per step.
        """
        _checks.no_extra("spike_source", kwargs)
        n = _checks.integer("n", n, minimum=1)
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError("indices must be a one-dimensional array of integers")
        t = _checks.finite_array("times", times)
        if t.shape != idx.shape:
            raise ValueError(f"indices and times must have the same shape, got {idx.shape} "
                             f"and {t.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"indices must be in [0, {n - 1}], got [{idx.min()}, {idx.max()}]")
        st = np.atleast_1d(_checks.steps("times", t, self.dt)).astype(np.int64)
        order = np.lexsort((idx, st))
        idx, st = idx[order].astype(np.int32), st[order]
        if idx.size and np.any((np.diff(st) == 0) & (np.diff(idx) == 0)):
            raise ValueError("a neuron of a spike source may fire at most once per step")
        name = self._name(name, "source", self.populations)
        return self._commit(Population(name, n, SpikeTimes(idx, st), {}), self.populations)

    # -- connections ------------------------------------------------------------
    def connect(self, pre, post, *, p=None, w=None, matrix=None, delay=0.0,
                connectivity_rule=None, allow_self=True, plasticity=None, modulator=None,
                name=None, **kwargs):
        """Connect ``pre`` to ``post`` (populations or views; ``post`` must be LIF).

        Parameters
        ----------
        pre, post : Population or PopulationView
        p : float, optional
            Connection probability in [0, 1] (independent per pair).
        w : float, array or Distribution
            Weight (mV): a positive weight feeds ``I_exc``, a negative one ``I_inh``.
            Scalar, distribution, or a dense ``(n_pre, n_post)`` array.
        matrix : ndarray or scipy.sparse matrix, optional
            ``(n_pre, n_post)`` weights (mV); zero entries are not synapses. Excludes
            ``p``, ``w`` and ``connectivity_rule``.
        delay : float, array or Distribution
            Delay (ms, >= 0, multiples of ``dt``): scalar or ``(n_pre, n_post)`` array.
        connectivity_rule : {'all_to_all', 'one_to_one'}, optional
            Used when neither ``p`` nor ``matrix`` is given (default all-to-all).
        allow_self : bool
            If False, no synapse joins a neuron to itself (when pre and post overlap).
        plasticity : STDP, RSTDP or TripletSTDP, optional
            Learning rule of the synapses.
        modulator : RewardSignal, optional
            The reward signal of an R-STDP projection; default: the network's only
            reward signal (see :meth:`reward_signal`).
        """
        _checks.no_extra("connect", kwargs)
        pre, post = self._own("pre", pre), self._own("post", post)
        if not describe(post.population.model).simulated:
            raise TypeError(f"post must be LIF neurons, got {type(post.population.model).__name__}")
        if plasticity is not None and getattr(post.population.model, "fixed_point", False):
            raise TypeError(f"plasticity onto fixed-point LoihiLIF neurons "
                            f"({post.population.name!r}) is not supported: the engine's "
                            f"STDP updates are real-valued")
        if plasticity is not None and not isinstance(describe(plasticity, None),
                                                     RuleDescription):
            raise TypeError(f"plasticity must be one of {[d.name for d in rules()]}, "
                            f"got {type(plasticity).__name__}")
        if not isinstance(allow_self, bool):
            raise TypeError("allow_self must be a bool")
        if modulator is not None:
            if plasticity is None or not describe(plasticity).needs_modulator:
                raise TypeError("modulator is only used with plasticity=RSTDP(...)")
            if not isinstance(modulator, RewardSignal) or modulator not in self.modulators:
                raise TypeError("modulator must be a reward signal of this network "
                                "(net.reward_signal(...))")
        given = [k for k, v in (("p", p), ("matrix", matrix),
                                ("connectivity_rule", connectivity_rule)) if v is not None]
        if len(given) > 1:
            raise TypeError(f"give only one of p, matrix, connectivity_rule; got {given}")
        if matrix is not None and w is not None:
            raise TypeError("with matrix=..., the weights come from the matrix: do not pass w")
        if matrix is None and w is None:
            raise TypeError("connect needs weights: pass w=... or matrix=...")
        if p is not None:
            p = _checks.probability("p", p)
        if connectivity_rule not in (None, "all_to_all", "one_to_one"):
            raise ValueError(f"connectivity_rule must be 'all_to_all' or 'one_to_one', "
                             f"got {connectivity_rule!r}")
        name = self._name(name, "proj", self.projections)
        n_pre, n_post = pre.size, post.size
        rng = self._rng()
        # overlapping views of one population without self pairs: their offsets
        diag = (pre.start, post.start) if not allow_self and pre.overlaps(post) else None
        if matrix is not None:
            rowptr, tgt, wv = connectivity.csr_from_matrix(matrix, n_pre, n_post, diag)
        else:
            if p is not None:
                rowptr, tgt = connectivity.csr_bernoulli(n_pre, n_post, p, rng, diag)
            elif connectivity_rule == "one_to_one":
                rowptr, tgt = connectivity.csr_one_to_one(n_pre, n_post, diag)
            else:
                rowptr, tgt = connectivity.csr_all_to_all(n_pre, n_post, diag)
            wv = self._synapse_values("w", w, rowptr, tgt, n_pre, n_post, rng)
        dv = self._synapse_values("delay", delay, rowptr, tgt, n_pre, n_post, rng)
        d_steps = _checks.steps("delay", dv, self.dt)
        if np.ndim(d_steps):
            d_steps = d_steps.astype(np.int32)
        if plasticity is not None:
            out = (wv < plasticity.w_min) | (wv > plasticity.w_max)
            if np.any(out):
                raise ValueError(f"initial weights must lie in [w_min, w_max] = "
                                 f"[{plasticity.w_min}, {plasticity.w_max}] for plastic "
                                 f"synapses; {int(np.sum(out))} do not")
            if np.ndim(wv) == 0:  # the engine changes plastic weights one by one
                wv = np.full(len(tgt), float(wv))
        proj = Projection(name, pre, post, rowptr, tgt, wv, d_steps, plasticity, self.dt,
                          modulator)
        if matrix is None:
            rule = "pairwise_bernoulli" if p is not None else \
                (connectivity_rule or "all_to_all")
            proj.connectivity = dict(rule=rule, allow_autapses=allow_self,
                                     **({"p": p} if p is not None else {}))
        return self._commit(proj, self.projections)

    def reward_signal(self, tau_dopamine=200.0, *, baseline_rate=None, name=None, **kwargs):
        """Add a neuromodulator for R-STDP (:class:`~neuromorph.modulation.RewardSignal`).

        ``tau_dopamine``: decay of the dopamine concentration (ms), or None for phasic
        rewards; ``baseline_rate``: running-mean rate for a reward-prediction error.
        Deliver rewards with ``signal.deliver(r)`` between runs or in a run callback.
        """
        _checks.no_extra("reward_signal", kwargs)
        name = self._name(name, "reward", self.modulators)
        signal = RewardSignal(self, name, tau_dopamine, baseline_rate)
        return self._commit(signal, self.modulators)

    @staticmethod
    def _synapse_values(name, spec, rowptr, post, n_pre, n_post, rng):
        """One value per synapse: a float for a scalar (stored once), else an array."""
        if not isinstance(spec, Distribution) and np.ndim(spec) == 0:
            return float(_checks.finite_array(name, spec))
        if isinstance(spec, Distribution):
            return draw(name, spec, rng, len(post))
        pre = np.repeat(np.arange(n_pre, dtype=np.int32), np.diff(rowptr))
        return connectivity.pairs_values(name, spec, pre, post, n_pre, n_post)

    # -- stimulation ------------------------------------------------------------
    def current(self, target, amplitude, *, start=0.0, stop=None, **kwargs):
        """Inject a step current (mV, scalar or one per neuron) into LIF ``target``.

        On during ``[start, stop)`` (ms, multiples of ``dt``; ``stop=None``: forever).
        Currents add up; the membrane settles at ``v_rest + amplitude``. Into LoihiLIF
        neurons a step current is a per-neuron bias (Lava units, added to ``v`` every
        step; integers in fixed point).
        """
        _checks.no_extra("current", kwargs)
        target = self._own("target", target)
        desc = describe(target.population.model)
        if not desc.simulated:
            raise TypeError("current injection needs LIF neurons")
        if not desc.current_input:
            raise TypeError(f"current injection into {desc.name} neurons "
                            f"({target.population.name!r}) is not supported: "
                            f"{desc.current_hint}")
        amp = _checks.finite_array("amplitude", amplitude)
        if amp.ndim != 0 and amp.shape != (target.size,):
            raise ValueError(f"amplitude must be a scalar or have shape ({target.size},), "
                             f"got {amp.shape}")
        on = _checks.steps("start", start, self.dt)
        off = None if stop is None else _checks.steps("stop", stop, self.dt)
        if off is not None and off <= on:
            raise ValueError(f"stop must be > start, got start={start}, stop={stop}")
        amp = desc.check_current(target.population.model,
                                 np.broadcast_to(amp, (target.size,)).astype(float))
        self.currents.append(CurrentInjection(target, amp, on, off))
        self._stale = True
        return self.currents[-1]

    # -- monitors -----------------------------------------------------------------
    def spike_monitor(self, target):
        """Record the spikes of ``target`` from now on (:class:`SpikeMonitor`)."""
        return self._add_monitor(SpikeMonitor(self, self._own("target", target)))

    def state_monitor(self, target, var, record=None, every=None):
        """Record ``var`` of LIF neurons: 'v', 'I_exc', 'I_inh' or 'theta' (mV), or 'v' and
        'u' (LoihiLIF voltage and current, Lava's units).

        ``record``: indices within ``target`` (default all); ``every``: interval (ms,
        multiple of ``dt``; default every step).
        """
        target = self._own("target", target)
        desc = describe(target.population.model)
        if not desc.simulated:
            raise TypeError("state monitors need LIF neurons")
        allowed = desc.monitorable
        if var not in allowed:
            raise ValueError(f"var must be one of {list(allowed)} for "
                             f"{type(target.population.model).__name__} neurons, got {var!r}")
        rec = np.arange(target.size) if record is None else np.asarray(record)
        if rec.ndim != 1 or (rec.size and rec.dtype.kind not in "iu"):
            raise TypeError("record must be a one-dimensional array of integer indices")
        if rec.size and (rec.min() < 0 or rec.max() >= target.size):
            raise ValueError(f"record indices must be in [0, {target.size - 1}]")
        k = 1 if every is None else _checks.steps("every", every, self.dt, minimum=1)
        return self._add_monitor(StateMonitor(self, target, var, rec.astype(np.int64), k))

    def rate_monitor(self, target):
        """Record the population spike count of ``target`` every step (:class:`RateMonitor`)."""
        return self._add_monitor(RateMonitor(self, self._own("target", target)))

    def weight_monitor(self, projection, every):
        """Snapshot a projection's weights every ``every`` ms (first one now)."""
        if not isinstance(projection, Projection):
            raise TypeError(f"projection must be a Projection, got {type(projection).__name__}")
        if not any(pr is projection for pr in self.projections):
            raise ValueError(f"projection {projection.name!r} belongs to "
                             f"{self._other(projection)}, not to this one ({self!r})")
        k = _checks.steps("every", every, self.dt, minimum=1)
        return self._add_monitor(WeightMonitor(self, projection, k))

    def _add_monitor(self, mon):
        mon._start_step = self.step
        self.monitors.append(mon)
        if self._sim is not None and not self._stale:
            self._sim.add_monitor(mon)
        return mon

    # -- running --------------------------------------------------------------------
    def run(self, duration, *, progress=False, callback=None, every=None, **kwargs):
        """Advance the network by ``duration`` ms (a multiple of ``dt``, >= 0).

        Parameters
        ----------
        progress : bool
            Show a tqdm progress bar.
        callback : callable, optional
            ``callback(net)`` is called every ``every`` ms of simulated time (at
            ``t = t0 + every, t0 + 2 every, ...``), with monitors, weights and eligibility
            traces current: read monitors, deliver rewards, change inputs. If it raises,
            the run stops there with the network in a consistent state (``net.t`` says
            where) and the exception propagates.
        every : float
            Callback interval (ms), a positive multiple of ``dt``; required with
            ``callback``.
        """
        _checks.no_extra("run", kwargs)
        n = _checks.steps("duration", duration, self.dt)
        if not isinstance(progress, bool):
            raise TypeError("progress must be a bool")
        if (callback is None) != (every is None):
            raise TypeError("callback and every go together")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        k = None if every is None else _checks.steps("every", every, self.dt, minimum=1)
        from .simulator import Simulator
        if self._stale:
            sim = Simulator(self, previous=self._sim)  # validates before anything changes
            self._sim, self._stale = sim, False
        self._sim.run(n, progress=progress, callback=callback, every=k)

    # -- persistence -------------------------------------------------------------------
    def save(self, path):
        """Write structure, state and weights to ``path`` (see :mod:`neuromorph.io`)."""
        from .io import save
        save(self, path)

    @classmethod
    def load(cls, path):
        """Rebuild a network saved with :meth:`save`."""
        from .io import load
        return load(path)


def check_network(net, name="net"):
    """Return ``net`` if it is a :class:`Network`, else raise ``TypeError`` naming ``name``.

    The first check of every converter and backend (Brian2, Lava, NIR, Loihi).
    """
    if not isinstance(net, Network):
        raise TypeError(f"{name} must be a neuromorph Network, got {type(net).__name__}")
    return net
