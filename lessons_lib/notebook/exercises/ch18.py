"""Checkers for the exercises of Chapter 18 (convolution mechanics).

- :func:`check_output_size`: the output length of a convolution along one axis, floor((n - k + 2p) / s) + 1,
  compared with the shape PyTorch produces;
- :func:`check_conv2d_loops`: a convolution of one grey image with one kernel, padding and stride, written with
  loops, compared with ``torch.nn.functional.conv2d``.

Both recognise the usual slips. For the size: a missing floor, a ceiling or rounding, the padding counted once,
a missing +1, the stride-1 count divided by the stride, operator precedence, a float instead of an int. For the
loops: a flipped kernel (the mathematical convolution), padding or stride ignored, padding with border copies
instead of zeros, rows and columns swapped, an output of the wrong shape.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, compare, describe_case, same_values

__all__ = ["check_conv2d_loops", "check_output_size", "conv2d_loops_reference", "output_size_reference"]


# --------------------------------------------------------------------------------------------- output size


def _torch():
    import torch  # lazily, like lessons_lib.device: importing the checkers should not cost torch's import

    return torch


def output_size_reference(n, k, p, s):
    """The length torch's conv2d gives along one axis (measured on a tiny zero tensor, not computed by a formula)."""
    torch = _torch()
    x = torch.zeros(1, 1, 1, n, dtype=torch.float64)
    w = torch.zeros(1, 1, 1, k, dtype=torch.float64)
    return int(torch.nn.functional.conv2d(x, w, stride=(1, s), padding=(0, p)).shape[-1])


# Simplest first, so a slip shows on the smallest case that reveals it; (6, 3, 0, 2) is where the floor matters.
SIZE_CASES = [
    (5, 3, 0, 1), (5, 3, 1, 1), (5, 3, 0, 2), (6, 3, 0, 2), (5, 3, 1, 2), (7, 3, 0, 2), (28, 5, 2, 1),
    (32, 5, 0, 1), (10, 4, 1, 3), (224, 7, 3, 2), (224, 3, 1, 2), (13, 3, 0, 4), (8, 2, 0, 2), (9, 4, 0, 1),
    (1, 1, 0, 1), (3, 5, 1, 1), (128, 3, 8, 4), (100, 11, 0, 5),
]


def _size_cases():
    return [{"n": n, "k": k, "p": p, "s": s} for n, k, p, s in SIZE_CASES]


def _as_number(got):
    if isinstance(got, (str, bytes)):
        return None
    try:
        return float(got)
    except (TypeError, ValueError):
        return None


def _size_difference(got, expected) -> str | None:
    """None when ``got`` has the expected value (its type is checked once every value is right)."""
    value = _as_number(got)
    if value is None:
        return f"got {got!r} ({type(got).__name__}), expected a whole number like {expected}"
    return None if value == expected else f"got {value:g}, expected {expected}"


def _is_int(got) -> bool:
    return isinstance(got, Integral) and not isinstance(got, bool)


