"""Checkers for the exercises of Appendix H (hyperparameter search tools).

- :func:`check_best_so_far`: the "best value so far" curve of a study, trial by trial, for either direction, with
  trials that returned no value (pruned or failed: ``None`` or nan) carrying the previous best forward;
- :func:`check_median_prune`: Optuna's median-pruning rule (``optuna.pruners.MedianPruner``) for one trial at its
  latest step: compare the trial's best intermediate value so far with the median of the completed trials' values
  *at the same step*, after the start-up trials and the warm-up steps.

The references are :func:`best_so_far_reference` and :func:`median_prune_reference`; the second is checked against
Optuna's own pruner in ``tests/test_exercises_app_h.py``. The hints recognise the usual slips by recomputing them.
"""

from __future__ import annotations

import math

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt

__all__ = ["best_so_far_reference", "check_best_so_far", "check_median_prune", "median_prune_reference"]


# ------------------------------------------------------------------------------------------ best so far


def _as_float(v) -> float:
    return math.nan if v is None else float(v)


def best_so_far_reference(values, direction: str = "minimize") -> np.ndarray:
    """Entry t is the best of ``values[0..t]`` (the smallest for "minimize", the largest for "maximize").

    ``None`` or nan marks a trial without a value (pruned or failed): it is skipped. Entries before the first
    real value are nan. Returns a float array of ``len(values)``.
    """
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction is {direction!r}; expected 'minimize' or 'maximize'")
    better = min if direction == "minimize" else max
    out, best = [], math.nan
    for v in map(_as_float, values):
        if not math.isnan(v):
            best = v if math.isnan(best) else better(best, v)
        out.append(best)
    return np.array(out, dtype=float)


def _best_cases():
    rng = np.random.default_rng(8)
    noisy = list(np.round(rng.uniform(0.4, 1.2, 12), 3))
    return [
        {"values": [0.9, 0.7, 0.8, 0.5, 0.6], "direction": "minimize"},
        {"values": [0.60, 0.72, 0.70, 0.81, 0.79], "direction": "maximize"},
        {"values": [0.9, None, 0.8, None, 0.85, 0.3], "direction": "minimize"},
        {"values": [None, None, 0.7, 0.9, float("nan"), 0.6], "direction": "maximize"},
        {"values": noisy, "direction": "minimize"},
        {"values": [0.5], "direction": "maximize"},
    ]


def _best_hints():
    def plain(values):
        return np.array([_as_float(v) for v in values])

    def wrong_direction(case, got, expected):
        other = "maximize" if case["direction"] == "minimize" else "minimize"
        if _same(got, best_so_far_reference(case["values"], other)):
            kind = "smallest" if case["direction"] == "minimize" else "largest"
            return f"that is the curve for direction={other!r}; with {case['direction']!r} the best is the {kind} value"

    def raw_values(case, got, expected):
        if _same(got, plain(case["values"])):
            return "you returned the values themselves; entry t should be the best of the first t + 1 values"

    def nan_spreads(case, got, expected):
        acc = np.minimum.accumulate if case["direction"] == "minimize" else np.maximum.accumulate
        if _same(got, acc(plain(case["values"]))):
            return ("a pruned trial (None or nan) made everything after it nan; skip trials without a value "
                    "(np.fmin.accumulate / np.fmax.accumulate ignore nan)")

    def overall_best(case, got, expected):
        finite = [v for v in plain(case["values"]) if not math.isnan(v)]
        best = min(finite) if case["direction"] == "minimize" else max(finite)
        if _same(got, np.full(len(case["values"]), best)):
            return "every entry is the overall best; entry t may only look at trials 0..t"

    return [wrong_direction, raw_values, nan_spreads, overall_best]


def _same(got, expected) -> bool:
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False
    e = np.asarray(expected, dtype=float)
    return g.shape == e.shape and bool(np.allclose(g, e, rtol=1e-9, atol=1e-12, equal_nan=True))


def _describe_values(case) -> str:
    shown = ", ".join("None" if v is None else f"{v:g}" for v in case["values"])
    return f"values = [{shown}], direction = {case['direction']!r}"


