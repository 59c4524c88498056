"""Transfer learning in PyTorch (chapter 21): freezing, per-layer learning rates, frozen BatchNorm, L2-SP.

The helpers work on any ``nn.Module`` and name parameters as ``model.named_parameters()`` does
(``"layer1.0.conv1.weight"``), so they read the same for the book's ``resnet18()`` and for torchvision's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["discriminative_groups", "freeze", "freeze_batchnorm", "l2_sp", "trainable_count"]


def trainable_count(model: nn.Module) -> int:
    """How many numbers the optimizer may change: the parameters with ``requires_grad``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze(model: nn.Module, trainable: Sequence[str] = ()) -> nn.Module:
    """Stop gradients for every parameter except those of the named submodules (e.g. ``("fc",)``).

    Freezing sets ``requires_grad=False``; it does not stop BatchNorm from updating its running mean and
    variance in training mode (those are buffers, not parameters): see :func:`freeze_batchnorm`.
    """
    names = dict(model.named_modules())
    missing = [t for t in trainable if t not in names]
    if missing:
        raise ValueError(f"freeze: trainable names {missing}, which {type(model).__name__} does not have; "
                         f"its top-level modules are {[n for n, _ in model.named_children()]}")
    for p in model.parameters():
        p.requires_grad_(False)
    for t in trainable:
        for p in names[t].parameters():
            p.requires_grad_(True)
    return model


def freeze_batchnorm(model: nn.Module) -> nn.Module:
    """Keep every BatchNorm layer of ``model`` as it is: its scale and shift stop learning, and it always
    normalises with its stored running statistics, even while the model trains.

    ``model.train()`` would put BatchNorm back in training mode (batch statistics, running averages
    updated); a forward pre-hook switches each one back to evaluation mode before it runs.
    """
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            for p in m.parameters():
                p.requires_grad_(False)
            m.eval()
            m.register_forward_pre_hook(_stay_in_eval)
    return model


def _stay_in_eval(module, _inputs):
    module.training = False


def discriminative_groups(model: nn.Module, blocks: Sequence, base_lr: float, decay: float) -> list[dict]:
    """Optimizer parameter groups with a learning rate per block: lr_l = base_lr * decay ** (L - l).

    blocks: the model's blocks from the input (l = 1) to the output (l = L), each a submodule name or a list
    of names (``[["conv1", "bn1"], "layer1", "layer2", "layer3", "layer4", "fc"]`` for a ResNet); the last
    block gets ``base_lr``, each one below it ``decay`` times less. Only trainable parameters are included, as
    lists (a generator would be used up by the first look at it), and every trainable parameter of the model
    must sit in exactly one block: a ValueError names any that would silently never be trained.
    """
    if not 0 < decay <= 1:
        raise ValueError(f"discriminative_groups: decay is {decay!r}; expected a number in (0, 1]")
    names = dict(model.named_modules())
    groups, seen = [], {}
    L = len(blocks)
    for level, block in enumerate(blocks, start=1):
        members = [block] if isinstance(block, str) else list(block)
        unknown = [m for m in members if m not in names]
        if unknown:
            raise ValueError(f"discriminative_groups: block {level} names {unknown}, which the model does not have")
        params = []
        for member in members:
            for pname, p in names[member].named_parameters(prefix=member):
                if p.requires_grad:
                    if pname in seen:
                        raise ValueError(f"discriminative_groups: {pname} is in block {seen[pname]} and block {level}")
                    seen[pname] = level
                    params.append(p)
        if params:
            groups.append({"params": params, "lr": base_lr * decay ** (L - level), "block": level})
    left_out = [n for n, p in model.named_parameters() if p.requires_grad and n not in seen]
    if left_out:
        raise ValueError(f"discriminative_groups: {len(left_out)} trainable parameters are in no block and would never "
                         f"be updated: {left_out[:4]}{' ...' if len(left_out) > 4 else ''}")
    return groups


def l2_sp(model: nn.Module, start: dict, alpha: float) -> torch.Tensor:
    """The L2-SP penalty (Li, Grandvalet and Davoine, 2018): alpha * sum ||theta - theta_0||^2 over the
    parameters that also exist, with the same shape, in ``start`` (the pretrained state_dict); a new head
    is not pulled towards anything. Add it to the loss while fine-tuning."""
    total = None
    for name, p in model.named_parameters():
        ref = start.get(name)
        if ref is not None and ref.shape == p.shape and p.requires_grad:
            term = (p - ref.to(p.device, p.dtype)).pow(2).sum()
            total = term if total is None else total + term
    if total is None:
        return torch.zeros((), device=next(model.parameters()).device)
    return alpha * total
