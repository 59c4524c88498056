"""The Chapter 16 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import itertools

import numpy as np

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch16 import check_grid, check_log_uniform, grid_reference, log_uniform_reference
from lessons_lib.training.tuning import grid, log_uniform

# ------------------------------------------------------------------------------------------ log-uniform


def test_log_uniform_reference_and_other_valid_solutions_pass():
    assert check_log_uniform(log_uniform_reference).status == PASSED

    def base10(lo, hi, n, rng):
        return 10 ** rng.uniform(np.log10(lo), np.log10(hi), size=n)

    def with_library(lo, hi, n, rng):
        sampler = log_uniform(lo, hi)
        return [sampler(rng) for _ in range(n)]

    assert check_log_uniform(base10).passed
    assert check_log_uniform(with_library).passed


def test_log_uniform_crash_is_reported():
    result = check_log_uniform(lambda lo, hi, n, rng: rng.uniform(lo, hi, size=n)[None] + "x")
    assert result.status == ERROR


def test_log_uniform_plain_uniform_is_diagnosed():
    result = check_log_uniform(lambda lo, hi, n, rng: rng.uniform(lo, hi, size=n))
    assert result.status == FAILED
    assert "not uniform" in result.message and "uniform in the number itself" in result.message


def test_log_uniform_exponents_and_mixed_bases_are_diagnosed():
    result = check_log_uniform(lambda lo, hi, n, rng: 10 ** rng.uniform(lo, hi, size=n))
    assert result.status == FAILED and "not their exponents" in result.message
    result = check_log_uniform(lambda lo, hi, n, rng: np.exp(rng.uniform(np.log10(lo), np.log10(hi), size=n)))
    assert result.status == FAILED and "same base" in result.message


def test_log_uniform_ignoring_the_rng_is_diagnosed():
    def global_state(lo, hi, n, rng):
        return np.exp(np.random.default_rng().uniform(np.log(lo), np.log(hi), size=n))

    result = check_log_uniform(global_state)
    assert result.status == FAILED and "rng argument" in result.message


def test_log_uniform_wrong_count():
    result = check_log_uniform(lambda lo, hi, n, rng: log_uniform_reference(lo, hi, n - 1, rng))
    assert result.status == FAILED and "size=n" in result.message


# ------------------------------------------------------------------------------------------------ grid


def test_grid_reference_library_and_reordered_solutions_pass():
    assert check_grid(grid_reference).status == PASSED
    assert check_grid(grid).passed

    def first_name_fastest(space):
        names = list(space)[::-1]
        return [dict(zip(names, c)) for c in itertools.product(*(space[k] for k in names))]

    assert check_grid(first_name_fastest).passed


def test_grid_crash_is_reported():
    assert check_grid(lambda space: space["missing"]).status == ERROR


def test_grid_with_zip_is_diagnosed():
    def zipped(space):
        names = list(space)
        return [dict(zip(names, vals)) for vals in zip(*space.values())]

    result = check_grid(zipped)
    assert result.status == FAILED and "zip pairs" in result.message


def test_grid_one_at_a_time_is_diagnosed():
    def one_at_a_time(space):
        base = {k: v[0] for k, v in space.items()}
        out = [dict(base)]
        for k, values in space.items():
            for v in values[1:]:
                out.append({**base, k: v})
        return out

    result = check_grid(one_at_a_time)
    assert result.status == FAILED and "one hyperparameter at a time" in result.message


def test_grid_tuples_instead_of_dicts_and_duplicates_are_diagnosed():
    result = check_grid(lambda space: list(itertools.product(*space.values())))
    assert result.status == FAILED and "one dict per configuration" in result.message

    def duplicate(space):
        g = grid_reference(space)
        return g[:-1] + g[:1] if len(g) > 1 else g

    result = check_grid(duplicate)
    assert result.status == FAILED and "appears twice" in result.message
