"""The Appendix I checkers: references pass, realistic wrong answers are rejected with the right hint."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_i import (
    check_combined_gradient,
    check_int8_quantize,
    combined_gradient_reference,
    int8_quantize_reference,
)

# ------------------------------------------------------------------------------------------ int8 quantize


def quantize(W, *, peak=None, levels=127, how=np.round, dtype=np.int8, dequantize=False):
    """A reader's symmetric int8 quantizer; the keyword arguments reproduce the usual slips."""
    scale = (np.abs(W).max() if peak is None else peak(W)) / levels
    q = np.clip(how(W / scale), -127, 127)
    if dequantize:
        return q * scale, scale
    return (q.astype(dtype) if dtype is not None else q), scale


def test_the_reference_round_trips_within_half_a_step():
    W = np.random.default_rng(0).normal(size=(20, 30))
    q, scale = int8_quantize_reference(W)
    assert q.dtype == np.int8 and np.abs(q).max() == 127
    assert np.abs(q * scale - W).max() <= scale / 2 + 1e-12


def test_correct_answers_pass():
    assert check_int8_quantize(int8_quantize_reference).status == PASSED
    assert check_int8_quantize(quantize).passed

    def via_torch(W):
        t = torch.from_numpy(W)
        scale = t.abs().max() / 127
        return torch.clamp(torch.round(t / scale), -127, 127).to(torch.int8), scale

    assert check_int8_quantize(via_torch).passed


def test_max_instead_of_magnitude_is_diagnosed():
    result = check_int8_quantize(lambda W: quantize(W, peak=np.max))
    assert result.status == FAILED and "max|W| / 127" in result.message and "MAGNITUDE" in result.message


@pytest.mark.parametrize("levels", [128, 255])
def test_wrong_number_of_levels_is_diagnosed(levels):
    result = check_int8_quantize(lambda W: quantize(W, levels=levels))
    assert result.status == FAILED and f"divided by {levels}" in result.message


def test_truncation_is_diagnosed():
    result = check_int8_quantize(lambda W: quantize(W, how=np.trunc))
    assert result.status == FAILED and "astype(int8) truncates" in result.message
    result = check_int8_quantize(lambda W: quantize(W, how=np.floor))
    assert result.status == FAILED and "floor rounds down" in result.message


def test_float_q_and_dequantized_q_are_diagnosed():
    result = check_int8_quantize(lambda W: quantize(W, dtype=None))
    assert result.status == FAILED and "dtype float64" in result.message and "int8" in result.message
    result = check_int8_quantize(lambda W: quantize(W, dequantize=True))
    assert result.status == FAILED and "dequantized matrix" in result.message


def test_wrong_return_values_and_stubs_are_reported():
    result = check_int8_quantize(lambda W: quantize(W)[0])
    assert result.status == FAILED and "pair (q, scale)" in result.message

    def stub(W):
        raise NotImplementedError

    assert check_int8_quantize(stub).status == NOT_ATTEMPTED
    result = check_int8_quantize(lambda W: W @ np.ones((1, 1)))
    assert result.status == ERROR and "ValueError" in result.message and "shape" in result.message


# --------------------------------------------------------------------------------------- combined gradient


def test_the_reference_is_the_full_batch_gradient():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2, dtype=torch.float64)
    X, y = torch.randn(10, 3, dtype=torch.float64), torch.randn(10, 2, dtype=torch.float64)

    def grad(rows):
        model.zero_grad()
        torch.nn.functional.mse_loss(model(X[rows]), y[rows]).backward()
        return model.weight.grad.clone().numpy()

    parts = [slice(0, 3), slice(3, 10)]                      # 3 and 7 examples: unequal shards
    combined = combined_gradient_reference([grad(p) for p in parts], [3, 7])
    assert np.allclose(combined, grad(slice(0, 10)), atol=1e-14)


def test_combined_gradient_correct_answers_pass():
    assert check_combined_gradient(combined_gradient_reference).status == PASSED

    def loop(grads, counts):
        total = sum(n * g for n, g in zip(counts, grads))
        return total / sum(counts)

    assert check_combined_gradient(loop).passed
    as_torch = lambda grads, counts: torch.from_numpy(combined_gradient_reference(grads, counts))  # noqa: E731
    assert check_combined_gradient(as_torch).passed


def test_plain_mean_is_diagnosed_on_unequal_counts():
    result = check_combined_gradient(lambda grads, counts: np.mean(grads, axis=0))
    assert result.status == FAILED and "plain average" in result.message and "[100, 156]" in result.message


def test_undivided_sums_are_diagnosed():
    result = check_combined_gradient(lambda grads, counts: np.sum(grads, axis=0))
    assert result.status == FAILED and "without dividing" in result.message
    weighted = lambda grads, counts: sum(n * g for n, g in zip(counts, grads))  # noqa: E731
    result = check_combined_gradient(weighted)
    assert result.status == FAILED and "total count" in result.message
    result = check_combined_gradient(lambda grads, counts: weighted(grads, counts) / len(counts))
    assert result.status == FAILED and "not by the number of ranks" in result.message


def test_wrong_shapes_and_crashes_are_reported():
    result = check_combined_gradient(lambda grads, counts: np.stack(grads))
    assert result.status == FAILED and "expected (3, 4)" in result.message
    result = check_combined_gradient(lambda grads, counts: grads[0] @ grads[1])
    assert result.status == ERROR and "ValueError" in result.message
