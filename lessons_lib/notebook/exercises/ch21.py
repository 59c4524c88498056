"""Checkers for the exercises of Chapter 21 (transfer learning and fine-tuning).

- :func:`check_param_groups`: optimizer parameter groups with discriminative learning rates,
  lr_l = base_lr * decay ** (L - l) for the blocks l = 1 (input) to L (output);
- :func:`check_l2_sp_penalty`: the L2-SP penalty of Li, Grandvalet and Davoine (2018),
  alpha/2 ||w_S - w_S^0||^2 + beta/2 ||w_new||^2.

Both run the reader's function on small residual networks built here (the book's ``ResNet`` with a few
channels), so they check real ``named_parameters()``, frozen parameters and BatchNorm buffers, and they
recognise the usual slips: generators that a first look (``any(...)``) has already consumed, blocks that are
left out, frozen parameters handed to the optimizer, the decay applied from the wrong end, the paper's
halves forgotten, the new head left unpenalised, buffers (running statistics) penalised like weights.
"""

from __future__ import annotations

import types
from collections.abc import Iterator

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED, CheckResult, attempt

__all__ = ["BLOCKS", "check_l2_sp_penalty", "check_param_groups", "l2_sp_penalty_reference", "param_groups_reference"]

BLOCKS = [["conv1", "bn1"], "layer1", "layer2", "layer3", "layer4", "fc"]


def _torch():
    import torch  # lazily, like lessons_lib.device

    return torch


def _tiny_resnet(num_classes: int, seed: int, dtype=None):
    """The book's ResNet with 4 to 8 channels: the real parameter names, in a few milliseconds."""
    torch = _torch()
    from lessons_lib.models.resnet import ResNet

    torch.manual_seed(seed)
    model = ResNet(num_classes=num_classes, widths=(4, 8, 8, 8), in_channels=1, stem="small")
    return model.to(dtype) if dtype is not None else model


def _members(block) -> list[str]:
    return [block] if isinstance(block, str) else list(block)


# ------------------------------------------------------------------------------- discriminative learning rates


def param_groups_reference(model, blocks, base_lr, decay):
    """One group per block that has trainable parameters: {"params": [list], "lr": base_lr * decay ** (L - l)},
    blocks counted l = 1 .. L from the input; each trainable parameter exactly once, frozen ones left out."""
    modules = dict(model.named_modules())
    L = len(blocks)
    groups = []
    for level, block in enumerate(blocks, start=1):
        params = [p for name in _members(block) for p in modules[name].parameters() if p.requires_grad]
        if params:
            groups.append({"params": params, "lr": base_lr * decay ** (L - level)})
    return groups


def _group_cases():
    """(description, model, blocks, base_lr, decay): all trainable; the stem and layer1 frozen; head only."""
    cases = []
    model = _tiny_resnet(5, seed=0)
    cases.append(("every parameter trainable", model, BLOCKS, 1e-3, 0.5))
    model = _tiny_resnet(3, seed=1)
    for name, p in model.named_parameters():
        p.requires_grad_(not name.startswith(("conv1", "bn1", "layer1")))
    cases.append(("conv1, bn1 and layer1 frozen", model, BLOCKS, 1e-2, 1 / 2.6))
    model = _tiny_resnet(4, seed=2)
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("fc."))
    cases.append(("only the head fc trainable", model, BLOCKS, 3e-3, 0.8))
    return cases


