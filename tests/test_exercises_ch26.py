"""The Chapter 26 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

from collections import Counter

import numpy as np
import torch

from lessons_lib.data.text import BPE
from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch26 import (
    analogy_reference,
    bpe_merge_step_reference,
    check_analogy,
    check_bpe_merge_step,
    check_cosine_similarity,
    cosine_similarity_reference,
)

# ------------------------------------------------------------------------------------------ cosine similarity


def test_cosine_reference_matches_torch_and_passes():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=7), rng.normal(size=7)
    theirs = torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=0).item()
    assert abs(cosine_similarity_reference(a, b) - theirs) < 1e-12
    assert check_cosine_similarity(cosine_similarity_reference).status == PASSED
    via_torch = lambda a, b: torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=0)  # noqa: E731
    assert check_cosine_similarity(via_torch).passed


def test_cosine_slips_are_diagnosed():
    slips = {
        "plain dot product": lambda a, b: a @ b,
        "by |a| only": lambda a, b: a @ b / np.linalg.norm(a),
        "squared lengths": lambda a, b: a @ b / ((a @ a) * (b @ b)),
        "cosine distance": lambda a, b: 1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)),
        "Euclidean distance": lambda a, b: np.linalg.norm(a - b),
    }
    for words, fn in slips.items():
        result = check_cosine_similarity(fn)
        assert result.status == FAILED and words in result.message, (words, result.message)


def test_cosine_crash_is_reported():
    result = check_cosine_similarity(lambda a, b: a @ b[:1])
    assert result.status == ERROR and "ValueError" in result.message


# ------------------------------------------------------------------------------------------------ BPE merge step


def test_bpe_reference_is_the_first_merge_of_the_library_bpe():
    table = {"low": 5, "lower": 2, "newest": 6, "widest": 3, "zy": 4}
    text = "".join(f" {w}" for w, n in table.items() for _ in range(n))   # every piece is " word"
    alphabet = len(set(text))
    first = BPE.train(text, alphabet + 3).merges[0]
    pair, new = bpe_merge_step_reference({(" ", *w): n for w, n in table.items()})
    assert pair == first == ("e", "s")
    assert new[(" ", "n", "e", "w", "es", "t")] == 6


def test_bpe_reference_merges_runs_left_to_right():
    pair, new = bpe_merge_step_reference({tuple("aaa"): 2, tuple("aaaa"): 1})
    assert pair == ("a", "a") and new == {("aa", "a"): 2, ("aa", "aa"): 1}
    assert bpe_merge_step_reference({("x",): 3}) == (None, {("x",): 3})
    assert check_bpe_merge_step(bpe_merge_step_reference).status == PASSED


def _merge_all(word, pair):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def _step(words, *, weighted=True, pick=min, merge=_merge_all):
    counts = Counter()
    for w, n in words.items():
        for p in zip(w, w[1:]):
            counts[p] += n if weighted else 1
    if not counts:
        return None, dict(words)
    top = max(counts.values())
    best = pick(p for p, n in counts.items() if n == top)
    new = Counter()
    for w, n in words.items():
        new[merge(w, best)] += n
    return best, dict(new)


def test_bpe_unweighted_counts_are_diagnosed():
    result = check_bpe_merge_step(lambda words: _step(words, weighted=False))
    assert result.status == FAILED and "counted each word once" in result.message


def test_bpe_other_tie_break_is_diagnosed():
    result = check_bpe_merge_step(lambda words: _step(words, pick=max))
    assert result.status == FAILED and "tied" in result.message and "smallest pair" in result.message
    first_seen = lambda pairs: next(iter(pairs))  # noqa: E731
    result = check_bpe_merge_step(lambda words: _step(words, pick=first_seen))
    assert result.status == FAILED and "tied" in result.message


def test_bpe_merge_slips_are_diagnosed():
    def first_only(word, pair):
        for j in range(len(word) - 1):
            if (word[j], word[j + 1]) == pair:
                return word[:j] + (pair[0] + pair[1],) + word[j + 2:]
        return word

    result = check_bpe_merge_step(lambda words: _step(words, merge=first_only))
    assert result.status == FAILED and "not only the first one" in result.message

    def by_string(word, pair):
        return tuple(" ".join(word).replace(f"{pair[0]} {pair[1]}", pair[0] + pair[1]).split(" "))

    result = check_bpe_merge_step(lambda words: _step(words, merge=by_string))
    assert result.status == FAILED and "inside longer symbols" in result.message

    def no_skip(word, pair):  # steps one symbol after a merge
        out, i = [], 0
        while i < len(word):
            merged = i + 1 < len(word) and (word[i], word[i + 1]) == pair
            out.append(word[i] + word[i + 1] if merged else word[i])
            i += 1
        return tuple(out)

    result = check_bpe_merge_step(lambda words: _step(words, merge=no_skip))
    assert result.status == FAILED and "continue at i + 2" in result.message

    def from_the_right(word, pair):  # scans from the end: ('a', 'a', 'a') -> ('a', 'aa')
        out, i = [], len(word) - 1
        while i >= 0:
            if i > 0 and (word[i - 1], word[i]) == pair:
                out.append(word[i - 1] + word[i])
                i -= 2
            else:
                out.append(word[i])
                i -= 1
        return tuple(reversed(out))

    result = check_bpe_merge_step(lambda words: _step(words, merge=from_the_right))
    assert result.status == FAILED and "overlapping occurrences" in result.message


def test_bpe_pair_as_string_and_wrong_shape_are_diagnosed():
    def as_string(words):
        pair, new = bpe_merge_step_reference(words)
        return (None if pair is None else pair[0] + pair[1]), new

    result = check_bpe_merge_step(as_string)
    assert result.status == FAILED and "as a tuple" in result.message
    result = check_bpe_merge_step(lambda words: bpe_merge_step_reference(words)[0])
    assert result.status == FAILED and "only a pair" in result.message
    result = check_bpe_merge_step(lambda words: [bpe_merge_step_reference(words)])
    assert result.status == FAILED and "expected a tuple (pair, new_words)" in result.message


# ------------------------------------------------------------------------------------------------------ analogy


def _unit(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_analogy_reference_agrees_with_gensim_and_passes():
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(1)
    v = rng.normal(size=(50, 6)) * rng.uniform(1, 5, size=(50, 1))
    kv = KeyedVectors(6)
    kv.add_vectors([str(i) for i in range(50)], v)
    for a, b, c in [(0, 1, 2), (5, 17, 33), (40, 3, 8)]:
        best = kv.most_similar(positive=[str(b), str(c)], negative=[str(a)], topn=1)[0][0]
        assert analogy_reference(v, a, b, c) == int(best)
    assert check_analogy(analogy_reference).status == PASSED

    def by_hand(vectors, a, b, c):
        u = _unit(vectors)
        score = u @ (u[b] - u[a] + u[c])
        score[[a, b, c]] = -np.inf
        return int(np.argmax(score))

    assert check_analogy(by_hand).passed

    def euclidean_on_unit_rows(vectors, a, b, c):  # the same ranking as the cosine: |u - t|² = 1 - 2u·t + |t|²
        u = _unit(vectors)
        score = -np.linalg.norm(u - (u[b] - u[a] + u[c]), axis=1)
        score[[a, b, c]] = -np.inf
        return int(np.argmax(score))

    assert check_analogy(euclidean_on_unit_rows).passed


def test_analogy_slips_are_diagnosed():
    def make(*, exclude=True, normalise=True, sign=1):
        def fn(vectors, a, b, c):
            u = _unit(vectors) if normalise else np.asarray(vectors, float)
            target = u[b] - u[a] + u[c] if sign == 1 else u[a] - u[b] + u[c]
            score = _unit(u) @ target
            if exclude:
                score[[a, b, c]] = -np.inf
            return int(np.argmax(score))
        return fn

    for kwargs, words in [({"exclude": False}, "exclude the three question words"),
                          ({"normalise": False}, "normalise every row"),
                          ({"sign": -1}, "wrong sign")]:
        result = check_analogy(make(**kwargs))
        assert result.status == FAILED and words in result.message, (kwargs, result.message)


def test_analogy_answer_of_the_wrong_type_is_reported():
    result = check_analogy(lambda vectors, a, b, c: "queen")
    assert result.status == FAILED and "index of one row" in result.message
    result = check_analogy(lambda vectors, a, b, c: vectors[analogy_reference(vectors, a, b, c)])
    assert result.status == FAILED
