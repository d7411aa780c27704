"""Hyperparameter checks that name the parameter, its value and the allowed range.

scikit-learn forbids validation in ``__init__`` (``check_do_not_raise_errors_in_init``),
so estimators call these at the start of ``fit``/``partial_fit``, before any work.
"""
import numbers

from ..._checks import number


def check_number(name, value, low=None, high=None, low_open=False, high_open=False,
                 integer=False):
    """Raise TypeError/ValueError unless ``value`` is a number in the given interval
    (:func:`neuromorph._checks.number`, the project's one numeric validator)."""
    number(name, value, low, high, low_open, high_open, integer)


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
