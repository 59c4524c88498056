"""copy_linear_ and to_torch: from-scratch (in, out) layers loaded into torch compute the same outputs."""

import numpy as np
import pytest
import torch

from lessons_lib.scratch.layers import Dropout, LeakyReLU, Linear, Sequential, mlp
from lessons_lib.training.interop import copy_linear_, to_torch


def test_copied_layer_gives_the_same_outputs():
    rng = np.random.default_rng(0)
    ours = Linear(4, 3, rng=rng, dtype=np.float64)
    ours.b.data[:] = rng.normal(size=3)
    theirs = copy_linear_(torch.nn.Linear(4, 3, dtype=torch.float64), ours.W.data, ours.b.data)
    x = rng.normal(size=(5, 4))
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), ours.forward(x), rtol=1e-12)


def test_one_unit_and_a_scalar_bias():
    w, b = np.array([0.5, -1.0, 2.0]), 0.25
    layer = copy_linear_(torch.nn.Linear(3, 1, dtype=torch.float64), w, b)
    x = np.array([[1.0, 2.0, 3.0]])
    assert layer(torch.from_numpy(x)).item() == pytest.approx(x @ w + b)


def test_a_transposed_matrix_is_refused_with_the_shapes():
    with pytest.raises(ValueError, match=r"W has shape \(3, 4\); expected \(in, out\) = \(4, 3\)"):
        copy_linear_(torch.nn.Linear(4, 3), np.zeros((3, 4)))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_to_torch_gives_the_same_outputs_and_gradients(activation):
    rng = np.random.default_rng(1)
    ours = mlp([3, 5, 4, 2], activation=activation, rng=0, dtype=np.float64)
    for layer in ours.layers:
        if isinstance(layer, Linear):
            layer.b.data[:] = rng.normal(size=layer.out_features)
    theirs = to_torch(ours)
    assert [type(m).__name__ for m in theirs][::2] == ["Linear"] * 3
    x = rng.normal(size=(6, 3))
    out = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), ours.forward(x), rtol=1e-12)
    g = rng.normal(size=(6, 2))
    (out * torch.from_numpy(g)).sum().backward()
    ours.zero_grad()
    ours.backward(g)
    np.testing.assert_allclose(theirs[0].weight.grad.numpy().T, ours.layers[0].W.grad, rtol=1e-10, atol=1e-14)


def test_to_torch_keeps_the_leak_dropout_and_missing_bias():
    ours = Sequential(Linear(2, 3, bias=False, rng=0, dtype=np.float64), LeakyReLU(0.2), Dropout(0.3),
                      Sequential(Linear(3, 1, rng=1, dtype=np.float64)))
    theirs = to_torch(ours).eval()
    assert theirs[0].bias is None and theirs[1].negative_slope == 0.2 and theirs[2].p == 0.3
    ours.eval()
    x = np.random.default_rng(2).normal(size=(4, 2))
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(), ours.forward(x), rtol=1e-12)


def test_to_torch_names_a_layer_it_cannot_translate():
    class Mystery:
        def __repr__(self):
            return "Mystery()"

    with pytest.raises(ValueError, match=r"to_torch: layer 1 is Mystery\(\); expected a dense layer"):
        to_torch(Sequential(Linear(2, 2), Mystery()))
    with pytest.raises(ValueError, match=r"to_torch: model .* has no list of layers"):
        to_torch(Linear(2, 2))
