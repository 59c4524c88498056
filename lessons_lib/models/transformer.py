"""Transformers (Part V) in the nanoGPT style: a config dataclass, small modules named as in the papers, a shape
comment on every reshape, and two attention paths that give the same numbers: the readable one (the book's
``functional.attention``, which shows the softmax) and the fast one (``F.scaled_dot_product_attention``).

- :class:`MultiHeadAttention`, :class:`EncoderBlock`, :class:`DecoderBlock` and :class:`Transformer`: the
  encoder-decoder of Vaswani et al. (2017), post-LN as in the paper (``norm_first=False``) or pre-LN as used today.
  With copied weights they equal ``nn.MultiheadAttention``, ``nn.TransformerEncoderLayer`` and
  ``nn.TransformerDecoderLayer`` (tests/test_transformer.py); :func:`from_torch_mha`, :func:`to_torch_mha` and
  :func:`from_torch_encoder_layer` do the copying.
- :class:`GPT`: a decoder-only language model with GPT-2's layout (pre-LN blocks, learned positions, GELU, the
  output layer tied to the token embedding) and a generation loop with temperature, top-k and a key/value
  cache. :func:`to_gpt2_state_dict` / :func:`from_gpt2_state_dict` convert to and from Hugging Face's
  ``GPT2LMHeadModel``, whose logits ours equal.

Masks follow the book's convention everywhere: a boolean mask is True where a query *may* attend.
(``nn.MultiheadAttention`` uses the opposite: True there means "blocked".)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from lessons_lib.functional.attention import (
    causal_mask,
    merge_heads,
    scaled_dot_product_attention,
    sinusoidal_positions,
    split_heads,
)

__all__ = ["GPT", "DecoderBlock", "EncoderBlock", "FeedForward", "GPTConfig", "MultiHeadAttention", "Transformer",
           "ViT", "from_gpt2_state_dict", "from_torch_encoder_layer", "from_torch_mha", "gpt2_config", "patchify",
           "to_gpt2_state_dict", "to_torch_mha", "vit_parameter_count"]


def _attend(q, k, v, mask, dropout: float, fast: bool):
    """q (N, h, L, d), k and v (N, h, S, d), mask broadcastable to (N, h, L, S) or None -> (N, h, L, d)."""
    if fast:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
    if dropout:
        raise ValueError("the readable attention path (fast=False) has no attention dropout: use it in eval mode, "
                         "or with dropout=0, to check the fast path")
    return scaled_dot_product_attention(q, k, v, attn_mask=mask)


# ------------------------------------------------------------------------------------ encoder-decoder


class MultiHeadAttention(nn.Module):
    """Multi-head attention: h heads, each attending in its own d_model/h-dimensional slice, concatenated and
    mixed by an output projection. ``forward(query, key, value, mask=None)``, all batch-first: query (N, L, D),
    key and value (N, S, D), a boolean mask broadcastable to (N, h, L, S), True where a query may attend.
    Returns (N, L, D); with ``return_weights=True`` also every head's attention weights (N, h, L, S), computed
    on the readable path (no attention dropout there). :func:`from_torch_mha` and :func:`to_torch_mha` convert
    to and from ``nn.MultiheadAttention``."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"MultiHeadAttention: d_model = {d_model} is not divisible by n_heads = {n_heads}")
        self.d_model, self.n_heads, self.dropout, self.fast = d_model, n_heads, dropout, True
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, query, key, value, mask=None, return_weights: bool = False):
        q = split_heads(self.q_proj(query), self.n_heads)      # (N, L, D) -> (N, h, L, D/h)
        k = split_heads(self.k_proj(key), self.n_heads)        # (N, S, D) -> (N, h, S, D/h)
        v = split_heads(self.v_proj(value), self.n_heads)      # (N, S, D) -> (N, h, S, D/h)
        dropout = self.dropout if self.training else 0.0
        if return_weights:
            if dropout:
                raise ValueError("MultiHeadAttention: return_weights=True uses the readable path, which has no "
                                 "attention dropout; call it in eval mode or with dropout=0")
            out, weights = scaled_dot_product_attention(q, k, v, attn_mask=mask, return_weights=True)
            return self.out_proj(merge_heads(out)), weights    # (N, L, D) and (N, h, L, S)
        out = _attend(q, k, v, mask, dropout, self.fast)       # (N, h, L, D/h)
        return self.out_proj(merge_heads(out))                 # (N, h, L, D/h) -> (N, L, D) -> (N, L, D)


