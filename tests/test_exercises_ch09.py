"""The Chapter 9 checker: the reference passes, realistic wrong answers are rejected with the right diagnosis."""

import itertools

import pytest
import torch

from lessons_lib.notebook.checking import FAILED, PASSED
from lessons_lib.notebook.exercises.ch09 import _BROADCAST_CASES, broadcast_shape_reference, check_broadcast_shape


def test_reference_passes_and_agrees_with_torch():
    assert check_broadcast_shape(broadcast_shape_reference).passed
    n_errors = 0
    for case in _BROADCAST_CASES:
        try:
            expected = tuple(torch.broadcast_shapes(case["shape_a"], case["shape_b"]))
        except RuntimeError:
            n_errors += 1
            with pytest.raises(ValueError):
                broadcast_shape_reference(**case)
            continue
        assert broadcast_shape_reference(**case) == expected
    assert 5 <= n_errors < len(_BROADCAST_CASES) - 5  # both outcomes are exercised


def test_a_list_or_torch_size_answer_is_accepted():
    as_list = check_broadcast_shape(lambda shape_a, shape_b: list(broadcast_shape_reference(shape_a, shape_b)))
    assert as_list.status == PASSED, as_list

    def via_torch(shape_a, shape_b):
        try:
            return torch.broadcast_shapes(shape_a, shape_b)  # a torch.Size is a tuple
        except RuntimeError as exc:
            raise ValueError(str(exc)) from None

    assert check_broadcast_shape(via_torch).status == PASSED


def _pad(a, b, left=True):
    n = max(len(a), len(b))
    if left:
        return (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(a) + (1,) * (n - len(a)), tuple(b) + (1,) * (n - len(b))


def no_compatibility_check(shape_a, shape_b):
    a, b = _pad(shape_a, shape_b)
    return tuple(max(p, q) for p, q in zip(a, b))


def aligned_on_the_left(shape_a, shape_b):
    a, b = _pad(shape_a, shape_b, left=False)
    if any(p != q and 1 not in (p, q) for p, q in zip(a, b)):
        raise ValueError("incompatible")
    return tuple(q if p == 1 else p for p, q in zip(a, b))


def max_of_sizes(shape_a, shape_b):
    a, b = _pad(shape_a, shape_b)
    if any(p != q and 1 not in (p, q) for p, q in zip(a, b)):
        raise ValueError("incompatible")
    return tuple(max(p, q) for p, q in zip(a, b))  # wrong when one size is 0 and the other 1


def zip_without_padding(shape_a, shape_b):
    out = []
    for p, q in zip(reversed(shape_a), reversed(shape_b)):  # drops the extra leading dims
        if p != q and 1 not in (p, q):
            raise ValueError("incompatible")
        out.append(q if p == 1 else p)
    return tuple(reversed(out))


def wrong_exception(shape_a, shape_b):
    return tuple(torch.broadcast_shapes(shape_a, shape_b))  # RuntimeError on incompatible shapes


@pytest.mark.parametrize(
    "wrong, status, diagnosis",
    [
        (no_compatibility_check, FAILED, "must be equal or one of them must be 1"),
        (aligned_on_the_left, FAILED, "LAST dimension"),
        (max_of_sizes, FAILED, "even when that size is 0"),
        (zip_without_padding, FAILED, "as many dimensions as the longer shape"),
        (wrong_exception, FAILED, "raise ValueError"),
        (lambda shape_a, shape_b: str(tuple(itertools.chain(shape_a))), FAILED, "expected a tuple of ints"),
    ],
)
def test_mistakes_are_diagnosed(wrong, status, diagnosis):
    result = check_broadcast_shape(wrong)
    assert result.status == status, result
    assert diagnosis in result.message, result.message
