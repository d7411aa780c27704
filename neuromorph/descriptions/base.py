"""The description types, the engine's kind numbers and column layouts, and the registry.

Imports numpy only (the model and rule classes are imported by the modules that
describe them), so every layer -- network, engine, backends, io -- can read it.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# -- what the engine dispatches on --------------------------------------------------------
# The kernels define the same numbers (numba modules, which this layer must not import);
# tests/test_descriptions.py checks that they agree.

#: Population kinds (``pop_kind``; :mod:`neuromorph.kernels.loihi` has the same values).
POP_LIF, POP_LOIHI_FLOAT, POP_LOIHI_FIXED = 0, 1, 2
#: Projection kinds (``pr_kind``; :mod:`neuromorph.kernels.stdp` has the same values).
STATIC, STDP_KIND, RSTDP_KIND, TRIPLET_KIND = 0, 1, 2, 3
#: The kind of every rule that brings its own kernels (``engine_kernels``; the engine
#: numbers them ``CUSTOM_KIND + i`` per network, :mod:`neuromorph.kernels.hooks`).
CUSTOM_KIND = 16
#: Kernel module -> names of the kind constants it defines with the values above.
KERNEL_CONSTANTS = {
    "neuromorph.kernels.loihi": ("POP_LIF", "POP_LOIHI_FLOAT", "POP_LOIHI_FIXED"),
    "neuromorph.kernels.stdp": ("STATIC", "STDP_KIND", "RSTDP_KIND", "TRIPLET_KIND"),
    "neuromorph.kernels.hooks": ("CUSTOM_KIND",),
}
#: Column order of a population's coefficient row (``kernels.lif.COEF_NAMES``; LoihiLIF
#: rows use the first four columns for its own coefficients, see its description).
NEURON_COLUMNS = ("E_m", "E_exc", "E_inh", "c_exc", "c_inh", "v_rest", "v_reset", "v_th",
                  "n_ref", "E_theta", "theta_plus", "theta_frozen")
#: Column order of a rule's parameter row (``kernels.stdp.RULE_NAMES``).
RULE_COLUMNS = ("a_plus", "a_minus", "w_min", "w_max", "decay_pre", "decay_post",
                "nearest", "mu_plus", "mu_minus", "tau_elig", "lr", "tau_d", "tau_p", "x_tar",
                "decay_x", "decay_y", "a3_plus", "a3_minus", "clip_step")
#: The backends whose hooks every description states (an attribute of that name: the
#: key of the backend's translation, or None where the backend has none).
BACKENDS = ("brian2", "lava", "nir", "loihi", "nest")


def current_gain(dt, tau_m, tau_syn):
    """Effect on ``v`` after one step ``dt`` (ms) of a unit jump of a synaptic current.

    ``c = tau_s / (tau_s - tau_m) (E_s - E_m)``, or ``(dt / tau_m) E_m`` when the two
    time constants are equal (to 1e-12 relative): the exact-integration gain of
    :mod:`neuromorph.kernels.lif` (the same arithmetic, so the same bits).
    """
    e_m, e_s = np.exp(-dt / tau_m), np.exp(-dt / tau_syn)
    if abs(tau_syn - tau_m) <= 1e-12 * tau_m:
        return dt / tau_m * e_m
    return tau_syn / (tau_syn - tau_m) * (e_s - e_m)


@dataclass(frozen=True)
class Parameter:
    """A parameter of a model or rule: its field name, unit and meaning."""

    name: str
    unit: str
    doc: str = ""


@dataclass(frozen=True)
class Variable:
    """A state variable.

    Attributes
    ----------
    name : str
        Key in ``Population.state`` (neurons) or the engine's array (rules).
    unit : str
    doc : str
    dtype : numpy dtype
    per : {'neuron', 'pre', 'post', 'synapse'}
        One value per neuron of the population, per presynaptic / postsynaptic neuron
        of the projection, or per synapse.
    monitor : bool
        Recordable with ``net.state_monitor``.
    saved : bool
        Written by :func:`neuromorph.io.save` (the others start at 0 after a load).
    """

    name: str
    unit: str
    doc: str = ""
    dtype: type = np.float64
    per: str = "neuron"
    monitor: bool = False
    saved: bool = False


class Description:
    """What a neuron model or a plasticity rule is, for every layer that handles one.

    Subclasses set the class attributes and override the methods; one instance is
    registered per model or rule class (:func:`register`).
    """

    #: Name of the model or rule (its class name; used in messages and files).
    name = ""
    #: The class described (instances of it and of its subclasses).
    cls = None
    #: :class:`Parameter` of every dataclass field of ``cls``, in field order.
    parameters = ()
    #: :class:`Variable` of the state the engine keeps for it.
    state = ()
    #: The engine's kernel module (documentation; this layer never imports it).
    kernel = None
    #: Name under which :mod:`neuromorph.io` stores it (unique over all descriptions).
    file_kind = ""
    # backend hooks (see BACKENDS): the key of the backend's translation, or None
    brian2 = None
    lava = None
    nir = None
    loihi = None
    nest = None

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"

    @property
    def parameter_names(self):
        return tuple(p.name for p in self.parameters)

    @property
    def units(self):
        """Parameter name -> unit."""
        return {p.name: p.unit for p in self.parameters}


class NeuronDescription(Description):
    """A neuron model or input group.

    Attributes (besides :class:`Description`'s)
    -------------------------------------------
    simulated : bool
        The engine integrates it (a neuron model); False: an input group.
    input_kind : {'poisson', 'spike_times'} or None
        How the engine feeds an input group's spikes.
    kernel_kinds : dict
        Kind constant name -> value (``pop_kind``) this model can have.
    current_input : bool
        Step currents (``net.current``) drive it; ``current_hint`` says what to use
        instead when they do not.
    loihi_semantics : bool
        Loihi's CUBA neuron (one step is one Loihi time step; Lava runs it as is).
    lava_hint : str or None
        Why Lava does not run it and what to do, for the export's error message.
    nest_hint : str or None
        Why NEST does not run it (a model it has but some parameters it lacks are
        refused by :meth:`nest_problems`).
    Backend hooks: ``brian2`` ('lif', 'poisson', 'spike_times'), ``lava`` ('lif': a
    Lava ``LIF`` process; 'ring_buffer': an input replayed by a ``RingBuffer``),
    ``nir`` ('cuba_lif', 'input'), ``loihi`` (what :func:`neuromorph.loihi.to_loihi`
    does: 'convert' it to LoihiLIF, or 'copy' it with :meth:`copy_into`), ``nest``
    (the NEST model: 'iaf_psc_exp', 'spike_generator', 'poisson_generator'; see
    :mod:`neuromorph.backends.nest`).
    """

    simulated = False
    input_kind = None
    kernel_kinds = {}
    current_input = False
    current_hint = ""
    loihi_semantics = False
    lava_hint = None
    nest_hint = None

    def check_current(self, model, amplitude):
        """The step-current amplitudes ``amplitude`` (float array, one per neuron) as this
        model takes them; raise ``ValueError`` naming ``amplitude`` for values it cannot
        take (default: any finite value)."""
        return amplitude

    def nest_problems(self, model):
        """Reasons (a list of str) why NEST's model of the ``nest`` hook does not
        reproduce ``model``'s parameters (e.g. an adaptive threshold); [] if none."""
        return []

    @property
    def monitorable(self):
        """Names of the state variables ``net.state_monitor`` records, in order."""
        return tuple(v.name for v in self.state if v.monitor)

    def kernel_kind(self, model):
        """The engine's population kind of ``model`` (None for inputs)."""
        return None

    def engine_row(self, model, dt):
        """The engine's coefficient row (:data:`NEURON_COLUMNS`) for step ``dt`` (ms);
        None for inputs."""
        return None

    def to_file(self, model):
        """``(params, arrays)`` that :mod:`neuromorph.io` stores: JSON parameters (None:
        none) and arrays of the model (by name)."""
        return {f.name: getattr(model, f.name) for f in fields(model)}, {}

    def from_file(self, params, get, n):
        """The model from what :meth:`to_file` stored; ``get(name, shape=None,
        kind=None)`` reads (and checks) one of its arrays; ``n`` is the size."""
        if params is None:
            raise KeyError("params")  # a file that lacks them is corrupt
        return self.cls(**params)

    def copy_into(self, net, pop):
        """Add a population like ``pop`` (same name, size and inputs) to ``net``."""
        raise TypeError(f"population {pop.name!r}: cannot copy {self.name}")


class RuleDescription(Description):
    """A plasticity rule.

    Attributes (besides :class:`Description`'s)
    -------------------------------------------
    kernel_kind : int
        The engine's projection kind (``pr_kind``); ``kernel_kind_name`` its constant.
    eligibility : bool
        Keeps a per-synapse eligibility trace (``proj.eligibility``).
    needs_modulator : bool
        Driven by a reward signal (``net.reward_signal``).
    engine_kernels : tuple or None
        ``(on_pre, on_post)``: the rule's own numba kernels (signatures in
        :mod:`neuromorph.kernels.hooks`), with ``kernel_kind = CUSTOM_KIND``; None for
        the rules the engine implements itself. The rule object needs ``w_min`` and
        ``w_max`` (mV, the initial weights' range) and :meth:`engine_parameters` fills
        the row its kernels read (traces: ``decay_pre``, ``decay_post``, ``nearest``).
    Backend hooks: ``brian2`` ('stdp'), ``lava`` ('stdp', 'rstdp', 'triplet': the
    translation in :mod:`neuromorph.backends.lava.rules`), ``nest`` (NEST's synapse
    model: 'stdp_synapse', 'stdp_triplet_synapse', 'stdp_dopamine_synapse'); ``nir``
    and ``loihi`` are None (NIR has no learning rules; ``to_loihi`` converts static
    networks).
    """

    kernel_kind = None
    kernel_kind_name = None
    eligibility = False
    needs_modulator = False
    engine_kernels = None

    def engine_parameters(self, rule, dt, modulator=None):
        """Named kernel parameters (keys from :data:`RULE_COLUMNS`) for step ``dt`` (ms);
        ``modulator``: the projection's reward signal, for rules that need one."""
        raise NotImplementedError

    def engine_row(self, rule, dt, modulator=None):
        """The engine's parameter row (:data:`RULE_COLUMNS`, 0 where unused)."""
        row = np.zeros(len(RULE_COLUMNS))
        for name, value in self.engine_parameters(rule, dt, modulator).items():
            row[RULE_COLUMNS.index(name)] = value
        return row

    def to_file(self, rule):
        """The rule's parameters as JSON-ready data (:mod:`neuromorph.io`)."""
        return {f.name: getattr(rule, f.name) for f in fields(rule)}

    def from_file(self, params):
        return self.cls(**params)


# -- registry --------------------------------------------------------------------------
_BY_CLASS = {}   # described class -> description (registration order)
_MISSING = object()


def register(description, *, replace=False):
    """Register a description (an instance of a :class:`NeuronDescription` or
    :class:`RuleDescription` subclass) for its class ``description.cls``.

    Raises ``ValueError`` if that class, the name or the file kind is already
    registered (unless ``replace``). Returns the description.
    """
    if not isinstance(description, (NeuronDescription, RuleDescription)):
        raise TypeError(f"description must be a NeuronDescription or RuleDescription, got "
                        f"{type(description).__name__}")
    if not isinstance(description.cls, type):
        raise TypeError(f"{description!r}: cls must be the described class, got "
                        f"{description.cls!r}")
    if not description.name or not description.file_kind:
        raise ValueError(f"{description!r}: name and file_kind must be non-empty strings")
    for other in _BY_CLASS.values():
        if other.cls is description.cls and replace:
            continue
        for what in ("cls", "name", "file_kind"):
            if getattr(other, what) == getattr(description, what):
                raise ValueError(f"{what} {getattr(description, what)!r} is already "
                                 f"described by {other!r}")
    _BY_CLASS[description.cls] = description
    return description


def unregister(obj):
    """Remove the description of a class (or the given description); returns it."""
    cls = obj.cls if isinstance(obj, Description) else obj
    return _BY_CLASS.pop(cls)


def describe(obj, default=_MISSING):
    """The description of a model or rule (an instance or its class).

    The class's own description, else that of its nearest described base class.
    Unknown objects raise ``TypeError`` unless ``default`` is given (returned then).
    """
    cls = obj if isinstance(obj, type) else type(obj)
    for c in cls.__mro__:
        if c in _BY_CLASS:
            return _BY_CLASS[c]
    if default is not _MISSING:
        return default
    known = ", ".join(d.name for d in _BY_CLASS.values())
    raise TypeError(f"{cls.__name__} is not a described neuron model or plasticity rule "
                    f"(described: {known}); see neuromorph.descriptions.register")


def hook(obj, backend):
    """``describe(obj).<backend>``, or None when ``obj`` is not described (so a backend
    refuses an unknown object as it refuses one it has no translation for)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return getattr(describe(obj, None), backend, None)


def neurons():
    """Every registered :class:`NeuronDescription`, in registration order."""
    return tuple(d for d in _BY_CLASS.values() if isinstance(d, NeuronDescription))


def rules():
    """Every registered :class:`RuleDescription`, in registration order."""
    return tuple(d for d in _BY_CLASS.values() if isinstance(d, RuleDescription))


def by_file_kind(kind, category=None):
    """The description stored under ``kind`` in files, or None.

    ``category``: :class:`NeuronDescription` or :class:`RuleDescription` to search one
    of them only.
    """
    for d in _BY_CLASS.values():
        if d.file_kind == kind and (category is None or isinstance(d, category)):
            return d
    return None
