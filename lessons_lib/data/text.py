"""An English corpus assembled from text that ships with Python itself (docstrings and pydoc topics).
"""

from __future__ import annotations

import ast
import functools
import heapq
import os
import re
import string
import sysconfig
from pathlib import Path

# ---------------------------------------------------------------------------------------- text corpus

_CORPUS_SKIP = {
    "test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "tkinter", "turtledemo", "ensurepip",
    "venv", "__pycache__",
}


_KEEP = set(string.printable) - set("\x0b\x0c\r\t")


@functools.lru_cache(maxsize=1)
def text_corpus() -> str:
    """English text that ships with Python: the standard library's docstrings plus ``pydoc_data.topics``.

    About 2.0 million characters of printable ASCII (1,975,914 with Python 3.11). Docstrings are read from the
    source files (nothing is imported, nothing downloaded). The first call takes a few seconds; the result is cached in
    ``~/.cache/lessons_lib`` (or ``$XDG_CACHE_HOME``) and in memory.
    """
    import sys

    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lessons_lib"
    cache = cache_root / f"corpus-py{sys.version_info.major}.{sys.version_info.minor}.txt"
    if cache.is_file():
        return cache.read_text(encoding="utf-8")
    text = _build_corpus()
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return text


def _build_corpus() -> str:
    from pydoc_data.topics import topics

    root = Path(sysconfig.get_paths()["stdlib"])
    parts = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in _CORPUS_SKIP or part.startswith("config-") for part in rel.parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    parts.append(doc)
    parts += [topics[key] for key in sorted(topics)]
    text = "\n\n".join(parts).replace("\t", "    ")
    return "".join(ch for ch in text if ch in _KEEP)


# ----------------------------------------------------------------------------------------- tokenizers

PAD, UNK = "<pad>", "<unk>"
_WORD = re.compile(r"\w+|[^\w\s]")
PIECE = re.compile(r"\s*\S+|\s+")  # a word with the spaces before it; trailing spaces on their own


def word_tokens(text: str) -> list[str]:
    """Lower-cased words and single punctuation marks: "Don't stop." -> ["don", "'", "t", "stop", "."]."""
    return _WORD.findall(text.lower())


def char_tokens(text: str) -> list[str]:
    """One token per character, spaces and newlines included, so joining them gives the text back."""
    return list(text)


class Vocabulary:
    """Tokens <-> integer ids, with ``<pad>`` (id 0) and ``<unk>`` (id 1) first.

    ``Vocabulary.build(tokens, max_size, min_count)`` keeps the most frequent tokens (ties in first-seen
    order); :meth:`encode` maps a token it does not know to ``<unk>``, :meth:`decode` maps ids back.
    """

    def __init__(self, tokens):
        self.itos = [PAD, UNK] + [t for t in dict.fromkeys(tokens) if t not in (PAD, UNK)]
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.pad_id, self.unk_id = 0, 1

    @classmethod
    def build(cls, tokens, max_size: int | None = None, min_count: int = 1) -> Vocabulary:
        from collections import Counter

        counts = Counter(tokens)
        kept = [t for t, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n >= min_count]  # stable on ties
        return cls(kept[: None if max_size is None else max(max_size - 2, 0)])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens) -> list[int]:
        return [self.stoi.get(t, self.unk_id) for t in tokens]

    def decode(self, ids) -> list[str]:
        return [self.itos[int(i)] for i in ids]


