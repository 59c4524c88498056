"""Seeded train/validation/test splits, mini-batch index streams, k-fold cross-validation indices, and random
windows of a token stream for language models (:func:`lm_batch`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lessons_lib.validate import integer


class Split(NamedTuple):
    """Train, validation and test parts of a dataset."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


# ----------------------------------------------------------------------------------------------- split


def split(X, y, fractions=(0.8, 0.1, 0.1), seed: int = 0, stratify: bool = False) -> Split:
    """Shuffle with a seeded generator and cut into train, validation and test parts (80/10/10 default).

    ``stratify=True`` keeps the class proportions of ``y`` in every part (classification only).
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"split: X has {len(X)} rows but y has {len(y)}")
    f = np.asarray(fractions, dtype=float)
    if f.shape != (3,) or (f < 0).any() or f[0] == 0 or not np.isclose(f.sum(), 1.0):
        raise ValueError(
            f"split: fractions is {tuple(fractions)!r}; expected three non-negative numbers "
            "(train, validation, test) with train > 0, summing to 1"
        )
    rng = np.random.default_rng(seed)
    if stratify:
        parts = [[], [], []]
        for label in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == label))
            for part, chunk in zip(parts, _cut(idx, f)):
                part.append(chunk)
        train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    else:
        train, val, test = _cut(rng.permutation(len(X)), f)
    for part, frac, name in zip((train, val, test), f, ("train", "validation", "test")):
        if frac > 0 and len(part) == 0:
            raise ValueError(f"split: {len(X)} samples leave the {name} part empty; use more data or a larger fraction")
    return Split(X[train], y[train], X[val], y[val], X[test], y[test])


def _cut(idx: np.ndarray, f: np.ndarray):
    n = len(idx)
    n_train = int(round(f[0] * n))
    n_val = int(round(f[1] * n))
    n_val = min(n_val, n - n_train)
    return idx[:n_train], idx[n_train : n_train + n_val], idx[n_train + n_val :]


def batches(n: int, batch_size: int, *, rng: np.random.Generator | None = None, drop_last: bool = False):
    """Yield index arrays that cover ``range(n)`` in mini-batches of ``batch_size``.

    With ``rng`` the order is shuffled by that generator (a new permutation on every call, i.e. every
    epoch); without it the order is 0..n-1. The last batch is smaller when ``batch_size`` does not
    divide ``n``, unless ``drop_last``. So an epoch has ceil(n / batch_size) iterations: 10,000 samples
    in batches of 100 give 100 iterations.
    """
    n = integer("batches", "n", n, minimum=1)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batches: batch_size is {batch_size!r}; expected a positive integer")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def kfold(n: int, k: int = 5, *, rng: np.random.Generator | None = None):
    """Yield ``(train_idx, val_idx)`` for k-fold cross-validation over ``range(n)``.

    Every index is in exactly one validation fold; fold sizes differ by at most one. ``rng`` shuffles
    the indices first (recommended unless the data order is already random).
    """
    n = integer("kfold", "n", n, minimum=1)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ValueError(f"kfold: k is {k!r}; expected an integer between 2 and n = {n}")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for val in np.array_split(order, k):
        yield np.setdiff1d(order, val, assume_unique=True), val


def lm_batch(ids, context: int, batch_size: int, generator=None):
    """A random batch of language-model windows from one long stream of token ids.

    ``ids`` is a 1-D torch tensor of token ids (length n > context). Returns ``(x, y)``, two (batch_size, context)
    long tensors on ``ids``'s device: row b of ``x`` is ``ids[s_b : s_b + context]`` for a start ``s_b`` drawn
    uniformly from ``0 .. n - context - 1`` by the CPU ``torch.Generator`` ``generator``, and ``y`` is the same
    window shifted by one token, ``ids[s_b + 1 : s_b + context + 1]``: the next token at every position.
    """
    import torch

    fn = "lm_batch"
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1:
        shape = tuple(ids.shape) if hasattr(ids, "shape") else type(ids).__name__
        raise ValueError(f"{fn}: ids has shape {shape}; expected a 1-D torch tensor of token ids")
    context = integer(fn, "context", context, minimum=1)
    batch_size = integer(fn, "batch_size", batch_size, minimum=1)
    if len(ids) <= context:
        raise ValueError(f"{fn}: ids has {len(ids)} tokens; a window of context = {context} needs at least {context + 1}")
    starts = torch.randint(len(ids) - context, (batch_size,), generator=generator)      # (B,)
    window = starts[:, None] + torch.arange(context + 1)                                 # (B, context + 1) positions
    chunk = ids[window.to(ids.device)].long()                                            # (B, context + 1) ids
    return chunk[:, :-1], chunk[:, 1:]
