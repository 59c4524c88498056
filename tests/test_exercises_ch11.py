"""The Chapter 11 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from lessons_lib.notebook.checking import FAILED, PASSED
from lessons_lib.notebook.exercises.ch11 import (
    DigitsDatasetReference,
    _epoch_setup,
    check_count_parameters_torch,
    check_dataset,
    check_train_epoch,
    count_parameters_torch_reference,
    train_epoch_reference,
)

# ------------------------------------------------------------------------------------ parameter count


def test_count_reference_matches_torch_and_passes():
    sizes = [784, 128, 64, 10]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    assert count_parameters_torch_reference(sizes) == sum(p.numel() for p in model.parameters()) == 109_386
    assert check_count_parameters_torch(count_parameters_torch_reference).passed


def test_count_rejects_weights_only_and_input_biases():
    r = check_count_parameters_torch(lambda sizes: sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))
    assert r.status == FAILED and "weights only" in r.message
    r = check_count_parameters_torch(lambda sizes: sum(a * b + a for a, b in zip(sizes[:-1], sizes[1:])))
    assert r.status == FAILED and "OUTPUT units" in r.message
    r = check_count_parameters_torch(lambda sizes: sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes))
    assert r.status == FAILED and "input layer has no biases" in r.message


# ---------------------------------------------------------------------------------------------- dataset


def test_dataset_reference_and_a_subclass_pass():
    assert check_dataset(DigitsDatasetReference).passed

    class Lazy(Dataset):  # converts per item instead of up front
        def __init__(self, images, labels):
            self.images, self.labels = images, labels

        def __len__(self):
            return len(self.images)

        def __getitem__(self, i):
            x = torch.tensor(self.images[i], dtype=torch.float32).flatten() / 16
            return x, torch.tensor(int(self.labels[i]))

    assert check_dataset(Lazy).status == PASSED


def _variant(flatten=True, scale=16.0, label_dtype=torch.int64, length=None):
    class Wrong(Dataset):
        def __init__(self, images, labels):
            self.x = torch.as_tensor(images, dtype=torch.float32) / scale
            self.y = torch.as_tensor(labels).to(label_dtype)

        def __len__(self):
            return length if length is not None else len(self.y)

        def __getitem__(self, i):
            return (self.x[i].reshape(-1) if flatten else self.x[i]), self.y[i]

    return Wrong


def test_dataset_rejects_typical_mistakes():
    r = check_dataset(_variant(flatten=False))
    assert r.status == FAILED and "flatten" in r.message
    r = check_dataset(_variant(scale=1.0))
    assert r.status == FAILED and "divide the pixel values by 16" in r.message
    r = check_dataset(_variant(label_dtype=torch.float32))
    assert r.status == FAILED and "torch.int64" in r.message
    r = check_dataset(_variant(length=64))
    assert r.status == FAILED and "number of pixels" in r.message


# -------------------------------------------------------------------------------------------- one epoch


def _epoch_by_hand(X, y, w, b, batch, lr):
    """One epoch of SGD on mean squared error for a linear model, with the gradients written out in NumPy.

    X: (n, 3), y: (n,), w: (3,), b: a number. Returns (w, b, mean loss per example over the epoch).
    """
    total = 0.0
    for start in range(0, len(X), batch):
        xb, yb = X[start:start + batch], y[start:start + batch]
        r = xb @ w + b - yb                                   # residuals, (B,)
        total += np.mean(r**2) * len(xb)                      # the batch's loss, measured before its step
        w, b = w - lr * 2 * xb.T @ r / len(xb), b - lr * 2 * r.mean()
    return w, b, total / len(X)


@pytest.mark.parametrize("seed, n, batch", [(0, 10, 4), (1, 23, 5), (2, 8, 8)])  # the checker's three settings
def test_epoch_reference_agrees_with_sgd_written_out_in_numpy(seed, n, batch):
    model, loader, loss_fn, optimizer = _epoch_setup(seed, n, batch)
    X, y = (t.double().numpy() for t in loader.dataset.tensors)
    w0, b0 = model.weight.detach().double().numpy().ravel(), model.bias.item()
    w, b, mean_loss = _epoch_by_hand(X, y.ravel(), w0, b0, batch, lr=optimizer.param_groups[0]["lr"])
    got = train_epoch_reference(model, loader, loss_fn, optimizer)
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.bias.item(), b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, mean_loss, rtol=1e-5)
    assert not np.allclose(w, w0), "the epoch moves the weights, so the comparison means something"


def test_epoch_reference_passes():
    assert check_train_epoch(train_epoch_reference).passed


def test_epoch_rejects_a_loss_measured_after_the_step():
    def after_step(model, loader, loss_fn, optimizer):  # trains correctly, but reports the loss AFTER each update
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
            with torch.no_grad():
                total += loss_fn(model(xb), yb).item() * len(xb)
            count += len(xb)
        return total / count

    r = check_train_epoch(after_step)
    assert r.status == FAILED and "the parameters are right but the returned loss is" in r.message
    assert "for 10 examples in batches of 4" in r.message


def test_epoch_rejects_a_wrong_learning_rule():
    def double_step(model, loader, loss_fn, optimizer):  # two steps per batch: the parameters go too far
        for xb, yb in loader:
            for _ in range(2):
                optimizer.zero_grad()
                loss_fn(model(xb), yb).backward()
                optimizer.step()
        return 0.0

    r = check_train_epoch(double_step)
    assert r.status == FAILED and "the trained parameters differ from one SGD step per batch" in r.message


def _buggy(step_inside=True, zero=True, returned="mean"):
    def epoch(model, loader, loss_fn, optimizer):
        running, losses = 0.0, []
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            if zero:
                optimizer.zero_grad()
            loss.backward()
            if step_inside:
                optimizer.step()
            running = loss.item()  # overwritten, as in a common broken loop
            losses.append(loss.item())
        if not step_inside:
            optimizer.step()
        if returned == "last":
            return running
        if returned == "overwrite":
            return running / len(loader)
        return sum(losses) / len(losses)

    return epoch


def test_epoch_rejects_step_outside_the_loop_and_missing_zero_grad():
    r = check_train_epoch(_buggy(step_inside=False))
    assert r.status == FAILED and "once per epoch" in r.message
    r = check_train_epoch(_buggy(zero=False))
    assert r.status == FAILED and "zero_grad" in r.message


def test_epoch_rejects_wrong_mean_losses():
    r = check_train_epoch(_buggy(returned="last"))
    assert r.status == FAILED and "LAST batch" in r.message
    r = check_train_epoch(_buggy(returned="overwrite"))
    assert r.status == FAILED and "overwritten" in r.message
    r = check_train_epoch(_buggy(returned="mean"))
    assert r.status == FAILED and "weight each by its batch size" in r.message
