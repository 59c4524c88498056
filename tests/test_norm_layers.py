"""Dropout, BatchNorm1d and LayerNorm: against torch (float64), finite differences, train/eval modes, errors."""

import re

import numpy as np
import pytest
import torch

from lessons_lib.scratch.gradcheck import check_layer
from lessons_lib.scratch.layers import Dropout, Linear, ReLU, Sequential, Tanh
from lessons_lib.scratch.norm import BatchNorm1d, LayerNorm

F64 = np.float64


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _assert_all_ok(results):
    assert results and all(r.ok for r in results), "\n".join(str(r) for r in results)


def _close(ours, theirs, **kwargs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12, **kwargs)


def _randomize_affine(layer, rng):
    """Non-trivial gamma and beta (they start at 1 and 0), so that a bug involving them can show."""
    layer.gamma.data[:] = 1 + 0.5 * rng.standard_normal(layer.gamma.shape)
    layer.beta.data[:] = rng.standard_normal(layer.beta.shape)


def _copy_affine_to_torch(ours, theirs):
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.gamma.data))
        theirs.bias.copy_(torch.from_numpy(ours.beta.data))


class FixedMaskRng:
    """Stands in for a numpy Generator and hands out the same uniform numbers every time: a fixed mask."""

    def __init__(self, shape, seed=0):
        self.u = np.random.default_rng(seed).random(shape)

    def random(self, shape):
        assert shape == self.u.shape
        return self.u


# ---- Dropout ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    n = 200_000
    out = Dropout(p, rng=0).forward(np.ones((400, 500)))
    dropped = np.mean(out == 0)
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(dropped - p) < 5 * sigma  # the fraction zeroed is p
    np.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-15)  # survivors scaled by 1 / (1 - p)
    assert abs(out.mean() - 1) < 5 * sigma / (1 - p)  # so the mean is preserved
    torch_out = torch.nn.Dropout(p)(torch.ones(400, 500, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(np.unique(torch_out), np.unique(out), rtol=1e-15)  # torch keeps the same two values


def test_dropout_eval_is_the_identity(rng):
    layer = Dropout(0.5, rng=0)
    x = rng.standard_normal((4, 6))
    assert layer.eval() is layer and not layer.training
    np.testing.assert_array_equal(layer.forward(x), x)
    g = rng.standard_normal((4, 6))
    np.testing.assert_array_equal(layer.backward(g), g)
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)  # p = 0 drops nothing, even in training
    layer.train()
    assert np.any(layer.forward(x) != x)


def test_dropout_backward_uses_the_forward_mask(rng):
    layer = Dropout(0.4, rng=1)
    x = rng.standard_normal((50, 8)) + 3  # no zeros in x, so out / x recovers the scaled mask
    out = layer.forward(x)
    g = rng.standard_normal((50, 8))
    np.testing.assert_allclose(layer.backward(g), g * (out / x), rtol=1e-14)
    assert np.any(layer.forward(x) != out)  # the next forward pass draws a new mask


def test_dropout_gradcheck_with_a_fixed_mask(rng):
    layer = Dropout(0.3)
    layer.rng = FixedMaskRng((5, 4))  # check_layer calls forward many times: the mask must not change
    _assert_all_ok(check_layer(layer, rng.standard_normal((5, 4)), rng=rng))


def test_dropout_is_reproducible_and_keeps_the_dtype():
    x = np.ones((3, 7), dtype=np.float32)
    a, b = Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=3).forward(x)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, "0.5", None])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=re.escape(f"Dropout: p is {p!r}; expected a probability in [0, 1)")):
        Dropout(p)


def test_dropout_backward_errors():
    layer = Dropout(0.5)
    with pytest.raises(RuntimeError, match="Dropout.backward called before forward"):
        layer.backward(np.ones((2, 3)))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=re.escape("Dropout.backward: grad_out has shape (3, 2) but the forward "
                                                   "output had shape (2, 3)")):
        layer.backward(np.ones((3, 2)))


# ---- BatchNorm1d -------------------------------------------------------------------------------------

@pytest.mark.parametrize("momentum, eps, affine", [(0.1, 1e-5, True), (0.3, 1e-2, True), (0.1, 1e-5, False)])
def test_batchnorm_matches_torch_in_training_and_eval(rng, momentum, eps, affine):
    c = 5
    ours = BatchNorm1d(c, eps=eps, momentum=momentum, affine=affine, dtype=F64)
    theirs = torch.nn.BatchNorm1d(c, eps=eps, momentum=momentum, affine=affine, dtype=torch.float64)
    if affine:
        _randomize_affine(ours, rng)
        _copy_affine_to_torch(ours, theirs)
    for n in (8, 3, 16, 2):  # several training steps with different batch sizes
        x = 2 * rng.standard_normal((n, c)) + rng.standard_normal(c)  # features with their own offsets
        _compare_step(ours, theirs, x, rng.standard_normal((n, c)))
        np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    for n in (6, 1):  # eval works for a single sample too
        x = 2 * rng.standard_normal((n, c))
        _compare_step(ours, theirs, x, rng.standard_normal((n, c)))
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)  # eval leaves them


