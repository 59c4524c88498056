"""Checkers for the exercises of Appendix I (saving, exporting, deploying; distributed training).

- :func:`check_int8_quantize`: symmetric per-tensor int8 quantization of a weight matrix, ``W -> (q, scale)`` with
  ``scale = max|W| / 127`` and ``q = clip(round(W / scale), -127, 127)`` stored as int8, so that ``q * scale``
  approximates ``W`` to within ``scale / 2`` per entry;
- :func:`check_combined_gradient`: the full-batch gradient from the mean gradients of several ranks that saw
  ``counts[r]`` examples each, ``sum_r counts[r] * g_r / sum_r counts[r]`` (with equal counts: the plain average
  that DistributedDataParallel's all-reduce computes).

The hints recognise the usual slips by recomputing them: ``max(W)`` instead of ``max|W|``, 128 or 255 levels,
truncation instead of rounding, a float array where int8 was asked, the dequantized matrix returned as ``q``; for
the gradients, the plain mean with unequal counts, a sum that is never divided, a division by the number of ranks.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, same_values

__all__ = ["check_combined_gradient", "check_int8_quantize", "combined_gradient_reference", "int8_quantize_reference"]


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _report(name, problem, case_text, k, n, hints, *hint_args) -> CheckResult:
    message = f"fails for {case_text}, case {k} of {n}: {problem}"
    for hint in hints:
        text = hint(*hint_args)
        if text:
            message += f". Hint: {text}"
            break
    return CheckResult(name, FAILED, message)


# ------------------------------------------------------------------------------------- int8 quantization


def int8_quantize_reference(W):
    """Symmetric per-tensor int8 quantization: ``(q, scale)`` with q an int8 array of W's shape."""
    W = np.asarray(W, dtype=np.float64)
    scale = float(np.abs(W).max()) / 127.0
    q = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
    return q, scale


def _quantize_variant(W, *, peak="abs", levels=127, rounding="round"):
    peak_value = np.abs(W).max() if peak == "abs" else W.max()
    scale = float(peak_value) / levels
    ratio = W / scale
    ratio = np.round(ratio) if rounding == "round" else np.trunc(ratio) if rounding == "trunc" else np.floor(ratio)
    lo, hi = (-128, 127) if levels != 127 else (-127, 127)
    return np.clip(ratio, lo, hi), scale


def _quantize_cases():
    rng = np.random.default_rng(8)
    cases = [rng.normal(size=(4, 5)) * 0.1, rng.normal(size=(16, 8)), rng.uniform(-3, 1, size=(3, 7))]
    outlier = rng.normal(size=(6, 6)) * 0.05
    outlier[2, 3] = -1.5                            # the largest magnitude is negative: max(W) is not max|W|
    cases.append(outlier)
    return cases


def _quantize_hints():
    def matches(W, got_q, got_scale, **slip):
        q, scale = _quantize_variant(W, **slip)
        return same_values(got_q, q) and same_values(got_scale, scale, rtol=1e-5)

    def peak(W, got_q, got_scale, expected):
        if matches(W, got_q, got_scale, peak="max") or same_values(got_scale, W.max() / 127, rtol=1e-5):
            return "the scale must come from the largest MAGNITUDE, max|W| / 127, or large negative weights overflow"

    def levels(W, got_q, got_scale, expected):
        for n in (128, 255, 256):
            if same_values(got_scale, np.abs(W).max() / n, rtol=1e-5):
                return (f"you divided by {n}; symmetric int8 uses the 127 levels on each side of zero (-127..127), so "
                        "scale = max|W| / 127 and +-max|W| maps exactly to +-127")

    def rounding(W, got_q, got_scale, expected):
        for how in ("trunc", "floor"):
            if matches(W, got_q, got_scale, rounding=how):
                return (f"{'astype(int8) truncates' if how == 'trunc' else 'floor rounds down'}: round to the nearest "
                        "integer first (np.round or torch.round), so each weight is off by at most scale / 2")

    def dequantized(W, got_q, got_scale, expected):
        q, scale = expected
        if same_values(got_q, q.astype(np.float64) * scale, atol=1e-6):
            return "your q is the dequantized matrix q * scale; return the integers q themselves (and the scale)"

    return [dequantized, peak, levels, rounding]


