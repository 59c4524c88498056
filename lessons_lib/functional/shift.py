"""Detecting and correcting dataset shift (appendix J).

Source data (what a model was trained on) and target data (what it meets later) are arrays of shape (N, D) and
(M, D), one row per example. The detectors look at inputs only, so they see covariate shift and label shift (both
change p(x)) but are blind to concept shift, where p(y | x) changes and p(x) does not.

- :func:`domain_classifier_auc`: train a classifier to tell source rows from target rows and report its ROC AUC on
  held-out folds. 0.5 means the two samples cannot be told apart; 1.0 means they are separated perfectly.
- :func:`ks_statistic` and :func:`ks_test`: the two-sample Kolmogorov-Smirnov statistic (the largest gap between the
  two empirical CDFs) per feature, with the p-values corrected for testing D features (Bonferroni).
- :func:`mmd_permutation_test`: the kernel maximum mean discrepancy (Gretton et al., 2012) with an RBF kernel,
  its p-value from permutations of the pooled sample.
- :func:`label_shift_weights`: black-box shift estimation (Lipton, Wang & Smola, 2018). Under label shift
  (p(y) changes, p(x | y) does not), the target's distribution of *predicted* labels mu satisfies mu = C w, where
  C[i, j] = P_source(prediction = i, label = j) is the joint confusion matrix on held-out source data and
  w[j] = q(y = j) / p(y = j) are the importance weights. Solving gives w without any target label.
- :func:`reweight_probabilities`: the matching correction of a classifier's probabilities, p_t(y | x) proportional
  to w[y] p_s(y | x) (Saerens, Latinne & Decaestecker, 2002).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lessons_lib.functional.metrics import roc_auc

__all__ = ["KSResult", "MMDResult", "domain_classifier_auc", "ks_statistic", "ks_test", "label_shift_weights",
           "mmd_permutation_test", "reweight_probabilities"]


def _table(fn: str, name: str, X) -> np.ndarray:
    X = np.asarray(X.detach().cpu().numpy() if hasattr(X, "detach") else X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"{fn}: {name} has shape {X.shape}; expected (N, D) with at least 2 rows")
    if not np.isfinite(X).all():
        raise ValueError(f"{fn}: {name} contains nan or inf")
    return X


def _pair(fn: str, X_source, X_target) -> tuple[np.ndarray, np.ndarray]:
    A, B = _table(fn, "X_source", X_source), _table(fn, "X_target", X_target)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"{fn}: X_source has {A.shape[1]} features and X_target {B.shape[1]}; they must match")
    return A, B


# ------------------------------------------------------------------------------------ domain classifier


def domain_classifier_auc(X_source, X_target, seed: int = 0, *, folds: int = 5, classifier=None) -> float:
    """ROC AUC of a classifier that tells target rows (label 1) from source rows (label 0), out of fold.

    Every row is scored by a model fitted on the other ``folds - 1`` folds (stratified, shuffled with ``seed``), so
    the AUC measures what generalises, not what was memorised. ``classifier`` is any scikit-learn classifier with
    ``predict_proba``; the default, linear discriminant analysis with shrinkage, fits in closed form (fast) and sees
    shifts in means and covariances. Use a non-linear one (e.g. a gradient-boosted model) for subtler shifts.
    """
    from sklearn.base import clone
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold

    A, B = _pair("domain_classifier_auc", X_source, X_target)
    if not isinstance(folds, int) or folds < 2 or folds > min(len(A), len(B)):
        raise ValueError(f"domain_classifier_auc: folds is {folds!r}; expected an integer from 2 to the smaller sample "
                         f"size ({min(len(A), len(B))})")
    X = np.vstack([A, B])
    domain = np.r_[np.zeros(len(A), dtype=np.int64), np.ones(len(B), dtype=np.int64)]
    model = classifier if classifier is not None else LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    scores = np.empty(len(X))
    for train, held_out in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, domain):
        fitted = clone(model).fit(X[train], domain[train])
        scores[held_out] = fitted.predict_proba(X[held_out])[:, 1]
    return roc_auc(domain, scores)


# --------------------------------------------------------------------------------------- KS and MMD


def ks_statistic(a, b) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: max over t of |F_a(t) - F_b(t)|, with F the empirical CDFs.

    a: (N,), b: (M,). The largest gap is reached at one of the observed values, so both CDFs are evaluated at the
    pooled sample (``searchsorted`` with ``side="right"`` counts the values <= t)."""
    a = np.sort(_table("ks_statistic", "a", a).ravel())
    b = np.sort(_table("ks_statistic", "b", b).ravel())
    t = np.concatenate([a, b])
    gap = np.searchsorted(a, t, side="right") / len(a) - np.searchsorted(b, t, side="right") / len(b)
    return float(np.max(np.abs(gap)))


