"""Learning-rate schedules from scratch, with torch.optim.lr_scheduler's semantics (one ``step()`` per epoch
or per batch, as the schedule says), so either library's optimizer can be driven by them.
"""

from __future__ import annotations

import math

from lessons_lib.training.optimizers import _groups_of
from lessons_lib.validate import integer, number

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
        self.step_size = integer("StepLR", "step_size", step_size, minimum=1)
        self.gamma = number("StepLR", "gamma", gamma, 0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every step: η_t = η₀ · γᵗ."""

    def __init__(self, optimizer, gamma: float):
        self.gamma = number("ExponentialLR", "gamma", gamma, 0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma**t


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from η₀ down to ``eta_min`` over ``T_max`` steps (Loshchilov and Hutter, SGDR).

    η_t = η_min + (η₀ − η_min) · (1 + cos(π t / T_max)) / 2. Past T_max the cosine carries on and the rate
    climbs back up, as torch's does; stop stepping at T_max to stay at η_min.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max = integer("CosineAnnealingLR", "T_max", T_max, minimum=1)
        self.eta_min = number("CosineAnnealingLR", "eta_min", eta_min, 0)
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
        self.start_factor = number("LinearWarmup", "start_factor", start_factor, 0, 1, low_open=True)
        self.total_iters = integer("LinearWarmup", "total_iters", total_iters, minimum=1)
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
            number(where, f"max_lr[{i}]" if isinstance(max_lr, (list, tuple)) else "max_lr", lr, 0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{where}: anneal_strategy is {anneal_strategy!r}; expected 'cos' or 'linear'")
        self.total_steps = integer(where, "total_steps", total_steps, minimum=1)
        number(where, "pct_start", pct_start, 0, 1)
        number(where, "div_factor", div_factor, 0, low_open=True)
        number(where, "final_div_factor", final_div_factor, 0, low_open=True)
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        # per group, the three rates the cycle moves between
        self.points = [dict(start=lr / div_factor, max=lr, end=lr / div_factor / final_div_factor) for lr in max_lrs]
        self.momenta = (number(where, "base_momentum", base_momentum, 0, 1),
                        number(where, "max_momentum", max_momentum, 0, 1))
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
