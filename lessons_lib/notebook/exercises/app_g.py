"""Checkers for the exercises of Appendix G (ensembles).

- :func:`check_hard_vote`: majority vote over the members' predicted labels, ``labels`` (M, N) integers in
  ``0..n_classes-1`` -> (N,) winners, a tie going to the smallest tied label (what ``np.argmax`` of the vote
  counts gives);
- :func:`check_ensemble_variance`: the variance of the average of M members with common variance ``sigma2`` and
  common pairwise correlation ``rho``: ``rho * sigma2 + (1 - rho) * sigma2 / M``.

The hints recognise the usual slips by recomputing them: ties sent to the largest label, votes counted along the
wrong axis, labels averaged and rounded, the first member's labels returned; for the variance, the independent
case ``sigma2 / M``, the floor alone, ``rho`` and ``1 - rho`` swapped, and a missing factor ``sigma2``.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, same_values

__all__ = ["check_ensemble_variance", "check_hard_vote", "ensemble_variance_reference", "hard_vote_reference"]


# -------------------------------------------------------------------------------------------- hard vote


def hard_vote_reference(labels, n_classes):
    """Majority vote: labels (M, N) ints -> (N,) int64; ties go to the smallest tied label."""
    labels = np.asarray(labels)
    counts = np.zeros((n_classes, labels.shape[1]), dtype=np.int64)      # (classes, N)
    for member in labels:                                                  # member: (N,)
        counts[member, np.arange(labels.shape[1])] += 1
    return counts.argmax(axis=0)                                           # argmax takes the first maximum


def _vote_cases():
    rng = np.random.default_rng(7)
    cases = [
        {"labels": np.array([[0, 1, 2], [0, 2, 2], [1, 1, 0]]), "n_classes": 3},            # clear majorities
        {"labels": np.array([[2, 0], [1, 3]]), "n_classes": 4},                             # two-way ties
        {"labels": np.array([[3, 1, 4, 1, 5]]), "n_classes": 6},                            # one member
        {"labels": np.array([[4, 2], [2, 4], [4, 2], [2, 4]]), "n_classes": 5},             # ties, larger label first
    ]
    for m, n, k in [(5, 7, 3), (10, 12, 10), (4, 9, 2)]:
        cases.append({"labels": rng.integers(0, k, size=(m, n)), "n_classes": k})
    return cases


def _describe_votes(case) -> str:
    labels = case["labels"]
    if labels.size <= 12:
        rows = "; ".join(" ".join(str(v) for v in row) for row in labels)
        sizes = f"M = {labels.shape[0]} members, N = {labels.shape[1]} examples"
        return f"labels = [{rows}] ({sizes}), n_classes = {case['n_classes']}"
    return f"random labels of M = {labels.shape[0]} members on N = {labels.shape[1]} examples, n_classes = {case['n_classes']}"


def _vote_slips(labels, n_classes):
    labels = np.asarray(labels)
    counts = np.stack([(labels == k).sum(axis=0) for k in range(n_classes)])        # (classes, N)
    slips = {
        "a tie must go to the smallest tied label (you returned the largest)":
            n_classes - 1 - counts[::-1].argmax(axis=0),
        "count the votes of each example over the members, along axis 0 of labels (M, N)":
            np.array([np.bincount(row, minlength=n_classes).argmax() for row in labels]),
        "a vote counts labels; averaging the label numbers and rounding mixes classes (the mean of 1 and 3 is 2)":
            np.rint(labels.mean(axis=0)).astype(np.int64),
        "every member votes: you returned the first member's labels": labels[0],
    }
    return slips


def check_hard_vote(hard_vote) -> CheckResult:
    """Check ``hard_vote(labels, n_classes)`` against :func:`hard_vote_reference` on small and random votes."""
    name = "hard_vote"
    cases = _vote_cases()
    for k, case in enumerate(cases, 1):
        expected = hard_vote_reference(**case)
        got, error = attempt(name, hard_vote, case["labels"].copy(), case["n_classes"], where=_describe_votes(case))
        if error:
            return error
        try:
            g = np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got, dtype=float)
        except (TypeError, ValueError):
            return CheckResult(name, FAILED, f"returned {type(got).__name__}; expected an array of {len(expected)} labels")
        if g.shape == expected.shape and np.array_equal(g, expected):
            continue
        message = f"fails for {_describe_votes(case)}, case {k} of {len(cases)}: "
        if g.shape != expected.shape:
            message += f"got shape {g.shape}, expected ({len(expected)},): one label per example"
        else:
            message += f"got {g.astype(int).tolist()}, expected {expected.tolist()}"
        for hint, slip in _vote_slips(**case).items():
            if same_values(g, slip):
                message += f". Hint: {hint}"
                break
        return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")


# -------------------------------------------------------------------------------------------- variance


def ensemble_variance_reference(sigma2, rho, M):
    """Var of the mean of M members, each of variance sigma2, every pair correlated rho."""
    return rho * sigma2 + (1 - rho) * sigma2 / M


_VARIANCE_CASES = [(2.0, 0.3, 5), (1.0, 0.0, 4), (0.5, 1.0, 7), (3.0, 0.6, 1), (1.5, 0.25, 10), (4.0, 0.9, 100)]


def _variance_slips(sigma2, rho, M):
    return {
        "sigma2 / M holds only for uncorrelated members (rho = 0); correlated members add the floor rho * sigma2":
            sigma2 / M,
        "rho * sigma2 is the floor that M members never go below; the uncorrelated part (1 - rho) * sigma2 / M "
        "still shrinks with M": rho * sigma2,
        "rho and 1 - rho are swapped: the correlated part is the one that does not shrink with M":
            (1 - rho) * sigma2 + rho * sigma2 / M,
        "both terms are proportional to sigma2 (a covariance is rho * sigma * sigma)": rho + (1 - rho) * sigma2 / M,
        "Var(mean of M) = (1 / M^2) times the sum of all M^2 variances and covariances: M variances sigma2 and "
        "M (M - 1) covariances rho sigma2": rho * sigma2 / M + (1 - rho) * sigma2 / M ** 2,
    }


def check_ensemble_variance(ensemble_variance) -> CheckResult:
    """Check ``ensemble_variance(sigma2, rho, M)`` against the closed form on six cases (rho from 0 to 1)."""
    name = "ensemble_variance"
    for k, (sigma2, rho, M) in enumerate(_VARIANCE_CASES, 1):
        where = f"sigma2 = {sigma2}, rho = {rho}, M = {M}"
        expected = ensemble_variance_reference(sigma2, rho, M)
        got, error = attempt(name, ensemble_variance, sigma2, rho, M, where=where)
        if error:
            return error
        if same_values(got, expected):
            continue
        try:
            shown = f"{float(np.asarray(got)):.6g}"
        except (TypeError, ValueError):
            shown = repr(got)
        message = f"fails for {where}, case {k} of {len(_VARIANCE_CASES)}: got {shown}, expected {expected:.6g}"
        for hint, slip in _variance_slips(sigma2, rho, M).items():
            if same_values(got, slip):
                message += f". Hint: {hint}"
                break
        return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(_VARIANCE_CASES)} checks passed")
