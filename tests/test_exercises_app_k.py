"""The appendix K checker: the reference passes, realistic wrong answers are rejected with the right diagnosis."""

import math

import pytest
from scipy.stats import binomtest

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_k import CASES, check_accuracy_interval, wilson_interval_reference


@pytest.mark.parametrize("case", CASES)
def test_reference_equals_scipy(case):
    from scipy.stats import norm

    level = 2 * norm.cdf(case["z"]) - 1
    ci = binomtest(case["correct"], case["n"]).proportion_ci(confidence_level=level, method="wilson")
    assert wilson_interval_reference(**case) == pytest.approx((ci.low, ci.high), abs=1e-9)


def reader(correct, n, z=1.96):
    p = correct / n
    denominator = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    return centre - half, centre + half


def test_correct_answers_pass():
    assert check_accuracy_interval(wilson_interval_reference).status == PASSED
    assert check_accuracy_interval(reader).passed
    assert check_accuracy_interval(lambda correct, n, z=1.96: list(reader(correct, n, z))).passed


def wald(correct, n, z=1.96):
    p = correct / n
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def test_wald_is_diagnosed():
    result = check_accuracy_interval(wald)
    assert result.status == FAILED and "Wald interval p +- z" in result.message


def test_clipped_wald_is_diagnosed():
    def clipped(correct, n, z=1.96):
        low, high = wald(correct, n, z)
        return max(low, 0.0), min(high, 1.0)

    result = check_accuracy_interval(clipped)
    assert result.status == FAILED and "clipped to [0, 1]" in result.message


def test_fixed_z_is_diagnosed():
    result = check_accuracy_interval(lambda correct, n, z=1.96: reader(correct, n))
    assert result.status == FAILED and "z = 2.576" in result.message and "z = 9" not in result.message


def test_centre_and_half_width_is_diagnosed():
    def centre_half(correct, n, z=1.96):
        low, high = reader(correct, n, z)
        return (low + high) / 2, (high - low) / 2

    result = check_accuracy_interval(centre_half)
    assert result.status == FAILED and "(low, high)" in result.message


def test_n_minus_one_is_diagnosed():
    def n1(correct, n, z=1.96):
        p, m = correct / n, n - 1
        d = 1 + z**2 / m
        c, h = (p + z**2 / (2 * m)) / d, z * math.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / d
        return c - h, c + h

    result = check_accuracy_interval(n1)
    assert result.status == FAILED and "n - 1" in result.message


def test_stub_crash_and_shape():
    def stub(correct, n, z=1.96):
        raise NotImplementedError

    assert check_accuracy_interval(stub).status == NOT_ATTEMPTED
    result = check_accuracy_interval(lambda correct, n, z=1.96: 1 / 0)
    assert result.status == ERROR and "ZeroDivisionError" in result.message and "n = 10" in result.message
    result = check_accuracy_interval(lambda correct, n, z=1.96: correct / n)
    assert result.status == FAILED and "pair of numbers" in result.message
