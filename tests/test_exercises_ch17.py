"""The Chapter 17 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch17 import (
    _params_cases,
    _shift_cases,
    check_conv_params,
    check_shift_image,
    conv_params_reference,
    shift_image_reference,
)

# ------------------------------------------------------------------------------------- conv params


@pytest.mark.parametrize("case", _params_cases(), ids=lambda c: str(tuple(c.values())))
def test_conv_params_reference_matches_torch(case):
    layer = torch.nn.Conv2d(case["in_channels"], case["out_channels"], case["kernel_size"], bias=case["bias"],
                            groups=case["groups"], device="meta")
    assert conv_params_reference(**case) == sum(p.numel() for p in layer.parameters())


def test_conv_params_reference_and_torch_pass():
    assert check_conv_params(conv_params_reference).status == PASSED
    assert conv_params_reference(3, 1, 3) == 28

    def via_torch(in_channels, out_channels, kernel_size, bias=True, groups=1):
        layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias, groups=groups, device="meta")
        return sum(p.numel() for p in layer.parameters())

    assert check_conv_params(via_torch).passed


def _kernel(kernel_size):
    return (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size


def test_conv_params_forgotten_bias_is_diagnosed():
    def no_bias(in_channels, out_channels, kernel_size, bias=True, groups=1):
        kh, kw = _kernel(kernel_size)
        return out_channels * (in_channels // groups) * kh * kw

    result = check_conv_params(no_bias)
    assert result.status == FAILED and "left out the biases" in result.message


def test_conv_params_bias_despite_bias_false_is_diagnosed():
    def always_bias(in_channels, out_channels, kernel_size, bias=True, groups=1):
        kh, kw = _kernel(kernel_size)
        return out_channels * (in_channels // groups) * kh * kw + out_channels

    result = check_conv_params(always_bias)
    assert result.status == FAILED and "bias=False" in result.message


def test_conv_params_bias_per_input_channel_is_diagnosed():
    def input_bias(in_channels, out_channels, kernel_size, bias=True, groups=1):
        kh, kw = _kernel(kernel_size)
        return out_channels * (in_channels // groups) * kh * kw + (in_channels if bias else 0)

    result = check_conv_params(input_bias)
    assert result.status == FAILED and "not one per input channel" in result.message


def test_conv_params_forgotten_input_channels_is_diagnosed():
    def no_inputs(in_channels, out_channels, kernel_size, bias=True, groups=1):
        kh, kw = _kernel(kernel_size)
        return out_channels * kh * kw + (out_channels if bias else 0)

    result = check_conv_params(no_inputs)
    assert result.status == FAILED and "27 weights" in result.message


def test_conv_params_groups_ignored_or_applied_twice_is_diagnosed():
    def ignored(in_channels, out_channels, kernel_size, bias=True, groups=1):
        kh, kw = _kernel(kernel_size)
        return out_channels * in_channels * kh * kw + (out_channels if bias else 0)

    result = check_conv_params(ignored)
    assert result.status == FAILED and "groups was ignored" in result.message and "groups = 32" in result.message

    def twice(in_channels, out_channels, kernel_size, bias=True, groups=1):
        kh, kw = _kernel(kernel_size)
        return (out_channels // groups) * (in_channels // groups) * kh * kw + (out_channels if bias else 0)

    result = check_conv_params(twice)
    assert result.status == FAILED and "applied twice" in result.message


def test_conv_params_dense_count_and_square_kernel_are_diagnosed():
    def dense(in_channels, out_channels, kernel_size, bias=True, groups=1):
        return in_channels * out_channels + (out_channels if bias else 0)

    result = check_conv_params(dense)
    assert result.status == FAILED and "dense layer" in result.message

    def square(in_channels, out_channels, kernel_size, bias=True, groups=1):
        k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        return out_channels * (in_channels // groups) * k * k + (out_channels if bias else 0)

    result = check_conv_params(square)
    assert result.status == FAILED and "kH * kW weights" in result.message and "(3, 5)" in result.message


def test_conv_params_int_only_kernel_is_an_error_and_stub_is_not_attempted():
    def int_only(in_channels, out_channels, kernel_size, bias=True, groups=1):
        return out_channels * (in_channels // groups) * kernel_size**2 + (out_channels if bias else 0)

    result = check_conv_params(int_only)
    assert result.status == ERROR and "TypeError" in result.message

    def stub(*args, **kwargs):
        raise NotImplementedError

    assert check_conv_params(stub).status == NOT_ATTEMPTED


# ------------------------------------------------------------------------------------------- shift


def test_shift_reference_is_right_on_a_small_example():
    image = np.arange(1, 10, dtype=float).reshape(3, 3)
    assert np.array_equal(shift_image_reference(image, 1, 0), [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    assert np.array_equal(shift_image_reference(image, 0, -1), [[2, 3, 0], [5, 6, 0], [8, 9, 0]])
    assert np.array_equal(shift_image_reference(image, -1, 2), [[0, 0, 4], [0, 0, 7], [0, 0, 0]])
    assert not shift_image_reference(image, 3, 0).any() and not shift_image_reference(image, 0, -5).any()


def test_shift_reference_matches_torch_roll_with_zeroed_border():
    # An independent construction: roll, then zero the rows and columns that wrapped around.
    for case in _shift_cases():
        image, dy, dx = case["image"], case["dy"], case["dx"]
        h, w = image.shape
        rolled = torch.roll(torch.as_tensor(image), shifts=(dy, dx), dims=(0, 1)).numpy()
        rows, cols = np.arange(h)[:, None] - dy, np.arange(w)[None, :] - dx
        rolled = np.where((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w), rolled, 0.0)
        assert np.array_equal(shift_image_reference(image, dy, dx), rolled)


def test_shift_reference_and_other_correct_forms_pass():
    assert check_shift_image(shift_image_reference).status == PASSED

    def by_padding(image, dy, dx):
        h, w = image.shape
        p = max(h, w)
        big = np.pad(image, p)
        return big[p - dy:p - dy + h, p - dx:p - dx + w].copy()

    assert check_shift_image(by_padding).passed

    def torch_version(image, dy, dx):
        t = torch.as_tensor(image)
        out = torch.zeros_like(t)
        h, w = t.shape
        for i in range(h):
            for j in range(w):
                if 0 <= i - dy < h and 0 <= j - dx < w:
                    out[i, j] = t[i - dy, j - dx]
        return out

    assert check_shift_image(torch_version).passed


def test_shift_with_roll_is_diagnosed():
    result = check_shift_image(lambda image, dy, dx: np.roll(image, (dy, dx), axis=(0, 1)))
    assert result.status == FAILED and "np.roll wraps around" in result.message


def test_shift_wrong_direction_and_swapped_axes_are_diagnosed():
    result = check_shift_image(lambda image, dy, dx: shift_image_reference(image, -dy, -dx))
    assert result.status == FAILED and "wrong way" in result.message

    result = check_shift_image(lambda image, dy, dx: shift_image_reference(image, dx, dy))
    assert result.status == FAILED and "swapped" in result.message


def test_shift_minus_zero_slice_is_diagnosed():
    def trap(image, dy, dx):  # right for every non-zero shift, but image[:-0] is empty
        out = np.zeros_like(image)
        h, w = image.shape
        if abs(dy) >= h or abs(dx) >= w:
            return out
        rows = image[:-dy] if dy >= 0 else image[-dy:]
        cols = rows[:, :-dx] if dx >= 0 else rows[:, -dx:]
        out[slice(dy, None) if dy >= 0 else slice(None, dy), slice(dx, None) if dx >= 0 else slice(None, dx)] = cols
        return out

    result = check_shift_image(trap)
    assert result.status == ERROR and "dy = 0" in result.message and "image[:-0]" in result.message

    def zeros_when_still(image, dy, dx):  # the same trap on both sides: nothing is copied, no error
        out = shift_image_reference(image, dy, dx)
        return np.zeros_like(image) if 0 in (dy, dx) else out

    result = check_shift_image(zeros_when_still)
    assert result.status == FAILED and "image[:-0]" in result.message


def test_shift_in_place_and_aliasing_are_diagnosed():
    def in_place(image, dy, dx):
        shifted = shift_image_reference(image, dy, dx)
        image[...] = shifted
        return image

    result = check_shift_image(in_place)
    assert result.status == FAILED and "input image was changed" in result.message

    def alias_when_zero(image, dy, dx):
        return image if (dy, dx) == (0, 0) else shift_image_reference(image, dy, dx)

    result = check_shift_image(alias_when_zero)
    assert result.status == FAILED and "returned the input array itself" in result.message


def test_shift_wrong_shape_and_crash_are_reported():
    result = check_shift_image(lambda image, dy, dx: np.pad(image, ((max(dy, 0), 0), (max(dx, 0), 0))))
    assert result.status == FAILED and "keeps its size" in result.message

    def crash(image, dy, dx):
        out = np.zeros_like(image)
        out[dy:, dx:] = image[: image.shape[0] - dy, : image.shape[1] - dx]   # breaks for negative shifts
        return out

    result = check_shift_image(crash)
    assert result.status == ERROR and "dy = -2" in result.message and "broadcast" in result.message


def test_shift_positive_only_code_is_diagnosed():
    def positive_only(image, dy, dx):  # right for positive shifts; a negative one still moves down and right
        out = np.zeros_like(image)
        h, w = image.shape
        dy, dx = abs(dy), abs(dx)
        if dy >= h or dx >= w:
            return out
        out[dy:, dx:] = image[:h - dy, :w - dx]
        return out

    result = check_shift_image(positive_only)
    assert result.status == FAILED and "dy = -2" in result.message and "negative shift" in result.message
