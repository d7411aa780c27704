"""Shared fixtures for the rate-family tests: small, fast data sets."""
import numpy as np
import pytest



@pytest.fixture(scope="session")
def small_digits(digits):
    """First 600 training and all 360 test digits: a scaled-down accuracy check."""
    Xtr, Xte, ytr, yte = digits
    return Xtr[:600], Xte, ytr[:600], yte


@pytest.fixture
def toy_batch():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(16, 5))
    y = rng.integers(0, 3, size=16)
    Y = np.eye(3)[y]
    return X, y, Y
