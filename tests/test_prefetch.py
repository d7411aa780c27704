"""The software prefetch the engine issues ahead of spike propagation changes no value,
accepts any index (a prefetch never faults) and refuses an index of the wrong shape."""
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from neuromorph.kernels.prefetch import prefetch


@njit
def _walk(a, b, ahead):
    s = 0.0
    for i in range(a.shape[0]):
        prefetch(a, i + ahead)               # past the end too: harmless
        prefetch(b, (i % b.shape[0], i))     # a 2-d element, column out of range
        s += a[i]
    return s


def test_prefetch_changes_nothing_and_accepts_any_index():
    a = np.arange(1000.0)
    b = np.arange(12, dtype=np.int64).reshape(4, 3)
    before = (a.copy(), b.copy())
    for ahead in (0, 8, 10**9, -10**9):
        assert _walk(a, b, ahead) == a.sum()
    assert np.array_equal(a, before[0]) and np.array_equal(b, before[1])


def test_prefetch_refuses_an_index_of_the_wrong_shape():
    @njit
    def bad(b):
        prefetch(b, 1)  # a 2-d array needs two indices
    with pytest.raises(TypingError):
        bad(np.zeros((2, 2)))
