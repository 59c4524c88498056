"""A GRU encoder-decoder (Sutskever et al., 2014; Cho et al., 2014), with or without the additive attention of
Bahdanau, Cho and Bengio (2015) (chapters 27 and 28).

The encoder reads the source and keeps its state at every step; the decoder generates the target one token at a
time from its own state and the token it produced last. Without attention the decoder sees the source only
through the encoder's final state, one fixed-size vector however long the source (the bottleneck); with attention
it also reads, at every step, a weighted average of all the encoder's states, the weights computed from its
current state (``functional.attention.additive_attention``).

``forward(src, tgt_in)`` trains with teacher forcing (the decoder is fed the true previous token) and returns
logits (N, T, vocab) and the attention weights (N, T, S) (None without attention); :meth:`greedy_decode` feeds
back its own predictions, as at inference time.
"""

from __future__ import annotations

import torch
from torch import nn

from lessons_lib.functional.attention import additive_attention

__all__ = ["Seq2Seq"]


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab: int, tgt_vocab: int, embed_dim: int = 32, hidden_size: int = 64, *,
                 attention: bool = True, attn_size: int | None = None, pad_id: int = 0):
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

    def encode(self, src):
        """(N, S) ids -> encoder states (N, S, H), the final state (N, H) and the mask of real tokens (N, S).
        Padding must come after the tokens; the final state is read at each sequence's last real token."""
        mask = src != self.pad_id
        lengths = mask.sum(1).clamp_min(1)
        states, _ = self.encoder(self.src_embed(src))                # (N, S, H)
        final = states[torch.arange(src.shape[0], device=src.device), lengths - 1]   # (N, H)
        return states, final, mask

    def _step(self, token, h, states, mask):
        """One decoder step: token (N,), state h (N, H) -> logits (N, V), new state, weights (N, S) or None."""
        x = self.tgt_embed(token)                                    # (N, E)
        weights = None
        if self.attention:                                           # score_j = w . tanh(W_q h + W_k s_j)
            context, weights = additive_attention(h, states, states, self.W_q.weight, self.W_k.weight, self.w,
                                                  mask=mask, return_weights=True)  # (N, H), (N, S)
            x = torch.cat([x, context], dim=1)
        h = self.decoder(x, h)
        features = torch.cat([h, context], dim=1) if self.attention else h
        return self.out(features), h, weights

    def forward(self, src, tgt_in):
        states, h, mask = self.encode(src)
        logits, alignments = [], []
        for t in range(tgt_in.shape[1]):                             # teacher forcing: the true previous token
            step_logits, h, weights = self._step(tgt_in[:, t], h, states, mask)
            logits.append(step_logits)
            alignments.append(weights)
        weights = torch.stack(alignments, dim=1) if self.attention else None
        return torch.stack(logits, dim=1), weights                  # (N, T, V), (N, T, S)

    @torch.no_grad()
    def greedy_decode(self, src, bos_id: int, eos_id: int, max_len: int):
        """Generate by feeding back the most likely token; returns (ids (N, <= max_len), weights (N, T, S) or
        None). Sequences that produced ``eos_id`` continue with padding."""
        was_training = self.training
        self.eval()
        states, h, mask = self.encode(src)
        token = torch.full((src.shape[0],), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros_like(token, dtype=torch.bool)
        out, alignments = [], []
        for _ in range(max_len):
            logits, h, weights = self._step(token, h, states, mask)
            token = torch.where(done, torch.full_like(token, self.pad_id), logits.argmax(-1))
            out.append(token)
            alignments.append(weights)
            done |= token == eos_id
            if done.all():
                break
        self.train(was_training)
        weights = torch.stack(alignments, dim=1) if self.attention else None
        return torch.stack(out, dim=1), weights
