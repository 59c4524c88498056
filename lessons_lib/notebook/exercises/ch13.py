"""Checkers for the exercises of Chapter 13 (initialization and normalization).

- :func:`check_he_std`: the standard deviation of He (Kaiming) normal initialization for a ReLU layer;
- :func:`check_batchnorm_forward`: the training-mode forward pass of batch normalization, eps, gamma and
  beta included.

The reference solutions are :func:`he_std_reference` and :func:`batchnorm_forward_reference`. Each checker
compares the reader's function with the reference on random and edge-case inputs and, when they disagree,
recognises the usual slips (a variance instead of a standard deviation, the missing factor 2, the
unbiased variance, a forgotten eps, statistics over the wrong axis) and says so.
"""

from __future__ import annotations

import math

import numpy as np

from lessons_lib.notebook.checking import CheckResult, compare, same_values

__all__ = ["batchnorm_forward_reference", "check_batchnorm_forward", "check_he_std", "he_std_reference"]


# ------------------------------------------------------------------------------------------ He std


def he_std_reference(fan_in, fan_out):
    """std = sqrt(2 / fan_in): Var(W) = 2 / fan_in keeps the second moment of ReLU layers constant."""
    return math.sqrt(2.0 / fan_in)


def _he_hints():
    def variance(case, got, expected):
        if same_values(got, expected**2, atol=0.0):
            return "you returned the variance 2/fan_in; the initializer needs its square root, the standard deviation"

    def no_factor_two(case, got, expected):
        if same_values(got, math.sqrt(1.0 / case["fan_in"]), atol=0.0):
            return ("sqrt(1/fan_in) is the right scale for a linear (or tanh) layer; ReLU zeroes half of its inputs "
                    "and halves E[x²], so He doubles the variance: sqrt(2/fan_in)")

    def xavier(case, got, expected):
        if same_values(got, math.sqrt(2.0 / (case["fan_in"] + case["fan_out"])), atol=0.0):
            return ("that is Xavier/Glorot's sqrt(2/(fan_in + fan_out)); He (fan_in mode) uses only fan_in: "
                    "sqrt(2/fan_in)")

    def fan_out(case, got, expected):
        if same_values(got, math.sqrt(2.0 / case["fan_out"]), atol=0.0):
            return "you divided by fan_out; the forward pass sums fan_in products, so divide by fan_in"

    return [variance, no_factor_two, xavier, fan_out]


def check_he_std(fn) -> CheckResult:
    """Check ``fn(fan_in, fan_out) -> std`` of He normal initialization for a ReLU layer."""
    cases = [{"fan_in": 784, "fan_out": 256}, {"fan_in": 64, "fan_out": 64}, {"fan_in": 3, "fan_out": 100},
             {"fan_in": 1, "fan_out": 1}, {"fan_in": 1000, "fan_out": 10}, {"fan_in": 50, "fan_out": 200}]
    return compare(fn, he_std_reference, cases, name="check_he_std", rtol=1e-6, atol=0.0, hints=_he_hints())


# -------------------------------------------------------------------------------- batch norm forward


def batchnorm_forward_reference(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm of x (N, C): standardise each column with the batch mean and the biased
    variance (divide by N), eps inside the square root, then scale by gamma and shift by beta."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    var = x.var(axis=0)  # biased, as in the forward pass of torch.nn.BatchNorm1d
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _bn_cases():
    rng = np.random.default_rng(13)
    cases = []
    for n, c in [(8, 3), (64, 5), (2, 4), (5, 1)]:
        x = rng.normal(3.0, 2.0, size=(n, c))
        cases.append({"x": x, "gamma": rng.uniform(0.5, 2.0, c), "beta": rng.normal(0, 1, c), "eps": 1e-5})
    # a small batch: the unbiased variance differs clearly from the biased one
    cases.append({"x": rng.normal(size=(4, 6)), "gamma": np.ones(6), "beta": np.zeros(6), "eps": 1e-5})
    # a constant feature: only eps keeps the division finite
    x = rng.normal(size=(10, 3))
    x[:, 1] = 7.0
    cases.append({"x": x, "gamma": np.full(3, 2.0), "beta": np.full(3, -1.0), "eps": 1e-5})
    # a large eps and a small-scale feature: eps visibly changes the result
    cases.append({"x": rng.normal(0, 0.05, size=(16, 2)), "gamma": np.ones(2), "beta": np.zeros(2), "eps": 0.01})
    return cases


def _bn_hints():
    def standardise(x, eps, ddof=0, axis=0, use_eps=True):
        mean = x.mean(axis=axis, keepdims=True)
        var = x.var(axis=axis, ddof=ddof, keepdims=True)
        return (x - mean) / np.sqrt(var + (eps if use_eps else 0.0))

    def matches(got, want) -> bool:
        g = np.asarray(got, dtype=float)
        w = np.asarray(want, dtype=float)
        return g.shape == w.shape and np.allclose(g, w, rtol=1e-5, atol=1e-7, equal_nan=True)

    def unbiased(case, got, expected):
        x, g, b, eps = case["x"], case["gamma"], case["beta"], case["eps"]
        if matches(got, g * standardise(x, eps, ddof=1) + b):
            return ("you used the unbiased variance (dividing by N - 1); batch norm normalises with the biased "
                    "variance, np.var(x, axis=0) (ddof=0). The unbiased one only feeds the running estimate")

    def no_eps(case, got, expected):
        x, g, b, eps = case["x"], case["gamma"], case["beta"], case["eps"]
        with np.errstate(divide="ignore", invalid="ignore"):
            wrong = g * standardise(x, eps, use_eps=False) + b
        if matches(got, wrong) or (np.isnan(np.asarray(got, dtype=float)).any()
                                   and not np.isnan(np.asarray(expected, dtype=float)).any()):
            return "add eps to the variance inside the square root: (x - mean) / sqrt(var + eps)"

    def eps_outside(case, got, expected):
        x, g, b, eps = case["x"], case["gamma"], case["beta"], case["eps"]
        mean, std = x.mean(axis=0), x.std(axis=0)
        if matches(got, g * (x - mean) / (std + eps) + b):
            return "eps belongs inside the square root: sqrt(var + eps), not sqrt(var) + eps"

    def wrong_axis(case, got, expected):
        x, g, b, eps = case["x"], case["gamma"], case["beta"], case["eps"]
        if x.shape[1] > 1 and matches(got, g * standardise(x, eps, axis=1) + b):
            return ("you normalised each sample (row) over its features: that is layer norm. Batch norm takes "
                    "the mean and variance of each feature (column) over the batch: axis=0")

    def no_affine(case, got, expected):
        x, eps = case["x"], case["eps"]
        if matches(got, standardise(x, eps)):
            return "the result should be scaled by gamma and shifted by beta: gamma * x_hat + beta"

    def swapped(case, got, expected):
        x, g, b, eps = case["x"], case["gamma"], case["beta"], case["eps"]
        if matches(got, b * standardise(x, eps) + g):
            return "gamma scales and beta shifts: gamma * x_hat + beta (you swapped them)"

    return [unbiased, no_eps, eps_outside, wrong_axis, no_affine, swapped]


def check_batchnorm_forward(fn) -> CheckResult:
    """Check ``fn(x, gamma, beta, eps) -> out``, batch norm in training mode for x of shape (N, C)."""
    return compare(fn, batchnorm_forward_reference, _bn_cases(), name="check_batchnorm_forward",
                   rtol=1e-6, atol=1e-8, hints=_bn_hints())