def check_best_so_far(fn) -> CheckResult:
    """Check ``fn(values, direction) -> array`` against :func:`best_so_far_reference`."""
    name = "check_best_so_far"
    cases = _best_cases()
    for k, case in enumerate(cases, 1):
        expected = best_so_far_reference(**case)
        got, error = attempt(name, fn, list(case["values"]), case["direction"], where=_describe_values(case))
        if error:
            return error
        if _same(got, expected):
            continue
        try:
            g = np.asarray(got, dtype=float)
            problem = (f"got {np.round(g, 4).tolist()}, expected {np.round(expected, 4).tolist()}" if g.shape == expected.shape
                       else f"got an answer of shape {g.shape}, expected one entry per trial, shape {expected.shape}")
        except (TypeError, ValueError):
            problem = f"got a {type(got).__name__}, expected an array of {len(expected)} numbers"
        message = f"fails for {_describe_values(case)} (case {k} of {len(cases)}): {problem}"
        for hint in _best_hints():
            text = hint(case, got, expected)
            if text:
                message += f". Hint: {text}"
                break
        return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")


# ------------------------------------------------------------------------------------------ median pruning


def median_prune_reference(current, completed, *, n_startup_trials: int = 5, n_warmup_steps: int = 0,
                           direction: str = "minimize") -> bool:
    """Optuna's ``MedianPruner`` decision for a trial that has just reported ``current[-1]`` at step
    ``len(current) - 1``.

    current:   the trial's intermediate values at steps 0, 1, ..., k.
    completed: one list per completed trial, its intermediate values at steps 0, 1, ...
    Prune when at least ``n_startup_trials`` trials have completed, ``k >= n_warmup_steps``, and the trial's best
    value so far is worse than the median of the completed trials' values at step k (strictly: a tie is kept).
    No completed trial reached step k: do not prune.
    """
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction is {direction!r}; expected 'minimize' or 'maximize'")
    if not completed or len(completed) < n_startup_trials:
        return False
    step = len(current) - 1
    if step < 0 or step < n_warmup_steps:
        return False
    at_step = [c[step] for c in completed if len(c) > step]
    if not at_step:
        return False
    median = float(np.median(at_step))
    if direction == "minimize":
        return bool(min(current) > median)
    return bool(max(current) < median)


