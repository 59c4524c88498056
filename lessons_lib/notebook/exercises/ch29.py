"""Checkers for the exercises of Chapter 29 (multi-head attention, positions, the transformer block).

- :func:`check_sinusoidal`: the (T, d) sinusoidal positional encoding in NumPy, sin on the even features and
  cos on the odd ones, PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i + 1] = cos(pos / 10000^(2i/d));
- :func:`check_layer_norm`: layer normalization over the last axis, (x - mean) / sqrt(var + eps) * gamma + beta
  with the biased variance, as ``nn.LayerNorm`` computes it.

The references are :func:`lessons_lib.functional.attention.sinusoidal_positions` and
``torch.nn.functional.layer_norm`` (in float64). The hints recognise the usual slips by recomputing them: sin and
cos swapped, the exponent written with the feature index instead of 2i, the sines and cosines in two halves
instead of interleaved, the wrong base; for layer norm the unbiased variance, the statistics over the batch
axis, no eps, the variance in place of the standard deviation, gamma and beta swapped or forgotten.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.functional.attention import sinusoidal_positions
from lessons_lib.notebook.checking import CheckResult, compare, compare_parts, same_values

__all__ = ["check_layer_norm", "check_sinusoidal", "layer_norm_reference", "sinusoidal_reference"]


def _run(name, fn, reference, cases, describe, hints, rtol=1e-6, atol=1e-9) -> CheckResult:
    parts = compare_parts([name.removeprefix("check_")], rtol=rtol, atol=atol)

    def one_array(got, expected):
        if isinstance(got, (tuple, list)):
            return f"got a {type(got).__name__}; return one array"
        return parts((got,), (expected,))

    return compare(fn, reference, cases, name=name, describe=describe, hints=hints, compare_fn=one_array)


# ------------------------------------------------------------------------------- sinusoidal positions


def sinusoidal_reference(T, d):
    """The (T, d) encoding of Vaswani et al. (2017), section 3.5."""
    return sinusoidal_positions(T, d)


def _sinusoidal_variant(T, d, *, swap=False, exponent="2i", layout="interleaved", base=10000.0):
    pos = np.arange(T)[:, None]                                         # (T, 1)
    if exponent == "2i":
        rate = base ** (-np.arange(0, d, 2) / d)                        # (d/2,): one rate per sin/cos pair
        a, b = np.sin(pos * rate), np.cos(pos * rate)
        if swap:
            a, b = b, a
        if layout == "halves":
            return np.concatenate([a, b], axis=1)
        return np.stack([a, b], axis=-1).reshape(T, d)
    k = np.arange(d)                                                    # the feature index itself as "2i"
    angle = pos * base ** (-k / d)
    return np.where(k % 2 == 0, np.sin(angle), np.cos(angle)) if not swap else np.where(k % 2 == 0, np.cos(angle), np.sin(angle))


def _sinusoidal_hints():
    def matches(case, got, **slip):
        return same_values(got, _sinusoidal_variant(**case, **slip))

    def swapped(case, got, expected):
        if matches(case, got, swap=True):
            return "sin and cos are swapped: the EVEN features (0, 2, 4, ...) are sines, so position 0 reads [0, 1, 0, 1, ...]"

    def feature_index(case, got, expected):
        if matches(case, got, exponent="k"):
            return ("features 2i and 2i + 1 share one frequency, 1 / 10000^(2i/d): use the pair's even index 2i in the "
                    "exponent for both, not each feature's own index")

    def halves(case, got, expected):
        if matches(case, got, layout="halves"):
            return ("you put all the sines first and all the cosines after; the paper interleaves them: feature 2i is "
                    "a sine, feature 2i + 1 the cosine of the same angle")

    def base(case, got, expected):
        for wrong in (1000.0, 100.0, 1e5, np.e):
            if matches(case, got, base=wrong):
                return "the wavelengths grow geometrically up to 10000 * 2 pi: the base is 10000"

    return [swapped, feature_index, halves, base]


def _describe_positions(case) -> str:
    return f"T = {case['T']}, d = {case['d']}"


def check_sinusoidal(fn):
    """Check ``fn(T, d) -> (T, d) array`` against the sinusoidal positional encoding."""
    cases = [{"T": 2, "d": 4}, {"T": 7, "d": 8}, {"T": 50, "d": 16}, {"T": 3, "d": 2}, {"T": 128, "d": 64}]
    return _run("check_sinusoidal", fn, sinusoidal_reference, cases, _describe_positions, _sinusoidal_hints(),
                rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------------------- layer norm


def layer_norm_reference(x, gamma, beta, eps=1e-5):
    """``F.layer_norm`` over the last axis, in float64 NumPy."""
    import torch

    out = torch.nn.functional.layer_norm(torch.as_tensor(x, dtype=torch.float64), (x.shape[-1],),
                                         torch.as_tensor(gamma, dtype=torch.float64),
                                         torch.as_tensor(beta, dtype=torch.float64), eps)
    return out.numpy()


def _layer_norm_variant(x, gamma, beta, eps=1e-5, *, axis=-1, ddof=0, use_eps=True, root=True, affine="normal"):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof) + (eps if use_eps else 0.0)
    z = (x - mean) / (np.sqrt(var) if root else var)
    if affine == "swapped":
        return z * beta + gamma
    if affine == "none":
        return z
    return z * gamma + beta


def _layer_norm_hints():
    def matches(case, got, **slip):
        return same_values(got, _layer_norm_variant(**case, **slip), rtol=1e-6, atol=1e-9)

    def unbiased(case, got, expected):
        if matches(case, got, ddof=1):
            return "nn.LayerNorm uses the biased variance, mean((x - mean)^2) (np.var's default ddof=0), not ddof=1"

    def batch_axis(case, got, expected):
        if matches(case, got, axis=0):
            return ("you took the mean and variance over the batch (axis 0): that is batch normalization. Layer norm "
                    "normalises each token's own features: axis=-1")

    def no_eps(case, got, expected):
        if matches(case, got, use_eps=False):
            return "add eps to the variance before the square root: sqrt(var + eps) (it matters for constant rows)"

    def no_root(case, got, expected):
        if matches(case, got, root=False):
            return "divide by the standard deviation sqrt(var + eps), not by the variance"

    def affine(case, got, expected):
        if matches(case, got, affine="swapped"):
            return "gamma scales and beta shifts: z * gamma + beta"
        if matches(case, got, affine="none"):
            return "after normalising, scale by gamma and shift by beta (the learned parameters)"

    return [unbiased, batch_axis, no_eps, no_root, affine]


def _layer_norm_cases():
    rng = np.random.default_rng(29)
    cases = []
    for shape, scale in [((4, 6), 1.0), ((2, 3, 8), 5.0), ((5, 16), 0.1), ((3, 4), 100.0)]:
        d = shape[-1]
        cases.append({"x": rng.normal(size=shape) * scale + 3.0, "gamma": rng.uniform(0.5, 2.0, d),
                      "beta": rng.normal(size=d)})
    x = rng.normal(size=(3, 5))
    x[1] = 2.5                                                           # a constant row: only eps avoids 0 / 0
    cases.append({"x": x, "gamma": rng.uniform(0.5, 2.0, 5), "beta": rng.normal(size=5)})
    return cases


def _describe_layer_norm(case) -> str:
    return f"x of shape {case['x'].shape} (random), gamma and beta of shape {case['gamma'].shape}"


def check_layer_norm(fn):
    """Check ``fn(x, gamma, beta, eps=1e-5) -> array like x`` against ``nn.LayerNorm``'s formula."""
    return _run("check_layer_norm", fn, layer_norm_reference, _layer_norm_cases(), _describe_layer_norm,
                _layer_norm_hints(), rtol=1e-6, atol=1e-7)
