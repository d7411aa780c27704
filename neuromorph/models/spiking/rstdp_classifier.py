"""A spiking classifier trained by reward-modulated STDP only (issue 6, spec 3.4).

Network (all on the event-driven core, :class:`neuromorph.Network`)::

    inputs (64 pixels -> ON and OFF channels, regular spike trains at rate ~ intensity)
        --[R-STDP, w in [0, w_ceiling * w_max], summed weight per output fixed]-->
    outputs (LIF, n_per_class per class, homeostatic excitability)
    outputs --[static, strongly negative, slow, no self]--> outputs   (winner-take-all)
    urgency (a drive ramping up during each presentation) --[static]--> outputs

Samples are shown one after another as trials: a silent gap of ``t_rest`` ms (STDP
traces and eligibility decay), then ``t_present`` ms of input. At the end of each trial
a run callback counts the output spikes of each class; the class with most spikes (the
earliest first spike on ties) is the network's answer and the reward is ``+1`` if it is
the label, ``-1`` otherwise. The reward is delivered phasically to every plastic
synapse, so ``w += lr * (r - r_bar) * C`` with ``C`` the eligibility of the pre/post
pairings of that trial and ``r_bar`` the running mean of the rewards that the answered
class has received (a reward-prediction error per answer, as an actor-critic's
action-dependent baseline). No label ever reaches a
neuron: the only teaching signal is that scalar reward (Izhikevich 2007; Fremaux &
Gerstner 2016). The callback then starts the next trial: output membranes and currents
back to rest, each output's incoming weights rescaled to a fixed sum, the winner made a
little less excitable and the others a little more (homeostasis), and a fresh random
bias current per output (exploration, decaying over epochs).

Why these pieces: with winner-take-all inhibition essentially only the first output to
fire spikes, so the eligibility sits on its synapses from active inputs and a right
answer strengthens them, a wrong one weakens them (an associative reward-penalty rule).
Ties and co-firing outputs share the credit and stall learning, hence regular (not
Poisson) input trains, a fine time step and a slow inhibitory current; the urgency ramp
makes every trial end with an answer even when the weights have been depressed; the
OFF channels let a neuron learn that a pixel should be dark and keep the total input
rate independent of the digit's ink; the weight normalisation keeps every output's total
drive equal, so a reward moves an output's weight towards the pattern it answered and a
penalty moves it away (a spiking learning vector quantisation) instead of growing or
silencing the neuron as a whole; the homeostatic excitability (driven by the wins alone,
no label) makes every class group win about equally often, so a class whose outputs
lose the first competitions (in digits: the 8s, whose pixels overlap with several
other digits) still wins now and then, gets rewarded, and is learned; the per-class
reward baseline makes a class that is usually right pay heavily for a wrong answer and
gain little from a right one, so it gives up the ambiguous samples to the class that
is often wrong (whose rare right answers now earn a large reward); and the decaying
exploration noise gives outputs that lost early a chance to win again.

Measured on scikit-learn digits (``experiments/rstdp_digits.py``, fixed split, 20
epochs, 5 seeds): weight normalisation, homeostasis and the per-class baseline took the
test accuracy from 81 % (seed 0; class 8 never learned) to 91.3 +- 2.9 %.
"""
from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

import neuromorph as nm
from ... import _checks
from ...encoders import trial_spike_trains
from ..rate.metadata import Family
from .base import SpikingClassifier
from .checkpoints import check_arrays

_V_REST, _V_TH = -65.0, -50.0
_N_URGENCY = 20


