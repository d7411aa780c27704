"""Checkpoint files of the layered spiking estimators (CSDP, EqSpike, ...).

A checkpoint is an ``.npz`` archive: one ``meta`` entry holding a JSON object (UTF-8
bytes; it carries a ``"format"`` tag such as ``"neuromorph.CSDP/1"``) and any number of
named float arrays. :func:`read_checkpoint` turns every way a file can be unreadable
(missing, truncated, not a zip, bad JSON, wrong format tag) into one ``ValueError``
naming the file and the estimator, so ``load`` methods never half-load a model.
"""
from __future__ import annotations

import json
import math
import zipfile

import numpy as np


def params_for_json(params, drop=("random_state",)):
    """``get_params()`` made JSON-safe: tuples as lists, infinities as ``"inf"``."""
    out = {}
    for k, v in params.items():
        if k in drop:
            continue
        if isinstance(v, tuple):
            v = list(v)
        if isinstance(v, float) and math.isinf(v):
            v = "inf" if v > 0 else "-inf"
        out[k] = v
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
    """Write ``meta`` (a JSON-serialisable dict with a ``"format"`` key) and ``arrays``."""
    with open(path, "wb") as f:
        np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)


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


class CheckpointMixin:
    """``save`` / ``load`` of a layered spiking estimator (parameters, ``weights_``,
    history; optimiser state starts fresh after loading).

    Subclasses set ``_checkpoint_format`` (e.g. ``"neuromorph.CSDP/1"``) and
    ``_fitted_attr`` (the attribute a fitted model has), and may extend
    ``_tuple_params`` (parameters stored as lists), ``_checkpoint_meta`` /
    ``_checkpoint_arrays`` (extra state to write) and ``_restore_checkpoint`` (read it
    back, raising ``ValueError`` on a mismatch).
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

    def save(self, path):
        """Write parameters, weights, history (and model-specific state) to ``.npz``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, self._fitted_attr)
        meta = {"format": self._checkpoint_format,
                "params": params_for_json(self.get_params()),
                "classes": self.classes_.tolist(), "n_features": int(self.n_features_in_),
                "history": self.history_, "n_iter": int(self.n_iter_),
                **self._checkpoint_meta()}
        arrays = {f"w_{k}": v for k, v in self.weights_.items()}
        arrays.update(self._checkpoint_arrays())
        write_checkpoint(path, meta, arrays)

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
            model._initialize(model.n_features_in_, len(model.classes_))
            weights = model.weights_
            expected = {f"w_{k}" for k in weights} | set(model._checkpoint_arrays())
            if set(data) != expected:
                raise ValueError(f"arrays {sorted(set(data) ^ expected)} missing or unexpected")
            for k, W in weights.items():
                a = data[f"w_{k}"]
                if a.shape != W.shape or not np.all(np.isfinite(a)):
                    raise ValueError(f"array {k} has shape {a.shape}, expected {W.shape}, "
                                     f"or non-finite values")
                W[...] = a  # in place: views of the weights (tied, transposed) follow
            model._restore_checkpoint(meta, data)
            model.history_ = meta["history"]
            model.n_iter_ = int(meta["n_iter"])
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path}: corrupt {name} checkpoint ({err!r})") from None
        except ValueError as err:
            raise ValueError(f"{path}: corrupt or mismatched {name} checkpoint: {err}") from None
        return model
