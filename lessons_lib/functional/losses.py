"""Loss functions (Chapter 5).

Like ``activations``, each loss is written once against the array API: it runs on NumPy arrays and on torch
tensors (CPU or GPU), and torch autograd differentiates through it. Lists become NumPy arrays
(``np.asarray``); all the arrays passed to one call must come from one library and sit on one device. Targets
are cast to the dtype of the predictions.

Every loss takes ``reduction``, with torch's meaning:

- ``"none"``: one value per sample (per element for the regression losses), no averaging;
- ``"mean"``: the average of those values (the *cost* of the batch);
- ``"sum"``: their total.

The arguments are named as in the chapter's maths: predictions first, targets second.
"""

from __future__ import annotations

import math

from lessons_lib.functional.activations import _shape, _split, log_softmax, relu
from lessons_lib.validate import as_array, number, one_library

REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------------------------------------
# Shared checks


def _check_reduction(fn: str, reduction) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: reduction is {reduction!r}; expected 'mean', 'sum' or 'none'")


def _reduce(xp, loss, reduction: str):
    if reduction == "mean":
        return xp.mean(loss)
    if reduction == "sum":
        return xp.sum(loss)
    return loss


def _pair(fn: str, a, b, names: tuple):
    """Read two real arrays of one library and one shape; return ``(a, b, xp)`` with b cast to a's dtype."""
    a, _ = as_array(fn, names[0], a)
    b, _ = as_array(fn, names[1], b)
    xp = one_library(fn, {names[0]: a, names[1]: b})
    if _shape(a) != _shape(b):
        raise ValueError(f"{fn}: {names[0]} {_shape(a)} but {names[1]} {_shape(b)}; expected equal shapes")
    return a, xp.astype(b, a.dtype), xp


def _check_unit_interval(fn: str, what: str, a, xp) -> None:
    """Raise if any entry of ``a`` lies outside [0, 1] (NaN passes through, so a diverged run shows NaN)."""
    if math.prod(_shape(a)) == 0:
        return
    if bool(xp.any(a < 0)):
        raise ValueError(f"{fn}: {what} must lie in [0, 1]; got min {float(xp.min(a)):g}")
    if bool(xp.any(a > 1)):
        raise ValueError(f"{fn}: {what} must lie in [0, 1]; got max {float(xp.max(a)):g}")


def _check_labels(fn: str, name: str, y, xp, allowed: tuple, meaning: str) -> None:
    """Raise if ``y`` holds a value outside ``allowed`` (e.g. 0/1 labels given to a loss that wants -1/+1)."""
    ok = y == allowed[0]
    for value in allowed[1:]:
        ok = ok | (y == value)
    if not bool(xp.all(ok)):
        bad = float(y[~ok][0])
        raise ValueError(f"{fn}: {name} must be {meaning}; got {bad:g}")


def _distance(xp, a, b, eps: float):
    """Euclidean distance along the last axis, as ``torch.nn.functional.pairwise_distance``: ||a - b + eps||.

    The eps added to every coordinate keeps the distance away from 0, where the square root has an
    infinite slope, so identical inputs still get a finite gradient.
    """
    return xp.sqrt(xp.sum((a - b + eps) ** 2, axis=-1))


# --------------------------------------------------------------------------------------------------------
# Regression losses: y_pred and y_true have the same shape; "none" returns that shape.


def mse(y_pred, y_true, reduction: str = "mean"):
    """Mean squared error: mean of (y_pred - y_true)^2. Value in [0, inf).

    Squaring makes big errors count far more than small ones (an error of 10 costs 100, an error of 2 costs
    4), so a few outliers can dominate. Same as ``torch.nn.functional.mse_loss``.
    """
    _check_reduction("mse", reduction)
    y_pred, y_true, xp = _pair("mse", y_pred, y_true, ("y_pred", "y_true"))
    return _reduce(xp, (y_pred - y_true) ** 2, reduction)


