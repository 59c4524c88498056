"""Evaluation metrics for classifiers and language models (Chapter 15).

The inputs hold one entry (or, for ``top_k_accuracy``, one row) per sample, as NumPy arrays, Python lists or
torch tensors (converted with ``.detach().cpu().numpy()``); the results are Python floats or NumPy arrays.

- *Hard* metrics compare labels: ``y_true`` (the truth) and ``y_pred`` (the predicted class), both (N,).
  Labels can be any sortable values (ints, strings, bools); the classes are the sorted union of the two
  arrays, as in scikit-learn.
- *Ranking* metrics compare the truth with a real-valued ``scores`` array (N,): a probability, a logit or any
  number that is larger when the model is more confident that the sample is positive.

Counts, as in the chapter (the positive class is ``pos_label``):

- TP: true positive, FP: false positive (a Type I error), FN: false negative (a Type II error), TN.
- precision = TP / (TP + FP): of the samples predicted positive, the share that are positive.
- recall = TPR = TP / (TP + FN): of the positive samples, the share that were found.
- FPR = FP / (FP + TN): of the negative samples, the share wrongly flagged. Note that precision is *not*
  1 - FPR: the two divide by different groups (predicted positives versus true negatives).
- F1 = 2 P R / (P + R), the harmonic mean of P and R, which equals 2 TP / (2 TP + FP + FN).

Compared with ``sklearn.metrics`` the values agree (the tests check it). The differences:

- what counts as an error: a label outside ``labels`` (scikit-learn's confusion matrix silently drops such
  samples), ROC and AUC for a ``y_true`` with a single class and a PR curve without positives (scikit-learn
  warns and returns NaN or sets recall to 1), k > C in ``top_k_accuracy`` (it warns and returns 1);
- ``zero_division`` defaults to 0.0 without a warning (scikit-learn's ``"warn"`` gives 0.0 with one);
- ``top_k_accuracy`` breaks tied scores towards the lower class index, as ``argmax`` does.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "accuracy",
    "auc_by_ranking",
    "average_precision",
    "confusion_matrix",
    "f1",
    "perplexity",
    "precision",
    "precision_recall_curve",
    "recall",
    "roc_auc",
    "roc_curve",
    "top_k_accuracy",
]

AVERAGES = ("binary", "macro", "micro", "weighted", None)


# --------------------------------------------------------------------------------------------------------
# Reading and checking the inputs


def _to_numpy(x) -> np.ndarray:
    """A NumPy array from a list, an array or a torch tensor (on any device, with or without grad)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _one_d(fn: str, name: str, x) -> np.ndarray:
    x = _to_numpy(x)
    if x.ndim != 1:
        raise ValueError(f"{fn}: {name} must be 1-D (one entry per sample), got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{fn}: {name} is empty; expected at least one sample")
    return x


