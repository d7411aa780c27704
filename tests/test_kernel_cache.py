"""The kernels' numba cache is dropped when any kernel's source changes (a cached caller
would otherwise run the old code of a kernel it calls in another file)."""
import shutil
import subprocess
import sys
from pathlib import Path

import neuromorph.kernels

SRC = Path(neuromorph.kernels.__file__).parent


def _import(pkg_root):
    subprocess.run([sys.executable, "-c", "import neuromorph.kernels"], cwd=pkg_root,
                   check=True, env={"PYTHONPATH": str(pkg_root), "PATH": "/usr/bin:/bin"})


def test_cache_dropped_when_a_kernel_source_changes(tmp_path):
    pkg = tmp_path / "neuromorph"
    shutil.copytree(SRC.parent, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.nb?"))
    cache = pkg / "kernels" / "__pycache__"
    _import(tmp_path)  # first import: writes the digest
    stale = cache / "engine.run_steps-1.py311.nbi"
    stale.write_bytes(b"cached")
    _import(tmp_path)  # sources unchanged: the cache stays
    assert stale.exists()
    lif = pkg / "kernels" / "lif.py"
    lif.write_text(lif.read_text() + "\n# edited\n")
    _import(tmp_path)  # a kernel the engine calls changed: its cache goes
    assert not stale.exists()
    assert (cache / "kernels-sources.sha256").is_file()
