"""Hyperparameter checks that name the parameter, its value and the allowed range.

scikit-learn forbids validation in ``__init__`` (``check_do_not_raise_errors_in_init``),
so estimators call these at the start of ``fit``/``partial_fit``, before any work.
"""
import numbers

import numpy as np


def check_number(name, value, low=None, high=None, low_open=False, high_open=False, integer=False):
    """Raise TypeError/ValueError unless ``value`` is a number in the given interval."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {'an int' if integer else 'a real number'}, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    lo_bad = low is not None and (value <= low if low_open else value < low)
    hi_bad = high is not None and (value >= high if high_open else value > high)
    if lo_bad and high is None:
        bound = f">= {low + 1}" if integer and low_open else f"{'>' if low_open else '>='} {low}"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    if lo_bad or hi_bad:
        lb = "(" if low_open else "["
        hb = ")" if high_open else "]"
        rng = f"{lb}{'-inf' if low is None else low}, {'inf' if high is None else high}{hb}"
        raise ValueError(f"{name} must be in {rng}, got {value!r}")


def check_positive(name, value, integer=False):
    """``value`` > 0."""
    check_number(name, value, low=0, low_open=True, integer=integer)


def check_choice(name, value, choices):
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def check_layer_sizes(name, value):
    """A non-empty tuple/list of positive ints."""
    if isinstance(value, numbers.Integral):
        value = (value,)
    if not isinstance(value, (tuple, list)) or len(value) == 0:
        raise ValueError(f"{name} must be a non-empty tuple of positive ints, got {value!r}")
    for v in value:
        check_positive(f"{name} entries", v, integer=True)
    return tuple(int(v) for v in value)
