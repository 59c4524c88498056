"""Weight initialisers for the from-scratch layers.

Every initialiser for a weight matrix returns an array of shape ``(fan_in, fan_out)``: our
:class:`lessons_lib.scratch.layers.Linear` computes ``x @ W`` with ``W`` of shape ``(in, out)``. (PyTorch keeps
``weight`` as ``(out, in)``, so its fan_in is the *second* dimension; our fan_in is the *first*.)

The scales, and where they come from:

========================  ==========================  ============================================
initialiser               distribution                scale
========================  ==========================  ============================================
``normal``                N(mean, std^2)              std = 1 by default: the naive choice
``xavier_uniform``        U(-a, a)                    a = gain * sqrt(6 / (fan_in + fan_out))
``xavier_normal``         N(0, std^2)                 std = gain * sqrt(2 / (fan_in + fan_out))
``he_uniform``            U(-a, a)                    a = gain * sqrt(3 / fan_in), gain = sqrt(2)
``he_normal``             N(0, std^2)                 std = gain / sqrt(fan_in), gain = sqrt(2)
========================  ==========================  ============================================

Xavier/Glorot (Glorot & Bengio, 2010) keeps the variance of activations and of gradients roughly
constant through layers whose activation is close to linear near zero (tanh, sigmoid): it aims at
Var(W) = 2 / (fan_in + fan_out), the compromise between 1/fan_in (forward) and 1/fan_out (backward).
A uniform U(-a, a) has variance a^2 / 3, which gives the sqrt(6 / ...) bound.

He/Kaiming (He et al., 2015) accounts for ReLU zeroing half of its inputs, which halves the
variance passed forward; doubling the weight variance, Var(W) = 2 / fan_in, compensates
("fan_in mode", as in ``torch.nn.init.kaiming_normal_``).

``rng`` may be a ``numpy.random.Generator``, an int seed, or None (fresh entropy).
"""

from __future__ import annotations

import math

import numpy as np

from lessons_lib.validate import integer

__all__ = ["calculate_gain", "he_normal", "he_uniform", "normal", "xavier_normal", "xavier_uniform", "zeros"]


def _check_fans(fn: str, fan_in, fan_out) -> None:
    integer(fn, "fan_in", fan_in, minimum=1)
    integer(fn, "fan_out", fan_out, minimum=1)


def zeros(shape, dtype=np.float32) -> np.ndarray:
    """All zeros, of the given shape (biases usually start here)."""
    return np.zeros(shape, dtype=dtype)


def normal(shape, mean: float = 0.0, std: float = 1.0, rng=None, dtype=np.float32) -> np.ndarray:
    """Draws from N(mean, std^2): with the defaults this is the naive N(0, 1) init that the chapter shows
    blowing up (or vanishing) in deep networks."""
    if std < 0:
        raise ValueError(f"normal: std must be >= 0, got {std}")
    rng = np.random.default_rng(rng)
    return (mean + std * rng.standard_normal(shape)).astype(dtype)


def xavier_uniform(fan_in: int, fan_out: int, gain: float = 1.0, rng=None, dtype=np.float32) -> np.ndarray:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). Returns (fan_in, fan_out)."""
    _check_fans("xavier_uniform", fan_in, fan_out)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(fan_in, fan_out, a, rng, dtype)


def xavier_normal(fan_in: int, fan_out: int, gain: float = 1.0, rng=None, dtype=np.float32) -> np.ndarray:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). Returns (fan_in, fan_out)."""
    _check_fans("xavier_normal", fan_in, fan_out)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal((fan_in, fan_out), std=std, rng=rng, dtype=dtype)


def he_uniform(fan_in: int, fan_out: int, gain: float = math.sqrt(2.0), rng=None, dtype=np.float32) -> np.ndarray:
    """Kaiming uniform (fan_in mode): U(-a, a) with a = gain * sqrt(3 / fan_in); gain sqrt(2) suits ReLU.

    Returns (fan_in, fan_out). For leaky ReLU pass ``gain=calculate_gain("leaky_relu", slope)``.
    """
    _check_fans("he_uniform", fan_in, fan_out)
    a = gain * math.sqrt(3.0 / fan_in)
    return _uniform(fan_in, fan_out, a, rng, dtype)


def he_normal(fan_in: int, fan_out: int, gain: float = math.sqrt(2.0), rng=None, dtype=np.float32) -> np.ndarray:
    """Kaiming normal (fan_in mode): N(0, std^2) with std = gain / sqrt(fan_in), i.e. sqrt(2 / fan_in) for ReLU.

    Returns (fan_in, fan_out).
    """
    _check_fans("he_normal", fan_in, fan_out)
    std = gain / math.sqrt(fan_in)
    return normal((fan_in, fan_out), std=std, rng=rng, dtype=dtype)


def calculate_gain(nonlinearity: str, negative_slope: float = 0.01) -> float:
    """The recommended gain for an activation (same values as ``torch.nn.init.calculate_gain``).

    identity/linear/sigmoid: 1, tanh: 5/3, relu: sqrt(2), leaky_relu: sqrt(2 / (1 + slope^2)).
    """
    gains = {"identity": 1.0, "linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0),
             "leaky_relu": math.sqrt(2.0 / (1.0 + negative_slope**2))}
    if nonlinearity not in gains:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one of {sorted(gains)}")
    return gains[nonlinearity]


def _uniform(fan_in: int, fan_out: int, bound: float, rng, dtype) -> np.ndarray:
    """U(-bound, bound) of shape (fan_in, fan_out)."""
    rng = np.random.default_rng(rng)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype)
