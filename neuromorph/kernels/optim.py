"""Fused optimiser kernels (numba); the NumPy reference is :mod:`neuromorph.models.rate.optimizers`."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def adam_increment(g, m, v, lr, beta1, beta2, eps, t, out):
    """Fused Adam step (Kingma & Ba 2015) over flat views, in place.

    ``m <- β1 m + (1 − β1) g``, ``v <- β2 v + (1 − β2) g²``, and ``out`` receives the
    increment ``−lr m̂ / (sqrt(v̂) + eps)`` with ``m̂ = m / (1 − β1^t)``,
    ``v̂ = v / (1 − β2^t)``. Same arithmetic as :class:`neuromorph.models.rate.optimizers.Adam`
    without its temporaries.
    """
    gf, mf, vf, of = g.reshape(-1), m.reshape(-1), v.reshape(-1), out.reshape(-1)
    d1 = 1.0 - beta1 ** t
    d2 = 1.0 - beta2 ** t
    for k in range(gf.size):
        gk = gf[k]
        mk = beta1 * mf[k] + (1.0 - beta1) * gk
        vk = beta2 * vf[k] + (1.0 - beta2) * gk * gk
        mf[k] = mk
        vf[k] = vk
        of[k] = -lr * (mk / d1) / (np.sqrt(vk / d2) + eps)
