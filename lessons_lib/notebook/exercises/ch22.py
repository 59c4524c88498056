"""Checkers for the exercises of Chapter 22 (sequence data and sequence models).

- :func:`check_shuffle_time`: ``shuffle_time(x, rng) -> (shuffled, perm)`` draws ONE permutation of the time
  axis from ``rng`` and applies it to every sequence of a batch, (N, T) or (N, T, F): ``shuffled = x[:, perm]``;
- :func:`check_unshuffle_time`: ``unshuffle_time(shuffled, perm) -> x`` undoes it with the inverse permutation;
- :func:`check_bag_of_words`: ``bag_of_words(ids, vocab_size, pad_id) -> counts`` turns a padded batch of token
  ids (N, T) into word counts (N, vocab_size), padding not counted.

They recognise the usual slips. Shuffling: a new permutation for every sequence, the wrong axis (the examples or
the features), indices drawn with replacement, the shuffle done in place, the inverse of the returned
permutation applied, a generator other than ``rng`` (not reproducible, or the same order whatever the seed).
Unshuffling: the permutation applied a second time instead of its inverse, the wrong axis. Bag of words: the
padding counted, presence (0/1) instead of counts, too few columns (``ids.max() + 1``), the transposed table.
"""

from __future__ import annotations

import numpy as np

from lessons_lib.notebook.checking import ERROR, FAILED, PASSED, CheckResult, attempt, compare

__all__ = [
    "bag_of_words_reference",
    "check_bag_of_words",
    "check_shuffle_time",
    "check_unshuffle_time",
    "shuffle_time_reference",
    "unshuffle_time_reference",
]


def _array(x):
    """The reader's answer as a NumPy array (torch tensors too), or None when it is not array-like."""
    try:
        if hasattr(x, "detach"):
            x = x.detach().cpu().numpy()
        return np.asarray(x)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------- shuffling


def shuffle_time_reference(x, rng):
    """One permutation of the T time steps, drawn from ``rng``, applied to every sequence: ``x[:, perm]``."""
    x = np.asarray(x)
    perm = rng.permutation(x.shape[1])
    return x[:, perm], perm


def unshuffle_time_reference(shuffled, perm):
    """The inverse permutation puts every time step back: ``shuffled[:, argsort(perm)]``."""
    return np.asarray(shuffled)[:, np.argsort(perm)]


# Shapes chosen so each slip shows: N == T makes a permutation of the examples keep the shape, F == T does the
# same for the features, and every entry is distinct so a reordering can be recognised.
_SHAPES = [(7, 7), (3, 8, 8), (6, 12), (4, 9, 3), (1, 5), (5, 20, 2)]


def _shuffle_cases():
    rng = np.random.default_rng(22)
    cases = []
    for i, shape in enumerate(_SHAPES):
        x = rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64) + 0.5
        cases.append({"x": x, "seed": 100 + i})
    return cases


def _is_permutation(perm, t) -> bool:
    return perm is not None and perm.ndim == 1 and len(perm) == t and np.array_equal(np.sort(perm), np.arange(t))


def _rows_each_permuted(x, out) -> bool:
    """Every sequence's steps are a reordering of its own steps (compared along the time axis)."""
    n, t = x.shape[:2]
    flat_x, flat_o = x.reshape(n, t, -1), out.reshape(n, t, -1)
    return all(
        {tuple(r) for r in flat_x[i]} == {tuple(r) for r in flat_o[i]} for i in range(n)
    )


def _permuted_along(x, out, axis) -> bool:
    """``out`` is ``x`` with its entries reordered along ``axis`` by one permutation (not the identity)."""
    if out.shape != x.shape or x.shape[axis] < 2:
        return False
    moved_x, moved_o = np.moveaxis(x, axis, 0), np.moveaxis(out, axis, 0)
    index = {moved_x[i].tobytes(): i for i in range(moved_x.shape[0])}
    order = [index.get(moved_o[j].tobytes()) for j in range(moved_o.shape[0])]
    return None not in order and sorted(order) == list(range(len(order))) and order != list(range(len(order)))


