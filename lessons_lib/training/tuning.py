"""Hyperparameter search: grid search, random search and k-fold cross-validation (Chapter 16).

A *space* maps each hyperparameter's name to its candidates:

- for :func:`grid`, a list of values; the grid is their Cartesian product;
- for :func:`random_configs`, a *sampler*: :func:`uniform`, :func:`log_uniform`, :func:`int_uniform`
  or :func:`choice`, each a small object that draws one value from a ``numpy`` generator.

A *train_eval_fn* is any function ``train_eval_fn(config, X_train, y_train, X_val, y_val) -> score``
that trains a fresh model with the hyperparameters in ``config`` and returns its validation score,
higher is better (return ``-loss`` for a loss). :func:`cross_validate` runs it on each of k folds;
:func:`search` does that for a list of configurations, on the same folds for all, and ranks them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lessons_lib.data.splits import kfold
from lessons_lib.validate import number

__all__ = [
    "CVScore",
    "Trial",
    "choice",
    "cross_validate",
    "grid",
    "int_uniform",
    "log_uniform",
    "random_configs",
    "search",
    "uniform",
]


# --------------------------------------------------------------------------------------------- grid


def grid(space: dict[str, Sequence]) -> list[dict]:
    """Every combination of the candidate values: the Cartesian product of the lists in ``space``.

    ``grid({"lr": [0.1, 0.01], "batch": [16, 64, 256]})`` has 2 x 3 = 6 configurations; the last
    name varies fastest.
    """
    _check_space("grid", space)
    for name, values in space.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ValueError(f"grid: the candidates for {name!r} are {values!r}; expected a list of values")
        if len(values) == 0:
            raise ValueError(f"grid: the candidate list for {name!r} is empty, so the grid would be empty")
    names = list(space)
    return [dict(zip(names, combo)) for combo in itertools.product(*(space[k] for k in names))]


# ----------------------------------------------------------------------------------------- samplers


def _check_range(kind: str, lo, hi) -> tuple[float, float]:
    lo, hi = float(number(kind, "lo", lo)), float(number(kind, "hi", hi))
    if lo >= hi:
        raise ValueError(f"{kind}: the range [{lo:g}, {hi:g}] is empty; expected lo < hi")
    return lo, hi


@dataclass(frozen=True)
class uniform:  # noqa: N801 - used like a function: uniform(0, 1)
    """A float drawn uniformly from [lo, hi)."""

    lo: float
    hi: float

    def __post_init__(self):
        lo, hi = _check_range("uniform", self.lo, self.hi)
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    def __call__(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.lo, self.hi))


@dataclass(frozen=True)
class log_uniform:  # noqa: N801
    """A float whose logarithm is uniform: every factor of 10 in [lo, hi) is equally likely.

    Used for scale-like hyperparameters (learning rate, weight decay): 1e-4..1e-3 gets as many draws
    as 1e-2..1e-1, where a plain uniform draw would put 90 % of them above 1e-2 on [1e-4, 1e-1].
    """

    lo: float
    hi: float

    def __post_init__(self):
        lo, hi = _check_range("log_uniform", self.lo, self.hi)
        if lo <= 0:
            raise ValueError(f"log_uniform: lo is {lo}; a logarithmic range needs 0 < lo < hi")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    def __call__(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.lo), math.log(self.hi))))


@dataclass(frozen=True)
class int_uniform:  # noqa: N801
    """An integer drawn uniformly from lo, lo + 1, ..., hi (both ends included, like Optuna's suggest_int)."""

    lo: int
    hi: int

    def __post_init__(self):
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (self.lo, self.hi)):
            raise ValueError(f"int_uniform: lo and hi must be integers, got {self.lo!r} and {self.hi!r}")
        if self.lo >= self.hi:
            raise ValueError(f"int_uniform: the range [{self.lo}, {self.hi}] needs lo < hi")

    def __call__(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.lo, self.hi, endpoint=True))


