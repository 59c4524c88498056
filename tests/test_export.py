"""Saving, loading and exporting (appendix I): bundles round-trip exactly, unsafe or mismatched files are refused,
and the ONNX graph run by ONNX Runtime agrees with PyTorch at any batch size."""

import functools
import json
import pickle

import numpy as np
import pytest
import torch

from lessons_lib.deploy.export import (
    export_onnx,
    git_commit,
    load_bundle,
    onnx_predict,
    onnx_session,
    save_bundle,
    size_on_disk,
)


class Net(torch.nn.Module):
    """A small model whose architecture depends on its config."""

    def __init__(self, features: int, hidden: int, classes: int):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(features, hidden), torch.nn.ReLU(), torch.nn.BatchNorm1d(hidden),
                                        torch.nn.Linear(hidden, classes))

    def forward(self, x):
        return self.body(x)


CONFIG = {"features": 4, "hidden": 16, "classes": 3}


def _trained_net():
    torch.manual_seed(0)
    net = Net(**CONFIG)
    net.train()
    net(torch.randn(32, 4))                  # moves the BatchNorm running statistics away from their start
    return net.eval()


def test_a_bundle_round_trips_weights_buffers_and_metadata(tmp_path):
    net = _trained_net()
    pre = {"mean": [0.5, 1.0, -1.0, 2.0], "scale": [1.0, 2.0, 0.5, 1.0]}
    save_bundle(tmp_path / "b", net, config=CONFIG, labels=["setosa", "versicolor", "virginica"], preprocessing=pre)
    loaded, meta = load_bundle(tmp_path / "b", Net)
    x = torch.randn(5, 4)
    assert torch.equal(loaded(x), net(x))
    assert not loaded.training
    assert meta["labels"] == ["setosa", "versicolor", "virginica"] and meta["preprocessing"] == pre
    assert meta["versions"]["torch"] == torch.__version__ and meta["model_class"].endswith("Net")
    saved = json.loads((tmp_path / "b" / "bundle.json").read_text())
    assert saved["config"] == CONFIG
    assert size_on_disk(tmp_path / "b") > sum(t.numel() * 4 for t in net.state_dict().values() if t.is_floating_point())


def test_load_bundle_refuses_another_architecture_and_missing_files(tmp_path):
    save_bundle(tmp_path / "b", _trained_net(), config=CONFIG, labels=["a", "b", "c"])
    with pytest.raises(TypeError, match="holds a .*Net but build made a torch.nn.modules.linear.Linear"):
        load_bundle(tmp_path / "b", lambda **c: torch.nn.Linear(c["features"], c["classes"]))
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_bundle(tmp_path / "b", lambda **c: Net(c["features"], 8, c["classes"]))
    with pytest.raises(FileNotFoundError, match="is not a bundle"):
        load_bundle(tmp_path / "nothing", Net)
    with pytest.raises(TypeError, match="must be JSON values"):
        save_bundle(tmp_path / "c", _trained_net(), config={"f": np.float32(1)}, labels=[])


class Payload:
    """Stands for the code an attacker hides in a pickle: unpickling it calls os.system."""

    def __reduce__(self):
        import os
        return (os.system, ("echo owned",))


def test_weights_only_loading_refuses_code_in_a_pickle(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"weight": torch.zeros(2), "extra": Payload()}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(path, weights_only=True)
    torch.save(_trained_net().state_dict(), tmp_path / "ok.pt")    # a real state_dict loads fine
    assert "body.0.weight" in torch.load(tmp_path / "ok.pt", weights_only=True)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    net = _trained_net()
    path = export_onnx(net, torch.randn(1, 4), tmp_path_factory.mktemp("onnx") / "net.onnx")
    return net, onnx_session(path)


@pytest.mark.parametrize("batch", [1, 2, 7, 64])
def test_onnx_runtime_agrees_with_torch_at_any_batch_size(exported, batch):
    net, session = exported
    x = torch.randn(batch, 4)
    with torch.no_grad():
        expected = net(x).numpy()
    got = onnx_predict(session, x)
    assert got.shape == (batch, 3)
    assert np.abs(got - expected).max() < 1e-5


def test_onnx_predict_names_a_wrong_dtype(exported):
    _, session = exported
    with pytest.raises(TypeError, match="dtype float64, the graph's input 'input' expects float32"):
        onnx_predict(session, np.zeros((2, 4)))


def test_a_fixed_batch_export_is_fixed(tmp_path):
    net = _trained_net()
    session = onnx_session(export_onnx(net, torch.randn(3, 4), tmp_path / "fixed.onnx", dynamic_batch=False))
    assert session.get_inputs()[0].shape == [3, 4]
    with pytest.raises(Exception, match="(?i)dimension|shape"):
        onnx_predict(session, np.zeros((5, 4), dtype=np.float32))


def test_partial_builders_work_too(tmp_path):
    save_bundle(tmp_path / "b", _trained_net(), config={"classes": 3}, labels=["a", "b", "c"])
    loaded, _ = load_bundle(tmp_path / "b", functools.partial(Net, 4, 16))
    assert isinstance(loaded, Net)


def test_a_bundle_records_the_code_version(tmp_path):
    commit = git_commit(tmp_path)                 # a fresh temporary folder is no repository
    assert commit is None
    save_bundle(tmp_path / "b", _trained_net(), config=CONFIG, labels=["a", "b", "c"], code_version="0123abcd")
    assert load_bundle(tmp_path / "b", Net)[1]["versions"]["code"] == "0123abcd"
    save_bundle(tmp_path / "c", _trained_net(), config=CONFIG, labels=["a", "b", "c"])
    assert "code" not in load_bundle(tmp_path / "c", Net)[1]["versions"]       # absent unless given
    with pytest.raises(TypeError, match="code_version must be a string"):
        save_bundle(tmp_path / "d", _trained_net(), config=CONFIG, labels=[], code_version=123)


def test_git_commit_reads_this_repository():
    import pathlib
    import re
    import shutil

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    commit = git_commit(pathlib.Path(__file__).parent)
    if commit is None:
        pytest.skip("the tests are not running inside a git checkout")
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit)
