"""Sequence models on PyTorch's recurrent layers (Part IV): a classifier that reads a sequence and answers once
(many-to-one), a language model that predicts every next token (many-to-many), and MNIST-1D's GRU.

All three take ``cell`` = "rnn", "lstm" or "gru", stacked layers (``num_layers``) and, for the classifier,
``bidirectional``. Inputs are batch-first: token ids (N, T) or, with ``vocab_size=None``, features (N, T, F).

Parameter count of one recurrent layer with input size F and hidden size H: each gate block has a weight
matrix on the input (H x F), one on the state (H x H) and two bias vectors (PyTorch keeps b_ih and b_hh), so

    gates * (H*F + H*H + 2*H),   gates = 1 (RNN), 3 (GRU), 4 (LSTM),

twice that for a bidirectional layer, and every layer after the first reads F = H (or 2H if bidirectional).
"""

from __future__ import annotations

import torch
from torch import nn

from lessons_lib.validate import integer

__all__ = ["GATES", "MNIST1DGRU", "RNNLanguageModel", "SequenceClassifier", "recurrent_parameter_count"]

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
_LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def _cell(fn: str, cell: str) -> str:
    if cell not in GATES:
        raise ValueError(f"{fn}: cell is {cell!r}; expected one of {sorted(GATES)}")
    return cell


def recurrent_parameter_count(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                              bidirectional: bool = False) -> int:
    """Parameters of ``nn.RNN/GRU/LSTM(input_size, hidden_size, num_layers, bidirectional=...)`` (with biases)."""
    gates = GATES[_cell("recurrent_parameter_count", cell)]
    h = integer("recurrent_parameter_count", "hidden_size", hidden_size, minimum=1)
    f = integer("recurrent_parameter_count", "input_size", input_size, minimum=1)
    layers = integer("recurrent_parameter_count", "num_layers", num_layers, minimum=1)
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(layers):
        inputs = f if layer == 0 else directions * h
        total += directions * gates * (h * inputs + h * h + 2 * h)
    return total


class SequenceClassifier(nn.Module):
    """Embedding -> recurrent layers -> Linear on the last state: one answer per sequence (e.g. sentiment).

    ``forward(x, lengths=None)``: x is (N, T) token ids (or (N, T, F) features with ``vocab_size=None``).
    With ``lengths`` (the true length of each padded sequence) the state read is the one after each
    sequence's last real token, not after the padding. Bidirectional layers concatenate the last forward
    state with the backward state at the first token (which has read the whole sequence from the end).
    """

    def __init__(self, vocab_size: int | None, embed_dim: int, hidden_size: int, num_classes: int, *,
                 cell: str = "lstm", num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
                 pad_id: int = 0):
        super().__init__()
        self.cell = _cell("SequenceClassifier", cell)
        self.embed = None if vocab_size is None else nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.rnn = _LAYERS[cell](embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                                 bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x, lengths=None):
        h = x if self.embed is None else self.embed(x)                 # (N, T, E)
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device="cpu").long()    # pack wants lengths on the CPU
            h = nn.utils.rnn.pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        _, state = self.rnn(h)
        h_n = state[0] if self.cell == "lstm" else state               # (layers * directions, N, H)
        if self.rnn.bidirectional:
            last = torch.cat([h_n[-2], h_n[-1]], dim=1)                # top layer: forward, backward  (N, 2H)
        else:
            last = h_n[-1]                                             # (N, H)
        return self.head(self.drop(last))


class RNNLanguageModel(nn.Module):
    """Next-token prediction: Embedding -> recurrent layers -> Linear over the vocabulary at every step.

    ``forward(ids, state=None)`` returns ``(logits (N, T, V), state)`` so generation can carry the state.
    ``tie_weights=True`` shares the embedding matrix with the output layer (needs embed_dim == hidden_size;
    Press and Wolf, 2017).
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, *, cell: str = "lstm", num_layers: int = 1,
                 dropout: float = 0.0, tie_weights: bool = False):
        super().__init__()
        _cell("RNNLanguageModel", cell)
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = _LAYERS[cell](embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                                 dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            if embed_dim != hidden_size:
                raise ValueError(f"RNNLanguageModel: tie_weights needs embed_dim == hidden_size; got {embed_dim} "
                                 f"and {hidden_size}")
            self.head.weight = self.embed.weight

    def forward(self, ids, state=None):
        out, state = self.rnn(self.drop(self.embed(ids)), state)      # (N, T, H)
        return self.head(self.drop(out)), state

    @torch.no_grad()
    def generate(self, prompt, steps: int, *, temperature: float = 1.0, generator: torch.Generator | None = None):
        """Continue ``prompt`` (a 1-D tensor of ids) by ``steps`` tokens, sampling from softmax(logits / T);
        ``temperature=0`` takes the most likely token. Returns the prompt and the new ids as one 1-D tensor."""
        steps = integer("RNNLanguageModel.generate", "steps", steps, minimum=0)
        if not temperature >= 0:
            raise ValueError(f"RNNLanguageModel.generate: temperature is {temperature}; expected a number >= 0")
        was_training = self.training
        self.eval()
        ids = torch.as_tensor(prompt, device=self.head.weight.device).long().reshape(1, -1)
        if ids.shape[1] == 0:
            raise ValueError("RNNLanguageModel.generate: prompt is empty; give at least one token id")
        logits, state = self(ids)
        out = [ids[0]]
        for _ in range(steps):
            last = logits[0, -1]
            if temperature == 0:
                nxt = last.argmax().reshape(1)
            else:
                probs = torch.softmax(last.double() / temperature, dim=-1)
                nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(ids.device)
            out.append(nxt)
            logits, state = self(nxt.reshape(1, 1), state)
        self.train(was_training)
        return torch.cat(out)


class MNIST1DGRU(nn.Module):
    """The MNIST-1D repository's GRU baseline (notebooks/models.py, GRUBase): a bidirectional GRU with 6 hidden
    units reads the 40 samples one at a time, and a linear layer classifies all its outputs, flattened
    (2 x 6 x 40 = 480 numbers). 5,134 parameters. The paper reports 91% test accuracy."""

    def __init__(self, hidden_size: int = 6, time_steps: int = 40, num_classes: int = 10):
        super().__init__()
        self.gru = nn.GRU(1, hidden_size, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(2 * hidden_size * time_steps, num_classes)

    def forward(self, x):
        out, _ = self.gru(x.reshape(*x.shape[:2], 1))                 # (N, T, 2H)
        return self.linear(out.reshape(out.shape[0], -1))             # (N, 2HT) -> (N, classes)
