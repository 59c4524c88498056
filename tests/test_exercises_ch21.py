"""The Chapter 21 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import torch

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch21 import (
    BLOCKS,
    _tiny_resnet,
    check_l2_sp_penalty,
    check_param_groups,
    l2_sp_penalty_reference,
    param_groups_reference,
)
from lessons_lib.training.transfer import discriminative_groups, l2_sp

# ------------------------------------------------------------------------------- discriminative learning rates


def _members(block):
    return [block] if isinstance(block, str) else list(block)


def _groups(model, blocks, base_lr, decay, *, as_generators=False, exponent=lambda L, level: L - level,
            include_frozen=False, skip_lists=False, divide=False):
    """A configurable answer: the reference, or one of the usual slips."""
    modules = dict(model.named_modules())
    L = len(blocks)
    out = []
    for level, block in enumerate(blocks, start=1):
        if skip_lists and not isinstance(block, str):
            continue
        params = (p for m in _members(block) for p in modules[m].parameters() if include_frozen or p.requires_grad)
        params = params if as_generators else list(params)
        lr = base_lr / decay ** exponent(L, level) if divide else base_lr * decay ** exponent(L, level)
        out.append({"params": params, "lr": lr})
    return [g for g in out if as_generators or g["params"]]


def test_reference_and_library_pass():
    assert check_param_groups(param_groups_reference).status == PASSED
    assert check_param_groups(lambda m, b, lr, d: discriminative_groups(m, b, lr, d)).passed
    assert check_param_groups(_groups).passed


def test_reference_covers_every_trainable_parameter_once():
    model = _tiny_resnet(5, seed=0)
    groups = param_groups_reference(model, BLOCKS, 1e-3, 0.5)
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))
    assert [g["lr"] for g in groups] == [1e-3 * 0.5 ** k for k in (5, 4, 3, 2, 1, 0)]


def test_generators_are_diagnosed():
    result = check_param_groups(lambda m, b, lr, d: _groups(m, b, lr, d, as_generators=True))
    assert result.status == FAILED and "is a generator" in result.message


def test_generators_consumed_by_any_lose_the_first_parameter_of_each_block():
    def notes_style(model, blocks, base_lr, decay):
        groups = _groups(model, blocks, base_lr, decay, as_generators=True)
        kept = [g for g in groups if any(p.requires_grad for p in g["params"])]  # reads the first item
        return [{"params": list(g["params"]), "lr": g["lr"]} for g in kept]

    result = check_param_groups(notes_style)
    assert result.status == FAILED
    assert "6 of the 62 trainable parameters are in no group" in result.message
    assert "first parameter of some blocks" in result.message and "fc.weight" in result.message


def test_missing_stem_is_diagnosed():
    result = check_param_groups(lambda m, b, lr, d: _groups(m, b, lr, d, skip_lists=True))
    assert result.status == FAILED and "conv1.weight, bn1.weight, bn1.bias" in result.message
    assert "list of names" in result.message


def test_frozen_parameters_are_diagnosed():
    result = check_param_groups(lambda m, b, lr, d: _groups(m, b, lr, d, include_frozen=True))
    assert result.status == FAILED and "frozen (requires_grad False)" in result.message
    assert "conv1, bn1 and layer1 frozen" in result.message


def test_wrong_rates_are_diagnosed():
    reversed_rule = check_param_groups(lambda m, b, lr, d: _groups(m, b, lr, d, exponent=lambda L, level: level - 1))
    assert reversed_rule.status == FAILED and "LAST block" in reversed_rule.message
    off_by_one = check_param_groups(lambda m, b, lr, d: _groups(m, b, lr, d, exponent=lambda L, level: L - level + 1))
    assert off_by_one.status == FAILED and "off by one" in off_by_one.message
    divided = check_param_groups(lambda m, b, lr, d: _groups(m, b, lr, d, divide=True))
    assert divided.status == FAILED and "don't divide" in divided.message


def test_duplicates_and_bad_shapes_are_diagnosed():
    def twice(model, blocks, base_lr, decay):
        groups = param_groups_reference(model, blocks, base_lr, decay)
        return groups + [{"params": groups[-1]["params"], "lr": groups[-1]["lr"]}]

    result = check_param_groups(twice)
    assert result.status == FAILED and "each parameter must be in exactly one group" in result.message
    result = check_param_groups(lambda m, b, lr, d: {"params": list(m.parameters()), "lr": lr})
    assert result.status == FAILED and "expected a list of dicts" in result.message


def test_a_crash_is_reported():
    result = check_param_groups(lambda m, b, lr, d: dict(m.named_modules())["head"])
    assert result.status == ERROR and "KeyError" in result.message


# ---------------------------------------------------------------------------------------------------- L2-SP


def _head_l2(model):
    return sum(p.pow(2).sum() for p in model.fc.parameters())


def test_l2_sp_reference_and_library_pass():
    assert check_l2_sp_penalty(l2_sp_penalty_reference).status == PASSED
    assert check_l2_sp_penalty(lambda m, s, a, b: l2_sp(m, s, a / 2) + b / 2 * _head_l2(m)).passed


def test_l2_sp_reference_value_by_hand():
    start = {k: v.clone() for k, v in _tiny_resnet(10, seed=0, dtype=torch.float64).state_dict().items()}
    model = _tiny_resnet(3, seed=1, dtype=torch.float64)
    model.load_state_dict({k: v for k, v in start.items() if not k.startswith("fc.")}, strict=False)
    with torch.no_grad():
        model.layer2[0].conv2.weight.add_(0.5)
    n = model.layer2[0].conv2.weight.numel()
    expected = 0.2 / 2 * n * 0.25 + 0.1 / 2 * float(_head_l2(model).detach())
    assert abs(float(l2_sp_penalty_reference(model, start, 0.2, 0.1).detach()) - expected) < 1e-9


def test_l2_sp_missing_halves_is_diagnosed():
    result = check_l2_sp_penalty(lambda m, s, a, b: l2_sp(m, s, a) + b * _head_l2(m))
    assert result.status == FAILED and "twice the expected one" in result.message


def test_l2_sp_missing_head_term_is_diagnosed():
    result = check_l2_sp_penalty(lambda m, s, a, b: l2_sp(m, s, a / 2))
    assert result.status == FAILED and "new head is not penalised" in result.message


def test_l2_sp_penalising_buffers_is_diagnosed():
    def with_buffers(model, start, alpha, beta):
        total = beta / 2 * _head_l2(model)
        for name, value in model.state_dict().items():
            if name in start and start[name].shape == value.shape:
                total = total + alpha / 2 * (value.double() - start[name].double()).pow(2).sum()
        return total

    result = check_l2_sp_penalty(with_buffers)
    assert result.status == FAILED and "named_parameters()" in result.message


def test_l2_sp_norms_instead_of_squares_are_diagnosed():
    def norms(model, start, alpha, beta):
        shared = sum((p - start[n]).pow(2).sum() for n, p in model.named_parameters() if not n.startswith("fc."))
        return alpha / 2 * shared.sqrt() + beta / 2 * _head_l2(model).sqrt()

    result = check_l2_sp_penalty(norms)
    assert result.status == FAILED and "squared norms" in result.message


def test_l2_sp_detached_or_float_results_are_rejected():
    result = check_l2_sp_penalty(lambda m, s, a, b: l2_sp_penalty_reference(m, s, a, b).detach())
    assert result.status == FAILED and "no grad_fn" in result.message
    result = check_l2_sp_penalty(lambda m, s, a, b: l2_sp_penalty_reference(m, s, a, b).item())
    assert result.status == FAILED and "scalar torch tensor" in result.message


def test_l2_sp_head_pulled_to_a_start_that_has_another_shape_is_explained():
    def every_parameter(model, start, alpha, beta):
        return sum(alpha / 2 * (p - start[n]).pow(2).sum() for n, p in model.named_parameters())

    result = check_l2_sp_penalty(every_parameter)
    assert result.status == ERROR and "no pretrained value of its shape" in result.message


def test_l2_sp_changing_the_model_is_rejected():
    def in_place(model, start, alpha, beta):
        with torch.no_grad():
            model.fc.weight.mul_(0.5)
        return l2_sp_penalty_reference(model, start, alpha, beta)

    result = check_l2_sp_penalty(in_place)
    assert result.status == FAILED and "changed the model" in result.message
