"""Mini-batch training loop shared by the layered spiking learners (CSDP, SpikingPC, EqSpike)."""
from __future__ import annotations

import numpy as np

from ..rate.batching import minibatches


def minibatch_epoch(model, X, targets, train_batch, desc):
    """One pass over ``(X, targets)`` in mini-batches of ``model.batch_size``, shuffled by
    ``model._rng``, with a progress bar when the model is ``verbose``.

    ``train_batch(X_batch, targets_batch)`` learns from one batch and returns a dict of
    per-sample means over the batch (``"loss"`` among them). Their means over the epoch
    are appended to ``model.history_`` (arrays as lists) and ``model.n_iter_`` is set to
    the number of epochs done.
    """
    from tqdm.auto import tqdm

    epoch = len(model.history_["loss"]) + 1
    bar = tqdm(minibatches(len(X), model.batch_size, model._rng), desc=f"{desc} epoch {epoch}",
               total=-(-len(X) // model.batch_size), unit="batch",
               disable=not model._show_progress(), leave=False)
    totals = {}
    for idx in bar:
        stats = train_batch(X[idx], targets[idx])
        for key, value in stats.items():
            totals[key] = totals.get(key, 0.0) + np.asarray(value, dtype=float) * len(idx)
        bar.set_postfix(loss=f"{stats['loss']:.4g}")
    bar.close()
    for key, total in totals.items():
        mean = total / len(X)
        model.history_.setdefault(key, []).append(mean.tolist() if mean.ndim else float(mean))
    model.n_iter_ = epoch


class MiniBatchEpochs:
    """``_epoch`` of the layered learners (CSDP, SpikingPC, EqSpike): inputs checked to
    lie in [0, 1], then one :func:`minibatch_epoch` over ``_train_batch``, whose return
    values are named by ``_batch_stats`` (``"hits"`` becomes ``accuracy``)."""

    _batch_stats = ("loss", "hits")

    def _epoch_targets(self, y):
        """What ``_train_batch`` learns from: class indices (override for one-hot)."""
        return np.searchsorted(self.classes_, y)

    def _epoch(self, X, y):
        """One pass over (X, y) in shuffled mini-batches (called by ``fit``/``partial_fit``)."""
        name = type(self).__name__
        self._check_input_range(X)

        def batch(xb, yb):
            stats = dict(zip(self._batch_stats, self._train_batch(xb, yb)))
            stats["accuracy"] = stats.pop("hits") / len(xb)
            return stats

        minibatch_epoch(self, X, self._epoch_targets(y), batch, name)

