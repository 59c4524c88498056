"""Normalization layers from scratch with an explicit backward: BatchNorm1d and LayerNorm.
"""

from __future__ import annotations

import numbers

import numpy as np

from lessons_lib.scratch.layers import Layer, Parameter


def standardize(x: np.ndarray, axis: int, eps: float):
    """x_hat = (x - mean) / sqrt(var + eps), with the mean and biased variance of x along ``axis``.

    Returns x_hat (shape of x), inv_std = 1 / sqrt(var + eps), mean and var (the last three keep ``axis``
    with length 1).
    """
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)  # biased: divides by the number of entries
    inv_std = 1.0 / np.sqrt(var + eps)
    return (x - mean) * inv_std, inv_std, mean, var


def standardize_backward(g: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx from g = dL/dx_hat, when the mean and variance along ``axis`` were computed from x itself.

    x moves x_hat three ways: directly, through the mean and through the variance. Adding the three
    chain-rule terms and simplifying gives the compact formula

        dL/dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),   means along ``axis``.

    The two subtracted terms remove the parts of g that a shift or a scaling of x along the axis would
    cause: those are undone by the normalisation and cannot change the loss.
    """
    g_mean = g.mean(axis=axis, keepdims=True)
    gx_mean = (g * x_hat).mean(axis=axis, keepdims=True)
    return inv_std * (g - g_mean - x_hat * gx_mean)


class _Normalization(Layer):
    """What BatchNorm1d and LayerNorm share: the learned scale gamma and shift beta of the last axis.

    out = gamma * x_hat + beta, with gamma and beta of shape (num_features,) broadcast over the other axes.
    gamma starts at 1 and beta at 0, so a new layer outputs x_hat itself; training can then choose any
    other mean and spread per feature, undoing the normalisation if that helps.
    """

    def __init__(self, num_features: int, eps: float, affine: bool, dtype):
        self.num_features, self.eps, self.dtype = num_features, eps, np.dtype(dtype)
        self.gamma = Parameter(np.ones(num_features, dtype=dtype), "gamma") if affine else None
        self.beta = Parameter(np.zeros(num_features, dtype=dtype), "beta") if affine else None
        self._cache = None  # (x_hat, inv_std, statistics from the batch?) of the last forward pass

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [] if self.gamma is None else [("gamma", self.gamma), ("beta", self.beta)]

    def _scale_shift(self, x_hat: np.ndarray) -> np.ndarray:
        return x_hat if self.gamma is None else x_hat * self.gamma.data + self.beta.data

    def _scale_shift_backward(self, grad_out: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
        """Adds dL/dgamma and dL/dbeta (summed over all but the last axis) to ``.grad``; returns dL/dx_hat."""
        if self.gamma is None:
            return grad_out
        rows = (-1, self.num_features)  # every axis but the features, flattened into one
        self.gamma.grad += (grad_out * x_hat).reshape(rows).sum(axis=0)
        self.beta.grad += grad_out.reshape(rows).sum(axis=0)
        return grad_out * self.gamma.data


class BatchNorm1d(_Normalization):
    """Batch normalisation: standardise every feature with statistics of the batch, then scale and shift.

    Training mode, for a batch x of shape (N, C) and each feature (column) separately:

        mu = mean of x over the batch,   var = mean of (x - mu)^2 (biased, divides by N),
        x_hat = (x - mu) / sqrt(var + eps),   out = gamma * x_hat + beta,

    and the running estimates move towards the batch's: running = (1 - momentum) * running + momentum * batch,
    where the variance uses the unbiased batch variance var * N / (N - 1), as torch does. The result has
    zero mean and unit variance per feature before gamma and beta; nothing makes it normally distributed.

    Eval mode uses running_mean and running_var in place of mu and var: the statistics are then constants,
    a sample's output no longer depends on the rest of its batch, and a batch of one sample works.

    Shapes: x (N, num_features) -> out (N, num_features); gamma, beta, running_mean and running_var
    (num_features,). gamma and beta are torch's ``weight`` and ``bias``; ``momentum=None`` (torch's
    cumulative average) is not offered.

    Args:
        eps: added to the variance, so that a constant feature does not divide by zero.
        momentum: the weight of the newest batch in the running estimates, in [0, 1].
        affine: learn gamma and beta (otherwise out = x_hat).
        dtype: the dtype of the parameters, the running estimates and the computation.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 dtype=np.float32):
        if not (isinstance(momentum, numbers.Real) and 0 <= momentum <= 1):
            raise ValueError(f"BatchNorm1d: momentum is {momentum!r}; expected a number in [0, 1]")
        super().__init__(num_features, eps, affine, dtype)
        self.momentum = float(momentum)
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(N, num_features) -> (N, num_features)."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2:
            raise ValueError(f"BatchNorm1d: x must be 2-D (N, {self.num_features}), got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d: x has {x.shape[1]} features but num_features is {self.num_features}")
        if self.training:
            x_hat, inv_std = self._batch_statistics(x)
        else:
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)  # (C,)
            x_hat = (x - self.running_mean) * inv_std
        self._cache = (x_hat, inv_std, self.training)
        return self._scale_shift(x_hat)

    def _batch_statistics(self, x: np.ndarray):
        """Standardise with the batch's mean and variance, and update the running estimates."""
        n = len(x)
        if n < 2:
            raise ValueError(f"BatchNorm1d: training needs at least 2 samples to estimate a variance, got N={n}; "
                             "call eval() to use the running statistics")
        x_hat, inv_std, mean, var = standardize(x, axis=0, eps=self.eps)
        m = self.momentum
        self.running_mean = (1 - m) * self.running_mean + m * mean[0]
        self.running_var = (1 - m) * self.running_var + m * var[0] * (n / (n - 1))  # unbiased
        return x_hat, inv_std

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out (N, num_features) -> dL/dx (N, num_features); adds dL/dgamma and dL/dbeta to ``.grad``.

        In training the batch statistics depend on x: :func:`standardize_backward`. In eval they are
        constants and dL/dx = dL/dx_hat / sqrt(running_var + eps).
        """
        self._check_backward(self._cache, grad_out, self._cache[0].shape if self._cache else None)
        x_hat, inv_std, batch_stats = self._cache
        g = self._scale_shift_backward(grad_out, x_hat)  # dL/dx_hat
        return standardize_backward(g, x_hat, inv_std, axis=0) if batch_stats else g * inv_std

    def __repr__(self) -> str:
        return (f"BatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.gamma is not None})")


class LayerNorm(_Normalization):
    """Layer normalisation: standardise each sample over its own features, then scale and shift.

    For every sample (every position, for a sequence), over the last axis of size D:

        mu = mean of the D entries,   var = mean of (x - mu)^2,
        x_hat = (x - mu) / sqrt(var + eps),   out = gamma * x_hat + beta.

    Unlike BatchNorm1d no statistic crosses samples, so there is nothing to keep running and training and
    eval modes compute the same thing; it works for a batch of one and for any sequence length, which is
    why Transformers and RNNs use it.

    Shapes: x (..., D) -> out (..., D), e.g. (N, D) or (B, T, D); gamma and beta (D,), torch's ``weight``
    and ``bias``. ``normalized_shape`` is the int D (torch also accepts a tuple of trailing axes).

    Args:
        eps: added to the variance, so that a constant sample does not divide by zero.
        elementwise_affine: learn gamma and beta (otherwise out = x_hat).
        dtype: the dtype of the parameters and of the computation.
    """

    def __init__(self, normalized_shape: int, eps: float = 1e-5, elementwise_affine: bool = True, dtype=np.float32):
        if not isinstance(normalized_shape, numbers.Integral) or normalized_shape < 1:
            raise ValueError(f"LayerNorm: normalized_shape is {normalized_shape!r}; "
                             "expected a positive int, the size of the last axis")
        super().__init__(int(normalized_shape), eps, elementwise_affine, dtype)

    @property
    def normalized_shape(self) -> int:
        return self.num_features

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(..., D) -> (..., D)."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim == 0 or x.shape[-1] != self.num_features:
            raise ValueError(f"LayerNorm: x has shape {x.shape}, whose last axis should have "
                             f"normalized_shape = {self.num_features} entries")
        x_hat, inv_std, _, _ = standardize(x, axis=-1, eps=self.eps)
        self._cache = (x_hat, inv_std)
        return self._scale_shift(x_hat)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out (..., D) -> dL/dx (..., D); adds dL/dgamma and dL/dbeta to ``.grad``."""
        self._check_backward(self._cache, grad_out, self._cache[0].shape if self._cache else None)
        x_hat, inv_std = self._cache
        g = self._scale_shift_backward(grad_out, x_hat)  # dL/dx_hat
        return standardize_backward(g, x_hat, inv_std, axis=-1)

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features}, eps={self.eps}, elementwise_affine={self.gamma is not None})"
