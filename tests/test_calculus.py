"""Tests for lessons_lib.functional.calculus: against analytic derivatives, torch.autograd (float64) and its own
error analysis."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib.functional.calculus import Line, derivative, partial, tangent_line

X = np.linspace(-3.0, 3.0, 25)

# name -> (numpy f, analytic f', torch f)
FUNCTIONS = {
    "square": (lambda x: x**2, lambda x: 2 * x, lambda t: t**2),
    "cube": (lambda x: x**3, lambda x: 3 * x**2, lambda t: t**3),
    "sin": (np.sin, np.cos, torch.sin),
    "exp": (np.exp, np.exp, torch.exp),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, torch.sigmoid),
    "chain": (lambda x: (3 * x + 2) ** 4, lambda x: 12 * (3 * x + 2) ** 3, lambda t: (3 * t + 2) ** 4),
}


def cost(m, l):
    return 3 * m**2 + 2 * l**2 + 5 * m * l + 23


def autograd_derivative(f, x):
    """d f / d x at every entry of x, by torch.autograd in float64 (f elementwise, so grad of the sum)."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    f(t).sum().backward()
    return t.grad.numpy()


# ------------------------------------------------------------------------------------------- derivative


@pytest.mark.parametrize("name", FUNCTIONS)
def test_derivative_matches_analytic_and_autograd(name):
    f, df, f_torch = FUNCTIONS[name]
    numeric = derivative(f, X)
    exact = df(X)
    np.testing.assert_allclose(numeric, exact, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(autograd_derivative(f_torch, X), exact, rtol=1e-12, atol=1e-12)


def test_worked_examples():
    assert [round(derivative(lambda x: x**3, x), 6) for x in (1, 2, 3)] == [3, 12, 27]
    assert derivative(lambda x: x**2, 5.0) == pytest.approx(10.0, rel=1e-9)
    assert derivative(lambda x: (3 * x + 2) ** 4, 1.0) == pytest.approx(12 * 5**3, rel=1e-9)


def test_derivative_returns_the_input_kind_and_shape():
    assert isinstance(derivative(np.sin, 1.0), float)
    assert isinstance(derivative(np.sin, 1), float)  # an int point is fine
    grid = np.linspace(0, 1, 12).reshape(3, 4)
    assert derivative(np.sin, grid).shape == (3, 4)
    assert derivative(np.sin, [0.0, 1.0]).shape == (2,)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    out = derivative(torch.sin, t)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), np.cos([0.0, 1.0]), atol=1e-9)


def test_integer_tensors_become_float64():
    out = derivative(lambda t: t**2, torch.tensor([1, 2, 3]))
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), [2, 4, 6], atol=1e-8)


def test_autograd_flows_through_the_estimate():
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    x = torch.tensor([1.0], dtype=torch.float64)
    slope = derivative(lambda t: a * t**2, x)  # = 2 a x, so d slope / d a = 2 x = 2
    slope.sum().backward()
    assert a.grad.item() == pytest.approx(2.0, rel=1e-8)


# ------------------------------------------------------------------------------------ error analysis


def errors(h_values, x=1.0, dtype=np.float64, central=True):
    x = dtype(x)
    out = []
    for h in h_values:
        h = dtype(h)
        d = (np.sin(x + h) - np.sin(x - h)) / (2 * h) if central else (np.sin(x + h) - np.sin(x)) / h
        out.append(abs(float(d) - math.cos(1.0)))
    return np.array(out)


def test_truncation_error_is_second_order_for_central_first_order_for_forward():
    h = np.array([1e-1, 5e-2, 2.5e-2])
    central, forward = errors(h), errors(h, central=False)
    assert np.all(np.abs(np.log2(central[:-1] / central[1:]) - 2) < 0.05)  # halve h: error / 4
    assert np.all(np.abs(np.log2(forward[:-1] / forward[1:]) - 1) < 0.1)  # halve h: error / 2
    # and the leading term is h^2 |f'''| / 6 with f''' = -cos
    np.testing.assert_allclose(central, h**2 * math.cos(1.0) / 6, rtol=0.01)


def test_best_step_is_near_the_predicted_one():
    h = np.logspace(-12, -1, 45)
    best64 = h[np.argmin(errors(h))]
    assert 1e-7 <= best64 <= 1e-3
    assert errors([1e-5])[0] < 1e-9  # the default step: about 10 correct digits
    h32 = np.logspace(-6, -0.5, 23)
    e32 = errors(h32, dtype=np.float32)
    assert 1e-4 <= h32[np.argmin(e32)] <= 1e-1  # float32 wants a much larger step ...
    assert e32.min() > 1e-8  # ... and never gets close to float64's accuracy
    assert errors([1e-11])[0] > 1e-7  # too small a step: round-off dominates


# --------------------------------------------------------------------------------------------- partial


