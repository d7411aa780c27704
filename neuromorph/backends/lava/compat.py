"""Importing lava-nc 0.10.0 on Python 3.11: an import hook that fixes its dataclass
defaults in memory, and the one place lava is imported (:func:`_lava`).
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import multiprocessing as mp
import re
import sys




# -- import shim --------------------------------------------------------------------------
_BYTE_ENCODER_FIELD = re.compile(r"^(\s+\w+): ByteEncoder = ByteEncoder\(\)[ \t]*$", re.M)


class _VarModelLoader(importlib.machinery.SourceFileLoader):
    """Compiles ``lava/magma/compiler/var_model.py`` with Python-3.11-valid defaults.

    ``x: ByteEncoder = ByteEncoder()`` is a mutable dataclass default, rejected by
    Python 3.11; it becomes ``field(default_factory=ByteEncoder)``. The source on disk
    is never changed; an already valid source is compiled unchanged.
    """

    def get_code(self, fullname):
        src = self.get_data(self.path).decode("utf-8")
        src = _BYTE_ENCODER_FIELD.sub(
            r"\1: ByteEncoder = __import__('dataclasses').field(default_factory=ByteEncoder)",
            src)
        return compile(src, self.path, "exec", dont_inherit=True)


class _VarModelFinder(importlib.abc.MetaPathFinder):
    name = "lava.magma.compiler.var_model"

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            spec.loader = _VarModelLoader(fullname, spec.origin)
        return spec


def _install_import_hook():
    """Idempotent: one finder on ``sys.meta_path`` whatever the number of calls."""
    if not any(type(f).__name__ == "_VarModelFinder" for f in sys.meta_path):
        sys.meta_path.insert(0, _VarModelFinder())


_LAVA = None


def _lava():
    """Import lava (once) and return a namespace of the classes the backend uses."""
    global _LAVA
    if _LAVA is not None:
        return _LAVA
    _install_import_hook()
    method = mp.get_start_method(allow_none=True)
    original = mp.set_start_method
    if method is not None:
        # lava calls set_start_method('fork') without force, which raises once a start
        # method is set; the runs use an explicit fork context instead
        mp.set_start_method = lambda *a, **k: None
    try:
        import lava.magma.core.process.process  # noqa: F401 (lava is a namespace package)
    except ModuleNotFoundError as err:
        raise ImportError(
            "the Lava backend needs lava-nc 0.10.0: pip install -r requirements-lava.txt && "
            "pip install --no-deps --ignore-requires-python lava-nc==0.10.0") from err
    finally:
        mp.set_start_method = original
    if method is None and mp.get_start_method(allow_none=True) is not None:
        mp.set_start_method(None, force=True)  # leave the caller's default untouched
    from .processes import _build_namespace
    _LAVA = _build_namespace()
    return _LAVA
