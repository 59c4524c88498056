"""Convolution and pooling (Part III), written once against the array API.

The functions take NumPy arrays or torch tensors (CPU or GPU); on tensors, torch autograd differentiates
through them. Shapes and meaning follow ``torch.nn.functional``: a batch of images is ``(N, C, H, W)`` (one
image ``(C, H, W)`` works too), a weight is ``(C_out, C_in / groups, kH, kW)``, and "convolution" is the
cross-correlation deep-learning libraries compute (the kernel is not flipped)::

    out[n, o, i, j] = bias[o] + sum over c, u, v of  x[n, c, i*s + u, j*s + v] * weight[o, c, u, v]

The work is one matrix product: :func:`im2col` lays every receptive field out as a column, and the
convolution multiplies the flattened kernels by those columns. Pooling reads the same windows and takes
their maximum or mean.
"""

from __future__ import annotations

from lessons_lib.validate import as_array, integer, one_library

__all__ = ["avg_pool2d", "conv1d", "conv2d", "conv_output_size", "im2col", "max_pool2d", "receptive_field"]


def conv_output_size(n: int, k: int, p: int = 0, s: int = 1) -> int:
    """Output length of a convolution or pooling along one axis: floor((n + 2p - k) / s) + 1.

    n: input length, k: kernel length, p: zero padding on each side, s: stride.
    """
    fn = "conv_output_size"
    n, k, s = _positive(fn, "n", n), _positive(fn, "k", k), _positive(fn, "s", s)
    p = _count(fn, "p", p)
    if k > n + 2 * p:
        raise ValueError(f"{fn}: the kernel ({k}) is longer than the padded input ({n} + 2*{p} = {n + 2 * p})")
    return (n + 2 * p - k) // s + 1


def receptive_field(layers) -> list[tuple[int, int]]:
    """How many input pixels (along one axis) one output pixel of each layer sees, for a stack of
    convolutions and poolings given as ``(kernel_size, stride)`` pairs, first layer first.

    Returns ``(size, jump)`` after each layer: ``size`` is the receptive field, ``jump`` the distance in input
    pixels between neighbouring outputs. Each layer widens the field by (k - 1) times the jump so far, then
    multiplies the jump by its stride: size = 1 + sum_l (k_l - 1) * prod_{m<l} s_m. Padding does not change it.
    """
    size, jump, out = 1, 1, []
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) != 2:
            raise ValueError(f"receptive_field: layer {i} is {layer!r}; expected a pair (kernel_size, stride)")
        k = _positive("receptive_field", f"layer {i}'s kernel_size", layer[0])
        s = _positive("receptive_field", f"layer {i}'s stride", layer[1])
        size, jump = size + (k - 1) * jump, jump * s
        out.append((size, jump))
    return out


def im2col(x, kernel_size, stride=1, padding=0):
    """Every receptive field of ``x`` as a column: ``(N, C, H, W)`` -> ``(N, C*kH*kW, H_out*W_out)``.

    Row ``c*kH*kW + u*kW + v`` holds pixel ``(u, v)`` of channel ``c`` in each window, the order of
    ``weight.reshape(C_out, -1)``, so ``weight.reshape(C_out, -1) @ im2col(x, ...)`` is the convolution.
    """
    x, xp, single = _images("im2col", x)
    kernel = _pair("im2col", "kernel_size", kernel_size, positive=True)
    stride = _pair("im2col", "stride", stride, positive=True)
    cols, _ = _columns("im2col", xp, x, kernel, stride, _padding("im2col", padding, kernel, stride))
    n, c, kk, ho, wo = (int(d) for d in cols.shape)
    cols = xp.reshape(cols, (n, c * kk, ho * wo))
    return cols[0] if single else cols


