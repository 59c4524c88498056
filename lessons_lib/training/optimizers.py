"""Optimizers, learning-rate schedules and gradient clipping from scratch (Part II, Chapter 12).

Everything here works on torch tensors (CPU or GPU) and copies the way ``torch.optim`` is used, so a
reader can swap ``torch.optim.Adam`` for ``lessons_lib.training.optimizers.Adam`` and get the same numbers:

- an optimizer holds ``param_groups`` (a list of dicts: the tensors under ``"params"`` plus that group's
  hyperparameters, such as ``"lr"``) and ``state`` (one dict per tensor: step counts, moving averages);
- ``zero_grad()`` clears the gradients, ``step()`` changes every tensor that has a ``.grad``;
- a schedule wraps an optimizer and rewrites each group's ``"lr"`` when you call its ``step()``.

Notation in the docstrings: θ a parameter tensor, g its gradient (same shape as θ), η the learning
rate, λ the weight decay, t the step number counted from 1. Every operation is element by element, so
each tensor of shape S keeps state tensors of the same shape S.

- Optimizers: :class:`SGD` (with momentum and Nesterov), :class:`Adagrad`, :class:`Adadelta`,
  :class:`RMSprop`, :class:`Adam`, :class:`AdamW`, all built on :class:`Optimizer`.
- Schedules: :class:`StepLR`, :class:`ExponentialLR`, :class:`CosineAnnealingLR`, :class:`LinearWarmup`,
  :class:`OneCycleLR`, all built on :class:`LRScheduler`.
- Clipping: :func:`clip_grad_norm_`, :func:`clip_grad_value_`.
- :func:`ewma`: the exponentially weighted moving average that momentum, RMSprop and Adam are made of.

Example (the same loop as with torch.optim)::

    >>> w = torch.zeros(3, requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> schedule = CosineAnnealingLR(opt, T_max=100)
    >>> for _ in range(100):
    ...     opt.zero_grad()
    ...     loss = ((w - 1) ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     schedule.step()

What torch.optim has and this module leaves out, to stay short: ``maximize``, ``foreach``/``fused``
kernels, sparse and complex gradients, ``state_dict()``, and resuming a schedule from ``last_epoch``.
A tensor with ``requires_grad=False`` (a frozen layer) is accepted and never changed, as in torch.
One deliberate difference: the schedules compute the rate from the step count in closed form, where
torch's StepLR, ExponentialLR, CosineAnnealingLR and LinearLR multiply the current rate; the numbers
agree unless you change ``group["lr"]`` yourself or stack two schedules on one optimizer.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import torch

from lessons_lib.validate import number

# ------------------------------------------------------------------------------------------- checks








def _check_param(where: str, name: str, p) -> None:
    if not isinstance(p, torch.Tensor):
        raise TypeError(f"{where}: {name} is a {type(p).__name__}; expected a torch tensor")
    if not p.is_leaf:
        raise ValueError(f"{where}: {name} is not a leaf tensor (it was computed from other tensors, so "
                         "backward() leaves no .grad on it); expected a leaf, e.g. w.detach().requires_grad_()")


def _groups_of(where: str, optimizer) -> list[dict]:
    """The ``param_groups`` of an optimizer (ours or torch's), or a TypeError that says what came instead."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "lr" in g for g in groups):
        raise TypeError(f"{where}: optimizer is a {type(optimizer).__name__}; expected an optimizer with "
                        "param_groups (from lessons_lib.training.optimizers or torch.optim)")
    return groups


def _as_groups(where: str, params) -> list[dict]:
    """Turn ``params`` (an iterable of tensors, or of dicts that are parameter groups) into a list of dicts."""
    if isinstance(params, torch.Tensor):
        raise TypeError(f"{where}: params is a single tensor; expected an iterable of tensors such as [w] "
                        "or model.parameters()")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{where}: params is a {type(params).__name__}; expected an iterable of tensors "
                        "or of dicts (parameter groups)") from None
    if not items:
        raise ValueError(f"{where}: params is empty; expected at least one tensor to optimize")
    return items if isinstance(items[0], dict) else [{"params": items}]


# --------------------------------------------------------------------------------------- optimizers


