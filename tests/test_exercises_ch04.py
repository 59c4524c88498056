"""The Chapter 4 checkers, both ways: the references pass, realistic wrong answers get the right diagnosis."""

import numpy as np
import torch

from lessons_lib.functional.activations import sigmoid
from lessons_lib.notebook.exercises.ch04 import check_forward_pass, check_softmax, forward_pass_reference, softmax_reference

# ------------------------------------------------------------------------------------------------ softmax


def test_softmax_reference_passes():
    result = check_softmax(softmax_reference)
    assert result.passed, result.message
    assert "checks passed" in result.message


def test_softmax_written_out_passes():
    def mine(z):
        z = np.asarray(z, dtype=float)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    assert check_softmax(mine).passed


def test_softmax_torch_passes():
    assert check_softmax(lambda z: torch.softmax(torch.as_tensor(z), dim=-1)).passed


def test_softmax_reference_agrees_with_torch():
    z = np.random.default_rng(0).normal(size=(5, 4)) * 10
    assert np.allclose(softmax_reference(z), torch.softmax(torch.tensor(z), dim=-1).numpy())


def test_naive_softmax_is_told_to_subtract_the_max():
    def naive(z):
        with np.errstate(all="ignore"):
            e = np.exp(z)
            return e / e.sum(axis=-1, keepdims=True)

    result = check_softmax(naive)
    assert result.status == "failed"
    assert "1000" in result.message and "subtract the maximum" in result.message


def test_global_max_is_told_to_use_each_rows_max():
    def global_max(z):
        with np.errstate(all="ignore"):
            e = np.exp(z - np.max(z))
            return e / e.sum(axis=-1, keepdims=True)

    result = check_softmax(global_max)
    assert result.status == "failed" and "each row's own maximum" in result.message


def test_whole_array_normalisation_is_diagnosed():
    def whole(z):
        e = np.exp(z - np.max(z, axis=-1, keepdims=True))
        return e / e.sum()

    result = check_softmax(whole)
    assert result.status == "failed" and "each row should" in result.message


def test_wrong_axis_is_diagnosed():
    def columns(z):
        e = np.exp(z - np.max(z, axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    result = check_softmax(columns)
    assert result.status == "failed" and "columns sum to 1" in result.message


def test_sigmoid_instead_of_softmax_is_diagnosed():
    result = check_softmax(lambda z: sigmoid(np.asarray(z, dtype=float)))
    assert result.status == "failed" and "sigmoid of each entry" in result.message


def test_softmax_that_crashes_is_reported():
    result = check_softmax(lambda z: z.reshape(7, 7))
    assert result.status == "error" and "raised ValueError" in result.message


# ------------------------------------------------------------------------------------------- forward pass


def _numpy_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_forward_reference_passes():
    result = check_forward_pass(forward_pass_reference)
    assert result.passed, result.message


def test_forward_written_out_passes():
    def mine(X, W1, b1, W2, b2):
        with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z << 0; 1 / (1 + inf) is still 0
            H = _numpy_sigmoid(X @ W1 + b1)
            return _numpy_sigmoid(H @ W2 + b2)

    assert check_forward_pass(mine).passed


def test_forward_reference_agrees_with_torch():
    rng = np.random.default_rng(1)
    X, W1, b1 = rng.normal(size=(6, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    W2, b2 = rng.normal(size=(5, 2)), rng.normal(size=2)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Sigmoid(), torch.nn.Linear(5, 2), torch.nn.Sigmoid()).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(W1.T))
        net[0].bias.copy_(torch.tensor(b1))
        net[2].weight.copy_(torch.tensor(W2.T))
        net[2].bias.copy_(torch.tensor(b2))
        expected = net(torch.tensor(X)).numpy()
    assert np.allclose(forward_pass_reference(X, W1, b1, W2, b2), expected)


def test_forward_without_output_sigmoid_is_diagnosed():
    result = check_forward_pass(lambda X, W1, b1, W2, b2: sigmoid(X @ W1 + b1) @ W2 + b2)
    assert result.status == "failed" and "output logits" in result.message


def test_forward_without_hidden_activation_is_diagnosed():
    result = check_forward_pass(lambda X, W1, b1, W2, b2: sigmoid((X @ W1 + b1) @ W2 + b2))
    assert result.status == "failed" and "hidden layer needs its activation" in result.message


def test_forward_with_relu_hidden_is_diagnosed():
    result = check_forward_pass(lambda X, W1, b1, W2, b2: sigmoid(np.maximum(X @ W1 + b1, 0) @ W2 + b2))
    assert result.status == "failed" and "not ReLU" in result.message


def test_forward_without_biases_is_diagnosed():
    result = check_forward_pass(lambda X, W1, b1, W2, b2: sigmoid(sigmoid(X @ W1) @ W2 + b2))
    assert result.status == "failed" and "hidden bias b1" in result.message
    result = check_forward_pass(lambda X, W1, b1, W2, b2: sigmoid(sigmoid(X @ W1 + b1) @ W2))
    assert result.status == "failed" and "output bias b2" in result.message


def test_forward_transposed_output_is_diagnosed():
    result = check_forward_pass(lambda X, W1, b1, W2, b2: forward_pass_reference(X, W1, b1, W2, b2).T)
    assert result.status == "failed" and "one row per sample" in result.message


def test_forward_with_transposed_weights_is_reported():
    def transposed(X, W1, b1, W2, b2):
        return sigmoid(sigmoid(X @ W1.T + b1) @ W2 + b2)

    result = check_forward_pass(transposed)
    assert result.status == "failed" and "not X @ W1.T" in result.message  # the square case comes first