def _shuffle_problem(x, out, perm) -> str | None:
    """None when ``out`` is x with one permutation of its time axis and ``perm`` says which, else a diagnosis."""
    t = x.shape[1]
    if out is None:
        return "the shuffled batch is not an array"
    if out.shape != x.shape:
        return f"the shuffled batch has shape {out.shape}, expected the shape of x, {x.shape}"
    if perm is None or perm.ndim != 1 or len(perm) != t:
        shape = None if perm is None else perm.shape
        return f"perm has shape {shape}; expected one index per time step, shape ({t},)"
    if not np.issubdtype(perm.dtype, np.integer) and not np.array_equal(perm, np.round(perm)):
        return f"perm should hold whole numbers (indices); got {perm[:4]}"
    perm = perm.astype(np.int64)
    if not _is_permutation(perm, t):
        return (f"perm = {perm.tolist()} is not a permutation of 0..{t - 1}: some index repeats. Hint: "
                f"rng.integers and rng.choice(..., replace=True) draw with replacement; rng.permutation({t}) gives "
                "each index exactly once")
    if np.array_equal(out, x[:, perm]):
        return None
    if np.array_equal(out, x[:, np.argsort(perm)]):
        return ("your batch is x reordered by the INVERSE of the perm you returned. Hint: shuffled[:, j] must be "
                "x[:, perm[j]], which is exactly what x[:, perm] gives")
    if x.ndim == 3 and _permuted_along(x, out, 2):
        return "you reordered axis 2, the features of each step. Hint: the time axis is axis 1: x[:, perm]"
    if _permuted_along(x, out, 0):
        return "you reordered axis 0, the examples. Hint: the time axis is axis 1 of (N, T) or (N, T, F): x[:, perm]"
    if _rows_each_permuted(x, out):
        return ("each sequence got its own order. Hint: draw ONE permutation and apply it to every sequence "
                "(x[:, perm]); a different order per example is noise that no model can learn around, while one "
                "fixed order keeps the task learnable for a model that ignores order")
    return "the shuffled batch should be x[:, perm], x with its time steps reordered by perm"


def check_shuffle_time(fn) -> CheckResult:
    """Check ``fn(x, rng) -> (shuffled, perm)``: one permutation from ``rng`` applied to axis 1 of every sequence."""
    name = "check_shuffle_time"
    if not callable(fn):
        return CheckResult(name, ERROR, f"expected a function, got {type(fn).__name__}")
    cases = _shuffle_cases()
    perms = []
    for case in cases:
        x = case["x"]
        shown = f"x of shape {x.shape} (all entries distinct), rng = np.random.default_rng({case['seed']})"
        given = x.copy()
        got, error = attempt(name, fn, given, np.random.default_rng(case["seed"]), where=shown)
        if error:
            return error
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            kind = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
            return CheckResult(name, FAILED, f"fails for {shown}: got {kind}; return the pair (shuffled, perm)")
        out, perm = _array(got[0]), _array(got[1])
        if not np.array_equal(given, x):
            return CheckResult(name, FAILED, f"fails for {shown}: your function changed x itself. Hint: return a new "
                               "array (x[:, perm] makes one); rng.shuffle(...) reorders its argument in place")
        problem = _shuffle_problem(x, out, perm)
        if problem:
            return CheckResult(name, FAILED, f"fails for {shown}: {problem}")
        perms.append(perm.astype(np.int64))
    # The generator: the same seed must give the same order, and other seeds other orders.
    x = cases[0]["x"]
    again, error = attempt(name, fn, x.copy(), np.random.default_rng(cases[0]["seed"]))
    if error:
        return error
    again_perm = _array(again[1]) if isinstance(again, (tuple, list)) and len(again) == 2 else None
    if again_perm is None or not np.array_equal(again_perm, perms[0]):
        return CheckResult(name, FAILED, "two calls with generators seeded alike gave different orders. Hint: draw "
                           "from the rng you are given (rng.permutation(T)), not from np.random or torch, so a run "
                           "can be repeated")
    if all(np.array_equal(p, np.arange(len(p))) for p in perms):
        return CheckResult(name, FAILED, "every perm is the identity: nothing was shuffled")
    others = []
    for seed in (1, 2, 3):
        got, error = attempt(name, fn, x.copy(), np.random.default_rng(seed))
        if error:
            return error
        others.append(_array(got[1]) if isinstance(got, (tuple, list)) and len(got) == 2 else None)
    if all(p is not None and np.array_equal(p, perms[0]) for p in others):
        return CheckResult(name, FAILED, "generators with different seeds all gave the same order. Hint: draw the "
                           "permutation from rng, not from a generator you seed yourself")
    return CheckResult(name, PASSED, f"all {len(cases)} batches shuffled by one permutation of their time axis, "
                       "reproducibly from rng")


def _unshuffle_cases():
    rng = np.random.default_rng(220)
    cases = []
    for shape in _SHAPES:
        t = shape[1]
        perm = rng.permutation(t)
        while t > 2 and np.array_equal(perm[perm], np.arange(t)):  # an involution is its own inverse: avoid it
            perm = rng.permutation(t)
        x = rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64) + 0.5
        cases.append({"shuffled": x[:, perm], "perm": perm})
    return cases


