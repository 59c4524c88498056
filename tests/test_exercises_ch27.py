"""The Chapter 27 checker: the reference passes, realistic wrong answers are rejected with the right hint."""

import numpy as np
import pytest

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch27 import check_sequence_scores, sequence_scores_reference


def test_reference_on_hand_examples():
    assert sequence_scores_reference([[5, 6, 7], [5, 9, 7]], [[5, 6, 7], [5, 6, 7]]) == (0.5, 5 / 6)
    assert sequence_scores_reference([[4, 4], [8, 3, 3]], [[4, 4, 0], [8, 3, 0]]) == (0.5, 1.0)   # ran on
    assert sequence_scores_reference([[4]], [[4, 5]]) == (0.0, 0.5)                               # stopped early


def scores_numpy(pred, target, pad_id=0):
    width = max(max(map(len, pred)), max(map(len, target)))
    p = np.array([list(r) + [pad_id] * (width - len(r)) for r in pred])
    t = np.array([list(r) + [pad_id] * (width - len(r)) for r in target])
    real = t != pad_id
    exact = np.all((p == t) | ~real, axis=1) & ~np.any((p != pad_id) & ~real, axis=1)
    return exact.mean(), ((p == t) & real).sum() / real.sum()


def test_correct_answers_pass():
    assert check_sequence_scores(sequence_scores_reference).status == PASSED
    assert check_sequence_scores(scores_numpy).status == PASSED


def swapped(pred, target, pad_id=0):
    e, a = scores_numpy(pred, target, pad_id)
    return a, e


def with_padding(pred, target, pad_id=0):
    width = max(max(map(len, pred)), max(map(len, target)))
    p = np.array([list(r) + [pad_id] * (width - len(r)) for r in pred])
    t = np.array([list(r) + [pad_id] * (width - len(r)) for r in target])
    return np.all(p == t, axis=1).mean(), (p == t).mean()


def ignores_overrun(pred, target, pad_id=0):
    width = max(max(map(len, pred)), max(map(len, target)))
    p = np.array([list(r) + [pad_id] * (width - len(r)) for r in pred])
    t = np.array([list(r) + [pad_id] * (width - len(r)) for r in target])
    real = t != pad_id
    return np.all((p == t) | ~real, axis=1).mean(), ((p == t) & real).sum() / real.sum()


def first_token(pred, target, pad_id=0):
    _, a = scores_numpy(pred, target, pad_id)
    return np.mean([p[0] == t[0] for p, t in zip(pred, target)]), a


@pytest.mark.parametrize("wrong, hint", [
    (swapped, "in that order"),
    (with_padding, "padding is not a token"),
    (ignores_overrun, "runs on past the target"),
    (first_token, "EVERY real token"),
])
def test_wrong_answers_get_their_hint(wrong, hint):
    result = check_sequence_scores(wrong)
    assert result.status == FAILED and hint in result.message, result.message


def test_stub_crash_and_bad_return():
    def stub(pred, target, pad_id=0):
        raise NotImplementedError

    assert check_sequence_scores(stub).status == NOT_ATTEMPTED
    assert check_sequence_scores(lambda pred, target, pad_id=0: 1 / 0).status == ERROR
    bad = check_sequence_scores(lambda pred, target, pad_id=0: 0.5)
    assert bad.status == FAILED and "return a pair" in bad.message
