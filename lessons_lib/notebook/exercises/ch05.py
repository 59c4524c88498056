"""Checkers for the exercises of Chapter 5 (loss and cost functions).

- :func:`check_bce`: binary cross-entropy from probabilities, averaged over a batch, safe at p = 0 and p = 1;
- :func:`check_huber`: the Huber loss with a threshold ``delta``, averaged over a batch;
- :func:`check_cross_entropy`: categorical cross-entropy from logits and integer labels, stable for huge logits.

Each checker returns a :class:`lessons_lib.notebook.checking.CheckResult`; the reference solutions are the
``*_reference`` functions beside them, built on :mod:`lessons_lib.functional.losses`.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.functional import losses
from lessons_lib.notebook.checking import FAILED, CheckResult, _short, _to_numpy, compare, same_values

__all__ = [
    "bce_reference",
    "check_bce",
    "check_cross_entropy",
    "check_huber",
    "cross_entropy_reference",
    "huber_reference",
]


def _as_float(got):
    """The reader's answer as a float array, or None when it is not numeric."""
    try:
        return np.asarray(_to_numpy(got), dtype=float)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------- BCE


def bce_reference(p, y):
    """Mean binary cross-entropy -[y log p + (1 - y) log(1 - p)] over every entry; logs clipped at 1e-12."""
    return float(losses.bce(np.asarray(p, dtype=float), np.asarray(y, dtype=float)))


def _bce_cases(seed: int = 5) -> list[dict]:
    a = np.array
    cases = [
        {"p": a([0.9, 0.2]), "y": a([1.0, 0.0])},  # two good predictions
        {"p": a([0.1, 0.8, 0.6]), "y": a([1.0, 0.0, 1.0])},  # two bad ones and a hesitant one
        {"p": a([0.5]), "y": a([1.0])},  # log 2
        {"p": a([0.7, 0.7, 0.3, 0.3]), "y": a([1.0, 0.0, 1.0, 0.0])},
    ]
    rng = np.random.default_rng(seed)
    for n in (5, 17, 64):
        cases.append({"p": rng.uniform(0.01, 0.99, n), "y": rng.integers(0, 2, n).astype(float)})
    cases.append({"p": rng.uniform(0.05, 0.95, (6, 3)), "y": rng.integers(0, 2, (6, 3)).astype(float)})  # multi-label
    cases.append({"p": a([0.3, 0.9]), "y": a([0.2, 0.7])})  # soft targets are allowed too
    # Certain and right: the loss is exactly 0 and must not turn into 0 * log(0) = nan.
    cases.append({"p": a([1.0, 0.0, 0.7]), "y": a([1.0, 0.0, 1.0])})
    return cases


def _clipped_logs(p, eps=1e-12):
    return np.log(np.clip(p, eps, 1.0)), np.log(np.clip(1 - p, eps, 1.0))


def _bce_hint(case, got, expected):
    p, y = np.asarray(case["p"], float), np.asarray(case["y"], float)
    g = _as_float(got)
    if g is None:
        return "return one number: the mean of the per-entry losses"
    if g.shape != ():
        return "return the mean over the whole batch (one number), not one loss per entry: use np.mean"
    if not np.isfinite(g):
        return ("where p is exactly 0 or 1 a log is -inf, and 0 * log(0) gives nan: clip p into [eps, 1 - eps] "
                "(e.g. eps = 1e-12) before taking the logs")
    lp, l1p = _clipped_logs(p)
    if same_values(g, -expected):
        return "the logs of probabilities are negative, so the loss needs a minus sign in front: -[y log p + (1 - y) log(1 - p)]"
    if same_values(g, expected * p.size) and p.size > 1:
        return "that is the sum over the batch; the cost is the mean, so divide by the number of entries"
    if same_values(g, np.mean(-y * lp + (1 - y) * l1p)):
        return ("the minus sign must cover both terms: -[y log p + (1 - y) log(1 - p)]; "
                "written -y log p + (1 - y) log(1 - p), the second term has the wrong sign")
    if same_values(g, np.mean(-(1 - y) * lp - y * l1p)):
        return "the two terms are swapped: y multiplies log p (p is the probability of class 1), 1 - y multiplies log(1 - p)"
    if same_values(g, np.mean(-y * lp)):
        return "the (1 - y) log(1 - p) term is missing, so examples with y = 0 cost nothing"
    if same_values(g, expected / np.log(10)) or same_values(g, expected / np.log(2)):
        return "use the natural logarithm, np.log (not log10 or log2)"
    if np.any((p == 0) | (p == 1)):
        return ("a prediction that is certain and right (p = 1 for y = 1, p = 0 for y = 0) should cost (almost) "
                "nothing: clip with a tiny eps such as 1e-12, not a large one")
    return None


