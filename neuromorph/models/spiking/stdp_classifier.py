"""Unsupervised STDP classifier: the Diehl & Cook (2015) network on the event-driven core.

Network (all of it a :class:`neuromorph.Network`, run by the numba engine)::

    inputs (Poisson, rate = intensity * max_rate * pixel)
        --[STDP: power rule with target trace, all-to-all, w in [0, w_max]]-->
    excitatory LIF layer (n_neurons, adaptive threshold theta)
        --[static, one-to-one]--> inhibitory LIF layer (n_neurons)
        --[static, negative, to every *other* excitatory neuron]--> excitatory layer

Learning (Diehl & Cook 2015, spec section 3.3.3): at every postsynaptic spike each
incoming weight changes by ``a_plus (x_pre - x_tar) ((w_max - w) / w_max)^mu`` (the
presynaptic trace ``x_pre`` decays with ``tau_pre``; ``a_minus = 0``), so inputs that
were active just before the spike are potentiated and silent ones depressed. After each
sample the incoming weights of every excitatory neuron are normalised to a fixed norm
(``w_total``): their L2 norm by default, or their sum (``norm="l1"``, Diehl & Cook).
A neuron's drive is ``w . x``; with a fixed sum, a neuron whose weight is concentrated
on few inputs gets the larger drive from every input covering them, so the first to
fire is not the best-matching prototype (k-means prototypes of the 8x8 digits matched
by ``w . x`` at a fixed sum: 86 % test accuracy; at a fixed L2 norm, which ranks by
the cosine between ``w`` and ``x``: 95 %). With the L2 norm the layer's competition
is the nearest-prototype match of competitive learning (spec section 4.2).

Each excitatory spike raises that neuron's threshold by ``theta_plus`` (mV), decaying with ``tau_theta`` (ms; ~forever): homeostasis spreads the digits over
the neurons. Lateral inhibition through the inhibitory layer makes the layer a soft
winner-take-all (spec section 4.2, competitive learning).

Presentation: each sample is shown for ``t_present`` ms, then the inputs rest at 0 Hz
for ``t_rest`` ms so membranes, currents and traces decay before the next sample. If
the excitatory layer fired fewer than ``min_spikes`` spikes, the sample is shown again
with the input intensity raised by ``intensity_step`` (Diehl & Cook: +32 Hz on MNIST's
63.75 Hz), up to ``max_retries`` times.

Readout (no label reaches a neuron during learning): after every epoch, plasticity and
threshold adaptation are frozen (the learned thresholds ``v_th + theta_`` stay in use,
held constant: ``LIF(theta_frozen=True)``), the epoch's training data are shown once more (for
``t_readout`` ms per sample), each neuron is labelled with the class for which its
mean response is highest, and a test sample (also shown for ``t_readout`` ms) is
assigned to the class whose labelled neurons have the highest mean spike count. The
readout's input spikes come from the evaluation stream (``eval_seed_``), never from the
training generator: the same sample always gets the same spikes.

Units: ms, Hz, mV (current-based synapses; a weight is the jump of the synaptic
current, mV). Diehl & Cook used conductance-based synapses; the current-based version
keeps the same competition and learning rule.
"""
from __future__ import annotations

import time

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

import neuromorph as nm
from ... import _checks
from ..rate.metadata import Family
from .base import SpikingClassifier
from .checkpoints import check_arrays

_V_REST = -65.0
L2_TOTAL = 40.0  # default L2 norm (mV) for 64 inputs and w_max 30


