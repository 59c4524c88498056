"""The Chapter 24 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch24 import (
    _bptt_cases,
    _norm_cases,
    bptt_grad_w_hh_reference,
    check_bptt_grad_w_hh,
    check_jacobian_norm,
    jacobian_norm_reference,
)
from lessons_lib.scratch.layers import RNN

# ---------------------------------------------------------------------------------------- BPTT by hand


def _bptt(xs, W_ih, W_hh, b, y, *, sum_steps=True, prime=True, prime_previous=False, carry_transposed=True,
          outer_transposed=False, h_in_outer="previous", scale=1.0):
    """A reader's hand-written BPTT, correct by default; each flag is one slip."""
    hs = [np.zeros(len(W_hh))]
    for x in xs:
        hs.append(np.tanh(W_ih @ x + W_hh @ hs[-1] + b))
    grad = np.zeros((len(W_hh), len(W_hh)))
    dh = scale * (hs[-1] - y)
    for t in range(len(xs), 0, -1):
        derivative = 1 - (hs[t - 1] if prime_previous else hs[t]) ** 2
        delta = dh * derivative if prime else dh
        other = hs[t - 1] if h_in_outer == "previous" else hs[t]
        grad += np.outer(other, delta) if outer_transposed else np.outer(delta, other)
        if not sum_steps:
            break
        dh = (W_hh.T if carry_transposed else W_hh) @ delta
    return grad


def test_bptt_reference_equals_the_scratch_rnn():
    """The autograd reference agrees with the book's hand-written BPTT (one sequence, loss ½‖h_T − y‖²)."""
    for case in _bptt_cases():
        T, F_ = case["xs"].shape
        H = case["W_hh"].shape[0]
        layer = RNN(F_, H, dtype=np.float64)
        layer.W_ih.data[:], layer.W_hh.data[:], layer.b.data[:] = case["W_ih"], case["W_hh"], case["b"]
        hs = layer.forward(case["xs"][:, None, :])
        upstream = np.zeros_like(hs)
        upstream[-1, 0] = hs[-1, 0] - case["y"]
        layer.backward(upstream)
        np.testing.assert_allclose(bptt_grad_w_hh_reference(**case), layer.W_hh.grad, rtol=1e-10, atol=1e-14)


def test_bptt_correct_answers_pass():
    assert check_bptt_grad_w_hh(bptt_grad_w_hh_reference).status == PASSED
    assert check_bptt_grad_w_hh(_bptt).passed

    def with_torch(xs, W_ih, W_hh, b, y):  # autograd on the reader's side, returned as a tensor
        W = torch.tensor(W_hh, requires_grad=True)
        h = torch.zeros(len(W_hh), dtype=torch.float64)
        for x in torch.as_tensor(xs):
            h = torch.tanh(torch.as_tensor(W_ih) @ x + W @ h + torch.as_tensor(b))
        (0.5 * ((h - torch.as_tensor(y)) ** 2).sum()).backward()
        return W.grad

    assert check_bptt_grad_w_hh(with_torch).passed


@pytest.mark.parametrize("slip, phrase", [
    ({"sum_steps": False}, "SUM of one term per step"),
    ({"prime": False}, "tanh' factor is missing"),
    ({"prime_previous": True}, "not 1 − h_{t-1}²"),
    ({"carry_transposed": False}, "dL/dh_{t-1} = W_hh^T δ_t (the transpose)"),
    ({"outer_transposed": True}, "transpose of the gradient"),
    ({"h_in_outer": "current"}, "the state that came IN to step t"),
    ({"scale": 2.0}, "twice the gradient"),
])
def test_bptt_slips_are_diagnosed(slip, phrase):
    result = check_bptt_grad_w_hh(lambda **case: _bptt(**case, **slip))
    assert result.status == FAILED and phrase in result.message, result.message


