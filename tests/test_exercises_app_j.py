"""The appendix J checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from lessons_lib.functional.shift import ks_statistic, label_shift_weights
from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_j import bbse_variant, check_ks_statistic, check_label_shift_weights

# ------------------------------------------------------------------------------------------------ KS


def test_ks_correct_answers_pass():
    assert check_ks_statistic(ks_statistic).status == PASSED
    assert check_ks_statistic(lambda a, b: ks_2samp(a, b).statistic).passed

    def by_loop(a, b):  # a reader's plain version: both CDFs at every pooled point
        return max(abs(np.mean(a <= t) - np.mean(b <= t)) for t in np.concatenate([a, b]))

    assert check_ks_statistic(by_loop).passed


def test_ks_signed_gap_is_diagnosed():
    def signed(a, b):
        return max(np.mean(a <= t) - np.mean(b <= t) for t in np.concatenate([a, b]))

    result = check_ks_statistic(signed)
    assert result.status == FAILED and "ABSOLUTE gap" in result.message


def test_ks_points_of_one_sample_are_diagnosed():
    result = check_ks_statistic(lambda a, b: max(abs(np.mean(a <= t) - np.mean(b <= t)) for t in a))
    assert result.status == FAILED and "pooled sample" in result.message


def test_ks_unsorted_searchsorted_is_diagnosed():
    def unsorted(a, b):
        t = np.concatenate([a, b])
        return np.max(np.abs(np.searchsorted(a, t, side="right") / len(a) - np.searchsorted(b, t, side="right") / len(b)))

    result = check_ks_statistic(unsorted)
    assert result.status == FAILED and "sort a and b first" in result.message


def test_ks_strict_cdf_is_accepted():
    """Counting values < t at the pooled points gives the same supremum (the left limits of the step functions)."""
    assert check_ks_statistic(lambda a, b: max(abs(np.mean(a < t) - np.mean(b < t)) for t in np.concatenate([a, b]))).passed


def test_ks_one_sample_size_is_diagnosed():
    def same_n(a, b):
        return max(abs(np.sum(a <= t) - np.sum(b <= t)) / len(a) for t in np.concatenate([a, b]))

    result = check_ks_statistic(same_n)
    assert result.status == FAILED and "len(b)" in result.message


def test_ks_stub_crash_and_non_number():
    def stub(a, b):
        raise NotImplementedError

    assert check_ks_statistic(stub).status == NOT_ATTEMPTED
    result = check_ks_statistic(lambda a, b: a[5])
    assert result.status == ERROR and "IndexError" in result.message and "sample a of 3 values" in result.message
    result = check_ks_statistic(lambda a, b: np.abs(np.sort(a)[:2] - np.sort(b)[:2]))
    assert result.status == FAILED and "one number" in result.message


# ---------------------------------------------------------------------------------------------- BBSE


def bbse_reader(y_source, pred_source, pred_target, n_classes):
    """A reader's version written from the formula."""
    C = np.zeros((n_classes, n_classes))
    for p, y in zip(pred_source, y_source):
        C[p, y] += 1 / len(y_source)
    mu = np.array([np.mean(pred_target == i) for i in range(n_classes)])
    return np.clip(np.linalg.lstsq(C, mu, rcond=None)[0], 0, None)


def test_bbse_correct_answers_pass():
    assert check_label_shift_weights(label_shift_weights).status == PASSED
    assert check_label_shift_weights(bbse_reader).passed
    assert check_label_shift_weights(lambda **k: list(bbse_reader(**k))).passed


@pytest.mark.parametrize("kind, words", [("naive", "predicted-label frequencies"), ("conditional", "JOINT matrix"),
                                         ("transposed", "transposed")])
def test_bbse_slips_are_diagnosed(kind, words):
    result = check_label_shift_weights(lambda **k: bbse_variant(**k, kind=kind))
    assert result.status == FAILED and words in result.message, result.message


def test_bbse_missing_clip_is_diagnosed():
    result = check_label_shift_weights(lambda **k: bbse_variant(**k, clip=False))
    assert result.status == FAILED and "clip the solution at 0" in result.message


def test_bbse_shape_and_crash():
    result = check_label_shift_weights(lambda **k: label_shift_weights(**k)[:-1])
    assert result.status == FAILED and "one weight per class" in result.message
    result = check_label_shift_weights(lambda y_source, pred_source, pred_target, n_classes: np.linalg.inv(
        np.zeros((n_classes, n_classes))))
    assert result.status == ERROR and "LinAlgError" in result.message
