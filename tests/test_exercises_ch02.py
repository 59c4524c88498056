"""The Chapter 2 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch02 import (
    check_derivative,
    check_matmul,
    check_squared_error_grad,
    derivative_reference,
    matmul_reference,
    squared_error_grad_reference,
)

# ------------------------------------------------------------------------------------------------ matmul


def test_matmul_reference_matches_numpy():
    rng = np.random.default_rng(0)
    for n, k, m in [(1, 4, 1), (4, 1, 4), (2, 3, 5)]:
        A, B = rng.normal(size=(n, k)), rng.normal(size=(k, m))
        np.testing.assert_allclose(matmul_reference(A, B), A @ B, atol=1e-12)


def test_matmul_reference_and_list_returning_solution_pass():
    assert check_matmul(matmul_reference).passed

    def with_lists(A, B):
        if A.shape[1] != B.shape[0]:
            raise ValueError("shapes do not fit")
        return [[sum(A[i, k] * B[k, j] for k in range(A.shape[1])) for j in range(B.shape[1])] for i in range(A.shape[0])]

    result = check_matmul(with_lists)
    assert result.status == PASSED, result
    assert "mismatched shapes raise a ValueError" in result.message


def _loops(A, B, entry, shape=None):
    n, m = shape or (A.shape[0], B.shape[1])
    C = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            C[i, j] = entry(A, B, i, j)
    return C


def test_matmul_transposed_result_is_diagnosed():
    def transposed(A, B):
        return _loops(A, B, lambda A, B, i, j: sum(A[j, k] * B[k, i] for k in range(A.shape[1])), (B.shape[1], A.shape[0]))

    result = check_matmul(transposed)
    assert result.status == FAILED
    assert "transpose" in result.message


def test_matmul_row_by_row_is_diagnosed():
    def rows(A, B):
        return _loops(A, B, lambda A, B, i, j: sum(A[i, k] * B[j, k] for k in range(A.shape[1])))

    result = check_matmul(rows)
    assert result.status == FAILED
    assert "row j of B" in result.message


def test_matmul_elementwise_is_diagnosed():
    result = check_matmul(lambda A, B: A * B)
    assert result.status == FAILED
    assert "element-wise (Hadamard)" in result.message


def test_matmul_overwriting_instead_of_summing_is_diagnosed():
    def overwrite(A, B):
        C = np.zeros((A.shape[0], B.shape[1]))
        for i in range(A.shape[0]):
            for j in range(B.shape[1]):
                for k in range(A.shape[1]):
                    C[i, j] = A[i, k] * B[k, j]
        return C

    result = check_matmul(overwrite)
    assert result.status == FAILED
    assert "+=" in result.message


def test_matmul_wrong_shape_is_diagnosed():
    def flat_for_one_by_one(A, B):
        C = A @ B
        return C.ravel() if C.size == 1 else C

    result = check_matmul(flat_for_one_by_one)
    assert result.status == FAILED
    assert "expected shape (1, 1)" in result.message and "keep the result 2-D" in result.message


def test_matmul_missing_shape_check_is_diagnosed():
    def no_check(A, B):
        C = np.zeros((A.shape[0], B.shape[1]))
        for i in range(A.shape[0]):
            for j in range(B.shape[1]):
                for k in range(A.shape[1]):
                    C[i, j] += A[i, k] * B[k, j]
        return C

    result = check_matmul(no_check)
    assert result.status == FAILED
    assert "product is undefined (A has 3 columns, B has 4 rows)" in result.message

    def index_error(A, B):  # loops over the rows of B: runs off the end of A's rows when they differ
        C = np.zeros((A.shape[0], B.shape[1]))
        for i in range(A.shape[0]):
            for j in range(B.shape[1]):
                for k in range(B.shape[0]):
                    C[i, j] += A[i, k] * B[k, j]
        return C

    result = check_matmul(index_error)
    assert result.status == FAILED
    assert "you raised IndexError" in result.message and "raise a ValueError" in result.message


def test_matmul_crash_is_reported_not_raised():
    result = check_matmul(lambda A, B: A.dot_product(B))
    assert result.status == ERROR
    assert "AttributeError" in result.message


# -------------------------------------------------------------------------------------------- derivative


def test_derivative_reference_passes():
    assert check_derivative(derivative_reference).passed


def test_derivative_forward_difference_is_diagnosed():
    result = check_derivative(lambda f, x, h: (f(x + h) - f(x)) / h)
    assert result.status == FAILED
    assert "one-sided difference" in result.message


def test_derivative_missing_two_is_diagnosed():
    result = check_derivative(lambda f, x, h: (f(x + h) - f(x - h)) / h)
    assert result.status == FAILED
    assert "2h apart" in result.message


def test_derivative_precedence_slip_is_diagnosed():
    result = check_derivative(lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h)
    assert result.status == FAILED
    assert "write / (2 * h)" in result.message


def test_derivative_ignoring_h_is_diagnosed():
    result = check_derivative(lambda f, x, h: (f(x + 1e-6) - f(x - 1e-6)) / 2e-6)
    assert result.status == FAILED
    assert "step h you are given" in result.message


def test_derivative_message_names_the_function():
    result = check_derivative(lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h))
    assert result.status == FAILED
    assert "f = x³, x = 2, h = 0.1" in result.message and "sign is flipped" in result.message


# ------------------------------------------------------------------------------------------ squared error


def test_squared_error_reference_is_right_and_passes():
    import torch

    w, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.7, -0.3))
    ((w * 2.5 + b - 1.0) ** 2).backward()
    np.testing.assert_allclose(squared_error_grad_reference(0.7, -0.3, 2.5, 1.0), (w.grad.item(), b.grad.item()))
    assert check_squared_error_grad(squared_error_grad_reference).passed


def test_squared_error_missing_inner_derivative_is_diagnosed():
    result = check_squared_error_grad(lambda w, b, x, y: (2 * (w * x + b - y), 2 * (w * x + b - y)))
    assert result.status == FAILED
    assert "inner derivative" in result.message


def test_squared_error_missing_factor_two_is_diagnosed():
    result = check_squared_error_grad(lambda w, b, x, y: ((w * x + b - y) * x, w * x + b - y))
    assert result.status == FAILED
    assert "factor 2" in result.message


def test_squared_error_sign_and_order_are_diagnosed():
    result = check_squared_error_grad(lambda w, b, x, y: (2 * (y - w * x - b) * x, 2 * (y - w * x - b)))
    assert result.status == FAILED and "sign is flipped" in result.message
    result = check_squared_error_grad(lambda w, b, x, y: (2 * (w * x + b - y), 2 * (w * x + b - y) * x))
    assert result.status == FAILED and "order is swapped" in result.message


def test_squared_error_single_number_is_diagnosed():
    result = check_squared_error_grad(lambda w, b, x, y: 2 * (w * x + b - y) * x)
    assert result.status == FAILED
    assert "return the pair" in result.message