def test_partial_of_the_cost_example():
    rng = np.random.default_rng(0)
    for m, l in rng.normal(scale=3, size=(10, 2)):
        assert partial(cost, (m, l), 0) == pytest.approx(6 * m + 5 * l, rel=1e-8, abs=1e-8)
        assert partial(cost, (m, l), 1) == pytest.approx(4 * l + 5 * m, rel=1e-8, abs=1e-8)


def test_partial_matches_autograd():
    m = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    l = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    cost(m, l).backward()
    assert partial(cost, (1.5, -0.5), 0) == pytest.approx(m.grad.item(), rel=1e-9)
    assert partial(cost, (1.5, -0.5), 1) == pytest.approx(l.grad.item(), rel=1e-9)


def test_partial_on_a_grid_and_with_array_or_tensor_points():
    M, L = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 1, 3))
    out = partial(cost, (M, L), 0)
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out, 6 * M + 5 * L, atol=1e-8)
    assert partial(lambda x, y: x**2 + y**2, np.array([3.0, -2.0]), 1) == pytest.approx(-4.0, rel=1e-9)
    out_t = partial(lambda x, y: x**2 * y, torch.tensor([2.0, 3.0], dtype=torch.float64), 0)
    assert isinstance(out_t, torch.Tensor) and out_t.item() == pytest.approx(12.0, rel=1e-9)


def test_partial_of_a_vector_valued_function_is_an_array():
    out = partial(lambda x, y: np.stack([x * y, x + y]), (2.0, 3.0), 0)
    np.testing.assert_allclose(out, [3.0, 1.0], atol=1e-8)


# ----------------------------------------------------------------------------------------------- tangent


def test_tangent_line():
    line = tangent_line(lambda x: x**3, 2.0)
    assert isinstance(line, Line)
    assert line.slope == pytest.approx(12.0, rel=1e-9)
    assert line.intercept == pytest.approx(8.0 - 24.0, rel=1e-8)
    assert line(2.0) == pytest.approx(8.0, rel=1e-9)
    exact = tangent_line(lambda x: x**3, 2.0, df=lambda x: 3 * x**2)
    assert exact == (12.0, -16.0)
    many = tangent_line(np.sin, [0.0, np.pi])
    np.testing.assert_allclose(many.slope, [1.0, -1.0], atol=1e-9)
    np.testing.assert_allclose(many.intercept, [0.0, np.pi], atol=1e-8)


@settings(max_examples=50, deadline=None)
@given(st.floats(-5, 5), st.floats(1e-3, 1e-2))
def test_tangent_touches_to_first_order(x0, d):
    line = tangent_line(np.sin, x0)
    gap = abs(math.sin(x0 + d) - line(x0 + d))
    assert gap <= d**2 / 2 + 1e-9  # |f''| <= 1 for sin


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: derivative(3, 1.0), TypeError, "derivative: f is of type int; expected a function"),
        (lambda: derivative(np.sin, 1.0, h=0), ValueError, "derivative: h is 0; expected a finite step > 0"),
        (lambda: derivative(np.sin, 1.0, h=-1e-5), ValueError, "h is -1e-05"),
        (lambda: derivative(np.sin, 1.0, h=float("nan")), ValueError, "h is nan"),
        (lambda: derivative(np.sin, "one"), TypeError, "x is a str; expected a number"),
        (lambda: derivative(np.sin, [1.0, "a"]), TypeError, "x could not be read as real numbers"),
        (lambda: derivative(np.sin, 1 + 2j), TypeError, "could not be read as real numbers"),
        (lambda: derivative(np.sin, True), TypeError, "x is True"),
        (lambda: derivative(np.sum, [1.0, 2.0]), ValueError, r"f returned shape \(\) for x of shape \(2,\)"),
        (lambda: derivative(math.sin, [1.0, 2.0]), TypeError, "f must work on whole arrays"),
        (lambda: partial(cost, 3.0, 0), TypeError, "partial: point is 3.0; expected a sequence of coordinates"),
        (lambda: partial(cost, (), 0), ValueError, "partial: point is empty"),
        (lambda: partial(cost, (1.0, 2.0), 2), IndexError, "i is 2 but point has 2 coordinates"),
        (lambda: partial(cost, (1.0, 2.0), -1), IndexError, "i is -1"),
        (lambda: partial(cost, (1.0, 2.0), 1.0), TypeError, "i is 1.0; expected an integer"),
        (lambda: partial(cost, (1.0, 2.0, 3.0), 0), TypeError, r"f is cost\(m, l\) but point has 3 coordinates"),
        (lambda: partial(cost, (1.0, "x"), 0), TypeError, r"point\[1\] is a str"),
        (lambda: tangent_line(np.sin, 1.0, df=2.0), TypeError, "tangent_line: df is of type float"),
        (lambda: tangent_line(np.sum, [1.0, 2.0]), ValueError, "tangent_line: f returned shape"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
