"""Attention (Part V), written once against the array API: NumPy arrays and torch tensors, CPU or CUDA.

:func:`scaled_dot_product_attention` has the semantics of ``torch.nn.functional.scaled_dot_product_attention``:
queries q (..., L, E), keys k (..., S, E), values v (..., S, Ev); the output (..., L, Ev) is

    softmax(q k^T * scale + mask) v,     scale = 1 / sqrt(E) by default,

where a boolean ``attn_mask`` (broadcast to (..., L, S)) is True where a query *may* attend to a key and a
float mask is added to the scores (0 to keep, -inf to block). ``is_causal`` lets query i see keys 0..i only.

A query whose every key is masked gets a row of zero weights and a zero output, as torch 2.13 returns (a
plain softmax would give 0/0 = NaN there, and older torch versions did). Every other row of weights sums to 1.

Also here: the head split and merge of multi-head attention, the causal mask, the sinusoidal positional
encoding of "Attention Is All You Need" and the additive attention of Bahdanau et al. (2015).
"""

from __future__ import annotations

import math

from lessons_lib.functional.activations import tanh
from lessons_lib.validate import as_array, integer, one_library

__all__ = ["additive_attention", "causal_mask", "merge_heads", "scaled_dot_product_attention", "sinusoidal_positions",
           "split_heads"]


def scaled_dot_product_attention(q, k, v, attn_mask=None, is_causal: bool = False, scale: float | None = None,
                                 return_weights: bool = False):
    """softmax(q k^T / sqrt(E) + mask) v; see the module docstring. With ``return_weights`` also the
    attention weights (..., L, S)."""
    fn = "scaled_dot_product_attention"
    named = {"q": q, "k": k, "v": v} | ({"attn_mask": attn_mask} if attn_mask is not None else {})
    xp = one_library(fn, named)
    q, _ = as_array(fn, "q", q)
    _check_qkv(fn, q, k, v)
    L, S, E = int(q.shape[-2]), int(k.shape[-2]), int(q.shape[-1])
    scale = 1 / math.sqrt(E) if scale is None else scale
    scores = (q * scale) @ _transposed(xp, k)                          # (..., L, S); scaling q is cheaper
    allowed = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{fn}: give attn_mask or is_causal=True, not both (torch refuses the pair too)")
        allowed = causal_mask(L, S, like=q)
    elif attn_mask is not None:
        _check_mask(fn, attn_mask, L, S)
        if xp.isdtype(attn_mask.dtype, "bool"):
            allowed = attn_mask
        else:
            scores = scores + attn_mask
    if allowed is not None:
        scores = xp.where(allowed, scores, -math.inf)
    top = xp.max(scores, axis=-1, keepdims=True)
    top = xp.where(top == -math.inf, 0.0, top)                         # a fully masked row: no NaN from -inf - -inf
    e = xp.exp(scores - top)                                           # softmax's numerator, (..., L, S)
    total = xp.sum(e, axis=-1, keepdims=True)
    total = xp.where(total > 0, total, 1.0)                            # that row stays all zeros
    out = (e @ v) / total                                              # (..., L, Ev): normalised after the product
    return (out, e / total) if return_weights else out


def causal_mask(L: int, S: int | None = None, *, like=None):
    """Boolean (L, S) mask, True on and below the diagonal: query i may attend to keys 0..i (torch's
    ``ones(L, S).tril()``). ``like``: an array whose library and device the mask should use (default NumPy)."""
    L = integer("causal_mask", "L", L, minimum=1)
    S = L if S is None else integer("causal_mask", "S", S, minimum=1)
    if like is None:
        import numpy as np

        return np.tril(np.ones((L, S), dtype=bool))
    _, xp = as_array("causal_mask", "like", like)
    i = xp.arange(L, device=_device(like))[:, None]
    j = xp.arange(S, device=_device(like))[None, :]
    return j <= i


