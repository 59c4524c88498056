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

__all__ = ["CBOW", "SkipGram", "analogy", "analogy_accuracy", "nearest", "noise_distribution", "similarity_correlation"]


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


# ------------------------------------------------------------------------- using and judging word vectors


def _unit_rows(vectors) -> torch.Tensor:
    v = torch.as_tensor(vectors, dtype=torch.float64)
    if v.ndim != 2:
        raise ValueError(f"vectors must be a (vocabulary, dim) matrix; got shape {tuple(v.shape)}")
    norm = v.norm(dim=1, keepdim=True)
    return torch.where(norm > 0, v / norm.clamp_min(1e-300), torch.zeros_like(v))


def nearest(vectors, query, k: int = 5, exclude=()) -> list[tuple[int, float]]:
    """The ``k`` rows most similar to ``query`` by cosine, best first, as ``(index, cosine)``.

    query: a row index or a vector of the same dimension. A row index never finds itself; ``exclude``
    lists more indices to skip. A zero row (a word never trained) has cosine 0 with everything."""
    unit = _unit_rows(vectors)
    if isinstance(query, int):
        exclude = {query, *exclude}
        q = unit[query]
    else:
        q = torch.as_tensor(query, dtype=torch.float64).reshape(-1)
        q = q / q.norm().clamp_min(1e-300)
    cos = unit @ q
    if exclude:
        cos[list(exclude)] = -torch.inf
    top = torch.topk(cos, min(k, len(cos) - len(exclude)))
    return [(int(i), float(c)) for c, i in zip(top.values, top.indices)]


def analogy(vectors, a: int, b: int, c: int, k: int = 1) -> list[tuple[int, float]]:
    """"a is to b as c is to ?" by vector offset (3CosAdd, Mikolov et al., 2013): the rows nearest to
    unit(b) - unit(a) + unit(c) by cosine, the three question words excluded (as gensim does)."""
    unit = _unit_rows(vectors)
    return nearest(unit, unit[b] - unit[a] + unit[c], k, exclude=(a, b, c))


def analogy_accuracy(vectors, stoi, questions) -> dict:
    """Accuracy on analogy questions ``[(a, b, c, d), ...]`` (or ``{section: [...]}``) whose four words are in
    ``stoi`` (a word -> row mapping); the others are skipped and counted, as in gensim's
    ``evaluate_word_analogies``. Returns ``{"accuracy", "correct", "answered", "total"}`` (and, for sections,
    ``"sections": {name: accuracy or None}``)."""
    if isinstance(questions, dict):
        results = {name: analogy_accuracy(vectors, stoi, qs) for name, qs in questions.items()}
        correct = sum(r["correct"] for r in results.values())
        answered = sum(r["answered"] for r in results.values())
        return {"accuracy": correct / answered if answered else float("nan"), "correct": correct, "answered": answered,
                "total": sum(r["total"] for r in results.values()),
                "sections": {name: r["accuracy"] if r["answered"] else None for name, r in results.items()}}
    unit = _unit_rows(vectors)
    known = [q for q in questions if all(w in stoi for w in q)]
    correct = 0
    if known:
        ids = torch.tensor([[stoi[w] for w in q] for q in known])
        target = unit[ids[:, 1]] - unit[ids[:, 0]] + unit[ids[:, 2]]               # (Q, D)
        cos = (target / target.norm(dim=1, keepdim=True).clamp_min(1e-300)) @ unit.T  # (Q, V)
        cos.scatter_(1, ids[:, :3], -torch.inf)                                    # never answer a question word
        correct = int((cos.argmax(1) == ids[:, 3]).sum())
    answered = len(known)
    return {"accuracy": correct / answered if answered else float("nan"), "correct": correct, "answered": answered,
            "total": len(questions)}


def similarity_correlation(vectors, stoi, pairs) -> dict:
    """Spearman's rank correlation between human ratings ``[(w1, w2, score), ...]`` and the cosine of the two
    words' vectors, over the pairs whose words are both in ``stoi`` (gensim's ``evaluate_word_pairs``).
    Returns ``{"spearman", "used", "total"}``."""
    from scipy.stats import spearmanr

    unit = _unit_rows(vectors)
    known = [(a, b, s) for a, b, s in pairs if a in stoi and b in stoi]
    if len(known) < 2:
        return {"spearman": float("nan"), "used": len(known), "total": len(pairs)}
    cos = [float(unit[stoi[a]] @ unit[stoi[b]]) for a, b, _ in known]
    return {"spearman": float(spearmanr([s for *_, s in known], cos).statistic), "used": len(known),
            "total": len(pairs)}