def check_bce(fn) -> CheckResult:
    """Check ``fn(p, y)`` -> mean binary cross-entropy, on hand-made, random, multi-label and extreme batches.

    After the ordinary cases, a batch where the model is certain and wrong (p = 0 for y = 1, p = 1 for
    y = 0) must give a large but finite loss: any clipping eps from 1e-4 to 1e-44 passes (torch caps each
    log at -100).
    """
    name = "binary cross-entropy"
    with np.errstate(all="ignore"):
        result = compare(fn, bce_reference, _bce_cases(), name=name, hints=[_bce_hint])
        if not result.passed:
            return result
        p, y = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
        try:
            got = _as_float(fn(p.copy(), y.copy()))
        except Exception as exc:
            return CheckResult(name, FAILED, f"raised {type(exc).__name__}: {exc} for p = [0, 1, 0.5], y = [1, 0, 1]")
    low = (2 * -np.log(1e-4) + np.log(2)) / 3  # the mean with the coarsest accepted clipping
    if got is None or got.shape != () or not np.isfinite(got):
        return CheckResult(name, FAILED, f"for p = [0, 1, 0.5], y = [1, 0, 1] (certain and wrong twice) you returned "
                           f"{_short(got)}. Hint: clip p into [eps, 1 - eps], e.g. eps = 1e-12, so that log never sees 0")
    if not low <= float(got) <= 101:
        return CheckResult(name, FAILED, f"for p = [0, 1, 0.5], y = [1, 0, 1] you returned {float(got):.4g}; a model that "
                           f"is certain and wrong must pay a lot (between {low:.3g} and about 100). Hint: clip with a small "
                           "eps such as 1e-12; a large eps such as 0.01 hides how wrong the model is")
    return CheckResult(name, result.status, result.message + ", and p = 0 or 1 gives a large finite loss")


# ----------------------------------------------------------------------------------------------- Huber


def huber_reference(y_pred, y_true, delta):
    """Mean Huber loss: 0.5 e^2 where |e| <= delta, else delta (|e| - delta / 2), with e = y_pred - y_true."""
    return float(losses.huber(np.asarray(y_pred, dtype=float), np.asarray(y_true, dtype=float), delta=delta))


def _huber_cases(seed: int = 7) -> list[dict]:
    a = np.array
    cases = [
        {"y_pred": a([1.0, 2.5]), "y_true": a([0.0, 2.0]), "delta": 2.0},  # small errors only: quadratic
        {"y_pred": a([10.0, -4.0]), "y_true": a([0.0, 0.0]), "delta": 1.0},  # large errors only: linear
        {"y_pred": a([0.5, 3.0, -6.0]), "y_true": a([0.0, 0.0, 0.0]), "delta": 1.0},  # both pieces
        {"y_pred": a([3.0, 1.0]), "y_true": a([0.0, 0.0]), "delta": 2.0},  # mixed, delta != 1
        {"y_pred": a([2.0, -2.0]), "y_true": a([0.0, 0.0]), "delta": 2.0},  # exactly at the threshold
    ]
    rng = np.random.default_rng(seed)
    for n, delta in ((8, 0.5), (20, 1.35), (50, 3.0)):
        cases.append({"y_pred": rng.normal(0, 3, n), "y_true": rng.normal(0, 3, n), "delta": delta})
    cases.append({"y_pred": rng.normal(0, 3, (4, 5)), "y_true": rng.normal(0, 3, (4, 5)), "delta": 1.0})
    return cases


def _huber_pieces(case):
    e = np.abs(np.asarray(case["y_pred"], float) - np.asarray(case["y_true"], float))
    return e, float(case["delta"]), e <= case["delta"]


