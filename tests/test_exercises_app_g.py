"""The Appendix G checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_g import (
    check_ensemble_variance,
    check_hard_vote,
    ensemble_variance_reference,
    hard_vote_reference,
)

# ---------------------------------------------------------------------------------------------- hard vote


def test_hard_vote_reference_breaks_ties_to_the_smallest_label():
    labels = np.array([[0, 4, 2], [1, 2, 2], [1, 4, 0], [0, 2, 1]])
    assert hard_vote_reference(labels, 5).tolist() == [0, 2, 2]


def test_hard_vote_correct_answers_pass():
    assert check_hard_vote(hard_vote_reference).status == PASSED

    def with_bincount(labels, n_classes):
        return np.array([np.bincount(col, minlength=n_classes).argmax() for col in np.asarray(labels).T])

    def with_torch(labels, n_classes):
        one_hot = torch.nn.functional.one_hot(torch.as_tensor(labels), n_classes)   # (M, N, classes)
        return one_hot.sum(0).argmax(1)                                              # torch also takes the first max

    assert check_hard_vote(with_bincount).passed
    assert check_hard_vote(with_torch).passed


def test_hard_vote_ties_to_largest_label_is_diagnosed():
    def largest(labels, n_classes):
        counts = np.stack([(np.asarray(labels) == k).sum(0) for k in range(n_classes)])
        return n_classes - 1 - counts[::-1].argmax(0)

    result = check_hard_vote(largest)
    assert result.status == FAILED and "smallest tied label" in result.message


def test_hard_vote_wrong_axis_is_diagnosed():
    result = check_hard_vote(lambda labels, n_classes: np.array([np.bincount(r, minlength=n_classes).argmax()
                                                                  for r in labels]))
    assert result.status == FAILED and "axis 0" in result.message


def test_hard_vote_mean_of_labels_is_diagnosed():
    result = check_hard_vote(lambda labels, n_classes: np.rint(np.mean(labels, axis=0)))
    assert result.status == FAILED and "averaging the label numbers" in result.message


def test_hard_vote_first_member_is_diagnosed():
    result = check_hard_vote(lambda labels, n_classes: labels[0])
    assert result.status == FAILED and "first member" in result.message


def test_hard_vote_stub_and_crash_are_reported():
    def stub(labels, n_classes):
        raise NotImplementedError

    assert check_hard_vote(stub).status == NOT_ATTEMPTED
    assert check_hard_vote(lambda labels, n_classes: 1 / 0).status == ERROR
    assert check_hard_vote(lambda labels, n_classes: "abc").status == FAILED


# ---------------------------------------------------------------------------------------------- variance


def test_variance_reference_equals_monte_carlo():
    rng = np.random.default_rng(0)
    sigma2, rho, M = 2.0, 0.3, 5
    cov = sigma2 * (rho * np.ones((M, M)) + (1 - rho) * np.eye(M))
    draws = rng.multivariate_normal(np.zeros(M), cov, size=200_000)          # (draws, M)
    assert np.isclose(draws.mean(1).var(), ensemble_variance_reference(sigma2, rho, M), rtol=0.02)


def test_variance_correct_answers_pass():
    assert check_ensemble_variance(ensemble_variance_reference).status == PASSED
    assert check_ensemble_variance(lambda sigma2, rho, M: sigma2 * (1 + (M - 1) * rho) / M).passed
    assert check_ensemble_variance(lambda sigma2, rho, M: np.float32(rho * sigma2 + (1 - rho) * sigma2 / M)).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda sigma2, rho, M: sigma2 / M, "uncorrelated members"),
    (lambda sigma2, rho, M: rho * sigma2, "still shrinks with M"),
    (lambda sigma2, rho, M: (1 - rho) * sigma2 + rho * sigma2 / M, "swapped"),
    (lambda sigma2, rho, M: rho + (1 - rho) * sigma2 / M, "proportional to sigma2"),
])
def test_variance_slips_are_diagnosed(wrong, words):
    result = check_ensemble_variance(wrong)
    assert result.status == FAILED and words in result.message


def test_variance_stub_is_not_attempted():
    def stub(sigma2, rho, M):
        raise NotImplementedError

    assert check_ensemble_variance(stub).status == NOT_ATTEMPTED
    assert check_ensemble_variance(lambda sigma2, rho, M: None).status == FAILED
