"""Gradient clipping from scratch, equal to ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.
"""

from __future__ import annotations

import math
from numbers import Real

import torch

from lessons_lib.validate import number

# ----------------------------------------------------------------------------------------- clipping


def _grads(params) -> list[torch.Tensor]:
    params = [params] if isinstance(params, torch.Tensor) else list(params)
    return [p.grad for p in params if p.grad is not None]


@torch.no_grad()
def clip_grad_norm_(params, max_norm: float, norm_type: float = 2.0) -> torch.Tensor:
    """Scale all gradients together so that their combined norm is at most ``max_norm``; return the norm before.

    ``params``: a tensor or an iterable of tensors; those without a ``.grad`` are skipped. The combined
    norm ‖g‖ is the ``norm_type``-norm of all gradient entries as if they were one long vector
    (``float("inf")``: the largest absolute entry). Each gradient is multiplied by
    min(1, max_norm / (‖g‖ + 1e-6)), in place: the direction is kept, only the length shrinks, and the
    1e-6 avoids a division by zero. Returns ‖g‖ as a 0-d tensor (0 when no tensor has a gradient).
    """
    number("clip_grad_norm_", "max_norm", max_norm, 0)
    if not (norm_type == math.inf or (isinstance(norm_type, Real) and math.isfinite(norm_type) and norm_type > 0)):
        raise ValueError(f"clip_grad_norm_: norm_type is {norm_type!r}; expected a positive number or float('inf')")
    grads = _grads(params)
    if not grads:
        return torch.tensor(0.0)
    device = grads[0].device
    if norm_type == math.inf:
        total = torch.stack([g.abs().max().to(device) for g in grads]).max()
    else:
        per_tensor = torch.stack([torch.linalg.vector_norm(g, norm_type).to(device) for g in grads])
        total = torch.linalg.vector_norm(per_tensor, norm_type)
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale.to(g.device))
    return total


@torch.no_grad()
def clip_grad_value_(params, clip_value: float) -> None:
    """Clamp every gradient entry into [−clip_value, clip_value], in place (this can change the direction).

    ``params``: a tensor or an iterable of tensors; those without a ``.grad`` are skipped.
    """
    number("clip_grad_value_", "clip_value", clip_value, 0)
    for g in _grads(params):
        g.clamp_(-clip_value, clip_value)