def _compare_step(ours, theirs, x, grad_out):
    """One forward and backward pass through both layers: outputs, input and parameter gradients agree."""
    ours.zero_grad()
    theirs.zero_grad()
    xt = torch.tensor(x, requires_grad=True)
    out_t = theirs(xt)
    out_t.backward(torch.from_numpy(grad_out))
    _close(ours.forward(x), out_t)
    _close(ours.backward(grad_out), xt.grad)
    if ours.gamma is not None:
        _close(ours.gamma.grad, theirs.weight.grad)
        _close(ours.beta.grad, theirs.bias.grad)


def test_batchnorm_training_output_is_standardised(rng):
    layer = BatchNorm1d(3, dtype=F64)
    out = layer.forward(5 * rng.standard_normal((64, 3)) + 7)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=1e-5)  # eps keeps it slightly below 1


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck(rng, training):
    layer = BatchNorm1d(4, dtype=F64)
    _randomize_affine(layer, rng)
    for _ in range(3):  # move the running statistics away from 0 and 1
        layer.forward(3 * rng.standard_normal((10, 4)) + 2)
    layer.train(training)
    _assert_all_ok(check_layer(layer, 3 * rng.standard_normal((6, 4)) + 1, rng=rng))


def test_batchnorm_backward_uses_the_mode_of_its_forward_pass(rng):
    layer = BatchNorm1d(3, dtype=F64)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    layer.forward(x)
    expected = layer.backward(g)
    layer.forward(x)
    layer.eval()  # switching after the forward pass does not change what backward differentiates
    np.testing.assert_allclose(layer.backward(g), expected)


def test_batchnorm_gradients_accumulate(rng):
    layer = BatchNorm1d(3, dtype=F64)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    layer.forward(x)
    layer.backward(g)
    once = layer.gamma.grad.copy(), layer.beta.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.gamma.grad, 2 * once[0])
    np.testing.assert_allclose(layer.beta.grad, 2 * once[1])


def test_batchnorm_float32_by_default(rng):
    x = rng.standard_normal((8, 4))
    out32 = BatchNorm1d(4).forward(x)
    assert out32.dtype == np.float32 and BatchNorm1d(4).running_var.dtype == np.float32
    np.testing.assert_allclose(out32, BatchNorm1d(4, dtype=F64).forward(x), rtol=1e-5, atol=1e-5)
    assert [name for name, _ in BatchNorm1d(4).named_parameters()] == ["gamma", "beta"]
    assert BatchNorm1d(4, affine=False).parameters() == []


@pytest.mark.parametrize("call, error, message", [
    (lambda: BatchNorm1d(4).forward(np.ones((3, 5))), ValueError, "BatchNorm1d: x has 5 features but num_features is 4"),
    (lambda: BatchNorm1d(4).forward(np.ones((3, 4, 2))), ValueError, "BatchNorm1d: x must be 2-D (N, 4), got shape (3, 4, 2)"),
    (lambda: BatchNorm1d(4).forward(np.ones((1, 4))), ValueError,
     "BatchNorm1d: training needs at least 2 samples to estimate a variance, got N=1; call eval()"),
    (lambda: BatchNorm1d(4).backward(np.ones((3, 4))), RuntimeError, "BatchNorm1d.backward called before forward"),
    (lambda: BatchNorm1d(4, momentum=1.5), ValueError, "BatchNorm1d: momentum is 1.5; expected a number in [0, 1]"),
    (lambda: LayerNorm(4).forward(np.ones((2, 3))), ValueError,
     "LayerNorm: x has shape (2, 3), whose last axis should have normalized_shape = 4 entries"),
    (lambda: LayerNorm((4, 5)), ValueError, "LayerNorm: normalized_shape is (4, 5); expected a positive int"),
    (lambda: LayerNorm(4).backward(np.ones((2, 4))), RuntimeError, "LayerNorm.backward called before forward"),
])
def test_norm_errors(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_norm_backward_checks_grad_out_shape():
    layer = BatchNorm1d(4)
    layer.forward(np.ones((3, 4)))
    with pytest.raises(ValueError, match=re.escape("BatchNorm1d.backward: grad_out has shape (2, 4) but the forward "
                                                   "output had shape (3, 4)")):
        layer.backward(np.ones((2, 4)))


# ---- LayerNorm -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5)])
@pytest.mark.parametrize("affine, eps", [(True, 1e-5), (True, 1e-2), (False, 1e-5)])
def test_layernorm_matches_torch_in_training_and_eval(rng, shape, affine, eps):
    ours = LayerNorm(shape[-1], eps=eps, elementwise_affine=affine, dtype=F64)
    theirs = torch.nn.LayerNorm(shape[-1], eps=eps, elementwise_affine=affine, dtype=torch.float64)
    if affine:
        _randomize_affine(ours, rng)
        _copy_affine_to_torch(ours, theirs)
    x = 3 * rng.standard_normal(shape) + rng.standard_normal(shape[:-1] + (1,))  # each sample its own offset
    for mode in (True, False):  # the same computation in both modes
        ours.train(mode)
        theirs.train(mode)
        _compare_step(ours, theirs, x, rng.standard_normal(shape))


@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 6), (6,)])
def test_layernorm_gradcheck(rng, shape):
    layer = LayerNorm(6, dtype=F64)
    _randomize_affine(layer, rng)
    _assert_all_ok(check_layer(layer, 2 * rng.standard_normal(shape) + 1, rng=rng))


