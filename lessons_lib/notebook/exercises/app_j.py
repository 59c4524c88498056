"""Checkers for the exercises of appendix J (dataset shift).

- :func:`check_ks_statistic`: the two-sample Kolmogorov-Smirnov statistic, ``fn(a, b) -> float``, the largest gap
  between the two empirical CDFs;
- :func:`check_label_shift_weights`: black-box shift estimation, ``fn(y_source, pred_source, pred_target,
  n_classes) -> w`` with ``w[j] = q(y = j) / p(y = j)``.

The references are :func:`lessons_lib.functional.shift.ks_statistic` (equal to ``scipy.stats.ks_2samp``'s statistic,
tested in ``tests/test_shift.py``) and :func:`lessons_lib.functional.shift.label_shift_weights`. The hints recompute
the usual slips: a signed gap instead of its absolute value, the CDFs evaluated at one sample's points only, ``np.searchsorted``
on unsorted samples, one sample size for both; for BBSE the naive ratio of predicted-label frequencies, the conditional
confusion matrix P(pred | y) (which returns the target prior q instead of the ratio w), the matrix transposed, and the
negative entries left unclipped.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.functional.shift import ks_statistic, label_shift_weights
from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, same_values

__all__ = ["check_ks_statistic", "check_label_shift_weights", "ks_variant", "bbse_variant"]


def _scalar(got) -> float | None:
    try:
        value = np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(value) if value.size == 1 else None


# ------------------------------------------------------------------------------------------------ KS


def ks_variant(a, b, *, signed=False, points="pooled", unsorted=False, same_n=False) -> float:
    """The KS statistic with one slip (used by the hints and the tests)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if not unsorted:
        a, b = np.sort(a), np.sort(b)
    t = {"pooled": np.concatenate([a, b]), "a": a}[points]
    gap = np.searchsorted(a, t, side="right") / len(a) - np.searchsorted(b, t, side="right") / (len(a) if same_n else len(b))
    return float(np.max(gap) if signed else np.max(np.abs(gap)))


def _ks_cases():
    rng = np.random.default_rng(1933)
    cases = [
        {"a": np.array([0.0, 1.0, 2.0]), "b": np.array([0.5, 1.5, 2.5, 3.5])},
        {"a": rng.normal(size=40), "b": rng.normal(0.8, 1.0, size=25)},         # b to the right: signed gap < 0
        {"a": rng.normal(1.0, 1.0, size=30), "b": rng.normal(size=50)},
        {"a": np.round(rng.normal(size=60)), "b": np.round(rng.normal(0.5, 1.0, size=45))},  # many ties
        {"a": rng.uniform(size=12), "b": rng.uniform(0.3, 1.3, size=7)},
        {"a": np.array([5.0, 6.0]), "b": np.array([1.0, 2.0, 3.0])},             # b entirely left of a
        {"a": rng.normal(size=20), "b": rng.normal(size=20)},
    ]
    return cases


def _where(case) -> str:
    return f"a sample a of {len(case['a'])} values and a sample b of {len(case['b'])}"


def check_ks_statistic(fn) -> CheckResult:
    """Check ``fn(a, b) -> float`` against the two-sample KS statistic max_t |F_a(t) - F_b(t)|."""
    name = "check_ks_statistic"
    cases = _ks_cases()
    for k, case in enumerate(cases, 1):
        expected = ks_statistic(case["a"], case["b"])
        got, error = attempt(name, fn, case["a"].copy(), case["b"].copy(), where=_where(case))
        if error:
            return error
        value = _scalar(got)
        if value is None:
            return CheckResult(name, FAILED, f"got {type(got).__name__}; return one number, the largest CDF gap")
        if np.isclose(value, expected, atol=1e-9):
            continue
        message = f"fails for {_where(case)}, case {k} of {len(cases)}: got {value:.4g}, expected {expected:.4g}"
        slips = [
            ({"signed": True}, "you returned the largest signed gap F_a - F_b; the statistic is the largest ABSOLUTE gap, "
                               "|F_a(t) - F_b(t)|, whichever sample lies to the right"),
            ({"points": "a"}, "you evaluated the CDFs only at the points of a; the largest gap can sit at a point of b, "
                              "so evaluate at the pooled sample"),
            ({"unsorted": True}, "np.searchsorted assumes a sorted array; sort a and b first"),
            ({"same_n": True}, "you divided both counts by len(a); F_b divides by len(b)"),
        ]
        for slip, hint in slips:
            if np.isclose(value, ks_variant(case["a"], case["b"], **slip), atol=1e-9):
                message += f". Hint: {hint}"
                break
        else:
            if value > 1 or value < 0:
                message += ". Hint: a difference of two CDFs lies between -1 and 1, its absolute value between 0 and 1"
        return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")


# ---------------------------------------------------------------------------------------------- BBSE