def _huber_hint(case, got, expected):
    e, d, small = _huber_pieces(case)
    g = _as_float(got)
    if g is None or g.shape != ():
        return "return the mean over all entries: one number"
    if same_values(g, np.mean(0.5 * e**2)) and not small.all():
        return "beyond delta the loss must grow linearly, not quadratically: use delta * (|e| - delta / 2) there"
    if same_values(g, np.mean(np.where(small, 0.5 * e**2, d * e))):
        return ("the linear piece must be delta * (|e| - delta / 2): without the - delta^2 / 2 it does not meet the "
                "quadratic piece at |e| = delta")
    doubled = (np.mean(np.where(small, e**2, d * (e - d / 2))), np.mean(np.where(small, e**2, 2 * d * e - d**2)))
    if any(same_values(g, wrong) for wrong in doubled):
        return "the quadratic piece is 0.5 e^2 (with the one half, its slope at |e| = delta is exactly delta)"
    if same_values(g, np.mean(np.where(small, d * (e - d / 2), 0.5 * e**2))):
        return "the pieces are swapped: quadratic for small errors (|e| <= delta), linear for large ones"
    if same_values(g, expected / d) and d != 1:
        return "that is PyTorch's SmoothL1 loss, which is the Huber loss divided by delta; do not divide by delta"
    if same_values(g, expected * e.size) and e.size > 1:
        return "that is the sum; the cost is the mean over all entries"
    if d != 1 and same_values(g, np.mean(np.where(e <= 1, 0.5 * e**2, e - 0.5))):
        return "you used delta = 1; use the delta argument you are given"
    return None


def check_huber(fn) -> CheckResult:
    """Check ``fn(y_pred, y_true, delta)`` -> mean Huber loss, for several deltas, errors on both sides of delta."""
    return compare(fn, huber_reference, _huber_cases(), name="Huber loss", hints=[_huber_hint])


# ------------------------------------------------------------------------------------------ cross-entropy


def cross_entropy_reference(logits, labels):
    """Mean categorical cross-entropy of logits (N, C) against integer labels (N,): mean of -log softmax[label]."""
    return float(losses.cross_entropy(np.asarray(logits, dtype=float), np.asarray(labels, dtype=np.int64)))


def _ce_cases(seed: int = 11) -> list[dict]:
    a = np.array
    cases = [
        {"logits": np.log(a([[0.1, 0.8, 0.1], [0.8, 0.1, 0.1]])), "labels": a([1, 1])},  # -log 0.8 and -log 0.1
        {"logits": a([[2.0, 1.0, 0.1]]), "labels": a([0])},
        {"logits": a([[0.0, 0.0], [3.0, -1.0], [-2.0, 2.0]]), "labels": a([1, 0, 0])},
    ]
    rng = np.random.default_rng(seed)
    for n, c in ((4, 3), (10, 5), (32, 10)):
        cases.append({"logits": rng.normal(0, 2, (n, c)), "labels": rng.integers(0, c, n)})
    cases.append({"logits": a([[1000.0, 0.0, -1000.0], [0.0, 800.0, 790.0]]), "labels": a([0, 2])})  # huge logits
    return cases


def _ce_hint(case, got, expected):
    z = np.asarray(case["logits"], float)
    t = np.asarray(case["labels"])
    n = len(t)
    g = _as_float(got)
    if g is None:
        return None
    if g.shape == (n,) and n > 1:
        return "return the mean over the batch (one number), not one loss per sample"
    if g.shape != ():
        return "return one number, the mean over the batch"
    if not np.isfinite(g):
        return ("exp overflows for large logits: subtract each row's maximum before exp (it does not change softmax), "
                "i.e. log softmax(z)_c = z_c - max(z) - log sum exp(z - max(z))")
    rows = np.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)
    if same_values(g, np.mean(-z[rows, t])):
        return "-z[label] alone is not a log-probability: subtract log sum_c exp(z_c) (the log of softmax's denominator)"
    with np.errstate(all="ignore"):
        col = z - z.max(axis=0, keepdims=True)
        logp_col = col - np.log(np.exp(col).sum(axis=0, keepdims=True))
        if same_values(g, np.mean(-logp_col[rows, t])):
            return "normalise each row (softmax over the classes, axis=1), not each column"
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if same_values(g, np.sum(-logp[rows, t])) and n > 1:
            return "that is the sum over the batch; divide by the number of samples"
        p = np.exp(logp)
        if same_values(g, np.mean(1 - p[rows, t])):
            return "take the negative log of the true class's probability, not 1 minus it"
    return None


def check_cross_entropy(fn) -> CheckResult:
    """Check ``fn(logits, labels)`` -> mean cross-entropy, on the chapter's example, random batches and huge logits."""
    with np.errstate(all="ignore"):
        return compare(fn, cross_entropy_reference, _ce_cases(), name="cross-entropy from logits", hints=[_ce_hint])