def _label_pair(fn: str, y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-D label arrays of the same length."""
    y_true, y_pred = _one_d(fn, "y_true", y_true), _one_d(fn, "y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"{fn}: y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    return y_true, y_pred


def _positives(fn: str, y_true, scores, pos_label, undefined: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Check a binary ``y_true`` and its ``scores``; return (is_positive (N,) bool, scores (N,) float64).

    ``undefined`` names what needs both classes (e.g. "AUC"): a ``y_true`` with one class is then an error.
    Without it, only the absence of positives is (recall would divide by zero).
    """
    y_true, scores = _one_d(fn, "y_true", y_true), _one_d(fn, "scores", scores)
    if len(y_true) != len(scores):
        raise ValueError(f"{fn}: y_true has {len(y_true)} labels but scores has {len(scores)} entries")
    scores = scores.astype(np.float64)
    if not np.all(np.isfinite(scores)):
        i = int(np.argmin(np.isfinite(scores)))
        raise ValueError(f"{fn}: scores must be finite, but scores[{i}] is {scores[i]}")
    classes = np.unique(y_true)
    if len(classes) > 2:
        raise ValueError(f"{fn}: y_true must hold two classes (positive and negative), got {classes.tolist()}")
    if len(classes) == 2 and pos_label not in classes:
        raise ValueError(f"{fn}: pos_label={pos_label!r} is not one of the classes in y_true {classes.tolist()}")
    if undefined and len(classes) == 1:
        raise ValueError(f"{fn}: y_true has only one class ({classes[0].item()!r}); {undefined} is undefined")
    is_positive = y_true == pos_label
    if not is_positive.any():
        raise ValueError(f"{fn}: y_true has no positive samples (pos_label={pos_label!r}); recall is undefined")
    return is_positive, scores


# --------------------------------------------------------------------------------------------------------
# Hard predictions: confusion matrix, accuracy, precision, recall, F1


def _count_matrix(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Counts[i, j] = number of samples of class labels[i] predicted as labels[j]; labels must be sorted."""
    k = len(labels)
    t = np.searchsorted(labels, y_true)  # (N,) class index of each true label
    p = np.searchsorted(labels, y_pred)  # (N,) class index of each prediction
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """The table of counts of (true class, predicted class) pairs.

    Rows are the true classes and columns the predicted ones, as in scikit-learn: entry [i, j] counts the
    samples whose true class is ``labels[i]`` and whose prediction is ``labels[j]``. The diagonal holds the
    correct predictions. For two classes 0 and 1 this is ``[[TN, FP], [FN, TP]]``.

    Args:
        y_true, y_pred: (N,) labels.
        labels: the classes to use, in the order of the rows (default: the sorted union of both arrays).
            Every label in ``y_true`` and ``y_pred`` must be one of them.

    Returns:
        (K, K) int64 array, K = number of labels.
    """
    fn = "confusion_matrix"
    y_true, y_pred = _label_pair(fn, y_true, y_pred)
    if labels is None:
        return _count_matrix(y_true, y_pred, np.union1d(y_true, y_pred))
    labels = _one_d(fn, "labels", labels)
    if len(np.unique(labels)) != len(labels):
        raise ValueError(f"{fn}: labels must not repeat, got {labels.tolist()}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        unknown = np.setdiff1d(y, labels)
        if unknown.size:
            raise ValueError(f"{fn}: {name} contains {unknown[0].item()!r}, which is not in labels {labels.tolist()}")
    order = np.argsort(labels, kind="stable")
    counts = _count_matrix(y_true, y_pred, labels[order])
    back = np.argsort(order)  # position of each given label in the sorted order
    return counts[np.ix_(back, back)]


def accuracy(y_true, y_pred) -> float:
    """The share of correct predictions, (TP + TN) / N for two classes. (N,), (N,) -> float in [0, 1]."""
    y_true, y_pred = _label_pair("accuracy", y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def predicted_labels(outputs) -> np.ndarray:
    """Class labels from a model's raw outputs (NumPy or torch, any device).

    (N, C) scores with C > 1: the argmax (softmax would not change it). (N,) or (N, 1): one logit per
    sample of a binary task, label 1 where the logit is > 0 (the probability > 0.5). Returns (N,) int64.
    A tensor is decided on its own device: only the N labels are copied to the host, not the N x C scores.
    """
    scores = outputs.detach() if hasattr(outputs, "detach") else _to_numpy(outputs)
    if scores.ndim not in (1, 2):
        raise ValueError(f"predicted_labels: outputs has shape {tuple(scores.shape)}; expected (N, C) scores or (N,) logits")
    if scores.ndim == 2 and scores.shape[1] > 1:
        labels = scores.argmax(1)
    else:
        labels = scores.reshape(-1) > 0
    return _to_numpy(labels).astype(np.int64)


def output_accuracy(y_true, outputs) -> float:
    """:func:`accuracy` of a model's raw outputs (see :func:`predicted_labels`); y_true (N,) or (N, 1)."""
    return accuracy(_to_numpy(y_true).reshape(-1), predicted_labels(outputs))


def _class_counts(fn: str, y_true, y_pred, average, pos_label) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class (TP, predicted count, true count), read off the confusion matrix.

    One entry per class (sorted), or a single entry for ``average="binary"`` (the positive class) and for
    ``"micro"`` (the classes pooled: summed counts).
    """
    if average not in AVERAGES:
        raise ValueError(f"{fn}: average is {average!r}; expected one of {list(AVERAGES)}")
    y_true, y_pred = _label_pair(fn, y_true, y_pred)
    labels = np.union1d(y_true, y_pred)
    if average == "binary":
        if len(labels) > 2:
            raise ValueError(f"{fn}: average='binary' needs two classes, but the labels are {labels.tolist()}; "
                             "choose average='macro', 'micro', 'weighted' or None")
        if len(labels) == 2 and pos_label not in labels:
            raise ValueError(f"{fn}: pos_label={pos_label!r} is not one of the labels {labels.tolist()}")
        labels = np.union1d(labels, [pos_label])  # the positive class may be absent from both arrays
    counts = _count_matrix(y_true, y_pred, labels)
    tp, pred_sum, true_sum = np.diag(counts), counts.sum(axis=0), counts.sum(axis=1)
    if average == "binary":
        i = int(np.searchsorted(labels, pos_label))
        return tp[i:i + 1], pred_sum[i:i + 1], true_sum[i:i + 1]
    if average == "micro":
        return tp.sum(keepdims=True), pred_sum.sum(keepdims=True), true_sum.sum(keepdims=True)
    return tp, pred_sum, true_sum


def _divide(fn: str, num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    """num / den entry by entry, with ``zero_division`` where den is 0 (a class never predicted, say)."""
    if not (zero_division in (0, 1) or (isinstance(zero_division, float) and math.isnan(zero_division))):
        raise ValueError(f"{fn}: zero_division is {zero_division!r}; expected 0.0, 1.0 or nan")
    out = np.full(num.shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def _average(per_class: np.ndarray, true_sum: np.ndarray, average):
    """Combine per-class scores: None keeps them, 'weighted' weights by class support, else a plain mean.

    NaN entries (from ``zero_division=nan``) are left out of the mean, as scikit-learn does.
    """
    if average is None:
        return per_class
    keep = ~np.isnan(per_class)
    if not keep.any():
        return float("nan")
    weights = true_sum[keep] if average == "weighted" and true_sum[keep].sum() > 0 else None
    return float(np.average(per_class[keep], weights=weights))


def precision(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
    """Precision = TP / (TP + FP): of the samples predicted as a class, the share that truly are.

    Args:
        y_true, y_pred: (N,) labels.
        average: how to summarise several classes.
            ``"binary"``: the score of the class ``pos_label`` only (two classes at most);
            ``"macro"``: the plain mean of the per-class scores (every class counts the same);
            ``"weighted"``: their mean weighted by each class's number of true samples (its *support*);
            ``"micro"``: pool the counts of all classes first (for precision this equals accuracy);
            ``None``: the per-class scores, in the order of the sorted classes.
        pos_label: the positive class for ``"binary"`` (ignored otherwise).
        zero_division: the value used when a denominator is 0, e.g. precision of a class never predicted.
            0.0 (the default), 1.0 or nan (NaN scores are then left out of the averages).

    Returns:
        float, or a (K,) array for ``average=None``.
    """
    tp, pred_sum, true_sum = _class_counts("precision", y_true, y_pred, average, pos_label)
    return _average(_divide("precision", tp, pred_sum, zero_division), true_sum, average)


def recall(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
    """Recall (sensitivity, TPR) = TP / (TP + FN): of the samples of a class, the share predicted as it.

    Arguments and return value as in :func:`precision`; ``zero_division`` applies to a class with no true
    samples (one that occurs only in ``y_pred``, or a ``pos_label`` that never occurs in ``y_true``).
    """
    tp, pred_sum, true_sum = _class_counts("recall", y_true, y_pred, average, pos_label)
    return _average(_divide("recall", tp, true_sum, zero_division), true_sum, average)


def f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
    """F1 = 2 P R / (P + R), the harmonic mean of precision P and recall R.

    Written with counts, F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (predicted count + true count), which is what
    is computed: it is also defined (as 0) when P + R = 0. ``zero_division`` is used only when a class is
    neither present nor predicted. The harmonic mean punishes imbalance: P = 1, R = 0.01 gives F1 = 0.0198,
    where the arithmetic mean would say 0.505.

    ``"macro"`` averages the per-class F1 scores (it is not the harmonic mean of macro P and macro R).
    Arguments and return value as in :func:`precision`.
    """
    tp, pred_sum, true_sum = _class_counts("f1", y_true, y_pred, average, pos_label)
    return _average(_divide("f1", 2 * tp, pred_sum + true_sum, zero_division), true_sum, average)


# --------------------------------------------------------------------------------------------------------
# Scores: ROC and precision-recall curves, AUC


def counts_at_thresholds(is_positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct score t, from high to low, the counts when "positive" means score >= t.

    Returns (fps, tps, thresholds), each (T,), T = number of distinct scores: fps[i] negatives and tps[i]
    positives have a score of at least thresholds[i]. Tied scores fall on the same side of every threshold,
    so they enter together.
    """
    order = np.argsort(scores, kind="stable")[::-1]  # high scores first
    scores, is_positive = scores[order], is_positive[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # index of the last sample of each score
    tps = np.cumsum(is_positive)[last_of_tie]
    fps = last_of_tie + 1 - tps
    return fps, tps, scores[last_of_tie]


def _roc_points(fn: str, y_true, scores, pos_label, drop_intermediate: bool, undefined: str):
    is_positive, scores = _positives(fn, y_true, scores, pos_label, undefined)
    fps, tps, thresholds = counts_at_thresholds(is_positive, scores)
    if drop_intermediate and len(fps) > 2:
        corner = (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0)  # the slope changes here
        keep = np.r_[True, corner, True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps = np.r_[0, fps], np.r_[0, tps]  # the threshold +inf: nothing predicted positive
    return fps / fps[-1], tps / tps[-1], np.r_[np.inf, thresholds]


def roc_curve(y_true, scores, pos_label=1, drop_intermediate: bool = True):
    """The ROC curve: (FPR, TPR) for every threshold on the scores, from the strictest to the loosest.

    A sample is predicted positive when its score is >= the threshold. The first point uses the threshold
    +inf, so that the curve starts at (0, 0); the last uses the lowest score and reaches (1, 1).

    Args:
        y_true: (N,) two classes; ``pos_label`` is the positive one.
        scores: (N,) real numbers, higher meaning "more likely positive".
        drop_intermediate: leave out points that lie on a straight segment between their neighbours
            (they change neither the plot nor the area), as scikit-learn does by default.

    Returns:
        fpr, tpr, thresholds: three (T + 1,) float arrays, T <= number of distinct scores; the same as
        ``sklearn.metrics.roc_curve`` with the same ``drop_intermediate``.
    """
    return _roc_points("roc_curve", y_true, scores, pos_label, drop_intermediate, "the ROC curve")


def roc_auc(y_true, scores, pos_label=1) -> float:
    """The area under the ROC curve, by the trapezoid rule. (N,), (N,) -> float in [0, 1].

    It equals the probability that a random positive scores higher than a random negative, counting a tie
    as half (see :func:`auc_by_ranking`): 1 is a perfect ranking, 0.5 what random scores give on average,
    below 0.5 a ranking worse than chance (flip the scores). An AUC of 0.5 does not prove a model useless,
    though: it can rank one half of the data well and the other half badly.
    """
    fpr, tpr, _ = _roc_points("roc_auc", y_true, scores, pos_label, True, "AUC")
    return float(np.trapezoid(tpr, fpr))


def auc_by_ranking(y_true, scores, pos_label=1) -> float:
    """AUC computed as a ranking probability, without any curve.

    AUC = P(s+ > s-) + 0.5 P(s+ = s-), where s+ is the score of a random positive and s- that of a random
    negative: the share of (positive, negative) pairs ranked the right way round, a tie counting half. (This
    is the Mann-Whitney U statistic divided by the number of pairs.) Equal to :func:`roc_auc`.

    Shapes: (N,), (N,) -> float in [0, 1].
    """
    is_positive, scores = _positives("auc_by_ranking", y_true, scores, pos_label, "AUC")
    pos, neg = scores[is_positive], np.sort(scores[~is_positive])
    below = np.searchsorted(neg, pos, side="left")  # for each positive, the negatives scored strictly lower
    tied = np.searchsorted(neg, pos, side="right") - below  # ... and those with exactly its score
    return float((below.sum() + 0.5 * tied.sum()) / (len(pos) * len(neg)))


def _pr_points(fn: str, y_true, scores, pos_label, drop_intermediate: bool):
    is_positive, scores = _positives(fn, y_true, scores, pos_label, undefined=None)
    fps, tps, thresholds = counts_at_thresholds(is_positive, scores)
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    precision_ = tps / (tps + fps)  # each threshold admits at least one sample, so no division by zero
    recall_ = tps / tps[-1]
    return np.r_[precision_[::-1], 1.0], np.r_[recall_[::-1], 0.0], thresholds[::-1]


def precision_recall_curve(y_true, scores, pos_label=1, drop_intermediate: bool = False):
    """Precision and recall for every threshold on the scores, as ``sklearn.metrics.precision_recall_curve``.

    A sample is predicted positive when its score is >= the threshold. The thresholds are the distinct
    scores in increasing order, so recall decreases along the arrays; a final point (precision 1, recall 0),
    with no threshold, closes the curve (at a threshold above every score nothing is predicted positive).

    Args:
        y_true: (N,) two classes, or positives only; ``pos_label`` is the positive one. At least one
            positive is needed (scikit-learn warns and sets recall to 1 instead).
        scores: (N,) real numbers.
        drop_intermediate: leave out points where recall does not change from both neighbours.

    Returns:
        precision, recall: (T + 1,) float arrays; thresholds: (T,), T <= number of distinct scores.
    """
    return _pr_points("precision_recall_curve", y_true, scores, pos_label, drop_intermediate)


def average_precision(y_true, scores, pos_label=1) -> float:
    """Average precision: AP = sum over thresholds of (R_n - R_(n-1)) P_n, a summary of the PR curve.

    Each threshold's precision, weighted by the recall it adds. Unlike the trapezoid rule it does not
    interpolate between points. Matches ``sklearn.metrics.average_precision_score``. (N,), (N,) -> float.
    """
    precision_, recall_, _ = _pr_points("average_precision", y_true, scores, pos_label, False)
    return float(-np.sum(np.diff(recall_) * precision_[:-1]))  # recall decreases, hence the minus


# --------------------------------------------------------------------------------------------------------
# Many classes and language models


def top_k_accuracy(y_true, scores, k: int = 5) -> float:
    """The share of samples whose true class is among the k classes with the highest scores.

    With k = 1 this is the ordinary accuracy of ``argmax(scores, axis=1)``. Tied scores are ranked like
    ``argmax`` ranks them, the lower class index first. (``sklearn.metrics.top_k_accuracy_score`` puts the
    higher index first, so the two can differ when scores tie; they agree otherwise.)

    Args:
        y_true: (N,) integer classes in [0, C).
        scores: (N, C) one score (a logit or a probability) per class.
        k: 1 <= k <= C.

    Returns:
        float in [0, 1].
    """
    fn = "top_k_accuracy"
    y_true, scores = _one_d(fn, "y_true", y_true), _to_numpy(scores).astype(np.float64)
    if scores.ndim != 2:
        raise ValueError(f"{fn}: scores must be 2-D (N, C), one score per class, got shape {scores.shape}")
    n, c = scores.shape
    if len(y_true) != n:
        raise ValueError(f"{fn}: y_true has {len(y_true)} labels but scores has {n} rows")
    if not np.issubdtype(y_true.dtype, np.integer):
        raise ValueError(f"{fn}: y_true must hold integer class indices, got dtype {y_true.dtype}")
    if y_true.min() < 0 or y_true.max() >= c:
        bad = y_true.min() if y_true.min() < 0 else y_true.max()
        raise ValueError(f"{fn}: y_true contains {bad}, but scores have {c} classes (expected 0 to {c - 1})")
    if not (isinstance(k, (int, np.integer)) and 1 <= k <= c):
        raise ValueError(f"{fn}: k is {k} but scores have {c} classes; expected an integer from 1 to {c}")
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # (N, k) best classes first; stable: ties by index
    return float(np.mean(np.any(top == y_true[:, None], axis=1)))


def perplexity(nll=None, *, log_probs=None) -> float:
    """Perplexity = exp(mean negative log-likelihood per token), for a language model.

    Pass exactly one of:
        nll: the negative log-likelihoods -log p(token), one per token (any shape), or their mean (a scalar);
            for example ``cross_entropy(logits, targets, reduction="none")``.
        log_probs: the log-probabilities log p(token) of the tokens that occurred (any shape).

    Logarithms are natural (base e), as in ``torch.nn.functional.cross_entropy``; for an NLL in bits use
    ``2 ** mean`` instead. A model that spreads its probability evenly over V tokens has NLL log V per token
    and perplexity V: perplexity reads as "the number of tokens the model is choosing between".

    Returns:
        float >= 1 (inf if the mean NLL overflows exp).
    """
    fn = "perplexity"
    if (nll is None) == (log_probs is None):
        raise ValueError(f"{fn}: pass exactly one of nll and log_probs")
    values = _to_numpy(nll if log_probs is None else log_probs).astype(np.float64)
    if values.size == 0:
        raise ValueError(f"{fn}: {'nll' if log_probs is None else 'log_probs'} is empty; expected at least one token")
    if log_probs is not None:
        if np.any(values > 0):
            raise ValueError(f"{fn}: log_probs must be <= 0 (log of a probability), got max {values.max():g}")
        values = -values
    elif np.any(values < 0):
        raise ValueError(f"{fn}: nll must be >= 0, got min {values.min():g}; "
                         "if these are log-probabilities, pass log_probs=... instead")
    with np.errstate(over="ignore"):
        return float(np.exp(np.mean(values)))
