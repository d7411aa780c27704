"""Behaviour the layered spiking learners (CSDP, SpikingPC, EqSpike) share: reproducible
predictions that never touch training, data checks before any state changes, atomic
checkpoints, and training that continues exactly after a checkpoint."""
import numpy as np
import pytest

from neuromorph.datasets import load_digits_split
from neuromorph.models.spiking import CSDP, EqSpike, SpikingPC

TINY = {
    "CSDP": lambda: CSDP(hidden_layer_sizes=(8,), n_steps=4, batch_size=16, max_iter=1,
                         random_state=0),
    "SpikingPC": lambda: SpikingPC(hidden_layer_sizes=(8,), n_steps=6, burn_in=2.0,
                                   batch_size=16, max_iter=1, random_state=0),
    "EqSpike-bernoulli": lambda: EqSpike(hidden_layer_sizes=(8,), n_free=6, n_nudge=4,
                                         batch_size=16, max_iter=1, random_state=0,
                                         input_encoding="bernoulli"),
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
    assert 0.0 <= est.score(Xte, yte) <= 1.0
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
    for fit in (lambda: est.fit(3 * Xtr, ytr), lambda: est.partial_fit(-Xtr, ytr)):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
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
