"""The Chapter 20 checkers: references agree with torch, pass, and realistic wrong answers get the right diagnosis."""

import pytest
import torch
from torch import nn

from lessons_lib.models.cnn import DepthwiseSeparable
from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch20 import (
    _conv_cases,
    _ratio_cases,
    check_conv_cost,
    check_separable_ratio,
    conv_cost_reference,
    separable_ratio_reference,
)


def _measured_mult_adds(model, input_shape):
    """Multiply-adds of every Conv2d in ``model`` for one input, from the output shapes seen by forward hooks."""
    total = []

    def hook(module, inputs, out):
        kh, kw = module.kernel_size
        total.append(out[0].numel() * (module.in_channels // module.groups) * kh * kw)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for h in handles:
        h.remove()
    return sum(total)


# ------------------------------------------------------------------------------------- conv cost


@pytest.mark.parametrize("case", _conv_cases(), ids=lambda c: f"{c['in_channels']}-{c['out_channels']}-{c['groups']}")
def test_conv_cost_reference_agrees_with_torch(case):
    layer = nn.Conv2d(case["in_channels"], case["out_channels"], case["kernel_size"], groups=case["groups"],
                      bias=case["bias"])
    kh, kw = layer.kernel_size
    input_shape = (case["in_channels"], case["out_h"] + kh - 1, case["out_w"] + kw - 1)  # no padding, stride 1
    params, mult_adds = conv_cost_reference(**case)
    assert params == sum(p.numel() for p in layer.parameters())
    assert mult_adds == _measured_mult_adds(layer, input_shape)


def test_conv_cost_reference_passes_and_not_attempted():
    assert check_conv_cost(conv_cost_reference).status == PASSED

    def stub(in_channels, out_channels, kernel_size, out_h, out_w, groups=1, bias=True):
        raise NotImplementedError

    assert check_conv_cost(stub).status == NOT_ATTEMPTED


def test_conv_cost_via_torch_passes():
    def via_torch(in_channels, out_channels, kernel_size, out_h, out_w, groups=1, bias=True):
        layer = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias)
        weights = layer.weight.numel()
        return sum(p.numel() for p in layer.parameters()), weights * out_h * out_w

    assert check_conv_cost(via_torch).passed


def _solution(**changes):
    """A correct solution with one deliberate slip switched on."""

    def fn(in_channels, out_channels, kernel_size, out_h, out_w, groups=1, bias=True):
        kh, kw = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
        if changes.get("square_first"):
            kh = kw = kh
        per_filter = (in_channels if changes.get("ignore_groups") else in_channels // groups) * kh * kw
        weights = out_channels * per_filter
        params = weights + (0 if changes.get("no_bias") else out_channels if (bias or changes.get("always_bias")) else 0)
        mult_adds = weights * out_h * out_w
        if changes.get("bias_adds"):
            mult_adds = params * out_h * out_w
        if changes.get("one_pixel"):
            mult_adds = weights
        if changes.get("one_channel"):
            mult_adds = per_filter * out_h * out_w
        result = (params, mult_adds)
        return result[::-1] if changes.get("swap") else result

    return fn


@pytest.mark.parametrize("slip, words", [
    ({"no_bias": True}, "biases are missing"),
    ({"always_bias": True}, "bias=False means the layer has no bias"),
    ({"ignore_groups": True}, "groups was ignored"),
    ({"square_first": True}, "kh * kw weights"),
    ({"bias_adds": True}, "bias additions"),
    ({"one_pixel": True}, "one output pixel"),
    ({"one_channel": True}, "multiply by out_channels"),
    ({"swap": True}, "(parameters, mult_adds) in that order"),
])
def test_conv_cost_slips_are_diagnosed(slip, words):
    result = check_conv_cost(_solution(**slip))
    assert result.status == FAILED and words in result.message, result.message


def test_conv_cost_wrong_shapes_and_crashes():
    result = check_conv_cost(lambda **kw: 42)
    assert result.status == FAILED and "expected a pair (parameters, mult_adds)" in result.message

    def squares_a_tuple(in_channels, out_channels, kernel_size, out_h, out_w, groups=1, bias=True):
        return out_channels * in_channels // groups * kernel_size**2 + out_channels * bias, 0

    result = check_conv_cost(squares_a_tuple)
    assert result.status in (FAILED, ERROR)
    assert check_conv_cost("not a function").status == ERROR


# ------------------------------------------------------------------------------- separable ratio


@pytest.mark.parametrize("case", _ratio_cases(), ids=lambda c: f"{c['in_channels']}-{c['out_channels']}-{c['kernel_size']}")
def test_separable_reference_is_the_papers_formula_and_torchs_count(case):
    m, n, k = case["in_channels"], case["out_channels"], case["kernel_size"]
    ratio = separable_ratio_reference(**case)
    assert ratio == pytest.approx(1 / n + 1 / k**2, rel=1e-12)
    block = DepthwiseSeparable(m, n, k)
    conv_weights = sum(mod.weight.numel() for mod in block.modules() if isinstance(mod, nn.Conv2d))
    standard = nn.Conv2d(m, n, k, padding=k // 2, bias=False)
    assert conv_weights / standard.weight.numel() == pytest.approx(ratio, rel=1e-12)
    size = (m, 6, 6)
    assert _measured_mult_adds(block, size) / _measured_mult_adds(standard, size) == pytest.approx(ratio, rel=1e-12)


def test_separable_reference_and_formula_pass():
    assert check_separable_ratio(separable_ratio_reference).status == PASSED
    assert check_separable_ratio(lambda in_channels, out_channels, kernel_size: 1 / out_channels + 1 / kernel_size**2).passed
    assert check_separable_ratio(lambda in_channels, out_channels, kernel_size: torch.tensor(
        (kernel_size**2 * in_channels + in_channels * out_channels) / (kernel_size**2 * in_channels * out_channels),
        dtype=torch.float64)).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda in_channels, out_channels, kernel_size: 1 / (1 / out_channels + 1 / kernel_size**2), "saving factor"),
    (lambda in_channels, out_channels, kernel_size: 100 * (1 / out_channels + 1 / kernel_size**2), "not a percentage"),
    (lambda in_channels, out_channels, kernel_size: 1 - (1 / out_channels + 1 / kernel_size**2), "fraction saved"),
    (lambda in_channels, out_channels, kernel_size: 1 / out_channels, "only the depthwise part"),
    (lambda in_channels, out_channels, kernel_size: 1 / kernel_size**2, "only the pointwise part"),
    (lambda in_channels, out_channels, kernel_size: 1 / out_channels + 1 / kernel_size, "not 1/N + 1/k"),
])
def test_separable_slips_are_diagnosed(wrong, words):
    result = check_separable_ratio(wrong)
    assert result.status == FAILED and words in result.message, result.message


def test_separable_crash_is_an_error():
    result = check_separable_ratio(lambda in_channels, out_channels, kernel_size: in_channels / (kernel_size - kernel_size))
    assert result.status == ERROR and "ZeroDivisionError" in result.message