class RSTDPClassifier(SpikingClassifier, family=Family.EG, checklist="perturbation",
                      algorithm="R-STDP (reward-modulated STDP, WTA readout)"):
    """Spiking classifier trained by R-STDP with a global +1/-1 reward.

    Inputs are feature vectors with values in [0, 1] (e.g. pixel intensities), coded as
    Poisson rates. Units: ms, Hz, mV.

    Parameters
    ----------
    n_per_class : int
        Output LIF neurons per class (the class score is their total spike count).
    max_rate : float
        Input rate (Hz) of a feature equal to 1.
    on_off : bool
        Also feed an OFF channel per feature, firing at ``max_rate * (1 - x)``.
    coding : {'regular', 'poisson'}
        Input spike trains: regular at the feature's rate with a random phase (little
        noise: the winner reflects the weights), or Poisson.
    t_present, t_rest : float
        Presentation time and silent gap before it (ms), multiples of ``dt``.
    dt : float
        Simulation step (ms).
    max_iter : int
        Passes over the training data ``fit`` runs (samples shuffled every epoch;
        ``partial_fit`` runs one).
    lr : float
        R-STDP learning rate (weight change per unit reward per unit eligibility).
    tau_elig : float
        Eligibility time constant (ms).
    a_plus, a_minus : float
        STDP pairing amplitudes fed into the eligibility (``a_minus <= 0``).
    tau_stdp : float
        Pre and post trace time constant (ms).
    w_max : float or None
        Largest initial weight (mV); weights start uniform in ``[0.5, 1] * w_max`` and
        stay in ``[0, w_ceiling * w_max]``. None: chosen from ``drive`` (the mean
        initial input drive).
    w_inh : float
        Lateral inhibition (mV, > 0) between output neurons (winner-take-all).
    baseline_rate : float or None
        Running-mean reward baseline rate in (0, 1] (reward-prediction error); None:
        raw rewards. The baseline keeps potentiation and depression balanced.
    baseline_scope : {'global', 'class'}
        One running-mean baseline for all answers, or one per answered class (the
        reward-prediction error of that answer: a class that is usually right gets a
        small reward and a large penalty, so it stops claiming the ambiguous samples
        of a class that is often wrong, whose rare right answers get a large reward).
        A trial with no output spike has no answered class: it is punished with the
        raw -1 (no baseline), which is milder than a wrong answer of a class whose
        running mean is positive; silent trials are rare once homeostasis acts.
    drive : float
        With ``w_max=None``: initial mean input drive as a multiple of the gap from rest
        to threshold.
    bias : float in [0, 1)
        Constant current into the outputs, as a fraction of the gap from rest to
        threshold: a neuron whose weights were depressed still reaches threshold
        (later), so no class falls silent.
    urgency : float >= 0
        An input-independent excitatory drive that ramps up linearly during each
        presentation, reaching ``urgency`` times the gap from rest to threshold at its
        end (0: none): every sample gets an answer, and the output with most input
        drive answers first.
    noise : float >= 0
        Each trial, every output gets a constant current drawn uniformly in
        ``[0, noise]`` times the gap from rest to threshold: exploration (outputs that
        rarely win get a chance) and tie breaking, so that one output answers and takes
        the credit or the blame (0: none).
    noise_decay : float in (0, 1]
        Multiplier of ``noise`` per epoch (explore early, exploit later).
    lr_decay : float
        Learning rate multiplier per epoch, in (0, 1].
    homeostasis : float >= 0
        Rate of the outputs' homeostatic excitability (units: the gap from rest to
        threshold). After every training trial the winner's threshold offset grows by
        ``homeostasis`` and every output's (or, with ``homeostasis_scope='class'``, every
        class group's) falls by ``homeostasis`` times its fair share of wins, so each
        output (group) ends up winning about equally often. Without it, a class whose
        outputs lose the first competitions (in digits: the 8s) never wins, never gets a
        reward, and is never learned. The offsets are learned from the wins alone (no
        label) and are kept for prediction. 0: off.
    homeostasis_decay : float in (0, 1]
        Multiplier of ``homeostasis`` per epoch (the offsets settle as the weights do).
    homeostasis_scope : {'neuron', 'class'}
        Equalise the wins of every output neuron or of every class group.
    normalize : bool
        After every trial, scale each output's incoming weights to their initial mean
        sum (:meth:`neuromorph.Projection.normalize`): a reward then moves weight towards
        the inputs that drove the answer and a penalty away from them (a spiking LVQ), and
        no output can grow or shrink as a whole.
    w_ceiling : float >= 1
        The weight bound as a multiple of the largest initial weight (with
        ``normalize``, room for weight to gather on the informative inputs).
    warm_start : bool
        If True, ``fit`` on a fitted model continues training (weights, reward baseline,
        history and learning-rate schedule carry over) instead of starting afresh, as
        ``partial_fit`` does for one epoch.
    validation_fraction : float in (0, 1) or None
        Held-out fraction scored after every epoch (``history_["validation_accuracy"]``).
    random_state : int or None
        Seed of initial weights, sample order and spikes. Each ``fit`` / ``partial_fit``
        call draws its sample order and spikes from a generator seeded with
        ``(random_state, n_iter_)``; predictions use the evaluation stream
        (``eval_seed_`` = ``random_state + 1``).
    verbose : bool
        Show tqdm progress bars over training samples and the scoring runs.
    <deprecated names>
    weights_ : ndarray, shape (n_inputs, n_outputs)
        Learned input -> output weights (mV).
    n_iter_ : int
        Epochs trained so far.
    history_ : dict of lists
        Per epoch: ``accuracy`` (online answers during training), ``wall_s`` (s), with
        ``validation_fraction`` ``validation_accuracy``, ``mean_reward``,
        ``mean_output_spikes`` (per sample), ``silent_fraction`` (samples with no
        output spike), ``co_winner_fraction`` (samples where more than one output
        fired), ``weight_mean``, ``win_fraction`` (per output neuron: fraction of the
        epoch's trials it won).
    """

    _params = dict(n_per_class=5, max_rate=100.0, on_off=True, coding="regular",
                   t_present=50.0, t_rest=20.0, dt=0.25, max_iter=12, lr=0.01, tau_elig=20.0,
                   a_plus=1.0, a_minus=0.0, tau_stdp=20.0, w_max=None, w_inh=20.0,
                   baseline_rate=0.05, baseline_scope="class", lr_decay=0.9, drive=0.8,
                   bias=0.0, urgency=1.5, noise=0.5, noise_decay=0.75, homeostasis=0.05,
                   homeostasis_decay=0.8, homeostasis_scope="neuron", normalize=True,
                   w_ceiling=2.0, warm_start=False, random_state=None, verbose=False)
    _renamed = {"n_epochs": "max_iter", "progress": "verbose"}
    _history_keys = ("accuracy", "wall_s", "mean_reward", "mean_output_spikes",
                     "silent_fraction", "co_winner_fraction", "weight_mean", "win_fraction")
    _checkpoint_format = "neuromorph.RSTDPClassifier/1"
    _fitted_attr = "_weights"
    _tuple_params = ()

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        _checks.number("n_per_class", self.n_per_class, low=0, low_open=True, integer=True)
        self._check_training_params()
        if self.w_max is not None:
            _checks.number("w_max", self.w_max, low=0, low_open=True)
        for name in ("max_rate", "t_present", "dt", "lr", "tau_elig", "tau_stdp",
                     "w_inh", "drive"):
            _checks.number(name, getattr(self, name), low=0, low_open=True)
        _checks.number("t_rest", self.t_rest, low=0, unit="ms")
        if self.max_rate * self.dt * 1e-3 > 1.0:
            raise ValueError(f"max_rate must be <= 1000/dt = {1000 / self.dt} Hz, "
                             f"got {self.max_rate}")
        _checks.number("bias", self.bias, low=0, high=1, high_open=True)
        for name in ("urgency", "noise", "homeostasis"):
            _checks.number(name, getattr(self, name), low=0)
        for name in ("noise_decay", "homeostasis_decay", "lr_decay"):
            _checks.number(name, getattr(self, name), low=0, high=1, low_open=True)
        if self.baseline_scope not in ("global", "class"):
            raise ValueError(f"baseline_scope must be 'global' or 'class', "
                             f"got {self.baseline_scope!r}")
        if self.homeostasis_scope not in ("class", "neuron"):
            raise ValueError(f"homeostasis_scope must be 'class' or 'neuron', "
                             f"got {self.homeostasis_scope!r}")
        if self.coding not in ("regular", "poisson"):
            raise ValueError(f"coding must be 'regular' or 'poisson', got {self.coding!r}")
        _checks.number("w_ceiling", self.w_ceiling, low=1)
        for name in ("on_off", "warm_start", "normalize"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        nm.RSTDP(tau_pre=self.tau_stdp, tau_post=self.tau_stdp, a_plus=self.a_plus,
                 a_minus=self.a_minus, tau_elig=self.tau_elig, lr=self.lr, w_min=0.0,
                 w_max=1.0)  # validates the rule's parameters
        for name in ("t_present", "t_rest"):
            _checks.steps(name, getattr(self, name), self.dt)

    @staticmethod
    def _check_range(X):
        return _checks.unit_interval("X", X)

    # ------------------------------------------------------------------ network
    @property
    def _period(self):
        return self.t_rest + self.t_present

    def _rates(self, X):
        r = X * self.max_rate
        return np.hstack([r, self.max_rate - r]) if self.on_off else r

    def _input_spikes(self, X, rng):
        """Spike source arguments for samples shown one per period
        (:func:`neuromorph.encoders.trial_spike_trains`)."""
        return trial_spike_trains(self._rates(X), self.t_present, self.t_rest, self.dt, rng,
                                  coding=self.coding, max_rate=self.max_rate)

    def _build(self, X, rng, plastic, lr=None):
        n_in, n_out = self._weights.shape
        net = nm.Network(dt=self.dt, seed=int(rng.integers(2**31)))
        idx, times = self._input_spikes(X, rng)
        src = net.spike_source(n_in, indices=idx, times=times, name="input")
        out = net.lif(n_out, tau_m=20.0, v_rest=_V_REST, v_reset=_V_REST, v_th=_V_TH,
                      t_ref=2.0 if self.dt <= 2.0 else self.dt, tau_syn_exc=5.0,
                      tau_syn_inh=self.t_present, name="output")
        if plastic:
            per_class = self.baseline_scope == "class"
            reward = net.reward_signal(None, baseline_rate=None if per_class
                                       else self.baseline_rate)
            if self._r_bar is not None and not per_class:
                reward.r_bar = self._r_bar
            rule = nm.RSTDP(tau_pre=self.tau_stdp, tau_post=self.tau_stdp, a_plus=self.a_plus,
                            a_minus=self.a_minus, tau_elig=self.tau_elig, lr=lr, w_min=0.0,
                            w_max=self._w_max)
            proj = net.connect(src, out, matrix=self._dense_matrix(), plasticity=rule,
                               modulator=reward)
        else:
            reward = None
            proj = net.connect(src, out, matrix=self._dense_matrix())
        # constant bias plus a per-trial random offset (set in _reset)
        self._drive = net.current(out, (self.bias - self._theta) * (_V_TH - _V_REST))
        if self.urgency > 0:
            net.connect(self._urgency_source(net, len(X)), out,
                        w=self.urgency * (_V_TH - _V_REST) / (_N_URGENCY * 5.0))
        inh = -self.w_inh * (1.0 - np.eye(n_out))
        net.connect(out, out, matrix=inh)
        mon = net.spike_monitor(out)
        return net, proj, reward, mon

    def _reset(self, out, rng, explore=True):
        """Start the next trial: membranes at rest, currents cleared, new noise offsets."""
        out.v[:] = _V_REST
        gap = _V_TH - _V_REST
        level = self.noise * self.noise_decay ** getattr(self, "n_iter_", 0)
        noise = rng.uniform(0.0, level * gap, out.size) if explore else 0.0
        self._drive.amplitude[:] = (self.bias - self._theta) * gap + noise
        out.I_exc[:] = 0.0
        out.I_inh[:] = 0.0

    def _urgency_source(self, net, n_samples):
        """Spike sources whose summed rate ramps up linearly in every presentation.

        Urgency neuron ``k`` fires every ms from ``k * t_present / N`` to the end of
        the presentation, so their total drive grows linearly: whatever the weights,
        some output reaches threshold, and the one with most input drive first.
        """
        dt = self.dt
        n_steps = int(round(self.t_present / dt))
        off = int(round(self.t_rest / dt))
        per = n_steps + off
        every = max(1, int(round(1.0 / dt)))
        idx, steps = [], []
        for k in range(_N_URGENCY):
            phase = (k * every) // _N_URGENCY  # spread the volleys over the ms
            st = np.arange(int(k * n_steps / _N_URGENCY) + phase, n_steps, every)
            idx.append(np.full(len(st), k))
            steps.append(st)
        idx, steps = np.concatenate(idx), np.concatenate(steps)
        base = np.arange(n_samples)[:, None] * per + off
        return net.spike_source(_N_URGENCY, indices=np.tile(idx, n_samples),
                                times=(base + steps[None, :]).ravel() * dt, name="urgency")

    def _dense_matrix(self):
        # every pair is a synapse; keep exact zeros as tiny weights so they stay synapses
        return np.maximum(self._weights, 1e-12)

    # ------------------------------------------------------------------ training
    def fit(self, X, y):
        """Train by R-STDP for ``max_iter`` epochs (from scratch unless ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), values in [0, 1]
        y : array-like of shape (n_samples,), at least two classes

        Returns
        -------
        self
        """
        if self.warm_start and hasattr(self, "classes_"):
            self._check_params()
            X, y = self._continue(X, y)
            return self._run_epochs(X, y, self._fit_epochs())
        return super().fit(X, y)

    def _initialize(self, n_features, n_classes):
        self._n_in = n_features * (2 if self.on_off else 1)
        self._r_bar = None
        self._r_bar_class = None
        self._theta = np.zeros(n_classes * self.n_per_class)
        self.n_iter_ = 0
        self.eval_seed_ = self._new_eval_seed()

    def _new_eval_seed(self):
        rs = self.random_state
        return super()._new_eval_seed() if rs is None else int(rs) + 1

    def _start(self, X, y, classes):
        """First fit: classes, initial weights (their scale from the mean input rate)."""
        X, y = super()._start(X, y, classes)
        n_out = len(self.classes_) * self.n_per_class
        w_max = self.w_max
        if w_max is None:
            # mean input drive (total input rate * tau_syn * mean w) = drive x what the
            # bias current leaves of the gap from rest to threshold
            total_rate = np.mean(self._rates(X).sum(axis=1)) * 1e-3   # spikes per ms
            w_max = self.drive * (1.0 - self.bias) * (_V_TH - _V_REST) / (total_rate * 5.0) / 0.75
        self._w_max = float(w_max) * self.w_ceiling
        self._w_total = 0.75 * float(w_max) * self._n_in   # initial mean summed weight
        self._weights = self._rng.uniform(0.5 * w_max, w_max, (self._n_in, n_out))
        return X, y

    def _run_epochs(self, X, y, n_epochs):
        """Epochs of one ``fit`` / ``partial_fit`` call share a generator seeded with
        ``(random_state, n_iter_)`` (``random_state=None``: drawn from the model's)."""
        rs = self.random_state
        self._call_rng = np.random.default_rng(
            int(self._rng.integers(2**63)) if rs is None else [rs, self.n_iter_])
        return super()._run_epochs(X, y, n_epochs)

    def _epoch(self, X, y):
        """One shuffled pass of trials with the decayed learning rate."""
        self._check_range(X)
        if self._n_in != X.shape[1] * (2 if self.on_off else 1) or \
                self._weights.shape[1] != len(self.classes_) * self.n_per_class:
            raise ValueError("on_off and n_per_class must not change between fits")
        rng = self._call_rng
        order = rng.permutation(len(X))
        target = np.searchsorted(self.classes_, y)
        with self._bar(len(X), f"RSTDP epoch {self.n_iter_ + 1}") as bar:
            self._trials(X[order], target[order], rng,
                         self.lr * self.lr_decay ** self.n_iter_, bar)
        self.n_iter_ += 1

    def _trials(self, X, target, rng, lr, bar):
        net, proj, reward, mon = self._build(X, rng, plastic=True, lr=lr)
        out = mon.target
        per = int(round(self._period / self.dt))
        n = len(X)
        answers = np.full(n, -1)
        n_out = self._weights.shape[1]
        class_baseline = self.baseline_scope == "class" and self.baseline_rate is not None
        if class_baseline:
            if self._r_bar_class is None:
                self._r_bar_class = np.zeros(len(self.classes_))
            r_bar = self._r_bar_class
        wins = np.zeros(n_out)
        raw = np.zeros(n)
        target_rate = 1.0 / n_out
        eta_h = self.homeostasis * self.homeostasis_decay ** self.n_iter_
        n_spikes = np.zeros(n)
        n_active = np.zeros(n)
        seen = [0, 0]  # samples done, spikes consumed

        def step(net):
            k = seen[0]
            steps, i = mon.steps[seen[1]:], mon.i[seen[1]:]
            seen[1] += len(i)
            n_spikes[k] = len(i)
            n_active[k] = len(np.unique(i))
            if len(i):
                answers[k] = np.argmax(self._class_scores(steps - k * per, i, 1, per)[0])
                # homeostasis: the winning neuron (most spikes, earliest first spike on
                # ties) gets less excitable, every other one a little more
                first = np.full(n_out, np.inf)
                np.minimum.at(first, i, (steps - k * per).astype(float))
                score = np.bincount(i, minlength=n_out) + np.where(
                    np.isfinite(first), 0.5 / (1.0 + first), 0.0)
                won = np.argmax(score)
                wins[won] += 1
                if eta_h > 0 and self.homeostasis_scope == "neuron":
                    self._theta -= eta_h * target_rate
                    self._theta[won] += eta_h
                elif eta_h > 0:
                    c = answers[k] * self.n_per_class
                    self._theta -= eta_h / len(self.classes_)
                    self._theta[c:c + self.n_per_class] += eta_h
            r = 1.0 if answers[k] == target[k] else -1.0
            raw[k] = r
            if class_baseline and answers[k] >= 0:
                # reward-prediction error of the answered class: r - mean reward it got
                c = answers[k]
                reward.deliver(r - r_bar[c])
                r_bar[c] += self.baseline_rate * (r - r_bar[c])
            else:
                reward.deliver(r)
            if self.normalize:   # the previous trial's reward has been applied by now
                proj.normalize(self._w_total)
            self._reset(out, rng)
            seen[0] += 1
            bar.update(1)

        net.run(n * per * self.dt, callback=step, every=per * self.dt)
        net.run(self.dt)  # apply the last reward
        if self.normalize:
            proj.normalize(self._w_total)
        self._weights = proj.weights.copy()
        self._r_bar = reward.r_bar if reward.baseline_rate is not None else None
        rewards = raw
        h = self.history_
        h["accuracy"].append(float(np.mean(answers == target)))
        h["mean_reward"].append(float(rewards.mean()))
        h["mean_output_spikes"].append(float(n_spikes.mean()))
        h["silent_fraction"].append(float(np.mean(n_spikes == 0)))
        h["co_winner_fraction"].append(float(np.mean(n_active > 1)))
        h["weight_mean"].append(float(self._weights.mean()))
        h["win_fraction"].append((wins / n).tolist())

    def _scores(self, X):
        """Output spike count of each class for each sample (shape ``(n, n_classes)``).

        Ties between classes are broken in favour of the earliest first spike. The input
        spikes come from the evaluation stream (the same ``X`` always gets the same).
        """
        X = self._check_range(X)
        rng = self._eval_rng()
        net, _, _, mon = self._build(X, rng, plastic=False)
        per = int(round(self._period / self.dt))
        out = mon.target
        net.run(len(X) * per * self.dt, callback=lambda net: self._reset(out, rng, explore=False),
                every=per * self.dt, progress=self._show_progress())
        return self._class_scores(mon.steps, mon.i, len(X), per)

    def _class_scores(self, steps, idx, n_samples, per):
        """Spike count of each class per sample, plus < 0.5 for the earliest first spike."""
        n_cls = len(self.classes_)
        sample, cls = steps // per, idx // self.n_per_class
        counts = np.zeros((n_samples, n_cls))
        np.add.at(counts, (sample, cls), 1.0)
        first = np.full(counts.shape, np.inf)
        np.minimum.at(first, (sample, cls), (steps % per).astype(float))
        return counts + np.where(np.isfinite(first), 0.5 / (1.0 + first), 0.0)

    @property
    def weights_(self):
        check_is_fitted(self, "_weights")
        return self._weights

    # ------------------------------------------------------------------ deployment
    def deploy_spec(self):
        """The inference network of ``nm.deploy``: the R-STDP network without plasticity on the core
        (:func:`neuromorph.deploy.builders.rstdp_spec`)."""
        from ...deploy.builders import rstdp_spec
        return rstdp_spec(self)

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_meta(self):
        return {"w_max": self._w_max, "w_total": self._w_total, "r_bar": self._r_bar}

    def _state_arrays(self):
        arrays = {"weights": self._weights, "theta": self._theta}
        if self._r_bar_class is not None:
            arrays["r_bar_class"] = self._r_bar_class
        return arrays

    def _load_state(self, meta, data):
        self._initialize(self.n_features_in_, len(self.classes_))
        shapes = {"weights": (self._n_in, len(self._theta)), "theta": self._theta.shape}
        if "r_bar_class" in data:
            shapes["r_bar_class"] = (len(self.classes_),)
        check_arrays(data, shapes)
        self._weights = data["weights"].astype(np.float64)
        self._theta = data["theta"].astype(np.float64)
        self._r_bar_class = data["r_bar_class"].astype(np.float64) if "r_bar_class" in data \
            else None
        self._w_max, self._w_total = float(meta["w_max"]), float(meta["w_total"])
        self._r_bar = None if meta["r_bar"] is None else float(meta["r_bar"])