def _group_problem(model, blocks, base_lr, decay, groups) -> str | None:
    """None when ``groups`` is a correct answer for the case, else a diagnosis with a hint."""
    if not isinstance(groups, (list, tuple)):
        return f"returned a {type(groups).__name__}; expected a list of dicts {{'params': [...], 'lr': ...}}"
    names = {id(p): n for n, p in model.named_parameters()}
    block_of = {}
    modules = dict(model.named_modules())
    for level, block in enumerate(blocks, start=1):
        for member in _members(block):
            for p in modules[member].parameters():
                block_of[id(p)] = level
    L = len(blocks)
    seen = {}
    for k, group in enumerate(groups):
        if not isinstance(group, dict) or "params" not in group or "lr" not in group:
            return f"group {k} is {group!r:.80}; each group must be a dict with the keys 'params' and 'lr'"
        params = group["params"]
        if isinstance(params, (types.GeneratorType, Iterator)):
            return (f"group {k}'s 'params' is a generator. Hint: a generator can be read only once; anything that "
                    "looks at it first (any(...), a count, a print) silently removes what it read, and the optimizer "
                    "never sees those parameters. Store a list: [p for p in ... if p.requires_grad]")
        if isinstance(params, _torch().Tensor):
            params = [params]
        params = list(params)
        for p in params:
            if id(p) not in names:
                return f"group {k} holds a tensor that is not a parameter of the model"
            name = names[id(p)]
            if not p.requires_grad:
                return (f"{name} is frozen (requires_grad False) but sits in group {k}. Hint: leave frozen "
                        "parameters out; an optimizer that holds them wastes state and hides what is trained")
            if id(p) in seen:
                return f"{name} is in group {seen[id(p)]} and in group {k}; each parameter must be in exactly one group"
            seen[id(p)] = k
            level = block_of[id(p)]
            expected = base_lr * decay ** (L - level)
            got = group["lr"]
            try:
                got = float(got)
            except (TypeError, ValueError):
                return f"group {k} has lr {got!r}; expected a number"
            if abs(got - expected) > 1e-9 * expected:
                return _lr_hint(name, level, L, got, expected, base_lr, decay)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in seen]
    if missing:
        shown = ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
        firsts = set()
        for block in blocks:  # the first trainable parameter of each block: what any(...) reads and drops
            trainable_here = [f"{member}.{n}" for member in _members(block)
                              for n, p in modules[member].named_parameters() if p.requires_grad]
            firsts.update(trainable_here[:1])
        hint = ""
        if set(missing) <= firsts:
            hint = (" Hint: exactly the first parameter of some blocks is missing, the signature of a generator that "
                    "was consumed by a first look such as any(...): store lists")
        elif any(n.startswith(("conv1", "bn1")) for n in missing):
            hint = (" Hint: a block can be a list of names (the stem is ['conv1', 'bn1']): take the parameters of "
                    "every member")
        return f"{len(missing)} of the {len(trainable)} trainable parameters are in no group: {shown}.{hint}"
    return None


def _lr_hint(name, level, L, got, expected, base_lr, decay) -> str:
    message = f"{name} (block {level} of {L}) has lr {got:.6g}; expected base_lr·decay^(L−l) = {expected:.6g}"
    if abs(got - base_lr * decay ** (level - 1)) <= 1e-9 * got:
        return message + (". Hint: the decay runs from the top: the LAST block (the new head) gets base_lr and each "
                          "block below it decay times less, so the first layers move least")
    if abs(got - base_lr * decay ** (L - level + 1)) <= 1e-9 * got:
        return message + ". Hint: off by one: the top block l = L gets decay^0 = 1, that is base_lr itself"
    if abs(got - base_lr / decay ** (L - level)) <= 1e-9 * got:
        return message + ". Hint: multiply by decay (a number below 1) for each step down, don't divide"
    return message


