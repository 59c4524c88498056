"""models.sequence: parameter counts against torch, padding handled by lengths, the state carried across calls."""

import pytest
import torch
from torch import nn

from lessons_lib.models.sequence import (
    MNIST1DGRU,
    RNNLanguageModel,
    SequenceClassifier,
    recurrent_parameter_count,
)

LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, False), (1, True), (3, True)])
def test_parameter_count_formula_matches_torch(cell, layers, bidirectional):
    layer = LAYERS[cell](7, 5, num_layers=layers, bidirectional=bidirectional)
    assert recurrent_parameter_count(cell, 7, 5, layers, bidirectional) == count(layer)


def test_gru_has_three_gate_blocks_and_lstm_four():
    rnn = recurrent_parameter_count("rnn", 10, 20)
    assert recurrent_parameter_count("gru", 10, 20) == 3 * rnn and recurrent_parameter_count("lstm", 10, 20) == 4 * rnn


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="cell is 'transformer'"):
        recurrent_parameter_count("transformer", 3, 3)
    with pytest.raises(ValueError, match="hidden_size"):
        recurrent_parameter_count("gru", 3, 0)
    with pytest.raises(ValueError, match="cell"):
        SequenceClassifier(10, 4, 4, 2, cell="cnn")
    with pytest.raises(ValueError, match="tie_weights"):
        RNNLanguageModel(10, 4, 6, tie_weights=True)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_counts_and_reads_the_last_real_token(cell, bidirectional):
    torch.manual_seed(0)
    model = SequenceClassifier(30, 8, 6, 3, cell=cell, num_layers=2, bidirectional=bidirectional).double().eval()
    expected = 30 * 8 + recurrent_parameter_count(cell, 8, 6, 2, bidirectional) + (12 if bidirectional else 6) * 3 + 3
    assert count(model) == expected
    seqs = [torch.randint(1, 30, (n,)) for n in (5, 2, 7)]
    padded = nn.utils.rnn.pad_sequence(seqs, batch_first=True)  # pads with 0, the padding id
    batch = model(padded, lengths=[len(s) for s in seqs])
    alone = torch.cat([model(s[None]) for s in seqs])
    assert batch.shape == (3, 3)
    torch.testing.assert_close(batch, alone)
    # Without lengths the padding is read as tokens, and the shorter sequences' answers change.
    assert not torch.allclose(model(padded)[1], alone[1])


def test_bidirectional_state_is_last_forward_and_first_backward_output():
    torch.manual_seed(1)
    model = SequenceClassifier(None, 4, 5, 2, cell="gru", bidirectional=True).double()
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    out, _ = model.rnn(x)
    expected = model.head(torch.cat([out[:, -1, :5], out[:, 0, 5:]], dim=1))
    torch.testing.assert_close(model(x), expected)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_language_model_carries_its_state(cell):
    torch.manual_seed(2)
    model = RNNLanguageModel(20, 6, 6, cell=cell, num_layers=2, tie_weights=True).double().eval()
    assert model.head.weight is model.embed.weight
    ids = torch.randint(0, 20, (2, 9))
    whole, _ = model(ids)
    first, state = model(ids[:, :4])
    second, _ = model(ids[:, 4:], state)
    assert whole.shape == (2, 9, 20)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)


def test_language_model_learns_a_cycle_and_generates_it():
    torch.manual_seed(0)
    text = torch.arange(5).repeat(40)  # 0 1 2 3 4 0 1 2 ...
    model = RNNLanguageModel(5, 8, 16, cell="gru")
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        logits, _ = model(text[None, :-1])
        loss = nn.functional.cross_entropy(logits[0], text[1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    assert model.training  # generate restores the mode it found
    out = model.generate(torch.tensor([2, 3]), 8, temperature=0)
    assert out.tolist() == [2, 3, 4, 0, 1, 2, 3, 4, 0, 1] and model.training
    sampled = model.generate(torch.tensor([0]), 6, temperature=0.5, generator=torch.Generator().manual_seed(0))
    assert sampled.tolist() == [0, 1, 2, 3, 4, 0, 1]
    with pytest.raises(ValueError, match="temperature"):
        model.generate(torch.tensor([0]), 3, temperature=-1)
    with pytest.raises(ValueError, match="prompt is empty"):
        model.generate(torch.tensor([], dtype=torch.long), 3)


def test_mnist1d_gru_matches_the_repository_baseline():
    model = MNIST1DGRU()
    assert count(model) == 5_134  # GRU(1, 6, bidirectional): 324, Linear(480, 10): 4,810
    assert model(torch.randn(4, 40)).shape == (4, 10)