def rmse(y_pred, y_true, reduction: str = "mean"):
    """Root mean squared error: sqrt(mse), in the same units as the target. Value in [0, inf).

    Defined as the square root of :func:`mse` with the same ``reduction``: "mean" gives the RMSE, "sum"
    the Euclidean length of the error vector, "none" the absolute error of each element. At a perfect fit
    sqrt has an infinite slope and autograd returns NaN, so train on MSE and report RMSE.
    """
    _check_reduction("rmse", reduction)
    y_pred, y_true, xp = _pair("rmse", y_pred, y_true, ("y_pred", "y_true"))
    return xp.sqrt(_reduce(xp, (y_pred - y_true) ** 2, reduction))


def mae(y_pred, y_true, reduction: str = "mean"):
    """Mean absolute error: mean of |y_pred - y_true|. Value in [0, inf).

    Errors count in proportion to their size, so it is less swayed by outliers than MSE; its slope is +-1
    whatever the size of the error (0 at an exact fit, as in torch). Same as ``torch.nn.functional.l1_loss``.
    """
    _check_reduction("mae", reduction)
    y_pred, y_true, xp = _pair("mae", y_pred, y_true, ("y_pred", "y_true"))
    return _reduce(xp, xp.abs(y_pred - y_true), reduction)


def huber(y_pred, y_true, delta: float = 1.0, reduction: str = "mean"):
    """Huber loss: 0.5 e^2 where |e| < delta, else delta * (|e| - 0.5 delta), with e = y_pred - y_true.

    Quadratic (like MSE) for small errors and linear (like MAE) beyond ``delta`` > 0, with matching value and
    slope where they meet. Computed as 0.5 q^2 + delta (|e| - q) with q = min(|e|, delta), which needs no
    branch. Same as ``torch.nn.functional.huber_loss``.
    """
    _check_reduction("huber", reduction)
    delta = number("huber", "delta", delta, low=0, low_open=True)
    y_pred, y_true, xp = _pair("huber", y_pred, y_true, ("y_pred", "y_true"))
    err = xp.abs(y_pred - y_true)
    q = xp.clip(err, None, delta)
    return _reduce(xp, 0.5 * q**2 + delta * (err - q), reduction)


# --------------------------------------------------------------------------------------------------------
# Classification losses


def bce(p, y, eps: float = 1e-12, reduction: str = "mean"):
    """Binary cross-entropy from probabilities: -[y log p + (1 - y) log(1 - p)].

    ``p`` (predicted probability of class 1, e.g. a sigmoid output) and ``y`` (targets, usually 0 or 1) have
    the same shape, with values in [0, 1]; "none" returns that shape. Each log gets its argument clipped to
    at least ``eps``, so p = 0 or 1 gives a large finite loss (at most -log(eps), about 27.6) instead of inf;
    in the clipped region the gradient is 0. torch instead caps each log at -100, so the two agree
    whenever p and 1 - p are both >= eps. Prefer :func:`bce_with_logits`, which never needs clipping.
    """
    _check_reduction("bce", reduction)
    eps = number("bce", "eps", eps, low=0, low_open=True)
    p, y, xp = _pair("bce", p, y, ("p", "y"))
    _check_unit_interval("bce", "probabilities", p, xp)
    _check_unit_interval("bce", "targets", y, xp)
    loss = -(y * xp.log(xp.clip(p, eps, None)) + (1 - y) * xp.log(xp.clip(1 - p, eps, None)))
    return _reduce(xp, loss, reduction)


