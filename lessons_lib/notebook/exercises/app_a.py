"""Checkers for the exercises of Appendix A (autoencoders and variational autoencoders).

- :func:`check_gaussian_kl_between`: the KL divergence between two diagonal Gaussians given by their means and
  log-variances, ``fn(mu1, logvar1, mu2, logvar2) -> (N,)``, KL(N(mu1, diag s1^2) || N(mu2, diag s2^2)) summed over
  the D dimensions:

      KL = 1/2 * sum_j [ log(s2_j^2 / s1_j^2) + (s1_j^2 + (mu1_j - mu2_j)^2) / s2_j^2 - 1 ].

  With mu2 = 0 and logvar2 = 0 it is the VAE's KL term (``lessons_lib.models.autoencoder.gaussian_kl``).

The hints recognise the usual slips by recomputing them: the two distributions swapped, the factor 1/2 forgotten,
the mean over dimensions instead of the sum, the -1 left out, the log-variance used as a variance (nan from a
log of a negative number) or as a log standard deviation, and one value per dimension returned instead of one per row.
"""

from __future__ import annotations

import numpy as np
import torch

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, same_values

__all__ = ["check_gaussian_kl_between", "gaussian_kl_between_reference"]


def _kl_terms(mu1, logvar1, mu2, logvar2, *, variance=np.exp, minus_one=True):
    """The per-dimension terms (N, D) of KL(N1 || N2); ``variance`` maps the second argument to sigma^2."""
    v1, v2 = variance(logvar1), variance(logvar2)
    return 0.5 * (np.log(v2 / v1) + (v1 + (mu1 - mu2) ** 2) / v2 - (1.0 if minus_one else 0.0))


def gaussian_kl_between_reference(mu1, logvar1, mu2, logvar2):
    """KL(N(mu1, diag exp(logvar1)) || N(mu2, diag exp(logvar2))) per row: four (N, D) arrays -> (N,)."""
    args = [np.asarray(_numpy(a), dtype=np.float64) for a in (mu1, logvar1, mu2, logvar2)]
    return _kl_terms(*args).sum(axis=-1)


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _cases():
    rng = np.random.default_rng(11)
    cases = []
    for n, d, standard in [(4, 3, True), (5, 2, False), (3, 6, False), (6, 1, False), (2, 8, False)]:
        mu1, logvar1 = rng.normal(size=(n, d)), rng.uniform(-2, 1, size=(n, d))
        if standard:                     # the VAE's case: the second distribution is N(0, I)
            mu2, logvar2 = np.zeros((n, d)), np.zeros((n, d))
        else:
            mu2, logvar2 = rng.normal(size=(n, d)), rng.uniform(-1, 1.5, size=(n, d))
        cases.append((mu1, logvar1, mu2, logvar2))
    return cases


def _hints(args, got, expected):
    mu1, logvar1, mu2, logvar2 = args
    d = mu1.shape[-1]
    if same_values(got, gaussian_kl_between_reference(mu2, logvar2, mu1, logvar1)):
        return ("you computed KL(N2 || N1): KL is not symmetric. The expectation is under the FIRST distribution, so "
                "divide by the second one's variance: (s1^2 + (mu1 - mu2)^2) / s2^2 and log(s2^2 / s1^2)")
    if same_values(got, 2 * expected):
        return "every term carries a factor 1/2 (it comes from the 1/2 in the Gaussian's exponent and log-density)"
    if d > 1 and same_values(got, expected / d):
        return "you averaged over the D dimensions; the KL of independent dimensions is their SUM"
    if same_values(got, expected + d / 2):
        return "the -1 inside the sum is missing: without it two identical Gaussians would have KL = D/2 instead of 0"
    if not np.all(np.isfinite(got)):
        return ("your result has nan or inf; logvar is log(sigma^2), which may be negative: the variance is "
                "exp(logvar), and log(s2^2 / s1^2) = logvar2 - logvar1 needs no log at all")
    as_log_sigma = _kl_terms(mu1, logvar1, mu2, logvar2, variance=lambda lv: np.exp(2 * lv)).sum(-1)
    if same_values(got, as_log_sigma):
        return "logvar is log(sigma^2), not log(sigma): sigma^2 = exp(logvar), not exp(2 * logvar)"
    return None


def check_gaussian_kl_between(fn):
    """Check ``fn(mu1, logvar1, mu2, logvar2) -> (N,)``, the KL between diagonal Gaussians, on torch float64 rows."""
    name = "check_gaussian_kl_between"
    cases = _cases()
    for k, args in enumerate(cases, 1):
        n, d = args[0].shape
        standard = not args[2].any() and not args[3].any()
        text = f"N = {n} rows of D = {d} dimensions" + (" with N2 = N(0, I)" if standard else "")
        expected = gaussian_kl_between_reference(*args)
        got, error = attempt(name, fn, *[torch.tensor(a) for a in args], where=text)
        if error:
            return error
        try:
            got_arr = np.asarray(_numpy(got), dtype=float)
        except (TypeError, ValueError):
            return CheckResult(name, FAILED, f"got {type(got).__name__}; return one KL value per row, shape ({n},)")
        if got_arr.shape != expected.shape:
            hint = " (one value per dimension: sum over the last axis)" if got_arr.shape == (n, d) else ""
            return CheckResult(name, FAILED, f"fails for {text}, case {k} of {len(cases)}: got shape {got_arr.shape}, "
                                             f"expected ({n},){hint}")
        if not same_values(got_arr, expected, rtol=1e-6, atol=1e-9):
            worst = float(np.max(np.abs(got_arr - expected)))
            message = f"fails for {text}, case {k} of {len(cases)}: worst row off by {worst:.3g}"
            hint = _hints(args, got_arr, expected)
            return CheckResult(name, FAILED, message + (f". Hint: {hint}" if hint else ""))
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")