def check_param_groups(fn) -> CheckResult:
    """Check ``fn(model, blocks, base_lr, decay) -> list of {"params": [...], "lr": ...}``.

    Every trainable parameter must sit in exactly one group, frozen ones in none, the groups' params must be
    lists (not generators) and block l of L must get base_lr * decay ** (L - l). The groups must also build
    a torch optimizer.
    """
    name = "check_param_groups"
    torch = _torch()
    cases = _group_cases()
    for description, model, blocks, base_lr, decay in cases:
        where = f"{description}, base_lr = {base_lr:g}, decay = {decay:.4g}"
        groups, error = attempt(name, fn, model, blocks, base_lr, decay, where=where)
        if error:
            return error
        problem = _group_problem(model, blocks, base_lr, decay, groups)
        if problem:
            return CheckResult(name, FAILED, f"fails for {where}: {problem}")
        try:
            torch.optim.AdamW([g for g in groups if len(list(g["params"]))], lr=base_lr)
        except Exception as exc:  # noqa: BLE001 - the reader's groups, reported rather than raised
            return CheckResult(name, ERROR, f"torch.optim.AdamW rejects your groups for {where}: {exc}")
    return CheckResult(name, PASSED, f"all {len(cases)} networks passed: every trainable parameter once, the "
                                     "right rate per block, frozen ones left out")


# ---------------------------------------------------------------------------------------------------- L2-SP


def l2_sp_penalty_reference(model, start, alpha, beta):
    """alpha/2 · Σ (w - w0)² over the parameters that ``start`` also has, with the same shape (the pretrained
    ones), plus beta/2 · Σ w² over the others (the new head). Parameters only, never buffers."""
    total = 0.0
    for name, p in model.named_parameters():
        ref = start.get(name)
        if ref is not None and tuple(ref.shape) == tuple(p.shape):
            total = total + alpha / 2 * (p - ref.to(p.device, p.dtype)).pow(2).sum()
        else:
            total = total + beta / 2 * p.pow(2).sum()
    return total


def _penalty_case(seed, alpha, beta):
    """A pretrained 10-class network's state, and a 3-class model started from it, moved, with new BN statistics."""
    torch = _torch()
    source = _tiny_resnet(10, seed=seed, dtype=torch.float64)
    start = {k: v.clone() for k, v in source.state_dict().items()}
    model = _tiny_resnet(3, seed=seed + 100, dtype=torch.float64)
    model.load_state_dict({k: v for k, v in start.items() if not k.startswith("fc.")}, strict=False)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=generator, dtype=torch.float64))
        model.train()
        model(torch.randn(6, 1, 8, 8, generator=generator, dtype=torch.float64) + 2.0)  # running stats move
    return {"model": model, "start": start, "alpha": alpha, "beta": beta}


def _penalty_cases():
    return [_penalty_case(0, 0.1, 0.01), _penalty_case(1, 1.0, 0.0), _penalty_case(2, 0.0, 0.5),
            _penalty_case(3, 2.0, 0.3)]


def _variants(case):
    """What the usual slips compute, for the hints."""
    model, start, alpha, beta = case["model"], case["start"], case["alpha"], case["beta"]
    shared = new = 0.0
    for name, p in model.named_parameters():
        ref = start.get(name)
        if ref is not None and tuple(ref.shape) == tuple(p.shape):
            shared += float((p - ref).pow(2).sum().detach())
        else:
            new += float(p.pow(2).sum().detach())
    buffers = sum(float((b.double() - start[n].double()).pow(2).sum()) for n, b in model.named_buffers() if n in start)
    return {
        "no halves": alpha * shared + beta * new,
        "no head term": alpha / 2 * shared,
        "buffers too": alpha / 2 * (shared + buffers) + beta / 2 * new,
        "not squared": alpha / 2 * shared**0.5 + beta / 2 * new**0.5,
        "head towards zero forgotten, alpha on all": alpha / 2 * (shared + new),
    }


def _penalty_hint(kind: str) -> str:
    return {
        "no halves": ("your value is twice the expected one: the paper writes α/2 ‖w_S − w_S⁰‖² + β/2 ‖w_S̄‖² "
                      "(halves, so that the gradient is α(w − w⁰))"),
        "no head term": ("the new head is not penalised: L2-SP adds plain L2, β/2 ‖w‖², on the parameters that "
                         "have no pretrained value"),
        "buffers too": ("you also penalised buffers such as BatchNorm's running_mean and running_var (state_dict() "
                        "holds them); only weights are pulled back: iterate over named_parameters()"),
        "not squared": "you used the norms ‖·‖; the penalty uses squared norms, sums of squares",
        "head towards zero forgotten, alpha on all": ("the head got α/2 ‖w‖²: the new head has no starting point and "
                                                      "its own strength β"),
    }[kind]


