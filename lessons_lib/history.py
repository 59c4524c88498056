"""The record of a training run, shared by the NumPy (Part I) and the PyTorch (Part II) training loops."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """Per-epoch record of a training run, one entry per completed epoch.

    Filled by both training loops: Part I's NumPy :func:`lessons_lib.scratch.fit.fit` and Part II's
    PyTorch :func:`lessons_lib.training.loop.fit`. ``train_metric``/``val_metric`` hold the loop's metric
    (accuracy unless told otherwise; empty for regression).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # 1-based epoch whose weights the model holds after early stopping
    stopped_early: bool = False
    diverged: bool = False
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)