class BPE:
    """Byte-pair encoding (Sennrich, Haddow and Birch, 2016), trained from scratch.

    The text is cut into pieces, each word with the whitespace before it (GPT-2 keeps one leading space with a
    word; here all of it, so runs of spaces and newlines stay whole), and every piece starts
    as its characters. Training repeatedly merges the most frequent pair of neighbouring symbols (counted over
    all pieces, weighted by how often each piece occurs; ties go to the pair first in sorted order) into one
    new symbol, until the vocabulary has ``vocab_size`` symbols. Encoding applies the learned merges to a new
    piece in the order they were learned; decoding joins the symbols, so ``decode(encode(text)) == text``
    for any text whose characters were seen in training (an unseen character becomes ``<unk>``).
    """

    def __init__(self, merges: list[tuple[str, str]], alphabet: list[str]):
        self.merges = list(merges)
        self.ranks = {pair: i for i, pair in enumerate(self.merges)}
        self.vocab = Vocabulary(alphabet + [a + b for a, b in self.merges])

    @classmethod
    def train(cls, text: str, vocab_size: int) -> BPE:
        from collections import Counter, defaultdict

        pieces = Counter(PIECE.findall(text))
        words = [list(p) for p in pieces]
        freq = list(pieces.values())
        alphabet = sorted({ch for p in pieces for ch in p})
        if vocab_size < len(alphabet) + 2:
            raise ValueError(f"BPE.train: vocab_size is {vocab_size}; the text has {len(alphabet)} characters, so at "
                             f"least {len(alphabet) + 2} (with <pad> and <unk>)")
        pairs, where = Counter(), defaultdict(set)
        for i, w in enumerate(words):
            for pair in zip(w, w[1:]):
                pairs[pair] += freq[i]
                where[pair].add(i)
        # The most frequent pair comes off a heap of (-count, pair): ties go to the smallest pair. A count that
        # changed leaves its old entry behind; an entry whose count is no longer current is skipped when popped.
        heap = [(-n, pair) for pair, n in pairs.items()]
        heapq.heapify(heap)
        merges = []
        while len(alphabet) + 2 + len(merges) < vocab_size and heap:
            neg, best = heapq.heappop(heap)
            if pairs.get(best) != -neg:
                continue  # stale
            if -neg < 2:
                break  # nothing repeats any more
            merges.append(best)
            merged = best[0] + best[1]
            changed = set()
            for i in where.pop(best):  # only the pieces that contain the pair change
                w, n = words[i], freq[i]
                new = _merge(w, best, merged)
                before, after = Counter(zip(w, w[1:])), Counter(zip(new, new[1:]))
                for pair in before.keys() | after.keys():
                    delta = after[pair] - before[pair]
                    if delta:
                        pairs[pair] += delta * n
                        changed.add(pair)
                        if delta > 0:
                            where[pair].add(i)
                        elif not after[pair] and pair != best:
                            where[pair].discard(i)  # so a later merge visits only pieces that hold its pair
                words[i] = new
            for pair in changed:
                if pairs[pair] > 0:
                    heapq.heappush(heap, (-pairs[pair], pair))
                else:
                    del pairs[pair]
        return cls(merges, alphabet)

    def tokens(self, text: str) -> list[str]:
        """The text as symbols: each piece's characters with the learned merges applied, lowest rank first."""
        out = []
        for piece in PIECE.findall(text):
            w = [ch if ch in self.vocab.stoi else UNK for ch in piece]
            while len(w) > 1:
                ranked = [(self.ranks.get(pair, len(self.ranks)), pair) for pair in zip(w, w[1:])]
                rank, pair = min(ranked)
                if rank == len(self.ranks):
                    break
                w = _merge(w, pair, pair[0] + pair[1])
            out += w
        return out

    def encode(self, text: str) -> list[int]:
        return self.vocab.encode(self.tokens(text))

    def decode(self, ids) -> str:
        return "".join(self.vocab.decode(ids))

    def __len__(self) -> int:
        return len(self.vocab)


