"""Checkers for the exercises of Chapter 2 (matrices, tensors, derivatives).

- :func:`check_matmul`: matrix multiplication written with loops, against ``A @ B``;
- :func:`check_derivative`: the central difference, against the formula with the same step;
- :func:`check_squared_error_grad`: the partial derivatives of one squared error, against the chain rule.

Each checker returns a :class:`lessons_lib.notebook.checking.CheckResult`; the reference solutions are the
``*_reference`` functions beside them.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import FAILED, CheckResult, compare, same_values

__all__ = [
    "check_derivative",
    "check_matmul",
    "check_squared_error_grad",
    "derivative_reference",
    "matmul_reference",
    "squared_error_grad_reference",
]


# ----------------------------------------------------------------------------------------------- matmul


def matmul_reference(A, B):
    """C = A B with three loops: C[i, j] = sum over k of A[i, k] * B[k, j]. A (n, k), B (k, m) -> C (n, m)."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    n, k = A.shape
    k2, m = B.shape
    if k != k2:
        raise ValueError(f"matmul: A has {k} columns but B has {k2} rows; they must be equal")
    C = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            for p in range(k):
                C[i, j] += A[i, p] * B[p, j]
    return C


def _matmul_cases(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = [
        {"A": np.array([[1.0, 2.0], [3.0, 4.0]]), "B": np.array([[5.0, 6.0], [7.0, 8.0]])},
        {"A": np.array([[100.0, 50, 30], [80, 70, 20], [60, 40, 90]]),
         "B": np.array([[1.15, 1.05, 0.85], [1.05, 1.02, 1.1], [1.1, 1.0, 0.9]])},
    ]
    for n, k, m in [(2, 3, 4), (1, 5, 1), (5, 1, 5), (1, 1, 1), (4, 2, 3), (1, 3, 2), (3, 4, 1)]:
        cases.append({"A": rng.integers(-5, 6, (n, k)).astype(float), "B": rng.normal(size=(k, m)).round(2)})
    return cases


def _matmul_hint(case, got, expected):
    A, B = case["A"], case["B"]
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None
    if same_values(g, expected.T) and A.shape[0] != B.shape[1]:
        return ("your result is the transpose of A @ B: entry [i, j] must combine row i of A with column j of B, "
                "and the result has as many rows as A and as many columns as B")
    if same_values(g, expected.T):
        return "your result is the transpose of A @ B: entry [i, j] must combine row i of A with column j of B"
    if A.shape[1] == B.shape[1] and same_values(g, A @ B.T):
        return "you paired row i of A with row j of B; pair it with column j of B, i.e. use B[k, j]"
    if A.shape == B.shape and same_values(g, A * B):
        return "that is the element-wise (Hadamard) product A * B; the matrix product sums A[i, k] * B[k, j] over k"
    if A.shape[0] == B.shape[1] and A.shape[1] == B.shape[0] and same_values(g, B @ A):
        return "you computed B @ A; the order matters: C[i, j] = sum over k of A[i, k] * B[k, j]"
    if same_values(g, A[:, -1:] * B[-1:, :]):
        return "only the last term of each sum survives: add into C[i, j] with += instead of overwriting it"
    if g.shape != expected.shape:
        return (f"A {A.shape} times B {B.shape} gives shape ({A.shape[0]}, {B.shape[1]}): one row per row of A, one "
                "column per column of B; keep the result 2-D even when it is 1 x 1")
    return None


def check_matmul(fn) -> CheckResult:
    """Check ``fn(A, B)``, a hand-written matrix product, against ``A @ B``.

    Random and edge-case shapes (1 x N times N x 1, N x 1 times 1 x N, 1 x 1, non-square), then one pair of
    shapes that cannot be multiplied, where ``fn`` must raise a ``ValueError``.
    """
    name = "matmul"
    result = compare(fn, matmul_reference, _matmul_cases(), name=name, hints=[_matmul_hint])
    if not result.passed:
        return result
    A, B = np.ones((2, 3)), np.ones((4, 2))
    try:
        got = fn(A, B)
    except ValueError:
        return CheckResult(name, result.status, result.message + ", and mismatched shapes raise a ValueError")
    except Exception as exc:
        return CheckResult(name, FAILED, f"for A of shape (2, 3) and B of shape (4, 2) you raised {type(exc).__name__} "
                           f"({exc}). Hint: compare A.shape[1] with B.shape[0] first and raise a ValueError that names both")
    return CheckResult(name, FAILED, f"for A of shape (2, 3) and B of shape (4, 2) you returned shape {np.shape(got)}, but "
                       "this product is undefined (A has 3 columns, B has 4 rows). Hint: raise a ValueError when "
                       "A.shape[1] != B.shape[0]")


# ------------------------------------------------------------------------------------------- derivative


class _Function:
    """A named test function with its exact derivative, shown by name in a checker's messages."""

    def __init__(self, name, f, df):
        self.name, self.f, self.df = name, f, df

    def __call__(self, x):
        return self.f(x)

    def __repr__(self) -> str:
        return self.name


FUNCTIONS = [
    _Function("x³", lambda x: x**3, lambda x: 3 * x**2),
    _Function("sin", np.sin, np.cos),
    _Function("exp", np.exp, np.exp),
    _Function("1/(1+x²)", lambda x: 1 / (1 + x**2), lambda x: -2 * x / (1 + x**2) ** 2),
]


def derivative_reference(f, x, h):
    """The central difference (f(x + h) - f(x - h)) / (2 h), elementwise for array x."""
    return (f(x + h) - f(x - h)) / (2 * h)


def _derivative_cases() -> list[dict]:
    cases = []
    for f, x, h in [
        (FUNCTIONS[0], 2.0, 0.1), (FUNCTIONS[1], 1.0, 0.1), (FUNCTIONS[2], 0.5, 0.01),
        (FUNCTIONS[3], -1.5, 0.05), (FUNCTIONS[0], np.array([-1.0, 0.0, 1.0, 3.0]), 0.1),
        (FUNCTIONS[1], np.linspace(-3, 3, 7), 1e-3),
    ]:
        cases.append({"f": f, "x": x, "h": h})
    return cases


def _derivative_hint(case, got, expected):
    f, x, h = case["f"], case["x"], case["h"]
    if same_values(got, (f(x + h) - f(x)) / h):
        return "that is the one-sided difference (f(x + h) - f(x)) / h; use the points on both sides, x + h and x - h"
    if same_values(got, 2 * expected):
        return "the two points x - h and x + h are 2h apart: divide by 2 * h, not by h"
    if same_values(got, expected * h * h):
        return "`/ 2 * h` multiplies by h (Python reads it as (... / 2) * h): write / (2 * h)"
    if same_values(got, f.df(x), rtol=1e-5):
        return "your answer is the exact derivative, but the exercise asks for the difference with the step h you are given"
    if same_values(got, -expected):
        return "the sign is flipped: subtract f(x - h) from f(x + h), not the other way round"
    return None


def check_derivative(fn) -> CheckResult:
    """Check ``fn(f, x, h)``, a central-difference derivative, on several functions, points and steps."""
    return compare(fn, derivative_reference, _derivative_cases(), name="central difference", rtol=1e-9,
                   atol=1e-12, hints=[_derivative_hint])


# ---------------------------------------------------------------------------------------- squared error


def squared_error_grad_reference(w, b, x, y):
    """Partial derivatives of L(w, b) = (w x + b - y)^2: returns (dL/dw, dL/db) = (2 r x, 2 r), r = w x + b - y."""
    r = w * x + b - y
    return 2 * r * x, 2 * r


def _squared_error_cases(seed: int = 2) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = [{"w": 2.0, "b": 1.0, "x": 3.0, "y": 4.0}]  # r = 3: (18, 6)
    for _ in range(6):
        w, b, x, y = rng.normal(scale=2, size=4).round(3)
        cases.append({"w": float(w), "b": float(b), "x": float(x), "y": float(y)})
    cases.append({"w": 0.5, "b": -1.0, "x": 4.0, "y": 1.0})  # a perfect prediction: both zero
    return cases


def _squared_error_hint(case, got, expected):
    dw, db = expected
    x = case["x"]
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None
    if g.shape != (2,):
        return "return the pair (dL_dw, dL_db), e.g. `return 2 * r * x, 2 * r`"
    if same_values(g, [db, db]) and not same_values(x, 1.0):
        return ("dL/dw is missing the inner derivative: by the chain rule multiply by d(w x + b - y)/dw = x")
    if same_values(g, [dw / 2, db / 2]):
        return "the outer derivative of u² is 2u: you lost the factor 2"
    if same_values(g, [-dw, -db]):
        return "the sign is flipped: with r = w x + b - y the gradient is (2 r x, 2 r); if you wrote r = y - ŷ, keep the inner -1"
    if same_values(g, [db, dw]):
        return "the order is swapped: return dL/dw first, then dL/db"
    return None


def check_squared_error_grad(fn) -> CheckResult:
    """Check ``fn(w, b, x, y)`` -> (dL/dw, dL/db) for L = (w x + b - y)², on a worked case and random ones."""
    return compare(fn, squared_error_grad_reference, _squared_error_cases(), name="squared-error gradient",
                   hints=[_squared_error_hint])
