"""Argument validation shared by the network description (no engine imports).

Every check raises before any state is touched, naming the parameter, the value
and the allowed range, so a bad call never leaves a network half-changed.
"""
from __future__ import annotations

import numbers

import numpy as np


def number(name, value, low=None, high=None, low_open=False, high_open=False, integer=False,
           unit="", kind=""):
    """The one numeric validator: ``value`` as a float (an int if ``integer``) in a range.

    A non-number (``bool`` included) or a non-integer where an integer is needed raises
    ``TypeError`` naming the parameter and the expected type; NaN, inf or a value outside
    ``[low, high]`` (``(low`` / ``high)`` when open) raises ``ValueError`` naming the
    parameter, the allowed range (with ``unit``; ``kind`` names what it is, e.g.
    'a probability') and the value.
    """
    number_type = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, number_type):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a real number'}, "
                        f"got {type(value).__name__} {value!r}")
    value = int(value) if integer else float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad or hi_bad:
        unit = f" {unit}" if unit else ""
        if high is None:
            bound = (f">= {low + 1}" if integer and low_open
                     else f"{'>' if low_open else '>='} {low}")
        elif low is None:
            bound = f"{'<' if high_open else '<='} {high}"
        else:
            bound = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be {kind + ' ' if kind else ''}{bound}{unit}, "
                         f"got {value}")
    return value


def real(name, value):
    """A finite float."""
    return number(name, value)


def positive(name, value, unit=""):
    """A finite, strictly positive float."""
    return number(name, value, low=0, low_open=True, unit=unit)


def non_negative(name, value, unit=""):
    """A finite float >= 0."""
    return number(name, value, low=0, unit=unit)


def probability(name, value):
    """A float in [0, 1]."""
    return number(name, value, low=0, high=1, kind="a probability")


def integer(name, value, minimum=None):
    """A Python/NumPy integer, optionally >= ``minimum``."""
    return number(name, value, low=minimum, integer=True)


def finite_array(name, value, shape=None, dtype=float):
    """``value`` as a NumPy array of ``dtype`` with only finite entries (and ``shape``)."""
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.dtype.kind in "USO"):
        raise TypeError(f"{name} must be numeric, got {value!r}")
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numeric array-like: {err}") from None
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def steps(name, value_ms, dt, minimum=0):
    """Convert a duration in ms to an integer number of steps of ``dt`` ms.

    Raises ``ValueError`` if ``value_ms`` is not a multiple of ``dt`` (never rounds
    silently) or gives fewer than ``minimum`` steps. Works element-wise on arrays.
    """
    if np.ndim(value_ms) == 0 and not isinstance(value_ms, np.ndarray):
        real(name, value_ms)
    arr = finite_array(name, value_ms)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric (ms), got dtype {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 ms, got min {arr.min()}")
    n = np.rint(arr / dt)
    if np.any(np.abs(n * dt - arr) > 1e-9 * np.maximum(1.0, np.abs(arr))):
        bad = arr.flat[np.argmax(np.abs(n * dt - arr))]
        raise ValueError(f"{name} must be a multiple of dt = {dt} ms, got {bad} ms")
    if np.any(n < minimum):
        raise ValueError(f"{name} must be at least {minimum} steps of dt = {dt} ms")
    return n.astype(np.int64) if arr.ndim else int(n)


def no_extra(kind, kwargs):
    """Raise ``TypeError`` for unknown keyword arguments."""
    if kwargs:
        raise TypeError(f"{kind} got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")


def seed_or_none(name, value):
    """An integer seed or None (scikit-learn's ``random_state`` convention, ints only)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be an int or None, got {value!r}")
    return value


def unit_interval(name, arr):
    """Raise ``ValueError`` unless every entry of ``arr`` lies in [0, 1]; return ``arr``."""
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"{name} must have values in [0, 1] (intensities coded as rates), "
                         f"got [{arr.min()}, {arr.max()}]; scale it first, e.g. with "
                         f"sklearn.preprocessing.MinMaxScaler")
    return arr
