"""Weight initialisers. All take a ``numpy.random.Generator`` so runs are reproducible.

Shapes follow the spec: a forward matrix W^ℓ has shape (J_ℓ, J_{ℓ−1}) (fan_out, fan_in).
"""
import numpy as np


def glorot_uniform(rng, fan_out, fan_in):
    """Glorot/Xavier uniform: W ~ U(−a, a), a = sqrt(6 / (fan_in + fan_out))."""
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_out, fan_in))


def he_normal(rng, fan_out, fan_in):
    """He normal: W ~ N(0, 2 / fan_in), suited to ReLU layers."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))


def random_feedback(rng, rows, cols, scale=None):
    """Fixed random feedback matrix B ~ N(0, s²) with s = 1/sqrt(cols) by default.

    Used for the feedback pathways of FA/DFA (spec §4.3: entries N(0, 1/J_{ℓ+1})), local
    classifiers (§4.12), PEPITA's projection (§4.23) and random error synapses (§4.15).
    """
    s = 1.0 / np.sqrt(cols) if scale is None else scale
    return rng.normal(0.0, s, size=(rows, cols))


def layerwise_feedback(rng, sizes, scale=1.0):
    """Feedback B^ℓ for every layer above the first, W^ℓ's shape (J_ℓ × J_{ℓ−1}).

    Entries N(0, scale² / J_{ℓ−1}); entry 0 is ``None`` (the first layer sends no
    feedback), so ``B[l]`` pairs with ``W[l]``. Used by FA, KP, learned feedback, LRA.
    """
    return [None] + [random_feedback(rng, o, i, scale / np.sqrt(i))
                     for i, o in zip(sizes[1:-1], sizes[2:])]


def direct_feedback(rng, sizes, scale=1.0):
    """One C × J_ℓ matrix per hidden layer (output → layer ℓ), entries N(0, scale² / C).

    Used by DFA (B_d^ℓ) and by local losses (fixed classifiers K^ℓ and feedback B^ℓ).
    """
    C = sizes[-1]
    return [random_feedback(rng, C, J, scale / np.sqrt(C)) for J in sizes[1:-1]]


INITIALIZERS = {"glorot_uniform": glorot_uniform, "he_normal": he_normal}


def get_initializer(name):
    """Return the initialiser registered under ``name`` (ValueError otherwise)."""
    if name not in INITIALIZERS:
        raise ValueError(f"init must be one of {sorted(INITIALIZERS)}, got {name!r}")
    return INITIALIZERS[name]
