"""The Appendix F checkers: references pass, realistic wrong answers are rejected with the right hint."""

import numpy as np
import pytest
import torch

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_f import (
    check_prototype_logits,
    check_select_confident,
    prototype_logits_reference,
    select_confident_reference,
)

# ------------------------------------------------------------------------------------- pseudo-label selection


def select(probs, threshold, *, strict=False, as_mask=False, give_confidence=False, axis=1):
    """A reader's pseudo-label selection; the keyword arguments reproduce the usual slips."""
    confidence, labels = probs.max(axis=axis), probs.argmax(axis=axis)
    mask = confidence > threshold if strict else confidence >= threshold
    if as_mask:
        return mask, labels[mask]
    keep = np.flatnonzero(mask)
    return keep, (confidence if give_confidence else labels)[keep]


def test_the_reference_keeps_rows_on_the_threshold_and_can_be_empty():
    probs = np.array([[0.75, 0.25], [0.5, 0.5], [0.1, 0.9]])
    idx, labels = select_confident_reference(probs, 0.75)
    assert idx.tolist() == [0, 2] and labels.tolist() == [0, 1]
    idx, labels = select_confident_reference(probs, 0.95)
    assert idx.shape == (0,) and labels.shape == (0,)
    with pytest.raises(ValueError, match="probs"):
        select_confident_reference(np.ones(3), 0.5)


def test_select_correct_answers_pass():
    assert check_select_confident(select_confident_reference).status == PASSED
    assert check_select_confident(select).passed

    def via_torch(probs, threshold):
        conf, labels = torch.from_numpy(probs).max(dim=1)
        keep = torch.nonzero(conf >= threshold).flatten()
        return keep, labels[keep]

    assert check_select_confident(via_torch).passed


def test_strict_inequality_is_diagnosed():
    result = check_select_confident(lambda p, t: select(p, t, strict=True))
    assert result.status == FAILED and "use >=" in result.message and "case 1 of" in result.message


def test_mask_and_confidences_are_diagnosed():
    result = check_select_confident(lambda p, t: select(p, t, as_mask=True))
    assert result.status == FAILED and "boolean mask" in result.message
    result = check_select_confident(lambda p, t: select(p, t, give_confidence=True))
    assert result.status == FAILED and "argmax of each row" in result.message


def test_wrong_axis_is_diagnosed():
    result = check_select_confident(lambda p, t: select(p, t, axis=0))
    assert result.status == FAILED and "axis=1" in result.message


def test_select_stubs_bad_returns_and_crashes_are_reported():
    def stub(probs, threshold):
        raise NotImplementedError

    assert check_select_confident(stub).status == NOT_ATTEMPTED
    result = check_select_confident(lambda p, t: select(p, t)[0])
    assert result.status == FAILED and "pair" in result.message
    result = check_select_confident(lambda p, t: p @ np.ones((2, 2)))
    assert result.status == ERROR and "ValueError" in result.message


# ------------------------------------------------------------------------------------- prototype logits


def protos(support, labels, query, *, reduce="mean", squared=True, sign=-1, sort=True):
    """A reader's prototype classifier; the keyword arguments reproduce the usual slips."""
    classes = np.unique(labels) if sort else np.array(list(dict.fromkeys(labels.tolist())))
    rows = [support[labels == c] for c in classes]
    P = np.stack([r.mean(0) if reduce == "mean" else r.sum(0) if reduce == "sum" else r[0] for r in rows])
    d = np.linalg.norm(query[:, None] - P[None], axis=-1)
    return sign * (d ** 2 if squared else d), classes


def test_the_reference_matches_torch_cdist_and_a_loop():
    rng = np.random.default_rng(0)
    support, labels, query = rng.normal(size=(9, 5)), np.array([8, 7, 9] * 3), rng.normal(size=(4, 5))
    logits, classes = prototype_logits_reference(support, labels, query)
    assert classes.tolist() == [7, 8, 9] and logits.shape == (4, 3)
    P = torch.stack([torch.from_numpy(support[labels == c]).mean(0) for c in (7, 8, 9)])
    expected = -torch.cdist(torch.from_numpy(query), P) ** 2
    assert np.allclose(logits, expected.numpy(), atol=1e-10)
    with pytest.raises(ValueError, match="support_labels"):
        prototype_logits_reference(support, labels[:3], query)
    with pytest.raises(ValueError, match="query"):
        prototype_logits_reference(support, labels, query[:, :2])


def test_prototype_correct_answers_pass():
    assert check_prototype_logits(prototype_logits_reference).status == PASSED
    assert check_prototype_logits(protos).passed

    def via_torch(support, labels, query):
        classes = torch.unique(torch.from_numpy(labels))                     # sorted by default
        S = torch.from_numpy(support)
        P = torch.stack([S[torch.from_numpy(labels) == c].mean(0) for c in classes])
        return -torch.cdist(torch.from_numpy(query), P) ** 2, classes

    assert check_prototype_logits(via_torch).passed


def test_unsquared_distance_and_missing_minus_are_diagnosed():
    result = check_prototype_logits(lambda s, l, q: protos(s, l, q, squared=False))
    assert result.status == FAILED and "SQUARED" in result.message
    result = check_prototype_logits(lambda s, l, q: protos(s, l, q, sign=1))
    assert result.status == FAILED and "minus the squared distance" in result.message


@pytest.mark.parametrize("reduce, hint", [("first", "not its first example"), ("sum", "divide by their number")])
def test_wrong_prototypes_are_diagnosed(reduce, hint):
    result = check_prototype_logits(lambda s, l, q: protos(s, l, q, reduce=reduce))
    assert result.status == FAILED and hint in result.message


def test_class_order_is_diagnosed():
    result = check_prototype_logits(lambda s, l, q: protos(s, l, q, sort=False))
    assert result.status == FAILED and "ascending order" in result.message and "[9, 7, 8" in result.message


def test_prototype_stubs_bad_returns_and_crashes_are_reported():
    def stub(support, labels, query):
        raise NotImplementedError

    assert check_prototype_logits(stub).status == NOT_ATTEMPTED
    result = check_prototype_logits(lambda s, l, q: protos(s, l, q)[0])
    assert result.status == FAILED and "pair" in result.message
    result = check_prototype_logits(lambda s, l, q: (protos(s, l, q)[0].T, np.unique(l)))
    assert result.status == FAILED and "one row per query" in result.message
    result = check_prototype_logits(lambda s, l, q: (s @ q, l))
    assert result.status == ERROR and "ValueError" in result.message
