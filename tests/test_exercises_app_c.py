"""The Appendix C checker: the reference passes, realistic wrong answers are rejected with the right hint."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_c import check_normalized_adjacency, normalized_adjacency_reference


def reader(A, *, loops=True, degree_of="A+I", power=-0.5, rows_only=False):
    """A reader's NumPy answer; the keyword arguments reproduce the usual slips."""
    n = len(A)
    M = A + np.eye(n) if loops else A.copy()
    d = (A + np.eye(n) if degree_of == "A+I" else A).sum(axis=1)
    if rows_only:
        return M / d[:, None]
    D = np.diag(d ** power)
    return D @ M @ D


def test_reference_passes():
    assert check_normalized_adjacency(normalized_adjacency_reference).status == PASSED
    assert check_normalized_adjacency(reader).passed
    assert check_normalized_adjacency(lambda A: torch.from_numpy(reader(A))).passed


def test_reference_matches_dense_formula():
    A = np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float)
    d = A.sum(1) + 1
    expected = np.diag(d ** -0.5) @ (A + np.eye(3)) @ np.diag(d ** -0.5)
    assert np.allclose(normalized_adjacency_reference(A), expected, atol=1e-14)


@pytest.mark.parametrize("kwargs, hint", [
    (dict(loops=False, degree_of="A"), "self-loops"),
    (dict(loops=False), "left out the identity"),
    (dict(degree_of="A"), "degrees must be those of A + I"),
    (dict(rows_only=True), "row normalisation"),
    (dict(power=-1.0), "take square roots"),
    (dict(power=0.5), "exponent is -1/2"),
])
def test_wrong_answers_get_the_right_hint(kwargs, hint):
    result = check_normalized_adjacency(lambda A: reader(A, **kwargs))
    assert result.status == FAILED
    assert hint in result.message, result.message


def test_stub_error_and_shape():
    def stub(A):
        raise NotImplementedError

    assert check_normalized_adjacency(stub).status == NOT_ATTEMPTED
    def broken(A):
        raise ValueError("oops")

    result = check_normalized_adjacency(broken)
    assert result.status == ERROR and "ValueError" in result.message
    result = check_normalized_adjacency(lambda A: reader(A)[:, :-1])
    assert result.status == FAILED and "shape" in result.message
    result = check_normalized_adjacency(lambda A: "not a matrix")
    assert result.status == FAILED
