"""Checkers for the exercises of Chapter 20 (classic architectures and pretrained models).

- :func:`check_conv_cost`: the parameters and multiply-adds of one ``nn.Conv2d`` layer, groups and a
  rectangular kernel included;
- :func:`check_separable_ratio`: what a depthwise-separable convolution costs as a fraction of the standard
  convolution it replaces (MobileNet's ``1/N + 1/k^2``).

The book counts multiply-adds the way the MobileNet and ResNet papers and torchvision's tables do: one per
weight per output pixel, the bias additions left out. The references are checked against torch (parameter
counts of ``nn.Conv2d``, multiply-adds measured with forward hooks) and against
:func:`lessons_lib.models.cnn.separable_cost` in ``tests/test_exercises_ch20.py``.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.models.cnn import separable_cost
from lessons_lib.notebook.checking import CheckResult, compare

__all__ = ["check_conv_cost", "check_separable_ratio", "conv_cost_reference", "separable_ratio_reference"]


def _pair(kernel_size) -> tuple[int, int]:
    if isinstance(kernel_size, (tuple, list)):
        return int(kernel_size[0]), int(kernel_size[1])
    return int(kernel_size), int(kernel_size)


# ------------------------------------------------------------------------------------- conv cost


def conv_cost_reference(in_channels, out_channels, kernel_size, out_h, out_w, groups=1, bias=True):
    """(parameters, multiply-adds) of ``nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups,
    bias=bias)`` producing an ``out_h x out_w`` output for one image.

    Each of the ``out_channels`` filters has ``in_channels / groups * kh * kw`` weights (a grouped filter sees
    only its group's channels) and, with ``bias``, one bias. Every weight is used once per output pixel.
    """
    kh, kw = _pair(kernel_size)
    weights = out_channels * (in_channels // groups) * kh * kw
    return weights + (out_channels if bias else 0), weights * out_h * out_w


def _conv_cases():
    return [
        {"in_channels": 1, "out_channels": 6, "kernel_size": 5, "out_h": 28, "out_w": 28, "groups": 1, "bias": True},
        {"in_channels": 3, "out_channels": 64, "kernel_size": 3, "out_h": 32, "out_w": 32, "groups": 1, "bias": True},
        {"in_channels": 64, "out_channels": 128, "kernel_size": 3, "out_h": 16, "out_w": 16, "groups": 1,
         "bias": False},
        {"in_channels": 32, "out_channels": 64, "kernel_size": 1, "out_h": 8, "out_w": 8, "groups": 1, "bias": True},
        {"in_channels": 3, "out_channels": 64, "kernel_size": 11, "out_h": 55, "out_w": 55, "groups": 1, "bias": True},
        {"in_channels": 256, "out_channels": 256, "kernel_size": 3, "out_h": 14, "out_w": 14, "groups": 256,
         "bias": False},
        {"in_channels": 16, "out_channels": 32, "kernel_size": (3, 5), "out_h": 10, "out_w": 12, "groups": 4,
         "bias": True},
    ]


def _as_two_counts(got):
    """The reader's answer as two numbers (parameters, multiply-adds), or None."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return None
    try:
        values = [float(np.asarray(g.detach().cpu() if hasattr(g, "detach") else g)) for g in got]
    except (TypeError, ValueError):
        return None
    return values


def _compare_counts(got, expected) -> str | None:
    values = _as_two_counts(got)
    if values is None:
        kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
        return f"got {kind}; expected a pair (parameters, mult_adds)"
    for what, g, e in zip(("parameters", "mult-adds"), values, expected):
        if g != e:
            shown = f"{g:,.0f}" if np.isfinite(g) and g == int(g) else f"{g!r}"
            return f"{what}: got {shown}, expected {e:,}"
    return None


def _conv_hints():
    def counts(got):
        return _as_two_counts(got) or [None, None]

    def swapped(case, got, expected):
        p, m = counts(got)
        if (p, m) == (expected[1], expected[0]) and expected[0] != expected[1]:
            return "you returned (mult_adds, parameters); return (parameters, mult_adds) in that order"

    def bias(case, got, expected):
        p, _ = counts(got)
        if case["bias"] and p == expected[0] - case["out_channels"]:
            return "the biases are missing: with bias=True each output channel has one bias"
        if not case["bias"] and p == expected[0] + case["out_channels"]:
            return "bias=False means the layer has no bias at all: count only the weights"

    def groups(case, got, expected):
        p, m = counts(got)
        if case["groups"] == 1:
            return None
        full = conv_cost_reference(**{**case, "groups": 1})
        if p == full[0] or m == full[1]:
            return ("groups was ignored: with groups=g each filter sees only in_channels / g input channels, so the "
                    "weights (and the multiply-adds) shrink by a factor g (depthwise: g = in_channels)")

    def rectangle(case, got, expected):
        kh, kw = _pair(case["kernel_size"])
        if kh == kw:
            return None
        for k2 in (kh * kh, kw * kw, kh + kw):
            wrong = case["out_channels"] * (case["in_channels"] // case["groups"]) * k2
            if counts(got)[0] == wrong + case["out_channels"] * case["bias"]:
                return "a (kh, kw) kernel has kh * kw weights per input channel"

    def bias_in_mult_adds(case, got, expected):
        _, m = counts(got)
        if case["bias"] and m == expected[0] * case["out_h"] * case["out_w"]:
            return ("you counted the bias additions as multiply-adds; the book (like the MobileNet and ResNet "
                    "papers) counts one multiply-add per weight per output pixel and leaves the biases out")

    def per_pixel(case, got, expected):
        _, m = counts(got)
        weights = expected[0] - case["out_channels"] * case["bias"]
        if m == weights:
            return "that is the count for one output pixel: every weight is used once per pixel, out_h * out_w times"
        if m == weights // case["out_channels"] * case["out_h"] * case["out_w"]:
            return "that is the cost of one output channel: multiply by out_channels (one filter per output channel)"

    return [swapped, bias, groups, rectangle, bias_in_mult_adds, per_pixel]


def check_conv_cost(fn) -> CheckResult:
    """Check ``fn(in_channels, out_channels, kernel_size, out_h, out_w, groups=1, bias=True) -> (parameters,
    mult_adds)`` against the counts of ``nn.Conv2d``."""
    return compare(fn, conv_cost_reference, _conv_cases(), name="check_conv_cost", compare_fn=_compare_counts,
                   hints=_conv_hints())


# ------------------------------------------------------------------------------- separable ratio


def separable_ratio_reference(in_channels, out_channels, kernel_size):
    """Multiply-adds (or weights) of a depthwise-separable convolution divided by those of the standard
    convolution with the same channels and kernel: (k^2 M + M N) / (k^2 M N) = 1/N + 1/k^2."""
    return separable_cost(in_channels, out_channels, kernel_size, 1, 1)["ratio"]


def _ratio_cases():
    return [{"in_channels": m, "out_channels": n, "kernel_size": k}
            for m, n, k in [(256, 256, 3), (32, 64, 3), (512, 1024, 3), (64, 64, 5), (3, 32, 3), (128, 16, 7),
                            (16, 16, 1)]]


def _ratio_hints():
    def value(got):
        try:
            return float(np.asarray(got.detach().cpu() if hasattr(got, "detach") else got))
        except (TypeError, ValueError):
            return None

    def near(a, b):
        return a is not None and bool(np.isclose(a, b, rtol=1e-9, atol=0))

    def inverse(case, got, expected):
        if near(value(got), 1 / expected):
            return ("that is standard / separable, the saving factor; return separable / standard (below 1 for "
                    "k > 1)")

    def percent(case, got, expected):
        if near(value(got), 100 * expected):
            return "return a fraction, not a percentage"

    def saving(case, got, expected):
        if near(value(got), 1 - expected):
            return "that is the fraction saved (1 - ratio); return the fraction that remains, separable / standard"

    def one_part(case, got, expected):
        n, k = case["out_channels"], case["kernel_size"]
        if near(value(got), 1 / n):
            return "only the depthwise part was counted: add the pointwise 1x1 convolution (M * N weights)"
        if near(value(got), 1 / k**2):
            return "only the pointwise part was counted: add the depthwise k x k convolution (k^2 * M weights)"

    def one_over_k(case, got, expected):
        n, k = case["out_channels"], case["kernel_size"]
        if k > 1 and near(value(got), 1 / n + 1 / k):
            return "a k x k kernel has k^2 weights per channel: the ratio is 1/N + 1/k^2, not 1/N + 1/k"

    return [inverse, percent, saving, one_part, one_over_k]


def check_separable_ratio(fn) -> CheckResult:
    """Check ``fn(in_channels, out_channels, kernel_size) -> separable / standard cost``."""
    return compare(fn, separable_ratio_reference, _ratio_cases(), name="check_separable_ratio", rtol=1e-9,
                   atol=0.0, hints=_ratio_hints())
