"""scikit-learn's ``check_estimator`` on the spiking learners.

EProp and SurrogateBPTT take any finite X (each row a sequence of ``n_steps`` rows held
as input currents; ``n_steps=1`` so every feature count scikit-learn's checks use forms
a sequence) and pass the whole suite with small networks, as the rate families do with
their ``fast(...)`` helper (tests/rate/test_estimator_api.py).
"""
import pytest
from sklearn.utils.estimator_checks import check_estimator

from neuromorph.models.spiking import EProp, SurrogateBPTT

# Small networks so the ~55 checks stay affordable (~5 s each learner); epochs and
# learning rate chosen so that check_classifiers_train's accuracy bar (0.83 on 3
# Gaussian blobs) is met.
FAST = dict(n_hidden=16, n_steps=1, steps_per_row=8, readout_steps=4, max_iter=10,
            batch_size=16, learning_rate=1e-2)


def fast(cls, **kw):
    return cls(**{**FAST, **kw})


@pytest.mark.parametrize("cls", [EProp, SurrogateBPTT], ids=lambda c: c.__name__)
def test_check_estimator(cls):
    """The full scikit-learn suite, no expected failures (scikit-learn itself skips
    check_array_api_input, SCIPY_ARRAY_API unset)."""
    check_estimator(fast(cls, random_state=0))


def test_check_estimator_random_feedback():
    check_estimator(fast(EProp, feedback="random", random_state=1))
