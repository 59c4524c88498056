"""The Chapter 31 checker: the reference equals the tokenizer, realistic wrong answers get the right hint."""

import os

import numpy as np
import pytest

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch31 import check_encode_batch, encode_batch_reference

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def tokenizer():
    pytest.importorskip("transformers")
    from lessons_lib.data.text import library_wordpiece, movie_reviews
    from lessons_lib.training.hf import hf_tokenizer

    reviews, _ = movie_reviews()
    return hf_tokenizer(library_wordpiece(reviews, 600)), reviews


@pytest.mark.parametrize("max_length, padding", [(None, True), (12, True), (16, "max_length"), (9, False),
                                                 (None, False), (3, "max_length"), (40, "max_length")])
def test_reference_equals_the_tokenizer_on_reviews(tokenizer, max_length, padding):
    tok, reviews = tokenizer
    texts = reviews[:7]
    pieces = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    ids, mask = encode_batch_reference(pieces, tok.cls_token_id, tok.sep_token_id, tok.pad_token_id, max_length,
                                       padding)
    theirs = tok(texts, padding=padding, max_length=max_length, truncation=max_length is not None)
    assert ids == theirs["input_ids"] and mask == theirs["attention_mask"]


def reader(pieces, cls_id, sep_id, pad_id, max_length=None, padding=True, *, slip=None):
    """A reader's own encode_batch, written independently; ``slip`` reproduces the usual mistakes."""
    rows = []
    for p in pieces:
        if slip == "cut_after_frame":
            row = [cls_id] + list(p) + [sep_id]
            row = row if max_length is None else row[:max_length]
        elif slip == "content_max":
            row = [cls_id] + list(p)[: max_length or len(p)] + [sep_id]
        else:
            row = [cls_id] + list(p)[: None if max_length is None else max_length - 2] + [sep_id]
        rows.append(row)
    if padding == "max_length" or (padding is True and slip == "always_max" and max_length):
        width = max_length
    elif padding is True:
        width = max(map(len, rows))
    else:
        width = 0
    ids, mask = [], []
    for row in rows:
        gap = max(width - len(row), 0)
        if slip == "left":
            ids.append([pad_id] * gap + row)
            mask.append([0] * gap + [1] * len(row))
        else:
            ids.append(row + [pad_id] * gap)
            m = [1] * len(row) + [0] * gap
            mask.append([1 - v for v in m] if slip == "mask" else m)
    return ids, mask


def test_correct_answers_pass():
    assert check_encode_batch(encode_batch_reference).status == PASSED
    assert check_encode_batch(reader).passed

    def as_arrays(*args, **kwargs):  # NumPy rows (ragged only when padding is False) are fine too
        ids, mask = reader(*args, **kwargs)
        return [np.array(r) for r in ids], [np.array(r) for r in mask]

    assert check_encode_batch(as_arrays).passed


@pytest.mark.parametrize("slip, words", [
    ("mask", "inverted"),
    ("left", "on the left"),
    ("always_max", "longest text in the batch"),
    ("cut_after_frame", "drops [SEP]"),
    ("content_max", "max_length - 2"),
])
def test_slips_get_their_hint(slip, words):
    result = check_encode_batch(lambda *a, **k: reader(*a, **k, slip=slip))
    assert result.status == FAILED and words in result.message, result.message


def test_no_frame_and_other_shapes():
    def unframed(pieces, cls_id, sep_id, pad_id, max_length=None, padding=True):
        rows = [list(p)[:max_length] for p in pieces]
        width = max_length if padding == "max_length" else max(map(len, rows)) if padding else 0
        return [r + [pad_id] * (width - len(r)) for r in rows], [[1] * len(r) + [0] * (width - len(r)) for r in rows]

    result = check_encode_batch(unframed)
    assert result.status == FAILED and "[CLS] content [SEP]" in result.message
    result = check_encode_batch(lambda *a, **k: reader(*a, **k)[0])
    assert result.status == FAILED and "pair (input_ids, attention_mask)" in result.message


def test_stub_and_crash():
    def stub(pieces, cls_id, sep_id, pad_id, max_length=None, padding=True):
        raise NotImplementedError

    assert check_encode_batch(stub).status == NOT_ATTEMPTED

    def crash(pieces, cls_id, sep_id, pad_id, max_length=None, padding=True):
        return max(len(p) for p in []), None

    result = check_encode_batch(crash)
    assert result.status == ERROR and "ValueError" in result.message and "max_length" in result.message
