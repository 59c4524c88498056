"""The Chapter 8 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np

from lessons_lib.data.splits import kfold
from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch08 import (
    check_kfold_indices,
    check_train_val_test_split,
    kfold_indices_reference,
    split_indices_reference,
)

# ------------------------------------------------------------------------------------------------ split


def test_split_reference_and_other_valid_solutions_pass():
    result = check_train_val_test_split(split_indices_reference)
    assert result.status == PASSED, result

    def floor_sizes_sorted_lists(n, fractions=(0.8, 0.1, 0.1), seed=0):  # int() instead of round(), lists, sorted parts
        order = np.random.default_rng(seed).permutation(n)
        a, b = int(fractions[0] * n), int(fractions[0] * n) + int(fractions[1] * n)
        return sorted(order[:a].tolist()), sorted(order[a:b].tolist()), sorted(order[b:].tolist())

    assert check_train_val_test_split(floor_sizes_sorted_lists).passed


def test_split_reference_agrees_with_lessons_lib_sizes():
    from lessons_lib.data.splits import split

    for n in (17, 100, 1797):
        s = split(np.arange(n), np.zeros(n), seed=0)
        assert [len(p) for p in split_indices_reference(n)] == [len(s.X_train), len(s.X_val), len(s.X_test)]


def test_split_crash_is_reported():
    result = check_train_val_test_split(lambda n, fractions, seed: np.random.default_rng(seed).permutation(n)[: fractions])
    assert result.status == ERROR and "TypeError" in result.message


def test_split_sampling_parts_independently_is_diagnosed():
    def with_choice(n, fractions=(0.8, 0.1, 0.1), seed=0):
        rng = np.random.default_rng(seed)
        sizes = [round(f * n) for f in fractions[:2]]
        train, val = rng.choice(n, sizes[0], replace=False), rng.choice(n, sizes[1], replace=False)
        return train, val, rng.choice(n, n - sum(sizes), replace=False)

    result = check_train_val_test_split(with_choice)
    assert result.status == FAILED
    assert "is in both the" in result.message and "draw one permutation" in result.message


def test_split_dropping_the_rest_is_diagnosed():
    def no_test(n, fractions=(0.8, 0.1, 0.1), seed=0):
        order = np.random.default_rng(seed).permutation(n)
        a, b = round(fractions[0] * n), round(fractions[1] * n)
        return order[:a], order[a : a + b], order[a + b : a + 2 * b]

    result = check_train_val_test_split(no_test)
    assert result.status == FAILED
    assert "are in no part" in result.message and "everything left" in result.message


def test_split_fractions_of_the_remainder_are_diagnosed():
    def of_remainder(n, fractions=(0.8, 0.1, 0.1), seed=0):
        order = np.random.default_rng(seed).permutation(n)
        a = round(fractions[0] * n)
        b = a + round(fractions[1] * (n - a))
        return order[:a], order[a:b], order[b:]

    result = check_train_val_test_split(of_remainder)
    assert result.status == FAILED
    assert "the validation part has 2 indices; expected about 0.1 x 100 = 10" in result.message
    assert "shares of the whole dataset" in result.message


def test_split_swapped_parts_are_diagnosed():
    def swapped(n, fractions=(0.8, 0.1, 0.1), seed=0):
        tr, va, te = split_indices_reference(n, fractions, seed)
        return tr, te, va

    result = check_train_val_test_split(swapped)
    assert result.status == FAILED and "swapped" in result.message


def test_split_without_shuffling_is_diagnosed():
    def in_order(n, fractions=(0.8, 0.1, 0.1), seed=0):
        order = np.arange(n)
        a, b = round(fractions[0] * n), round(fractions[1] * n)
        return order[:a], order[a : a + b], order[a + b :]

    result = check_train_val_test_split(in_order)
    assert result.status == FAILED and "not shuffled" in result.message


def test_split_global_random_state_is_diagnosed():
    def global_state(n, fractions=(0.8, 0.1, 0.1), seed=0):
        order = np.random.permutation(n)  # ignores the seed, changes from call to call
        a, b = round(fractions[0] * n), round(fractions[1] * n)
        return order[:a], order[a : a + b], order[a + b :]

    result = check_train_val_test_split(global_state)
    assert result.status == FAILED and "not reproducible" in result.message


def test_split_ignoring_the_seed_is_diagnosed():
    result = check_train_val_test_split(lambda n, fractions=(0.8, 0.1, 0.1), seed=0: split_indices_reference(n, fractions, 42))
    assert result.status == FAILED and "seeds 7 and 8 gave the same" in result.message


# ----------------------------------------------------------------------------------------------- k-fold


def test_kfold_reference_and_lessons_lib_pass():
    assert check_kfold_indices(kfold_indices_reference).status == PASSED
    assert check_kfold_indices(lambda n, k, seed=0: list(kfold(n, k, rng=np.random.default_rng(seed)))).passed


def test_kfold_training_on_the_validation_fold_is_diagnosed():
    def leaky(n, k, seed=0):
        order = np.random.default_rng(seed).permutation(n)
        return [(order, val) for val in np.array_split(order, k)]

    result = check_kfold_indices(leaky)
    assert result.status == FAILED
    assert "both a training and a validation index" in result.message and "leakage" in result.message


def test_kfold_dropping_the_remainder_is_diagnosed():
    def floor_folds(n, k, seed=0):
        order = np.random.default_rng(seed).permutation(n)
        size = n // k
        folds = [order[i * size : (i + 1) * size] for i in range(k)]
        return [(np.setdiff1d(order, v), v) for v in folds]

    result = check_kfold_indices(floor_folds)
    assert result.status == FAILED
    assert "in fold 0 the training part has 8 indices and the validation part 3" not in result.message
    assert "n = 10 is not a multiple of k = 3" in result.message


def test_kfold_remainder_in_the_last_fold_is_diagnosed():
    def last_takes_rest(n, k, seed=0):
        order = np.random.default_rng(seed).permutation(n)
        size = n // k
        folds = [order[i * size : (i + 1) * size] for i in range(k - 1)] + [order[(k - 1) * size :]]
        return [(np.setdiff1d(order, v), v) for v in folds]

    result = check_kfold_indices(last_takes_rest)
    assert result.status == FAILED
    assert "sizes must differ by at most one" in result.message and "np.array_split" in result.message


def test_kfold_wrong_fold_count_and_unshuffled_are_diagnosed():
    result = check_kfold_indices(lambda n, k, seed=0: kfold_indices_reference(n, k, seed)[:-1])
    assert result.status == FAILED and "expected k = 5 pairs" in result.message
    result = check_kfold_indices(lambda n, k, seed=0: list(kfold(n, k)))  # lessons_lib without rng: no shuffle
    assert result.status == FAILED and "not shuffled" in result.message


def test_kfold_global_state_and_ignored_seed_are_diagnosed():
    result = check_kfold_indices(lambda n, k, seed=0: list(kfold(n, k, rng=np.random.default_rng())))
    assert result.status == FAILED and "not reproducible" in result.message
    result = check_kfold_indices(lambda n, k, seed=0: kfold_indices_reference(n, k, 0))
    assert result.status == FAILED and "seeds 7 and 8 gave the same folds" in result.message
