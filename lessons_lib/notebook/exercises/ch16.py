"""Checkers for the exercises of Chapter 16 (hyperparameter tuning).

- :func:`check_log_uniform`: ``fn(lo, hi, n, rng)`` draws ``n`` numbers whose logarithm is uniform on
  ``[log lo, log hi]``; checked statistically (Kolmogorov-Smirnov test on the logarithms), for range and
  for reproducibility from the generator passed in;
- :func:`check_grid`: ``fn(space)`` returns the list of every combination (the Cartesian product) of the
  candidate lists in ``space``; any order of the configurations is accepted.

The reference solutions are :func:`log_uniform_reference` and :func:`grid_reference`.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED, CheckResult, attempt

__all__ = ["check_grid", "check_log_uniform", "grid_reference", "log_uniform_reference"]


def log_uniform_reference(lo, hi, n, rng):
    """exp of a uniform draw between log(lo) and log(hi)."""
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size=n))


def grid_reference(space):
    """One dict per element of the Cartesian product of the candidate lists."""
    names = list(space)
    return [dict(zip(names, combo)) for combo in itertools.product(*(space[k] for k in names))]


# ------------------------------------------------------------------------------------------ log-uniform

_LOG_CASES = [(1e-4, 1e-1), (1e-6, 1.0), (0.5, 8.0), (2.0, 3.0)]
_N = 4000


def check_log_uniform(fn) -> CheckResult:
    """Check ``fn(lo, hi, n, rng)`` -> array of ``n`` log-uniform samples in [lo, hi].

    For each range: the right count, every value inside [lo, hi], the logarithms pass a
    Kolmogorov-Smirnov test against the uniform distribution (p > 1e-4 at n = 4000; the reference's
    p-values are fixed by the seeds), the same seed gives the same draws and another seed other draws.
    """
    name = "log_uniform"
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    for i, (lo, hi) in enumerate(_LOG_CASES):
        where = f"lo = {lo:g}, hi = {hi:g}, n = {_N}"
        got, problem = attempt(name, fn, lo, hi, _N, np.random.default_rng(100 + i), where=where)
        if problem:
            return problem
        try:
            x = np.asarray(got, dtype=float).ravel()
        except (TypeError, ValueError):
            return CheckResult(name, FAILED, f"returned {type(got).__name__}; expected an array of {_N} numbers")
        if x.shape != (_N,):
            return CheckResult(name, FAILED, f"returned {x.size} numbers for {where}; expected {_N}. "
                               "Hint: pass size=n to the generator")
        if not np.isfinite(x).all() or x.min() < lo or x.max() > hi:
            msg = f"for {where} the values span [{np.nanmin(x):.3g}, {np.nanmax(x):.3g}], outside [{lo:g}, {hi:g}]"
            if np.isfinite(x).all() and x.min() > 0:
                if x.max() <= 10.0 ** hi * 1.0001 and x.min() >= 10.0 ** lo * 0.9999:
                    msg += (". Hint: lo and hi are the bounds themselves, not their exponents: "
                            "draw between log(lo) and log(hi)")
                else:
                    msg += (". Hint: use the same base for the logarithm and its inverse "
                            "(np.log with np.exp, or np.log10 with 10**)")
            return CheckResult(name, FAILED, msg)
        p_log = stats.kstest(np.log(x), stats.uniform(np.log(lo), np.log(hi) - np.log(lo)).cdf).pvalue
        if p_log < 1e-4:
            msg = f"for {where} the logarithms of the values are not uniform (Kolmogorov-Smirnov p = {p_log:.1e})"
            p_lin = stats.kstest(x, stats.uniform(lo, hi - lo).cdf).pvalue
            if p_lin > 1e-4:
                msg += (". Hint: these values are uniform in the number itself, so most of them land in the top decade; "
                        "draw u uniformly between log(lo) and log(hi) and return exp(u)")
            return CheckResult(name, FAILED, msg)
        again, problem = attempt(name, fn, lo, hi, _N, np.random.default_rng(100 + i), where=where)
        other, problem2 = attempt(name, fn, lo, hi, _N, np.random.default_rng(999 + i), where=where)
        if problem or problem2:
            return problem or problem2
        same = np.array_equal(np.asarray(again, dtype=float).ravel(), x)
        if not same or np.array_equal(np.asarray(other, dtype=float).ravel(), x):
            return CheckResult(name, FAILED, f"for {where} the draws do not follow the generator passed in: the same seed must "
                               "give the same values and another seed other values. Hint: draw from the rng argument, not from "
                               "np.random or a generator you create inside the function")
    return CheckResult(name, PASSED, f"all {len(_LOG_CASES)} ranges passed "
                       "(range, Kolmogorov-Smirnov test on the logarithms, reproducibility)")


# ------------------------------------------------------------------------------------------------ grid

_GRID_CASES = [
    {"lr": [0.1, 0.01, 0.001], "batch": [16, 64]},
    {"lr": [0.1, 0.01], "batch": [16, 64, 256], "act": ["relu", "tanh"]},
    {"depth": [2]},
    {"a": [1, 2, 3], "b": [1, 2, 3]},
]


def _key(config: dict, names) -> tuple:
    return tuple(repr(config.get(k, "<missing>")) for k in names)


def check_grid(fn) -> CheckResult:
    """Check ``fn(space)`` -> list of dicts, every combination of the candidates exactly once (any order)."""
    name = "grid"
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    for space in _GRID_CASES:
        expected = grid_reference(space)
        got, problem = attempt(name, fn, {k: list(v) for k, v in space.items()}, where=f"space = {space}")
        if problem:
            return problem
        try:
            got = list(got)
        except TypeError:
            return CheckResult(name, FAILED, f"returned {type(got).__name__} for space = {space}; expected a list of dicts")
        if not all(isinstance(c, dict) for c in got):
            wrong = type(next(c for c in got if not isinstance(c, dict))).__name__
            return CheckResult(name, FAILED, f"for space = {space} the result holds {wrong}; "
                               "expected one dict per configuration, e.g. {'lr': 0.1, 'batch': 16}")
        names = list(space)
        bad = next((c for c in got if set(c) != set(names)), None)
        if bad is not None:
            return CheckResult(name, FAILED, f"for space = {space} the configuration {bad} does not name exactly {names}. "
                               "Hint: every configuration sets every hyperparameter once")
        msg = f"for space = {space} you returned {len(got)} configurations; expected {len(expected)}"
        sizes = [len(v) for v in space.values()]
        if len(got) != len(expected):
            if len(got) == min(sizes) and len(names) > 1:
                msg += (". Hint: zip pairs the i-th values of each list; a grid needs every combination "
                        "(nested loops or itertools.product), so its size is the product of the list lengths")
            elif len(got) in (sum(sizes), sum(sizes) - len(sizes) + 1) and len(names) > 1:
                msg += (". Hint: that varies one hyperparameter at a time; a grid varies them jointly, "
                        "so its size is the product of the list lengths")
            return CheckResult(name, FAILED, msg)
        if sorted(_key(c, names) for c in got) != sorted(_key(c, names) for c in expected):
            dup = len({_key(c, names) for c in got}) < len(got)
            msg = f"for space = {space} the configurations are not the Cartesian product"
            if dup:
                msg += ". Hint: a combination appears twice (another is missing); build each combination once"
            return CheckResult(name, FAILED, msg)
    return CheckResult(name, PASSED, f"all {len(_GRID_CASES)} spaces passed")