def check_int8_quantize(fn):
    """Check ``fn(W) -> (q, scale)``: symmetric per-tensor int8 quantization of a NumPy matrix W."""
    name = "check_int8_quantize"
    cases = _quantize_cases()
    for k, W in enumerate(cases, 1):
        text = f"W of shape {W.shape} with max|W| = {np.abs(W).max():.3g}"
        expected = int8_quantize_reference(W)
        got, error = attempt(name, fn, W.copy(), where=text)
        if error:
            return error
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
            return CheckResult(name, FAILED, f"got {kind}; return a pair (q, scale)")
        try:
            got_q, got_scale = _numpy(got[0]), float(_numpy(got[1]))
        except (TypeError, ValueError):
            return CheckResult(name, FAILED, f"scale must be one number, got {type(got[1]).__name__}")
        hint_args = (W, got_q, got_scale, expected)
        if got_q.shape != W.shape:
            return _report(name, f"q has shape {got_q.shape}, expected W's shape {W.shape}", text, k, len(cases), [])
        if not same_values(got_scale, expected[1], rtol=1e-5):
            problem = f"scale is {got_scale:.6g}, expected {expected[1]:.6g}"
            return _report(name, problem, text, k, len(cases), _quantize_hints(), *hint_args)
        if not same_values(got_q, expected[0]):
            wrong = int(np.sum(np.asarray(got_q, dtype=float) != expected[0]))
            problem = f"{wrong} of {W.size} entries of q differ from clip(round(W / scale), -127, 127)"
            return _report(name, problem, text, k, len(cases), _quantize_hints(), *hint_args)
        if str(got_q.dtype) not in ("int8", "torch.int8"):
            return _report(name, f"q has the right values but dtype {got_q.dtype}", text, k, len(cases),
                           [lambda *a: "store q as int8 (q.astype(np.int8) or .to(torch.int8)): that is where the "
                                       "4x saving over float32 comes from"])
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")


# ------------------------------------------------------------------------------------- combined gradient


def combined_gradient_reference(grads, counts):
    """The full-batch mean gradient from per-rank mean gradients ``grads[r]`` over ``counts[r]`` examples."""
    counts = np.asarray(counts, dtype=np.float64)
    stacked = np.stack([np.asarray(g, dtype=np.float64) for g in grads])        # (W, ...) one row per rank
    return np.tensordot(counts, stacked, axes=1) / counts.sum()


def _gradient_cases():
    rng = np.random.default_rng(12)
    cases = []
    for counts, shape in [([64, 64], (3, 4)), ([50, 50, 50, 50], (5,)), ([100, 156], (2, 3)), ([10, 30, 60], (4, 2)),
                          ([1, 99], (3,))]:
        cases.append({"grads": [rng.normal(size=shape) for _ in counts], "counts": list(counts)})
    return cases


def _gradient_hints():
    def plain_mean(case, got):
        if same_values(got, np.mean(case["grads"], axis=0)):
            return ("that is the plain average of the ranks' gradients, right only when every rank saw the same number "
                    "of examples; weigh each rank's mean by its count: sum_r n_r g_r / sum_r n_r")

    def never_divided(case, got):
        if same_values(got, np.sum(case["grads"], axis=0)):
            return "you summed the gradients (an all-reduce SUM) without dividing; DDP divides by the number of ranks"
        weighted = np.tensordot(np.asarray(case["counts"], float), np.stack(case["grads"]), axes=1)
        if same_values(got, weighted):
            return "sum_r n_r g_r is the gradient of the summed loss; divide by the total count sum_r n_r for the mean"
        if same_values(got, weighted / len(case["counts"])):
            return "divide the weighted sum by the total number of examples sum_r n_r, not by the number of ranks"

    return [plain_mean, never_divided]


def check_combined_gradient(fn):
    """Check ``fn(grads, counts) -> the full-batch mean gradient`` from per-rank mean gradients and counts."""
    name = "check_combined_gradient"
    cases = _gradient_cases()
    for k, case in enumerate(cases, 1):
        text = f"{len(case['counts'])} ranks with counts {case['counts']}, gradients of shape {case['grads'][0].shape}"
        expected = combined_gradient_reference(**case)
        got, error = attempt(name, fn, [g.copy() for g in case["grads"]], list(case["counts"]), where=text)
        if error:
            return error
        try:
            got_arr = np.asarray(_numpy(got), dtype=float)
        except (TypeError, ValueError):
            return CheckResult(name, FAILED, f"got {type(got).__name__}; return one array of the gradients' shape")
        if got_arr.shape != expected.shape:
            problem = f"got shape {got_arr.shape}, expected {expected.shape} (the shape of one rank's gradient)"
            return _report(name, problem, text, k, len(cases), [])
        if not same_values(got_arr, expected, rtol=1e-9, atol=1e-12):
            problem = f"worst entry off by {np.max(np.abs(got_arr - expected)):.3g}"
            return _report(name, problem, text, k, len(cases), _gradient_hints(), case, got_arr)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")