def bce_with_logits(z, y, reduction: str = "mean"):
    """Binary cross-entropy from logits z (p = sigmoid(z)): max(z, 0) - z y + log(1 + exp(-|z|)).

    The same value as ``bce(sigmoid(z), y)``, rewritten so that exp only sees numbers <= 0: finite and
    accurate for any z, no clipping needed, gradient sigmoid(z) - y. ``z`` and ``y`` (in [0, 1]) have the same
    shape; "none" returns it. Same as ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    _check_reduction("bce_with_logits", reduction)
    z, y, xp = _pair("bce_with_logits", z, y, ("z", "y"))
    _check_unit_interval("bce_with_logits", "targets", y, xp)
    zp, zn = _split(xp, z, z > 0)  # max(z, 0) and min(z, 0); -|z| = zn - zp
    # The first two terms are added before the small log1p term, so nothing cancels when y = 1 and z >> 0.
    return _reduce(xp, zp - z * y + xp.log1p(xp.exp(zn - zp)), reduction)


def cross_entropy(logits, targets, reduction: str = "mean"):
    """Categorical cross-entropy from logits: -sum_c t_c log softmax(logits)_c for each sample.

    ``logits``: (N, C), one row of raw class scores per sample. ``targets``: either integer class indices
    of shape (N,) with values in [0, C) (the "sparse" form), or rows of probabilities of shape (N, C), e.g.
    one-hot. "none" returns (N,); "mean" averages over the N samples (for both kinds of target, as torch
    does). Uses :func:`~lessons_lib.functional.activations.log_softmax`, so large logits cannot overflow. Same as
    ``torch.nn.functional.cross_entropy`` (without weights, ignore_index or label smoothing).
    """
    logits, targets, xp = _logits_and_targets("cross_entropy", logits, targets, reduction)
    logp = log_softmax(logits, axis=-1)  # (N, C)
    if len(_shape(targets)) == 2:  # rows of probabilities, e.g. one-hot: -sum_c t_c log p_c
        return _reduce(xp, -xp.sum(xp.astype(targets, logp.dtype) * logp, axis=-1), reduction)
    index = xp.reshape(xp.astype(targets, xp.int64), (-1, 1))  # (N, 1): class indices
    return _reduce(xp, -xp.take_along_axis(logp, index, axis=1)[:, 0], reduction)


def _logits_and_targets(fn: str, logits, targets, reduction):
    """Check cross-entropy's inputs: logits (N, C) and targets (N,) class indices in [0, C) or (N, C) rows."""
    _check_reduction(fn, reduction)
    logits, _ = as_array(fn, "logits", logits)
    targets, _ = as_array(fn, "targets", targets, integers="keep")
    xp = one_library(fn, {"logits": logits, "targets": targets})
    if len(_shape(logits)) != 2:
        raise ValueError(f"{fn}: logits has shape {_shape(logits)}; expected (N, C), one row of scores per sample")
    n, c = _shape(logits)
    if _shape(targets) not in ((n,), (n, c)):
        raise ValueError(
            f"{fn}: logits {(n, c)} but targets {_shape(targets)}; expected class indices of shape ({n},) "
            f"or probability rows of shape ({n}, {c})"
        )
    if _shape(targets) == (n,):
        if not xp.isdtype(targets.dtype, "integral"):
            raise TypeError(f"{fn}: targets of shape ({n},) must be integer class indices; got dtype {targets.dtype}")
        if n > 0 and (int(xp.min(targets)) < 0 or int(xp.max(targets)) >= c):
            bad = int(xp.min(targets)) if int(xp.min(targets)) < 0 else int(xp.max(targets))
            raise ValueError(f"{fn}: target class {bad} is outside [0, {c})")
    return logits, targets, xp


def hinge(scores, y, reduction: str = "mean"):
    """Hinge loss of a margin classifier (as in a linear SVM): max(0, 1 - y * score).

    ``scores`` are raw outputs (the sign is the predicted class) and ``y`` the labels, -1 or +1 (not 0/1),
    same shape; "none" returns that shape. The loss is 0 only when the right sign is predicted with a margin
    of at least 1. At the kink (y * score = 1) the gradient is taken as 0.
    """
    _check_reduction("hinge", reduction)
    scores, y, xp = _pair("hinge", scores, y, ("scores", "y"))
    _check_labels("hinge", "targets", y, xp, (-1, 1), "-1 or +1")
    return _reduce(xp, relu(1 - y * scores), reduction)


# --------------------------------------------------------------------------------------------------------
# Embedding (similarity) losses: vectors along the last axis, shapes (N, D) or (D,)


