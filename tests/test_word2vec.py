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


# --------------------------------------------------------- judging vectors, checked against gensim's own evaluation


@pytest.fixture(scope="module")
def gensim_vectors():
    from gensim.models import Word2Vec

    from lessons_lib.data.text import text_corpus, word_tokens

    text = text_corpus()[:400_000]
    sentences = [word_tokens(line) for line in text.split("\n") if line.strip()]
    model = Word2Vec(sentences, vector_size=32, window=4, min_count=3, workers=1, epochs=3, seed=0)
    return model.wv


def test_nearest_and_analogy_agree_with_gensim(gensim_vectors):
    from lessons_lib.models.word2vec import analogy, nearest

    wv = gensim_vectors
    i = wv.key_to_index
    ours = [wv.index_to_key[j] for j, _ in nearest(wv.vectors, i["function"], k=5)]
    assert ours == [w for w, _ in wv.most_similar("function", topn=5)]
    got = [wv.index_to_key[j] for j, _ in analogy(wv.vectors, i["list"], i["lists"], i["string"], k=3)]
    assert got == [w for w, _ in wv.most_similar(positive=["lists", "string"], negative=["list"], topn=3)]
    by_vector = nearest(wv.vectors, wv.vectors[i["file"]], k=1)
    assert by_vector[0][0] == i["file"] and by_vector[0][1] == pytest.approx(1.0)  # a vector query may find itself


def _structured_vectors(questions, noise, seed=0):
    """Vectors for the words of a few sections where d = b - a + c holds up to noise: every capital is its
    country plus one shared offset, and so on, so that some but not all analogies come out right."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(seed)
    dim, vectors = 40, {}
    for name in ("capital-common-countries", "family", "gram8-plural"):
        offset = rng.normal(size=dim)
        for a, b, c, d in questions[name]:
            for first, second in ((a, b), (c, d)):
                vectors.setdefault(first, rng.normal(size=dim))
                vectors.setdefault(second, vectors[first] + offset + noise * rng.normal(size=dim))
    for w in ("the", "of", "and"):  # a few distractors outside the questions
        vectors[w] = rng.normal(size=dim)
    kv = KeyedVectors(dim)
    kv.add_vectors(list(vectors), np.array(list(vectors.values()), dtype=np.float32))
    return kv


def test_analogy_accuracy_agrees_with_gensim():
    from gensim.test.utils import datapath

    from lessons_lib.data.text import analogy_questions
    from lessons_lib.models.word2vec import analogy_accuracy

    questions = analogy_questions()
    kv = _structured_vectors(questions, noise=2.0)
    ours = analogy_accuracy(kv.vectors, kv.key_to_index, questions)
    _, sections = kv.evaluate_word_analogies(datapath("questions-words.txt"))
    theirs = {s["section"]: s for s in sections}
    total = theirs["Total accuracy"]
    assert ours["total"] == 19_544 and ours["answered"] == len(total["correct"]) + len(total["incorrect"]) > 1000
    assert 0.2 < ours["accuracy"] < 0.95, "the noise leaves some analogies right and some wrong"
    assert abs(ours["correct"] - len(total["correct"])) <= 2  # float32 vs float64 may flip a near-tie
    for name in ("capital-common-countries", "family", "gram8-plural"):
        n = len(theirs[name]["correct"]) + len(theirs[name]["incorrect"])
        assert ours["sections"][name] == pytest.approx(len(theirs[name]["correct"]) / n, abs=2 / n)
    assert ours["sections"]["currency"] is None  # no word of that section has a vector


def test_simlex_correlation_agrees_with_gensim(gensim_vectors):
    from gensim.test.utils import datapath

    from lessons_lib.data.text import simlex999
    from lessons_lib.models.word2vec import similarity_correlation

    wv = gensim_vectors
    sim = similarity_correlation(wv.vectors, wv.key_to_index, simlex999())
    _, (rho, _), oov = wv.evaluate_word_pairs(datapath("simlex999.txt"))
    assert sim["total"] == 999 and sim["used"] == round(999 * (1 - oov / 100)) > 20
    assert sim["spearman"] == pytest.approx(rho, abs=1e-6)


def test_judging_functions_skip_unknown_words_and_name_bad_input():
    from lessons_lib.models.word2vec import analogy_accuracy, nearest, similarity_correlation

    v = torch.eye(4, dtype=torch.float64)
    stoi = {"a": 0, "b": 1, "c": 2, "d": 3}
    r = analogy_accuracy(v, stoi, [("a", "b", "c", "zzz")])
    assert r["answered"] == 0 and r["total"] == 1 and r["accuracy"] != r["accuracy"]  # nan: nothing answered
    assert similarity_correlation(v, stoi, [("a", "zzz", 3.0)])["used"] == 0
    assert len(nearest(v, 0, k=10)) == 3  # k larger than what is left: every other row, once
    with pytest.raises(ValueError, match="matrix"):
        nearest(torch.ones(3), 0)
