"""Hugging Face ``transformers`` from local files only: the pieces chapter 31 builds, trains and saves offline.

- :func:`hf_tokenizer`: a ``tokenizers.Tokenizer`` (e.g. :func:`lessons_lib.data.text.library_wordpiece`) wrapped as
  a ``PreTrainedTokenizerFast`` with BERT's five special tokens, so ``save_pretrained`` / ``AutoTokenizer`` work;
- :func:`tiny_bert_config`: a ``BertConfig`` for a small BERT classifier whose labels read as words;
- :class:`SequenceLogits`: a ``...ForSequenceClassification`` model seen as ``ids -> logits`` (the attention mask
  rebuilt from the padding id), so the book's :func:`lessons_lib.training.loop.fit` can train it;
- :func:`parameter_count`: the parameters of a model, with no weights allocated when built on the meta device.

Nothing here contacts the Hub: no function takes a model name.
"""

from __future__ import annotations

import torch

__all__ = ["SequenceLogits", "hf_tokenizer", "parameter_count", "tiny_bert_config"]

BERT_SPECIALS = {"unk_token": "[UNK]", "pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]",
                 "mask_token": "[MASK]"}


def hf_tokenizer(tokenizer, model_max_length: int = 512):
    """``tokenizer`` (a ``tokenizers.Tokenizer`` that knows [UNK] [PAD] [CLS] [SEP] [MASK]) as a
    ``transformers.PreTrainedTokenizerFast``. ``model_max_length`` is what ``padding="max_length"`` and
    ``truncation=True`` use when no ``max_length`` is given."""
    from transformers import PreTrainedTokenizerFast

    from lessons_lib.validate import integer

    model_max_length = integer("hf_tokenizer", "model_max_length", model_max_length, minimum=2)
    missing = [t for t in BERT_SPECIALS.values() if tokenizer.token_to_id(t) is None]
    if missing:
        raise ValueError(f"hf_tokenizer: tokenizer has no {missing}; train it with those special tokens")
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, model_max_length=model_max_length, **BERT_SPECIALS)


def tiny_bert_config(vocab_size: int, labels, *, hidden: int = 64, layers: int = 2, heads: int = 4,
                     intermediate: int = 128, max_positions: int = 128, pad_token_id: int = 0, dropout: float = 0.1):
    """A ``BertConfig`` for ``BertForSequenceClassification`` with ``num_labels = len(labels)`` and
    ``id2label``/``label2id`` set from ``labels`` (a list of names), so a ``pipeline`` prints words, not
    ``LABEL_0``. BERT-base is hidden 768, 12 layers, 12 heads, intermediate 3072, 512 positions."""
    from transformers import BertConfig

    from lessons_lib.validate import integer

    for name, value in (("vocab_size", vocab_size), ("hidden", hidden), ("layers", layers), ("heads", heads),
                        ("intermediate", intermediate), ("max_positions", max_positions)):
        integer("tiny_bert_config", name, value, minimum=1)
    if hidden % heads:
        raise ValueError(f"tiny_bert_config: hidden ({hidden}) must be a multiple of heads ({heads})")
    labels = [str(label) for label in labels]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"tiny_bert_config: labels is {labels!r}; expected two or more distinct names")
    return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                      intermediate_size=intermediate, max_position_embeddings=max_positions, pad_token_id=pad_token_id,
                      hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, num_labels=len(labels),
                      id2label=dict(enumerate(labels)), label2id={name: i for i, name in enumerate(labels)})


class SequenceLogits(torch.nn.Module):
    """``model`` (any ``...ForSequenceClassification``) as a plain ``ids -> logits`` module.

    ``forward(input_ids)`` takes (N, T) token ids padded with ``pad_id``, rebuilds the attention mask
    ``input_ids != pad_id`` (what the tokenizer returns, as long as real text never contains the padding token),
    and returns the (N, num_labels) logits. ``self.model`` is the wrapped model, to save or load.
    """

    def __init__(self, model, pad_id: int):
        super().__init__()
        self.model = model
        self.pad_id = int(pad_id)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        if input_ids.ndim != 2:
            raise ValueError(f"SequenceLogits: input_ids has shape {tuple(input_ids.shape)}; expected (N, T)")
        attention_mask = (input_ids != self.pad_id).long()        # (N, T): 1 = a real token, 0 = padding
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def parameter_count(model: torch.nn.Module) -> int:
    """The number of parameters of ``model`` (shared tensors once). Works for a model built under
    ``torch.device("meta")``, which has shapes but no memory: BERT-base is counted in milliseconds."""
    return sum(p.numel() for p in model.parameters())
