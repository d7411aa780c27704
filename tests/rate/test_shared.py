"""Shared pieces: activations, losses, optimisers, batching, metadata."""
import numpy as np
import pytest

from neuromorph.models.rate.activations import ACTIVATIONS, layer_norm, softmax
from neuromorph.models.rate.batching import minibatches
from neuromorph.models.rate.losses import SoftmaxCrossEntropy, SquaredError
from neuromorph.models.rate.metadata import CHECKLISTS, Checklist
from neuromorph.models.rate.optimizers import SGD, Adam, make_optimizer


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    h = np.linspace(-3, 3, 61) + 0.013  # avoid kinks exactly
    eps = 1e-6
    fd = (act.f(h + eps) - act.f(h - eps)) / (2 * eps)
    assert np.allclose(act.df(h), fd, atol=1e-5)


@pytest.mark.parametrize("loss", [SoftmaxCrossEntropy, SquaredError], ids=lambda c: c.__name__)
def test_loss_delta_matches_finite_differences(loss):
    rng = np.random.default_rng(0)
    h = rng.normal(size=(4, 3))
    Y = np.eye(3)[[0, 2, 1, 1]]
    eps = 1e-6
    fd = np.zeros_like(h)
    for i in np.ndindex(h.shape):
        d = np.zeros_like(h)
        d[i] = eps
        fd[i] = (loss.per_sample(h + d, Y) - loss.per_sample(h - d, Y))[i[0]] / (2 * eps)
    assert np.allclose(loss.delta(h, Y), fd, atol=1e-6)


def test_softmax_and_layer_norm_invariants():
    h = np.array([[1000.0, 1001.0, 999.0], [0.0, 0.0, 0.0]])
    p = softmax(h)
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=1), 1)
    assert np.allclose(p[1], 1 / 3)
    z = np.array([[3.0, 4.0]])
    assert np.allclose(layer_norm(z), [[0.6, 0.8]])


def test_sgd_momentum_closed_form():
    # constant gradient g: v_t = −η g (1 − μ^t)/(1 − μ)
    p = [np.zeros(2)]
    opt = SGD(0.1, momentum=0.5)
    g = [np.array([1.0, -2.0])]
    for _ in range(3):
        opt.step(p, g)
    v = [-0.1 * (1 - 0.5**t) / 0.5 for t in (1, 2, 3)]
    assert np.allclose(p[0], sum(v) * np.array([1.0, -2.0]))


def test_adam_first_step_is_lr_times_sign():
    p = [np.zeros(3)]
    incs = Adam(0.01).step(p, [np.array([5.0, -0.1, 2.0])])
    assert np.allclose(incs[0], -0.01 * np.array([1, -1, 1]), atol=1e-6)
    assert np.allclose(p[0], incs[0])


def test_adam_minimises_a_quadratic():
    x = [np.array([3.0, -4.0])]
    opt = make_optimizer("adam", 0.1)
    for _ in range(500):
        opt.step(x, [2 * x[0]])
    assert np.linalg.norm(x[0]) < 1e-2
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer("rmsprop", 0.1)


def test_minibatches_cover_every_index_once_and_are_seeded():
    idx = list(minibatches(10, 3, np.random.default_rng(1)))
    assert [len(i) for i in idx] == [3, 3, 3, 1]
    assert sorted(np.concatenate(idx).tolist()) == list(range(10))
    again = list(minibatches(10, 3, np.random.default_rng(1)))
    assert all(np.array_equal(a, b) for a, b in zip(idx, again))


def test_checklists_are_valid_rows():
    for row in CHECKLISTS.values():
        assert set(row.as_dict()) >= {"P1", "P2", "Ctrl", "source"}
    with pytest.raises(ValueError, match="checklist cell"):
        Checklist("x", *"Y Y Y Y Y Y Y Y Y Y Q".split())