def triplet(anchor, positive, negative, margin: float = 1.0, eps: float = 1e-6, reduction: str = "mean"):
    """Triplet loss max(0, d(a, p) - d(a, n) + margin), with d the Euclidean distance.

    Pulls the anchor toward the positive (same identity) until it is at least ``margin`` closer than the
    negative. The three inputs share one shape, (N, D) or (D,); "none" returns one value per triplet, (N,)
    or (). d(x, y) = ||x - y + eps||, as in ``torch.nn.functional.triplet_margin_loss`` (p = 2, eps = 1e-6).
    At the kink we take the gradient as 0 where torch takes 1 (this only matters at exactly that point).
    """
    fn = "triplet"
    _check_reduction(fn, reduction)
    margin = number(fn, "margin", margin, low=0)
    eps = number(fn, "eps", eps, low=0)
    anchor, positive, xp = _pair(fn, anchor, positive, ("anchor", "positive"))
    anchor, negative, _ = _pair(fn, anchor, negative, ("anchor", "negative"))
    if len(_shape(anchor)) == 0:
        raise ValueError(f"{fn}: anchor is a single number; expected vectors of shape (N, D) or (D,)")
    loss = relu(_distance(xp, anchor, positive, eps) - _distance(xp, anchor, negative, eps) + margin)
    return _reduce(xp, loss, reduction)


def contrastive(x1, x2, y, margin: float = 1.0, eps: float = 1e-6, reduction: str = "mean"):
    """Contrastive loss for pairs: y d^2 + (1 - y) max(0, margin - d)^2, with d = ||x1 - x2 + eps||.

    Convention: y = 1 marks a similar pair (pulled together), y = 0 a dissimilar pair (pushed apart until
    it is ``margin`` away, after which it costs nothing). There are no factors of 1/2. Hadsell, Chopra and
    LeCun (2006) put 1/2 on both terms and use the opposite labels (0 = similar); halve our value to get
    theirs. ``x1``, ``x2``: (N, D) or (D,); ``y``: (N,) or (). "none" returns (N,). d uses the same eps as
    :func:`triplet` (torch's ``pairwise_distance``) so that identical inputs still have a finite gradient.
    """
    fn = "contrastive"
    _check_reduction(fn, reduction)
    margin = number(fn, "margin", margin, low=0)
    eps = number(fn, "eps", eps, low=0)
    x1, x2, xp = _pair(fn, x1, x2, ("x1", "x2"))
    y, _ = as_array(fn, "y", y)
    one_library(fn, {"x1": x1, "y": y})
    if len(_shape(x1)) == 0 or _shape(y) != _shape(x1)[:-1]:
        raise ValueError(f"{fn}: x1 {_shape(x1)} but y {_shape(y)}; expected x1 (N, D) and y (N,)")
    _check_labels(fn, "y", y, xp, (0, 1), "1 (similar pair) or 0 (dissimilar pair)")
    y = xp.astype(y, x1.dtype)
    d = _distance(xp, x1, x2, eps)
    return _reduce(xp, y * d**2 + (1 - y) * relu(margin - d) ** 2, reduction)


# --------------------------------------------------------------------------------------------------------
# Divergence between distributions


def _check_distribution(fn: str, name: str, a, xp) -> None:
    if math.prod(_shape(a)) == 0:
        return
    if bool(xp.any(a < 0)):
        raise ValueError(f"{fn}: {name} must be non-negative; got min {float(xp.min(a)):g}")
    sums = xp.reshape(xp.sum(a, axis=-1), (-1,))
    off = xp.abs(sums - 1)
    if bool(xp.any(off > 1e-3)):
        worst = float(sums[xp.argmax(off)])
        raise ValueError(f"{fn}: each row of {name} must sum to 1; one sums to {worst:g} (apply softmax first?)")


