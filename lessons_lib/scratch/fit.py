"""A from-scratch training loop for the NumPy layers of ``lessons_lib.scratch.layers`` (Part I).

One epoch = one pass over the training set in shuffled mini-batches; each iteration is the cycle
forward -> loss -> backward -> update. After every epoch the loop records the training loss (the average
over the epoch's batches, weighted by batch size) and, when validation data is given, the validation loss
and accuracy. Part II replaces this with ``lessons_lib.training.loop`` for PyTorch models.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from lessons_lib.data.splits import batches
from lessons_lib.scratch.layers import SGD, BCEWithLogitsLoss, MSELoss


@dataclass
class History:
    """What happened during :func:`fit`, one entry per completed epoch."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    best_epoch: int | None = None  # 1-based; set when early stopping restored the best weights
    diverged: bool = False  # the loss became inf or nan and training stopped

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def accuracy(outputs: np.ndarray, y: np.ndarray) -> float:
    """Fraction of correct predictions from a model's raw outputs.

    outputs (N, C) with C > 1: the predicted class is the argmax (softmax does not change it).
    outputs (N,) or (N, 1): one logit per sample for a binary task, predicted 1 where the logit > 0.
    """
    outputs, y = np.asarray(outputs), np.asarray(y)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        pred = outputs.argmax(axis=1)
    else:
        pred = (outputs.reshape(len(outputs)) > 0).astype(int)
        y = y.reshape(len(y))
    if len(pred) != len(y):
        raise ValueError(f"accuracy: {len(pred)} predictions but {len(y)} targets")
    return float(np.mean(pred == y))


def _targets_for(loss_fn, y):
    """Binary and regression losses compare against (N, 1) columns when the model outputs (N, 1)."""
    if isinstance(loss_fn, (BCEWithLogitsLoss, MSELoss)) and y.ndim == 1:
        return y.reshape(-1, 1)
    return y


def evaluate(model, loss_fn, X, y, batch_size: int = 1024) -> tuple[float, float | None]:
    """Mean loss and accuracy of ``model`` on (X, y); accuracy is None for regression (MSELoss)."""
    X, y = np.asarray(X), np.asarray(y)
    outputs = np.concatenate([model.forward(X[i : i + batch_size]) for i in range(0, len(X), batch_size)])
    loss = loss_fn.forward(outputs, _targets_for(loss_fn, y))
    acc = None if isinstance(loss_fn, MSELoss) else accuracy(outputs, y)
    return loss, acc


def fit(model, loss_fn, X, y, *, lr: float = 0.1, epochs: int = 10, batch_size: int = 32,
        rng: np.random.Generator | int | None = 0, X_val=None, y_val=None, optimizer=None,
        patience: int | None = None) -> History:
    """Train ``model`` (a ``Sequential``) with mini-batch gradient descent; return its :class:`History`.

    loss_fn:   ``SoftmaxCrossEntropy`` (y: int classes), ``BCEWithLogitsLoss`` (y: 0/1, model outputs (N, 1))
               or ``MSELoss`` (y: targets, model outputs (N, 1) or (N, k)).
    rng:       generator (or seed) that shuffles the batches; each epoch draws a new order from it.
    optimizer: defaults to ``SGD(model.parameters(), lr)``; anything with ``zero_grad()`` and ``step()``.
    patience:  early stopping: stop after this many epochs without a better validation loss, then put
               back the weights of the best epoch (needs validation data).
    A loss that becomes inf or nan stops training with ``history.diverged = True`` instead of raising.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"fit: lr is {lr!r}; expected a positive number")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs is {epochs!r}; expected a positive integer")
    if patience is not None and (X_val is None or y_val is None):
        raise ValueError("fit: patience needs validation data (X_val and y_val)")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    optimizer = optimizer or SGD(model.parameters(), lr=lr)
    targets = _targets_for(loss_fn, y)
    history, best_loss, best_params, waited = History(), math.inf, None, 0
    for _ in range(epochs):
        total, correct_weighted = 0.0, 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for idx in batches(len(X), batch_size, rng=rng):
                out = model.forward(X[idx])
                loss = loss_fn.forward(out, targets[idx])
                optimizer.zero_grad()
                model.backward(loss_fn.backward(), input_grad=False)
                optimizer.step()
                total += loss * len(idx)
                if not isinstance(loss_fn, MSELoss):
                    correct_weighted += accuracy(out, y[idx]) * len(idx)
        train_loss = total / len(X)
        if not math.isfinite(train_loss):
            history.diverged = True
            break
        history.train_loss.append(train_loss)
        if not isinstance(loss_fn, MSELoss):
            history.train_acc.append(correct_weighted / len(X))
        if X_val is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                val_loss, val_acc = evaluate(model, loss_fn, X_val, y_val)
            history.val_loss.append(val_loss)
            if val_acc is not None:
                history.val_acc.append(val_acc)
            if patience is not None:
                if val_loss < best_loss:
                    best_loss, waited, history.best_epoch = val_loss, 0, history.epochs
                    best_params = [copy.deepcopy(p.data) for p in model.parameters()]
                else:
                    waited += 1
                    if waited >= patience:
                        break
    if best_params is not None:
        for p, saved in zip(model.parameters(), best_params):
            p.data[...] = saved
    return history
