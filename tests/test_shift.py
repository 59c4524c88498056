"""The dataset-shift detectors and the label-shift correction (appendix J)."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from lessons_lib.functional.shift import (
    domain_classifier_auc,
    ks_statistic,
    ks_test,
    label_shift_weights,
    mmd_permutation_test,
    reweight_probabilities,
)


def gaussians(shift, n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, d)) + shift


def test_domain_classifier_sees_a_mean_shift_and_not_a_random_split():
    A, B = gaussians(0.0)
    assert abs(domain_classifier_auc(A, B) - 0.5) < 0.08
    A, B = gaussians(np.array([1.0, 0, 0, 0, 0]))
    assert domain_classifier_auc(A, B) > 0.7


def test_domain_classifier_accepts_another_classifier_and_checks_folds():
    from sklearn.linear_model import LogisticRegression

    A, B = gaussians(1.0)
    assert domain_classifier_auc(A, B, classifier=LogisticRegression()) > 0.9
    with pytest.raises(ValueError, match="folds"):
        domain_classifier_auc(A, B, folds=1)
    with pytest.raises(ValueError, match="features"):
        domain_classifier_auc(A, B[:, :3])


@pytest.mark.parametrize("seed", range(5))
def test_ks_statistic_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=37), rng.normal(0.3, 1.2, size=51)
    if seed == 3:  # ties
        a, b = np.round(a), np.round(b)
    assert ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)


def test_ks_test_bonferroni_and_constant_features():
    A, B = gaussians(0.0, d=4)
    A[:, 0] = B[:, 0] = 0.0                              # a blank pixel
    result = ks_test(A, B)
    assert result.p_values[0] == 1.0 and result.statistics[0] == 0.0
    assert result.p_value == pytest.approx(min(1.0, 4 * result.p_values.min()))
    assert not result.shifted
    A, B = gaussians(np.array([0.0, 0.0, 0.0, 0.5]), d=4)
    assert ks_test(A, B).shifted and ks_test(A, B).p_value < 1e-3
    with pytest.raises(ValueError, match="alpha"):
        ks_test(A, B, alpha=2)


def test_mmd_permutation_test():
    A, B = gaussians(0.0, n=100)
    quiet = mmd_permutation_test(A, B, n_permutations=99)
    assert quiet.p_value > 0.05 and abs(quiet.mmd2) < 0.05
    A, B = gaussians(0.5, n=100)
    loud = mmd_permutation_test(A, B, n_permutations=99)
    assert loud.p_value == pytest.approx(0.01) and loud.mmd2 > 0.05 and loud.bandwidth > 0
    with pytest.raises(ValueError, match="bandwidth"):
        mmd_permutation_test(A, B, bandwidth=0.0)


def test_mmd_is_unbiased_formula():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(6, 2)), rng.normal(size=(7, 2))
    h = 0.8
    k = lambda x, y: np.exp(-np.sum((x - y) ** 2) / (2 * h * h))  # noqa: E731
    xx = np.mean([k(A[i], A[j]) for i in range(6) for j in range(6) if i != j])
    yy = np.mean([k(B[i], B[j]) for i in range(7) for j in range(7) if i != j])
    xy = np.mean([k(a, b) for a in A for b in B])
    assert mmd_permutation_test(A, B, bandwidth=h, n_permutations=1).mmd2 == pytest.approx(xx + yy - 2 * xy)


def test_label_shift_weights_recover_the_prior_ratio():
    rng = np.random.default_rng(0)
    n_classes, p = 3, np.array([1 / 3, 1 / 3, 1 / 3])
    q = np.array([0.6, 0.3, 0.1])
    confusion = np.array([[0.8, 0.1, 0.1], [0.15, 0.7, 0.15], [0.1, 0.2, 0.7]])  # P(pred | y), rows are y

    def sample(prior, n):
        y = rng.choice(n_classes, size=n, p=prior)
        pred = np.array([rng.choice(n_classes, p=confusion[c]) for c in y])
        return y, pred

    y_s, pred_s = sample(p, 20000)
    _, pred_t = sample(q, 20000)
    w = label_shift_weights(y_s, pred_s, pred_t, n_classes)
    assert np.allclose(w, q / p, atol=0.08)
    naive = np.bincount(pred_t, minlength=3) / np.bincount(pred_s, minlength=3)
    assert np.abs(naive - q / p).max() > 3 * np.abs(w - q / p).max()  # the confusion matrix matters


def test_label_shift_weights_errors():
    with pytest.raises(ValueError, match="singular"):
        label_shift_weights(np.array([0, 0, 1]), np.array([0, 0, 0]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="outside"):
        label_shift_weights(np.array([0, 3]), np.array([0, 1]), np.array([0]), 2)
    with pytest.raises(ValueError, match="integer"):
        label_shift_weights(np.array([0.0, 1.0]), np.array([0, 1]), np.array([0]), 2)


def test_reweight_probabilities():
    P = np.array([[0.5, 0.5], [0.9, 0.1], [0.0, 1.0]])
    Q = reweight_probabilities(P, np.array([3.0, 1.0]))
    assert np.allclose(Q[0], [0.75, 0.25]) and np.allclose(Q.sum(1), 1.0) and np.allclose(Q[2], [0, 1])
    assert np.allclose(reweight_probabilities(P, np.ones(2)), P)
    with pytest.raises(ValueError, match="weights"):
        reweight_probabilities(P, np.array([1.0, -1.0]))