def kl_divergence(p, q, reduction: str = "mean"):
    """Kullback-Leibler divergence KL(p || q) = sum_c p_c log(p_c / q_c) for each row.

    ``p`` and ``q``: probability rows of one shape, (N, C) or (C,). KL is >= 0, and 0 only when p = q. It is
    not symmetric: KL(p || q) and KL(q || p) differ in general. Terms with p_c = 0 count as 0 (the limit of
    x log x as x -> 0); if q_c = 0 where p_c > 0 the divergence is infinite and you get inf.

    "none" returns one value per row, (N,) or (); "mean" averages over the rows; "sum" adds them up.
    In torch: ``F.kl_div(q.log(), p, reduction="batchmean")`` equals our "mean" (note the argument order: log q
    first, then p). torch's own "mean" divides by N * C, which is not the KL divergence, and its "none" keeps
    (N, C) elementwise terms.
    """
    fn = "kl_divergence"
    _check_reduction(fn, reduction)
    p, q, xp = _pair(fn, p, q, ("p", "q"))
    if len(_shape(p)) == 0:
        raise ValueError(f"{fn}: p is a single number; expected probability rows of shape (N, C) or (C,)")
    _check_distribution(fn, "p", p, xp)
    _check_distribution(fn, "q", q, xp)
    # Where p = 0, put 1 in both logs: the term becomes 0 * (0 - 0) = 0, with no log(0) and no NaN gradient.
    p_safe = xp.where(p > 0, p, 1.0)
    q_safe = xp.where(p > 0, q, 1.0)
    return _reduce(xp, xp.sum(p * (xp.log(p_safe) - xp.log(q_safe)), axis=-1), reduction)


# --------------------------------------------------------------------------------------------------------
# Contrastive learning of paired views (Appendix D)


def contrastive_loss(a, b, temperature: float = 0.07, eps: float = 1e-12):
    """CLIP's symmetric InfoNCE loss for a batch of N matching pairs (a_i, b_i), e.g. images and their captions.

    ``a`` (N, D) and ``b`` (N, D): one embedding per row, row i of ``a`` paired with row i of ``b``. Each row is
    divided by its L2 norm (at least ``eps``, as ``torch.nn.functional.normalize``), so ``a_hat @ b_hat.T`` (N, N)
    holds cosine similarities in [-1, 1]; dividing by ``temperature`` > 0 gives the logits S. Row i of S scores
    b_i against every b_j for a_i: cross-entropy with target i (a -> b). Column i scores every a_j for b_i:
    cross-entropy with target i (b -> a). The loss is the mean of the two directions, each averaged over the N
    pairs (Radford et al., 2021), a scalar. Its floor is 0 (every pair far more similar than every other); for
    unrelated embeddings it is about log N. Equals
    ``(F.cross_entropy(S, arange(N)) + F.cross_entropy(S.T, arange(N))) / 2``. The same array-API code runs on
    NumPy arrays and torch tensors (autograd flows through it). Not to be confused with :func:`contrastive`, the
    margin loss of Hadsell et al. for pairs labelled similar or dissimilar.
    """
    fn = "contrastive_loss"
    temperature = number(fn, "temperature", temperature, low=0, low_open=True)
    eps = number(fn, "eps", eps, low=0, low_open=True)
    a, b, xp = _pair(fn, a, b, ("a", "b"))
    if len(_shape(a)) != 2:
        raise ValueError(f"{fn}: a has shape {_shape(a)}; expected (N, D), one embedding per row")
    n = _shape(a)[0]
    if n == 0:
        raise ValueError(f"{fn}: the batch is empty; expected N >= 1 pairs")

    def unit(x):  # (N, D) -> (N, D), each row of length 1
        return x / xp.clip(xp.sqrt(xp.sum(x * x, axis=1, keepdims=True)), eps, None)

    logits = (unit(a) @ xp.matrix_transpose(unit(b))) / temperature            # (N, N): S_ij = cos(a_i, b_j) / T
    diagonal = xp.astype(xp.eye(n, device=_device_of(a)), logits.dtype)        # (N, N): 1 where j = i, the match
    a_to_b = -xp.sum(log_softmax(logits, axis=1) * diagonal, axis=1)           # (N,): row i, softmax over the b_j
    b_to_a = -xp.sum(log_softmax(logits, axis=0) * diagonal, axis=0)           # (N,): column i, over the a_j
    return (xp.mean(a_to_b) + xp.mean(b_to_a)) / 2


def _device_of(x):
    from array_api_compat import device

    return device(x)
