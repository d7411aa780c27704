"""Checkpoint files and shared estimator plumbing of the spiking learners (CSDP,
SpikingPC, EqSpike, RSTDPClassifier, STDPClassifier).

A checkpoint is an ``.npz`` archive: one ``meta`` entry holding a JSON object (UTF-8
bytes; it carries a ``"format"`` tag such as ``"neuromorph.CSDP/1"``) and any number of
named float arrays. :func:`read_checkpoint` turns every way a file can be unreadable
(missing, truncated, not a zip, bad JSON, wrong format tag) into one ``ValueError``
naming the file and the estimator, so ``load`` methods never half-load a model.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import zipfile

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from .layers import check_unit_range


def _plain(v):
    """NumPy scalars as Python numbers, tuples as lists, infinities as ``"inf"``."""
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def params_for_json(params):
    """``get_params()`` made JSON-safe; a ``random_state`` that is not an int (a
    Generator) is stored as ``None`` (the generator's state is saved separately)."""
    out = {}
    for k, v in params.items():
        if k == "random_state" and not (isinstance(v, numbers.Integral)
                                        and not isinstance(v, bool)):
            v = None
        out[k] = _plain(v)
    return out


def params_from_json(params, tuples=()):
    """Inverse of :func:`params_for_json`: infinities, and lists back to tuples for the
    keys in ``tuples``."""
    out = {}
    for k, v in params.items():
        if v in ("inf", "-inf"):
            v = math.inf if v == "inf" else -math.inf
        elif k in tuples and isinstance(v, list):
            v = tuple(v)
        out[k] = v
    return out


def write_checkpoint(path, meta, arrays):
    """Write ``meta`` (a JSON-serialisable dict with a ``"format"`` key) and ``arrays``.

    Atomic: everything is encoded first and written to a temporary file that replaces
    ``path`` only when complete, so a failed save leaves an existing file untouched.
    """
    payload = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, meta=payload, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_checkpoint(path, fmt, name):
    """Read a checkpoint of format ``fmt``; returns ``(meta, arrays)``.

    Raises
    ------
    ValueError
        If the file is unreadable, is not an ``.npz`` archive with a JSON ``meta``
        entry, or its format tag is not ``fmt`` (``name`` is the estimator's name,
        used in the message).
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(bytes(data.pop("meta")).decode())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError,
            UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable {name} checkpoint ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise ValueError(f"{path}: not a {name} checkpoint (format "
                         f"{meta.get('format') if isinstance(meta, dict) else None!r})")
    return meta, data


def check_arrays(data, shapes, required=()):
    """Raise ``ValueError`` unless ``data`` holds exactly the arrays ``shapes`` names
    (plus ``required``), each of its shape and finite (a checkpoint's learned state)."""
    expected = set(shapes) | set(required)
    if set(data) != expected:
        raise ValueError(f"arrays {sorted(set(data) ^ expected)} missing or unexpected")
    for k, shape in shapes.items():
        if data[k].shape != tuple(shape) or not np.all(np.isfinite(data[k])):
            raise ValueError(f"array {k} has shape {data[k].shape}, expected {tuple(shape)}, "
                             f"or non-finite values")


class CheckpointMixin:
    """What the spiking estimators share on top of ``RateClassifier``: ``save`` /
    ``load`` (parameters, the learned state, history, the training generator's state and
    the evaluation seed; optimiser state starts fresh after loading), an evaluation stream
    of input spikes separate from training (``eval_seed_``), and data checks in ``fit`` /
    ``partial_fit`` before any state changes.

    Every ``predict`` / ``score`` / ``simulate`` call restarts the evaluation stream, so
    the same ``X`` always gets the same spikes and scores. The spikes a row receives
    depend on its position in ``X`` (the stream is drawn for the whole batch each
    step): ``predict(X[:10])`` and ``predict(X)[:10]`` are equally valid samples but
    need not agree where a sample sits near a decision boundary.

    Subclasses set ``_checkpoint_format`` (e.g. ``"neuromorph.CSDP/1"``) and
    ``_fitted_attr`` (the attribute a fitted model has), and may extend
    ``_tuple_params`` (parameters stored as lists), ``_checkpoint_meta`` /
    ``_checkpoint_arrays`` (extra state to write) and ``_restore_checkpoint`` (read it
    back, raising ``ValueError`` on a mismatch). By default the learned state is the dict
    ``weights_`` (arrays ``w_<name>``, copied into a freshly initialised model);
    learners whose state is not such a dict override ``_state_arrays`` and
    ``_load_state``.
    """

    _checkpoint_format = None
    _fitted_attr = None
    _tuple_params = ("hidden_layer_sizes",)

    def _checkpoint_meta(self):
        return {}

    def _checkpoint_arrays(self):
        return {}

    def _restore_checkpoint(self, meta, arrays):
        pass

    # -- evaluation stream: predictions never touch the training generator ---------------
    def _new_eval_seed(self):
        """Seed of the input spikes used by ``predict``/``score``/``simulate``: derived
        from an int ``random_state`` (without drawing from the training generator), else
        fresh entropy. Saved in checkpoints."""
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return int(np.random.SeedSequence([int(rs), 0xE1A1]).generate_state(1, np.uint64)[0])
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])

    def _eval_rng(self):
        """A fresh generator of the evaluation stream (same spikes at every call)."""
        return np.random.default_rng(self.eval_seed_)

    def _simulation_labels(self, labels, n):
        """``labels`` given to ``simulate``: ``None``, or ``n`` labels from ``classes_``."""
        if labels is None:
            return None
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"labels must have one entry per row of X ({n}), got shape "
                             f"{labels.shape}")
        self._check_labels(labels)
        return labels

    # -- data checks before any state changes --------------------------------------------
    def _start(self, X, y, classes):
        """Range-check the data before the base class resets anything (``fit``, and the
        first ``partial_fit``; later ``partial_fit`` calls check it in ``_epoch``, before
        any learning)."""
        if y is None:  # validate_data gives scikit-learn's message
            return super()._start(X, y, classes)
        y_arr = np.asarray(y) if isinstance(y, (list, tuple, np.ndarray)) else None
        if y_arr is not None and y_arr.dtype.kind == "f" and np.all(np.isfinite(y_arr)):
            check_classification_targets(y_arr)  # a continuous y is named before X's range
        try:
            # complex X: validate_data names it (a cast here would only warn)
            arr = None if np.iscomplexobj(X) else np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None  # validate_data gives the proper message
        if arr is not None and arr.ndim == 2 and arr.size and np.all(np.isfinite(arr)):
            self._check_input_range(arr)
        return super()._start(X, y, classes)

    def _check_input_range(self, X):
        """Raise unless ``X`` lies in [0, 1] (inputs coded as spike probabilities or
        rates); learners whose inputs are currents override it. Returns ``X``."""
        return check_unit_range(X, type(self).__name__)

    def save(self, path):
        """Write parameters, weights, history (and model-specific state) to ``.npz``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, self._fitted_attr)
        meta = {"format": self._checkpoint_format,
                "params": params_for_json(self.get_params()),
                "classes": self.classes_.tolist(), "n_features": int(self.n_features_in_),
                "history": self.history_, "n_iter": int(self.n_iter_),
                "eval_seed": int(self.eval_seed_),
                "rng_state": self._rng.bit_generator.state, **self._checkpoint_meta()}
        write_checkpoint(path, meta, self._state_arrays())

    def _state_arrays(self):
        """Arrays a checkpoint holds: ``w_<name>`` for every entry of ``weights_``, plus
        :meth:`_checkpoint_arrays`."""
        arrays = {f"w_{k}": v for k, v in self.weights_.items()}
        arrays.update(self._checkpoint_arrays())
        return arrays

    def _load_state(self, meta, data):
        """Rebuild the learned state of a model that has parameters, ``classes_`` and
        ``n_features_in_`` (raise ``ValueError`` on a mismatch)."""
        self._initialize(self.n_features_in_, len(self.classes_))
        weights = self.weights_
        check_arrays(data, {f"w_{k}": W.shape for k, W in weights.items()},
                     required=self._checkpoint_arrays())
        for k, W in weights.items():
            W[...] = data[f"w_{k}"]  # in place: views of the weights (tied, transposed) follow
        self._restore_checkpoint(meta, data)

    @classmethod
    def load(cls, path):
        """Load a checkpoint written by :meth:`save`.

        Raises ``ValueError`` if the file is not a checkpoint of this estimator, is
        truncated or corrupt, or its arrays do not match its parameters; nothing is
        half-loaded.
        """
        name = cls.__name__
        meta, data = read_checkpoint(path, cls._checkpoint_format, name)
        try:
            model = cls(**params_from_json(meta["params"], cls._tuple_params))
            model._check_params()
            model.classes_ = np.asarray(meta["classes"])
            model.n_features_in_ = int(meta["n_features"])
            model._rng = np.random.default_rng()
            model._load_state(meta, data)
            model.eval_seed_ = int(meta["eval_seed"])
            model._rng.bit_generator.state = meta["rng_state"]  # training continues exactly
            model.history_ = meta["history"]
            model.n_iter_ = int(meta["n_iter"])
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path}: corrupt {name} checkpoint ({err!r})") from None
        except ValueError as err:
            raise ValueError(f"{path}: corrupt or mismatched {name} checkpoint: {err}") from None
        return model
