"""Every rate family sound at its defaults (issue 15 §4).

``Family(random_state=s)`` with nothing else set, fitted on stratified digits splits
other than the compare report's fixed split (seed 0), must reach 90 % test accuracy.
The default run checks one split for the families whose defaults were retuned and fit in
a few seconds; the slow test checks every family on five splits (the table of
experiments/results/rate_defaults/results.md).
"""
import numpy as np
import pytest

from neuromorph.datasets import load_digits_split
from neuromorph.models.rate import registry

BAR = 0.90
# issue 19: derivative-free stochastic search is held to 80 %
BARS = {"HillClimbing": 0.80, "SimulatedAnnealing": 0.80}
SPLITS = (101, 102, 103, 104, 105)  # experiments/rate_defaults.py
FAST = ("Oja", "BCM", "CompetitiveKWTA", "WeightPerturbation", "PredictiveForwardForward",
        "TargetPropagation", "RewardModulatedHebbian", "HillClimbing",
        "SimulatedAnnealing")  # < ~8 s each


def _score(name, seed):
    Xtr, Xte, ytr, yte = load_digits_split(random_state=seed)
    return registry()[name](random_state=seed).fit(Xtr, ytr).score(Xte, yte)


@pytest.mark.parametrize("name", FAST)
def test_retuned_family_reaches_bar_at_defaults(name):
    assert _score(name, SPLITS[0]) >= BARS.get(name, BAR)


# every family reaches the bar at its defaults (TargetPropagation since its search,
# experiments/results/rate_defaults/target_propagation_search.md), except WakeSleep's
# concurrently trained readout (0.868 after a 54-configuration search,
# experiments/results/eb_families/wakesleep_search.md; a logistic-regression probe of
# its features reaches 0.922, experiments/results/eb_families/defaults.md)
_BELOW_BAR = {"WakeSleep"}


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason="below 90 % at defaults", strict=True))
    if n in _BELOW_BAR else n for n in sorted(registry())])
def test_every_family_reaches_bar_at_defaults_on_five_splits(name):
    scores = [_score(name, s) for s in SPLITS]
    bar = BARS.get(name, BAR)
    assert np.mean(scores) >= bar and min(scores) >= bar - 0.02, scores


def test_only_families_are_exported_as_families():
    """``__all__`` lists no abstract base: every exported estimator class is a registered,
    fully described family, and ``registry()`` holds nothing else."""
    import inspect

    import neuromorph.models.rate as rate
    from neuromorph.models.rate.base import RateClassifier

    exported = {n: getattr(rate, n) for n in rate.__all__}
    classes = {n: c for n, c in exported.items()
               if inspect.isclass(c) and issubclass(c, RateClassifier)}
    assert "RateClassifier" not in classes
    assert classes == registry()
    for cls in classes.values():
        assert cls.family is not None and cls.checklist is not None and cls.algorithm


def test_compare_runs_every_rate_family_at_its_defaults():
    """``neuromorph compare`` adds no hyperparameters and trains for ``max_iter`` epochs."""
    from neuromorph import compare

    for name, cls in registry().items():
        assert compare.budget(name, quick=False) == ({}, cls().max_iter, None), name