class STDPClassifier(SpikingClassifier, family=Family.IMP, checklist="hebbian",
                     algorithm="STDP, Diehl & Cook 2015 (unsupervised + label voting)"):
    """Diehl & Cook (2015) unsupervised STDP network with a labelling/voting readout.

    Inputs are feature vectors with values in [0, 1] (pixel intensities), coded as
    Poisson rates. See the module docstring for the network and the learning rule.

    Parameters
    ----------
    n_neurons : int
        Excitatory (and inhibitory) neurons.
    max_iter : int
        Passes over the training data ``fit`` runs (shuffled; ``partial_fit`` runs one),
        each followed by the labelling readout.
    max_rate : float
        Input rate (Hz) of a feature equal to 1 at the initial intensity.
    intensity_step : float
        Rate (Hz) added to ``max_rate`` for a repeated presentation when the
        excitatory layer fired fewer than ``min_spikes`` spikes.
    min_spikes : int
        Minimum excitatory spikes per presentation (Diehl & Cook: 5).
    max_retries : int
        Maximum repeated presentations of one sample.
    t_present, t_rest : float
        Presentation time and resting period (ms), multiples of ``dt``.
    dt : float
        Simulation step (ms).
    tau_m : float
        Excitatory membrane time constant (ms).
    v_th : float
        Excitatory base threshold (mV); rest and reset are at -65 mV.
    tau_syn : float
        Excitatory synaptic current time constant (ms).
    t_ref : float
        Excitatory refractory period (ms), multiple of ``dt``.
    theta_plus : float
        Threshold increase per excitatory spike (mV).
    tau_theta : float
        Decay time constant of the threshold increase (ms).
    w_max : float
        Upper bound of the plastic weights (mV); initial weights are uniform in
        ``[0, 0.3 w_max]``.
    w_total : float or None
        Norm (mV) of every excitatory neuron's incoming weights after normalisation:
        their L2 norm (``norm="l2"``) or their sum (``norm="l1"``). None:
        ``40 * sqrt(n_inputs / 64) * w_max / 30`` for L2 (40 mV for 64 inputs and
        ``w_max`` 30); ``0.15625 * n_inputs * w_max`` for L1 (300 mV; Diehl & Cook used
        78 for 784 inputs and ``w_max`` 1 with conductances).
    norm : {"l2", "l1"}
        Which norm of the incoming weights the normalisation fixes (see the module
        docstring). ``"l1"`` is Diehl & Cook's fixed sum.
    a_plus : float
        Learning rate of the rule (mV per post spike at ``x_pre - x_tar = 1``).
    x_tar : float
        Target value of the presynaptic trace (dimensionless).
    mu : float
        Exponent of the soft bound ``((w_max - w) / w_max)^mu``.
    tau_pre : float
        Presynaptic trace time constant (ms).
    w_exc_inh : float
        Excitatory -> inhibitory one-to-one weight (mV); the default makes an inhibitory
        neuron (tau_m 10 ms, rest -60 mV, threshold -40 mV, synaptic tau 1 ms) fire
        right after its excitatory partner.
    w_inh_exc : float
        Inhibitory -> other excitatory neurons weight magnitude (mV, > 0; inhibitory
        current time constant 5 ms). Strong values (>~ 1000) make a hard
        winner-take-all in which the neurons with the lowest frozen thresholds answer
        every test sample; the default keeps the competition soft.
    t_readout : float or None
        Presentation time (ms, multiple of ``dt``) of the readout (labelling and
        prediction); None: ``t_present``. A longer readout averages out more of the
        Poisson noise of the spike counts (training is unaffected).
    validation_fraction : float in (0, 1) or None
        Held-out fraction scored after every epoch (``history_["validation_accuracy"]``).
    random_state : int or None
        Seed of initial weights, sample order and every spike.
    verbose : bool
        Show tqdm progress bars over the training presentations and the labelling /
        scoring readouts.
    <deprecated names>
    weights_ : ndarray, shape (n_inputs, n_neurons)
        Learned input -> excitatory weights (mV).
    theta_ : ndarray, shape (n_neurons,)
        Learned threshold increases (mV).
    neuron_labels_ : ndarray, shape (n_neurons,)
        Class index assigned to each neuron (-1: never fired during labelling).
    eval_seed_ : int
        Seed of the readout's input spikes (labelling, ``predict``, ``score``).
    n_iter_ : int
        Epochs trained so far.
    history_ : dict of lists
        Per epoch: ``accuracy`` (vote accuracy on the epoch's training data, from the
        labelling readout), ``wall_s`` (s, learning and labelling), with
        ``validation_fraction`` ``validation_accuracy``; ``mean_spikes`` (excitatory
        spikes per accepted presentation),
        ``retry_fraction`` (presentations repeated at a higher intensity),
        ``weight_mean``, ``theta_mean`` (mV), ``samples_per_s`` (training throughput,
        wall clock), ``n_samples``.
    """

    _params = dict(n_neurons=100, max_iter=2, max_rate=64.0, intensity_step=32.0,
                   min_spikes=5, max_retries=5, t_present=350.0, t_rest=150.0, dt=0.5,
                   tau_m=100.0, v_th=-52.0, tau_syn=5.0, t_ref=5.0, theta_plus=0.2,
                   tau_theta=1e7, w_max=30.0, w_total=None, a_plus=0.3, x_tar=0.4, mu=0.2,
                   tau_pre=20.0, w_exc_inh=500.0, w_inh_exc=100.0, norm="l2",
                   t_readout=700.0, random_state=None, verbose=False)
    _renamed = {"n_epochs": "max_iter", "progress": "verbose"}
    _history_keys = ("accuracy", "wall_s", "mean_spikes", "retry_fraction", "weight_mean",
                     "theta_mean", "samples_per_s", "n_samples")
    _checkpoint_format = "neuromorph.STDPClassifier/1"
    _fitted_attr = "neuron_labels_"
    _tuple_params = ()

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        _checks.number("n_neurons", self.n_neurons, 1, integer=True)
        self._check_training_params()
        _checks.number("min_spikes", self.min_spikes, 0, integer=True)
        _checks.number("max_retries", self.max_retries, 0, integer=True)
        for name in ("max_rate", "t_present", "dt", "tau_m", "tau_syn", "tau_theta",
                     "w_max", "tau_pre", "mu", "w_exc_inh", "w_inh_exc"):
            _checks.number(name, getattr(self, name), 0, low_open=True)
        for name in ("intensity_step", "t_rest", "t_ref", "theta_plus", "a_plus", "x_tar"):
            _checks.number(name, getattr(self, name), 0)
        _checks.number("v_th", self.v_th, _V_REST, low_open=True)
        if self.w_total is not None:
            _checks.number("w_total", self.w_total, 0, low_open=True)
        top = self.max_rate + self.max_retries * self.intensity_step
        if top * self.dt * 1e-3 > 1.0:
            raise ValueError(f"max_rate + max_retries * intensity_step = {top} Hz exceeds "
                             f"one spike per step (1000/dt = {1000 / self.dt} Hz)")
        if self.t_readout is not None:
            _checks.number("t_readout", self.t_readout, 0, low_open=True)
            _checks.steps("t_readout", self.t_readout, self.dt)
        if self.norm not in ("l1", "l2"):
            raise ValueError(f"norm must be 'l1' or 'l2', got {self.norm!r}")
        for name in ("t_present", "t_rest", "t_ref"):
            _checks.steps(name, getattr(self, name), self.dt)

    @staticmethod
    def _check_range(X):
        return _checks.unit_interval("X", X)

    # ------------------------------------------------------------------ network
    def rule(self):
        """The plasticity rule (:class:`neuromorph.STDP`) the network uses."""
        return nm.STDP(tau_pre=self.tau_pre, tau_post=self.tau_pre, a_plus=self.a_plus,
                       a_minus=0.0, w_min=0.0, w_max=self.w_max, weight_dependence="power",
                       power=self.mu, x_tar=self.x_tar, pairing="all_to_all")

    def build_network(self, n_inputs, seed, weights=None, theta=None, learn=True,
                      input_spikes=None):
        """Build the network (a :class:`neuromorph.Network`, not run yet).

        Parameters
        ----------
        n_inputs : int
            Input features (Poisson sources).
        seed : int
            Network seed.
        weights : ndarray (n_inputs, n_neurons), optional
            Input weights (mV); default uniform in ``[0, 0.3 w_max]``.
        theta : ndarray (n_neurons,), optional
            Initial threshold increases (mV).
        learn : bool
            Plastic input weights and adaptive thresholds (False: both frozen, for
            readout: the threshold of excitatory neuron ``j`` is ``v_th + theta[j]``,
            held constant, as Diehl & Cook test with their learned thresholds).
        input_spikes : (indices, times) or None
            Precomputed input spike trains (input channel, time in ms): the inputs are
            then a spike source (rates cannot be set) instead of Poisson neurons.

        Returns
        -------
        net, inputs, exc, proj, spikes
            The network, its Poisson inputs, excitatory population, input projection
            and excitatory spike monitor.
        """
        net = nm.Network(dt=self.dt, seed=int(seed))
        if input_spikes is None:
            inp = net.poisson(n_inputs, rate=0.0, name="input")
        else:
            inp = net.spike_source(n_inputs, indices=np.asarray(input_spikes[0]),
                                   times=np.asarray(input_spikes[1]), name="input")
        exc = net.lif(self.n_neurons, tau_m=self.tau_m, v_rest=_V_REST, v_reset=_V_REST,
                      v_th=self.v_th, t_ref=self.t_ref, tau_syn_exc=self.tau_syn,
                      tau_syn_inh=5.0, theta_plus=self.theta_plus if learn else 0.0,
                      tau_theta=self.tau_theta if learn else float("inf"),
                      theta_frozen=not learn, name="exc")
        inh = net.lif(self.n_neurons, tau_m=10.0, v_rest=-60.0, v_reset=-45.0, v_th=-40.0,
                      t_ref=2.0, tau_syn_exc=1.0, tau_syn_inh=1.0, name="inh")
        if theta is not None:
            exc.theta[:] = theta
        w = nm.uniform(0.0, 0.3 * self.w_max) if weights is None else \
            np.asarray(weights, float)
        proj = net.connect(inp, exc, w=w, plasticity=self.rule() if learn else None,
                           name="input_exc")
        net.connect(exc, inh, w=self.w_exc_inh, connectivity_rule="one_to_one")
        inh_exc = np.full((self.n_neurons, self.n_neurons), -float(self.w_inh_exc))
        np.fill_diagonal(inh_exc, 0.0)
        net.connect(inh, exc, matrix=inh_exc)
        spikes = net.spike_monitor(exc)
        return net, inp, exc, proj, spikes

    def _present(self, net, inp, spikes, x, t_present=None, t_rest=None, max_retries=None):
        """Show one sample (raising intensity if needed); returns (counts, retries).

        ``t_present``, ``t_rest`` (ms) and ``max_retries`` default to the estimator's
        ``t_present``, ``t_rest`` and ``max_retries``.

        The spike monitor's records are dropped after each presentation so that the
        cost per sample stays constant (the core's SpikeMonitor has no public clear).
        """
        rate = self.max_rate
        t_rest = self.t_rest if t_rest is None else t_rest
        retries = self.max_retries if max_retries is None else max_retries
        for attempt in range(retries + 1):
            net.set_rate(inp, x * rate)
            net.run(self.t_present if t_present is None else t_present)
            counts = np.bincount(spikes.i, minlength=self.n_neurons)
            # the monitor keeps only this presentation's spikes
            spikes.clear()
            net.set_rate(inp, 0.0)
            if t_rest > 0:
                net.run(t_rest)
            spikes.clear()
            if counts.sum() >= self.min_spikes:
                break
            rate += self.intensity_step
        return counts, attempt

    def _total(self, n_inputs):
        if self.w_total is not None:
            return self.w_total
        if self.norm == "l1":
            return 0.15625 * n_inputs * self.w_max
        return L2_TOTAL * np.sqrt(n_inputs / 64.0) * self.w_max / 30.0

    def normalize(self, proj, total):
        """Scale each excitatory neuron's incoming weights to the norm ``total`` (mV)."""
        if self.norm == "l1":
            proj.normalize(total)
            return
        for _ in range(3):  # clipping at w_max after scaling: a few fixed-point passes
            sq = np.bincount(proj.targets, weights=proj.w ** 2, minlength=self.n_neurons)
            norms = np.sqrt(sq)
            scale = np.divide(total, norms, out=np.ones_like(norms), where=norms != 0)
            proj.w *= scale[proj.targets]
            np.clip(proj.w, 0.0, self.w_max, out=proj.w)

    # ------------------------------------------------------------------ training
    def _initialize(self, n_features, n_classes):
        """Check the weight norm can be reached; no network yet (built every epoch)."""
        total = self._total(n_features)
        reach = self.w_max * (np.sqrt(n_features) if self.norm == "l2" else n_features)
        if total >= reach:
            raise ValueError(f"w_total = {total:g} mV cannot be reached: with "
                             f"{n_features} inputs and w_max = {self.w_max:g} mV the largest "
                             f"{self.norm.upper()} norm of a neuron's weights is {reach:g} mV")
        for name in ("weights_", "theta_", "neuron_labels_"):
            self.__dict__.pop(name, None)
        self.n_iter_ = 0
        self.eval_seed_ = self._new_eval_seed() % 2**63

    def _epoch(self, X, y):
        """One shuffled unsupervised pass over ``X``, then the labelling readout with ``y``.

        The network is rebuilt from the learned weights and thresholds (its seed drawn
        from the training generator), so an epoch run by ``partial_fit`` after
        :meth:`load` is the one the saved model would have run.
        """
        self._check_range(X)
        n, n_inputs = X.shape
        total = self._total(n_inputs)
        rng = self._rng
        net, inp, exc, proj, spikes = self.build_network(
            n_inputs, int(rng.integers(2**31)), weights=getattr(self, "weights_", None),
            theta=getattr(self, "theta_", None))
        self.normalize(proj, total)
        t0 = time.perf_counter()
        order = rng.permutation(n)
        n_spk, n_retry = 0, 0
        with self._bar(n, f"STDP epoch {self.n_iter_ + 1}") as bar:
            for k in order:
                counts, retries = self._present(net, inp, spikes, X[k])
                self.normalize(proj, total)
                n_spk += int(counts.sum())
                n_retry += retries > 0
                bar.update(1)
        wall = time.perf_counter() - t0
        self.weights_ = proj.weights
        self.theta_ = exc.theta.copy()
        y_idx = np.searchsorted(self.classes_, y)
        R = self._responses(X, "STDP labelling")
        self._label(R, y_idx)
        h = self.history_
        h["accuracy"].append(float(np.mean(np.argmax(self._votes(R), axis=1) == y_idx)))
        h["mean_spikes"].append(n_spk / n)
        h["retry_fraction"].append(n_retry / n)
        h["weight_mean"].append(float(proj.w.mean()))
        h["theta_mean"].append(float(exc.theta.mean()))
        h["samples_per_s"].append(n / wall)
        h["n_samples"].append(n)
        self.n_iter_ += 1

    def responses(self, X):
        """Excitatory spike counts per sample with frozen weights and thresholds.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features), values in [0, 1]

        Returns
        -------
        ndarray, shape (n_samples, n_neurons)
        """
        check_is_fitted(self, "weights_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._responses(self._check_range(X))

    def _responses(self, X, desc="STDP readout"):
        """:meth:`responses` of validated ``X``; input spikes from ``eval_seed_``."""
        net, inp, exc, _, spikes = self.build_network(X.shape[1], self.eval_seed_,
                                                      weights=self.weights_,
                                                      theta=self.theta_, learn=False)
        out = np.zeros((len(X), self.n_neurons))
        with self._bar(len(X), desc) as bar:
            for k, x in enumerate(X):
                out[k], _ = self._present(net, inp, spikes, x, self.t_readout)
                bar.update(1)
        return out

    def label_neurons(self, X, y_idx):
        """Assign each neuron the class (index) of its highest mean response on ``X``."""
        return self._label(self.responses(X), np.asarray(y_idx))

    def _label(self, R, y_idx):
        n_cls = len(self.classes_)
        mean = np.zeros((n_cls, self.n_neurons))
        for c in range(n_cls):
            if np.any(y_idx == c):
                mean[c] = R[y_idx == c].mean(axis=0)
        labels = np.argmax(mean, axis=0)
        labels[mean.max(axis=0) == 0] = -1
        self.neuron_labels_ = labels
        return labels

    def _votes(self, R):
        n_cls = len(self.classes_)
        votes = np.zeros((len(R), n_cls))
        for c in range(n_cls):
            sel = self.neuron_labels_ == c
            if sel.any():
                votes[:, c] = R[:, sel].mean(axis=1)
        return votes

    def _scores(self, X):
        """Mean spike count of each class's labelled neurons."""
        return self._votes(self._responses(self._check_range(X), "STDP scoring"))

    def decision_function(self, X):
        """Mean spike count of each class's labelled neurons, shape (n_samples, n_classes)
        (the same as :meth:`decision_scores`)."""
        return self.decision_scores(X)

    # ------------------------------------------------------------------ deployment
    def deploy_spec(self, presentation=None, rest=None, max_retries=None):
        """The inference network of ``nm.deploy``: the Diehl & Cook readout network on the core
        (:func:`neuromorph.deploy.builders.stdp_spec`), each sample shown for
        ``presentation`` ms (default ``t_readout``) then ``rest`` ms of silence (default
        ``t_rest``), re-presented up to ``max_retries`` times (default the estimator's)."""
        from ...deploy.builders import stdp_spec
        return stdp_spec(self, presentation=presentation, rest=rest, max_retries=max_retries)

    # ------------------------------------------------------------------ checkpoints
    def _state_arrays(self):
        return {"weights": self.weights_, "theta": self.theta_,
                "neuron_labels": self.neuron_labels_}

    def _load_state(self, meta, data):
        self._initialize(self.n_features_in_, len(self.classes_))
        shapes = {"weights": (self.n_features_in_, self.n_neurons),
                  "theta": (self.n_neurons,), "neuron_labels": (self.n_neurons,)}
        check_arrays(data, shapes)
        self.weights_ = data["weights"].astype(np.float64)
        self.theta_ = data["theta"].astype(np.float64)
        self.neuron_labels_ = data["neuron_labels"].astype(np.int64)