class KSResult(NamedTuple):
    statistics: np.ndarray   # (D,) the KS statistic of each feature
    p_values: np.ndarray     # (D,) each feature's own p-value
    p_value: float           # the smallest p-value times D, capped at 1 (Bonferroni): the test of "no feature moved"
    shifted: bool            # p_value < alpha


def ks_test(X_source, X_target, alpha: float = 0.05) -> KSResult:
    """One KS test per feature, combined with a Bonferroni correction.

    Testing D features at level alpha each would raise a false alarm with probability up to D * alpha; multiplying
    the smallest p-value by D keeps the chance of any false alarm below alpha when nothing moved."""
    import warnings

    from scipy.stats import ks_2samp

    A, B = _pair("ks_test", X_source, X_target)
    if not 0 < alpha < 1:
        raise ValueError(f"ks_test: alpha is {alpha!r}; expected a level between 0 and 1")
    stats, p = np.zeros(A.shape[1]), np.ones(A.shape[1])
    for d in range(A.shape[1]):
        if np.ptp(A[:, d]) == 0 and np.ptp(B[:, d]) == 0 and A[0, d] == B[0, d]:
            continue  # a constant feature (a blank pixel): identical, nothing to test
        with warnings.catch_warnings():  # scipy falls back from the exact to the asymptotic p-value, and says so
            warnings.simplefilter("ignore", RuntimeWarning)
            result = ks_2samp(A[:, d], B[:, d])
        stats[d], p[d] = result.statistic, result.pvalue
    p_value = float(min(1.0, p.min() * A.shape[1]))
    return KSResult(stats, p, p_value, p_value < alpha)


class MMDResult(NamedTuple):
    mmd2: float        # the unbiased estimate of MMD^2 (can be slightly negative when nothing moved)
    p_value: float     # (1 + permutations with an MMD^2 at least as large) / (1 + permutations)
    bandwidth: float   # the RBF kernel's length scale


def _mmd2(K: np.ndarray, first: np.ndarray) -> float:
    """Unbiased MMD^2 from the pooled kernel matrix K and a boolean mask of the first sample's rows."""
    n, m = first.sum(), (~first).sum()
    Kxx, Kyy, Kxy = K[np.ix_(first, first)], K[np.ix_(~first, ~first)], K[np.ix_(first, ~first)]
    return float((Kxx.sum() - np.trace(Kxx)) / (n * (n - 1)) + (Kyy.sum() - np.trace(Kyy)) / (m * (m - 1))
                 - 2 * Kxy.mean())


