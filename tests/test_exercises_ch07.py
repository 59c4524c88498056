"""The Chapter 7 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import math

import numpy as np
import pytest

from lessons_lib.data.splits import batches
from lessons_lib.notebook.checking import FAILED, PASSED
from lessons_lib.notebook.exercises.ch07 import (
    _EPOCH_CASES,
    check_gd_step,
    check_iterations_per_epoch,
    gd_step_reference,
    iterations_per_epoch_reference,
)

# ----------------------------------------------------------------------------------------------- gd step


def test_gd_step_reference_and_a_loop_version_pass():
    assert check_gd_step(gd_step_reference).passed

    def with_loops(X, y, w, b, lr):
        n, d = X.shape
        residual = [y[i] - (sum(X[i, j] * w[j] for j in range(d)) + b) for i in range(n)]
        dw = [-2 / n * sum(X[i, j] * residual[i] for i in range(n)) for j in range(d)]
        db = -2 / n * sum(residual)
        return [w[j] - lr * dw[j] for j in range(d)], b - lr * db

    result = check_gd_step(with_loops)
    assert result.status == PASSED, result


def test_gd_step_reference_decreases_the_loss():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    w, b = np.zeros(2), 0.0
    new_w, new_b = gd_step_reference(X, y, w, b, 0.1)
    assert np.mean((y - X @ new_w - new_b) ** 2) < np.mean((y - X @ w - b) ** 2)


def _grad(X, y, w, b):
    r = y - (X @ w + b)
    return -2 / len(y) * X.T @ r, -2 / len(y) * r.sum()


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda X, y, w, b, lr: tuple(p + lr * g for p, g in zip((w, b), _grad(X, y, w, b))), "stepped uphill"),
        (lambda X, y, w, b, lr: tuple(p - g for p, g in zip((w, b), _grad(X, y, w, b))), "learning rate is missing"),
        (lambda X, y, w, b, lr: tuple(p - lr * g / 2 for p, g in zip((w, b), _grad(X, y, w, b))), "factor 2"),
        (lambda X, y, w, b, lr: tuple(p - lr * len(y) * g for p, g in zip((w, b), _grad(X, y, w, b))), "divide"),
        (lambda X, y, w, b, lr: (w - lr * _grad(X, y, w, b)[0], b), "update the bias too"),
        (lambda X, y, w, b, lr: _grad(X, y, w, b), "you returned the gradient"),
        (lambda X, y, w, b, lr: w - lr * _grad(X, y, w, b)[0], "return two things"),
    ],
)
def test_gd_step_mistakes_are_diagnosed(wrong, diagnosis):
    result = check_gd_step(wrong)
    assert result.status == FAILED
    assert diagnosis in result.message, result.message


def test_gd_step_bias_from_updated_weights_is_diagnosed():
    def sequential(X, y, w, b, lr):
        new_w = w - lr * _grad(X, y, w, b)[0]
        return new_w, b - lr * _grad(X, y, new_w, b)[1]  # the bias gradient uses the NEW weights

    result = check_gd_step(sequential)
    assert result.status == FAILED
    assert "OLD w and b" in result.message and "new_b" in result.message


# ------------------------------------------------------------------------------------ iterations per epoch


def test_iterations_reference_matches_batches():
    for case in _EPOCH_CASES:
        counted = len(list(batches(case["n"], case["batch_size"], drop_last=case["drop_last"])))
        assert iterations_per_epoch_reference(**case) == counted, case
    assert iterations_per_epoch_reference(10_000, 100) == 100


def test_iterations_reference_and_float_ceil_pass():
    assert check_iterations_per_epoch(iterations_per_epoch_reference).passed

    def with_numpy(n, batch_size, drop_last=False):
        return np.floor(n / batch_size) if drop_last else np.ceil(n / batch_size)

    assert check_iterations_per_epoch(with_numpy).status == PASSED


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda n, batch_size, drop_last=False: n // batch_size, "math.ceil"),
        (lambda n, batch_size, drop_last=False: n // batch_size + 1, "no leftover batch"),
        (lambda n, batch_size, drop_last=False: n / batch_size, "whole number"),
        (lambda n, batch_size, drop_last=False: math.ceil(n / batch_size), "drop_last=True"),
        (lambda n, batch_size, drop_last=False: n, "not one sample"),
    ],
)
def test_iterations_mistakes_are_diagnosed(wrong, diagnosis):
    result = check_iterations_per_epoch(wrong)
    assert result.status == FAILED
    assert diagnosis in result.message, result.message
