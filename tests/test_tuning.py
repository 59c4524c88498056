"""lessons_lib.training.tuning: grid, samplers, cross-validation (checked against scikit-learn) and search."""

import math

import numpy as np
import pytest
from scipy import stats

from lessons_lib.data.splits import kfold
from lessons_lib.training.tuning import choice, cross_validate, grid, int_uniform, log_uniform, random_configs, search, uniform


def test_grid_is_the_cartesian_product():
    space = {"lr": [0.1, 0.01], "batch": [16, 64, 256], "act": ["relu", "tanh"]}
    g = grid(space)
    assert len(g) == 2 * 3 * 2
    assert {tuple(c.values()) for c in g} == {(a, b, c) for a in space["lr"] for b in space["batch"] for c in space["act"]}
    assert g[0] == {"lr": 0.1, "batch": 16, "act": "relu"} and g[1]["act"] == "tanh"  # last name varies fastest
    assert grid({"x": [1]}) == [{"x": 1}]


@pytest.mark.parametrize("space, text", [({}, "empty"), ({"a": []}, "empty"), ({"a": "abc"}, "list"), ([1], "dict")])
def test_grid_errors(space, text):
    with pytest.raises(ValueError, match=text):
        grid(space)


def test_samplers_stay_in_range_and_are_uniform():
    rng = np.random.default_rng(0)
    u = np.array([uniform(-2, 3)(rng) for _ in range(4000)])
    assert u.min() >= -2 and u.max() < 3
    assert stats.kstest(u, stats.uniform(-2, 5).cdf).pvalue > 1e-3
    ints = np.array([int_uniform(3, 7)(rng) for _ in range(5000)])
    counts = np.bincount(ints, minlength=8)[3:]
    assert ints.min() == 3 and ints.max() == 7 and len(counts) == 5  # both ends included
    assert stats.chisquare(counts).pvalue > 1e-3
    picks = [choice(["a", "b", "c"])(rng) for _ in range(3000)]
    assert stats.chisquare([picks.count(x) for x in "abc"]).pvalue > 1e-3


def test_log_uniform_is_uniform_in_the_logarithm():
    rng = np.random.default_rng(1)
    x = np.array([log_uniform(1e-4, 1e-1)(rng) for _ in range(5000)])
    assert x.min() >= 1e-4 and x.max() < 1e-1
    assert stats.kstest(np.log10(x), stats.uniform(-4, 3).cdf).pvalue > 1e-3
    # each decade gets about a third of the draws; a plain uniform draw would put ~90 % in the last one
    decades = np.histogram(np.log10(x), bins=[-4, -3, -2, -1])[0] / len(x)
    assert np.allclose(decades, 1 / 3, atol=0.03)
    assert stats.kstest(x, stats.uniform(1e-4, 1e-1 - 1e-4).cdf).pvalue < 1e-6


def test_random_configs_reproducible_with_a_seeded_rng():
    space = {"lr": log_uniform(1e-4, 1e-1), "hidden": int_uniform(16, 128), "opt": choice(["sgd", "adam"]), "p": uniform(0, 0.5)}
    a = random_configs(space, 10, np.random.default_rng(7))
    b = random_configs(space, 10, np.random.default_rng(7))
    c = random_configs(space, 10, np.random.default_rng(8))
    assert a == b and a != c and len(a) == 10 and set(a[0]) == set(space)


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda: uniform(1, 1), "lo < hi"),
        (lambda: uniform(2, 1), "lo < hi"),
        (lambda: log_uniform(0, 1), "0 < lo"),
        (lambda: log_uniform(-1, 1), "0 < lo"),
        (lambda: log_uniform(1, 0.1), "lo < hi"),
        (lambda: int_uniform(5, 5), "lo < hi"),
        (lambda: int_uniform(1.5, 3), "integers"),
        (lambda: choice([]), "non-empty"),
        (lambda: uniform(0, math.inf), "finite"),
    ],
)
def test_sampler_errors(make, text):
    with pytest.raises(ValueError, match=text):
        make()


def test_random_configs_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="empty"):
        random_configs({}, 3, rng)
    with pytest.raises(ValueError, match="sampler"):
        random_configs({"lr": [0.1, 0.01]}, 3, rng)
    with pytest.raises(ValueError, match="positive"):
        random_configs({"lr": uniform(0, 1)}, 0, rng)
    with pytest.raises(ValueError, match="Generator"):
        random_configs({"lr": uniform(0, 1)}, 2, 0)


def _logreg_fn(config, X_train, y_train, X_val, y_val):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=config["C"], max_iter=2000).fit(X_train, y_train)
    return model.score(X_val, y_val)


def _data():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_cross_validate_matches_sklearn_cross_val_score_on_the_same_folds():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    X, y = _data()
    for C in (0.01, 1.0):
        res = cross_validate(_logreg_fn, X, y, {"C": C}, k=5, rng=np.random.default_rng(3))
        folds = list(kfold(len(X), 5, rng=np.random.default_rng(3)))
        ref = cross_val_score(LogisticRegression(C=C, max_iter=2000), X, y, cv=folds)
        np.testing.assert_allclose(res.scores, ref, rtol=1e-12)
        assert res.mean == pytest.approx(ref.mean()) and res.std == pytest.approx(ref.std())
        assert len(res.scores) == 5


def test_search_sorts_best_first_on_shared_folds():
    X, y = _data()
    configs = grid({"C": [1e-4, 1e-2, 1.0]})
    trials = search(_logreg_fn, configs, X, y, k=4, rng=np.random.default_rng(0))
    means = [t.mean for t in trials]
    assert means == sorted(means, reverse=True)
    assert {t.config["C"] for t in trials} == {1e-4, 1e-2, 1.0}
    assert trials[-1].config["C"] == 1e-4  # far too much regularization
    # each trial's scores equal a separate cross_validate on the same folds
    again = cross_validate(_logreg_fn, X, y, trials[0].config, k=4, rng=np.random.default_rng(0))
    assert again.scores == trials[0].scores


def test_search_puts_diverged_runs_last_and_keeps_ties_in_order():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    scores = {"a": 0.5, "b": float("nan"), "c": 0.9, "d": 0.5}

    def fn(config, *_):
        return scores[config["name"]]

    order = [t.config["name"] for t in search(fn, [{"name": n} for n in "abcd"], X, y, k=2)]
    assert order == ["c", "a", "d", "b"]


def test_cv_errors():
    X, y = np.zeros((10, 2)), np.zeros(10)
    fn = lambda config, *a: 0.0  # noqa: E731
    for k in (1, 11, 2.5, True):
        with pytest.raises(ValueError, match="between 2"):
            cross_validate(fn, X, y, {}, k=k)
    with pytest.raises(ValueError, match="rows"):
        cross_validate(fn, X, y[:5], {}, k=2)
    with pytest.raises(ValueError, match="empty"):
        search(fn, [], X, y, k=2)