def _unshuffle_hints():
    def again(case, got, expected):
        g = _array(got)
        if g is not None and g.shape == expected.shape and np.array_equal(g, case["shuffled"][:, case["perm"]]):
            return ("you applied perm a second time. Its inverse is np.argsort(perm) (inv[perm[j]] = j), so "
                    "shuffled[:, np.argsort(perm)] puts every step back; or write x[:, perm] = shuffled")

    def axis(case, got, expected):
        g, s = _array(got), case["shuffled"]
        if g is None or g.shape != s.shape:
            return None
        inv = np.argsort(case["perm"])
        if s.shape[0] == len(inv) and np.array_equal(g, s[inv]):
            return "you reordered axis 0, the examples; the time axis is axis 1"
        if s.ndim == 3 and s.shape[2] == len(inv) and np.array_equal(g, s[:, :, inv]):
            return "you reordered axis 2, the features; the time axis is axis 1"

    def untouched(case, got, expected):
        g = _array(got)
        if g is not None and g.shape == case["shuffled"].shape and np.array_equal(g, case["shuffled"]):
            return "you returned the shuffled batch unchanged"

    return [again, axis, untouched]


def check_unshuffle_time(fn) -> CheckResult:
    """Check ``fn(shuffled, perm) -> x`` with ``shuffled == x[:, perm]``: the inverse permutation of axis 1."""
    return compare(fn, unshuffle_time_reference, _unshuffle_cases(), name="check_unshuffle_time", rtol=0, atol=0,
                   hints=_unshuffle_hints())


# ------------------------------------------------------------------------------------------- bag of words


def bag_of_words_reference(ids, vocab_size, pad_id=0):
    """Counts of every word id in each padded sequence: (N, T) ids -> (N, vocab_size), the padding id not counted."""
    ids = np.asarray(ids, dtype=np.int64)
    counts = np.zeros((ids.shape[0], vocab_size), dtype=np.int64)
    rows = np.repeat(np.arange(ids.shape[0]), ids.shape[1])
    np.add.at(counts, (rows, ids.ravel()), 1)
    counts[:, pad_id] = 0
    return counts


def _bow_cases():
    return [
        {"ids": np.array([[5, 3, 5, 2, 0, 0]]), "vocab_size": 8, "pad_id": 0},
        {"ids": np.array([[2, 3, 4], [4, 3, 2]]), "vocab_size": 6, "pad_id": 0},          # same words, other order
        {"ids": np.array([[7, 7, 7, 0], [3, 0, 0, 0], [2, 4, 6, 3]]), "vocab_size": 12, "pad_id": 0},
        {"ids": np.array([[1, 2, 2, 9, 9, 9], [9, 9, 1, 1, 1, 1]]), "vocab_size": 10, "pad_id": 9},
        {"ids": np.array([[4, 4], [5, 6], [6, 5], [2, 2]]), "vocab_size": 7, "pad_id": 0},
        {"ids": np.random.default_rng(226).integers(0, 50, size=(5, 30)), "vocab_size": 60, "pad_id": 0},
    ]


def _bow_variant(ids, vocab_size, pad_id, *, count_pad=False, presence=False):
    counts = bag_of_words_reference(ids, vocab_size, pad_id)
    if count_pad:
        counts[:, pad_id] = (np.asarray(ids) == pad_id).sum(axis=1)
    if presence:
        counts = (counts > 0).astype(np.int64)
    return counts


def _bow_hints():
    def same(got, value):
        g = _array(got)
        try:
            return g is not None and g.shape == value.shape and np.allclose(g.astype(float), value)
        except (TypeError, ValueError):
            return False

    def pad(case, got, expected):
        if same(got, _bow_variant(**case, count_pad=True)):
            return (f"column {case['pad_id']} counts the padding. Padding only fills the batch to one length; it is "
                    "not a word: skip the id pad_id (or zero its column)")

    def presence(case, got, expected):
        if same(got, _bow_variant(**case, presence=True)):
            return "that is presence (0 or 1); count every occurrence: a word used twice counts 2"

    def columns(case, got, expected):
        g = _array(got)
        if g is not None and g.ndim == 2 and g.shape[0] == expected.shape[0] and g.shape[1] != case["vocab_size"]:
            return (f"use vocab_size = {case['vocab_size']} columns, one per word of the vocabulary, not ids.max() + 1: "
                    "a word absent from this batch still has its column, so every batch gives vectors of one size")

    def transposed(case, got, expected):
        g = _array(got)
        if g is not None and g.shape == expected.T.shape and g.shape != expected.shape:
            return "your table is transposed: one row per sequence, one column per word id, shape (N, vocab_size)"

    return [pad, presence, columns, transposed]


def check_bag_of_words(fn) -> CheckResult:
    """Check ``fn(ids, vocab_size, pad_id) -> counts (N, vocab_size)`` against a counting reference."""
    return compare(fn, bag_of_words_reference, _bow_cases(), name="check_bag_of_words", rtol=0, atol=0,
                   hints=_bow_hints())