def mmd_permutation_test(X_source, X_target, *, n_permutations: int = 200, seed: int = 0,
                         bandwidth: float | None = None) -> MMDResult:
    """Kernel two-sample test: MMD^2 with k(x, x') = exp(-|x - x'|^2 / (2 bandwidth^2)), p-value by permutation.

    The bandwidth defaults to the median distance between pooled rows (the "median heuristic"). Under "no shift"
    the pooled rows are exchangeable, so relabelling them at random shows how large MMD^2 gets by chance."""
    A, B = _pair("mmd_permutation_test", X_source, X_target)
    if not isinstance(n_permutations, int) or n_permutations < 1:
        raise ValueError(f"mmd_permutation_test: n_permutations is {n_permutations!r}; expected a positive integer")
    X = np.vstack([A, B])
    sq = np.maximum(np.sum(X**2, 1)[:, None] + np.sum(X**2, 1)[None, :] - 2 * X @ X.T, 0.0)  # (N+M, N+M)
    if bandwidth is None:
        positive = sq[np.triu_indices(len(X), 1)]
        positive = positive[positive > 0]
        bandwidth = float(np.sqrt(np.median(positive) / 2)) if len(positive) else 1.0
    elif not bandwidth > 0:
        raise ValueError(f"mmd_permutation_test: bandwidth is {bandwidth!r}; expected a positive number")
    K = np.exp(-sq / (2 * bandwidth**2))
    first = np.r_[np.ones(len(A), bool), np.zeros(len(B), bool)]
    observed = _mmd2(K, first)
    rng = np.random.default_rng(seed)
    larger = sum(_mmd2(K, rng.permutation(first)) >= observed for _ in range(n_permutations))
    return MMDResult(observed, (1 + larger) / (1 + n_permutations), bandwidth)


# ------------------------------------------------------------------------------------------ label shift


def _labels(fn: str, name: str, y, n_classes: int) -> np.ndarray:
    y = np.asarray(y.detach().cpu().numpy() if hasattr(y, "detach") else y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{fn}: {name} must be a 1-D array of integer class labels; got dtype {y.dtype}, "
                         f"shape {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{fn}: {name} holds labels outside 0..{n_classes - 1}")
    return y


def label_shift_weights(y_source, pred_source, pred_target, n_classes: int) -> np.ndarray:
    """Black-box shift estimation: w[j] = q(y = j) / p(y = j) from unlabelled target predictions.

    y_source, pred_source: (N,) true and predicted labels of held-out *source* data (not the training set: its
    predictions are too good). pred_target: (M,) predicted labels of the target data. Returns w (n_classes,), the
    solution of C w = mu with C[i, j] = P_source(pred = i, y = j) and mu[i] = P_target(pred = i), negative entries
    clipped to 0 (a noisy estimate of a small class can dip below zero). Needs C invertible: every class predicted
    and the classifier better than chance."""
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"label_shift_weights: n_classes is {n_classes!r}; expected an integer >= 2")
    y_s = _labels("label_shift_weights", "y_source", y_source, n_classes)
    p_s = _labels("label_shift_weights", "pred_source", pred_source, n_classes)
    p_t = _labels("label_shift_weights", "pred_target", pred_target, n_classes)
    if len(y_s) != len(p_s) or len(y_s) == 0 or len(p_t) == 0:
        raise ValueError(f"label_shift_weights: y_source ({len(y_s)}) and pred_source ({len(p_s)}) must have the same "
                         f"non-zero length, and pred_target ({len(p_t)}) at least one entry")
    C = np.zeros((n_classes, n_classes))
    np.add.at(C, (p_s, y_s), 1.0)
    C /= len(y_s)                                        # C[i, j] = P(pred = i, y = j)
    mu = np.bincount(p_t, minlength=n_classes) / len(p_t)
    if np.linalg.matrix_rank(C) < n_classes:
        raise ValueError("label_shift_weights: the confusion matrix is singular (a class never appears or is never "
                         "predicted in the source data); BBSE cannot separate the classes")
    return np.maximum(np.linalg.solve(C, mu), 0.0)


def reweight_probabilities(probs, weights) -> np.ndarray:
    """Adapt class probabilities to a new prior: p_t(y | x) = w[y] p_s(y | x) / sum_k w[k] p_s(k | x).

    probs: (N, C) rows summing to 1; weights: (C,) non-negative, not all zero. Returns (N, C)."""
    P = _table("reweight_probabilities", "probs", probs)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (P.shape[1],) or (w < 0).any() or w.sum() == 0:
        raise ValueError(f"reweight_probabilities: weights has shape {w.shape}; expected ({P.shape[1]},) non-negative "
                         "numbers, not all zero")
    Q = P * w
    total = Q.sum(1, keepdims=True)
    return np.where(total > 0, Q / np.where(total > 0, total, 1.0), P)
