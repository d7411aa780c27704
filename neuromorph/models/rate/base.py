"""The estimator base class every rate family derives from.

:class:`RateClassifier` owns everything that is not the credit-assignment rule itself
(the "neural system context" of spec §0.4): input validation, label encoding, the
seeded generator, mini-batching, the epoch loop, ``history_``, ``partial_fit`` and the
scikit-learn API. A family implements three hooks:

``_initialize(n_features, n_classes)``
    build its parameters (using ``self._rng``);
``_train_batch(X, Y)``
    one learning step on a batch, ``Y`` one-hot; returns the batch's mean training
    objective (the family's own loss);
``_scores(X)``
    class scores, shape (n, C); ``predict`` takes the arg-max.

Hyperparameters are declared as a class-level dict ``_params`` (name -> default); the
base class generates a keyword-only ``__init__`` with exactly that signature, which
stores every argument unchanged (scikit-learn's ``get_params``/``set_params``/``clone``
read the signature). Subclasses extend or override the parent's dict, so common
hyperparameters are declared once. Parameter checks run at the start of ``fit`` and
``partial_fit`` (scikit-learn forbids raising in ``__init__``).
"""
import inspect
import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_choice, check_layer_sizes, check_number, check_positive
from .activations import ACTIVATIONS, softmax
from .batching import minibatches
from .metadata import CHECKLISTS, Checklist
from .optimizers import make_optimizer


def _make_init(defaults):
    params = [
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in defaults.items()
    ]

    def __init__(self, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected parameter(s) {sorted(unknown)}; "
                f"valid parameters are {sorted(defaults)}"
            )
        for k, v in defaults.items():
            setattr(self, k, kwargs.get(k, v))

    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + params
    )
    return __init__