def check_l2_sp_penalty(fn) -> CheckResult:
    """Check ``fn(model, start, alpha, beta) -> scalar tensor``: L2-SP as Li et al. (2018) define it.

    ``start`` is the pretrained network's state_dict; the parameters with a pretrained value of the same shape
    are pulled towards it with alpha/2, the others (the new head) towards zero with beta/2. The result must be
    a differentiable tensor: its gradient is checked, and so is that ``fn`` leaves the model unchanged.
    """
    name = "check_l2_sp_penalty"
    torch = _torch()
    cases = _penalty_cases()
    for case in cases:
        model = case["model"]
        where = f"alpha = {case['alpha']:g}, beta = {case['beta']:g}"
        before = {k: v.clone() for k, v in model.state_dict().items()}
        got, error = attempt(name, fn, model, case["start"], case["alpha"], case["beta"], where=where)
        if error:
            if "size of tensor" in error.message or "shape" in error.message:
                error.message += (". Hint: the new head (3 classes) has no pretrained value of its shape (the source "
                                  "head had 10): compare shapes and give such parameters the plain β/2 ‖w‖² term")
            return error
        if any(not torch.equal(before[k], v) for k, v in model.state_dict().items()):
            return CheckResult(name, FAILED, f"for {where} your function changed the model's weights or buffers; "
                                             "a penalty must only read them")
        expected = l2_sp_penalty_reference(model, case["start"], case["alpha"], case["beta"])
        if not isinstance(got, torch.Tensor) or got.numel() != 1:
            return CheckResult(name, FAILED, f"for {where} you returned {type(got).__name__}; expected a scalar torch "
                                             "tensor that backward() can differentiate")
        value = float(got.detach())
        target = float(expected.detach())
        if abs(value - target) > 1e-9 + 1e-7 * abs(target):
            message = f"fails for {where}: got {value:.8g}, expected {target:.8g}"
            for kind, wrong in _variants(case).items():
                if abs(value - wrong) <= 1e-9 + 1e-7 * abs(wrong) and abs(wrong - target) > 1e-9 + 1e-7 * abs(target):
                    message += f". Hint: {_penalty_hint(kind)}"
                    break
            return CheckResult(name, FAILED, message)
        if got.grad_fn is None and target != 0.0:
            return CheckResult(name, FAILED, f"for {where} the penalty is not connected to the weights (no grad_fn): "
                                             "compute it with torch operations on the parameters, without .detach(), "
                                             ".item() or NumPy, or it cannot pull them anywhere")
        if got.grad_fn is not None:
            probe = dict(model.named_parameters())
            shared, head = probe["layer1.0.conv1.weight"], probe["fc.weight"]
            g_shared, g_head = torch.autograd.grad(got, (shared, head), allow_unused=True)
            want_shared = case["alpha"] * (shared - case["start"]["layer1.0.conv1.weight"]).detach()
            want_head = case["beta"] * head.detach()
            for label, g, want in (("layer1.0.conv1.weight", g_shared, want_shared), ("fc.weight", g_head, want_head)):
                g = torch.zeros_like(want) if g is None else g
                if not torch.allclose(g, want, rtol=1e-6, atol=1e-12):
                    return CheckResult(name, FAILED, f"for {where} the gradient with respect to {label} is wrong: "
                                                     f"expected {'α(w − w⁰)' if label.startswith('layer') else 'βw'}")
    return CheckResult(name, PASSED, f"all {len(cases)} cases passed: value and gradient, backbone pulled to its "
                                     "start, new head to zero, buffers left alone")
