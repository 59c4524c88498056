"""Convolution and pooling against torch.nn.functional (float64 values and gradients) and finite differences."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons_lib.functional.conv import avg_pool2d, conv1d, conv2d, conv_output_size, im2col, max_pool2d

CASES = [  # (N, C_in, H, W), (C_out, kH, kW), stride, padding, groups
    ((2, 3, 7, 6), (4, 3, 3), 1, 0, 1),
    ((2, 3, 7, 6), (4, 3, 3), 2, 1, 1),
    ((1, 2, 8, 8), (3, 2, 4), (2, 3), (1, 2), 1),
    ((2, 3, 5, 5), (2, 5, 5), 1, 0, 1),  # kernel as large as the input: one output pixel
    ((2, 2, 6, 7), (3, 3, 3), 1, "same", 1),
    ((2, 2, 6, 7), (3, 2, 4), 1, "same", 1),  # even kernel: the odd padding goes bottom and right
    ((2, 2, 6, 7), (3, 3, 3), 1, "valid", 1),
    ((2, 4, 6, 6), (4, 3, 3), 1, 1, 4),  # depthwise
    ((2, 4, 6, 6), (6, 3, 3), 2, 1, 2),
    ((1, 1, 4, 4), (1, 1, 1), 1, 0, 1),
]


def _tensors(x_shape, w_shape, groups, seed=0):
    g = torch.Generator().manual_seed(seed)
    c_out, kh, kw = w_shape
    x = torch.randn(*x_shape, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(c_out, x_shape[1] // groups, kh, kw, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(c_out, generator=g, dtype=torch.float64, requires_grad=True)
    return x, w, b


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, groups", CASES)
def test_conv2d_equals_torch_in_values_and_gradients(x_shape, w_shape, stride, padding, groups):
    x, w, b = _tensors(x_shape, w_shape, groups)
    ours = conv2d(x, w, b, stride=stride, padding=padding, groups=groups)
    ref = F.conv2d(x, w, b, stride=stride, padding=padding, groups=groups)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    up = torch.randn(ref.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    got = torch.autograd.grad((ours * up).sum(), (x, w, b))
    want = torch.autograd.grad((ref * up).sum(), (x, w, b))
    for a, e in zip(got, want):
        torch.testing.assert_close(a, e, rtol=1e-12, atol=1e-12)
    # the NumPy path gives the same numbers
    numpy_out = conv2d(x.detach().numpy(), w.detach().numpy(), b.detach().numpy(), stride=stride, padding=padding,
                       groups=groups)
    np.testing.assert_allclose(numpy_out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_passes_finite_differences():
    x, w, b = _tensors((1, 2, 5, 5), (2, 3, 3), 1)
    assert torch.autograd.gradcheck(lambda x, w, b: conv2d(x, w, b, stride=2, padding=1), (x, w, b))


def test_conv2d_without_bias_and_on_one_image():
    x, w, _ = _tensors((1, 3, 6, 6), (2, 3, 3), 1)
    torch.testing.assert_close(conv2d(x[0], w), F.conv2d(x[0], w))


def test_conv2d_is_one_matrix_product_of_im2col():
    x, w, b = _tensors((2, 3, 6, 5), (4, 3, 2), 1)
    cols = im2col(x, (3, 2), stride=1, padding=1)
    assert cols.shape == (2, 3 * 3 * 2, 6 * 6)
    out = (w.reshape(4, -1) @ cols).reshape(2, 4, 6, 6) + b.reshape(1, 4, 1, 1)
    torch.testing.assert_close(out, F.conv2d(x, w, b, padding=1))
    torch.testing.assert_close(cols, F.unfold(x, (3, 2), padding=1))  # torch's own im2col


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2), (1, "same")])
def test_conv1d_equals_torch(stride, padding):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 11, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(5, 3, 4, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, generator=g)
    ours, ref = conv1d(x, w, b, stride=stride, padding=padding), F.conv1d(x, w, b, stride=stride, padding=padding)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), w)[0], torch.autograd.grad(ref.sum(), w)[0])


@pytest.mark.parametrize("ours, ref", [(max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)])
@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 1), ((2, 3), (1, 2)), (3, 2)])
def test_pooling_equals_torch(ours, ref, kernel, stride):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 7, 8, dtype=torch.float64, generator=g, requires_grad=True)
    a, e = ours(x, kernel, stride), ref(x, kernel, stride)
    torch.testing.assert_close(a, e)
    torch.testing.assert_close(torch.autograd.grad(a.sum(), x)[0], torch.autograd.grad(e.sum(), x)[0])
    np.testing.assert_allclose(ours(x.detach().numpy(), kernel, stride), e.detach().numpy())


def test_max_pool_gradient_goes_to_the_largest_value_only():
    x = torch.tensor([[[[1.0, 5.0], [2.0, 3.0]]]], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(max_pool2d(x, 2).sum(), x)
    assert grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]


@pytest.mark.parametrize("n, k, p, s", list(itertools.product([5, 8, 32], [1, 3, 5], [0, 1, 2], [1, 2, 3])))
def test_conv_output_size_is_the_floor_formula(n, k, p, s):
    out = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p)
    assert conv_output_size(n, k, p, s) == out.shape[-1]


def test_conv_output_size_examples():
    assert conv_output_size(32, 3, 1, 1) == 32  # "same" for a 3x3 kernel
    assert conv_output_size(32, 2, 0, 2) == 16  # 2x2 pooling halves
    assert conv_output_size(224, 7, 3, 2) == 112  # ResNet's first layer
    assert conv_output_size(7, 3, 0, 2) == 3  # floor: the last column is never a window's start


@pytest.mark.parametrize("call, message", [
    (lambda x, w: conv2d(x, w[:, :2]), r"conv2d: x has 3 channels but weight expects 2"),
    (lambda x, w: conv2d(x, w, stride=0), r"conv2d: stride is 0; expected a positive integer"),
    (lambda x, w: conv2d(x, w, stride=-1), r"conv2d: stride is -1; expected a positive integer"),
    (lambda x, w: conv2d(x[:, :, :2, :2], w), r"conv2d: the kernel \(3 x 3\) is larger than the padded input \(2 x 2\)"),
    (lambda x, w: conv2d(x, w, padding="full"), r"conv2d: padding is 'full'; expected a whole number, a pair"),
    (lambda x, w: conv2d(x, w, stride=2, padding="same"), r"conv2d: padding 'same' needs stride 1"),
    (lambda x, w: conv2d(x, w, padding=-1), r"conv2d: padding is -1; expected an integer >= 0"),
    (lambda x, w: conv2d(x[0, 0], w), r"conv2d: x has shape \(6, 6\); expected \(N, C, H, W\) or \(C, H, W\)"),
    (lambda x, w: conv2d(x, w[0]), r"conv2d: weight has shape \(3, 3, 3\); expected \(C_out, C_in / groups, kH, kW\)"),
    (lambda x, w: conv2d(x, w, torch.zeros(3, dtype=torch.float64)), r"conv2d: bias has shape \(3,\); expected \(4,\)"),
    (lambda x, w: conv2d(x, w, groups=2), r"conv2d: groups is 2; it must divide both the input channels \(3\)"),
    (lambda x, w: conv2d(x.numpy(), w), r"conv2d: x is a numpy ndarray, weight is a torch Tensor"),
    (lambda x, w: max_pool2d(x, 7), r"max_pool2d: the kernel \(7 x 7\) is larger than the padded input \(6 x 6\)"),
    (lambda x, w: max_pool2d(x, 0), r"max_pool2d: kernel_size is 0; expected a positive integer"),
    (lambda x, w: conv_output_size(4, 7), r"conv_output_size: the kernel \(7\) is longer than the padded input"),
    (lambda x, w: conv_output_size(4, 3, s=0), r"conv_output_size: s is 0; expected a positive integer"),
])
def test_bad_arguments_get_a_clear_error(call, message):
    x = torch.zeros(2, 3, 6, 6, dtype=torch.float64)
    w = torch.zeros(4, 3, 3, 3, dtype=torch.float64)
    with pytest.raises((ValueError, TypeError), match=message):
        call(x, w)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_conv2d_and_pooling_on_cuda():
    x, w, b = (t.detach().cuda().requires_grad_() for t in _tensors((2, 3, 8, 8), (4, 3, 3), 1))
    out = conv2d(x, w, b, padding=1)
    assert out.device.type == "cuda"
    torch.testing.assert_close(out, F.conv2d(x, w, b, padding=1))
    torch.testing.assert_close(max_pool2d(out, 2), F.max_pool2d(out, 2))


@pytest.mark.parametrize("dy, dx", [(1, 0), (0, 2), (2, 3)])
def test_a_shifted_image_gives_a_shifted_feature_map(dy, dx):
    """Translation equivariance at stride 1: shift the input, and the output shifts by the same amount
    (away from the border, where the shifted-in zeros are seen)."""
    rng = np.random.default_rng(4)
    x = np.zeros((1, 2, 14, 14))
    x[:, :, 3:9, 3:9] = rng.normal(size=(1, 2, 6, 6))  # an object away from the border
    w = rng.normal(size=(3, 2, 3, 3))
    shifted = np.roll(x, (dy, dx), axis=(2, 3))
    out, out_shifted = conv2d(x, w, padding=1), conv2d(shifted, w, padding=1)
    np.testing.assert_allclose(out_shifted, np.roll(out, (dy, dx), axis=(2, 3)), atol=1e-12)
    pooled, pooled_shifted = max_pool2d(out, 2), max_pool2d(out_shifted, 2)
    if dy % 2 == 0 and dx % 2 == 0:  # pooling is equivariant only to shifts by whole windows
        np.testing.assert_allclose(pooled_shifted, np.roll(pooled, (dy // 2, dx // 2), axis=(2, 3)), atol=1e-12)


def test_receptive_field_matches_the_pixels_a_gradient_reaches():
    from lessons_lib.functional.conv import receptive_field

    layers = [(3, 1), (3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]  # conv, conv, pool, conv, pool, conv
    fields = receptive_field(layers)
    assert [f[0] for f in fields] == [3, 5, 6, 10, 12, 20] and fields[-1][1] == 4
    assert receptive_field([(3, 1)] * 5)[-1] == (11, 1)  # five 3x3 layers see what one 11x11 sees
    # measured: the input pixels that influence one output pixel of the same stack (no padding)
    x = torch.ones(1, 1, 64, 64, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s in layers:
        h = F.avg_pool2d(h, k, s) if s == 2 else F.conv2d(h, torch.ones(1, 1, k, k, dtype=torch.float64))
    h[0, 0, 1, 1].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    assert len(rows) == fields[-1][0]
    with pytest.raises(ValueError, match=r"receptive_field: layer 1 is 3; expected a pair"):
        receptive_field([(3, 1), 3])
