"""Behaviour the spiking learners share.

All five (CSDP, SpikingPC, EqSpike, RSTDPClassifier, STDPClassifier): one estimator
interface (parameter names, ``fit`` / ``partial_fit`` / ``predict`` / ``predict_proba`` /
``score``, ``history_`` keys, ``validation_fraction``), checkpoints a loaded model
predicts and continues training from exactly, renamed parameters that still work with
a ``FutureWarning``, progress bars. The layered learners (CSDP, SpikingPC, EqSpike):
reproducible predictions that never touch training, data checks before any state
changes, atomic checkpoints."""
import inspect
import warnings

import numpy as np
import pytest

from neuromorph.datasets import load_digits_split
from neuromorph.models.spiking import (CSDP, EProp, EqSpike, RSTDPClassifier, SpikingPC,
                                       STDPClassifier, SurrogateBPTT)

TINY = {
    "CSDP": lambda: CSDP(hidden_layer_sizes=(8,), n_steps=4, batch_size=16, max_iter=1,
                         random_state=0),
    "SpikingPC": lambda: SpikingPC(hidden_layer_sizes=(8,), n_steps=6, burn_in=2.0,
                                   batch_size=16, max_iter=1, random_state=0),
    "EqSpike-bernoulli": lambda: EqSpike(hidden_layer_sizes=(8,), n_free=6, n_nudge=4,
                                         batch_size=16, max_iter=1, random_state=0,
                                         input_encoding="bernoulli"),
    "EProp": lambda: EProp(n_hidden=8, steps_per_row=3, batch_size=16, max_iter=1,
                           random_state=0),
    "EProp-random": lambda: EProp(n_hidden=8, steps_per_row=3, feedback="random",
                                  batch_size=16, max_iter=1, random_state=0),
    "SurrogateBPTT": lambda: SurrogateBPTT(n_hidden=8, steps_per_row=3, batch_size=16,
                                           max_iter=1, random_state=0),
}


@pytest.fixture(scope="module")
def data():
    Xtr, Xte, ytr, yte = load_digits_split()
    return Xtr[:64], Xte[:40], ytr[:64], yte[:40]


@pytest.mark.parametrize("name", TINY)
def test_estimator_api(name, data):
    from sklearn.base import clone

    Xtr, Xte, ytr, yte = data
    est = TINY[name]()
    assert clone(est).get_params() == est.get_params()
    est.fit(Xtr, ytr)
    assert est.predict(Xte[:10]).shape == (10,)
    assert set(est.predict(Xte)) <= set(est.classes_)
    assert est.score(Xte, yte) == np.mean(est.predict(Xte) == yte)
    assert len(est.history_["loss"]) == len(est.history_["accuracy"]) == est.n_iter_ == 1
    est.partial_fit(Xtr, ytr)
    assert est.n_iter_ == 2 and len(est.history_["loss"]) == 2


@pytest.mark.parametrize("name", TINY)
def test_predictions_repeat_and_do_not_change_training(name, data):
    Xtr, Xte, ytr, _ = data
    a, b = TINY[name](), TINY[name]()
    for _ in range(2):
        a.partial_fit(Xtr, ytr, classes=np.arange(10))
        s1, s2 = a.decision_scores(Xte), a.decision_scores(Xte)
        np.testing.assert_array_equal(s1, s2)              # same input spikes every call
        b.partial_fit(Xtr, ytr, classes=np.arange(10))     # b is never scored
    for k, W in a.weights_.items():                        # scoring left training alone
        np.testing.assert_array_equal(W, b.weights_[k])
    assert a.eval_seed_ == b.eval_seed_                    # derived from random_state


@pytest.mark.parametrize("name", TINY)
def test_bad_data_leaves_a_fitted_model_untouched(name, data):
    Xtr, Xte, ytr, _ = data
    est = TINY[name]().fit(Xtr, ytr)
    before = {k: W.copy() for k, W in est.weights_.items()}
    history, scores = [list(v) for v in est.history_.values()], est.decision_scores(Xte)
    if name.startswith(("EProp", "SurrogateBPTT")):  # inputs are currents: any finite X
        bad = [(lambda: est.fit(np.where(Xtr > 0.5, np.nan, Xtr), ytr), "NaN"),
               (lambda: est.partial_fit(Xtr[:, :56], ytr), "56 features")]
    else:                                             # inputs are spike probabilities
        bad = [(lambda: est.fit(3 * Xtr, ytr), r"\[0, 1\]"),
               (lambda: est.partial_fit(-Xtr, ytr), r"\[0, 1\]")]
    for fit, match in bad:
        with pytest.raises(ValueError, match=match):
            fit()
    for k, W in est.weights_.items():
        np.testing.assert_array_equal(W, before[k])
    assert [list(v) for v in est.history_.values()] == history
    np.testing.assert_array_equal(est.decision_scores(Xte), scores)


