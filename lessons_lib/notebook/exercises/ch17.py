"""Checkers for the exercises of Chapter 17 (why convolutions?).

- :func:`check_conv_params`: the number of parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size,
  bias=bias, groups=groups)``, a rectangular kernel included;
- :func:`check_shift_image`: moving a 2-D image by (dy, dx) pixels with zero fill, the "shift" of translation
  equivariance.

The parameter reference is checked against ``nn.Conv2d`` in ``tests/test_exercises_ch17.py``. The hints
recognise the usual slips: the biases forgotten (or counted when ``bias=False``), the input channels left out,
``groups`` ignored or applied twice, a dense layer's count, ``kH * kH`` for a rectangular kernel; for the shift,
``np.roll`` (which wraps around), swapped axes, the opposite direction, the ``a[:-0]`` trap and changing the input.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED, CheckResult, attempt, compare, describe_case

__all__ = ["check_conv_params", "check_shift_image", "conv_params_reference", "shift_image_reference"]


# ------------------------------------------------------------------------------------- conv params


def _pair(kernel_size) -> tuple[int, int]:
    if isinstance(kernel_size, (tuple, list)):
        return int(kernel_size[0]), int(kernel_size[1])
    return int(kernel_size), int(kernel_size)


def conv_params_reference(in_channels, out_channels, kernel_size, bias=True, groups=1):
    """Parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias, groups=groups)``.

    Each of the ``out_channels`` filters has ``in_channels / groups * kH * kW`` weights (with groups, a filter
    reads only the channels of its group) and, with ``bias``, one bias.
    """
    kh, kw = _pair(kernel_size)
    return out_channels * (in_channels // groups) * kh * kw + (out_channels if bias else 0)


def _params_cases():
    rows = [  # in, out, kernel, bias, groups
        (3, 1, 3, True, 1),         # the chapter's 28
        (3, 64, 3, True, 1),
        (1, 6, 5, True, 1),         # LeNet-5's first layer
        (16, 32, (3, 5), True, 1),  # a rectangular kernel
        (64, 128, 3, False, 1),     # followed by BatchNorm: no bias
        (32, 32, 3, True, 32),      # depthwise (MobileNet)
        (64, 128, 1, False, 4),     # a grouped 1x1 convolution
        (8, 16, (5, 1), False, 2),
    ]
    return [{"in_channels": i, "out_channels": o, "kernel_size": k, "bias": b, "groups": g} for i, o, k, b, g in rows]


def _params_hints():
    def number(got):
        try:
            value = float(np.asarray(got.detach().cpu() if hasattr(got, "detach") else got))
        except (TypeError, ValueError):
            return None
        return value if np.isfinite(value) else None

    def parts(case):
        kh, kw = _pair(case["kernel_size"])
        c_in, c_out, g = case["in_channels"], case["out_channels"], case["groups"]
        return kh, kw, c_in, c_out, g, (c_out if case["bias"] else 0)

    def is_(got, value):
        n = number(got)
        return n is not None and n == value

    def bias(case, got, expected):
        kh, kw, c_in, c_out, g, b = parts(case)
        if case["bias"] and is_(got, expected - c_out):
            return "you left out the biases: with bias=True every filter (output channel) has one bias"
        if not case["bias"] and is_(got, expected + c_out):
            return "bias=False means the layer has no biases at all (a BatchNorm after it supplies the shift)"
        if is_(got, expected - b + c_in):
            return "the biases belong to the output channels: one per filter, not one per input channel"

    def input_channels(case, got, expected):
        kh, kw, c_in, c_out, g, b = parts(case)
        if c_in // g > 1 and is_(got, c_out * kh * kw + b):
            return ("each filter spans all the input channels of its group: kH * kW weights per input channel, "
                    "in_channels / groups of them (a 3x3 RGB filter has 3 * 3 * 3 = 27 weights)")

    def groups(case, got, expected):
        kh, kw, c_in, c_out, g, b = parts(case)
        if g == 1:
            return None
        if is_(got, c_out * c_in * kh * kw + b):
            return ("groups was ignored: with groups=g a filter reads only the in_channels / g channels of its "
                    "group, so there are g times fewer weights")
        if is_(got, (c_out // g) * (c_in // g) * kh * kw + b):
            return ("groups was applied twice: there are still out_channels filters in all (out_channels / g per "
                    "group), each with in_channels / g * kH * kW weights")

    def dense(case, got, expected):
        kh, kw, c_in, c_out, g, b = parts(case)
        if is_(got, c_in * c_out + b) and kh * kw > 1:
            return ("that is a dense layer from in_channels to out_channels; a convolution filter has kH * kW "
                    "weights for each input channel it reads")

    def rectangle(case, got, expected):
        kh, kw, c_in, c_out, g, b = parts(case)
        if kh == kw:
            return None
        for k2 in (kh * kh, kw * kw, kh + kw):
            if is_(got, c_out * (c_in // g) * k2 + b):
                return "a (kH, kW) kernel has kH * kW weights per input channel"

    return [bias, input_channels, groups, dense, rectangle]


def check_conv_params(fn) -> CheckResult:
    """Check ``fn(in_channels, out_channels, kernel_size, bias=True, groups=1) -> number of parameters``."""
    return compare(fn, conv_params_reference, _params_cases(), name="check_conv_params", rtol=0, atol=0,
                   hints=_params_hints())


# ------------------------------------------------------------------------------------------- shift


def shift_image_reference(image, dy, dx):
    """``image`` (H, W) moved dy rows down and dx columns right (negative: up, left); the uncovered pixels
    are 0 and pixels moved past an edge are lost. Returns a new array; the input is not changed."""
    image = np.asarray(image)
    h, w = image.shape
    out = np.zeros_like(image)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = image[max(-dy, 0):h - max(dy, 0),
                                                                      max(-dx, 0):w - max(dx, 0)]
    return out


def _shift_cases():
    rng = np.random.default_rng(17)
    image = rng.integers(1, 10, size=(5, 7)).astype(np.float64)  # no zeros: a wrapped or lost pixel is visible
    shifts = [(1, 2), (-2, 1), (2, -3), (0, 3), (-1, 0), (0, 0), (6, 0), (1, -7), (-4, -6)]
    return [{"image": image.copy(), "dy": dy, "dx": dx} for dy, dx in shifts]


def _as_float_array(out):
    try:
        return np.asarray(out.detach().cpu().numpy() if hasattr(out, "detach") else out, dtype=np.float64)
    except (TypeError, ValueError):
        return None


_MINUS_ZERO = ("with a shift of 0 a slice such as image[:-dy] is image[:-0] = image[:0], which is empty; write "
               "the end of the slice as h - dy (or handle a zero shift separately)")


def _shift_problem(case, out) -> str | None:
    """None when ``out`` is the shifted image, else what is wrong, with a hint for the usual slips."""
    image, dy, dx = case["image"], case["dy"], case["dx"]
    expected = shift_image_reference(image, dy, dx)
    got = _as_float_array(out)
    if got is None or got.ndim == 0:
        return f"returned {type(out).__name__}; expected an array of the image's shape {image.shape}"
    if got.shape != image.shape:
        return f"got shape {got.shape}, expected the image's shape {image.shape}: the shifted image keeps its size"
    if np.array_equal(got, expected):
        return None
    def flat(a):
        return np.array2string(a, separator=", ").replace("\n", "")

    start = f"got {flat(got)}, expected {flat(expected)}"
    if np.array_equal(got, np.roll(image, (dy, dx), axis=(0, 1))):
        return (f"{start}. Hint: the pixels pushed past one edge came back at the other: np.roll wraps around. "
                "Uncovered pixels must be 0 (and the pixels pushed out are lost)")
    if (dy, dx) != (0, 0) and np.array_equal(got, shift_image_reference(image, -dy, -dx)):
        return (f"{start}. Hint: the content moved the wrong way: a positive dy moves it DOWN (to larger row "
                "indices), a positive dx moves it RIGHT")
    h, w = image.shape
    if dy != dx and abs(dx) < h and abs(dy) < w and np.array_equal(got, shift_image_reference(image, dx, dy)):
        return f"{start}. Hint: dy and dx are swapped: dy moves rows (axis 0), dx moves columns (axis 1)"
    if (dy == 0 or dx == 0) and not np.any(got) and np.any(expected):
        return f"{start}. Hint: {_MINUS_ZERO}"
    if np.array_equal(got, image) and (dy, dx) != (0, 0):
        return f"{start}. Hint: the image came back unchanged"
    if dy < 0 or dx < 0:
        return (f"{start}. Hint: a negative shift moves the content up (or left): rows image[-dy:] land in "
                "out[:h + dy], and the bottom -dy rows become 0")
    return start


def check_shift_image(fn) -> CheckResult:
    """Check ``fn(image, dy, dx) -> shifted copy`` (zero fill) on shifts in every direction, zero and too large."""
    name = "check_shift_image"
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    cases = _shift_cases()
    for case in cases:
        given = case["image"].copy()
        out, error = attempt(name, fn, given, case["dy"], case["dx"], where=describe_case(case))
        if error:
            if error.status == ERROR and 0 in (case["dy"], case["dx"]) and "broadcast" in error.message:
                return CheckResult(name, ERROR, error.message + f". Hint: {_MINUS_ZERO}")
            return error
        if not np.array_equal(given, case["image"]):
            return CheckResult(name, FAILED, f"fails for {describe_case(case)}: the input image was changed. "
                               "Hint: build the result in a new array (np.zeros_like(image)) and leave the input alone")
        problem = _shift_problem(case, out)
        if problem:
            return CheckResult(name, FAILED, f"fails for {describe_case(case)}: {problem}")
        if out is given:
            return CheckResult(name, FAILED, f"fails for {describe_case(case)}: you returned the input array "
                               "itself; return a new array")
    return CheckResult(name, PASSED, f"all {len(cases)} shifts passed (every direction, zero, and off the canvas)")
