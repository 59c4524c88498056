"""Checkers for the exercises of Chapter 28 (the attention mechanism).

- :func:`check_masked_attention`: scaled dot-product attention in NumPy with an optional boolean mask,
  ``fn(q, k, v, mask=None) -> (..., L, Ev)``: softmax(q k^T / sqrt(E) with blocked scores at -inf) v, where
  ``mask`` (L, S) is True where a query *may* attend to a key (the convention of
  ``torch.nn.functional.scaled_dot_product_attention``), and a query whose every key is blocked gets a row of
  zeros, as torch 2.13 returns.

The reference is :func:`lessons_lib.functional.attention.scaled_dot_product_attention`, equal to torch's in
``tests/test_attention.py`` and again in ``tests/test_exercises_ch28.py``. The hints recognise the usual slips by
recomputing them: no scaling, a scale of 1/E or 1/sqrt(Ev), the mask read the other way round (True = blocked, as in
``nn.MultiheadAttention``), blocked scores set to 0 instead of -inf, the mask applied after the softmax, the
softmax taken over the queries, the weights returned instead of the output, an overflowing exp and a NaN row.
"""

from __future__ import annotations

import math

import numpy as np

from lessons_lib.functional.attention import scaled_dot_product_attention
from lessons_lib.notebook.checking import compare, same_values

__all__ = ["check_masked_attention", "masked_attention_reference"]


def masked_attention_reference(q, k, v, mask=None):
    """softmax(q k^T / sqrt(E), blocked where ``mask`` is False) v: the library's (and torch's) attention."""
    return scaled_dot_product_attention(q, k, v, attn_mask=mask)


def _variant(q, k, v, mask=None, *, scale="sqrt_e", mask_as="allow", blocked=-np.inf, axis=-1, when="before"):
    """A reader's attention with one slip; every keyword names the slip it reproduces."""
    E, Ev = q.shape[-1], v.shape[-1]
    factor = {"sqrt_e": 1 / math.sqrt(E), "none": 1.0, "e": 1 / E, "sqrt_ev": 1 / math.sqrt(Ev)}[scale]
    scores = q @ np.swapaxes(k, -1, -2) * factor                                 # (..., L, S)
    allowed = None if mask is None else (mask if mask_as == "allow" else ~mask)
    if allowed is not None and when == "before":
        scores = np.where(allowed, scores, blocked)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(scores - np.max(scores, axis=axis, keepdims=True))
        weights = e / np.sum(e, axis=axis, keepdims=True)
    if allowed is not None and when == "after":
        weights = weights * allowed                                             # blocked, but not renormalised
    return weights @ v


def _large(rng):
    """Keys that include the queries themselves, all of size ~100: the best score of each row is in the thousands."""
    q = np.round(40 * rng.normal(size=(2, 8)))
    k = np.vstack([q, np.round(40 * rng.normal(size=(1, 8)))])
    return {"q": q, "k": k, "v": np.round(rng.normal(size=(3, 2)), 1), "mask": None}


def _cases():
    rng = np.random.default_rng(28)
    normal = lambda *shape: np.round(rng.normal(size=shape), 1)                # noqa: E731  (short messages)
    causal = np.tril(np.ones((4, 4), dtype=bool))
    banded = np.array([[True, True, False, False, True],
                       [False, True, True, False, False],
                       [True, False, False, True, True]])
    blocked_row = np.array([[True, False, True], [False, False, False], [False, True, True]])
    return [
        {"q": normal(3, 4), "k": normal(5, 4), "v": normal(5, 2), "mask": None},
        {"q": normal(3, 2), "k": normal(5, 2), "v": normal(5, 3), "mask": banded},
        {"q": normal(4, 3), "k": normal(4, 3), "v": normal(4, 3), "mask": causal},
        {"q": normal(2, 4, 3), "k": normal(2, 4, 3), "v": normal(2, 4, 2),
         "mask": causal},                                                          # a batch of 2, one mask for both
        _large(rng),                                                               # scores in the thousands
        {"q": normal(3, 2), "k": normal(3, 2), "v": normal(3, 2),
         "mask": blocked_row},                                                     # query 1 may attend to nothing
    ]


def _hints():
    def matches(case, got, **slip):
        return same_values(got, _variant(**case, **slip), rtol=1e-6, atol=1e-9)

    def weights_returned(case, got, expected):
        L, S = case["q"].shape[-2], case["k"].shape[-2]
        if tuple(np.shape(got)) == (*case["q"].shape[:-2], L, S) != tuple(np.shape(expected)):
            return "that has the shape of the weights (L, S); the output is the weights times v, (L, Ev)"

    def fully_blocked(case, got, expected):
        mask = case["mask"]
        if mask is not None and not mask.any(axis=-1).all() and np.isnan(np.asarray(got, dtype=float)).any():
            return ("one query may attend to no key at all: its softmax is 0/0. Give that row zero weights and a zero "
                    "output (torch 2.13 does), e.g. divide by the row sum only where it is positive")

    def no_mask(case, got, expected):
        if case["mask"] is None and np.isnan(np.asarray(got, dtype=float)).all():
            return "mask=None means no mask: every query may attend to every key"

    def overflow(case, got, expected):
        scores = case["q"] @ np.swapaxes(case["k"], -1, -2) / math.sqrt(case["q"].shape[-1])
        if np.abs(scores).max() > 700 and not np.isfinite(np.asarray(got, dtype=float)).all():
            return "exp overflows for large scores: subtract each row's maximum score before the exp"

    def scaling(case, got, expected):
        if matches(case, got, scale="none"):
            return "the scores are not scaled: divide q k^T by sqrt(E), E = q.shape[-1]"
        if matches(case, got, scale="e"):
            return "you divided by E; the scale is 1 / sqrt(E)"
        if matches(case, got, scale="sqrt_ev"):
            return "E is the size of the queries and keys (q.shape[-1]), not of the values"

    def mask_reading(case, got, expected):
        if case["mask"] is None:
            return None
        if matches(case, got, mask_as="block"):
            return ("the mask is read the wrong way round: here True means 'may attend' (torch's "
                    "scaled_dot_product_attention); True = 'blocked' is nn.MultiheadAttention's convention")
        if matches(case, got, blocked=0.0):
            return "a blocked score set to 0 still gets exp(0) = 1 in the softmax: set it to -inf"
        if matches(case, got, when="after"):
            return ("you zeroed the weights after the softmax, so a row no longer sums to 1: block the scores "
                    "(-inf) before the softmax")

    def wrong_axis(case, got, expected):
        if matches(case, got, axis=-2):
            return "the softmax runs over the keys (the last axis, one row per query), not over the queries"

    return [weights_returned, fully_blocked, overflow, no_mask, scaling, mask_reading, wrong_axis]


def check_masked_attention(fn):
    """Check ``fn(q, k, v, mask=None) -> (..., L, Ev)`` against scaled dot-product attention with a boolean mask."""
    return compare(fn, masked_attention_reference, _cases(), name="check_masked_attention", rtol=1e-6, atol=1e-9,
                   hints=_hints())
