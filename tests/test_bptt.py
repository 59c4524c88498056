"""Backpropagation through time by hand (scratch RNN) against torch's nn.RNN and finite differences."""

import numpy as np
import pytest
import torch

from lessons_lib.scratch.gradcheck import check_layer
from lessons_lib.scratch.layers import RNN

T, N, F, H = 7, 2, 3, 4


def _torch_copy(layer):
    ref = torch.nn.RNN(F, H).double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.from_numpy(layer.W_ih.data))
        ref.weight_hh_l0.copy_(torch.from_numpy(layer.W_hh.data))
        ref.bias_ih_l0.copy_(torch.from_numpy(layer.b.data))
        ref.bias_hh_l0.zero_()
    return ref


def test_forward_and_full_bptt_equal_torch():
    layer = RNN(F, H, rng=0, dtype=np.float64)
    xs = np.random.default_rng(1).normal(size=(T, N, F))
    h0 = np.random.default_rng(2).normal(size=(N, H))
    ref = _torch_copy(layer)
    xt, h0t = torch.tensor(xs, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    out, _ = ref(xt, h0t)
    np.testing.assert_allclose(layer.forward(xs, h0), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    R = np.random.default_rng(3).normal(size=(T, N, H))
    (out * torch.from_numpy(R)).sum().backward()
    grad_xs = layer.backward(R)
    np.testing.assert_allclose(grad_xs, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grad_h0, h0t.grad[0].numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.W_ih.grad, ref.weight_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.W_hh.grad, ref.weight_hh_l0.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.b.grad, ref.bias_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_bptt_passes_finite_differences():
    layer = RNN(F, H, rng=4, dtype=np.float64)
    for result in check_layer(layer, np.random.default_rng(5).normal(size=(T, N, F)), rng=6):
        assert result.ok, str(result)


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_truncated_bptt_equals_a_torch_loop_that_detaches_every_k_steps(k):
    layer = RNN(F, H, truncate=k, rng=7, dtype=np.float64)
    xs = np.random.default_rng(8).normal(size=(T, N, F))
    W_ih, W_hh, b = (torch.tensor(p.data, requires_grad=True) for p in layer.parameters())
    h = torch.zeros(N, H, dtype=torch.float64)
    outs = []
    for t in range(T):
        if t > 0 and t % k == 0:
            h = h.detach()
        h = torch.tanh(torch.from_numpy(xs[t]) @ W_ih.T + h @ W_hh.T + b)
        outs.append(h)
    R = np.random.default_rng(9).normal(size=(T, N, H))
    (torch.stack(outs) * torch.from_numpy(R)).sum().backward()
    np.testing.assert_allclose(layer.forward(xs), torch.stack(outs).detach().numpy(), rtol=1e-12)
    layer.backward(R)
    for ours, ref in zip(layer.parameters(), (W_ih, W_hh, b)):
        np.testing.assert_allclose(ours.grad, ref.grad.numpy(), rtol=1e-10, atol=1e-12)
    if k < T:  # a cut changes the gradient: it is no longer the full one
        full = RNN(F, H, rng=7, dtype=np.float64)
        full.forward(xs)
        full.backward(R)
        assert not np.allclose(full.W_hh.grad, layer.W_hh.grad)


def test_rnn_errors():
    with pytest.raises(ValueError, match="RNN: truncate is 0; expected a positive integer"):
        RNN(F, H, truncate=0)
    layer = RNN(F, H)
    with pytest.raises(ValueError, match=r"RNN: xs has shape \(2, 3\); expected \(T, N, 3\)"):
        layer.forward(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="RNN.backward called before forward"):
        layer.backward(np.zeros((T, N, H)))
