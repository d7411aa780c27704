"""Every registered family: scikit-learn contract, bad input, determinism, metadata."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

from neuromorph.models.rate import CHECKLIST_COLUMNS, Family, registry

FAMILIES = registry()

# Small networks so the ~55 scikit-learn checks stay affordable; epochs chosen so that
# check_classifiers_train's accuracy bar (0.83 on 3 Gaussian blobs) is met.
FAST = dict(hidden_layer_sizes=(16,), max_iter=15, batch_size=16, learning_rate=1e-2)


def fast(cls, **kw):
    return cls(**{**FAST, **kw})


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_check_estimator(name):
    """The full scikit-learn suite, no expected failures. scikit-learn itself skips two
    checks here: check_array_api_input (SCIPY_ARRAY_API unset) and
    check_classifier_data_not_an_array's pandas part (pandas not installed)."""
    check_estimator(fast(FAMILIES[name], random_state=0))


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_metadata(name):
    cls = FAMILIES[name]
    assert cls.family in Family.ALL
    d = cls.describe()
    assert set(CHECKLIST_COLUMNS) <= set(d["checklist"])
    assert cls.algorithm and cls.spec_section
    assert cls.__doc__ and "=" in cls.__doc__  # docstrings state the equations


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_same_seed_bit_identical(name, toy_batch):
    X, y, _ = toy_batch
    a = fast(FAMILIES[name], random_state=7, max_iter=2).fit(X, y)
    b = fast(FAMILIES[name], random_state=7, max_iter=2).fit(X, y)
    assert np.array_equal(a.decision_scores(X), b.decision_scores(X))
    timeless = [{k: v for k, v in m.history_.items() if k != "wall_s"} for m in (a, b)]
    assert timeless[0] == timeless[1]                       # wall_s: clock times differ
    assert len(a.history_["loss"]) == len(a.history_["wall_s"]) == 2
    assert len(a.history_["accuracy"]) == 2


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_partial_fit_continues_fit(name, toy_batch):
    X, y, _ = toy_batch
    a = fast(FAMILIES[name], random_state=1, max_iter=2).fit(X, y)
    b = fast(FAMILIES[name], random_state=1, max_iter=2)
    b.partial_fit(X, y).partial_fit(X, y)
    assert np.array_equal(a.decision_scores(X), b.decision_scores(X))
    with pytest.raises(ValueError, match="not seen at fit time"):
        b.partial_fit(X, np.where(y == 0, 99, y))


BAD_PARAMS = [
    ("learning_rate", 0.0, "learning_rate"),
    ("learning_rate", -1e-3, "learning_rate"),
    ("batch_size", 0, "batch_size"),
    ("max_iter", 1.5, "max_iter"),
    ("hidden_layer_sizes", (4, 0), "hidden_layer_sizes"),
    ("activation", "swish", "activation"),
    ("optimizer", "rmsprop", "optimizer"),
]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_bad_hyperparameters_raise_before_work(name, toy_batch):
    X, y, _ = toy_batch
    for param, value, match in BAD_PARAMS:
        est = fast(FAMILIES[name], **{param: value})
        with pytest.raises((ValueError, TypeError), match=match):
            est.fit(X, y)
        assert not hasattr(est, "classes_")  # raised before any work


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_bad_data_raise(name, toy_batch):
    X, y, _ = toy_batch
    est = fast(FAMILIES[name], max_iter=1)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(Xn, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.fit(X, y[:-1])
    with pytest.raises(ValueError, match="2D array"):
        est.fit(X[:, 0], y)
    est.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="at least 2 classes"):
        clone(est).fit(X, np.zeros(len(y)))


def test_registry_lists_unique_families_in_survey_order():
    order = [Family.ALL.index(c.family) for c in FAMILIES.values()]
    assert order == sorted(order)
    assert "Backprop" in FAMILIES