def library_bpe(text: str, vocab_size: int):
    """The same BPE trained with Hugging Face's ``tokenizers`` (the Rust library behind ``transformers``).

    Set up to match :class:`BPE`: the same pieces (``PIECE``, one ``Split`` pre-tokenizer), ``<pad>`` and
    ``<unk>`` as special tokens, pairs seen only once never merged, and a decoder that joins the symbols.
    Both count pairs the same way, so they learn the same merges until two pairs tie; ties are broken
    differently, so later merges can differ. Returns a ``tokenizers.Tokenizer``.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    from lessons_lib.validate import integer

    vocab_size = integer("library_bpe", "vocab_size", vocab_size, minimum=3)
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(PIECE.pattern), behavior="isolated")
    tokenizer.decoder = decoders.Fuse()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD, UNK], min_frequency=2,
                                  show_progress=False)
    tokenizer.train_from_iterator([text], trainer)
    return tokenizer


def library_merges(tokenizer) -> list[tuple[str, str]]:
    """The merges a ``tokenizers`` BPE learned, in order, as pairs of strings (like :attr:`BPE.merges`)."""
    import json

    merges = json.loads(tokenizer.to_str())["model"]["merges"]
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in merges]


def _merge(symbols: list[str], pair: tuple[str, str], merged: str) -> list[str]:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(merged)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


# ------------------------------------------------------------------ word-vector benchmarks (gensim's test data)


def _gensim_test_file(name: str) -> Path:
    from importlib.resources import files

    path = Path(str(files("gensim") / "test" / "test_data" / name))
    if not path.is_file():
        raise FileNotFoundError(f"{name} is not in gensim's test data ({path}); reinstall gensim (see requirements.txt)")
    return path


def analogy_questions() -> dict[str, list[tuple[str, str, str, str]]]:
    """The word2vec analogy test set (Mikolov et al., 2013), as gensim ships it: ``{section: [(a, b, c, d)]}``,
    read "a is to b as c is to d" (Athens : Greece :: Baghdad : Iraq), lowercased like :func:`word_tokens`.
    19,544 questions in 14 sections: 5 semantic (capitals, currencies, family, ...), 9 syntactic."""
    sections: dict[str, list] = {}
    current = None
    for line in _gensim_test_file("questions-words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(": "):
            current = sections.setdefault(line[2:].strip(), [])
        elif line.strip():
            current.append(tuple(line.lower().split()))
    return sections


def simlex999() -> list[tuple[str, str, float]]:
    """SimLex-999 (Hill, Reichart and Korhonen, 2015): 999 word pairs with human similarity ratings from 0 to
    10, rating similarity (cup, mug) and not mere relatedness (cup, coffee)."""
    pairs = []
    for line in _gensim_test_file("simlex999.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            a, b, score = line.split("\t")
            pairs.append((a.lower(), b.lower(), float(score)))
    return pairs


@functools.lru_cache(maxsize=1)
def wikipedia_articles() -> list[list[str]]:
    """106 English Wikipedia articles (Anarchism, Autism, Albedo, ...) from the excerpt of a 2017 dump that ships in
    gensim's test data, as lists of lowercase word tokens: about 453,000 tokens. gensim's ``WikiCorpus``
    strips the wiki markup (links, templates, tables) and drops tokens shorter than 2 characters. About 2 s."""
    from gensim.corpora.wikicorpus import WikiCorpus

    path = _gensim_test_file("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    return list(WikiCorpus(str(path), dictionary={}, processes=1).get_texts())


def movie_reviews() -> tuple[list[str], list[int]]:
    """200 sentences from movie reviews with their polarity (Pang and Lee, 2005, as shipped in gensim's test
    data): 100 negative (label 0) and 100 positive (label 1), lowercased and tokenised with spaces. The file is
    Windows-1252 text (its dashes are byte 0x97)."""
    sentences, labels = [], []
    for line in _gensim_test_file("pang_lee_polarity.cor").read_text(encoding="cp1252").splitlines():  # Windows text
        label, _, sentence = line.partition(" ")
        if label in ("__label__neg", "__label__pos"):
            sentences.append(sentence.strip())
            labels.append(int(label == "__label__pos"))
    return sentences, labels


def skipgram_pairs(ids, window: int) -> list[tuple[int, int]]:
    """Every (centre, context) pair of a sequence of word ids whose distance is 1 to ``window``, in order:
    [a, b, c] with window 1 gives (a, b), (b, a), (b, c), (c, b)."""
    from lessons_lib.validate import integer

    window = integer("skipgram_pairs", "window", window, minimum=1)
    ids = list(ids)
    return [(ids[i], ids[j]) for i in range(len(ids))
            for j in range(max(0, i - window), min(len(ids), i + window + 1)) if j != i]


# ------------------------------------------------------------- WordPiece and a three-class task (chapter 31)


def library_wordpiece(texts, vocab_size: int, special_tokens=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")):
    """A BERT-style WordPiece tokenizer trained with Hugging Face's ``tokenizers`` on ``texts`` (an iterable of
    strings). Set up as BERT's uncased tokenizer is: lowercasing and accent stripping (``BertNormalizer``), words
    and single punctuation marks as pieces (``BertPreTokenizer``), pieces inside a word marked ``##``, and every
    encoded text framed as ``[CLS] text [SEP]`` (a pair as ``[CLS] a [SEP] b [SEP]``). The special tokens get the
    first ids in the order given (so ``[PAD]`` is 0). Returns a ``tokenizers.Tokenizer``; wrap it with
    :func:`lessons_lib.training.hf.hf_tokenizer` to use it from ``transformers``.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    from lessons_lib.validate import integer

    special_tokens = list(special_tokens)
    missing = {"[UNK]", "[CLS]", "[SEP]"} - set(special_tokens)
    if missing:
        raise ValueError(f"library_wordpiece: special_tokens lacks {sorted(missing)}; BERT's framing needs them")
    vocab_size = integer("library_wordpiece", "vocab_size", vocab_size, minimum=len(special_tokens) + 1)
    if isinstance(texts, str):
        texts = [texts]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tokenizer


