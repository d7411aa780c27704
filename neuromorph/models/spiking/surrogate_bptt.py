r"""Surrogate-gradient backpropagation through time on the recurrent LIF network (spec §4.24).

The reference for :class:`~.eprop.EProp`: the same network, readout, loss and
pseudo-derivative (:mod:`.recurrent`), trained with the exact gradient of the unrolled
network in which every spike's derivative is the pseudo-derivative ψ (Neftci, Mostafa &
Zenke 2019; Bellec et al. 2018/2020). Backward pass over the recorded sequence, from the
readout's κ-filtered output errors ĝ^t (all per-neuron quantities, (B, n) per step)::

    ∂E/∂z^t  = ĝ^t W_out^T + c ∂E/∂ṽ^{t+1} W_rec^T          c = (1 − α) R
    ∂E/∂ṽ^t  = ψ^t ∂E/∂z^t + α ρ^t ∂E/∂ṽ^{t+1}
    ΔW_in    = −η Σ_t (x^t)^T c ∂E/∂ṽ^t,   ΔW_rec = −η Σ_t (z^{t−1})^T c ∂E/∂ṽ^t

with ``ρ^t = 1 − z^t`` for ``reset_gradient="zero"`` (the default: a spike's reset to 0
cuts the membrane's memory, the spike itself held constant in the reset, Zenke & Vogels
2021's "detached reset") or ``ρ^t = 1`` for ``"none"`` (the reset does not enter the
gradient at all, e-prop's approximation: with it, and without recurrent weights, this
gradient is e-prop's, which tests/test_eprop.py checks). ``"none"`` is not the default
because it trains unstably through the recurrence: on row-wise digits (γ = 0.3,
lr 5.7e-3, τ_m = 10 ms) its training loss rose from 0.89 to 5.7 in the fifth epoch,
while ``"zero"`` decreased steadily (0.46 after six epochs).

Results (``experiments/eprop_digits.py``; row-wise digits, 8 rows x 10 steps; defaults,
20 epochs; 5 splits, seeds 101-105): 92.3 ± 2.2 % (min 89.7 %); e-prop 89.7 ± 2.3 %.
"""
from __future__ import annotations

import numpy as np

from ..rate.metadata import Family
from .recurrent import RecurrentLIFClassifier

_FORMAT = "neuromorph.SurrogateBPTT/1"


class SurrogateBPTT(RecurrentLIFClassifier, family=Family.SEL_FO, checklist="surrogate_bptt",
                    algorithm="Surrogate-gradient BPTT (recurrent LIF)", spec_section="4.24"):
    r"""Surrogate-gradient BPTT on a recurrent LIF network reading X row by row.

    Parameters
    ----------
    reset_gradient : {"none", "zero"}
        How the reset enters the gradient (see the module docstring).
    n_hidden : int > 0
        Recurrent LIF neurons.
    n_steps : int > 0
        Rows per sample: X of shape (n_samples, n_steps * width) is read as ``n_steps``
        rows of ``width`` values (digits: 8 rows of 8 pixels).
    steps_per_row : int > 0
        Simulation steps each row is held as an input current (default 10).
    readout_steps : int > 0 or None
        Steps at the end of the sequence whose readout enters the loss and the class
        scores (None: every step).
    dt, tau_m, tau_out, v_th, resistance, surrogate_scale, weight_scale :
        As for :class:`~.eprop.EProp` (ms, ms, ms, mV, mV, dimensionless, dimensionless).
    learning_rate : float > 0
    optimizer : {"adam", "sgd"}
    momentum : float in [0, 1)
        Momentum of SGD.
    <mini-batch training parameters>
    random_state : int, numpy Generator or None
        Seed of the single generator (initialisation, batching).

    Attributes
    ----------
    history_ : dict
        As for :class:`~.eprop.EProp`.
    weights_ : dict of ndarray
        ``W_in``, ``W_rec``, ``W_out``, ``b_out`` (layer attributes ``in_``, ``rec_``,
        ``out_``, ``b_out_``).
    """

    _params = dict(reset_gradient="zero")

    def _check_extra_params(self):
        self._choice("reset_gradient", ("none", "zero"))

    def _hidden_gradients(self, traj, dy, g):
        psi = self.pseudo_derivative(traj)
        a, c = self._alpha, (1.0 - self._alpha) * float(self.resistance)
        dz_out = g @ np.ascontiguousarray(self.out_.W.T)   # readout's part of ∂E/∂z^t
        W_rec_T = np.ascontiguousarray(c * self.rec_.W.T)  # (a transposed view is slow in BLAS)
        dv = np.zeros_like(traj.v)                         # ∂E/∂ṽ^t
        nxt = np.zeros_like(traj.v[0])
        for t in range(len(dv) - 1, -1, -1):
            dz = dz_out[t] + nxt @ W_rec_T
            carry = a * nxt if self.reset_gradient == "none" else a * nxt * (1.0 - traj.z[t])
            nxt = psi[t] * dz + carry
            dv[t] = nxt
        n = self.n_hidden
        dI = (c * dv).reshape(-1, n)
        return {"W_in": traj.x.reshape(-1, traj.x.shape[2]).T @ dI,
                "W_rec": traj.z_prev.reshape(-1, n).T @ dI}

    _checkpoint_format = _FORMAT