def _size_hints():
    def matches(case, got, expected, value):
        number = _as_number(got)
        return number is not None and number != expected and math.isclose(number, value, rel_tol=0, abs_tol=1e-9)

    def no_floor(case, got, expected):
        n, k, p, s = case["n"], case["k"], case["p"], case["s"]
        if matches(case, got, expected, (n - k + 2 * p) / s + 1):
            return ("you forgot the floor: (n - k + 2p) / s is not always whole, and only windows that fit "
                    "entirely count; use (n - k + 2*p) // s + 1")

    def rounded_up(case, got, expected):
        n, k, p, s = case["n"], case["k"], case["p"], case["s"]
        if matches(case, got, expected, math.ceil((n - k + 2 * p) / s) + 1):
            return ("you rounded up (math.ceil, or round() on a fraction of one half or more): a last window that "
                    "would stick out of the padded input is not computed, so round down (floor)")

    def padding_once(case, got, expected):
        n, k, p, s = case["n"], case["k"], case["p"], case["s"]
        if matches(case, got, expected, (n - k + p) // s + 1):
            return "padding is added on both sides of the axis, so the padded length is n + 2p, not n + p"

    def positions_over_stride(case, got, expected):
        n, k, p, s = case["n"], case["k"], case["p"], case["s"]
        if matches(case, got, expected, (n - k + 2 * p + 1) // s):
            return ("you divided the number of stride-1 positions, n - k + 2p + 1, by the stride; the windows "
                    "start at 0, s, 2s, ... up to n + 2p - k, which gives (n - k + 2p) // s + 1")

    def no_plus_one(case, got, expected):
        n, k, p, s = case["n"], case["k"], case["p"], case["s"]
        if matches(case, got, expected, (n - k + 2 * p) // s):
            return ("off by one: (n - k + 2p) // s counts the steps between windows; add 1 for the window at "
                    "position 0")

    def precedence(case, got, expected):
        n, k, p, s = case["n"], case["k"], case["p"], case["s"]
        if matches(case, got, expected, n - k + 2 * p // s + 1) or matches(case, got, expected, n - k + 2 * p / s + 1):
            return ("operator precedence: / and // bind tighter than + and -, so only 2p was divided by s; "
                    "write (n - k + 2*p) // s + 1")

    # A slip that shows first at stride 1 (no +1) cannot match the stride-1 positions formula, which is then
    # correct; so positions_over_stride goes before no_plus_one, which it equals on its own first failure.
    return [precedence, no_floor, rounded_up, padding_once, positions_over_stride, no_plus_one]


def check_output_size(fn) -> CheckResult:
    """Check ``fn(n, k, p, s) -> int`` against the output length of ``torch.nn.functional.conv2d``.

    Values first, on every case (so a missing floor is named as such), then the type: a size is an int."""
    name = "check_output_size"
    cases = _size_cases()
    result = compare(fn, output_size_reference, cases, name=name, hints=_size_hints(), compare_fn=_size_difference)
    if not result.passed:
        return result
    for case in cases:
        got, error = attempt(name, fn, **case, where=describe_case(case))
        if error:
            return error
        if not _is_int(got):
            return CheckResult(name, FAILED, (
                f"every value is right, but for {describe_case(case)} you returned {got!r}, a {type(got).__name__}; "
                "a size counts windows, so return an int (// gives one; / and np.floor give floats)"))
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed, including cases where the floor matters")


# --------------------------------------------------------------------------------------------- conv loops


def conv2d_loops_reference(x, w, stride, padding):
    """torch's conv2d on one image (H, W) and one kernel (kH, kW): cross-correlation, zero padding."""
    torch = _torch()
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))[None, None]
    wt = torch.as_tensor(np.asarray(w, dtype=np.float64))[None, None]
    return torch.nn.functional.conv2d(xt, wt, stride=stride, padding=padding)[0, 0].numpy()


def _conv_cases():
    rng = np.random.default_rng(18)
    shapes = [((5, 5), (3, 3), 1, 0), ((5, 5), (3, 3), 1, 1), ((5, 5), (3, 3), 2, 0), ((5, 5), (3, 3), 2, 1),
              ((6, 6), (3, 3), 2, 0), ((7, 6), (2, 3), 1, 0), ((8, 9), (3, 3), 3, 2), ((9, 7), (4, 2), 2, 1)]
    return [{"x": rng.normal(size=xs).round(2) + 0.0, "w": rng.normal(size=ws).round(2) + 0.0, "stride": s, "padding": p}
            for xs, ws, s, p in shapes]


def _plain_loops(x, w, stride, padding, *, flip=False, pad_mode="constant"):
    """A loop convolution with one slip switched on (the hints compare the reader's answer with these)."""
    w = np.asarray(w)[::-1, ::-1] if flip else np.asarray(w)
    x = np.pad(np.asarray(x, dtype=np.float64), padding, mode=pad_mode)
    kh, kw = w.shape
    h_out, w_out = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = np.sum(x[i * stride : i * stride + kh, j * stride : j * stride + kw] * w)
    return out


def _conv_hints():
    def flipped(case, got, expected):
        if not same_values(got, expected) and same_values(got, _plain_loops(**case, flip=True)):
            return ("you flipped the kernel, which is the mathematical convolution; torch (and every deep-learning "
                    "library) computes the cross-correlation: out[i, j] = sum of x[i*s + u, j*s + v] * w[u, v], "
                    "no flip")

    def padding_ignored(case, got, expected):
        if case["padding"] and same_values(got, conv2d_loops_reference(**{**case, "padding": 0})):
            return f"padding was ignored: pad x with {case['padding']} zero(s) on every side first (np.pad(x, padding))"

    def edge_padding(case, got, expected):
        if case["padding"] and same_values(got, _plain_loops(**case, pad_mode="edge")):
            return ("you padded with copies of the border pixels; torch pads with zeros (padding_mode='zeros'): "
                    "np.pad(x, padding) does that")

    def stride_ignored(case, got, expected):
        if case["stride"] > 1 and same_values(got, conv2d_loops_reference(**{**case, "stride": 1})):
            s = case["stride"]
            return f"stride was ignored: output (i, j) reads the window whose top-left corner is at (i*{s}, j*{s})"

    def transposed(case, got, expected):
        if same_values(got, np.asarray(expected).T) and not same_values(got, expected):
            return "rows and columns are swapped: out[i, j] is row i, column j (x[i*s + u, j*s + v] * w[u, v])"

    def wrong_shape(case, got, expected):
        shape = getattr(got, "shape", None)
        if shape is not None and tuple(shape) != expected.shape:
            (h, wd), (kh, kw) = case["x"].shape, case["w"].shape
            return (f"the output should be {expected.shape[0]} x {expected.shape[1]}: "
                    f"(H + 2P - kH) // S + 1 = ({h} + {2 * case['padding']} - {kh}) // {case['stride']} + 1 rows and "
                    f"({wd} + {2 * case['padding']} - {kw}) // {case['stride']} + 1 columns")

    return [flipped, padding_ignored, edge_padding, stride_ignored, transposed, wrong_shape]


def check_conv2d_loops(fn) -> CheckResult:
    """Check ``fn(x, w, stride, padding) -> (H_out, W_out) array`` against torch's conv2d on one grey image."""
    result = compare(fn, conv2d_loops_reference, _conv_cases(), name="check_conv2d_loops", rtol=1e-9, atol=1e-9,
                     hints=_conv_hints())
    if result.passed:
        result.message = (f"{result.message}: cross-correlation, zero padding, strides and non-square kernels agree "
                          "with torch.nn.functional.conv2d")
    return result
