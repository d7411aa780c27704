"""Figures: raster plots, state traces, weight histograms, weight matrices, receptive fields.

Every function draws into a given ``ax`` (or a new figure) and returns the axes, with
labelled axes and units. Colours come from a colour-blind-safe palette (Okabe & Ito).
"""
from __future__ import annotations

import numpy as np

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")


def _axes(ax, figsize=(6, 3.5)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    return plt.subplots(figsize=figsize)[1]


def raster(monitor, ax=None, color=PALETTE[0], offset=0, markersize=1.5, label=None):
    """Raster plot of a :class:`~neuromorph.monitors.SpikeMonitor` (time in ms)."""
    ax = _axes(ax)
    ax.plot(monitor.t, monitor.i + offset, "|", color=color, markersize=markersize,
            label=label)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron index")
    return ax


def traces(monitor, ax=None, neurons=None):
    """State traces of a :class:`~neuromorph.monitors.StateMonitor` (mV against ms)."""
    ax = _axes(ax)
    cols = range(monitor.values.shape[1]) if neurons is None else neurons
    for k, c in enumerate(cols):
        ax.plot(monitor.t, monitor.values[:, c], color=PALETTE[k % len(PALETTE)], lw=1,
                label=f"neuron {monitor.record[c]}")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"{monitor.var} (mV)")
    return ax


def weight_histogram(weights, ax=None, bins=30, w_range=None, color=PALETTE[0], label=None,
                     relative=False):
    """Histogram of synaptic weights (mV); ``weights`` is an array or a projection."""
    ax = _axes(ax)
    w = np.asarray(getattr(weights, "w", weights)).ravel()
    ax.hist(w, bins=bins, range=w_range, color=color, alpha=0.75, label=label,
            weights=np.full(w.size, 1.0 / max(w.size, 1)) if relative else None)
    ax.set_xlabel("weight (mV)")
    ax.set_ylabel("fraction of synapses" if relative else "synapses")
    return ax


def weight_matrix(weights, ax=None, cmap="viridis"):
    """Image of a dense ``(n_pre, n_post)`` weight matrix (mV), or of a projection's."""
    ax = _axes(ax, figsize=(5, 4))
    W = np.asarray(getattr(weights, "weights", weights))
    im = ax.imshow(W.T, aspect="auto", interpolation="nearest", cmap=cmap, origin="lower")
    ax.figure.colorbar(im, ax=ax, label="weight (mV)")
    ax.set_xlabel("presynaptic neuron")
    ax.set_ylabel("postsynaptic neuron")
    return ax


def receptive_fields(weights, shape, ax=None, n_cols=None, cmap="viridis"):
    """Tile each postsynaptic neuron's incoming weights as an image of ``shape``.

    ``weights`` is ``(n_pre, n_post)`` with ``n_pre == prod(shape)``.
    """
    W = np.asarray(getattr(weights, "weights", weights))
    h, w = shape
    if W.shape[0] != h * w:
        raise ValueError(f"weights have {W.shape[0]} rows; shape {shape} needs {h * w}")
    n = W.shape[1]
    n_cols = n_cols or int(np.ceil(np.sqrt(n)))
    n_rows = int(np.ceil(n / n_cols))
    grid = np.full((n_rows * (h + 1), n_cols * (w + 1)), np.nan)
    for k in range(n):
        r, c = divmod(k, n_cols)
        grid[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = W[:, k].reshape(h, w)
    ax = _axes(ax, figsize=(5, 5))
    ax.imshow(grid, cmap=cmap, interpolation="nearest")
    ax.set_axis_off()
    return ax


def save(fig, path):
    """Save ``fig`` as PNG at ``path`` and as SVG beside it."""
    from pathlib import Path
    path = Path(path)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    fig.savefig(path.with_suffix(".svg"), bbox_inches="tight")
    return path


_LINESTYLES = ("-", "--", ":", "-.")


def learning_curves(curves, groups=None, n_cols=3, panel_size=(4.6, 3.4), ylabel="test accuracy"):
    """Mean ± std learning curves, one panel per group of families.

    Parameters
    ----------
    curves : dict
        Family name -> list of per-seed curves (each a sequence of accuracies, one per
        epoch; seeds of one family have the same length). A one-point curve is drawn as
        a marker.
    groups : dict, optional
        Family name -> panel title (e.g. the survey's family tag); default: one panel.
    n_cols : int
        Panels per row.
    panel_size : tuple of float
        Width and height of one panel (inches).
    ylabel : str
        Label of the y axes.

    Returns
    -------
    matplotlib.figure.Figure

    Within a panel, colours cycle through :data:`PALETTE` and then the line style
    changes, so up to 32 families stay distinguishable without relying on hue alone.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    groups = groups or {name: "" for name in curves}
    titles = list(dict.fromkeys(groups.get(name, "") for name in curves))
    n_cols = min(n_cols, len(titles))
    n_rows = -(-len(titles) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, squeeze=False, sharey=True,
                             figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows))
    for ax, title in zip(axes.flat, titles):
        names = [name for name in curves if groups.get(name, "") == title]
        for k, name in enumerate(names):
            runs = np.asarray(curves[name], dtype=float)
            if runs.ndim == 1:
                runs = runs[None, :]
            mean, std = runs.mean(axis=0), runs.std(axis=0)
            epochs = np.arange(1, mean.size + 1)
            color = PALETTE[k % len(PALETTE)]
            style = _LINESTYLES[(k // len(PALETTE)) % len(_LINESTYLES)]
            ax.plot(epochs, mean, style, color=color, lw=1.5, label=name,
                    marker="o" if mean.size == 1 else None)
            if runs.shape[0] > 1 and mean.size > 1:
                ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.15, lw=0)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    for ax in list(axes.flat)[len(titles):]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig
