"""Checkers for the exercises of Chapter 26 (representing words: tokens and embeddings).

- :func:`check_cosine_similarity`: the cosine of the angle between two vectors, a . b / (|a| |b|);
- :func:`check_bpe_merge_step`: one step of byte-pair-encoding training on a table of words (tuples of symbols)
  and their counts: the most frequent neighbouring pair, counted with the words' frequencies (ties to the smallest
  pair, as :class:`lessons_lib.data.text.BPE` breaks them), and the table with that pair merged everywhere;
- :func:`check_analogy`: "a is to b as c is to ?" by 3CosAdd, as :func:`lessons_lib.models.word2vec.analogy`
  and gensim answer it (unit vectors, the three question words excluded).

Each recognises the usual slips. Cosine: the bare dot product, one norm or squared norms, the cosine distance
1 - cos, the Euclidean distance. BPE: pairs counted once per word instead of once per occurrence of the word,
ties broken the other way, overlapping occurrences merged from the right ("a a a"), only a word's first
occurrence merged, a merge inside a longer symbol (a string replace), a merged pair's second symbol visited
again, the pair returned as one string. Analogy: the question words not excluded (the answer is then usually b
or c), raw instead of unit vectors, the offset with the wrong sign. (Ranking unit vectors by Euclidean distance
to b - a + c is no slip: |u - t|^2 = 1 - 2 u.t + |t|^2 orders them as the cosine does.)
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, attempt, compare, describe_case

__all__ = [
    "analogy_reference",
    "bpe_merge_step_reference",
    "check_analogy",
    "check_bpe_merge_step",
    "check_cosine_similarity",
    "cosine_similarity_reference",
]


# ------------------------------------------------------------------------------------------ cosine similarity


def cosine_similarity_reference(a, b) -> float:
    """a . b / (|a| |b|) for two non-zero 1-D vectors."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _cosine_cases():
    rng = np.random.default_rng(26)
    cases = [
        {"a": np.array([0.8, 0.2, 0.6]), "b": np.array([0.1, 0.9, 0.3])},      # the chapter's king and apple
        {"a": np.array([3.0, 4.0]), "b": np.array([-4.0, 3.0])},                # orthogonal: 0
        {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([10.0, 20.0, 30.0])},    # parallel, different lengths: 1
        {"a": np.array([2.0, -1.0]), "b": np.array([-4.0, 2.0])},               # opposite: -1
    ]
    for dim, scale in [(5, 1.0), (50, 7.0), (300, 0.01)]:
        cases.append({"a": rng.normal(size=dim) * scale, "b": rng.normal(size=dim) * scale * 3 + 0.2})
    return cases


def _cosine_hints():
    def close(got, value):
        try:
            return bool(np.isclose(float(got), float(value), rtol=1e-6, atol=1e-9))
        except (TypeError, ValueError):
            return False

    def variants(case):
        a, b = np.asarray(case["a"], float), np.asarray(case["b"], float)
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        cos = a @ b / (na * nb)
        return [
            (a @ b, "that is the plain dot product a . b: divide it by the two lengths |a| |b|"),
            (a @ b / na, "you divided by |a| only: the cosine divides by both lengths, |a| |b|"),
            (a @ b / nb, "you divided by |b| only: the cosine divides by both lengths, |a| |b|"),
            (a @ b / (na**2 * nb**2), "you divided by the squared lengths: |a| = sqrt(a . a), not a . a"),
            (1 - cos, "that is the cosine distance 1 - cos: return the similarity itself"),
            (np.linalg.norm(a - b), "that is the Euclidean distance |a - b|: the cosine is a . b / (|a| |b|)"),
        ]

    def hint(case, got, expected):
        for value, text in variants(case):
            if not np.isclose(value, expected) and close(got, value):
                return text
        return None

    return [hint]


def check_cosine_similarity(fn) -> CheckResult:
    """Check ``fn(a, b) -> float``: the cosine similarity of two non-zero NumPy vectors."""
    return compare(fn, cosine_similarity_reference, _cosine_cases(), name="check_cosine_similarity", rtol=1e-6,
                   atol=1e-9, hints=_cosine_hints())


# ------------------------------------------------------------------------------------------------ BPE merge step


def _merge_word(word, pair):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def _pair_counts(words, weighted=True):
    counts = Counter()
    for word, n in words.items():
        for pair in zip(word, word[1:]):
            counts[pair] += n if weighted else 1
    return counts


def bpe_merge_step_reference(words):
    """One BPE training step on ``{tuple of symbols: count}``: returns ``(pair, new_words)``.

    The pair is the most frequent pair of neighbouring symbols, each occurrence weighted by its word's count;
    among equally frequent pairs the smallest in sorted order wins (as ``BPE.train`` breaks ties). Every
    occurrence of the pair is merged, left to right without overlaps ("a a a" -> "aa a"). Returns
    ``(None, words)`` when no word has two symbols.
    """
    counts = _pair_counts(words)
    if not counts:
        return None, dict(words)
    best = min(counts, key=lambda pair: (-counts[pair], pair))
    new = Counter()
    for word, n in words.items():
        new[_merge_word(word, best)] += n
    return best, dict(new)


def _bpe_cases():
    return [
        # Sennrich et al.'s example: 'e s' and 's t' both occur 9 times; the smaller pair wins the tie
        {"words": {tuple("low"): 5, tuple("lower"): 2, tuple("newest"): 6, tuple("widest"): 3}},
        # unweighted counting picks ('a', 'b') (3 words), weighted picks ('c', 'd') (10 occurrences)
        {"words": {tuple("ab"): 1, tuple("abx"): 1, tuple("aby"): 1, tuple("cd"): 10}},
        # an overlapping run: 'a a a a' has three ('a', 'a') pairs but merges into 'aa aa'
        {"words": {tuple("aaaa"): 4, tuple("aaa"): 2, tuple("ab"): 5, tuple("ba"): 1}},
        # the pair occurs twice in one word
        {"words": {tuple("hahaha"): 3, tuple("ah"): 1}},
        # a tie where first-seen order and sorted order disagree
        {"words": {tuple("zy"): 4, tuple("bc"): 4, tuple("q"): 7}},
        # multi-character symbols from earlier merges
        {"words": {("th", "e"): 10, ("th", "en"): 3, ("o", "th", "e", "r"): 4, ("e", "n"): 2}},
        # a symbol that ends with the pair's first symbol: ('th', 'e') must not become 'the' when merging 'h e'
        {"words": {("h", "e"): 10, ("th", "e"): 3, ("s", "h", "e"): 2}},
        {"words": {tuple("x"): 3}},  # nothing left to merge
    ]


def _as_table(table):
    """The reader's new table as ``{tuple of str: int}``, or None if it is not a mapping of that kind."""
    if not isinstance(table, dict):
        return None
    try:
        return {tuple(k): int(v) for k, v in table.items()}
    except (TypeError, ValueError):
        return None


def _bpe_difference(got, expected) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"got {type(got).__name__} {got!r:.80}, expected a tuple (pair, new_words)"
    pair, table = got
    want_pair, want_table = expected
    if isinstance(table, str):
        return f"got {got!r}, only a pair; return a tuple (pair, new_words) with the new table of words"
    if isinstance(pair, str) and want_pair is not None and pair == "".join(want_pair):
        return (f"returned the pair as one string {pair!r}; return the two symbols as a tuple "
                f"{want_pair!r}, so that 'ab' + 'c' and 'a' + 'bc' stay different merges")
    if want_pair is None:
        if pair is not None:
            return f"got the pair {pair!r}, but no word has two symbols: return (None, words)"
    elif pair is None or tuple(pair) != want_pair:
        return f"chose the pair {pair!r}, expected {want_pair!r}"
    mine = _as_table(table)
    if mine is None:
        return f"the new table is {type(table).__name__}; expected a dict {{tuple of symbols: count}}"
    if mine != want_table:
        wrong = sorted(set(mine.items()) ^ set(want_table.items()))[:3]
        return f"the pair is right but the new table differs from the expected one {want_table} (e.g. {wrong})"
    return None


def _bpe_hints():
    def unweighted(case, got, expected):
        counts = _pair_counts(case["words"], weighted=False)
        if counts and isinstance(got, (tuple, list)) and len(got) == 2:
            pick = min(counts, key=lambda pair: (-counts[pair], pair))
            if got[0] is not None and tuple(got[0]) == pick != expected[0]:
                return ("you counted each word once; a word that occurs n times contributes n to each of its "
                        "pairs (multiply by the word's count)")

    def tie(case, got, expected):
        counts = _pair_counts(case["words"])
        if not counts or not isinstance(got, (tuple, list)) or len(got) != 2 or got[0] is None:
            return None
        top = max(counts.values())
        tied = [p for p, n in counts.items() if n == top]
        if len(tied) > 1 and tuple(got[0]) in tied and tuple(got[0]) != expected[0]:
            return (f"{len(tied)} pairs are tied with {top} occurrences; break the tie as BPE.train does: the "
                    "smallest pair in sorted order, e.g. min(pairs, key=lambda p: (-count[p], p))")

    def merging(case, got, expected):
        if not isinstance(got, (tuple, list)) or len(got) != 2 or expected[0] is None:
            return None
        mine = _as_table(got[1])
        if mine is None or got[0] is None or tuple(got[0]) != expected[0]:
            return None
        pair = expected[0]
        first_only, by_string, no_skip = Counter(), Counter(), Counter()
        for word, n in case["words"].items():
            out, j = [], 0
            while j < len(word):  # the slip: after a merge, step one symbol instead of two
                merged = j + 1 < len(word) and (word[j], word[j + 1]) == pair
                out.append(word[j] + word[j + 1] if merged else word[j])
                j += 1
            no_skip[tuple(out)] += n
            i = next((j for j in range(len(word) - 1) if (word[j], word[j + 1]) == pair), None)
            first_only[word if i is None else word[:i] + (pair[0] + pair[1],) + word[i + 2:]] += n
            joined = " ".join(word).replace(f"{pair[0]} {pair[1]}", pair[0] + pair[1])
            by_string[tuple(joined.split(" "))] += n
        if mine == dict(no_skip) != expected[1]:
            return ("after merging the pair at position i, continue at i + 2: both of its symbols are used up "
                    "(stepping to i + 1 repeats the second symbol)")
        if mine == dict(first_only) != expected[1]:
            return "merge every occurrence of the pair in a word, not only the first one"
        if mine == dict(by_string) != expected[1]:
            return ("you merged inside longer symbols: a string replace of 'h e' also matches the end of 'th e'. "
                    "Compare whole symbols, walking through the word's tuple")
        if pair[0] == pair[1]:
            return ("overlapping occurrences: scan left to right, merge, and skip past the merged pair, so "
                    "('a', 'a', 'a') becomes ('aa', 'a') and ('a', 'a', 'a', 'a') becomes ('aa', 'aa')")
        return None

    return [unweighted, tie, merging]


def check_bpe_merge_step(fn) -> CheckResult:
    """Check ``fn(words) -> (pair, new_words)``: one BPE merge on a ``{tuple of symbols: count}`` table."""
    return compare(fn, bpe_merge_step_reference, _bpe_cases(), name="check_bpe_merge_step",
                   compare_fn=_bpe_difference, hints=_bpe_hints())


# ------------------------------------------------------------------------------------------------------ analogy


def _unit(vectors):
    v = np.asarray(vectors, dtype=np.float64)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def analogy_reference(vectors, a, b, c) -> int:
    """The row d maximising cos(v_d, u_b - u_a + u_c) (u: unit rows), d not one of a, b, c (3CosAdd)."""
    from lessons_lib.models.word2vec import analogy

    return int(analogy(np.asarray(vectors, dtype=np.float64), a, b, c, k=1)[0][0])