@pytest.mark.parametrize("name", TINY)
def test_checkpoint_continues_training_exactly_and_failed_save_keeps_the_file(name, data,
                                                                             tmp_path):
    Xtr, Xte, ytr, _ = data
    # plain SGD has no optimiser state (which a checkpoint does not keep): the next epoch
    # after loading must then be the one the original model would have run
    est = TINY[name]().set_params(optimizer="sgd", momentum=0.0).fit(Xtr, ytr)
    path = tmp_path / "model.npz"
    est.save(path)
    good = path.read_bytes()
    one, two = type(est).load(path), type(est).load(path)
    np.testing.assert_array_equal(one.predict(Xte), two.predict(Xte))
    np.testing.assert_array_equal(one.decision_scores(Xte), est.decision_scores(Xte))
    for m in (est, one):                                   # same next epoch as the original
        m.partial_fit(Xtr, ytr)
    for k, W in est.weights_.items():
        np.testing.assert_array_equal(W, one.weights_[k])
    est.history_["bad"] = [object()]                       # not JSON: the save fails ...
    with pytest.raises(TypeError):
        est.save(path)
    assert path.read_bytes() == good                       # ... and the old file survives
    assert list(tmp_path.iterdir()) == [path]              # no temporary file left behind


@pytest.mark.parametrize("name", TINY)
def test_simulate_rejects_unknown_or_misshaped_labels(name, data):
    Xtr, Xte, ytr, _ = data
    est = TINY[name]().fit(Xtr[ytr < 9], ytr[ytr < 9])    # class 9 never seen
    est.simulate(Xte[:4], labels=np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="not seen at fit time: \\[9\\]"):
        est.simulate(Xte[:4], labels=np.array([0, 1, 2, 9]))
    with pytest.raises(ValueError, match="one entry per row"):
        est.simulate(Xte[:4], labels=np.array([0, 1]))


# Determinism: the configurations each model's own test file used.
DETERMINISM = {
    "CSDP": (CSDP, dict(hidden_layer_sizes=(16, 8), n_steps=6, batch_size=40, max_iter=1)),
    "SpikingPC": (SpikingPC, dict(hidden_layer_sizes=(16, 8), n_steps=8, burn_in=2.0,
                                  batch_size=40, max_iter=1)),
    "EqSpike-rate": (EqSpike, dict(hidden_layer_sizes=(16,), n_free=12, n_nudge=6,
                                   batch_size=40, max_iter=1, input_encoding="rate",
                                   nudging="random_sign")),
    "EqSpike-bernoulli": (EqSpike, dict(hidden_layer_sizes=(16,), n_free=12, n_nudge=6,
                                        batch_size=40, max_iter=1,
                                        input_encoding="bernoulli", nudging="random_sign")),
    "EProp": (EProp, dict(n_hidden=16, steps_per_row=4, feedback="random", batch_size=40,
                          max_iter=1)),
    "SurrogateBPTT": (SurrogateBPTT, dict(n_hidden=16, steps_per_row=4, batch_size=40,
                                          max_iter=1)),
}


def _timeless(history):
    """History without the wall-clock times (the only entries that may differ)."""
    return {k: v for k, v in history.items() if k != "wall_s"}


@pytest.mark.parametrize("name", DETERMINISM)
def test_determinism_same_seed_identical(name, digits):
    Xtr, _, ytr, _ = digits
    cls, kw = DETERMINISM[name]
    a = cls(random_state=3, **kw).fit(Xtr[:120], ytr[:120])
    b = cls(random_state=3, **kw).fit(Xtr[:120], ytr[:120])
    c = cls(random_state=4, **kw).fit(Xtr[:120], ytr[:120])
    for k, W in a.weights_.items():
        np.testing.assert_array_equal(W, b.weights_[k])
    assert _timeless(a.history_) == _timeless(b.history_)
    assert any(not np.array_equal(W, c.weights_[k]) for k, W in a.weights_.items())
    # predictions are reproducible and evaluating between epochs does not change training
    np.testing.assert_array_equal(a.decision_scores(Xtr[:50]), a.decision_scores(Xtr[:50]))
    d = cls(random_state=3, **{**kw, "max_iter": 2}).fit(Xtr[:120], ytr[:120])
    e = cls(random_state=3, **kw)
    for _ in range(2):
        e.partial_fit(Xtr[:120], ytr[:120], classes=np.unique(ytr))
        e.score(Xtr[:60], ytr[:60])
    for k, W in d.weights_.items():
        np.testing.assert_array_equal(W, e.weights_[k])