class RateClassifier(ClassifierMixin, BaseEstimator):
    """Base class of the rate-coded credit-assignment families.

    Common parameters
    -----------------
    hidden_layer_sizes : tuple of int, default (256, 256)
        Hidden widths J_1..J_{L−1}; the input and output widths come from the data.
    activation : str
        Hidden nonlinearity φ (``"tanh"``, ``"relu"``, ``"sigmoid"``, ...).
    learning_rate : float > 0
        Step size η handed to the optimiser.
    optimizer : {"adam", "sgd"}
        Optimiser applied to the rule's descent directions (spec §0.2).
    momentum : float in [0, 1)
        Momentum μ of ``"sgd"``.
    batch_size : int > 0
        Mini-batch size B; updates are averaged over the batch.
    max_iter : int > 0
        Number of epochs ``fit`` runs.
    validation_fraction : float in (0, 1) or None
        Fraction of the data of every ``fit`` / ``partial_fit`` call set aside (stratified,
        drawn from a generator derived from ``random_state``, not the training one) and
        scored after each epoch (``history_["validation_accuracy"]``); None: no split.
    random_state : int, numpy Generator or None
        Seed of the single generator used for initialisation, batching and noise;
        the same seed gives bit-identical results.

    Attributes
    ----------
    classes_ : ndarray
        Labels seen at the first ``fit``/``partial_fit``.
    n_features_in_ : int
    n_iter_ : int
        Epochs run so far.
    history_ : dict
        ``"loss"``: per-epoch mean of the family's training objective;
        ``"accuracy"``: per-epoch training accuracy; ``"wall_s"``: wall time of each
        epoch (s); with ``validation_fraction``, ``"validation_accuracy"``: accuracy on
        the held-out part after each epoch.

    Class attributes (metadata)
    ---------------------------
    family : str
        Survey family tag (:class:`.metadata.Family`).
    checklist : Checklist
        Row of spec §2.3.
    algorithm : str
        Human-readable name.
    spec_section : str
        Section of ``algorithms.md`` the implementation follows.
    """

    family = None
    checklist: Checklist = None
    algorithm = None
    spec_section = None

    _params = dict(
        hidden_layer_sizes=(256, 256),
        activation="tanh",
        learning_rate=1e-3,
        optimizer="adam",
        momentum=0.9,
        batch_size=32,
        max_iter=30,
        validation_fraction=None,
        random_state=None,
    )
    _activations = tuple(ACTIVATIONS)

    def __init_subclass__(cls, family=None, checklist=None, algorithm=None, spec_section=None,
                          **kwargs):
        """Record the family metadata given as class keywords and build ``__init__``.

        ``class FeedbackAlignment(Base, family=Family.EG, checklist="fa", ...)``: the
        checklist is named by its key in :data:`.metadata.CHECKLISTS`.
        """
        super().__init_subclass__(**kwargs)
        if family is not None:
            cls.family = family
        if checklist is not None:
            cls.checklist = CHECKLISTS[checklist]
        if algorithm is not None:
            cls.algorithm = algorithm
        if spec_section is not None:
            cls.spec_section = spec_section
        defaults = {}
        for klass in reversed(cls.__mro__):
            defaults.update(klass.__dict__.get("_params", {}))
        cls._all_params = defaults
        cls.__init__ = _make_init(defaults)

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        """Validate hyperparameters; families extend :meth:`_check_extra_params`."""
        self._hidden = check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)
        check_choice("activation", self.activation, self._activations)
        check_positive("learning_rate", self.learning_rate)
        self._check_training_params()
        self._check_extra_params()

    def _check_training_params(self):
        """``optimizer``, ``momentum``, ``batch_size``, ``max_iter``, ``random_state``
        (shared with the spiking learners built on this base)."""
        check_choice("optimizer", self.optimizer, ("adam", "sgd"))
        check_number("momentum", self.momentum, low=0, high=1, high_open=True)
        check_positive("batch_size", self.batch_size, integer=True)
        check_positive("max_iter", self.max_iter, integer=True)
        self._check_validation_fraction()
        rs = self.random_state
        if not (rs is None or isinstance(rs, (numbers.Integral, np.random.Generator))):
            raise TypeError(f"random_state must be None, an int or a numpy Generator, got {rs!r}")

    def _check_validation_fraction(self):
        if self.validation_fraction is not None:
            check_number("validation_fraction", self.validation_fraction, low=0, high=1,
                         low_open=True, high_open=True)

    def _check_extra_params(self):
        """Family-specific checks (override)."""

    # ------------------------------------------------------------------ helpers
    def _optimizer(self, learning_rate=None):
        """A fresh optimiser of the configured kind."""
        lr = self.learning_rate if learning_rate is None else learning_rate
        return make_optimizer(self.optimizer, lr, self.momentum)

    def _layer_sizes(self, n_features, n_classes):
        """(J_0, hidden..., C)."""
        return (n_features,) + self._hidden + (n_classes,)

    def _one_hot(self, y):
        idx = np.searchsorted(self.classes_, y)
        Y = np.zeros((len(y), len(self.classes_)))
        Y[np.arange(len(y)), idx] = 1.0
        return Y

    def _start(self, X, y, classes):
        """Validate data, fix ``classes_``, seed the generator and build parameters."""
        X, y = validate_data(self, X, y, reset=True, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y if classes is None else np.asarray(classes))
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y, got 1 class: {self.classes_}"
            )
        self._check_labels(y)
        rs = self.random_state
        self._rng = rs if isinstance(rs, np.random.Generator) else np.random.default_rng(rs)
        self._initialize(X.shape[1], len(self.classes_))
        self.history_ = {k: [] for k in self._history_keys}
        return X, y

    _history_keys = ("loss", "accuracy", "wall_s")

    def _continue(self, X, y):
        """Validate the data of a ``partial_fit`` call on a fitted model."""
        X, y = validate_data(self, X, y, reset=False, dtype=np.float64)
        check_classification_targets(y)
        self._check_labels(y)
        return X, y

    def _validation_split(self, X, y):
        """``(X_train, y_train, X_val, y_val)``: a stratified split of
        ``validation_fraction`` of the rows (``X_val`` None without one). The split comes
        from a generator derived from an int ``random_state``, so it never draws from the
        training generator and is the same for the same data."""
        f = self.validation_fraction
        if f is None:
            return X, y, None, None
        from sklearn.model_selection import train_test_split

        rs = self.random_state
        seed = (int(np.random.SeedSequence([int(rs), 0x5A117]).generate_state(1)[0])
                if isinstance(rs, numbers.Integral) else None)
        try:
            Xt, Xv, yt, yv = train_test_split(X, y, test_size=f, stratify=y, random_state=seed)
        except ValueError as err:
            raise ValueError(f"validation_fraction={f}: cannot hold out a stratified "
                             f"validation set from {len(y)} samples ({err})") from None
        return Xt, yt, Xv, yv

    def _run_epochs(self, X, y, n_epochs):
        """``n_epochs`` epochs on (X, y) (minus the validation part), each timed and,
        with ``validation_fraction``, scored on the held-out part."""
        X, y, Xv, yv = self._validation_split(X, y)
        for _ in range(n_epochs):
            t0 = time.perf_counter()
            self._epoch(X, y)
            self.history_.setdefault("wall_s", []).append(time.perf_counter() - t0)
            if Xv is not None:
                self.history_.setdefault("validation_accuracy", []).append(
                    float(np.mean(self._predict_validated(Xv) == yv)))
        return self

    def _fit_epochs(self):
        """Epochs ``fit`` runs."""
        return self.max_iter

    def _check_labels(self, y):
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels not seen at fit time: {unseen.tolist()}; "
                f"known classes are {self.classes_.tolist()}"
            )

    def _epoch(self, X, y):
        Y = self._one_hot(y)
        total = 0.0
        for idx in minibatches(X.shape[0], self.batch_size, self._rng):
            total += float(self._train_batch(X[idx], Y[idx])) * len(idx)
        self.history_["loss"].append(total / X.shape[0])
        self.history_["accuracy"].append(float(np.mean(self._predict_validated(X) == y)))
        self.n_iter_ = len(self.history_["loss"])

    # ------------------------------------------------------------------ public API
    def fit(self, X, y):
        """Train from scratch for ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite real inputs.
        y : array-like of shape (n_samples,)
            Class labels (at least two distinct values).

        Returns
        -------
        self
        """
        self._check_params()
        X, y = self._start(X, y, None)
        return self._run_epochs(X, y, self._fit_epochs())

    def partial_fit(self, X, y, classes=None):
        """Run one epoch over (X, y), continuing from the current state.

        On the first call the model is initialised; ``classes`` (all labels that will
        ever appear) defaults to the labels present in ``y``. Later calls must use
        labels from ``classes_`` and the same number of features.
        """
        self._check_params()
        if not hasattr(self, "classes_"):
            X, y = self._start(X, y, classes)
        else:
            X, y = self._continue(X, y)
        return self._run_epochs(X, y, 1)

    def _validated(self, X):
        check_is_fitted(self, "classes_")
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _predict_validated(self, X):
        return self.classes_[np.argmax(self._scores(X), axis=1)]

    def decision_scores(self, X):
        """Raw class scores the family predicts from (output activity, goodness, ...)."""
        return self._scores(self._validated(X))

    def predict(self, X):
        """Predicted labels: arg-max of the class scores."""
        return self._predict_validated(self._validated(X))

    def predict_proba(self, X):
        """Class probabilities, softmax of the class scores.

        For families trained with softmax cross-entropy these are the model's
        probabilities; for families whose scores are squared-error outputs or goodness
        values (EP, CHL, PC, FF, ...) they are a monotone normalisation, not calibrated.
        """
        return softmax(self._scores(self._validated(X)))

    @classmethod
    def describe(cls):
        """Metadata as a dict (for tables and notebooks)."""
        return {
            "name": cls.__name__,
            "algorithm": cls.algorithm,
            "family": cls.family,
            "spec_section": cls.spec_section,
            "checklist": cls.checklist.as_dict(),
        }

    # ------------------------------------------------------------------ hooks
    def _initialize(self, n_features, n_classes):  # pragma: no cover - abstract
        raise NotImplementedError

    def _train_batch(self, X, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _scores(self, X):  # pragma: no cover - abstract
        raise NotImplementedError
