"""The Appendix H checkers: references pass (and agree with Optuna), realistic wrong answers get the right hint."""

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState, create_trial

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_h import (
    _prune_cases,
    best_so_far_reference,
    check_best_so_far,
    check_median_prune,
    median_prune_reference,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


# ------------------------------------------------------------------------------------------ best so far


def test_best_so_far_reference_values():
    got = best_so_far_reference([None, 0.9, float("nan"), 0.7, 0.8, None], "minimize")
    assert np.isnan(got[0]) and np.allclose(got[1:], [0.9, 0.9, 0.7, 0.7, 0.7])
    assert np.allclose(best_so_far_reference([0.1, 0.3, 0.2], "maximize"), [0.1, 0.3, 0.3])
    with pytest.raises(ValueError, match="direction"):
        best_so_far_reference([1.0], "lower")


def test_best_so_far_matches_optuna_best_value():
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=3))
    bests = []

    def objective(trial):
        return trial.suggest_float("x", -2, 2) ** 2

    for _ in range(8):
        study.optimize(objective, n_trials=1)
        bests.append(study.best_value)
    assert np.allclose(best_so_far_reference([t.value for t in study.trials], "maximize"), bests)


def test_best_so_far_correct_answers_pass():
    assert check_best_so_far(best_so_far_reference).status == PASSED

    def with_fmin(values, direction):
        v = np.array([np.nan if x is None else x for x in values], dtype=float)
        return np.fmin.accumulate(v) if direction == "minimize" else np.fmax.accumulate(v)

    def as_list(values, direction):
        return list(best_so_far_reference(values, direction))

    assert check_best_so_far(with_fmin).passed and check_best_so_far(as_list).passed


def _no_none(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_best_so_far_wrong_direction_is_diagnosed():
    result = check_best_so_far(lambda values, direction: np.fmin.accumulate(_no_none(values)))
    assert result.status == FAILED and "curve for direction='minimize'" in result.message and "largest" in result.message


def test_best_so_far_nan_poisoning_is_diagnosed():
    def naive(values, direction):
        v = _no_none(values)
        return np.minimum.accumulate(v) if direction == "minimize" else np.maximum.accumulate(v)

    result = check_best_so_far(naive)
    assert result.status == FAILED and "np.fmin.accumulate" in result.message and "case 3 of" in result.message


def test_best_so_far_raw_values_and_overall_best_are_diagnosed():
    result = check_best_so_far(lambda values, direction: _no_none(values))
    assert result.status == FAILED and "values themselves" in result.message
    result = check_best_so_far(lambda values, direction: np.full(len(values), np.nanmin(_no_none(values))
                                                                 if direction == "minimize" else np.nanmax(_no_none(values))))
    assert result.status == FAILED and "overall best" in result.message


def test_best_so_far_shape_stub_and_crash():
    result = check_best_so_far(lambda values, direction: best_so_far_reference(values, direction)[:-1])
    assert result.status == FAILED and "shape" in result.message
    result = check_best_so_far(lambda values, direction: min(values))
    assert result.status == FAILED and "one entry per trial" in result.message

    def stub(values, direction):
        raise NotImplementedError

    assert check_best_so_far(stub).status == NOT_ATTEMPTED
    result = check_best_so_far(lambda values, direction: best_so_far_reference([v * 1.0 for v in values], direction))
    assert result.status == ERROR and "TypeError" in result.message and "values = [" in result.message


# ------------------------------------------------------------------------------------------ median pruning


def optuna_decision(current, completed, n_startup_trials, n_warmup_steps, direction):
    """What Optuna's own MedianPruner says for the same situation."""
    study = optuna.create_study(direction=direction, pruner=optuna.pruners.MedianPruner(
        n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps))
    for curve in completed:
        study.add_trial(create_trial(state=TrialState.COMPLETE, value=curve[-1], intermediate_values=dict(enumerate(curve))))
    trial = study.ask()
    for step, value in enumerate(current):
        trial.report(value, step)
    return trial.should_prune()


def test_reference_agrees_with_optuna_on_the_checker_cases():
    for case in _prune_cases():
        assert median_prune_reference(**case) == optuna_decision(**case), case


def test_reference_agrees_with_optuna_on_random_situations():
    rng = np.random.default_rng(0)
    for _ in range(40):
        n_done = int(rng.integers(0, 8))
        completed = [list(np.round(rng.uniform(0, 1, int(rng.integers(1, 7))), 2)) for _ in range(n_done)]
        current = list(np.round(rng.uniform(0, 1, int(rng.integers(1, 7))), 2))
        case = {"current": current, "completed": completed, "n_startup_trials": int(rng.integers(0, 5)),
                "n_warmup_steps": int(rng.integers(0, 3)), "direction": str(rng.choice(["minimize", "maximize"]))}
        assert median_prune_reference(**case) == optuna_decision(**case), case


def solution(current, completed, n_startup_trials, n_warmup_steps, direction, slip=None):
    """A reader's rule; ``slip`` reproduces one usual mistake."""
    step = len(current) - 1
    if len(completed) == 0 or (slip != "startup" and len(completed) < n_startup_trials):
        return False
    if slip != "warmup" and step < n_warmup_steps:
        return False
    at_step = [c[-1] for c in completed] if slip == "final" else [c[step] for c in completed if len(c) > step]
    if not at_step:
        return False
    centre = np.mean(at_step) if slip == "mean" else np.median(at_step)
    minimize = direction == "minimize"
    if slip == "flip":
        minimize = not minimize
    value = current[-1] if slip == "latest" else (min(current) if minimize else max(current))
    if slip == "tie":
        return bool(value >= centre) if minimize else bool(value <= centre)
    return bool(value > centre) if minimize else bool(value < centre)


def test_median_prune_correct_answers_pass():
    assert check_median_prune(lambda *a, **k: median_prune_reference(*a, **k)).status == PASSED
    assert check_median_prune(solution).passed
    assert check_median_prune(optuna_decision).passed


@pytest.mark.parametrize("slip, words", [
    ("latest", "BEST value so far"),
    ("final", "SAME step"),
    ("mean", "not their mean"),
    ("startup", "n_startup_trials"),
    ("warmup", "n_warmup_steps"),
    ("flip", "direction were reversed"),
    ("tie", "strictly worse"),
])
def test_median_prune_slips_are_diagnosed(slip, words):
    result = check_median_prune(lambda *a, **k: solution(*a, **k, slip=slip))
    assert result.status == FAILED and "Hint:" in result.message and words in result.message, result.message


def test_median_prune_non_bool_stub_and_crash():
    result = check_median_prune(lambda current, completed, **k: 1.0)
    assert result.status == FAILED and "expected True or False" in result.message

    def stub(current, completed, n_startup_trials, n_warmup_steps, direction):
        raise NotImplementedError

    assert check_median_prune(stub).status == NOT_ATTEMPTED
    result = check_median_prune(lambda current, completed, **k: completed[0][len(current)] > 0)
    assert result.status == ERROR and "IndexError" in result.message


def test_median_prune_message_names_the_case():
    result = check_median_prune(lambda *a, **k: solution(*a, **k, slip="mean"))
    assert "n_startup_trials = 5" in result.message and "direction = 'minimize'" in result.message
    assert len(result.message) < 700
