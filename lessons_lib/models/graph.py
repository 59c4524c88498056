"""Graph convolutional networks from scratch (Appendix C).

- :func:`normalized_adjacency`: ``Â = D^-1/2 (A + I) D^-1/2`` (Kipf & Welling, 2017), NumPy or torch in, same out;
- :class:`GCNLayer`: one layer ``Â H W (+ b)``, the aggregation and the learned transform (the nonlinearity is
  applied by the caller or by :class:`GCN`);
- :class:`GCN`: a stack of layers with ReLU between them, returning the last layer's output (and, on request,
  every layer's);
- :func:`receptive_field`: which nodes lie within ``hops`` steps of each node (a boolean (N, N) matrix).

Shapes: the adjacency ``A`` is (N, N), node features ``H`` are (N, F).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
from array_api_compat import array_namespace

__all__ = ["GCN", "GCNLayer", "normalized_adjacency", "receptive_field"]


def _check_adjacency(A, name="A"):
    shape = tuple(A.shape)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"{name} must be a square (N, N) adjacency matrix, got shape {shape}")
    xp = array_namespace(A)
    if bool(xp.any(A < 0)):
        raise ValueError(f"{name} must have no negative entries (edge weights are >= 0)")


def normalized_adjacency(A, self_loops: bool = True):
    """``D^-1/2 (A + I) D^-1/2`` with D the degrees of ``A + I`` (without ``+ I`` if ``self_loops`` is False).

    ``A``: (N, N) NumPy array or torch tensor, entries >= 0 (symmetric for an undirected graph). Returns the same
    type. A node of degree 0 (possible only without self-loops) gets a zero row and column instead of a division by 0.
    """
    _check_adjacency(A)
    xp = array_namespace(A)
    n = A.shape[0]
    if self_loops:
        eye = xp.eye(n, dtype=A.dtype, device=A.device) if hasattr(A, "device") else xp.eye(n, dtype=A.dtype)
        A = A + eye
    degree = xp.sum(A, axis=1)                                  # (N,)
    safe = xp.where(degree > 0, degree, xp.ones_like(degree))
    inv_sqrt = xp.where(degree > 0, 1.0 / xp.sqrt(safe), xp.zeros_like(degree))
    return inv_sqrt[:, None] * A * inv_sqrt[None, :]           # (N, 1) * (N, N) * (1, N)


def receptive_field(A, hops: int) -> np.ndarray:
    """Boolean (N, N): entry (i, j) is True when j is at most ``hops`` edges from i (i itself at 0 hops).

    This is the nonzero pattern of ``(A + I)^hops``, computed on booleans so that it cannot overflow.
    """
    A = np.asarray(A.detach().cpu() if hasattr(A, "detach") else A)
    _check_adjacency(A)
    if int(hops) != hops or hops < 0:
        raise ValueError(f"hops must be a non-negative integer, got {hops!r}")
    step = (A > 0) | np.eye(A.shape[0], dtype=bool)
    reach = np.eye(A.shape[0], dtype=bool)
    for _ in range(int(hops)):
        reach = (reach.astype(np.int64) @ step.astype(np.int64)) > 0
    return reach


class GCNLayer(nn.Module):
    """``H' = Â H W + b``: ``Â`` (N, N), ``H`` (N, in_dim) -> (N, out_dim). ``W`` is (in_dim, out_dim)."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True):
        super().__init__()
        if in_dim < 1 or out_dim < 1:
            raise ValueError(f"in_dim and out_dim must be >= 1, got {in_dim} and {out_dim}")
        self.weight = nn.Parameter(torch.empty(in_dim, out_dim))
        self.bias = nn.Parameter(torch.zeros(out_dim)) if bias else None
        nn.init.xavier_uniform_(self.weight)                    # Glorot, as in Kipf & Welling

    def forward(self, A_hat: torch.Tensor, H: torch.Tensor) -> torch.Tensor:
        if A_hat.shape[0] != H.shape[0]:
            raise ValueError(f"A_hat is {tuple(A_hat.shape)} but H has {H.shape[0]} rows (one per node)")
        out = A_hat @ (H @ self.weight)                        # (N, N) @ (N, out_dim); same as (Â H) W
        return out if self.bias is None else out + self.bias


class GCN(nn.Module):
    """A stack of :class:`GCNLayer` with ReLU between layers (none after the last).

    ``dims = [in_dim, hidden, ..., out_dim]`` gives ``len(dims) - 1`` layers. ``forward(A_hat, H)`` returns the
    (N, out_dim) output; with ``return_all=True`` also the list of every layer's output (after its ReLU).
    """

    def __init__(self, dims, activation=torch.relu):
        super().__init__()
        dims = list(dims)
        if len(dims) < 2:
            raise ValueError(f"dims needs at least an input and an output size, got {dims}")
        self.layers = nn.ModuleList(GCNLayer(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.activation = activation

    def forward(self, A_hat, H, return_all: bool = False):
        outputs = []
        for k, layer in enumerate(self.layers):
            H = layer(A_hat, H)
            if k < len(self.layers) - 1:
                H = self.activation(H)
            outputs.append(H)
        return (H, outputs) if return_all else H
