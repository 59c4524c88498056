"""Tests for lessons_lib.functional.activations: against torch, against finite differences, and on extreme inputs."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from lessons_lib.functional import activations as A

RNG = np.random.default_rng(0)
# Random inputs spread over the interesting range, with the kink at 0 included exactly.
Z = np.concatenate([RNG.normal(scale=3.0, size=40), [0.0, -0.0, 1e-3, -1e-3]]).reshape(4, 11)

# name -> (ours, our derivative, keyword arguments, torch reference)
ELEMENTWISE = {
    "identity": (A.identity, A.identity_grad, {}, lambda t: t * 1),
    "sigmoid": (A.sigmoid, A.sigmoid_grad, {}, torch.sigmoid),
    "tanh": (A.tanh, A.tanh_grad, {}, torch.tanh),
    "relu": (A.relu, A.relu_grad, {}, F.relu),
    "leaky_relu": (A.leaky_relu, A.leaky_relu_grad, {}, F.leaky_relu),
    "leaky_relu_0.2": (A.leaky_relu, A.leaky_relu_grad, {"negative_slope": 0.2}, lambda t: F.leaky_relu(t, 0.2)),
    "elu": (A.elu, A.elu_grad, {}, F.elu),
    "elu_alpha_2": (A.elu, A.elu_grad, {"alpha": 2.0}, lambda t: F.elu(t, alpha=2.0)),
    "silu": (A.silu, A.silu_grad, {}, F.silu),
    "swish_beta_2.5": (A.swish, A.swish_grad, {"beta": 2.5}, lambda t: t * torch.sigmoid(2.5 * t)),
    "prelu_scalar": (A.prelu, A.prelu_grad, {"a": 0.3}, lambda t: F.prelu(t, torch.tensor([0.3], dtype=t.dtype))),
}
SMOOTH = {"identity", "sigmoid", "tanh", "silu", "swish_beta_2.5", "elu"}  # differentiable at 0 as well


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def central_difference(f, z, h=1e-6):
    """Elementwise derivative of an elementwise f by (f(z + h) - f(z - h)) / 2h."""
    return (f(z + h) - f(z - h)) / (2 * h)


def numerical_vjp(f, z, g, h=1e-6):
    """Gradient of sum(g * f(z)) with respect to z, one coordinate at a time."""
    out = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[i] += h
        zm[i] -= h
        out[i] = (np.sum(g * f(zp)) - np.sum(g * f(zm))) / (2 * h)
    return out


# ----------------------------------------------------------------------------------------------- vs torch


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_match_torch(name):
    f, _, kw, ref = ELEMENTWISE[name]
    expected = ref(t64(Z)).numpy()
    np.testing.assert_allclose(f(Z, **kw), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(f(t64(Z), **kw).numpy(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_torch_autograd_including_kink(name):
    _, f_grad, kw, ref = ELEMENTWISE[name]
    z = t64(Z, grad=True)
    (expected,) = torch.autograd.grad(ref(z).sum(), z)
    np.testing.assert_allclose(f_grad(Z, **kw), expected.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_autograd_through_our_function_equals_our_derivative(name):
    f, f_grad, kw, _ = ELEMENTWISE[name]
    z = t64(Z, grad=True)
    (autograd,) = torch.autograd.grad(f(z, **kw).sum(), z)
    np.testing.assert_allclose(autograd.numpy(), f_grad(Z, **kw), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_finite_differences(name):
    f, f_grad, kw, _ = ELEMENTWISE[name]
    z = Z if name in SMOOTH else Z[np.abs(Z) > 1e-4]  # a kink has no derivative to approximate
    numeric = central_difference(lambda x: f(x, **kw), z)
    np.testing.assert_allclose(f_grad(z, **kw), numeric, rtol=1e-6, atol=1e-8)


def test_step_matches_heaviside_and_has_zero_derivative():
    np.testing.assert_array_equal(A.step(Z), torch.heaviside(t64(Z), t64(1.0)).numpy())
    assert A.step(0.0) == 1.0 and A.step(-1e-300) == 0.0
    np.testing.assert_array_equal(A.step_grad(Z), np.zeros_like(Z))
    nonzero = Z[Z != 0]
    np.testing.assert_array_equal(central_difference(A.step, nonzero), A.step_grad(nonzero))


def test_prelu_per_feature_slope_matches_torch_including_grad_for_a():
    z = Z.T  # (11, 4): N = 11 samples, C = 4 features, one slope per feature
    a = np.array([0.1, -0.2, 0.5, 1.5])
    zt, at = t64(z, grad=True), t64(a, grad=True)
    out = F.prelu(zt, at)
    g = t64(RNG.normal(size=z.shape))
    grad_z, grad_a = torch.autograd.grad(out, (zt, at), grad_outputs=g)
    np.testing.assert_allclose(A.prelu(z, a), out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.numpy() * A.prelu_grad(z, a), grad_z.numpy(), rtol=1e-12)
    np.testing.assert_allclose((g.numpy() * A.prelu_grad_a(z, a)).sum(axis=0), grad_a.numpy(), rtol=1e-12)
    # and through our own function on tensors
    zt2, at2 = t64(z, grad=True), t64(a, grad=True)
    ours_z, ours_a = torch.autograd.grad(A.prelu(zt2, at2), (zt2, at2), grad_outputs=g)
    np.testing.assert_allclose(ours_z.numpy(), grad_z.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_a.numpy(), grad_a.numpy(), rtol=1e-12)


def test_prelu_grad_a_matches_finite_differences():
    z = Z[np.abs(Z) > 1e-4]
    h = 1e-6
    numeric = (A.prelu(z, 0.25 + h) - A.prelu(z, 0.25 - h)) / (2 * h)
    np.testing.assert_allclose(A.prelu_grad_a(z, 0.25), numeric, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------------------- softmax family

SOFTMAX_INPUTS = [
    (RNG.normal(scale=3.0, size=(4, 6)), -1),
    (RNG.normal(scale=3.0, size=(4, 6)), 0),
    (RNG.normal(size=(2, 3, 5)), 1),
    (RNG.normal(size=7), 0),
]


@pytest.mark.parametrize("z, axis", SOFTMAX_INPUTS)
def test_softmax_and_log_softmax_match_torch(z, axis):
    np.testing.assert_allclose(A.softmax(z, axis=axis), torch.softmax(t64(z), dim=axis).numpy(), rtol=1e-12)
    np.testing.assert_allclose(A.log_softmax(z, axis=axis), torch.log_softmax(t64(z), dim=axis).numpy(), rtol=1e-12)
    np.testing.assert_allclose(A.softmax(t64(z), axis=axis).numpy(), torch.softmax(t64(z), dim=axis).numpy())


@pytest.mark.parametrize("z, axis", SOFTMAX_INPUTS)
@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
def test_vjp_matches_torch_autograd_and_finite_differences(z, axis, which):
    f, vjp, ref = {
        "softmax": (A.softmax, A.softmax_vjp, torch.softmax),
        "log_softmax": (A.log_softmax, A.log_softmax_vjp, torch.log_softmax),
    }[which]
    g = RNG.normal(size=z.shape)
    zt = t64(z, grad=True)
    (expected,) = torch.autograd.grad(ref(zt, dim=axis), zt, grad_outputs=t64(g))
    ours = vjp(z, g, axis=axis)
    np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ours, numerical_vjp(lambda x: f(x, axis=axis), z, g), rtol=1e-6, atol=1e-8)
    zt2 = t64(z, grad=True)  # autograd through our tensor path gives the same
    (through_ours,) = torch.autograd.grad(f(zt2, axis=axis), zt2, grad_outputs=t64(g))
    np.testing.assert_allclose(through_ours.numpy(), ours, rtol=1e-10, atol=1e-14)


def test_log_softmax_vjp_of_minus_onehot_is_softmax_minus_onehot():
    z = RNG.normal(size=(3, 4))
    onehot = np.eye(4)[[0, 3, 1]]
    np.testing.assert_allclose(A.log_softmax_vjp(z, -onehot), A.softmax(z) - onehot, rtol=1e-12, atol=1e-15)


def test_softmax_is_shift_invariant_and_sums_to_one():
    z = RNG.normal(size=(5, 3))
    np.testing.assert_allclose(A.softmax(z + 1000.0), A.softmax(z), rtol=1e-12)
    np.testing.assert_allclose(A.softmax(z).sum(axis=-1), 1.0, rtol=1e-12)


# ------------------------------------------------------------------------------------ extreme inputs

NO_FP_TROUBLE = dict(over="raise", divide="raise", invalid="raise", under="ignore")  # rounding to 0 is fine

extreme_arrays = st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: arrays(
        dtype,
        array_shapes(min_dims=1, max_dims=2, max_side=6),
        elements=st.floats(-1e4, 1e4, width=32 if dtype == np.float32 else 64),
    )
)


@settings(max_examples=60, deadline=None)
@given(z=extreme_arrays)
def test_every_activation_is_finite_without_warnings_on_extremes(z):
    with warnings.catch_warnings(), np.errstate(**NO_FP_TROUBLE):
        warnings.simplefilter("error")
        results = [f(z) for pair in A.ACTIVATIONS.values() for f in pair]
        results += [
            A.prelu(z, 0.2),
            A.prelu_grad(z, 0.2),
            A.prelu_grad_a(z, 0.2),
            A.swish(z, 3.0),
            A.swish_grad(z, 3.0),
            A.softmax(z),
            A.log_softmax(z),
            A.softmax_vjp(z, z),
            A.log_softmax_vjp(z, z),
        ]
    for r in results:
        assert r.dtype == z.dtype
        assert np.all(np.isfinite(r))
    s = A.sigmoid(z)
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(A.log_softmax(z) <= 0)
    np.testing.assert_allclose(A.softmax(z).sum(axis=-1), 1.0, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(z=extreme_arrays)
def test_autograd_gradients_are_finite_on_extremes(z):
    """An unused where-branch holding inf would turn into a NaN gradient; the clamped branches prevent it."""
    zt = torch.tensor(z, requires_grad=True)
    for name, (f, _) in A.ACTIVATIONS.items():
        if name != "step":  # step is piecewise constant: there is no graph to differentiate
            (g,) = torch.autograd.grad(f(zt).sum(), zt)
            assert torch.isfinite(g).all(), name
    (g,) = torch.autograd.grad(A.log_softmax(zt).sum() + A.softmax(zt)[..., 0].sum(), zt)
    assert torch.isfinite(g).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_limits_at_plus_minus_1e4(dtype):
    big = np.array([-1e4, 1e4], dtype=dtype)
    np.testing.assert_array_equal(A.sigmoid(big), [0, 1])
    np.testing.assert_array_equal(A.tanh(big), [-1, 1])
    np.testing.assert_array_equal(A.sigmoid_grad(big), [0, 0])
    np.testing.assert_array_equal(A.tanh_grad(big), [0, 0])
    np.testing.assert_array_equal(A.elu(big, alpha=1.5), [-1.5, 1e4])
    np.testing.assert_array_equal(A.elu_grad(big, alpha=1.5), [0, 1])
    np.testing.assert_array_equal(A.swish(big), [0, 1e4])
    np.testing.assert_array_equal(A.swish_grad(big), [0, 1])
    np.testing.assert_array_equal(A.softmax(big), [0, 1])
    np.testing.assert_array_equal(A.log_softmax(big), [-2e4, 0])


def test_sigmoid_grad_keeps_precision_far_from_zero():
    # s * (1 - s) would round to 0 here, because 1 - s(40) cancels in float64
    np.testing.assert_allclose(A.sigmoid_grad(np.array([40.0, -40.0])), np.exp(-40.0), rtol=1e-12)
    np.testing.assert_allclose(A.sigmoid(-40.0), np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-15)


def test_nan_stays_nan_in_relu():
    assert np.isnan(A.relu(np.array([np.nan])))[0]


# ---------------------------------------------------------------------------- input types and dtypes


def test_lists_and_integer_arrays_become_float():
    np.testing.assert_allclose(A.sigmoid([0, 1]), [0.5, 1 / (1 + np.exp(-1))])
    assert A.relu(np.array([-2, 3])).dtype == np.float64
    assert A.relu(torch.tensor([-2, 3])).dtype == torch.get_default_dtype()
    np.testing.assert_allclose(A.softmax([[1, 1]]), [[0.5, 0.5]])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_dtype_is_kept(dtype):
    z = torch.linspace(-3, 3, 7, dtype=dtype)
    for f, f_grad in A.ACTIVATIONS.values():
        assert f(z).dtype == dtype and f_grad(z).dtype == dtype, f.__name__


def test_activations_dict_pairs_each_function_with_its_derivative():
    assert set(A.ACTIVATIONS) == {"step", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish"}
    z = Z[np.abs(Z) > 1e-4]
    for name, (f, f_grad) in A.ACTIVATIONS.items():
        np.testing.assert_allclose(f_grad(z), central_difference(f, z), rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_matches_cpu():
    zc = torch.tensor(Z)
    zg = zc.to("cuda")
    for f, f_grad in A.ACTIVATIONS.values():
        torch.testing.assert_close(f(zg).cpu(), f(zc))
        torch.testing.assert_close(f_grad(zg).cpu(), f_grad(zc))
    torch.testing.assert_close(A.softmax(zg).cpu(), A.softmax(zc))
    torch.testing.assert_close(A.prelu(zg, torch.full((11,), 0.2, device="cuda")).cpu(), A.prelu(zc, 0.2))


# ---------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: A.leaky_relu(Z, negative_slope=-0.5),
            ValueError,
            r"^leaky_relu: negative_slope is -0\.5; expected a number >= 0$",
        ),
        (lambda: A.leaky_relu_grad(Z, negative_slope="0.1"), ValueError, r"leaky_relu_grad: negative_slope is '0\.1'"),
        (lambda: A.elu(Z, alpha=float("nan")), ValueError, r"elu: alpha is nan; expected a number >= 0"),
        (lambda: A.swish(Z, beta=True), ValueError, r"swish: beta is True; expected a finite number"),
        (lambda: A.softmax(np.zeros((3, 4)), axis=2), ValueError, r"^softmax: axis 2 is out of range for z with shape \(3, 4\)$"),
        (
            lambda: A.log_softmax(torch.zeros(3, 4), axis=-3),
            ValueError,
            r"log_softmax: axis -3 is out of range for z with shape \(3, 4\)",
        ),
        (lambda: A.softmax(np.zeros(3), axis=0.5), TypeError, r"softmax: axis is 0\.5; expected an integer"),
        (lambda: A.softmax(np.float64(2.0)), ValueError, r"softmax: z is a single number"),
        (
            lambda: A.softmax_vjp(np.zeros((3, 4)), np.zeros(4)),
            ValueError,
            r"softmax_vjp: grad_out has shape \(4,\) but z has shape \(3, 4\)",
        ),
        (
            lambda: A.prelu(np.zeros((5, 4)), np.ones(3)),
            ValueError,
            r"prelu: a has shape \(3,\), which does not broadcast to z with shape \(5, 4\)",
        ),
        (lambda: A.prelu(torch.zeros(5, 4), np.ones(4)), TypeError, r"prelu: z is a Tensor but a is a ndarray"),
        (lambda: A.sigmoid("hello"), TypeError, r"sigmoid: z is a str; expected a number, a list of numbers, a NumPy array"),
        (lambda: A.tanh([1, "x"]), TypeError, r"tanh: z could not be read as real numbers"),
        (lambda: A.relu(np.array([1 + 2j])), TypeError, r"relu: z has dtype complex128; expected real numbers"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
