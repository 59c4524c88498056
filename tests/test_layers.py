"""NumPy layers: backward passes against finite differences and against torch (float64)."""

import numpy as np
import pytest
import torch

from lessons_lib.scratch.gradcheck import check_layer, compare_grads, numerical_grad
from lessons_lib.scratch.layers import (
    GradientDescent,
    Identity,
    LeakyReLU,
    Linear,
    MSELoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
    mlp,
)

F64 = np.float64


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _assert_all_ok(results):
    assert results and all(r.ok for r in results), "\n".join(str(r) for r in results)


# ---- finite differences ---------------------------------------------------------------------

@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(rng, bias):
    layer = Linear(4, 3, bias=bias, rng=rng, dtype=F64)
    if bias:
        layer.b.data[:] = rng.standard_normal(3)  # a non-zero bias, so that a bug involving b can show
    results = check_layer(layer, rng.standard_normal((5, 4)), rng=rng)
    assert [r.name for r in results] == (["x", "W", "b"] if bias else ["x", "W"])
    _assert_all_ok(results)


@pytest.mark.parametrize("layer", [Sigmoid(), Tanh(), ReLU(), LeakyReLU(0.1), Identity()], ids=repr)
def test_activation_gradcheck(rng, layer):
    _assert_all_ok(check_layer(layer, 2 * rng.standard_normal((6, 5)), rng=rng))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_sequential_mlp_gradcheck(rng, activation):
    net = mlp([4, 6, 5, 3], activation=activation, rng=rng, dtype=F64)
    for p in net.parameters():  # non-zero biases: with zero biases a dead row puts ReLU exactly at its kink
        if p.name == "b":
            p.data[:] = 0.1 * rng.standard_normal(p.shape)
    results = check_layer(net, rng.standard_normal((7, 4)), rng=rng)
    assert [r.name for r in results] == ["x", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    _assert_all_ok(results)


def test_softmax_cross_entropy_gradcheck(rng):
    logits, targets = rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, targets)
    analytic = loss.backward()  # before the nudged forward passes overwrite the cache
    numeric = numerical_grad(lambda z: loss.forward(z, targets), logits)
    assert compare_grads(analytic, numeric, "logits").ok


def test_mse_loss_gradcheck(rng):
    y_pred, y_true = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    loss = MSELoss()
    loss.forward(y_pred, y_true)
    analytic = loss.backward()
    numeric = numerical_grad(lambda p: loss.forward(p, y_true), y_pred)
    assert compare_grads(analytic, numeric, "y_pred").ok


# ---- against torch --------------------------------------------------------------------------

def _torch_copy(net: Sequential) -> torch.nn.Sequential:
    """The same network in torch, float64, with our weights copied (transposed: torch keeps (out, in))."""
    modules = []
    for layer in net.layers:
        if isinstance(layer, Linear):
            lin = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.W.data.T))
                lin.bias.copy_(torch.from_numpy(layer.b.data))
            modules.append(lin)
        else:
            modules.append({ReLU: torch.nn.ReLU(), Tanh: torch.nn.Tanh(), Sigmoid: torch.nn.Sigmoid(),
                            Identity: torch.nn.Identity()}.get(type(layer))
                           or torch.nn.LeakyReLU(layer.negative_slope))
    return torch.nn.Sequential(*modules)


def test_linear_matches_torch(rng):
    layer = Linear(5, 3, rng=rng, dtype=F64)
    layer.b.data[:] = rng.standard_normal(3)
    x, grad_out = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    ref = _torch_copy(Sequential(layer))[0]
    xt = torch.tensor(x, requires_grad=True)
    out_t = ref(xt)
    out_t.backward(torch.from_numpy(grad_out))
    np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(grad_out), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.W.grad, ref.weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.b.grad, ref.bias.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("ours, theirs", [
    (Sigmoid(), torch.sigmoid), (Tanh(), torch.tanh), (ReLU(), torch.relu),
    (LeakyReLU(0.2), lambda t: torch.nn.functional.leaky_relu(t, 0.2)), (Identity(), lambda t: t),
], ids=lambda v: repr(v) if not callable(v) or hasattr(v, "forward") else "")
def test_activations_match_torch(rng, ours, theirs):
    z, grad_out = 3 * rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    zt = torch.tensor(z, requires_grad=True)
    out_t = theirs(zt)
    out_t.backward(torch.from_numpy(grad_out))
    np.testing.assert_allclose(ours.forward(z), out_t.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours.backward(grad_out), zt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_mlp_with_cross_entropy_matches_torch_end_to_end(rng, activation):
    net = mlp([6, 16, 8, 4], activation=activation, rng=rng, dtype=F64)
    for p in net.parameters():
        if p.name == "b":
            p.data[:] = 0.1 * rng.standard_normal(p.shape)
    ref = _torch_copy(net)
    x, y = rng.standard_normal((10, 6)), rng.integers(0, 4, size=10)

    loss_fn = SoftmaxCrossEntropy()
    loss = loss_fn.forward(net.forward(x), y)
    grad_x = net.backward(loss_fn.backward())

    xt = torch.tensor(x, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(ref(xt), torch.from_numpy(y))
    loss_t.backward()

    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
    torch_grads = [m.weight.grad.numpy().T for m in ref if isinstance(m, torch.nn.Linear)]
    torch_grads_b = [m.bias.grad.numpy() for m in ref if isinstance(m, torch.nn.Linear)]
    for ours, theirs in zip(net.parameters(), [g for pair in zip(torch_grads, torch_grads_b) for g in pair]):
        np.testing.assert_allclose(ours.grad, theirs, rtol=1e-10, atol=1e-14)


def test_mse_loss_matches_torch(rng):
    y_pred, y_true = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    pt = torch.tensor(y_pred, requires_grad=True)
    loss_t = torch.nn.functional.mse_loss(pt, torch.from_numpy(y_true))
    loss_t.backward()
    loss = MSELoss()
    assert loss.forward(y_pred, y_true) == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), pt.grad.numpy(), rtol=1e-12)


