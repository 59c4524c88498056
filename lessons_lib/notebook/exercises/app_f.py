"""Exercise checkers for Appendix F (learning paradigms).

- ``check_select_confident(fn)``: ``fn(probs, threshold) -> (indices, labels)``, the pseudo-labelling step: the
  rows of an ``(N, C)`` probability matrix whose largest probability is at least ``threshold``, as ascending
  integer indices, with their predicted class (the argmax of the row).
- ``check_prototype_logits(fn)``: ``fn(support, support_labels, query) -> (logits, classes)``, the prototypical
  network's classifier for labels that are any integers: ``classes`` the distinct labels in ascending order,
  ``logits[i, k] = -||query[i] - mean of the support rows labelled classes[k]||^2``.

The hints recognise the usual slips by recomputing them: ``>`` instead of ``>=``, the argmax over the wrong axis,
a boolean mask or the confidences returned instead of indices and labels; for the prototypes, a distance that is
not squared, a missing minus sign, the first support example (or the sum) instead of the mean, the classes in
order of first appearance instead of sorted.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, same_values

__all__ = ["check_prototype_logits", "check_select_confident", "prototype_logits_reference", "select_confident_reference"]


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _pair(name, got):
    """The reader's answer as two arrays, or a CheckResult saying why it is not a pair."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
        return None, CheckResult(name, FAILED, f"got {kind}; return a pair of arrays")
    try:
        return (np.asarray(_numpy(got[0])), np.asarray(_numpy(got[1]))), None
    except (TypeError, ValueError):
        return None, CheckResult(name, FAILED, "could not read the pair as two arrays")


def _fail(name, text, k, n, problem, hints, *args) -> CheckResult:
    message = f"fails for {text}, case {k} of {n}: {problem}"
    for hint in hints:
        said = hint(*args)
        if said:
            return CheckResult(name, FAILED, f"{message}. Hint: {said}")
    return CheckResult(name, FAILED, message)


# ------------------------------------------------------------------------------------- pseudo-label selection


