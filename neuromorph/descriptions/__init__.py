"""One description per neuron model and per plasticity rule.

A description states what every layer needs to know about a model or rule --
its parameters (with units), its state variables, whether it is simulated or an
input, what can be monitored, the engine's kernel kind and parameter row, how
:mod:`neuromorph.io` stores it, and the hooks through which the backends (Brian2,
Lava, NIR) and :func:`neuromorph.loihi.to_loihi` translate it -- so that no code
outside this package asks ``isinstance(model, LIF)``::

    >>> from neuromorph.descriptions import describe
    >>> import neuromorph as nm
    >>> d = describe(nm.LIF())
    >>> d.simulated, d.monitorable, d.brian2, d.lava
    (True, ('v', 'I_exc', 'I_inh', 'theta'), 'lif', None)
    >>> describe(nm.RSTDP()).kernel_kind, describe(nm.RSTDP()).needs_modulator
    (2, True)

A backend hook is the key of the backend's own translation (e.g. ``'stdp'`` for
:mod:`neuromorph.backends.lava.rules`'s ``stdp_rule``) or None where the backend has
none; the backend then refuses the model or rule with ``UnsupportedFeature``.

**Adding a rule** (or a neuron model): write its class (pure data, in
:mod:`neuromorph.plasticity`), a :class:`RuleDescription` subclass stating the above
(a new ``kernel_kind`` and the kernel that implements it), ``register(...)`` an
instance, and tests; backends without a hook for it refuse it by themselves.

This package imports numpy and the model and rule classes only: no engine (numba),
no backend.
"""
from .base import (BACKENDS, CUSTOM_KIND, KERNEL_CONSTANTS, NEURON_COLUMNS, POP_LIF, POP_LOIHI_FIXED,
                   POP_LOIHI_FLOAT, RSTDP_KIND, RULE_COLUMNS, STATIC, STDP_KIND, TRIPLET_KIND,
                   Description, NeuronDescription, Parameter, RuleDescription, Variable,
                   by_file_kind, current_gain, describe, hook, neurons, register, rules,
                   unregister)
from . import neuron_models, learning_rules  # noqa: F401  (register the built-in ones)

__all__ = ["describe", "hook", "register", "unregister", "neurons", "rules", "by_file_kind",
           "Description", "NeuronDescription", "RuleDescription", "Parameter", "Variable",
           "current_gain", "BACKENDS", "CUSTOM_KIND", "KERNEL_CONSTANTS", "NEURON_COLUMNS", "RULE_COLUMNS",
           "POP_LIF", "POP_LOIHI_FLOAT", "POP_LOIHI_FIXED", "STATIC", "STDP_KIND",
           "RSTDP_KIND", "TRIPLET_KIND"]
