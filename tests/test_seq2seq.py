"""models.seq2seq: the GRU encoder-decoder with and without additive attention."""

import pytest
import torch
from torch import nn

from lessons_lib.models.seq2seq import Seq2Seq

V, BOS, EOS = 12, 1, 2   # 0 pads; tokens 3..11


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _train(attention, steps=300, length=6):
    torch.manual_seed(0)
    model = Seq2Seq(V, V, 16, 32, attention=attention)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        src = torch.randint(3, V, (32, length), generator=g)
        tgt = torch.cat([src.flip(1), torch.full((32, 1), EOS)], 1)
        tgt_in = torch.cat([torch.full((32, 1), BOS), tgt[:, :-1]], 1)   # teacher forcing: shifted right
        logits, _ = model(src, tgt_in)
        loss = nn.functional.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def test_attention_learns_to_reverse_and_its_alignment_is_the_anti_diagonal(one_thread):
    g = torch.Generator().manual_seed(1)
    src = torch.randint(3, V, (100, 6), generator=g)
    scores = {}
    for attention in (True, False):
        out, weights = _train(attention).greedy_decode(src, BOS, EOS, max_len=7)
        scores[attention] = (out[:, :6] == src.flip(1)).all(1).float().mean().item()
        if attention:
            assert weights.shape == (100, out.shape[1], 6)
            torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))
            looked_at = weights[:, :6].argmax(-1)                        # (N, 6): the source position read
            assert (looked_at == torch.arange(5, -1, -1)).float().mean() > 0.9  # output t reads source 5 - t
        else:
            assert weights is None
    assert scores[True] > 0.95 and scores[True] > scores[False] + 0.3, scores  # 1.00 vs 0.38 here


def test_padding_is_never_attended_and_changes_nothing():
    torch.manual_seed(0)
    model = Seq2Seq(V, V, 8, 16, attention=True).eval()
    src = torch.randint(3, V, (3, 4))
    padded = torch.cat([src, torch.zeros(3, 2, dtype=torch.long)], 1)
    tgt_in = torch.randint(3, V, (3, 5))
    a, wa = model(src, tgt_in)
    b, wb = model(padded, tgt_in)
    torch.testing.assert_close(a, b)
    assert torch.all(wb[..., 4:] == 0)
    torch.testing.assert_close(wb[..., :4], wa)


def test_greedy_decode_stops_at_eos_and_pads_after_it():
    torch.manual_seed(0)
    model = Seq2Seq(V, V, 8, 16, attention=False)
    with torch.no_grad():
        model.out.bias.fill_(-10.0)
        model.out.bias[EOS] = 10.0                                    # always says "end"
    out, weights = model.greedy_decode(torch.randint(3, V, (4, 5)), BOS, EOS, max_len=6)
    assert out.shape == (4, 1) and torch.all(out == EOS) and weights is None


def test_precomputed_keys_give_the_functional_additive_attention():
    from lessons_lib.functional.attention import additive_attention

    torch.manual_seed(3)
    model = Seq2Seq(V, V, 8, 16, attention=True).double()
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]])
    states, h, mask = model.encode(src)
    ours, w_ours = model.attend(h, model.keys(states), states, mask)
    ref, w_ref = additive_attention(h, states, states, model.W_q.weight, model.W_k.weight, model.w, mask=mask,
                                    return_weights=True)
    assert torch.allclose(ours, ref, atol=1e-12) and torch.allclose(w_ours, w_ref, atol=1e-12)
    assert torch.all(w_ours[1, 2:] == 0)


def test_shift_targets_puts_bos_in_front_and_eos_after_the_last_real_token():
    from lessons_lib.models.seq2seq import pad_batch, shift_targets

    ids = pad_batch([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    tgt_in, tgt_out = shift_targets(ids, BOS, EOS, 0)
    assert tgt_in.tolist() == [[BOS, 5, 6, 7], [BOS, 8, 0, 0]]
    assert tgt_out.tolist() == [[5, 6, 7, EOS], [8, EOS, 0, 0]]
    with pytest.raises(ValueError, match="ids has shape"):
        shift_targets(torch.tensor([1, 2]), BOS, EOS, 0)
    with pytest.raises(ValueError, match="sequences is empty"):
        pad_batch([])


def test_update_bias_sets_the_z_gate_of_both_grus():
    model = Seq2Seq(V, V, 8, 16, attention=False, update_bias=1.0)
    H = 16
    for b_ih, b_hh in ((model.encoder.bias_ih_l0, model.encoder.bias_hh_l0), (model.decoder.bias_ih, model.decoder.bias_hh)):
        assert torch.all(b_ih[H:2 * H] == 1.0) and torch.all(b_hh[H:2 * H] == 0.0)
    with pytest.raises((TypeError, ValueError), match="update_bias"):
        Seq2Seq(V, V, 8, 16, update_bias="big")


def test_greedy_decode_names_a_bad_max_len():
    with pytest.raises((TypeError, ValueError), match="max_len"):
        Seq2Seq(V, V, 8, 16).greedy_decode(torch.tensor([[3, 4]]), BOS, EOS, max_len=0)
