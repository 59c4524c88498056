"""Checkers for the exercises of Chapter 19 (the CIFAR-10 network in PyTorch).

- :func:`check_stack_summary`: the output shape and the parameter count of every layer of a stack of
  convolutions, poolings, ReLUs, a flatten and linear layers, given as plain specifications, checked against
  the same stack built in torch;
- :func:`check_hflip`: a random horizontal flip on a batch, the images to flip given by a boolean mask;
- :func:`check_normalize_channels`: ``Normalize(mean, std)`` with one mean and one std per channel.

A layer specification is a tuple: ``("conv", out_channels, kernel_size, padding, stride)`` with padding an
int or ``"same"`` (stride 1 only), ``("pool", kernel_size, stride)`` (max pooling), ``("relu",)``,
``("flatten",)`` or ``("linear", out_features)``. Every conv and linear layer has a bias, as in torch.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED, CheckResult, attempt, describe_case, same_values

__all__ = [
    "build_stack",
    "check_hflip",
    "check_normalize_channels",
    "check_stack_summary",
    "hflip_reference",
    "normalize_channels_reference",
    "stack_summary_reference",
]


# --------------------------------------------------------------------------------- shapes and parameters


def stack_summary_reference(specs, input_shape):
    """Shape after each layer (a tuple, batch axis left out) and each layer's number of parameters."""
    return _summary(specs, input_shape, lambda a, b: a // b)


def _summary(specs, input_shape, divide):
    """The reference, with the division of the output-size formula as a parameter (to recognise slips)."""
    def size(n, k, p, s):
        return divide(n + 2 * p - k, s) + 1

    shape, shapes, params = tuple(input_shape), [], []
    for spec in specs:
        kind = spec[0]
        if kind == "conv":
            _, out_c, k, p, s = spec
            c, h, w = shape
            h_out, w_out = (h, w) if p == "same" else (size(h, k, p, s), size(w, k, p, s))
            shape, n = (out_c, h_out, w_out), k * k * c * out_c + out_c
        elif kind == "pool":
            _, k, s = spec
            c, h, w = shape
            shape, n = (c, size(h, k, 0, s), size(w, k, 0, s)), 0
        elif kind == "relu":
            n = 0
        elif kind == "flatten":
            shape, n = (int(np.prod(shape)),), 0
        elif kind == "linear":
            (f,), out_f = shape, spec[1]
            shape, n = (out_f,), f * out_f + out_f
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        shapes.append(shape)
        params.append(n)
    return shapes, params


def build_stack(specs, input_shape):
    """The torch ``nn.Sequential`` that the specifications describe for inputs of ``input_shape`` (C, H, W),
    with the shape after each layer measured by running one zero image through it."""
    import torch
    from torch import nn

    layers, shapes, x = [], [], torch.zeros(1, *input_shape)
    for spec in specs:
        kind = spec[0]
        if kind == "conv":
            _, out_c, k, p, s = spec
            layer = nn.Conv2d(x.shape[1], out_c, k, stride=s, padding=p)
        elif kind == "pool":
            layer = nn.MaxPool2d(spec[1], stride=spec[2])
        elif kind == "relu":
            layer = nn.ReLU()
        elif kind == "flatten":
            layer = nn.Flatten()
        elif kind == "linear":
            layer = nn.Linear(x.shape[1], spec[1])
        else:
            raise ValueError(f"build_stack: unknown layer kind {kind!r}")
        with torch.no_grad():
            x = layer(x)
        layers.append(layer)
        shapes.append(tuple(x.shape[1:]))
    return nn.Sequential(*layers), shapes


def _measured(specs, input_shape):
    """Shapes and parameter counts of the torch stack."""
    model, shapes = build_stack(specs, input_shape)
    return shapes, [sum(p.numel() for p in layer.parameters()) for layer in model]


CIFAR_SPECS = [("conv", 32, 3, "same", 1), ("relu",), ("pool", 2, 2), ("conv", 64, 3, 0, 1), ("relu",),
               ("pool", 2, 2), ("flatten",), ("linear", 600), ("relu",), ("linear", 120), ("relu",),
               ("linear", 10)]


def _stack_cases():
    return [
        {"specs": CIFAR_SPECS, "input_shape": (3, 32, 32)},
        {"specs": [("conv", 6, 5, 2, 1), ("relu",), ("pool", 2, 2), ("conv", 16, 5, 0, 1), ("relu",),
                   ("pool", 2, 2), ("flatten",), ("linear", 120), ("linear", 84), ("linear", 10)],
         "input_shape": (1, 28, 28)},
        # odd sizes: the floors matter (28 -> 13 with k 3, s 2; 13 -> 6 by pooling)
        {"specs": [("conv", 8, 3, 0, 2), ("relu",), ("pool", 2, 2), ("conv", 4, 3, 1, 2), ("flatten",),
                   ("linear", 5)], "input_shape": (2, 28, 28)},
        # a non-square input, a 1x1 convolution and a pool with stride 1
        {"specs": [("conv", 10, 1, 0, 1), ("pool", 3, 1), ("conv", 12, 3, "same", 1), ("pool", 2, 2),
                   ("flatten",), ("linear", 7)], "input_shape": (3, 20, 15)},
    ]


def _bias_free(specs, input_shape):
    _, params = stack_summary_reference(specs, input_shape)
    return [n - spec[1] if spec[0] in ("conv", "linear") else n for spec, n in zip(specs, params)]


def _per_filter_only(specs, input_shape):
    """Conv parameters counted as k*k*out + out: as if each filter saw one input channel."""
    _, params = stack_summary_reference(specs, input_shape)
    return [spec[2] * spec[2] * spec[1] + spec[1] if spec[0] == "conv" else n for spec, n in zip(specs, params)]


def _ceil_shapes(specs, input_shape):
    """Shapes with the division rounded up instead of down (a frequent slip)."""
    return _summary(specs, input_shape, lambda a, b: -(-a // b))[0]


def _unpack_summary(got, n_layers):
    """(shapes, params) as a list of int tuples and a list of ints, or a string saying what is wrong."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"returned {type(got).__name__}; expected a pair (shapes, params): two lists with one entry per layer"
    shapes, params = got
    try:
        shapes = [tuple(s) for s in shapes]
        values = [v for s in shapes for v in s] + list(params)
        if any(float(v) != int(v) for v in values):
            return ("a shape or a count is not a whole number. Hint: the output size is floor((n + 2p − k) / s) + 1; "
                    "compute it with // (integer division), not /")
        shapes = [tuple(int(v) for v in s) for s in shapes]
        params = [int(p) for p in params]
    except (TypeError, ValueError):
        return ("shapes must be a list of tuples of ints, e.g. (32, 16, 16) or (3136,) for a flat vector, "
                "and params a list of ints")
    if len(shapes) != n_layers or len(params) != n_layers:
        return (f"got {len(shapes)} shapes and {len(params)} parameter counts for {n_layers} layers; "
                "give one entry per layer, ReLU and flatten included")
    return shapes, params


def check_stack_summary(fn) -> CheckResult:
    """Check ``fn(specs, input_shape) -> (shapes, params)`` against the stack built and run in torch."""
    name = "check_stack_summary"
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    cases = _stack_cases()
    for case in cases:
        specs, input_shape = case["specs"], case["input_shape"]
        shown = f"input_shape = {input_shape}, specs = {specs}"
        got, error = attempt(name, fn, list(specs), tuple(input_shape), where=shown)
        if error:
            return error
        got = _unpack_summary(got, len(specs))
        if isinstance(got, str):
            return CheckResult(name, FAILED, f"for {shown}: {got}")
        shapes, params = got
        want_shapes, want_params = _measured(specs, input_shape)
        for i, (spec, g, w) in enumerate(zip(specs, shapes, want_shapes)):
            if g != w:
                msg = f"for input_shape = {input_shape}: after layer {i} {spec} the shape is {w} (torch), you gave {g}"
                if g == tuple(w[1:]) + (w[0],):
                    hint = "torch keeps channels first: (C, H, W)"
                elif _ceil_shapes(specs, input_shape)[i] == g:
                    hint = "the output size is floor((n + 2p − k) / s) + 1: round down (//), not up"
                elif spec[0] == "conv" and spec[3] == "same":
                    hint = "padding 'same' keeps H and W unchanged (stride 1)"
                elif spec[0] == "conv" and len(g) == 3 and g[0] != w[0]:
                    hint = "a convolution's output has out_channels channels, whatever its input had"
                elif spec[0] == "pool" and len(g) == 3 and g[0] != w[0]:
                    hint = "pooling works on each channel separately: the number of channels does not change"
                elif spec[0] == "flatten":
                    hint = "flatten multiplies C·H·W of the shape before it"
                else:
                    hint = "apply floor((n + 2p − k) / s) + 1 to H and to W; pooling with kernel k, stride s, p = 0"
                return CheckResult(name, FAILED, f"{msg}. Hint: {hint}")
        for i, (spec, g, w) in enumerate(zip(specs, params, want_params)):
            if g != w:
                msg = f"for input_shape = {input_shape}: layer {i} {spec} has {w} parameters (torch), you gave {g}"
                if spec[0] in ("pool", "relu", "flatten"):
                    hint = f"{spec[0]} has no parameters: 0"
                elif g == _bias_free(specs, input_shape)[i]:
                    hint = "add the biases: one per output channel (conv) or per output unit (linear)"
                elif spec[0] == "conv" and g == _per_filter_only(specs, input_shape)[i]:
                    hint = "each filter spans every input channel: k·k·C_in weights per output channel, plus its bias"
                elif spec[0] == "conv":
                    hint = "a convolution has k·k·C_in·C_out weights and C_out biases, whatever the image size"
                else:
                    hint = "a linear layer has in·out weights and out biases; 'in' is the size the flatten produced"
                return CheckResult(name, FAILED, f"{msg}. Hint: {hint}")
    return CheckResult(name, PASSED, f"all {len(cases)} stacks agree with torch, layer by layer (shapes and parameters)")


# ------------------------------------------------------------------------------------- horizontal flip


def hflip_reference(x, flip):
    """Each image i of x (N, C, H, W) mirrored left-right where flip[i] is True; x itself unchanged."""
    import torch

    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def _flip_cases():
    import torch

    g = torch.Generator().manual_seed(19)
    cases = []
    for n, c, h, w, pattern in [(4, 3, 5, 6, [True, False, True, False]), (3, 1, 4, 4, [False, False, False]),
                                (5, 3, 7, 7, [True] * 5), (6, 2, 3, 8, None)]:
        x = torch.rand(n, c, h, w, generator=g, dtype=torch.float64)
        flip = torch.tensor(pattern) if pattern is not None else torch.rand(n, generator=g) < 0.5
        cases.append({"x": x, "flip": flip})
    return cases


def check_hflip(fn) -> CheckResult:
    """Check ``fn(x, flip) -> batch``: flip (N,) bool says which images of x (N, C, H, W) to mirror."""
    import torch

    name = "check_hflip"
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    cases = _flip_cases()
    for case in cases:
        x, flip = case["x"], case["flip"]
        x_given = x.clone()
        where = f"x of shape {tuple(x.shape)}, flip = {flip.tolist()}"
        got, error = attempt(name, fn, x_given, flip.clone(), where=where)
        if error:
            return error
        if not isinstance(got, torch.Tensor):
            return CheckResult(name, FAILED, f"for {where}: returned {type(got).__name__}; expected a tensor")
        want = hflip_reference(x, flip)
        if not torch.equal(x_given, x):
            return CheckResult(name, FAILED, f"for {where}: your function changed x itself. Hint: build a new tensor "
                                             "(x.flip(-1), torch.where) instead of writing into x")
        if tuple(got.shape) != tuple(x.shape):
            return CheckResult(name, FAILED, f"for {where}: got shape {tuple(got.shape)}, expected {tuple(x.shape)}")
        if torch.allclose(got.cpu().double(), want):
            continue
        msg = f"for {where}: the batch is wrong"
        if torch.allclose(got.cpu().double(), x.flip(-1)):
            hint = "you flipped every image; flip only those with flip[i] True"
        elif torch.allclose(got.cpu().double(), torch.where(flip[:, None, None, None], x.flip(-2), x)):
            hint = "that is a vertical flip (the H axis); a horizontal flip reverses the W axis, dim -1"
        elif torch.allclose(got.cpu().double(), torch.where(flip[:, None, None, None], x.flip(1), x)):
            hint = "you reversed the channels (dim 1), which swaps red and blue; reverse the W axis, dim -1"
        elif torch.allclose(got.cpu().double(), torch.where(flip[:, None, None, None], x, x.flip(-1))):
            hint = "you flipped the images with flip[i] False and kept those with True"
        elif torch.allclose(got.cpu().double(), x):
            hint = "nothing was flipped"
        else:
            hint = "mirror along the last axis (W) the images i with flip[i] True, keep the others as they are"
        return CheckResult(name, FAILED, f"{msg}. Hint: {hint}")
    return CheckResult(name, PASSED, f"all {len(cases)} batches flipped correctly (and x left unchanged)")


# ------------------------------------------------------------------------------------------- normalize


def normalize_channels_reference(x, mean, std):
    """(x - mean[c]) / std[c] for each channel c of x (N, C, H, W)."""
    import torch

    m = torch.as_tensor(mean, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)
    return (x - m) / s


def _normalize_cases():
    import torch

    g = torch.Generator().manual_seed(190)
    shapes_stats = [((2, 3, 4, 3), (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)),  # W = C: a wrong broadcast runs
                    ((2, 3, 4, 5), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
                    ((2, 1, 4, 4), (0.3,), (0.2,)),
                    ((4, 3, 2, 6), (0.1, 0.5, 0.9), (1.0, 0.5, 2.0))]
    return [{"x": torch.rand(shape, generator=g, dtype=torch.float64), "mean": m, "std": s}
            for shape, m, s in shapes_stats]


def _normalize_hints(case, got):
    import torch

    x, mean, std = case["x"], case["mean"], case["std"]
    m = torch.as_tensor(mean, dtype=x.dtype).reshape(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=x.dtype).reshape(1, -1, 1, 1)
    m_last, s_last = torch.as_tensor(mean, dtype=x.dtype), torch.as_tensor(std, dtype=x.dtype)
    tries = [
        ((x - m) / s**2, "you divided by the variance std²; Normalize divides by std"),
        ((x - m) * s, "you multiplied by std; Normalize divides by it: (x − mean) / std"),
        (x / s - m, "subtract the mean first, then divide: (x − mean) / std"),
        ((x * s) + m, "that is the inverse (un-normalising); Normalize computes (x − mean) / std"),
        (x - m, "you subtracted the mean but did not divide by std"),
    ]
    if x.shape[-1] == len(mean):
        tries.insert(0, ((x - m_last) / s_last, "mean and std of shape (C,) broadcast against the LAST axis (W), "
                                                "not the channels: reshape them to (C, 1, 1) or (1, C, 1, 1)"))
    for value, hint in tries:
        if same_values(got, value):
            return hint
    return None


def check_normalize_channels(fn) -> CheckResult:
    """Check ``fn(x, mean, std) -> (x - mean) / std`` per channel of x (N, C, H, W), as torchvision's Normalize."""
    import torch

    name = "check_normalize_channels"
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    cases = _normalize_cases()
    for case in cases:
        x = case["x"]
        given = x.clone()
        shown = {"x": f"shape {tuple(x.shape)}", "mean": case["mean"], "std": case["std"]}
        where = describe_case(shown)
        got, error = attempt(name, fn, given, case["mean"], case["std"], where=where)
        if error:
            if "must match the size" in error.message:
                error.message += (". Hint: mean and std of shape (C,) broadcast against the LAST axis (W); reshape "
                                  "them to (C, 1, 1) so that they line up with the channels")
            return error
        if not torch.equal(given, x):
            return CheckResult(name, FAILED, f"for {where}: your function changed x itself (an in-place operation). "
                                             "Hint: compute a new tensor")
        want = normalize_channels_reference(x, case["mean"], case["std"])
        if same_values(got, want, rtol=1e-6, atol=1e-9):
            continue
        shape = tuple(getattr(got, "shape", ()))
        if shape != tuple(want.shape):
            return CheckResult(name, FAILED, f"for {where}: got shape {shape}, expected {tuple(want.shape)}")
        hint = _normalize_hints(case, got)
        return CheckResult(name, FAILED, f"for {where}: the values are wrong" + (f". Hint: {hint}" if hint else
                           ". Hint: subtract channel c's mean from channel c and divide by channel c's std"))
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed (per-channel mean and std, x unchanged)")
