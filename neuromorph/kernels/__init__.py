"""Numba kernels of the engine, each with a slow NumPy reference (``*_reference``).

Kernels are pure functions over NumPy arrays (no Python objects in their
signatures), compiled with ``numba.njit(cache=True)``.
"""
