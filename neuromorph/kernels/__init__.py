"""Numba kernels of the engine, each with a slow NumPy reference (``*_reference``).

Kernels are pure functions over NumPy arrays (no Python objects in their
signatures), compiled with ``numba.njit(cache=True)``.

numba's on-disk cache keys a compiled function on its own source file only: a cached
caller does not notice that a kernel it calls, in another file, changed, and would run
the old code. :func:`_drop_stale_cache` therefore empties this package's cache
(``__pycache__/*.nbi|*.nbc``) whenever any kernel's source differs from the sources it
was compiled from (a digest kept beside it). A cache elsewhere (``NUMBA_CACHE_DIR``) is
not checked.
"""
import hashlib
from pathlib import Path


def _drop_stale_cache():
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for f in sorted(here.glob("*.py")):
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    digest = digest.hexdigest()
    cache = here / "__pycache__"
    stamp = cache / "kernels-sources.sha256"
    try:
        if stamp.is_file() and stamp.read_text() == digest:
            return
        cache.mkdir(exist_ok=True)
        for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            f.unlink(missing_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only install: numba then caches elsewhere, or not at all
        pass


_drop_stale_cache()