def bbse_variant(y_source, pred_source, pred_target, n_classes, *, kind="joint", clip=True) -> np.ndarray:
    """BBSE with one slip: ``kind`` is "joint" (right), "naive", "conditional" or "transposed"."""
    mu_t = np.bincount(pred_target, minlength=n_classes) / len(pred_target)
    if kind == "naive":
        return mu_t / np.maximum(np.bincount(pred_source, minlength=n_classes) / len(pred_source), 1e-12)
    C = np.zeros((n_classes, n_classes))
    np.add.at(C, (pred_source, y_source), 1.0)
    if kind == "conditional":
        C = C / np.maximum(C.sum(0, keepdims=True), 1e-12)          # P(pred = i | y = j): columns sum to 1
    else:
        C = C / len(y_source)
    if kind == "transposed":
        C = C.T
    w = np.linalg.solve(C, mu_t)
    return np.maximum(w, 0.0) if clip else w


def _bbse_case(rng, n_classes, acc, p, q, n_source, n_target):
    confusion = np.full((n_classes, n_classes), (1 - acc) / (n_classes - 1))
    np.fill_diagonal(confusion, acc)
    confusion = confusion * rng.uniform(0.6, 1.4, size=confusion.shape)
    confusion /= confusion.sum(1, keepdims=True)                    # P(pred | y), rows are y, not symmetric

    def draw(prior, n):
        y = rng.choice(n_classes, size=n, p=prior)
        pred = np.array([rng.choice(n_classes, p=confusion[c]) for c in y])
        return y, pred

    y_s, pred_s = draw(p, n_source)
    _, pred_t = draw(q, n_target)
    return {"y_source": y_s, "pred_source": pred_s, "pred_target": pred_t, "n_classes": n_classes}


def _bbse_cases():
    rng = np.random.default_rng(2018)
    cases = [
        _bbse_case(rng, 3, 0.8, np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5]), 3000, 2000),
        _bbse_case(rng, 2, 0.9, np.array([0.7, 0.3]), np.array([0.3, 0.7]), 1000, 800),
        _bbse_case(rng, 4, 0.7, np.full(4, 0.25), np.array([0.55, 0.3, 0.15, 0.0]), 400, 300),  # a class vanishes
        _bbse_case(rng, 5, 0.75, np.array([0.3, 0.25, 0.2, 0.15, 0.1]), np.array([0.05, 0.1, 0.15, 0.3, 0.4]), 2500, 2500),
    ]
    # A small, noisy case whose raw solution has a negative entry, so a missing clip shows.
    for _ in range(200):
        case = _bbse_case(rng, 4, 0.6, np.full(4, 0.25), np.array([0.5, 0.35, 0.15, 0.0]), 120, 60)
        try:
            if (bbse_variant(**case, clip=False) < -1e-3).any():
                cases.append(case)
                break
        except np.linalg.LinAlgError:
            continue
    return cases


def check_label_shift_weights(fn) -> CheckResult:
    """Check ``fn(y_source, pred_source, pred_target, n_classes) -> w`` against black-box shift estimation."""
    name = "check_label_shift_weights"
    cases = _bbse_cases()
    for k, case in enumerate(cases, 1):
        where = (f"{case['n_classes']} classes, {len(case['y_source'])} source and {len(case['pred_target'])} "
                 "target predictions")
        expected = label_shift_weights(**case)
        got, error = attempt(name, fn, **{key: (v.copy() if hasattr(v, "copy") else v) for key, v in case.items()},
                             where=where)
        if error:
            return error
        try:
            w = np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got, dtype=float)
        except (TypeError, ValueError):
            return CheckResult(name, FAILED, f"got {type(got).__name__}; return an array of n_classes weights")
        if w.shape != expected.shape:
            return CheckResult(name, FAILED, f"fails for {where}: got shape {w.shape}, expected ({case['n_classes']},): "
                                             "one weight per class")
        if same_values(w, expected, rtol=1e-6, atol=1e-9):
            continue
        message = (f"fails for {where}, case {k} of {len(cases)}: got {np.round(w, 3)}, expected "
                   f"{np.round(expected, 3)}")
        slips = [
            ({"kind": "naive"}, "that is the ratio of predicted-label frequencies, mu_target / mu_source. It ignores "
                                "the classifier's mistakes; BBSE solves C w = mu_target with the confusion matrix C"),
            ({"kind": "conditional"}, "you normalised the confusion matrix per true class, P(pred | y); solving with it "
                                      "gives the target prior q(y), not the ratio q(y) / p(y). Use the JOINT matrix "
                                      "C[i, j] = P(pred = i, y = j), divided by the number of source examples"),
            ({"kind": "transposed"}, "your confusion matrix is transposed: rows must be the PREDICTED label i and columns "
                                     "the true label j, C[i, j] = P(pred = i, y = j)"),
            ({"clip": False}, "a weight came out negative; a ratio of probabilities cannot be, so clip the solution at 0"),
        ]
        for slip, hint in slips:
            try:
                if same_values(w, bbse_variant(**case, **slip), rtol=1e-6, atol=1e-9):
                    message += f". Hint: {hint}"
                    break
            except np.linalg.LinAlgError:
                continue
        return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")
