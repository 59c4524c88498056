"""The from-scratch Conv2d, MaxPool2d and Flatten: finite differences, and torch with copied weights."""

import numpy as np
import pytest
import torch

from lessons_lib.scratch.gradcheck import check_layer
from lessons_lib.scratch.layers import Conv2d, Flatten, GradientDescent, Linear, MaxPool2d, ReLU, Sequential, SoftmaxCrossEntropy


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (3, 2)])
def test_conv2d_backward_passes_finite_differences(stride, padding):
    layer = Conv2d(2, 3, 3, stride=stride, padding=padding, rng=0, dtype=np.float64)
    x = np.random.default_rng(1).normal(size=(2, 2, 7, 6))
    for result in check_layer(layer, x, rng=2):
        assert result.ok, str(result)


@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 1), (3, 2)])
def test_maxpool_and_flatten_backward_pass_finite_differences(kernel, stride):
    x = np.random.default_rng(3).permutation(2 * 2 * 7 * 7).reshape(2, 2, 7, 7) / 10.0  # no ties
    for layer in (MaxPool2d(kernel, stride), Flatten()):
        for result in check_layer(layer, x, rng=4):
            assert result.ok, str(result)


def test_conv_layers_equal_torch_with_the_same_weights():
    conv = Conv2d(3, 4, 3, stride=2, padding=1, rng=0, dtype=np.float64)
    ref = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    with torch.no_grad():  # our W has torch's layout: it copies across unchanged
        ref.weight.copy_(torch.from_numpy(conv.W.data))
        ref.bias.copy_(torch.from_numpy(conv.b.data))
    x = np.random.default_rng(5).normal(size=(2, 3, 9, 8))
    xt = torch.tensor(x, requires_grad=True)
    pool, ref_pool = MaxPool2d(2), torch.nn.MaxPool2d(2)
    out = Flatten().forward(pool.forward(conv.forward(x)))
    ref_out = ref_pool(ref(xt)).flatten(1)
    np.testing.assert_allclose(out, ref_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    up = np.random.default_rng(6).normal(size=out.shape)
    ref_out.backward(torch.from_numpy(up))
    grad_x = conv.backward(pool.backward(up.reshape(pool_shape := (2, 4, 2, 2))))
    assert pool_shape == tuple(ref_pool(ref(xt)).shape)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.W.grad, ref.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.b.grad, ref.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_scratch_cnn_learns_the_digits():
    from lessons_lib.data.real import load

    t = load("digits")
    X, y = (t.X / 16.0).reshape(-1, 1, 8, 8)[:600], t.y[:600]
    net = Sequential(Conv2d(1, 8, 3, padding=1, rng=0), ReLU(), MaxPool2d(2), Flatten(), Linear(8 * 4 * 4, 10, rng=1))
    loss_fn, opt = SoftmaxCrossEntropy(), GradientDescent(net.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(5):
        for idx in np.array_split(rng.permutation(len(X)), 20):
            opt.zero_grad()
            losses.append(loss_fn.forward(net.forward(X[idx]), y[idx]))
            net.backward(loss_fn.backward())
            opt.step()
    accuracy = (net.forward(X).argmax(1) == y).mean()
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10]) and accuracy > 0.85


def test_conv_layer_errors_name_what_went_wrong():
    conv = Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv2d: x has shape \(2, 2, 5, 5\); expected \(N, 3, H, W\)"):
        conv.forward(np.zeros((2, 2, 5, 5)))
    with pytest.raises(RuntimeError, match="Conv2d.backward called before forward"):
        conv.backward(np.zeros((1, 4, 3, 3)))
    conv.forward(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"Conv2d.backward: grad_out has shape \(1, 4, 2, 2\) but the forward output"):
        conv.backward(np.zeros((1, 4, 2, 2)))
