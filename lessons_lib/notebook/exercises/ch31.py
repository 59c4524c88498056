"""Checkers for the exercises of Chapter 31 (pretrained transformers in practice: Hugging Face).

- :func:`check_encode_batch`: what a BERT tokenizer does to a batch after splitting the texts into token ids:
  truncation to ``max_length`` (the two special tokens included), the ``[CLS] ... [SEP]`` frame, padding on the right
  (``padding=True``: to the longest in the batch; ``"max_length"``: to ``max_length``; ``False``: none) and the
  attention mask (1 for a real or special token, 0 for padding).

The reference, :func:`encode_batch_reference`, equals ``PreTrainedTokenizerFast(texts, padding=..., max_length=...,
truncation=True)`` on the ids of ``tokenizer(text, add_special_tokens=False)`` (tested in
``tests/test_exercises_ch31.py`` on real reviews). The hints recompute the usual slips: the mask inverted, padding on
the left, padding to ``max_length`` when asked for the longest, truncating after framing (which cuts off ``[SEP]``) or
forgetting that the two special tokens count towards ``max_length``, no frame at all.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt

__all__ = ["check_encode_batch", "encode_batch_reference"]

CLS, SEP, PAD = 2, 3, 0


def encode_batch_reference(pieces, cls_id, sep_id, pad_id, max_length=None, padding=True):
    """``(input_ids, attention_mask)``, two lists of lists of ints, as a BERT tokenizer returns them with
    ``truncation=True`` for the content ids ``pieces`` (one list per text, special tokens not yet added)."""
    return _variant(pieces, cls_id, sep_id, pad_id, max_length, padding)


def _variant(pieces, cls_id, sep_id, pad_id, max_length, padding, *, slip=None):
    rows = []
    for p in pieces:
        p = [int(t) for t in p]
        if slip == "no_frame":
            row = p[:max_length] if max_length is not None else p
        elif slip == "cut_after_frame":
            row = [cls_id, *p, sep_id][:max_length] if max_length is not None else [cls_id, *p, sep_id]
        elif slip == "content_max":
            row = [cls_id, *(p[:max_length] if max_length is not None else p), sep_id]
        else:
            keep = p if max_length is None else p[:max(max_length - 2, 0)]
            row = [cls_id, *keep, sep_id]
        rows.append(row)
    if padding == "max_length" or (padding is True and slip == "always_max" and max_length is not None):
        width = max_length
    elif padding is True:
        width = max(len(r) for r in rows)
    else:
        width = None
    ids, mask = [], []
    for r in rows:
        n_pad = 0 if width is None else max(width - len(r), 0)
        one, zero = (0, 1) if slip == "mask_inverted" else (1, 0)
        if slip == "left":
            ids.append([pad_id] * n_pad + r)
            mask.append([zero] * n_pad + [one] * len(r))
        else:
            ids.append(r + [pad_id] * n_pad)
            mask.append([one] * len(r) + [zero] * n_pad)
    return ids, mask


def _cases():
    rng = np.random.default_rng(31)
    lengths = [[5, 2, 9], [12, 1, 7, 3], [0, 4], [6, 6, 6], [15, 3]]
    settings = [(None, True), (8, True), (10, "max_length"), (6, False), (None, False), (4, "max_length"), (2, True), (20, True)]
    cases = []
    for k, (max_length, padding) in enumerate(settings):
        sizes = lengths[k % len(lengths)]
        pieces = [rng.integers(5, 100, n).tolist() for n in sizes]
        cases.append({"pieces": pieces, "cls_id": CLS, "sep_id": SEP, "pad_id": PAD, "max_length": max_length,
                      "padding": padding})
    return cases


def _describe(case) -> str:
    lengths = [len(p) for p in case["pieces"]]
    return f"texts of {lengths} content tokens, max_length = {case['max_length']}, padding = {case['padding']!r}"


def _rows(x):
    """The answer's rows as lists of ints (lists, NumPy arrays and tensors accepted), or None."""
    if hasattr(x, "tolist"):
        x = x.tolist()
    try:
        return [[int(v) for v in (row.tolist() if hasattr(row, "tolist") else row)] for row in x]
    except (TypeError, ValueError):
        return None


def _difference(got, expected) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"got {type(got).__name__}, expected a pair (input_ids, attention_mask)"
    for name, g, e in zip(("input_ids", "attention_mask"), got, expected):
        rows = _rows(g)
        if rows is None:
            return f"{name} is not a list of lists of integers"
        if len(rows) != len(e):
            return f"{name} has {len(rows)} rows, expected one per text ({len(e)})"
        for k, (r, want) in enumerate(zip(rows, e)):
            if r != want:
                return f"{name} row {k} is {r}, expected {want}"
    return None


def check_encode_batch(fn) -> CheckResult:
    """Check ``fn(pieces, cls_id, sep_id, pad_id, max_length=None, padding=True)``: truncation, the frame, padding
    and the attention mask, as a BERT tokenizer does them (see the module docstring)."""
    name = "encode_batch"
    cases = _cases()
    slips = [
        ("mask_inverted", "the attention mask is inverted: 1 marks a token the model may attend to (real text and "
                          "[CLS]/[SEP]), 0 marks padding"),
        ("left", "you padded on the left; BERT's tokenizer pads on the right (padding_side='right'), so every row "
                 "starts with [CLS]"),
        ("always_max", "padding=True pads to the longest text in the batch, not to max_length (that is "
                       "padding='max_length')"),
        ("cut_after_frame", "you cut the framed row at max_length, which drops [SEP]; truncate the content to "
                            "max_length - 2 and then add [CLS] and [SEP]"),
        ("content_max", "the two special tokens count towards max_length: keep at most max_length - 2 content "
                        "tokens"),
        ("no_frame", "every row must be framed as [CLS] content [SEP] (cls_id first, sep_id after the content)"),
    ]
    for k, case in enumerate(cases, 1):
        expected = encode_batch_reference(**case)
        got, error = attempt(name, fn, **{**case, "pieces": [list(p) for p in case["pieces"]]}, where=_describe(case))
        if error:
            return error
        problem = _difference(got, expected)
        if problem:
            message = f"fails for {_describe(case)} (case {k} of {len(cases)}): {problem}"
            for slip, hint in slips:
                if _difference(got, _variant(**case, slip=slip)) is None:
                    message += f". Hint: {hint}"
                    break
            return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")
