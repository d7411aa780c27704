"""Behavioural oracles for the implicit feature learners, SG, LRA, RFF and PFF."""
import numpy as np

from neuromorph.models.rate import (
    BCM, CompetitiveKWTA, LocalRepresentationAlignment, Oja, PredictiveForwardForward,
    RecurrentForwardForward, SoftBoundHebbian, SyntheticGradients,
)
from neuromorph.models.rate.hebbian import k_winners


def cosine(a, b):
    return float(np.vdot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_k_winners_keeps_exactly_k_largest():
    h = np.array([[0.1, 0.9, 0.5, 0.3], [4.0, 3.0, 2.0, 1.0]])
    out = k_winners(h, 2)
    assert out.tolist() == [[0, 0.9, 0.5, 0], [4.0, 3.0, 0, 0]]
    biased = k_winners(h, 1, bias=np.array([0, 0, 0, -10.0]))  # threshold favours unit 3
    assert biased.tolist() == [[0, 0, 0, 0.3], [0, 0, 0, 1.0]]


def test_oja_finds_the_principal_component():
    """Oja (1982): a single linear unit converges to ±the top eigenvector, unit norm."""
    rng = np.random.default_rng(0)
    C = np.array([[3.0, 1.0], [1.0, 1.0]])
    X = rng.multivariate_normal([0, 0], C, size=2000)
    y = (X[:, 0] > 0).astype(int)
    oja = Oja(hidden_layer_sizes=(1,), k_winners=None, feature_learning_rate=0.01,
              max_iter=5, random_state=0).fit(X, y)
    w = oja.features_[0]
    top = np.linalg.eigh(C)[1][:, -1]
    assert abs(np.linalg.norm(w) - 1) < 0.05
    assert abs(cosine(w, top)) > 0.99


def test_soft_bound_hebbian_stays_within_bounds(small_digits):
    Xtr, _, ytr, _ = small_digits
    heb = SoftBoundHebbian(w_max=0.7, max_iter=3, random_state=0).fit(Xtr, ytr)
    assert heb.features_.min() >= 0 and heb.features_.max() <= 0.7


def test_bcm_threshold_tracks_mean_square_activity(small_digits):
    Xtr, _, ytr, _ = small_digits
    bcm = BCM(max_iter=5, threshold_rate=1.0, batch_size=len(Xtr), random_state=0)
    bcm.fit(Xtr, ytr)
    z = bcm._features(Xtr)  # full batch, α_θ = 1: θ equals last batch's mean z² (before step)
    assert np.allclose(np.linalg.norm(bcm.features_, axis=1), 1.0)
    assert np.corrcoef(bcm.thresholds_, (z**2).mean(axis=0))[0, 1] > 0.9


def test_competitive_winners_move_towards_inputs():
    rng = np.random.default_rng(0)
    centres = np.eye(4) * 3
    X = np.vstack([c + 0.1 * rng.normal(size=(50, 4)) for c in centres])
    y = np.repeat(np.arange(4), 50)
    comp = CompetitiveKWTA(hidden_layer_sizes=(4,), k_winners=1, feature_learning_rate=0.2,
                           homeostasis=0.05,
                           max_iter=20, random_state=0).fit(X, y)
    # each prototype ends near one cluster direction, each cluster claimed by a unit
    sims = comp.features_ @ (centres / 3).T
    assert sorted(np.argmax(sims, axis=1).tolist()) == [0, 1, 2, 3]
    assert np.all(sims.max(axis=1) > 0.95)


def test_implicit_features_learn_without_labels(small_digits):
    """The feature rules never read y: permuting labels leaves the features unchanged."""
    Xtr, _, ytr, _ = small_digits
    for cls in (SoftBoundHebbian, Oja, BCM, CompetitiveKWTA):
        a = cls(max_iter=2, random_state=0).fit(Xtr, ytr)
        b = cls(max_iter=2, random_state=0).fit(Xtr, np.roll(ytr, 7))
        assert np.array_equal(a.features_, b.features_), cls.__name__


def test_synthetic_gradients_learn_to_predict_the_true_gradient(small_digits):
    Xtr, _, ytr, _ = small_digits
    sg = SyntheticGradients(hidden_layer_sizes=(32,), max_iter=1, random_state=0).fit(Xtr, ytr)
    Y = sg._one_hot(ytr)

    def agreement():
        hs, zs = sg.net_.forward(Xtr)
        true = sg.loss.delta(hs[-1], Y) @ sg.net_.W[-1]
        return cosine(sg.synthetic_gradients(zs, Y)[0], true)

    first = agreement()
    for _ in range(15):
        sg.partial_fit(Xtr, ytr)
    assert agreement() > max(first, 0.8)


def test_lra_kp_error_synapses_keep_a_constant_offset(toy_batch):
    """With γ = 1 the error synapses receive W's increments: E − W never changes."""
    X, y, _ = toy_batch
    lra = LocalRepresentationAlignment(hidden_layer_sizes=(6, 5), error_rate=1.0, max_iter=1,
                                       random_state=0).fit(X, y)
    d = [E - W for E, W in zip(lra.error_synapses_[1:], lra.net_.W[1:])]
    lra.partial_fit(X, y)
    assert all(np.allclose(E - W, d0) for E, W, d0 in
               zip(lra.error_synapses_[1:], lra.net_.W[1:], d))
    hs, zs = lra.net_.forward(X)
    lra.beta = 1e-12  # no error message: targets equal activities, hidden errors vanish
    assert all(np.allclose(e, 0, atol=1e-9) for e in lra.targets(hs, zs, lra._one_hot(y))[1][:-1])


def test_rff_goodness_prefers_true_label_after_training(small_digits):
    Xtr, Xte, ytr, yte = small_digits
    rff = RecurrentForwardForward(hidden_layer_sizes=(64, 64), max_iter=6, random_state=0)
    rff.fit(Xtr, ytr)
    acc = rff.score(Xte, yte)
    assert acc > 0.3  # well above chance (0.1); full-size runs in experiments/
    # the label context reaches the first layer only through the recurrence
    ctx = rff._context(np.zeros(5, dtype=int), 5)
    rff.set_params(n_steps=1, t_learn=0)  # one step: the context reaches only the top layer
    zs = rff.run(Xte[:5], ctx)[3]
    zs2 = rff.run(Xte[:5], 2 * ctx)[3]
    assert np.allclose(zs[1], zs2[1]) and not np.allclose(zs[2], zs2[2])


def test_pff_generative_circuit_learns_to_reconstruct(small_digits):
    Xtr, Xte, ytr, _ = small_digits
    pff = PredictiveForwardForward(hidden_layer_sizes=(64, 64), max_iter=1, random_state=0)
    pff.fit(Xtr, ytr)
    before = np.mean((pff.reconstruct(Xte) - Xte) ** 2)
    for _ in range(5):
        pff.partial_fit(Xtr, ytr)
    assert np.mean((pff.reconstruct(Xte) - Xte) ** 2) < 0.8 * before
