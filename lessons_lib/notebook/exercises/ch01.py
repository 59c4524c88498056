"""Checkers for Chapter 1 (what deep learning is, and when to use it).

``check_count_parameters(fn)``: ``fn(layer_sizes)`` returns how many learnable numbers (weights and
biases) a fully connected network with those layer sizes has.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import CheckResult, compare


def count_parameters_reference(layer_sizes) -> int:
    """Weights plus biases of a fully connected network.

    layer_sizes: a sequence ``[n_0, n_1, ..., n_L]``: the number of inputs first, then the number of
    neurons in each layer. Layer l holds an ``(n_{l-1}, n_l)`` weight matrix and ``n_l`` biases, so the
    total is ``sum over l of n_{l-1} * n_l + n_l``. A list with one entry (inputs only) has nothing to learn.
    """
    sizes = [int(n) for n in layer_sizes]
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _cases() -> list[dict]:
    rng = np.random.default_rng(1)
    fixed = [
        [2, 1],  # one neuron with two inputs: 2 weights + 1 bias
        [3, 4],  # a single layer of 4 neurons
        [5],  # inputs only, no layer: nothing to learn
        [1, 1],
        [2, 8, 1],
        [784, 128, 64, 10],
        (30, 64, 64, 1),  # a tuple works as well as a list
        [10, 10, 10, 10, 10, 10],
    ]
    random = [[int(n) for n in rng.integers(1, 50, size=int(rng.integers(2, 7)))] for _ in range(6)]
    return [{"layer_sizes": sizes} for sizes in fixed + random]


def _weights_only(sizes) -> int:
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _hint(case, got, expected) -> str | None:
    sizes = [int(n) for n in case["layer_sizes"]]
    try:
        got = int(round(float(got)))
    except (TypeError, ValueError, OverflowError):
        return "return one whole number: the count of weights plus biases"
    if len(sizes) == 1:
        return "with only the input size there is no layer, so there are 0 parameters"
    if got == _weights_only(sizes) and got != expected:
        return "you counted the weights but not the biases: every neuron after the input has one bias"
    if got == expected + sizes[0]:
        return "the inputs have no biases: only the neurons of layers 1, 2, ..., L do"
    if got == _weights_only(sizes) + sum(sizes[:-1]) and got != expected:
        return "each layer's biases are as many as its own neurons (n_l), not as its inputs (n_{l-1})"
    if got == sum(sizes):
        return "you counted neurons; every connection between two consecutive layers carries its own weight"
    if len(sizes) > 2 and got == int(np.prod(sizes)):
        return "weights connect consecutive layers only: add n_{l-1}*n_l + n_l over the layers, don't multiply all sizes"
    if got in (count_parameters_reference(sizes[:-1]), count_parameters_reference(sizes[1:])):
        return "your loop skips one layer: there is one weight matrix for every pair of consecutive sizes"
    return None


def check_count_parameters(fn) -> CheckResult:
    """Check ``fn(layer_sizes) -> int`` on fixed, edge-case and random layer sizes."""
    return compare(fn, count_parameters_reference, _cases(), name="count_parameters", rtol=0, atol=0.5, hints=[_hint])
