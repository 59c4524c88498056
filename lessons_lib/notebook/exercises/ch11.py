"""Checkers for the exercises of Chapter 11 (nn.Module, data and the training loop).

- :func:`check_count_parameters_torch`: the number of trainable numbers in a fully connected network;
- :func:`check_dataset`: a ``torch.utils.data.Dataset`` over 8x8 digit images with a correct
  ``__len__`` and ``__getitem__``;
- :func:`check_train_epoch`: one epoch of the hand-written training loop, returning the epoch's mean loss.

Each checker returns a :class:`lessons_lib.notebook.checking.CheckResult`; the reference solutions are the
``*_reference`` objects beside them.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED, CheckResult, attempt, compare

__all__ = [
    "DigitsDatasetReference",
    "check_count_parameters_torch",
    "check_dataset",
    "check_train_epoch",
    "count_parameters_torch_reference",
    "train_epoch_reference",
]


def _torch():
    import torch  # lazily, like lessons_lib.device

    return torch


# ------------------------------------------------------------------------------------ parameter count


def count_parameters_torch_reference(sizes):
    """Trainable numbers of an MLP with layer widths ``sizes`` (input first): a weight matrix and a bias per layer."""
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))


def _count_cases():
    return [{"sizes": s} for s in ([784, 128, 64, 10], [2, 4, 1], [64, 128, 64, 10], [3, 1], [10, 10, 10, 10, 10])]


def _count_hint(case, got, expected):
    sizes = case["sizes"]
    pairs = list(zip(sizes[:-1], sizes[1:]))
    try:
        got = int(got)
    except (TypeError, ValueError):
        return "return one integer"
    if got == sum(a * b for a, b in pairs):
        return "you counted the weights only: every layer also has one bias per output unit"
    if got == sum(a * b + a for a, b in pairs):
        return "a layer's biases belong to its OUTPUT units (b of them for an a→b layer), not its inputs"
    if got == sum(a * b for a, b in pairs) + sum(sizes):
        return "the input layer has no biases: only the layers that compute something do"
    return None


def check_count_parameters_torch(fn) -> CheckResult:
    """Check ``fn(sizes)`` -> the number of parameters of ``nn.Sequential`` of ``nn.Linear`` layers of those widths."""
    return compare(fn, count_parameters_torch_reference, _count_cases(), name="parameter count", hints=[_count_hint])


# ---------------------------------------------------------------------------------------------- dataset


class DigitsDatasetReference:
    """A Dataset over ``images`` (n, 8, 8) with values 0..16 and ``labels`` (n,).

    ``ds[i]`` is ``(x, y)``: x a float32 tensor of shape (64,) scaled to [0, 1] (divided by 16), y an int64
    scalar tensor. ``len(ds)`` is n. (Subclassing ``torch.utils.data.Dataset`` is customary but optional:
    a DataLoader only needs ``__len__`` and ``__getitem__``.)
    """

    def __init__(self, images, labels):
        torch = _torch()
        self.images = torch.as_tensor(np.asarray(images), dtype=torch.float32).reshape(len(images), -1) / 16.0
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


def _dataset_cases(seed=12):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, 17, size=(n, 8, 8)).astype(np.float64), rng.integers(0, 10, size=n)) for n in (7, 1, 30)]


def _item_problem(got, exp, i) -> str | None:
    torch = _torch()
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"ds[{i}] is a {type(got).__name__}; expected a pair (x, y)"
    (x, y), (ex, ey) = got, exp
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        return f"ds[{i}] holds {type(x).__name__} and {type(y).__name__}; expected two torch tensors"
    if x.shape == (8, 8):
        return f"ds[{i}][0] has shape (8, 8): flatten each image to 64 numbers, e.g. with .reshape(-1)"
    if tuple(x.shape) != (64,):
        return f"ds[{i}][0] has shape {tuple(x.shape)}; expected (64,)"
    if x.dtype != torch.float32:
        return f"ds[{i}][0] has dtype {x.dtype}; expected torch.float32 (the dtype of nn.Linear's weights)"
    if torch.allclose(x, ex * 16):
        return f"ds[{i}][0] goes up to 16: divide the pixel values by 16 so that they lie in [0, 1]"
    if not torch.allclose(x, ex, atol=1e-6):
        return f"ds[{i}][0] has the wrong values (first few {x[:4].tolist()}, expected {ex[:4].tolist()})"
    if y.ndim != 0:
        return f"ds[{i}][1] has shape {tuple(y.shape)}; expected a scalar tensor (shape ()) so that batches have shape (B,)"
    if y.dtype != torch.int64:
        return f"ds[{i}][1] has dtype {y.dtype}; expected torch.int64, the class-index type nn.CrossEntropyLoss wants"
    if y.item() != ey.item():
        return f"ds[{i}][1] is {y.item()}, expected label {ey.item()}"
    return None


def check_dataset(cls) -> CheckResult:
    """Check a Dataset class ``cls(images, labels)`` against :class:`DigitsDatasetReference`, also through a DataLoader."""
    torch = _torch()
    name = "digits Dataset"
    if not callable(cls):
        return CheckResult(name, ERROR, f"expected a class, got {type(cls).__name__}")
    for images, labels in _dataset_cases():
        ref = DigitsDatasetReference(images, labels)
        def probe(images=images, labels=labels):
            ds = cls(images.copy(), labels.copy())
            return ds, len(ds), [(i, ds[i]) for i in (0, len(labels) - 1, len(labels) // 2)]

        probed, problem = attempt(name, probe, where=f"{len(labels)} images")
        if problem:
            return problem
        ds, n, items = probed
        if n != len(labels):
            hint = " (the number of pixels per image?)" if n == 64 else (" (the rows of one image?)" if n == 8 else "")
            return CheckResult(name, FAILED, (f"len(ds) is {n} for {len(labels)} images{hint}; "
                                             "__len__ must return the number of examples"))
        for i, item in items:
            problem = _item_problem(item, ref[i], i)
            if problem:
                return CheckResult(name, FAILED, f"for {len(labels)} images: {problem}")
        loader = torch.utils.data.DataLoader(ds, batch_size=4)
        try:
            xb, yb = next(iter(loader))
        except Exception as exc:
            return CheckResult(name, ERROR, f"a DataLoader over your dataset raised {type(exc).__name__}: {exc}")
        if tuple(xb.shape) != (min(4, n), 64) or tuple(yb.shape) != (min(4, n),):
            return CheckResult(name, FAILED, f"a DataLoader with batch_size=4 gave batches of shapes {tuple(xb.shape)} "
                                             f"and {tuple(yb.shape)}; expected ({min(4, n)}, 64) and ({min(4, n)},)")
    return CheckResult(name, PASSED, "all checks passed, including batching with a DataLoader")


# -------------------------------------------------------------------------------------------- one epoch


def train_epoch_reference(model, loader, loss_fn, optimizer):
    """One pass over ``loader``: forward, loss, zero_grad, backward, step for EVERY batch.

    Returns the epoch's mean loss per example: batch losses weighted by batch size (the last batch may be smaller).
    """
    model.train()
    total, count = 0.0, 0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        count += len(xb)
    return total / count


def _epoch_setup(seed, n, batch):
    torch = _torch()
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.3 + 0.1 * torch.randn(n, generator=g)
    model = torch.nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.randn(1, 3, generator=g))
        model.bias.zero_()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y.unsqueeze(1)), batch_size=batch)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, loader, torch.nn.MSELoss(), optimizer


def _params(model):
    return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.parameters()])


def _variant(kind, model, loader, loss_fn, optimizer):
    """The typical mistakes, run to recognise a reader's result."""
    total, count, last, means = 0.0, 0, None, []
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        if kind != "no_zero_grad":
            optimizer.zero_grad()
        loss.backward()
        if kind != "step_once":
            optimizer.step()
        last = loss.item()
        means.append(last)
        total += last * len(xb)
        count += len(xb)
    if kind == "step_once":
        optimizer.step()
    return {"last": last, "unweighted": float(np.mean(means))}


