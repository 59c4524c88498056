"""The Chapter 5 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import torch
import torch.nn.functional as F

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch05 import (
    bce_reference,
    check_bce,
    check_cross_entropy,
    check_huber,
    cross_entropy_reference,
    huber_reference,
)

# --------------------------------------------------------------------------------------------------- BCE


def _bce(p, y, eps=1e-12):
    p = np.clip(p, eps, 1 - eps)
    return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_bce_reference_matches_torch_and_passes():
    rng = np.random.default_rng(0)
    p, y = rng.uniform(0.01, 0.99, 20), rng.integers(0, 2, 20).astype(float)
    expected = F.binary_cross_entropy(torch.tensor(p), torch.tensor(y)).item()
    assert np.isclose(bce_reference(p, y), expected)
    assert check_bce(bce_reference).passed
    result = check_bce(_bce)
    assert result.status == PASSED, result
    assert "large finite loss" in result.message


def test_bce_other_clipping_and_torch_pass():
    assert check_bce(lambda p, y: _bce(p, y, eps=1e-7)).passed
    assert check_bce(lambda p, y: F.binary_cross_entropy(torch.tensor(p), torch.tensor(y)).item()).passed


def test_bce_without_clipping_is_diagnosed():
    result = check_bce(lambda p, y: np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    assert result.status == FAILED
    assert "clip p" in result.message and "nan" in result.message


def test_bce_misplaced_bracket_is_diagnosed():
    def bracket(p, y):
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return np.mean(-y * np.log(p) + (1 - y) * np.log(1 - p))

    result = check_bce(bracket)
    assert result.status == FAILED
    assert "minus sign must cover both terms" in result.message


def test_bce_sign_sum_swap_and_missing_term_are_diagnosed():
    result = check_bce(lambda p, y: -_bce(p, y))
    assert result.status == FAILED and "needs a minus sign" in result.message
    result = check_bce(lambda p, y: _bce(p, y) * np.size(p))
    assert result.status == FAILED and "that is the sum" in result.message
    result = check_bce(lambda p, y: _bce(p, 1 - y))
    assert result.status == FAILED and "swapped" in result.message
    result = check_bce(lambda p, y: np.mean(-y * np.log(np.clip(p, 1e-12, 1))))
    assert result.status == FAILED and "(1 - y) log(1 - p) term is missing" in result.message


def test_bce_per_entry_and_log10_are_diagnosed():
    result = check_bce(lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)))
    assert result.status == FAILED and "not one loss per entry" in result.message
    result = check_bce(lambda p, y: np.mean(-(y * np.log10(p) + (1 - y) * np.log10(1 - p))))
    assert result.status == FAILED and "natural logarithm" in result.message


def test_bce_coarse_clipping_is_rejected():
    result = check_bce(lambda p, y: _bce(p, y, eps=0.005))
    assert result.status == FAILED
    assert "certain and right" in result.message and "tiny eps" in result.message

    def one_sided(p, y, eps=0.01):  # clips only the arguments of the logs: right answers still cost 0
        return np.mean(-(y * np.log(np.maximum(p, eps)) + (1 - y) * np.log(np.maximum(1 - p, eps))))

    result = check_bce(one_sided)
    assert result.status == FAILED
    assert "certain and wrong" in result.message and "large eps" in result.message


def test_bce_crash_is_reported():
    result = check_bce(lambda p, y: p.no_such_method())
    assert result.status == ERROR and "AttributeError" in result.message


# ------------------------------------------------------------------------------------------------- Huber


def _huber(y_pred, y_true, delta):
    e = np.abs(y_pred - y_true)
    return np.mean(np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)))


def test_huber_reference_matches_torch_and_passes():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 3, 30), rng.normal(0, 3, 30)
    for delta in (0.5, 1.0, 2.5):
        expected = F.huber_loss(torch.tensor(a), torch.tensor(b), delta=delta).item()
        assert np.isclose(huber_reference(a, b, delta), expected)
    assert check_huber(huber_reference).passed
    assert check_huber(_huber).status == PASSED


def test_huber_quadratic_everywhere_is_diagnosed():
    result = check_huber(lambda y_pred, y_true, delta: np.mean(0.5 * (y_pred - y_true) ** 2))
    assert result.status == FAILED
    assert "grow linearly" in result.message


def test_huber_discontinuous_linear_piece_is_diagnosed():
    def no_offset(y_pred, y_true, delta):
        e = np.abs(y_pred - y_true)
        return np.mean(np.where(e <= delta, 0.5 * e**2, delta * e))

    result = check_huber(no_offset)
    assert result.status == FAILED
    assert "does not meet the quadratic piece" in result.message


def test_huber_missing_half_swapped_smoothl1_and_fixed_delta_are_diagnosed():
    def no_half(y_pred, y_true, delta):
        e = np.abs(y_pred - y_true)
        return np.mean(np.where(e <= delta, e**2, delta * (e - 0.5 * delta)))

    result = check_huber(no_half)
    assert result.status == FAILED and "0.5 e^2" in result.message

    def swapped(y_pred, y_true, delta):
        e = np.abs(y_pred - y_true)
        return np.mean(np.where(e <= delta, delta * (e - 0.5 * delta), 0.5 * e**2))

    result = check_huber(swapped)
    assert result.status == FAILED and "pieces are swapped" in result.message

    def smooth_l1(y_pred, y_true, delta):
        return F.smooth_l1_loss(torch.tensor(y_pred), torch.tensor(y_true), beta=delta).item()

    result = check_huber(smooth_l1)
    assert result.status == FAILED and "SmoothL1" in result.message

    result = check_huber(lambda y_pred, y_true, delta: _huber(y_pred, y_true, 1.0))
    assert result.status == FAILED and "use the delta argument" in result.message


# ----------------------------------------------------------------------------------------- cross-entropy


def _ce(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return np.mean(-logp[np.arange(len(labels)), labels])


def test_cross_entropy_reference_matches_torch_and_passes():
    rng = np.random.default_rng(2)
    z, t = rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    assert np.isclose(cross_entropy_reference(z, t), F.cross_entropy(torch.tensor(z), torch.tensor(t)).item())
    assert check_cross_entropy(cross_entropy_reference).passed
    assert check_cross_entropy(_ce).status == PASSED


def test_cross_entropy_overflow_is_diagnosed():
    def naive(logits, labels):
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return np.mean(-np.log(p[np.arange(len(labels)), labels]))

    result = check_cross_entropy(naive)
    assert result.status == FAILED
    assert "subtract each row's maximum" in result.message


def test_cross_entropy_common_slips_are_diagnosed():
    result = check_cross_entropy(lambda logits, labels: np.mean(-logits[np.arange(len(labels)), labels]))
    assert result.status == FAILED and "log sum_c exp" in result.message

    def per_sample(logits, labels):
        z = logits - logits.max(axis=1, keepdims=True)
        return -(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))[np.arange(len(labels)), labels]

    result = check_cross_entropy(per_sample)
    assert result.status == FAILED and "not one loss per sample" in result.message

    def columns(logits, labels):
        z = logits - logits.max(axis=0, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=0, keepdims=True))
        return np.mean(-logp[np.arange(len(labels)), labels])

    result = check_cross_entropy(columns)
    assert result.status == FAILED and "each row" in result.message

    result = check_cross_entropy(lambda logits, labels: _ce(logits, labels) * len(labels))
    assert result.status == FAILED and "that is the sum" in result.message
