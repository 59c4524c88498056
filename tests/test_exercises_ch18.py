"""The Chapter 18 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import math

import numpy as np
import torch
import torch.nn.functional as F

from lessons_lib.functional.conv import conv2d, conv_output_size
from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch18 import (
    SIZE_CASES,
    check_conv2d_loops,
    check_output_size,
    conv2d_loops_reference,
    output_size_reference,
)

# --------------------------------------------------------------------------------------------- output size


def test_size_reference_is_torch_and_the_formula():
    for n, k, p, s in SIZE_CASES:
        expected = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]
        assert output_size_reference(n, k, p, s) == expected == conv_output_size(n, k, p, s)
    assert any((n - k + 2 * p) % s for n, k, p, s in SIZE_CASES), "some case must need the floor"


def test_correct_output_sizes_pass():
    assert check_output_size(output_size_reference).status == PASSED
    assert check_output_size(conv_output_size).passed
    assert check_output_size(lambda n, k, p, s: math.floor((n - k + 2 * p) / s) + 1).passed
    assert check_output_size(lambda n, k, p, s: int((n + 2 * p - k) / s) + 1).passed   # truncation = floor here
    assert check_output_size(lambda n, k, p, s: np.int64((n - k + 2 * p) // s + 1)).passed


def _fails_with(fn, words):
    result = check_output_size(fn)
    assert result.status == FAILED, result
    assert words in result.message, result.message
    return result


def test_missing_floor_is_diagnosed():
    result = _fails_with(lambda n, k, p, s: (n - k + 2 * p) / s + 1, "forgot the floor")
    assert "n = 6, k = 3, p = 0, s = 2" in result.message      # the case where the floor matters


def test_rounding_up_or_to_nearest_is_diagnosed():
    _fails_with(lambda n, k, p, s: math.ceil((n - k + 2 * p) / s) + 1, "rounded up")
    _fails_with(lambda n, k, p, s: round((n - k + 2 * p) / s) + 1, "rounded up")


def test_padding_counted_once_is_diagnosed():
    _fails_with(lambda n, k, p, s: (n - k + p) // s + 1, "n + 2p")


def test_missing_plus_one_is_diagnosed():
    _fails_with(lambda n, k, p, s: (n - k + 2 * p) // s, "add 1")


def test_positions_divided_by_stride_is_diagnosed():
    _fails_with(lambda n, k, p, s: (n - k + 2 * p + 1) // s, "number of stride-1 positions")


def test_operator_precedence_is_diagnosed():
    _fails_with(lambda n, k, p, s: n - k + 2 * p // s + 1, "precedence")
    _fails_with(lambda n, k, p, s: n - k + 2 * p / s + 1, "precedence")


def test_a_float_with_the_right_value_is_named():
    result = _fails_with(lambda n, k, p, s: float((n - k + 2 * p) // s + 1), "return an int")
    assert "every value is right" in result.message
    _fails_with(lambda n, k, p, s: np.floor((n - k + 2 * p) / s) + 1, "return an int")


def test_size_crash_and_non_numbers_are_reported():
    result = check_output_size(lambda n, k, p, s: n // 0)
    assert result.status == ERROR and "ZeroDivisionError" in result.message
    result = check_output_size(lambda n, k, p, s: "3")
    assert result.status == FAILED and "whole number" in result.message


# --------------------------------------------------------------------------------------------- conv loops


def _loops(x, w, stride, padding, flip=False, pad_mode="constant"):
    w = w[::-1, ::-1] if flip else w
    x = np.pad(x, padding, mode=pad_mode)
    kh, kw = w.shape
    out = np.zeros(((x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i * stride : i * stride + kh, j * stride : j * stride + kw] * w)
    return out


def test_conv_reference_matches_the_library():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(7, 6)), rng.normal(size=(2, 3))
    assert np.allclose(conv2d_loops_reference(x, w, 2, 1), conv2d(x[None, None], w[None, None], stride=2, padding=1)[0, 0])


def test_correct_convolutions_pass():
    assert check_conv2d_loops(conv2d_loops_reference).status == PASSED
    assert check_conv2d_loops(_loops).passed

    def via_torch(x, w, stride, padding):
        return F.conv2d(torch.tensor(x)[None, None], torch.tensor(w)[None, None], stride=stride, padding=padding)[0, 0]

    assert check_conv2d_loops(via_torch).passed
    assert check_conv2d_loops(lambda x, w, stride, padding: conv2d(x[None, None], w[None, None], stride=stride,
                                                                   padding=padding)[0, 0]).passed


def _conv_fails_with(fn, words):
    result = check_conv2d_loops(fn)
    assert result.status == FAILED, result
    assert words in result.message, result.message


def test_flipped_kernel_is_diagnosed():
    _conv_fails_with(lambda x, w, stride, padding: _loops(x, w, stride, padding, flip=True), "flipped the kernel")


def test_ignored_padding_and_stride_are_diagnosed():
    _conv_fails_with(lambda x, w, stride, padding: _loops(x, w, stride, 0), "padding was ignored")
    _conv_fails_with(lambda x, w, stride, padding: _loops(x, w, 1, padding), "stride was ignored")


def test_edge_padding_is_diagnosed():
    _conv_fails_with(lambda x, w, stride, padding: _loops(x, w, stride, padding, pad_mode="edge"), "torch pads with zeros")


def test_swapped_axes_are_diagnosed():
    _conv_fails_with(lambda x, w, stride, padding: _loops(x, w, stride, padding).T, "swapped")


def test_wrong_output_shape_is_explained():
    def cropped(x, w, stride, padding):
        return _loops(x, w, stride, padding)[:-1]            # drops the last row of windows

    _conv_fails_with(cropped, "the output should be")


def test_conv_crash_is_reported():
    result = check_conv2d_loops(lambda x, w, stride, padding: x @ np.ones((2, 2)))
    assert result.status == ERROR and "ValueError" in result.message