def split_heads(x, n_heads: int):
    """(N, T, D) -> (N, n_heads, T, D / n_heads): each head gets its own slice of the features."""
    x, xp = as_array("split_heads", "x", x)
    n_heads = integer("split_heads", "n_heads", n_heads, minimum=1)
    if len(x.shape) != 3 or int(x.shape[-1]) % n_heads:
        raise ValueError(f"split_heads: x has shape {tuple(x.shape)}; expected (N, T, D) with D divisible by "
                         f"n_heads = {n_heads}")
    N, T, D = (int(d) for d in x.shape)
    return xp.permute_dims(xp.reshape(x, (N, T, n_heads, D // n_heads)), (0, 2, 1, 3))


def merge_heads(x):
    """(N, h, T, d) -> (N, T, h * d): the inverse of :func:`split_heads` (concatenate the heads)."""
    x, xp = as_array("merge_heads", "x", x)
    if len(x.shape) != 4:
        raise ValueError(f"merge_heads: x has shape {tuple(x.shape)}; expected (N, heads, T, d)")
    N, h, T, d = (int(s) for s in x.shape)
    return xp.reshape(xp.permute_dims(x, (0, 2, 1, 3)), (N, T, h * d))


def sinusoidal_positions(T: int, d: int, *, base: float = 10000.0, like=None):
    """The (T, d) positional encoding of Vaswani et al. (2017, section 3.5):

    PE[pos, 2i] = sin(pos / base^(2i/d)),   PE[pos, 2i + 1] = cos(pos / base^(2i/d)).

    Each pair of features is a clock turning at its own rate, from one turn every 2*pi positions (i = 0) to
    one every 2*pi*base. d must be even. ``like``: an array whose library, device and float dtype to use.
    """
    T = integer("sinusoidal_positions", "T", T, minimum=1)
    d = integer("sinusoidal_positions", "d", d, minimum=2)
    if d % 2:
        raise ValueError(f"sinusoidal_positions: d is {d}; expected an even number (sin and cos come in pairs)")
    if like is None:
        import numpy as np

        xp, dtype, where = np, np.float64, None
    else:
        like, xp = as_array("sinusoidal_positions", "like", like)
        dtype, where = like.dtype, _device(like)
    pos = xp.astype(xp.arange(T, device=where), dtype)[:, None]                      # (T, 1)
    rate = xp.exp(xp.astype(xp.arange(0, d, 2, device=where), dtype) * (-math.log(base) / d))  # (d/2,) = base^(-2i/d)
    angle = pos * rate[None, :]                                                    # (T, d/2)
    return xp.reshape(xp.stack([xp.sin(angle), xp.cos(angle)], axis=-1), (T, d))   # interleave: sin, cos, sin, ...


def additive_attention(q, k, v, W_q, W_k, w, mask=None, return_weights: bool = False):
    """Bahdanau et al. (2015): score(q, k_j) = w . tanh(W_q q + W_k k_j), softmax over j, then the weighted
    sum of the values. q (N, Dq) one query per example, k (N, S, Dk), v (N, S, Dv), W_q (A, Dq), W_k (A, Dk),
    w (A,); ``mask`` (N, S) boolean, True where a key may be attended. Returns (N, Dv) (and the weights (N, S))."""
    fn = "additive_attention"
    named = {"q": q, "k": k, "v": v, "W_q": W_q, "W_k": W_k, "w": w}
    xp = one_library(fn, named)
    if len(q.shape) != 2 or len(k.shape) != 3 or len(v.shape) != 3 or k.shape[:2] != v.shape[:2] \
            or q.shape[0] != k.shape[0]:
        raise ValueError(f"{fn}: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}; expected (N, Dq), "
                         "(N, S, Dk) and (N, S, Dv)")
    hidden = tanh((q @ xp.matrix_transpose(W_q))[:, None, :] + k @ xp.matrix_transpose(W_k))   # (N, S, A)
    scores = hidden @ w                                                                         # (N, S)
    if mask is not None:
        if tuple(mask.shape) != tuple(scores.shape):
            raise ValueError(f"{fn}: mask has shape {tuple(mask.shape)}; expected (N, S) = {tuple(scores.shape)}")
        scores = xp.where(mask, scores, -math.inf)
    top = xp.max(scores, axis=-1, keepdims=True)
    e = xp.exp(scores - xp.where(top == -math.inf, 0.0, top))
    total = xp.sum(e, axis=-1, keepdims=True)
    weights = e / xp.where(total > 0, total, 1.0)
    out = xp.sum(weights[..., None] * v, axis=1)                                               # (N, Dv)
    return (out, weights) if return_weights else out


def _transposed(xp, k):
    """k with its last two axes swapped. NumPy's stacked matmul falls back to a slow loop (75x here) when an
    operand is a transposed view, so NumPy gets a contiguous copy; torch multiplies views at full speed."""
    kt = xp.matrix_transpose(k)
    return xp.asarray(kt, copy=True) if len(k.shape) > 2 and type(k).__module__ == "numpy" else kt


def _check_qkv(fn, q, k, v):
    if len(q.shape) < 2 or len(k.shape) != len(q.shape) or len(v.shape) != len(q.shape):
        raise ValueError(f"{fn}: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}; expected (..., L, E), "
                         "(..., S, E) and (..., S, Ev) with the same number of dimensions")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{fn}: q has {q.shape[-1]} features per query and k {k.shape[-1]} per key "
                         f"(shapes {tuple(q.shape)} and {tuple(k.shape)}); a dot product needs the same E")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{fn}: k has {k.shape[-2]} keys and v {v.shape[-2]} values (shapes {tuple(k.shape)} "
                         f"and {tuple(v.shape)}); every key needs its value")


def _check_mask(fn, mask, L, S):
    shape = tuple(int(d) for d in mask.shape)
    if len(shape) < 2 or shape[-2] not in (1, L) or shape[-1] not in (1, S):
        raise ValueError(f"{fn}: attn_mask has shape {shape}; expected one that broadcasts to (..., L, S) = "
                         f"(..., {L}, {S})")


def _device(x):
    from array_api_compat import device

    return device(x)
