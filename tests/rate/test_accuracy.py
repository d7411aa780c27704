"""Learning on digits: a scaled-down check in the default run, issue 5's targets as slow tests.

The fast tests train on 600 digits with a small network for a few epochs and require a
clear margin above chance; the slow tests run the issue's setting (fixed 80/20 split,
64-256-256-10 unless the family uses one hidden layer) and assert the issue's targets
for the families that meet them (see experiments/results/results.md for all numbers).
"""
import pytest

from neuromorph.models.rate import registry

FAMILIES = registry()

# family -> (extra params, epochs, minimum test accuracy) for the fast check; the bounds
# sit 0.07-0.12 below the accuracy measured with random_state=0 (chance is 0.1)
FAST = {
    "Backprop": ({}, 8, 0.80),
    "SoftBoundHebbian": ({}, 8, 0.65),
    "Oja": ({}, 8, 0.35),
    "BCM": ({}, 8, 0.50),
    "CompetitiveKWTA": ({}, 8, 0.75),
    "FeedbackAlignment": ({}, 8, 0.65),
    "DirectFeedbackAlignment": ({}, 8, 0.65),
    "SignSymmetry": ({}, 8, 0.80),
    "KolenPollack": ({}, 8, 0.70),
    "NodePerturbation": ({}, 8, 0.65),
    "WeightPerturbation": (dict(n_perturbations=8), 8, 0.20),
    "Reinforce": ({}, 8, 0.45),
    "LearnedFeedback": (dict(warmup_iter=1), 8, 0.70),
    "SyntheticGradients": ({}, 8, 0.70),
    "LocalLosses": ({}, 8, 0.65),
    "TargetPropagation": (dict(learning_rate=1e-3, decoder_learning_rate=1e-3,  # 8 epochs:
                               target_step=0.5), 8, 0.75),                 # the faster rates
    "DifferenceTargetPropagation": ({}, 8, 0.80),
    "LocalRepresentationAlignment": ({}, 8, 0.70),
    "PredictiveCoding": ({}, 8, 0.80),
    "ContrastiveHebbian": (dict(learning_rate=1e-3), 4, 0.65),  # 4 epochs: the faster rate
    "EquilibriumPropagation": ({}, 4, 0.45),
    "ForwardForward": ({}, 8, 0.70),
    "RecurrentForwardForward": ({}, 4, 0.20),
    "PredictiveForwardForward": (dict(learning_rate=1e-2), 4, 0.50),  # 4 epochs: the faster rate
    "Pepita": ({}, 8, 0.65),
    "IndirectFeedbackAlignment": ({}, 8, 0.65),
    "DirectRandomTargetProjection": (dict(learning_rate=3e-3), 8, 0.65),  # slow start
    "WeightMirrors": ({}, 8, 0.80),
    "RewardModulatedHebbian": ({}, 8, 0.65),
    "HillClimbing": (dict(batch_size=32), 8, 0.67),  # 32: more moves in 8 epochs
    "SimulatedAnnealing": (dict(batch_size=32), 8, 0.68),
    "HSICBottleneck": (dict(batch_size=32, learning_rate=3e-3), 8, 0.80),
    "BPTT": ({}, 4, 0.80),
    "RTRL": (dict(hidden_layer_sizes=(16,)), 4, 0.70),  # J=16: RTRL costs O(J^4) per step
    "UORO": ({}, 8, 0.60),
    "Recirculation": ({}, 8, 0.75),
    "GeneRec": (dict(learning_rate=1e-3), 4, 0.65),  # 4 epochs: the faster rate (as CHL)
    "RBM": ({}, 8, 0.72),
    "WakeSleep": ({}, 8, 0.50),
    "SigProp": ({}, 8, 0.82),
}


def test_fast_table_covers_every_family():
    assert set(FAST) == set(FAMILIES)


@pytest.mark.parametrize("name", sorted(FAST))
def test_learns_small_digits(name, small_digits):
    Xtr, Xte, ytr, yte = small_digits
    params, epochs, bound = FAST[name]
    one_layer = len(FAMILIES[name]._all_params["hidden_layer_sizes"]) == 1
    width = (64,) if one_layer else (64, 64)
    est = FAMILIES[name](**{"hidden_layer_sizes": width, **params}, max_iter=epochs,
                         random_state=0)
    est.fit(Xtr, ytr)
    assert est.score(Xte, yte) >= bound


# issue 5 targets (test accuracy on the fixed split), for the families that meet them
SLOW_TARGETS = {
    "Backprop": 0.97,
    **dict.fromkeys(["FeedbackAlignment", "DirectFeedbackAlignment", "SignSymmetry",
                     "KolenPollack", "LearnedFeedback", "DifferenceTargetPropagation",
                     "PredictiveCoding", "EquilibriumPropagation", "ForwardForward",
                     "LocalLosses"], 0.93),
    **dict.fromkeys(["NodePerturbation", "WeightPerturbation", "Reinforce"], 0.85),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_TARGETS))
def test_issue_target_on_full_digits(name, digits):
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "experiments", "compare_families.py")
    spec = importlib.util.spec_from_file_location("compare_families", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    params, epochs = mod.CONFIGS[name]
    Xtr, Xte, ytr, yte = digits
    est = FAMILIES[name](**params, max_iter=epochs, random_state=0).fit(Xtr, ytr)
    assert est.score(Xte, yte) >= SLOW_TARGETS[name]
