"""Optimizers, learning-rate schedules and gradient clipping from scratch (Part II, Chapter 12).

Everything here works on torch tensors (CPU or GPU) and copies the way ``torch.optim`` is used, so a
reader can swap ``torch.optim.Adam`` for ``lessons_lib.optim.Adam`` and get the same numbers:

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
from numbers import Real

import numpy as np
import torch

__all__ = [
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LinearWarmup",
    "OneCycleLR",
    "Optimizer",
    "RMSprop",
    "SGD",
    "StepLR",
    "clip_grad_norm_",
    "clip_grad_value_",
    "ewma",
]


# ------------------------------------------------------------------------------------------- checks


def _range_text(low, high, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"a number {'>' if low_open else '>='} {low:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def _check_number(where: str, name: str, value, low=0.0, high=None, low_open=False, high_open=False):
    """Raise ValueError unless ``value`` is a finite real number in the given range; return it unchanged."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (
            high is None or (value < high if high_open else value <= high))
    if not ok:
        shown = value if isinstance(value, Real) and not isinstance(value, bool) else repr(value)
        raise ValueError(f"{where}: {name} is {shown}; expected {_range_text(low, high, low_open, high_open)}")
    return value


def _check_count(where: str, name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{where}: {name} is {value!r}; expected an integer >= {minimum}")
    return int(value)


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
                        "param_groups (from lessons_lib.optim or torch.optim)")
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
        _check_number(type(self).__name__, "lr", group["lr"])

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
            _check_number("SGD", name, group[name])
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
            _check_number("Adagrad", name, group[name])

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
        _check_number("Adadelta", "rho", group["rho"], 0, 1)
        _check_number("Adadelta", "eps", group["eps"])
        _check_number("Adadelta", "weight_decay", group["weight_decay"])

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
        _check_number("RMSprop", "alpha", group["alpha"], 0, 1)
        for name in ("eps", "weight_decay", "momentum"):
            _check_number("RMSprop", name, group[name])

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
            _check_number(where, f"betas[{i}]", betas[i], 0, 1, high_open=True)
        _check_number(where, "eps", group["eps"])
        _check_number(where, "weight_decay", group["weight_decay"])

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
    beta = _check_number("ewma", "beta", beta, 0, 1, high_open=True)
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


# ---------------------------------------------------------------------------------------- schedules


