"""Moving weights between the book's from-scratch layers and PyTorch.

Part I stores a dense layer's weights as ``W`` with shape (in, out), so that a batch ``X`` of shape
(n, in) maps to ``X @ W + b``. ``torch.nn.Linear`` stores ``weight`` as (out, in) and computes
``X @ weight.T + bias``: the same layer, with the matrix transposed.
"""

from __future__ import annotations

import numpy as np
import torch


def copy_linear_(linear: torch.nn.Linear, W, b=None) -> torch.nn.Linear:
    """Load a from-scratch dense layer into ``linear`` in place, and return it.

    W: (in, out), the Part I convention; a 1-D W of length ``in`` is one output unit.
    b: (out,) or a number; None leaves the bias as it is.
    """
    W = np.asarray(W, dtype=np.float64)
    W = W[:, None] if W.ndim == 1 else W  # one unit: (in,) -> (in, 1)
    want = (linear.in_features, linear.out_features)
    if W.shape != want:
        raise ValueError(f"copy_linear_: W has shape {W.shape}; expected (in, out) = {want} for {linear}")
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(W.T.copy(), dtype=linear.weight.dtype))  # (in, out) -> (out, in)
        if b is not None:
            if linear.bias is None:
                raise ValueError(f"copy_linear_: b was given but {linear} has no bias")
            bias = torch.as_tensor(np.broadcast_to(np.asarray(b, dtype=np.float64), (linear.out_features,)).copy())
            linear.bias.copy_(bias.to(linear.bias.dtype))
    return linear
