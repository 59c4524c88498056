"""Checkpoints: a saved and reloaded model predicts exactly as the original; bad files give clear errors."""

import json

import numpy as np
import pytest

from lessons_lib.scratch import checkpoint
from lessons_lib.scratch.fit import fit
from lessons_lib.scratch.layers import Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, SoftmaxCrossEntropy, Tanh, mlp


def trained_mlp():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 5)), rng.integers(0, 3, 64)
    net = mlp([5, 8, 6, 3], rng=1)
    fit(net, SoftmaxCrossEntropy(), X, y, lr=0.1, epochs=3, batch_size=16, rng=0)
    return net, X


def test_round_trip_gives_identical_predictions_and_hyperparameters(tmp_path):
    net, X = trained_mlp()
    hp = {"sizes": [5, 8, 6, 3], "lr": 0.1, "epochs": np.int64(3), "scale": np.float32(0.5), "mean": np.zeros(2)}
    written = checkpoint.save(net, tmp_path / "run" / "model", hp)
    assert [p.name for p in written] == ["model.npz", "model.json"] and all(p.is_file() for p in written)
    loaded, hp2 = checkpoint.load(tmp_path / "run" / "model")
    assert loaded is not net and repr(loaded) == repr(net)
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    assert hp2 == {"sizes": [5, 8, 6, 3], "lr": 0.1, "epochs": 3, "scale": 0.5, "mean": [0.0, 0.0]}
    for (name, p), (name2, p2) in zip(net.named_parameters(), loaded.named_parameters()):
        assert name == name2 and p.data.dtype == p2.data.dtype and not np.shares_memory(p.data, p2.data)
        assert not p2.grad.any()


def test_suffixes_name_the_same_checkpoint_and_the_json_describes_the_model(tmp_path):
    net, X = trained_mlp()
    checkpoint.save(net, tmp_path / "m.npz", {"lr": 0.1})
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["n_parameters"] == (5 * 8 + 8) + (8 * 6 + 6) + (6 * 3 + 3)
    assert [layer["type"] for layer in meta["architecture"]["layers"]] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert meta["parameters"]["0.W"] == [5, 8] and meta["hyperparameters"] == {"lr": 0.1}
    for name in ("m", "m.json", "m.npz"):
        np.testing.assert_array_equal(checkpoint.load(tmp_path / name).model.forward(X), net.forward(X))


def test_every_layer_kind_float64_nesting_and_no_bias_survive(tmp_path):
    rng = np.random.default_rng(3)
    net = Sequential(
        Linear(4, 6, rng=rng, dtype=np.float64), LeakyReLU(0.2),
        Sequential(Linear(6, 5, bias=False, rng=rng, dtype=np.float64), Tanh()),
        Linear(5, 5, rng=rng, dtype=np.float64), Sigmoid(), Linear(5, 2, rng=rng, dtype=np.float64), ReLU(), Identity(),
    )
    for p in net.parameters():
        p.data += rng.normal(size=p.shape)  # non-zero biases too
    checkpoint.save(net, tmp_path / "deep")
    loaded, hp = checkpoint.load(tmp_path / "deep")
    X = rng.normal(size=(10, 4))
    assert hp == {} and loaded[1].negative_slope == 0.2 and loaded[2][0].b is None
    assert loaded[0].W.data.dtype == np.float64
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))


def test_loading_into_an_existing_model(tmp_path):
    net, X = trained_mlp()
    checkpoint.save(net, tmp_path / "m")
    target = mlp([5, 8, 6, 3], rng=99)
    model, _ = checkpoint.load(tmp_path / "m", model=target)
    assert model is target
    np.testing.assert_array_equal(target.forward(X), net.forward(X))


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no checkpoint file .*nothing\.json \(the architecture and hyperparameters\)"):
        checkpoint.load(tmp_path / "nothing")
    net, _ = trained_mlp()
    checkpoint.save(net, tmp_path / "m")
    (tmp_path / "m.npz").unlink()
    with pytest.raises(FileNotFoundError, match=r"no checkpoint file .*m\.npz \(the weights\)"):
        checkpoint.load(tmp_path / "m")


def test_a_different_architecture_is_rejected_with_the_place_it_differs(tmp_path):
    net, _ = trained_mlp()
    checkpoint.save(net, tmp_path / "m")
    with pytest.raises(ValueError, match=r"model\[2\] is Linear\(in_features=8, out_features=4.* but the checkpoint .* has "
                                         r"Linear\(in_features=8, out_features=6"):
        checkpoint.load(tmp_path / "m", model=mlp([5, 8, 4, 3], rng=0))
    with pytest.raises(ValueError, match=r"model has 3 layers but the checkpoint .* has 5"):
        checkpoint.load(tmp_path / "m", model=mlp([5, 8, 3], rng=0))
    with pytest.raises(ValueError, match=r"model\[1\] is Tanh\(\) but the checkpoint .* has ReLU\(\)"):
        checkpoint.load(tmp_path / "m", model=mlp([5, 8, 6, 3], activation="tanh", rng=0))


def test_weights_that_do_not_fit_the_saved_architecture_are_rejected(tmp_path):
    net, _ = trained_mlp()
    checkpoint.save(net, tmp_path / "m")
    checkpoint.save(mlp([5, 8, 7, 3], rng=0), tmp_path / "other")
    (tmp_path / "other.npz").replace(tmp_path / "m.npz")  # the weights of another network beside m.json
    with pytest.raises(ValueError, match=r"parameter 2\.W has shape \(8, 7\) .* but the architecture needs \(8, 6\)"):
        checkpoint.load(tmp_path / "m")
    checkpoint.save(mlp([5, 3], rng=0), tmp_path / "small")
    (tmp_path / "small.npz").replace(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"missing \['2\.W', '2\.b', '4\.W', '4\.b'\], unexpected none"):
        checkpoint.load(tmp_path / "m")


def test_bad_inputs_to_save_and_a_corrupt_description(tmp_path):
    net, _ = trained_mlp()
    with pytest.raises(TypeError, match="save: model is a Linear; expected a lessons_lib.scratch.layers.Sequential"):
        checkpoint.save(Linear(2, 2), tmp_path / "x")
    with pytest.raises(TypeError, match="hyperparameters must be JSON-serialisable: .*object"):
        checkpoint.save(net, tmp_path / "x", {"optimizer": object()})

    class Custom(ReLU):
        pass

    with pytest.raises(TypeError, match="cannot describe a Custom layer"):
        checkpoint.save(Sequential(Linear(2, 2), Custom()), tmp_path / "x")
    checkpoint.save(net, tmp_path / "m")
    meta = json.loads((tmp_path / "m.json").read_text())
    meta["architecture"]["layers"][1] = {"type": "Softplus"}
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unknown layer .*Softplus"):
        checkpoint.load(tmp_path / "m")
    (tmp_path / "m.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="has format 'something else'"):
        checkpoint.load(tmp_path / "m")


def test_the_description_is_readable_json_whatever_the_strings_hold(tmp_path):
    net, _ = trained_mlp()
    hp = {"sizes": [5, 8, 6, 3], "names": ["a]", "b[ c", "{x}"], "nested": [[1, 2], [], {"k": [1.5]}], "empty": {}, "s": "x[ y"}
    _, meta_path = checkpoint.save(net, tmp_path / "m", hp)
    text = meta_path.read_text()
    assert '"sizes": [5, 8, 6, 3],' in text and '"0.W": [5, 8],' in text
    assert json.loads(text)["hyperparameters"] == hp and checkpoint.load(tmp_path / "m").hyperparameters == hp
