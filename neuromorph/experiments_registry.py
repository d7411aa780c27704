"""The experiment scripts of ``experiments/`` as a registry for ``neuromorph experiments``
and ``neuromorph run``.

The scripts live in the repository, outside the package: they are found relative to the
repository root (the parent of the package folder), so this works from a clone or an
editable install. In a non-editable install there is no ``experiments/`` folder next to
the package and :func:`experiments_dir` raises :class:`ExperimentsNotFound` with a hint.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

_ENV = "NEUROMORPH_EXPERIMENTS_DIR"


class ExperimentsNotFound(RuntimeError):
    """The ``experiments/`` folder of the repository is not where it should be."""


class UnknownExperiment(KeyError):
    """No script of that name in ``experiments/``."""


def experiments_dir():
    """Folder holding the experiment scripts.

    ``$NEUROMORPH_EXPERIMENTS_DIR`` if set, else ``<repository root>/experiments``.
    """
    env = os.environ.get(_ENV)
    path = Path(env) if env else Path(__file__).resolve().parent.parent / "experiments"
    if not path.is_dir():
        raise ExperimentsNotFound(
            f"experiment scripts not found at {path}: they live in the repository's "
            "experiments/ folder, which a non-editable install does not contain. Clone the "
            "repository and install it with `pip install -e .`, or point "
            f"${_ENV} at the experiments folder.")
    return path


def _first_line(doc):
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return "(no description)"


def _options(tree):
    """Long options declared by the script's ``add_argument`` calls."""
    opts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            for a in node.args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str) \
                        and a.value.startswith("--"):
                    opts.add(a.value)
    return frozenset(opts)


def list_experiments():
    """``{name: {"path", "description", "options"}}`` for every ``experiments/*.py``.

    ``name`` is the file stem, ``description`` the first line of the module docstring,
    ``options`` the long options the script's parser declares (``--seed``, ...).
    """
    out = {}
    for path in sorted(experiments_dir().glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        out[path.stem] = dict(path=path, description=_first_line(ast.get_docstring(tree)),
                              options=_options(tree))
    return out


def get_experiment(name):
    exps = list_experiments()
    key = name[:-3] if name.endswith(".py") else name
    if key not in exps:
        raise UnknownExperiment(f"unknown experiment {name!r}; known: {', '.join(exps)}")
    return key, exps[key]


def command(name, out, seed=None, quick=False):
    """The command line that runs experiment ``name`` (raises if it has no ``--seed``)."""
    key, exp = get_experiment(name)
    cmd = [sys.executable, str(exp["path"]), "--out", str(out)]
    if quick:
        cmd.append("--quick")
    if seed is not None:
        if "--seed" not in exp["options"]:
            raise ValueError(f"experiment {key!r} takes no --seed option "
                             f"(its options: {' '.join(sorted(exp['options']))})")
        cmd += ["--seed", str(seed)]
    return cmd


def _outputs(out):
    files = sorted(p for p in Path(out).rglob("*") if p.is_file() and p.name != "summary.md")
    jsons = [p for p in files if p.suffix == ".json"]
    figures = [p for p in files if p.suffix in (".png", ".svg", ".pdf")]
    others = [p for p in files if p not in jsons and p not in figures]
    return jsons, figures, others


def _scalars(path, limit=12):
    """Top-level numbers / strings / bools of a JSON object (for the summary)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    items = [(k, v) for k, v in data.items()
             if isinstance(v, (int, float, str, bool)) and not (isinstance(v, str) and len(v) > 60)]
    return items[:limit]


def write_summary(name, out, cmd, returncode, wall_s, description=""):
    """Write ``summary.md`` into ``out`` listing the metrics JSON and figures found there."""
    out = Path(out)
    jsons, figures, others = _outputs(out)
    lines = [f"# Experiment `{name}`", ""]
    if description:
        lines += [description, ""]
    lines += [
        f"- command: `{' '.join(str(c) for c in cmd)}`",
        f"- exit status: {returncode}",
        f"- wall time: {wall_s:.1f} s",
        f"- finished: {time.strftime('%Y-%m-%d %H:%M:%S')}",
        "",
        "## Metrics (JSON)",
        "",
    ]
    if not jsons:
        lines.append("(none)")
    for p in jsons:
        rel = p.relative_to(out).as_posix()
        lines.append(f"- [`{rel}`]({rel})")
        for k, v in _scalars(p):
            shown = f"{v:.4g}" if isinstance(v, float) else str(v)
            lines.append(f"  - {k}: {shown}")
    lines += ["", "## Figures", ""]
    if not figures:
        lines.append("(none)")
    for p in figures:
        rel = p.relative_to(out).as_posix()
        lines.append(f"- ![{rel}]({rel})" if p.suffix == ".png" else f"- [`{rel}`]({rel})")
    if others:
        lines += ["", "## Other files", ""]
        lines += [f"- [`{p.relative_to(out).as_posix()}`]({p.relative_to(out).as_posix()})"
                  for p in others]
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_experiment(name, out, seed=None, quick=False):
    """Run one experiment script in a subprocess, then write ``summary.md`` into ``out``.

    The script's output streams through (its progress lines and bars). Returns the
    script's exit status.
    """
    key, exp = get_experiment(name)
    cmd = command(key, out, seed=seed, quick=quick)
    Path(out).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, env=env).returncode
    write_summary(key, out, cmd, rc, time.perf_counter() - t0, exp["description"])
    return rc

