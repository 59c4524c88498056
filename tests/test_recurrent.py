"""Recurrent cells against torch's RNNCell/LSTMCell/GRUCell and one-layer RNN/LSTM/GRU (float64, values and
gradients), finite differences, the GRU convention, and the error messages."""

import numpy as np
import pytest
import torch
from torch import nn

from lessons_lib.functional.recurrent import gru_cell, lstm_cell, rnn_cell, unroll

N, F, H, T = 3, 4, 5, 6


def _weights(module, suffix=""):
    return [getattr(module, f"{k}{suffix}") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, F, dtype=torch.float64, generator=g, requires_grad=True)
    h = torch.randn(N, H, dtype=torch.float64, generator=g, requires_grad=True)
    c = torch.randn(N, H, dtype=torch.float64, generator=g, requires_grad=True)
    return x, h, c


def _assert_same_grads(ours, ref, tensors):
    up = torch.randn(ref.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    for a, b in zip(torch.autograd.grad((ours * up).sum(), tensors), torch.autograd.grad((ref * up).sum(), tensors)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_equals_torch(nonlinearity):
    torch.manual_seed(0)
    cell = nn.RNNCell(F, H, nonlinearity=nonlinearity).double()
    x, h, _ = _inputs()
    ours, ref = rnn_cell(x, h, *_weights(cell), nonlinearity=nonlinearity), cell(x, h)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    _assert_same_grads(ours, ref, [x, h, *cell.parameters()])
    np.testing.assert_allclose(rnn_cell(*(t.detach().numpy() for t in (x, h, *_weights(cell))),
                                        nonlinearity=nonlinearity), ref.detach().numpy(), rtol=1e-12)


def test_lstm_cell_equals_torch():
    torch.manual_seed(1)
    cell = nn.LSTMCell(F, H).double()
    x, h, c = _inputs(1)
    (h1, c1), (rh, rc) = lstm_cell(x, (h, c), *_weights(cell)), cell(x, (h, c))
    torch.testing.assert_close(h1, rh, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(c1, rc, rtol=1e-12, atol=1e-12)
    _assert_same_grads(h1 + 2 * c1, rh + 2 * rc, [x, h, c, *cell.parameters()])


def test_gru_cell_equals_torch_and_passes_finite_differences():
    torch.manual_seed(2)
    cell = nn.GRUCell(F, H).double()
    x, h, _ = _inputs(2)
    ours, ref = gru_cell(x, h, *_weights(cell)), cell(x, h)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    _assert_same_grads(ours, ref, [x, h, *cell.parameters()])
    assert torch.autograd.gradcheck(lambda x, h: gru_cell(x, h, *(w.detach() for w in _weights(cell))), (x, h))


def test_the_two_gru_conventions_are_one_model():
    """h' = z n + (1 - z) h (Chung et al., 2014) with the update gate's weights and biases negated equals torch's
    h' = (1 - z) n + z h."""
    torch.manual_seed(3)
    cell = nn.GRUCell(F, H).double()
    x, h, _ = _inputs(3)
    W_ih, W_hh, b_ih, b_hh = (w.detach().clone() for w in _weights(cell))
    for w in (W_ih, W_hh, b_ih, b_hh):
        w[H : 2 * H] *= -1  # the update-gate block
    gi, gh = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    r, z = torch.sigmoid(gi[:, :H] + gh[:, :H]), torch.sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = torch.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    papers_form = z * n + (1 - z) * h
    torch.testing.assert_close(papers_form, cell(x, h), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind, batch_first", [("RNN", False), ("LSTM", False), ("GRU", True), ("LSTM", True)])
def test_unroll_equals_one_layer_of_torchs_sequence_modules(kind, batch_first):
    torch.manual_seed(4)
    module = getattr(nn, kind)(F, H, batch_first=batch_first).double()
    g = torch.Generator().manual_seed(5)
    xs = torch.randn(*((N, T) if batch_first else (T, N)), F, dtype=torch.float64, generator=g, requires_grad=True)
    h0 = torch.randn(1, N, H, dtype=torch.float64, generator=g)
    cell = {"RNN": rnn_cell, "LSTM": lstm_cell, "GRU": gru_cell}[kind]
    if kind == "LSTM":
        c0 = torch.randn(1, N, H, dtype=torch.float64, generator=g)
        ref_out, (ref_h, ref_c) = module(xs, (h0, c0))
        out, (h, c) = unroll(cell, xs, (h0[0], c0[0]), *_weights(module, "_l0"), batch_first=batch_first)
        torch.testing.assert_close(c, ref_c[0])
    else:
        ref_out, ref_h = module(xs, h0)
        out, h = unroll(cell, xs, h0[0], *_weights(module, "_l0"), batch_first=batch_first)
    torch.testing.assert_close(out, ref_out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(h, ref_h[0], rtol=1e-12, atol=1e-12)
    _assert_same_grads(out, ref_out, [xs, *module.parameters()])


def test_recurrent_errors_name_the_argument():
    x, h, _ = _inputs()
    W = torch.zeros(3 * H, F, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"gru_cell: W_hh has shape \(15, 4\); expected \(3 \* 5, 5\) = \(15, 5\)"):
        gru_cell(x, h, W, W)
    with pytest.raises(ValueError, match=r"lstm_cell: W_ih has shape \(15, 4\); expected \(4 \* 5, 4\)"):
        lstm_cell(x, (h, h), W, torch.zeros(4 * H, H, dtype=torch.float64))
    with pytest.raises(ValueError, match="rnn_cell: nonlinearity is 'sigmoid'; expected 'tanh' or 'relu'"):
        rnn_cell(x, h, W[:H], torch.zeros(H, H, dtype=torch.float64), nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"rnn_cell: x has shape \(4,\) and h \(3, 5\)"):
        rnn_cell(x[0], h, W[:H], torch.zeros(H, H, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"unroll: xs has shape \(3, 4\); expected \(T, N, F\)"):
        unroll(rnn_cell, x, h)
