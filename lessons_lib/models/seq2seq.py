"""A GRU encoder-decoder (Sutskever et al., 2014; Cho et al., 2014), with or without the additive attention of
Bahdanau, Cho and Bengio (2015) (chapters 27 and 28).

The encoder reads the source and keeps its state at every step; the decoder generates the target one token at a
time from its own state and the token it produced last. Without attention the decoder sees the source only
through the encoder's final state, one fixed-size vector however long the source (the bottleneck); with attention
it also reads, at every step, a weighted average of all the encoder's states, the weights computed from its
current state (the score of ``functional.attention.additive_attention``, w . tanh(W_q h + W_k s_j)).

``forward(src, tgt_in)`` trains with teacher forcing (the decoder is fed the true previous token) and returns
logits (N, T, vocab) and the attention weights (N, T, S) (None without attention); :meth:`greedy_decode` feeds
back its own predictions, as at inference time. :func:`shift_targets` builds the decoder's input and target from a
batch of target sequences, and :func:`pad_batch` pads lists of ids into one tensor.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lessons_lib.validate import integer, number

__all__ = ["Seq2Seq", "pad_batch", "shift_targets"]


def pad_batch(sequences, pad_id: int = 0, device=None) -> torch.Tensor:
    """Lists of token ids of any lengths -> one (N, T) long tensor, T the longest, padded at the end with ``pad_id``."""
    sequences = [list(s) for s in sequences]
    if not sequences:
        raise ValueError("pad_batch: sequences is empty; expected at least one list of ids")
    T = max(1, max(len(s) for s in sequences))
    out = torch.full((len(sequences), T), pad_id, dtype=torch.long)
    for i, s in enumerate(sequences):
        out[i, :len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out if device is None else out.to(device)


def shift_targets(ids: torch.Tensor, bos_id: int, eos_id: int, pad_id: int):
    """The decoder's input and target for teacher forcing, from a batch of target sequences.

    ``ids`` (N, T) holds each sequence's tokens followed by ``pad_id`` padding. Returns ``(tgt_in, tgt_out)``, both
    (N, T + 1): ``tgt_in`` is ``<bos>`` then the tokens (what the decoder is fed), ``tgt_out`` is the tokens then
    ``<eos>`` right after the last real one (what it must predict), padding after. So at step t the decoder reads
    token t - 1 and must say token t; the loss ignores ``pad_id``.
    """
    if not isinstance(ids, torch.Tensor) or ids.ndim != 2:
        shape = tuple(ids.shape) if hasattr(ids, "shape") else type(ids).__name__
        raise ValueError(f"shift_targets: ids has shape {shape}; expected a (N, T) tensor of token ids")
    N = ids.shape[0]
    lengths = (ids != pad_id).sum(1)                                                  # (N,) real tokens
    column = torch.full((N, 1), pad_id, dtype=ids.dtype, device=ids.device)
    tgt_in = torch.cat([torch.full_like(column, bos_id), ids], dim=1)                 # (N, T + 1)
    tgt_out = torch.cat([ids, column], dim=1)                                         # (N, T + 1)
    tgt_out[torch.arange(N, device=ids.device), lengths] = eos_id                     # <eos> after the last token
    return tgt_in, tgt_out


class Seq2Seq(nn.Module):
    """GRU encoder, GRU-cell decoder and a linear read-out, optionally with additive attention.

    ``update_bias`` (default None: PyTorch's initialisation) sets the total bias of the update gate z of both GRUs
    (rows H..2H of ``bias_ih``; ``bias_hh`` there set to 0). In PyTorch's GRU z keeps the old state, so +1 starts
    every unit keeping about 73% of its state per step: a longer memory at the start of training, like an LSTM's
    forget bias (chapter 25).
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, embed_dim: int = 32, hidden_size: int = 64, *,
                 attention: bool = True, attn_size: int | None = None, pad_id: int = 0,
                 update_bias: float | None = None):
        super().__init__()
        self.pad_id, self.attention = pad_id, attention
        self.src_embed = nn.Embedding(src_vocab, embed_dim, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_dim, padding_idx=pad_id)
        self.encoder = nn.GRU(embed_dim, hidden_size, batch_first=True)
        context = hidden_size if attention else 0
        self.decoder = nn.GRUCell(embed_dim + context, hidden_size)
        self.out = nn.Linear(hidden_size + context, tgt_vocab)
        if attention:
            a = attn_size or hidden_size
            self.W_q = nn.Linear(hidden_size, a, bias=False)        # from the decoder's state
            self.W_k = nn.Linear(hidden_size, a, bias=False)        # from each encoder state
            self.w = nn.Parameter(torch.randn(a) / a**0.5)
        if update_bias is not None:
            number("Seq2Seq", "update_bias", update_bias)
            H = hidden_size
            with torch.no_grad():                                    # gate blocks r, z, n: z is rows H..2H
                for b_ih, b_hh in ((self.encoder.bias_ih_l0, self.encoder.bias_hh_l0),
                                   (self.decoder.bias_ih, self.decoder.bias_hh)):
                    b_ih[H:2 * H] = update_bias
                    b_hh[H:2 * H] = 0.0

    def encode(self, src):
        """(N, S) ids -> encoder states (N, S, H), the final state (N, H) and the mask of real tokens (N, S).
        Padding must come after the tokens; the final state is read at each sequence's last real token."""
        mask = src != self.pad_id
        lengths = mask.sum(1).clamp_min(1)
        states, _ = self.encoder(self.src_embed(src))                # (N, S, H)
        final = states[torch.arange(src.shape[0], device=src.device), lengths - 1]   # (N, H)
        return states, final, mask

    def keys(self, states):
        """W_k s_j for every encoder state, (N, S, A): they do not change while decoding, so computed once."""
        return self.W_k(states) if self.attention else None

    def attend(self, h, keys, states, mask):
        """Additive attention from the decoder state h (N, H) over precomputed keys (N, S, A): the context (N, H)
        and the weights (N, S). Equal to ``additive_attention(h, states, states, W_q, W_k, w, mask)``."""
        scores = torch.tanh(self.W_q(h)[:, None, :] + keys) @ self.w     # (N, S): w . tanh(W_q h + W_k s_j)
        scores = scores.masked_fill(~mask, -math.inf)
        top = scores.amax(-1, keepdim=True)
        e = torch.exp(scores - torch.where(top == -math.inf, 0.0, top))  # a fully masked row gives zeros
        total = e.sum(-1, keepdim=True)
        weights = e / torch.where(total > 0, total, 1.0)
        return (weights[..., None] * states).sum(1), weights              # (N, H), (N, S)

    def _step(self, token, h, states, mask, keys=None):
        """One decoder step: token (N,), state h (N, H) -> logits (N, V), new state, weights (N, S) or None."""
        x = self.tgt_embed(token)                                    # (N, E)
        weights = None
        if self.attention:
            keys = self.keys(states) if keys is None else keys
            context, weights = self.attend(h, keys, states, mask)    # (N, H), (N, S)
            x = torch.cat([x, context], dim=1)
        h = self.decoder(x, h)
        features = torch.cat([h, context], dim=1) if self.attention else h
        return self.out(features), h, weights

    def forward(self, src, tgt_in):
        states, h, mask = self.encode(src)
        keys = self.keys(states)
        logits, alignments = [], []
        for t in range(tgt_in.shape[1]):                             # teacher forcing: the true previous token
            step_logits, h, weights = self._step(tgt_in[:, t], h, states, mask, keys)
            logits.append(step_logits)
            alignments.append(weights)
        weights = torch.stack(alignments, dim=1) if self.attention else None
        return torch.stack(logits, dim=1), weights                  # (N, T, V), (N, T, S)

    @torch.no_grad()
    def greedy_decode(self, src, bos_id: int, eos_id: int, max_len: int):
        """Generate by feeding back the most likely token; returns (ids (N, <= max_len), weights (N, T, S) or
        None). Sequences that produced ``eos_id`` continue with padding."""
        max_len = integer("greedy_decode", "max_len", max_len, minimum=1)
        was_training = self.training
        self.eval()
        states, h, mask = self.encode(src)
        keys = self.keys(states)
        token = torch.full((src.shape[0],), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros_like(token, dtype=torch.bool)
        out, alignments = [], []
        for _ in range(max_len):
            logits, h, weights = self._step(token, h, states, mask, keys)
            token = torch.where(done, torch.full_like(token, self.pad_id), logits.argmax(-1))
            out.append(token)
            alignments.append(weights)
            done |= token == eos_id
            if done.all():
                break
        self.train(was_training)
        weights = torch.stack(alignments, dim=1) if self.attention else None
        return torch.stack(out, dim=1), weights
