"""Derivative-free stochastic search: hill-climbing and simulated annealing (spec §4.8, EG).

Both treat the whole network as one point θ in weight space and take random steps
ε ~ N(0, σ² I) on every weight and bias at once. A move is kept or undone according to
one global scalar, the change of the batch loss it causes (S1 Fig. 8 left: a binary
neuromodulator M ∈ {0, 1} gating a random synaptic change, ΔW = M ε). Neither needs
derivatives, a differentiable network or a differentiable loss.
"""
import math

from ._validation import check_number, check_positive
from .feedforward import FeedforwardClassifier
from .metadata import Family


def metropolis_accept(delta, temperature, u):
    """Metropolis acceptance of a move that changes the loss by ``delta``.

    Accept when ``u < exp(−delta / T)``, i.e. with probability min(1, exp(−Δ / T)) for
    ``u ~ U(0, 1)``; at T = 0 only moves that lower the loss are accepted (hill-climbing).
    """
    if delta < 0:
        return True
    if temperature <= 0:
        return False
    if u <= 0:
        return True
    # u < exp(−Δ/T)  ⇔  T log u < −Δ: no overflow of Δ/T at tiny temperatures
    return bool(temperature * math.log(u) < -delta)


class _StochasticSearch(
    FeedforwardClassifier, family=Family.EG, checklist="perturbation", spec_section="4.8",
):
    """Random moves of all parameters, kept or undone by a global scalar (abstract).

    Per mini-batch, ``n_proposals`` moves are tried one after the other on that batch;
    each costs one forward pass. ``learning_rate`` is the step size σ of the random walk;
    ``optimizer`` and ``momentum`` are not used (no gradient is ever formed).

    Extra parameters
    ----------------
    n_proposals : int > 0
        Moves tried per mini-batch.

    Attributes
    ----------
    acceptance_ : list of float
        Fraction of moves accepted in each epoch.
    """

    # one hidden layer of 32 units (~2.4k parameters): every move perturbs all of them,
    # so a small network finds improving moves more often. σ = 5e-3 and 16 moves per
    # batch of 128 reach ~92 % on a digits split in ~2.5 s; σ = 2e-2 with 4 moves ~83 %
    _params = dict(hidden_layer_sizes=(32,), learning_rate=5e-3, batch_size=128, max_iter=30,
                   n_proposals=16)

    def _check_rule_params(self):
        check_positive("n_proposals", self.n_proposals, integer=True)
        self._check_search_params()

    def _check_search_params(self):
        """Checks of the acceptance rule's own parameters (override)."""

    _history_keys = ("loss", "accuracy", "wall_s", "acceptance")

    def _init_rule(self, sizes):
        self._accepted = self._proposed = 0

    def _batch_loss(self, X, Y):
        return float(self.loss.per_sample(self.net_.output(X), Y).mean())

    def _accept(self, delta):  # pragma: no cover - abstract
        raise NotImplementedError

    def _train_batch(self, X, Y):
        params, s = self.net_.params, self.learning_rate
        current = self._batch_loss(X, Y)
        for _ in range(self.n_proposals):
            eps = [self._rng.normal(0.0, s, p.shape) for p in params]
            for p, e in zip(params, eps):
                p += e
            trial = self._batch_loss(X, Y)
            self._proposed += 1
            if self._accept(trial - current):  # M = 1: keep ΔW = ε
                current = trial
                self._accepted += 1
            else:  # M = 0: undo
                for p, e in zip(params, eps):
                    p -= e
        return current

    def _epoch(self, X, y):
        self._accepted = self._proposed = 0
        super()._epoch(X, y)
        self.history_["acceptance"].append(self._accepted / max(self._proposed, 1))


class HillClimbing(_StochasticSearch, algorithm="Stochastic hill-climbing"):
    """Stochastic hill-climbing (S1 §2.2, Fig. 8 left; spec §4.8).

    ::

        ε_ij ~ N(0, σ²)  for every weight and bias;  evaluate L(θ + ε) on the batch
        M = 1 if L(θ + ε) < L(θ) else 0      (R = −L rose: M = 1[R_t − R_{t−1} > 0])
        θ ← θ + M ε

    On a fixed batch the loss never rises. At its defaults: 91.1 % mean (min 90.3 %) test
    accuracy on digits splits 101..105 (experiments/rate_defaults.py).
    """

    def _accept(self, delta):
        return delta < 0


class SimulatedAnnealing(_StochasticSearch, algorithm="Simulated annealing"):
    """Simulated annealing (Kirkpatrick, Gelatt & Vecchi 1983; S1 §2.2; spec §4.8).

    Hill-climbing that also takes uphill moves, with the Metropolis probability::

        ε ~ N(0, σ² I);  Δ = L(θ + ε) − L(θ) on the batch
        accept (θ ← θ + ε) with probability min(1, exp(−Δ / T_k))
        T_k = T_0 · γ^k,   k = epochs run so far (the temperature is held for one sweep
                           over the data, then lowered)

    At high temperature the search wanders across barriers; as T_k → 0 it becomes
    hill-climbing (with T_0 = 0 it is hill-climbing, move for move). At its defaults:
    91.1 % mean (min 89.7 %) on digits splits 101..105 (experiments/rate_defaults.py).

    Extra parameters
    ----------------
    initial_temperature : float >= 0
        T_0, in units of the loss (nats of cross-entropy).
    cooling_rate : float in (0, 1]
        γ, the factor applied to T after every epoch.
    """

    # T_0 = 1e-3 nats (about the size of a typical move's Δ) then ×0.8 per epoch: ~93 % on
    # a digits split where hill-climbing with the same moves reaches ~92 %
    _params = dict(initial_temperature=1e-3, cooling_rate=0.8)

    def _check_search_params(self):
        check_number("initial_temperature", self.initial_temperature, low=0)
        check_number("cooling_rate", self.cooling_rate, low=0, high=1, low_open=True)

    @property
    def temperature_(self):
        """Current temperature T_k = T_0 γ^k (k = epochs run so far)."""
        return self.initial_temperature * self.cooling_rate ** len(self.history_["loss"])

    def _accept(self, delta):
        T = self.temperature_
        if delta < 0 or T <= 0:  # no draw needed: at T_0 = 0 the stream is hill-climbing's
            return delta < 0
        return metropolis_accept(delta, T, self._rng.random())
