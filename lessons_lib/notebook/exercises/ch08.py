"""Checkers for the exercises of Chapter 8 (data splits, validation, testing).

- :func:`check_train_val_test_split`: a shuffled, seeded train/validation/test split of ``range(n)``;
- :func:`check_kfold_indices`: the (train, validation) index pairs of k-fold cross-validation.

Any valid split passes, not only the reference's: the checkers test the properties a split must have
(right sizes, disjoint parts that cover every index, shuffled, reproducible from the seed) and name the
first one that fails. The reference solutions are :func:`split_indices_reference` and
:func:`kfold_indices_reference`.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, compare

__all__ = [
    "check_kfold_indices",
    "check_train_val_test_split",
    "kfold_indices_reference",
    "split_indices_reference",
]

PART_NAMES = ("train", "validation", "test")


def split_indices_reference(n, fractions=(0.8, 0.1, 0.1), seed=0):
    """Shuffle ``range(n)`` with a generator seeded by ``seed`` and cut it into (train, val, test) index arrays."""
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_val = round(fractions[0] * n), round(fractions[1] * n)
    return order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]


def kfold_indices_reference(n, k, seed=0):
    """A list of k pairs (train_idx, val_idx): shuffle ``range(n)``, cut it into k folds of near-equal size."""
    order = np.random.default_rng(seed).permutation(n)
    folds = np.array_split(order, k)
    return [(np.setdiff1d(order, val), val) for val in folds]


# ------------------------------------------------------------------------------------------- helpers


def _as_index_array(part, label: str, n: int):
    """(indices, problem): a 1-D int array of ``part``, or a description of why it is not one."""
    try:
        arr = np.asarray(part)
    except Exception:  # noqa: BLE001 - any object the reader returns
        return None, f"the {label} part is {type(part).__name__}; expected an array of indices"
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        return None, f"the {label} part has shape {arr.shape} and dtype {arr.dtype}; expected a 1-D array of integer indices"
    arr = arr.astype(np.int64)
    outside = arr[(arr < 0) | (arr >= n)]
    if outside.size:
        return None, f"the {label} part holds index {outside[0]}, outside range(0, {n})"
    values, counts = np.unique(arr, return_counts=True)
    if (counts > 1).any():
        return None, f"the {label} part holds index {values[counts > 1][0]} {counts.max()} times"
    return arr, None


def _parts_problem(parts: list[np.ndarray], labels: list[str], n: int) -> str | None:
    """Disjoint and covering ``range(n)``; None when both hold."""
    owner = {}
    for label, part in zip(labels, parts):
        for i in part.tolist():
            if i in owner:
                return f"index {i} is in both the {owner[i]} and the {label} part"
            owner[i] = label
    left_out = sorted(set(range(n)) - set(owner))
    if left_out:
        return f"{len(left_out)} of the {n} indices are in no part (e.g. {left_out[:5]}); the parts must cover range(0, {n})"
    return None


# --------------------------------------------------------------------------------- train/val/test split


def _split_spec(n, fractions=(0.8, 0.1, 0.1), seed=0):
    return {"n": n, "fractions": tuple(fractions)}


def _split_problem(got, expected) -> str | None:
    n, fractions = expected["n"], expected["fractions"]
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return f"got {type(got).__name__}; expected a tuple (train_idx, val_idx, test_idx) of three index arrays"
    parts = []
    for label, part in zip(PART_NAMES, got):
        arr, problem = _as_index_array(part, label, n)
        if problem:
            return problem
        parts.append(arr)
    problem = _parts_problem(parts, list(PART_NAMES), n)
    if problem:
        return problem
    for label, part, f, slack in zip(PART_NAMES, parts, fractions, (1, 1, 2)):  # the test part takes what is left
        if abs(len(part) - f * n) >= slack:
            return f"the {label} part has {len(part)} indices; expected about {f} x {n} = {f * n:g}"
    return None


def _split_hint(case, got, expected):
    n, fractions = expected["n"], expected["fractions"]
    try:
        parts = [np.asarray(p).astype(np.int64).ravel() for p in got]
    except Exception:  # noqa: BLE001
        return "return three arrays of integer indices, e.g. `return order[:a], order[a:b], order[b:]`"
    if len(parts) != 3:
        return None
    all_idx = np.concatenate(parts)
    if len(np.unique(all_idx)) < len(all_idx):
        return ("an index was drawn twice: sampling each part separately (rng.choice, rng.integers) can repeat indices; "
                "draw one permutation, order = rng.permutation(n), and cut it into three consecutive pieces")
    if len(all_idx) < n:
        return "the test part is everything left after the train and validation parts: order[n_train + n_val:]"
    n_train = len(parts[0])
    if abs(len(parts[1]) - fractions[1] * (n - n_train)) < 1 <= abs(len(parts[1]) - fractions[1] * n):
        return "the fractions are shares of the whole dataset, not of what is left after the training part"
    if abs(len(parts[1]) - fractions[2] * n) < 1 and abs(len(parts[2]) - fractions[1] * n) < 1:
        return "the validation and test parts are swapped: return (train, validation, test) in that order"
    return None


def check_train_val_test_split(fn) -> CheckResult:
    """Check ``fn(n, fractions, seed)`` -> (train_idx, val_idx, test_idx), a shuffled split of ``range(n)``.

    The parts must be disjoint, cover every index, have the sizes ``fraction * n`` rounded either way (the
    test part takes what is left, so it may be off by two), be shuffled,
    be the same for the same seed and differ between seeds.
    """
    name = "train/validation/test split"
    cases = [
        {"n": 100, "fractions": (0.8, 0.1, 0.1), "seed": 0},
        {"n": 17, "fractions": (0.8, 0.1, 0.1), "seed": 1},
        {"n": 1797, "fractions": (0.8, 0.1, 0.1), "seed": 2},
        {"n": 50, "fractions": (0.6, 0.3, 0.1), "seed": 3},
        {"n": 10, "fractions": (0.5, 0.5, 0.0), "seed": 4},
        {"n": 5, "fractions": (1.0, 0.0, 0.0), "seed": 5},
        {"n": 3, "fractions": (0.8, 0.1, 0.1), "seed": 6},
    ]
    result = compare(fn, _split_spec, cases, name=name, compare_fn=_split_problem, hints=[_split_hint])
    if not result.passed:
        return result
    first, problem = attempt(name, fn, n=100, fractions=(0.8, 0.1, 0.1), seed=7,
                             where="n = 100, fractions = (0.8, 0.1, 0.1), seed = 7")
    again, problem = (None, problem) if problem else attempt(name, fn, n=100, fractions=(0.8, 0.1, 0.1), seed=7)
    other, problem = (None, problem) if problem else attempt(name, fn, n=100, fractions=(0.8, 0.1, 0.1), seed=8)
    if problem:
        return problem
    train = np.sort(np.asarray(first[0]))
    if np.array_equal(train, np.arange(80)):
        return CheckResult(name, FAILED, "for n = 100 the train part is exactly indices 0..79: the data was not shuffled. "
                           "Hint: datasets are often stored sorted (by class, by date); shuffle with "
                           "rng.permutation(n) before cutting")
    if any(not np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, again)):
        return CheckResult(name, FAILED, "two calls with seed = 7 gave different splits: the split is not reproducible. "
                           "Hint: make a generator from the seed, rng = np.random.default_rng(seed), rather than "
                           "using np.random's global state")
    if np.array_equal(train, np.sort(np.asarray(other[0]))):
        return CheckResult(name, FAILED, "seeds 7 and 8 gave the same training part: the seed does not drive the "
                           "shuffle. Hint: rng = np.random.default_rng(seed)")
    return CheckResult(name, PASSED, f"all {len(cases)} splits are valid, shuffled, reproducible and seed-dependent")


# ------------------------------------------------------------------------------------------------ k-fold


def _kfold_spec(n, k, seed=0):
    return {"n": n, "k": k}


def _kfold_problem(got, expected) -> str | None:
    n, k = expected["n"], expected["k"]
    try:
        folds = list(got)
    except TypeError:
        return f"got {type(got).__name__}; expected a list of k = {k} pairs (train_idx, val_idx)"
    if len(folds) != k:
        return f"got {len(folds)} folds; expected k = {k} pairs (train_idx, val_idx)"
    vals = []
    for i, fold in enumerate(folds):
        if not isinstance(fold, (tuple, list)) or len(fold) != 2:
            return f"fold {i} is {type(fold).__name__}; expected a pair (train_idx, val_idx)"
        train, problem = _as_index_array(fold[0], f"fold {i} train", n)
        if problem:
            return problem
        val, problem = _as_index_array(fold[1], f"fold {i} validation", n)
        if problem:
            return problem
        overlap = np.intersect1d(train, val)
        if overlap.size:
            return f"in fold {i}, index {overlap[0]} is both a training and a validation index"
        if len(train) + len(val) != n:
            return (f"in fold {i} the training part has {len(train)} indices and the validation part {len(val)}; "
                    f"together they must be all {n}")
        vals.append(val)
    problem = _parts_problem(vals, [f"fold {i} validation" for i in range(k)], n)
    if problem:
        return problem
    sizes = sorted(len(v) for v in vals)
    if sizes[-1] - sizes[0] > 1:
        return f"the validation folds have sizes {[len(v) for v in vals]}; sizes must differ by at most one"
    return None


def _kfold_hint(case, got, expected):
    n, k = expected["n"], expected["k"]
    try:
        folds = [(np.asarray(t).astype(np.int64).ravel(), np.asarray(v).astype(np.int64).ravel()) for t, v in got]
    except Exception:  # noqa: BLE001
        return "return a list like [(train_idx, val_idx), ...], one pair per fold"
    if len(folds) != k:
        return "make exactly k folds: np.array_split(order, k) cuts an array into k near-equal pieces"
    if any(len(t) == n for t, _ in folds):
        return ("the training indices of a fold must leave out its validation fold; training on the samples you "
                "validate on is leakage and makes the score look better than it is")
    sizes = [len(v) for _, v in folds]
    if n % k and all(s == n // k for s in sizes):
        return (f"n = {n} is not a multiple of k = {k}: np.array_split(order, k) hands the {n % k} remaining samples "
                "to the first folds instead of dropping them")
    if max(sizes) - min(sizes) > 1:
        return "np.array_split(order, k) spreads the remainder so that fold sizes differ by at most one"
    return None


def check_kfold_indices(fn) -> CheckResult:
    """Check ``fn(n, k, seed)`` -> [(train_idx, val_idx), ...]: k-fold cross-validation over ``range(n)``.

    Every index must be validated exactly once, each fold's training part must be every other index, fold
    sizes must differ by at most one, and the folds must be shuffled and reproducible from the seed.
    """
    name = "k-fold indices"
    cases = [
        {"n": 10, "k": 5, "seed": 0},
        {"n": 10, "k": 3, "seed": 1},
        {"n": 13, "k": 4, "seed": 2},
        {"n": 10, "k": 4, "seed": 6},
        {"n": 100, "k": 5, "seed": 3},
        {"n": 7, "k": 7, "seed": 4},  # leave-one-out
        {"n": 2, "k": 2, "seed": 5},
    ]
    result = compare(fn, _kfold_spec, cases, name=name, compare_fn=_kfold_problem, hints=[_kfold_hint])
    if not result.passed:
        return result
    first, problem = attempt(name, fn, n=100, k=4, seed=7, where="n = 100, k = 4, seed = 7")
    again, problem = (None, problem) if problem else attempt(name, fn, n=100, k=4, seed=7)
    other, problem = (None, problem) if problem else attempt(name, fn, n=100, k=4, seed=8)
    if problem:
        return problem
    val0 = [np.sort(np.asarray(v)) for _, v in first]
    if any(np.array_equal(v, np.arange(25 * i, 25 * (i + 1))) for i, v in enumerate(val0)):
        return CheckResult(name, FAILED, "for n = 100, k = 4 the validation folds are consecutive blocks of indices: the "
                           "data was not shuffled. Hint: shuffle with rng.permutation(n) first, since datasets are "
                           "often sorted by class or date")
    if any(not np.array_equal(np.sort(np.asarray(v)), w) for (_, v), w in zip(again, val0)):
        return CheckResult(name, FAILED, "two calls with seed = 7 gave different folds: not reproducible. Hint: "
                           "rng = np.random.default_rng(seed)")
    if all(np.array_equal(np.sort(np.asarray(v)), w) for (_, v), w in zip(other, val0)):
        return CheckResult(name, FAILED, "seeds 7 and 8 gave the same folds: the seed does not drive the shuffle. "
                           "Hint: rng = np.random.default_rng(seed)")
    return CheckResult(name, PASSED, f"all {len(cases)} fold sets are valid, shuffled, reproducible and seed-dependent")
