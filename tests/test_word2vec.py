"""Skip-gram and CBOW with negative sampling: the loss formula, the noise distribution, the pairs, and learning."""

import numpy as np
import pytest
import torch

from lessons_lib.data.text import skipgram_pairs
from lessons_lib.models.word2vec import CBOW, SkipGram, noise_distribution


def test_skipgram_pairs():
    assert skipgram_pairs([1, 2, 3], 1) == [(1, 2), (2, 1), (2, 3), (3, 2)]
    assert len(skipgram_pairs(range(10), 2)) == 2 * (2 * 10 - 3)  # 2w(n) minus what the edges lack
    with pytest.raises(ValueError, match="skipgram_pairs: window is 0"):
        skipgram_pairs([1, 2], 0)


def test_noise_distribution_is_the_three_quarter_power():
    p = noise_distribution([1, 16, 81])
    expected = np.array([1, 8, 27]) / 36
    np.testing.assert_allclose(p.numpy(), expected)
    with pytest.raises(ValueError, match="noise_distribution: counts must be"):
        noise_distribution([0, 0])


@pytest.mark.parametrize("Model", [SkipGram, CBOW])
def test_the_loss_is_the_papers_formula(Model):
    torch.manual_seed(0)
    model = Model(10, 4).double()
    torch.nn.init.normal_(model.context.weight)
    center = torch.tensor([1, 2]) if Model is SkipGram else torch.tensor([[1, 3], [2, 4]])
    context, negatives = torch.tensor([3, 4]), torch.tensor([[5, 6, 7], [8, 9, 5]])
    loss = model(center, context, negatives)
    v = model.center.weight[center] if Model is SkipGram else model.center.weight[center].mean(1)
    u = model.context.weight
    manual = -(torch.log(torch.sigmoid((u[context] * v).sum(-1)))
               + torch.log(torch.sigmoid(-(u[negatives] @ v[:, :, None]).squeeze(-1))).sum(-1)).mean()
    torch.testing.assert_close(loss, manual)


def test_skipgram_learns_which_words_share_contexts():
    """Two topics whose words only ever appear together: after training, words of one topic are closer
    (cosine) to each other than to the other topic's."""
    rng = np.random.default_rng(0)
    topics = [[0, 1, 2, 3], [4, 5, 6, 7]]
    ids = np.concatenate([rng.choice(topics[rng.integers(2)], size=8) for _ in range(300)])
    pairs = torch.tensor(skipgram_pairs(ids, 2))
    noise = noise_distribution(np.bincount(ids, minlength=8))
    torch.manual_seed(0)
    model = SkipGram(8, 8)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        for idx in torch.randperm(len(pairs), generator=g).split(256):
            neg = torch.multinomial(noise, len(idx) * 5, replacement=True, generator=g).reshape(len(idx), 5)
            opt.zero_grad()
            model(pairs[idx, 0], pairs[idx, 1], neg).backward()
            opt.step()
    v = torch.nn.functional.normalize(model.vectors, dim=1)
    sim = v @ v.T
    same = np.mean([sim[a, b].item() for t in topics for a in t for b in t if a != b])
    other = np.mean([sim[a, b].item() for a in topics[0] for b in topics[1]])
    assert same > other + 0.5