def _prune_cases():
    """Cases chosen so that each usual slip gives a different answer on at least one of them."""
    done = [[1.0, 0.8, 0.6, 0.5], [1.1, 0.9, 0.7, 0.6], [0.9, 0.7, 0.5, 0.4], [1.2, 1.0, 0.9, 0.8],
            [1.0, 0.85, 0.65, 0.55]]
    mixed = [[1.0, 0.6, 0.62, 0.7], [1.2, 0.9, 0.8], [0.9, 0.5, 0.45, 0.44], [1.1, 0.8, 0.75, 0.7], [1.3, 1.0]]
    acc = [[0.5, 0.6, 0.7], [0.4, 0.55, 0.65], [0.6, 0.7, 0.75], [0.5, 0.65, 0.7], [0.55, 0.6, 0.72]]
    m = "minimize"
    return [
        {"current": [1.0, 0.9], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": m},
        {"current": [1.0, 0.8], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": m},
        {"current": [1.0, 0.8, 0.64], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": m},
        {"current": [1.3, 0.75, 0.8], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": m},
        {"current": [1.0, 0.95], "completed": done[:3], "n_startup_trials": 5, "n_warmup_steps": 0, "direction": m},
        {"current": [1.0, 0.95], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 2, "direction": m},
        {"current": [1.0, 0.95, 0.9], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 2, "direction": m},
        {"current": [1.05, 0.8, 0.8], "completed": mixed, "n_startup_trials": 4, "n_warmup_steps": 0, "direction": m},
        {"current": [0.95, 0.7, 0.58], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": m},
        {"current": [1.0, 0.9, 0.8, 0.7, 0.6], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0,
         "direction": m},
        {"current": [0.8, 0.9], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": m},
        {"current": [1.0, 0.9, 0.7, 0.56], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0,
         "direction": m},
        {"current": [1.0, 0.85], "completed": done, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": m},
        {"current": [0.5, 0.58], "completed": acc, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": "maximize"},
        {"current": [0.6, 0.62], "completed": acc, "n_startup_trials": 5, "n_warmup_steps": 0, "direction": "maximize"},
    ]


def _variant(current, completed, *, n_startup_trials, n_warmup_steps, direction, slip):
    """The pruning rule with one slip."""
    startup = 0 if slip == "no_startup" else n_startup_trials
    warmup = 0 if slip == "no_warmup" else n_warmup_steps
    if not completed or len(completed) < startup:
        return False
    step = len(current) - 1
    if step < warmup:
        return False
    at_step = [c[-1] for c in completed] if slip == "final" else [c[step] for c in completed if len(c) > step]
    if not at_step:
        return False
    centre = float(np.mean(at_step)) if slip == "mean" else float(np.median(at_step))
    minimize = (direction == "minimize") != (slip == "direction")
    value = current[-1] if slip == "latest" else (min(current) if minimize else max(current))
    if slip == "tie":
        return bool(value >= centre) if minimize else bool(value <= centre)
    return bool(value > centre) if minimize else bool(value < centre)


_PRUNE_HINTS = [
    ("direction", "you pruned as if the direction were reversed: when minimizing a loss, a trial is worse when its "
                  "value is LARGER than the median"),
    ("latest", "compare the trial's BEST value so far (min over its steps when minimizing), not only its latest "
               "one: a trial that was good earlier is kept"),
    ("final", "compare with the completed trials' values at the SAME step (c[step]), not with their final values: "
              "early in training every curve is worse than at the end"),
    ("mean", "use the median of the completed trials' values at this step, not their mean (one diverged trial "
             "would drag a mean)"),
    ("no_startup", "do not prune before n_startup_trials trials have completed: with too few, the median means "
                   "little"),
    ("no_warmup", "do not prune while the step is below n_warmup_steps: the first epochs say little about the end"),
    ("tie", "a trial whose best value equals the median is kept: prune only when it is strictly worse"),
]


def _describe_prune(case) -> str:
    cur = ", ".join(f"{v:g}" for v in case["current"])
    return (f"current = [{cur}] (step {len(case['current']) - 1}), {len(case['completed'])} completed trials, "
            f"n_startup_trials = {case['n_startup_trials']}, n_warmup_steps = {case['n_warmup_steps']}, "
            f"direction = {case['direction']!r}")


def check_median_prune(fn) -> CheckResult:
    """Check ``fn(current, completed, n_startup_trials=..., n_warmup_steps=..., direction=...) -> bool``."""
    name = "check_median_prune"
    cases = _prune_cases()
    answers = []
    for case in cases:
        got, error = attempt(name, fn, list(case["current"]), [list(c) for c in case["completed"]],
                             n_startup_trials=case["n_startup_trials"], n_warmup_steps=case["n_warmup_steps"],
                             direction=case["direction"], where=_describe_prune(case))
        if error:
            return error
        if not isinstance(got, (bool, np.bool_)):
            return CheckResult(name, FAILED, f"returned {got!r} for {_describe_prune(case)}; expected True or False")
        answers.append(bool(got))
    expected = [median_prune_reference(**case) for case in cases]
    if answers == expected:
        return CheckResult(name, PASSED, f"all {len(cases)} checks passed")
    k = next(i for i, (a, e) in enumerate(zip(answers, expected)) if a != e)
    message = (f"fails for {_describe_prune(cases[k])} (case {k + 1} of {len(cases)}): returned {answers[k]}, "
               f"expected {expected[k]}")
    for slip, text in _PRUNE_HINTS:  # the slip that explains every answer
        if answers == [_variant(**case, slip=slip) for case in cases]:
            message += f". Hint: {text}"
            break
    return CheckResult(name, FAILED, message)
