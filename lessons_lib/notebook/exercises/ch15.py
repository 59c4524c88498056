"""Checkers for the exercises of Chapter 15 (evaluation metrics).

- :func:`check_precision_recall_f1`: ``fn(y_true, y_pred)`` -> ``(precision, recall, f1)`` for 0/1 labels, 1 the
  positive class, with 0.0 for a ratio whose denominator is zero (scikit-learn's ``zero_division=0``).

The reference, :func:`precision_recall_f1_reference`, uses :mod:`lessons_lib.functional.metrics`; the tests check it against
``sklearn.metrics``. The hints recognise the usual mistakes: FP and FN swapped (precision and recall exchanged),
the arithmetic mean instead of the harmonic one, the negative class taken as positive, and a division by zero
when nothing is predicted positive or no sample is positive.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.functional.metrics import f1, precision, recall
from lessons_lib.notebook.checking import ERROR, CheckResult, compare

__all__ = ["check_precision_recall_f1", "precision_recall_f1_reference"]


def precision_recall_f1_reference(y_true, y_pred):
    """(precision, recall, F1) of the class 1, each 0.0 where its denominator is zero."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return (precision(y_true, y_pred, zero_division=0.0), recall(y_true, y_pred, zero_division=0.0),
            f1(y_true, y_pred, zero_division=0.0))


def _cases():
    rng = np.random.default_rng(15)
    cases = [{"y_true": np.array([1, 0, 1, 1, 0, 0, 0]), "y_pred": np.array([1, 1, 1, 0, 1, 1, 0])}]  # P 2/5, R 2/3
    for n, p_pos, flip in [(20, 0.5, 0.3), (50, 0.2, 0.25), (200, 0.1, 0.15), (37, 0.7, 0.4)]:
        y = (rng.random(n) < p_pos).astype(np.int64)
        y[:2] = [0, 1]  # both classes present
        pred = np.where(rng.random(n) < flip, 1 - y, y)
        pred[2:6] = [1, 1, 0, 1]  # an FP/FN pattern that separates precision from recall
        cases.append({"y_true": y, "y_pred": pred})
    cases += [
        {"y_true": np.array([1, 0, 0, 1, 0]), "y_pred": np.array([0, 0, 0, 0, 0])},   # no predicted positives
        {"y_true": np.array([0, 0, 0, 0]), "y_pred": np.array([0, 1, 0, 0])},        # no true positives in y_true
        {"y_true": np.array([0, 0, 0]), "y_pred": np.array([0, 0, 0])},              # no positives at all
        {"y_true": np.array([1, 0, 1]), "y_pred": np.array([0, 1, 0])},              # all wrong: P = R = 0
        {"y_true": np.array([1, 1, 0, 1]), "y_pred": np.array([1, 1, 0, 1])},        # perfect
    ]
    return cases


def _hint(case, got, expected):
    try:
        g = np.asarray(got, dtype=float).ravel()
    except (TypeError, ValueError):
        return "return a tuple of three floats: (precision, recall, f1)"
    if g.shape != (3,):
        return "return exactly three numbers, (precision, recall, f1), in that order"
    p, r, f = expected
    if np.isnan(g).any():
        return ("a ratio with a zero denominator must be 0.0 (zero_division=0): e.g. no predicted positives means "
                "TP + FP = 0, so return 0.0 for precision instead of dividing")
    y, yp = 1 - np.asarray(case["y_true"]), 1 - np.asarray(case["y_pred"])
    neg = precision_recall_f1_reference(y, yp)
    if np.allclose(g, neg) and not np.allclose(neg, expected):
        return "these are the scores of class 0; the positive class is 1 (TP: y_true == 1 and y_pred == 1)"
    if np.allclose(g[:2], [r, p]) and not np.isclose(p, r):
        return ("precision and recall are swapped: did you exchange FP and FN? Precision divides by the predicted "
                "positives, TP / (TP + FP); recall by the actual positives, TP / (TP + FN)")
    if np.allclose(g[:2], [p, r]) and np.isclose(g[2], (p + r) / 2) and not np.isclose(f, (p + r) / 2):
        return "F1 is the harmonic mean 2PR / (P + R), not the arithmetic mean (P + R) / 2"
    tp = int(np.sum((np.asarray(case["y_true"]) == 1) & (np.asarray(case["y_pred"]) == 1)))
    if tp == 0 and not np.isclose(g[2], 0.0):
        return "with TP = 0, precision, recall and F1 are all 0"
    return None


def check_precision_recall_f1(fn) -> CheckResult:
    """Check ``fn(y_true, y_pred)`` -> (precision, recall, f1) on random labels and edge cases (zero denominators)."""
    result = compare(fn, precision_recall_f1_reference, _cases(), name="precision, recall, F1", hints=[_hint])
    if result.status == ERROR and "ZeroDivisionError" in result.message:
        result.message += (". Hint: when a denominator is 0 (no predicted positives, or no actual positives) "
                           "return 0.0 for that ratio instead of dividing")
    return result
