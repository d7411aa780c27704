"""Random initial values for weights, delays and state variables.

A distribution is a small immutable description; the network draws from it with its
own seeded generator, so the same seed gives the same values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks


class Distribution:
    """Base class: ``sample(rng, n)`` returns ``n`` float64 values."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class uniform(Distribution):
    """Uniform on ``[low, high)`` (same unit as the parameter it initialises)."""

    low: float
    high: float

    def __post_init__(self):
        lo, hi = _checks.real("low", self.low), _checks.real("high", self.high)
        if hi < lo:
            raise ValueError(f"uniform: high must be >= low, got low={lo}, high={hi}")

    def sample(self, rng, n):
        return rng.uniform(self.low, self.high, size=n)


@dataclass(frozen=True)
class normal(Distribution):
    """Gaussian with ``mean`` and standard deviation ``std`` (same unit as the parameter)."""

    mean: float
    std: float

    def __post_init__(self):
        _checks.real("mean", self.mean)
        _checks.non_negative("std", self.std)

    def sample(self, rng, n):
        return rng.normal(self.mean, self.std, size=n)


def draw(name, spec, rng, n):
    """Resolve ``spec`` (scalar, length-``n`` array or Distribution) to ``n`` finite floats."""
    if isinstance(spec, Distribution):
        return spec.sample(rng, n).astype(np.float64)
    arr = _checks.finite_array(name, spec)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar, a distribution or an array of shape ({n},), "
                         f"got shape {arr.shape}")
    return arr.astype(np.float64).copy()
