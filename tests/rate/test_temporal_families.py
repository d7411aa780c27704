"""Temporal learners (spec §4.24): BPTT, RTRL and UORO on one recurrent rate network.

Oracles: BPTT's gradient against central finite differences of the loss; RTRL's
gradient against BPTT's (the same quantity computed forward in time, to 1e-8); UORO's
estimate against BPTT's gradient in the mean over many independent draws (within the
standard error of that mean, and a biased estimator is caught by the same statistic);
the sequence layout against a direct reshape of the 8×8 digit images.
"""
import numpy as np
import pytest

from neuromorph.datasets import make_mnist1d, make_mnist1d_like
from neuromorph.models.rate import BPTT, RTRL, UORO
from neuromorph.models.rate.losses import SoftmaxCrossEntropy
from neuromorph.models.rate.recurrent import (RecurrentNet, as_sequence, auto_steps,
                                              readout_error, sequence_shape)
from neuromorph.models.rate.temporal import (bptt_gradients, rtrl_gradients, uoro_gradients,
                                             uoro_traces)

TEMPORAL = (BPTT, RTRL, UORO)


def _problem(activation="tanh", T=6, n=5, n_in=3, J=4, C=3, seed=0):
    rng = np.random.default_rng(seed)
    net = RecurrentNet(n_in, J, C, activation, rng, recurrent_scale=1.3)
    net.b[:] = rng.normal(0, 0.3, J)  # non-zero biases: their gradient is checked too
    xs = rng.normal(size=(T, n, n_in))
    Y = np.eye(C)[rng.integers(0, C, n)]
    return net, xs, Y


