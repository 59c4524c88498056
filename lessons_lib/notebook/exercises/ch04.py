"""Checkers for the exercises of Chapter 4 (multilayer perceptrons and activation functions).

- :func:`check_softmax`: a numerically stable softmax along the last axis, against the library's ``softmax``;
- :func:`check_forward_pass`: the forward pass of a network with one sigmoid hidden layer and sigmoid
  outputs, against :func:`forward_pass_reference`.

Each checker returns a :class:`lessons_lib.notebook.checking.CheckResult`; the reference solutions are the library's
``softmax`` and :func:`forward_pass_reference`.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.functional.activations import sigmoid, softmax
from lessons_lib.notebook.checking import CheckResult, compare, same_values

__all__ = ["check_forward_pass", "check_softmax", "forward_pass_reference", "softmax_reference"]


# ------------------------------------------------------------------------------------------------ softmax


def softmax_reference(z):
    """Softmax along the last axis of z: shape (C,) or (N, C) in, the same shape out, each row summing to 1."""
    return softmax(np.asarray(z, dtype=float), axis=-1)


def _softmax_cases() -> list[dict]:
    """Small and random inputs first, then the ones that break a naive exp: large, very negative, mixed rows."""
    rng = np.random.default_rng(4)
    a = np.array
    return [
        {"z": a([1.0, 2.0, 3.0])},
        {"z": rng.normal(size=5)},
        {"z": a([np.log(8.0), 0.0, 0.0])},  # cat, dog, bird -> [0.8, 0.1, 0.1]
        {"z": a([3.0])},  # one class: probability 1
        {"z": a([5.0, 5.0, 5.0, 5.0])},  # equal scores: uniform
        {"z": rng.normal(scale=2.0, size=(4, 3))},  # a batch: one probability vector per row
        {"z": rng.normal(size=(3, 6))},
        {"z": a([1000.0, 1001.0])},  # exp(1000) overflows
        {"z": a([-1000.0, -1001.0])},  # exp(-1000) underflows to 0 in both numerator and denominator
        {"z": a([1e4, -1e4, 0.0])},
        {"z": a([[0.0, 1.0], [1000.0, 1001.0]])},  # rows on very different scales
        {"z": a([[-2.0, 0.5, 1.0], [-800.0, -801.0, -799.0]])},
    ]


def _hint_overflow(case, got, expected):
    z = np.asarray(case["z"])
    g = np.asarray(got, dtype=float) if _numeric(got) else None
    if np.abs(z).max() > 700 and (g is None or not np.all(np.isfinite(g))):
        if z.ndim == 2 and np.ptp(z.max(axis=1)) > 700:
            return ("here the rows have very different sizes: subtract each row's own maximum "
                    "(z.max(axis=-1, keepdims=True)), not the maximum of the whole array")
        return ("exp overflows (or every exp underflows to 0) for numbers this large: softmax(z) = softmax(z - c) for "
                "any constant c, so subtract the maximum before taking exp; then every exponent is <= 0")
    return None


def _numeric(x) -> bool:
    try:
        np.asarray(x, dtype=float)
        return True
    except (TypeError, ValueError):
        return False


def _hint_rows(case, got, expected):
    z = np.asarray(case["z"], dtype=float)
    if z.ndim != 2 or not _numeric(got):
        return None
    g = np.asarray(got, dtype=float)
    if g.shape != z.shape:
        return ("keep the shape of z: sum along the last axis with keepdims=True, so that each row is divided by "
                "its own total")
    if np.isclose(g.sum(), 1.0) and not np.allclose(g.sum(axis=-1), 1.0):
        return "the whole array sums to 1, but each row should: divide by the sum along the last axis (keepdims=True)"
    if np.allclose(g.sum(axis=0), 1.0) and not np.allclose(g.sum(axis=-1), 1.0):
        return "your columns sum to 1: softmax works along the last axis, one row of class scores per sample"
    return None


def _hint_sigmoid(case, got, expected):
    z = np.asarray(case["z"], dtype=float)
    if _numeric(got) and same_values(got, sigmoid(z)):
        return "that is the sigmoid of each entry on its own; softmax divides exp(z_i) by the sum of exp over the row"
    return None


def check_softmax(fn) -> CheckResult:
    """Check ``fn(z)``: softmax along the last axis for z of shape (C,) or (N, C).

    Cases: small vectors, the cat/dog/bird scores, one class, equal scores, batches of rows, and the inputs that
    break a naive formula: [1000, 1001], [-1000, -1001], [1e4, -1e4, 0] and a batch whose rows differ by 1000.
    """
    return compare(fn, softmax_reference, _softmax_cases(), name="softmax",
                   hints=[_hint_overflow, _hint_rows, _hint_sigmoid])


# ------------------------------------------------------------------------------------------- forward pass


def forward_pass_reference(X, W1, b1, W2, b2):
    """A network with one sigmoid hidden layer and sigmoid outputs: sigma(sigma(X W1 + b1) W2 + b2).

    Shapes: X (n, d), W1 (d, k), b1 (k,), W2 (k, m), b2 (m,) -> (n, m), one row of outputs per sample.
    """
    H = sigmoid(X @ W1 + b1)  # (n, k): the hidden layer
    return sigmoid(H @ W2 + b2)  # (n, m): the outputs


def _forward_cases() -> list[dict]:
    rng = np.random.default_rng(7)

    def case(n, d, k, m, scale=1.0):
        return {"X": rng.normal(size=(n, d)), "W1": rng.normal(scale=scale, size=(d, k)),
                "b1": rng.normal(size=k), "W2": rng.normal(scale=scale, size=(k, m)), "b2": rng.normal(size=m)}

    zero = case(3, 4, 2, 1)
    zero.update(W1=np.zeros((4, 2)), b1=np.zeros(2), W2=np.zeros((2, 1)), b2=np.zeros(1))  # every output 0.5
    return [
        case(3, 3, 3, 2),  # square W1 first: a transposed W1 gives wrong numbers (and a hint) instead of an error
        case(5, 4, 2, 1),  # the insurance shape: 4 inputs, 2 hidden units, 1 output
        case(6, 4, 5, 1),  # the century shape: 4 inputs, 5 hidden units
        case(1, 2, 7, 3),  # a single sample
        zero,
        case(4, 3, 6, 2, scale=30.0),  # large weights: the sigmoids saturate
    ]


def _variant_hint(case, got, variants):
    if not _numeric(got):
        return None
    for make, text in variants:
        try:
            with np.errstate(all="ignore"):
                alternative = make(**case)
        except (ValueError, TypeError):
            continue
        if same_values(got, alternative, rtol=1e-5, atol=1e-7):
            return text
    return None


def _hint_forward(case, got, expected):
    g = np.asarray(got, dtype=float) if _numeric(got) else None
    if g is not None and g.shape == expected.T.shape and g.shape != expected.shape:
        return f"got shape {g.shape}, expected {expected.shape}: one row per sample (n, m); compute X @ W1, then H @ W2"
    variants = [
        (lambda X, W1, b1, W2, b2: sigmoid(X @ W1 + b1) @ W2 + b2,
         "these are the output logits: apply the sigmoid to the output layer too"),
        (lambda X, W1, b1, W2, b2: sigmoid((X @ W1 + b1) @ W2 + b2),
         "the hidden layer needs its activation: H = sigmoid(X @ W1 + b1); without it the two layers collapse into one"),
        (lambda X, W1, b1, W2, b2: sigmoid(np.maximum(X @ W1 + b1, 0) @ W2 + b2),
         "the hidden layer of this exercise uses the sigmoid, not ReLU"),
        (lambda X, W1, b1, W2, b2: sigmoid(sigmoid(X @ W1) @ W2 + b2), "you left out the hidden bias b1"),
        (lambda X, W1, b1, W2, b2: sigmoid(sigmoid(X @ W1 + b1) @ W2), "you left out the output bias b2"),
        (lambda X, W1, b1, W2, b2: sigmoid(sigmoid(X @ W1.T + b1) @ W2 + b2),
         "W1 has shape (d, k), one column per hidden unit: compute X @ W1, not X @ W1.T"),
    ]
    return _variant_hint(case, got, variants)


def check_forward_pass(fn) -> CheckResult:
    """Check ``fn(X, W1, b1, W2, b2)``: outputs sigma(sigma(X W1 + b1) W2 + b2) of shape (n, m).

    Shapes: X (n, d), W1 (d, k), b1 (k,), W2 (k, m), b2 (m,). Cases: the insurance (4-2-1) and century (4-5-1)
    shapes, a square W1, a single sample, all-zero weights and very large weights.
    """
    return compare(fn, forward_pass_reference, _forward_cases(), name="forward pass", rtol=1e-6, atol=1e-9,
                   hints=[_hint_forward])