def from_torch_mha(torch_mha: nn.MultiheadAttention, into: MultiHeadAttention | None = None) -> MultiHeadAttention:
    """Our :class:`MultiHeadAttention` with the weights of ``torch_mha`` (copied, on its device and dtype).

    ``nn.MultiheadAttention`` stacks W^Q, W^K, W^V in one (3D, D) ``in_proj_weight``; ours keeps three (D, D)
    Linears. With ``into`` the weights are copied into that module (its d_model, head count and biases must
    match) and it is returned. Only the plain layout converts: no ``kdim``/``vdim``, ``add_bias_kv`` or
    ``add_zero_attn``. The masks are not converted: torch's True means "ignore", ours "may attend" (pass
    ``~mask``), and torch is sequence-first unless built with ``batch_first=True``."""
    fn = "from_torch_mha"
    if not isinstance(torch_mha, nn.MultiheadAttention):
        raise TypeError(f"{fn}: torch_mha is a {type(torch_mha).__name__}; expected an nn.MultiheadAttention")
    if not torch_mha._qkv_same_embed_dim or torch_mha.bias_k is not None or torch_mha.add_zero_attn:
        raise ValueError(f"{fn}: torch_mha uses kdim/vdim, add_bias_kv or add_zero_attn; only the plain layout "
                         "(one in_proj_weight, no extra key/value biases) has an equivalent here")
    D, h = torch_mha.embed_dim, torch_mha.num_heads
    has_bias = torch_mha.in_proj_bias is not None
    if into is None:
        into = MultiHeadAttention(D, h, dropout=torch_mha.dropout, bias=has_bias)
        into = into.to(device=torch_mha.in_proj_weight.device, dtype=torch_mha.in_proj_weight.dtype)
    elif not isinstance(into, MultiHeadAttention):
        raise TypeError(f"{fn}: into is a {type(into).__name__}; expected a MultiHeadAttention")
    ours_bias = into.q_proj.bias is not None
    if (into.d_model, into.n_heads, ours_bias) != (D, h, has_bias):
        raise ValueError(f"{fn}: torch_mha has embed_dim = {D}, num_heads = {h}, biases {has_bias} but into has "
                         f"d_model = {into.d_model}, n_heads = {into.n_heads}, biases {ours_bias}")
    with torch.no_grad():
        for i, proj in enumerate((into.q_proj, into.k_proj, into.v_proj)):
            proj.weight.copy_(torch_mha.in_proj_weight[i * D:(i + 1) * D])     # rows: W^Q, then W^K, then W^V
            if has_bias:
                proj.bias.copy_(torch_mha.in_proj_bias[i * D:(i + 1) * D])
        into.out_proj.weight.copy_(torch_mha.out_proj.weight)
        if has_bias:
            into.out_proj.bias.copy_(torch_mha.out_proj.bias)
    return into


def to_torch_mha(ours: MultiHeadAttention, batch_first: bool = True) -> nn.MultiheadAttention:
    """An ``nn.MultiheadAttention`` with the weights of ``ours`` (the inverse of :func:`from_torch_mha`), on its
    device and dtype. Call it with ``need_weights=False`` or ``average_attn_weights=False`` as you need, and
    with the opposite boolean mask (True = ignore)."""
    if not isinstance(ours, MultiHeadAttention):
        raise TypeError(f"to_torch_mha: ours is a {type(ours).__name__}; expected a MultiHeadAttention")
    weight = ours.q_proj.weight
    has_bias = ours.q_proj.bias is not None
    theirs = nn.MultiheadAttention(ours.d_model, ours.n_heads, dropout=ours.dropout, bias=has_bias,
                                   batch_first=batch_first, device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]))  # (3D, D)
        theirs.out_proj.weight.copy_(ours.out_proj.weight)
        if has_bias:
            theirs.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))      # (3D,)
            theirs.out_proj.bias.copy_(ours.out_proj.bias)
    return theirs


