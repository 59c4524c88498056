"""Checkers for the exercises of Chapter 14 (regularization).

- :func:`check_dropout_forward`: inverted dropout's forward pass, in training and in evaluation mode;
- :func:`check_label_smoothing`: the cross-entropy with label smoothing, as ``torch.nn.CrossEntropyLoss``
  computes it with ``label_smoothing=eps``.

Dropout is random, so its checker does not compare with one reference output: it checks what every correct
implementation must satisfy (each output entry is 0 or x / (1 - p), about a fraction p of them are 0, the
mean is preserved, evaluation mode returns x unchanged) and recognises the usual slips (no rescaling,
multiplying by 1 - p, p read as the keep probability, dropping in evaluation mode).
"""

from __future__ import annotations

import numpy as np

from lessons_lib.functional.activations import log_softmax
from lessons_lib.notebook.checking import ERROR, FAILED, PASSED, CheckResult, attempt, compare, describe_case

__all__ = ["check_dropout_forward", "check_label_smoothing", "dropout_forward_reference", "label_smoothing_reference"]


# ------------------------------------------------------------------------------------------ dropout


def dropout_forward_reference(x, p, training, rng):
    """Inverted dropout: in training keep each entry with probability 1 - p and divide it by 1 - p; else x."""
    x = np.asarray(x, dtype=np.float64)
    if not training or p == 0:
        return x
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p)


def _dropout_cases():
    rng = np.random.default_rng(14)
    x = rng.uniform(0.5, 2.0, size=(200, 100))  # no zeros, so a dropped entry is recognisable
    cases = []
    for p, training in [(0.5, True), (0.2, True), (0.8, True), (0.5, False), (0.0, True), (0.3, False)]:
        cases.append({"x": x.copy(), "p": p, "training": training, "rng": np.random.default_rng(len(cases))})
    return cases


def _dropout_problem(case, out) -> str | None:
    """None when ``out`` is a valid inverted-dropout output for the case, else a diagnosis with a hint."""
    x, p, training = case["x"], case["p"], case["training"]
    try:
        out = np.asarray(out.detach().cpu().numpy() if hasattr(out, "detach") else out, dtype=np.float64)
    except (TypeError, ValueError):
        return f"returned {type(out).__name__}; expected an array of the shape of x"
    if out.shape != x.shape:
        return f"got shape {out.shape}, expected the shape of x, {x.shape}"
    if not training or p == 0:
        if np.allclose(out, x, rtol=1e-12, atol=0):
            return None
        where = "in evaluation mode" if not training else "with p = 0"
        if np.allclose(out, x * (1 - p)):
            return (f"{where} you returned x·(1 − p). Hint: with inverted dropout the rescaling already happened "
                    "in training, so evaluation is the identity: return x unchanged")
        return f"{where} the output should be x itself. Hint: drop only when training is True (and p > 0)"
    dropped = np.isclose(out, 0.0, atol=1e-12)
    kept = out[~dropped] / x[~dropped]
    frac = dropped.mean()
    sd = np.sqrt(p * (1 - p) / x.size)
    if np.allclose(kept, 1.0):
        return ("the surviving entries equal x. Hint: inverted dropout divides the survivors by 1 − p, so the "
                "expected output stays x (and evaluation needs no rescaling)")
    if np.allclose(kept, 1 - p):
        return ("the surviving entries are x·(1 − p). Hint: divide by 1 − p, don't multiply: each survives with "
                "probability 1 − p, so x / (1 − p) has expectation x")
    if not np.allclose(kept, 1 / (1 - p), rtol=1e-9):
        return f"the surviving entries should be x / (1 − p) = x·{1 / (1 - p):.4g}; found ratios out/x like {kept[:3]}"
    if abs(frac - (1 - p)) < 6 * sd and abs(frac - p) > 6 * sd:
        return (f"you dropped {frac:.3f} of the entries, about 1 − p. Hint: p is the probability of DROPPING an "
                "entry (torch.nn.Dropout's convention), not of keeping it")
    if abs(frac - p) > 6 * sd:
        return f"you dropped a fraction {frac:.3f} of the entries; expected about p = {p} (each entry independently)"
    return None


