"""The estimator base class of the five spiking learners.

:class:`SpikingClassifier` gives CSDP, SpikingPC, EqSpike, RSTDPClassifier and
STDPClassifier one interface, the rate families' one (:class:`~neuromorph.models.rate.base.RateClassifier`,
whose loop, data checks and validation module it shares):

* parameters with the same meaning have the same name: ``max_iter`` (epochs ``fit``
  runs), ``verbose`` (progress bars, including the labelling / scoring phases),
  ``random_state``, ``batch_size`` (the mini-batch learners), ``validation_fraction``;
  a learner declares only the parameters it uses (no inherited ``activation``);
* ``fit`` / ``partial_fit`` (one epoch, continuing) / ``predict`` / ``predict_proba`` /
  ``decision_scores`` / ``score`` and ``save`` / ``load`` (:class:`.checkpoints.CheckpointMixin`);
* ``history_`` with, per epoch, ``"loss"`` (where the learner has one), ``"accuracy"``
  (training score), ``"validation_accuracy"`` (with ``validation_fraction``) and
  ``"wall_s"`` (s), plus learner-specific diagnostics.

Renamed parameters (``n_epochs`` -> ``max_iter``, ``progress`` -> ``verbose``) are declared
per learner in ``_renamed``; the old name still works for one release: it defaults to
``"deprecated"``, and a value given for it is used with a ``FutureWarning``.
"""
from __future__ import annotations

import warnings

from ... import _checks
from ..rate._validation import check_positive
from ..rate.base import RateClassifier, _make_init
from .checkpoints import CheckpointMixin

DEPRECATED = "deprecated"

#: Docstring lines of the parameters the learners share, substituted for a line
#: ``<name>`` in a subclass's docstring (one text, five classes).
SHARED_DOCS = {
    "<mini-batch training parameters>": """\
    batch_size : int > 0
    max_iter : int > 0
        Epochs run by ``fit``.
    verbose : bool
        Show a progress bar per epoch.
    validation_fraction : float in (0, 1) or None
        Held-out fraction scored after every epoch (``history_["validation_accuracy"]``;
        see :class:`~neuromorph.models.spiking.base.SpikingClassifier`).""",
    "<deprecated names>": """\
    n_epochs, progress : deprecated
        Old names of ``max_iter`` and ``verbose`` (``FutureWarning``; removed in the next
        release).

    Attributes
    ----------
    classes_ : ndarray
        Class labels.""",
    "<simulate rng>": """\
        rng : numpy Generator or None
            Generator of the input spikes; default: a fresh one seeded with
            ``eval_seed_`` (the stream ``predict`` uses; training is not affected).""",
}


class SpikingClassifier(CheckpointMixin, RateClassifier):
    """Base class of the spiking learners (see the module docstring).

    Common parameters
    -----------------
    max_iter : int > 0
        Epochs ``fit`` runs (``partial_fit`` runs one).
    validation_fraction : float in (0, 1) or None
        Held-out fraction scored after each epoch (see :class:`RateClassifier`).
    verbose : bool
        Progress bars over training and over the labelling / scoring phases.
    random_state : int or None (or a numpy Generator where the learner allows one)
        Seed; the same seed gives bit-identical models and predictions.

    Subclasses declare their parameters in ``_params`` (only these, not the rate
    families'), and ``_renamed = {"old": "new"}`` for deprecated names.
    """

    _params = dict(max_iter=10, validation_fraction=None, verbose=False, random_state=None)
    _renamed = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        defaults = {}
        for klass in reversed(cls.__mro__):
            if issubclass(klass, SpikingClassifier):
                defaults.update(klass.__dict__.get("_params", {}))
        defaults.update({old: DEPRECATED for old in cls._renamed})
        cls._all_params = defaults
        cls.__init__ = _make_init(defaults)
        for owner in [cls] + [f for f in vars(cls).values() if callable(f)]:
            if owner.__doc__ and "    <" in owner.__doc__:
                for marker, text in SHARED_DOCS.items():
                    indent = " " * (len(text) - len(text.lstrip(" ")))
                    owner.__doc__ = owner.__doc__.replace(indent + marker, text)

    # ------------------------------------------------------------------ parameters
    def _given(self, name):
        """``(name used, value)`` of parameter ``name``: a value given under its old name
        wins, with a ``FutureWarning`` (issued by :meth:`_check_training_params`)."""
        for old, new in self._renamed.items():
            if new == name and getattr(self, old) != DEPRECATED:
                return old, getattr(self, old)
        return name, getattr(self, name)

    def _param(self, name):
        """The effective value of ``name`` (see :meth:`_given`)."""
        return self._given(name)[1]

    def _fit_epochs(self):
        return self._param("max_iter")

    def _show_progress(self):
        return bool(self._param("verbose"))

    def _check_training_params(self):
        """Renamed parameters, ``max_iter``, ``verbose``, ``validation_fraction``,
        ``random_state`` and, for the mini-batch learners, the optimiser's parameters."""
        for old, new in self._renamed.items():
            if getattr(self, old) != DEPRECATED:
                warnings.warn(f"{type(self).__name__}: {old!r} was renamed {new!r} and will be "
                              f"removed in the next release; use {new}="
                              f"{getattr(self, old)!r}", FutureWarning, stacklevel=4)
        if "batch_size" in self._all_params:
            super()._check_training_params()
        else:
            _checks.seed_or_none("random_state", self.random_state)
            self._check_validation_fraction()
        check_positive(*self._given("max_iter"), integer=True)
        name, verbose = self._given("verbose")
        if not isinstance(verbose, bool):
            raise TypeError(f"{name} must be a bool, got {type(verbose).__name__}")

    def _bar(self, total, desc, unit="sample"):
        """A tqdm progress bar (disabled unless ``verbose``)."""
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit, disable=not self._show_progress(),
                    leave=False)
