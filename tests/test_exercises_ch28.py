"""The Chapter 28 checker: the reference passes, realistic wrong answers are rejected with the right diagnosis."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch28 import _cases, check_masked_attention, masked_attention_reference


def attention_numpy(q, k, v, mask=None, *, scale=None, invert=False, fill=-np.inf, axis=-1, after=False,
                    stable=True, guard=True, weights_only=False):
    """A reader's NumPy attention; the keyword arguments reproduce the usual slips."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale(q, v)
    scores = q @ np.swapaxes(k, -1, -2) * scale
    allowed = None if mask is None else (~mask if invert else mask)
    if allowed is not None and not after:
        scores = np.where(allowed, scores, fill)
    with np.errstate(over="ignore", invalid="ignore"):
        shift = np.max(scores, axis=axis, keepdims=True) if stable else 0.0
        shift = np.where(np.isfinite(shift), shift, 0.0)
        e = np.exp(scores - shift)
        total = np.sum(e, axis=axis, keepdims=True)
        weights = e / (np.where(total > 0, total, 1.0) if guard else total)
    if allowed is not None and after:
        weights = weights * allowed
    return weights if weights_only else weights @ v


def test_reference_equals_torch_on_every_case():
    for case in _cases():
        q, k, v = (torch.from_numpy(case[n]) for n in "qkv")
        mask = None if case["mask"] is None else torch.from_numpy(case["mask"])
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        if mask is not None and not case["mask"].any(-1).all():      # torch 2.13: zeros for a fully masked row
            assert torch.all(expected[~mask.any(-1)] == 0)
        np.testing.assert_allclose(masked_attention_reference(**case), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_correct_answers_pass():
    assert check_masked_attention(masked_attention_reference).status == PASSED
    assert check_masked_attention(attention_numpy).passed

    def via_torch(q, k, v, mask=None):
        q, k, v = (torch.from_numpy(a) for a in (q, k, v))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else torch.from_numpy(mask))

    assert check_masked_attention(via_torch).passed


def test_an_untouched_stub_and_a_crash():
    def stub(q, k, v, mask=None):
        raise NotImplementedError

    assert check_masked_attention(stub).status == NOT_ATTEMPTED
    result = check_masked_attention(lambda q, k, v, mask=None: q @ k)        # k not transposed
    assert result.status == ERROR and "ValueError" in result.message


@pytest.mark.parametrize("scale, words", [(lambda q, v: 1.0, "not scaled"), (lambda q, v: 1 / q.shape[-1], "divided by E"),
                                          (lambda q, v: 1 / math.sqrt(v.shape[-1]), "not of the values")])
def test_scaling_slips_are_diagnosed(scale, words):
    result = check_masked_attention(lambda **c: attention_numpy(**c, scale=scale))
    assert result.status == FAILED and words in result.message


def test_mask_slips_are_diagnosed():
    result = check_masked_attention(lambda **c: attention_numpy(**c, invert=True))
    assert result.status == FAILED and "wrong way round" in result.message and "nn.MultiheadAttention" in result.message
    result = check_masked_attention(lambda **c: attention_numpy(**c, fill=0.0))
    assert result.status == FAILED and "exp(0) = 1" in result.message
    result = check_masked_attention(lambda **c: attention_numpy(**c, after=True))
    assert result.status == FAILED and "after the softmax" in result.message


def test_axis_and_return_value_slips_are_diagnosed():
    result = check_masked_attention(lambda **c: attention_numpy(**c, axis=-2))
    assert result.status == FAILED and "over the keys" in result.message
    result = check_masked_attention(lambda **c: attention_numpy(**c, weights_only=True))
    assert result.status == FAILED and "shape of the weights" in result.message


def test_numerical_slips_are_diagnosed():
    result = check_masked_attention(lambda **c: attention_numpy(**c, stable=False))
    assert result.status == FAILED and "subtract each row's maximum" in result.message
    result = check_masked_attention(lambda **c: attention_numpy(**c, guard=False))
    assert result.status == FAILED and "may attend to no key" in result.message and "zero output" in result.message

    def none_as_all_blocked(q, k, v, mask=None):       # np.where(None, ...) treats None as False: nothing attended
        return attention_numpy(q, k, v, np.zeros((q.shape[-2], k.shape[-2]), bool) if mask is None else mask,
                               guard=False)

    result = check_masked_attention(none_as_all_blocked)
    assert result.status == FAILED and "mask=None means no mask" in result.message
