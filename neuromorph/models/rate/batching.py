"""Mini-batching: shuffled index blocks drawn from one seeded generator."""

import numpy as np


def minibatches(n_samples, batch_size, rng, shuffle=True):
    """Yield index arrays covering ``range(n_samples)`` in blocks of ``batch_size``.

    The last block may be smaller. With ``shuffle`` the order is a permutation drawn
    from ``rng`` (a ``numpy.random.Generator``), so the same seed gives the same batches.
    """

    order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
    for start in range(0, n_samples, batch_size):
        yield order[start : start + batch_size]
