"""Word, character and byte-pair-encoding tokenizers and the vocabulary (data.text)."""

from collections import Counter

import pytest

from lessons_lib.data.text import BPE, PAD, PIECE, UNK, Vocabulary, char_tokens, text_corpus, word_tokens


def test_word_and_char_tokens():
    assert word_tokens("Don't stop, 2 times.") == ["don", "'", "t", "stop", ",", "2", "times", "."]
    text = "a b\n c"
    assert "".join(char_tokens(text)) == text and len(char_tokens(text)) == 6


def test_vocabulary_has_pad_and_unk_first_and_keeps_the_most_frequent():
    vocab = Vocabulary.build("the cat saw the dog and the cat".split(), max_size=5)
    assert vocab.itos[:2] == [PAD, UNK] and vocab.pad_id == 0 and vocab.unk_id == 1
    assert vocab.itos[2:] == ["the", "cat", "saw"] and len(vocab) == 5  # 3 + 2 specials; ties in first-seen order
    assert vocab.encode(["the", "bird"]) == [2, 1] and vocab.decode([3, 0]) == ["cat", PAD]


def test_bpe_learns_the_textbook_merges():
    bpe = BPE.train("aaabdaaabac", vocab_size=100)
    assert bpe.merges[:3] == [("a", "a"), ("a", "b"), ("aa", "ab")]
    assert bpe.tokens("aaabdaaabac") == ["aaab", "d", "aaab", "a", "c"]


def _naive_merges(text, n):
    """The same training, recounting every pair from scratch at each merge: slow, obviously right."""
    words = Counter(tuple(p) for p in PIECE.findall(text))
    merges = []
    for _ in range(n):
        pairs = Counter()
        for w, f in words.items():
            for pair in zip(w, w[1:]):
                pairs[pair] += f
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        merges.append(best)
        new = Counter()
        for w, f in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] += f
        words = new
    return merges


def test_incremental_training_equals_recounting_every_pair():
    text = text_corpus()[:20_000]
    bpe = BPE.train(text, vocab_size=len(set(text)) + 2 + 120)
    assert bpe.merges == _naive_merges(text, 120)


def test_bpe_round_trips_text_and_marks_unseen_characters():
    corpus = text_corpus()
    bpe = BPE.train(corpus[:100_000], vocab_size=400)
    assert len(bpe) == 400
    train, held_out = corpus[:100_000], corpus[500_000:520_000]
    seen = set(train)
    assert bpe.decode(bpe.encode(held_out)) == "".join(ch if ch in seen else UNK for ch in held_out)
    assert bpe.decode(bpe.encode(train[:20_000])) == train[:20_000]
    assert len(bpe.encode(held_out)) < 0.6 * len(held_out)  # fewer tokens than characters
    assert bpe.tokens("caf\u00e9")[-1] == UNK and bpe.decode(bpe.encode("caf\u00e9")) == "caf" + UNK
    with pytest.raises(ValueError, match="BPE.train: vocab_size is 4; the text has 3 characters, so at least 5"):
        BPE.train("abc", vocab_size=4)


# ------------------------------------------------------------------- the same BPE in Hugging Face tokenizers


@pytest.fixture(scope="module")
def both_bpes():
    from lessons_lib.data.text import library_bpe

    text = text_corpus()[:60_000]
    return text, BPE.train(text, 300), library_bpe(text, 300)


def test_library_bpe_learns_the_same_merges_until_a_tie(both_bpes):
    from lessons_lib.data.text import library_merges

    text, ours, theirs = both_bpes
    merges = library_merges(theirs)
    assert theirs.get_vocab_size() == len(ours) == 300 and len(merges) == len(ours.merges)
    first_difference = next((i for i, (a, b) in enumerate(zip(merges, ours.merges)) if a != b), len(merges))
    assert first_difference >= 20, f"the two trainings part after {first_difference} merges"
    # Where they part, it is a tie: the two pairs chosen had the same count at that point.
    if first_difference < len(merges):
        pieces = Counter(tuple(p) for p in PIECE.findall(text))
        for a, b in ours.merges[:first_difference]:
            pieces = Counter({tuple(_merge_tuple(w, (a, b))): f for w, f in pieces.items()})
        counts = Counter()
        for w, f in pieces.items():
            for pair in zip(w, w[1:]):
                counts[pair] += f
        assert counts[merges[first_difference]] == counts[ours.merges[first_difference]]
    assert len(set(merges) & set(ours.merges)) >= 0.9 * len(merges)


def _merge_tuple(w, pair):
    out, i = [], 0
    while i < len(w):
        if i + 1 < len(w) and (w[i], w[i + 1]) == pair:
            out.append(w[i] + w[i + 1])
            i += 2
        else:
            out.append(w[i])
            i += 1
    return out


def test_library_bpe_round_trips_and_tokenises_like_ours(both_bpes):
    text, ours, theirs = both_bpes
    sample = "The parser reads the whole line, then returns   a list.\n\n  Done."
    assert theirs.decode(theirs.encode(sample).ids) == sample
    assert theirs.encode("The ").tokens == ours.tokens("The ")
    held_out = text_corpus()[200_000:230_000]
    ours_n, theirs_n = len(ours.tokens(held_out)), len(theirs.encode(held_out).ids)
    assert abs(ours_n - theirs_n) <= 0.02 * ours_n, (ours_n, theirs_n)
    assert theirs.token_to_id(PAD) == 0 and theirs.token_to_id(UNK) == 1
    assert theirs.encode("\u00e9").tokens == [UNK]  # a character never seen in training


def test_library_bpe_rejects_a_bad_vocab_size():
    from lessons_lib.data.text import library_bpe

    with pytest.raises(ValueError, match="vocab_size"):
        library_bpe("abc", 0)


def test_real_english_text_from_gensims_test_data():
    from lessons_lib.data.text import analogy_questions, movie_reviews, simlex999, wikipedia_articles

    articles = wikipedia_articles()
    assert len(articles) == 106 and articles[0][:3] == ["anarchism", "is", "political"]
    assert 400_000 < sum(map(len, articles)) < 500_000
    assert all(t == t.lower() for t in articles[5][:200])
    sentences, labels = movie_reviews()
    assert len(sentences) == 200 and sum(labels) == 100 and sentences[0] == "simplistic , silly and tedious ."
    questions = analogy_questions()
    assert len(questions) == 14 and sum(map(len, questions.values())) == 19_544
    assert questions["capital-common-countries"][0] == ("athens", "greece", "baghdad", "iraq")
    pairs = simlex999()
    assert len(pairs) == 999 and pairs[0] == ("old", "new", 1.58)
