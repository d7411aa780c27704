"""Session-wide checks shared by every test module."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: build and cache output that running the code legitimately leaves in the tree
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
_SKIP_SUFFIXES = (".nbi", ".nbc", ".pyc")


def _tree():
    found = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
        found.update(os.path.relpath(os.path.join(folder, f), ROOT) for f in files
                     if not f.endswith(_SKIP_SUFFIXES))
    return found


@pytest.fixture(scope="session", autouse=True)
def tests_write_only_to_temporary_directories():
    """Fail the session if any test left a file in the repository (e.g. a Brian2
    standalone build in ``output/`` or an experiment's ``*_out/``): tests write to
    ``tmp_path`` only."""
    before = _tree()
    yield
    new = sorted(_tree() - before)
    assert not new, f"tests wrote into the repository: {new[:20]}"


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits, the fixed seeded split every learner test uses:
    ``(X_train, X_test, y_train, y_test)`` (1437 / 360 samples, pixels in [0, 1])."""
    from neuromorph.datasets import load_digits_split

    return load_digits_split()
