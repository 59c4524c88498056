"""Checker for the exercise of appendix K (projects and industry readiness).

- :func:`check_accuracy_interval`: the Wilson score interval for an accuracy measured on a test set,
  ``fn(correct, n, z=1.96) -> (low, high)``: the honest way to report "92% on 180 test images".

The reference is the closed form of Wilson (1927),

    centre = (p + z^2 / 2n) / (1 + z^2 / n),   half-width = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2),

with p = correct / n, which equals ``scipy.stats.binomtest(correct, n).proportion_ci(method="wilson")`` (tested in
``tests/test_exercises_app_k.py``). The hints recompute the usual slips: the Wald interval p +- z sqrt(p (1 - p) / n)
(which has zero width at 0% or 100%), the Wald interval clipped to [0, 1], a hard-coded z = 1.96 that ignores the
argument, the pair (centre, half-width) instead of (low, high), and n - 1 in place of n.
"""

from __future__ import annotations

import math

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, as_arrays, attempt

__all__ = ["check_accuracy_interval", "interval_variant", "wilson_interval_reference"]


def interval_variant(correct, n, z=1.96, *, kind="wilson", fixed_z=False, n_minus_one=False, centre_half=False):
    """The interval with one slip (used by the hints and the tests); ``kind`` is "wilson", "wald" or "wald_clipped"."""
    z = 1.96 if fixed_z else z
    m = n - 1 if n_minus_one else n
    p = correct / n
    if kind == "wilson":
        centre = (p + z * z / (2 * m)) / (1 + z * z / m)
        half = z / (1 + z * z / m) * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m))
    else:
        centre, half = p, z * math.sqrt(p * (1 - p) / m)
    if centre_half:
        return centre, half
    low, high = centre - half, centre + half
    if kind == "wald_clipped":
        low, high = max(0.0, low), min(1.0, high)
    return low, high


def wilson_interval_reference(correct, n, z=1.96):
    """Wilson's score interval (low, high) for a proportion ``correct / n`` at the normal quantile ``z``."""
    return interval_variant(correct, n, z)


CASES = [
    {"correct": 9, "n": 10, "z": 2.576},       # first: Wald leaves [0, 1] here, so clipping shows; and z must be used
    {"correct": 170, "n": 180, "z": 1.96},
    {"correct": 50, "n": 50, "z": 1.96},       # a perfect score: Wald gives zero width
    {"correct": 0, "n": 20, "z": 1.96},
    {"correct": 412, "n": 500, "z": 1.645},
    {"correct": 3, "n": 7, "z": 1.96},
]

SLIPS = [
    ({"centre_half": True}, "you returned (centre, half-width); return the interval's ends, (low, high)"),
    ({"kind": "wald"}, "that is the Wald interval p +- z sqrt(p (1 - p) / n). It is too narrow for small n or p near "
                       "0 or 1 (at 100% it has width zero, and it can leave [0, 1]); use Wilson's centre and half-width"),
    ({"kind": "wald_clipped"}, "that is the Wald interval clipped to [0, 1]: clipping hides the problem, the interval is "
                               "still too narrow near 0% and 100%; use Wilson's formula"),
    ({"fixed_z": True}, "you used z = 1.96 whatever the argument; a 99% interval uses z = 2.576, a 90% one 1.645"),
    ({"n_minus_one": True}, "you used n - 1; a proportion's variance is p (1 - p) / n"),
]


def check_accuracy_interval(fn) -> CheckResult:
    """Check ``fn(correct, n, z=1.96) -> (low, high)`` against Wilson's score interval."""
    name = "check_accuracy_interval"
    for k, case in enumerate(CASES, 1):
        where = f"correct = {case['correct']}, n = {case['n']}, z = {case['z']}"
        got, error = attempt(name, fn, **case, where=where)
        if error:
            return error
        parts = as_arrays(got, 2)
        if parts is None or any(p.size != 1 for p in parts):
            return CheckResult(name, FAILED, f"for {where} got {got!r}; return a pair of numbers (low, high)")
        low, high = (float(p) for p in parts)
        expected = wilson_interval_reference(**case)
        if np.allclose([low, high], expected, atol=1e-6):
            continue
        message = (f"fails for {where}, case {k} of {len(CASES)}: got ({low:.4f}, {high:.4f}), expected "
                   f"({expected[0]:.4f}, {expected[1]:.4f})")
        for slip, hint in SLIPS:
            if np.allclose([low, high], interval_variant(**case, **slip), atol=1e-6):
                message += f". Hint: {hint}"
                break
        return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(CASES)} checks passed")