class LRScheduler:
    """The common part of the schedules: each group's lr becomes a function of the step counter.

    As in torch: creating the schedule sets step 0's learning rate; call ``step()`` once after each
    epoch (or each batch, for schedules counted in batches), after ``optimizer.step()``. ``last_epoch``
    counts those calls; ``get_last_lr()`` returns the learning rates now in use, one per group. The
    starting rate of each group is kept in ``group["initial_lr"]`` (also as torch does).
    """

    def __init__(self, optimizer):
        groups = _groups_of(type(self).__name__, optimizer)
        self.optimizer = optimizer
        self.base_lrs = [g.setdefault("initial_lr", g["lr"]) for g in groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, base_lr: float, t: int) -> float:
        """The learning rate after ``t`` calls to ``step()`` for a group that started at ``base_lr``."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def _apply(self) -> None:
        self._last_lr = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps: η_t = η₀ · γ^⌊t / step_size⌋."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = _check_count("StepLR", "step_size", step_size)
        self.gamma = _check_number("StepLR", "gamma", gamma, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every step: η_t = η₀ · γᵗ."""

    def __init__(self, optimizer, gamma: float):
        self.gamma = _check_number("ExponentialLR", "gamma", gamma, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma**t


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from η₀ down to ``eta_min`` over ``T_max`` steps (Loshchilov and Hutter, SGDR).

    η_t = η_min + (η₀ − η_min) · (1 + cos(π t / T_max)) / 2. Past T_max the cosine carries on and the rate
    climbs back up, as torch's does; stop stepping at T_max to stay at η_min.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max = _check_count("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = _check_number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class LinearWarmup(LRScheduler):
    """Raise the learning rate linearly from ``start_factor`` · η₀ to η₀ over ``total_iters`` steps, then hold it.

    η_t = η₀ · (f + (1 − f) · min(t, total_iters) / total_iters), f = start_factor: torch's ``LinearLR``
    with its ``end_factor`` left at 1. Warm-up keeps the first, badly-informed steps small (Adam's
    second-moment estimate, for one, rests on very few gradients at first).
    """

    def __init__(self, optimizer, start_factor: float = 1 / 3, total_iters: int = 5):
        self.start_factor = _check_number("LinearWarmup", "start_factor", start_factor, 0, 1, low_open=True)
        self.total_iters = _check_count("LinearWarmup", "total_iters", total_iters)
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        f = self.start_factor
        return base_lr * (f + (1 - f) * min(t, self.total_iters) / self.total_iters)


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith and Topin, 2018): warm up to ``max_lr``, then anneal far below the start.

    With η_max = ``max_lr``, η_start = η_max / ``div_factor`` and η_end = η_start / ``final_div_factor``,
    the rate moves, along a half cosine (or a straight line with ``anneal_strategy="linear"``),
    from η_start to η_max over the first ``pct_start`` of ``total_steps``, then from η_max to η_end.
    ``three_phase=True`` instead returns to η_start by step 2 · pct_start · total_steps and ends with a
    third leg down to η_end. Step once per batch: more than ``total_steps`` calls is an error.

    With ``cycle_momentum=True`` (the default, as in torch) the momentum moves the opposite way, from
    ``max_momentum`` down to ``base_momentum`` while the rate rises and back while it falls: it sets
    ``group["momentum"]`` (SGD, RMSprop) or β₁ in ``group["betas"]`` (Adam, AdamW). Note that this turns
    momentum on for an SGD created with momentum=0; pass ``cycle_momentum=False`` to leave it alone.
    """

    def __init__(self, optimizer, max_lr, total_steps: int, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 cycle_momentum: bool = True, base_momentum: float = 0.85, max_momentum: float = 0.95):
        where, n_groups = "OneCycleLR", len(_groups_of("OneCycleLR", optimizer))
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * n_groups
        if len(max_lrs) != n_groups:
            raise ValueError(f"{where}: max_lr has {len(max_lrs)} values but the optimizer has {n_groups} groups")
        for i, lr in enumerate(max_lrs):
            _check_number(where, f"max_lr[{i}]" if isinstance(max_lr, (list, tuple)) else "max_lr", lr)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{where}: anneal_strategy is {anneal_strategy!r}; expected 'cos' or 'linear'")
        self.total_steps = _check_count(where, "total_steps", total_steps)
        _check_number(where, "pct_start", pct_start, 0, 1)
        _check_number(where, "div_factor", div_factor, low_open=True)
        _check_number(where, "final_div_factor", final_div_factor, low_open=True)
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        # per group, the three rates the cycle moves between
        self.points = [dict(start=lr / div_factor, max=lr, end=lr / div_factor / final_div_factor) for lr in max_lrs]
        self.momenta = (_check_number(where, "base_momentum", base_momentum, 0, 1),
                        _check_number(where, "max_momentum", max_momentum, 0, 1))
        self.phases = self._make_phases(pct_start, three_phase)
        if cycle_momentum and not all("momentum" in g or "betas" in g for g in optimizer.param_groups):
            raise ValueError(f"{where}: cycle_momentum=True needs an optimizer with 'momentum' or 'betas'; "
                             "pass cycle_momentum=False")
        super().__init__(optimizer)

    def _make_phases(self, pct_start: float, three_phase: bool) -> list[tuple[float, str, str]]:
        """Each phase: (the step it ends at, where lr starts, where lr ends). Momentum mirrors lr."""
        up = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if three_phase:
            phases = [(up, "start", "max"), (2 * up, "max", "start"), (last, "start", "end")]
        else:
            phases = [(up, "start", "max"), (last, "max", "end")]
        ends = [end for end, _, _ in phases]
        if any(b <= a for a, b in zip([0.0] + ends[:-1], ends)):
            raise ValueError(f"OneCycleLR: the phases end at steps {ends}; expected each phase to last at "
                             "least one step (raise total_steps or change pct_start)")
        return phases

    def _where_in_cycle(self) -> tuple[str, str, float]:
        """The current phase's (start point, end point) and how far along it we are, from 0 to 1."""
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: step() has been called {t} times; expected at most "
                             f"total_steps = {self.total_steps}")
        start = 0.0
        for i, (end, a, b) in enumerate(self.phases):
            if t <= end or i == len(self.phases) - 1:
                return a, b, (t - start) / (end - start)
            start = end

    def _anneal(self, a: float, b: float, pct: float) -> float:
        if self.anneal_strategy == "linear":
            return a + (b - a) * pct
        return b + (a - b) * (1 + math.cos(math.pi * pct)) / 2

    def get_lr(self) -> list[float]:
        a, b, pct = self._where_in_cycle()
        return [self._anneal(point[a], point[b], pct) for point in self.points]

    def momentum(self) -> float:
        """The momentum (or β₁) for the current step: high while the rate is low, low while it is high."""
        a, b, pct = self._where_in_cycle()
        low, high = self.momenta
        return self._anneal(low if a == "max" else high, low if b == "max" else high, pct)

    def _apply(self) -> None:
        super()._apply()
        if not self.cycle_momentum:
            return
        mu = self.momentum()
        for group in self.optimizer.param_groups:
            if "betas" in group:
                group["betas"] = (mu, *group["betas"][1:])
            else:
                group["momentum"] = mu


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
    _check_number("clip_grad_norm_", "max_norm", max_norm)
    if not (norm_type == math.inf or (isinstance(norm_type, Real) and math.isfinite(norm_type) and norm_type > 0)):
        raise ValueError(f"clip_grad_norm_: norm_type is {norm_type!r}; expected a number > 0 or float('inf')")
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
    _check_number("clip_grad_value_", "clip_value", clip_value)
    for g in _grads(params):
        g.clamp_(-clip_value, clip_value)
