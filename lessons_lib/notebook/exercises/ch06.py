"""Checkers for the exercises of Chapter 6 (forward propagation and backpropagation).

- :func:`check_linear_backward`: the backward pass of a fully connected layer, ``(dx, dW, db)``;
- :func:`check_mlp_backward`: every gradient of a two-layer tanh network with a softmax cross-entropy cost.

Conventions are the library's (:mod:`lessons_lib.scratch.layers`): samples are rows, ``x`` is (N, in), ``W`` is
(in, out), ``b`` is (out,) and a layer computes ``x @ W + b``. The references are the ``*_reference``
functions beside the checkers.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.functional.activations import softmax
from lessons_lib.notebook.checking import CheckResult, as_arrays, compare, compare_parts, same_values

__all__ = [
    "check_linear_backward",
    "check_mlp_backward",
    "linear_backward_reference",
    "mlp_backward_reference",
]


# ------------------------------------------------------------------------------------- Linear backward


def linear_backward_reference(x, W, b, grad_out):
    """Backward pass of out = x @ W + b.

    Args: x (N, in), W (in, out), b (out,), grad_out = dL/d(out) (N, out).
    Returns: (dx, dW, db) = (grad_out @ W.T (N, in), x.T @ grad_out (in, out), grad_out summed over rows (out,)).
    """
    return grad_out @ W.T, x.T @ grad_out, grad_out.sum(axis=0)


def _linear_cases(seed: int = 6) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    # square W first (a transposed answer has the right shape there), then N = 1, 1 x 1, and rectangles
    for n, n_in, n_out in [(4, 3, 3), (1, 3, 2), (5, 1, 1), (6, 4, 2), (2, 3, 5), (3, 3, 4), (7, 5, 3)]:
        cases.append({"x": rng.normal(size=(n, n_in)), "W": rng.normal(size=(n_in, n_out)),
                      "b": rng.normal(size=n_out), "grad_out": rng.normal(size=(n, n_out))})
    return cases


def _linear_hint(case, got, expected):
    parts = as_arrays(got, 3)
    if parts is None:
        return "return the three gradients as a tuple, in this order: `return dx, dW, db`"
    x, W, grad_out = case["x"], case["W"], case["grad_out"]
    dx, dW, db = parts
    n = len(x)
    for i, g in enumerate(parts):  # right arrays, wrong order
        for j, e in enumerate(expected):
            if i != j and g.shape == e.shape and same_values(g, e) and not same_values(g, expected[i]):
                return "the right gradients in the wrong order: return (dx, dW, db)"
    if not same_values(dW, expected[1]):
        if same_values(dW, (grad_out.T @ x)) or same_values(dW, expected[1].T):
            return "dW must have W's shape (in, out): dW = x.T @ grad_out (you built its transpose)"
        if n > 1 and same_values(dW, expected[1] / n):
            return "do not divide by N: if the cost is a mean, its 1/N is already inside grad_out"
        return "entry (i, j) of dW sums x[n, i] * grad_out[n, j] over the samples n: dW = x.T @ grad_out"
    if not same_values(db, expected[2]):
        if db.shape == grad_out.shape:
            return ("db must have b's shape (out,): b is added to every row, so its gradient sums grad_out over the "
                    "batch: grad_out.sum(axis=0)")
        if n > 1 and same_values(db, expected[2] / n):
            return "sum grad_out over the batch, do not average it: grad_out.sum(axis=0)"
        if same_values(db, grad_out.sum(axis=1)) or db.shape == (n,):
            return "sum over axis 0 (the samples), not axis 1: db has one entry per output"
        return "db = grad_out.sum(axis=0): each bias receives the gradient of its output from every sample"
    if not same_values(dx, expected[0]):
        if dx.shape == grad_out.shape or (W.shape[0] == W.shape[1] and same_values(dx, grad_out @ W)):
            return "dx = grad_out @ W.T: the gradient goes back through the transpose of W"
        if dx.shape == (x.shape[1], n) or same_values(dx, expected[0].T):
            return "dx must have x's shape (N, in): grad_out @ W.T (you built its transpose)"
        if n > 1 and same_values(dx, expected[0] / n):
            return "do not divide by N: grad_out already holds the 1/N of a mean cost"
        return "entry (n, i) of dx sums grad_out[n, j] * W[i, j] over the outputs j: dx = grad_out @ W.T"
    return None


def check_linear_backward(fn) -> CheckResult:
    """Check ``fn(x, W, b, grad_out)`` -> ``(dx, dW, db)`` for out = x @ W + b, on random shapes.

    The shapes include a square W (where a transposed gradient still has the right shape), a single
    sample (N = 1) and a 1 x 1 layer.
    """
    return compare(fn, linear_backward_reference, _linear_cases(), name="Linear backward",
                   hints=[_linear_hint], compare_fn=compare_parts(("dx", "dW", "db")))


# ---------------------------------------------------------------------------------------- MLP backward


def _mlp_variant(X, y, W1, b1, W2, b2, *, mean=True, onehot=True, hidden="tanh"):
    """The four gradients, right (defaults) or with one of the usual mistakes switched on."""
    N = len(X)
    Z1 = X @ W1 + b1  # (N, h)
    A1 = np.tanh(Z1)  # (N, h)
    P = softmax(A1 @ W2 + b2)  # (N, C)
    D2 = P.copy()
    if onehot:
        D2[np.arange(N), y] -= 1.0
    if mean:
        D2 /= N
    derivative = {"tanh": 1.0 - A1**2, "none": np.ones_like(A1), "at_z": 1.0 - Z1**2, "sigmoid": A1 * (1.0 - A1)}
    D1 = (D2 @ W2.T) * derivative[hidden]  # (N, h)
    return X.T @ D1, D1.sum(axis=0), A1.T @ D2, D2.sum(axis=0)


def mlp_backward_reference(X, y, W1, b1, W2, b2):
    """Gradients of the mean softmax cross-entropy of a two-layer network.

    Forward: Z1 = X @ W1 + b1, A1 = tanh(Z1), Z2 = A1 @ W2 + b2, P = softmax(Z2), L = mean_n(-log P[n, y[n]]).
    Args: X (N, d), y (N,) integer classes, W1 (d, h), b1 (h,), W2 (h, C), b2 (C,).
    Returns: (dW1, db1, dW2, db2), each with the shape of its parameter.
    """
    return _mlp_variant(X, y, W1, b1, W2, b2)


def _mlp_cases(seed: int = 60) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, d, h, c in [(5, 3, 4, 3), (1, 2, 3, 2), (8, 2, 5, 3), (6, 4, 3, 4), (3, 3, 3, 3)]:
        cases.append({"X": rng.normal(size=(n, d)), "y": rng.integers(0, c, size=n),
                      "W1": rng.normal(size=(d, h)), "b1": rng.normal(scale=0.5, size=h),
                      "W2": rng.normal(size=(h, c)), "b2": rng.normal(scale=0.5, size=c)})
    return cases


def _mlp_hint(case, got, expected):
    parts = as_arrays(got, 4)
    if parts is None:
        return "return the four gradients as a tuple, in this order: `return dW1, db1, dW2, db2`"
    n = len(case["X"])

    def matches(**mistake):
        variant = _mlp_variant(**case, **mistake)
        return all(g.shape == v.shape and same_values(g, v) for g, v in zip(parts, variant))

    if n > 1 and matches(mean=False):
        return "the cost is the mean over the N samples: divide δ2 = P - onehot(y) by N"
    if matches(onehot=False):
        return "δ2 = P - onehot(y): subtract 1 from the probability of each sample's true class"
    if matches(hidden="none"):
        return "δ1 needs the activation's slope: δ1 = (δ2 @ W2.T) * (1 - A1**2), an elementwise product"
    if matches(hidden="at_z"):
        return "tanh'(z) = 1 - tanh(z)², so use 1 - A1**2 with A1 = tanh(Z1), not 1 - Z1**2"
    if matches(hidden="sigmoid"):
        return "A1 * (1 - A1) is the sigmoid's slope; this hidden layer is tanh, whose slope is 1 - A1**2"
    dW1, db1, dW2, db2 = parts
    if db1.shape != expected[1].shape or db2.shape != expected[3].shape:
        return "a bias gradient sums its δ over the samples: db = δ.sum(axis=0), with the bias's shape"
    if dW1.shape != expected[0].shape or dW2.shape != expected[2].shape:
        return "a weight gradient has its weight's shape: dW2 = A1.T @ δ2 and dW1 = X.T @ δ1"
    if same_values(dW2, expected[2]) and same_values(db2, expected[3]):
        return "the output layer is right; look at δ1 = (δ2 @ W2.T) * (1 - A1**2) and dW1 = X.T @ δ1"
    return None


def check_mlp_backward(fn) -> CheckResult:
    """Check ``fn(X, y, W1, b1, W2, b2)`` -> ``(dW1, db1, dW2, db2)`` for a tanh layer and a softmax cross-entropy."""
    return compare(fn, mlp_backward_reference, _mlp_cases(), name="two-layer backprop",
                   hints=[_mlp_hint], compare_fn=compare_parts(("dW1", "db1", "dW2", "db2")))