def select_confident_reference(probs, threshold):
    """Pseudo-labels: ``(indices, labels)`` of the rows of ``probs`` (N, C) whose largest entry is >= threshold."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"select_confident: probs must have shape (N, C), got {probs.shape}")
    confidence, labels = probs.max(axis=1), probs.argmax(axis=1)
    keep = np.flatnonzero(confidence >= threshold)
    return keep, labels[keep]


def _softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _select_cases():
    rng = np.random.default_rng(3)
    exact = np.array([[0.75, 0.25, 0.0], [0.5, 0.25, 0.25], [0.125, 0.125, 0.75], [0.25, 0.5, 0.25]])  # exact binary fractions
    return [
        (exact, 0.75),                                   # two rows sit exactly on the threshold: >= keeps them
        (_softmax_rows(rng.normal(size=(12, 4)) * 2), 0.6),
        (_softmax_rows(rng.normal(size=(5, 7)) * 3), 0.5),
        (_softmax_rows(rng.normal(size=(6, 3))), 0.99),  # nothing is that confident: empty arrays
        (_softmax_rows(rng.normal(size=(9, 10)) * 4), 0.3),
    ]


def _select_hints():
    def strict(probs, threshold, got):
        keep = np.flatnonzero(probs.max(axis=1) > threshold)
        if same_values(got[0], keep):
            return "a row whose top probability equals the threshold counts as confident: use >=, not >"

    def mask(probs, threshold, got):
        if got[0].dtype == bool or same_values(got[0], probs.max(axis=1) >= threshold):
            return "return the row numbers (np.flatnonzero(mask)), not the boolean mask itself"

    def confidences(probs, threshold, got):
        keep = select_confident_reference(probs, threshold)[0]
        if len(keep) and same_values(got[1], probs.max(axis=1)[keep]):
            return "the labels are the classes (argmax of each row), not the probabilities (max of each row)"

    def wrong_axis(probs, threshold, got):
        if same_values(got[1], probs.argmax(axis=0)) or same_values(got[0], np.flatnonzero(probs.max(axis=0) >= threshold)):
            return "take the max and argmax over axis=1: one row per example, one column per class"

    return [mask, strict, confidences, wrong_axis]


def check_select_confident(fn):
    """Check ``fn(probs, threshold) -> (indices, labels)`` against the pseudo-labelling rule."""
    name = "check_select_confident"
    cases = _select_cases()
    for k, (probs, threshold) in enumerate(cases, 1):
        text = f"probs of shape {probs.shape} with threshold {threshold}"
        expected = select_confident_reference(probs, threshold)
        got, error = attempt(name, fn, probs.copy(), threshold, where=text)
        if error:
            return error
        pair, error = _pair(name, got)
        if error:
            return error
        idx, labels = pair
        if idx.shape != expected[0].shape or not same_values(idx, expected[0]):
            problem = f"indices {idx.tolist()}, expected {expected[0].tolist()}"
            return _fail(name, text, k, len(cases), problem, _select_hints(), probs, threshold, pair)
        if labels.shape != expected[1].shape or not same_values(labels, expected[1]):
            problem = f"labels {np.round(labels, 4).tolist()}, expected {expected[1].tolist()}"
            return _fail(name, text, k, len(cases), problem, _select_hints(), probs, threshold, pair)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")


# ------------------------------------------------------------------------------------- prototype logits


def prototype_logits_reference(support, support_labels, query):
    """Prototypical-network logits for any integer labels.

    support (S, D), support_labels (S,), query (Q, D) -> ``(logits (Q, C), classes (C,))`` where ``classes`` are
    the distinct labels in ascending order and ``logits[i, k] = -||query[i] - prototype_k||^2``, the prototype
    being the mean of the support rows of class ``classes[k]``.
    """
    support = np.asarray(support, dtype=np.float64)
    query = np.asarray(query, dtype=np.float64)
    support_labels = np.asarray(support_labels)
    if support.ndim != 2 or query.ndim != 2 or support.shape[1] != query.shape[1]:
        raise ValueError(f"prototype_logits: support (S, D) and query (Q, D) expected, got {support.shape} and {query.shape}")
    if support_labels.shape != (len(support),):
        raise ValueError(f"prototype_logits: support_labels must have shape ({len(support)},), got {support_labels.shape}")
    classes = np.unique(support_labels)
    prototypes = np.stack([support[support_labels == c].mean(axis=0) for c in classes])    # (C, D)
    d2 = ((query[:, None, :] - prototypes[None, :, :]) ** 2).sum(axis=-1)                # (Q, C)
    return -d2, classes


def _prototype_variant(support, labels, query, *, reduce="mean", power=2, sign=-1, order="sorted"):
    classes = np.unique(labels) if order == "sorted" else np.array(list(dict.fromkeys(labels.tolist())))
    if reduce == "mean":
        protos = np.stack([support[labels == c].mean(0) for c in classes])
    elif reduce == "sum":
        protos = np.stack([support[labels == c].sum(0) for c in classes])
    else:
        protos = np.stack([support[labels == c][0] for c in classes])
    d = np.sqrt(((query[:, None] - protos[None]) ** 2).sum(-1))
    return sign * d ** power, classes


def _prototype_cases():
    rng = np.random.default_rng(5)
    cases = []
    for labels, q, dim in [([0, 0, 1, 1, 2, 2], 5, 4), ([9, 7, 8, 7, 9, 8, 7, 9, 8], 6, 3),
                           ([3, 1, 3, 1, 3, 1, 3, 1, 3, 1], 4, 8), ([4, 2, 6], 3, 2)]:
        labels = np.array(labels)
        cases.append((rng.normal(size=(len(labels), dim)), labels, rng.normal(size=(q, dim))))
    return cases


def _prototype_hints():
    def matches(case, got, **slip):
        want = _prototype_variant(*case, **slip)
        return same_values(got[0], want[0]) and same_values(got[1], want[1])

    def classes_order(case, got):
        want = _prototype_variant(*case, order="first")
        if same_values(got[1], want[1]) and not same_values(got[1], np.unique(case[1])):
            return "list the classes in ascending order (np.unique), not in the order they first appear"

    def not_squared(case, got):
        if matches(case, got, power=1):
            return "that is minus the Euclidean distance; Snell et al. use the SQUARED distance"

    def no_minus(case, got):
        if matches(case, got, sign=1):
            return "a larger logit must mean closer: return minus the squared distance"

    def prototype_kind(case, got):
        if matches(case, got, reduce="first"):
            return "the prototype is the MEAN of all the support examples of a class, not its first example"
        if matches(case, got, reduce="sum"):
            return "you summed the support embeddings of each class; divide by their number (the mean)"

    return [classes_order, not_squared, no_minus, prototype_kind]


def check_prototype_logits(fn):
    """Check ``fn(support, support_labels, query) -> (logits, classes)`` for prototypical networks."""
    name = "check_prototype_logits"
    cases = _prototype_cases()
    for k, case in enumerate(cases, 1):
        support, labels, query = case
        text = f"support {support.shape} with labels {labels.tolist()}, query {query.shape}"
        expected = prototype_logits_reference(*case)
        got, error = attempt(name, fn, support.copy(), labels.copy(), query.copy(), where=text)
        if error:
            return error
        pair, error = _pair(name, got)
        if error:
            return error
        logits, classes = pair
        if not same_values(classes, expected[1]):
            problem = f"classes {classes.tolist()}, expected {expected[1].tolist()}"
            return _fail(name, text, k, len(cases), problem, _prototype_hints(), case, pair)
        if logits.shape != expected[0].shape:
            problem = f"logits of shape {logits.shape}, expected {expected[0].shape} (one row per query, one column per class)"
            return _fail(name, text, k, len(cases), problem, [], case, pair)
        if not same_values(logits, expected[0], rtol=1e-6, atol=1e-8):
            problem = f"logits off by up to {np.max(np.abs(logits.astype(float) - expected[0])):.3g}"
            return _fail(name, text, k, len(cases), problem, _prototype_hints(), case, pair)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed")
