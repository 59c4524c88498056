"""The Chapter 25 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch25 import (
    check_gru_step,
    check_lstm_step,
    gru_step_reference,
    lstm_step_reference,
)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------------------------------------- LSTM


def lstm_numpy(x, h, c, W_ih, W_hh, b_ih, b_hh, *, order="ifgo", h_of=None, swap=False, cell=None, one_bias=False,
               flip=False):
    """A reader's NumPy LSTM step; the keyword arguments reproduce the usual slips."""
    a = x @ W_ih.T + h @ W_hh.T + b_ih + (0 if one_bias else b_hh)
    H = h.shape[1]
    blocks = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    gate, cand = (np.tanh, sigmoid) if swap else (sigmoid, np.tanh)
    i, f, g, o = gate(blocks["i"]), gate(blocks["f"]), cand(blocks["g"]), gate(blocks["o"])
    c_new = cell(i, f, g, c) if cell else f * c + i * g
    h_new = h_of(o, c_new, c) if h_of else o * np.tanh(c_new)
    return (c_new, h_new) if flip else (h_new, c_new)


def test_lstm_reference_equals_torch():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(3, 4).double()
    x, h, c = (torch.randn(5, n, dtype=torch.float64) for n in (3, 4, 4))
    h_t, c_t = cell(x, (h, c))
    weights = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    h_r, c_r = lstm_step_reference(x.numpy(), h.numpy(), c.numpy(), *weights)
    assert np.allclose(h_r, h_t.detach().numpy(), atol=1e-12) and np.allclose(c_r, c_t.detach().numpy(), atol=1e-12)


def test_lstm_correct_answers_pass():
    assert check_lstm_step(lstm_step_reference).status == PASSED
    assert check_lstm_step(lstm_numpy).passed

    def via_torch(x, h, c, W_ih, W_hh, b_ih, b_hh):
        cell = torch.nn.LSTMCell(x.shape[1], h.shape[1]).double()
        with torch.no_grad():
            for p, v in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), (W_ih, W_hh, b_ih, b_hh)):
                p.copy_(torch.from_numpy(v))
        return cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))

    assert check_lstm_step(via_torch).passed
    as_list = lambda **k: list(lstm_numpy(**k))  # noqa: E731
    assert check_lstm_step(as_list).passed


@pytest.mark.parametrize("order", ["ifog", "fiog", "iofg"])
def test_lstm_gate_order_is_diagnosed(order):
    result = check_lstm_step(lambda **k: lstm_numpy(**k, order=order))
    assert result.status == FAILED and f"order {', '.join(order)}" in result.message and "i, f, g, o" in result.message


def test_lstm_swapped_nonlinearities_are_diagnosed():
    result = check_lstm_step(lambda **k: lstm_numpy(**k, swap=True))
    assert result.status == FAILED and "sigmoid and tanh are swapped" in result.message


def test_lstm_output_slips_are_diagnosed():
    result = check_lstm_step(lambda **k: lstm_numpy(**k, h_of=lambda o, c_new, c: o * c_new))
    assert result.status == FAILED and "o * tanh(c_new)" in result.message and "squashed" in result.message
    result = check_lstm_step(lambda **k: lstm_numpy(**k, h_of=lambda o, c_new, c: o * np.tanh(c)))
    assert result.status == FAILED and "old cell state" in result.message


def test_lstm_missing_gates_and_bias_are_diagnosed():
    result = check_lstm_step(lambda **k: lstm_numpy(**k, cell=lambda i, f, g, c: c + i * g))
    assert result.status == FAILED and "ignores the forget gate" in result.message
    result = check_lstm_step(lambda **k: lstm_numpy(**k, cell=lambda i, f, g, c: f * c + g))
    assert result.status == FAILED and "ignores the input gate" in result.message
    result = check_lstm_step(lambda **k: lstm_numpy(**k, one_bias=True))
    assert result.status == FAILED and "only b_ih" in result.message and "both biases" in result.message