class FeedForward(nn.Sequential):
    """The position-wise network: Linear(d_model, d_ff), activation, dropout, Linear(d_ff, d_model)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "relu"):
        act = {"relu": nn.ReLU(), "gelu": nn.GELU()}[activation]
        super().__init__(nn.Linear(d_model, d_ff), act, nn.Dropout(dropout), nn.Linear(d_ff, d_model))


class EncoderBlock(nn.Module):
    """Self-attention then the feed-forward network, each wrapped in a residual connection and a LayerNorm:
    post-LN x = norm(x + sublayer(x)) as in the paper, or pre-LN x = x + sublayer(norm(x)).

    ``residual=False`` drops the ``x +`` of both sub-layers (x = norm(sublayer(x)) post-LN, sublayer(norm(x))
    pre-LN): no real model does this; it exists for Chapter 29's gradient-flow experiment. x (N, T, D), mask
    broadcastable to (N, h, T, T) (True = may attend) -> (N, T, D). :func:`from_torch_encoder_layer` copies an
    ``nn.TransformerEncoderLayer``'s weights into one."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0, norm_first: bool = False,
                 activation: str = "relu", residual: bool = True):
        super().__init__()
        self.norm_first, self.residual = norm_first, residual
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.ff = FeedForward(d_model, d_ff, dropout, activation)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x, mask=None):
        attend = lambda h: self.drop1(self.self_attn(h, h, h, mask))   # noqa: E731
        skip = lambda h: h if self.residual else 0.0                   # noqa: E731  (the residual path, or none)
        if self.norm_first:
            x = skip(x) + attend(self.norm1(x))
            return skip(x) + self.drop2(self.ff(self.norm2(x)))
        x = self.norm1(skip(x) + attend(x))
        return self.norm2(skip(x) + self.drop2(self.ff(x)))


def from_torch_encoder_layer(layer: nn.TransformerEncoderLayer, into: EncoderBlock | None = None) -> EncoderBlock:
    """Our :class:`EncoderBlock` with the weights of ``layer`` (same norm_first, ReLU or GELU, LayerNorm eps
    1e-5); with ``into``, copied into that block and returned. The masks differ as for :func:`from_torch_mha`:
    ``src_key_padding_mask=pad`` there is ``mask=~pad[:, None, None, :]`` here."""
    fn = "from_torch_encoder_layer"
    if not isinstance(layer, nn.TransformerEncoderLayer):
        raise TypeError(f"{fn}: layer is a {type(layer).__name__}; expected an nn.TransformerEncoderLayer")
    act = layer.activation
    name = "relu" if act is F.relu or isinstance(act, nn.ReLU) else "gelu" if act is F.gelu or isinstance(act, nn.GELU) else None
    if name is None:
        raise ValueError(f"{fn}: layer's activation is {act!r}; only ReLU and GELU have an equivalent here")
    if layer.norm1.eps != 1e-5:
        raise ValueError(f"{fn}: layer's LayerNorm eps is {layer.norm1.eps}; EncoderBlock uses 1e-5")
    D, d_ff = layer.linear1.in_features, layer.linear1.out_features
    weight = layer.linear1.weight
    if into is None:
        into = EncoderBlock(D, layer.self_attn.num_heads, d_ff, dropout=layer.dropout.p, norm_first=layer.norm_first,
                            activation=name).to(device=weight.device, dtype=weight.dtype)
    elif not isinstance(into, EncoderBlock):
        raise TypeError(f"{fn}: into is a {type(into).__name__}; expected an EncoderBlock")
    if into.ff[0].weight.shape != weight.shape or into.norm_first != layer.norm_first:
        raise ValueError(f"{fn}: layer has d_model = {D}, d_ff = {d_ff}, norm_first = {layer.norm_first} but into has "
                         f"d_model = {into.ff[0].in_features}, d_ff = {into.ff[0].out_features}, "
                         f"norm_first = {into.norm_first}")
    from_torch_mha(layer.self_attn, into.self_attn)
    into.ff[0].load_state_dict(layer.linear1.state_dict())
    into.ff[3].load_state_dict(layer.linear2.state_dict())
    into.norm1.load_state_dict(layer.norm1.state_dict())
    into.norm2.load_state_dict(layer.norm2.state_dict())
    return into


