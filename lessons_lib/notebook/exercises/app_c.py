"""Checkers for the exercises of Appendix C (graph neural networks).

- :func:`check_normalized_adjacency`: ``Â = D^-1/2 (A + I) D^-1/2`` in NumPy from an (N, N) adjacency matrix, with D
  the degrees of ``A + I``.

The reference is :func:`lessons_lib.models.graph.normalized_adjacency`. The hints recognise the usual slips by
recomputing them: no self-loops, the degrees of ``A`` instead of ``A + I``, row normalisation ``D^-1 (A + I)``,
``D^-1 (A + I) D^-1`` (the square roots forgotten) and ``D^1/2`` instead of ``D^-1/2``.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.models.graph import normalized_adjacency
from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, same_values

__all__ = ["check_normalized_adjacency", "normalized_adjacency_reference"]


def normalized_adjacency_reference(A):
    """``D^-1/2 (A + I) D^-1/2`` as a float64 NumPy array."""
    return normalized_adjacency(np.asarray(A, dtype=np.float64))


def _variant(A, *, loops=True, degree_of="A+I", left=-0.5, right=-0.5):
    A = np.asarray(A, dtype=np.float64)
    M = A + np.eye(len(A)) if loops else A
    d = (A + np.eye(len(A)) if degree_of == "A+I" else A).sum(axis=1)
    with np.errstate(divide="ignore"):
        dl = np.where(d > 0, d, 1.0) ** left
        dr = np.where(d > 0, d, 1.0) ** right
    return dl[:, None] * M * dr[None, :]


_SLIPS = [
    (dict(loops=False, degree_of="A"), "add the self-loops first: Â is built from A + I, not A"),
    (dict(loops=False, degree_of="A+I"), "the matrix in the middle is A + I: you left out the identity"),
    (dict(degree_of="A"), "the degrees must be those of A + I (each node's degree plus 1)"),
    (dict(left=-1.0, right=0.0), "that is the row normalisation D^-1 (A + I); the GCN uses D^-1/2 on both sides"),
    (dict(left=0.0, right=-1.0), "that is D^-1 applied on the right only; the GCN uses D^-1/2 on both sides"),
    (dict(left=-1.0, right=-1.0), "take square roots: D^-1/2 on each side, not D^-1"),
    (dict(left=0.5, right=0.5), "the exponent is -1/2 (divide by the square root of the degree), not +1/2"),
]


def _cases():
    rng = np.random.default_rng(11)
    path = np.zeros((4, 4))
    for i in range(3):
        path[i, i + 1] = path[i + 1, i] = 1
    star = np.zeros((5, 5))
    star[0, 1:] = star[1:, 0] = 1
    random = (rng.random((7, 7)) < 0.4).astype(float)
    random = np.triu(random, 1)
    random = random + random.T
    isolated = np.zeros((3, 3))
    isolated[0, 1] = isolated[1, 0] = 1                     # node 2 has no edges
    return [("a path of 4 nodes", path), ("a star with 4 leaves", star), ("a random graph of 7 nodes", random),
            ("3 nodes, one of them isolated", isolated)]


def check_normalized_adjacency(fn) -> CheckResult:
    """Check ``fn(A) -> Â`` on a path, a star, a random graph and a graph with an isolated node."""
    name = "normalized_adjacency"
    cases = _cases()
    for k, (label, A) in enumerate(cases, 1):
        expected = normalized_adjacency_reference(A)
        got, error = attempt(name, fn, A.copy(), where=label)
        if error:
            return error
        try:
            g = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, dtype=float)
        except (TypeError, ValueError):
            return CheckResult(name, FAILED, f"for {label}: expected an (N, N) array, got {type(got).__name__}")
        if g.shape != expected.shape:
            return CheckResult(name, FAILED, f"for {label}: got shape {g.shape}, expected {expected.shape}")
        if same_values(g, expected, atol=1e-10):
            continue
        message = f"fails for {label}, case {k} of {len(cases)}: worst entry off by {np.nanmax(np.abs(g - expected)):.3g}"
        if np.isnan(g).any():
            message += " (your matrix contains nan)"
        for kwargs, hint in _SLIPS:
            if same_values(g, _variant(A, **kwargs), atol=1e-10):
                message += f". Hint: {hint}"
                break
        return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} graphs give the right Â")