def _mean_loss(net, xs, Y):
    return SoftmaxCrossEntropy.per_sample(net.output(xs), Y).mean()


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_bptt_gradient_matches_finite_differences(activation):
    net, xs, Y = _problem(activation)
    grads, out = bptt_gradients(net, xs, Y)
    np.testing.assert_allclose(out, net.output(xs))
    eps = 1e-6
    for p, g in zip(net.params, grads):
        fd = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            keep = p[i]
            p[i] = keep + eps
            up = _mean_loss(net, xs, Y)
            p[i] = keep - eps
            down = _mean_loss(net, xs, Y)
            p[i] = keep
            fd[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("activation,T,J", [("tanh", 8, 6), ("sigmoid", 5, 3), ("relu", 12, 5),
                                            ("tanh", 1, 4)])
def test_rtrl_gradient_equals_bptt(activation, T, J):
    """Parameters held fixed over the sequence: forward-mode sensitivities give the
    reverse-mode gradient, component by component."""
    net, xs, Y = _problem(activation, T=T, J=J, n=7, seed=T)
    bptt, _ = bptt_gradients(net, xs, Y)
    rtrl, out = rtrl_gradients(net, xs, Y)
    np.testing.assert_allclose(out, net.output(xs), rtol=0, atol=1e-12)
    for a, b in zip(rtrl, bptt):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    assert max(np.abs(b).max() for b in bptt) > 1e-3  # a gradient worth comparing


def test_uoro_estimate_is_unbiased():
    """Mean of N independent UORO estimates for one sequence lies within 5 standard
    errors of BPTT's gradient in every component (Bonferroni over the components:
    a false alarm has probability < 1e-4), and within 2 % in norm. The same statistic
    rejects a biased estimator: the gradient truncated to the last step."""
    net, xs, Y = _problem("tanh", T=5, n=1, J=3, n_in=2)
    grads, _ = bptt_gradients(net, xs, Y)
    exact = np.hstack([grads[0], grads[1], grads[2][:, None]])  # θ = [W_in | W_rec | b]
    N = 200_000
    reps = np.repeat(xs, N, axis=1)  # N copies of the sequence, each with its own noise
    s, theta, z = uoro_traces(net, reps, np.random.default_rng(11))
    _, e, _ = readout_error(net, z, np.repeat(Y, N, axis=0), SoftmaxCrossEntropy)
    draws = (e * s).sum(axis=1)[:, None, None] * theta  # (N, J, I + J + 1)
    mean = draws.mean(axis=0)
    se = draws.std(axis=0, ddof=1) / np.sqrt(N)
    assert np.all(se > 0)  # a random estimate: the draws differ
    assert np.max(np.abs(mean - exact) / se) < 5.0
    assert np.linalg.norm(mean - exact) < 0.02 * np.linalg.norm(exact)
    # a single draw is far off: unbiasedness, not a near-exact estimate, is what passes
    assert np.linalg.norm(draws[0] - exact) > 0.1 * np.linalg.norm(exact)
    # negative control: the last step's direct term alone (no memory) is biased
    hs, zs, _ = net.forward(xs)
    d = e[:1] * net.act.df(hs[-1])
    u = np.hstack([xs[-1], zs[-2], np.ones((1, 1))])
    truncated = d.T @ u
    assert np.max(np.abs(mean - truncated) / se) > 5.0


def test_uoro_readout_gradient_is_exact_and_batch_averaged():
    net, xs, Y = _problem("tanh", n=6)
    bptt, _ = bptt_gradients(net, xs, Y)
    uoro, _ = uoro_gradients(net, xs, Y, np.random.default_rng(0))
    for a, b in zip(uoro[3:], bptt[3:]):  # W_out, b_out
        np.testing.assert_allclose(a, b, atol=1e-14)
    # the batch estimate is the mean of the per-sequence estimates
    s, theta, z = uoro_traces(net, xs, np.random.default_rng(0))
    _, e, _ = readout_error(net, z, Y, SoftmaxCrossEntropy)
    per = (e * s).sum(axis=1)[:, None, None] * theta
    np.testing.assert_allclose(np.hstack([uoro[0], uoro[1], uoro[2][:, None]]),
                               per.mean(axis=0), atol=1e-14)


def test_sequence_layout_reads_digit_rows():
    from sklearn.datasets import load_digits

    X = load_digits().data[:20]
    xs = as_sequence(X, "auto")
    assert xs.shape == (8, 20, 8)
    for t in range(8):
        np.testing.assert_array_equal(xs[t], X.reshape(20, 8, 8)[:, t, :])  # row t
    assert [auto_steps(n) for n in (64, 40, 49, 7, 1, 2)] == [8, 5, 7, 1, 1, 1]
    assert sequence_shape(40, 40) == (40, 1) and sequence_shape(40, 10) == (10, 4)


@pytest.mark.parametrize("cls", TEMPORAL, ids=lambda c: c.__name__)
def test_wrong_sequence_shape_raises_with_expected_shape(cls, small_digits):
    Xtr, _, ytr, _ = small_digits
    est = cls(n_steps=7, max_iter=1)
    with pytest.raises(ValueError, match=r"n_steps=7 .*expected X of shape \(n_samples, 7 \* "
                                         r"n_inputs\).*\(n_samples, 63\) or \(n_samples, 70\)"):
        est.fit(Xtr[:50], ytr[:50])
    assert not hasattr(est, "classes_") and not hasattr(est, "net_")
    with pytest.raises(ValueError, match=r"n_steps=70 .*expected X of shape"):
        cls(n_steps=70).fit(Xtr[:50], ytr[:50])
    for bad, err in [("rows", ValueError), (0, ValueError), (2.0, TypeError), (True, TypeError)]:
        with pytest.raises(err, match="n_steps"):
            cls(n_steps=bad).fit(Xtr[:50], ytr[:50])
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold one width"):
        cls(hidden_layer_sizes=(8, 8)).fit(Xtr[:50], ytr[:50])
    with pytest.raises(ValueError, match="recurrent_scale"):
        cls(recurrent_scale=0.0).fit(Xtr[:50], ytr[:50])
    fitted = cls(n_steps=4, hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(Xtr, ytr)
    assert fitted.n_steps_ == 4 and fitted.net_.W_in.shape == (8, 16)


def test_uoro_epsilon_is_checked():
    X = np.random.default_rng(0).normal(size=(20, 4))
    y = np.arange(20) % 2
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="epsilon"):
            UORO(epsilon=bad).fit(X, y)


def test_rtrl_training_follows_bptt(small_digits):
    """Same seed, same settings, same batches: RTRL's model stays BPTT's (equal gradients)."""
    Xtr, Xte, ytr, _ = small_digits
    kw = dict(hidden_layer_sizes=(12,), learning_rate=1e-2, max_iter=2, random_state=3)
    a = BPTT(**kw).fit(Xtr[:200], ytr[:200])
    b = RTRL(**kw).fit(Xtr[:200], ytr[:200])
    np.testing.assert_allclose(b.decision_scores(Xte), a.decision_scores(Xte), atol=1e-8)
    Y = np.eye(10)[ytr[:32]]
    for u, g in zip(b.update_directions(Xtr[:32], Y), a.bptt_directions(Xtr[:32], Y)):
        np.testing.assert_allclose(u, g, atol=1e-10)


def test_learners_carry_information_through_time():
    """Class = sign of the first step's input, followed by five distractor steps: only
    a network that carries the first input through time beats chance."""
    rng = np.random.default_rng(0)
    n, T = 600, 6
    X = rng.normal(0, 1, (n, T))
    y = (X[:, 0] > 0).astype(int)
    for cls in TEMPORAL:
        est = cls(n_steps=T, hidden_layer_sizes=(8,), max_iter=20, learning_rate=1e-2,
                  random_state=0).fit(X[:400], y[:400])
        assert est.score(X[400:], y[400:]) > 0.9, cls.__name__


def test_make_mnist1d_like():
    X, y = make_mnist1d_like(n_samples=300, random_state=5)
    X2, y2 = make_mnist1d_like(n_samples=300, random_state=5)
    assert X.shape == (300, 40) and y.shape == (300,)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert set(np.unique(y)) == set(range(10))
    Xo, yo = make_mnist1d(n_samples=300, length=40, noise=0.1, random_state=5)
    assert np.array_equal(X, Xo) and np.array_equal(y, yo)  # the generator of make_mnist1d
    assert make_mnist1d_like(n_samples=10, length=24, random_state=0)[0].shape == (10, 24)
    a, b = make_mnist1d_like(n_samples=50)[0], make_mnist1d_like(n_samples=50)[0]
    assert not np.array_equal(a, b)  # random_state=None: a fresh draw
    with pytest.raises(ValueError, match="length"):
        make_mnist1d_like(length=5)
    with pytest.raises((ValueError, TypeError), match="n_samples"):
        make_mnist1d_like(n_samples=0)


def test_experiment_script_quick_run(tmp_path):
    """experiments/temporal_learners.py end to end on one learner and task (smoke)."""
    import importlib.util
    import json
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "experiments",
                        "temporal_learners.py")
    spec = importlib.util.spec_from_file_location("temporal_learners", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert {"BPTT", "RTRL", "UORO"} <= set(mod.learners())
    mod.main(["--quick", "--learners", "BPTT", "--tasks", "digits", "--out", str(tmp_path)])
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [(r["learner"], r["task"], r["seed"], r["epochs"]) for r in runs] == [
        ("BPTT", "digits", 101, mod.QUICK_EPOCHS)]
    assert 0.5 < runs[0]["test_accuracy"] <= 1.0  # 2 epochs on 400 digits, well above chance
    assert "| BPTT | rate | BP | 2 |" in (tmp_path / "results.md").read_text()
    with pytest.raises(SystemExit):
        mod.main(["--learners", "Nope", "--out", str(tmp_path)])
