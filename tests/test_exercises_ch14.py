"""The Chapter 14 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch14 import (
    check_dropout_forward,
    check_label_smoothing,
    dropout_forward_reference,
    label_smoothing_reference,
)
from lessons_lib.scratch.layers import Dropout

# ------------------------------------------------------------------------------------------ dropout


def test_dropout_reference_and_other_correct_forms_pass():
    assert check_dropout_forward(dropout_forward_reference).status == PASSED

    def binomial(x, p, training, rng):  # a different random draw, equally correct
        if not training:
            return x
        return x * rng.binomial(1, 1 - p, size=x.shape) / (1 - p)

    def library(x, p, training, rng):
        layer = Dropout(p, rng=rng)
        layer.train(training)
        return layer.forward(x)

    assert check_dropout_forward(binomial).passed
    assert check_dropout_forward(library).passed
    torch_version = lambda x, p, training, rng: torch.nn.functional.dropout(torch.as_tensor(x), p, training)  # noqa: E731
    assert check_dropout_forward(torch_version).passed


def test_dropout_crash_is_reported():
    result = check_dropout_forward(lambda x, p, training, rng: x * rng.random(3))
    assert result.status == ERROR and "ValueError" in result.message


def test_dropout_missing_rescale_is_diagnosed():
    result = check_dropout_forward(lambda x, p, training, rng: x * (rng.random(x.shape) >= p) if training else x)
    assert result.status == FAILED and "divides the survivors by 1 − p" in result.message


def test_dropout_multiplied_by_keep_probability_is_diagnosed():
    def wrong(x, p, training, rng):
        return x * (rng.random(x.shape) >= p) * (1 - p) if training else x

    result = check_dropout_forward(wrong)
    assert result.status == FAILED and "don't multiply" in result.message


def test_dropout_p_as_keep_probability_is_diagnosed():
    def wrong(x, p, training, rng):
        return x * (rng.random(x.shape) < p) / (1 - p) if training else x

    result = check_dropout_forward(wrong)
    assert result.status == FAILED and "probability of DROPPING" in result.message


def test_dropout_active_or_rescaled_in_eval_is_diagnosed():
    def always(x, p, training, rng):
        return x * (rng.random(x.shape) >= p) / (1 - p)

    result = check_dropout_forward(always)
    assert result.status == FAILED and "only when training is True" in result.message

    def old_style(x, p, training, rng):
        return x * (rng.random(x.shape) >= p) / (1 - p) if training else x * (1 - p)

    result = check_dropout_forward(old_style)
    assert result.status == FAILED and "evaluation is the identity" in result.message


# ---------------------------------------------------------------------------------- label smoothing


def test_label_smoothing_reference_matches_torch():
    rng = np.random.default_rng(0)
    for eps in (0.0, 0.1, 0.4):
        z, t = rng.normal(size=(9, 5)), rng.integers(0, 5, size=9)
        ours = label_smoothing_reference(z, t, eps)
        theirs = torch.nn.CrossEntropyLoss(label_smoothing=eps)(torch.tensor(z), torch.tensor(t)).item()
        assert abs(ours - theirs) < 1e-12


def test_label_smoothing_reference_and_torch_pass():
    assert check_label_smoothing(label_smoothing_reference).status == PASSED

    def via_torch(logits, targets, eps):
        return torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(targets), label_smoothing=eps)

    assert check_label_smoothing(via_torch).passed


def _softmax_log(z):
    z = np.asarray(z, dtype=float)
    return np.log(np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))


def test_label_smoothing_over_other_classes_is_diagnosed():
    def wrong(logits, targets, eps):
        logp = _softmax_log(logits - logits.max(axis=1, keepdims=True))
        n, k = logp.shape
        q = np.full((n, k), eps / (k - 1))
        q[np.arange(n), targets] = 1 - eps
        return -(q * logp).sum(axis=1).mean()

    result = check_label_smoothing(wrong)
    assert result.status == FAILED and "K − 1" in result.message


def test_label_smoothing_ignoring_eps_and_overflow_are_diagnosed():
    def plain(logits, targets, eps):
        logp = _softmax_log(logits - logits.max(axis=1, keepdims=True))
        return -logp[np.arange(len(targets)), targets].mean()

    result = check_label_smoothing(plain)
    assert result.status == FAILED and "plain cross-entropy" in result.message

    def naive(logits, targets, eps):
        with np.errstate(all="ignore"):
            logp = _softmax_log(logits)
        k = logp.shape[1]
        q = np.full(logp.shape, eps / k)
        q[np.arange(len(targets)), targets] += 1 - eps
        return -(q * logp).sum(axis=1).mean()

    result = check_label_smoothing(naive)
    assert result.status == FAILED and "log-sum-exp" in result.message


def test_label_smoothing_sum_is_diagnosed():
    def summed(logits, targets, eps):
        return label_smoothing_reference(logits, targets, eps) * len(targets)

    result = check_label_smoothing(summed)
    assert result.status == FAILED and "averages" in result.message
