"""The Chapter 29 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import math

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch29 import (
    check_layer_norm,
    check_sinusoidal,
    layer_norm_reference,
    sinusoidal_reference,
)

# ---------------------------------------------------------------------------------------- positions


def positions_loop(T, d, *, swap=False, own_index=False, halves=False, base=10000.0):
    """A reader's loop over the paper's formula; the keyword arguments reproduce the usual slips."""
    pe = np.zeros((T, d))
    for pos in range(T):
        for i in range(d // 2):
            angle = pos / base ** (2 * i / d)
            s, c = (math.cos(angle), math.sin(angle)) if swap else (math.sin(angle), math.cos(angle))
            if halves:
                pe[pos, i], pe[pos, d // 2 + i] = s, c
            elif own_index:
                pe[pos, 2 * i] = s
                angle_odd = pos / base ** ((2 * i + 1) / d)
                pe[pos, 2 * i + 1] = math.sin(angle_odd) if swap else math.cos(angle_odd)
            else:
                pe[pos, 2 * i], pe[pos, 2 * i + 1] = s, c
    return pe


def test_sinusoidal_reference_is_the_closed_form():
    pe = sinusoidal_reference(2, 4)
    assert np.allclose(pe, [[0, 1, 0, 1], [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)]], atol=1e-15)


def test_sinusoidal_correct_answers_pass():
    assert check_sinusoidal(sinusoidal_reference).status == PASSED
    assert check_sinusoidal(positions_loop).passed
    assert check_sinusoidal(lambda T, d: torch.tensor(positions_loop(T, d))).passed   # a tensor is fine too


@pytest.mark.parametrize("slip, hint", [
    ({"swap": True}, "sin and cos are swapped"),
    ({"own_index": True}, "share one frequency"),
    ({"halves": True}, "interleaves them"),
    ({"base": 1000.0}, "the base is 10000"),
])
def test_sinusoidal_slips_get_their_hint(slip, hint):
    result = check_sinusoidal(lambda T, d: positions_loop(T, d, **slip))
    assert result.status == FAILED and hint in result.message, result.message


def test_sinusoidal_shape_and_errors():
    result = check_sinusoidal(lambda T, d: positions_loop(T, d).T)
    assert result.status == FAILED and "shape" in result.message
    result = check_sinusoidal(lambda T, d: 1 / 0)
    assert result.status == ERROR and "ZeroDivisionError" in result.message
    result = check_sinusoidal(lambda T, d: (positions_loop(T, d), None))
    assert result.status == FAILED and "return one array" in result.message


def stub_positions(T, d):
    raise NotImplementedError


def test_sinusoidal_stub_is_not_attempted():
    assert check_sinusoidal(stub_positions).status == NOT_ATTEMPTED


# --------------------------------------------------------------------------------------- layer norm


def layer_norm_numpy(x, gamma, beta, eps=1e-5, *, ddof=0, axis=-1, eps_inside=True, root=True, swap=False):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    denom = np.sqrt(var + eps) if root else var + eps
    if not eps_inside:
        denom = np.sqrt(var) if root else var
    z = (x - mean) / denom
    return z * beta + gamma if swap else z * gamma + beta


def test_layer_norm_reference_equals_nn_layernorm():
    torch.manual_seed(0)
    ln = torch.nn.LayerNorm(6).double()
    with torch.no_grad():
        ln.weight.uniform_(0.5, 2)
        ln.bias.normal_()
    x = torch.randn(3, 4, 6, dtype=torch.float64)
    ours = layer_norm_reference(x.numpy(), ln.weight.detach().numpy(), ln.bias.detach().numpy())
    assert np.allclose(ours, ln(x).detach().numpy(), atol=1e-12)


def test_layer_norm_correct_answers_pass():
    assert check_layer_norm(layer_norm_reference).status == PASSED
    assert check_layer_norm(layer_norm_numpy).passed

    def via_torch(x, gamma, beta, eps=1e-5):
        ln = torch.nn.LayerNorm(x.shape[-1], eps=eps).double()
        with torch.no_grad():
            ln.weight.copy_(torch.from_numpy(gamma))
            ln.bias.copy_(torch.from_numpy(beta))
        return ln(torch.from_numpy(x))

    assert check_layer_norm(via_torch).passed


@pytest.mark.parametrize("slip, hint", [
    ({"ddof": 1}, "biased variance"),
    ({"axis": 0}, "batch normalization"),
    ({"eps_inside": False}, "add eps"),
    ({"root": False}, "not by the variance"),
    ({"swap": True}, "gamma scales and beta shifts"),
])
def test_layer_norm_slips_get_their_hint(slip, hint):
    result = check_layer_norm(lambda x, gamma, beta, eps=1e-5: layer_norm_numpy(x, gamma, beta, eps, **slip))
    assert result.status == FAILED and hint in result.message, result.message


def test_layer_norm_forgetting_gamma_and_beta():
    def bare(x, gamma, beta, eps=1e-5):
        return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)

    result = check_layer_norm(bare)
    assert result.status == FAILED and "scale by gamma and shift by beta" in result.message


def stub_layer_norm(x, gamma, beta, eps=1e-5):
    raise NotImplementedError


def test_layer_norm_stub_is_not_attempted():
    assert check_layer_norm(stub_layer_norm).status == NOT_ATTEMPTED
