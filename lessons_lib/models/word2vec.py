"""word2vec (Mikolov et al., 2013): skip-gram and CBOW with negative sampling, as ``nn.Module``s (chapter 25).

Each word has two vectors: an input vector v (the row of ``center``, the embedding kept after training) and an
output vector u (the row of ``context``). For a centre word c, a word o seen near it and K words drawn from the
noise distribution, skip-gram with negative sampling minimises

    -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c),

pulling the pair seen together closer and pushing the random words away. CBOW swaps the roles: the mean of
the window's input vectors predicts the middle word, against the same kind of noise.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CBOW", "SkipGram", "noise_distribution"]


def noise_distribution(counts, power: float = 0.75) -> torch.Tensor:
    """P(w) proportional to count(w) ** 0.75, the paper's choice: rare words are drawn more often than their
    frequency, frequent ones less."""
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError(f"noise_distribution: counts must be a 1-D list of non-negative counts, not all zero; got {counts}")
    p = counts**power
    return p / p.sum()


class _NegativeSampling(nn.Module):
    """The two embedding tables and the loss both models share. Input vectors start small and uniform, output
    vectors at zero, as in the original C code."""

    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.center = nn.Embedding(vocab_size, dim)    # v: the word vectors kept after training
        self.context = nn.Embedding(vocab_size, dim)   # u
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)

    def _loss(self, h, target, negatives):
        """-log sigmoid(u_target . h) - sum_k log sigmoid(-u_k . h), averaged over the batch; h (B, D)."""
        pos = (self.context(target) * h).sum(-1)                       # (B,)
        neg = torch.einsum("bkd,bd->bk", self.context(negatives), h)   # (B, K)
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1)).mean()

    @property
    def vectors(self) -> torch.Tensor:
        return self.center.weight.detach()


class SkipGram(_NegativeSampling):
    """Skip-gram with negative sampling; ``forward(center, context, negatives)`` returns the mean loss.

    center (B,), context (B,) word ids, negatives (B, K) ids drawn from :func:`noise_distribution`.
    """

    def forward(self, center, context, negatives):
        return self._loss(self.center(center), context, negatives)


class CBOW(_NegativeSampling):
    """Continuous bag of words with negative sampling: the mean of the window's input vectors predicts the
    middle word. ``forward(window, target, negatives)``: window (B, 2w) ids, target (B,), negatives (B, K)."""

    def forward(self, window, target, negatives):
        return self._loss(self.center(window).mean(1), target, negatives)