def plain_words(text: str) -> str:
    """The words of ``text``, lower-cased and joined by single spaces: runs of letters, digits and apostrophes, with
    punctuation and symbols removed ("Don't panic, use f(x)." -> "don't panic use") and one-letter words dropped
    (numbers kept). Gives review sentences and documentation sentences the same surface, so a classifier must tell
    them apart by their words."""
    words = (w.strip("'") for w in re.findall(r"[a-z0-9']+", text.lower()))
    return " ".join(w for w in words if len(w) >= 2 or w.isdigit())


def reviews_and_docs(n_docs: int = 100, seed: int = 0) -> tuple[list[str], list[int], list[str]]:
    """A real three-class text task: the 200 review sentences of :func:`movie_reviews` (0 negative, 1 positive)
    and ``n_docs`` sentences of Python's documentation from :func:`text_corpus` (2, "not a review"), drawn at
    random (``seed``) among the corpus's first 300,000 characters' sentences of 12 to 40 words that start with a
    letter. Every text goes through :func:`plain_words`, so punctuation is no clue. Returns ``(texts, labels,
    names)``: reviews first (in the file's order), then the documentation sentences; ``names[k]`` is label k's
    name."""
    import numpy as np

    from lessons_lib.validate import integer

    n_docs = integer("reviews_and_docs", "n_docs", n_docs, minimum=1)
    reviews, labels = movie_reviews()
    sentences = [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+", text_corpus()[:300_000])]
    sentences = [s for s in sentences if 12 <= len(s.split()) <= 40 and s[0].isalpha()]
    if n_docs > len(sentences):
        raise ValueError(f"reviews_and_docs: n_docs is {n_docs}, but only {len(sentences)} sentences qualify")
    picked = np.random.default_rng(seed).choice(len(sentences), n_docs, replace=False)
    texts = [plain_words(t) for t in reviews] + [plain_words(sentences[i]) for i in picked]
    return texts, labels + [2] * n_docs, ["negative", "positive", "not a review"]