def check_train_epoch(fn) -> CheckResult:
    """Check ``fn(model, loader, loss_fn, optimizer)`` -> mean loss, training every batch once."""
    name = "one training epoch"
    for seed, n, batch in [(0, 10, 4), (1, 23, 5), (2, 8, 8)]:
        model, loader, loss_fn, opt = _epoch_setup(seed, n, batch)
        expected = train_epoch_reference(model, loader, loss_fn, opt)
        want = _params(model)
        model, loader, loss_fn, opt = _epoch_setup(seed, n, batch)
        start = _params(model)
        got, problem = attempt(name, fn, model, loader, loss_fn, opt, where=f"{n} examples in batches of {batch}")
        if problem:
            return problem
        have = _params(model)
        where = f"for {n} examples in batches of {batch}"
        if not np.allclose(have, want, rtol=1e-5, atol=1e-6):
            if np.allclose(have, start):
                return CheckResult(name, FAILED, f"{where}: the parameters did not change. "
                                                 "Hint: call optimizer.step() after loss.backward()")
            mistakes = [("step_once", "optimizer.step() ran once per epoch instead of once per batch: "
                                      "indent it into the loop over batches"),
                        ("no_zero_grad", "the gradients of earlier batches piled up: "
                                         "call optimizer.zero_grad() before every backward()")]
            for kind, hint in mistakes:
                m, ld, lf, o = _epoch_setup(seed, n, batch)
                _variant(kind, m, ld, lf, o)
                if np.allclose(have, _params(m), rtol=1e-5, atol=1e-6):
                    return CheckResult(name, FAILED, f"{where}: the trained parameters are wrong. Hint: {hint}")
            return CheckResult(name, FAILED, f"{where}: the trained parameters differ from one SGD step per batch")
        try:
            got = float(got)
        except (TypeError, ValueError):
            return CheckResult(name, FAILED, f"{where}: returned {type(got).__name__}; expected the mean loss as a number")
        if not np.isclose(got, expected, rtol=1e-5, atol=1e-7):
            m, ld, lf, o = _epoch_setup(seed, n, batch)
            wrong = _variant("plain", m, ld, lf, o)
            msg = f"{where}: the parameters are right but the returned loss is {got:.6g}, expected {expected:.6g}"
            if np.isclose(got, wrong["last"], rtol=1e-5):
                msg += (". Hint: that is the LAST batch's loss; add up loss.item() * len(xb) over the epoch "
                        "and divide by the number of examples")
            elif np.isclose(got, wrong["unweighted"], rtol=1e-5):
                msg += ". Hint: a plain mean of batch losses overweights the smaller last batch; weight each by its batch size"
            elif np.isclose(got, wrong["last"] / len(loader), rtol=1e-5):
                msg += ". Hint: the running total was overwritten (=) instead of added to (+=)"
            return CheckResult(name, FAILED, msg)
    return CheckResult(name, PASSED, "all 3 checks passed (parameters and mean loss)")