def test_bptt_tanh_prime_only_at_the_last_step_is_diagnosed():
    def wrong(xs, W_ih, W_hh, b, y):
        hs = [np.zeros(len(W_hh))]
        for x in xs:
            hs.append(np.tanh(W_ih @ x + W_hh @ hs[-1] + b))
        grad, dh = np.zeros_like(W_hh), hs[-1] - y
        for t in range(len(xs), 0, -1):
            delta = dh * (1 - hs[t] ** 2) if t == len(xs) else dh
            grad += np.outer(delta, hs[t - 1])
            dh = W_hh.T @ delta
        return grad

    result = check_bptt_grad_w_hh(wrong)
    assert result.status == FAILED and "applied at the last step only" in result.message


def test_bptt_crash_and_wrong_shape_are_reported():
    result = check_bptt_grad_w_hh(lambda xs, W_ih, W_hh, b, y: W_hh @ np.ones(7))
    assert result.status == ERROR and "ValueError" in result.message
    result = check_bptt_grad_w_hh(lambda xs, W_ih, W_hh, b, y: np.zeros(len(W_hh)))
    assert result.status == FAILED and "shape" in result.message


def test_bptt_stub_is_not_attempted():
    def stub(xs, W_ih, W_hh, b, y):
        raise NotImplementedError

    assert check_bptt_grad_w_hh(stub).status == NOT_ATTEMPTED


# ------------------------------------------------------------------------------------ Jacobian norm


def test_jacobian_norm_reference_is_the_norm_of_the_autograd_jacobian():
    """‖∂h_n/∂h_0‖₂ of a linear RNN computed by autograd (the inputs do not matter) equals the reference."""
    for case in _norm_cases():
        W = torch.as_tensor(case["W"])
        U, xs = torch.ones(len(W), 1, dtype=torch.float64), torch.linspace(-1, 1, case["n"], dtype=torch.float64)

        def run(h, W=W, U=U, xs=xs):
            for x in xs:
                h = W @ h + U[:, 0] * x
            return h

        jac = torch.autograd.functional.jacobian(run, torch.zeros(len(W), dtype=torch.float64))
        assert abs(torch.linalg.matrix_norm(jac, 2).item() - jacobian_norm_reference(**case)) < 1e-9


def test_jacobian_norm_correct_answers_pass():
    assert check_jacobian_norm(jacobian_norm_reference).status == PASSED

    def by_svd(W, n):
        return np.linalg.svd(np.linalg.matrix_power(W, n), compute_uv=False)[0]

    def with_torch(W, n):
        return torch.linalg.matrix_norm(torch.linalg.matrix_power(torch.as_tensor(W), n), 2)

    assert check_jacobian_norm(by_svd).passed
    assert check_jacobian_norm(with_torch).passed


@pytest.mark.parametrize("wrong, phrase", [
    (lambda W, n: np.max(np.abs(np.linalg.eigvals(W))) ** n, "spectral radius to the n"),
    (lambda W, n: np.linalg.norm(W, 2) ** n, "an upper bound"),
    (lambda W, n: np.linalg.norm(np.linalg.matrix_power(W, n)), "Frobenius norm"),
    (lambda W, n: np.linalg.norm(W ** n, 2), "raises every ENTRY"),
    (lambda W, n: np.linalg.norm(np.linalg.matrix_power(W, n + 1), 2), "norm of W^"),
    (lambda W, n: np.linalg.matrix_power(W, n), "not the matrix"),
])
def test_jacobian_norm_slips_are_diagnosed(wrong, phrase):
    result = check_jacobian_norm(wrong)
    assert result.status == FAILED and phrase in result.message, result.message


def test_jacobian_norm_cases_separate_the_slips():
    """The cases include a non-normal matrix, where rho^n, ||W||^n and ||W^n|| all differ."""
    W = np.array([[0.9, 2.0], [0.0, 0.9]])
    values = [0.9**5, np.linalg.norm(W, 2) ** 5, jacobian_norm_reference(W, 5)]
    assert min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 0.5
    assert any(np.array_equal(case["W"], W) for case in _norm_cases())
