"""Checkers for the exercises of Chapter 7 (gradient descent and the training cycle).

- :func:`check_gd_step`: one gradient-descent update of a linear regression, against the library's gradient;
- :func:`check_iterations_per_epoch`: how many updates one epoch makes, against ``lessons_lib.data.splits.batches``.

Each checker returns a :class:`lessons_lib.notebook.checking.CheckResult`; the reference solutions are the
``*_reference`` functions beside them.
"""

from __future__ import annotations

import math

import numpy as np

from lessons_lib.notebook.checking import CheckResult, compare, same_values
from lessons_lib.scratch.gd import linreg_mse_grad

__all__ = [
    "check_gd_step",
    "check_iterations_per_epoch",
    "gd_step_reference",
    "iterations_per_epoch_reference",
]


# ---------------------------------------------------------------------------------------------- gd step


def gd_step_reference(X, y, w, b, lr):
    """One step of gradient descent on the MSE of ŷ = X w + b: returns (w − lr ∂MSE/∂w, b − lr ∂MSE/∂b).

    X (n, d), y (n,), w (d,), b and lr numbers -> (new w of shape (d,), new b a number).
    """
    dw, db = linreg_mse_grad(X, y, w, b)
    return w - lr * dw, b - lr * db


def _gd_cases(seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, d, lr in [(6, 1, 0.1), (20, 3, 0.05), (5, 2, 0.01), (40, 4, 0.2)]:
        X = rng.normal(size=(n, d)).round(2)
        y = (X @ rng.normal(size=d) + 1.5 + 0.1 * rng.normal(size=n)).round(3)
        cases.append({"X": X, "y": y, "w": rng.normal(size=d).round(2), "b": round(float(rng.normal()), 2), "lr": lr})
    X = np.array([[1.0], [2.0], [3.0]])  # a perfect fit already: the step changes nothing
    cases.append({"X": X, "y": 2 * X[:, 0] + 1, "w": np.array([2.0]), "b": 1.0, "lr": 0.1})
    cases.append({"X": np.array([[2.0, -1.0]]), "y": np.array([3.0]), "w": np.array([0.5, 0.5]), "b": 0.0, "lr": 0.1})
    return cases


def _pair(got):
    """(w, b) from what the reader returned, or None if it is not such a pair."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return None
    try:
        return np.asarray(got[0], dtype=float), float(np.asarray(got[1], dtype=float).reshape(()))
    except (TypeError, ValueError):
        return None


def _gd_compare(got, expected) -> str | None:
    pair = _pair(got)
    if pair is None:
        return f"got {type(got).__name__} {got!r:.80}, expected a pair (new_w, new_b)"
    w, b = pair
    w_exp, b_exp = expected
    if w.shape != w_exp.shape:
        return f"new_w has shape {w.shape}, expected shape {w_exp.shape} (one weight per feature)"
    problems = []
    if not same_values(w, w_exp, atol=1e-9):
        problems.append(f"new_w = {np.round(w, 5).tolist()}, expected {np.round(w_exp, 5).tolist()}")
    if not same_values(b, b_exp, atol=1e-9):
        problems.append(f"new_b = {b:.6g}, expected {b_exp:.6g}")
    return "; ".join(problems) or None


def _gd_hint(case, got, expected):
    pair = _pair(got)
    if pair is None:
        return "return two things: `return new_w, new_b`"
    w_got, b_got = pair
    X, y, w, b, lr = case["X"], case["y"], case["w"], case["b"], case["lr"]
    n = len(y)
    dw, db = linreg_mse_grad(X, y, w, b)
    if w_got.shape != np.shape(w):
        return "compute the weight gradient as -(2 / n) * X.T @ (y - y_hat), which has one entry per feature"
    if same_values(w_got, w + lr * dw, atol=1e-9):
        return "you stepped uphill: the gradient points to where the loss grows, so subtract lr times it"
    if same_values(w_got, dw, atol=1e-9) and same_values(b_got, db, atol=1e-9):
        return "you returned the gradient; return the updated parameters w - lr * dw and b - lr * db"
    if same_values(w_got, w - dw, atol=1e-9) and lr != 1:
        return "the learning rate is missing: the step is lr times the gradient"
    if same_values(w_got, w - lr * dw / 2, atol=1e-9):
        return "the derivative of a square (y - ŷ)² brings down a factor 2"
    if n > 1 and same_values(w_got, w - lr * n * dw, atol=1e-9):
        return "the MSE is a mean: divide the summed gradient by n"
    if same_values(w_got, w - lr * dw, atol=1e-9) and same_values(b_got, b, atol=1e-9):
        return "the weights are right but b did not move: update the bias too, b - lr * db"
    if same_values(w_got, w - lr * dw, atol=1e-9) and same_values(b_got, b + lr * db, atol=1e-9):
        return "the bias stepped uphill: subtract lr * db"
    if same_values(w_got, w - lr * dw, atol=1e-9):
        return "the weights are right; the bias gradient is -(2 / n) * sum(y - ŷ), with ŷ from the OLD w and b"
    return None


def check_gd_step(fn) -> CheckResult:
    """Check ``fn(X, y, w, b, lr)`` -> (new_w, new_b), one gradient-descent step on the MSE of ŷ = X w + b."""
    return compare(fn, gd_step_reference, _gd_cases(), name="gradient-descent step", hints=[_gd_hint],
                   compare_fn=_gd_compare)


# ---------------------------------------------------------------------------------- iterations per epoch


def iterations_per_epoch_reference(n, batch_size, drop_last=False):
    """Updates in one epoch over n samples: ceil(n / batch_size), or floor when the last short batch is dropped."""
    return n // batch_size if drop_last else math.ceil(n / batch_size)


_EPOCH_CASES = [
    {"n": 10_000, "batch_size": 100, "drop_last": False},  # the chapter's example: 100
    {"n": 10_000, "batch_size": 64, "drop_last": False},  # 156 full batches and one of 16: 157
    {"n": 10, "batch_size": 3, "drop_last": False},
    {"n": 1, "batch_size": 1, "drop_last": False},
    {"n": 5, "batch_size": 10, "drop_last": False},  # one short batch
    {"n": 60_000, "batch_size": 1, "drop_last": False},  # stochastic gradient descent
    {"n": 10_000, "batch_size": 64, "drop_last": True},  # 156
    {"n": 10, "batch_size": 3, "drop_last": True},
    {"n": 10_000, "batch_size": 100, "drop_last": True},  # nothing to drop
    {"n": 5, "batch_size": 10, "drop_last": True},  # the only batch is short: 0
    {"n": 7, "batch_size": 7, "drop_last": True},
]


def _count_compare(got, expected) -> str | None:
    try:
        value = float(got)
    except (TypeError, ValueError):
        return f"got {got!r:.60}, expected a whole number like {expected}"
    if not value.is_integer():
        return f"got {value:g}, which is not a whole number of iterations (expected {expected})"
    return None if int(value) == expected else f"got {int(value)}, expected {expected}"


def _epoch_hint(case, got, expected):
    n, bs, drop_last = case["n"], case["batch_size"], case["drop_last"]
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    if not value.is_integer():
        return "n / batch_size is a fraction here; an epoch makes a whole number of updates, so round it"
    if not drop_last and value == n // bs and n % bs:
        return ("the last, smaller batch is an iteration too (it holds the n % batch_size leftover samples): "
                "round up with math.ceil")
    if not drop_last and value == n // bs + 1 and n % bs == 0:
        return "when batch_size divides n exactly there is no leftover batch: 10,000 / 100 is exactly 100"
    if drop_last and value == math.ceil(n / bs):
        return "with drop_last=True the incomplete last batch is skipped: round down"
    if value == n:
        return "one iteration processes a whole batch, not one sample"
    return None


def check_iterations_per_epoch(fn) -> CheckResult:
    """Check ``fn(n, batch_size, drop_last=False)`` -> the number of iterations (updates) in one epoch."""
    return compare(fn, iterations_per_epoch_reference, _EPOCH_CASES, name="iterations per epoch",
                   hints=[_epoch_hint], compare_fn=_count_compare)
