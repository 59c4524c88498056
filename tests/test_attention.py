"""functional.attention against torch: values and gradients in float64, masks, heads, positions, errors."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lessons_lib.functional.attention import (
    additive_attention,
    causal_mask,
    merge_heads,
    scaled_dot_product_attention,
    sinusoidal_positions,
    split_heads,
)


def _qkv(shape_q, shape_k, ev=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*shape_q, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(*shape_k, generator=g, dtype=torch.float64, requires_grad=True)
    v_shape = (*shape_k[:-1], ev or shape_k[-1])
    v = torch.randn(*v_shape, generator=g, dtype=torch.float64, requires_grad=True)
    return q, k, v


def _grads(fn, q, k, v):
    out = fn(q, k, v)
    weights = torch.linspace(-1, 1, out.numel(), dtype=torch.float64).reshape(out.shape)
    return (out, *torch.autograd.grad((out * weights).sum(), (q, k, v)))


@pytest.mark.parametrize("shape_q,shape_k,ev", [((5, 4), (5, 4), None), ((2, 3, 6, 8), (2, 3, 7, 8), 5),
                                                  ((3, 1, 8), (3, 9, 8), 2)])
@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal", "scale"])
def test_equals_torch_in_values_and_gradients(shape_q, shape_k, ev, mask):
    q, k, v = _qkv(shape_q, shape_k, ev)
    L, S = shape_q[-2], shape_k[-2]
    kwargs = {}
    if mask == "bool":
        m = torch.rand(L, S, generator=torch.Generator().manual_seed(1)) > 0.4
        m[:, 0] = True  # every query sees at least one key (torch gives NaN otherwise)
        kwargs = {"attn_mask": m}
    elif mask == "float":
        kwargs = {"attn_mask": torch.randn(L, S, dtype=torch.float64, generator=torch.Generator().manual_seed(2))}
    elif mask == "causal":
        kwargs = {"is_causal": True}
    elif mask == "scale":
        kwargs = {"scale": 0.3}
    ours = _grads(lambda a, b, c: scaled_dot_product_attention(a, b, c, **kwargs), q, k, v)
    theirs = _grads(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **kwargs), q, k, v)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_numpy_path_and_weights_rows_sum_to_one():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 6, 5))
    out, w = scaled_dot_product_attention(q, k, v, return_weights=True)
    assert isinstance(out, np.ndarray) and out.shape == (2, 4, 5) and w.shape == (2, 4, 6)
    np.testing.assert_allclose(w.sum(-1), 1.0)
    ref = F.scaled_dot_product_attention(*(torch.as_tensor(a) for a in (q, k, v))).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_a_fully_masked_query_gets_zero_weights_not_nan():
    q, k, v = _qkv((3, 4), (5, 4))
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    out, w = scaled_dot_product_attention(q, k, v, attn_mask=mask, return_weights=True)
    assert torch.isfinite(out).all() and torch.all(out[1] == 0) and torch.all(w[1] == 0)
    torch.testing.assert_close(w[[0, 2]].sum(-1), torch.ones(2, dtype=torch.float64))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))  # torch 2.13 agrees
    plain = torch.softmax((q @ k.T).masked_fill(~mask, -math.inf), -1)
    assert torch.isnan(plain[1]).all()  # what the textbook formula gives
    grads = torch.autograd.grad(out.sum(), (q, k, v))
    assert all(torch.isfinite(g).all() for g in grads)
    neg_inf = torch.zeros(3, 5, dtype=torch.float64)
    neg_inf[1] = -math.inf
    assert torch.all(scaled_dot_product_attention(q, k, v, attn_mask=neg_inf)[1] == 0)


def test_causal_mask_matches_torchs_rule():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    torch.testing.assert_close(causal_mask(4, 6, like=torch.zeros(1)), torch.ones(4, 6, dtype=torch.bool).tril())
    assert causal_mask(2, like=torch.zeros(1)).dtype == torch.bool


def test_scaling_keeps_the_score_variance_near_one():
    """q.k of two random vectors with unit-variance entries has variance E; dividing by sqrt(E) brings it to 1."""
    g = torch.Generator().manual_seed(0)
    for E in (4, 64, 512):
        q, k = torch.randn(20_000, E, generator=g), torch.randn(20_000, E, generator=g)
        dots = (q * k).sum(1)
        assert dots.var().item() == pytest.approx(E, rel=0.05)
        assert (dots / math.sqrt(E)).var().item() == pytest.approx(1.0, rel=0.05)


def test_split_and_merge_heads_are_inverse_and_match_torch_views():
    x = torch.arange(2 * 5 * 12, dtype=torch.float64).reshape(2, 5, 12)
    h = split_heads(x, 3)
    assert h.shape == (2, 3, 5, 4)
    torch.testing.assert_close(h[:, 1], x[..., 4:8])  # head 1 holds features 4..7
    torch.testing.assert_close(merge_heads(h), x)
    np.testing.assert_array_equal(merge_heads(split_heads(x.numpy(), 4)), x.numpy())
    with pytest.raises(ValueError, match="divisible by n_heads = 5"):
        split_heads(x, 5)
    with pytest.raises(ValueError, match=r"expected \(N, heads, T, d\)"):
        merge_heads(x)


def test_sinusoidal_positions_follow_the_paper():
    pe = sinusoidal_positions(50, 16)
    pos, i = np.arange(50)[:, None], np.arange(8)[None, :]
    angle = pos / 10000 ** (2 * i / 16)
    np.testing.assert_allclose(pe[:, 0::2], np.sin(angle), atol=1e-12)
    np.testing.assert_allclose(pe[:, 1::2], np.cos(angle), atol=1e-12)
    # d = 4 at positions 0 and 1: [sin 0, cos 0, sin 0, cos 0] and [sin 1, cos 1, sin 0.01, cos 0.01]
    np.testing.assert_allclose(sinusoidal_positions(2, 4), [[0, 1, 0, 1], [math.sin(1), math.cos(1), math.sin(0.01),
                                                                         math.cos(0.01)]], atol=1e-12)
    t = sinusoidal_positions(7, 6, like=torch.zeros(1, dtype=torch.float32))
    assert t.dtype == torch.float32 and t.shape == (7, 6)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(4, 5)


def test_additive_attention_equals_its_formula_and_respects_the_mask():
    g = torch.Generator().manual_seed(3)
    N, S, Dq, Dk, Dv, A = 2, 5, 3, 4, 6, 7
    q, k, v = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((N, Dq), (N, S, Dk), (N, S, Dv)))
    Wq, Wk, w = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((A, Dq), (A, Dk), (A,)))
    out, weights = additive_attention(q, k, v, Wq, Wk, w, return_weights=True)
    for n in range(N):
        scores = torch.stack([w @ torch.tanh(Wq @ q[n] + Wk @ k[n, j]) for j in range(S)])
        a = torch.softmax(scores, 0)
        torch.testing.assert_close(weights[n], a)
        torch.testing.assert_close(out[n], a @ v[n])
    mask = torch.tensor([[True] * 3 + [False] * 2, [True] * 5])
    _, weights = additive_attention(q, k, v, Wq, Wk, w, mask=mask, return_weights=True)
    assert torch.all(weights[0, 3:] == 0) and weights[0].sum().item() == pytest.approx(1.0)


def test_errors_name_the_arguments_and_both_shapes():
    q, k, v = _qkv((3, 4), (5, 4))
    with pytest.raises(ValueError, match=r"q has 4 features per query and k 3 per key"):
        scaled_dot_product_attention(q, k[:, :3], v)
    with pytest.raises(ValueError, match=r"k has 5 keys and v 4 values"):
        scaled_dot_product_attention(q, k, v[:4])
    with pytest.raises(ValueError, match=r"attn_mask has shape \(3, 4\)"):
        scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(3, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="not both"):
        scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(3, 5, dtype=torch.bool), is_causal=True)
    with pytest.raises(TypeError, match="one library"):
        scaled_dot_product_attention(q, k.detach().numpy(), v)
