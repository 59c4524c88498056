"""The Chapter 30 checkers: references pass (and equal the library), realistic wrong answers are rejected with
the right hint, and an unattempted stub is reported as such."""

import numpy as np
import torch

from lessons_lib.functional.attention import causal_mask
from lessons_lib.models.transformer import GPT, GPTConfig
from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.ch30 import (
    attention_mask_reference,
    check_attention_mask,
    check_shift_right,
    check_top_k_probs,
    shift_right_reference,
    top_k_probs_reference,
)


def stub(*args, **kwargs):
    raise NotImplementedError


# -------------------------------------------------------------------------------------- attention mask


def test_mask_reference_matches_the_library_and_the_transformer():
    ids = np.array([[4, 5, 6, 0], [7, 0, 0, 0]])
    got = attention_mask_reference(ids, 0, causal=True)
    assert np.array_equal(got, causal_mask(4)[None] & (ids != 0)[:, None, :])
    # the Transformer's encoder mask (N, 1, 1, S) broadcast to the query axis is the non-causal mask
    src = torch.as_tensor(ids)
    assert np.array_equal(attention_mask_reference(ids, 0, causal=False),
                          np.broadcast_to(((src != 0)[:, None, None, :]).numpy()[:, 0], (2, 4, 4)))


def mask_answer(ids, pad_id, causal, *, invert=False, rows=False, future=False, pad=True, tri=True, as_int=False):
    T = ids.shape[1]
    real = ids != pad_id
    m = np.ones((len(ids), T, T), dtype=bool)
    if pad:
        m &= real[:, :, None] if rows else real[:, None, :]
    if causal and tri:
        m &= np.triu(np.ones((T, T), bool)) if future else np.tril(np.ones((T, T), bool))
    m = ~m if invert else m
    return m.astype(int) if as_int else m


def test_mask_correct_answers_pass():
    assert check_attention_mask(attention_mask_reference).status == PASSED
    assert check_attention_mask(lambda ids, pad_id, causal: mask_answer(ids, pad_id, causal, as_int=True)).passed

    def with_torch(ids, pad_id, causal):
        t = torch.as_tensor(ids)
        m = (t != pad_id)[:, None, :].expand(-1, t.shape[1], -1)
        return m & torch.ones(t.shape[1], t.shape[1], dtype=torch.bool).tril() if causal else m

    assert check_attention_mask(with_torch).passed


def test_mask_wrong_answers_get_the_right_hint():
    cases = [({"invert": True}, "opposite convention"), ({"rows": True}, "QUERIES (rows)"),
             ({"future": True}, "np.triu"), ({"pad": False}, "padding is not masked"),
             ({"tri": False}, "may only see keys 0..i")]
    for slip, hint in cases:
        result = check_attention_mask(lambda ids, pad_id, causal, s=slip: mask_answer(ids, pad_id, causal, **s))
        assert result.status == FAILED, slip
        assert hint in result.message, (slip, result.message)
    wrong_shape = check_attention_mask(lambda ids, pad_id, causal: mask_answer(ids, pad_id, causal)[:, 0])
    assert wrong_shape.status == FAILED and "shape" in wrong_shape.message


def test_mask_stub_and_crash():
    assert check_attention_mask(stub).status == NOT_ATTEMPTED
    assert check_attention_mask(lambda ids, pad_id, causal: 1 / 0).status == ERROR


# ---------------------------------------------------------------------------------------- shift right


def test_shift_right_passes_and_rejects():
    assert check_shift_right(shift_right_reference).status == PASSED
    assert check_shift_right(lambda y, bos_id: torch.cat([torch.full((len(y), 1), bos_id),
                                                          torch.as_tensor(y)[:, :-1]], 1)).passed
    slips = [(lambda y, b: np.concatenate([np.full((len(y), 1), b), y], 1), "drop y's last token"),
             (lambda y, b: np.concatenate([y[:, 1:], np.full((len(y), 1), b)], 1), "LEFT"),
             (lambda y, b: np.roll(y, 1, axis=1), "np.roll"),
             (lambda y, b: y, "copy the answer")]
    for wrong, hint in slips:
        result = check_shift_right(lambda y, bos_id, w=wrong: w(y, bos_id))
        assert result.status == FAILED and hint in result.message, result.message
    assert check_shift_right(stub).status == NOT_ATTEMPTED


# --------------------------------------------------------------------------------------- top-k sampling


def test_top_k_reference_matches_gpt_generate(monkeypatch):
    """GPT.generate, given a temperature and top_k, samples from exactly the reference distribution."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=1, n_embd=8)).double()
    with torch.no_grad():
        logits = model(torch.tensor([[1, 2]]))[0][0, -1].numpy()
    seen = []
    real = torch.multinomial
    monkeypatch.setattr(torch, "multinomial", lambda probs, n, generator=None: seen.append(probs) or real(probs, n))
    for k, t in [(3, 0.8), (7, 1.5), (1, 1.0)]:
        model.generate(torch.tensor([[1, 2]]), 1, temperature=t, top_k=k)
        want = top_k_probs_reference(logits, k, t)
        assert np.allclose(seen[-1][0].numpy(), want, atol=1e-12)
        assert np.isclose(want.sum(), 1) and (want > 0).sum() == k


def top_k_answer(logits, k, temperature, *, times=False, renorm=True, smallest=False, use_t=True, naive=False):
    z = np.asarray(logits, float)
    z = z * temperature if times else z / temperature if use_t else z
    e = np.exp(z) if naive else np.exp(z - z.max())
    p = e / e.sum()
    order = np.argsort(p)
    keep = np.zeros(len(p), bool)
    keep[order[:k] if smallest else order[-k:]] = True
    q = np.where(keep, p, 0.0)
    return q / q.sum() if renorm else q


def test_top_k_passes_and_rejects():
    assert check_top_k_probs(top_k_probs_reference).status == PASSED
    assert check_top_k_probs(top_k_answer).passed
    slips = [({"times": True}, "you multiplied"), ({"renorm": False}, "renormalise"),
             ({"smallest": True}, "SMALLEST"), ({"use_t": False}, "temperature is ignored"),
             ({"naive": True}, "exp overflows")]
    for slip, hint in slips:
        with np.errstate(all="ignore"):
            result = check_top_k_probs(lambda logits, k, temperature, s=slip: top_k_answer(logits, k, temperature, **s))
        assert result.status == FAILED, slip
        assert hint in result.message, (slip, result.message)
    assert check_top_k_probs(stub).status == NOT_ATTEMPTED
