"""The Chapter 11 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import torch
from torch.utils.data import Dataset

from lessons_lib.notebook.checking import FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch11 import (
    DigitsDatasetReference,
    check_count_parameters_torch,
    check_dataset,
    check_train_epoch,
    count_parameters_torch_reference,
    train_epoch_reference,
)


def stub(*args, **kwargs):
    raise NotImplementedError  # your code here


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


def test_count_stub_is_not_attempted():
    assert check_count_parameters_torch(stub).status == NOT_ATTEMPTED


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


def test_dataset_stub_is_not_attempted():
    class Stub(Dataset):
        def __init__(self, images, labels):
            raise NotImplementedError  # your code here

    assert check_dataset(Stub).status == NOT_ATTEMPTED


# -------------------------------------------------------------------------------------------- one epoch


def test_epoch_reference_passes():
    assert check_train_epoch(train_epoch_reference).passed


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


def test_epoch_stub_is_not_attempted():
    assert check_train_epoch(stub).status == NOT_ATTEMPTED