class DecoderBlock(nn.Module):
    """Masked self-attention over the target so far, cross-attention to the encoder's output (``memory``), then
    the feed-forward network; residuals and LayerNorms as in :class:`EncoderBlock`."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0, norm_first: bool = False,
                 activation: str = "relu"):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.ff = FeedForward(d_model, d_ff, dropout, activation)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop1, self.drop2, self.drop3 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        self_part = lambda h: self.drop1(self.self_attn(h, h, h, tgt_mask))                 # noqa: E731
        cross_part = lambda h: self.drop2(self.cross_attn(h, memory, memory, memory_mask))  # noqa: E731
        if self.norm_first:
            x = x + self_part(self.norm1(x))
            x = x + cross_part(self.norm2(x))
            return x + self.drop3(self.ff(self.norm3(x)))
        x = self.norm1(x + self_part(x))
        x = self.norm2(x + cross_part(x))
        return self.norm3(x + self.drop3(self.ff(x)))


class Transformer(nn.Module):
    """The encoder-decoder transformer for sequence-to-sequence tasks.

    Tokens are embedded, scaled by sqrt(d_model) and added to sinusoidal positions; the encoder reads the source,
    the decoder reads the target shifted right (``tgt_in`` starts with a begin-of-sequence token) and attends to
    the encoder's output. ``pad_id`` positions of the source are never attended to. ``forward(src, tgt_in)``
    returns logits (N, T_tgt, tgt_vocab); :meth:`greedy_decode` generates without teacher forcing.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int = 64, n_heads: int = 4, n_layers: int = 2,
                 d_ff: int = 128, dropout: float = 0.0, max_len: int = 256, norm_first: bool = False, pad_id: int = 0):
        super().__init__()
        self.d_model, self.pad_id, self.norm_first = d_model, pad_id, norm_first
        self.src_embed = nn.Embedding(src_vocab, d_model, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model, padding_idx=pad_id)
        self.register_buffer("positions", torch.as_tensor(sinusoidal_positions(max_len, d_model), dtype=torch.float32),
                             persistent=False)
        self.encoder = nn.ModuleList([EncoderBlock(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers)])
        self.decoder = nn.ModuleList([DecoderBlock(d_model, n_heads, d_ff, dropout, norm_first) for _ in range(n_layers)])
        # pre-LN stacks end with a LayerNorm (the residual stream is never normalised inside the blocks)
        self.enc_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.dec_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.drop = nn.Dropout(dropout)
        self.generator = nn.Linear(d_model, tgt_vocab)

    def _embed(self, embed, ids):
        T = ids.shape[1]
        if T > self.positions.shape[0]:
            raise ValueError(f"Transformer: a sequence of {T} tokens is longer than max_len = {self.positions.shape[0]}")
        return self.drop(embed(ids) * math.sqrt(self.d_model) + self.positions[:T].to(embed.weight.dtype))

    def encode(self, src):
        src_mask = (src != self.pad_id)[:, None, None, :]            # (N, 1, 1, S): real source tokens
        h = self._embed(self.src_embed, src)                         # (N, S, D)
        for block in self.encoder:
            h = block(h, src_mask)
        return self.enc_norm(h), src_mask

    def decode(self, tgt_in, memory, src_mask):
        T = tgt_in.shape[1]
        tgt_mask = causal_mask(T, like=memory)                       # (T, T): no peeking at later targets
        h = self._embed(self.tgt_embed, tgt_in)                      # (N, T, D)
        for block in self.decoder:
            h = block(h, memory, tgt_mask, src_mask)
        return self.generator(self.dec_norm(h))                      # (N, T, tgt_vocab)

    def forward(self, src, tgt_in):
        memory, src_mask = self.encode(src)
        return self.decode(tgt_in, memory, src_mask)

    @torch.no_grad()
    def greedy_decode(self, src, bos_id: int, eos_id: int, max_len: int):
        """The most likely token at each step, fed back in, until every sequence has produced ``eos_id`` or
        ``max_len`` tokens; returns (N, <= max_len) ids without the leading ``bos_id``."""
        was_training = self.training
        self.eval()
        memory, src_mask = self.encode(src)
        out = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            nxt = self.decode(out, memory, src_mask)[:, -1].argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, self.pad_id), nxt)
            out = torch.cat([out, nxt[:, None]], dim=1)
            done |= nxt == eos_id
            if done.all():
                break
        self.train(was_training)
        return out[:, 1:]


