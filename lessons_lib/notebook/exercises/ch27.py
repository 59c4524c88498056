"""Checkers for the exercises of Chapter 27 (encoder-decoder and sequence-to-sequence).

- :func:`check_sequence_scores`: the two numbers a seq2seq model is judged by, from predicted and target id
  sequences padded with ``pad_id``: the exact-match rate (a sequence counts only if every real target token is
  right and the prediction is not longer) and the token accuracy (right tokens over real target tokens).

The reference is :func:`sequence_scores_reference`; the hints recognise the usual slips by recomputing them:
padding counted as tokens, exact match judged on the first token or on the token accuracy, predictions that stop
early or run on past the target ignored, and the two numbers swapped.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import CheckResult, compare

__all__ = ["check_sequence_scores", "sequence_scores_reference"]


def _padded(rows, width, pad_id):
    return np.array([list(r)[:width] + [pad_id] * (width - len(list(r)[:width])) for r in rows])


def sequence_scores_reference(pred, target, pad_id=0):
    """(exact-match rate, token accuracy) of ``pred`` against ``target``, lists of id lists (or (N, T) arrays)
    padded with ``pad_id``. Positions where the target is padding are not tokens; a prediction with a real token
    where the target has padding (it ran on) is not an exact match."""
    width = max(max((len(r) for r in pred), default=0), max((len(r) for r in target), default=0), 1)
    p, t = _padded(pred, width, pad_id), _padded(target, width, pad_id)
    real = t != pad_id
    right = (p == t) & real
    exact = (right.sum(1) == real.sum(1)) & ~((p != pad_id) & ~real).any(1)
    return float(exact.mean()), float(right.sum() / real.sum())


def _variant(pred, target, pad_id=0, *, count_pad=False, ignore_overrun=False, first_only=False, swap=False):
    width = max(max(len(r) for r in pred), max(len(r) for r in target), 1)
    p, t = _padded(pred, width, pad_id), _padded(target, width, pad_id)
    real = np.ones_like(t, dtype=bool) if count_pad else t != pad_id
    right = (p == t) & real
    exact = right.sum(1) == real.sum(1)
    if not ignore_overrun and not count_pad:
        exact &= ~((p != pad_id) & (t == pad_id)).any(1)
    if first_only:
        exact = p[:, 0] == t[:, 0]
    scores = (float(exact.mean()), float(right.sum() / real.sum()))
    return scores[::-1] if swap else scores


def _cases():
    rng = np.random.default_rng(27)
    cases = [
        {"pred": [[5, 6, 7], [5, 9, 7]], "target": [[5, 6, 7], [5, 6, 7]], "pad_id": 0},
        {"pred": [[4, 4], [8, 3, 3]], "target": [[4, 4, 0], [8, 3, 0]], "pad_id": 0},          # one ran on
        {"pred": [[4], [7, 7, 7]], "target": [[4, 5], [7, 7, 7]], "pad_id": 0},                 # one stopped early
        {"pred": [[1, 2, 9, 9], [3, 3, 3, 3]], "target": [[1, 2, 9, 9], [3, 1, 1, 1]], "pad_id": 9},
    ]
    for n in (5, 20):
        target = [list(rng.integers(1, 6, rng.integers(2, 8))) for _ in range(n)]
        pred = [list(np.where(rng.random(len(t)) < 0.8, t, rng.integers(1, 6, len(t)))) for t in target]
        cases.append({"pred": [[int(v) for v in r] for r in pred], "target": [[int(v) for v in r] for r in target],
                      "pad_id": 0})
    return cases


def _describe(case) -> str:
    if len(case["target"]) > 4:
        return f"{len(case['target'])} random sequences (pad_id = {case['pad_id']})"
    return f"pred = {case['pred']}, target = {case['target']}, pad_id = {case['pad_id']}"


def _hints():
    def same(got, want):
        try:
            return np.allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), atol=1e-9)
        except (TypeError, ValueError):
            return False

    def make(message, **slip):
        def hint(case, got, expected):
            if same(got, _variant(**case, **slip)):
                return message
        return hint

    return [
        make("return (exact match, token accuracy) in that order", swap=True),
        make("padding is not a token: count only the positions where the target is not pad_id", count_pad=True),
        make("a prediction that runs on past the target's end (a real token where the target has padding) is not "
             "an exact match", ignore_overrun=True),
        make("a sequence is an exact match only if EVERY real token is right, not just the first", first_only=True),
    ]


def check_sequence_scores(fn) -> CheckResult:
    """Check ``fn(pred, target, pad_id=0) -> (exact_match, token_accuracy)``."""
    def as_pair(got, expected):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return f"got {got!r}; return a pair (exact_match, token_accuracy)"
        try:
            values = [float(v) for v in got]
        except (TypeError, ValueError):
            return f"got {got!r}; both numbers must be floats between 0 and 1"
        if not np.allclose(values, expected, atol=1e-9):
            return f"got ({values[0]:.4f}, {values[1]:.4f}), expected ({expected[0]:.4f}, {expected[1]:.4f})"
        return None

    return compare(fn, sequence_scores_reference, _cases(), name="check_sequence_scores", compare_fn=as_pair,
                   describe=_describe, hints=_hints())