def _analogy_variant(vectors, a, b, c, *, exclude=True, normalise=True, sign=1) -> int:
    v = np.asarray(vectors, dtype=np.float64)
    u = _unit(v) if normalise else v
    target = u[b] - u[a] + u[c] if sign == 1 else u[a] - u[b] + u[c]
    score = _unit(u) @ (target / np.linalg.norm(target))
    if exclude:
        score[[a, b, c]] = -np.inf
    return int(np.argmax(score))


def _analogy_cases():
    rng = np.random.default_rng(2026)
    # a built example (rows: 0 king, 1 man, 2 woman, 3 queen): king - man + woman lands next to king itself,
    # so the answer is queen only when the question words are excluded
    v = rng.normal(size=(12, 6))
    royal, female = 2.0 * rng.normal(size=6), 0.5 * rng.normal(size=6)
    v[2] = v[1] + female
    v[0] = v[1] + royal
    v[3] = v[2] + royal + 0.3 * rng.normal(size=6)
    cases = [{"vectors": v, "a": 1, "b": 0, "c": 2}]
    for n, dim, spread in [(40, 5, 3.0), (60, 8, 5.0), (30, 4, 10.0), (80, 10, 2.0), (50, 3, 8.0), (25, 2, 6.0)]:
        v = rng.normal(size=(n, dim)) * rng.uniform(1, spread, size=(n, 1))   # rows of very different lengths
        a, b, c = (int(i) for i in rng.choice(n, 3, replace=False))
        cases.append({"vectors": v, "a": a, "b": b, "c": c})
    return cases


def _analogy_hints():
    checks = [
        ({"exclude": False}, "exclude the three question words a, b and c from the answers (gensim does): the "
                             "nearest vector to b - a + c is very often b or c itself"),
        ({"normalise": False}, "normalise every row to unit length before forming b - a + c; with raw vectors the "
                               "long ones dominate the offset"),
        ({"sign": -1}, "the offset has the wrong sign: 'a is to b as c is to ?' looks near b - a + c "
                       "(king - man + woman)"),
    ]

    def hint(case, got, expected):
        try:
            got = int(got)
        except (TypeError, ValueError):
            return None
        for kwargs, text in checks:
            variant = _analogy_variant(**case, **kwargs)
            if variant == got != expected:
                return text
        return None

    return [hint]


def _analogy_difference(got, expected) -> str | None:
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        try:
            if isinstance(got, (bool, np.bool_)) or float(got) != int(float(got)):
                raise ValueError
            got = int(float(got))
        except (TypeError, ValueError):
            return f"got {got!r:.60} ({type(got).__name__}), expected the index of one row, like {expected}"
    return None if int(got) == expected else f"got row {int(got)}, expected row {expected}"


def check_analogy(fn) -> CheckResult:
    """Check ``fn(vectors, a, b, c) -> int``: the row answering "a is to b as c is to ?" by 3CosAdd."""
    name = "check_analogy"
    result = compare(fn, analogy_reference, _analogy_cases(), name=name, compare_fn=_analogy_difference,
                     hints=_analogy_hints())
    if not result.passed:
        return result
    # the answer must not depend on the length of the rows (the method works with directions only)
    case = _analogy_cases()[1]
    scaled = {**case, "vectors": case["vectors"] * np.linspace(0.5, 3.0, len(case["vectors"]))[:, None]}
    got, error = attempt(name, fn, **scaled, where="rows rescaled")
    if error:
        return error
    if _analogy_difference(got, analogy_reference(**scaled)):
        return CheckResult(name, FAILED, f"fails for {describe_case({k: scaled[k] for k in 'abc'})} with the rows "
                           "rescaled: the answer changed. Hint: normalise every row to unit length first")
    return CheckResult(name, PASSED, f"all {len(_analogy_cases()) + 1} checks passed")
