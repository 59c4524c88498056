"""A from-scratch training loop for the NumPy layers of ``lessons_lib.scratch.layers`` (Part I).

One epoch = one pass over the training set in shuffled mini-batches; each iteration is the cycle
forward -> loss -> backward -> update. After every epoch the loop records the training loss (the average
over the epoch's batches, weighted by batch size) and, when validation data is given, the validation loss
and accuracy. Part II replaces this with ``lessons_lib.training.loop`` for PyTorch models.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from lessons_lib.data.splits import batches
from lessons_lib.functional.metrics import output_accuracy
from lessons_lib.history import History
from lessons_lib.scratch.layers import BCEWithLogitsLoss, GradientDescent, MSELoss


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
    acc = None if isinstance(loss_fn, MSELoss) else output_accuracy(y, outputs)
    return loss, acc


def fit(model, loss_fn, X, y, *, lr: float = 0.1, epochs: int = 10, batch_size: int = 32,
        rng: np.random.Generator | int | None = 0, X_val=None, y_val=None, optimizer=None,
        patience: int | None = None) -> History:
    """Train ``model`` (a ``Sequential``) with mini-batch gradient descent; return its :class:`History`.

    loss_fn:   ``SoftmaxCrossEntropy`` (y: int classes), ``BCEWithLogitsLoss`` (y: 0/1, model outputs (N, 1))
               or ``MSELoss`` (y: targets, model outputs (N, 1) or (N, k)).
    rng:       generator (or seed) that shuffles the batches; each epoch draws a new order from it.
    optimizer: defaults to ``GradientDescent(model.parameters(), lr)``; anything with ``zero_grad()`` and ``step()``.
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
    optimizer = optimizer or GradientDescent(model.parameters(), lr=lr)
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
                    correct_weighted += output_accuracy(y[idx], out) * len(idx)
        train_loss = total / len(X)
        if not math.isfinite(train_loss):
            history.diverged = True
            break
        history.train_loss.append(train_loss)
        if not isinstance(loss_fn, MSELoss):
            history.train_metric.append(correct_weighted / len(X))
        if X_val is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                val_loss, val_acc = evaluate(model, loss_fn, X_val, y_val)
            history.val_loss.append(val_loss)
            if val_acc is not None:
                history.val_metric.append(val_acc)
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