@pytest.mark.parametrize("X_bad, match", [
    (lambda X: X * 2.0, r"\[0, 1\]"), (lambda X: X - 0.5, r"\[0, 1\]"),
    (lambda X: X[:0], "0 sample"), (lambda X: X[:, 0], "2D array"),
])
@pytest.mark.parametrize("name", TINY)
def test_bad_inputs_raise_before_any_state(name, digits, X_bad, match):
    Xtr, _, ytr, _ = digits
    if name.startswith(("EProp", "SurrogateBPTT")) and match == r"\[0, 1\]":
        TINY[name]().fit(X_bad(Xtr[:32]), ytr[:32])   # inputs are currents: any finite X
        X_bad, match = (lambda X: np.where(X > 0.5, np.inf, X)), "infinity"
    est = TINY[name]()
    with pytest.raises(ValueError, match=match):
        est.fit(X_bad(Xtr[:32]), ytr[:32])
    assert not hasattr(est, est._fitted_attr)


@pytest.mark.parametrize("name", TINY)
def test_wrong_feature_count_unseen_labels_and_unfitted(name, digits):
    Xtr, _, ytr, _ = digits
    est = TINY[name]().fit(Xtr[:32], ytr[:32])
    with pytest.raises(ValueError, match="features"):
        est.predict(Xtr[:4, :10])
    with pytest.raises(ValueError, match="not seen"):
        est.partial_fit(Xtr[:4], np.array([0, 1, 2, 42]))
    with pytest.raises(Exception, match="not fitted"):
        TINY[name]().predict(Xtr[:3])


@pytest.mark.parametrize("name, key", [("CSDP", "W1"), ("SpikingPC", "W1"),
                                       ("EqSpike-bernoulli", "W2"), ("EProp-random", "W_rec"),
                                       ("SurrogateBPTT", "W_in")])
def test_corrupt_or_mismatched_checkpoints_raise(name, key, data, tmp_path):
    Xtr, _, ytr, _ = data
    est = TINY[name]().fit(Xtr, ytr)
    cls, path = type(est), tmp_path / "model.npz"
    est.save(path)
    raw = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint at all")
    np.savez(tmp_path / "other.npz", meta=np.frombuffer(b'{"format": "x"}', dtype=np.uint8))
    for bad in ("trunc.npz", "junk.npz", "other.npz", "missing.npz"):
        with pytest.raises(ValueError, match=f"{cls.__name__} checkpoint"):
            cls.load(tmp_path / bad)
    # right format, wrong array shape
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays[f"w_{key}"] = arrays[f"w_{key}"][:3]
    np.savez(tmp_path / "shape.npz", **arrays)
    with pytest.raises(ValueError, match=key):
        cls.load(tmp_path / "shape.npz")


# ----------------------------------------------------------------------- all the learners
ALL = {
    **{k: TINY[k] for k in ("CSDP", "SpikingPC", "EqSpike-bernoulli", "EProp-random",
                            "SurrogateBPTT")},
    "RSTDPClassifier": lambda: RSTDPClassifier(n_per_class=1, max_iter=1, random_state=0),
    "STDPClassifier": lambda: STDPClassifier(n_neurons=10, t_present=100.0, t_rest=50.0,
                                             t_readout=100.0, max_iter=1, random_state=0),
}
LAYERED = ("CSDP", "SpikingPC", "EqSpike-bernoulli", "EProp-random", "SurrogateBPTT")


def _continuable(name):
    """A model whose next epoch after ``load`` is the one it would have run: the layered
    learners' optimiser state is not checkpointed, so they use plain SGD here."""
    est = ALL[name]()
    return est.set_params(optimizer="sgd", momentum=0.0) if name in LAYERED else est


def _state(est):
    w = est.weights_
    return {k: np.array(v) for k, v in (w.items() if isinstance(w, dict) else [("w", w)])}


@pytest.mark.parametrize("name", ALL)
def test_one_interface(name, data):
    from sklearn.base import clone

    Xtr, Xte, ytr, yte = data
    est = ALL[name]()
    params = inspect.signature(type(est)).parameters
    assert {"max_iter", "verbose", "random_state", "validation_fraction"} <= set(params)
    assert "activation" not in params                     # no parameter that does nothing
    assert clone(est).get_params() == est.get_params()
    est.fit(Xtr, ytr)
    keys = {"accuracy", "wall_s"} | ({"loss"} if name in LAYERED else set())
    assert keys <= set(est.history_) and "validation_accuracy" not in est.history_
    est.partial_fit(Xtr, ytr)
    assert est.n_iter_ == 2
    for key in keys:
        assert len(est.history_[key]) == 2, key
    assert all(t > 0 for t in est.history_["wall_s"])
    proba = est.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.classes_[np.argmax(proba, axis=1)], est.predict(Xte))
    assert est.score(Xte, yte) == np.mean(est.predict(Xte) == yte)


