"""Chapter 31's Hugging Face pieces work with no network at all.

Inside each test ``socket.socket`` and ``socket.create_connection`` raise, so any attempt to reach the Hub from
Python fails the test; the Rust side of ``tokenizers`` never downloads unless asked to (``from_pretrained`` on a
Hub name), which nothing here does. A second test runs the whole path in a fresh process in its own network
namespace (``unshare -rn``: no interface but loopback), where not even native code could connect.
"""

import os
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("transformers")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


class NetworkUsed(RuntimeError):
    pass


@pytest.fixture
def no_sockets(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkUsed(f"a socket was opened: {args!r}")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def test_the_socket_patch_bites(no_sockets):
    with pytest.raises(NetworkUsed):
        socket.create_connection(("huggingface.co", 443))


def build_train_save_load(tmp_path):
    """The chapter's path in miniature: tokenizer, tiny BERT, a few steps, save, Auto classes, pipeline."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForSequenceClassification, pipeline

    from lessons_lib.data.text import library_wordpiece, reviews_and_docs
    from lessons_lib.training.hf import SequenceLogits, hf_tokenizer, tiny_bert_config

    texts, labels, names = reviews_and_docs(n_docs=20)
    tok = hf_tokenizer(library_wordpiece(texts, 500), model_max_length=32)
    assert tok.pad_token_id == 0 and tok.convert_ids_to_tokens([tok.cls_token_id, tok.sep_token_id]) == ["[CLS]", "[SEP]"]
    torch.manual_seed(0)
    model = BertForSequenceClassification(tiny_bert_config(tok.vocab_size, names, max_positions=32))
    batch = tok(texts[:8] + texts[-8:], padding=True, truncation=True, return_tensors="pt")
    y = torch.tensor(labels[:8] + labels[-8:])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    wrapped = SequenceLogits(model, tok.pad_token_id)
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(wrapped(batch["input_ids"]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "tokenizer.json").is_file()
    tok2 = AutoTokenizer.from_pretrained(tmp_path)
    model2 = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    batch2 = tok2(texts[:4], padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        a = model(**tok(texts[:4], padding=True, truncation=True, return_tensors="pt")).logits
        b = model2(**batch2).logits
        c = wrapped(batch2["input_ids"])
    assert torch.allclose(a, b, atol=1e-6) and torch.allclose(a, c, atol=1e-6)
    classify = pipeline("sentiment-analysis", model=str(tmp_path), tokenizer=str(tmp_path), device=-1)
    out = classify("I love Hugging Face!")
    assert out[0]["label"] in names and 0 < out[0]["score"] <= 1
    return out


def test_chapter_path_with_sockets_refused(no_sockets, tmp_path):
    build_train_save_load(tmp_path)


def test_meta_device_count_needs_no_weights(no_sockets):
    import torch
    from transformers import BertConfig, BertModel

    from lessons_lib.training.hf import parameter_count

    with torch.device("meta"):
        base = BertModel(BertConfig())
    assert parameter_count(base) == 109_482_240


def test_hf_helpers_reject_bad_arguments():
    from tokenizers import Tokenizer, models

    from lessons_lib.data.text import library_wordpiece
    from lessons_lib.training.hf import SequenceLogits, hf_tokenizer, tiny_bert_config

    with pytest.raises(ValueError, match="hidden"):
        tiny_bert_config(100, ["a", "b"], hidden=30, heads=4)
    with pytest.raises(ValueError, match="labels"):
        tiny_bert_config(100, ["a", "a"])
    with pytest.raises(ValueError, match="special_tokens"):
        library_wordpiece(["some text"], 50, special_tokens=("[PAD]",))
    with pytest.raises(ValueError, match=r"\[PAD\]"):
        hf_tokenizer(Tokenizer(models.WordPiece({"[UNK]": 0}, unk_token="[UNK]")))
    import torch

    with pytest.raises(ValueError, match=r"\(N, T\)"):
        SequenceLogits(torch.nn.Identity(), 0)(torch.zeros(3, dtype=torch.long))


def test_reviews_and_docs_is_balanced_and_plain():
    from lessons_lib.data.text import reviews_and_docs

    texts, labels, names = reviews_and_docs()
    assert len(texts) == 300 and [labels.count(k) for k in range(3)] == [100, 100, 100]
    assert names == ["negative", "positive", "not a review"]
    assert all(t == t.lower() and "," not in t and "." not in t for t in texts)
    assert reviews_and_docs()[0] == texts and reviews_and_docs(seed=1)[0][200:] != texts[200:]


def test_chapter_path_in_a_namespace_without_network(tmp_path):
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -rn is not permitted here: {probe.stderr.decode().strip()}")
    script = textwrap.dedent(f"""
        import os, pathlib, socket, sys
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
        try:  # prove the namespace really has no route out
            socket.create_connection(("1.1.1.1", 443), timeout=2)
            sys.exit("a connection succeeded inside unshare -n")
        except OSError:
            pass
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_hugging_face_offline import build_train_save_load
        print(build_train_save_load(pathlib.Path({str(tmp_path)!r})))
    """)
    env = {**os.environ, "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    run = subprocess.run([unshare, "-rn", sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "'label'" in run.stdout


def test_plain_words():
    from lessons_lib.data.text import plain_words

    assert plain_words("Don't panic, use f(x).") == "don't panic use"
    assert plain_words("  The 3 'quoted' words -- here!  ") == "the 3 quoted words here"
    assert plain_words("") == ""


def test_wordpiece_frames_marks_and_unknowns():
    from lessons_lib.data.text import library_wordpiece

    text = "the tedious film was tediously long , the film was not tedious ." * 20
    tok = library_wordpiece([text], 60)
    enc = tok.encode("the tedious film")
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    assert [tok.id_to_token(i) for i in range(5)] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    inside = tok.encode("tediously", add_special_tokens=False).tokens
    assert inside[0] != "[UNK]" and all(t.startswith("##") for t in inside[1:])
    assert tok.encode("film €x", add_special_tokens=False).tokens == ["film", "[UNK]"]   # one [UNK] per word
    assert tok.decode(tok.encode("The Film").ids) == "the film"
    with pytest.raises(ValueError, match="vocab_size"):
        library_wordpiece([text], 3)