def conv2d(x, weight, bias=None, stride=1, padding=0, groups: int = 1):
    """2-D convolution with the semantics of ``torch.nn.functional.conv2d`` (no dilation).

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_out, C_in / groups, kH, kW); bias: (C_out,) or None.
    stride: an int or a pair; padding: an int, a pair, "valid" (0) or "same" (output as large as the input,
    stride 1; an odd total padding puts the extra row and column at the bottom and right, as torch does).
    Returns (N, C_out, H_out, W_out), with H_out = floor((H + 2 pH - kH) / sH) + 1 (:func:`conv_output_size`).
    """
    fn = "conv2d"
    x, xp, single = _images(fn, x)
    weight, _ = as_array(fn, "weight", weight)
    named = {"x": x, "weight": weight} | ({"bias": bias} if bias is not None else {})
    one_library(fn, named)
    if len(weight.shape) != 4:
        raise ValueError(f"{fn}: weight has shape {tuple(weight.shape)}; expected (C_out, C_in / groups, kH, kW)")
    c_out, c_per_group, kh, kw = (int(d) for d in weight.shape)
    c_in = int(x.shape[1])
    groups = _positive(fn, "groups", groups)
    if c_in % groups or c_out % groups:
        raise ValueError(f"{fn}: groups is {groups}; it must divide both the input channels ({c_in}) and the "
                         f"output channels ({c_out})")
    if c_per_group * groups != c_in:
        raise ValueError(f"{fn}: x has {c_in} channels but weight expects {c_per_group * groups} "
                         f"(weight shape {tuple(weight.shape)}, groups {groups}); the channel counts must match")
    stride = _pair(fn, "stride", stride, positive=True)
    cols, (ho, wo) = _columns(fn, xp, x, (kh, kw), stride, _padding(fn, padding, (kh, kw), stride))
    n = int(x.shape[0])
    cols = xp.reshape(cols, (n, groups, c_per_group * kh * kw, ho * wo))    # (N, G, K, L)
    kernels = xp.reshape(weight, (groups, c_out // groups, c_per_group * kh * kw))  # (G, C_out/G, K)
    out = xp.reshape(kernels @ cols, (n, c_out, ho, wo))                    # (N, G, C_out/G, L) -> image
    if bias is not None:
        bias, _ = as_array(fn, "bias", bias)
        if tuple(int(d) for d in bias.shape) != (c_out,):
            raise ValueError(f"{fn}: bias has shape {tuple(bias.shape)}; expected ({c_out},), one per output channel")
        out = out + xp.reshape(bias, (1, c_out, 1, 1))
    return out[0] if single else out


def conv1d(x, weight, bias=None, stride=1, padding=0, groups: int = 1):
    """1-D convolution with the semantics of ``torch.nn.functional.conv1d``: x (N, C_in, L) or (C_in, L),
    weight (C_out, C_in / groups, k). A 1-D signal is an image one pixel high, so this is :func:`conv2d`."""
    fn = "conv1d"
    x, xp = as_array(fn, "x", x)
    weight, _ = as_array(fn, "weight", weight)
    if len(x.shape) not in (2, 3):
        raise ValueError(f"{fn}: x has shape {tuple(x.shape)}; expected (N, C, L) or (C, L)")
    if len(weight.shape) != 3:
        raise ValueError(f"{fn}: weight has shape {tuple(weight.shape)}; expected (C_out, C_in / groups, k)")
    if isinstance(padding, str):
        pad = padding
    else:
        pad = (0, _count(fn, "padding", padding))
    out = conv2d(xp.expand_dims(x, axis=-2), xp.expand_dims(weight, axis=-2), bias,
                 stride=(1, _positive(fn, "stride", stride)), padding=pad, groups=groups)
    return out[..., 0, :]


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling, as ``torch.nn.functional.max_pool2d`` without padding: the largest value of each
    kH x kW window, windows ``stride`` apart (default: the kernel size, so they do not overlap)."""
    return _pool("max_pool2d", x, kernel_size, stride, "max")


def avg_pool2d(x, kernel_size, stride=None):
    """Average pooling, as ``torch.nn.functional.avg_pool2d`` without padding: the mean of each window."""
    return _pool("avg_pool2d", x, kernel_size, stride, "mean")


# --------------------------------------------------------------------------------------------------------
# The windows


def _columns(fn, xp, x, kernel, stride, padding):
    """The windows of ``x`` (N, C, H, W): (N, C, kH*kW, H_out, W_out), and (H_out, W_out)."""
    (top, bottom), (left, right) = padding
    x = _zero_pad(xp, x, top, bottom, left, right)
    h, w = int(x.shape[2]), int(x.shape[3])
    (kh, kw), (sh, sw) = kernel, stride
    if kh > h or kw > w:
        raise ValueError(f"{fn}: the kernel ({kh} x {kw}) is larger than the padded input ({h} x {w})")
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    # One strided view per kernel position (u, v): the pixel each window has there.
    shifted = [x[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw]
               for u in range(kh) for v in range(kw)]
    return xp.stack(shifted, axis=2), (ho, wo)


def _zero_pad(xp, x, top, bottom, left, right):
    if not (top or bottom or left or right):
        return x
    n, c, h, w = (int(d) for d in x.shape)
    like = {"dtype": x.dtype, "device": _device(x)}
    x = xp.concat([xp.zeros((n, c, top, w), **like), x, xp.zeros((n, c, bottom, w), **like)], axis=2)
    h += top + bottom
    return xp.concat([xp.zeros((n, c, h, left), **like), x, xp.zeros((n, c, h, right), **like)], axis=3)


def _pool(fn, x, kernel_size, stride, how):
    x, xp, single = _images(fn, x)
    kernel = _pair(fn, "kernel_size", kernel_size, positive=True)
    stride = kernel if stride is None else _pair(fn, "stride", stride, positive=True)
    windows, _ = _columns(fn, xp, x, kernel, stride, ((0, 0), (0, 0)))
    out = xp.max(windows, axis=2) if how == "max" else xp.mean(windows, axis=2)
    return out[0] if single else out


# --------------------------------------------------------------------------------------------------------
# Argument checks


def _images(fn, x):
    """x as (N, C, H, W); ``single`` when it came as one (C, H, W) image."""
    x, xp = as_array(fn, "x", x)
    if len(x.shape) not in (3, 4):
        raise ValueError(f"{fn}: x has shape {tuple(x.shape)}; expected (N, C, H, W) or (C, H, W)")
    single = len(x.shape) == 3
    return (xp.expand_dims(x, axis=0) if single else x), xp, single


def _count(fn, name, value) -> int:
    return integer(fn, name, value, minimum=0)


def _positive(fn, name, value) -> int:
    return integer(fn, name, value, minimum=1)


def _pair(fn, name, value, positive=False) -> tuple[int, int]:
    check = _positive if positive else _count
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{fn}: {name} is {value!r}; expected one whole number or a pair")
        return check(fn, name, value[0]), check(fn, name, value[1])
    v = check(fn, name, value)
    return v, v


def _padding(fn, padding, kernel, stride):
    """((top, bottom), (left, right)) from an int, a pair, "valid" or "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{fn}: padding 'same' needs stride 1; got stride {stride}")
            return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel)
        raise ValueError(f"{fn}: padding is {padding!r}; expected a whole number, a pair, 'valid' or 'same'")
    ph, pw = _pair(fn, "padding", padding)
    return (ph, ph), (pw, pw)


def _device(x):
    from array_api_compat import device

    return device(x)
