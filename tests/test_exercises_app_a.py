"""The Appendix A checker: the reference passes and agrees with torch.distributions; realistic slips get their hint."""

import numpy as np
import torch
from torch.distributions import Independent, Normal, kl_divergence

from lessons_lib.models.autoencoder import gaussian_kl
from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_a import check_gaussian_kl_between, gaussian_kl_between_reference


def kl(mu1, logvar1, mu2, logvar2, *, swap=False, half=0.5, reduce="sum", minus_one=1.0, variance=torch.exp):
    """A reader's KL between diagonal Gaussians; the keyword arguments reproduce the usual slips."""
    if swap:
        mu1, logvar1, mu2, logvar2 = mu2, logvar2, mu1, logvar1
    v1, v2 = variance(logvar1), variance(logvar2)
    terms = half * (torch.log(v2 / v1) + (v1 + (mu1 - mu2) ** 2) / v2 - minus_one)
    return terms if reduce == "none" else terms.mean(-1) if reduce == "mean" else terms.sum(-1)


def test_reference_matches_torch_distributions_and_the_vae_kl():
    g = torch.Generator().manual_seed(0)
    mu1, mu2 = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)
    lv1, lv2 = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)

    def normal(mu, logvar):
        return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)

    expected = kl_divergence(normal(mu1, lv1), normal(mu2, lv2)).numpy()
    assert np.allclose(gaussian_kl_between_reference(mu1, lv1, mu2, lv2), expected, rtol=1e-12)
    zeros = torch.zeros_like(mu1)
    assert np.allclose(gaussian_kl_between_reference(mu1, lv1, zeros, zeros), gaussian_kl(mu1, lv1).numpy())
    assert np.allclose(gaussian_kl_between_reference(mu1, lv1, mu1, lv1), 0)


def test_correct_answers_pass():
    assert check_gaussian_kl_between(gaussian_kl_between_reference).status == PASSED
    assert check_gaussian_kl_between(kl).passed

    def via_torch(mu1, logvar1, mu2, logvar2):
        q = Independent(Normal(mu1, torch.exp(0.5 * logvar1)), 1)
        p = Independent(Normal(mu2, torch.exp(0.5 * logvar2)), 1)
        return kl_divergence(q, p)

    assert check_gaussian_kl_between(via_torch).passed

    def with_logvar_differences(mu1, logvar1, mu2, logvar2):
        return 0.5 * (logvar2 - logvar1 + (logvar1.exp() + (mu1 - mu2) ** 2) / logvar2.exp() - 1).sum(-1)

    assert check_gaussian_kl_between(with_logvar_differences).passed


def test_swapped_direction_is_diagnosed():
    result = check_gaussian_kl_between(lambda *a: kl(*a, swap=True))
    assert result.status == FAILED and "KL(N2 || N1)" in result.message and "not symmetric" in result.message


def test_missing_half_mean_and_missing_minus_one_are_diagnosed():
    result = check_gaussian_kl_between(lambda *a: kl(*a, half=1.0))
    assert result.status == FAILED and "factor 1/2" in result.message
    result = check_gaussian_kl_between(lambda *a: kl(*a, reduce="mean"))
    assert result.status == FAILED and "averaged over the D dimensions" in result.message
    result = check_gaussian_kl_between(lambda *a: kl(*a, minus_one=0.0))
    assert result.status == FAILED and "-1 inside the sum is missing" in result.message


def test_logvar_misread_is_diagnosed():
    result = check_gaussian_kl_between(lambda *a: kl(*a, variance=lambda lv: lv))
    assert result.status == FAILED and "exp(logvar)" in result.message and "nan" in result.message
    result = check_gaussian_kl_between(lambda *a: kl(*a, variance=lambda lv: torch.exp(2 * lv)))
    assert result.status == FAILED and "not log(sigma)" in result.message


def test_per_dimension_output_and_stub_and_errors():
    result = check_gaussian_kl_between(lambda *a: kl(*a, reduce="none"))
    assert result.status == FAILED and "sum over the last axis" in result.message

    def stub(mu1, logvar1, mu2, logvar2):
        raise NotImplementedError

    assert check_gaussian_kl_between(stub).status == NOT_ATTEMPTED
    result = check_gaussian_kl_between(lambda mu1, logvar1, mu2, logvar2: mu1 @ mu2)
    assert result.status == ERROR and "RuntimeError" in result.message and "N = 4 rows" in result.message
    result = check_gaussian_kl_between(lambda *a: "0.3")
    assert result.status == FAILED
