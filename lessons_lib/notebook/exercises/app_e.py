"""Checkers for the exercises of Appendix E (the catalogue of other architectures).

- :func:`check_elm_fit`: the output weights of an extreme learning machine in closed form. The hidden layer is
  fixed and random, ``H = tanh(X @ W + b)`` with ``X`` (N, F), ``W`` (F, M), ``b`` (M,), so ``H`` is (N, M); the
  output weights are the ridge solution ``beta = (H^T H + lam I_M)^{-1} H^T Y`` of shape (M, C) for targets ``Y``
  (N, C). The equivalent dual form ``H^T (H H^T + lam I_N)^{-1} Y`` passes too (it is the same matrix when
  ``lam > 0``).

The hints recognise the usual slips by recomputing them: the ridge term dropped (plain least squares), ``lam``
added to every entry of ``H^T H`` instead of its diagonal, the bias forgotten, a sigmoid instead of tanh, the
ridge fitted on the raw inputs instead of the hidden features, the answer transposed, and ``lam`` scaled by the
number of examples.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import compare, same_values

__all__ = ["check_elm_fit", "elm_fit_reference"]


def _ridge(H, Y, lam):
    return np.linalg.solve(H.T @ H + lam * np.eye(H.shape[1]), H.T @ Y)


def elm_fit_reference(X, Y, W, b, lam):
    """Output weights (M, C) of an ELM: ``H = tanh(X W + b)``, then ``(H^T H + lam I)^{-1} H^T Y``."""
    H = np.tanh(X @ W + b)                      # (N, F) @ (F, M) + (M,) -> (N, M)
    return _ridge(H, Y, lam)                    # (M, M)^{-1} (M, C) -> (M, C)


def _cases():
    rng = np.random.default_rng(2006)
    cases = []
    # (examples N, inputs F, hidden M, classes C, lam): more examples than units, then fewer (the dual form's case)
    for n, f, m, c, lam in [(40, 5, 12, 3, 0.5), (30, 4, 8, 2, 2.0), (10, 3, 25, 4, 1.0), (60, 6, 20, 5, 5.0)]:
        labels = rng.integers(0, c, size=n)
        cases.append({
            "X": rng.normal(size=(n, f)),
            "Y": np.eye(c)[labels],                                  # one-hot targets (N, C)
            "W": rng.normal(size=(f, m)),
            "b": rng.normal(size=m),
            "lam": lam,
        })
    return cases


def _sizes(case) -> str:
    n, f = case["X"].shape
    return (f"N = {n} examples, F = {f} inputs, M = {case['W'].shape[1]} hidden units, C = {case['Y'].shape[1]} "
            f"outputs, lam = {case['lam']} (random X, W, b)")


def _as_array(got):
    try:
        return np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got, dtype=float)
    except (TypeError, ValueError):
        return None


def _hints():
    def slip(case, got, H=None, lam=None, how="ridge"):
        X, Y, W, b = case["X"], case["Y"], case["W"], case["b"]
        H = np.tanh(X @ W + b) if H is None else H
        lam = case["lam"] if lam is None else lam
        if how == "lstsq":
            beta = np.linalg.lstsq(H, Y, rcond=None)[0]
        elif how == "scalar":
            beta = np.linalg.solve(H.T @ H + lam, H.T @ Y)
        else:
            beta = _ridge(H, Y, lam)
        return same_values(got, beta)

    def transposed(case, got, expected):
        arr = _as_array(got)
        if arr is not None and arr.shape == expected.T.shape and arr.shape != expected.shape:
            return (f"your array has shape {arr.shape}; beta maps the M hidden units to the C outputs, so it is (M, C) "
                    "and predictions are H @ beta")

    def no_ridge(case, got, expected):
        if slip(case, got, how="lstsq"):
            return "that is plain least squares: the ridge term lam * I is missing from H^T H + lam I"

    def scalar_ridge(case, got, expected):
        if slip(case, got, how="scalar"):
            return ("you added lam to every entry of H^T H; the ridge adds it to the diagonal only: "
                    "H.T @ H + lam * np.eye(M)")

    def no_bias(case, got, expected):
        if slip(case, got, H=np.tanh(case["X"] @ case["W"])):
            return "the hidden layer has a bias: H = tanh(X @ W + b)"

    def sigmoid(case, got, expected):
        if slip(case, got, H=1 / (1 + np.exp(-(case["X"] @ case["W"] + case["b"])))):
            return "this exercise's hidden units are tanh, not sigmoid: H = np.tanh(X @ W + b)"

    def raw_inputs(case, got, expected):
        arr = _as_array(got)
        if arr is not None and arr.shape == (case["X"].shape[1], case["Y"].shape[1]):
            return ("beta has one row per input feature: the ridge was fitted on X itself. Fit it on the hidden "
                    "features H = tanh(X @ W + b), one row per hidden unit")

    def scaled_lam(case, got, expected):
        if slip(case, got, lam=case["lam"] * len(case["X"])):
            return ("you scaled lam by the number of examples (a convention for the mean squared error); here the "
                    "penalty is lam * ||beta||^2 on the summed error, so use lam itself")

    return [transposed, raw_inputs, no_ridge, scalar_ridge, no_bias, sigmoid, scaled_lam]


def _copied(case):
    """Fresh copies of the arrays (the reader's function may modify them in place); lam stays a Python float."""
    return {key: np.copy(v) if isinstance(v, np.ndarray) else v for key, v in case.items()}


def check_elm_fit(fn):
    """Check ``fn(X, Y, W, b, lam) -> beta`` (M, C): the ridge output weights of an ELM with hidden layer tanh(XW + b)."""
    def beta_difference(got, expected):
        arr = _as_array(got)
        if arr is None:
            return f"got {type(got).__name__}, expected an array of shape {expected.shape}"
        if arr.shape != expected.shape:
            return f"got shape {arr.shape}, expected (M, C) = {expected.shape}"
        if np.isnan(arr).any():
            return "your beta contains nan"
        if not np.allclose(arr, expected, rtol=1e-6, atol=1e-8):
            return f"beta is wrong: worst entry off by {np.max(np.abs(arr - expected)):.3g}"
        return None

    return compare(fn, elm_fit_reference, _cases(), name="check_elm_fit", describe=_sizes, hints=_hints(),
                   compare_fn=beta_difference, numbered=True)