class Optimizer:
    """The common part of every optimizer: parameter groups, per-tensor state, ``zero_grad`` and ``step``.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ...}`` that give some
    tensors their own hyperparameters; anything a group leaves out comes from ``defaults``. A subclass
    validates a group in ``_check_group`` and updates one tensor in ``_update``.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state: defaultdict[torch.Tensor, dict] = defaultdict(dict)
        for group in _as_groups(type(self).__name__, params):
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a dict ``{"params": tensors, **hyperparameters}``; missing hyperparameters take the defaults."""
        where = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{where}: a parameter group is {group!r:.60}; expected a dict with a 'params' key")
        params = group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        if not params:
            raise ValueError(f"{where}: params is empty; expected at least one tensor to optimize")
        prefix = f"param group {len(self.param_groups)}: " if self.param_groups else ""
        for i, p in enumerate(params):
            _check_param(where, f"{prefix}params[{i}]", p)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) < len(params) or seen & {id(p) for p in params}:
            raise ValueError(f"{where}: a tensor appears twice in params; expected each tensor once")
        full = {**self.defaults, **group, "params": params}
        self._check_group(full)
        self.param_groups.append(full)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set each ``.grad`` to None (the default, as torch) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    @torch.no_grad()
    def step(self, closure=None):
        """Update every tensor whose ``.grad`` is not None; ``closure`` (optional) recomputes and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, group, self.state[p])
        return loss

    def _check_group(self, group: dict) -> None:
        number(type(self).__name__, "lr", group["lr"], 0)

    def _update(self, p: torch.Tensor, g: torch.Tensor, group: dict, state: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} tensors, {settings}")
        return "\n".join(lines + [")"])


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    Each step, with μ = momentum and τ = dampening::

        g ← g + λθ                        (weight decay, when λ > 0)
        b ← g on the first step, afterwards b ← μb + (1 − τ)g
        d ← g + μb if nesterov, else b    (d ← g when μ = 0)
        θ ← θ − η d

    The buffer b is a running sum of past gradients, each older one shrunk by another factor μ; with
    τ = μ it is the exponentially weighted average of :func:`ewma`. Nesterov's form adds μb once more,
    which approximates taking the gradient at the point the momentum is about to carry you to.
    """

    def __init__(self, params, lr: float, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        for name in ("momentum", "dampening", "weight_decay"):
            number("SGD", name, group[name], 0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0; "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, p, g, group, state):
        lr, mu, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p
        if mu != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.clone()
            else:
                state["momentum_buffer"].mul_(mu).add_(g, alpha=1 - tau)
            b = state["momentum_buffer"]
            g = g + mu * b if group["nesterov"] else b
        p.add_(g, alpha=-lr)


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan and Singer, 2011): every coordinate gets a step size that shrinks with its history.

    With s the running sum of squared gradients (starting at ``initial_accumulator_value``)::

        g ← g + λθ
        η_t ← η / (1 + (t − 1) · lr_decay)
        s ← s + g²
        θ ← θ − η_t · g / (√s + ε)

    A coordinate that has seen large gradients takes small steps and a rarely-touched one keeps large
    steps, which suits sparse features. Because s only grows, every step size tends to zero in the end.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            number("Adagrad", name, group[name], 0)

    def _update(self, p, g, group, state):
        if not state:
            state["step"] = 0
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"].addcmul_(g, g)
        p.addcdiv_(g, state["sum"].sqrt() + group["eps"], value=-lr_t)


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): Adagrad with forgetting, and a step measured in the units of θ.

    With E[g²] and E[Δ²] exponentially weighted averages (decay ρ) of squared gradients and squared steps::

        g ← g + λθ
        E[g²] ← ρ E[g²] + (1 − ρ) g²
        Δ ← √(E[Δ²] + ε) / √(E[g²] + ε) · g
        E[Δ²] ← ρ E[Δ²] + (1 − ρ) Δ²
        θ ← θ − η Δ

    The ratio of the two root-mean-squares makes Δ carry θ's units, so the paper needs no learning rate
    at all (η = 1, the default); ε keeps the very first steps from being zero.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        number("Adadelta", "rho", group["rho"], 0, 1)
        number("Adadelta", "eps", group["eps"], 0)
        number("Adadelta", "weight_decay", group["weight_decay"], 0)

    def _update(self, p, g, group, state):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"], state["square_avg"], state["acc_delta"] = 0, torch.zeros_like(p), torch.zeros_like(p)
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        state["square_avg"].mul_(rho).addcmul_(g, g, value=1 - rho)
        delta = (state["acc_delta"] + eps).sqrt() / (state["square_avg"] + eps).sqrt() * g
        state["acc_delta"].mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.add_(delta, alpha=-group["lr"])


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes, 2012): divide each gradient by a running root-mean-square of its past.

    With v the exponentially weighted average (decay α = ``alpha``) of g²::

        g ← g + λθ
        v ← α v + (1 − α) g²
        m ← α m + (1 − α) g ;  v̄ ← v − m²   (centered=True: subtract the squared mean, a variance)
        r ← √v̄ + ε           (√v + ε when not centered)
        b ← μ b + g / r ;  θ ← θ − η b       (momentum μ > 0)
        θ ← θ − η g / r                       (μ = 0)

    Note where ε sits: added to the square root, not inside it.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        number("RMSprop", "alpha", group["alpha"], 0, 1)
        for name in ("eps", "weight_decay", "momentum"):
            number("RMSprop", name, group[name], 0)

    def _update(self, p, g, group, state):
        alpha, mu = group["alpha"], group["momentum"]
        if not state:
            state.update(step=0, square_avg=torch.zeros_like(p), grad_avg=torch.zeros_like(p),
                         momentum_buffer=torch.zeros_like(p))
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        v = state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
        if group["centered"]:
            m = state["grad_avg"].lerp_(g, 1 - alpha)
            v = v - m * m
        r = v.sqrt() + group["eps"]
        if mu > 0:
            b = state["momentum_buffer"].mul_(mu).addcdiv_(g, r)
            p.add_(b, alpha=-group["lr"])
        else:
            p.addcdiv_(g, r, value=-group["lr"])


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): momentum and RMSprop together, with both averages corrected for their start.

    With β₁, β₂ = ``betas``, m and v starting at zero::

        g ← g + λθ                        (weight decay as an L2 penalty: it joins the gradient)
        m ← β₁ m + (1 − β₁) g             (first moment: the average gradient)
        v ← β₂ v + (1 − β₂) g²            (second moment: the average squared gradient)
        v ← max(v_max, v) if amsgrad      (AMSGrad, Reddi et al. 2018: the denominator never shrinks)
        m̂ ← m / (1 − β₁ᵗ) ;  v̂ ← v / (1 − β₂ᵗ)
        θ ← θ − η m̂ / (√v̂ + ε)

    m and v start at zero, so early on they are too small by exactly the factors 1 − βᵗ; dividing by
    those factors removes the bias (see ``ewma(..., bias_correction=True)``). Because the L2 term passes
    through the division by √v̂, a weight with a large gradient history is barely decayed; :class:`AdamW`
    fixes that.
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        where, betas = type(self).__name__, group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{where}: betas is {betas!r}; expected a pair (beta1, beta2)")
        for i in (0, 1):
            number(where, f"betas[{i}]", betas[i], 0, 1, high_open=True)
        number(where, "eps", group["eps"], 0)
        number(where, "weight_decay", group["weight_decay"], 0)

    def _update(self, p, g, group, state):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        if wd != 0 and self.decoupled_weight_decay:
            p.mul_(1 - lr * wd)
        elif wd != 0:
            g = g + wd * p
        m = state["exp_avg"].lerp_(g, 1 - beta1)
        v = state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
        if group["amsgrad"]:
            v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = v.sqrt() / math.sqrt(1 - beta2**t) + group["eps"]
        p.addcdiv_(m, denom, value=-lr / (1 - beta1**t))