@dataclass(frozen=True)
class choice:  # noqa: N801
    """One of the given options, each equally likely."""

    options: tuple

    def __init__(self, options):
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence) or len(options) == 0:
            raise ValueError(f"choice: options is {options!r}; expected a non-empty list")
        object.__setattr__(self, "options", tuple(options))

    def __call__(self, rng: np.random.Generator):
        return self.options[int(rng.integers(len(self.options)))]


def random_configs(space: dict[str, Callable], n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` configurations, each hyperparameter drawn independently by its sampler from ``rng``."""
    _check_space("random_configs", space)
    for name, sampler in space.items():
        if not callable(sampler):
            raise ValueError(
                f"random_configs: {name!r} maps to {sampler!r}; expected a sampler such as "
                "log_uniform(1e-4, 1e-1), uniform(0, 1), int_uniform(16, 128) or choice([...])"
            )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"random_configs: n is {n!r}; expected a positive integer")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("random_configs: rng must be a numpy Generator, e.g. np.random.default_rng(0)")
    return [{name: sampler(rng) for name, sampler in space.items()} for _ in range(n)]


def _check_space(fn: str, space) -> None:
    if not isinstance(space, dict):
        raise ValueError(f"{fn}: space is {type(space).__name__}; expected a dict from names to candidates")
    if not space:
        raise ValueError(f"{fn}: the search space is empty; give at least one hyperparameter")


# ---------------------------------------------------------------------------------- cross-validation


class CVScore(NamedTuple):
    """Mean and (population, ddof=0) standard deviation of the k fold scores, and the scores themselves."""

    mean: float
    std: float
    scores: list[float]


class Trial(NamedTuple):
    """One configuration of a :func:`search` with its cross-validated score."""

    config: dict
    mean: float
    std: float
    scores: list[float]


def _folds(X, y, k, rng, fn: str) -> list[tuple[np.ndarray, np.ndarray]]:
    n = len(X)
    if len(y) != n:
        raise ValueError(f"{fn}: X has {n} rows but y has {len(y)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ValueError(f"{fn}: k is {k!r}; expected an integer between 2 and the number of samples ({n})")
    return list(kfold(n, k, rng=rng))


def _score(train_eval_fn, X, y, config, folds) -> CVScore:
    scores = []
    for train_idx, val_idx in folds:
        score = float(train_eval_fn(config, X[train_idx], y[train_idx], X[val_idx], y[val_idx]))
        scores.append(score)
    arr = np.array(scores)
    return CVScore(float(arr.mean()), float(arr.std()), scores)


def cross_validate(train_eval_fn: Callable, X, y, config: dict, k: int = 5,
                   rng: np.random.Generator | None = None) -> CVScore:
    """k-fold cross-validation of one configuration: train on k - 1 folds, score on the held-out one, k times.

    The folds come from :func:`lessons_lib.data.splits.kfold` (shuffled by ``rng`` when given). Returns a
    :class:`CVScore` (mean, std, scores). A diverged run may return nan; the mean is then nan too.
    """
    folds = _folds(X, y, k, rng, "cross_validate")
    return _score(train_eval_fn, X, y, config, folds)


def search(train_eval_fn: Callable, configs: Sequence[dict], X, y, k: int = 5,
           rng: np.random.Generator | None = None) -> list[Trial]:
    """Cross-validate every configuration on the *same* k folds; return the trials sorted best first.

    Sorting is by mean score, highest first; ties keep the input order, and a non-finite mean (a
    diverged run) goes last. Works for any list of configurations: ``grid(...)``, ``random_configs(...)``.
    """
    configs = list(configs)
    if not configs:
        raise ValueError("search: the list of configurations is empty")
    folds = _folds(X, y, k, rng, "search")  # one split for all: the comparison is then paired
    trials = [Trial(dict(c), *_score(train_eval_fn, X, y, c, folds)) for c in configs]
    return sorted(trials, key=lambda t: -t.mean if math.isfinite(t.mean) else math.inf)