# -------------------------------------------------------------------------------------------------- GPT


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int = 64        # the longest context the model reads
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True


class CausalSelfAttention(nn.Module):
    """GPT's attention: one projection makes q, k and v; each position attends to itself and the past.
    ``cache`` (k, v) holds the keys and values of the positions already processed, so generation computes
    only the new position's."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"GPT: n_embd = {config.n_embd} is not divisible by n_head = {config.n_head}")
        self.n_head, self.dropout, self.fast = config.n_head, config.dropout, True
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_drop = nn.Dropout(config.dropout)

    def forward(self, x, cache=None):
        N, T, D = x.shape
        q, k, v = self.c_attn(x).split(D, dim=2)                     # (N, T, 3D) -> three (N, T, D)
        q, k, v = (split_heads(t, self.n_head) for t in (q, k, v))   # (N, T, D) -> (N, h, T, D/h)
        past = 0
        if cache is not None:
            past = cache[0].shape[2]
            k = torch.cat([cache[0], k], dim=2)                      # (N, h, past + T, D/h)
            v = torch.cat([cache[1], v], dim=2)
        dropout = self.dropout if self.training else 0.0
        if self.fast and past == 0:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)
        else:
            # query i sits at position past + i and may see keys 0 .. past + i
            mask = torch.arange(past + T, device=x.device)[None, :] <= past + torch.arange(T, device=x.device)[:, None]
            y = _attend(q, k, v, mask, dropout, self.fast)           # (N, h, T, D/h)
        y = merge_heads(y)                                           # (N, h, T, D/h) -> (N, T, D)
        return self.resid_drop(self.c_proj(y)), (k, v)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")                      # GPT-2's "gelu_new"
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.drop(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """A pre-LN decoder block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, cache=None):
        a, cache = self.attn(self.ln_1(x), cache)
        x = x + a
        return x + self.mlp(self.ln_2(x)), cache


