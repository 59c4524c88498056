"""The Chapter 23 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch23 import (
    check_rnn_forward,
    check_rnn_parameter_count,
    check_rnn_step,
    rnn_forward_reference,
    rnn_parameter_count_reference,
    rnn_step_reference,
)

# ------------------------------------------------------------------------------------------ one step


def correct_step(x, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def test_step_reference_matches_torch():
    rng = np.random.default_rng(0)
    x, h = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    cell = torch.nn.RNNCell(4, 5).double()
    weights = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    expected = cell(torch.tensor(x), torch.tensor(h)).detach().numpy()
    assert np.allclose(rnn_step_reference(x, h, *weights), expected, atol=1e-12)


def test_step_reference_and_other_correct_forms_pass():
    assert check_rnn_step(rnn_step_reference).status == PASSED
    assert check_rnn_step(correct_step).passed

    def via_torch(x, h, W_ih, W_hh, b_ih, b_hh):  # a torch tensor as the answer is fine
        cell = torch.nn.RNNCell(x.shape[1], h.shape[1]).double()
        with torch.no_grad():
            for p, w in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), (W_ih, W_hh, b_ih, b_hh)):
                p.copy_(torch.tensor(w))
        return cell(torch.tensor(x), torch.tensor(h))

    assert check_rnn_step(via_torch).passed
    assert check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(np.concatenate([x, h], 1)
                                                                       @ np.concatenate([W_ih, W_hh], 1).T
                                                                       + b_ih + b_hh)).passed


def test_step_no_tanh_and_other_activations_are_diagnosed():
    result = check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
    assert result.status == FAILED and "no tanh" in result.message
    sig = check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: 1 / (1 + np.exp(-(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh))))
    assert sig.status == FAILED and "sigmoid" in sig.message


def test_step_one_bias_is_diagnosed():
    result = check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + h @ W_hh.T + b_ih))
    assert result.status == FAILED and "only b_ih" in result.message
    result = check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + h @ W_hh.T + b_hh))
    assert result.status == FAILED and "only b_hh" in result.message


def test_step_missing_transpose_is_diagnosed():
    result = check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + b_ih + h @ W_hh + b_hh))
    assert result.status == FAILED and "h @ W_hh.T" in result.message
    # on a square first case x @ W_ih runs and is wrong; the checker names the slip
    result = check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih + b_ih + h @ W_hh.T + b_hh))
    assert result.status == FAILED and "x @ W_ih.T" in result.message


def test_step_column_convention_crash_gets_a_hint():
    result = check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh((W_ih @ x.T).T @ np.eye(3) + h @ W_hh.T))
    assert result.status == ERROR and "x @ W_ih.T" in result.message

    def column_vectors(x, h, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(W_hh @ h + W_ih @ x + b_ih + b_hh)  # the formula's columns applied to row batches

    result = check_rnn_step(column_vectors)
    assert result.status in (ERROR, FAILED) and "Hint" in result.message


def test_step_ignoring_the_state_and_unstable_tanh_are_diagnosed():
    result = check_rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + b_ih + b_hh))
    assert result.status == FAILED and "previous state h is missing" in result.message

    def by_hand(x, h, W_ih, W_hh, b_ih, b_hh):
        a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        with np.errstate(all="ignore"):
            return (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1)

    result = check_rnn_step(by_hand)
    assert result.status == FAILED and "large weights" in result.message and "np.tanh" in result.message


# ------------------------------------------------------------------------------------ unrolled forward


def correct_forward(xs, W_ih, W_hh, b_ih, b_hh):
    h = np.zeros((xs.shape[1], W_hh.shape[0]))
    outs = []
    for x in xs:
        h = np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        outs.append(h)
    return np.stack(outs), h


def test_forward_reference_matches_torch():
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(6, 2, 3))
    rnn = torch.nn.RNN(3, 4).double()
    weights = [p.detach().numpy() for p in (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)]
    out, h_n = rnn(torch.tensor(xs))
    ours, h_last = rnn_forward_reference(xs, *weights)
    assert np.allclose(ours, out.detach().numpy(), atol=1e-12) and np.allclose(h_last, h_n[0].detach().numpy())


def test_forward_reference_and_torch_pass():
    assert check_rnn_forward(rnn_forward_reference).status == PASSED
    assert check_rnn_forward(correct_forward).passed

    def via_torch(xs, W_ih, W_hh, b_ih, b_hh):
        rnn = torch.nn.RNN(xs.shape[2], W_hh.shape[0]).double()
        with torch.no_grad():
            for p, w in zip((rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0),
                            (W_ih, W_hh, b_ih, b_hh)):
                p.copy_(torch.tensor(w))
        out, h_n = rnn(torch.tensor(xs))
        return out, h_n[0]

    assert check_rnn_forward(via_torch).passed
    assert check_rnn_forward(lambda *a: list(correct_forward(*a))).passed   # a list is as good as a tuple


def test_forward_returning_one_array_is_diagnosed():
    result = check_rnn_forward(lambda *a: correct_forward(*a)[0])
    assert result.status == FAILED and "return outputs, h" in result.message
    result = check_rnn_forward(lambda *a: correct_forward(*a)[1])
    assert result.status == FAILED and "only the final state" in result.message


def test_forward_layout_slips_are_diagnosed():
    def with_h0(xs, W_ih, W_hh, b_ih, b_hh):
        out, h = correct_forward(xs, W_ih, W_hh, b_ih, b_hh)
        return np.concatenate([np.zeros_like(out[:1]), out]), h

    result = check_rnn_forward(with_h0)
    assert result.status == FAILED and "leave h_0 out" in result.message

    def batch_first(xs, W_ih, W_hh, b_ih, b_hh):
        out, h = correct_forward(xs, W_ih, W_hh, b_ih, b_hh)
        return out.transpose(1, 0, 2), h

    result = check_rnn_forward(batch_first)
    assert result.status == FAILED and "batch-first" in result.message

    def first_state(xs, W_ih, W_hh, b_ih, b_hh):
        out, _ = correct_forward(xs, W_ih, W_hh, b_ih, b_hh)
        return out, out[0]

    result = check_rnn_forward(first_state)
    assert result.status == FAILED and "outputs[-1]" in result.message


def test_forward_nonzero_h0_and_uncarried_state_are_diagnosed():
    def ones_h0(xs, W_ih, W_hh, b_ih, b_hh):
        h = np.ones((xs.shape[1], W_hh.shape[0]))
        outs = []
        for x in xs:
            h = np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
            outs.append(h)
        return np.stack(outs), h

    result = check_rnn_forward(ones_h0)
    assert result.status == FAILED and "h_0 is not zero" in result.message

    def forgetful(xs, W_ih, W_hh, b_ih, b_hh):
        h0 = np.zeros((xs.shape[1], W_hh.shape[0]))
        outs = [np.tanh(x @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh) for x in xs]
        return np.stack(outs), outs[-1]

    result = check_rnn_forward(forgetful)
    assert result.status == FAILED and "not carried" in result.message


def test_forward_step_slips_are_diagnosed():
    def no_tanh(xs, W_ih, W_hh, b_ih, b_hh):
        h = np.zeros((xs.shape[1], W_hh.shape[0]))
        outs = []
        for x in xs:
            h = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
            outs.append(h)
        return np.stack(outs), h

    result = check_rnn_forward(no_tanh)
    assert result.status == FAILED and "no tanh" in result.message

    def one_bias(xs, W_ih, W_hh, b_ih, b_hh):
        return correct_forward(xs, W_ih, W_hh, b_ih, np.zeros_like(b_hh))

    result = check_rnn_forward(one_bias)
    assert result.status == FAILED and "only b_ih" in result.message

    def untransposed(xs, W_ih, W_hh, b_ih, b_hh):
        return correct_forward(xs, W_ih, W_hh.T, b_ih, b_hh)

    result = check_rnn_forward(untransposed)
    assert result.status == FAILED and "h @ W_hh.T" in result.message


def test_forward_crash_is_reported():
    result = check_rnn_forward(lambda xs, W_ih, W_hh, b_ih, b_hh: (W_ih @ xs, None))
    assert result.status == ERROR and "x @ W_ih.T" in result.message


# ---------------------------------------------------------------------------------- parameter count


def test_count_reference_matches_torch():
    for f, h, n, b in [(3, 4, 1, False), (3, 4, 2, True), (5, 2, 3, False), (1, 7, 3, True)]:
        torch_count = sum(p.numel() for p in torch.nn.RNN(f, h, num_layers=n, bidirectional=b).parameters())
        assert rnn_parameter_count_reference(f, h, n, b) == torch_count


def test_count_reference_and_building_the_layer_pass():
    assert check_rnn_parameter_count(rnn_parameter_count_reference).status == PASSED

    def build(input_size, hidden_size, num_layers, bidirectional):
        layer = torch.nn.RNN(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)
        return sum(p.numel() for p in layer.parameters())

    assert check_rnn_parameter_count(build).passed
    assert check_rnn_parameter_count(lambda *a: float(build(*a))).passed


def _count(f, h, layers, bidirectional, biases=2, directions_factor=True, deep_input=None):
    d = 2 if bidirectional else 1
    total = 0
    for layer in range(layers):
        reads = f if layer == 0 else (deep_input(f, h, d) if deep_input else d * h)
        total += (d if directions_factor else 1) * (h * reads + h * h + biases * h)
    return total


def test_count_one_bias_is_diagnosed():
    result = check_rnn_parameter_count(lambda f, h, n, b: _count(f, h, n, b, biases=1))
    assert result.status == FAILED and "two, b_ih and b_hh" in result.message
    result = check_rnn_parameter_count(lambda f, h, n, b: _count(f, h, n, b, biases=0))
    assert result.status == FAILED and "biases are missing" in result.message


def test_count_direction_and_layer_slips_are_diagnosed():
    result = check_rnn_parameter_count(lambda f, h, n, b: _count(f, h, n, b, directions_factor=False))
    assert result.status == FAILED and "one per direction" in result.message
    result = check_rnn_parameter_count(lambda f, h, n, b: _count(f, h, n, b, deep_input=lambda f, h, d: h))
    assert result.status == FAILED and "2H numbers per step" in result.message
    result = check_rnn_parameter_count(lambda f, h, n, b: _count(f, h, n, b, deep_input=lambda f, h, d: f))
    assert result.status == FAILED and "not the input features" in result.message
    result = check_rnn_parameter_count(lambda f, h, n, b: _count(f, h, 1, b))
    assert result.status == FAILED and "first layer only" in result.message


def test_checkers_reject_non_functions():
    for checker in (check_rnn_step, check_rnn_forward, check_rnn_parameter_count):
        result = checker(42)
        assert result.status == ERROR and "expected a function" in result.message
