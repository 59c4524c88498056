"""The PyTorch training loop used from Part II on: one readable function, :func:`fit`.

Each epoch runs over the training loader (forward, loss, ``zero_grad``, ``backward``, ``step``), then
evaluates on the validation loader in eval mode without gradients, and records both in a
:class:`History`. Optional: a learning-rate schedule stepped once per epoch, gradient clipping, and
early stopping that restores the weights of the best validation epoch. Everything runs on the book's
device (``lessons_lib.device``), so a notebook trains on a GPU when there is one without any change.

Progress is a tqdm bar in a live notebook and a few plain lines when the book is built.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from lessons_lib.device import get_device, is_static
from lessons_lib.functional.metrics import output_accuracy
from lessons_lib.history import History


def make_loader(X, y, batch_size: int = 64, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """A DataLoader over tensors (or arrays); shuffling uses its own seeded generator, never global state.

    Floating inputs become float32 and integer labels int64, on the CPU (``fit`` moves each batch).
    """
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if len(X) != len(y):
        raise ValueError(f"make_loader: X has {len(X)} rows but y has {len(y)}")
    X = X.float() if X.is_floating_point() else X
    y = y.float() if y.is_floating_point() else y.long()
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, generator=generator)


class TransformedLoader:
    """A loader whose batches pass through ``transform``: yields ``(transform(x), y)`` for each batch of
    ``loader`` and has its length, which is all :func:`fit` and :func:`evaluate` need. Augmentation on whole
    batches (``data.augment.augment_batch``) draws each image's parameters separately, so this is what
    per-image transforms inside a ``Dataset`` (torchvision's way) would give; every pass draws afresh."""

    def __init__(self, loader, transform: Callable):
        if not callable(transform):
            raise TypeError(f"TransformedLoader: transform is {type(transform).__name__}; expected a function of a batch")
        self.loader, self.transform = loader, transform

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for xb, yb in self.loader:
            yield self.transform(xb), yb


@torch.no_grad()
def predict_proba(model, loader, device=None):
    """Softmax probabilities of ``model`` over every batch of ``loader`` (eval mode, no gradients), as one
    (N, classes) NumPy array in the loader's order. The model's training mode is restored afterwards."""
    device = device or get_device()
    was_training = model.training
    model.eval()
    try:
        return torch.cat([torch.softmax(model(xb.to(device)), dim=1) for xb, _ in loader]).cpu().numpy()
    finally:
        model.train(was_training)


def _loss(loss_fn, out, yb, where: str):
    """The loss, with a clear message when the model's output does not fit the loss or the targets."""
    if out.shape[0] != yb.shape[0]:
        raise ValueError(f"{where}: the model returned {out.shape[0]} outputs for a batch of {yb.shape[0]} targets")
    try:
        return loss_fn(out, yb)
    except (RuntimeError, ValueError, IndexError) as exc:
        raise ValueError(
            f"{where}: {loss_fn!r} cannot compare the model's output of shape {tuple(out.shape)} with targets of "
            f"shape {tuple(yb.shape)} (dtype {yb.dtype}): {exc}"
        ) from exc


@torch.no_grad()
def evaluate(model, loader, loss_fn, metric: Callable | None = output_accuracy, device=None) -> tuple[float, float | None]:
    """Mean loss (and metric) of ``model`` over ``loader``, in eval mode without gradients."""
    device = device or get_device()
    was_training = model.training
    model.eval()
    total, count, outputs, targets = 0.0, 0, [], []
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        out = model(xb)
        total += _loss(loss_fn, out, yb, "evaluate").item() * len(xb)
        count += len(xb)
        if metric is not None:
            outputs.append(out)
            targets.append(yb)
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate: the loader yields no batches")
    score = metric(torch.cat(targets), torch.cat(outputs)) if metric is not None else None
    return total / count, score


def fit(model: torch.nn.Module, train_loader, *, loss_fn, optimizer, epochs: int, val_loader=None,
        metric: Callable | None = output_accuracy, scheduler=None, patience: int | None = None,
        clip_grad_norm: float | None = None, on_epoch_end: Callable | None = None, device=None,
        desc: str = "training") -> History:
    """Train ``model`` and return its :class:`History`.

    loss_fn:        e.g. ``nn.CrossEntropyLoss()``; called as ``loss_fn(model(x), y)``.
    optimizer:      a torch.optim (or ``lessons_lib.training.optimizers``) optimizer over the model's parameters.
    metric:         ``metric(y_true, outputs) -> float`` (y_true first, as in scikit-learn), recorded each epoch;
                    None for regression.
    scheduler:      stepped once at the end of every epoch.
    patience:       early stopping: stop after this many epochs without a lower validation loss and
                    restore the best epoch's weights (needs ``val_loader``).
    clip_grad_norm: clip the gradients' global norm before each step.
    on_epoch_end:   called as ``on_epoch_end(epoch, model)`` after each epoch (1-based), e.g. to record
                    predictions for a figure.
    A loss that becomes inf or nan stops training (``history.diverged``) instead of raising.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs is {epochs!r}; expected a positive integer")
    if len(train_loader) == 0:
        raise ValueError("fit: train_loader yields no batches (an empty dataset, or drop_last with batch_size > its size)")
    if patience is not None and val_loader is None:
        raise ValueError("fit: patience (early stopping) needs a val_loader")
    device = device or get_device()
    model.to(device)
    history, best_loss, best_state, waited = History(), math.inf, None, 0
    start = time.perf_counter()
    bar = progress(range(epochs), desc=desc)
    for _ in bar:
        model.train()
        total, count, correct = 0.0, 0, 0.0
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            out = model(xb)
            loss = _loss(loss_fn, out, yb, "fit")
            optimizer.zero_grad()
            loss.backward()
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
            if metric is not None:
                correct += metric(yb, out.detach()) * len(xb)
        if not math.isfinite(total):
            history.diverged = True
            break
        history.train_loss.append(total / count)
        history.lr.append(optimizer.param_groups[0]["lr"])
        if metric is not None:
            history.train_metric.append(correct / count)
        if val_loader is not None:
            val_loss, val_score = evaluate(model, val_loader, loss_fn, metric, device)
            history.val_loss.append(val_loss)
            if val_score is not None:
                history.val_metric.append(val_score)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{total / count:.4f}", val_loss=f"{val_loss:.4f}")
        if on_epoch_end is not None:
            on_epoch_end(history.epochs, model)
        if patience is not None:
            if history.val_loss[-1] < best_loss:
                best_loss, waited, history.best_epoch = history.val_loss[-1], 0, history.epochs
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if waited >= patience:
                    history.stopped_early = True
                    break
        if scheduler is not None:
            scheduler.step()
    if best_state is not None:
        model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - start
    return history


def save_checkpoint(path, model: torch.nn.Module, optimizer=None, **extra) -> Path:
    """Save the model's ``state_dict`` (and the optimizer's, and any plain extra values) to ``path``."""
    path = Path(path)
    payload = {"model": model.state_dict(), "extra": extra}
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    torch.save(payload, path)
    return path


def load_checkpoint(path, model: torch.nn.Module, optimizer=None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    Uses ``torch.load(..., weights_only=True)``: a checkpoint file is then only tensors and plain
    containers, so loading a file from someone else cannot run arbitrary code (full pickles can).
    Returns the extra values saved with it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(payload["model"])
    if optimizer is not None:
        if "optimizer" not in payload:
            raise ValueError(f"load_checkpoint: {path} holds no optimizer state")
        optimizer.load_state_dict(payload["optimizer"])
    return payload.get("extra", {})


def progress(iterable, *, total: int | None = None, desc: str = "progress"):
    """Wrap an iterable in a progress bar.

    In a live notebook this is a tqdm widget. When the book is built or under tests it prints a few plain
    lines instead (at 25 %, 50 %, 75 % and the end), since carriage-return bars and widget state do not
    belong in a static page.
    """
    if not is_static():
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc)
    return _plain_progress(iterable, total, desc)


def _plain_progress(iterable, total, desc):
    import time

    if total is None:
        total = len(iterable) if hasattr(iterable, "__len__") else None
    marks = {max(1, round(total * q)) for q in (0.25, 0.5, 0.75, 1.0)} if total else set()
    start = time.perf_counter()
    count = 0
    for item in iterable:
        yield item
        count += 1
        if count in marks:
            print(f"{desc}: {count}/{total} ({time.perf_counter() - start:.1f} s)")
    if not total:
        print(f"{desc}: {count} done ({time.perf_counter() - start:.1f} s)")