class AdamW(Adam):
    """AdamW (Loshchilov and Hutter, 2019): Adam with the weight decay taken out of the gradient.

    The same step as :class:`Adam`, except that the decay shrinks θ directly, before the Adam update::

        θ ← θ (1 − η λ)
        m, v, m̂, v̂ as in Adam, from the plain gradient g
        θ ← θ − η m̂ / (√v̂ + ε)

    Every weight now decays at the same rate ηλ, however large its gradients have been. For plain SGD
    the two forms are the same thing (up to rescaling λ); for Adam they are not.
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


# ---------------------------------------------------------------------------------------------- ewma


def ewma(values, beta: float, bias_correction: bool = False) -> np.ndarray:
    """Exponentially weighted moving averages of a series: v_t = β v_{t−1} + (1 − β) x_t, with v_0 = 0.

    ``values`` has shape (n,) or (n, ...) (averaged along the first axis); the result has the same shape,
    entry t being the average after seeing x_1 … x_t. Unrolled, v_t = (1 − β) Σ_k β^(t−k) x_k: the weights
    fall geometrically into the past, and the most recent 1/(1 − β) points carry about 1 − 1/e ≈ 63% of
    the total, so 1/(1 − β) is the effective window (β = 0.9: about 10 points; β = 0.99: about 100).

    Because v starts at 0, the first averages lean towards 0: their weights sum to 1 − βᵗ, not 1.
    ``bias_correction=True`` divides by 1 − βᵗ, so a constant series gives exactly that constant.
    """
    beta = number("ewma", "beta", beta, 0, 1, high_open=True)
    x = np.asarray(values, dtype=float)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"ewma: values has shape {x.shape}; expected a non-empty series of shape (n,) or (n, ...)")
    out = np.empty_like(x)
    v = np.zeros(x.shape[1:])
    for t in range(len(x)):
        v = beta * v + (1 - beta) * x[t]
        out[t] = v
    if bias_correction:
        correction = 1 - beta ** np.arange(1, len(x) + 1)  # (n,)
        out /= correction.reshape((-1,) + (1,) * (x.ndim - 1))
    return out
