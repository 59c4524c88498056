"""The gradient checker: it must pass right gradients and catch wrong ones."""

from types import SimpleNamespace

import numpy as np
import pytest

from lessons_lib.scratch.gradcheck import check_layer, compare_grads, numerical_grad


def test_numerical_grad_of_known_functions():
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    before = x.copy()
    np.testing.assert_allclose(numerical_grad(lambda v: np.sum(v**2), x), 2 * x, atol=1e-8)
    np.testing.assert_allclose(numerical_grad(lambda v: np.sum(np.sin(v)), x), np.cos(x), atol=1e-8)
    np.testing.assert_array_equal(x, before)  # x is put back exactly


def test_numerical_grad_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def broken(_):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_grad(broken, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_grad_wants_float64():
    with pytest.raises(TypeError, match="x must be a float64 numpy array \\(got float32\\)"):
        numerical_grad(np.sum, np.ones(3, dtype=np.float32))


def test_compare_grads_accepts_a_right_gradient():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4))
    X = rng.standard_normal((5, 3))
    analytic = X.T @ np.ones((5, 4))  # d sum(X @ W) / dW
    result = compare_grads(analytic, numerical_grad(lambda _: np.sum(X @ W), W), name="W")
    assert result.ok and result.max_rel_error < 1e-8


def test_compare_grads_catches_a_wrong_gradient_and_points_at_it():
    numeric = np.array([[0.5, 1.0], [2.0, -3.0]])
    analytic = numeric.copy()
    analytic[1, 0] = 2.2  # one entry 10% off
    result = compare_grads(analytic, numeric, name="W")
    assert not result.ok
    assert result.index == (1, 0)
    assert result.max_rel_error == pytest.approx(0.2 / 2.2)
    assert (result.analytic, result.numeric) == (2.2, 2.0)
    assert str(result).startswith("worst relative error 9.1e-02 at W[1, 0]: analytic 2.2, numeric 2")
    assert "FAILED" in str(result)


def test_compare_grads_tolerance_nan_and_shapes():
    assert compare_grads([1.0, 1.001], [1.0, 1.0], tol=1e-2).ok
    assert not compare_grads([1.0, 1.001], [1.0, 1.0], tol=1e-4).ok
    assert compare_grads([0.0, 0.0], [0.0, 0.0]).ok  # both zero: no division by zero
    bad = compare_grads([1.0, np.nan], [1.0, 1.0])
    assert not bad.ok and bad.index == (1,) and bad.max_rel_error == np.inf
    with pytest.raises(ValueError, match="analytic has shape \\(2,\\) but numeric has shape \\(3,\\)"):
        compare_grads(np.ones(2), np.ones(3))


class _Scale:
    """A tiny layer y = x * w (w: (D,)) with an optional deliberate bug in its backward pass."""

    def __init__(self, w, bug=None):
        w = np.array(w, dtype=np.float64)
        self.w = SimpleNamespace(data=w, grad=np.zeros_like(w), name="w")  # a Parameter look-alike
        self.bug = bug

    def parameters(self):
        return [self.w]

    def zero_grad(self):
        self.w.grad[:] = 0

    def forward(self, x):
        self.x = x
        return x * self.w.data

    def backward(self, grad_out):
        grad_w = (grad_out * self.x).sum(axis=0)
        grad_x = grad_out * self.w.data
        if self.bug == "param":
            grad_w = grad_w * 1.01  # a 1% error
        if self.bug == "input":
            grad_x = grad_x.copy()
            grad_x[2, 1] = 0.0  # one forgotten entry
        self.w.grad += grad_w
        return grad_x


def test_check_layer_passes_a_correct_layer():
    x = np.random.default_rng(1).standard_normal((4, 3))
    results = check_layer(_Scale([0.5, -1.0, 2.0]), x, rng=0)
    assert [r.name for r in results] == ["x", "w"]
    assert all(r.ok for r in results), results


@pytest.mark.parametrize("bug, caught", [("param", "w"), ("input", "x")])
def test_check_layer_catches_deliberate_bugs(bug, caught):
    x = np.random.default_rng(1).standard_normal((4, 3))
    results = {r.name: r for r in check_layer(_Scale([0.5, -1.0, 2.0], bug=bug), x, rng=0)}
    assert not results[caught].ok
    assert all(r.ok for name, r in results.items() if name != caught)
    if bug == "input":
        assert results["x"].index == (2, 1)
