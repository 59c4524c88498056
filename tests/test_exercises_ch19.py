"""The Chapter 19 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import math

import numpy as np
import pytest
import torch

from lessons_lib.models.cnn import CifarCNN
from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch19 import (
    CIFAR_SPECS,
    build_stack,
    check_hflip,
    check_normalize_channels,
    check_stack_summary,
    hflip_reference,
    normalize_channels_reference,
    stack_summary_reference,
)

# --------------------------------------------------------------------------------- shapes and parameters


def test_build_stack_is_the_notes_network():
    model, shapes = build_stack(CIFAR_SPECS, (3, 32, 32))
    assert sum(p.numel() for p in model.parameters()) == 1_974_922
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in CifarCNN().parameters())
    assert shapes[5] == (64, 7, 7) and shapes[6] == (3136,)
    ref_shapes, ref_params = stack_summary_reference(CIFAR_SPECS, (3, 32, 32))
    assert ref_shapes == shapes and sum(ref_params) == 1_974_922


def test_stack_reference_passes():
    assert check_stack_summary(stack_summary_reference).status == PASSED


def _summary(specs, input_shape, *, divide=lambda a, b: a // b, bias=True, filter_inputs=True, channels_last=False,
             pool_params=False):
    """A configurable answer, to produce the usual slips."""
    c, h, w = input_shape
    shape, shapes, params = (c, h, w), [], []
    for spec in specs:
        kind = spec[0]
        if kind == "conv":
            _, out_c, k, p, s = spec
            ch, hh, ww = shape
            if p != "same":
                hh, ww = divide(hh + 2 * p - k, s) + 1, divide(ww + 2 * p - k, s) + 1
            n = k * k * (ch if filter_inputs else 1) * out_c + (out_c if bias else 0)
            shape = (out_c, hh, ww)
        elif kind == "pool":
            _, k, s = spec
            shape = (shape[0], divide(shape[1] - k, s) + 1, divide(shape[2] - k, s) + 1)
            n = k * k if pool_params else 0
        elif kind == "flatten":
            shape, n = (math.prod(shape),), 0
        elif kind == "linear":
            n = shape[0] * spec[1] + (spec[1] if bias else 0)
            shape = (spec[1],)
        else:
            n = 0
        shapes.append(shape[1:] + shape[:1] if channels_last and len(shape) == 3 else shape)
        params.append(n)
    return shapes, params


def test_stack_helper_reproduces_reference():
    assert check_stack_summary(_summary).passed


@pytest.mark.parametrize("kwargs, words", [
    ({"divide": lambda a, b: -(-a // b)}, "round down (//), not up"),
    ({"divide": lambda a, b: a / b}, "compute it with // (integer division)"),
    ({"bias": False}, "add the biases"),
    ({"filter_inputs": False}, "each filter spans every input channel"),
    ({"channels_last": True}, "channels first: (C, H, W)"),
    ({"pool_params": True}, "pool has no parameters"),
])
def test_stack_slips_are_diagnosed(kwargs, words):
    result = check_stack_summary(lambda specs, input_shape: _summary(specs, input_shape, **kwargs))
    assert result.status == FAILED and words in result.message, result.message


def test_stack_wrong_layout_and_same_padding_are_diagnosed():
    result = check_stack_summary(lambda specs, input_shape: sum(stack_summary_reference(specs, input_shape)[1]))
    assert result.status == FAILED and "expected a pair (shapes, params)" in result.message

    def skips_relu(specs, input_shape):
        shapes, params = stack_summary_reference(specs, input_shape)
        keep = [i for i, s in enumerate(specs) if s[0] != "relu"]
        return [shapes[i] for i in keep], [params[i] for i in keep]

    result = check_stack_summary(skips_relu)
    assert result.status == FAILED and "one entry per layer" in result.message

    def same_shrinks(specs, input_shape):  # treats "same" as padding 0
        fixed = [("conv", s[1], s[2], 0, s[4]) if s[0] == "conv" and s[3] == "same" else s for s in specs]
        return stack_summary_reference(fixed, input_shape)

    result = check_stack_summary(same_shrinks)
    assert result.status == FAILED and "'same' keeps H and W" in result.message

    def int_flat(specs, input_shape):
        shapes, params = stack_summary_reference(specs, input_shape)
        return [s[0] if len(s) == 1 else s for s in shapes], params

    result = check_stack_summary(int_flat)
    assert result.status == FAILED and "(3136,) for a flat vector" in result.message


def test_stack_crash_is_reported():
    result = check_stack_summary(lambda specs, input_shape: specs[99])
    assert result.status == ERROR and "IndexError" in result.message


# ------------------------------------------------------------------------------------- horizontal flip


def test_hflip_reference_and_other_correct_forms_pass():
    assert check_hflip(hflip_reference).status == PASSED

    def by_index(x, flip):
        out = x.clone()
        out[flip] = x[flip].flip(-1)
        return out

    def by_arange(x, flip):
        cols = torch.arange(x.shape[-1] - 1, -1, -1)
        return torch.where(flip.reshape(-1, 1, 1, 1), x[..., cols], x)

    assert check_hflip(by_index).passed
    assert check_hflip(by_arange).passed


def test_hflip_reference_equals_augment_batch_flip():
    from lessons_lib.data.augment import augment_batch

    x = torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    out, params = augment_batch(x, torch.Generator().manual_seed(1), degrees=0, jitter=0, return_params=True)
    assert 0 < int(params["flip"].sum()) < 6
    assert torch.allclose(out, hflip_reference(x, params["flip"]), atol=1e-6)


@pytest.mark.parametrize("fn, words", [
    (lambda x, flip: x.flip(-1), "you flipped every image"),
    (lambda x, flip: torch.where(flip[:, None, None, None], x.flip(-2), x), "vertical flip"),
    (lambda x, flip: torch.where(flip[:, None, None, None], x.flip(1), x), "reversed the channels"),
    (lambda x, flip: torch.where(flip[:, None, None, None], x, x.flip(-1)), "flip[i] False"),
    (lambda x, flip: x.clone(), "nothing was flipped"),
    (lambda x, flip: x.flip(-1).numpy(), "expected a tensor"),
])
def test_hflip_slips_are_diagnosed(fn, words):
    result = check_hflip(fn)
    assert result.status == FAILED and words in result.message, result.message


def test_hflip_in_place_is_diagnosed():
    def in_place(x, flip):
        x[flip] = x[flip].flip(-1)
        return x

    result = check_hflip(in_place)
    assert result.status == FAILED and "changed x itself" in result.message


# ------------------------------------------------------------------------------------------- normalize


def test_normalize_reference_and_library_pass():
    assert check_normalize_channels(normalize_channels_reference).status == PASSED

    def by_loop(x, mean, std):
        return torch.stack([(x[:, c] - mean[c]) / std[c] for c in range(x.shape[1])], dim=1)

    assert check_normalize_channels(by_loop).passed


def test_normalize_reference_matches_the_library_for_half():
    from lessons_lib.data.augment import normalize

    x = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(normalize_channels_reference(x, (0.5,) * 3, (0.5,) * 3), normalize(x))
    edges = normalize_channels_reference(torch.tensor([0.0, 1.0]).reshape(1, 1, 1, 2), (0.5,), (0.5,))
    assert edges.flatten().tolist() == [-1.0, 1.0]


def _per_channel(v, x):
    return torch.as_tensor(v, dtype=x.dtype).reshape(1, -1, 1, 1)


@pytest.mark.parametrize("fn, words", [
    (lambda x, m, s: (x - _per_channel(m, x)) / _per_channel(s, x) ** 2, "variance"),
    (lambda x, m, s: (x - _per_channel(m, x)) * _per_channel(s, x), "you multiplied by std"),
    (lambda x, m, s: x / _per_channel(s, x) - _per_channel(m, x), "subtract the mean first"),
    (lambda x, m, s: x - _per_channel(m, x), "did not divide by std"),
    (lambda x, m, s: (x - torch.tensor(m, dtype=x.dtype)) / torch.tensor(s, dtype=x.dtype), "LAST axis (W)"),
])
def test_normalize_slips_are_diagnosed(fn, words):
    result = check_normalize_channels(fn)
    assert result.status in (FAILED, ERROR) and words in result.message, result.message


def test_normalize_in_place_and_numpy_answers():
    def in_place(x, mean, std):
        return x.sub_(_per_channel(mean, x)).div_(_per_channel(std, x))

    result = check_normalize_channels(in_place)
    assert result.status == FAILED and "changed x itself" in result.message

    def numpy_answer(x, mean, std):  # a NumPy array with the right values is accepted
        return normalize_channels_reference(x, mean, std).numpy()

    assert check_normalize_channels(numpy_answer).passed

    def flat(x, mean, std):
        return normalize_channels_reference(x, mean, std).flatten()

    result = check_normalize_channels(flat)
    assert result.status == FAILED and "shape" in result.message


def test_checkers_reject_non_functions():
    for checker in (check_stack_summary, check_hflip, check_normalize_channels):
        assert checker(np.zeros(3)).status == ERROR