def test_layernorm_standardises_each_sample(rng):
    out = LayerNorm(8, dtype=F64).forward(4 * rng.standard_normal((1, 8)) - 3)  # a batch of one is fine
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=-1), 1, rtol=1e-4)
    assert LayerNorm(8).forward(np.ones((2, 8))).dtype == np.float32


# ---- train / eval through Sequential --------------------------------------------------------------------

def _net(rng):
    inner = Sequential(Linear(6, 3, rng=rng, dtype=F64), Dropout(0.5, rng=rng))
    return Sequential(Linear(4, 6, rng=rng, dtype=F64), BatchNorm1d(6, dtype=F64), ReLU(), Dropout(0.5, rng=rng), inner)


def _all_layers(net):
    for layer in net.layers:
        yield layer
        if isinstance(layer, Sequential):
            yield from _all_layers(layer)


def test_sequential_train_and_eval_reach_every_layer(rng):
    net = _net(rng)
    assert net.training and all(layer.training for layer in _all_layers(net))  # training by default
    assert net.eval() is net
    assert not net.training and not any(layer.training for layer in _all_layers(net))
    assert net.train() is net
    assert net.training and all(layer.training for layer in _all_layers(net))
    net.train(False)
    assert not any(layer.training for layer in _all_layers(net))


def test_sequential_modes_change_the_computation(rng):
    net = _net(rng)
    x = rng.standard_normal((16, 4))
    assert np.any(net.forward(x) != net.forward(x))  # training: new dropout masks each pass
    net.eval()
    np.testing.assert_array_equal(net.forward(x), net.forward(x))  # eval: deterministic
    np.testing.assert_allclose(net.forward(x[:1]), net.forward(x)[:1], rtol=1e-12, atol=1e-15)  # per sample (BLAS rounding)


def test_sequential_with_norm_layers_matches_torch(rng):
    ours = Sequential(Linear(4, 6, rng=rng, dtype=F64), BatchNorm1d(6, dtype=F64), Tanh(),
                      Linear(6, 5, rng=rng, dtype=F64), LayerNorm(5, dtype=F64))
    _randomize_affine(ours[1], rng)
    _randomize_affine(ours[4], rng)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(),
                                 torch.nn.Linear(6, 5), torch.nn.LayerNorm(5)).double()
    with torch.no_grad():
        for i in (0, 3):  # our W is (in, out); torch's weight is (out, in)
            theirs[i].weight.copy_(torch.from_numpy(ours[i].W.data.T))
            theirs[i].bias.copy_(torch.from_numpy(ours[i].b.data))
    for i in (1, 4):
        _copy_affine_to_torch(ours[i], theirs[i])
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        x, g = rng.standard_normal((7, 4)), rng.standard_normal((7, 5))
        ours.zero_grad()
        theirs.zero_grad()
        xt = torch.tensor(x, requires_grad=True)
        out_t = theirs(xt)
        out_t.backward(torch.from_numpy(g))
        _close(ours.forward(x), out_t)
        _close(ours.backward(g), xt.grad)
        _close(ours[0].W.grad, theirs[0].weight.grad.T)
        _close(ours[1].gamma.grad, theirs[1].weight.grad)
        _close(ours[4].beta.grad, theirs[4].bias.grad)


def test_sequential_gradcheck_with_batchnorm(rng):
    net = Sequential(Linear(3, 5, bias=False, rng=rng, dtype=F64), BatchNorm1d(5, dtype=F64), Tanh(),
                     Linear(5, 2, rng=rng, dtype=F64))
    _randomize_affine(net[1], rng)
    results = check_layer(net, rng.standard_normal((6, 3)), rng=rng)
    assert [r.name for r in results] == ["x", "0.W", "1.gamma", "1.beta", "3.W", "3.b"]
    _assert_all_ok(results)


def test_a_bias_before_batchnorm_gets_no_gradient(rng):
    """In training, BatchNorm subtracts the batch mean, which removes any constant shift: that is why the
    layer before it is usually built without a bias (beta plays its part)."""
    net = Sequential(Linear(3, 5, rng=rng, dtype=F64), BatchNorm1d(5, dtype=F64))
    net[0].b.data[:] = rng.standard_normal(5)
    x = rng.standard_normal((6, 3))
    before = net.forward(x)
    net[0].b.data += 5.0
    np.testing.assert_allclose(net.forward(x), before, atol=1e-12)  # the bias changes nothing...
    net.backward(rng.standard_normal((6, 5)))  # ... so its gradient is zero
    np.testing.assert_allclose(net[0].b.grad, 0, atol=1e-12)
    assert np.abs(net[0].W.grad).max() > 1e-3
