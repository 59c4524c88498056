"""The Chapter 10 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import pytest
import torch

from lessons_lib.notebook.checking import FAILED, PASSED
from lessons_lib.notebook.exercises.ch10 import check_grad_of, check_manual_sgd_step, grad_of_reference, manual_sgd_step_reference

# ------------------------------------------------------------------------------------ manual SGD step


def test_sgd_reference_and_a_zero_grad_version_pass():
    assert check_manual_sgd_step(manual_sgd_step_reference).passed

    def with_zero_(w, b, x, y, lr):
        for p in (w, b):
            if p.grad is not None:
                p.grad.zero_()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(lr * w.grad)
            b.sub_(lr * b.grad)
        return w, b

    result = check_manual_sgd_step(with_zero_)
    assert result.status == PASSED, result


def test_sgd_reference_lowers_the_loss():
    torch.manual_seed(0)
    x, y = torch.randn(40, 2, dtype=torch.float64), torch.randn(40, dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    before = ((x @ w + b - y) ** 2).mean().item()
    manual_sgd_step_reference(w, b, x, y, 0.1)
    assert ((x @ w + b - y) ** 2).mean().item() < before


def _no_zeroing(w, b, x, y, lr):
    ((x @ w + b - y) ** 2).mean().backward()  # adds to the stale .grad
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    return w, b


def _recorded_update(w, b, x, y, lr):
    w.grad, b.grad = None, None
    ((x @ w + b - y) ** 2).mean().backward()
    return w - lr * w.grad, b - lr * b.grad  # outside no_grad: a graph is recorded


def _rebinding_under_no_grad(w, b, x, y, lr):
    w.grad, b.grad = None, None
    ((x @ w + b - y) ** 2).mean().backward()
    with torch.no_grad():
        w = w - lr * w.grad  # a new tensor without requires_grad
        b = b - lr * b.grad
    return w, b


def _uphill(w, b, x, y, lr):
    w.grad, b.grad = None, None
    ((x @ w + b - y) ** 2).mean().backward()
    with torch.no_grad():
        w += lr * w.grad
        b += lr * b.grad
    return w, b


def _sum_loss(w, b, x, y, lr):
    w.grad, b.grad = None, None
    ((x @ w + b - y) ** 2).sum().backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    return w, b


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (_no_zeroing, "BEFORE loss.backward()"),
        (_recorded_update, "carries a graph"),
        (_recorded_update, "torch.no_grad()"),
        (_rebinding_under_no_grad, "no longer requires grad"),
        (_rebinding_under_no_grad, "update in place"),
        (_uphill, "stepped uphill"),
        (_sum_loss, "MEAN"),
    ],
)
def test_sgd_mistakes_are_diagnosed(wrong, diagnosis):
    result = check_manual_sgd_step(wrong)
    assert result.status == FAILED
    assert diagnosis in result.message, result.message


# ------------------------------------------------------------------------------------------- grad of


def test_grad_of_reference_passes_and_matches_a_hand_derivative():
    assert check_grad_of(grad_of_reference).passed
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    assert torch.allclose(grad_of_reference(lambda t: (t**3).sum(), x), 3 * x.detach() ** 2)


def test_grad_of_on_a_detached_copy_passes():
    def on_a_copy(f, x):
        x2 = x.detach().clone().requires_grad_()
        f(x2).backward()
        return x2.grad

    assert check_grad_of(on_a_copy).status == PASSED


def _backward_on_x(f, x):
    f(x).backward()
    return x.grad.clone()


def _reset_then_backward(f, x):
    x.grad = None
    f(x).backward()
    return x.grad.clone()


def _value_not_gradient(f, x):
    return f(x).detach()


def _with_graph(f, x):
    return torch.autograd.grad(f(x), x, create_graph=True)[0]


@pytest.mark.parametrize(
    "wrong, diagnosis",
    [
        (_backward_on_x, "leftover .grad"),
        (_reset_then_backward, "x.grad was changed"),
        (_value_not_gradient, "single number"),
        (_with_graph, "still carries a graph"),
    ],
)
def test_grad_of_mistakes_are_diagnosed(wrong, diagnosis):
    result = check_grad_of(wrong)
    assert result.status == FAILED
    assert diagnosis in result.message, result.message