# ---- gradient bookkeeping, dtypes, training -------------------------------------------------

def test_gradients_accumulate_until_zero_grad(rng):
    net = mlp([3, 4, 2], rng=rng, dtype=F64)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net.forward(x)
    net.backward(g)
    once = [p.grad.copy() for p in net.parameters()]
    net.backward(g)
    for p, g1 in zip(net.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g1)
    net.zero_grad()
    assert all(not p.grad.any() for p in net.parameters())


def test_skipping_the_input_gradient_keeps_parameter_gradients(rng):
    net = mlp([3, 4, 2], rng=rng, dtype=F64)
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net.forward(x)
    assert net.backward(g).shape == (5, 3)
    full = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    assert net.backward(g, input_grad=False) is None
    for p, g_full in zip(net.parameters(), full):
        np.testing.assert_array_equal(p.grad, g_full)


def test_float32_stays_float32(rng):
    net = mlp([784, 32, 10], rng=rng)
    x = rng.standard_normal((8, 784)).astype(np.float32)
    logits = net.forward(x)
    loss_fn = SoftmaxCrossEntropy()
    loss_fn.forward(logits, rng.integers(0, 10, size=8))
    grad_logits = loss_fn.backward()
    grad_x = net.backward(grad_logits)
    assert logits.dtype == grad_logits.dtype == grad_x.dtype == np.float32
    assert all(p.data.dtype == p.grad.dtype == np.float32 for p in net.parameters())
    assert net.forward(x.astype(np.float64)).dtype == np.float32  # computed in the weights' dtype


def test_sgd_trains_an_mlp_on_two_blobs(rng):
    x = np.concatenate([rng.normal(-1, 0.7, (100, 2)), rng.normal(1, 0.7, (100, 2))]).astype(np.float32)
    y = np.repeat([0, 1], 100)
    net, loss_fn = mlp([2, 16, 2], rng=rng), SoftmaxCrossEntropy()
    opt = GradientDescent(net.parameters(), lr=0.3)
    first = None
    for _ in range(100):
        loss = loss_fn.forward(net.forward(x), y)
        first = loss if first is None else first
        opt.zero_grad()
        net.backward(loss_fn.backward(), input_grad=False)
        opt.step()
    accuracy = (net.forward(x).argmax(axis=1) == y).mean()
    assert loss < 0.5 * first and accuracy > 0.9


def test_sgd_step_is_minus_lr_times_grad():
    p = Parameter(np.array([1.0, 2.0]), "w")
    p.grad[:] = [0.5, -1.0]
    opt = GradientDescent([p], lr=0.1)
    opt.step()
    np.testing.assert_allclose(p.data, [0.95, 2.1])
    opt.zero_grad()
    assert not p.grad.any()


def test_mlp_structure_init_and_repr():
    net = mlp([784, 256, 10], rng=0)
    assert [type(layer) for layer in net] == [Linear, ReLU, Linear]
    assert net[0].W.shape == (784, 256) and net[0].b.shape == (256,)
    assert net[0].W.data.std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)  # He normal
    assert not net[0].b.data.any()
    np.testing.assert_array_equal(mlp([4, 3, 2], rng=5)[2].W.data, mlp([4, 3, 2], rng=5)[2].W.data)
    assert [type(layer) for layer in mlp([3, 4, 4, 1], activation="tanh")] == [Linear, Tanh, Linear, Tanh, Linear]
    assert repr(net) == ("Sequential(\n  (0): Linear(784 -> 256, bias=True)\n  (1): ReLU()\n"
                         "  (2): Linear(256 -> 10, bias=True)\n)")
    assert len(net.parameters()) == 4 and len(net) == 3


# ---- errors -----------------------------------------------------------------------------------

def test_linear_errors(rng):
    layer = Linear(4, 3, rng=rng)
    with pytest.raises(RuntimeError, match="Linear.backward called before forward"):
        layer.backward(np.ones((5, 3)))
    with pytest.raises(ValueError, match="Linear: x has 3 features but W expects 4"):
        layer.forward(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"Linear: x must be 2-D \(N, 4\), got shape \(4,\)"):
        layer.forward(np.ones(4))
    layer.forward(np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"Linear.backward: grad_out has shape \(5, 2\) but the forward output "
                                         r"had shape \(5, 3\)"):
        layer.backward(np.ones((5, 2)))
    with pytest.raises(ValueError, match="Linear: unknown init 'glorot'"):
        Linear(4, 3, init="glorot")


def test_activation_and_loss_errors():
    with pytest.raises(RuntimeError, match="ReLU.backward called before forward"):
        ReLU().backward(np.ones(3))
    relu = ReLU()
    relu.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"ReLU.backward: grad_out has shape \(3, 2\)"):
        relu.backward(np.ones((3, 2)))
    with pytest.raises(RuntimeError, match="SoftmaxCrossEntropy.backward called before forward"):
        SoftmaxCrossEntropy().backward()
    with pytest.raises(RuntimeError, match="MSELoss.backward called before forward"):
        MSELoss().backward()
    with pytest.raises(ValueError, match=r"MSELoss: y_pred has shape \(3, 1\) but y_true has shape \(3,\)"):
        MSELoss().forward(np.ones((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match="target class 5 is outside"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.array([0, 5]))
    with pytest.raises(ValueError, match="SoftmaxCrossEntropy: targets must be integer class indices"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="mlp: unknown activation 'gelu'"):
        mlp([2, 3], activation="gelu")