def check_dropout_forward(fn) -> CheckResult:
    """Check ``fn(x, p, training, rng) -> out``: inverted dropout with drop probability ``p``."""
    name = "check_dropout_forward"
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    cases = _dropout_cases()
    for case in cases:
        out, error = attempt(name, fn, x=case["x"].copy(), p=case["p"], training=case["training"], rng=case["rng"],
                             where=describe_case(case))
        if error:
            return error
        problem = _dropout_problem(case, out)
        if problem:
            shown = {k: v for k, v in case.items() if k != "rng"}
            return CheckResult(name, FAILED, f"fails for {describe_case(shown)}: {problem}")
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed (masks, scale, drop rate, evaluation mode)")


# ---------------------------------------------------------------------------------- label smoothing


def label_smoothing_reference(logits, targets, eps):
    """Mean over the batch of -Σ_k q_k log softmax(z)_k with q = (1 - eps)·one_hot + eps / K."""
    logp = log_softmax(logits)
    n, k = logp.shape
    q = np.full((n, k), eps / k)
    q[np.arange(n), np.asarray(targets)] += 1 - eps
    return float(-(q * logp).sum(axis=1).mean())


def _ls_variant(logits, targets, eps, *, spread_over_others=False, reduce="mean"):
    logp = log_softmax(logits)
    n, k = logp.shape
    if spread_over_others:
        q = np.full((n, k), eps / (k - 1))
        q[np.arange(n), np.asarray(targets)] = 1 - eps
    else:
        q = np.full((n, k), eps / k)
        q[np.arange(n), np.asarray(targets)] += 1 - eps
    per = -(q * logp).sum(axis=1)
    return float(per.sum() if reduce == "sum" else per.mean())


def _ls_cases():
    rng = np.random.default_rng(141)
    cases = []
    for n, k, eps, scale in [(6, 4, 0.1, 1.0), (5, 10, 0.2, 3.0), (8, 3, 0.0, 1.0), (4, 2, 0.3, 1.0),
                             (3, 5, 0.1, 1000.0), (7, 6, 0.5, 2.0)]:
        cases.append({"logits": rng.normal(size=(n, k)) * scale, "targets": rng.integers(0, k, size=n), "eps": eps})
    return cases


def _ls_hints():
    def close(a, b):
        try:
            return bool(np.isclose(float(a), float(b), rtol=1e-6))
        except (TypeError, ValueError):
            return False

    def others(case, got, expected):
        if case["eps"] > 0 and close(got, _ls_variant(**case, spread_over_others=True)):
            return ("you spread eps over the K − 1 wrong classes; torch (and Szegedy et al.) mix with the uniform "
                    "distribution over all K classes: q = (1 − eps)·one_hot + eps/K")

    def plain(case, got, expected):
        if case["eps"] > 0 and close(got, _ls_variant(**{**case, "eps": 0.0})):
            return "that is the plain cross-entropy: the smoothing eps was not used"

    def summed(case, got, expected):
        if close(got, _ls_variant(**case, reduce="sum")):
            return "you summed over the batch; CrossEntropyLoss averages (reduction='mean')"

    def unstable(case, got, expected):
        try:
            bad = not np.isfinite(float(got))
        except (TypeError, ValueError):
            bad = False
        if bad:
            return "exp overflowed for large logits: subtract each row's maximum before exp (log-sum-exp)"

    return [others, plain, summed, unstable]


def check_label_smoothing(fn) -> CheckResult:
    """Check ``fn(logits, targets, eps) -> mean loss`` against CrossEntropyLoss(label_smoothing=eps)."""


    return compare(fn, label_smoothing_reference, _ls_cases(), name="check_label_smoothing", rtol=1e-6, atol=1e-9,
                   hints=_ls_hints())


