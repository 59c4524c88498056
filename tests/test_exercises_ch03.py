"""The Chapter 3 checkers, both ways: the reference passes, realistic wrong answers get the right diagnosis."""

import numpy as np

from lessons_lib.notebook.exercises.ch03 import check_nand_weights, check_perceptron_update, check_xor_network
from lessons_lib.scratch.perceptron import perceptron_update

# ------------------------------------------------------------------------------- perceptron_update


def test_update_reference_passes():
    result = check_perceptron_update(perceptron_update)
    assert result.passed, result.message
    assert "all" in result.message and "checks passed" in result.message


def test_update_written_out_passes():
    def mine(w, b, x, y, lr):
        y_hat = 1 if np.dot(w, x) + b >= 0 else 0
        return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)

    assert check_perceptron_update(mine).passed


def test_update_that_always_moves_is_rejected():
    def always(w, b, x, y, lr):  # uses the target instead of the error
        return w + lr * y * x, b + lr * y

    result = check_perceptron_update(always)
    assert result.status == "failed"
    assert "was already right" in result.message and "must stay as they are" in result.message


def test_update_with_the_wrong_sign_is_rejected():
    def flipped(w, b, x, y, lr):
        y_hat = 1 if np.dot(w, x) + b >= 0 else 0
        return w + lr * (y_hat - y) * x, b + lr * (y_hat - y)

    result = check_perceptron_update(flipped)
    assert result.status == "failed" and "points the wrong way" in result.message


def test_update_without_the_bias_is_rejected():
    def no_bias(w, b, x, y, lr):
        y_hat = 1 if np.dot(w, x) + b >= 0 else 0
        return w + lr * (y - y_hat) * x, b

    result = check_perceptron_update(no_bias)
    assert result.status == "failed" and "update it too" in result.message


def test_update_ignoring_lr_is_rejected():
    def no_lr(w, b, x, y, lr):
        y_hat = 1 if np.dot(w, x) + b >= 0 else 0
        return w + (y - y_hat) * x, b + (y - y_hat)

    result = check_perceptron_update(no_lr)
    assert result.status == "failed" and "ignores the learning rate" in result.message


def test_update_with_strict_threshold_is_rejected_at_the_tie():
    def strict(w, b, x, y, lr):
        y_hat = 1 if np.dot(w, x) + b > 0 else 0
        return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)

    result = check_perceptron_update(strict)
    assert result.status == "failed" and "exactly 0" in result.message and "z >= 0" in result.message


def test_update_returning_the_wrong_type_is_reported():
    result = check_perceptron_update(lambda w, b, x, y, lr: w)
    assert result.status == "failed" and "expected a pair (new_w, new_b)" in result.message
    result = check_perceptron_update(lambda w, b, x, y, lr: (w, b, 0))
    assert "expected a pair" in result.message


def test_update_that_crashes_is_reported():
    result = check_perceptron_update(lambda w, b, x, y, lr: (w @ np.ones(99), b))
    assert result.status == "error" and "raised ValueError" in result.message


# -------------------------------------------------------------------------------------------- NAND


def test_nand_reference_passes():
    for w, b in [([-1, -1], 1.5), (np.array([-2.0, -3.0]), 4.0), ([-0.5, -0.5], 0.9)]:
        result = check_nand_weights(w, b)
        assert result.passed, result.message


def test_nand_not_attempted():
    assert check_nand_weights(None, None).status == "not attempted"
    assert check_nand_weights([-1, -1], None).status == "not attempted"


def test_nand_and_weights_are_diagnosed():
    result = check_nand_weights([1, 1], -1.5)
    assert result.status == "failed" and "computes AND" in result.message


def test_nand_point_on_the_line_is_diagnosed():
    result = check_nand_weights([-1, -1], 2.0)  # (1, 1) gives z = 0 exactly: the unit fires
    assert result.status == "failed" and "exactly on your line" in result.message


def test_nand_always_firing_is_diagnosed():
    result = check_nand_weights([1, 1], 0.5)
    assert result.status == "failed" and "fires for every input" in result.message


def test_nand_bad_shape_is_an_error():
    result = check_nand_weights([1, 1, 1], 0.0)
    assert result.status == "error" and "x has 2 features but w has 3" in result.message


# --------------------------------------------------------------------------------------------- XOR


def test_xor_reference_passes():
    # OR and NAND hidden units, an AND on top
    assert check_xor_network([[1, -1], [1, -1]], [-0.5, 1.5], [1, 1], -1.5).passed
    # OR and AND hidden units: XOR = OR and not AND
    assert check_xor_network([[1, 1], [1, 1]], [-0.5, -1.5], [1, -2], -0.5).passed


def test_xor_not_attempted():
    assert check_xor_network(None, None, None, None).status == "not attempted"


def test_xnor_is_diagnosed():
    result = check_xor_network([[1, -1], [1, -1]], [-0.5, 1.5], [-1, -1], 1.5)
    assert result.status == "failed" and "XNOR" in result.message


def test_xor_hidden_layer_that_merges_inputs_is_diagnosed():
    result = check_xor_network([[1, 1], [1, 1]], [-0.5, -0.5], [1, 1], -1.5)  # two copies of OR
    assert result.status == "failed" and "get the same hidden values" in result.message


def test_xor_hidden_layer_that_copies_the_inputs_is_diagnosed():
    result = check_xor_network([[1, 0], [0, 1]], [-0.5, -0.5], [1, 1], -0.5)  # h = x: XOR still not separable
    assert result.status == "failed" and "still not linearly separable" in result.message


def test_xor_wrong_output_unit_is_diagnosed():
    result = check_xor_network([[1, -1], [1, -1]], [-0.5, 1.5], [1, 1], -0.5)  # OR on top instead of AND
    assert result.status == "failed" and "now fix the output unit" in result.message


def test_xor_weights_are_read_in_the_books_in_out_layout():
    # OR and NAND written one unit per row, the (out, in) layout, are two units computing x1 - x2 here
    result = check_xor_network([[1, 1], [-1, -1]], [-0.5, 1.5], [1, 1], -1.5)
    assert result.status == "failed" and "get the same hidden values" in result.message


def test_xor_bad_shapes_are_errors():
    result = check_xor_network([1, 1], [0.0], [1], 0.0)
    assert result.status == "error" and "W_hidden has shape (2,)" in result.message
