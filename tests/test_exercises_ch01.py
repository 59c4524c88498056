"""Chapter 1 checker, tested both ways: the reference passes, typical mistakes get the right diagnosis."""

import math

import pytest

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch01 import check_count_parameters, count_parameters_reference


def torch_count(sizes):
    torch = pytest.importorskip("torch")
    layers = [torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    return sum(p.numel() for layer in layers for p in layer.parameters())


@pytest.mark.parametrize("sizes", [[2, 1], [3, 4], [5], [784, 128, 64, 10], [30, 64, 64, 1], [7, 3, 9, 2, 5]])
def test_reference_agrees_with_torch(sizes):
    assert count_parameters_reference(sizes) == torch_count(sizes)


def test_reference_known_values():
    assert count_parameters_reference([784, 128, 64, 10]) == 109_386
    assert count_parameters_reference([2, 1]) == 3
    assert count_parameters_reference([5]) == 0
    assert count_parameters_reference((1, 1)) == 2


def test_reference_passes():
    r = check_count_parameters(count_parameters_reference)
    assert r.status == PASSED and r.passed
    assert "checks passed" in r.message


def test_a_float_result_is_accepted():
    r = check_count_parameters(lambda layer_sizes: float(count_parameters_reference(layer_sizes)))
    assert r.passed


def test_forgetting_the_biases():
    def no_biases(layer_sizes):
        return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

    r = check_count_parameters(no_biases)
    assert r.status == FAILED
    assert "fails for layer_sizes = [2, 1]: got 2, expected 3" in r.message
    assert "counted the weights but not the biases" in r.message


def test_giving_the_inputs_biases():
    def input_biases(layer_sizes):
        return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])) + sum(layer_sizes)

    r = check_count_parameters(input_biases)
    assert r.status == FAILED
    assert "the inputs have no biases" in r.message


def test_biases_sized_by_the_inputs():
    def wrong_bias_size(layer_sizes):
        return sum(a * b + a for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))

    r = check_count_parameters(wrong_bias_size)
    assert r.status == FAILED
    assert "as many as its own neurons" in r.message


def test_multiplying_all_sizes():
    def product(layer_sizes):
        return math.prod(layer_sizes) + sum(layer_sizes[1:])

    r = check_count_parameters(product)
    assert r.status == FAILED and "fails for layer_sizes" in r.message


def test_a_loop_that_stops_one_layer_early():
    def early(layer_sizes):
        total = 0
        for i in range(len(layer_sizes) - 2):  # off by one: misses the last layer
            total += layer_sizes[i] * layer_sizes[i + 1] + layer_sizes[i + 1]
        return total

    r = check_count_parameters(early)
    assert r.status == FAILED
    assert "skips one layer" in r.message


def test_the_inputs_only_edge_case():
    def no_edge_case(layer_sizes):
        if len(layer_sizes) == 1:
            return layer_sizes[0]
        return count_parameters_reference(layer_sizes)

    r = check_count_parameters(no_edge_case)
    assert r.status == FAILED
    assert "layer_sizes = [5]" in r.message and "0 parameters" in r.message


def test_a_crash_is_reported_not_raised():
    def crashes(layer_sizes):
        return layer_sizes[0] * layer_sizes[1] + layer_sizes[1] + count_parameters_reference(layer_sizes[1:])

    r = check_count_parameters(crashes)
    assert r.status == ERROR and "raised IndexError" in r.message and "layer_sizes = [5]" in r.message
