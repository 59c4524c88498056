"""The Chapter 22 checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import numpy as np
import torch

from lessons_lib.data.text import Vocabulary
from lessons_lib.notebook.checking import ERROR, FAILED, PASSED
from lessons_lib.notebook.exercises.ch22 import (
    bag_of_words_reference,
    check_bag_of_words,
    check_shuffle_time,
    check_unshuffle_time,
    shuffle_time_reference,
    unshuffle_time_reference,
)

# ------------------------------------------------------------------------------------------- shuffle_time


def test_shuffle_reference_and_other_correct_forms_pass():
    assert check_shuffle_time(shuffle_time_reference).status == PASSED

    def take(x, rng):  # np.take along the time axis, perm as a list
        perm = rng.permutation(x.shape[1])
        return np.take(x, perm, axis=1), list(perm)

    def via_torch(x, rng):  # a tensor comes back: accepted
        perm = rng.permutation(x.shape[1])
        return torch.as_tensor(x)[:, torch.as_tensor(perm)], torch.as_tensor(perm)

    def argsort_of_random(x, rng):  # another correct way to draw a permutation
        perm = np.argsort(rng.random(x.shape[1]))
        return x[:, perm], perm

    for fn in (take, via_torch, argsort_of_random):
        assert check_shuffle_time(fn).passed, fn.__name__


def test_shuffle_reference_is_a_permutation_of_the_time_axis():
    x = np.arange(2 * 5 * 3).reshape(2, 5, 3)
    out, perm = shuffle_time_reference(x, np.random.default_rng(0))
    assert sorted(perm) == list(range(5))
    for j in range(5):
        assert np.array_equal(out[:, j], x[:, perm[j]])
    assert np.array_equal(unshuffle_time_reference(out, perm), x)


def test_shuffle_a_permutation_per_example_is_diagnosed():
    def per_row(x, rng):
        return rng.permuted(x, axis=1), rng.permutation(x.shape[1])  # permuted: each row its own order

    result = check_shuffle_time(per_row)
    assert result.status == FAILED and "ONE permutation" in result.message

    def loop(x, rng):
        perms = [rng.permutation(x.shape[1]) for _ in range(len(x))]
        return np.stack([row[p] for row, p in zip(x, perms)]), perms[0]

    result = check_shuffle_time(loop)
    assert result.status == FAILED and "its own order" in result.message


def test_shuffle_wrong_axes_are_diagnosed():
    def examples(x, rng):
        perm = rng.permutation(x.shape[0])
        return x[perm], perm

    result = check_shuffle_time(examples)
    assert result.status == FAILED and "axis 0, the examples" in result.message

    def last_axis(x, rng):  # right for (N, T), wrong for (N, T, F)
        perm = rng.permutation(x.shape[-1])
        return x[..., perm], perm

    result = check_shuffle_time(last_axis)
    assert result.status == FAILED and "axis 2, the features" in result.message


def test_shuffle_with_replacement_and_inverse_are_diagnosed():
    def replacement(x, rng):
        idx = rng.integers(0, x.shape[1], size=x.shape[1])
        return x[:, idx], idx

    result = check_shuffle_time(replacement)
    assert result.status == FAILED and "with replacement" in result.message

    def inverse(x, rng):
        perm = rng.permutation(x.shape[1])
        return x[:, np.argsort(perm)], perm

    result = check_shuffle_time(inverse)
    assert result.status == FAILED and "INVERSE" in result.message


def test_shuffle_in_place_is_diagnosed():
    def in_place(x, rng):
        perm = rng.permutation(x.shape[1])
        x[:] = x[:, perm]
        return x, perm

    result = check_shuffle_time(in_place)
    assert result.status == FAILED and "changed x itself" in result.message


def test_shuffle_generators_other_than_rng_are_diagnosed():
    def global_state(x, rng):
        perm = np.random.permutation(x.shape[1])
        return x[:, perm], perm

    result = check_shuffle_time(global_state)
    assert result.status == FAILED and "seeded alike gave different orders" in result.message

    def own_seed(x, rng):
        perm = np.random.default_rng(0).permutation(x.shape[1])
        return x[:, perm], perm

    result = check_shuffle_time(own_seed)
    assert result.status == FAILED and "same order" in result.message

    def identity(x, rng):
        return x.copy(), np.arange(x.shape[1])

    result = check_shuffle_time(identity)
    assert result.status == FAILED and "identity" in result.message


def test_shuffle_wrong_return_and_crash_are_reported():
    result = check_shuffle_time(lambda x, rng: x[:, rng.permutation(x.shape[1])])
    assert result.status == FAILED and "(shuffled, perm)" in result.message
    result = check_shuffle_time(lambda x, rng: (x[:, :-1], np.arange(x.shape[1] - 1)))
    assert result.status == FAILED and "shape" in result.message
    result = check_shuffle_time(lambda x, rng: (x, rng.permutation(x.shape[1] + 1)[x.shape[1] + 5]))
    assert result.status == ERROR and "IndexError" in result.message
    assert check_shuffle_time("not a function").status == ERROR


# ------------------------------------------------------------------------------------------ unshuffle_time


def test_unshuffle_reference_and_other_correct_forms_pass():
    assert check_unshuffle_time(unshuffle_time_reference).passed

    def assign(shuffled, perm):
        x = np.empty_like(shuffled)
        x[:, perm] = shuffled
        return x

    def explicit_inverse(shuffled, perm):
        inv = np.empty(len(perm), dtype=int)
        inv[perm] = np.arange(len(perm))
        return torch.as_tensor(shuffled)[:, torch.as_tensor(inv)]

    assert check_unshuffle_time(assign).passed
    assert check_unshuffle_time(explicit_inverse).passed


def test_unshuffle_slips_are_diagnosed():
    result = check_unshuffle_time(lambda shuffled, perm: shuffled[:, perm])
    assert result.status == FAILED and "second time" in result.message and "argsort" in result.message
    result = check_unshuffle_time(lambda shuffled, perm: shuffled[np.argsort(perm)])
    assert result.status == FAILED and "axis 0, the examples" in result.message
    result = check_unshuffle_time(lambda shuffled, perm: shuffled[..., np.argsort(perm)])
    assert result.status == FAILED and "axis 2, the features" in result.message
    result = check_unshuffle_time(lambda shuffled, perm: shuffled)
    assert result.status == FAILED and "unchanged" in result.message


# ------------------------------------------------------------------------------------------- bag_of_words


def test_bag_of_words_reference_counts_words_and_ignores_order():
    vocab = Vocabulary.build("the dog bit the man".split())
    a = np.array([vocab.encode("the dog bit the man".split())])
    b = np.array([vocab.encode("the man bit the dog".split())])
    ca, cb = bag_of_words_reference(a, len(vocab)), bag_of_words_reference(b, len(vocab))
    assert np.array_equal(ca, cb) and ca[0, vocab.stoi["the"]] == 2 and ca.sum() == 5
    padded = np.array([[3, 4, 0, 0]])
    assert bag_of_words_reference(padded, 6).tolist() == [[0, 0, 0, 1, 1, 0]]


def test_bag_of_words_reference_and_other_correct_forms_pass():
    assert check_bag_of_words(bag_of_words_reference).passed

    def loops(ids, vocab_size, pad_id):
        out = np.zeros((len(ids), vocab_size))
        for i, row in enumerate(ids):
            for w in row:
                if w != pad_id:
                    out[i, w] += 1
        return out

    def bincount(ids, vocab_size, pad_id):
        rows = [np.bincount(r[r != pad_id], minlength=vocab_size) for r in np.asarray(ids)]
        return torch.as_tensor(np.stack(rows))

    assert check_bag_of_words(loops).passed
    assert check_bag_of_words(bincount).passed


def test_bag_of_words_slips_are_diagnosed():
    def with_pad(ids, vocab_size, pad_id):
        return np.stack([np.bincount(r, minlength=vocab_size) for r in ids])

    result = check_bag_of_words(with_pad)
    assert result.status == FAILED and "counts the padding" in result.message

    def presence(ids, vocab_size, pad_id):
        return (bag_of_words_reference(ids, vocab_size, pad_id) > 0).astype(int)

    result = check_bag_of_words(presence)
    assert result.status == FAILED and "presence" in result.message

    def too_few(ids, vocab_size, pad_id):
        return bag_of_words_reference(ids, int(np.max(ids)) + 1, pad_id)

    result = check_bag_of_words(too_few)
    assert result.status == FAILED and "not ids.max() + 1" in result.message

    def transposed(ids, vocab_size, pad_id):
        return bag_of_words_reference(ids, vocab_size, pad_id).T

    result = check_bag_of_words(transposed)
    assert result.status == FAILED and "transposed" in result.message