class GPT(nn.Module):
    """A GPT-2-style language model. ``forward(idx, targets=None, cache=None)`` returns ``(logits, loss, cache)``:
    logits (N, T, vocab), the mean cross-entropy when ``targets`` (N, T) are given, and the per-layer key/value
    cache for the next call."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),      # token embeddings
            wpe=nn.Embedding(config.block_size, config.n_embd),      # learned position embeddings
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight            # weight tying (Press and Wolf, 2017)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():                      # GPT-2: scale the residual projections
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameters, each shared tensor once; without the position embeddings by default (as nanoGPT counts)."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def forward(self, idx, targets=None, cache=None):
        N, T = idx.shape
        past = 0 if cache is None else cache[0][0].shape[2]
        if past + T > self.config.block_size:
            raise ValueError(f"GPT: {past + T} positions (cache {past} + input {T}) exceed block_size = "
                             f"{self.config.block_size}; crop the context")
        pos = torch.arange(past, past + T, device=idx.device)                     # (T,)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))  # (N, T, D)
        new_cache = []
        for i, block in enumerate(self.transformer.h):
            x, layer_cache = block(x, None if cache is None else cache[i])
            new_cache.append(layer_cache)
        logits = self.lm_head(self.transformer.ln_f(x))                            # (N, T, vocab)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)
        return logits, loss, new_cache

    @torch.no_grad()
    def generate(self, idx, max_new_tokens: int, *, temperature: float = 1.0, top_k: int | None = None,
                 use_cache: bool = True, generator: torch.Generator | None = None):
        """Append ``max_new_tokens`` tokens to ``idx`` (N, T), each drawn from softmax(logits / temperature),
        keeping only the ``top_k`` most likely when given; ``temperature=0`` takes the most likely token. With
        ``use_cache`` each step feeds only the new token and reuses the stored keys and values; the context
        is cropped to the last ``block_size`` tokens either way: once the cache is full, every step recomputes
        from the crop, exactly as without the cache, so both give the same tokens."""
        if not temperature >= 0:
            raise ValueError(f"GPT.generate: temperature is {temperature}; expected a number >= 0")
        if top_k is not None and not (isinstance(top_k, int) and top_k >= 1):
            raise ValueError(f"GPT.generate: top_k is {top_k!r}; expected a positive integer or None")
        was_training = self.training
        self.eval()
        B, cache = self.config.block_size, None
        for _ in range(max_new_tokens):
            if cache is not None and cache[0][0].shape[2] < B:
                logits, _, cache = self(idx[:, -1:], cache=cache)    # only the newest token, at the next position
            else:
                logits, _, cache = self(idx[:, -B:])                 # the whole (cropped) context
            if not use_cache:
                cache = None
            logits = logits[:, -1, :]                                # (N, vocab): the next token's scores
            if temperature == 0:
                nxt = logits.argmax(-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, -math.inf)
                probs = torch.softmax(logits.double(), dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)
            idx = torch.cat([idx, nxt], dim=1)
        self.train(was_training)
        return idx


# ------------------------------------------------------------------ Hugging Face GPT-2 <-> our GPT


def gpt2_config(config: GPTConfig):
    """The ``transformers.GPT2Config`` of the same architecture (GELU tanh, LayerNorm eps 1e-5, tied head)."""
    from transformers import GPT2Config

    if not config.bias:
        raise ValueError("gpt2_config: GPT-2 has biases everywhere; build GPTConfig with bias=True")
    return GPT2Config(vocab_size=config.vocab_size, n_positions=config.block_size, n_embd=config.n_embd,
                      n_layer=config.n_layer, n_head=config.n_head, resid_pdrop=config.dropout,
                      embd_pdrop=config.dropout, attn_pdrop=config.dropout, activation_function="gelu_new",
                      layer_norm_epsilon=1e-5, tie_word_embeddings=True, bos_token_id=0, eos_token_id=0)


# GPT-2 stores these four as Conv1D, whose weight is (in, out): the transpose of nn.Linear's (out, in).
_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def to_gpt2_state_dict(model: GPT) -> dict:
    """Our GPT's weights under ``GPT2LMHeadModel``'s keys and layouts (for ``load_state_dict``)."""
    out = {}
    for key, value in model.state_dict().items():
        out[key] = value.t().contiguous() if key.endswith(_CONV1D) else value
    return out


def from_gpt2_state_dict(state: dict) -> dict:
    """A ``GPT2LMHeadModel`` state_dict (e.g. real GPT-2 weights) for our :class:`GPT`: Conv1D weights
    transposed, the causal-mask buffers some versions store dropped."""
    out = {}
    for key, value in state.items():
        if key.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # buffers, not weights
        out[key] = value.t().contiguous() if key.endswith(_CONV1D) else value
    return out


# ------------------------------------------------------------------------------ vision transformer (Appendix D)


def patchify(images, patch: int):
    """Cut images into non-overlapping square patches, each flattened: (N, C, H, W) -> (N, H/p * W/p, C * p * p).

    Patches come in row-major order (left to right, then top to bottom), as a convolution's outputs are laid
    out; each is flattened channel first, then row, then column, the order of a ``Conv2d`` weight (D, C, p, p),
    so a Linear on these vectors and a ``Conv2d(C, D, p, stride=p)`` with the same weights agree
    (:meth:`ViT.patch_conv`). H and W must be multiples of ``patch``."""
    if not isinstance(patch, int) or isinstance(patch, bool) or patch < 1:
        raise ValueError(f"patchify: patch is {patch!r}; expected a positive integer")
    if images.dim() != 4:
        raise ValueError(f"patchify: images has shape {tuple(images.shape)}; expected (N, C, H, W)")
    N, C, H, W = images.shape
    if H % patch or W % patch:
        raise ValueError(f"patchify: an image of {H}x{W} pixels does not divide into {patch}x{patch} patches; "
                         f"H and W must be multiples of patch")
    x = images.reshape(N, C, H // patch, patch, W // patch, patch)   # (N, C, rows, p, cols, p)
    x = x.permute(0, 2, 4, 1, 3, 5)                                   # (N, rows, cols, C, p, p)
    return x.reshape(N, (H // patch) * (W // patch), C * patch * patch)  # (N, P, C p p)


def vit_parameter_count(image_size: int, patch: int, in_channels: int, num_classes: int, d_model: int,
                        n_layers: int, d_ff: int) -> int:
    """The number of parameters of :class:`ViT` with these settings (the head count does not change it)."""
    P, D = (image_size // patch) ** 2, d_model
    embed = (in_channels * patch * patch + 1) * D         # the patch embedding, a Linear(C p p, D)
    tokens = D + (P + 1) * D                              # the class token and one position per token
    block = 4 * (D * D + D) + (D * d_ff + d_ff) + (d_ff * D + D) + 2 * 2 * D   # attention, MLP, two LayerNorms
    return embed + tokens + n_layers * block + 2 * D + (D * num_classes + num_classes)


class ViT(nn.Module):
    """A vision transformer (Dosovitskiy et al., 2021), small enough for 8x8 digits.

    The image (N, C, H, W) is cut into P = (H/p)(W/p) patches (:func:`patchify`), each flattened patch is mapped
    to d_model numbers by one Linear (the patch embedding), a learned class token is put in front, a learned
    position vector is added to each of the P + 1 tokens, and pre-LN :class:`EncoderBlock` s (GELU, as in ViT)
    let every token attend to every other. A final LayerNorm, then a Linear head reads the class token alone.
    ``forward(images)`` -> logits (N, num_classes); :meth:`attention_maps` also returns every layer's weights."""

    def __init__(self, image_size: int = 8, patch: int = 2, in_channels: int = 1, num_classes: int = 10,
                 d_model: int = 32, n_heads: int = 4, n_layers: int = 2, d_ff: int = 64, dropout: float = 0.0):
        super().__init__()
        if image_size % patch:
            raise ValueError(f"ViT: image_size = {image_size} is not divisible by patch = {patch}")
        self.image_size, self.patch, self.in_channels = image_size, patch, in_channels
        self.n_patches = (image_size // patch) ** 2
        self.patch_embed = nn.Linear(in_channels * patch * patch, d_model)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.positions = nn.Parameter(torch.zeros(1, self.n_patches + 1, d_model))
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.positions, std=0.02)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([EncoderBlock(d_model, n_heads, d_ff, dropout, norm_first=True, activation="gelu")
                                     for _ in range(n_layers)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def tokens(self, images):
        """images (N, C, H, W) -> the encoder's input (N, P + 1, D): class token first, positions added."""
        if images.dim() != 4 or tuple(images.shape[1:]) != (self.in_channels, self.image_size, self.image_size):
            raise ValueError(f"ViT: images has shape {tuple(images.shape)}; expected (N, {self.in_channels}, "
                             f"{self.image_size}, {self.image_size})")
        x = self.patch_embed(patchify(images, self.patch))           # (N, P, C p p) -> (N, P, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)               # (1, 1, D) -> (N, 1, D)
        return self.drop(torch.cat([cls, x], dim=1) + self.positions)  # (N, P + 1, D)

    def forward(self, images):
        x = self.tokens(images)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))                          # (N, D) -> (N, num_classes)

    @torch.no_grad()
    def attention_maps(self, images):
        """(logits (N, classes), weights (n_layers, N, heads, P + 1, P + 1)), in eval mode: the same logits as
        ``forward``, recomputed block by block (x + attn(LN(x)), then x + MLP(LN(x))) to read each layer's
        attention. Row 0 of a layer's weights is what the class token looks at."""
        was_training = self.training
        self.eval()
        x, weights = self.tokens(images), []
        for block in self.blocks:
            h = block.norm1(x)
            out, w = block.self_attn(h, h, h, return_weights=True)  # w (N, heads, P + 1, P + 1)
            x = x + out
            x = x + block.ff(block.norm2(x))
            weights.append(w)
        self.train(was_training)
        return self.head(self.norm(x[:, 0])), torch.stack(weights)

    def patch_conv(self) -> nn.Conv2d:
        """A ``Conv2d(C, D, kernel_size=p, stride=p)`` with the patch embedding's weights: applied to the images it
        gives the same patch embeddings, as (N, D, H/p, W/p) maps (flatten and transpose for (N, P, D))."""
        D, p = self.patch_embed.out_features, self.patch
        conv = nn.Conv2d(self.in_channels, D, kernel_size=p, stride=p).to(self.patch_embed.weight.device,
                                                                           self.patch_embed.weight.dtype)
        with torch.no_grad():
            conv.weight.copy_(self.patch_embed.weight.reshape(D, self.in_channels, p, p))   # (D, C p p) -> (D, C, p, p)
            conv.bias.copy_(self.patch_embed.bias)
        return conv

