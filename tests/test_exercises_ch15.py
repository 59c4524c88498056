"""The Chapter 15 checker: the reference passes, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import pytest
import sklearn.metrics as skm

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch15 import _cases, check_precision_recall_f1, precision_recall_f1_reference


def _counts(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    fp = int(np.sum((y_true == 0) & (y_pred == 1)))
    fn = int(np.sum((y_true == 1) & (y_pred == 0)))
    return tp, fp, fn


def _safe(a, b):
    return a / b if b else 0.0


def test_reference_matches_sklearn_on_every_case():
    for case in _cases():
        got = precision_recall_f1_reference(**case)
        y, p = case["y_true"], case["y_pred"]
        want = (skm.precision_score(y, p, zero_division=0.0), skm.recall_score(y, p, zero_division=0.0),
                skm.f1_score(y, p, zero_division=0.0))
        assert np.allclose(got, want), case


def test_reference_and_a_count_based_solution_pass():
    assert check_precision_recall_f1(precision_recall_f1_reference).status == PASSED

    def by_counts(y_true, y_pred):
        tp, fp, fn = _counts(y_true, y_pred)
        return _safe(tp, tp + fp), _safe(tp, tp + fn), _safe(2 * tp, 2 * tp + fp + fn)

    assert check_precision_recall_f1(by_counts).passed


def test_swapped_fp_and_fn_is_diagnosed():
    def swapped(y_true, y_pred):
        tp, fp, fn = _counts(y_true, y_pred)
        return _safe(tp, tp + fn), _safe(tp, tp + fp), _safe(2 * tp, 2 * tp + fp + fn)

    result = check_precision_recall_f1(swapped)
    assert result.status == FAILED
    assert "swapped" in result.message and "TP / (TP + FP)" in result.message


def test_arithmetic_mean_is_diagnosed():
    def arithmetic(y_true, y_pred):
        tp, fp, fn = _counts(y_true, y_pred)
        p, r = _safe(tp, tp + fp), _safe(tp, tp + fn)
        return p, r, (p + r) / 2

    result = check_precision_recall_f1(arithmetic)
    assert result.status == FAILED and "harmonic mean" in result.message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_for_zero_denominator_is_diagnosed():
    def numpy_nan(y_true, y_pred):
        tp, fp, fn = (np.float64(c) for c in _counts(y_true, y_pred))
        p, r = tp / (tp + fp), tp / (tp + fn)   # 0/0 gives nan in NumPy
        return p, r, 2 * p * r / (p + r)

    result = check_precision_recall_f1(numpy_nan)
    assert result.status == FAILED
    assert "zero_division" in result.message and "no predicted positives" in result.message


def test_zero_division_error_is_reported_with_a_hint():
    def plain_division(y_true, y_pred):
        tp, fp, fn = _counts(y_true, y_pred)
        return tp / (tp + fp), tp / (tp + fn), 2 * tp / (2 * tp + fp + fn)

    result = check_precision_recall_f1(plain_division)
    assert result.status == ERROR
    assert "ZeroDivisionError" in result.message and "return 0.0" in result.message


def test_negative_class_as_positive_is_diagnosed():
    def class_zero(y_true, y_pred):
        return precision_recall_f1_reference(1 - np.asarray(y_true), 1 - np.asarray(y_pred))

    result = check_precision_recall_f1(class_zero)
    assert result.status == FAILED and "positive class is 1" in result.message
