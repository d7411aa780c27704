"""STDPClassifier (Diehl & Cook 2015 on the event-driven core) and the STDP experiments."""
import importlib.util
import json
import pathlib

import numpy as np
import pytest
from sklearn.base import clone

import neuromorph as nm
from neuromorph.models.spiking import STDPClassifier

EXPERIMENTS = pathlib.Path(__file__).resolve().parents[1] / "experiments"


def _experiment(name):
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def small_fit(digits):
    """A scaled-down digits run: the full network, one pass instead of two."""
    X_tr, X_te, y_tr, y_te = digits
    clf = STDPClassifier(n_neurons=100, max_iter=1, random_state=0)
    clf.fit(X_tr, y_tr)
    return clf, X_te, y_te


def test_scaled_down_digits_accuracy_above_80_percent(small_fit):
    clf, X_te, y_te = small_fit
    acc = clf.score(X_te, y_te)
    # chance is 10 %; the bar for the scaled-down run is 70 %. Measured (one
    # pass, seed 0): 0.839 (seeds 1, 2: 0.850, 0.844); ~20 s for fit + score
    assert acc > 0.80, acc


def test_learned_receptive_fields_look_like_digits(small_fit, digits):
    """Receptive fields are prototypes: each labelled neuron's weights correlate best with
    the mean image of its own class (an independent, label-free check of learning)."""
    clf, _, _ = small_fit
    X_tr, _, y_tr, _ = digits
    means = np.stack([X_tr[y_tr == c].mean(axis=0) for c in range(10)])
    W = clf.weights_
    labelled = np.flatnonzero(clf.neuron_labels_ >= 0)
    corr = np.array([[np.corrcoef(W[:, k], means[c])[0, 1] for c in range(10)]
                     for k in labelled])
    agree = np.mean(np.argmax(corr, axis=1) == clf.neuron_labels_[labelled])
    assert agree > 0.6, agree
    # weights were normalised (L2 norm 40 mV by default) after every sample
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), 40.0, rtol=1e-3)
    # homeostasis: thresholds rose, most neurons took part
    assert clf.theta_.mean() > 0 and np.mean(clf.theta_ > 0) > 0.5


def test_estimator_api(small_fit):
    clf, X_te, y_te = small_fit
    params = clf.get_params()
    assert params["n_neurons"] == 100 and params["random_state"] == 0
    c2 = clone(clf).set_params(n_neurons=7)
    assert c2.n_neurons == 7 and not hasattr(c2, "weights_")
    pred = clf.predict(X_te[:20])
    assert pred.shape == (20,) and set(pred) <= set(clf.classes_)
    assert clf.decision_function(X_te[:5]).shape == (5, 10)
    h = clf.history_
    for key in ("mean_spikes", "retry_fraction", "weight_mean", "theta_mean",
                "samples_per_s", "n_samples"):
        assert len(h[key]) == 1
    assert clf.weights_.shape == (64, 100) and clf.n_features_in_ == 64


def test_same_seed_same_model(digits):
    X_tr, _, y_tr, _ = digits
    kw = dict(n_neurons=10, random_state=3, t_present=100.0, t_rest=50.0)
    a = STDPClassifier(**kw).fit(X_tr[:40], y_tr[:40])
    b = STDPClassifier(**kw).fit(X_tr[:40], y_tr[:40])
    np.testing.assert_array_equal(a.weights_, b.weights_)
    np.testing.assert_array_equal(a.theta_, b.theta_)


def test_l1_normalisation_fixes_the_weight_sum(digits):
    """norm="l1" is Diehl & Cook's fixed sum (default total 0.15625 n_inputs w_max)."""
    X_tr, _, y_tr, _ = digits
    clf = STDPClassifier(n_neurons=8, norm="l1", t_present=100.0, t_rest=50.0,
                         t_readout=100.0, random_state=0).fit(X_tr[:30], y_tr[:30])
    np.testing.assert_allclose(clf.weights_.sum(axis=0), 300.0)
    l2 = STDPClassifier(n_neurons=8, w_total=25.0, t_present=100.0, t_rest=50.0,
                        random_state=0).fit(X_tr[:30], y_tr[:30])
    np.testing.assert_allclose(np.linalg.norm(l2.weights_, axis=0), 25.0, rtol=1e-3)


def test_intensity_is_raised_when_too_few_spikes(digits):
    """A too-weak input makes the network repeat the sample at a higher rate."""
    X_tr, _, y_tr, _ = digits
    clf = STDPClassifier(n_neurons=5, max_rate=2.0, intensity_step=60.0, max_retries=3,
                         t_present=100.0, t_rest=50.0, random_state=0)
    clf.fit(X_tr[:10], y_tr[:10])
    assert clf.history_["retry_fraction"][0] > 0.5
    assert clf.history_["mean_spikes"][0] >= clf.min_spikes


