"""The Chapter 6 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch06 import (
    check_linear_backward,
    check_mlp_backward,
    linear_backward_reference,
    mlp_backward_reference,
)

# ------------------------------------------------------------------------------------- Linear backward


def test_linear_reference_matches_torch():
    rng = np.random.default_rng(0)
    x, W, b, g = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 2))
    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    (xt @ Wt + bt).backward(torch.tensor(g))
    for ours, theirs in zip(linear_backward_reference(x, W, b, g), (xt.grad, Wt.grad, bt.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)


def test_linear_reference_passes():
    result = check_linear_backward(linear_backward_reference)
    assert result.status == PASSED, result


def test_linear_transposed_dW_is_diagnosed():
    result = check_linear_backward(lambda x, W, b, grad_out: (grad_out @ W.T, grad_out.T @ x, grad_out.sum(0)))
    assert result.status == FAILED
    assert "dW" in result.message and "transpose" in result.message


def test_linear_unsummed_bias_is_diagnosed():
    result = check_linear_backward(lambda x, W, b, grad_out: (grad_out @ W.T, x.T @ grad_out, grad_out))
    assert result.status == FAILED
    assert "db has shape" in result.message and "sums grad_out over the batch" in result.message


def test_linear_averaged_bias_is_diagnosed():
    result = check_linear_backward(lambda x, W, b, grad_out: (grad_out @ W.T, x.T @ grad_out, grad_out.mean(0)))
    assert result.status == FAILED
    assert "do not average" in result.message


def test_linear_dx_without_transpose_is_diagnosed():
    result = check_linear_backward(lambda x, W, b, grad_out: (grad_out @ W, x.T @ grad_out, grad_out.sum(0)))
    assert result.status == FAILED
    assert "dx" in result.message and "W.T" in result.message


def test_linear_wrong_order_is_diagnosed():
    def swapped(x, W, b, grad_out):
        dx, dW, db = linear_backward_reference(x, W, b, grad_out)
        return dW, dx, db

    result = check_linear_backward(swapped)
    assert result.status == FAILED
    assert "wrong order" in result.message


def test_linear_not_a_tuple_is_diagnosed():
    result = check_linear_backward(lambda x, W, b, grad_out: x.T @ grad_out)
    assert result.status == FAILED
    assert "expected a tuple of 3 arrays" in result.message and "return dx, dW, db" in result.message


def test_linear_crash_is_reported_not_raised():
    result = check_linear_backward(lambda x, W, b, grad_out: (grad_out @ W, x @ grad_out, grad_out.sum(0)))
    assert result.status == ERROR
    assert "ValueError" in result.message or "matmul" in result.message


# ---------------------------------------------------------------------------------------- MLP backward


def _torch_mlp_grads(X, y, W1, b1, W2, b2):
    params = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    W1t, b1t, W2t, b2t = params
    logits = torch.tanh(torch.tensor(X) @ W1t + b1t) @ W2t + b2t
    torch.nn.functional.cross_entropy(logits, torch.tensor(y)).backward()
    return [p.grad.numpy() for p in params]


def test_mlp_reference_matches_torch():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 4, size=7)
    W1, b1, W2, b2 = rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(5, 4)), rng.normal(size=4)
    for ours, theirs in zip(mlp_backward_reference(X, y, W1, b1, W2, b2), _torch_mlp_grads(X, y, W1, b1, W2, b2)):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_mlp_reference_and_torch_solution_pass():
    assert check_mlp_backward(mlp_backward_reference).status == PASSED
    assert check_mlp_backward(lambda **kw: tuple(_torch_mlp_grads(**kw))).status == PASSED


def _mlp(X, y, W1, b1, W2, b2, *, mean=True, onehot=True, slope="tanh", sum_bias=True):
    N = len(X)
    Z1 = X @ W1 + b1
    A1 = np.tanh(Z1)
    Z2 = A1 @ W2 + b2
    P = np.exp(Z2 - Z2.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    D2 = P - np.eye(W2.shape[1])[y] if onehot else P
    D2 = D2 / N if mean else D2
    s = {"tanh": 1 - A1**2, "none": 1.0, "at_z": 1 - Z1**2}[slope]
    D1 = (D2 @ W2.T) * s
    db1, db2 = (D1.sum(0), D2.sum(0)) if sum_bias else (D1, D2)
    return X.T @ D1, db1, A1.T @ D2, db2


def test_mlp_written_out_passes():
    assert check_mlp_backward(_mlp).status == PASSED


def test_mlp_missing_mean_is_diagnosed():
    result = check_mlp_backward(lambda **kw: _mlp(**kw, mean=False))
    assert result.status == FAILED
    assert "divide δ2" in result.message and "by N" in result.message


def test_mlp_missing_onehot_is_diagnosed():
    result = check_mlp_backward(lambda **kw: _mlp(**kw, onehot=False))
    assert result.status == FAILED
    assert "subtract 1" in result.message


def test_mlp_missing_activation_slope_is_diagnosed():
    result = check_mlp_backward(lambda **kw: _mlp(**kw, slope="none"))
    assert result.status == FAILED
    assert "dW1 is wrong" in result.message and "activation's slope" in result.message


def test_mlp_slope_at_z_is_diagnosed():
    result = check_mlp_backward(lambda **kw: _mlp(**kw, slope="at_z"))
    assert result.status == FAILED
    assert "not 1 - Z1**2" in result.message


def test_mlp_unsummed_bias_is_diagnosed():
    result = check_mlp_backward(lambda **kw: _mlp(**kw, sum_bias=False))
    assert result.status == FAILED
    assert "db1 has shape" in result.message and "db = δ.sum(axis=0)" in result.message
