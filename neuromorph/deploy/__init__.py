"""Deploying trained spiking learners: inference networks on the core (and beyond).

``nm.deploy(model, backend=...)`` is :func:`.api.deploy` (this package is callable).

* :mod:`.api` -- :func:`deploy` and :class:`Deployment`;
* :mod:`.layered` -- the layered learners' layers as LIF populations and projections;
* :mod:`.builders` -- each learner's inference network (called by its ``deploy_spec``);
* :mod:`.quantize` -- Loihi fixed point (8-bit weights, CUBA neurons) of those networks;
* :mod:`.energy` -- energy and latency per inference on Loihi (SANA-FE).
"""
import sys as _sys
import types as _types

from .api import BACKENDS, Deployment, deploy

__all__ = ["BACKENDS", "Deployment", "deploy"]


class _CallablePackage(_types.ModuleType):
    """``nm.deploy(...)`` calls :func:`deploy`; ``nm.deploy.Deployment`` etc. still work."""

    def __call__(self, model, backend="neuromorph", fixed_point=None, **options):
        return deploy(model, backend, fixed_point, **options)


_sys.modules[__name__].__class__ = _CallablePackage