def test_network_is_the_event_driven_core(digits):
    clf = STDPClassifier(n_neurons=6)
    net, inp, exc, proj, spikes = clf.build_network(64, seed=0)
    assert isinstance(net, nm.Network)
    assert proj.plasticity.weight_dependence == "power" and proj.plasticity.x_tar == 0.4
    assert exc.model.theta_plus == clf.theta_plus
    inh_exc = net.projections[2].weights
    assert np.all(np.diag(inh_exc) == 0) and np.all(inh_exc[~np.eye(6, dtype=bool)] < 0)


@pytest.mark.parametrize("kw, err", [
    (dict(n_neurons=0), ValueError), (dict(n_neurons=2.5), TypeError),
    (dict(dt=-1.0), ValueError), (dict(t_present=100.3), ValueError),
    (dict(max_rate=2500.0), ValueError), (dict(verbose="yes"), TypeError),
    (dict(random_state="a"), TypeError), (dict(v_th=-70.0), ValueError),
    (dict(w_total=0.0), ValueError), (dict(x_tar=-0.1), ValueError),
    (dict(norm="l3"), ValueError), (dict(t_readout=0.0), ValueError),
    (dict(t_readout=100.3), ValueError),
])
def test_bad_parameters(kw, err):
    X = np.random.default_rng(0).random((4, 6))
    with pytest.raises(err):
        STDPClassifier(**kw).fit(X, [0, 1, 0, 1])


def test_bad_input(small_fit):
    clf = STDPClassifier(n_neurons=3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        clf.fit(np.full((4, 3), 2.0), [0, 1, 0, 1])
    with pytest.raises(ValueError):
        clf.fit(np.ones((4, 3)), [0, 1, 0])
    with pytest.raises(ValueError):
        clf.fit(np.ones((4, 3)), [0.5, 1.2, 0.1, 3.3])  # continuous targets
    X6 = np.random.default_rng(0).random((4, 6))
    for kw in (dict(w_total=80.0), dict(w_total=200.0, norm="l1")):
        # 6 inputs, w_max 30 mV: the largest L2 norm is 73.5 mV, the largest sum 180 mV
        with pytest.raises(ValueError, match="cannot be reached"):
            STDPClassifier(n_neurons=3, **kw).fit(X6, [0, 1, 0, 1])
    fitted, X_te, _ = small_fit
    with pytest.raises(ValueError):
        fitted.predict(X_te[:, :10])  # wrong number of features
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        STDPClassifier().predict(X_te[:2])


def test_stdp_window_experiment_matches_analytic(tmp_path):
    m = _experiment("stdp_window").main(["--out", str(tmp_path), "--quick"])
    assert m["pair_max_abs_error_mV"] < 1e-9
    assert m["diehl_cook_max_rel_error"] < 0.02
    assert (tmp_path / "stdp_window.png").exists() and (tmp_path / "stdp_window.svg").exists()
    assert json.loads((tmp_path / "metrics.json").read_text())["n_pairs"] == 10


@pytest.mark.slow
def test_full_size_digits_five_seeds(digits):
    """100 excitatory neurons, default settings (two passes), seeds 0-4 (~4 min).

    Measured with the learned thresholds frozen at readout: 0.857 +- 0.013, per seed
    0.869 0.875 0.842 0.853 0.844 (before, thresholds ignored: 0.866 +- 0.010)
    (experiments/results/diehl_cook_digits); the issue's target is 85 %."""
    X_tr, X_te, y_tr, y_te = digits
    accs = [STDPClassifier(random_state=s).fit(X_tr, y_tr).score(X_te, y_te)
            for s in range(5)]
    assert np.mean(accs) >= 0.85 and min(accs) > 0.83, accs


def test_mnist_idx_loader_of_the_experiment(tmp_path):
    """--data-dir reads the four MNIST IDX files (here tiny synthetic ones, gzipped)."""
    from neuromorph.datasets import write_idx
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (12, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, 12).astype(np.uint8)
    for prefix in ("train", "t10k"):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", imgs)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", labels)
    X_tr, X_te, y_tr, y_te = _experiment("diehl_cook_digits").load_mnist(tmp_path, 10, 5)
    assert X_tr.shape == (10, 784) and X_te.shape == (5, 784)
    np.testing.assert_allclose(X_tr[3], imgs[3].ravel() / 255.0)
    np.testing.assert_array_equal(y_te, labels[:5])


def test_song_experiment_weights_leave_the_uniform_start(tmp_path):
    """Song et al. (2000), 20 s: mass moves to both bounds (uniform start: 10 % per tail)."""
    r = _experiment("song_stdp").main(["--out", str(tmp_path), "--quick", "--no-brian2"])
    nm_res = r["neuromorph"]
    assert nm_res["frac_low"] > 0.12 and nm_res["frac_high"] > 0.10
    assert (tmp_path / "song_stdp.png").exists() and (tmp_path / "song_stdp.svg").exists()