@pytest.mark.parametrize("name", ALL)
def test_validation_fraction_holds_out_and_scores(name, data):
    Xtr, _, ytr, _ = data
    est = ALL[name]().set_params(validation_fraction=0.25)
    est.fit(Xtr, ytr)
    _, _, Xv, yv = est._validation_split(Xtr, ytr)          # the same split every call
    assert len(yv) == 16 and set(yv) <= set(ytr)
    assert est.history_["validation_accuracy"] == [est.score(Xv, yv)]
    bad = ALL[name]().set_params(validation_fraction=1.5)
    with pytest.raises(ValueError, match="validation_fraction"):
        bad.fit(Xtr, ytr)
    assert not hasattr(bad, bad._fitted_attr)


@pytest.mark.parametrize("name", ALL)
def test_checkpoint_round_trip_and_continued_training(name, data, tmp_path):
    Xtr, Xte, ytr, _ = data
    uninterrupted = _continuable(name)
    for _ in range(2):
        uninterrupted.partial_fit(Xtr, ytr)
    first = _continuable(name).partial_fit(Xtr, ytr)
    first.save(tmp_path / "m.npz")
    loaded = type(first).load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(Xte), first.predict(Xte))
    np.testing.assert_array_equal(loaded.decision_scores(Xte), first.decision_scores(Xte))
    assert loaded.history_ == first.history_ and loaded.get_params() == first.get_params()
    loaded.partial_fit(Xtr, ytr)                           # continue after loading
    for k, W in _state(uninterrupted).items():
        np.testing.assert_array_equal(W, _state(loaded)[k])
    np.testing.assert_array_equal(loaded.decision_scores(Xte),
                                  uninterrupted.decision_scores(Xte))
    with pytest.raises(ValueError, match=f"{type(first).__name__} checkpoint"):
        type(first).load(tmp_path / "missing.npz")


@pytest.mark.parametrize("cls", [STDPClassifier, RSTDPClassifier])
def test_renamed_parameters_work_with_a_future_warning(cls, data):
    Xtr, _, ytr, _ = data
    kw = dict(n_neurons=5, t_present=100.0, t_rest=50.0, t_readout=100.0) \
        if cls is STDPClassifier else dict(n_per_class=1)
    new = cls(max_iter=1, random_state=1, **kw).fit(Xtr[:30], ytr[:30])
    with pytest.warns(FutureWarning, match="'n_epochs' was renamed 'max_iter'"):
        old = cls(n_epochs=1, max_iter=3, random_state=1, **kw).fit(Xtr[:30], ytr[:30])
    assert old.n_iter_ == 1                                # the old name's value is used
    np.testing.assert_array_equal(old.weights_, new.weights_)
    with pytest.warns(FutureWarning, match="'progress' was renamed 'verbose'"):
        cls(progress=False, max_iter=1, **kw).fit(Xtr[:30], ytr[:30])
    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="progress must be a bool"):
        cls(progress="yes", **kw).fit(Xtr[:30], ytr[:30])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # the new names warn nothing
        cls(max_iter=1, verbose=False, **kw).fit(Xtr[:30], ytr[:30])


@pytest.mark.parametrize("name", LAYERED)
def test_layered_learners_have_no_old_names(name):
    with pytest.raises(TypeError, match="n_epochs"):
        type(ALL[name]())(n_epochs=1)


@pytest.mark.parametrize("cls, kw, phases", [
    (STDPClassifier, dict(n_neurons=5, t_present=100.0, t_rest=50.0, t_readout=100.0),
     ("STDP epoch 1", "STDP labelling", "STDP scoring")),
    (RSTDPClassifier, dict(n_per_class=1), ("RSTDP epoch 1",)),
])
def test_verbose_shows_training_labelling_and_scoring_bars(cls, kw, phases, data, capsys):
    Xtr, Xte, ytr, _ = data
    cls(max_iter=1, random_state=0, **kw).fit(Xtr[:20], ytr[:20]).predict(Xte[:5])
    assert capsys.readouterr().err == ""
    cls(max_iter=1, random_state=0, verbose=True, **kw).fit(Xtr[:20], ytr[:20]).predict(Xte[:5])
    err = capsys.readouterr().err
    for phase in phases:
        assert phase in err, phase
    if cls is RSTDPClassifier:                             # the scoring run's bar
        assert err.count("%|") > 1
