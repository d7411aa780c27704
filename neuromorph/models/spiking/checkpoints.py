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
    """Inverse of :func:`params_for_json` for the keys in ``tuples`` and infinities."""
    out = {}
    for k, v in params.items():
        if v in ("inf", "-inf"):
            v = math.inf if v == "inf" else -math.inf
        elif k in tuples and v is not None:
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
