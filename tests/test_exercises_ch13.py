"""The Chapter 13 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import math

import numpy as np
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch13 import (
    batchnorm_forward_reference,
    check_batchnorm_forward,
    check_he_std,
    he_std_reference,
)

# ------------------------------------------------------------------------------------------ He std


def test_he_reference_and_equivalent_forms_pass():
    assert check_he_std(he_std_reference).status == PASSED
    assert check_he_std(lambda fan_in, fan_out: (2 / fan_in) ** 0.5).passed
    assert check_he_std(lambda fan_in, fan_out: np.sqrt(2.0) / np.sqrt(fan_in)).passed


def test_he_reference_matches_torch_kaiming_normal():
    w = torch.empty(300, 500)  # torch keeps (out, in): fan_in is 500
    torch.manual_seed(0)
    torch.nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.std().item() / he_std_reference(500, 300) - 1) < 0.02


def test_he_crash_is_reported():
    result = check_he_std(lambda fan_in, fan_out: math.sqrt(-2 / fan_in))  # a sign slip: math domain error
    assert result.status == ERROR and "ValueError" in result.message


def test_he_variance_instead_of_std_is_diagnosed():
    result = check_he_std(lambda fan_in, fan_out: 2 / fan_in)
    assert result.status == FAILED and "variance" in result.message and "square root" in result.message


def test_he_missing_factor_two_is_diagnosed():
    result = check_he_std(lambda fan_in, fan_out: 1 / math.sqrt(fan_in))
    assert result.status == FAILED and "halves" in result.message


def test_he_xavier_and_fan_out_are_diagnosed():
    result = check_he_std(lambda fan_in, fan_out: math.sqrt(2 / (fan_in + fan_out)))
    assert result.status == FAILED and "Xavier" in result.message
    result = check_he_std(lambda fan_in, fan_out: math.sqrt(2 / fan_out))
    assert result.status == FAILED and "fan_out" in result.message and "divide by fan_in" in result.message


# -------------------------------------------------------------------------------- batch norm forward


def test_bn_reference_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.normal(2, 3, size=(16, 5))
    gamma, beta = rng.uniform(0.5, 2, 5), rng.normal(size=5)
    bn = torch.nn.BatchNorm1d(5, eps=1e-3).double()
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    expected = bn(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(batchnorm_forward_reference(x, gamma, beta, eps=1e-3), expected, rtol=1e-10, atol=1e-12)


def test_bn_reference_and_other_correct_versions_pass():
    assert check_batchnorm_forward(batchnorm_forward_reference).status == PASSED

    def by_hand(x, gamma, beta, eps=1e-5):
        mu = x.sum(axis=0) / len(x)
        var = ((x - mu) ** 2).sum(axis=0) / len(x)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta

    assert check_batchnorm_forward(by_hand).passed


def test_bn_unbiased_variance_is_diagnosed():
    def unbiased(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) + beta

    result = check_batchnorm_forward(unbiased)
    assert result.status == FAILED and "unbiased" in result.message and "ddof=0" in result.message


def test_bn_forgotten_eps_is_diagnosed():
    def no_eps(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) / np.sqrt(x.var(0)) + beta

    with np.errstate(divide="ignore", invalid="ignore"):
        result = check_batchnorm_forward(no_eps)
    assert result.status == FAILED and "add eps" in result.message


def test_bn_eps_outside_sqrt_is_diagnosed():
    def outside(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) / (x.std(0) + eps) + beta

    result = check_batchnorm_forward(outside)
    assert result.status == FAILED and "inside the square root" in result.message


def test_bn_wrong_axis_and_missing_affine_are_diagnosed():
    def per_row(x, gamma, beta, eps=1e-5):
        mu, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta

    result = check_batchnorm_forward(per_row)
    assert result.status == FAILED and "layer norm" in result.message and "axis=0" in result.message

    def no_affine(x, gamma, beta, eps=1e-5):
        return (x - x.mean(0)) / np.sqrt(x.var(0) + eps)

    result = check_batchnorm_forward(no_affine)
    assert result.status == FAILED and "gamma * x_hat + beta" in result.message
