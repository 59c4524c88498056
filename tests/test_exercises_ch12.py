"""The Chapter 12 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import FAILED, PASSED
from lessons_lib.notebook.exercises.ch12 import adam_step_reference, check_adam_step, check_momentum_step, momentum_step_reference

# ---------------------------------------------------------------------------------------------- momentum


def test_momentum_reference_passes_and_matches_torch():
    assert check_momentum_step(momentum_step_reference).status == PASSED
    rng = np.random.default_rng(0)
    theta0, grads = rng.normal(size=3), rng.normal(size=(5, 3))
    w = torch.tensor(theta0, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    theta, buf = theta0.copy(), np.zeros(3)
    for g in grads:
        w.grad = torch.tensor(g)
        opt.step()
        theta, buf = momentum_step_reference(theta, g, buf, 0.1, 0.9)
    np.testing.assert_allclose(theta, w.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (lambda theta, grad, buf, lr, momentum: (theta - lr * (grad + momentum * buf + grad), momentum * buf + grad),
         "not added to it"),
        (lambda theta, grad, buf, lr, momentum: (theta - lr * (momentum * buf + (1 - momentum) * grad),
                                                 momentum * buf + (1 - momentum) * grad), "EWMA form"),
        (lambda theta, grad, buf, lr, momentum: (theta - lr * buf, momentum * buf + grad), "NEW buffer"),
        (lambda theta, grad, buf, lr, momentum: (theta - lr * grad, momentum * buf + grad), "plain SGD"),
    ],
)
def test_momentum_wrong_versions_are_diagnosed(wrong, diagnosis):
    result = check_momentum_step(wrong)
    assert result.status == FAILED
    assert diagnosis in result.message, result.message


# -------------------------------------------------------------------------------------------------- adam


def test_adam_reference_passes_and_matches_torch():
    assert check_adam_step(adam_step_reference).status == PASSED
    rng = np.random.default_rng(1)
    theta0, grads = rng.normal(size=4), rng.normal(size=(6, 4))
    w = torch.tensor(theta0, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.05, betas=(0.8, 0.99), eps=1e-8)
    theta, m, v = theta0.copy(), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        w.grad = torch.tensor(g)
        opt.step()
        theta, m, v = adam_step_reference(theta, g, m, v, t, 0.05, 0.8, 0.99, 1e-8)
    np.testing.assert_allclose(theta, w.detach().numpy(), rtol=1e-10)


def _moments(grad, m, v, beta1, beta2):
    return beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad**2


def no_bias_correction(theta, grad, m, v, t, lr, beta1, beta2, eps):
    m, v = _moments(grad, m, v, beta1, beta2)
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def eps_inside(theta, grad, m, v, t, lr, beta1, beta2, eps):
    m, v = _moments(grad, m, v, beta1, beta2)
    return theta - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v


def raw_gradient(theta, grad, m, v, t, lr, beta1, beta2, eps):
    m, v = _moments(grad, m, v, beta1, beta2)
    return theta - lr * grad / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


def v_without_square(theta, grad, m, v, t, lr, beta1, beta2, eps):
    m, v = beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * np.abs(grad)
    return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (no_bias_correction, "bias correction is missing"),
        (eps_inside, "outside the square root"),
        (raw_gradient, "not the raw gradient"),
        (v_without_square, "gradient squared"),
    ],
)
def test_adam_wrong_versions_are_diagnosed(wrong, diagnosis):
    result = check_adam_step(wrong)
    assert result.status == FAILED
    assert diagnosis in result.message, result.message