def test_lstm_wrong_return_values_are_diagnosed():
    result = check_lstm_step(lambda **k: lstm_numpy(**k, flip=True))
    assert result.status == FAILED and "(c, h)" in result.message
    result = check_lstm_step(lambda **k: lstm_numpy(**k)[0])
    assert result.status == FAILED and "tuple of 2 arrays" in result.message
    result = check_lstm_step(lambda x, h, c, W_ih, W_hh, b_ih, b_hh: lstm_numpy(x, h, c, W_ih.T, W_hh, b_ih, b_hh))
    assert result.status == ERROR and "ValueError" in result.message and "hidden size H" in result.message


def test_lstm_messages_name_sizes_not_matrices():
    result = check_lstm_step(lambda **k: lstm_numpy(**k, swap=True))
    assert "N = 3, input size F = 4, hidden size H = 5" in result.message and len(result.message) < 500


# ----------------------------------------------------------------------------------------------- GRU


def gru_numpy(x, h, W_ih, W_hh, b_ih, b_hh, *, order="rzn", notes=False, reset="after", cand=np.tanh):
    """A reader's NumPy GRU step; the keyword arguments reproduce the usual slips."""
    H = h.shape[1]
    pos = {name: k for k, name in enumerate(order)}
    rows = {name: slice(pos[name] * H, (pos[name] + 1) * H) for name in "rzn"}
    r = sigmoid(x @ W_ih[rows["r"]].T + b_ih[rows["r"]] + h @ W_hh[rows["r"]].T + b_hh[rows["r"]])
    z = sigmoid(x @ W_ih[rows["z"]].T + b_ih[rows["z"]] + h @ W_hh[rows["z"]].T + b_hh[rows["z"]])
    W_hn, b_hn = W_hh[rows["n"]], b_hh[rows["n"]]
    if reset == "after":
        rec = r * (h @ W_hn.T + b_hn)
    elif reset == "before":
        rec = (r * h) @ W_hn.T + b_hn
    else:
        rec = r * (h @ W_hn.T) + b_hn
    n = cand(x @ W_ih[rows["n"]].T + b_ih[rows["n"]] + rec)
    return z * n + (1 - z) * h if notes else (1 - z) * n + z * h


def test_gru_reference_equals_torch():
    torch.manual_seed(1)
    cell = torch.nn.GRUCell(3, 4).double()
    x, h = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    weights = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    assert np.allclose(gru_step_reference(x.numpy(), h.numpy(), *weights), cell(x, h).detach().numpy(), atol=1e-12)


def test_gru_correct_answers_pass():
    assert check_gru_step(gru_step_reference).status == PASSED
    assert check_gru_step(gru_numpy).passed

    def via_torch(x, h, W_ih, W_hh, b_ih, b_hh):
        cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).double()
        with torch.no_grad():
            for p, v in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), (W_ih, W_hh, b_ih, b_hh)):
                p.copy_(torch.from_numpy(v))
        return cell(torch.from_numpy(x), torch.from_numpy(h))

    assert check_gru_step(via_torch).passed


def test_gru_notes_convention_is_diagnosed():
    result = check_gru_step(lambda **k: gru_numpy(**k, notes=True))
    assert result.status == FAILED and "other convention" in result.message and "keeps the OLD state" in result.message


def test_gru_reset_placement_is_diagnosed():
    result = check_gru_step(lambda **k: gru_numpy(**k, reset="before"))
    assert result.status == FAILED and "before the matmul" in result.message and "Cho" in result.message
    result = check_gru_step(lambda **k: gru_numpy(**k, reset="outside"))
    assert result.status == FAILED and "multiplies b_hn too" in result.message


@pytest.mark.parametrize("order, notes", [("zrn", False), ("zrn", True), ("nzr", False)])
def test_gru_gate_order_is_diagnosed(order, notes):
    result = check_gru_step(lambda **k: gru_numpy(**k, order=order, notes=notes))
    assert result.status == FAILED and f"order {', '.join(order)}" in result.message and "(r, z, n)" in result.message


def test_gru_sigmoid_candidate_and_tuple_are_diagnosed():
    result = check_gru_step(lambda **k: gru_numpy(**k, cand=sigmoid))
    assert result.status == FAILED and "candidate n is a tanh" in result.message
    result = check_gru_step(lambda **k: (gru_numpy(**k), None))
    assert result.status == FAILED and "returns one array" in result.message


def test_gru_crash_is_reported():
    result = check_gru_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: x @ W_hh)
    assert result.status == ERROR and "ValueError" in result.message
